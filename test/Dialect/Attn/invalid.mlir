// RUN: flashinfer-opt %s -split-input-file -verify-diagnostics

// One case per diagnostic of lib/Dialect/Attn/IR/AttnOps.cpp, in source order,
// then a few of the type constraints ODS generates.

//===----------------------------------------------------------------------===//
// attn.attention
//===----------------------------------------------------------------------===//

func.func @q_rank(%q: tensor<16x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'q' must be [tokens, Hq, D] (rank 3), got 'tensor<16x64xf16>'}}
  %r = attn.attention q(%q : tensor<16x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @k_rank(%q: tensor<16x8x64xf16>, %k: tensor<32x512xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'k' must be [kv_tokens, Hkv, D] (rank 3), got 'tensor<32x512xf16>'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x512xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @v_rank(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<1x32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'v' must be [kv_tokens, Hkv, Dv] (rank 3), got 'tensor<1x32x8x64xf16>'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<1x32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @kv_tokens(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<31x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{KV token count mismatch: 'v' dim 0 is 31 but 'k' dim 0 is 32}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<31x8x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @indptr_alone(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %ip: tensor<3xi32>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'qo_indptr' and 'kv_indptr' must be given together}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) kv_indptr(%ip : tensor<3xi32>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @indptr_sizes(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %qo: tensor<3xi32>, %kv: tensor<4xi32>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{batch size + 1 mismatch: 'kv_indptr' dim 0 is 4 but 'qo_indptr' dim 0 is 3}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) qo_indptr(%qo : tensor<3xi32>) kv_indptr(%kv : tensor<4xi32>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @dynamic_head_dim_needs_scale(%q: tensor<16x8x?xf16>, %k: tensor<32x8x?xf16>, %v: tensor<32x8x?xf16>, %o: tensor<16x8x?xf16>) -> tensor<16x8x?xf16> {
  // expected-error @below {{needs an explicit sm_scale when the head dim is dynamic}}
  %r = attn.attention q(%q : tensor<16x8x?xf16>) k(%k : tensor<32x8x?xf16>) v(%v : tensor<32x8x?xf16>) outs(%o : tensor<16x8x?xf16>) -> tensor<16x8x?xf16>
  return %r : tensor<16x8x?xf16>
}

// -----

func.func @qk_element_type(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xbf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'q' and 'k' must have the same element type, got 'f16' and 'bf16'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xbf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

// fp8 K and V share their type (the cache's).
func.func @fp8_kv_mixed(%q: tensor<16x8x64xf16>, %kc: tensor<?x16x8x64xf8E4M3FN>, %vc: tensor<?x16x8x64xf8E4M3FNUZ>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'k_cache' and 'v_cache' must have the same element type, got 'f8E4M3FN' and 'f8E4M3FNUZ'}}
  %r = attn.paged_attention q(%q : tensor<16x8x64xf16>) k_cache(%kc : tensor<?x16x8x64xf8E4M3FN>) v_cache(%vc : tensor<?x16x8x64xf8E4M3FNUZ>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @fp8_k_only(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf8E4M3FN>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'q' and 'v' must have the same element type, got 'f16' and 'f8E4M3FN'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf8E4M3FN>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @fp8_e5m2_kv(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf8E5M2>, %v: tensor<32x8x64xf8E5M2>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{operand #1 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or f8E4M3FN type or f8E4M3FNUZ type values, but got 'tensor<32x8x64xf8E5M2>'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf8E5M2>) v(%v : tensor<32x8x64xf8E5M2>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @qv_element_type(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf32>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'q' and 'v' must have the same element type, got 'f16' and 'f32'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf32>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @head_dim(%q: tensor<16x8x64xf16>, %k: tensor<32x8x128xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{head dim mismatch: 'k' dim 2 is 128 but 'q' dim 2 is 64}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x128xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @kv_heads(%q: tensor<16x8x64xf16>, %k: tensor<32x4x64xf16>, %v: tensor<32x2x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{KV head count mismatch: 'v' dim 1 is 2 but 'k' dim 1 is 4}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x4x64xf16>) v(%v : tensor<32x2x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @gqa_ratio(%q: tensor<16x8x64xf16>, %k: tensor<32x3x64xf16>, %v: tensor<32x3x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{query head count (8) must be a multiple of the KV head count (3) for GQA/MQA}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x3x64xf16>) v(%v : tensor<32x3x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @zero_kv_heads(%q: tensor<16x8x64xf16>, %k: tensor<32x0x64xf16>, %v: tensor<32x0x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{operand #1 has a static size of 0 in dimension 1; use a dynamic size for inputs that may be empty}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x0x64xf16>) v(%v : tensor<32x0x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @zero_query_tokens(%q: tensor<0x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<0x8x64xf16>) -> tensor<0x8x64xf16> {
  // expected-error @below {{operand #0 has a static size of 0 in dimension 0; use a dynamic size for inputs that may be empty}}
  %r = attn.attention q(%q : tensor<0x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<0x8x64xf16>) -> tensor<0x8x64xf16>
  return %r : tensor<0x8x64xf16>
}

// -----

func.func @zero_keys(%q: tensor<16x8x64xf16>, %k: tensor<0x8x64xf16>, %v: tensor<0x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{operand #1 has a static size of 0 in dimension 0; use a dynamic size for inputs that may be empty}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<0x8x64xf16>) v(%v : tensor<0x8x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @zero_head_dim_paged(%q: tensor<4x8x0xf16>, %kc: tensor<10x16x8x0xf16>, %vc: tensor<10x16x8x0xf16>, %ki: tensor<3xi32>, %kx: tensor<10xi32>, %kl: tensor<2xi32>, %o: tensor<4x8x0xf16>) -> tensor<4x8x0xf16> {
  // expected-error @below {{operand #0 has a static size of 0 in dimension 2; use a dynamic size for inputs that may be empty}}
  %r = attn.paged_attention q(%q : tensor<4x8x0xf16>) k_cache(%kc : tensor<10x16x8x0xf16>) v_cache(%vc : tensor<10x16x8x0xf16>) kv_indptr(%ki : tensor<3xi32>) kv_indices(%kx : tensor<10xi32>) kv_last_page_len(%kl : tensor<2xi32>) outs(%o : tensor<4x8x0xf16>) -> tensor<4x8x0xf16>
  return %r : tensor<4x8x0xf16>
}

// -----

func.func @window_left(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{window_left must be -1 (no window) or >= 0, got -2}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) attributes {window_left = -2} -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @soft_cap_negative(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{logits_soft_cap must be finite and >= 0 (0 disables it), got -5}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) attributes {logits_soft_cap = -5.0 : f32} -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @soft_cap_inf(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{logits_soft_cap must be finite and >= 0 (0 disables it), got INF}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) attributes {logits_soft_cap = 0x7F800000 : f32} -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @sm_scale_zero(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{sm_scale must be finite and > 0, got 0}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) attributes {sm_scale = 0.0 : f32} -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @sm_scale_nan(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{sm_scale must be finite and > 0, got nan}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) attributes {sm_scale = 0x7FC00000 : f32} -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @rope_theta(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{rope_scale and rope_theta must be finite and > 0}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>, rope_theta = -1.0 : f32} -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @rope_value_without_rope(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>, %t: f32) -> tensor<16x8x64xf16> {
  // expected-error @below {{'rope_theta' given but pos_encoding is not rope_llama}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) rope_theta(%t) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @rope_scale_twice(%q: tensor<16x8x64xf16>, %kc: tensor<?x16x8x64xf16>, %vc: tensor<?x16x8x64xf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<16x8x64xf16>, %s: f32) -> tensor<16x8x64xf16> {
  // expected-error @below {{rope_scale is given both as an attribute and as an operand}}
  %r = attn.paged_attention q(%q : tensor<16x8x64xf16>) k_cache(%kc : tensor<?x16x8x64xf16>) v_cache(%vc : tensor<?x16x8x64xf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) rope_scale(%s) outs(%o : tensor<16x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>, rope_scale = 2.0 : f32} -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @rotary_attr_scale(%k: memref<?x8x64xbf16>, %i: index) {
  // expected-error @+1 {{rotary needs finite theta > 0 and scale > 0, got 1.000000e+04 and 0.000000e+00}}
  %0 = attn.load_kv_tile %k[%i, %i], %i {rotary = #attn.rotary<theta = 10000.0, scale = 0.0>} : memref<?x8x64xbf16> -> vector<32x64xbf16>
  return
}

// -----

func.func @rotary_theta_without_rotary(%k: memref<?x8x64xbf16>, %i: index, %t: f32) {
  // expected-error @+1 {{rotary_theta and rotary_scale need rotary}}
  %0 = attn.load_kv_tile %k[%i, %i], %i rotary_theta(%t) : memref<?x8x64xbf16> -> vector<32x64xbf16>
  return
}

// -----

func.func @rotary_odd_tile(%k: memref<?x8x63xbf16>, %i: index) {
  // expected-error @+1 {{a rotated tile needs an even head dim, got 63}}
  %0 = attn.load_kv_tile %k[%i, %i], %i {rotary = #attn.rotary<theta = 10000.0, scale = 1.0>} : memref<?x8x63xbf16> -> vector<32x63xbf16>
  return
}

// -----

func.func @step_rotary_scale_without_key_rotary(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x64xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x64xf32>, %m: vector<32xf32>, %s: f32) -> vector<32xf32> {
  // expected-error @+1 {{rotary_theta and rotary_scale need key_rotary}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m rotary_scale(%s) {block_n = 16 : i64, scale_log2 = 0.5 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x64xbf16>, vector<32xindex>, vector<32x64xf32>, vector<32xf32>
  return %b : vector<32xf32>
}

// -----

func.func @step_key_rotary_odd(%q: vector<32x63xbf16>, %k: memref<?x2x63xbf16>, %v: memref<?x2x64xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x64xf32>, %m: vector<32xf32>) -> vector<32xf32> {
  // expected-error @+1 {{key_rotary needs an even head dim, got 63}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 16 : i64, scale_log2 = 0.5 : f32, key_rotary = #attn.rotary<theta = 10000.0, scale = 1.0>} : vector<32x63xbf16>, memref<?x2x63xbf16>, memref<?x2x64xbf16>, vector<32xindex>, vector<32x64xf32>, vector<32xf32>
  return %b : vector<32xf32>
}

// -----

func.func @rope_odd_head_dim(%q: tensor<16x8x63xf16>, %k: tensor<32x8x63xf16>, %v: tensor<32x8x63xf16>, %o: tensor<16x8x63xf16>) -> tensor<16x8x63xf16> {
  // expected-error @below {{rope_llama needs an even head dim, got 63}}
  %r = attn.attention q(%q : tensor<16x8x63xf16>) k(%k : tensor<32x8x63xf16>) v(%v : tensor<32x8x63xf16>) outs(%o : tensor<16x8x63xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<16x8x63xf16>
  return %r : tensor<16x8x63xf16>
}

// -----

func.func @alibi_slopes_without_alibi(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %s: tensor<8xf32>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'alibi_slopes' given but pos_encoding is not alibi}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) alibi_slopes(%s : tensor<8xf32>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @alibi_slopes_count(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %s: tensor<4xf32>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'alibi_slopes' dim 0 (one slope per query head) must be 8, got 4}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) alibi_slopes(%s : tensor<4xf32>) outs(%o : tensor<16x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<alibi>} -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @sinks_count(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %s: tensor<2xf32>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'sinks' dim 0 (one sink logit per query head) must be 8, got 2}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) sinks(%s : tensor<2xf32>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @three_outputs(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>, %l: tensor<16x8xf32>) -> tensor<16x8x64xf16> {
  // expected-error @below {{expects 1 or 2 outputs (o and optionally lse), got 3}}
  %r:3 = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o, %l, %l : tensor<16x8x64xf16>, tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8x64xf16>, tensor<16x8xf32>, tensor<16x8xf32>
  return %r#0 : tensor<16x8x64xf16>
}

// -----

func.func @no_outputs(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>) {
  // expected-error @below {{expects 1 or 2 outputs (o and optionally lse), got 0}}
  "attn.attention"(%q, %k, %v) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>}> ({}, {}) : (tensor<16x8x64xf16>, tensor<32x8x64xf16>, tensor<32x8x64xf16>) -> ()
  return
}

// -----

func.func @result_types(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<?x8x64xf16> {
  // expected-error @below {{result types must match the output (outs) types}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @o_rank(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x512xf16>) -> tensor<16x512xf16> {
  // expected-error @below {{'o' must be [tokens, Hq, Dv] (rank 3), got 'tensor<16x512xf16>'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x512xf16>) -> tensor<16x512xf16>
  return %r : tensor<16x512xf16>
}

// -----

func.func @o_tokens(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<15x8x64xf16>) -> tensor<15x8x64xf16> {
  // expected-error @below {{token count mismatch: 'o' dim 0 is 15 but 'q' dim 0 is 16}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<15x8x64xf16>) -> tensor<15x8x64xf16>
  return %r : tensor<15x8x64xf16>
}

// -----

func.func @o_heads(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x4x64xf16>) -> tensor<16x4x64xf16> {
  // expected-error @below {{query head count mismatch: 'o' dim 1 is 4 but 'q' dim 1 is 8}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x4x64xf16>) -> tensor<16x4x64xf16>
  return %r : tensor<16x4x64xf16>
}

// -----

func.func @o_value_head_dim(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x128xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{value head dim mismatch: 'o' dim 2 is 64 but 'v' dim 2 is 128}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x128xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @lse_rank(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>, %l: tensor<16x8x1xf32>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'lse' must be [tokens, Hq] (rank 2), got 'tensor<16x8x1xf32>'}}
  %r:2 = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o, %l : tensor<16x8x64xf16>, tensor<16x8x1xf32>) -> tensor<16x8x64xf16>, tensor<16x8x1xf32>
  return %r#0 : tensor<16x8x64xf16>
}

// -----

func.func @lse_element_type(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>, %l: tensor<16x8xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'lse' must have element type 'f32', got 'f16'}}
  %r:2 = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o, %l : tensor<16x8x64xf16>, tensor<16x8xf16>) -> tensor<16x8x64xf16>, tensor<16x8xf16>
  return %r#0 : tensor<16x8x64xf16>
}

// -----

func.func @lse_tokens(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>, %l: tensor<8x8xf32>) -> tensor<16x8x64xf16> {
  // expected-error @below {{token count mismatch: 'lse' dim 0 is 8 but 'q' dim 0 is 16}}
  %r:2 = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o, %l : tensor<16x8x64xf16>, tensor<8x8xf32>) -> tensor<16x8x64xf16>, tensor<8x8xf32>
  return %r#0 : tensor<16x8x64xf16>
}

// -----

func.func @lse_heads(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>, %l: tensor<16x2xf32>) -> tensor<16x8x64xf16> {
  // expected-error @below {{query head count mismatch: 'lse' dim 1 is 2 but 'q' dim 1 is 8}}
  %r:2 = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o, %l : tensor<16x8x64xf16>, tensor<16x2xf32>) -> tensor<16x8x64xf16>, tensor<16x2xf32>
  return %r#0 : tensor<16x8x64xf16>
}

// -----

func.func @score_mod_args(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'score_mod' region must take ('f32', 'index', 'index', 'index', 'index') as (score, batch, q_head, q_idx, kv_idx), got ('f32', 'index', 'index', 'index')}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index):
    attn.yield %s : f32
  } -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @mask_mod_args(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'mask_mod' region must take ('index', 'index', 'index', 'index') as (batch, q_head, q_idx, kv_idx), got ('i32', 'i32', 'i32', 'i32')}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) mask_mod {
  ^bb0(%b: i32, %h: i32, %qi: i32, %ki: i32):
    %m = arith.cmpi sle, %ki, %qi : i32
    attn.yield %m : i1
  } -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @mask_mod_terminator(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'mask_mod' region must end with attn.yield}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    llvm.unreachable
  } -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @score_mod_yield_type(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'score_mod' region must yield 'f32', got 'f16'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %t = arith.truncf %s : f32 to f16
    attn.yield %t : f16
  } -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @mask_mod_yield_type(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'mask_mod' region must yield 'i1', got 'index'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    attn.yield %ki : index
  } -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

// The regions are functions of their arguments: no value from outside.
func.func @score_mod_capture(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>, %c: f32) -> tensor<16x8x64xf16> {
  // expected-error @below {{'score_mod' region: 'arith.mulf' uses a value defined outside the region; the regions are functions of their arguments}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    // expected-note @below {{here}}
    %t = arith.mulf %s, %c : f32
    attn.yield %t : f32
  } -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

// ... built of scalar elementwise ops (arith, math).
func.func @mask_mod_not_elementwise(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>, %t: tensor<?xi1>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'mask_mod' region: 'tensor.extract' is not a scalar elementwise op without side effects (the regions take arith and math ops)}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    // expected-note @below {{here}}
    %m = tensor.extract %t[%ki] : tensor<?xi1>
    attn.yield %m : i1
  } -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @score_mod_vector(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'score_mod' region: 'vector.broadcast' is not a scalar elementwise op}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    // expected-note @below {{here}}
    %w = vector.broadcast %s : f32 to vector<4xf32>
    attn.yield %s : f32
  } -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @yield_outside(%x: f32) {
  // expected-error @below {{expects parent op to be one of 'attn.attention, attn.paged_attention, attn.online_attention_step'}}
  attn.yield %x : f32
}

