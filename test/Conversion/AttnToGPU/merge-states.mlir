// attn.merge_states on the GPU: one kernel; a workgroup merges one token of
// a group of heads (8 here: 256 threads), each thread a 4-element vector of
// one head. States of any float type; all arguments are strided views whose
// token counts the manifest ties to o's, with rows aligned for the vectors.
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" | FileCheck %s
// RUN: flashinfer-opt %s --attn-compile="chip=sm_90a o-dir=%t/sm_90a format=isa" -o /dev/null && FileCheck %s --check-prefix=PTX < %t/sm_90a/merge3_kernels.ptx
// RUN: flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t/gfx942 format=isa" -o /dev/null && FileCheck %s --check-prefix=GFX942 < %t/gfx942/merge3_kernels.s

// CHECK: attn.kernel_manifest @merge3_kernels {{.*}}kernels = [#attn.kernel<args = [{align = 16 : i64, dtype = "f32", kind = "memref", layout = "strided", name = "v0", rank = 3 : i64, shape = [{dim = ["o", 0]}, 8, 128]}, {align = 16 : i64, dtype = "f32", kind = "memref", layout = "strided", name = "v1", rank = 3 : i64, shape = [{dim = ["o", 0]}, 8, 128]}, {align = 8 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "v2", rank = 3 : i64, shape = [{dim = ["o", 0]}, 8, 128]}, {dtype = "f32", kind = "memref", layout = "strided", name = "lse0", rank = 2 : i64, shape = [{dim = ["o", 0]}, 8]}, {dtype = "f32", kind = "memref", layout = "strided", name = "lse1", rank = 2 : i64, shape = [{dim = ["o", 0]}, 8]}, {dtype = "f32", kind = "memref", layout = "strided", name = "lse2", rank = 2 : i64, shape = [{dim = ["o", 0]}, 8]}, {align = 8 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "o", rank = 3 : i64, shape = [-1, 8, 128]}, {dtype = "f32", kind = "memref", layout = "strided", name = "lse", rank = 2 : i64, shape = [{dim = ["o", 0]}, 8]}]
// CHECK-SAME: block = [256, 1, 1]
// CHECK-SAME: grid = [{dim = ["o", 0]}, 1, 1]
// CHECK-SAME: op = "attn.merge_states", params = {elements_per_thread = 4 : i64, head_dim = 128 : i64, heads_per_workgroup = 8 : i64, lse_base = "2", num_heads = 8 : i64, num_states = 3 : i64}
// CHECK: gpu.func @merge3(%[[V0:.*]]: memref<?x8x128xf32, strided<[?, ?, 1]>>, %{{.*}}: memref<?x8x128xf32, strided<[?, ?, 1]>>, %[[V2:.*]]: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %[[L0:.*]]: memref<?x8xf32, strided<[?, 1]>>, %{{.*}}: memref<?x8xf32, strided<[?, 1]>>, %{{.*}}: memref<?x8xf32, strided<[?, 1]>>, %[[O:.*]]: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %[[LSE:.*]]: memref<?x8xf32, strided<[?, 1]>>) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// CHECK-DAG: %[[T:.*]] = gpu.block_id x
// CHECK-DAG: %[[G:.*]] = gpu.block_id y
// CHECK-DAG: %[[TID:.*]] = gpu.thread_id x
// CHECK: %[[HG:.*]] = arith.divui %[[TID]], %{{.*}} : index
// CHECK: %[[BASE:.*]] = arith.muli %[[G]], %{{.*}} : index
// CHECK: %[[H:.*]] = arith.addi %[[BASE]], %[[HG]] : index
// CHECK: %[[LANE:.*]] = arith.remui %[[TID]], %{{.*}} : index
// CHECK: %[[D:.*]] = arith.muli %[[LANE]], %{{.*}} : index
// CHECK: memref.load %[[L0]][%[[T]], %[[H]]]
// CHECK: vector.load %[[V0]][%[[T]], %[[H]], %[[D]]] {alignment = 16 : i64} : {{.*}}, vector<4xf32>
// CHECK: %[[X2:.*]] = vector.load %[[V2]][%[[T]], %[[H]], %[[D]]] {alignment = 8 : i64} : {{.*}}, vector<4xbf16>
// CHECK: arith.extf %[[X2]] : vector<4xbf16> to vector<4xf32>
// CHECK-COUNT-3: math.exp2
// CHECK: %[[OUT:.*]] = arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK: vector.store %[[OUT]], %[[O]][%[[T]], %[[H]], %[[D]]] {alignment = 8 : i64}
// CHECK: math.log2
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %[[LSE]][%[[T]], %[[H]]]

// PTX: .entry merge3(
// PTX: ld.global.v4.b32
// PTX: ld.global.v4.b16
// PTX-COUNT-3: ex2.approx.ftz.f32
// PTX: st.global.v2.b32
// PTX: lg2.approx.ftz.f32

// GFX942: merge3:
// GFX942: buffer_load_dwordx4
// GFX942-COUNT-3: v_exp_f32
// GFX942: buffer_store_dwordx2
// GFX942: v_log_f32
// GFX942: buffer_store_dword
// GFX942: .set merge3.private_seg_size, 0

func.func @merge3(%v0: tensor<?x8x128xf32>, %v1: tensor<?x8x128xf32>, %v2: tensor<?x8x128xbf16>,
                  %l0: tensor<?x8xf32>, %l1: tensor<?x8xf32>, %l2: tensor<?x8xf32>,
                  %o: tensor<?x8x128xbf16>, %lse: tensor<?x8xf32>) -> (tensor<?x8x128xbf16>, tensor<?x8xf32>) {
  %r:2 = attn.merge_states values(%v0, %v1, %v2 : tensor<?x8x128xf32>, tensor<?x8x128xf32>, tensor<?x8x128xbf16>)
           lse(%l0, %l1, %l2 : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>)
           outs(%o, %lse : tensor<?x8x128xbf16>, tensor<?x8xf32>) -> tensor<?x8x128xbf16>, tensor<?x8xf32>
  return %r#0, %r#1 : tensor<?x8x128xbf16>, tensor<?x8xf32>
}
