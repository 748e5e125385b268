#!/usr/bin/env python3
"""Correctness matrix of the compiled attention kernels on the GPU.

Loads every `<kernel>_kernels.json` manifest in KERNEL_DIR through the
project's launch runtime, runs single-request prefill (qo_len = kv_len = L)
and decode (qo_len = 1, kv_len = L) for L in 1, 17, 1000, 4097 with fresh
random inputs, poisons the outputs with NaN first, and compares o and lse
with a float64 PyTorch reference. Prints one row per case and a summary;
exits non-zero if any case fails.

  check_attention.py KERNEL_DIR [--lengths 1,17,1000,4097] [--tol 1e-2]
"""
import argparse
import glob
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from flashinfer_mlir.runtime import Module  # noqa: E402

DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}


def reference(q, k, v, causal, sm_scale):
    """float64 attention; returns o [T, Hq, Dv] and base-2 lse [T, Hq]."""
    qo_len, hq, _ = q.shape
    kv_len, hkv, _ = k.shape
    group = hq // hkv
    qd, kd, vd = q.double(), k.double(), v.double()
    kd = kd.repeat_interleave(group, dim=1)
    vd = vd.repeat_interleave(group, dim=1)
    o = torch.zeros(qo_len, hq, v.shape[2], dtype=torch.float64, device=q.device)
    lse = torch.full((qo_len, hq), -math.inf, dtype=torch.float64, device=q.device)
    for h0 in range(0, hq, 8):  # bound the score matrix's memory
        hs = slice(h0, min(hq, h0 + 8))
        s = torch.einsum("qhd,khd->hqk", qd[:, hs], kd[:, hs]) * sm_scale
        if causal:
            qpos = torch.arange(qo_len, device=q.device) + (kv_len - qo_len)
            kpos = torch.arange(kv_len, device=q.device)
            s = s.masked_fill(kpos[None, None, :] > qpos[None, :, None], -math.inf)
        m = s.amax(dim=-1, keepdim=True)
        m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
        p = torch.exp(s - m)
        l = p.sum(-1, keepdim=True)
        o[:, hs] = (torch.einsum("hqk,khd->hqd", p, vd[:, hs]) /
                    torch.where(l > 0, l, torch.ones_like(l))).permute(1, 0, 2)
        lse[:, hs] = ((m + torch.log(l)) / math.log(2)).squeeze(-1).T
    return o, lse


def run_case(kernel, params, dtype, qo_len, kv_len, gen):
    hq, hkv = params["num_qo_heads"], params["num_kv_heads"]
    d, dv = params["head_dim"], params["head_dim_v"]
    dev = "cuda"
    q = torch.randn(qo_len, hq, d, generator=gen, device=dev).to(dtype)
    k = torch.randn(kv_len, hkv, d, generator=gen, device=dev).to(dtype)
    v = torch.randn(kv_len, hkv, dv, generator=gen, device=dev).to(dtype)
    o = torch.full((qo_len, hq, dv), float("nan"), device=dev, dtype=dtype)
    lse = torch.full((qo_len, hq), float("nan"), device=dev, dtype=torch.float32)
    kernel(q, k, v, o, lse)
    torch.cuda.synchronize()
    ref_o, ref_lse = reference(q, k, v, params["causal"], params["sm_scale"])
    finite = bool(torch.isfinite(o).all()) and not bool(torch.isnan(lse).any())
    rel = ((o.double() - ref_o).norm() / ref_o.norm().clamp_min(1e-30)).item()
    lse_err = (lse.double() - ref_lse).abs().max().item()
    return finite, rel, lse_err


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kernel_dir")
    ap.add_argument("--lengths", default="1,17,1000,4097")
    ap.add_argument("--tol", type=float, default=1e-2)
    ap.add_argument("--lse-tol", type=float, default=1e-2)
    ap.add_argument("--json", help="write all results here")
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    gen = torch.Generator(device="cuda")
    gen.manual_seed(20261125)
    rows, failures = [], 0
    manifests = sorted(glob.glob(os.path.join(args.kernel_dir, "*_kernels.json")))
    if not manifests:
        sys.exit(f"check_attention: no manifests in {args.kernel_dir}")
    for path in manifests:
        module = Module(path)
        for name in module.kernel_names:
            kernel = module.kernel(name)
            p = kernel.params
            dtype = DTYPES[json.load(open(path))["kernels"][0]["args"][0]["dtype"]]
            for mode in ("prefill", "decode"):
                for length in lengths:
                    qo_len = length if mode == "prefill" else 1
                    finite, rel, lse_err = run_case(kernel, p, dtype, qo_len,
                                                    length, gen)
                    ok = finite and rel <= args.tol and lse_err <= args.lse_tol
                    failures += not ok
                    rows.append(dict(kernel=name, mode=mode, kv_len=length,
                                     qo_len=qo_len, rel_err=rel,
                                     lse_max_abs_err=lse_err, finite=finite,
                                     ok=ok))
                    print(f"{name:28s} {mode:7s} L={length:5d} rel={rel:.2e} "
                          f"lse={lse_err:.2e} {'ok' if ok else 'FAIL'}",
                          flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    # Summary: worst relative error per (dtype, head dim, causal, group).
    print("\n| kernel | cases | worst rel err (o) | worst lse abs err | result |")
    print("|---|---|---|---|---|")
    for name in dict.fromkeys(r["kernel"] for r in rows):
        rs = [r for r in rows if r["kernel"] == name]
        print(f"| {name} | {len(rs)} | {max(r['rel_err'] for r in rs):.2e} | "
              f"{max(r['lse_max_abs_err'] for r in rs):.2e} | "
              f"{'pass' if all(r['ok'] for r in rs) else 'FAIL'} |")
    print(f"\n{len(rows) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
