// RUN: flashinfer-opt %s --attn-decompose-online-attention | FileCheck %s

// The step's score and mask functions are evaluated on the tile: each op of
// a region is rebuilt at the smallest shape its operands need. Key indices
// are [keys], positions, heads and row values [rows], constants scalars;
// only what mixes rows and keys is a [rows x keys] tile. The score function
// sees the score in natural units (sm_scale (q . k)) and its result is turned
// into log2 units; the mask function joins the masked tile's test.

// CHECK-LABEL: func.func @regions(
// CHECK-SAME: %[[Q:[^:]*]]: vector<32x64xbf16>, %{{[^:]*}}: memref<?x2x64xbf16>, %{{[^:]*}}: index, %[[S:[^:]*]]: index, %{{[^:]*}}: index, %[[POS:[^:]*]]: vector<32xindex>, %{{[^:]*}}: vector<32x64xf32>, %{{[^:]*}}: vector<32xf32>, %{{[^:]*}}: vector<32xf32>, %[[B:[^:]*]]: index, %[[HEADS:[^:]*]]: vector<32xindex>, %[[SLOPE:[^:]*]]: vector<32xf32>)
// CHECK: %[[QK:.*]] = vector.contract
// The scale goes straight to natural units: 0.5 * ln(2) ...
// CHECK: %[[NAT:.*]] = arith.mulf %[[QK]], %{{.*}} : vector<32x16xf32>
// CHECK: %[[STEP:.*]] = vector.step : vector<16xindex>
// CHECK: %[[KEYS:.*]] = arith.addi %[[STEP]], %{{.*}} : vector<16xindex>
// kv_idx - q_idx mixes keys and rows: a tile.
// CHECK: %[[KT:.*]] = vector.broadcast %[[KEYS]] : vector<16xindex> to vector<32x16xindex>
// CHECK: %[[PC:.*]] = vector.shape_cast %[[POS]] : vector<32xindex> to vector<32x1xindex>
// CHECK: %[[PT:.*]] = vector.broadcast %[[PC]] : vector<32x1xindex> to vector<32x16xindex>
// CHECK: %[[D:.*]] = arith.subi %[[KT]], %[[PT]] : vector<32x16xindex>
// CHECK: %[[DI:.*]] = arith.index_cast %[[D]] : vector<32x16xindex> to vector<32x16xi32>
// CHECK: %[[DF:.*]] = arith.sitofp %[[DI]] : vector<32x16xi32> to vector<32x16xf32>
// The head's bias depends on the row alone: computed on [rows].
// CHECK: %[[HI:.*]] = arith.index_cast %[[HEADS]] : vector<32xindex> to vector<32xi32>
// CHECK: %[[HF:.*]] = arith.sitofp %[[HI]] : vector<32xi32> to vector<32xf32>
// CHECK: %[[HB:.*]] = arith.mulf %[[SLOPE]], %[[HF]] : vector<32xf32>
// CHECK: %[[HBC:.*]] = vector.shape_cast %[[HB]] : vector<32xf32> to vector<32x1xf32>
// CHECK: %[[HBT:.*]] = vector.broadcast %[[HBC]] : vector<32x1xf32> to vector<32x16xf32>
// CHECK: %[[BIAS:.*]] = arith.addf %[[DF]], %[[HBT]] : vector<32x16xf32>
// CHECK: %[[MOD:.*]] = arith.addf %[[NAT]], %[[BIAS]] : vector<32x16xf32>
// CHECK: %[[LOG2:.*]] = arith.mulf %[[MOD]], %{{.*}} : vector<32x16xf32>
// The bounds test, then the mask function: the document of the key ([keys])
// against that of the row ([rows]).
// CHECK: %[[INB:.*]] = arith.cmpi slt
// CHECK: %[[DK:.*]] = arith.divui %[[KEYS]], %{{.*}} : vector<16xindex>
// CHECK: %[[DQ:.*]] = arith.divui %[[POS]], %{{.*}} : vector<32xindex>
// CHECK: %[[SAME:.*]] = arith.cmpi eq, %{{.*}}, %{{.*}} : vector<32x16xindex>
// CHECK: %[[VIS:.*]] = arith.andi %[[INB]], %[[SAME]] : vector<32x16xi1>
// CHECK: arith.select %[[VIS]], %[[LOG2]], %{{.*}} : vector<32x16xi1>, vector<32x16xf32>
func.func @regions(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %h: index, %start: index, %len: index, %pos: vector<32xindex>, %acc: vector<32x64xf32>, %m: vector<32xf32>, %l: vector<32xf32>, %b: index, %heads: vector<32xindex>, %slope: vector<32xf32>) -> (vector<32x64xf32>, vector<32xf32>, vector<32xf32>) {
  %a, %mx, %sm = attn.online_attention_step %q, %k[%h, %start], %k, %len, %pos, %acc, %m, %l batch(%b) query_heads(%heads : vector<32xindex>) row_values(%slope : vector<32xf32>) score_mod {
  ^bb0(%s: f32, %bi: index, %hi: index, %qi: index, %ki: index, %sl: f32):
    %d = arith.subi %ki, %qi : index
    %di = arith.index_cast %d : index to i32
    %df = arith.sitofp %di : i32 to f32
    %hh = arith.index_cast %hi : index to i32
    %hf = arith.sitofp %hh : i32 to f32
    %hb = arith.mulf %sl, %hf : f32
    %bias = arith.addf %df, %hb : f32
    %r = arith.addf %s, %bias : f32
    attn.yield %r : f32
  } mask_mod {
  ^bb0(%bi: index, %hi: index, %qi: index, %ki: index, %sl: f32):
    %c37 = arith.constant 37 : index
    %dk = arith.divui %ki, %c37 : index
    %dq = arith.divui %qi, %c37 : index
    %same = arith.cmpi eq, %dq, %dk : index
    attn.yield %same : i1
  } {block_n = 16 : i64, scale_log2 = 0.5 : f32, masked} : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x64xbf16>, vector<32xindex>, vector<32x64xf32>, vector<32xf32>
  return %a, %mx, %sm : vector<32x64xf32>, vector<32xf32>, vector<32xf32>
}
