// RUN: flashinfer-opt %s --convert-attn-to-linalg --split-input-file | FileCheck %s

// One scf.for over the new tokens, carrying both caches: token n goes to page
// kv_indices[kv_indptr[b] + pos / page_size], slot pos % page_size.

// CHECK-LABEL: func.func @append_nhd(
// CHECK-SAME: %[[K:[^:]*]]: tensor<?x2x8xf16>, %[[V:[^:]*]]: tensor<?x2x8xf16>, %[[B:[^:]*]]: tensor<?xi32>, %[[P:[^:]*]]: tensor<?xi32>, %[[IDX:[^:]*]]: tensor<?xi32>, %[[IP:[^:]*]]: tensor<?xi32>, %[[KC:[^:]*]]: tensor<?x16x2x8xf16>, %[[VC:[^:]*]]: tensor<?x16x2x8xf16>)
// CHECK: %[[PS:[^ ]*]] = arith.constant 16 : index
// CHECK: %[[N:[^ ]*]] = tensor.dim %[[K]], %{{.*}} : tensor<?x2x8xf16>
// CHECK: %[[R:[^ ]*]]:2 = scf.for %[[T:[^ ]*]] = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[KACC:[^ ]*]] = %[[KC]], %[[VACC:[^ ]*]] = %[[VC]])
// CHECK:   %[[BI:[^ ]*]] = tensor.extract %[[B]][%[[T]]] : tensor<?xi32>
// CHECK:   %[[BX:[^ ]*]] = arith.index_cast %[[BI]] : i32 to index
// CHECK:   %[[PI:[^ ]*]] = tensor.extract %[[P]][%[[T]]] : tensor<?xi32>
// CHECK:   %[[POS:[^ ]*]] = arith.index_cast %[[PI]] : i32 to index
// CHECK:   %[[PG:[^ ]*]] = arith.divui %[[POS]], %[[PS]] : index
// CHECK:   %[[FI:[^ ]*]] = tensor.extract %[[IP]][%[[BX]]] : tensor<?xi32>
// CHECK:   %[[F:[^ ]*]] = arith.index_cast %[[FI]] : i32 to index
// CHECK:   %[[J:[^ ]*]] = arith.addi %[[F]], %[[PG]] : index
// CHECK:   %[[PAGEI:[^ ]*]] = tensor.extract %[[IDX]][%[[J]]] : tensor<?xi32>
// CHECK:   %[[PAGE:[^ ]*]] = arith.index_cast %[[PAGEI]] : i32 to index
// CHECK:   %[[SLOT:[^ ]*]] = arith.remui %[[POS]], %[[PS]] : index
// CHECK:   %[[KROW:[^ ]*]] = tensor.extract_slice %[[K]][%[[T]], 0, 0] [1, 2, 8] [1, 1, 1] : tensor<?x2x8xf16> to tensor<2x8xf16>
// CHECK:   %[[K2:[^ ]*]] = tensor.insert_slice %[[KROW]] into %[[KACC]][%[[PAGE]], %[[SLOT]], 0, 0] [1, 1, 2, 8] [1, 1, 1, 1] : tensor<2x8xf16> into tensor<?x16x2x8xf16>
// CHECK:   %[[VROW:[^ ]*]] = tensor.extract_slice %[[V]][%[[T]], 0, 0] [1, 2, 8] [1, 1, 1] : tensor<?x2x8xf16> to tensor<2x8xf16>
// CHECK:   %[[V2:[^ ]*]] = tensor.insert_slice %[[VROW]] into %[[VACC]][%[[PAGE]], %[[SLOT]], 0, 0] [1, 1, 2, 8] [1, 1, 1, 1] : tensor<2x8xf16> into tensor<?x16x2x8xf16>
// CHECK:   scf.yield %[[K2]], %[[V2]]
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @append_nhd(%k: tensor<?x2x8xf16>, %v: tensor<?x2x8xf16>, %b: tensor<?xi32>,
                      %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>,
                      %kc: tensor<?x16x2x8xf16>, %vc: tensor<?x16x2x8xf16>)
    -> (tensor<?x16x2x8xf16>, tensor<?x16x2x8xf16>) {
  %r:2 = attn.append_paged_kv k(%k : tensor<?x2x8xf16>) v(%v : tensor<?x2x8xf16>)
      batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>)
      kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>)
      outs(%kc, %vc : tensor<?x16x2x8xf16>, tensor<?x16x2x8xf16>)
      -> tensor<?x16x2x8xf16>, tensor<?x16x2x8xf16>
  return %r#0, %r#1 : tensor<?x16x2x8xf16>, tensor<?x16x2x8xf16>
}

// -----

// hnd: the slot is dim 2 of the cache.

// CHECK-LABEL: func.func @append_hnd(
// CHECK: %[[PS:[^ ]*]] = arith.constant 4 : index
// CHECK: scf.for
// CHECK:   %[[SLOT:[^ ]*]] = arith.remui %{{.*}}, %[[PS]] : index
// CHECK:   tensor.insert_slice %{{.*}} into %{{.*}}[%{{.*}}, 0, %[[SLOT]], 0] [1, 2, 1, 8] [1, 1, 1, 1] : tensor<2x8xf32> into tensor<?x2x4x8xf32>
// CHECK:   tensor.insert_slice %{{.*}} into %{{.*}}[%{{.*}}, 0, %[[SLOT]], 0] [1, 2, 1, 16] [1, 1, 1, 1] : tensor<2x16xf32> into tensor<?x2x4x16xf32>
func.func @append_hnd(%k: tensor<?x2x8xf32>, %v: tensor<?x2x16xf32>, %b: tensor<?xi32>,
                      %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>,
                      %kc: tensor<?x2x4x8xf32>, %vc: tensor<?x2x4x16xf32>)
    -> (tensor<?x2x4x8xf32>, tensor<?x2x4x16xf32>) {
  %r:2 = attn.append_paged_kv k(%k : tensor<?x2x8xf32>) v(%v : tensor<?x2x16xf32>)
      batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>)
      kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>)
      outs(%kc, %vc : tensor<?x2x4x8xf32>, tensor<?x2x4x16xf32>)
      {kv_layout = #attn.kv_layout<hnd>} -> tensor<?x2x4x8xf32>, tensor<?x2x4x16xf32>
  return %r#0, %r#1 : tensor<?x2x4x8xf32>, tensor<?x2x4x16xf32>
}
