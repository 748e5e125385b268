// RUN: flashinfer-opt %s --attn-decompose-online-attention | FileCheck %s

// The step becomes FlashAttention-2's recurrence on workgroup tiles: both
// tiles read at the tile start, S = Q K^T on the matrix-friendly contraction,
// scale to log2 units, (masked tiles only) the bounds/causal/window test,
// running max, probabilities against the new max, rescaled sum and
// accumulator, and O += P V with P rounded to bf16.

// CHECK-DAG: #[[TILE:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[NK:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[KN:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>

// CHECK-LABEL: func.func @unmasked(
// CHECK-SAME: %[[Q:[^:]*]]: vector<32x64xbf16>, %[[K:[^:]*]]: memref<?x2x64xbf16>, %[[V:[^:]*]]: memref<?x2x32xbf16>, %[[H:[^:]*]]: index, %[[S:[^:]*]]: index, %[[LEN:[^:]*]]: index, %{{[^:]*}}: vector<32xindex>, %[[ACC:[^:]*]]: vector<32x32xf32>, %[[M:[^:]*]]: vector<32xf32>, %[[L:[^:]*]]: vector<32xf32>)
// CHECK: %[[KT:.*]] = attn.load_kv_tile %[[K]][%[[H]], %[[S]]], %[[LEN]] {in_bounds} : memref<?x2x64xbf16> -> vector<16x64xbf16>
// CHECK: %[[VT:.*]] = attn.load_kv_tile %[[V]][%[[H]], %[[S]]], %[[LEN]] {in_bounds} : memref<?x2x32xbf16> -> vector<16x32xbf16>
// CHECK: %[[QK:.*]] = vector.contract {indexing_maps = [#[[TILE]], #[[NK]], #[[MN]]], {{.*}}} %[[Q]], %[[KT]], %{{.*}} : vector<32x64xbf16>, vector<16x64xbf16> into vector<32x16xf32>
// CHECK: %[[SCALE:.*]] = arith.constant dense<5.000000e-01> : vector<32x16xf32>
// CHECK: %[[SC:.*]] = arith.mulf %[[QK]], %[[SCALE]]
// CHECK-NOT: arith.cmpi
// CHECK: %[[MAX:.*]] = vector.multi_reduction <maximumf>, %[[SC]], %[[M]] [1] : vector<32x16xf32> to vector<32xf32>
// CHECK: %[[NONE:.*]] = arith.cmpf oeq, %[[MAX]], %{{.*}} : vector<32xf32>
// CHECK: %[[BASE:.*]] = arith.select %[[NONE]], %{{.*}}, %[[MAX]]
// CHECK: %[[DM:.*]] = arith.subf %[[M]], %[[BASE]]
// CHECK: %[[ALPHA:.*]] = math.exp2 %[[DM]] : vector<32xf32>
// CHECK: %[[BCOL:.*]] = vector.shape_cast %[[BASE]] : vector<32xf32> to vector<32x1xf32>
// CHECK: %[[BB:.*]] = vector.broadcast %[[BCOL]] : vector<32x1xf32> to vector<32x16xf32>
// CHECK: %[[D:.*]] = arith.subf %[[SC]], %[[BB]]
// CHECK: %[[P:.*]] = math.exp2 %[[D]] : vector<32x16xf32>
// CHECK: %[[LA:.*]] = arith.mulf %[[L]], %[[ALPHA]]
// CHECK: %[[SUM:.*]] = vector.multi_reduction <add>, %[[P]], %[[LA]] [1]
// CHECK: %[[ACOL:.*]] = vector.shape_cast %[[ALPHA]] : vector<32xf32> to vector<32x1xf32>
// CHECK: %[[AB:.*]] = vector.broadcast %[[ACOL]] : vector<32x1xf32> to vector<32x32xf32>
// CHECK: %[[RESC:.*]] = arith.mulf %[[ACC]], %[[AB]]
// CHECK: %[[PB:.*]] = arith.truncf %[[P]] : vector<32x16xf32> to vector<32x16xbf16>
// CHECK: %[[O:.*]] = vector.contract {indexing_maps = [#[[TILE]], #[[KN]], #[[MN]]], {{.*}}} %[[PB]], %[[VT]], %[[RESC]] : vector<32x16xbf16>, vector<16x32xbf16> into vector<32x32xf32>
// CHECK: return %[[O]], %[[MAX]], %[[SUM]]

