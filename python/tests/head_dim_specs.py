"""Head dims beyond the ahead-of-time set's 64, 128 and 256: every other
multiple of 16 up to 256 for decode and prefill, single and batched, and 512
for decode (bf16, 8 query heads over 2 KV heads). test_head_dims_gpu.py runs
them; scripts/device/build-head-dim-cache.sh builds their kernels."""

from flashinfer_mlir.jit.spec import KernelSpec

DIMS = [d for d in range(16, 257, 16) if d not in (64, 128, 256)]
DECODE_ONLY_DIMS = [512]
HQ, HKV = 8, 2


def specs():
    out = []
    for d in DIMS + DECODE_ONLY_DIMS:
        base = dict(dtype="bf16", head_dim=d, num_qo_heads=HQ,
                    num_kv_heads=HKV, launch_sm_scale=True)
        out.append(KernelSpec("single_decode", **base))
        out.append(KernelSpec("batch_decode", kv_layout="nhd", **base))
        if d in DIMS:
            out.append(KernelSpec("single_prefill", causal=True, **base))
            out.append(KernelSpec("batch_prefill_ragged", causal=True,
                                  **base))
    return out


SPECS = specs()