//===----------------------------------------------------------------------===//
// attn.paged_attention
//===----------------------------------------------------------------------===//

// -----

func.func @paged_q_rank(%q: tensor<f16>, %kc: tensor<?x16x8x64xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{'q' must be [tokens, Hq, D] (rank 3), got 'tensor<f16>'}}
  %r = attn.paged_attention q(%q : tensor<f16>) k_cache(%kc : tensor<?x16x8x64xf16>) v_cache(%kc : tensor<?x16x8x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

// -----

func.func @paged_k_rank_nhd(%q: tensor<2x8x64xf16>, %kc: tensor<?x8x64xf16>, %vc: tensor<?x16x8x64xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{'k_cache' must be [num_pages, page_size, Hkv, D] (nhd) (rank 4), got 'tensor<?x8x64xf16>'}}
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<?x8x64xf16>) v_cache(%vc : tensor<?x16x8x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

// -----

func.func @paged_v_rank_hnd(%q: tensor<2x8x64xf16>, %kc: tensor<?x8x16x64xf16>, %vc: tensor<?x8x16x64x1xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{'v_cache' must be [num_pages, Hkv, page_size, D] (hnd) (rank 4), got 'tensor<?x8x16x64x1xf16>'}}
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<?x8x16x64xf16>) v_cache(%vc : tensor<?x8x16x64x1xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) attributes {kv_layout = #attn.kv_layout<hnd>} -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

// -----

func.func @paged_page_count(%q: tensor<2x8x64xf16>, %kc: tensor<10x16x8x64xf16>, %vc: tensor<12x16x8x64xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{page count mismatch: 'v_cache' dim 0 is 12 but 'k_cache' dim 0 is 10}}
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<10x16x8x64xf16>) v_cache(%vc : tensor<12x16x8x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

// -----

func.func @paged_page_size_hnd(%q: tensor<2x8x64xf16>, %kc: tensor<?x8x16x64xf16>, %vc: tensor<?x8x32x64xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{page size mismatch: 'v_cache' dim 2 is 32 but 'k_cache' dim 2 is 16}}
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<?x8x16x64xf16>) v_cache(%vc : tensor<?x8x32x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) attributes {kv_layout = #attn.kv_layout<hnd>} -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

// -----

func.func @paged_last_page_len(%q: tensor<2x8x64xf16>, %kc: tensor<?x16x8x64xf16>, %ip: tensor<3xi32>, %last: tensor<3xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{'kv_last_page_len' dim 0 (batch size) must be 2, got 3}}
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<?x16x8x64xf16>) v_cache(%kc : tensor<?x16x8x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<3xi32>) outs(%o : tensor<2x8x64xf16>) -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

