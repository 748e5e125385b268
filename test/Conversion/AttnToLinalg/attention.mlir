// RUN: flashinfer-opt %s --convert-attn-to-linalg --split-input-file | FileCheck %s

// One request: a loop over query heads; per head an f32 score matrix
// (reduction over D), row max, exp of the shifted scores, row sum, P*V
// (reduction over keys), normalization and base-2 lse.

// CHECK-DAG: #[[$QD:[^ ]*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$KD:[^ ]*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$QK:[^ ]*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$ID2:[^ ]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:[^ ]*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$VT:[^ ]*]] = affine_map<(d0, d1, d2) -> (d2, d1)>

// CHECK-LABEL: func.func @plain(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<5x4x8xf32>, %[[K:[^:]*]]: tensor<7x2x8xf32>, %[[V:[^:]*]]: tensor<7x2x8xf32>, %[[O:[^:]*]]: tensor<5x4x8xf32>, %[[L:[^:]*]]: tensor<5x4xf32>)
// CHECK-DAG: %[[C4:[^ ]*]] = arith.constant 4 : index
// CHECK-DAG: %[[C2:[^ ]*]] = arith.constant 2 : index
// CHECK: %[[GROUP:[^ ]*]] = arith.divui %[[C4]], %[[C2]] : index
// CHECK: %[[RES:[^ ]*]]:2 = scf.for %[[H:[^ ]*]] = %{{.*}} to %[[C4]] step %{{.*}} iter_args(%[[OACC:[^ ]*]] = %[[O]], %[[LACC:[^ ]*]] = %[[L]])
// CHECK: %[[KVH:[^ ]*]] = arith.divui %[[H]], %[[GROUP]] : index
// CHECK: %[[QH:[^ ]*]] = tensor.extract_slice %[[Q]][0, %[[H]], 0] [5, 1, 8] [1, 1, 1] : tensor<5x4x8xf32> to tensor<5x8xf32>
// CHECK: %[[KH:[^ ]*]] = tensor.extract_slice %[[K]][0, %[[KVH]], 0] [7, 1, 8] [1, 1, 1] : tensor<7x2x8xf32> to tensor<7x8xf32>
// CHECK: %[[VH:[^ ]*]] = tensor.extract_slice %[[V]][0, %[[KVH]], 0] [7, 1, 8] [1, 1, 1] : tensor<7x2x8xf32> to tensor<7x8xf32>
// CHECK: %[[ZERO:[^ ]*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<5x7xf32>)
// CHECK: %[[DOT:[^ ]*]] = linalg.generic {indexing_maps = [#[[$QD]], #[[$KD]], #[[$QK]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[QH]], %[[KH]] : tensor<5x8xf32>, tensor<7x8xf32>) outs(%[[ZERO]] : tensor<5x7xf32>)
// CHECK:   arith.mulf
// CHECK:   arith.addf
// CHECK: %[[S:[^ ]*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[DOT]] : tensor<5x7xf32>)
// CHECK:   %[[SCALE:[^ ]*]] = arith.constant 0.353553385 : f32
// CHECK:   %[[SC:[^ ]*]] = arith.mulf %{{.*}}, %[[SCALE]] : f32
// CHECK:   linalg.yield %[[SC]] : f32
// CHECK: %[[NEGINF:[^ ]*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<5xf32>)
// CHECK: %[[MAX:[^ ]*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[S]] : tensor<5x7xf32>) outs(%[[NEGINF]] : tensor<5xf32>)
// CHECK:   arith.maximumf
// CHECK: %[[SHIFT:[^ ]*]] = linalg.generic {{.*}} ins(%[[MAX]] : tensor<5xf32>)
// CHECK:   arith.cmpf one
// CHECK: %[[P:[^ ]*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[S]], %[[SHIFT]] : tensor<5x7xf32>, tensor<5xf32>)
// CHECK:   arith.subf
// CHECK:   math.exp
// CHECK: %[[SUM:[^ ]*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[P]] : tensor<5x7xf32>)
// CHECK:   arith.addf
// CHECK: %[[ACC:[^ ]*]] = linalg.generic {indexing_maps = [#[[$QD]], #[[$VT]], #[[$QK]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[P]], %[[VH]] : tensor<5x7xf32>, tensor<7x8xf32>) outs(%{{.*}} : tensor<5x8xf32>)
// CHECK: %[[OH:[^ ]*]] = linalg.generic {{.*}} ins(%[[ACC]], %[[SUM]], %[[MAX]] : tensor<5x8xf32>, tensor<5xf32>, tensor<5xf32>) outs(%{{.*}} : tensor<5x8xf32>)
// CHECK:   arith.divf
// CHECK:   arith.select
// CHECK: %[[LH:[^ ]*]] = linalg.generic {{.*}} ins(%[[SUM]], %[[SHIFT]], %[[MAX]] : tensor<5xf32>, tensor<5xf32>, tensor<5xf32>)
// CHECK:   math.log
// CHECK:   arith.constant 1.44269502 : f32
// CHECK: %[[OI:[^ ]*]] = tensor.insert_slice %[[OH]] into %[[OACC]][0, %[[H]], 0] [5, 1, 8] [1, 1, 1] : tensor<5x8xf32> into tensor<5x4x8xf32>
// CHECK: %[[LI:[^ ]*]] = tensor.insert_slice %[[LH]] into %[[LACC]][0, %[[H]]] [5, 1] [1, 1] : tensor<5xf32> into tensor<5x4xf32>
// CHECK: scf.yield %[[OI]], %[[LI]]
// CHECK: return %[[RES]]#0, %[[RES]]#1
// CHECK-NOT: attn.
func.func @plain(%q: tensor<5x4x8xf32>, %k: tensor<7x2x8xf32>, %v: tensor<7x2x8xf32>,
                 %o: tensor<5x4x8xf32>, %l: tensor<5x4xf32>)
    -> (tensor<5x4x8xf32>, tensor<5x4xf32>) {
  %r:2 = attn.attention q(%q : tensor<5x4x8xf32>) k(%k : tensor<7x2x8xf32>)
      v(%v : tensor<7x2x8xf32>) outs(%o, %l : tensor<5x4x8xf32>, tensor<5x4xf32>)
      -> tensor<5x4x8xf32>, tensor<5x4xf32>
  return %r#0, %r#1 : tensor<5x4x8xf32>, tensor<5x4xf32>
}

