#!/usr/bin/env python3
"""Generate parity fixtures from titans-pytorch's NeuralMemory.

For every config in configs.json (or the ones named on the command line) this
builds `titans_pytorch.NeuralMemory`, runs one plain forward pass (state None),
takes the scalar loss `sum(output * W)` with a seeded random W, backpropagates,
and writes `<name>.safetensors` into the fixture directory.

Usage (from the repository root):

    python3 tools/parity/make_fixtures.py                 # all configs
    python3 tools/parity/make_fixtures.py NAME [NAME ...] # a subset
    python3 tools/parity/make_fixtures.py --check         # regenerate in memory twice and
                                                          # compare with the files on disk

See tools/parity/README.md for the format and for what the forward pass computes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
from pathlib import Path

import torch
from safetensors.torch import load

import titans_pytorch
from titans_pytorch import NeuralMemory

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CONFIGS = HERE / "configs.json"
OUT_DIR = REPO / "Tests" / "TitansTests" / "Fixtures" / "parity"

# Keys of a config entry that are not NeuralMemory constructor kwargs.
NON_KWARGS = ("name", "seed", "batch", "seq_len", "dim", "perturb", "comment")


def titans_version() -> str:
    try:
        from importlib.metadata import version
        return version("titans-pytorch")
    except Exception:  # pragma: no cover
        return getattr(titans_pytorch, "__version__", "unknown")


def build_fixture(cfg: dict) -> tuple[dict[str, torch.Tensor], dict[str, str], dict]:
    """Return (tensors, metadata, summary) for one config. Pure function of cfg."""
    torch.set_num_threads(2)
    kwargs = {k: v for k, v in cfg.items() if k not in NON_KWARGS}
    seed = int(cfg["seed"])
    batch, seq_len, dim = int(cfg["batch"]), int(cfg["seq_len"]), int(cfg["dim"])
    perturb = float(cfg.get("perturb", 0.0))

    # 1. model, with titans-pytorch's own initialisation under the seed
    torch.manual_seed(seed)
    mem = NeuralMemory(dim=dim, **kwargs)
    mem.train()  # no dropout anywhere; mode does not matter, fixed for clarity

    # 2. optional perturbation of every parameter, so that zero/one-initialised
    #    parameters (norm weights, LayerNorm gamma) are exercised by the fixture
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for _, p in mem.named_parameters():
            # titans-pytorch builds the per-head memory parameters with einops.repeat,
            # i.e. as stride-0 views: all heads alias one buffer. Materialise them so
            # every head owns its own copy (same values; the model semantics are a
            # [heads, ...] tensor).
            if not p.is_contiguous() or any(s == 0 for s in p.stride()):
                p.data = p.data.clone(memory_format=torch.contiguous_format)
            if perturb > 0:
                p.add_(perturb * torch.randn(p.shape, generator=gen, dtype=p.dtype))

    # 3. input and loss weight from their own generator
    gen = torch.Generator().manual_seed(seed + 2)
    x = torch.randn(batch, seq_len, dim, generator=gen, dtype=torch.float32)
    x.requires_grad_(True)

    out, _state = mem(x)  # plain single-call forward, state None
    w = torch.randn(out.shape, generator=gen, dtype=torch.float32)
    loss = (out * w).sum()
    loss.backward()

    tensors: dict[str, torch.Tensor] = {}
    no_grad: list[str] = []
    for name, p in mem.named_parameters():
        tensors[f"param.{name}"] = p.detach().to(torch.float32).contiguous().clone()
        if p.grad is None:
            no_grad.append(name)
            g = torch.zeros_like(p)
        else:
            g = p.grad
        tensors[f"grad.{name}"] = g.detach().to(torch.float32).contiguous().clone()
    tensors["input"] = x.detach().contiguous().clone()
    tensors["output"] = out.detach().contiguous().clone()
    tensors["loss_weight"] = w.contiguous().clone()
    tensors["grad.input"] = x.grad.detach().contiguous().clone()
    tensors["loss"] = loss.detach().reshape(1).clone()

    for k, t in tensors.items():
        assert t.dtype == torch.float32, k
        assert torch.isfinite(t).all(), f"non-finite values in {k}"

    metadata = {
        "config": json.dumps(cfg, sort_keys=True),
        "titans_pytorch_version": titans_version(),
        "torch_version": torch.__version__,
        "params_without_grad": ",".join(no_grad),
        "param_names": ",".join(n for n, _ in mem.named_parameters()),
        "memory_model_parameter_names": ",".join(mem.memory_model_parameter_names),
        "max_abs_output": repr(float(out.detach().abs().max())),
    }
    summary = {
        "name": cfg["name"],
        "output_shape": list(out.shape),
        "max_abs_output": float(out.detach().abs().max()),
        "loss": float(loss.detach()),
        "params_without_grad": no_grad,
    }
    return tensors, metadata, summary


def serialize(tensors, metadata) -> bytes:
    """Write the safetensors format by hand, so that the bytes are reproducible.

    (safetensors' own `save` emits the `__metadata__` entries in hash-map order,
    which changes from run to run.) Layout: u64 little-endian header length N,
    N bytes of JSON header (sorted keys, padded with spaces to a multiple of 8),
    then the raw little-endian float32 data of the tensors in sorted-name order.
    The result is checked by loading it back with safetensors.
    """
    header: dict = {"__metadata__": dict(sorted(metadata.items()))}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous().cpu()
        data = t.numpy().astype("<f4", copy=False).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    blob = struct.pack("<Q", len(hjson)) + hjson + b"".join(chunks)
    # round trip through the reference reader
    back = load(blob)
    assert sorted(back) == sorted(tensors)
    for name in tensors:
        assert torch.equal(back[name], tensors[name].to(torch.float32)), name
    return blob


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="config names to (re)generate; default: all")
    ap.add_argument("--configs", default=str(CONFIGS))
    ap.add_argument("--out", default=str(OUT_DIR))
    ap.add_argument("--check", action="store_true",
                    help="do not write; rebuild every fixture twice and compare with the files on disk")
    args = ap.parse_args(argv)

    configs = json.loads(Path(args.configs).read_text())["fixtures"]
    names = {c["name"] for c in configs}
    for n in args.names:
        if n not in names:
            print(f"unknown config {n!r}", file=sys.stderr)
            return 2
    selected = [c for c in configs if not args.names or c["name"] in args.names]

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    total = 0
    for cfg in selected:
        tensors, metadata, summary = build_fixture(cfg)
        blob = serialize(tensors, metadata)
        # determinism: a second build must give the same bytes
        tensors2, metadata2, _ = build_fixture(cfg)
        blob2 = serialize(tensors2, metadata2)
        same = blob == blob2
        path = out_dir / f"{cfg['name']}.safetensors"
        digest = hashlib.sha256(blob).hexdigest()[:16]
        if args.check:
            on_disk = path.read_bytes() if path.exists() else b""
            ok = same and on_disk == blob
            failures += not ok
            status = "OK" if ok else ("MISMATCH" if path.exists() else "MISSING")
        else:
            path.write_bytes(blob)
            failures += not same
            status = "written" if same else "written (NOT deterministic!)"
        total += len(blob)
        print(f"{cfg['name']:<34} {status:<10} {len(blob):>8} B  sha256:{digest}  "
              f"out{summary['output_shape']} max|out|={summary['max_abs_output']:.6g} "
              f"loss={summary['loss']:.6g} rerun-identical={same} "
              f"no-grad=[{','.join(summary['params_without_grad'])}]")
    print(f"total {total} bytes in {len(selected)} fixtures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
