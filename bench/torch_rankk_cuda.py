#!/usr/bin/env python3
"""torch_rankk_cuda.py — torch.topk on CUDA beside `spiral bench ... --device vulkan`.

Usage:
  torch_rankk_cuda.py time KIND ROWS COLS K REPS
      prints `torch_ms=<median>` (CUDA events around each call, after 3 warm-ups) and
      `torch_wall_ms=<median>` (host clock around call + synchronize, like spiral bench).
      MidK (ranks [lo, lo+k), lo = (n-k)//2): torch.topk(x, lo + k, largest=False) and
      its last k (the same set; torch has no MidK).
  torch_rankk_cuda.py check KIND ROWS COLS K SPIRAL [DEVICE]
      writes a random f32 [ROWS, COLS] IN.npy (with ties), runs
      `SPIRAL KIND --k K --device DEVICE` (default vulkan) and `--device cpu` on it,
      and checks: our device == our CPU exactly (values and indices), and against torch
      (CUDA): TopK/BottomK values equal, indices equal wherever the value is unique in the
      row; MidK: the same multiset of values. Prints `check ok ...` or `check FAIL ...`
      and exits 1 on failure.
No numpy needed: .npy files are read and written here (f32 / i32 / i64, C order).
"""
import ctypes
import os
import struct
import subprocess
import sys
import tempfile

import torch

torch.backends.cuda.matmul.allow_tf32 = False

DT = {"<f4": torch.float32, "<i4": torch.int32, "<i8": torch.int64}


def npy_write(path, t):
    t = t.contiguous().cpu()
    code = {torch.float32: "<f4", torch.int32: "<i4", torch.int64: "<i8"}[t.dtype]
    shape = "(" + "".join(f"{d}," for d in t.shape) + ")"
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (code, shape)
    hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode("latin1"))
        f.write(ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()))


def npy_read(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not an .npy file")
    major = data[6]
    hl = struct.unpack("<H", data[8:10])[0] if major == 1 else struct.unpack("<I", data[8:12])[0]
    off = 10 if major == 1 else 12
    hdr = eval(data[off:off + hl].decode("latin1"))  # the header is a Python literal
    body = bytearray(data[off + hl:])
    t = torch.frombuffer(body, dtype=DT[hdr["descr"]]) if body else torch.empty(0, dtype=DT[hdr["descr"]])
    return t.reshape(hdr["shape"])


def run_torch(x, kind, k):
    n = x.shape[-1]
    if kind == "topk":
        return torch.topk(x, k, dim=-1, largest=True, sorted=True)
    if kind == "bottomk":
        return torch.topk(x, k, dim=-1, largest=False, sorted=True)
    lo = (n - k) // 2
    v, i = torch.topk(x, lo + k, dim=-1, largest=False, sorted=True)
    return v[..., lo:], i[..., lo:]


def median(ts):
    ts = sorted(ts)
    m = len(ts)
    return ts[m // 2] if m % 2 else 0.5 * (ts[m // 2 - 1] + ts[m // 2])


def cmd_time(kind, rows, cols, k, reps):
    x = torch.rand(rows, cols, dtype=torch.float32, device="cuda")
    for _ in range(3):
        run_torch(x, kind, k)
    torch.cuda.synchronize()
    ev, wall = [], []
    import time
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        a.record()
        run_torch(x, kind, k)
        b.record()
        torch.cuda.synchronize()
        wall.append((time.perf_counter() - t0) * 1e3)
        ev.append(a.elapsed_time(b))
    print(f"torch_ms={median(ev):.4f}")
    print(f"torch_wall_ms={median(wall):.4f}")


def cmd_check(kind, rows, cols, k, spiral, device):
    g = torch.Generator().manual_seed(1234)
    x = torch.rand(rows, cols, generator=g, dtype=torch.float32)
    x[:, ::7] = torch.floor(x[:, ::7] * 16) / 16  # ties
    d = tempfile.mkdtemp(prefix="rkcheck")
    xin = os.path.join(d, "x.npy")
    npy_write(xin, x)
    res = {}
    for dev in (device, "cpu"):
        vo, io = os.path.join(d, f"v_{dev}.npy"), os.path.join(d, f"i_{dev}.npy")
        r = subprocess.run([spiral, kind, "--k", str(k), "--device", dev, xin, vo, io], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"check FAIL {kind} {rows}x{cols} k={k}: spiral --device {dev}: {r.stderr.strip()}")
            return 1
        res[dev] = (npy_read(vo), npy_read(io).to(torch.int64))
    (vv, vi), (cv, ci) = res[device], res["cpu"]
    what = f"{kind} {rows}x{cols} k={k} {device}"
    if not (torch.equal(vv, cv) and torch.equal(vi, ci)):
        bad = (vi != ci).nonzero()
        print(f"check FAIL {what}: differs from our CPU (first at {bad[0].tolist() if len(bad) else '?'})")
        return 1
    tv, ti = run_torch(x.to("cuda" if torch.cuda.is_available() else "cpu"), kind, k)
    tv, ti = tv.cpu(), ti.cpu()
    if kind == "midk":
        ok = torch.equal(torch.sort(vv, dim=-1).values, torch.sort(tv, dim=-1).values)
    else:
        ok = torch.equal(vv, tv)
        # indices where the value is unique in its row must agree
        uniq = torch.ones_like(vv, dtype=torch.bool)
        for r in range(rows):
            vals, counts = torch.unique(x[r], return_counts=True)
            dup = vals[counts > 1]
            uniq[r] = ~torch.isin(vv[r], dup)
        ok = ok and torch.equal(vi[uniq], ti[uniq].to(torch.int64))
    print(f"check {'ok' if ok else 'FAIL'} {what}: == our CPU (values, indices), {'==' if ok else '!='} torch.topk CUDA")
    return 0 if ok else 1


def main():
    a = sys.argv[1:]
    if len(a) >= 6 and a[0] == "time":
        cmd_time(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]))
        return 0
    if len(a) >= 6 and a[0] == "check":
        return cmd_check(a[1], int(a[2]), int(a[3]), int(a[4]), a[5], a[6] if len(a) > 6 else "vulkan")
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
