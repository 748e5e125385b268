#!/usr/bin/env python3
"""Benchmark of the compiled attention kernels against PyTorch's on one GPU.

Prefill (bf16, head dim 128, 32 heads, causal and not, 4096 and 16384 tokens):
our kernel vs SDPA's flash and cuDNN backends and FlexAttention, as TFLOP/s
and ratios. Decode (bf16, GQA 4, one request, kv length 4k..128k): achieved
bandwidth of the decode kernel pair (split-KV + merge, from DECODE_DIR) and,
for comparison, of the prefill kernel run with qo_len = 1, vs a
device-to-device copy measured in the same run. Timing: CUDA events,
warm-up, median of repeats, inputs rotated among several copies so they
exceed L2. Decode calls are short next to their host overhead (the decode
pair is two ctypes launches plus workspace allocation): each input set's
call is captured in a CUDA graph (--no-graphs: called directly; a peer that
cannot be captured falls back to that, noted in its row) and batches of 10
replays are timed. Prints tables last.

  bench_attention.py KERNEL_DIR [--decode-dir DIR] [--json out.json]

DECODE_DIR holds decode_bf16_d128_g4_kernels.json (gen_kernels.py --set
decode or decode-bench); default: KERNEL_DIR/../decode when it exists.
--decode-alt LABEL=DIR times further builds of it (e.g. other block-n
values) in the decode table.
"""
import argparse
import json
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from flashinfer_mlir.runtime import Module  # noqa: E402
from check_attention import NUM_SMS, launch_all  # noqa: E402
from flashinfer_mlir.planner import plan_decode  # noqa: E402

HEADS, DIM = 32, 128


def time_ms(fn, sets, warmup=5, repeat=30, batch=1):
    """Median milliseconds of fn(*inputs) over CUDA events, rotating inputs;
    each sample times `batch` calls back to back and divides."""
    for i in range(warmup):
        fn(*sets[i % len(sets)])
    torch.cuda.synchronize()
    times = []
    for i in range(repeat):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for j in range(batch):
            fn(*sets[(i * batch + j) % len(sets)])
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / batch)
    return statistics.median(times)


