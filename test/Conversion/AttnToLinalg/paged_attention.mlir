// RUN: flashinfer-opt %s --convert-attn-to-linalg --split-input-file | FileCheck %s

// Decode (no qo_indptr): request b owns query row b. Its kv_len comes from
// the page count and the last page's fill; its keys and values are gathered
// from the pages (nhd: [page, slot, head, d]) into contiguous tensors, then
// the same per-head core as attn.attention runs.

// CHECK-DAG: #[[$ID3:[^ ]*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @decode_nhd(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<?x4x8xf16>, %[[KC:[^:]*]]: tensor<?x16x2x8xf16>, %[[VC:[^:]*]]: tensor<?x16x2x8xf16>, %[[IP:[^:]*]]: tensor<?xi32>, %[[IDX:[^:]*]]: tensor<?xi32>, %[[LAST:[^:]*]]: tensor<?xi32>
// CHECK: %[[C16:[^ ]*]] = arith.constant 16 : index
// CHECK: scf.for %[[B:[^ ]*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK: %[[P0_I:[^ ]*]] = tensor.extract %[[IP]][%[[B]]] : tensor<?xi32>
// CHECK: %[[P0:[^ ]*]] = arith.index_cast %[[P0_I]] : i32 to index
// CHECK: %[[NP:[^ ]*]] = arith.subi %{{.*}}, %[[P0]] : index
// CHECK: %[[LL_I:[^ ]*]] = tensor.extract %[[LAST]][%[[B]]] : tensor<?xi32>
// CHECK: %[[LL:[^ ]*]] = arith.index_cast %[[LL_I]] : i32 to index
// CHECK: %[[NP1:[^ ]*]] = arith.subi %[[NP]], %{{.*}} : index
// CHECK: %[[FULL:[^ ]*]] = arith.muli %[[NP1]], %[[C16]] : index
// CHECK: %[[ANY:[^ ]*]] = arith.cmpi sgt, %[[NP]], %{{.*}} : index
// CHECK: %[[SUM:[^ ]*]] = arith.addi %[[FULL]], %[[LL]] : index
// CHECK: %[[KVLEN:[^ ]*]] = arith.select %[[ANY]], %[[SUM]], %{{.*}} : index
// CHECK: %[[KE:[^ ]*]] = tensor.empty(%[[KVLEN]]) : tensor<?x2x8xf16>
// CHECK: %[[KREQ:[^ ]*]] = linalg.generic {indexing_maps = [#[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} outs(%[[KE]] : tensor<?x2x8xf16>)
// CHECK:   %[[J:[^ ]*]] = linalg.index 0 : index
// CHECK:   %[[H:[^ ]*]] = linalg.index 1 : index
// CHECK:   %[[D:[^ ]*]] = linalg.index 2 : index
// CHECK:   %[[SLOT:[^ ]*]] = arith.remui %[[J]], %{{.*}} : index
// CHECK:   %[[PJ:[^ ]*]] = arith.divui %[[J]], %{{.*}} : index
// CHECK:   %[[PI:[^ ]*]] = arith.addi %[[P0]], %[[PJ]] : index
// CHECK:   %[[PAGE_I:[^ ]*]] = tensor.extract %[[IDX]][%[[PI]]] : tensor<?xi32>
// CHECK:   %[[PAGE:[^ ]*]] = arith.index_cast %[[PAGE_I]] : i32 to index
// CHECK:   %[[X:[^ ]*]] = tensor.extract %[[KC]][%[[PAGE]], %[[SLOT]], %[[H]], %[[D]]] : tensor<?x16x2x8xf16>
// CHECK:   linalg.yield %[[X]] : f16
// CHECK: %[[VREQ:[^ ]*]] = linalg.generic
// CHECK:   tensor.extract %[[VC]]
// CHECK: scf.for %[[HQ:[^ ]*]] = {{.*}} -> (tensor<?x4x8xf16>)
// CHECK: tensor.extract_slice %[[Q]][%[[B]], %[[HQ]], 0] [1, 1, 8] [1, 1, 1] : tensor<?x4x8xf16> to tensor<1x8xf16>
// CHECK: tensor.extract_slice %[[KREQ]][0, %{{.*}}, 0] [%[[KVLEN]], 1, 8] [1, 1, 1] : tensor<?x2x8xf16> to tensor<?x8xf16>
// CHECK: tensor.extract_slice %[[VREQ]][0, %{{.*}}, 0] [%[[KVLEN]], 1, 8] [1, 1, 1] : tensor<?x2x8xf16> to tensor<?x8xf16>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:   arith.maximumf
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[%[[B]], %[[HQ]], 0] [1, 1, 8] [1, 1, 1] : tensor<1x8xf16> into tensor<?x4x8xf16>
// CHECK-NOT: attn.
func.func @decode_nhd(%q: tensor<?x4x8xf16>, %kc: tensor<?x16x2x8xf16>, %vc: tensor<?x16x2x8xf16>,
                      %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>,
                      %o: tensor<?x4x8xf16>) -> tensor<?x4x8xf16> {
  %r = attn.paged_attention q(%q : tensor<?x4x8xf16>) k_cache(%kc : tensor<?x16x2x8xf16>)
      v_cache(%vc : tensor<?x16x2x8xf16>) kv_indptr(%ip : tensor<?xi32>)
      kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>)
      outs(%o : tensor<?x4x8xf16>) -> tensor<?x4x8xf16>
  return %r : tensor<?x4x8xf16>
}

