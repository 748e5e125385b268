#!/usr/bin/env python3
"""Benchmark of the attn.merge_states kernel: merging two f32 states
[T, 32, 128] (what split-KV and cascade stages write) into bf16, against
the same merge written in PyTorch (eager, and torch.compile'd) and a
device-to-device copy of the same bytes, all in this process. Timing: CUDA
events, warm-up, median of repeats, inputs rotated among copies so that
the working set exceeds L2. Prints GB/s of the bytes the merge must move
(states and lse read, o and lse written) and ratios.

  bench_merge.py KERNEL_DIR   (gen_kernels.py --set merge)
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
sys.path.insert(0, os.path.dirname(__file__))
from flashinfer_mlir.runtime import Module  # noqa: E402
from bench_attention import time_ms  # noqa: E402

NAME = "merge2_f32_to_bf16_d128"
H, D = 32, 128


def torch_merge(v0, v1, l0, l1):
    m = torch.maximum(l0, l1)
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    w0, w1 = torch.exp2(l0 - m), torch.exp2(l1 - m)
    s = w0 + w1
    o = (v0 * w0[..., None] + v1 * w1[..., None]) / s[..., None]
    return o.to(torch.bfloat16), m + torch.log2(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kernel_dir")
    args = ap.parse_args()
    kernel = Module(os.path.join(args.kernel_dir, NAME + "_kernels.json")).kernel(NAME)
    compiled = torch.compile(torch_merge)
    print(f"Merge of 2 f32 states into bf16, {H} heads, d{D} "
          f"({torch.cuda.get_device_name()}), GB/s and ratios:")
    print("| tokens | ours | torch eager | torch.compile | copy | ours/compile | ours/copy |")
    print("|---|---|---|---|---|---|---|")
    for tokens in (4096, 32768, 262144):
        one = tokens * H * (2 * D * 4 + 2 * 4)
        n = max(2, min(8, (1 << 30) // one))
        sets = []
        for _ in range(n):
            v = [torch.randn(tokens, H, D, device="cuda") for _ in range(2)]
            l = [torch.randn(tokens, H, device="cuda") for _ in range(2)]
            o = torch.empty(tokens, H, D, device="cuda", dtype=torch.bfloat16)
            lse = torch.empty(tokens, H, device="cuda")
            sets.append((v[0], v[1], l[0], l[1], o, lse))
        moved = tokens * H * (2 * D * 4 + 2 * 4 + D * 2 + 4)
        t_ours = time_ms(lambda a, b, c, d, o, s: kernel(a, b, c, d, o, s), sets)
        t_eager = time_ms(lambda a, b, c, d, o, s: torch_merge(a, b, c, d), sets)
        t_comp = time_ms(lambda a, b, c, d, o, s: compiled(a, b, c, d), sets)
        src = [torch.empty(moved // 2, dtype=torch.uint8, device="cuda") for _ in range(n)]
        dst = [torch.empty_like(x) for x in src]
        t_copy = time_ms(lambda x, y: y.copy_(x), list(zip(src, dst)))
        a, b, c, d, o, lse = sets[0]
        kernel(a, b, c, d, o, lse)
        ref_o, ref_lse = torch_merge(a.double(), b.double(), c.double(), d.double())
        err = ((o.double() - ref_o).norm() / ref_o.norm()).item()
        if err > 1e-2 or (lse.double() - ref_lse).abs().max().item() > 1e-3:
            sys.exit(f"bench_merge: wrong result at {tokens} tokens (rel {err:.2e})")
        gbs = lambda t: moved / t / 1e6
        print(f"| {tokens} | {gbs(t_ours):.0f} | {gbs(t_eager):.0f} | "
              f"{gbs(t_comp):.0f} | {gbs(t_copy):.0f} | "
              f"{t_comp / t_ours:.2f} | {t_copy / t_ours:.2f} |", flush=True)


if __name__ == "__main__":
    main()
