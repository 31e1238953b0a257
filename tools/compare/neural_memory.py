"""titans-pytorch's NeuralMemory timed as `titans bench memory` times ours: forward (no gradients) and
forward+backward of mean(output²), best of REPEATS after a warm-up, two threads (or --device cuda). Prints one line per preset:
`batch_size=B <forward tokens/s> <forward+backward tokens/s>`. Used by tools/compare/run."""
import argparse

import torch
from titans_pytorch import NeuralMemory
from timing import add_device_argument, best_seconds, set_up


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--sequence", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    add_device_argument(parser)
    args = parser.parse_args()
    set_up(args.device)
    x = torch.randn(args.batch, args.sequence, args.width, device=args.device)
    tokens = args.batch * args.sequence
    for batch_size in (None, args.chunk):
        memory = NeuralMemory(dim=args.width, heads=args.heads, dim_head=args.width // args.heads, chunk_size=args.chunk,
                              batch_size=batch_size, default_model_kwargs=dict(depth=args.depth, expansion_factor=4.0)).to(args.device)

        def forward():
            with torch.no_grad():
                memory(x)

        def training():
            retrieved, _ = memory(x)
            retrieved.pow(2).mean().backward()

        print(f"batch_size={batch_size} {tokens / best_seconds(args.repeats, forward, args.device):.0f} "
              f"{tokens / best_seconds(args.repeats, training, args.device):.0f}", flush=True)


if __name__ == "__main__":
    main()
