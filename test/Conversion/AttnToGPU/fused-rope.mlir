// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" --split-input-file | FileCheck %s
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=gfx942" --split-input-file | FileCheck %s

// Fused RoPE (pos_encoding = rope_llama) in convert-attn-to-gpu: the kernel
// turns its query tile once, before the key loops (halves [0, D/2) and
// [D/2, D) sliced out, extended to f32, pair i of row r turned by
// pos(r) * 2^(i * -2 log2(theta) / D) / scale, truncated and put back), and
// every step rotates its keys through key_rotary. rope_theta / rope_scale
// attributes are folded into #attn.rotary; launch-time operands become the
// kernel's last f32 arguments (named in the manifest's launch_values) and
// the steps' rotary_theta / rotary_scale operands; a constant operand is
// compiled in like an attribute.

// A causal single prefill, theta and scale as attributes: no extra kernel
// argument. -2 log2(5e5) / 128 = -0.29580..., 1 / scale = 0.5. The rows'
// positions are their indices shifted by kv_len - qo_len.
//
// CHECK-LABEL: attn.kernel_manifest @prefill_kernels
// CHECK-SAME: arguments = ["q", "k", "v", "o"]
// CHECK-NOT: launch_values
// CHECK-SAME: pos_encoding = "rope_llama"
// CHECK-SAME: rope_scale = 2.000000e+00 : f64, rope_theta = 5.000000e+05 : f64
// CHECK: gpu.func @prefill(%[[Q:[^:]*]]: memref<?x32x128xbf16, strided<[?, ?, 1]>>, %{{[^:]*}}: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %{{[^:]*}}: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %{{[^:]*}}: memref<?x32x128xbf16, strided<[?, ?, 1]>>) kernel
// CHECK: %[[QT:.*]] = vector.transfer_read %[[Q]]{{.*}} : memref<?x32x128xbf16, strided<[?, ?, 1]>>, vector<[[M:[0-9]+]]x128xbf16>
// CHECK: %[[STEP:.*]] = vector.step : vector<[[M]]xindex>
// CHECK: %[[POS:.*]] = arith.addi %[[STEP]], %{{.*}} : vector<[[M]]xindex>
// CHECK: %[[X:.*]] = vector.extract_strided_slice %[[QT]] {offsets = [0, 0], sizes = [[[M]], 64], strides = [1, 1]} : vector<[[M]]x128xbf16> to vector<[[M]]x64xbf16>
// CHECK: %[[Y:.*]] = vector.extract_strided_slice %[[QT]] {offsets = [0, 64], sizes = [[[M]], 64], strides = [1, 1]} : vector<[[M]]x128xbf16> to vector<[[M]]x64xbf16>
// CHECK: %[[XF:.*]] = arith.extf %[[X]] : vector<[[M]]x64xbf16> to vector<[[M]]x64xf32>
// CHECK: %[[YF:.*]] = arith.extf %[[Y]] : vector<[[M]]x64xbf16> to vector<[[M]]x64xf32>
// CHECK: %[[PAIRS:.*]] = vector.step : vector<64xindex>
// CHECK: %[[PI:.*]] = arith.index_castui %[[PAIRS]] : vector<64xindex> to vector<64xi32>
// CHECK: %[[PF:.*]] = arith.uitofp %[[PI]] : vector<64xi32> to vector<64xf32>
// CHECK: %[[RI:.*]] = arith.index_cast %[[POS]] : vector<[[M]]xindex> to vector<[[M]]xi32>
// CHECK: %[[RF:.*]] = arith.sitofp %[[RI]] : vector<[[M]]xi32> to vector<[[M]]xf32>
// CHECK: %[[RC:.*]] = vector.shape_cast %[[RF]] : vector<[[M]]xf32> to vector<[[M]]x1xf32>
// CHECK: %[[PB:.*]] = vector.broadcast %[[PF]] : vector<64xf32> to vector<[[M]]x64xf32>
// CHECK: %[[RB:.*]] = vector.broadcast %[[RC]] : vector<[[M]]x1xf32> to vector<[[M]]x64xf32>
// CHECK: %[[EXPO:.*]] = arith.constant dense<-0.2958{{[0-9]*}}> : vector<[[M]]x64xf32>
// CHECK: %[[RSCALE:.*]] = arith.constant dense<5.000000e-01> : vector<[[M]]x64xf32>
// CHECK: %[[E:.*]] = arith.mulf %[[PB]], %[[EXPO]]
// CHECK: %[[F:.*]] = math.exp2 %[[E]] : vector<[[M]]x64xf32>
// CHECK: %[[FS:.*]] = arith.mulf %[[F]], %[[RSCALE]]
// CHECK: %[[ANG:.*]] = arith.mulf %[[RB]], %[[FS]]
// CHECK: %[[COS:.*]] = math.cos %[[ANG]] : vector<[[M]]x64xf32>
// CHECK: %[[SIN:.*]] = math.sin %[[ANG]] : vector<[[M]]x64xf32>
// CHECK: %[[XC:.*]] = arith.mulf %[[XF]], %[[COS]]
// CHECK: %[[YS:.*]] = arith.mulf %[[YF]], %[[SIN]]
// CHECK: %[[YC:.*]] = arith.mulf %[[YF]], %[[COS]]
// CHECK: %[[XS:.*]] = arith.mulf %[[XF]], %[[SIN]]
// CHECK: %[[XO:.*]] = arith.subf %[[XC]], %[[YS]]
// CHECK: %[[YO:.*]] = arith.addf %[[YC]], %[[XS]]
// CHECK: %[[XT:.*]] = arith.truncf %[[XO]] : vector<[[M]]x64xf32> to vector<[[M]]x64xbf16>
// CHECK: %[[Q1:.*]] = vector.insert_strided_slice %[[XT]], %[[QT]] {offsets = [0, 0], strides = [1, 1]} : vector<[[M]]x64xbf16> into vector<[[M]]x128xbf16>
// CHECK: %[[YT:.*]] = arith.truncf %[[YO]] : vector<[[M]]x64xf32> to vector<[[M]]x64xbf16>
// CHECK: %[[QR:.*]] = vector.insert_strided_slice %[[YT]], %[[Q1]] {offsets = [0, 64], strides = [1, 1]} : vector<[[M]]x64xbf16> into vector<[[M]]x128xbf16>
// The query tile is turned once: the loops take the turned tile.
// CHECK-NOT: math.cos
// CHECK: scf.for
// CHECK-NOT: vector.transfer_read %[[Q]]
// CHECK: attn.online_attention_step %[[QR]], {{.*}}, %[[POS]], %{{[^ ]*}}, %{{[^ ]*}}, %{{[^ ]*}} {block_n = {{[0-9]+}} : i64, causal, key_rotary = #attn.rotary<theta = 5.000000e+05, scale = 2.000000e+00>, scale_log2
// CHECK: scf.for
// CHECK: attn.online_attention_step %[[QR]], {{.*}}, %[[POS]], %{{[^ ]*}}, %{{[^ ]*}}, %{{[^ ]*}} {block_n = {{[0-9]+}} : i64, causal, key_rotary = #attn.rotary<theta = 5.000000e+05, scale = 2.000000e+00>, masked
// CHECK-NOT: math.cos
// CHECK: gpu.return
func.func @prefill(%q: tensor<?x32x128xbf16>, %k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %o: tensor<?x32x128xbf16>) -> tensor<?x32x128xbf16> {
  %r = attn.attention q(%q : tensor<?x32x128xbf16>) k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) outs(%o : tensor<?x32x128xbf16>) attributes {causal, pos_encoding = #attn.pos_encoding<rope_llama>, rope_theta = 500000.0 : f32, rope_scale = 2.0 : f32} -> tensor<?x32x128xbf16>
  return %r : tensor<?x32x128xbf16>
}

