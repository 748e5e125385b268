#!/usr/bin/env python3
"""Benchmark of paged batch decode (issue 8's serving shapes) on one GPU.

bf16, 32 query / 8 KV heads, head dim 128, page size 16 (nhd): our paged
batch decode through PagedDecode (plan once, then run() replayed from a CUDA
graph) at B = 64 with 4k and 16k keys per request and B = 1 with 32k and
128k keys, against, in the same run:
- PyTorch SDPA (cuDNN and flash backends) on contiguous padded KV
  [B, Hkv, L, D] with enable_gqa (no copies of the KV heads);
- our contiguous single-request decode pair (DECODE_DIR, B = 1 rows);
- a device-to-device copy of the bytes the cache occupies (the bandwidth
  ceiling).
Pages are shuffled. Timing: CUDA events, median of repeats after warm-up,
each sample a batch of graph replays; inputs exceed L2 (60 MB). The planner aims at the
manifest's split_workgroups_per_cu; columns with 4 and 16 compare. Prints the
table last: time, fraction of copy bandwidth (K and V bytes read / time),
and ratios.

  bench_paged.py PAGED_DIR [--decode-dir DIR] [--json out.json]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from flashinfer_mlir.decode import PagedDecode  # noqa: E402
from flashinfer_mlir.planner import plan_decode  # noqa: E402
from flashinfer_mlir.runtime import Module  # noqa: E402
from bench_attention import time_ms as bench_time_ms  # noqa: E402

HQ, HKV, D, PAGE = 32, 8, 128, 16
NUM_SMS = torch.cuda.get_device_properties(0).multi_processor_count


def time_ms(fn, warmup=3, repeat=15, batch=10):
    """bench_attention.time_ms for a call without rotated inputs."""
    return bench_time_ms(fn, [()], warmup=warmup, repeat=repeat, batch=batch)


NOT_GRAPHED = []


def graphed(fn, label):
    """fn captured in a CUDA graph (after a warm-up call on a side stream);
    fn itself if it cannot be captured (noted in NOT_GRAPHED)."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        fn()
    torch.cuda.current_stream().wait_stream(stream)
    try:
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            fn()
        return graph.replay
    except Exception as e:  # noqa: BLE001
        torch.cuda.synchronize()
        NOT_GRAPHED.append(f"{label}: {str(e).splitlines()[0][:80]}")
        return fn


