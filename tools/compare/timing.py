"""The timing both comparison scripts use, as our benches time: one warm-up call, then the best of REPEATS; on a GPU
each call is waited for (torch.cuda.synchronize) before the clock stops."""
import time

import torch


def best_seconds(repeats, body, device="cpu"):
    def timed():
        start = time.perf_counter()
        body()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    timed()
    return min(timed() for _ in range(repeats))


def add_device_argument(parser):
    """--device cpu (two threads, as our CPU benches) or cuda."""
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")


def set_up(device):
    """Two threads on the CPU; on a GPU, full float32 products (no TF32), as our cuBLAS calls take them by default."""
    torch.set_num_threads(2)
    torch.manual_seed(0)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
