#!/usr/bin/env python3
"""What the FlashInfer-compatible Python API costs over the kernels: the
serving benchmark's batch decode (B = 64, 4k and 16k keys per request) and
batch prefill (16 requests of 512..4096 tokens, causal) through
flashinfer_mlir's wrappers (eager, and replayed from a CUDA graph) against
the kernel-level PagedDecode / BatchPrefill the serving benchmark times.
bf16, 32 query / 8 KV heads, head dim 128, page size 16. CUDA events,
medians of repeated batches after warm-up (bench_attention.time_ms); the
graph pairs timed alternately.

  bench_api.py [--json OUT]     (FLASHINFER_MLIR_KERNELS: the kernel cache)
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
sys.path.insert(0, os.path.dirname(__file__))
import flashinfer_mlir as flashinfer  # noqa: E402
from bench_paged import graphed, time_ms  # noqa: E402
from flashinfer_mlir.decode import PagedDecode  # noqa: E402
from flashinfer_mlir.jit.cache import get_module  # noqa: E402
from flashinfer_mlir.jit.spec import KernelSpec  # noqa: E402
from flashinfer_mlir.prefill import BatchPrefill  # noqa: E402

HQ, HKV, D, PS = 32, 8, 128, 16
BF16 = torch.bfloat16
STATIC = []  # (sm_scale compiled in, at launch) graph times, alternated


def paged_table(lens):
    pages = [-(-n // PS) for n in lens]
    num = sum(pages)
    perm = torch.randperm(num, device="cuda").to(torch.int32)
    indptr = torch.tensor([0] + torch.tensor(pages).cumsum(0).tolist(),
                          dtype=torch.int32, device="cuda")
    last = torch.tensor([(n - 1) % PS + 1 for n in lens], dtype=torch.int32,
                        device="cuda")
    cache = torch.randn((num, 2, PS, HKV, D), device="cuda").to(BF16)
    return cache, indptr, perm, last


def ab(a, b, rounds=3):
    """Medians of a and b timed alternately (a, b, a, b, ...), so that a
    drift of the card's clocks over the run falls on both alike."""
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(time_ms(a))
        tb.append(time_ms(b))
    return sorted(ta)[rounds // 2], sorted(tb)[rounds // 2]


def time_rows(w, low, static, values, q, cache, out, label):
    """A row's times: kernel-level eager, kernel-level and API graphs
    (alternated), API eager; and, into STATIC, the compiled-in-scale kernel
    against the kernel-level one, graphs alternated."""
    static_graph = graphed(lambda: static.run(q, cache, out=out),
                           f"static {label}")
    kernel_graph = graphed(lambda: low.run(q, cache, out=out,
                                           variant_values=values), label)
    api_graph = graphed(lambda: w.run(q, cache, out=out), f"api {label}")
    STATIC.append(ab(static_graph, kernel_graph))
    return (time_ms(lambda: low.run(q, cache, out=out, variant_values=values)),
            *ab(kernel_graph, api_graph),
            time_ms(lambda: w.run(q, cache, out=out)))


def decode_rows(kv_len, batch=64):
    cache, indptr, indices, last = paged_table([kv_len] * batch)
    q = torch.randn((batch, HQ, D), device="cuda").to(BF16)
    out = torch.empty_like(q)
    ws = torch.empty(128 << 20, dtype=torch.uint8, device="cuda")
    w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(ws, "NHD")
    w.plan(indptr, indices, last, HQ, HKV, D, PS, q_data_type=BF16)
    impl = w._impl  # the kernel-level object the wrapper planned
    low = PagedDecode(impl.split._module, max_batch_size=batch,
                      max_num_pages=indices.numel())
    low.plan(indptr, indices, last, page_size=PS)
    values = w._planned["values"]
    # The same kernel with sm_scale compiled in (what the serving benchmark
    # timed before launch-time values).
    static = PagedDecode(get_module(KernelSpec("batch_decode", "bf16", D, HQ,
                                               HKV), "sm_90a"),
                         max_batch_size=batch, max_num_pages=indices.numel())
    static.plan(indptr, indices, last, page_size=PS)
    return time_rows(w, low, static, values, q, cache, out, "decode")


def prefill_rows():
    g = torch.Generator().manual_seed(0)
    lens = torch.randint(512, 4097, (16,), generator=g).tolist()
    cache, kv_indptr, indices, last = paged_table(lens)
    qo_indptr = torch.tensor([0] + torch.tensor(lens).cumsum(0).tolist(),
                             dtype=torch.int32, device="cuda")
    q = torch.randn((sum(lens), HQ, D), device="cuda").to(BF16)
    out = torch.empty_like(q)
    ws = torch.empty(128 << 20, dtype=torch.uint8, device="cuda")
    w = flashinfer.BatchPrefillWithPagedKVCacheWrapper(ws, "NHD")
    w.plan(qo_indptr, kv_indptr, indices, last, HQ, HKV, D, PS, causal=True,
           q_data_type=BF16)
    low = BatchPrefill(w._impl.kernel._module, max_batch_size=16,
                       max_num_tokens=sum(lens),
                       max_num_pages=indices.numel())
    low.plan(qo_indptr, kv_indptr, indices, last, page_size=PS)
    values = w._planned["values"]
    static = BatchPrefill(get_module(KernelSpec("batch_prefill", "bf16", D,
                                                HQ, HKV, causal=True),
                                     "sm_90a"),
                          max_batch_size=16, max_num_tokens=sum(lens),
                          max_num_pages=indices.numel())
    static.plan(qo_indptr, kv_indptr, indices, last, page_size=PS)
    return time_rows(w, low, static, values, q, cache, out, "prefill")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = [(f"batch decode B=64, {n // 1024}k keys", decode_rows(n))
            for n in (4096, 16384)]
    rows.append(("batch prefill 16 x 512..4096, causal", prefill_rows()))
    print("\n| bf16 32/8 heads, d128, page 16 | kernel-level eager (ms) | "
          "API eager (ms) | API / kernel, eager | kernel-level graph (ms) | "
          "API graph (ms) | API / kernel, graph |")
    print("|---|---|---|---|---|---|---|")
    for label, (ke, kg, ag, ae) in rows:
        print(f"| {label} | {ke:.3f} | {ae:.3f} | {ae / ke:.3f} | {kg:.3f} | "
              f"{ag:.3f} | {ag / kg:.3f} |")
    print("\n| bf16 32/8 heads, d128, page 16 | sm_scale compiled in, graph "
          "(ms) | sm_scale at launch, graph (ms) | launch / compiled in |")
    print("|---|---|---|---|")
    for (label, _), (st, lg) in zip(rows, STATIC):
        print(f"| {label} | {st:.3f} | {lg:.3f} | {lg / st:.3f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({label: dict(kernel_eager=ke, kernel_graph=kg,
                                   api_eager=ae, api_graph=ag)
                       for label, (ke, kg, ag, ae) in rows}, f, indent=1)


if __name__ == "__main__":
    main()
