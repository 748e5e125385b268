// RUN: flashinfer-opt %s | flashinfer-opt | FileCheck %s
// RUN: flashinfer-opt %s --mlir-print-op-generic | flashinfer-opt | FileCheck %s

// Every attn op in its custom syntax, with and without each optional operand,
// attribute and region, both KV layouts, static and dynamic dims. Printing,
// reparsing and printing again must give exactly the text checked here, and
// so must a detour through the generic form.

// CHECK-LABEL: func.func @attention_minimal(
// CHECK-NEXT: %0 = attn.attention q(%arg0 : tensor<16x8x64xf16>) k(%arg1 : tensor<32x8x64xf16>) v(%arg2 : tensor<32x8x64xf16>) outs(%arg3 : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
// CHECK-NEXT: return %0 : tensor<16x8x64xf16>
func.func @attention_minimal(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// CHECK-LABEL: func.func @attention_dynamic_gqa_lse(
// CHECK-NEXT: %0:2 = attn.attention q(%arg0 : tensor<?x32x128xbf16>) k(%arg1 : tensor<?x8x128xbf16>) v(%arg2 : tensor<?x8x128xbf16>) outs(%arg3, %arg4 : tensor<?x32x128xbf16>, tensor<?x32xf32>) attributes {causal} -> tensor<?x32x128xbf16>, tensor<?x32xf32>
// CHECK-NEXT: return %0#0, %0#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
func.func @attention_dynamic_gqa_lse(%q: tensor<?x32x128xbf16>, %k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %o: tensor<?x32x128xbf16>, %lse: tensor<?x32xf32>) -> (tensor<?x32x128xbf16>, tensor<?x32xf32>) {
  %r:2 = attn.attention q(%q : tensor<?x32x128xbf16>) k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) outs(%o, %lse : tensor<?x32x128xbf16>, tensor<?x32xf32>) attributes {causal} -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
}

// CHECK-LABEL: func.func @attention_dynamic_head_dim(
// CHECK-NEXT: %0 = attn.attention q(%arg0 : tensor<?x?x?xf32>) k(%arg1 : tensor<?x?x?xf32>) v(%arg2 : tensor<?x?x?xf32>) outs(%arg3 : tensor<?x?x?xf32>) attributes {sm_scale = 1.250000e-01 : f32} -> tensor<?x?x?xf32>
// CHECK-NEXT: return %0 : tensor<?x?x?xf32>
func.func @attention_dynamic_head_dim(%q: tensor<?x?x?xf32>, %k: tensor<?x?x?xf32>, %v: tensor<?x?x?xf32>, %o: tensor<?x?x?xf32>) -> tensor<?x?x?xf32> {
  %r = attn.attention q(%q : tensor<?x?x?xf32>) k(%k : tensor<?x?x?xf32>) v(%v : tensor<?x?x?xf32>) outs(%o : tensor<?x?x?xf32>) attributes {sm_scale = 0.125 : f32} -> tensor<?x?x?xf32>
  return %r : tensor<?x?x?xf32>
}