// Masked: reads past kv_len are padded; key k = start + step is visible
// iff k < kv_len, k <= position (causal) and k >= position - 8 (window).
// CHECK-LABEL: func.func @masked(
// CHECK-SAME: %{{[^:]*}}: index, %[[S:[^:]*]]: index, %[[LEN:[^:]*]]: index, %[[POS:[^:]*]]: vector<32xindex>,
// CHECK: attn.load_kv_tile {{.*}}, %[[LEN]] : memref<?x2x64xbf16> -> vector<16x64xbf16>
// CHECK: attn.load_kv_tile {{.*}}, %[[LEN]] : memref<?x2x32xbf16> -> vector<16x32xbf16>
// CHECK: %[[SC:.*]] = arith.mulf
// CHECK-DAG: %[[STEP:.*]] = vector.step : vector<16xindex>
// CHECK-DAG: %[[SB:.*]] = vector.broadcast %[[S]] : index to vector<16xindex>
// CHECK: %[[KEYS:.*]] = arith.addi %[[STEP]], %[[SB]] : vector<16xindex>
// CHECK: %[[KEY:.*]] = vector.broadcast %[[KEYS]] : vector<16xindex> to vector<32x16xindex>
// CHECK: %[[LENB:.*]] = vector.broadcast %[[LEN]] : index to vector<32x16xindex>
// CHECK: %[[INB:.*]] = arith.cmpi slt, %[[KEY]], %[[LENB]]
// CHECK: %[[PCOL:.*]] = vector.shape_cast %[[POS]] : vector<32xindex> to vector<32x1xindex>
// CHECK: %[[P:.*]] = vector.broadcast %[[PCOL]] : vector<32x1xindex> to vector<32x16xindex>
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[KEY]], %[[P]]
// CHECK: %[[V1:.*]] = arith.andi %[[INB]], %[[CAUSAL]]
// CHECK: %[[W:.*]] = arith.constant 8 : index
// CHECK: %[[WB:.*]] = vector.broadcast %[[W]] : index to vector<32x16xindex>
// CHECK: %[[LO:.*]] = arith.subi %[[P]], %[[WB]]
// CHECK: %[[INW:.*]] = arith.cmpi sge, %[[KEY]], %[[LO]]
// CHECK: %[[VIS:.*]] = arith.andi %[[V1]], %[[INW]]
// CHECK: %[[NEGINF:.*]] = arith.constant dense<0xFF800000> : vector<32x16xf32>
// CHECK: %[[MASKED:.*]] = arith.select %[[VIS]], %[[SC]], %[[NEGINF]]
// CHECK: vector.multi_reduction <maximumf>, %[[MASKED]]

// Soft cap c = 2, sm_scale = 0.5 / log2(e): s = log2(e) c tanh(x) with
// x = sm_scale (q . k) / c and tanh(x) = 1 - 2 / (2^(2 log2(e) x) + 1), so
// the contraction is scaled by 2 log2(e) sm_scale / c = 0.5 before exp2 and
// the result by log2(e) c = 2.885.
// CHECK-LABEL: func.func @soft_capped(
// CHECK: %[[QK:.*]] = vector.contract
// CHECK: %[[K2:.*]] = arith.constant dense<5.000000e-01> : vector<32x16xf32>
// CHECK: %[[X:.*]] = arith.mulf %[[QK]], %[[K2]]
// CHECK: %[[E:.*]] = math.exp2 %[[X]] : vector<32x16xf32>
// CHECK: %[[EP1:.*]] = arith.addf %[[E]], %{{.*}}
// CHECK: %[[TWO:.*]] = arith.constant dense<2.000000e+00> : vector<32x16xf32>
// CHECK: %[[Q:.*]] = arith.divf %[[TWO]], %[[EP1]]
// CHECK: %[[ONE:.*]] = arith.constant dense<1.000000e+00> : vector<32x16xf32>
// CHECK: %[[T:.*]] = arith.subf %[[ONE]], %[[Q]]
// CHECK: %[[C:.*]] = arith.constant dense<2.885{{[0-9]*}}e+00> : vector<32x16xf32>
// CHECK: %[[S:.*]] = arith.mulf %[[T]], %[[C]]
// CHECK: vector.multi_reduction <maximumf>, %[[S]]

