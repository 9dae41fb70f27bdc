#!/usr/bin/python3
"""torch_rankk.py — peers of `spiral bench topk|bottomk|midk` on the CPU.

Usage: torch_rankk.py KIND ROWS COLS K REPS
Prints `torch_ms=<median>` and `numpy_ms=<median>` (numpy.argpartition on the same
data; -1 when numpy is absent). Runs with torch.set_num_threads(ST_BENCH_THREADS or 2).
MidK (the k central ranks): torch.topk(x, lo + k, largest=False) and the last k of it,
which is the same set; numpy: argpartition at kth=[lo, lo+k-1] and the slice between.
"""
import os
import sys
import time

import torch

kind, rows, cols, k, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
threads = int(os.environ.get("ST_BENCH_THREADS", "2"))
torch.set_num_threads(threads)
x = torch.rand(rows, cols, dtype=torch.float32)
lo = (cols - k) // 2


def run_torch():
    if kind == "topk":
        return torch.topk(x, k, dim=-1, largest=True, sorted=True)
    if kind == "bottomk":
        return torch.topk(x, k, dim=-1, largest=False, sorted=True)
    v, i = torch.topk(x, lo + k, dim=-1, largest=False, sorted=True)
    return v[..., lo:], i[..., lo:]


def median(f, n):
    f()  # warm-up
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    return ts[len(ts) // 2] if len(ts) % 2 else 0.5 * (ts[len(ts) // 2 - 1] + ts[len(ts) // 2])


print(f"torch_ms={median(run_torch, reps):.4f}")
try:
    import numpy as np

    xn = x.numpy()

    def run_numpy():
        if k == 0:
            return None
        if kind == "topk":
            return np.argpartition(-xn, k - 1, axis=-1)[:, :k]
        if kind == "bottomk":
            return np.argpartition(xn, k - 1, axis=-1)[:, :k]
        kth = [lo, lo + k - 1] if k > 1 else [lo]
        return np.argpartition(xn, kth, axis=-1)[:, lo:lo + k]

    print(f"numpy_ms={median(run_numpy, max(1, reps // 2)):.4f}")
except ImportError:
    print("numpy_ms=-1")