// CHECK-LABEL: func.func @attention_everything(
// CHECK-NEXT: %0:2 = attn.attention q(%arg0 : tensor<?x32x128xf16>) k(%arg1 : tensor<?x8x128xf16>) v(%arg2 : tensor<?x8x64xf16>) qo_indptr(%arg3 : tensor<?xi32>) kv_indptr(%arg4 : tensor<?xi32>) custom_mask(%arg5 : tensor<?xi8>) alibi_slopes(%arg6 : tensor<32xf32>) sinks(%arg7 : tensor<32xf32>) outs(%arg8, %arg9 : tensor<?x32x64xf16>, tensor<?x32xf32>) attributes {causal, logits_soft_cap = 3.000000e+01 : f32, pos_encoding = #attn.pos_encoding<alibi>, sm_scale = 1.250000e-01 : f32, window_left = 128 : i64} score_mod {
// CHECK-NEXT: ^bb0(%arg10: f32, %arg11: index, %arg12: index, %arg13: index, %arg14: index):
// CHECK-NEXT: %cst = arith.constant 2.000000e+00 : f32
// CHECK-NEXT: %1 = arith.mulf %arg10, %cst : f32
// CHECK-NEXT: attn.yield %1 : f32
// CHECK-NEXT: } mask_mod {
// CHECK-NEXT: ^bb0(%arg10: index, %arg11: index, %arg12: index, %arg13: index):
// CHECK-NEXT: %1 = arith.cmpi ne, %arg13, %arg12 : index
// CHECK-NEXT: attn.yield %1 : i1
// CHECK-NEXT: } -> tensor<?x32x64xf16>, tensor<?x32xf32>
// CHECK-NEXT: return %0#0, %0#1 : tensor<?x32x64xf16>, tensor<?x32xf32>
func.func @attention_everything(%q: tensor<?x32x128xf16>, %k: tensor<?x8x128xf16>, %v: tensor<?x8x64xf16>, %qo: tensor<?xi32>, %kvp: tensor<?xi32>, %mask: tensor<?xi8>, %slopes: tensor<32xf32>, %sinks: tensor<32xf32>, %o: tensor<?x32x64xf16>, %lse: tensor<?x32xf32>) -> (tensor<?x32x64xf16>, tensor<?x32xf32>) {
  %r:2 = attn.attention q(%q : tensor<?x32x128xf16>) k(%k : tensor<?x8x128xf16>) v(%v : tensor<?x8x64xf16>) qo_indptr(%qo : tensor<?xi32>) kv_indptr(%kvp : tensor<?xi32>) custom_mask(%mask : tensor<?xi8>) alibi_slopes(%slopes : tensor<32xf32>) sinks(%sinks : tensor<32xf32>) outs(%o, %lse : tensor<?x32x64xf16>, tensor<?x32xf32>) attributes {causal, logits_soft_cap = 3.000000e+01 : f32, pos_encoding = #attn.pos_encoding<alibi>, sm_scale = 1.250000e-01 : f32, window_left = 128 : i64} score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %c = arith.constant 2.0 : f32
    %m = arith.mulf %s, %c : f32
    attn.yield %m : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %m = arith.cmpi ne, %ki, %qi : index
    attn.yield %m : i1
  } -> tensor<?x32x64xf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x64xf16>, tensor<?x32xf32>
}

// CHECK-LABEL: func.func @attention_rope(
// CHECK-NEXT: %0 = attn.attention q(%arg0 : tensor<4x8x64xf16>) k(%arg1 : tensor<6x8x64xf16>) v(%arg2 : tensor<6x8x64xf16>) outs(%arg3 : tensor<4x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>, rope_scale = 2.000000e+00 : f32, rope_theta = 5.000000e+05 : f32} -> tensor<4x8x64xf16>
// CHECK-NEXT: return %0 : tensor<4x8x64xf16>
func.func @attention_rope(%q: tensor<4x8x64xf16>, %k: tensor<6x8x64xf16>, %v: tensor<6x8x64xf16>, %o: tensor<4x8x64xf16>) -> tensor<4x8x64xf16> {
  %r = attn.attention q(%q : tensor<4x8x64xf16>) k(%k : tensor<6x8x64xf16>) v(%v : tensor<6x8x64xf16>) outs(%o : tensor<4x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>, rope_scale = 2.000000e+00 : f32, rope_theta = 5.000000e+05 : f32} -> tensor<4x8x64xf16>
  return %r : tensor<4x8x64xf16>
}

// CHECK-LABEL: func.func @attention_score_mod_only(
// CHECK-NEXT: %0 = attn.attention q(%arg0 : tensor<4x8x64xf16>) k(%arg1 : tensor<6x8x64xf16>) v(%arg2 : tensor<6x8x64xf16>) outs(%arg3 : tensor<4x8x64xf16>) score_mod {
// CHECK-NEXT: ^bb0(%arg4: f32, %arg5: index, %arg6: index, %arg7: index, %arg8: index):
// CHECK-NEXT: attn.yield %arg4 : f32
// CHECK-NEXT: } -> tensor<4x8x64xf16>
// CHECK-NEXT: return %0 : tensor<4x8x64xf16>
func.func @attention_score_mod_only(%q: tensor<4x8x64xf16>, %k: tensor<6x8x64xf16>, %v: tensor<6x8x64xf16>, %o: tensor<4x8x64xf16>) -> tensor<4x8x64xf16> {
  %r = attn.attention q(%q : tensor<4x8x64xf16>) k(%k : tensor<6x8x64xf16>) v(%v : tensor<6x8x64xf16>) outs(%o : tensor<4x8x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    attn.yield %s : f32
  } -> tensor<4x8x64xf16>
  return %r : tensor<4x8x64xf16>
}

