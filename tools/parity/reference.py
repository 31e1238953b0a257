#!/usr/bin/env python3
"""Independent, loop-based re-implementation of titans-pytorch's NeuralMemory forward.

It does not import titans_pytorch. It is written from the description in README.md
(section 1), token by token and chunk by chunk with explicit Python loops, and uses
plain torch autograd for the inner (memory) gradient with create_graph=True, so the
outer gradients can be compared too. Running it checks every fixture:

    python3 tools/parity/reference.py            # float64 reference vs. fixtures
    python3 tools/parity/reference.py --float32  # float32 reference vs. fixtures

It prints the max abs / relative error of the output and of every gradient.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent.parent / "Tests" / "TitansTests" / "Fixtures" / "parity"

# titans-pytorch 0.5.5 constructor defaults that matter for the fixtures
DEFAULTS = dict(chunk_size=1, batch_size=None, heads=1, dim_head=None, momentum=True,
                default_step_transform_max_lr=1.0,
                qk_rmsnorm=False, post_rmsnorm=False,
                default_model_kwargs=dict(depth=2, expansion_factor=4.0))


def rmsnorm(x, w):
    eps = torch.finfo(torch.float32).eps  # nn.RMSNorm(eps=None) uses finfo(dtype).eps (float32 here)
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def mh_rmsnorm(x, gamma):
    """MultiheadRMSNorm for one head: RMSNorm without weight, times (gamma + 1)."""
    eps = torch.finfo(torch.float32).eps
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (gamma + 1.0)


def memory_model(ws, x):
    """ws = [gamma, W1, ..., WL] for one (batch, head). x: [n, dh]."""
    gamma, mats = ws[0], ws[1:]
    h = x
    for i, w in enumerate(mats):
        if i > 0:
            h = F.gelu(h)  # exact (erf) GELU
        h = h @ w
    ln = F.layer_norm(h, (h.shape[-1],), eps=1e-5)
    return ln * (gamma + 1.0) + x


def forward(P: dict, x: torch.Tensor, cfg: dict) -> torch.Tensor:
    c = {**DEFAULTS, **{k: v for k, v in cfg.items() if k in DEFAULTS}}
    C, bs, H = c["chunk_size"], c["batch_size"], c["heads"]
    dim = x.shape[-1]
    dh = c["dim_head"] or dim
    max_lr = c["default_step_transform_max_lr"]
    has_mom = c["momentum"]
    qk_norm, post_norm = c["qk_rmsnorm"], c["post_rmsnorm"]
    B, L, _ = x.shape
    nmem = len([k for k in P if k.startswith("memory_model_parameters.")])

    # ---- store path --------------------------------------------------------
    xs = rmsnorm(x, P["store_norm.weight"])
    k_all = xs @ P["to_keys.weight"].T            # [B, L, H*dh]
    v_all = xs @ P["to_values.weight"].T
    lr_all = torch.sigmoid(xs @ P["to_adaptive_step.0.weight"].T + P["to_adaptive_step.0.bias"]) * max_lr  # [B, L, H]

    # piece boundaries (weights are committed at the end of each full piece)
    if bs is None:
        pieces = [(0, L)]
    else:
        cuts = list(range(0, L, bs)) + [L]
        pieces = list(zip(cuts[:-1], cuts[1:]))

    n_chunks_total = L // C
    out = torch.zeros(B, L, H * dh, dtype=x.dtype)
    ys_heads = []
    for b in range(B):
        head_outs = []
        for h in range(H):
            sl = slice(h * dh, (h + 1) * dh)
            W0 = [P[f"memory_model_parameters.{i}"][h] for i in range(nmem)]
            states = [W0]                        # states[j] = weights after j stored chunks
            W_cur = W0
            W_grad = W0                          # weights the gradients are taken at
            S = [torch.zeros_like(w) for w in W0]
            for (p0, p1) in pieces:
                n_full = (p1 - p0) // C
                for j in range(n_full):
                    t0 = p0 + j * C
                    toks = range(t0, t0 + C)
                    m = xs[b, t0:t0 + C].mean(0)
                    alpha = torch.sigmoid(m @ P["to_decay_factor.0.weight"][h] + P["to_decay_factor.0.bias"][h])
                    # inner loss at W_grad, summed over the chunk, lr-weighted
                    Wg = [w if w.requires_grad else w for w in W_grad]
                    loss = 0.0
                    for t in toks:
                        kt = k_all[b, t, sl][None]
                        if qk_norm:
                            kt = mh_rmsnorm(kt, P["k_norm.gamma"][h, 0])
                        pred = memory_model(Wg, kt)
                        loss = loss + lr_all[b, t, h] * (pred - v_all[b, t, sl][None]).pow(2).mean()
                    grads = torch.autograd.grad(loss, Wg, create_graph=True, allow_unused=False)
                    surprise = [-g for g in grads]
                    if has_mom:
                        eta = torch.sigmoid(m @ P["to_momentum.0.weight"][h] + P["to_momentum.0.bias"][h])
                        S = [eta * s + u for s, u in zip(S, surprise)]
                    else:
                        S = surprise
                    W_cur = [(1 - alpha) * w + s for w, s in zip(W_cur, S)]
                    states.append(W_cur)
                is_last = p1 == L
                if bs is not None and (not is_last or L % bs == 0):
                    W_grad = W_cur
            assert len(states) == n_chunks_total + 1
            # ---- retrieve path for this (b, h) ----
            xr = rmsnorm(x[b], P["retrieve_norm.weight"])
            q = (xr @ P["to_queries.weight"].T)[:, sl]
            if qk_norm:
                q = mh_rmsnorm(q, P["q_norm.gamma"][h, 0])
            ys = []
            for t in range(L):
                j = (t + 1) // C                 # the zero token prepended shifts everything by one
                y = memory_model(states[j], q[t][None])[0]
                if post_norm:
                    y = mh_rmsnorm(y, P["multihead_rmsnorm.gamma"][h, 0])
                if H > 1:
                    g = torch.sigmoid(xr[t] @ P["retrieve_gate.0.weight"][h])
                    y = y * g
                ys.append(y)
            head_outs.append(torch.stack(ys))     # [L, dh]
        ys_heads.append(torch.cat(head_outs, -1))  # [L, H*dh]
    merged = torch.stack(ys_heads)               # [B, L, H*dh]
    if H > 1:
        return merged @ P["combine_heads.weight"].T
    return merged


def check(path: Path, dtype) -> bool:
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        T = {k: f.get_tensor(k) for k in f.keys()}
    cfg = json.loads(meta["config"])
    pnames = meta["param_names"].split(",")
    P = {n: T[f"param.{n}"].to(dtype).requires_grad_(True) for n in pnames}
    x = T["input"].to(dtype).requires_grad_(True)
    out = forward(P, x, cfg)
    loss = (out * T["loss_weight"].to(dtype)).sum()
    loss.backward()

    def err(a, b):
        a, b = a.detach().double(), b.double()
        d = (a - b).abs().max().item() if a.numel() else 0.0
        s = b.abs().max().item() if b.numel() else 0.0
        return d, d / max(s, 1e-30)

    rows = [("output", *err(out, T["output"]))]
    rows.append(("grad.input", *err(x.grad, T["grad.input"])))
    for n in pnames:
        g = P[n].grad if P[n].grad is not None else torch.zeros_like(P[n])
        rows.append((f"grad.{n}", *err(g, T[f"grad.{n}"])))
    worst = max(r[2] for r in rows)
    tol = 2e-4 if dtype == torch.float32 else 1e-4
    ok = worst < tol
    print(f"{path.stem:<34} {'OK ' if ok else 'BAD'} worst rel err {worst:.2e}  "
          f"(output abs {rows[0][1]:.2e}, rel {rows[0][2]:.2e})")
    if not ok:
        for r in rows:
            print(f"    {r[0]:<40} abs {r[1]:.3e} rel {r[2]:.3e}")
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--float32", action="store_true")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    dtype = torch.float32 if args.float32 else torch.float64
    files = sorted(FIXTURES.glob("*.safetensors"))
    if args.names:
        files = [p for p in files if p.stem in args.names]
    ok = all([check(p, dtype) for p in files])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
