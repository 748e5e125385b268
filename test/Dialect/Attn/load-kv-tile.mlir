// RUN: flashinfer-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// attn.load_kv_tile round-trips over a contiguous and a paged KV source, and
// each of its verifier's diagnostics fires; so do the step op's KV-source
// checks.

// CHECK-LABEL: func.func @tiles(
// CHECK: attn.load_kv_tile %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}} {in_bounds} : memref<?x8x128xbf16> -> vector<32x128xbf16>
// CHECK: attn.load_kv_tile %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}} pages(%{{.*}}[%{{.*}}] : memref<?xi32>) : memref<?x16x8x128xbf16> -> vector<32x128xbf16>
// CHECK: attn.load_kv_tile %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}} pages(%{{.*}}[%{{.*}}] : memref<?xi32>) {kv_layout = #attn.kv_layout<hnd>} : memref<?x8x?x128xbf16> -> vector<32x128xbf16>
// CHECK: attn.online_attention_step {{.*}} pages(%{{.*}}[%{{.*}}] : memref<?xi32>)
func.func @tiles(%k: memref<?x8x128xbf16>, %nhd: memref<?x16x8x128xbf16>, %hnd: memref<?x8x?x128xbf16>,
                 %idx: memref<?xi32>, %h: index, %s: index, %len: index,
                 %q: vector<32x128xbf16>, %pos: vector<32xindex>, %acc: vector<32x128xf32>, %m: vector<32xf32>) {
  %0 = attn.load_kv_tile %k[%h, %s], %len {in_bounds} : memref<?x8x128xbf16> -> vector<32x128xbf16>
  %1 = attn.load_kv_tile %nhd[%h, %s], %len pages(%idx[%s] : memref<?xi32>) : memref<?x16x8x128xbf16> -> vector<32x128xbf16>
  %2 = attn.load_kv_tile %hnd[%h, %s], %len pages(%idx[%s] : memref<?xi32>) {kv_layout = #attn.kv_layout<hnd>} : memref<?x8x?x128xbf16> -> vector<32x128xbf16>
  %a, %b, %c = attn.online_attention_step %q, %nhd[%h, %s], %nhd, %len pages(%idx[%s] : memref<?xi32>), %pos, %acc, %m, %m
      {block_n = 32 : i64, scale_log2 = 1.0 : f32}
      : vector<32x128xbf16>, memref<?x16x8x128xbf16>, memref<?x16x8x128xbf16>, vector<32xindex>, vector<32x128xf32>, vector<32xf32>
  return
}

// -----

func.func @paged_rank(%k: memref<?x8x128xbf16>, %idx: memref<?xi32>, %i: index) {
  // expected-error @+1 {{source must have rank 4 (a paged cache, with pages(...)), got 'memref<?x8x128xbf16>'}}
  %0 = attn.load_kv_tile %k[%i, %i], %i pages(%idx[%i] : memref<?xi32>) : memref<?x8x128xbf16> -> vector<32x128xbf16>
  return
}

// -----

func.func @contiguous_rank(%k: memref<?x16x8x128xbf16>, %i: index) {
  // expected-error @+1 {{source must have rank 3 ([kv_len, H_kv, D], without pages(...)), got 'memref<?x16x8x128xbf16>'}}
  %0 = attn.load_kv_tile %k[%i, %i], %i : memref<?x16x8x128xbf16> -> vector<32x128xbf16>
  return
}

// -----

func.func @columns(%k: memref<?x8x128xbf16>, %i: index) {
  // expected-error @+1 {{tile columns (64) must equal the source's static head dim (128)}}
  %0 = attn.load_kv_tile %k[%i, %i], %i : memref<?x8x128xbf16> -> vector<32x64xbf16>
  return
}

// -----

func.func @element_type(%k: memref<?x8x128xbf16>, %i: index) {
  // expected-error @+1 {{the tile must have the source's element type (or widen an fp8 source)}}
  %0 = attn.load_kv_tile %k[%i, %i], %i : memref<?x8x128xbf16> -> vector<32x128xf16>
  return
}

// -----

// An fp8 source widens to the tile's type.
// CHECK-LABEL: func.func @widen_fp8
// CHECK: attn.load_kv_tile {{.*}} : memref<?x8x128xf8E4M3FNUZ> -> vector<32x128xbf16>
func.func @widen_fp8(%k: memref<?x8x128xf8E4M3FNUZ>, %i: index) -> vector<32x128xbf16> {
  %0 = attn.load_kv_tile %k[%i, %i], %i : memref<?x8x128xf8E4M3FNUZ> -> vector<32x128xbf16>
  return %0 : vector<32x128xbf16>
}

// -----

func.func @rows(%k: memref<?x8x128xbf16>, %i: index) {
  // expected-error @+1 {{tile rows must be at most 1024, got 2048}}
  %0 = attn.load_kv_tile %k[%i, %i], %i : memref<?x8x128xbf16> -> vector<2048x128xbf16>
  return
}

// -----

func.func @step_paged_rank(%q: vector<32x128xbf16>, %k: memref<?x8x128xbf16>, %idx: memref<?xi32>, %i: index, %pos: vector<32xindex>, %acc: vector<32x128xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{key must have rank 4 (a paged cache, with pages(...))}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %k, %i pages(%idx[%i] : memref<?xi32>), %pos, %acc, %m, %m {block_n = 32 : i64, scale_log2 = 1.0 : f32} : vector<32x128xbf16>, memref<?x8x128xbf16>, memref<?x8x128xbf16>, vector<32xindex>, vector<32x128xf32>, vector<32xf32>
  return
}

// -----

func.func @step_paged_heads(%q: vector<32x128xbf16>, %k: memref<?x16x8x128xbf16>, %v: memref<?x16x4x128xbf16>, %idx: memref<?xi32>, %i: index, %pos: vector<32xindex>, %acc: vector<32x128xf32>, %m: vector<32xf32>) {
  // expected-error @+1 {{value head count (4) must equal the key's (8)}}
  %a, %b, %c = attn.online_attention_step %q, %k[%i, %i], %v, %i pages(%idx[%i] : memref<?xi32>), %pos, %acc, %m, %m {block_n = 32 : i64, scale_log2 = 1.0 : f32} : vector<32x128xbf16>, memref<?x16x8x128xbf16>, memref<?x16x4x128xbf16>, vector<32xindex>, vector<32x128xf32>, vector<32xf32>
  return
}

// -----

// The custom syntax keeps the page list and its start together; the generic
// form can split them.
func.func @page_begin_alone(%k: memref<?x16x8x128xbf16>, %i: index) {
  // expected-error @+1 {{kv_indices and page_begin go together}}
  %0 = "attn.load_kv_tile"(%k, %i, %i, %i, %i) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 1, 0, 0>}> : (memref<?x16x8x128xbf16>, index, index, index, index) -> vector<32x128xbf16>
  return
}