// -----

// Prefill in hnd layout: query rows from qo_indptr, cache read as
// [page, head, slot, d].

// CHECK-LABEL: func.func @prefill_hnd(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<?x4x8xf32>, %[[KC:[^:]*]]: tensor<?x2x4x8xf32>, %{{[^:]*}}: tensor<?x2x4x8xf32>, %{{[^:]*}}: tensor<?xi32>, %{{[^:]*}}: tensor<?xi32>, %{{[^:]*}}: tensor<?xi32>, %[[QI:[^:]*]]: tensor<?xi32>
// CHECK: scf.for %[[B:[^ ]*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}})
// CHECK: %[[QS_I:[^ ]*]] = tensor.extract %[[QI]][%[[B]]] : tensor<?xi32>
// CHECK: %[[QS:[^ ]*]] = arith.index_cast %[[QS_I]] : i32 to index
// CHECK: %[[QLEN:[^ ]*]] = arith.subi %{{.*}}, %[[QS]] : index
// CHECK: linalg.generic
// CHECK:   %[[J:[^ ]*]] = linalg.index 0 : index
// CHECK:   %[[H:[^ ]*]] = linalg.index 1 : index
// CHECK:   %[[D:[^ ]*]] = linalg.index 2 : index
// CHECK:   %[[SLOT:[^ ]*]] = arith.remui %[[J]], %{{.*}} : index
// CHECK:   tensor.extract %[[KC]][%{{.*}}, %[[H]], %[[SLOT]], %[[D]]] : tensor<?x2x4x8xf32>
// CHECK: scf.for %[[HQ:[^ ]*]] =
// CHECK: tensor.extract_slice %[[Q]][%[[QS]], %[[HQ]], 0] [%[[QLEN]], 1, 8] [1, 1, 1] : tensor<?x4x8xf32> to tensor<?x8xf32>
// CHECK:   arith.cmpi sle
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[%[[QS]], %[[HQ]], 0] [%[[QLEN]], 1, 8] [1, 1, 1] : tensor<?x8xf32> into tensor<?x4x8xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[%[[QS]], %[[HQ]]] [%[[QLEN]], 1] [1, 1] : tensor<?xf32> into tensor<?x4xf32>
func.func @prefill_hnd(%q: tensor<?x4x8xf32>, %kc: tensor<?x2x4x8xf32>, %vc: tensor<?x2x4x8xf32>,
                       %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>,
                       %qi: tensor<?xi32>, %o: tensor<?x4x8xf32>, %l: tensor<?x4xf32>)
    -> (tensor<?x4x8xf32>, tensor<?x4xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x4x8xf32>) k_cache(%kc : tensor<?x2x4x8xf32>)
      v_cache(%vc : tensor<?x2x4x8xf32>) kv_indptr(%ip : tensor<?xi32>)
      kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>)
      qo_indptr(%qi : tensor<?xi32>) outs(%o, %l : tensor<?x4x8xf32>, tensor<?x4xf32>)
      attributes {causal, kv_layout = #attn.kv_layout<hnd>}
      -> tensor<?x4x8xf32>, tensor<?x4xf32>
  return %r#0, %r#1 : tensor<?x4x8xf32>, tensor<?x4xf32>
}
