// The segmented attn.merge_states on the GPU, the same lowering that ends a
// split-KV decode: workgroup (h, b) merges head h of output row b from the
// rows indptr[b] .. indptr[b + 1], one thread per element, with online
// rescaling over the rows (8 per trip). The rows are free in the manifest,
// lse has the values' rows and indptr one entry more than o has rows.
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" | FileCheck %s
// RUN: flashinfer-opt %s --attn-compile="chip=sm_90a o-dir=%t/sm_90a format=isa" -o /dev/null && FileCheck %s --check-prefix=PTX < %t/sm_90a/varlen_merge_kernels.ptx
// RUN: flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t/gfx942 format=isa" -o /dev/null && FileCheck %s --check-prefix=GFX942 < %t/gfx942/varlen_merge_kernels.s

// CHECK: attn.kernel_manifest @varlen_merge_kernels {{.*}}kernels = [#attn.kernel<args = [{dtype = "bf16", kind = "memref", layout = "strided", name = "v0", rank = 3 : i64, shape = [-1, 8, 128]}, {dtype = "f32", kind = "memref", layout = "strided", name = "lse0", rank = 2 : i64, shape = [{dim = ["v0", 0]}, 8]}, {dtype = "i32", kind = "memref", layout = "contiguous", name = "indptr", rank = 1 : i64, shape = [{add = [{dim = ["o", 0]}, 1]}]}, {dtype = "bf16", kind = "memref", layout = "strided", name = "o", rank = 3 : i64, shape = [-1, 8, 128]}, {dtype = "f32", kind = "memref", layout = "strided", name = "lse", rank = 2 : i64, shape = [{dim = ["o", 0]}, 8]}]
// CHECK-SAME: block = [128, 1, 1]
// CHECK-SAME: grid = [8, {dim = ["o", 0]}, 1]
// CHECK-SAME: op = "attn.merge_states", params = {head_dim_v = 128 : i64, lse_base = "2", num_qo_heads = 8 : i64}
// CHECK: gpu.func @varlen_merge(%[[V:.*]]: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %[[L:.*]]: memref<?x8xf32, strided<[?, 1]>>, %[[IP:.*]]: memref<?xi32>, %[[O:.*]]: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %[[LSE:.*]]: memref<?x8xf32, strided<[?, 1]>>) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK-DAG: %[[H:.*]] = gpu.block_id x
// CHECK-DAG: %[[D:.*]] = gpu.thread_id x
// CHECK-DAG: %[[B:.*]] = gpu.block_id y
// CHECK: memref.load %[[IP]][%[[B]]]
// CHECK: scf.for
// CHECK-COUNT-8: memref.load %[[V]]
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: scf.yield
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %{{.*}}, %[[O]][%[[B]], %[[H]], %[[D]]]
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %[[LSE]][%[[B]], %[[H]]]

// PTX: .entry varlen_merge(
// PTX: ex2.approx
// PTX: lg2.approx
// GFX942: varlen_merge:
// GFX942: v_exp_f32
// GFX942: v_log_f32
// GFX942-NOT: scratch_

func.func @varlen_merge(%ip: tensor<?xi32>, %v0: tensor<?x8x128xbf16>, %s0: tensor<?x8xf32>, %vo: tensor<?x8x128xbf16>, %so: tensor<?x8xf32>) -> (tensor<?x8x128xbf16>, tensor<?x8xf32>) {
  %v, %s = attn.merge_states indptr(%ip : tensor<?xi32>) values(%v0 : tensor<?x8x128xbf16>) lse(%s0 : tensor<?x8xf32>) outs(%vo, %so : tensor<?x8x128xbf16>, tensor<?x8xf32>) -> tensor<?x8x128xbf16>, tensor<?x8xf32>
  return %v, %s : tensor<?x8x128xbf16>, tensor<?x8xf32>
}
