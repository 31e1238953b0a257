"""The timing both comparison scripts use, as our benches time: one warm-up call, then the best of REPEATS."""
import time


def best_seconds(repeats, body):
    body()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        best = min(best, time.perf_counter() - start)
    return best
