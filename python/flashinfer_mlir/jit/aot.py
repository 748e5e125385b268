"""The ahead-of-time kernel set: what `python -m flashinfer_mlir.jit build`
compiles into the package's cache.

Attention kernels take sm_scale, and the soft cap and window when they are
switched on, at launch (FlashInfer's use_logits_soft_cap /
use_sliding_window switches), but are specialised on dtypes, head dims and
head counts: the set covers the common serving shapes, the switches at the
shapes FlashInfer's own tests use; anything else is compiled on first use
where flashinfer-opt is installed.
"""

import itertools
from typing import List

from .spec import KernelSpec

DTYPES = ("f16", "bf16")
HEAD_DIMS = (64, 128, 256)
# (num_qo_heads, num_kv_heads): MHA, GQA 4 and 8 at 32 query heads (Llama
# 2/3 8B), the small shapes of FlashInfer's tests (4/4, 8/8, 8/4), 70B-class
# 64/8.
HEADS = ((32, 32), (32, 8), (32, 4), (4, 4), (8, 8), (8, 4), (64, 8))
LAYOUTS = ("nhd", "hnd")
# The variant switches: where each is compiled (head dims x head counts).
SOFT_CAP_AT = dict(head_dims=(128, 256), heads=((32, 8), (32, 4), (4, 4)))
WINDOW_AT = dict(head_dims=(128,), heads=((32, 8), (32, 4), (4, 4)))
# ALiBi (BLOOM and MPT: MHA at head dim 128), and attention sinks at
# gpt-oss's shape (64 query heads over 8 KV heads, head dim 64), alone and
# with the window of its sliding layers, and at 32/8 x 128.
ALIBI_AT = dict(head_dims=(128,), heads=((32, 32), (32, 8)))
SINKS_AT = (dict(head_dims=(64,), heads=((64, 8),)),
            dict(head_dims=(128,), heads=((32, 8),)))
# Fused RoPE (pos_encoding_mode="ROPE_LLAMA", rope_scale / rope_theta at
# launch) at FlashInfer's tests' head dim 128 and the Llama shapes, and 64
# at 4/4; fp8 (e4m3) KV caches for the serving paths (decode, paged
# prefill, single requests) at the Llama shapes.
ROPE_AT = (dict(head_dims=(128,), heads=((32, 8), (32, 32), (4, 4))),
           dict(head_dims=(64,), heads=((4, 4),)))
FP8_AT = dict(head_dims=(128,), heads=((32, 8), (32, 32), (64, 8), (4, 4)))
FP8_KINDS = ("single_decode", "single_prefill", "batch_decode",
             "batch_prefill")
_BATCH_KINDS = ("batch_decode", "batch_prefill", "batch_prefill_ragged")


def attention_specs(dtypes=DTYPES, head_dims=HEAD_DIMS, heads=HEADS,
                    kinds=None, **switches) -> List[KernelSpec]:
    """Every op form (or those of `kinds`) and layout, causal and not, with
    sm_scale at launch (and the given switches: launch_soft_cap,
    launch_window, pos_encoding, sinks)."""
    specs = []

    def add(kind, **fields):
        if kinds is None or kind in kinds:
            specs.append(KernelSpec(kind, **fields))
    for t, d, (hq, hkv) in itertools.product(dtypes, head_dims, heads):
        base = dict(dtype=t, head_dim=d, num_qo_heads=hq, num_kv_heads=hkv,
                    launch_sm_scale=True, **switches)
        add("single_decode", **base)
        for causal in (False, True):
            add("single_prefill", causal=causal, **base)
            add("batch_prefill_ragged", causal=causal, **base)
        for layout in LAYOUTS:
            add("batch_decode", kv_layout=layout, **base)
            for causal in (False, True):
                add("batch_prefill", kv_layout=layout, causal=causal, **base)
    return specs


def state_specs(dtypes=DTYPES, head_dims=HEAD_DIMS,
                heads=HEADS) -> List[KernelSpec]:
    """merge_state / merge_states at every query head count, append at
    every KV head count."""
    specs = []
    qo_heads = sorted({hq for hq, _ in heads})
    kv_heads = sorted({hkv for _, hkv in heads})
    for t, d in itertools.product(dtypes, head_dims):
        for h in qo_heads:
            specs.append(KernelSpec("merge", t, d, h, num_states=2))
            specs.append(KernelSpec("merge_segmented", t, d, h))
        for h, layout in itertools.product(kv_heads, LAYOUTS):
            specs.append(KernelSpec("append", t, d, num_kv_heads=h,
                                    kv_layout=layout))
    return specs