def input_sets(qo_len, kv_len, hq, hkv, budget_bytes=512 << 20):
    one = (qo_len * hq + 2 * kv_len * hkv) * DIM * 2
    n = max(2, min(8, budget_bytes // max(one, 1)))
    sets = []
    for _ in range(n):
        q = torch.randn(qo_len, hq, DIM, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(kv_len, hkv, DIM, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(kv_len, hkv, DIM, device="cuda", dtype=torch.bfloat16)
        sets.append((q, k, v))
    return sets


def ours(kernel, hq):
    def run(q, k, v):
        o = torch.empty(q.shape[0], hq, DIM, device="cuda", dtype=q.dtype)
        lse = torch.empty(q.shape[0], hq, device="cuda", dtype=torch.float32)
        kernel(q, k, v, o, lse)
        return o
    return run


def graphed(fn, sets):
    """One CUDA graph per input set capturing fn(*set); returns replay sets
    for time_ms(replay, ...). The capture stream is torch's current stream,
    which the runtime launches on."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for args in sets:
            fn(*args)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graphs = []
    for args in sets:
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            fn(*args)
        graphs.append((g,))
    return graphs


def replay(g):
    g.replay()


def ours_decode(kernels, hq, kv_chunk=None, workgroups_per_sm=4):
    """The decode pair: the split size from the planner (or `kv_chunk`),
    workspace from the manifest, kernels in order."""
    def run(q, k, v):
        o = torch.empty(q.shape[0], hq, DIM, device="cuda", dtype=q.dtype)
        lse = torch.empty(q.shape[0], hq, device="cuda", dtype=torch.float32)
        chunk = kv_chunk or plan_decode(kernels[0].params, k.shape[0], NUM_SMS,
                                        workgroups_per_sm=workgroups_per_sm)
        launch_all(kernels, dict(q=q, k=k, v=v, o=o, lse=lse), poison=False,
                   kv_chunk=chunk)
        return o
    return run


def sdpa(backend, causal):
    from torch.nn.attention import sdpa_kernel

    def run(q, k, v):
        # SDPA wants [B, H, T, D]; views, no copies.
        qt, kt, vt = (x.unsqueeze(0).transpose(1, 2) for x in (q, k, v))
        with sdpa_kernel([backend]):
            return F.scaled_dot_product_attention(qt, kt, vt, is_causal=causal,
                                                  enable_gqa=kt.shape[1] != qt.shape[1])
    return run


def flex(causal, qo_len, kv_len):
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    compiled = torch.compile(flex_attention)
    block_mask = None
    if causal:
        block_mask = create_block_mask(lambda b, h, q, kv: q >= kv, 1, 1,
                                       qo_len, kv_len, device="cuda")

    def run(q, k, v):
        qt, kt, vt = (x.unsqueeze(0).transpose(1, 2) for x in (q, k, v))
        return compiled(qt, kt, vt, block_mask=block_mask,
                        enable_gqa=kt.shape[1] != qt.shape[1])
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kernel_dir")
    ap.add_argument("--json")
    ap.add_argument("--no-graphs", action="store_true",
                    help="time decode calls directly, not as CUDA graphs")
    ap.add_argument("--decode-alt", action="append", default=[],
                    help="LABEL=DIR: another build of the decode pair, timed "
                         "beside ours in the decode table")
    ap.add_argument("--decode-dir",
                    help="folder of decode_bf16_d128_g4_kernels.json "
                         "(default: KERNEL_DIR/../decode if it exists)")
    ap.add_argument("--alt", action="append", default=[],
                    help="LABEL=DIR: another build of the bench kernels, timed "
                         "beside ours in the prefill table")
    args = ap.parse_args()
    alts = dict(a.split("=", 1) for a in args.alt)
    kernels = {}
    for causal in (False, True):
        for group in (1, 4):
            name = f"attn_bf16_d{DIM}_g{group}_{'causal' if causal else 'full'}"
            kernels[(causal, group)] = Module(
                os.path.join(args.kernel_dir, name + "_kernels.json")).kernel(name)
    decode_dir = args.decode_dir or os.path.join(
        os.path.dirname(os.path.abspath(args.kernel_dir)), "decode")
    def load_decode(folder):
        path = os.path.join(folder, f"decode_bf16_d{DIM}_g4_kernels.json")
        if not os.path.exists(path):
            return None, path
        module = Module(path)
        names = [k["name"] for k in json.load(open(path))["kernels"]]
        return [module.kernel(n) for n in names], path

    decode_kernels, decode_manifest = load_decode(decode_dir)
    decode_alts = {}
    for label, folder in (a.split("=", 1) for a in args.decode_alt):
        decode_alts[label], path = load_decode(folder)
        if decode_alts[label] is None:
            sys.exit(f"bench_attention: no {path}")
    if decode_kernels is None and args.decode_dir:
        sys.exit(f"bench_attention: no {decode_manifest}")
    elif decode_kernels is None:
        print(f"bench_attention: no {decode_manifest}; decode uses the "
              "prefill kernel only", flush=True)
    results = {"prefill": [], "decode": []}
    from torch.nn.attention import SDPBackend

    prefill_rows = []
    for length in (4096, 16384):
        for causal in (False, True):
            sets = input_sets(length, length, HEADS, HEADS)
            flops = 4 * length * length * DIM * HEADS * (0.5 if causal else 1.0)
            peers = {
                "ours": ours(kernels[(causal, 1)], HEADS),
                **{label: ours(Module(os.path.join(
                    d, f"attn_bf16_d{DIM}_g1_{'causal' if causal else 'full'}_kernels.json"))
                    .kernel(f"attn_bf16_d{DIM}_g1_{'causal' if causal else 'full'}"), HEADS)
                   for label, d in alts.items()},
                "sdpa-flash": sdpa(SDPBackend.FLASH_ATTENTION, causal),
                "sdpa-cudnn": sdpa(SDPBackend.CUDNN_ATTENTION, causal),
                "flex": flex(causal, length, length),
            }
            row = {"tokens": length, "causal": causal}
            for peer, fn in peers.items():
                try:
                    ms = time_ms(fn, sets)
                    row[peer] = {"ms": ms, "tflops": flops / ms / 1e9}
                except Exception as e:  # a peer missing on this stack
                    row[peer] = {"error": f"{type(e).__name__}: {e}"[:200]}
            prefill_rows.append(row)
            print("prefill", json.dumps(row), flush=True)
            del sets
            torch.cuda.empty_cache()
    results["prefill"] = prefill_rows

    # Copy bandwidth: read + write of a 1 GiB buffer.
    src = torch.empty(1 << 29, device="cuda", dtype=torch.bfloat16)
    dst = torch.empty_like(src)
    copy_ms = time_ms(lambda a, b: b.copy_(a), [(src, dst)], repeat=20)
    copy_bw = 2 * src.numel() * 2 / copy_ms / 1e6  # GB/s
    del src, dst
    decode_rows = []
    hkv = HEADS // 4
    split_policies = {}
    if decode_kernels:
        split_policies = {
            "ours-c512": ours_decode(decode_kernels, HEADS, kv_chunk=512),
            "ours-plan2": ours_decode(decode_kernels, HEADS,
                                      workgroups_per_sm=2),
            "ours-plan8": ours_decode(decode_kernels, HEADS,
                                      workgroups_per_sm=8)}
    for kv_len in (4096, 16384, 32768, 65536, 131072):
        sets = input_sets(1, kv_len, HEADS, hkv)
        bytes_moved = 2 * kv_len * hkv * DIM * 2 + 2 * HEADS * DIM * 2
        row = {"kv_len": kv_len}
        peers = {"ours-prefill-kernel": ours(kernels[(False, 4)], HEADS),
                 "sdpa-flash": sdpa(SDPBackend.FLASH_ATTENTION, False)}
        if decode_kernels:
            # The planner's choice, and other split policies beside it.
            peers = {"ours": ours_decode(decode_kernels, HEADS),
                     **{label: fn for label, fn in split_policies.items()},
                     **{label: ours_decode(ks, HEADS)
                        for label, ks in decode_alts.items()},
                     **peers}
        for peer, fn in peers.items():
            mode = "eager"
            try:
                if not args.no_graphs:
                    try:
                        ms = time_ms(replay, graphed(fn, sets), batch=10)
                        mode = "graph"
                    except Exception as e:  # not capturable: time it eagerly
                        print(f"decode {peer}: graph capture failed "
                              f"({type(e).__name__}: {e}); timing eagerly",
                              flush=True)
                        torch.cuda.synchronize()
                if mode == "eager":
                    ms = time_ms(fn, sets, batch=10)
                row[peer] = {"ms": ms, "gbps": bytes_moved / ms / 1e6,
                             "mode": mode}
            except Exception as e:
                row[peer] = {"error": f"{type(e).__name__}: {e}"[:200]}
        decode_rows.append(row)
        print("decode", json.dumps(row), flush=True)
    results["decode"] = decode_rows
    results["copy_gbps"] = copy_bw
    results["device"] = torch.cuda.get_device_name()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)

    def cell(row, peer, key):
        r = row.get(peer, {})
        return f"{r[key]:.1f}" if key in r else "n/a"

    print(f"\nPrefill, bf16, 32 heads, head dim 128 ({results['device']}), TFLOP/s "
          "and ours / peer:")
    print("| tokens | causal | ours | sdpa-flash | sdpa-cudnn | flex | "
          "ours/flash | ours/cudnn | ours/flex |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in prefill_rows:
        for label in alts:
            print(f"  ({label}: {cell(row, label, 'tflops')} TFLOP/s)")
        def ratio(peer):
            a, b = row["ours"].get("tflops"), row.get(peer, {}).get("tflops")
            return f"{a / b:.2f}" if a and b else "n/a"
        print(f"| {row['tokens']} | {row['causal']} | {cell(row, 'ours', 'tflops')} | "
              f"{cell(row, 'sdpa-flash', 'tflops')} | {cell(row, 'sdpa-cudnn', 'tflops')} | "
              f"{cell(row, 'flex', 'tflops')} | {ratio('sdpa-flash')} | "
              f"{ratio('sdpa-cudnn')} | {ratio('flex')} |")
    print(f"\nDecode, bf16, GQA 4 (32/8 heads), one request; copy bandwidth "
          f"{copy_bw:.0f} GB/s (read+write):")
    print("| kv_len | ours (decode pair) GB/s | ours / copy | "
          "ours (prefill kernel) GB/s | prefill kernel / copy | "
          "sdpa-flash GB/s |")
    print("|---|---|---|---|---|---|")
    for row in decode_rows:
        for label in [*split_policies, *decode_alts]:
            g = row.get(label, {}).get("gbps")
            print(f"  ({label}: {cell(row, label, 'gbps')} GB/s, "
                  f"{(g / copy_bw if g else float('nan')):.2f} of copy)")

        def frac(peer):
            g = row.get(peer, {}).get("gbps")
            return f"{g / copy_bw:.2f}" if g else "n/a"
        print(f"| {row['kv_len']} | {cell(row, 'ours', 'gbps')} | "
              f"{frac('ours')} | {cell(row, 'ours-prefill-kernel', 'gbps')} | "
              f"{frac('ours-prefill-kernel')} | "
              f"{cell(row, 'sdpa-flash', 'gbps')} |")


if __name__ == "__main__":
    main()
