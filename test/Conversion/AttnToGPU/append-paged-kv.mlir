// RUN: flashinfer-opt %s --convert-attn-to-gpu=chip=sm_90a --canonicalize --split-input-file | FileCheck %s

// attn.append_paged_kv: workgroup n writes new token n. Each thread copies a
// 16-byte vector of one KV head's K and V rows into the slot
// positions[n] % page_size of page kv_indices[kv_indptr[b] + positions[n] /
// page_size], b = batch_indices[n]. The request, the position, the entry
// (one of the request's pages, inside the list) and the page are checked
// before the reads that depend on them; a token that fails is not written.

// bf16, 8 KV heads, head dim 128, any page size, nhd: 8 x 16 lanes.
//
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NEXT: attn.kernel_manifest
// CHECK-SAME: name = "k", rank = 3 : i64, shape = [-1, 8, 128]}
// CHECK-SAME: name = "v", rank = 3 : i64, shape = [{dim = ["k", 0]}, 8, 128]}
// CHECK-SAME: name = "batch_indices", rank = 1 : i64, shape = [{dim = ["k", 0]}]}
// CHECK-SAME: name = "positions", rank = 1 : i64, shape = [{dim = ["k", 0]}]}
// v_cache has k_cache's pages and page size.
// CHECK-SAME: name = "v_cache", rank = 4 : i64, shape = [{dim = ["k_cache", 0]}, {dim = ["k_cache", 1]}, 8, 128]}
// CHECK-SAME: block = [128, 1, 1]
// CHECK-SAME: grid = [{dim = ["k", 0]}, 1, 1], name = "append_kv", op = "attn.append_paged_kv"
// CHECK-SAME: elements_per_thread = 8
// CHECK-SAME: page_size = -1

// CHECK: gpu.func @append_kv(%[[K:[^:]*]]: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %[[V:[^:]*]]: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %[[B:[^:]*]]: memref<?xi32>, %[[P:[^:]*]]: memref<?xi32>, %[[IDX:[^:]*]]: memref<?xi32>, %[[IP:[^:]*]]: memref<?xi32>, %[[KC:[^:]*]]: memref<?x?x8x128xbf16, strided<[?, ?, ?, 1]>>, %[[VC:[^:]*]]: memref<?x?x8x128xbf16, strided<[?, ?, ?, 1]>>) kernel
// CHECK: %[[N:.*]] = gpu.block_id x
// CHECK: %[[T:.*]] = gpu.thread_id x
// CHECK: %[[HEAD:.*]] = arith.divui %[[T]], %c16
// CHECK: %[[D:.*]] = arith.muli %{{.*}}, %c8
// CHECK: memref.load %[[B]][%[[N]]]
// CHECK: memref.load %[[P]][%[[N]]]
// CHECK: scf.if
// CHECK:   %[[PS:.*]] = memref.dim %[[KC]], %c1
// CHECK:   memref.load %[[IP]]
// CHECK:   memref.load %[[IP]]
// CHECK:   scf.if
// CHECK:     %[[PAGE0:.*]] = memref.load %[[IDX]]
// CHECK:     %[[PAGE:.*]] = arith.index_cast %[[PAGE0]]
// CHECK:     %[[NP:.*]] = memref.dim %[[KC]], %c0
// CHECK:     scf.if
// CHECK:       %[[SLOT:.*]] = arith.remui %{{.*}}, %[[PS]]
// CHECK:       %[[KROW:.*]] = vector.load %[[K]][%[[N]], %[[HEAD]], %[[D]]] {alignment = 16 : i64}
// CHECK:       vector.store %[[KROW]], %[[KC]][%[[PAGE]], %[[SLOT]], %[[HEAD]], %[[D]]] {alignment = 16 : i64}
// CHECK:       %[[VROW:.*]] = vector.load %[[V]][%[[N]], %[[HEAD]], %[[D]]]
// CHECK:       vector.store %[[VROW]], %[[VC]][%[[PAGE]], %[[SLOT]], %[[HEAD]], %[[D]]]
func.func @append_kv(%k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %b: tensor<?xi32>, %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>, %kc: tensor<?x?x8x128xbf16>, %vc: tensor<?x?x8x128xbf16>) -> (tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>) {
  %r:2 = attn.append_paged_kv k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>) outs(%kc, %vc : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>
  return %r#0, %r#1 : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>
}

// -----

// hnd, f16, head dims 64 (K) and 96 (V), page size 16: 2 x 12 lanes, the
// lanes past K's 64 columns copy only V.
//
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NEXT: attn.kernel_manifest
// CHECK-SAME: name = "v_cache", rank = 4 : i64, shape = [{dim = ["k_cache", 0]}, 2, 16, 96]}
// CHECK-SAME: block = [24, 1, 1]
// CHECK: gpu.func @append_hnd
// CHECK: %[[KCOLS:.*]] = arith.cmpi slt, %[[D:.*]], %c64
// CHECK: scf.if %[[KCOLS]]
// CHECK:   vector.store %{{.*}}, %{{.*}}[%[[PAGE:[^,]*]], %[[HEAD:[^,]*]], %[[SLOT:[^,]*]], %[[D]]] {alignment = 16 : i64} : memref<?x2x16x64xf16
// CHECK: vector.store %{{.*}}, %{{.*}}[%[[PAGE]], %[[HEAD]], %[[SLOT]], %[[D]]] {alignment = 16 : i64} : memref<?x2x16x96xf16
func.func @append_hnd(%k: tensor<?x2x64xf16>, %v: tensor<?x2x96xf16>, %b: tensor<?xi32>, %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>, %kc: tensor<?x2x16x64xf16>, %vc: tensor<?x2x16x96xf16>) -> (tensor<?x2x16x64xf16>, tensor<?x2x16x96xf16>) {
  %r:2 = attn.append_paged_kv k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x96xf16>) batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>) outs(%kc, %vc : tensor<?x2x16x64xf16>, tensor<?x2x16x96xf16>) {kv_layout = #attn.kv_layout<hnd>} -> tensor<?x2x16x64xf16>, tensor<?x2x16x96xf16>
  return %r#0, %r#1 : tensor<?x2x16x64xf16>, tensor<?x2x16x96xf16>
}
