#!/usr/bin/env python3
"""Launches one prefill kernel once (bf16, 32 heads, head dim 128, 4096
tokens) so that Nsight Compute can profile it:

  ncu --clock-control none --kernel-name regex:attn_ --launch-count 1 \\
      --section SpeedOfLight --section Occupancy --section WarpStateStats \\
      python3 scripts/device/profile_prefill.py KERNEL_DIR [causal|full]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from flashinfer_mlir.runtime import Module  # noqa: E402

kernel_dir = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else "full"
name = f"attn_bf16_d128_g1_{mode}"
kernel = Module(os.path.join(kernel_dir, name + "_kernels.json")).kernel(name)
q, k, v = (torch.randn(4096, 32, 128, device="cuda", dtype=torch.bfloat16)
           for _ in range(3))
o = torch.empty_like(q)
lse = torch.empty(4096, 32, device="cuda", dtype=torch.float32)
kernel(q, k, v, o, lse)
torch.cuda.synchronize()
print("profiled", name)
