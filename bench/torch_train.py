#!/usr/bin/python3
"""torch_train.py — the PyTorch side of the training-step benchmark (bench/bench_train.c
is ours).

One step = zero_grad, forward, cross-entropy, backward, Adam step, for the same two
models as bench_train: the spirals MLP 2-64-64-3 (ReLU) on a batch of 900 and a wide
MLP 1024-1024-1024 (ReLU) on a batch of 256, f32 on the CPU. --warmup steps, then
--reps timed steps; prints one line per case:  op=<name> ms=<median>

Run it with Debian's /usr/bin/python3 (python3-torch).
Usage: torch_train.py [--reps N] [--warmup N] [--threads N]
"""
import argparse
import statistics
import time

import torch


def make(sizes, batch, classes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    x = torch.randn(batch, sizes[0])
    y = torch.randint(0, classes, (batch,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, x, y, opt


def step(model, x, y, opt):
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def bench(case, warm, reps):
    model, x, y, opt = case
    times = []
    for i in range(warm + reps):
        t0 = time.perf_counter()
        step(model, x, y, opt)
        t1 = time.perf_counter()
        if i >= warm:
            times.append((t1 - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1234)
    print("# torch_train: torch %s, cpu, %d threads, %d reps (median)"
          % (torch.__version__, torch.get_num_threads(), args.reps))
    cases = [
        ("spirals_mlp_2-64-64-3_b900", make([2, 64, 64, 3], 900, 3), 3 * args.reps),
        ("mlp_1024-1024-1024_b256", make([1024, 1024, 1024], 256, 1024), args.reps),
    ]
    for name, case, reps in cases:
        print("op=%s ms=%.4f" % (name, bench(case, max(1, args.warmup), max(1, reps))), flush=True)


if __name__ == "__main__":
    main()
