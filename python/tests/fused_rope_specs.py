"""The kernels test_fused_rope_gpu.py runs: pos_encoding_mode='ROPE_LLAMA'
(q and k rotated inside the attention kernels, rope_scale and rope_theta at
launch) for every op form at bf16 32/8 x 128, f16 4/4 x 64, and single
requests at f16 4/4 x 256."""

from flashinfer_mlir.jit import aot

SPECS = (aot.attention_specs(("bf16",), (128,), ((32, 8),),
                             pos_encoding="rope_llama") +
         aot.attention_specs(("f16",), (64,), ((4, 4),),
                             pos_encoding="rope_llama") +
         aot.attention_specs(("f16",), (256,), ((4, 4),),
                             kinds=("single_decode", "single_prefill"),
                             pos_encoding="rope_llama"))

# What the device run carries: the fused kernels, the same without RoPE (the
# tests' "differs" checks and the benchmark's plain rows) and the rope kernel
# of the benchmark's separate path.
DEVICE_SPECS = (SPECS + [s.replace(pos_encoding="none") for s in SPECS] +
                aot.rope_specs(("bf16",), (128,), ((32, 8),))[:1])
