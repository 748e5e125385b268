"""The kernels test_fp8_kv_gpu.py runs: fp8 (f8E4M3FN) K/V caches with bf16
and f16 queries through single decode and prefill, paged batch decode
(both layouts) and paged and ragged batch prefill, at 32/8 x 128 (bf16) and
4/4 x 64 (f16), single decode with gfx942's FNUZ encoding; the same
without fp8 for the benchmark's bf16 rows."""

from flashinfer_mlir.jit import aot

SPECS = ([s.replace(dtype_kv="f8E4M3FN") for s in
          aot.attention_specs(("bf16",), (128,), ((32, 8),))] +
         [s.replace(dtype_kv="f8E4M3FN") for s in
          aot.attention_specs(("f16",), (64,), ((4, 4),))] +
         # gfx942's FNUZ encoding (test_every_code_exact).
         [s.replace(dtype_kv="f8E4M3FNUZ") for s in
          aot.attention_specs(("f16",), (64,), ((4, 4),),
                              kinds=("single_decode",))])
DEVICE_SPECS = SPECS + aot.attention_specs(("bf16",), (128,), ((32, 8),),
                                           kinds=("batch_decode",))
