// REQUIRES: lld
// The decode pair (bf16, head dim 128, GQA 4) for gfx942: one code object
// with both kernels; the split kernel runs on v_mfma_f32_16x16x16_bf16, both
// keep everything in registers, and the LDS size is what the manifest
// declares.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx942 %t/decode_bf16_d128_g4_kernels.hsaco | FileCheck %s --check-prefix=ASM
// RUN: cat %t/decode_bf16_d128_g4_kernels.json > %t/log
// RUN: llvm-readelf --notes %t/decode_bf16_d128_g4_kernels.hsaco >> %t/log
// RUN: FileCheck %s --check-prefix=NOTES < %t/log
// RUN: FileCheck %s --check-prefix=MERGE < %t/log

// ASM: <decode_bf16_d128_g4>:
// ASM: v_mfma_f32_16x16x16_bf16
// ASM: s_endpgm

// NOTES: "name": "decode_bf16_d128_g4"
// NOTES: "static_shared_memory": [[#LDS:]]
// NOTES: "name": "decode_bf16_d128_g4_merge"
// NOTES: "target": "gfx942"
// NOTES: .group_segment_fixed_size: [[#LDS]]
// NOTES: .name: decode_bf16_d128_g4{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .sgpr_spill_count: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .wavefront_size: 64

// MERGE: .group_segment_fixed_size: 0
// MERGE: .name: decode_bf16_d128_g4_merge
// MERGE: .private_segment_fixed_size: 0
// MERGE: .sgpr_spill_count: 0
// MERGE: .vgpr_spill_count: 0

func.func @decode_bf16_d128_g4(%q: tensor<1x32x128xbf16>, %k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %o: tensor<1x32x128xbf16>, %lse: tensor<1x32xf32>) -> (tensor<1x32x128xbf16>, tensor<1x32xf32>) {
  %r:2 = attn.attention q(%q : tensor<1x32x128xbf16>) k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) outs(%o, %lse : tensor<1x32x128xbf16>, tensor<1x32xf32>) -> tensor<1x32x128xbf16>, tensor<1x32xf32>
  return %r#0, %r#1 : tensor<1x32x128xbf16>, tensor<1x32xf32>
}
