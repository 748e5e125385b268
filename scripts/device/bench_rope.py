#!/usr/bin/env python3
"""RoPE on the GPU: our attn.rope kernels (flashinfer_mlir's
apply_rope_pos_ids_inplace and apply_rope_with_cos_sin_cache_inplace)
against PyTorch (vLLM's reference rotation, eager and torch.compile'd) and
FlashInfer's own kernels when its wheel is importable, same process, same
inputs: bf16 q [nnz, 32, 128] and k [nnz, 8, 128] (Llama 3 8B), in place.
A device-to-device copy of q and k (each read and written once, as RoPE
must) is the bandwidth ceiling. Timed with CUDA events: median of 50
samples after warm-up, rotating among input sets larger than L2. Outputs
are compared with a float64 reference first.

  FLASHINFER_MLIR_KERNELS=... bench_rope.py [--json FILE]
"""
import argparse
import json
import math
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
import flashinfer_mlir  # noqa: E402

HQ, HK, D = 32, 8, 128
THETA = 5e5
L2_BYTES = 64 << 20


def time_ms(fn, sets, reps=50, warmup=10):
    for i in range(warmup):
        fn(*sets[i % len(sets)])
    torch.cuda.synchronize()
    samples = []
    for i in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        args = sets[i % len(sets)]
        start.record()
        fn(*args)
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    return statistics.median(samples)


def graphed(fn, sets):
    """fn captured in one CUDA graph per input set: (replay, sets) whose
    timing leaves out the Python launch path."""
    graphs = []
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for args in sets:
            fn(*args)  # warm-up outside the capture
    torch.cuda.current_stream().wait_stream(stream)
    for args in sets:
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            fn(*args)
        graphs.append((g,))
    return (lambda g: g.replay()), graphs


def python_cost(fn, args, calls=200):
    """Host time per eager call (the GPU work being tiny) and the profile's
    top entries."""
    import cProfile
    import io
    import pstats
    import time
    for _ in range(10):
        fn(*args)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        fn(*args)
    host_us = (time.perf_counter() - start) / calls * 1e6
    torch.cuda.synchronize()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn(*args)
    prof.disable()
    torch.cuda.synchronize()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    return host_us, out.getvalue()


def cos_sin_cache(max_pos, rotary_dim=D, theta=THETA):
    inv = theta ** (-torch.arange(0, rotary_dim, 2, device="cuda",
                                  dtype=torch.float64) / rotary_dim)
    angles = torch.arange(max_pos, device="cuda",
                          dtype=torch.float64)[:, None] * inv
    return torch.cat([angles.cos(), angles.sin()], -1).float()


def torch_rope(pos, q, k, cache):
    """vLLM's native rotation (rotate-half, cos/sin gathered from the
    cache), written back in place."""
    cos, sin = cache[pos].chunk(2, dim=-1)
    cos, sin = cos[:, None, :], sin[:, None, :]
    for x in (q, k):
        x1, x2 = x.float().chunk(2, dim=-1)
        x.copy_(torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1))


def reference(x, pos, cache):
    cos, sin = cache[pos].double().chunk(2, dim=-1)
    cos, sin = cos[:, None, :], sin[:, None, :]
    x1, x2 = x.double().chunk(2, dim=-1)
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