// -----

func.func @paged_qo_indptr(%q: tensor<?x8x64xf16>, %kc: tensor<?x16x8x64xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %qo: tensor<4xi32>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  // expected-error @below {{batch size + 1 mismatch: 'qo_indptr' dim 0 is 4 but 'kv_indptr' dim 0 is 3}}
  %r = attn.paged_attention q(%q : tensor<?x8x64xf16>) k_cache(%kc : tensor<?x16x8x64xf16>) v_cache(%kc : tensor<?x16x8x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) qo_indptr(%qo : tensor<4xi32>) outs(%o : tensor<?x8x64xf16>) -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @paged_decode_tokens(%q: tensor<3x8x64xf16>, %kc: tensor<?x16x8x64xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<3x8x64xf16>) -> tensor<3x8x64xf16> {
  // expected-error @below {{'q' dim 0 (one query token per request in decode) must be 2, got 3}}
  %r = attn.paged_attention q(%q : tensor<3x8x64xf16>) k_cache(%kc : tensor<?x16x8x64xf16>) v_cache(%kc : tensor<?x16x8x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<3x8x64xf16>) -> tensor<3x8x64xf16>
  return %r : tensor<3x8x64xf16>
}

// -----

func.func @paged_dynamic_head_dim(%q: tensor<2x8x?xf16>, %kc: tensor<?x16x8x?xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x?xf16>) -> tensor<2x8x?xf16> {
  // expected-error @below {{needs an explicit sm_scale when the head dim is dynamic}}
  %r = attn.paged_attention q(%q : tensor<2x8x?xf16>) k_cache(%kc : tensor<?x16x8x?xf16>) v_cache(%kc : tensor<?x16x8x?xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x?xf16>) -> tensor<2x8x?xf16>
  return %r : tensor<2x8x?xf16>
}

// -----

// Head counts are read from dim 1 in the hnd layout.
func.func @paged_gqa_hnd(%q: tensor<2x8x64xf16>, %kc: tensor<?x3x16x64xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{query head count (8) must be a multiple of the KV head count (3) for GQA/MQA}}
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<?x3x16x64xf16>) v_cache(%kc : tensor<?x3x16x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) attributes {kv_layout = #attn.kv_layout<hnd>} -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

// -----

func.func @paged_head_dim(%q: tensor<2x8x64xf16>, %kc: tensor<?x16x8x128xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{head dim mismatch: 'k_cache' dim 3 is 128 but 'q' dim 2 is 64}}
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<?x16x8x128xf16>) v_cache(%kc : tensor<?x16x8x128xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

// -----

func.func @paged_o_value_head_dim(%q: tensor<2x8x64xf16>, %kc: tensor<?x16x8x64xf16>, %vc: tensor<?x16x8x32xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{value head dim mismatch: 'o' dim 2 is 64 but 'v_cache' dim 3 is 32}}
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<?x16x8x64xf16>) v_cache(%vc : tensor<?x16x8x32xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

// -----

func.func @paged_mask_mod_args(%q: tensor<2x8x64xf16>, %kc: tensor<?x16x8x64xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{'mask_mod' region must take ('index', 'index', 'index', 'index') as (batch, q_head, q_idx, kv_idx), got ('f32', 'index', 'index', 'index', 'index')}}
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<?x16x8x64xf16>) v_cache(%kc : tensor<?x16x8x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) mask_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %m = arith.cmpi sle, %ki, %qi : index
    attn.yield %m : i1
  } -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