// CHECK-LABEL: func.func @paged_decode_nhd(
// CHECK-NEXT: %0 = attn.paged_attention q(%arg0 : tensor<?x32x128xf16>) k_cache(%arg1 : tensor<?x16x8x128xf16>) v_cache(%arg2 : tensor<?x16x8x128xf16>) kv_indptr(%arg3 : tensor<?xi32>) kv_indices(%arg4 : tensor<?xi32>) kv_last_page_len(%arg5 : tensor<?xi32>) outs(%arg6 : tensor<?x32x128xf16>) -> tensor<?x32x128xf16>
// CHECK-NEXT: return %0 : tensor<?x32x128xf16>
func.func @paged_decode_nhd(%q: tensor<?x32x128xf16>, %kc: tensor<?x16x8x128xf16>, %vc: tensor<?x16x8x128xf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x32x128xf16>) -> tensor<?x32x128xf16> {
  %r = attn.paged_attention q(%q : tensor<?x32x128xf16>) k_cache(%kc : tensor<?x16x8x128xf16>) v_cache(%vc : tensor<?x16x8x128xf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) outs(%o : tensor<?x32x128xf16>) -> tensor<?x32x128xf16>
  return %r : tensor<?x32x128xf16>
}

// CHECK-LABEL: func.func @paged_decode_static(
// CHECK-NEXT: %0 = attn.paged_attention q(%arg0 : tensor<2x8x64xf32>) k_cache(%arg1 : tensor<10x16x8x64xf32>) v_cache(%arg1 : tensor<10x16x8x64xf32>) kv_indptr(%arg2 : tensor<3xi32>) kv_indices(%arg3 : tensor<5xi32>) kv_last_page_len(%arg4 : tensor<2xi32>) outs(%arg5 : tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
// CHECK-NEXT: return %0 : tensor<2x8x64xf32>
func.func @paged_decode_static(%q: tensor<2x8x64xf32>, %kc: tensor<10x16x8x64xf32>, %ip: tensor<3xi32>, %idx: tensor<5xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf32>) -> tensor<2x8x64xf32> {
  %r = attn.paged_attention q(%q : tensor<2x8x64xf32>) k_cache(%kc : tensor<10x16x8x64xf32>) v_cache(%kc : tensor<10x16x8x64xf32>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%idx : tensor<5xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
  return %r : tensor<2x8x64xf32>
}

// CHECK-LABEL: func.func @paged_prefill_hnd_everything(
// CHECK-NEXT: %0:2 = attn.paged_attention q(%arg0 : tensor<?x8x64xbf16>) k_cache(%arg1 : tensor<?x2x16x64xbf16>) v_cache(%arg2 : tensor<?x2x16x32xbf16>) kv_indptr(%arg3 : tensor<?xi32>) kv_indices(%arg4 : tensor<?xi32>) kv_last_page_len(%arg5 : tensor<?xi32>) qo_indptr(%arg6 : tensor<?xi32>) custom_mask(%arg7 : tensor<?xi8>) alibi_slopes(%arg8 : tensor<8xf32>) sinks(%arg9 : tensor<8xf32>) outs(%arg10, %arg11 : tensor<?x8x32xbf16>, tensor<?x8xf32>) attributes {causal, kv_layout = #attn.kv_layout<hnd>, logits_soft_cap = 5.000000e+01 : f32, pos_encoding = #attn.pos_encoding<alibi>, sm_scale = 1.000000e+00 : f32, window_left = 0 : i64} score_mod {
// CHECK-NEXT: ^bb0(%arg12: f32, %arg13: index, %arg14: index, %arg15: index, %arg16: index):
// CHECK-NEXT: attn.yield %arg12 : f32
// CHECK-NEXT: } mask_mod {
// CHECK-NEXT: ^bb0(%arg12: index, %arg13: index, %arg14: index, %arg15: index):
// CHECK-NEXT: %true = arith.constant true
// CHECK-NEXT: attn.yield %true : i1
// CHECK-NEXT: } -> tensor<?x8x32xbf16>, tensor<?x8xf32>
// CHECK-NEXT: return %0#0, %0#1 : tensor<?x8x32xbf16>, tensor<?x8xf32>
func.func @paged_prefill_hnd_everything(%q: tensor<?x8x64xbf16>, %kc: tensor<?x2x16x64xbf16>, %vc: tensor<?x2x16x32xbf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %qo: tensor<?xi32>, %mask: tensor<?xi8>, %slopes: tensor<8xf32>, %sinks: tensor<8xf32>, %o: tensor<?x8x32xbf16>, %lse: tensor<?x8xf32>) -> (tensor<?x8x32xbf16>, tensor<?x8xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x8x64xbf16>) k_cache(%kc : tensor<?x2x16x64xbf16>) v_cache(%vc : tensor<?x2x16x32xbf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) qo_indptr(%qo : tensor<?xi32>) custom_mask(%mask : tensor<?xi8>) alibi_slopes(%slopes : tensor<8xf32>) sinks(%sinks : tensor<8xf32>) outs(%o, %lse : tensor<?x8x32xbf16>, tensor<?x8xf32>) attributes {causal, kv_layout = #attn.kv_layout<hnd>, logits_soft_cap = 5.000000e+01 : f32, pos_encoding = #attn.pos_encoding<alibi>, sm_scale = 1.000000e+00 : f32, window_left = 0 : i64} score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    attn.yield %s : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %t = arith.constant true
    attn.yield %t : i1
  } -> tensor<?x8x32xbf16>, tensor<?x8xf32>
  return %r#0, %r#1 : tensor<?x8x32xbf16>, tensor<?x8xf32>
}

