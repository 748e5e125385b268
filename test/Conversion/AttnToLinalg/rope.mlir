// RUN: flashinfer-opt %s --convert-attn-to-linalg --split-input-file | FileCheck %s

// Rotate-half: feature d < rotary_dim/2 pairs with d + rotary_dim/2 and the
// first of the pair gets x cos - y sin. The result is written into outs.

// CHECK-LABEL: func.func @rotate_half(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x4x16xf16>, %[[P:[^:]*]]: tensor<?xi32>, %[[O:[^:]*]]: tensor<?x4x16xf16>)
// CHECK: %[[RD:[^ ]*]] = arith.constant 16 : index
// CHECK: %[[R:[^ ]*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]] : tensor<?x4x16xf16>) outs(%[[O]] : tensor<?x4x16xf16>)
// CHECK: ^bb0(%[[IN:[^:]*]]: f16,
// CHECK:   %[[T:[^ ]*]] = linalg.index 0 : index
// CHECK:   %[[H:[^ ]*]] = linalg.index 1 : index
// CHECK:   %[[D:[^ ]*]] = linalg.index 2 : index
// CHECK:   %[[INROT:[^ ]*]] = arith.cmpi ult, %[[D]], %[[RD]] : index
// CHECK:   %[[HALF:[^ ]*]] = arith.divui %[[RD]], %{{.*}} : index
// CHECK:   %[[FIRST:[^ ]*]] = arith.cmpi ult, %[[D]], %[[HALF]] : index
// CHECK:   %[[LOWER:[^ ]*]] = arith.subi %[[D]], %[[HALF]] : index
// CHECK:   %[[UPPER:[^ ]*]] = arith.addi %[[D]], %[[HALF]] : index
// CHECK:   %[[PARTNER:[^ ]*]] = arith.select %[[FIRST]], %[[UPPER]], %[[LOWER]] : index
// CHECK:   %[[SAFE:[^ ]*]] = arith.select %[[INROT]], %[[PARTNER]], %[[D]] : index
// CHECK:   %[[XF:[^ ]*]] = arith.extf %[[IN]] : f16 to f32
// CHECK:   %[[Y:[^ ]*]] = tensor.extract %[[X]][%[[T]], %[[H]], %[[SAFE]]] : tensor<?x4x16xf16>
// CHECK:   %[[YF:[^ ]*]] = arith.extf %[[Y]] : f16 to f32
// CHECK:   %[[FREQ:[^ ]*]] = math.exp2
// CHECK:   %[[POS_I:[^ ]*]] = tensor.extract %[[P]][%[[T]]] : tensor<?xi32>
// CHECK:   %[[POS:[^ ]*]] = arith.sitofp %[[POS_I]] : i32 to f32
// CHECK:   %[[PS:[^ ]*]] = arith.divf %[[POS]], %{{.*}} : f32
// CHECK:   %[[ANG:[^ ]*]] = arith.mulf %[[PS]], %[[FREQ]] : f32
// CHECK:   %[[COS:[^ ]*]] = math.cos %[[ANG]] : f32
// CHECK:   %[[SIN:[^ ]*]] = math.sin %[[ANG]] : f32
// CHECK:   %[[XC:[^ ]*]] = arith.mulf %[[XF]], %[[COS]] : f32
// CHECK:   %[[YS:[^ ]*]] = arith.mulf %[[YF]], %[[SIN]] : f32
// CHECK:   %[[PLUS:[^ ]*]] = arith.addf %[[XC]], %[[YS]] : f32
// CHECK:   %[[MINUS:[^ ]*]] = arith.subf %[[XC]], %[[YS]] : f32
// CHECK:   %[[ROT:[^ ]*]] = arith.select %[[FIRST]], %[[MINUS]], %[[PLUS]] : f32
// CHECK:   %[[RES:[^ ]*]] = arith.select %[[INROT]], %[[ROT]], %[[XF]] : f32
// CHECK:   %[[TR:[^ ]*]] = arith.truncf %[[RES]] : f32 to f16
// CHECK:   linalg.yield %[[TR]] : f16
// CHECK: return %[[R]]
func.func @rotate_half(%x: tensor<?x4x16xf16>, %p: tensor<?xi32>, %o: tensor<?x4x16xf16>)
    -> tensor<?x4x16xf16> {
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%o : tensor<?x4x16xf16>)
      : tensor<?x4x16xf16> -> tensor<?x4x16xf16>
  return %r : tensor<?x4x16xf16>
}

// -----

// Interleaved pairs (2i, 2i+1) over a partial rotary_dim; theta enters as
// log2(theta) (log2(500) = 8.9657...).

// CHECK-LABEL: func.func @interleave_partial(
// CHECK: %[[RD:[^ ]*]] = arith.constant 8 : index
// CHECK: linalg.generic
// CHECK:   %[[D:[^ ]*]] = linalg.index 2 : index
// CHECK:   %[[INROT:[^ ]*]] = arith.cmpi ult, %[[D]], %[[RD]] : index
// CHECK:   %[[PAR:[^ ]*]] = arith.remui %[[D]], %{{.*}} : index
// CHECK:   %[[EVEN:[^ ]*]] = arith.cmpi eq, %[[PAR]], %{{.*}} : index
// CHECK:   %[[PAIR:[^ ]*]] = arith.divui %[[D]], %{{.*}} : index
// CHECK:   %[[DOWN:[^ ]*]] = arith.subi %[[D]], %{{.*}} : index
// CHECK:   %[[UP:[^ ]*]] = arith.addi %[[D]], %{{.*}} : index
// CHECK:   arith.select %[[EVEN]], %[[UP]], %[[DOWN]] : index
// CHECK:   arith.constant 8.96578407 : f32
// CHECK:   arith.select %[[EVEN]], %{{.*}}, %{{.*}} : f32
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
func.func @interleave_partial(%x: tensor<?x4x16xbf16>, %p: tensor<?xi32>, %o: tensor<?x4x16xbf16>)
    -> tensor<?x4x16xbf16> {
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%o : tensor<?x4x16xbf16>)
      {interleave, rotary_dim = 8, rope_theta = 500.0 : f32}
      : tensor<?x4x16xbf16> -> tensor<?x4x16xbf16>
  return %r : tensor<?x4x16xbf16>
}
