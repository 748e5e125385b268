"""The ahead-of-time kernel set: what `python -m flashinfer_mlir.jit build`
compiles into the package's cache.

Attention kernels are specialised on their head counts and variant values
(sm_scale, window, soft-cap are compile-time constants today), so the set
covers the common serving shapes with the default variant values; anything
else is compiled on first use where flashinfer-opt is installed.
"""

import itertools
from typing import List

from .spec import KernelSpec

DTYPES = ("f16", "bf16")
HEAD_DIMS = (64, 128, 256)
# (num_qo_heads, num_kv_heads): MHA, GQA 4 and 8 at 32 query heads (Llama
# 2/3 8B, FlashInfer's tests), small MHA, 70B-class 64/8.
HEADS = ((32, 32), (32, 8), (32, 4), (4, 4), (8, 8), (64, 8))
LAYOUTS = ("nhd", "hnd")


def attention_specs(dtypes=DTYPES, head_dims=HEAD_DIMS,
                    heads=HEADS) -> List[KernelSpec]:
    specs = []
    for t, d, (hq, hkv) in itertools.product(dtypes, head_dims, heads):
        base = dict(dtype=t, head_dim=d, num_qo_heads=hq, num_kv_heads=hkv)
        specs.append(KernelSpec("single_decode", **base))
        for causal in (False, True):
            specs.append(KernelSpec("single_prefill", causal=causal, **base))
            specs.append(KernelSpec("batch_prefill_ragged", causal=causal,
                                    **base))
        for layout in LAYOUTS:
            specs.append(KernelSpec("batch_decode", kv_layout=layout, **base))
            for causal in (False, True):
                specs.append(KernelSpec("batch_prefill", kv_layout=layout,
                                        causal=causal, **base))
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


def aot_specs() -> List[KernelSpec]:
    return attention_specs() + state_specs()


# A small set for tests: one shape of every kind.
def test_specs() -> List[KernelSpec]:
    return (attention_specs(("bf16",), (128,), ((32, 8),)) +
            state_specs(("bf16",), (128,), ((32, 8),)))


SETS = {"aot": aot_specs, "test": test_specs}