def rope_specs(dtypes=DTYPES, head_dims=HEAD_DIMS,
               heads=HEADS) -> List[KernelSpec]:
    """attn.rope of q and k (rope_scale and rope_theta at launch): every
    position source (pos_ids, indptr + offsets) and pair layout at every
    shape, rotating the whole head or, at head dim 128, its first half
    (partial rotary embeddings); Llama 3.1's scaling (its published
    factors) at head dim 128; the cos/sin cache (vLLM's) alike."""
    specs = []
    for t, d, (hq, hk) in itertools.product(dtypes, head_dims, heads):
        for rotary_dim in (0, 64) if d == 128 else (0,):
            base = dict(dtype=t, head_dim=d, num_qo_heads=hq,
                        num_kv_heads=hk, rotary_dim=rotary_dim)
            for positions, interleave in itertools.product(
                    ("pos_ids", "indptr"), (False, True)):
                specs.append(KernelSpec("rope", rope_positions=positions,
                                        interleave=interleave, **base))
                if d == 128 and not interleave:
                    specs.append(KernelSpec(
                        "rope", rope_positions=positions,
                        low_freq_factor=1.0, high_freq_factor=4.0,
                        old_context_len=8192.0, **base))
            # vLLM's path: int64 positions, read as they are.
            for interleave, pos_dtype in itertools.product(
                    (False, True), ("i32", "i64")):
                specs.append(KernelSpec("rope", interleave=interleave,
                                        cos_sin_cache=True,
                                        rope_pos_dtype=pos_dtype, **base))
    return specs


def split_head_dim_specs() -> List[KernelSpec]:
    """DeepSeek's prefill (head dims 192 for q/k, 128 for v/o), bf16, 16
    heads (128 over tensor parallelism of 8), causal or not, single and
    ragged."""
    return [KernelSpec(kind, "bf16", 192, 16, 16, head_dim_vo=128,
                       causal=causal, launch_sm_scale=True)
            for kind in ("single_prefill", "batch_prefill_ragged")
            for causal in (False, True)]


def aot_specs() -> List[KernelSpec]:
    return (attention_specs() + split_head_dim_specs() +
            attention_specs(DTYPES, launch_soft_cap=True, **SOFT_CAP_AT) +
            attention_specs(DTYPES, launch_window=True, **WINDOW_AT) +
            # Both switches at once (Gemma 2's soft-capped sliding layers).
            attention_specs(DTYPES, launch_soft_cap=True, launch_window=True,
                            **WINDOW_AT) +
            attention_specs(DTYPES, pos_encoding="alibi", **ALIBI_AT) +
            [spec for at in SINKS_AT for window in (False, True)
             for spec in attention_specs(DTYPES, kinds=_BATCH_KINDS,
                                         sinks=True, launch_window=window,
                                         **at)] +
            # Custom masks (speculative decoding's trees): one request's,
            # and a batch's (paged and ragged) at 32/8.
            [KernelSpec("single_prefill", t, 128, hq, hkv, custom_mask=True,
                        launch_sm_scale=True)
             for t in DTYPES for hq, hkv in ((32, 8), (32, 32))] +
            # (A mask replaces the causal one, as in FlashInfer.)
            [s for s in attention_specs(
                DTYPES, (128,), ((32, 8),),
                kinds=("batch_prefill", "batch_prefill_ragged"),
                custom_mask=True) if not s.causal] +
            # gpt-oss's sliding layers without sinks (d128 32/8 is above).
            attention_specs(DTYPES, kinds=_BATCH_KINDS, launch_window=True,
                            **SINKS_AT[0]) +
            [spec for at in ROPE_AT for spec in attention_specs(
                DTYPES, pos_encoding="rope_llama", **at)] +
            [spec.replace(dtype_kv="f8E4M3FN") for spec in attention_specs(
                DTYPES, kinds=FP8_KINDS, **FP8_AT)] +
            state_specs() + rope_specs())


# A small set for tests: one shape of every kind.
def test_specs() -> List[KernelSpec]:
    return (attention_specs(("bf16",), (128,), ((32, 8),)) +
            attention_specs(("bf16",), (128,), ((32, 8),),
                            launch_soft_cap=True, launch_window=True)[:2] +
            state_specs(("bf16",), (128,), ((32, 8),)) +
            rope_specs(("bf16",), (128,), ((32, 8),)))


SETS = {"aot": aot_specs, "test": test_specs, "rope": rope_specs}