// A paged KV source: both tiles read through the step's page list, in its
// layout.
// CHECK-LABEL: func.func @paged(
// CHECK-SAME: %[[K:[^:]*]]: memref<?x2x16x64xbf16>, %[[V:[^:]*]]: memref<?x2x16x32xbf16>, %[[IDX:[^:]*]]: memref<?xi32>, %[[PB:[^:]*]]: index, %[[H:[^:]*]]: index, %[[S:[^:]*]]: index, %[[LEN:[^:]*]]: index
// CHECK: attn.load_kv_tile %[[K]][%[[H]], %[[S]]], %[[LEN]] pages(%[[IDX]][%[[PB]]] : memref<?xi32>) {kv_layout = #attn.kv_layout<hnd>} : memref<?x2x16x64xbf16> -> vector<16x64xbf16>
// CHECK: attn.load_kv_tile %[[V]][%[[H]], %[[S]]], %[[LEN]] pages(%[[IDX]][%[[PB]]] : memref<?xi32>) {kv_layout = #attn.kv_layout<hnd>} : memref<?x2x16x32xbf16> -> vector<16x32xbf16>
// CHECK-NOT: attn.online_attention_step

func.func @unmasked(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>,
                    %h: index, %start: index, %len: index, %pos: vector<32xindex>,
                    %acc: vector<32x32xf32>, %m: vector<32xf32>, %l: vector<32xf32>)
    -> (vector<32x32xf32>, vector<32xf32>, vector<32xf32>) {
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %start], %v, %len, %pos, %acc, %m, %l
      {block_n = 16 : i64, scale_log2 = 0.5 : f32}
      : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %a, %b, %c : vector<32x32xf32>, vector<32xf32>, vector<32xf32>
}

func.func @masked(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>,
                  %h: index, %start: index, %len: index, %pos: vector<32xindex>,
                  %acc: vector<32x32xf32>, %m: vector<32xf32>, %l: vector<32xf32>)
    -> (vector<32x32xf32>, vector<32xf32>, vector<32xf32>) {
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %start], %v, %len, %pos, %acc, %m, %l
      {block_n = 16 : i64, scale_log2 = 0.5 : f32, causal, window_left = 8 : i64, masked}
      : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %a, %b, %c : vector<32x32xf32>, vector<32xf32>, vector<32xf32>
}

func.func @soft_capped(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>,
                       %h: index, %start: index, %len: index, %pos: vector<32xindex>,
                       %acc: vector<32x32xf32>, %m: vector<32xf32>, %l: vector<32xf32>)
    -> (vector<32x32xf32>, vector<32xf32>, vector<32xf32>) {
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %start], %v, %len, %pos, %acc, %m, %l
      {block_n = 16 : i64, scale_log2 = 0.5 : f32, logits_soft_cap = 2.0 : f32}
      : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %a, %b, %c : vector<32x32xf32>, vector<32xf32>, vector<32xf32>
}

func.func @paged(%q: vector<32x64xbf16>, %k: memref<?x2x16x64xbf16>, %v: memref<?x2x16x32xbf16>,
                 %idx: memref<?xi32>, %pb: index,
                 %h: index, %start: index, %len: index, %pos: vector<32xindex>,
                 %acc: vector<32x32xf32>, %m: vector<32xf32>, %l: vector<32xf32>)
    -> (vector<32x32xf32>, vector<32xf32>, vector<32xf32>) {
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %start], %v, %len pages(%idx[%pb] : memref<?xi32>), %pos, %acc, %m, %l
      {block_n = 16 : i64, scale_log2 = 0.5 : f32, masked, kv_layout = #attn.kv_layout<hnd>}
      : vector<32x64xbf16>, memref<?x2x16x64xbf16>, memref<?x2x16x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %a, %b, %c : vector<32x32xf32>, vector<32xf32>, vector<32xf32>
}