def copy_bandwidth(nbytes):
    src = torch.empty(nbytes // 2, dtype=torch.bfloat16, device="cuda")
    dst = torch.empty_like(src)
    ms = time_ms(lambda: dst.copy_(src), batch=3)
    return 2 * nbytes / (ms * 1e-3)  # read + write


def fmt(x, spec=".3f"):
    return format(x, spec) if x else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("paged_dir")
    ap.add_argument("--decode-dir")
    ap.add_argument("--json")
    args = ap.parse_args()
    kernels = {}
    for tag, name in (("paged p16", "paged_bf16_d128_g4_nhd_p16"),
                      ("paged any", "paged_bf16_d128_g4_nhd_pany")):
        path = os.path.join(args.paged_dir, f"{name}_kernels.json")
        if os.path.exists(path):
            kernels[tag] = Module(path)
    contiguous = None
    if args.decode_dir:
        path = os.path.join(args.decode_dir, "decode_bf16_d128_g4_kernels.json")
        if os.path.exists(path):
            mod = Module(path)
            contiguous = [mod.kernel(n) for n in mod.kernel_names]
    bw = copy_bandwidth(1 << 30)
    gen = torch.Generator(device="cuda").manual_seed(7)
    rows = []
    for batch, kv_len in ((64, 4096), (64, 16384), (1, 32768), (1, 131072)):
        pages_per = -(-kv_len // PAGE)
        num_pages = batch * pages_per
        cache = torch.randn(num_pages, 2, PAGE, HKV, D, generator=gen,
                            device="cuda", dtype=torch.bfloat16)
        perm = torch.randperm(num_pages, device="cuda", generator=gen)
        indptr = [i * pages_per for i in range(batch + 1)]
        last = [kv_len - (pages_per - 1) * PAGE] * batch
        q = torch.randn(batch, HQ, D, generator=gen, device="cuda",
                        dtype=torch.bfloat16)
        kv_bytes = 2 * batch * kv_len * HKV * D * 2
        row = dict(batch=batch, kv_len=kv_len, kv_mb=kv_bytes / 1e6)
        outs = {}
        for tag, mod, per_sm in [(t, m, None) for t, m in kernels.items()] + (
                [("paged p16 wg4", kernels["paged p16"], 4),
                 ("paged p16 wg16", kernels["paged p16"], 16)]
                if "paged p16" in kernels else []):
            dec = PagedDecode(mod, max_batch_size=batch,
                              max_num_pages=num_pages,
                              workgroups_per_sm=per_sm)
            dec.plan(indptr, perm.cpu(), last, page_size=PAGE)
            o = torch.empty(batch, HQ, D, device="cuda", dtype=torch.bfloat16)
            run = graphed(lambda: dec.run(q, cache, out=o), tag)
            row[tag] = time_ms(run)
            outs[tag] = o.clone()
            row[tag + " items"] = dec.plan_info.num_work_items
        # SDPA over contiguous padded KV (the same keys, in order).
        k = cache[perm, 0].reshape(batch, pages_per * PAGE, HKV, D)[:, :kv_len]
        v = cache[perm, 1].reshape(batch, pages_per * PAGE, HKV, D)[:, :kv_len]
        kt = k.transpose(1, 2).contiguous()
        vt = v.transpose(1, 2).contiguous()
        qt = q.view(batch, HQ, 1, D)
        for tag, backend in (("sdpa cudnn", torch.nn.attention.SDPBackend.CUDNN_ATTENTION),
                             ("sdpa flash", torch.nn.attention.SDPBackend.FLASH_ATTENTION)):
            try:
                with torch.nn.attention.sdpa_kernel(backend):
                    fn = lambda: F.scaled_dot_product_attention(
                        qt, kt, vt, enable_gqa=True)
                    ref = fn()
                    row[tag] = time_ms(graphed(fn, tag))
                if outs:
                    any_o = next(iter(outs.values()))
                    row[tag + " diff"] = ((any_o.float() - ref.view(batch, HQ, D).float()).norm()
                                          / ref.float().norm()).item()
            except Exception as e:  # a backend that rejects the shape
                row[tag] = None
                row[tag + " error"] = str(e).splitlines()[0][:80]
        if contiguous and batch == 1:
            kc, vc = k[0], v[0]
            o = torch.empty(1, HQ, D, device="cuda", dtype=torch.bfloat16)
            lse = torch.empty(1, HQ, device="cuda")
            chunk = plan_decode(contiguous[0].params, kv_len, NUM_SMS)
            splits = -(-kv_len // chunk)
            o_part = torch.empty(splits, HQ, D, device="cuda")
            lse_part = torch.empty(splits, HQ, device="cuda")

            def contig():
                contiguous[0](q, kc, vc, o_part, lse_part, chunk)
                contiguous[1](o_part, lse_part, o, lse)
            row["ours contiguous"] = time_ms(graphed(contig, "contiguous"))
        rows.append(row)
        del cache, k, v, kt, vt

    def frac(ms, nbytes):
        return nbytes / (ms * 1e-3) / bw if ms else None

    print(f"\ncopy bandwidth (read + write): {bw / 1e12:.2f} TB/s")
    print("\n| batch | kv/request | KV MB | paged p16 ms | of copy bw | paged any ms | "
          "sdpa cudnn ms | sdpa flash ms | ours contiguous ms | p16 / cudnn | p16 / flash | p16 / contiguous |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        b = r["kv_mb"] * 1e6
        p16 = r.get("paged p16")

        def ratio(other):
            o = r.get(other)
            return f"{o / p16:.2f}" if o and p16 else "-"
        print(f"| {r['batch']} | {r['kv_len']} | {r['kv_mb']:.0f} | {fmt(p16)} | "
              f"{fmt(frac(p16, b), '.2f')} | {fmt(r.get('paged any'))} | "
              f"{fmt(r.get('sdpa cudnn'))} | {fmt(r.get('sdpa flash'))} | "
              f"{fmt(r.get('ours contiguous'))} | {ratio('sdpa cudnn')} | "
              f"{ratio('sdpa flash')} | {ratio('ours contiguous')} |")
    print("(ratios: peer time / paged p16 time; > 1 means ours is faster)")
    print("\nPlanner's split workgroups per SM (paged p16), ms:")
    print("| batch | kv/request | 4 | 8 (the manifest's default) | 16 |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['batch']} | {r['kv_len']} | {fmt(r.get('paged p16 wg4'))} | "
              f"{fmt(r.get('paged p16'))} | {fmt(r.get('paged p16 wg16'))} |")
    for note in NOT_GRAPHED:
        print(f"  not captured in a graph (timed directly): {note}")
    for r in rows:
        for k_, v_ in r.items():
            if k_.endswith("error") or k_.endswith("diff"):
                print(f"  B={r['batch']} L={r['kv_len']} {k_}: {v_}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, copy_bw=bw), f, indent=1)


if __name__ == "__main__":
    main()