// -----

// Ragged f16 requests, bf16 output, every variant at once. The variant is one
// elementwise generic: scale, soft-cap, ALiBi (default slopes computed per
// head), the inlined score_mod; then causal (bottom-right), window, custom
// mask bit and the inlined mask_mod select -inf. Sinks join the shift and the
// denominator. The custom-mask bit offset is carried across requests.

// CHECK-LABEL: func.func @variants(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<?x4x8xf16>, %[[K:[^:]*]]: tensor<?x2x8xf16>, %[[V:[^:]*]]: tensor<?x2x8xf16>, %[[MASK:[^:]*]]: tensor<?xi8>, %[[SINKS:[^:]*]]: tensor<4xf32>, %[[QI:[^:]*]]: tensor<3xi32>, %[[KI:[^:]*]]: tensor<3xi32>, %[[O:[^:]*]]: tensor<?x4x8xbf16>)
// CHECK: %[[RES:[^ ]*]]:2 = scf.for %[[B:[^ ]*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[OACC:[^ ]*]] = %[[O]], %[[BITS:[^ ]*]] = %{{.*}}) -> (tensor<?x4x8xbf16>, index)
// CHECK: %[[QS_I:[^ ]*]] = tensor.extract %[[QI]][%[[B]]] : tensor<3xi32>
// CHECK: %[[QS:[^ ]*]] = arith.index_cast %[[QS_I]] : i32 to index
// CHECK: %[[QE_I:[^ ]*]] = tensor.extract %[[QI]][%{{.*}}] : tensor<3xi32>
// CHECK: %[[QE:[^ ]*]] = arith.index_cast %[[QE_I]] : i32 to index
// CHECK: %[[KS_I:[^ ]*]] = tensor.extract %[[KI]][%[[B]]] : tensor<3xi32>
// CHECK: %[[KS:[^ ]*]] = arith.index_cast %[[KS_I]] : i32 to index
// CHECK: %[[QLEN:[^ ]*]] = arith.subi %[[QE]], %[[QS]] : index
// CHECK: %[[KLEN:[^ ]*]] = arith.subi %{{.*}}, %[[KS]] : index
// CHECK: %[[KREQ:[^ ]*]] = tensor.extract_slice %[[K]][%[[KS]], 0, 0] [%[[KLEN]], 2, 8] [1, 1, 1] : tensor<?x2x8xf16> to tensor<?x2x8xf16>
// CHECK: %[[HEADS:[^ ]*]] = scf.for %[[H:[^ ]*]] = {{.*}} iter_args(%[[OH_ACC:[^ ]*]] = %[[OACC]]) -> (tensor<?x4x8xbf16>)
// CHECK: tensor.extract_slice %[[Q]][%[[QS]], %[[H]], 0] [%[[QLEN]], 1, 8] [1, 1, 1] : tensor<?x4x8xf16> to tensor<?x8xf16>
// CHECK: %[[OFF:[^ ]*]] = arith.subi %[[KLEN]], %[[QLEN]] : index
// CHECK: linalg.generic
// CHECK:   arith.extf %{{.*}} : f16 to f32
// ALiBi default slope of head h (the ALiBi paper's series).
// CHECK: math.ctlz
// CHECK: %[[SLOPE:[^ ]*]] = math.exp2
// CHECK: %[[SINK:[^ ]*]] = tensor.extract %[[SINKS]][%[[H]]] : tensor<4xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]}
// CHECK:   %[[I:[^ ]*]] = linalg.index 0 : index
// CHECK:   %[[J:[^ ]*]] = linalg.index 1 : index
// CHECK:   %[[QIDX:[^ ]*]] = arith.addi %[[I]], %[[OFF]] : index
// CHECK:   %[[S0:[^ ]*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK:   %[[CAP:[^ ]*]] = arith.constant 5.000000e+00 : f32
// CHECK:   %[[T0:[^ ]*]] = arith.divf %[[S0]], %[[CAP]] : f32
// CHECK:   %[[T1:[^ ]*]] = math.tanh %[[T0]] : f32
// CHECK:   %[[S1:[^ ]*]] = arith.mulf %[[CAP]], %[[T1]] : f32
// CHECK:   %[[DIST:[^ ]*]] = arith.subi %[[J]], %[[QIDX]] : index
// CHECK:   %[[DI:[^ ]*]] = arith.index_cast %[[DIST]] : index to i64
// CHECK:   %[[DF:[^ ]*]] = arith.sitofp %[[DI]] : i64 to f32
// CHECK:   %[[AL:[^ ]*]] = arith.mulf %[[SLOPE]], %[[DF]] : f32
// CHECK:   %[[S2:[^ ]*]] = arith.addf %[[S1]], %[[AL]] : f32
// CHECK:   %[[S3:[^ ]*]] = arith.negf %[[S2]] : f32
// CHECK:   %[[CAUSAL:[^ ]*]] = arith.cmpi sle, %[[J]], %[[QIDX]] : index
// CHECK:   %[[LO:[^ ]*]] = arith.subi %[[QIDX]], %{{.*}} : index
// CHECK:   %[[WIN:[^ ]*]] = arith.cmpi sge, %[[J]], %[[LO]] : index
// CHECK:   %[[V0:[^ ]*]] = arith.andi %[[CAUSAL]], %[[WIN]] : i1
// CHECK:   %[[ROWOFF:[^ ]*]] = arith.muli %[[I]], %[[KLEN]] : index
// CHECK:   %[[INREQ:[^ ]*]] = arith.addi %[[ROWOFF]], %[[J]] : index
// CHECK:   %[[BIT:[^ ]*]] = arith.addi %[[BITS]], %[[INREQ]] : index
// CHECK:   %[[BYTEIDX:[^ ]*]] = arith.divui %[[BIT]], %{{.*}} : index
// CHECK:   %[[SHAMT:[^ ]*]] = arith.remui %[[BIT]], %{{.*}} : index
// CHECK:   %[[BYTE:[^ ]*]] = tensor.extract %[[MASK]][%[[BYTEIDX]]] : tensor<?xi8>
// CHECK:   arith.extui %[[BYTE]] : i8 to i32
// CHECK:   arith.shrui
// CHECK:   %[[MBIT:[^ ]*]] = arith.cmpi eq
// CHECK:   %[[V1:[^ ]*]] = arith.andi %[[V0]], %[[MBIT]] : i1
// CHECK:   %[[MM:[^ ]*]] = arith.cmpi ne, %[[H]], %[[J]] : index
// CHECK:   %[[V2:[^ ]*]] = arith.andi %[[V1]], %[[MM]] : i1
// CHECK:   %[[NINF:[^ ]*]] = arith.constant 0xFF800000 : f32
// CHECK:   %[[R:[^ ]*]] = arith.select %[[V2]], %[[S3]], %[[NINF]] : f32
// CHECK:   linalg.yield %[[R]] : f32
// CHECK: arith.maximumf
// The sink joins the shift...
// CHECK: linalg.generic
// CHECK:   arith.maximumf %{{.*}}, %[[SINK]] : f32
// CHECK: math.exp
// ...and the denominator.
// CHECK: linalg.generic
// CHECK:   arith.subf %[[SINK]], %{{.*}} : f32
// CHECK:   math.exp
// CHECK:   arith.addf
// CHECK: linalg.generic
// CHECK:   arith.divf
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
// CHECK: tensor.insert_slice %{{.*}} into %[[OH_ACC]][%[[QS]], %[[H]], 0] [%[[QLEN]], 1, 8] [1, 1, 1] : tensor<?x8xbf16> into tensor<?x4x8xbf16>
// CHECK: %[[NBITS:[^ ]*]] = arith.muli %[[QLEN]], %[[KLEN]] : index
// CHECK: %[[NEXT:[^ ]*]] = arith.addi %[[BITS]], %[[NBITS]] : index
// CHECK: scf.yield %[[HEADS]], %[[NEXT]] : tensor<?x4x8xbf16>, index
// CHECK: return %[[RES]]#0
func.func @variants(%q: tensor<?x4x8xf16>, %k: tensor<?x2x8xf16>, %v: tensor<?x2x8xf16>,
                    %mask: tensor<?xi8>, %sinks: tensor<4xf32>, %qi: tensor<3xi32>,
                    %ki: tensor<3xi32>, %o: tensor<?x4x8xbf16>) -> tensor<?x4x8xbf16> {
  %r = attn.attention q(%q : tensor<?x4x8xf16>) k(%k : tensor<?x2x8xf16>)
      v(%v : tensor<?x2x8xf16>) qo_indptr(%qi : tensor<3xi32>)
      kv_indptr(%ki : tensor<3xi32>) custom_mask(%mask : tensor<?xi8>)
      sinks(%sinks : tensor<4xf32>) outs(%o : tensor<?x4x8xbf16>)
      attributes {causal, window_left = 3, logits_soft_cap = 5.0 : f32,
                  pos_encoding = #attn.pos_encoding<alibi>}
  score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %t = arith.negf %s : f32
    attn.yield %t : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.cmpi ne, %h, %j : index
    attn.yield %c : i1
  } -> tensor<?x4x8xbf16>
  return %r : tensor<?x4x8xbf16>
}