// Launch-time values: the scale and the cap are scalars broadcast over the
// tile, the cap applied where it is > 0; the window is tested where it is
// >= 0 (every key visible otherwise).
// CHECK-LABEL: func.func @launch_values(
// CHECK-SAME: %[[SCALE:[^:]*]]: f32, %[[CAP:[^:]*]]: f32, %[[W:[^:]*]]: index)
// CHECK: %[[SB:.*]] = vector.broadcast %[[SCALE]] : f32 to vector<32x16xf32>
// CHECK: %[[PLAIN:.*]] = arith.mulf %{{.*}}, %[[SB]] : vector<32x16xf32>
// CHECK: %[[TWO_S:.*]] = arith.mulf %{{.*}}, %[[SCALE]] : f32
// CHECK: %[[FACTOR:.*]] = arith.divf %[[TWO_S]], %[[CAP]] : f32
// CHECK: math.exp2
// CHECK: %[[CAPPED:.*]] = arith.mulf %{{.*}}, %{{.*}} : vector<32x16xf32>
// CHECK: %[[ON:.*]] = arith.cmpf ogt, %[[CAP]], %{{.*}} : f32
// CHECK: %[[S:.*]] = arith.select %[[ON]], %[[CAPPED]], %[[PLAIN]] : vector<32x16xf32>
// CHECK: %[[WB:.*]] = vector.broadcast %[[W]] : index to vector<32x16xindex>
// CHECK: %[[LO:.*]] = arith.subi %{{.*}}, %[[WB]] : vector<32x16xindex>
// CHECK: %[[IN:.*]] = arith.cmpi sge, %{{.*}}, %[[LO]] : vector<32x16xindex>
// CHECK: %[[NONE:.*]] = arith.cmpi slt, %[[W]], %{{.*}} : index
// CHECK: %[[NB:.*]] = vector.broadcast %[[NONE]] : i1 to vector<32x16xi1>
// CHECK: %[[OK:.*]] = arith.ori %[[IN]], %[[NB]] : vector<32x16xi1>
// CHECK: arith.andi %{{.*}}, %[[OK]] : vector<32x16xi1>
func.func @launch_values(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>,
                         %h: index, %start: index, %len: index, %pos: vector<32xindex>,
                         %acc: vector<32x32xf32>, %m: vector<32xf32>, %l: vector<32xf32>,
                         %scale: f32, %cap: f32, %w: index)
    -> (vector<32x32xf32>, vector<32xf32>, vector<32xf32>) {
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %start], %v, %len, %pos, %acc, %m, %l
      scale_log2(%scale) logits_soft_cap(%cap) window_left(%w)
      {block_n = 16 : i64, masked}
      : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %a, %b, %c : vector<32x32xf32>, vector<32xf32>, vector<32xf32>
}

// Fused RoPE: key_rotary (and the launch-time rotary_theta / rotary_scale)
// go to the K tile's load only, which the product then reads as it is; the
// V tile is never rotated, and the step computes no angles itself (the
// query arrives turned).
// CHECK-LABEL: func.func @key_rotary(
// CHECK-SAME: %[[K:[^:]*]]: memref<?x2x64xbf16>, %[[V:[^:]*]]: memref<?x2x32xbf16>, %[[H:[^:]*]]: index, %[[S:[^:]*]]: index, %[[LEN:[^:]*]]: index,
// CHECK-SAME: %[[THETA:[^:]*]]: f32, %[[SCALE:[^:]*]]: f32)
// CHECK: %[[KT:.*]] = attn.load_kv_tile %[[K]][%[[H]], %[[S]]], %[[LEN]] rotary_theta(%[[THETA]]) rotary_scale(%[[SCALE]]) {in_bounds, rotary = #attn.rotary<theta = 1.000000e+04, scale = 1.000000e+00>} : memref<?x2x64xbf16> -> vector<16x64xbf16>
// CHECK-NEXT: %[[VT:.*]] = attn.load_kv_tile %[[V]][%[[H]], %[[S]]], %[[LEN]] {in_bounds} : memref<?x2x32xbf16> -> vector<16x32xbf16>
// CHECK: vector.contract {{.*}} %{{.*}}, %[[KT]], %{{.*}} : vector<32x64xbf16>, vector<16x64xbf16> into vector<32x16xf32>
// CHECK-NOT: math.cos
// CHECK-NOT: math.sin
// CHECK-NOT: rotary
// CHECK: vector.contract {{.*}} %{{.*}}, %[[VT]], %{{.*}} : vector<32x16xbf16>, vector<16x32xbf16> into vector<32x32xf32>
// CHECK-NOT: rotary
// CHECK: return

