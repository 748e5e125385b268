// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" --split-input-file | FileCheck %s
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=gfx942" --split-input-file | FileCheck %s

// Launch-time variant values: the ops' sm_scale / logits_soft_cap /
// window_left operands become the kernels' last scalar arguments (f32, f32,
// i64), named in the manifest and bound to the function's arguments in the
// launch sequence; the step takes them as operands (the scale times
// log2(e)). The merge kernel takes none.

// CHECK-LABEL: attn.kernel_manifest @decode_kernels
// CHECK-SAME: arguments = ["q", "k_cache", "v_cache", "kv_indptr", "kv_indices", "kv_last_page_len", "schedule", "o_part", "lse_part", "sm_scale", "logits_soft_cap", "window_left", "merge_indptr", "o"]
// CHECK-SAME: {dtype = "f32", kind = "scalar", name = "sm_scale"}, {dtype = "f32", kind = "scalar", name = "logits_soft_cap"}, {dtype = "i64", kind = "scalar", name = "window_left"}]
// CHECK-SAME: launch_values = ["sm_scale", "logits_soft_cap", "window_left"]
// CHECK: gpu.func @decode({{.*}}, %[[S:.*]]: f32, %[[C:.*]]: f32, %[[W:.*]]: i64) kernel
// CHECK: %[[WI:.*]] = arith.index_cast %[[W]] : i64 to index
// CHECK: %[[LOG2E:.*]] = arith.constant 1.44269{{[0-9]*}} : f32
// CHECK: %[[SL:.*]] = arith.mulf %[[S]], %[[LOG2E]] : f32
// CHECK: attn.online_attention_step {{.*}} scale_log2(%[[SL]]) logits_soft_cap(%[[C]]) window_left(%[[WI]]) {block_n
// CHECK: attn.online_attention_step {{.*}} scale_log2(%[[SL]]) logits_soft_cap(%[[C]]) window_left(%[[WI]]) {block_n = {{[0-9]+}} : i64, masked}
// CHECK: gpu.func @decode_merge(%{{[^:]*}}: memref<?x32x128xf32>, %{{[^:]*}}: memref<?x32xf32>, %{{[^:]*}}: memref<?xi32>, %{{[^:]*}}: memref<?x32x128xbf16, strided<[?, ?, 1]>>) kernel
func.func @decode(%q: tensor<?x32x128xbf16>, %kc: tensor<?x?x8x128xbf16>, %vc: tensor<?x?x8x128xbf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x32x128xbf16>, %s: f32, %c: f32, %w: i64) -> tensor<?x32x128xbf16> {
  %r = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x?x8x128xbf16>) v_cache(%vc : tensor<?x?x8x128xbf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) sm_scale(%s) logits_soft_cap(%c) window_left(%w) outs(%o : tensor<?x32x128xbf16>) -> tensor<?x32x128xbf16>
  return %r : tensor<?x32x128xbf16>
}

// -----

// A constant operand is compiled in: only sm_scale stays an argument.
// CHECK-LABEL: attn.kernel_manifest @prefill_kernels
// CHECK-SAME: arguments = ["q", "k", "v", "o", "sm_scale"]
// CHECK-SAME: launch_values = ["sm_scale"]
// CHECK: gpu.func @prefill({{.*}}, %[[S:[^:]*]]: f32) kernel
// CHECK: attn.online_attention_step {{.*}} scale_log2(%{{.*}}) {block_n = {{[0-9]+}} : i64, causal, logits_soft_cap = 2.000000e+00 : f32}
func.func @prefill(%q: tensor<?x8x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x8x64xf16>, %s: f32) -> tensor<?x8x64xf16> {
  %c = arith.constant 2.0 : f32
  %r = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) sm_scale(%s) logits_soft_cap(%c) outs(%o : tensor<?x8x64xf16>) attributes {causal} -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}
