#!/usr/bin/python3
"""torch_ops.py — the PyTorch side of the op benchmark (bench/bench_ops.c is ours).

Same measurements, same shapes, on the CPU with 2 threads: add, mul, exp on 16M f32
(out of place: a fresh output each call), a full sum over 16M f32, and a 1024^3 f32
matmul. --warmup calls (matmul 2), then --reps timed calls; prints one line per op:
    op=<name> ms=<median> min_ms=<fastest call>

Run it with Debian's own /usr/bin/python3 (python3-torch, python3-numpy), not the
python3 first on PATH.
Usage: torch_ops.py [--reps N] [--warmup N] [--threads N] [--op NAME[,NAME]]
"""
import argparse
import statistics
import sys
import time

import torch


def bench(fn, warm, reps):
    times = []
    for i in range(warm + reps):
        t0 = time.perf_counter()
        r = fn()
        if r.numel() == 1:
            r.item()
        t1 = time.perf_counter()
        del r
        if i >= warm:
            times.append((t1 - t0) * 1e3)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--op", default=None)
    args = ap.parse_args()
    reps = max(1, args.reps)
    warm = max(1, args.warmup)
    torch.set_num_threads(args.threads)
    torch.manual_seed(1234)
    n = 1 << 24
    a, b = torch.rand(n), torch.rand(n)
    ma, mb = torch.randn(1024, 1024), torch.randn(1024, 1024)
    print("# torch_ops: torch %s, cpu, %d threads, %d reps (median)"
          % (torch.__version__, torch.get_num_threads(), reps))
    cases = [
        ("add", lambda: torch.add(a, b), warm, reps),
        ("mul", lambda: torch.mul(a, b), warm, reps),
        ("exp", lambda: torch.exp(a), warm, reps),
        ("sum", lambda: torch.sum(a), warm, reps),
        ("matmul", lambda: torch.matmul(ma, mb), 2, max(3, reps // 2)),
    ]
    wanted = set(args.op.split(",")) if args.op else None
    with torch.no_grad():
        for name, fn, w, r in cases:
            if wanted and name not in wanted:
                continue
            med, best = bench(fn, w, r)
            print("op=%s ms=%.3f min_ms=%.3f" % (name, med, best))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