// Without operands (theta and scale compiled in), on a paged hnd cache,
// masked: K and V have the same shape here, and still only K is rotated.
// CHECK-LABEL: func.func @key_rotary_paged(
// CHECK-SAME: %[[K:[^:]*]]: memref<?x2x16x64xbf16>, %[[V:[^:]*]]: memref<?x2x16x64xbf16>, %[[IDX:[^:]*]]: memref<?xi32>, %[[PB:[^:]*]]: index, %[[H:[^:]*]]: index, %[[S:[^:]*]]: index, %[[LEN:[^:]*]]: index
// CHECK: %[[KT:.*]] = attn.load_kv_tile %[[K]][%[[H]], %[[S]]], %[[LEN]] pages(%[[IDX]][%[[PB]]] : memref<?xi32>) {kv_layout = #attn.kv_layout<hnd>, rotary = #attn.rotary<theta = 5.000000e+05, scale = 8.000000e+00>} : memref<?x2x16x64xbf16> -> vector<16x64xbf16>
// CHECK-NEXT: %[[VT:.*]] = attn.load_kv_tile %[[V]][%[[H]], %[[S]]], %[[LEN]] pages(%[[IDX]][%[[PB]]] : memref<?xi32>) {kv_layout = #attn.kv_layout<hnd>} : memref<?x2x16x64xbf16> -> vector<16x64xbf16>
// CHECK: vector.contract {{.*}} %{{.*}}, %[[KT]], %{{.*}} : vector<32x64xbf16>, vector<16x64xbf16> into vector<32x16xf32>
// CHECK-NOT: rotary
// CHECK: vector.contract {{.*}} %{{.*}}, %[[VT]], %{{.*}} : vector<32x16xbf16>, vector<16x64xbf16> into vector<32x64xf32>
// CHECK-NOT: attn.online_attention_step
func.func @key_rotary(%q: vector<32x64xbf16>, %k: memref<?x2x64xbf16>, %v: memref<?x2x32xbf16>,
                      %h: index, %start: index, %len: index, %pos: vector<32xindex>,
                      %acc: vector<32x32xf32>, %m: vector<32xf32>, %l: vector<32xf32>,
                      %theta: f32, %scale: f32)
    -> (vector<32x32xf32>, vector<32xf32>, vector<32xf32>) {
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %start], %v, %len, %pos, %acc, %m, %l
      rotary_theta(%theta) rotary_scale(%scale)
      {block_n = 16 : i64, scale_log2 = 0.5 : f32, key_rotary = #attn.rotary<theta = 10000.0, scale = 1.0>}
      : vector<32x64xbf16>, memref<?x2x64xbf16>, memref<?x2x32xbf16>, vector<32xindex>, vector<32x32xf32>, vector<32xf32>
  return %a, %b, %c : vector<32x32xf32>, vector<32xf32>, vector<32xf32>
}

func.func @key_rotary_paged(%q: vector<32x64xbf16>, %k: memref<?x2x16x64xbf16>, %v: memref<?x2x16x64xbf16>,
                            %idx: memref<?xi32>, %pb: index,
                            %h: index, %start: index, %len: index, %pos: vector<32xindex>,
                            %acc: vector<32x64xf32>, %m: vector<32xf32>, %l: vector<32xf32>)
    -> (vector<32x64xf32>, vector<32xf32>, vector<32xf32>) {
  %a, %b, %c = attn.online_attention_step %q, %k[%h, %start], %v, %len pages(%idx[%pb] : memref<?xi32>), %pos, %acc, %m, %l
      {block_n = 16 : i64, scale_log2 = 0.5 : f32, masked, causal, kv_layout = #attn.kv_layout<hnd>, key_rotary = #attn.rotary<theta = 500000.0, scale = 8.0>}
      : vector<32x64xbf16>, memref<?x2x16x64xbf16>, memref<?x2x16x64xbf16>, vector<32xindex>, vector<32x64xf32>, vector<32xf32>
  return %a, %b, %c : vector<32x64xf32>, vector<32xf32>, vector<32xf32>
}