// CHECK-LABEL: func.func @merge_two(
// CHECK-NEXT: %0:2 = attn.merge_states values(%arg0, %arg1 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%arg2, %arg3 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%arg4, %arg5 : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
// CHECK-NEXT: return %0#0, %0#1 : tensor<?x8x64xf16>, tensor<?x8xf32>
func.func @merge_two(%v0: tensor<?x8x64xf16>, %v1: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %s1: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  %v, %s = attn.merge_states values(%v0, %v1 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s1 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// CHECK-LABEL: func.func @merge_three_static(
// CHECK-NEXT: %0:2 = attn.merge_states values(%arg0, %arg1, %arg2 : tensor<4x2x16xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf32>) lse(%arg3, %arg4, %arg5 : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) outs(%arg6, %arg7 : tensor<4x2x16xf32>, tensor<4x2xf32>) -> tensor<4x2x16xf32>, tensor<4x2xf32>
// CHECK-NEXT: return %0#0, %0#1 : tensor<4x2x16xf32>, tensor<4x2xf32>
func.func @merge_three_static(%v0: tensor<4x2x16xf32>, %v1: tensor<4x2x16xf32>, %v2: tensor<4x2x16xf32>, %s0: tensor<4x2xf32>, %s1: tensor<4x2xf32>, %s2: tensor<4x2xf32>, %vo: tensor<4x2x16xf32>, %so: tensor<4x2xf32>) -> (tensor<4x2x16xf32>, tensor<4x2xf32>) {
  %v, %s = attn.merge_states values(%v0, %v1, %v2 : tensor<4x2x16xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf32>) lse(%s0, %s1, %s2 : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) outs(%vo, %so : tensor<4x2x16xf32>, tensor<4x2xf32>) -> tensor<4x2x16xf32>, tensor<4x2xf32>
  return %v, %s : tensor<4x2x16xf32>, tensor<4x2xf32>
}

// CHECK-LABEL: func.func @merge_segmented(
// CHECK-NEXT: %0:2 = attn.merge_states indptr(%arg0 : tensor<?xi32>) values(%arg1 : tensor<?x8x64xf32>) lse(%arg2 : tensor<?x8xf32>) outs(%arg3, %arg4 : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
func.func @merge_segmented(%ip: tensor<?xi32>, %v0: tensor<?x8x64xf32>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  %v, %s = attn.merge_states indptr(%ip : tensor<?xi32>) values(%v0 : tensor<?x8x64xf32>) lse(%s0 : tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// CHECK-LABEL: func.func @rope_default(
// CHECK-NEXT: %0 = attn.rope %arg0 pos_ids(%arg1 : tensor<?xi32>) outs(%arg2 : tensor<?x8x64xf16>) : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
// CHECK-NEXT: return %0 : tensor<?x8x64xf16>
func.func @rope_default(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%o : tensor<?x8x64xf16>) : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// CHECK-LABEL: func.func @rope_all_attrs(
// CHECK-NEXT: %0 = attn.rope %arg0 pos_ids(%arg1 : tensor<?xi32>) outs(%arg2 : tensor<?x8x?xbf16>) {interleave, rope_scale = 8.000000e+00 : f32, rope_theta = 5.000000e+05 : f32, rotary_dim = 32 : i64} : tensor<?x8x?xbf16> -> tensor<?x8x?xbf16>
// CHECK-NEXT: return %0 : tensor<?x8x?xbf16>
func.func @rope_all_attrs(%x: tensor<?x8x?xbf16>, %p: tensor<?xi32>, %o: tensor<?x8x?xbf16>) -> tensor<?x8x?xbf16> {
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%o : tensor<?x8x?xbf16>) {interleave, rope_scale = 8.000000e+00 : f32, rope_theta = 5.000000e+05 : f32, rotary_dim = 32 : i64} : tensor<?x8x?xbf16> -> tensor<?x8x?xbf16>
  return %r : tensor<?x8x?xbf16>
}

// CHECK-LABEL: func.func @rope_ragged_llama31(
// CHECK-NEXT: %0 = attn.rope %arg0 indptr(%arg1 : tensor<?xi32>) offsets(%arg2 : tensor<?xi32>) outs(%arg3 : tensor<?x8x64xf16>) {llama31_scaling = #attn.llama31_scaling<low_freq_factor = 1.000000e+00, high_freq_factor = 4.000000e+00, old_context_len = 8.192000e+03>, rope_scale = 8.000000e+00 : f32, rope_theta = 5.000000e+05 : f32} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
func.func @rope_ragged_llama31(%x: tensor<?x8x64xf16>, %ip: tensor<?xi32>, %off: tensor<?xi32>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %r = attn.rope %x indptr(%ip : tensor<?xi32>) offsets(%off : tensor<?xi32>) outs(%o : tensor<?x8x64xf16>) {rope_scale = 8.0 : f32, rope_theta = 500000.0 : f32, llama31_scaling = #attn.llama31_scaling<low_freq_factor = 1.0, high_freq_factor = 4.0, old_context_len = 8192.0>} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// CHECK-LABEL: func.func @rope_cos_sin_cache(
// CHECK-NEXT: %0 = attn.rope %arg0 pos_ids(%arg1 : tensor<?xi32>) cos_sin_cache(%arg2 : tensor<4096x32xf32>) outs(%arg3 : tensor<?x8x64xf16>) {interleave} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
func.func @rope_cos_sin_cache(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %c: tensor<4096x32xf32>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) cos_sin_cache(%c : tensor<4096x32xf32>) outs(%o : tensor<?x8x64xf16>) {interleave} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// CHECK-LABEL: func.func @append_nhd(
// CHECK-NEXT: %k_cache_result, %v_cache_result = attn.append_paged_kv k(%arg0 : tensor<?x8x64xf16>) v(%arg1 : tensor<?x8x64xf16>) batch_indices(%arg2 : tensor<?xi32>) positions(%arg3 : tensor<?xi32>) kv_indices(%arg4 : tensor<?xi32>) kv_indptr(%arg5 : tensor<?xi32>) outs(%arg6, %arg7 : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
// CHECK-NEXT: return %k_cache_result, %v_cache_result : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
func.func @append_nhd(%k: tensor<?x8x64xf16>, %v: tensor<?x8x64xf16>, %b: tensor<?xi32>, %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>, %vc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  %kc2, %vc2 = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x64xf16>) batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>) outs(%kc, %vc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %kc2, %vc2 : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// CHECK-LABEL: func.func @append_hnd_static(
// CHECK-NEXT: %k_cache_result, %v_cache_result = attn.append_paged_kv k(%arg0 : tensor<3x2x64xf32>) v(%arg1 : tensor<3x2x32xf32>) batch_indices(%arg2 : tensor<3xi32>) positions(%arg3 : tensor<3xi32>) kv_indices(%arg4 : tensor<4xi32>) kv_indptr(%arg5 : tensor<2xi32>) outs(%arg6, %arg7 : tensor<4x2x16x64xf32>, tensor<4x2x16x32xf32>) {kv_layout = #attn.kv_layout<hnd>} -> tensor<4x2x16x64xf32>, tensor<4x2x16x32xf32>
// CHECK-NEXT: return %k_cache_result, %v_cache_result : tensor<4x2x16x64xf32>, tensor<4x2x16x32xf32>
func.func @append_hnd_static(%k: tensor<3x2x64xf32>, %v: tensor<3x2x32xf32>, %b: tensor<3xi32>, %p: tensor<3xi32>, %i: tensor<4xi32>, %ip: tensor<2xi32>, %kc: tensor<4x2x16x64xf32>, %vc: tensor<4x2x16x32xf32>) -> (tensor<4x2x16x64xf32>, tensor<4x2x16x32xf32>) {
  %kc2, %vc2 = attn.append_paged_kv k(%k : tensor<3x2x64xf32>) v(%v : tensor<3x2x32xf32>) batch_indices(%b : tensor<3xi32>) positions(%p : tensor<3xi32>) kv_indices(%i : tensor<4xi32>) kv_indptr(%ip : tensor<2xi32>) outs(%kc, %vc : tensor<4x2x16x64xf32>, tensor<4x2x16x32xf32>) {kv_layout = #attn.kv_layout<hnd>} -> tensor<4x2x16x64xf32>, tensor<4x2x16x32xf32>
  return %kc2, %vc2 : tensor<4x2x16x64xf32>, tensor<4x2x16x32xf32>
}

// Attributes spelled with their default values are elided on printing.
// CHECK-LABEL: func.func @explicit_defaults(
// CHECK-NEXT: %0 = attn.paged_attention q(%arg0 : tensor<2x8x64xf16>) k_cache(%arg1 : tensor<?x16x8x64xf16>) v_cache(%arg1 : tensor<?x16x8x64xf16>) kv_indptr(%arg2 : tensor<3xi32>) kv_indices(%arg2 : tensor<3xi32>) kv_last_page_len(%arg3 : tensor<2xi32>) outs(%arg4 : tensor<2x8x64xf16>) -> tensor<2x8x64xf16>
// CHECK-NEXT: return %0 : tensor<2x8x64xf16>
func.func @explicit_defaults(%q: tensor<2x8x64xf16>, %kc: tensor<?x16x8x64xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<?x16x8x64xf16>) v_cache(%kc : tensor<?x16x8x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) attributes {kv_layout = #attn.kv_layout<nhd>, window_left = -1 : i64, logits_soft_cap = 0.0 : f32, pos_encoding = #attn.pos_encoding<none>, rope_scale = 1.0 : f32, rope_theta = 1.0e4 : f32} -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

// Launch-time variant values: operands instead of attributes.
// CHECK-LABEL: func.func @launch_values(
// CHECK-NEXT: %0 = attn.paged_attention q(%arg0 : tensor<?x8x64xbf16>) k_cache(%arg1 : tensor<?x?x2x64xbf16>) v_cache(%arg1 : tensor<?x?x2x64xbf16>) kv_indptr(%arg2 : tensor<?xi32>) kv_indices(%arg2 : tensor<?xi32>) kv_last_page_len(%arg2 : tensor<?xi32>) sm_scale(%arg4) logits_soft_cap(%arg5) window_left(%arg6) outs(%arg3 : tensor<?x8x64xbf16>) attributes {causal} -> tensor<?x8x64xbf16>
// CHECK: attn.attention q(%arg0 : tensor<?x8x64xbf16>) k(%arg7 : tensor<?x2x64xbf16>) v(%arg7 : tensor<?x2x64xbf16>) sm_scale(%arg4) outs(%arg3 : tensor<?x8x64xbf16>) -> tensor<?x8x64xbf16>
func.func @launch_values(%q: tensor<?x8x64xbf16>, %kc: tensor<?x?x2x64xbf16>, %ip: tensor<?xi32>, %o: tensor<?x8x64xbf16>, %s: f32, %c: f32, %w: i64, %k: tensor<?x2x64xbf16>) -> (tensor<?x8x64xbf16>, tensor<?x8x64xbf16>) {
  %r = attn.paged_attention q(%q : tensor<?x8x64xbf16>) k_cache(%kc : tensor<?x?x2x64xbf16>) v_cache(%kc : tensor<?x?x2x64xbf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%ip : tensor<?xi32>) kv_last_page_len(%ip : tensor<?xi32>) sm_scale(%s) logits_soft_cap(%c) window_left(%w) outs(%o : tensor<?x8x64xbf16>) attributes {causal} -> tensor<?x8x64xbf16>
  %r2 = attn.attention q(%q : tensor<?x8x64xbf16>) k(%k : tensor<?x2x64xbf16>) v(%k : tensor<?x2x64xbf16>) sm_scale(%s) outs(%o : tensor<?x8x64xbf16>) -> tensor<?x8x64xbf16>
  return %r, %r2 : tensor<?x8x64xbf16>, tensor<?x8x64xbf16>
}
