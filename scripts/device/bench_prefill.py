#!/usr/bin/env python3
"""Benchmark of batch prefill (issue 8's serving shape) on one GPU.

bf16, 32 query / 8 KV heads, head dim 128, causal: 16 requests of mixed
lengths (512 to 4096 tokens, each request's queries over its own keys, a
fresh prefill) packed into one batch. Ours through BatchPrefill (plan once,
run() replayed from a CUDA graph): over a paged cache (page size 16, pages
shuffled) and over ragged K/V. Against, in the same run:
- PyTorch SDPA with the cuDNN backend, one call per request (enable_gqa),
  the 16 calls captured in one CUDA graph;
- FlexAttention (torch.compile) over the packed batch with a block mask of
  the document-causal mask (a query sees the keys of its own request up to
  itself);
- our single-request prefill kernel (PREFILL_DIR, gen_kernels.py --set
  bench: attn_bf16_d128_g4_causal) on one request of the batch's total
  token count, as TFLOP/s (issue 8's goal: batched >= 0.9x).
FLOPs are 4 * D * Hq * (causal pairs of each request). Timing: CUDA events,
median of repeats after warm-up, samples of 10 graph replays; inputs exceed
L2. Prints the table last.

  bench_prefill.py PREFILL_BENCH_DIR [--single-dir DIR] [--json out.json]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
sys.path.insert(0, os.path.dirname(__file__))
from bench_paged import graphed, time_ms, NOT_GRAPHED  # noqa: E402
from flashinfer_mlir.prefill import BatchPrefill  # noqa: E402
from flashinfer_mlir.runtime import Module  # noqa: E402

HQ, HKV, D, PAGE = 32, 8, 128, 16


def causal_pairs(n):
    return n * (n + 1) // 2


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kernel_dir")
    ap.add_argument("--single-dir", help="folder of "
                    "attn_bf16_d128_g4_causal_kernels.json")
    ap.add_argument("--json")
    ap.add_argument("--ours-only", action="store_true",
                    help="time only our kernels (to compare builds)")
    args = ap.parse_args()
    gen = torch.Generator().manual_seed(7)
    lens = sorted(torch.randint(512, 4097, (16,), generator=gen).tolist(),
                  reverse=True)
    lens[0], lens[-1] = 4096, 512
    total = sum(lens)
    flops = 4 * D * HQ * sum(causal_pairs(n) for n in lens)
    dt, dev = torch.bfloat16, "cuda"
    indptr = [0]
    for n in lens:
        indptr.append(indptr[-1] + n)
    q = torch.randn(total, HQ, D, device=dev, dtype=dt)
    k = torch.randn(total, HKV, D, device=dev, dtype=dt)
    v = torch.randn(total, HKV, D, device=dev, dtype=dt)
    o = torch.empty(total, HQ, D, device=dev, dtype=dt)
    lse = torch.empty(total, HQ, device=dev)
    results = {}

    def record(label, fn, fl=flops):
        ms = time_ms(graphed(fn, label))
        results[label] = dict(ms=ms, tflops=fl / ms / 1e9)
        print(f"{label:14s} {ms:8.3f} ms {fl / ms / 1e9:7.1f} TFLOP/s",
              flush=True)

    # Ours, paged: the batch's keys in shuffled pages of 16.
    paged_json = os.path.join(args.kernel_dir,
                              "prefill_bf16_d128_g4_nhd_p16_causal_kernels.json")
    pages = [-(-n // PAGE) for n in lens]
    num_pages = sum(pages)
    order = torch.randperm(num_pages, generator=gen)
    kc = torch.zeros(num_pages, PAGE, HKV, D, device=dev, dtype=dt)
    vc = torch.zeros_like(kc)
    kv_indptr, kv_indices, last = [0], [], []
    used = 0
    for b, n in enumerate(lens):
        ids = order[used:used + pages[b]]
        used += pages[b]
        kv_indices += ids.tolist()
        kv_indptr.append(len(kv_indices))
        last.append(n - (pages[b] - 1) * PAGE)
        t = torch.arange(n)
        page = ids[t // PAGE].to(dev)
        kc[page, (t % PAGE).to(dev)] = k[indptr[b]:indptr[b + 1]]
        vc[page, (t % PAGE).to(dev)] = v[indptr[b]:indptr[b + 1]]
    pre = BatchPrefill(Module(paged_json), max_batch_size=16,
                       max_num_tokens=total, max_num_pages=num_pages)
    plan = pre.plan(indptr, kv_indptr, kv_indices, last)
    print(f"batch {lens} = {total} tokens, {plan.num_work_items} work items")
    record("ours-paged", lambda: pre.run(q, (kc, vc), out=o, lse=lse))
    o_paged = o.clone()

    ragged_json = os.path.join(args.kernel_dir,
                               "ragged_bf16_d128_g4_causal_kernels.json")
    rag = BatchPrefill(Module(ragged_json), max_batch_size=16,
                       max_num_tokens=total)
    rag.plan(indptr, indptr)
    record("ours-ragged", lambda: rag.run(q, (k, v), out=o, lse=lse))
    agree = ((o.float() - o_paged.float()).norm() /
             o_paged.float().norm()).item()

    if args.ours_only:
        for label, r in results.items():
            print(f"| {label} | {r['ms']:.3f} | {r['tflops']:.1f} |")
        return
    from torch.nn.attention import SDPBackend, sdpa_kernel
    views = [tuple(x[a:b].unsqueeze(0).transpose(1, 2) for x in (q, k, v))
             for a, b in zip(indptr, indptr[1:])]

    def sdpa_loop():
        with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
            for qt, kt, vt in views:
                F.scaled_dot_product_attention(qt, kt, vt, is_causal=True,
                                               enable_gqa=True)
    try:
        record("sdpa-cudnn", sdpa_loop)
    except Exception as e:  # noqa: BLE001
        print("sdpa-cudnn failed:", e)

    try:
        from torch.nn.attention.flex_attention import (create_block_mask,
                                                       flex_attention)
        doc = torch.zeros(total, dtype=torch.int32, device=dev)
        for b, (a, e) in enumerate(zip(indptr, indptr[1:])):
            doc[a:e] = b

        def doc_causal(b, h, qi, ki):
            return (doc[qi] == doc[ki]) & (qi >= ki)
        mask = create_block_mask(doc_causal, 1, 1, total, total, device=dev)
        compiled = torch.compile(flex_attention)
        qt, kt, vt = (x.unsqueeze(0).transpose(1, 2) for x in (q, k, v))
        record("flex", lambda: compiled(qt, kt, vt, block_mask=mask,
                                        enable_gqa=True))
    except Exception as e:  # noqa: BLE001
        print("flex failed:", e)

    if args.single_dir:
        single = Module(os.path.join(
            args.single_dir, "attn_bf16_d128_g4_causal_kernels.json"))
        kern = single.kernel(single.kernel_names[0])
        record("ours-single", lambda: kern(q, k, v, o, lse),
               4 * D * HQ * causal_pairs(total))

    print(f"\npaged and ragged outputs agree to {agree:.1e} (relative)")
    if NOT_GRAPHED:
        print("not graphed:", ", ".join(NOT_GRAPHED))
    base = results["ours-paged"]["ms"]
    print(f"\nbatch prefill, bf16 {HQ}/{HKV} heads d{D} causal, 16 requests "
          f"of 512-4096 ({total} tokens)\n")
    print("| kernel | ms | TFLOP/s | time / ours-paged |")
    print("|---|---|---|---|")
    for label, r in results.items():
        print(f"| {label} | {r['ms']:.3f} | {r['tflops']:.1f} | "
              f"{r['ms'] / base:.2f} |")
    if "ours-single" in results:
        print(f"\nbatched/single TFLOP/s: paged "
              f"{results['ours-paged']['tflops'] / results['ours-single']['tflops']:.2f}, "
              f"ragged "
              f"{results['ours-ragged']['tflops'] / results['ours-single']['tflops']:.2f}"
              " (goal >= 0.9)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(lens=lens, results=results, agree=agree), f,
                      indent=1)


if __name__ == "__main__":
    main()
