// Pass options and chip-dependent limits of convert-attn-to-gpu.

// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=sm_75" 2>&1 | FileCheck %s --check-prefix=CHIP
// CHIP: error: convert-attn-to-gpu: unsupported chip 'sm_75' (supported: sm_80, sm_86, sm_89, sm_90, sm_90a, gfx940, gfx941, gfx942, gfx950)

// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=gfx90a" 2>&1 | FileCheck %s --check-prefix=CHIP-AMD
// CHIP-AMD: error: convert-attn-to-gpu: unsupported chip 'gfx90a'

// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a num-waves=-1" 2>&1 | FileCheck %s --check-prefix=WAVES0
// WAVES0: error: convert-attn-to-gpu: num-waves must be in [1, 16] (or 0 for the target default), got -1

// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=gfx942 num-waves=17" 2>&1 | FileCheck %s --check-prefix=WAVES17
// WAVES17: error: convert-attn-to-gpu: num-waves must be in [1, 16] (or 0 for the target default), got 17

// Tiling options are range-checked, never replaced by defaults.
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a query-tiles-per-wave=-1" 2>&1 | FileCheck %s --check-prefix=QT-NEG
// QT-NEG: error: convert-attn-to-gpu: query-tiles-per-wave must be in [1, 4] (or 0 to choose from the register budget), got -1
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a query-tiles-per-wave=1000000" 2>&1 | FileCheck %s --check-prefix=QT-HUGE
// QT-HUGE: error: convert-attn-to-gpu: query-tiles-per-wave must be in [1, 4] (or 0 to choose from the register budget), got 1000000
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a block-n=-1" 2>&1 | FileCheck %s --check-prefix=BN-NEG
// BN-NEG: error: convert-attn-to-gpu: block-n must be in [1, 1024] (or 0 to choose from the budgets), got -1
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a block-n=2147483648" 2>&1 | FileCheck %s --check-prefix=BN-HUGE
// BN-HUGE: error: convert-attn-to-gpu: block-n must be in [1, 1024] (or 0 to choose from the budgets), got 2147483648
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a block-n=17" 2>&1 | FileCheck %s --check-prefix=BN17
// BN17: error: 'attn.attention' op convert-attn-to-gpu: block-n (17) must be a multiple of 16 for mma.sync.m16n8k16.f32.f16
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=gfx942 block-n=40" 2>&1 | FileCheck %s --check-prefix=BN40-GFX942
// BN40-GFX942: error: 'attn.attention' op convert-attn-to-gpu: block-n (40) must be a multiple of 16 for v_mfma_f32_16x16x16_f16
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a block-n=1024" 2>&1 | FileCheck %s --check-prefix=BN-SHMEM
// BN-SHMEM: error: 'attn.attention' op convert-attn-to-gpu: block-n (1024) needs {{[0-9]+}} bytes of workgroup memory; at most 64 keys fit in 49152
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a block-n=32 query-tiles-per-wave=1" | FileCheck %s --check-prefix=TILING-OK
// TILING-OK: block_n = 32 : i64
// TILING-OK-SAME: query_tiles_per_wave = 1 : i64

// Head dim 48 fits mma.sync m16n8k16 and gfx942's 16x16x16 MFMA but not
// gfx950's preferred K of 32: gfx950 takes its 16x16x16 MFMA instead (96
// keeps the 16x16x32 one).
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" | FileCheck %s --check-prefix=D48-OK
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=gfx942" | FileCheck %s --check-prefix=D48-OK
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=gfx950" | FileCheck %s --check-prefixes=D48-OK,D48-GFX950
// D48-GFX950: matrix_instruction = "v_mfma_f32_16x16x16_f16"
// D48-OK: gpu.func @d48(%{{.*}}: memref<?x2x48xf16, strided<[?, ?, 1]>>
// D48-GFX950-SAME: attn.matrix_instruction = #attn.matrix_instruction<"v_mfma_f32_16x16x16_f16">
// D48-GFX950: matrix_instruction = "v_mfma_f32_16x16x32_f16"
// D48-GFX950: gpu.func @d96(
// D48-GFX950-SAME: attn.matrix_instruction = #attn.matrix_instruction<"v_mfma_f32_16x16x32_f16">

func.func @d48(%q: tensor<?x2x48xf16>, %k: tensor<?x2x48xf16>, %v: tensor<?x2x48xf16>, %o: tensor<?x2x48xf16>) -> tensor<?x2x48xf16> {
  %r = attn.attention q(%q : tensor<?x2x48xf16>) k(%k : tensor<?x2x48xf16>) v(%v : tensor<?x2x48xf16>) outs(%o : tensor<?x2x48xf16>) -> tensor<?x2x48xf16>
  return %r : tensor<?x2x48xf16>
}

func.func @d96(%q: tensor<?x2x96xf16>, %k: tensor<?x2x96xf16>, %v: tensor<?x2x96xf16>, %o: tensor<?x2x96xf16>) -> tensor<?x2x96xf16> {
  %r = attn.attention q(%q : tensor<?x2x96xf16>) k(%k : tensor<?x2x96xf16>) v(%v : tensor<?x2x96xf16>) outs(%o : tensor<?x2x96xf16>) -> tensor<?x2x96xf16>
  return %r : tensor<?x2x96xf16>
}