// -----

// A paged batch decode with rope_theta and rope_scale known at launch: the
// split kernel takes them last (theta, then scale, whatever the op's
// order), computes -2 log2(theta) / 128 and 1 / scale from them, and hands
// them to its steps; the attribute keeps the defaults. The decode row sits
// at position kv_len - 1. The merge kernel takes neither.
//
// CHECK-LABEL: attn.kernel_manifest @decode_kernels
// CHECK-SAME: arguments = ["q", "k_cache", "v_cache", "kv_indptr", "kv_indices", "kv_last_page_len", "schedule", "o_part", "lse_part", "rope_theta", "rope_scale", "merge_indptr", "o"]
// CHECK-SAME: {dtype = "f32", kind = "scalar", name = "rope_theta"}, {dtype = "f32", kind = "scalar", name = "rope_scale"}]
// CHECK-SAME: launch_values = ["rope_theta", "rope_scale"]
// CHECK-SAME: pos_encoding = "rope_llama"
// CHECK-SAME: rope_scale = 1.000000e+00 : f64, rope_theta = 1.000000e+04 : f64
// CHECK-SAME: launches = [#attn.launch<kernel = "decode", arguments = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]>, #attn.launch<kernel = "decode_merge", arguments = [7, 8, 11, 12]>]
// CHECK: gpu.func @decode({{.*}}: memref<?x32xf32>, %[[T:[^:]*]]: f32, %[[S:[^:]*]]: f32) kernel
// CHECK: %[[QT:.*]] = vector.transfer_read {{.*}} : memref<?x32x128xbf16, strided<[?, ?, 1]>>, vector<[[M:[0-9]+]]x128xbf16>
// CHECK: %[[POS:.*]] = vector.broadcast %{{.*}} : index to vector<[[M]]xindex>
// CHECK: vector.extract_strided_slice %[[QT]] {offsets = [0, 0], sizes = [[[M]], 64], strides = [1, 1]}
// CHECK: vector.extract_strided_slice %[[QT]] {offsets = [0, 64], sizes = [[[M]], 64], strides = [1, 1]}
// CHECK: %[[LOG:.*]] = math.log2 %[[T]] : f32
// CHECK: %[[FACTOR:.*]] = arith.constant -1.562500e-02 : f32
// CHECK: %[[EXPO:.*]] = arith.mulf %[[LOG]], %[[FACTOR]] : f32
// CHECK: vector.broadcast %[[EXPO]] : f32 to vector<[[M]]x64xf32>
// CHECK: %[[RCP:.*]] = arith.divf %{{.*}}, %[[S]] : f32
// CHECK: vector.broadcast %[[RCP]] : f32 to vector<[[M]]x64xf32>
// CHECK: math.exp2
// CHECK: math.cos
// CHECK: math.sin
// CHECK: vector.insert_strided_slice %{{.*}}, %[[QT]] {offsets = [0, 0], strides = [1, 1]}
// CHECK: %[[QR:.*]] = vector.insert_strided_slice %{{.*}} {offsets = [0, 64], strides = [1, 1]} : vector<[[M]]x64xbf16> into vector<[[M]]x128xbf16>
// CHECK: attn.online_attention_step %[[QR]], {{.*}} pages({{.*}}), %[[POS]], {{.*}} rotary_theta(%[[T]]) rotary_scale(%[[S]]) {block_n = {{[0-9]+}} : i64, key_rotary = #attn.rotary<theta = 1.000000e+04, scale = 1.000000e+00>, scale_log2
// CHECK: attn.online_attention_step %[[QR]], {{.*}} rotary_theta(%[[T]]) rotary_scale(%[[S]]) {block_n = {{[0-9]+}} : i64, key_rotary = #attn.rotary<theta = 1.000000e+04, scale = 1.000000e+00>, masked
// CHECK: gpu.func @decode_merge(%{{[^:]*}}: memref<?x32x128xf32>, %{{[^:]*}}: memref<?x32xf32>, %{{[^:]*}}: memref<?xi32>, %{{[^:]*}}: memref<?x32x128xbf16, strided<[?, ?, 1]>>) kernel
// CHECK-NOT: math.cos
// CHECK: gpu.return
func.func @decode(%q: tensor<?x32x128xbf16>, %kc: tensor<?x?x8x128xbf16>, %vc: tensor<?x?x8x128xbf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x32x128xbf16>, %t: f32, %s: f32) -> tensor<?x32x128xbf16> {
  %r = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x?x8x128xbf16>) v_cache(%vc : tensor<?x?x8x128xbf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) rope_scale(%s) rope_theta(%t) outs(%o : tensor<?x32x128xbf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x32x128xbf16>
  return %r : tensor<?x32x128xbf16>
}

