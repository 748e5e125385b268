// REQUIRES: lld
// attn.rope for gfx942 and gfx950 (f16, 32 query heads of 128, rotate-half,
// and Llama 3.1's scaling on interleaved bf16 keys over a ragged batch):
// global accesses through buffer descriptors with 16-byte loads and stores,
// the angles' cosine and sine as v_cos_f32 / v_sin_f32 (no ocml), no
// scratch.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx942 %t/rope_qk_kernels.hsaco | FileCheck %s --check-prefix=ASM
// RUN: llvm-readelf --notes %t/rope_qk_kernels.hsaco | FileCheck %s --check-prefix=NOTES
// RUN: rm -rf %t.950 && flashinfer-opt %s --attn-compile="chip=gfx950 o-dir=%t.950" -o /dev/null
// RUN: llvm-readelf --notes %t.950/rope_qk_kernels.hsaco | FileCheck %s --check-prefix=GFX950

// ASM: <rope_qk_0>:
// ASM-NOT: {{flat_|global_}}
// ASM: buffer_load_dwordx4
// ASM: v_cos_f32
// ASM: v_sin_f32
// ASM: buffer_store_dwordx4
// ASM: s_endpgm
// ASM: <rope_qk_1>:
// ASM-NOT: {{flat_|global_}}
// ASM: buffer_load_dwordx4
// ASM: v_sin_f32
// ASM: buffer_store_dwordx4
// ASM: s_endpgm

// NOTES: .name: rope_qk_0{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .name: rope_qk_1{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0

// GFX950: .name: rope_qk_0{{$}}
// GFX950: .private_segment_fixed_size: 0
// GFX950: amdhsa.target: amdgcn-amd-amdhsa--gfx950

func.func @rope_qk(%q: tensor<?x32x128xf16>, %pos: tensor<?xi32>, %qo: tensor<?x32x128xf16>,
                   %k: tensor<?x8x128xbf16>, %ip: tensor<?xi32>, %off: tensor<?xi32>, %ko: tensor<?x8x128xbf16>)
    -> (tensor<?x32x128xf16>, tensor<?x8x128xbf16>) {
  %a = attn.rope %q pos_ids(%pos : tensor<?xi32>) outs(%qo : tensor<?x32x128xf16>) : tensor<?x32x128xf16> -> tensor<?x32x128xf16>
  %b = attn.rope %k indptr(%ip : tensor<?xi32>) offsets(%off : tensor<?xi32>) outs(%ko : tensor<?x8x128xbf16>)
     {interleave, rope_scale = 8.0 : f32, rope_theta = 500000.0 : f32, llama31_scaling = #attn.llama31_scaling<low_freq_factor = 1.0, high_freq_factor = 4.0, old_context_len = 8192.0>} : tensor<?x8x128xbf16> -> tensor<?x8x128xbf16>
  return %a, %b : tensor<?x32x128xf16>, tensor<?x8x128xbf16>
}
