// RUN: flashinfer-opt %s --convert-attn-to-gpu=chip=sm_90a --canonicalize --split-input-file | FileCheck %s

// attn.rope: each lane handles 2 x 8 features (two 16-byte vectors) of up
// to 8 heads of one token: it computes its pairs' frequencies, angles, cos
// and sin once, then reads, rotates in f32 and writes them in each head.
// Rotate-half lanes take pair indices [8 l, 8 l + 8) and their partners 64
// features on; each pair's frequency is 2^(-2i log2(theta) / rotary_dim),
// its angle pos * f, and (x, y) becomes (x cos - y sin, y cos + x sin).

// f16, 32 heads of 128, positions from pos_ids: 8 lanes cover a head, 4
// lane groups the token's 32 heads (8 each), 8 tokens a workgroup of 256.
//
// CHECK-LABEL: attn.kernel_manifest @rope_q_kernels
// CHECK-SAME: arguments = ["input", "pos_ids", "output"]
// CHECK-SAME: {align = 16 : i64, dtype = "f16", kind = "memref", layout = "strided", name = "input", rank = 3 : i64, shape = [-1, 32, 128]}
// CHECK-SAME: name = "pos_ids", rank = 1 : i64, shape = [{dim = ["input", 0]}]}
// CHECK-SAME: {align = 16 : i64, dtype = "f16", kind = "memref", layout = "strided", name = "output", rank = 3 : i64, shape = [{dim = ["input", 0]}, 32, 128]}
// CHECK-SAME: block = [256, 1, 1], grid = [{ceil_div = ["input", 0, 8]}, 1, 1], name = "rope_q", op = "attn.rope"
// CHECK-SAME: params = {elements_per_thread = 8 : i64, head_dim = 128 : i64, heads_per_thread = 8 : i64, interleave = false, num_heads = 32 : i64, positions = "pos_ids", rope_scale = 1.000000e+00 : f32, rope_theta = 1.000000e+04 : f32, rotary_dim = 128 : i64, tokens_per_workgroup = 8 : i64}
// CHECK: gpu.func @rope_q(%[[IN:[^:]*]]: memref<?x32x128xf16, strided<[?, ?, 1]>>, %[[POS:[^:]*]]: memref<?xi32>, %[[OUT:[^:]*]]: memref<?x32x128xf16, strided<[?, ?, 1]>>) kernel
// -2 log2(1e4) / 128 = -0.2076...
// CHECK-DAG: %[[EXPO:.*]] = arith.constant dense<-0.2076{{[0-9]*}}> : vector<8xf32>
// CHECK-DAG: %[[IOTA:.*]] = arith.constant dense<[0.000000e+00, 1.000000e+00, {{.*}}, 7.000000e+00]> : vector<8xf32>
// CHECK: %[[T:.*]] = gpu.thread_id x
// CHECK: %[[LANE:.*]] = arith.remui %[[T]], %c8
// CHECK: %[[G0:.*]] = arith.divui %[[T]], %c8
// CHECK: %[[GROUP:.*]] = arith.remui %[[G0]], %c4
// CHECK: %[[TIG:.*]] = arith.divui %[[T]], %c32
// CHECK: %[[BX:.*]] = gpu.block_id x
// CHECK: %[[B8:.*]] = arith.muli %[[BX]], %c8
// CHECK: %[[TOKEN:.*]] = arith.addi %[[B8]], %[[TIG]]
// CHECK: %[[H0:.*]] = arith.muli %[[GROUP]], %c8
// CHECK: %[[N:.*]] = memref.dim %[[IN]], %c0
// CHECK: scf.if %{{.*}}
// CHECK:   %[[P0:.*]] = memref.load %[[POS]][%[[TOKEN]]]
// CHECK:   %[[P:.*]] = arith.sitofp
// CHECK:   %[[H1:.*]] = arith.addi %[[H0]], %c1
// CHECK-NOT: scf.if
// CHECK:   %[[D:.*]] = arith.muli %[[LANE]], %c8
// CHECK:   %[[D2:.*]] = arith.addi %[[D]], %c64
// CHECK:   %[[X:.*]] = vector.load %[[IN]][%[[TOKEN]], %[[H0]], %[[D]]] {alignment = 16 : i64} {{.*}} vector<8xf16>
// CHECK:   %[[XF:.*]] = arith.extf %[[X]]
// CHECK:   %[[Y:.*]] = vector.load %[[IN]][%[[TOKEN]], %[[H0]], %[[D2]]] {alignment = 16 : i64} {{.*}} vector<8xf16>
// CHECK:   %[[YF:.*]] = arith.extf %[[Y]]
// CHECK:   vector.load %[[IN]][%[[TOKEN]], %[[H1]], %[[D]]]
// The cos and sin are computed once for the 8 heads.
// CHECK:   %[[PAIRS:.*]] = arith.addf %{{.*}}, %[[IOTA]] : vector<8xf32>
// CHECK:   %[[E:.*]] = arith.mulf %[[PAIRS]], %[[EXPO]] : vector<8xf32>
// CHECK:   %[[F:.*]] = math.exp2 %[[E]] : vector<8xf32>
// CHECK:   %[[PV:.*]] = vector.broadcast %[[P]] : f32 to vector<8xf32>
// CHECK:   %[[A:.*]] = arith.mulf %[[PV]], %[[F]] : vector<8xf32>
// CHECK:   %[[C:.*]] = math.cos %[[A]] : vector<8xf32>
// CHECK:   %[[S:.*]] = math.sin %[[A]] : vector<8xf32>
// CHECK-NOT: math.cos
// CHECK:   %[[XC:.*]] = arith.mulf %[[XF]], %[[C]]
// CHECK:   %[[YS:.*]] = arith.mulf %[[YF]], %[[S]]
// CHECK:   %[[YC:.*]] = arith.mulf %[[YF]], %[[C]]
// CHECK:   %[[XS:.*]] = arith.mulf %[[XF]], %[[S]]
// CHECK:   %[[XO:.*]] = arith.subf %[[XC]], %[[YS]]
// CHECK:   %[[YO:.*]] = arith.addf %[[YC]], %[[XS]]
// CHECK:   %[[XT:.*]] = arith.truncf %[[XO]]
// CHECK:   vector.store %[[XT]], %[[OUT]][%[[TOKEN]], %[[H0]], %[[D]]] {alignment = 16 : i64}
// CHECK:   %[[YT:.*]] = arith.truncf %[[YO]]
// CHECK:   vector.store %[[YT]], %[[OUT]][%[[TOKEN]], %[[H0]], %[[D2]]] {alignment = 16 : i64}
// CHECK:   vector.store %{{.*}}, %[[OUT]][%[[TOKEN]], %[[H1]], %[[D]]]
func.func @rope_q(%q: tensor<?x32x128xf16>, %pos: tensor<?xi32>, %qo: tensor<?x32x128xf16>) -> tensor<?x32x128xf16> {
  %a = attn.rope %q pos_ids(%pos : tensor<?xi32>) outs(%qo : tensor<?x32x128xf16>) : tensor<?x32x128xf16> -> tensor<?x32x128xf16>
  return %a : tensor<?x32x128xf16>
}

