#!/usr/bin/env python3
"""Fused RoPE (pos_encoding_mode="ROPE_LLAMA") against the plain kernel
(issue 9's goal: within 10% of its speed), timed in the same run:

- prefill: a ragged batch of 8 requests x 2048 tokens, causal, bf16, 32
  query / 8 KV heads, head dim 128 (q is 134 MB, far past L2): the plain
  kernel, the fused one, and RoPE applied first by our rope kernel
  (apply_rope_pos_ids out of place) followed by the plain kernel;
- decode: B = 64 requests of 4096 keys in a paged cache (page 16, shuffled
  pages): plain and fused (the fused kernel rotates every key it reads, as
  FlashInfer's does).

Each run() is captured in a CUDA graph (plan once), timed with CUDA events,
the median of batches of replays after warm-up (bench_paged.time_ms).
Outputs are checked against the separate path before timing.

  bench_fused_rope.py [--json OUT]   (FLASHINFER_MLIR_KERNELS: the cache)
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
from bench_paged import graphed, time_ms  # noqa: E402
from test_api_gpu import Paged  # noqa: E402

B, S, HQ, HKV, D = 8, 2048, 32, 8, 128
BF16 = torch.bfloat16
THETA = 5e5


def rel_err(a, b):
    return ((a.double() - b.double()).abs().max() /
            b.double().abs().max()).item()


def prefill_rows(g, ws):
    q = torch.randn((B * S, HQ, D), generator=g, device="cuda").to(BF16)
    k = torch.randn((B * S, HKV, D), generator=g, device="cuda").to(BF16)
    v = torch.randn((B * S, HKV, D), generator=g, device="cuda").to(BF16)
    indptr = torch.arange(0, (B + 1) * S, S, dtype=torch.int32,
                          device="cuda")
    pos = torch.arange(S, dtype=torch.int32, device="cuda").repeat(B)
    out = torch.empty_like(q)

    def wrapper(**variant):
        w = flashinfer.BatchPrefillWithRaggedKVCacheWrapper(ws)
        w.plan(indptr, indptr, HQ, HKV, D, causal=True, q_data_type=BF16,
               **variant)
        return w

    plain = wrapper()
    fused = wrapper(pos_encoding_mode="ROPE_LLAMA", rope_theta=THETA)
    qr, kr = torch.empty_like(q), torch.empty_like(k)

    def separate():
        # apply_rope_pos_ids_inplace on copies would time the copies too:
        # the out-of-place form writes qr, kr once.
        a, b = flashinfer.apply_rope_pos_ids(q, k, pos, rope_theta=THETA)
        qr.copy_(a)
        kr.copy_(b)
        return plain.run(qr, kr, v, out=out)

    def rotate_only():
        flashinfer.apply_rope_pos_ids_inplace(qr, kr, pos, rope_theta=THETA)

    want = separate().clone()
    got = fused.run(q, k, v).clone()
    err = rel_err(got, want)
    assert err < 2e-2, f"prefill: fused and separate RoPE differ ({err})"
    return [("prefill 8 x 2048 causal", {
        "plain": graphed(lambda: plain.run(q, k, v, out=out), "plain"),
        "fused RoPE": graphed(lambda: fused.run(q, k, v, out=out), "fused"),
        "rope kernel + plain": graphed(
            lambda: (rotate_only(), plain.run(qr, kr, v, out=out)),
            "separate"),
    }, err)]


def decode_rows(g, ws):
    lens = [4096] * 64
    c = Paged(lens, 16, HKV, D, BF16, "NHD", g, spare=0)
    q = torch.randn((len(lens), HQ, D), generator=g, device="cuda").to(BF16)
    out = torch.empty_like(q)

    def wrapper(**variant):
        w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(ws, "NHD")
        w.plan(c.indptr, c.indices, c.last, HQ, HKV, D, 16,
               q_data_type=BF16, **variant)
        return w

    plain = wrapper()
    fused = wrapper(pos_encoding_mode="ROPE_LLAMA", rope_theta=THETA)
    # The reference: the plain kernel over the cache rotated by our rope
    # kernel (keys at 0..4095, each query at 4095).
    n = len(lens)
    last = torch.full((n,), 4095, dtype=torch.int32, device="cuda")
    rq, _ = flashinfer.apply_rope_pos_ids(q, q[:, :HKV], last,
                                          rope_theta=THETA)
    positions = torch.arange(4096, dtype=torch.int32, device="cuda")
    dummy = torch.zeros((4096, HQ, D), dtype=BF16, device="cuda")
    rot = c.cache.clone()
    for b in range(n):
        _, kr = flashinfer.apply_rope_pos_ids(dummy, c.keys[b], positions,
                                              rope_theta=THETA)
        ids = c.indices[c.indptr[b]:c.indptr[b + 1]].long()
        rot[ids, 0] = kr.view(-1, 16, HKV, D)
    want = plain.run(rq, rot).clone()
    got = fused.run(q, c.cache).clone()
    err = rel_err(got, want)
    assert err < 2e-2, f"decode: fused and separate RoPE differ ({err})"
    return [("decode B=64 x 4096 keys", {
        "plain": graphed(lambda: plain.run(q, c.cache, out=out), "plain"),
        "fused RoPE": graphed(lambda: fused.run(q, c.cache, out=out),
                              "fused"),
    }, err)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    args = ap.parse_args()
    g = torch.Generator(device="cuda").manual_seed(0)
    ws = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")
    results = []
    for name, fns, err in prefill_rows(g, ws) + decode_rows(g, ws):
        times = {k: time_ms(f) for k, f in fns.items()}
        results.append(dict(row=name, ms=times, max_rel=err))
    print("| bf16 32/8 d128, from CUDA graphs | plain (ms) | fused RoPE (ms) "
          "| fused vs plain (speed) | rope kernel + plain (ms) | fused vs "
          "separate (speed) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        t = r["ms"]
        sep = t.get("rope kernel + plain")
        print(f"| {r['row']} | {t['plain']:.3f} | {t['fused RoPE']:.3f} | "
              f"{t['plain'] / t['fused RoPE']:.3f} | "
              f"{'%.3f' % sep if sep else '-'} | "
              f"{'%.2f' % (sep / t['fused RoPE']) if sep else '-'} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
