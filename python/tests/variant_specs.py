"""User-defined score and mask functions (FlexAttention-style, written as
attn regions) that the GPU tests compile into kernels, with torch versions
for the references. The device script builds SPECS into the kernel cache
beside the AOT set (the GPU machine has no compiler)."""

from flashinfer_mlir.jit.spec import KernelSpec

# Each: (score_mod body, mask_mod body, torch score_mod, torch mask_mod).
# The torch functions take (s [H, Q, K] f64, h [H, 1, 1], q [1, Q, 1],
# kv [1, 1, K]) index tensors of positions.
RELATIVE_BIAS = """
    %d = arith.subi %kv_idx, %q_idx : index
    %di = arith.index_cast %d : index to i32
    %df = arith.sitofp %di : i32 to f32
    %c = arith.constant 0.05 : f32
    %bias = arith.mulf %df, %c : f32
    %r = arith.addf %score, %bias : f32
    attn.yield %r : f32
"""
# Documents of 37 tokens: a query sees its own document's keys.
DOCUMENT_MASK = """
    %c37 = arith.constant 37 : index
    %dq = arith.divui %q_idx, %c37 : index
    %dk = arith.divui %kv_idx, %c37 : index
    %same = arith.cmpi eq, %dq, %dk : index
    attn.yield %same : i1
"""
# Prefix-LM: the first 48 tokens are seen by all, the rest causally.
PREFIX_LM_MASK = """
    %c48 = arith.constant 48 : index
    %prefix = arith.cmpi slt, %kv_idx, %c48 : index
    %past = arith.cmpi sle, %kv_idx, %q_idx : index
    %seen = arith.ori %prefix, %past : i1
    attn.yield %seen : i1
"""
# A tanh soft cap of 20 written as a region (after ALiBi's bias).
TANH_CAP = """
    %c = arith.constant 20.0 : f32
    %x = arith.divf %score, %c : f32
    %t = math.tanh %x : f32
    %r = arith.mulf %t, %c : f32
    attn.yield %r : f32
"""
# A per-head bias (0.25 (h mod 4)): decode packs a KV head's query heads
# into one tile's rows, each row its own head.
HEAD_BIAS = """
    %c4 = arith.constant 4 : index
    %m = arith.remui %q_head, %c4 : index
    %mi = arith.index_cast %m : index to i32
    %mf = arith.sitofp %mi : i32 to f32
    %c = arith.constant 0.25 : f32
    %bias = arith.mulf %mf, %c : f32
    %r = arith.addf %score, %bias : f32
    attn.yield %r : f32
"""


def torch_relative_bias(s, h, q, kv):
    return s + 0.05 * (kv - q)


def torch_document_mask(h, q, kv):
    return q // 37 == kv // 37


def torch_prefix_lm_mask(h, q, kv):
    return (kv < 48) | (kv <= q)


def torch_tanh_cap(s, h, q, kv):
    import torch
    return 20.0 * torch.tanh(s / 20.0)


def torch_head_bias(s, h, q, kv):
    return s + 0.25 * (h % 4)


_BASE = dict(dtype="f16", head_dim=128, num_qo_heads=32, num_kv_heads=8,
             launch_sm_scale=True)

# name -> (spec, torch score_mod, torch mask_mod, causal)
CASES = {
    "relative_bias": (KernelSpec("batch_prefill_ragged", causal=True,
                                 score_mod=RELATIVE_BIAS, **_BASE),
                      torch_relative_bias, None, True),
    "document_mask": (KernelSpec("batch_prefill_ragged", causal=True,
                                 mask_mod=DOCUMENT_MASK, **_BASE),
                      None, torch_document_mask, True),
    "prefix_lm": (KernelSpec("batch_prefill_ragged", mask_mod=PREFIX_LM_MASK,
                             **_BASE),
                  None, torch_prefix_lm_mask, False),
    "tanh_cap_alibi": (KernelSpec("batch_prefill_ragged", causal=True,
                                  pos_encoding="alibi", score_mod=TANH_CAP,
                                  **_BASE),
                       torch_tanh_cap, None, True),
    "decode_head_bias_document": (
        KernelSpec("batch_decode", score_mod=HEAD_BIAS,
                   mask_mod=DOCUMENT_MASK, **_BASE),
        torch_head_bias, torch_document_mask, False),
}

# The benchmark's document mask (scripts/device/bench_variants.py):
# documents of 512 tokens.
DOCUMENT_MASK_512 = DOCUMENT_MASK.replace("37", "512")
BENCH = {
    "relative_bias": CASES["relative_bias"][0],
    "document_mask": KernelSpec("batch_prefill_ragged", causal=True,
                                mask_mod=DOCUMENT_MASK_512, **_BASE),
}

SPECS = list({s.name: s for s in [spec for spec, *_ in CASES.values()] +
              list(BENCH.values())}.values())