def load_flashinfer():
    try:
        import flashinfer
        return flashinfer, None
    except Exception as e:  # noqa: BLE001 - report any import failure
        return None, f"{type(e).__name__}: {e}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.manual_seed(0)
    fi, fi_error = load_flashinfer()
    if fi is None:
        print(f"FlashInfer not importable ({fi_error}); its rows are skipped")
    cache = cos_sin_cache(65536)
    compiled = torch.compile(torch_rope)

    contenders = {
        "ours pos_ids": lambda pos, q, k: flashinfer_mlir.
        apply_rope_pos_ids_inplace(q, k, pos, rope_theta=THETA),
        "ours cos_sin_cache": lambda pos, q, k: flashinfer_mlir.
        apply_rope_with_cos_sin_cache_inplace(pos, q, k, D, cache),
        "torch eager": lambda pos, q, k: torch_rope(pos, q, k, cache),
        "torch.compile": lambda pos, q, k: compiled(pos, q, k, cache),
    }
    if fi is not None:
        contenders["FlashInfer pos_ids"] = lambda pos, q, k: fi.\
            apply_rope_pos_ids_inplace(q, k, pos, rope_theta=THETA)
        contenders["FlashInfer cos_sin_cache"] = lambda pos, q, k: fi.\
            apply_rope_with_cos_sin_cache_inplace(
                pos, q.view(q.shape[0], -1), k.view(k.shape[0], -1), D,
                cache, True)

    rows, failures = [], 0
    for nnz in (64, 4096, 32768):
        moved = 2 * nnz * (HQ + HK) * D * 2  # q and k read + written
        nsets = max(1, min(8, math.ceil(2 * L2_BYTES / (moved / 2))))
        sets = []
        for _ in range(nsets):
            pos = torch.randint(0, 65536, (nnz,), device="cuda")
            sets.append((pos, torch.randn(nnz, HQ, D, device="cuda",
                                          dtype=torch.bfloat16),
                         torch.randn(nnz, HK, D, device="cuda",
                                     dtype=torch.bfloat16)))
        # Correctness on fresh copies before timing.
        pos, q0, k0 = sets[0]
        ref_q = reference(q0, pos, cache)
        errs = {}
        for name, fn in contenders.items():
            q, k = q0.clone(), k0.clone()
            try:
                fn(pos, q, k)
            except Exception as e:  # noqa: BLE001 - a contender may fail
                errs[name] = f"error: {type(e).__name__}: {e}"[:120]
                continue
            err = ((q.double() - ref_q).norm() / ref_q.norm()).item()
            errs[name] = err
            if "ours" in name and not err < 1e-2:
                failures += 1
                print(f"FAIL {name} nnz={nnz}: rel err {err:.2e}")
        copy_ms = time_ms(lambda pos, q, k: (q.clone(), k.clone()), sets)
        # Ours from CUDA graphs: the kernels without the Python launch path.
        for name in ("ours pos_ids", "FlashInfer pos_ids"):
            if name not in contenders or isinstance(errs.get(name), str):
                continue
            try:
                replay, graphs = graphed(contenders[name], sets)
            except Exception as e:  # noqa: BLE001 - capture may fail
                print(f"{name} nnz={nnz}: no graph ({type(e).__name__}: {e})")
                continue
            ms = time_ms(replay, graphs)
            rows.append(dict(nnz=nnz, name=name + " (graph)", ms=ms,
                             err=errs[name], gbps=moved / ms / 1e6,
                             of_copy=copy_ms / ms))
        for name, fn in contenders.items():
            if isinstance(errs.get(name), str):
                print(f"{name} nnz={nnz}: {errs[name]}")
                continue
            ms = time_ms(fn, sets)
            rows.append(dict(nnz=nnz, name=name, ms=ms, err=errs[name],
                             gbps=moved / ms / 1e6,
                             of_copy=copy_ms / ms))
        rows.append(dict(nnz=nnz, name="copy (ceiling)", ms=copy_ms, err=0.0,
                         gbps=moved / copy_ms / 1e6, of_copy=1.0))

    pos, q, k = (torch.randint(0, 65536, (64,), device="cuda"),
                 torch.randn(64, HQ, D, device="cuda", dtype=torch.bfloat16),
                 torch.randn(64, HK, D, device="cuda", dtype=torch.bfloat16))
    host_us, profile = python_cost(contenders["ours pos_ids"], (pos, q, k))
    print(f"ours pos_ids, eager, nnz=64: {host_us:.1f} us of host time a "
          f"call; profile of 200 calls:\n{profile}")
    if "FlashInfer pos_ids" in contenders:
        fi_us, _ = python_cost(contenders["FlashInfer pos_ids"], (pos, q, k))
        print(f"FlashInfer pos_ids, eager, nnz=64: {fi_us:.1f} us a call")

    print("\n| nnz | contender | ms | GB/s (q, k read + written) | "
          "copy time / its time | rel err vs float64 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['nnz']} | {r['name']} | {r['ms']:.4f} | {r['gbps']:.0f} "
              f"| {r['of_copy']:.2f} | {r['err']:.1e} |")
    by = {(r["nnz"], r["name"]): r["ms"] for r in rows}
    print("\n| nnz | ours pos_ids vs torch.compile | vs FlashInfer pos_ids | "
          "ours cache vs FlashInfer cache | graphs: ours vs FlashInfer |")
    print("|---|---|---|---|---|")
    for nnz in (64, 4096, 32768):
        ours = by.get((nnz, "ours pos_ids"))
        oc = by.get((nnz, "ours cos_sin_cache"))

        def ratio(a, b):
            return f"{b / a:.2f}" if a and b else "-"
        print(f"| {nnz} | {ratio(ours, by.get((nnz, 'torch.compile')))} | "
              f"{ratio(ours, by.get((nnz, 'FlashInfer pos_ids')))} | "
              f"{ratio(oc, by.get((nnz, 'FlashInfer cos_sin_cache')))} | "
              f"{ratio(by.get((nnz, 'ours pos_ids (graph)')), by.get((nnz, 'FlashInfer pos_ids (graph)')))} |")
    print("(ratios: their time / ours; above 1, ours is faster)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, flashinfer_error=fi_error), f, indent=1)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
