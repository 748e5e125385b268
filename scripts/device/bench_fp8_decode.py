#!/usr/bin/env python3
"""fp8 KV decode against bf16 KV decode (issue 9's benchmark): paged batch
decode, bf16 queries, 32 query / 8 KV heads, head dim 128, page size 16
(shuffled pages), B = 64 requests of 4096 and of 16384 keys; the same cache
in bf16 and in float8_e4m3fn (k_scale / v_scale given), timed in the same
run from CUDA graphs (plan once), CUDA events, medians of batches of
replays after warm-up (bench_paged.time_ms). The table gives the bytes of
K and V each kernel must read over its time (the fp8 cache is half the
bytes) against a device-to-device copy's bandwidth.

  bench_fp8_decode.py [--json OUT]   (FLASHINFER_MLIR_KERNELS: the cache)
"""

import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python", "tests"))
sys.path.insert(0, HERE)
import flashinfer_mlir as flashinfer  # noqa: E402
from bench_paged import copy_bandwidth, graphed, time_ms  # noqa: E402
from test_api_gpu import Paged  # noqa: E402

HQ, HKV, D, PAGE = 32, 8, 128, 16
BF16, FP8 = torch.bfloat16, torch.float8_e4m3fn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    args = ap.parse_args()
    g = torch.Generator(device="cuda").manual_seed(0)
    ws = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")
    results = []
    for keys in (4096, 16384):
        lens = [keys] * 64
        c = Paged(lens, PAGE, HKV, D, BF16, "NHD", g, spare=0)
        caches = {"bf16": c.cache, "fp8": c.cache.to(FP8)}
        q = torch.randn((64, HQ, D), generator=g, device="cuda").to(BF16)
        out = torch.empty_like(q)
        row = dict(keys=keys)
        outs = {}
        for name, cache in caches.items():
            w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(ws, "NHD")
            w.plan(c.indptr, c.indices, c.last, HQ, HKV, D, PAGE,
                   q_data_type=BF16, kv_data_type=cache.dtype)
            outs[name] = w.run(q, cache).clone()
            fn = graphed(lambda w=w, cache=cache: w.run(q, cache, out=out),
                         name)
            ms = time_ms(fn)
            nbytes = 2 * 64 * keys * HKV * D * cache.element_size()
            row[name] = dict(ms=ms, gbps=nbytes / ms / 1e6)
        err = ((outs["fp8"].double() - outs["bf16"].double()).abs().max() /
               outs["bf16"].double().abs().max()).item()
        assert err < 0.1, f"fp8 and bf16 decode differ by {err}"
        row["max_rel_vs_bf16"] = err
        results.append(row)
    copy = copy_bandwidth(2 * 64 * 16384 * HKV * D * 2) / 1e9
    print("| B=64 decode, bf16 q, 32/8 d128 | bf16 KV (ms) | fp8 KV (ms) | "
          "fp8 speedup | bf16 GB/s | fp8 GB/s | fraction of copy (fp8) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        b, f = r["bf16"], r["fp8"]
        print(f"| {r['keys']} keys | {b['ms']:.3f} | {f['ms']:.3f} | "
              f"{b['ms'] / f['ms']:.2f} | {b['gbps']:.0f} | {f['gbps']:.0f} |"
              f" {f['gbps'] / copy:.2f} |")
    print(f"copy bandwidth: {copy:.0f} GB/s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(rows=results, copy_gbps=copy), fh, indent=1)


if __name__ == "__main__":
    main()