//===----------------------------------------------------------------------===//
// attn.merge_states
//===----------------------------------------------------------------------===//

// -----

func.func @merge_segmented_two_states(%ip: tensor<?xi32>, %v0: tensor<?x8x64xf32>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  // expected-error @below {{with 'indptr' takes one state whose rows are merged, got 2}}
  %v, %s = attn.merge_states indptr(%ip : tensor<?xi32>) values(%v0, %v0 : tensor<?x8x64xf32>, tensor<?x8x64xf32>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// -----

func.func @merge_segmented_indptr_length(%ip: tensor<5xi32>, %v0: tensor<?x8x64xf32>, %s0: tensor<?x8xf32>, %vo: tensor<3x8x64xf16>, %so: tensor<3x8xf32>) -> (tensor<3x8x64xf16>, tensor<3x8xf32>) {
  // expected-error @below {{'indptr' dim 0 (output rows + 1) must be 4, got 5}}
  %v, %s = attn.merge_states indptr(%ip : tensor<5xi32>) values(%v0 : tensor<?x8x64xf32>) lse(%s0 : tensor<?x8xf32>) outs(%vo, %so : tensor<3x8x64xf16>, tensor<3x8xf32>) -> tensor<3x8x64xf16>, tensor<3x8xf32>
  return %v, %s : tensor<3x8x64xf16>, tensor<3x8xf32>
}

// -----

func.func @merge_segmented_rows(%ip: tensor<?xi32>, %v0: tensor<7x8x64xf32>, %s0: tensor<6x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  // expected-error @below {{state row count mismatch: 'lse #0' dim 0 is 6 but 'values #0' dim 0 is 7}}
  %v, %s = attn.merge_states indptr(%ip : tensor<?xi32>) values(%v0 : tensor<7x8x64xf32>) lse(%s0 : tensor<6x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// -----

func.func @merge_segmented_heads(%ip: tensor<?xi32>, %v0: tensor<?x4x64xf32>, %s0: tensor<?x4xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  // expected-error @below {{state shape mismatch: 'values #0' dim 1 is 4 but 'outs v' dim 1 is 8}}
  %v, %s = attn.merge_states indptr(%ip : tensor<?xi32>) values(%v0 : tensor<?x4x64xf32>) lse(%s0 : tensor<?x4xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// -----

func.func @merge_one_state(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  // expected-error @below {{needs at least 2 states to merge, got 1}}
  %v, %s = attn.merge_states values(%v0 : tensor<?x8x64xf16>) lse(%s0 : tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// -----

func.func @merge_lse_count(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  // expected-error @below {{needs one lse per value: 3 values but 2 lse}}
  %v, %s = attn.merge_states values(%v0, %v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// -----

func.func @merge_one_output(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  // expected-error @below {{expects 2 outputs (v, lse), got 1}}
  %v = attn.merge_states values(%v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo : tensor<?x8x64xf16>) -> tensor<?x8x64xf16>
  return %v : tensor<?x8x64xf16>
}

// -----

func.func @merge_result_types(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf32>, tensor<?x8xf32>) {
  // expected-error @below {{result types must match the output (outs) types}}
  %v, %s = attn.merge_states values(%v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf32>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf32>, tensor<?x8xf32>
}

// -----

func.func @merge_out_rank(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x512xf16>, %so: tensor<?x8xf32>) -> (tensor<?x512xf16>, tensor<?x8xf32>) {
  // expected-error @below {{'outs v' must be [tokens, H, D] (rank 3), got 'tensor<?x512xf16>'}}
  %v, %s = attn.merge_states values(%v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<?x512xf16>, tensor<?x8xf32>) -> tensor<?x512xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x512xf16>, tensor<?x8xf32>
}

// -----

func.func @merge_out_lse_rank(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?xf32>) -> (tensor<?x8x64xf16>, tensor<?xf32>) {
  // expected-error @below {{'outs lse' must be [tokens, H] (rank 2), got 'tensor<?xf32>'}}
  %v, %s = attn.merge_states values(%v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?xf32>) -> tensor<?x8x64xf16>, tensor<?xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?xf32>
}

// -----

// The merged lse is f32 like every lse; an f16 one used to be accepted.
func.func @merge_out_lse_element_type(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf16>) -> (tensor<?x8x64xf16>, tensor<?x8xf16>) {
  // expected-error @below {{'outs lse' must have element type 'f32', got 'f16'}}
  %v, %s = attn.merge_states values(%v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf16>) -> tensor<?x8x64xf16>, tensor<?x8xf16>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf16>
}

// -----

func.func @merge_out_tokens(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %vo: tensor<4x8x64xf16>, %so: tensor<5x8xf32>) -> (tensor<4x8x64xf16>, tensor<5x8xf32>) {
  // expected-error @below {{token count mismatch: 'outs lse' dim 0 is 5 but 'outs v' dim 0 is 4}}
  %v, %s = attn.merge_states values(%v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<4x8x64xf16>, tensor<5x8xf32>) -> tensor<4x8x64xf16>, tensor<5x8xf32>
  return %v, %s : tensor<4x8x64xf16>, tensor<5x8xf32>
}

// -----

func.func @merge_out_heads(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x4xf32>) -> (tensor<?x8x64xf16>, tensor<?x4xf32>) {
  // expected-error @below {{head count mismatch: 'outs lse' dim 1 is 4 but 'outs v' dim 1 is 8}}
  %v, %s = attn.merge_states values(%v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x4xf32>) -> tensor<?x8x64xf16>, tensor<?x4xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x4xf32>
}

// -----

func.func @merge_value_rank(%v0: tensor<?x8x64xf16>, %v1: tensor<?x512xf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  // expected-error @below {{'values #1' must be [tokens, H, D] (rank 3), got 'tensor<?x512xf16>'}}
  %v, %s = attn.merge_states values(%v0, %v1 : tensor<?x8x64xf16>, tensor<?x512xf16>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// -----

func.func @merge_lse_rank(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %s1: tensor<?x8x1xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  // expected-error @below {{'lse #1' must be [tokens, H] (rank 2), got 'tensor<?x8x1xf32>'}}
  %v, %s = attn.merge_states values(%v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s1 : tensor<?x8xf32>, tensor<?x8x1xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// -----

func.func @merge_state_shape(%v0: tensor<?x8x64xf16>, %v1: tensor<?x8x32xf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  // expected-error @below {{state shape mismatch: 'values #1' dim 2 is 32 but 'outs v' dim 2 is 64}}
  %v, %s = attn.merge_states values(%v0, %v1 : tensor<?x8x64xf16>, tensor<?x8x32xf16>) lse(%s0, %s0 : tensor<?x8xf32>, tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// -----

func.func @merge_lse_shape(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf32>, %s1: tensor<?x2xf32>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  // expected-error @below {{lse shape mismatch: 'lse #1' dim 1 is 2 but 'outs lse' dim 1 is 8}}
  %v, %s = attn.merge_states values(%v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s1 : tensor<?x8xf32>, tensor<?x2xf32>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

//===----------------------------------------------------------------------===//
// attn.rope
//===----------------------------------------------------------------------===//

// -----

func.func @rope_rank(%x: tensor<?x64xf16>, %p: tensor<?xi32>) -> tensor<?x64xf16> {
  // expected-error @below {{'input' must be [tokens, H, D] (rank 3), got 'tensor<?x64xf16>'}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%x : tensor<?x64xf16>) : tensor<?x64xf16> -> tensor<?x64xf16>
  return %r : tensor<?x64xf16>
}

// -----

func.func @rope_element_type(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %o: tensor<?x8x64xbf16>) -> tensor<?x8x64xbf16> {
  // expected-error @below {{'input' and 'outs' must have the same element type, got 'f16' and 'bf16'}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%o : tensor<?x8x64xbf16>) : tensor<?x8x64xf16> -> tensor<?x8x64xbf16>
  return %r : tensor<?x8x64xbf16>
}

// -----

func.func @rope_outs_type(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %o: tensor<4x8x64xf16>) -> tensor<4x8x64xf16> {
  // expected-error @below {{'outs' type 'tensor<4x8x64xf16>' must equal the input type 'tensor<?x8x64xf16>'}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%o : tensor<4x8x64xf16>) : tensor<?x8x64xf16> -> tensor<4x8x64xf16>
  return %r : tensor<4x8x64xf16>
}

// -----

func.func @rope_pos_ids(%x: tensor<4x8x64xf16>, %p: tensor<5xi32>) -> tensor<4x8x64xf16> {
  // expected-error @below {{token count mismatch: 'pos_ids' dim 0 is 5 but 'input' dim 0 is 4}}
  %r = attn.rope %x pos_ids(%p : tensor<5xi32>) outs(%x : tensor<4x8x64xf16>) : tensor<4x8x64xf16> -> tensor<4x8x64xf16>
  return %r : tensor<4x8x64xf16>
}

// -----

func.func @rope_two_positions(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %ip: tensor<?xi32>, %off: tensor<?xi32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{takes positions as pos_ids or as indptr and offsets, not both}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) indptr(%ip : tensor<?xi32>) offsets(%off : tensor<?xi32>) outs(%x : tensor<?x8x64xf16>) : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_indptr_alone(%x: tensor<?x8x64xf16>, %ip: tensor<?xi32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{needs the positions: pos_ids, or indptr and offsets together}}
  %r = attn.rope %x indptr(%ip : tensor<?xi32>) outs(%x : tensor<?x8x64xf16>) : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_offsets_size(%x: tensor<?x8x64xf16>, %ip: tensor<4xi32>, %off: tensor<4xi32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{'offsets' dim 0 (one offset per request, indptr's size - 1) must be 3, got 4}}
  %r = attn.rope %x indptr(%ip : tensor<4xi32>) offsets(%off : tensor<4xi32>) outs(%x : tensor<?x8x64xf16>) : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_cache_width(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %c: tensor<?x32xf32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{'cos_sin_cache' dim 1 (cos and sin of each pair, rotary_dim) must be 16, got 32}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) cos_sin_cache(%c : tensor<?x32xf32>) outs(%x : tensor<?x8x64xf16>) {rotary_dim = 16} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_cache_dynamic_width(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %c: tensor<?x?xf32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{needs rotary_dim when the width of cos_sin_cache is dynamic}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) cos_sin_cache(%c : tensor<?x?xf32>) outs(%x : tensor<?x8x64xf16>) : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_cache_with_theta(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %c: tensor<?x64xf32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{cos_sin_cache holds the angles: rope_scale, rope_theta and llama31_scaling do not apply}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) cos_sin_cache(%c : tensor<?x64xf32>) outs(%x : tensor<?x8x64xf16>) {rope_theta = 500000.0 : f32} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_theta_twice(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %t: f32) -> tensor<?x8x64xf16> {
  // expected-error @below {{rope_theta is given both as an attribute and as an operand}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) rope_theta(%t) outs(%x : tensor<?x8x64xf16>) {rope_theta = 500000.0 : f32} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_scale_twice(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %s: f32) -> tensor<?x8x64xf16> {
  // expected-error @below {{rope_scale is given both as an attribute and as an operand}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) rope_scale(%s) outs(%x : tensor<?x8x64xf16>) {rope_scale = 8.0 : f32} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_cache_with_theta_operand(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>, %c: tensor<?x64xf32>, %t: f32) -> tensor<?x8x64xf16> {
  // expected-error @below {{cos_sin_cache holds the angles: rope_scale, rope_theta and llama31_scaling do not apply}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) cos_sin_cache(%c : tensor<?x64xf32>) rope_theta(%t) outs(%x : tensor<?x8x64xf16>) : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_llama31_band(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{llama31_scaling needs 0 < low_freq_factor < high_freq_factor, got 4.000000e+00 and 4.000000e+00}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%x : tensor<?x8x64xf16>) {llama31_scaling = #attn.llama31_scaling<low_freq_factor = 4.0, high_freq_factor = 4.0, old_context_len = 8192.0>} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_llama31_context(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{llama31_scaling needs old_context_len > 0, got 0.000000e+00}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%x : tensor<?x8x64xf16>) {llama31_scaling = #attn.llama31_scaling<low_freq_factor = 1.0, high_freq_factor = 4.0, old_context_len = 0.0>} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_rotary_dim_odd(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{rotary_dim must be positive and even, got 33}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%x : tensor<?x8x64xf16>) {rotary_dim = 33} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

// Negative rotary_dim used to pass as a huge unsigned value when the head dim
// is dynamic.
func.func @rope_rotary_dim_negative(%x: tensor<?x8x?xf16>, %p: tensor<?xi32>) -> tensor<?x8x?xf16> {
  // expected-error @below {{rotary_dim must be positive and even, got -2}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%x : tensor<?x8x?xf16>) {rotary_dim = -2} : tensor<?x8x?xf16> -> tensor<?x8x?xf16>
  return %r : tensor<?x8x?xf16>
}

// -----

func.func @rope_rotary_dim_too_big(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{rotary_dim (128) exceeds the head dim (64)}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%x : tensor<?x8x64xf16>) {rotary_dim = 128} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @rope_dynamic_head_dim(%x: tensor<?x8x?xf16>, %p: tensor<?xi32>) -> tensor<?x8x?xf16> {
  // expected-error @below {{needs rotary_dim when the head dim is dynamic}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%x : tensor<?x8x?xf16>) : tensor<?x8x?xf16> -> tensor<?x8x?xf16>
  return %r : tensor<?x8x?xf16>
}

// -----

func.func @rope_odd_head_dim(%x: tensor<?x8x65xf16>, %p: tensor<?xi32>) -> tensor<?x8x65xf16> {
  // expected-error @below {{head dim must be even to rotate pairs, got 65}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%x : tensor<?x8x65xf16>) : tensor<?x8x65xf16> -> tensor<?x8x65xf16>
  return %r : tensor<?x8x65xf16>
}

// -----

func.func @rope_scale(%x: tensor<?x8x64xf16>, %p: tensor<?xi32>) -> tensor<?x8x64xf16> {
  // expected-error @below {{rope_scale and rope_theta must be > 0}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%x : tensor<?x8x64xf16>) {rope_scale = 0.0 : f32} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

//===----------------------------------------------------------------------===//
// attn.append_paged_kv
//===----------------------------------------------------------------------===//

// -----

func.func @append_k_rank(%k: tensor<?x512xf16>, %v: tensor<?x8x64xf16>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{'k' must be [tokens, Hkv, D] (rank 3), got 'tensor<?x512xf16>'}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x512xf16>) v(%v : tensor<?x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %a, %b : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_v_rank(%k: tensor<?x8x64xf16>, %v: tensor<?x8x64x1xf16>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{'v' must be [tokens, Hkv, Dv] (rank 3), got 'tensor<?x8x64x1xf16>'}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x64x1xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %a, %b : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_k_cache_rank(%k: tensor<?x8x64xf16>, %i: tensor<?xi32>, %kc: tensor<?x8x64xf16>, %vc: tensor<?x16x8x64xf16>) -> (tensor<?x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{'k_cache' must be [num_pages, page_size, Hkv, D] (nhd) (rank 4), got 'tensor<?x8x64xf16>'}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%k : tensor<?x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %vc : tensor<?x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x8x64xf16>, tensor<?x16x8x64xf16>
  return %a, %b : tensor<?x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_v_cache_rank_hnd(%k: tensor<?x8x64xf16>, %i: tensor<?xi32>, %kc: tensor<?x8x16x64xf16>, %vc: tensor<?x8x16xf16>) -> (tensor<?x8x16x64xf16>, tensor<?x8x16xf16>) {
  // expected-error @below {{'v_cache' must be [num_pages, Hkv, page_size, D] (hnd) (rank 4), got 'tensor<?x8x16xf16>'}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%k : tensor<?x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %vc : tensor<?x8x16x64xf16>, tensor<?x8x16xf16>) {kv_layout = #attn.kv_layout<hnd>} -> tensor<?x8x16x64xf16>, tensor<?x8x16xf16>
  return %a, %b : tensor<?x8x16x64xf16>, tensor<?x8x16xf16>
}

// -----

func.func @append_k_element_type(%k: tensor<?x8x64xbf16>, %v: tensor<?x8x64xf16>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{'k' and 'k_cache' must have the same element type, got 'bf16' and 'f16'}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x64xbf16>) v(%v : tensor<?x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %a, %b : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_v_element_type(%k: tensor<?x8x64xf16>, %v: tensor<?x8x64xf32>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{'v' and 'v_cache' must have the same element type, got 'f32' and 'f16'}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x64xf32>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %a, %b : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_tokens(%k: tensor<4x8x64xf16>, %v: tensor<5x8x64xf16>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{token count mismatch: 'v' dim 0 is 5 but 'k' dim 0 is 4}}
  %a, %b = attn.append_paged_kv k(%k : tensor<4x8x64xf16>) v(%v : tensor<5x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %a, %b : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_k_heads_hnd(%k: tensor<?x8x64xf16>, %i: tensor<?xi32>, %kc: tensor<?x4x16x64xf16>, %vc: tensor<?x8x16x64xf16>) -> (tensor<?x4x16x64xf16>, tensor<?x8x16x64xf16>) {
  // expected-error @below {{KV head count mismatch: 'k_cache' dim 1 is 4 but 'k' dim 1 is 8}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%k : tensor<?x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %vc : tensor<?x4x16x64xf16>, tensor<?x8x16x64xf16>) {kv_layout = #attn.kv_layout<hnd>} -> tensor<?x4x16x64xf16>, tensor<?x8x16x64xf16>
  return %a, %b : tensor<?x4x16x64xf16>, tensor<?x8x16x64xf16>
}

// -----

func.func @append_v_heads(%k: tensor<?x8x64xf16>, %v: tensor<?x4x64xf16>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{KV head count mismatch: 'v_cache' dim 2 is 8 but 'v' dim 1 is 4}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x4x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %a, %b : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_head_dim(%k: tensor<?x8x32xf16>, %v: tensor<?x8x64xf16>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{head dim mismatch: 'k_cache' dim 3 is 64 but 'k' dim 2 is 32}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x32xf16>) v(%v : tensor<?x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %a, %b : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_value_head_dim(%k: tensor<?x8x64xf16>, %v: tensor<?x8x32xf16>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{value head dim mismatch: 'v_cache' dim 3 is 64 but 'v' dim 2 is 32}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x32xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %a, %b : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_page_count(%k: tensor<?x8x64xf16>, %i: tensor<?xi32>, %kc: tensor<10x16x8x64xf16>, %vc: tensor<11x16x8x64xf16>) -> (tensor<10x16x8x64xf16>, tensor<11x16x8x64xf16>) {
  // expected-error @below {{page count mismatch: 'v_cache' dim 0 is 11 but 'k_cache' dim 0 is 10}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%k : tensor<?x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %vc : tensor<10x16x8x64xf16>, tensor<11x16x8x64xf16>) -> tensor<10x16x8x64xf16>, tensor<11x16x8x64xf16>
  return %a, %b : tensor<10x16x8x64xf16>, tensor<11x16x8x64xf16>
}

// -----

func.func @append_page_size(%k: tensor<?x8x64xf16>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>, %vc: tensor<?x32x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x32x8x64xf16>) {
  // expected-error @below {{page size mismatch: 'v_cache' dim 1 is 32 but 'k_cache' dim 1 is 16}}
  %a, %b = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%k : tensor<?x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %vc : tensor<?x16x8x64xf16>, tensor<?x32x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x32x8x64xf16>
  return %a, %b : tensor<?x16x8x64xf16>, tensor<?x32x8x64xf16>
}

// -----

func.func @append_batch_indices(%k: tensor<4x8x64xf16>, %b: tensor<3xi32>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{token count mismatch: 'batch_indices' dim 0 is 3 but 'k' dim 0 is 4}}
  %x, %y = attn.append_paged_kv k(%k : tensor<4x8x64xf16>) v(%k : tensor<4x8x64xf16>) batch_indices(%b : tensor<3xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %x, %y : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_positions(%k: tensor<4x8x64xf16>, %p: tensor<5xi32>, %i: tensor<?xi32>, %kc: tensor<?x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) {
  // expected-error @below {{token count mismatch: 'positions' dim 0 is 5 but 'k' dim 0 is 4}}
  %x, %y = attn.append_paged_kv k(%k : tensor<4x8x64xf16>) v(%k : tensor<4x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%p : tensor<5xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
  return %x, %y : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
}

// -----

func.func @append_result_types(%k: tensor<?x8x64xf16>, %i: tensor<?xi32>, %kc: tensor<4x16x8x64xf16>) -> (tensor<?x16x8x64xf16>, tensor<4x16x8x64xf16>) {
  // expected-error @below {{result types must match the cache (outs) types}}
  %x, %y = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%k : tensor<?x8x64xf16>) batch_indices(%i : tensor<?xi32>) positions(%i : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%i : tensor<?xi32>) outs(%kc, %kc : tensor<4x16x8x64xf16>, tensor<4x16x8x64xf16>) -> tensor<?x16x8x64xf16>, tensor<4x16x8x64xf16>
  return %x, %y : tensor<?x16x8x64xf16>, tensor<4x16x8x64xf16>
}

//===----------------------------------------------------------------------===//
// ODS type constraints
//===----------------------------------------------------------------------===//

// -----

func.func @integer_query(%q: tensor<16x8x64xi8>, %k: tensor<32x8x64xi8>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<16x8x64xi8>'}}
  %r = attn.attention q(%q : tensor<16x8x64xi8>) k(%k : tensor<32x8x64xi8>) v(%k : tensor<32x8x64xi8>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @indptr_i64(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %ip: tensor<3xi64>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{operand #3 must be 1D tensor of 32-bit signless integer values, but got 'tensor<3xi64>'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%k : tensor<32x8x64xf16>) qo_indptr(%ip : tensor<3xi64>) kv_indptr(%ip : tensor<3xi64>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @sinks_f16(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %s: tensor<8xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{operand #3 must be 1D tensor of 32-bit float values, but got 'tensor<8xf16>'}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%k : tensor<32x8x64xf16>) sinks(%s : tensor<8xf16>) outs(%o : tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @merge_lse_f16(%v0: tensor<?x8x64xf16>, %s0: tensor<?x8xf16>, %vo: tensor<?x8x64xf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  // expected-error @below {{operand #2 must be variadic of ranked tensor of 32-bit float values, but got 'tensor<?x8xf16>'}}
  %v, %s = attn.merge_states values(%v0, %v0 : tensor<?x8x64xf16>, tensor<?x8x64xf16>) lse(%s0, %s0 : tensor<?x8xf16>, tensor<?x8xf16>) outs(%vo, %so : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x64xf16>, tensor<?x8xf32>
}

// -----

func.func @unranked(%q: tensor<*xf16>, %k: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<*xf16>'}}
  %r = "attn.attention"(%q, %k, %k, %o) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1>}> ({}, {}) : (tensor<*xf16>, tensor<32x8x64xf16>, tensor<32x8x64xf16>, tensor<16x8x64xf16>) -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @bad_layout(%q: tensor<2x8x64xf16>, %kc: tensor<?x16x8x64xf16>, %ip: tensor<3xi32>, %last: tensor<2xi32>, %o: tensor<2x8x64xf16>) -> tensor<2x8x64xf16> {
  // expected-error @below {{expected ::mlir::attn::KVLayout to be one of: nhd, hnd}}
  // expected-error @below {{failed to parse Attn_KVLayoutAttr parameter 'value'}}
  %r = attn.paged_attention q(%q : tensor<2x8x64xf16>) k_cache(%kc : tensor<?x16x8x64xf16>) v_cache(%kc : tensor<?x16x8x64xf16>) kv_indptr(%ip : tensor<3xi32>) kv_indices(%ip : tensor<3xi32>) kv_last_page_len(%last : tensor<2xi32>) outs(%o : tensor<2x8x64xf16>) attributes {kv_layout = #attn.kv_layout<nchw>} -> tensor<2x8x64xf16>
  return %r : tensor<2x8x64xf16>
}

//===----------------------------------------------------------------------===//
// attn.kernel_manifest and #attn.kernel
//===----------------------------------------------------------------------===//

// -----

gpu.module @m {}
// expected-error @below {{launch 0 names kernel 'missing', which is not described}}
attn.kernel_manifest @m {arguments = [], kernels = [], launches = [#attn.launch<kernel = "missing", arguments = []>], target = "sm_90a"}

// -----

gpu.module @m {}
// expected-error @below {{launch 0 of 'k' passes 2 arguments; the kernel takes 1}}
attn.kernel_manifest @m {arguments = ["a", "b"], kernels = [#attn.kernel<args = [{name = "a"}], block = [1, 1, 1], grid = [1, 1, 1], name = "k", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [#attn.launch<kernel = "k", arguments = [0, 1]>], target = "sm_90a"}

// -----

gpu.module @m {}
// expected-error @below {{launch 0 of 'k' passes sequence argument 3, outside the 1 arguments}}
attn.kernel_manifest @m {arguments = ["a"], kernels = [#attn.kernel<args = [{name = "a"}], block = [1, 1, 1], grid = [1, 1, 1], name = "k", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [#attn.launch<kernel = "k", arguments = [3]>], target = "sm_90a"}

// -----

gpu.module @m {}
// expected-error @below {{kernel 'k' is described twice}}
attn.kernel_manifest @m {arguments = [], kernels = [#attn.kernel<args = [], block = [1, 1, 1], grid = [1, 1, 1], name = "k", op = "attn.attention", params = {}, static_shared_memory = 0>, #attn.kernel<args = [], block = [1, 1, 1], grid = [1, 1, 1], name = "k", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [], target = "sm_90a"}

// -----

func.func @not_kernels() {
  return
}
// expected-error @below {{'not_kernels' is not a gpu.module or gpu.binary}}
attn.kernel_manifest @not_kernels {arguments = [], kernels = [], launches = [], target = "sm_90a"}

// -----

gpu.module @m {}
// expected-error @below {{#attn.kernel 'k': block must be 3 positive sizes}}
attn.kernel_manifest @m {arguments = [], kernels = [#attn.kernel<args = [], block = [0, 1, 1], grid = [1, 1, 1], name = "k", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [], target = "sm_90a"}

// -----

gpu.module @m {}
// expected-error @below {{#attn.kernel 'k': argument 0 must be a dictionary with a string 'name'}}
attn.kernel_manifest @m {arguments = [], kernels = [#attn.kernel<args = [1], block = [1, 1, 1], grid = [1, 1, 1], name = "k", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [], target = "sm_90a"}

// -----

func.func @in_function() {
  // expected-error @below {{expects parent op 'builtin.module'}}
  attn.kernel_manifest @m {arguments = [], kernels = [], launches = [], target = "sm_90a"}
  return
}

// -----

func.func @sm_scale_twice(%q: tensor<4x8x64xf16>, %k: tensor<9x2x64xf16>, %o: tensor<4x8x64xf16>, %s: f32) -> tensor<4x8x64xf16> {
  // expected-error @below {{sm_scale is given both as an attribute and as an operand}}
  %r = attn.attention q(%q : tensor<4x8x64xf16>) k(%k : tensor<9x2x64xf16>) v(%k : tensor<9x2x64xf16>) sm_scale(%s) outs(%o : tensor<4x8x64xf16>) attributes {sm_scale = 0.5 : f32} -> tensor<4x8x64xf16>
  return %r : tensor<4x8x64xf16>
}

// -----

func.func @soft_cap_twice(%q: tensor<4x8x64xf16>, %k: tensor<9x2x64xf16>, %o: tensor<4x8x64xf16>, %c: f32) -> tensor<4x8x64xf16> {
  // expected-error @below {{logits_soft_cap is given both as an attribute and as an operand}}
  %r = attn.attention q(%q : tensor<4x8x64xf16>) k(%k : tensor<9x2x64xf16>) v(%k : tensor<9x2x64xf16>) logits_soft_cap(%c) outs(%o : tensor<4x8x64xf16>) attributes {logits_soft_cap = 30.0 : f32} -> tensor<4x8x64xf16>
  return %r : tensor<4x8x64xf16>
}

// -----

func.func @window_twice(%q: tensor<4x8x64xf16>, %k: tensor<9x2x64xf16>, %o: tensor<4x8x64xf16>, %w: i64) -> tensor<4x8x64xf16> {
  // expected-error @below {{window_left is given both as an attribute and as an operand}}
  %r = attn.attention q(%q : tensor<4x8x64xf16>) k(%k : tensor<9x2x64xf16>) v(%k : tensor<9x2x64xf16>) window_left(%w) outs(%o : tensor<4x8x64xf16>) attributes {window_left = 4 : i64} -> tensor<4x8x64xf16>
  return %r : tensor<4x8x64xf16>
}

// -----

func.func @step_scale_twice(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %h: index, %len: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>, %s: f32) -> vector<32xf32> {
  // expected-error @below {{takes exactly one of the scale_log2 attribute and its operand}}
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %h], %v, %len, %pos, %acc, %m, %m scale_log2(%s) {block_n = 16 : i64, scale_log2 = 0.5 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %b : vector<32xf32>
}

// -----

func.func @step_regions_need_heads(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %h: index, %len: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) -> vector<32xf32> {
  // expected-error @below {{score_mod/mask_mod regions need the batch and query_heads operands}}
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %h], %v, %len, %pos, %acc, %m, %m mask_mod {
  ^bb0(%bi: index, %hi: index, %qi: index, %ki: index):
    %t = arith.cmpi sle, %ki, %qi : index
    attn.yield %t : i1
  } {block_n = 16 : i64, scale_log2 = 0.5 : f32, masked} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %b : vector<32xf32>
}

// -----

func.func @step_row_values_without_region(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %h: index, %len: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) -> vector<32xf32> {
  // expected-error @below {{row_values are read only by score_mod/mask_mod regions}}
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %h], %v, %len, %pos, %acc, %m, %m batch(%h) query_heads(%pos : vector<32xindex>) row_values(%m : vector<32xf32>) {block_n = 16 : i64, scale_log2 = 0.5 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %b : vector<32xf32>
}

// -----

func.func @step_region_row_value_args(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %h: index, %len: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) -> vector<32xf32> {
  // expected-error @below {{'score_mod' region must take ('f32', 'index', 'index', 'index', 'index', 'f32') as (score, batch, q_head, q_idx, kv_idx, row values), got ('f32', 'index', 'index', 'index', 'index')}}
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %h], %v, %len, %pos, %acc, %m, %m batch(%h) query_heads(%pos : vector<32xindex>) row_values(%m : vector<32xf32>) score_mod {
  ^bb0(%s: f32, %bi: index, %hi: index, %qi: index, %ki: index):
    attn.yield %s : f32
  } {block_n = 16 : i64, scale_log2 = 0.5 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %b : vector<32xf32>
}

// -----

func.func @step_mask_operands_together(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %h: index, %len: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>, %bits: memref<?xi8>) -> vector<32xf32> {
  // expected-error @below {{custom_mask takes the bits, the first bit and the bits per row together}}
  %a, %b, %c = "attn.online_attention_step"(%q, %k, %h, %h, %v, %len, %pos, %acc, %m, %m, %bits) <{block_n = 16 : i64, scale_log2 = 0.5 : f32, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0>}> ({}, {}) : (vector<32x64xbf16>, memref<?x2x64xbf16>, index, index, memref<?x2x32xbf16>, index, vector<32xindex>, vector<32x32xf32>, vector<32xf32>, vector<32xf32>, memref<?xi8>) -> (vector<32x32xf32>, vector<32xf32>, vector<32xf32>)
  return %b : vector<32xf32>
}

// -----

func.func @step_query_heads_length(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %h: index, %len: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>, %heads: vector<16xindex>) -> vector<32xf32> {
  // expected-error @below {{query_heads length (16) must equal query rows (32)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %h], %v, %len, %pos, %acc, %m, %m batch(%h) query_heads(%heads : vector<16xindex>) mask_mod {
  ^bb0(%bi: index, %hi: index, %qi: index, %ki: index):
    %t = arith.cmpi sle, %ki, %qi : index
    attn.yield %t : i1
  } {block_n = 16 : i64, scale_log2 = 0.5 : f32, masked} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %b : vector<32xf32>
}

// -----

func.func @step_row_values_length(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %h: index, %len: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>, %r: vector<16xf32>) -> vector<32xf32> {
  // expected-error @below {{row_values length (16) must equal query rows (32)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %h], %v, %len, %pos, %acc, %m, %m batch(%h) query_heads(%pos : vector<32xindex>) row_values(%r : vector<16xf32>) score_mod {
  ^bb0(%s: f32, %bi: index, %hi: index, %qi: index, %ki: index, %rv: f32):
    attn.yield %s : f32
  } {block_n = 16 : i64, scale_log2 = 0.5 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %b : vector<32xf32>
}

// -----

func.func @score_mod_vector_constant(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>) -> tensor<16x8x64xf16> {
  // expected-error @below {{'score_mod' region: 'arith.constant' must compute on scalars (integers, index, floats)}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    // expected-note @below {{here}}
    %c = arith.constant dense<1.0> : vector<4xf32>
    attn.yield %s : f32
  } -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}

// -----

func.func @score_mod_yields_outside(%q: tensor<16x8x64xf16>, %k: tensor<32x8x64xf16>, %v: tensor<32x8x64xf16>, %o: tensor<16x8x64xf16>, %c: f32) -> tensor<16x8x64xf16> {
  // expected-error @below {{'score_mod' region must yield a value it computes}}
  %r = attn.attention q(%q : tensor<16x8x64xf16>) k(%k : tensor<32x8x64xf16>) v(%v : tensor<32x8x64xf16>) outs(%o : tensor<16x8x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    attn.yield %c : f32
  } -> tensor<16x8x64xf16>
  return %r : tensor<16x8x64xf16>
}