// -----

// Explicit ALiBi slopes are read per head.

// CHECK-LABEL: func.func @alibi_slopes(
// CHECK-SAME: %[[SLOPES:[^:]*]]: tensor<4xf32>
// CHECK: scf.for %[[H:[^ ]*]] =
// CHECK-NOT: math.ctlz
// CHECK: %[[SLOPE:[^ ]*]] = tensor.extract %[[SLOPES]][%[[H]]] : tensor<4xf32>
// CHECK: linalg.generic
// CHECK:   arith.mulf %[[SLOPE]], %{{.*}} : f32
func.func @alibi_slopes(%q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>,
                        %slopes: tensor<4xf32>, %o: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %r = attn.attention q(%q : tensor<?x4x8xf32>) k(%k : tensor<?x4x8xf32>)
      v(%v : tensor<?x4x8xf32>) alibi_slopes(%slopes : tensor<4xf32>)
      outs(%o : tensor<?x4x8xf32>)
      attributes {pos_encoding = #attn.pos_encoding<alibi>} -> tensor<?x4x8xf32>
  return %r : tensor<?x4x8xf32>
}

// -----

// rope_llama rotates q at positions i + kv_len - qo_len and k at j
// (rotate-half: the partner feature is read with tensor.extract) before the
// score matrix.

// CHECK-LABEL: func.func @rope_llama(
// CHECK: %[[OFF:[^ ]*]] = arith.subi
// CHECK: %[[QR:[^ ]*]] = linalg.generic
// CHECK:   %[[I:[^ ]*]] = linalg.index 0 : index
// CHECK:   tensor.extract %{{.*}}[%[[I]], %{{.*}}] : tensor<?x8xf32>
// CHECK:   %[[POS:[^ ]*]] = arith.addi %[[I]], %[[OFF]] : index
// CHECK:   math.exp2
// CHECK:   math.cos
// CHECK:   math.sin
// CHECK: %[[KR:[^ ]*]] = linalg.generic
// CHECK:   math.cos
// CHECK:   math.sin
// CHECK: linalg.generic {{.*}} ins(%[[QR]], %[[KR]] : tensor<?x8xf32>, tensor<?x8xf32>)
func.func @rope_llama(%q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>,
                      %o: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %r = attn.attention q(%q : tensor<?x4x8xf32>) k(%k : tensor<?x2x8xf32>)
      v(%v : tensor<?x2x8xf32>) outs(%o : tensor<?x4x8xf32>)
      attributes {pos_encoding = #attn.pos_encoding<rope_llama>,
                  rope_scale = 2.0 : f32} -> tensor<?x4x8xf32>
  return %r : tensor<?x4x8xf32>
}
