// Variants that reach the kernels through the steps' score and mask
// functions (ALiBi, a user's score_mod and mask_mod), attention sinks and a
// custom mask, in
// a paged batch decode (split-KV: the merge kernel takes the sinks), a
// ragged batch prefill and a single prefill, compiled for gfx942 and gfx950
// (MFMA, buffer accesses only, no scratch or spills) and, with ptxas, sm_90a
// (no stack frame or spills).

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx942 %t/decode_alibi_sinks_kernels.hsaco %t/prefill_regions_kernels.hsaco %t/prefill_alibi_kernels.hsaco %t/prefill_alibi_tanh_kernels.hsaco %t/prefill_custom_mask_kernels.hsaco | FileCheck %s --check-prefix=ASM
// RUN: cat %t/decode_alibi_sinks_kernels.json > %t/log
// RUN: llvm-readelf --notes %t/decode_alibi_sinks_kernels.hsaco %t/prefill_regions_kernels.hsaco %t/prefill_alibi_kernels.hsaco %t/prefill_alibi_tanh_kernels.hsaco %t/prefill_custom_mask_kernels.hsaco >> %t/log
// RUN: FileCheck %s --check-prefix=NOTES < %t/log
// RUN: rm -rf %t.950 && flashinfer-opt %s --attn-compile="chip=gfx950 o-dir=%t.950" -o /dev/null
// RUN: llvm-readelf --notes %t.950/prefill_regions_kernels.hsaco | FileCheck %s --check-prefix=GFX950
// RUN: %if ptxas %{ rm -rf %t.nv && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t.nv" -o /dev/null %}
// RUN: %if ptxas %{ for f in %t.nv/*_kernels.ptx; do ptxas -arch=sm_90a -v $f -o $f.cubin; done 2>&1 | FileCheck %s --check-prefix=SM90 %}

// ASM: <decode_alibi_sinks>:
// ASM: v_mfma_f32_16x16x16_bf16
// ASM: <decode_alibi_sinks_merge>:
// ASM: <prefill_regions>:
// ASM: v_mfma_f32_16x16x16_f16
// ASM: <prefill_alibi>:
// ASM: <prefill_alibi_tanh>:
// ASM: <prefill_custom_mask>:
// ASM: buffer_load_ubyte
// ASM-NOT: {{flat_|global_}}

// The decode kernel reads the slopes, the merge kernel the sinks.
// NOTES: "name": "lse_part",
// NOTES: "name": "alibi_slopes",
// NOTES: "name": "decode_alibi_sinks",
// NOTES: "alibi_slopes": "argument",
// NOTES: "sinks": true,
// NOTES: "name": "lse",
// NOTES: "name": "sinks",
// NOTES: "name": "decode_alibi_sinks_merge",
// NOTES: .name: decode_alibi_sinks{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .name: decode_alibi_sinks_merge{{$}}
// NOTES: .name: prefill_regions{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .name: prefill_alibi{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .name: prefill_alibi_tanh{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .name: prefill_custom_mask{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0

// GFX950: .name: prefill_regions{{$}}
// GFX950: .private_segment_fixed_size: 0

// SM90: Function properties for {{decode_alibi_sinks|prefill_regions|prefill_alibi|prefill_alibi_tanh|prefill_custom_mask}}
// SM90-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

func.func @decode_alibi_sinks(%q: tensor<?x32x128xbf16>, %kc: tensor<?x?x8x128xbf16>, %vc: tensor<?x?x8x128xbf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %slopes: tensor<32xf32>, %sinks: tensor<32xf32>, %o: tensor<?x32x128xbf16>, %lse: tensor<?x32xf32>) -> (tensor<?x32x128xbf16>, tensor<?x32xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x?x8x128xbf16>) v_cache(%vc : tensor<?x?x8x128xbf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) alibi_slopes(%slopes : tensor<32xf32>) sinks(%sinks : tensor<32xf32>) outs(%o, %lse : tensor<?x32x128xbf16>, tensor<?x32xf32>) attributes {pos_encoding = #attn.pos_encoding<alibi>} -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
}

// A relative-position bias and a document mask (documents of 100 tokens),
// with the sinks in the kernel's epilogue.
func.func @prefill_regions(%q: tensor<?x32x128xf16>, %k: tensor<?x8x128xf16>, %v: tensor<?x8x128xf16>, %qo: tensor<?xi32>, %kvp: tensor<?xi32>, %sinks: tensor<32xf32>, %o: tensor<?x32x128xf16>) -> tensor<?x32x128xf16> {
  %r = attn.attention q(%q : tensor<?x32x128xf16>) k(%k : tensor<?x8x128xf16>) v(%v : tensor<?x8x128xf16>) qo_indptr(%qo : tensor<?xi32>) kv_indptr(%kvp : tensor<?xi32>) sinks(%sinks : tensor<32xf32>) outs(%o : tensor<?x32x128xf16>) attributes {causal} score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %d = arith.subi %ki, %qi : index
    %di = arith.index_cast %d : index to i32
    %df = arith.sitofp %di : i32 to f32
    %c = arith.constant 0.01 : f32
    %bias = arith.mulf %df, %c : f32
    %r = arith.addf %s, %bias : f32
    attn.yield %r : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c100 = arith.constant 100 : index
    %dq = arith.divui %qi, %c100 : index
    %dk = arith.divui %ki, %c100 : index
    %same = arith.cmpi eq, %dq, %dk : index
    attn.yield %same : i1
  } -> tensor<?x32x128xf16>
  return %r : tensor<?x32x128xf16>
}

// A tanh soft cap written as a region after ALiBi (not raised to the
// attribute, which would cap before the bias): math.tanh is expanded into
// exp, which becomes the native exp2.
func.func @prefill_alibi_tanh(%q: tensor<?x8x128xbf16>, %k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %o: tensor<?x8x128xbf16>) -> tensor<?x8x128xbf16> {
  %r = attn.attention q(%q : tensor<?x8x128xbf16>) k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) outs(%o : tensor<?x8x128xbf16>) attributes {causal, pos_encoding = #attn.pos_encoding<alibi>} score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %c = arith.constant 20.0 : f32
    %x = arith.divf %s, %c : f32
    %t = math.tanh %x : f32
    %r = arith.mulf %t, %c : f32
    attn.yield %r : f32
  } -> tensor<?x8x128xbf16>
  return %r : tensor<?x8x128xbf16>
}

// One request's custom mask: its bytes read with buffer loads (gfx942), by
// each lane for its own scores.
func.func @prefill_custom_mask(%q: tensor<?x32x128xf16>, %k: tensor<?x8x128xf16>, %v: tensor<?x8x128xf16>, %m: tensor<?xi8>, %o: tensor<?x32x128xf16>) -> tensor<?x32x128xf16> {
  %r = attn.attention q(%q : tensor<?x32x128xf16>) k(%k : tensor<?x8x128xf16>) v(%v : tensor<?x8x128xf16>) custom_mask(%m : tensor<?xi8>) outs(%o : tensor<?x32x128xf16>) -> tensor<?x32x128xf16>
  return %r : tensor<?x32x128xf16>
}

// Default slopes for 12 heads (not a power of two).
func.func @prefill_alibi(%q: tensor<?x12x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %o: tensor<?x12x64xf16>) -> tensor<?x12x64xf16> {
  %r = attn.attention q(%q : tensor<?x12x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) outs(%o : tensor<?x12x64xf16>) attributes {causal, pos_encoding = #attn.pos_encoding<alibi>} -> tensor<?x12x64xf16>
  return %r : tensor<?x12x64xf16>
}