// -----

// A constant rope_theta operand is compiled in (-2 log2(1e6) / 64 =
// -0.62286...) and lands in the attribute; the non-constant rope_scale
// stays the one launch value.
//
// CHECK-LABEL: attn.kernel_manifest @mixed_kernels
// CHECK-SAME: arguments = ["q", "k", "v", "o", "rope_scale"]
// CHECK-SAME: launch_values = ["rope_scale"]
// CHECK-SAME: rope_scale = 1.000000e+00 : f64, rope_theta = 1.000000e+06 : f64
// CHECK: gpu.func @mixed(%{{[^:]*}}: memref<?x8x64xf16, strided<[?, ?, 1]>>, %{{[^:]*}}: memref<?x2x64xf16, strided<[?, ?, 1]>>, %{{[^:]*}}: memref<?x2x64xf16, strided<[?, ?, 1]>>, %{{[^:]*}}: memref<?x8x64xf16, strided<[?, ?, 1]>>, %[[S:[^:]*]]: f32) kernel
// CHECK-NOT: math.log2
// CHECK: arith.constant dense<-0.6228{{[0-9]*}}> : vector<{{[0-9]+}}x32xf32>
// CHECK-NOT: math.log2
// CHECK: arith.divf %{{.*}}, %[[S]] : f32
// CHECK: math.sin
// CHECK-NOT: rotary_theta
// CHECK: attn.online_attention_step {{.*}} rotary_scale(%[[S]]) {block_n = {{[0-9]+}} : i64, key_rotary = #attn.rotary<theta = 1.000000e+06, scale = 1.000000e+00>
// CHECK-NOT: rotary_theta
// CHECK: gpu.return
func.func @mixed(%q: tensor<?x8x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x8x64xf16>, %s: f32) -> tensor<?x8x64xf16> {
  %t = arith.constant 1000000.0 : f32
  %r = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) rope_scale(%s) rope_theta(%t) outs(%o : tensor<?x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

// Both operands constant: nothing is left for the launch, and the kernel
// is the one the attributes would give.
//
// CHECK-LABEL: attn.kernel_manifest @constants_kernels
// CHECK-SAME: arguments = ["q", "k", "v", "o"]
// CHECK-NOT: launch_values
// CHECK-SAME: rope_scale = 4.000000e+00 : f64, rope_theta = 1.000000e+06 : f64
// CHECK: gpu.func @constants(%{{[^:]*}}: memref<?x8x64xf16, strided<[?, ?, 1]>>, %{{[^:]*}}: memref<?x2x64xf16, strided<[?, ?, 1]>>, %{{[^:]*}}: memref<?x2x64xf16, strided<[?, ?, 1]>>, %{{[^:]*}}: memref<?x8x64xf16, strided<[?, ?, 1]>>) kernel
// CHECK-NOT: math.log2
// CHECK: arith.constant dense<2.500000e-01> : vector<{{[0-9]+}}x32xf32>
// CHECK-NOT: arith.divf %{{.*}} : f32
// CHECK: math.cos
// CHECK-NOT: rotary_
// CHECK: attn.online_attention_step {{.*}} {block_n = {{[0-9]+}} : i64, key_rotary = #attn.rotary<theta = 1.000000e+06, scale = 4.000000e+00>
// CHECK-NOT: rotary_
// CHECK: gpu.return
func.func @constants(%q: tensor<?x8x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %t = arith.constant 1000000.0 : f32
  %s = arith.constant 4.0 : f32
  %r = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) rope_scale(%s) rope_theta(%t) outs(%o : tensor<?x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}
