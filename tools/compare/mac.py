"""titans-pytorch's MemoryAsContextTransformer timed as `titans bench models` times our MAC: a training step
(forward, backward, AdamW) and a forward pass on random bytes, best of REPEATS after a warm-up, two threads (or
--device cuda). The
configuration matches ours where the two have the same knob: 256 tokens, width 256, 4 blocks, 4 heads of 64, segment
64, 4 persistent tokens, memory in blocks 2 and 4, feed-forward 4 × 2/3 (682 ≈ our 683). Prints
`parameters <count>` and `mac <train tokens/s> <forward tokens/s>`. Used by tools/compare/run."""
import argparse

import torch
from titans_pytorch import MemoryAsContextTransformer
from timing import add_device_argument, best_seconds, set_up


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sequence", type=int, default=512)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    add_device_argument(parser)
    args = parser.parse_args()
    set_up(args.device)
    model = MemoryAsContextTransformer(num_tokens=256, dim=256, depth=4, segment_len=64, num_persist_mem_tokens=4,
                                       heads=4, dim_head=64, ff_mult=4, neural_memory_layers=(2, 4)).to(args.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    # return_loss predicts x[:, 1:] from x[:, :-1]: one more byte, so the model sees `sequence` positions as ours does.
    x = torch.randint(0, 256, (args.batch, args.sequence + 1), device=args.device)
    tokens = args.batch * args.sequence

    def train():
        loss = model(x, return_loss=True)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    def forward():
        with torch.no_grad():
            model(x[:, :-1])

    print(f"parameters {sum(p.numel() for p in model.parameters())}", flush=True)
    print(f"mac {tokens / best_seconds(args.repeats, train, args.device):.0f} "
          f"{tokens / best_seconds(args.repeats, forward, args.device):.0f}", flush=True)


if __name__ == "__main__":
    main()
