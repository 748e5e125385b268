// RUN: flashinfer-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// attn.online_attention_step round-trips, with and without its unit
// attributes, and each of its verifier's diagnostics fires.

// CHECK-LABEL: func.func @step(
// CHECK: attn.online_attention_step %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_n = 64 : i64, causal, masked, scale_log2 = 1.250000e-01 : f32, window_left = 16 : i64} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
// CHECK: attn.online_attention_step %{{.*}} {block_n = 32 : i64, logits_soft_cap = 3.000000e+01 : f32, scale_log2 = 1.000000e+00 : f32} :
func.func @step(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>,
                %h: index, %start: index, %len: index, %pos: vector<32xindex>,
                %acc: vector<32x32xf32>, %m: vector<32xf32>, %l: vector<32xf32>)
    -> (vector<32x32xf32>, vector<32xf32>, vector<32xf32>) {
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %start], %v, %len, %pos, %acc, %m, %l
      {block_n = 64 : i64, scale_log2 = 0.125 : f32, causal, window_left = 16 : i64, masked}
      : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  %d, %e, %f = attn.online_attention_step %q, %k[%h, %start], %v, %len, %pos, %a, %b, %c
      {block_n = 32 : i64, scale_log2 = 1.0 : f32, logits_soft_cap = 30.0 : f32}
      : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %d, %e, %f : vector<32x32xf32>, vector<32xf32>, vector<32xf32>
}

// -----

func.func @elem_type(%q: vector<32x64xf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{key and value must have the query's element type (or both an fp8 type)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 64 : i64, scale_log2 = 1.0 : f32} : vector<32x64xf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return
}

// -----

func.func @key_dim(%q: vector<32x128xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{key head dim (64) must equal the query's (128)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 64 : i64, scale_log2 = 1.0 : f32} : vector<32x128xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return
}

// -----

func.func @heads(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x4x32xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{value head count (4) must equal the key's (2)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 64 : i64, scale_log2 = 1.0 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x4x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return
}

// -----

func.func @acc_rows(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<16x32xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{acc rows (16) must equal query rows (32)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 64 : i64, scale_log2 = 1.0 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<16x32xf32>, vector<32xf32>
  return
}

// -----

func.func @value_dim(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x64xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{value head dim (32) must equal acc columns (64)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 64 : i64, scale_log2 = 1.0 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x64xf32>, vector<32xf32>
  return
}

// -----

func.func @max_rows(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<16xf32>) {
  // expected-error @+1 {{max (16) must equal query rows (32)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 64 : i64, scale_log2 = 1.0 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<16xf32>
  return
}

// -----

func.func @positions(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<16xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{query_positions (16) must equal query rows (32)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 64 : i64, scale_log2 = 1.0 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<16xindex>, vector<32x32xf32>, vector<32xf32>
  return
}

// -----

func.func @window(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{window_left must be -1 (none) or >= 0}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 64 : i64, scale_log2 = 1.0 : f32, window_left = -2 : i64} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return
}

// -----

func.func @block_n(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{attribute 'block_n' failed to satisfy constraint}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 0 : i64, scale_log2 = 1.0 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return
}

// -----

func.func @block_n_huge(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{block_n must be in [1, 1024], got 4294967296}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 4294967296 : i64, scale_log2 = 1.0 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return
}

// -----

func.func @rows_huge(%q: vector<2048x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<2048xindex>, %acc: vector<2048x32xf32>, %m: vector<2048xf32>) {
  // expected-error @+1 {{query rows must be at most 1024, got 2048}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 64 : i64, scale_log2 = 1.0 : f32} : vector<2048x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<2048xindex>, vector<2048x32xf32>, vector<2048xf32>
  return
}

// -----

func.func @soft_cap(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>, %i: index, %pos: vector<32xindex>, %acc: vector<32x32xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{logits_soft_cap must be >= 0 (0: none)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i, %pos, %acc, %m, %m {block_n = 64 : i64, scale_log2 = 1.0 : f32, logits_soft_cap = -1.0 : f32} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return
}
