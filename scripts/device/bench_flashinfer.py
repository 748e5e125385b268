#!/usr/bin/env python3
"""FlashInfer itself against our paged kernels, same process, same inputs.

FlashInfer (carried as a wheel, its kernels JIT-built with nvcc on first
use) runs BatchDecodeWithPagedKVCacheWrapper and
BatchPrefillWithPagedKVCacheWrapper on issue 8's serving shapes (bf16, 32/8
heads, head dim 128, page size 16, NHD, one [pages, 2, 16, 8, 128] cache,
shuffled pages); ours runs PagedDecode (PAGED_DIR) and BatchPrefill
(PREFILL_DIR) on the same tensors. Both plan once and run from a CUDA graph
where capture works (bench_paged.graphed), timed with CUDA events (median
of samples of 10 replays). Prints the outputs' agreement and a table.

  bench_flashinfer.py PAGED_DIR PREFILL_DIR
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
sys.path.insert(0, os.path.dirname(__file__))
from bench_paged import NOT_GRAPHED, graphed, time_ms  # noqa: E402
from flashinfer_mlir.decode import PagedDecode  # noqa: E402
from flashinfer_mlir.prefill import BatchPrefill  # noqa: E402
from flashinfer_mlir.runtime import Module  # noqa: E402

HQ, HKV, D, P = 32, 8, 128, 16


def paged_batch(lens, gen):
    pages = [-(-n // P) for n in lens]
    num = sum(pages)
    order = torch.randperm(num, generator=gen).tolist()
    indptr, indices, last = [0], [], []
    for n, npg in zip(lens, pages):
        indices += order[len(indices):len(indices) + npg]
        indptr.append(len(indices))
        last.append(n - (npg - 1) * P)
    cache = torch.randn(num, 2, P, HKV, D, device="cuda", dtype=torch.bfloat16)
    i32 = dict(dtype=torch.int32, device="cuda")
    return (cache, torch.tensor(indptr, **i32), torch.tensor(indices, **i32),
            torch.tensor(last, **i32))


def rel(a, b):
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


def main():
    paged_dir, prefill_dir = sys.argv[1], sys.argv[2]
    t0 = time.time()
    import flashinfer
    print(f"flashinfer {flashinfer.__version__} imported in "
          f"{time.time() - t0:.1f} s", flush=True)
    gen = torch.Generator().manual_seed(3)
    ws = torch.empty(512 << 20, dtype=torch.uint8, device="cuda")
    rows = []
    dec_mod = Module(os.path.join(paged_dir, "paged_bf16_d128_g4_nhd_p16_kernels.json"))
    for batch, kv in ((64, 4096), (1, 32768), (1, 131072)):
        cache, indptr, indices, last = paged_batch([kv] * batch, gen)
        q = torch.randn(batch, HQ, D, device="cuda", dtype=torch.bfloat16)
        fi = flashinfer.BatchDecodeWithPagedKVCacheWrapper(ws, "NHD")
        t0 = time.time()
        fi.plan(indptr, indices, last, HQ, HKV, D, P,
                q_data_type=torch.bfloat16, kv_data_type=torch.bfloat16)
        o_fi = fi.run(q, cache)
        torch.cuda.synchronize()
        print(f"decode B={batch} L={kv}: FlashInfer plan+first run "
              f"{time.time() - t0:.1f} s", flush=True)
        ours = PagedDecode(dec_mod, max_batch_size=batch,
                           max_num_pages=indices.numel())
        ours.plan(indptr.cpu(), indices.cpu(), last.cpu())
        o, lse = ours.run(q, cache)
        agree = rel(o, o_fi)
        t_fi = time_ms(graphed(lambda: fi.run(q, cache), f"flashinfer B={batch}"))
        t_ours = time_ms(graphed(lambda: ours.run(q, cache), f"ours B={batch}"))
        rows.append((f"decode B={batch}, {kv} keys", t_ours, t_fi, agree))
        print(rows[-1], flush=True)
    # Prefill: 16 requests of 512-4096 tokens, causal.
    lens = sorted(torch.randint(512, 4097, (16,), generator=gen).tolist(),
                  reverse=True)
    lens[0], lens[-1] = 4096, 512
    cache, indptr, indices, last = paged_batch(lens, gen)
    qo = torch.tensor([0] + list(torch.tensor(lens).cumsum(0)),
                      dtype=torch.int32, device="cuda")
    q = torch.randn(int(qo[-1]), HQ, D, device="cuda", dtype=torch.bfloat16)
    fi = flashinfer.BatchPrefillWithPagedKVCacheWrapper(ws, "NHD")
    t0 = time.time()
    fi.plan(qo, indptr, indices, last, HQ, HKV, D, P, causal=True,
            q_data_type=torch.bfloat16, kv_data_type=torch.bfloat16)
    o_fi = fi.run(q, cache)
    torch.cuda.synchronize()
    print(f"prefill: FlashInfer plan+first run {time.time() - t0:.1f} s",
          flush=True)
    pre = BatchPrefill(Module(os.path.join(
        prefill_dir, "prefill_bf16_d128_g4_nhd_p16_causal_kernels.json")),
        max_batch_size=16, max_num_tokens=q.shape[0],
        max_num_pages=indices.numel())
    pre.plan(qo.cpu(), indptr.cpu(), indices.cpu(), last.cpu())
    o, lse = pre.run(q, cache)
    agree = rel(o, o_fi)
    t_fi = time_ms(graphed(lambda: fi.run(q, cache), "flashinfer prefill"))
    t_ours = time_ms(graphed(lambda: pre.run(q, cache), "ours prefill"))
    rows.append((f"prefill 16 x 512-4096 causal ({q.shape[0]} tokens)",
                 t_ours, t_fi, agree))
    if NOT_GRAPHED:
        print("not graphed:", "; ".join(NOT_GRAPHED))
    print(f"\nFlashInfer {flashinfer.__version__} vs ours, bf16 32/8 heads "
          f"d128, page size 16\n")
    print("| shape | ours ms | FlashInfer ms | FlashInfer / ours | outputs rel diff |")
    print("|---|---|---|---|---|")
    for name, a, b, r in rows:
        print(f"| {name} | {a:.3f} | {b:.3f} | {b / a:.2f} | {r:.1e} |")


if __name__ == "__main__":
    main()
