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
// CHECK:   %[[HALF:[^ ]*]] = arith.divui %[[RD]], %{{.*}} : index
// CHECK:   %[[INROT:[^ ]*]] = arith.cmpi ult, %[[D]], %[[RD]] : index
// CHECK:   %[[FIRST:[^ ]*]] = arith.cmpi ult, %[[D]], %[[HALF]] : index
// CHECK:   %[[LOWER:[^ ]*]] = arith.subi %[[D]], %[[HALF]] : index
// CHECK:   %[[PAIRIDX:[^ ]*]] = arith.select %[[FIRST]], %[[D]], %[[LOWER]] : index
// CHECK:   %[[UPPER:[^ ]*]] = arith.addi %[[D]], %[[HALF]] : index
// CHECK:   %[[PARTNER:[^ ]*]] = arith.select %[[FIRST]], %[[UPPER]], %[[LOWER]] : index
// CHECK:   %[[SAFE:[^ ]*]] = arith.select %[[INROT]], %[[PARTNER]], %[[D]] : index
// CHECK:   %[[PAIR:[^ ]*]] = arith.select %[[INROT]], %[[PAIRIDX]], %{{.*}} : index
// CHECK:   %[[XF:[^ ]*]] = arith.extf %[[IN]] : f16 to f32
// CHECK:   %[[Y:[^ ]*]] = tensor.extract %[[X]][%[[T]], %[[H]], %[[SAFE]]] : tensor<?x4x16xf16>
// CHECK:   %[[YF:[^ ]*]] = arith.extf %[[Y]] : f16 to f32
// CHECK:   %[[POS_I:[^ ]*]] = tensor.extract %[[P]][%[[T]]] : tensor<?xi32>
// CHECK:   %[[POS_X:[^ ]*]] = arith.index_cast %[[POS_I]] : i32 to index
// CHECK:   arith.muli %[[PAIR]], %{{.*}} : index
// CHECK:   %[[FREQ:[^ ]*]] = math.exp2
// CHECK:   %[[FS:[^ ]*]] = arith.divf %[[FREQ]], %{{.*}} : f32
// CHECK:   %[[POS_64:[^ ]*]] = arith.index_cast %[[POS_X]] : index to i64
// CHECK:   %[[POS:[^ ]*]] = arith.sitofp %[[POS_64]] : i64 to f32
// CHECK:   %[[ANG:[^ ]*]] = arith.mulf %[[POS]], %[[FS]] : f32
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

// -----

// Llama 3.1's scaling: s = clamp(f * slope + offset, 0, 1) with slope =
// old_context_len / (2 pi (high - low)) = 8192 / (6 pi) = 434.59... and
// offset = -low / (high - low) = -1/3; f' = (1 - s) f / scale + s f.

// CHECK-LABEL: func.func @llama31(
// CHECK: linalg.generic
// CHECK:   %[[F:[^ ]*]] = math.exp2
// CHECK:   %[[FS:[^ ]*]] = arith.divf %[[F]], %{{.*}} : f32
// CHECK:   %[[SLOPE:[^ ]*]] = arith.constant 434.59{{[0-9]*}} : f32
// CHECK:   %[[OFF:[^ ]*]] = arith.constant -0.3333{{[0-9]*}} : f32
// CHECK:   %[[M:[^ ]*]] = arith.mulf %[[F]], %[[SLOPE]] : f32
// CHECK:   %[[S0:[^ ]*]] = arith.addf %[[M]], %[[OFF]] : f32
// CHECK:   %[[S1:[^ ]*]] = arith.maximumf %[[S0]], %{{.*}} : f32
// CHECK:   %[[S:[^ ]*]] = arith.minimumf %[[S1]], %{{.*}} : f32
// CHECK:   %[[KEEP:[^ ]*]] = arith.subf %{{.*}}, %[[S]] : f32
// CHECK:   %[[LOW:[^ ]*]] = arith.mulf %[[KEEP]], %[[FS]] : f32
// CHECK:   %[[HIGH:[^ ]*]] = arith.mulf %[[S]], %[[F]] : f32
// CHECK:   %[[FREQ:[^ ]*]] = arith.addf %[[LOW]], %[[HIGH]] : f32
// CHECK:   arith.mulf %{{.*}}, %[[FREQ]] : f32
func.func @llama31(%x: tensor<?x4x16xf32>, %p: tensor<?xi32>, %o: tensor<?x4x16xf32>)
    -> tensor<?x4x16xf32> {
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%o : tensor<?x4x16xf32>)
      {rope_scale = 8.0 : f32, rope_theta = 500000.0 : f32,
       llama31_scaling = #attn.llama31_scaling<low_freq_factor = 1.0,
           high_freq_factor = 4.0, old_context_len = 8192.0>}
      : tensor<?x4x16xf32> -> tensor<?x4x16xf32>
  return %r : tensor<?x4x16xf32>
}

// -----

// A ragged batch's positions: a loop over the requests writes offsets[b] +
// t - indptr[b] for each of its rows (clamped into the tensor) into a
// [tokens] index tensor, which the rotation reads; the cache's row pos gives
// cos (column i) and sin (column i + rotary_dim / 2), the row clamped to 0
// when outside the cache.

// CHECK-LABEL: func.func @ragged_cache(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x2x8xf16>, %[[IP:[^:]*]]: tensor<?xi32>, %[[OFF:[^:]*]]: tensor<?xi32>, %[[C:[^:]*]]: tensor<?x8xf32>
// CHECK: %[[POS0:[^ ]*]] = linalg.fill ins(%{{.*}} : index) outs(%{{.*}} : tensor<?xindex>)
// CHECK: %[[POS:[^ ]*]] = scf.for %{{.*}} iter_args(%{{.*}} = %[[POS0]]) -> (tensor<?xindex>)
// CHECK:   tensor.extract %[[OFF]]
// CHECK:   scf.for
// CHECK:     tensor.insert
// CHECK: linalg.generic
// CHECK:   %[[P:[^ ]*]] = tensor.extract %[[POS]][%{{.*}}] : tensor<?xindex>
// CHECK:   %[[ROWS:[^ ]*]] = tensor.dim %[[C]], %{{.*}} : tensor<?x8xf32>
// CHECK:   %[[ROW:[^ ]*]] = arith.select %{{.*}}, %[[P]], %{{.*}} : index
// CHECK:   %[[COS:[^ ]*]] = tensor.extract %[[C]][%[[ROW]], %[[I:[a-z0-9_%]*]]] : tensor<?x8xf32>
// CHECK:   %[[SCOL:[^ ]*]] = arith.addi %[[I]], %{{.*}} : index
// CHECK:   %[[SIN:[^ ]*]] = tensor.extract %[[C]][%[[ROW]], %[[SCOL]]] : tensor<?x8xf32>
// CHECK-NOT: math.cos
// CHECK:   arith.mulf %{{.*}}, %[[COS]] : f32
// CHECK:   arith.mulf %{{.*}}, %[[SIN]] : f32
func.func @ragged_cache(%x: tensor<?x2x8xf16>, %ip: tensor<?xi32>, %off: tensor<?xi32>,
                        %c: tensor<?x8xf32>, %o: tensor<?x2x8xf16>) -> tensor<?x2x8xf16> {
  %r = attn.rope %x indptr(%ip : tensor<?xi32>) offsets(%off : tensor<?xi32>)
      cos_sin_cache(%c : tensor<?x8xf32>) outs(%o : tensor<?x2x8xf16>)
      : tensor<?x2x8xf16> -> tensor<?x2x8xf16>
  return %r : tensor<?x2x8xf16>
}