// -----

// bf16, 2 heads of 64, interleaved on rotary_dim 32, Llama 3.1's scaling,
// positions from indptr + offsets: 4 lanes a head (2 rotating, 2 copying),
// each in both heads, 64 tokens a workgroup. The token's request is found by bisection of
// indptr; a token outside the rows of that request, or a request without an
// offset, is not written. offsets has one entry per request.
//
// CHECK-LABEL: attn.kernel_manifest @rope_k_kernels
// CHECK-SAME: arguments = ["input", "indptr", "offsets", "output"]
// CHECK-SAME: name = "indptr", rank = 1 : i64, shape = [-1]}
// CHECK-SAME: name = "offsets", rank = 1 : i64, shape = [{add = [{dim = ["indptr", 0]}, -1]}]}
// CHECK-SAME: block = [256, 1, 1], grid = [{ceil_div = ["input", 0, 64]}, 1, 1]
// CHECK-SAME: heads_per_thread = 2 : i64, high_freq_factor = 4.000000e+00 : f32, interleave = true, low_freq_factor = 1.000000e+00 : f32, num_heads = 2 : i64, old_context_len = 8.192000e+03 : f32, positions = "indptr_offsets", rope_scale = 8.000000e+00 : f32, rope_theta = 5.000000e+05 : f32, rotary_dim = 32 : i64, tokens_per_workgroup = 64 : i64
// CHECK: gpu.func @rope_k(%[[IN:[^:]*]]: memref<?x2x64xbf16, strided<[?, ?, 1]>>, %[[IP:[^:]*]]: memref<?xi32>, %[[OFF:[^:]*]]: memref<?xi32>, %[[OUT:[^:]*]]: memref<?x2x64xbf16, strided<[?, ?, 1]>>) kernel
// CHECK-DAG: %[[ONE:.*]] = arith.constant dense<1.000000e+00> : vector<8xf32>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<8xf32>
// CHECK-DAG: %[[SOFF:.*]] = arith.constant dense<-0.333333343> : vector<8xf32>
// CHECK-DAG: %[[SLOPE:.*]] = arith.constant dense<434.59{{[0-9]*}}> : vector<8xf32>
// CHECK-DAG: %[[RSCALE:.*]] = arith.constant dense<1.250000e-01> : vector<8xf32>
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %c4
// CHECK: %[[TOKEN:.*]] = arith.addi
// CHECK: scf.if
// CHECK:   %[[NIP:.*]] = memref.dim %[[IP]], %c0
// CHECK:   %[[B:.*]] = arith.subi %[[NIP]], %c1
// CHECK:   %[[HAS:.*]] = arith.cmpi sgt, %[[B]], %c0
// CHECK:   scf.if %[[HAS]]
// CHECK:     %[[R:.*]]:2 = scf.while (%[[LO:.*]] = %c0, %[[HI:.*]] = %[[B]])
// CHECK:       arith.subi
// CHECK:       arith.cmpi sgt, %{{.*}}, %c1
// CHECK:       scf.condition
// CHECK:     } do {
// CHECK:       %[[MID:.*]] = arith.divui
// CHECK:       %[[FIRSTM:.*]] = memref.load %[[IP]][%[[MID]]]
// CHECK:       arith.cmpi sle, %{{.*}}, %[[TOKEN]]
// CHECK:       scf.yield
// CHECK:     %[[FIRST0:.*]] = memref.load %[[IP]][%[[R]]#0]
// CHECK:     %[[FIRST:.*]] = arith.index_cast %[[FIRST0]]
// CHECK:     memref.load %[[IP]]
// CHECK:     arith.cmpi sle, %[[FIRST]], %[[TOKEN]]
// CHECK:     arith.cmpi slt, %[[TOKEN]]
// CHECK:     %[[NOFF:.*]] = memref.dim %[[OFF]], %c0
// CHECK:     arith.cmpi slt, %[[R]]#0, %[[NOFF]]
// CHECK:     scf.if
// CHECK:       %[[O0:.*]] = memref.load %[[OFF]][%[[R]]#0]
// CHECK:       %[[O:.*]] = arith.index_cast %[[O0]]
// CHECK:       %[[ROW:.*]] = arith.subi %[[TOKEN]], %[[FIRST]]
// CHECK:       %[[PI:.*]] = arith.addi %[[O]], %[[ROW]]
// CHECK:       %[[C:.*]] = arith.muli %[[LANE]], %c16
// CHECK:       %[[ROT:.*]] = arith.cmpi slt, %[[LANE]], %c2
// CHECK:       scf.if %[[ROT]] {
// CHECK:         %[[BOTH:.*]] = vector.load %[[IN]][%[[TOKEN]], %{{.*}}, %[[C]]] {alignment = 16 : i64} {{.*}} vector<16xbf16>
// CHECK:         %[[BF:.*]] = arith.extf %[[BOTH]]
// CHECK:         %[[EV:.*]] = vector.shuffle %[[BF]], %[[BF]] [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK:         %[[OD:.*]] = vector.shuffle %[[BF]], %[[BF]] [1, 3, 5, 7, 9, 11, 13, 15]
// s = clamp(f * slope + offset, 0, 1), f' = (1 - s) f / 8 + s f.
// CHECK:         %[[F:.*]] = math.exp2
// CHECK:         %[[FS:.*]] = arith.mulf %[[F]], %[[RSCALE]]
// CHECK:         %[[M:.*]] = arith.mulf %[[F]], %[[SLOPE]]
// CHECK:         %[[S0:.*]] = arith.addf %[[M]], %[[SOFF]]
// CHECK:         %[[S1:.*]] = arith.maximumf %[[S0]], %[[ZERO]]
// CHECK:         %[[S:.*]] = arith.minimumf %[[S1]], %[[ONE]]
// CHECK:         %[[KEEP:.*]] = arith.subf %[[ONE]], %[[S]]
// CHECK:         %[[LOW:.*]] = arith.mulf %[[KEEP]], %[[FS]]
// CHECK:         %[[HIGH:.*]] = arith.mulf %[[S]], %[[F]]
// CHECK:         %[[FREQ:.*]] = arith.addf %[[LOW]], %[[HIGH]]
// CHECK:         %[[ANG:.*]] = arith.mulf %{{.*}}, %[[FREQ]]
// CHECK:         math.cos %[[ANG]]
// CHECK:         math.sin %[[ANG]]
// CHECK:         %[[ZIP:.*]] = vector.interleave %{{.*}}, %{{.*}} : vector<8xf32> -> vector<16xf32>
// CHECK:         %[[ZT:.*]] = arith.truncf %[[ZIP]]
// CHECK:         vector.store %[[ZT]], %[[OUT]][%[[TOKEN]], %{{.*}}, %[[C]]] {alignment = 16 : i64}
// CHECK:       } else {
// CHECK:         %[[COPY:.*]] = vector.load %[[IN]][%[[TOKEN]], %{{.*}}, %[[C]]] {alignment = 16 : i64} {{.*}} vector<16xbf16>
// CHECK:         vector.store %[[COPY]], %[[OUT]][%[[TOKEN]], %{{.*}}, %[[C]]] {alignment = 16 : i64}
func.func @rope_k(%k: tensor<?x2x64xbf16>, %ip: tensor<?xi32>, %off: tensor<?xi32>, %ko: tensor<?x2x64xbf16>) -> tensor<?x2x64xbf16> {
  %a = attn.rope %k indptr(%ip : tensor<?xi32>) offsets(%off : tensor<?xi32>) outs(%ko : tensor<?x2x64xbf16>)
     {interleave, rotary_dim = 32, rope_scale = 8.0 : f32, rope_theta = 500000.0 : f32, llama31_scaling = #attn.llama31_scaling<low_freq_factor = 1.0, high_freq_factor = 4.0, old_context_len = 8192.0>} : tensor<?x2x64xbf16> -> tensor<?x2x64xbf16>
  return %a : tensor<?x2x64xbf16>
}

// -----

// Angles from a cos/sin cache (vLLM's layout, [max_position, 64] f32): a
// position outside the cache is not written; lane l reads cos at columns
// [4 l, 4 l + 4) of the position's row and sin 32 columns on. f32, 4 heads
// of 64: 8 lanes of 2 x 4 features in each of the 4 heads, 32 tokens a
// workgroup. q and k
// in one function are one launch sequence of two kernels sharing the
// positions and the cache.
//
// CHECK-LABEL: attn.kernel_manifest @rope_qk_kernels
// CHECK-SAME: arguments = ["input", "pos_ids", "cos_sin_cache", "output", "input_1", "output_1"]
// CHECK-SAME: name = "cos_sin_cache", rank = 2 : i64, shape = [-1, 64]}
// CHECK-SAME: block = [256, 1, 1], grid = [{ceil_div = ["input", 0, 32]}, 1, 1], name = "rope_qk_0"
// CHECK-SAME: angles = "cos_sin_cache", elements_per_thread = 4 : i64
// CHECK-SAME: name = "rope_qk_1"
// CHECK-SAME: launches = [#attn.launch<kernel = "rope_qk_0", arguments = [0, 1, 2, 3]>, #attn.launch<kernel = "rope_qk_1", arguments = [4, 1, 2, 5]>]
// CHECK: gpu.func @rope_qk_0(%[[IN:[^:]*]]: memref<?x4x64xf32, strided<[?, ?, 1]>>, %[[POS:[^:]*]]: memref<?xi32>, %[[CACHE:[^:]*]]: memref<?x64xf32>, %[[OUT:[^:]*]]: memref<?x4x64xf32, strided<[?, ?, 1]>>) kernel
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %c8
// CHECK: scf.if
// CHECK:   %[[P0:.*]] = memref.load %[[POS]]
// CHECK:   %[[P:.*]] = arith.index_cast %[[P0]]
// CHECK:   %[[NN:.*]] = arith.cmpi sge, %[[P]], %c0
// CHECK:   %[[ROWS:.*]] = memref.dim %[[CACHE]], %c0
// CHECK:   %[[BELOW:.*]] = arith.cmpi slt, %[[P]], %[[ROWS]]
// CHECK:   %[[IN_CACHE:.*]] = arith.andi %[[NN]], %[[BELOW]]
// CHECK:   scf.if %[[IN_CACHE]]
// CHECK:     %[[I:.*]] = arith.muli %[[LANE]], %c4
// CHECK:     %[[I2:.*]] = arith.addi %[[I]], %c32
// CHECK:     vector.load %[[IN]]
// CHECK:     vector.load %[[IN]]
// CHECK:     %[[COS:.*]] = vector.load %[[CACHE]][%[[P]], %[[I]]] : memref<?x64xf32>, vector<4xf32>
// CHECK:     %[[SIN:.*]] = vector.load %[[CACHE]][%[[P]], %[[I2]]] : memref<?x64xf32>, vector<4xf32>
// CHECK-NOT: math.cos
// CHECK:     arith.mulf %{{.*}}, %[[COS]]
// CHECK:     arith.mulf %{{.*}}, %[[SIN]]
// CHECK: gpu.func @rope_qk_1
func.func @rope_qk(%q: tensor<?x4x64xf32>, %k: tensor<?x1x64xf32>, %pos: tensor<?xi32>, %c: tensor<?x64xf32>,
                   %qo: tensor<?x4x64xf32>, %ko: tensor<?x1x64xf32>) -> (tensor<?x4x64xf32>, tensor<?x1x64xf32>) {
  %a = attn.rope %q pos_ids(%pos : tensor<?xi32>) cos_sin_cache(%c : tensor<?x64xf32>) outs(%qo : tensor<?x4x64xf32>) : tensor<?x4x64xf32> -> tensor<?x4x64xf32>
  %b = attn.rope %k pos_ids(%pos : tensor<?xi32>) cos_sin_cache(%c : tensor<?x64xf32>) outs(%ko : tensor<?x1x64xf32>) : tensor<?x1x64xf32> -> tensor<?x1x64xf32>
  return %a, %b : tensor<?x4x64xf32>, tensor<?x1x64xf32>
}

// -----

// rope_scale and rope_theta as operands: the kernel's last arguments (named
// in the manifest, "launch_values"), so one kernel serves every value; it
// computes -2 log2(theta) / rotary_dim and 1 / scale once. A constant
// operand is compiled in.
//
// CHECK-LABEL: attn.kernel_manifest @rope_launch_values_kernels
// CHECK-SAME: arguments = ["input", "pos_ids", "output", "rope_scale", "rope_theta"]
// CHECK-SAME: {dtype = "f32", kind = "scalar", name = "rope_scale"}, {dtype = "f32", kind = "scalar", name = "rope_theta"}
// CHECK-SAME: launch_values = ["rope_scale", "rope_theta"]
// CHECK: gpu.func @rope_launch_values(%{{.*}}: memref<?x8x64xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?xi32>, %{{.*}}: memref<?x8x64xf16, strided<[?, ?, 1]>>, %[[S:[^:]*]]: f32, %[[T:[^:]*]]: f32) kernel
// CHECK-DAG: %[[PERPAIR:.*]] = arith.constant -3.125000e-02 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[L:.*]] = math.log2 %[[T]] : f32
// CHECK: %[[E:.*]] = arith.mulf %[[L]], %[[PERPAIR]] : f32
// CHECK: vector.broadcast %[[E]] : f32 to vector<8xf32>
// CHECK: %[[R:.*]] = arith.divf %[[ONE]], %[[S]] : f32
// CHECK: vector.broadcast %[[R]] : f32 to vector<8xf32>
// CHECK-LABEL: attn.kernel_manifest @rope_constant_theta_kernels
// CHECK-SAME: arguments = ["input", "pos_ids", "output"]
// CHECK-SAME: rope_theta = 5.000000e+05 : f32
// CHECK-NOT: math.log2
func.func @rope_launch_values(%q: tensor<?x8x64xf16>, %pos: tensor<?xi32>, %qo: tensor<?x8x64xf16>, %s: f32, %t: f32) -> tensor<?x8x64xf16> {
  %a = attn.rope %q pos_ids(%pos : tensor<?xi32>) rope_scale(%s) rope_theta(%t) outs(%qo : tensor<?x8x64xf16>) : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %a : tensor<?x8x64xf16>
}
func.func @rope_constant_theta(%q: tensor<?x8x64xf16>, %pos: tensor<?xi32>, %qo: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %t = arith.constant 500000.0 : f32
  %a = attn.rope %q pos_ids(%pos : tensor<?xi32>) rope_theta(%t) outs(%qo : tensor<?x8x64xf16>) : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
  return %a : tensor<?x8x64xf16>
}

// -----

// i64 pos_ids (vLLM's positions) are read as they are: the kernel takes a
// memref<?xi64> (the manifest's dtype "i64"), and a position outside 32
// bits (index arithmetic may be 32-bit on the GPU) leaves its token
// unwritten, as a position outside the cache does.

// CHECK-LABEL: attn.kernel_manifest @rope_i64_kernels
// CHECK-SAME: dtype = "i64", kind = "memref", layout = "contiguous", name = "pos_ids"
// CHECK: gpu.func @rope_i64(%{{.*}}: memref<?x8x64xbf16, strided<[?, ?, 1]>>, %[[POS:.*]]: memref<?xi64>, %[[CACHE:.*]]: memref<?x64xf32>,
// CHECK-DAG: %[[MIN:.*]] = arith.constant -2147483648 : i64
// CHECK-DAG: %[[MAX:.*]] = arith.constant 2147483647 : i64
// CHECK: %[[RAW:.*]] = memref.load %[[POS]][%{{.*}}] : memref<?xi64>
// CHECK: %[[GE:.*]] = arith.cmpi sge, %[[RAW]], %[[MIN]] : i64
// CHECK: %[[LE:.*]] = arith.cmpi sle, %[[RAW]], %[[MAX]] : i64
// CHECK: %[[FITS:.*]] = arith.andi %[[GE]], %[[LE]] : i1
// CHECK: scf.if %[[FITS]] {
// CHECK: arith.index_cast %[[RAW]] : i64 to index
// CHECK: memref.dim %[[CACHE]]
func.func @rope_i64(%q: tensor<?x8x64xbf16>, %p: tensor<?xi64>, %c: tensor<?x64xf32>, %o: tensor<?x8x64xbf16>) -> tensor<?x8x64xbf16> {
  %r = attn.rope %q pos_ids(%p : tensor<?xi64>) cos_sin_cache(%c : tensor<?x64xf32>) outs(%o : tensor<?x8x64xbf16>) : tensor<?x8x64xbf16> -> tensor<?x8x64xbf16>
  return %r : tensor<?x8x64xbf16>
}
