// REQUIRES: lld
// Head dims that are odd multiples of 16 on gfx950: its 16x16x32 MFMA cannot
// reduce them, so prefill (80) and split-KV decode (112) take CDNA3's
// 16x16x16 MFMA, which gfx950 keeps; 128 keeps the 16x16x32 one. No
// scratch or spills.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx950 o-dir=%t" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx950 %t/prefill_d80_kernels.hsaco | FileCheck %s --check-prefix=D80
// RUN: llvm-objdump -d --mcpu=gfx950 %t/decode_d112_kernels.hsaco | FileCheck %s --check-prefix=D112
// RUN: llvm-objdump -d --mcpu=gfx950 %t/prefill_d128_kernels.hsaco | FileCheck %s --check-prefix=D128
// RUN: llvm-readelf --notes %t/prefill_d80_kernels.hsaco | FileCheck %s --check-prefix=NOTES
// RUN: llvm-readelf --notes %t/decode_d112_kernels.hsaco | FileCheck %s --check-prefix=NOTES

// D80: <prefill_d80>:
// D80-NOT: v_mfma_f32_16x16x32
// D80: v_mfma_f32_16x16x16_f16
// D80-NOT: v_mfma_f32_16x16x32
// D80: s_endpgm

// D112: <decode_d112>:
// D112-NOT: v_mfma_f32_16x16x32
// D112: v_mfma_f32_16x16x16_bf16
// D112-NOT: v_mfma_f32_16x16x32
// D112: s_endpgm

// D128: <prefill_d128>:
// D128-NOT: v_mfma_f32_16x16x16
// D128: v_mfma_f32_16x16x32_f16

// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0

func.func @prefill_d80(%q: tensor<?x8x80xf16>, %k: tensor<?x2x80xf16>, %v: tensor<?x2x80xf16>, %o: tensor<?x8x80xf16>) -> tensor<?x8x80xf16> {
  %r = attn.attention q(%q : tensor<?x8x80xf16>) k(%k : tensor<?x2x80xf16>) v(%v : tensor<?x2x80xf16>) outs(%o : tensor<?x8x80xf16>) attributes {causal} -> tensor<?x8x80xf16>
  return %r : tensor<?x8x80xf16>
}
func.func @decode_d112(%q: tensor<1x8x112xbf16>, %k: tensor<?x2x112xbf16>, %v: tensor<?x2x112xbf16>, %o: tensor<1x8x112xbf16>) -> tensor<1x8x112xbf16> {
  %r = attn.attention q(%q : tensor<1x8x112xbf16>) k(%k : tensor<?x2x112xbf16>) v(%v : tensor<?x2x112xbf16>) outs(%o : tensor<1x8x112xbf16>) -> tensor<1x8x112xbf16>
  return %r : tensor<1x8x112xbf16>
}
func.func @prefill_d128(%q: tensor<?x8x128xf16>, %k: tensor<?x2x128xf16>, %v: tensor<?x2x128xf16>, %o: tensor<?x8x128xf16>) -> tensor<?x8x128xf16> {
  %r = attn.attention q(%q : tensor<?x8x128xf16>) k(%k : tensor<?x2x128xf16>) v(%v : tensor<?x2x128xf16>) outs(%o : tensor<?x8x128xf16>) attributes {causal} -> tensor<?x8x128xf16>
  return %r : tensor<?x8x128xf16>
}
