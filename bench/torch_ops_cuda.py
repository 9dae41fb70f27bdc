#!/usr/bin/env python3
"""torch_ops_cuda.py — the peer of bench_vk_ops on the same GPU: f32 add of 2^N elements
and an SxSxS f32 matmul with TF32 off, CUDA events, median of REPS. Prints lines
`torch add ...` and `torch matmul ...` in bench_vk_ops' units."""
import sys, statistics, torch

def med(fn, reps):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); torch.cuda.synchronize()
        ts.append(a.elapsed_time(b))
    return statistics.median(ts)

def main():
    lg = int(sys.argv[1]) if len(sys.argv) > 1 else 26
    s = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    n = 1 << lg
    x = torch.randn(n, device="cuda"); y = torch.randn(n, device="cuda")
    ms = med(lambda: x + y, reps)
    print(f"torch add f32 2^{lg}: {ms:.3f} ms, {12.0 * n / (ms * 1e6):.1f} GB/s")
    a = torch.randn(s, s, device="cuda"); b = torch.randn(s, s, device="cuda")
    ms = med(lambda: a @ b, reps)
    print(f"torch matmul {s}^3: {ms:.3f} ms, {2.0 * s ** 3 / (ms * 1e9):.2f} TFLOP/s")

if __name__ == "__main__":
    main()
