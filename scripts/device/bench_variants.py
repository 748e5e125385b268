#!/usr/bin/env python3
"""Variants against the plain kernel and FlexAttention (issue 9's
benchmark): a ragged batch prefill of 8 requests x 2048 tokens, causal, f16,
32 query / 8 KV heads, head dim 128 (inputs far larger than L2), plain, with
ALiBi (FlashInfer's pos_encoding_mode="ALIBI"), with a relative-position
bias (a user score_mod), and with a document mask (documents of 512 tokens,
a user mask_mod); FlexAttention (torch.compile'd flex_attention) with the
same score_mod and a causal (and document) block_mask, timed in the same
run; and one request of 8192 tokens with a custom mask (FlashInfer's
custom_mask) against FlexAttention's mask_mod reading the same mask.
Outputs are checked against each other before timing. CUDA events,
medians after warm-up (bench_paged.time_ms).

  bench_variants.py [--json OUT]   (FLASHINFER_MLIR_KERNELS: the cache)
"""

import argparse
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python", "tests"))
sys.path.insert(0, HERE)
import flashinfer_mlir as flashinfer  # noqa: E402
from bench_paged import time_ms  # noqa: E402
from flashinfer_mlir._api import _module  # noqa: E402
from flashinfer_mlir.prefill import BatchPrefill  # noqa: E402
from variant_specs import BENCH  # noqa: E402

B, S, HQ, HKV, D = 8, 2048, 32, 8, 128
F16 = torch.float16
SCALE = 1 / math.sqrt(D)


def slopes(n):
    m = 2 ** int(math.floor(math.log2(n)))
    s = [2 ** (-8 * (i + 1) / m) for i in range(m)]
    s += [2 ** (-4 * (2 * i + 1) / m) for i in range(n - m)]
    return torch.tensor(s, device="cuda")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    args = ap.parse_args()
    from torch.nn.attention.flex_attention import (create_block_mask,
                                                   flex_attention)
    flex = torch.compile(flex_attention, dynamic=False)
    g = torch.Generator(device="cuda").manual_seed(0)
    q = torch.randn((B * S, HQ, D), generator=g, device="cuda").to(F16)
    k = torch.randn((B * S, HKV, D), generator=g, device="cuda").to(F16)
    v = torch.randn((B * S, HKV, D), generator=g, device="cuda").to(F16)
    indptr = torch.arange(0, (B + 1) * S, S, dtype=torch.int32,
                          device="cuda")
    ws = torch.empty(128 << 20, dtype=torch.uint8, device="cuda")
    out = torch.empty_like(q)

    def wrapper(**variant):
        w = flashinfer.BatchPrefillWithRaggedKVCacheWrapper(ws)
        w.plan(indptr, indptr, HQ, HKV, D, causal=True, q_data_type=F16,
               **variant)
        return lambda: w.run(q, k, v, out=out)

    def user(spec):
        impl = BatchPrefill(_module(spec, "cuda"), max_batch_size=B,
                            max_num_tokens=B * S, device=torch.device("cuda"))
        impl.plan(indptr, indptr)
        return lambda: impl.run(q, (k, v), out=out,
                                variant_values=dict(sm_scale=SCALE))

    # FlexAttention's layout: [B, H, S, D] views of the same data.
    fq = q.view(B, S, HQ, D).transpose(1, 2)
    fk = k.view(B, S, HKV, D).transpose(1, 2)
    fv = v.view(B, S, HKV, D).transpose(1, 2)
    alibi = slopes(HQ)

    def causal(b, h, qi, ki):
        return ki <= qi

    def document(b, h, qi, ki):
        return (ki <= qi) & (qi // 512 == ki // 512)

    def alibi_mod(score, b, h, qi, ki):
        return score + alibi[h] * (ki - qi)

    def relative_mod(score, b, h, qi, ki):
        return score + 0.05 * (ki - qi)

    causal_mask = create_block_mask(causal, B, None, S, S)
    document_mask = create_block_mask(document, B, None, S, S)

    def flexed(score_mod, block_mask):
        return lambda: flex(fq, fk, fv, score_mod=score_mod,
                            block_mask=block_mask, enable_gqa=True)

    rows = [
        ("plain causal", wrapper(), flexed(None, causal_mask)),
        ("ALiBi", wrapper(pos_encoding_mode="ALIBI"),
         flexed(alibi_mod, causal_mask)),
        ("relative-position bias (score_mod)", user(BENCH["relative_bias"]),
         flexed(relative_mod, causal_mask)),
        ("document mask, 512 (mask_mod)", user(BENCH["document_mask"]),
         flexed(None, document_mask)),
    ]
    # One request's custom mask (causal with 10% of the keys hidden at
    # random), a single prefill of 8192 tokens, against our plain causal
    # single prefill and FlexAttention's mask_mod reading the same mask.
    L = B * S // 2
    mask = (torch.rand((L, L), generator=g, device="cuda") < 0.9).tril()
    sq, sk, sv = q[:L], k[:L], v[:L]
    # Packed once (FlashInfer's packbits, little-endian), as a server would.
    weights = 2 ** torch.arange(8, device="cuda")
    packed = (mask.reshape(-1, 8).long() * weights).sum(-1).to(torch.uint8)
    single_out = torch.empty_like(sq)

    def single(**kw):
        def run():
            single_out.copy_(flashinfer.single_prefill_with_kv_cache(
                sq, sk, sv, **kw))
            return single_out
        return run

    def custom(b, h, qi, ki):
        return mask[qi, ki]

    def flexed_single(block_mask):
        fq1, fk1, fv1 = (t.unsqueeze(0).transpose(1, 2) for t in (sq, sk, sv))
        return lambda: flex(fq1, fk1, fv1, block_mask=block_mask,
                            enable_gqa=True)

    single_rows = [
        ("single 8192, plain causal", single(causal=True),
         flexed_single(create_block_mask(causal, 1, None, L, L))),
        ("single 8192, custom mask", single(packed_custom_mask=packed),
         flexed_single(create_block_mask(custom, 1, None, L, L))),
    ]
    flops = 4 * B * HQ * D * S * (S + 1) / 2  # causal
    results, plain = [], None
    for name, ours, theirs in rows + single_rows:
        if name.startswith("single") and "causal" in name:
            plain = None
            flops = 4 * HQ * D * L * (L + 1) / 2
        got = ours()
        mine = (got[0] if isinstance(got, tuple) else got).clone()
        ref = theirs().transpose(1, 2).reshape(mine.shape)
        err = ((mine.double() - ref.double()).abs().max() /
               ref.double().abs().max()).item()
        assert err < 2e-2, f"{name}: ours and FlexAttention differ ({err})"
        t_ours, t_flex = time_ms(ours), time_ms(theirs)
        plain = plain or t_ours
        results.append(dict(row=name, ours_ms=t_ours, flex_ms=t_flex,
                            vs_plain=plain / t_ours,
                            flex_over_ours=t_flex / t_ours,
                            ours_tflops=flops / t_ours / 1e9, max_rel=err))
    print("| prefill, f16 32/8 d128 (8 x 2048 ragged unless single) | ours (ms) | "
          "ours TFLOP/s* | speed vs our plain | FlexAttention (ms) | "
          "FlexAttention / ours |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['row']} | {r['ours_ms']:.3f} | {r['ours_tflops']:.0f} | "
              f"{r['vs_plain']:.3f} | {r['flex_ms']:.3f} | "
              f"{r['flex_over_ours']:.2f} |")
    print("* causal FLOPs of the whole batch (the document mask does less "
          "work: FlexAttention skips its empty blocks, our kernel tests "
          "every tile)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
