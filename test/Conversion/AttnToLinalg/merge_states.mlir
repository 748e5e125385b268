// RUN: flashinfer-opt %s --convert-attn-to-linalg | FileCheck %s

// Two elementwise generics: lse = max + log2(sum 2^(lse_i - max)) (-inf when
// every state is empty), and v = sum 2^(lse_i - max) v_i / sum with empty
// states (lse -inf) contributing exactly 0.

// CHECK-DAG: #[[$ID2:[^ ]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ID3:[^ ]*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$BC:[^ ]*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @merge3(
// CHECK-SAME: %[[V0:[^:]*]]: tensor<?x4x8xf16>, %[[V1:[^:]*]]: tensor<?x4x8xf16>, %[[V2:[^:]*]]: tensor<?x4x8xf16>, %[[S0:[^:]*]]: tensor<?x4xf32>, %[[S1:[^:]*]]: tensor<?x4xf32>, %[[S2:[^:]*]]: tensor<?x4xf32>, %[[O:[^:]*]]: tensor<?x4x8xf16>, %[[L:[^:]*]]: tensor<?x4xf32>)
// CHECK: %[[LSE:[^ ]*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]], #[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[S0]], %[[S1]], %[[S2]] : {{.*}}) outs(%[[L]] : tensor<?x4xf32>)
// CHECK: ^bb0(%[[A:[^:]*]]: f32, %[[B:[^:]*]]: f32, %[[C:[^:]*]]: f32, %{{.*}}: f32):
// CHECK:   %[[M0:[^ ]*]] = arith.maximumf %{{.*}}, %[[A]] : f32
// CHECK:   %[[M1:[^ ]*]] = arith.maximumf %[[M0]], %[[B]] : f32
// CHECK:   %[[M2:[^ ]*]] = arith.maximumf %[[M1]], %[[C]] : f32
// CHECK:   %[[ANY:[^ ]*]] = arith.cmpf one, %[[M2]], %{{.*}} : f32
// CHECK:   %[[SHIFT:[^ ]*]] = arith.select %[[ANY]], %[[M2]], %{{.*}} : f32
// CHECK:   arith.subf %[[A]], %[[SHIFT]] : f32
// CHECK:   math.exp2
// CHECK:   arith.subf %[[C]], %[[SHIFT]] : f32
// CHECK:   math.exp2
// CHECK:   %[[SUM:[^ ]*]] = arith.addf
// CHECK:   %[[LOG:[^ ]*]] = math.log2 %[[SUM]] : f32
// CHECK:   %[[R:[^ ]*]] = arith.addf %[[SHIFT]], %[[LOG]] : f32
// CHECK:   %[[OUT:[^ ]*]] = arith.select %[[ANY]], %[[R]], %{{.*}} : f32
// CHECK:   linalg.yield %[[OUT]] : f32
// CHECK: %[[V:[^ ]*]] = linalg.generic {indexing_maps = [#[[$ID3]], #[[$ID3]], #[[$ID3]], #[[$BC]], #[[$BC]], #[[$BC]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[V0]], %[[V1]], %[[V2]], %[[S0]], %[[S1]], %[[S2]] : {{.*}}) outs(%[[O]] : tensor<?x4x8xf16>)
// CHECK:   %[[W0:[^ ]*]] = math.exp2
// CHECK:   %[[X0:[^ ]*]] = arith.extf %{{.*}} : f16 to f32
// CHECK:   %[[T0:[^ ]*]] = arith.mulf %[[W0]], %[[X0]] : f32
// CHECK:   %[[E0:[^ ]*]] = arith.cmpf oeq, %{{.*}}, %{{.*}} : f32
// CHECK:   arith.select %[[E0]], %{{.*}}, %[[T0]] : f32
// CHECK:   arith.divf
// CHECK:   arith.truncf %{{.*}} : f32 to f16
// CHECK: return %[[V]], %[[LSE]]
func.func @merge3(%v0: tensor<?x4x8xf16>, %v1: tensor<?x4x8xf16>, %v2: tensor<?x4x8xf16>,
                  %s0: tensor<?x4xf32>, %s1: tensor<?x4xf32>, %s2: tensor<?x4xf32>,
                  %o: tensor<?x4x8xf16>, %l: tensor<?x4xf32>) -> (tensor<?x4x8xf16>, tensor<?x4xf32>) {
  %r:2 = attn.merge_states
      values(%v0, %v1, %v2 : tensor<?x4x8xf16>, tensor<?x4x8xf16>, tensor<?x4x8xf16>)
      lse(%s0, %s1, %s2 : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>)
      outs(%o, %l : tensor<?x4x8xf16>, tensor<?x4xf32>) -> tensor<?x4x8xf16>, tensor<?x4xf32>
  return %r#0, %r#1 : tensor<?x4x8xf16>, tensor<?x4xf32>
}
