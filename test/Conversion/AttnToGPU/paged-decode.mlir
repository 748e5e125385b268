// RUN: flashinfer-opt %s --convert-attn-to-gpu=chip=sm_90a --split-input-file | FileCheck %s
// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=gfx942},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory),canonicalize,cse)" --split-input-file | FileCheck %s --check-prefix=STAGED

// Batch decode over a paged cache: attn.paged_attention without qo_indptr
// (request b is q's row b). The split kernel runs one work item of the
// planner's schedule per grid.z: row z is (request, kv_begin, kv_end),
// request -1 is padding. It derives the request's kv_len from the page table
// and walks keys [kv_begin, kv_end) through the request's page list into
// partial row z, masking at kv_end; the merge kernel combines request b's
// partial rows merge_indptr[b] .. merge_indptr[b + 1] into o's row b. No
// plan value is passed by value (a CUDA graph replays new plans).

// bf16, head dim 128, GQA 32:8, page size 16, nhd, with lse.
//
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NEXT: attn.kernel_manifest @paged_decode_kernels {{.*}}kernels = [#attn.kernel<
// CHECK-SAME: args = [{align = 16 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "q", rank = 3 : i64, shape = [-1, 32, 128]}, {align = 16 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "k_cache", rank = 4 : i64, shape = [-1, 16, 8, 128]}, {align = 16 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "v_cache", rank = 4 : i64, shape = [{dim = ["k_cache", 0]}, 16, 8, 128]}
// kv_indptr has batch + 1 entries, kv_last_page_len batch.
// CHECK-SAME: {dtype = "i32", kind = "memref", layout = "contiguous", name = "kv_indptr", rank = 1 : i64, shape = [{add = [{dim = ["q", 0]}, 1]}]}, {dtype = "i32", kind = "memref", layout = "contiguous", name = "kv_indices", rank = 1 : i64, shape = [-1]}, {dtype = "i32", kind = "memref", layout = "contiguous", name = "kv_last_page_len", rank = 1 : i64, shape = [{dim = ["q", 0]}]}
// One partial row per schedule row.
// CHECK-SAME: {dtype = "i32", kind = "memref", layout = "contiguous", name = "schedule", rank = 2 : i64, shape = [-1, 3]}, {dtype = "f32", kind = "memref", layout = "contiguous", name = "o_part", rank = 3 : i64, shape = [{dim = ["schedule", 0]}, 32, 128]}, {dtype = "f32", kind = "memref", layout = "contiguous", name = "lse_part", rank = 2 : i64, shape = [{dim = ["schedule", 0]}, 32]}]
// CHECK-SAME: block = [32, 1, 1]
// An empty batch launches nothing.
// CHECK-SAME: grid = [{mul = [1, {min = [{dim = ["q", 0]}, 1]}]}, 8, {dim = ["schedule", 0]}], name = "paged_decode", op = "attn.paged_attention"
// CHECK-SAME: kv_layout = "nhd", kv_source = "paged"
// CHECK-SAME: page_size = 16 : i64
// CHECK-SAME: schedule = "request_kv_range"
// The planner aims at eight split workgroups per compute unit for paged
// kernels (page lookups want more resident waves).
// CHECK-SAME: split_workgroups_per_cu = 8 : i64
// CHECK-SAME: stage = "split_kv"
// CHECK-SAME: #attn.kernel<args = [{dtype = "f32", kind = "memref", layout = "contiguous", name = "o_part", rank = 3 : i64, shape = [-1, 32, 128]}, {dtype = "f32", kind = "memref", layout = "contiguous", name = "lse_part", rank = 2 : i64, shape = [{dim = ["o_part", 0]}, 32]}, {dtype = "i32", kind = "memref", layout = "contiguous", name = "merge_indptr", rank = 1 : i64, shape = [{add = [{dim = ["o", 0]}, 1]}]}, {dtype = "bf16", kind = "memref", layout = "strided", name = "o", rank = 3 : i64, shape = [-1, 32, 128]}, {dtype = "f32", kind = "memref", layout = "strided", name = "lse", rank = 2 : i64, shape = [{dim = ["o", 0]}, 32]}]
// CHECK-SAME: grid = [32, {dim = ["o", 0]}, 1], name = "paged_decode_merge"

// CHECK: gpu.func @paged_decode(%[[Q:[^:]*]]: memref<?x32x128xbf16, strided<[?, ?, 1]>>, %[[KC:[^:]*]]: memref<?x16x8x128xbf16, strided<[?, ?, ?, 1]>>, %[[VC:[^:]*]]: memref<?x16x8x128xbf16, strided<[?, ?, ?, 1]>>, %[[IP:[^:]*]]: memref<?xi32>, %[[IDX:[^:]*]]: memref<?xi32>, %[[LAST:[^:]*]]: memref<?xi32>, %[[SCHED:[^:]*]]: memref<?x3xi32>, %{{[^:]*}}: memref<?x32x128xf32>, %{{[^:]*}}: memref<?x32xf32>)
// CHECK: %[[Z:.*]] = gpu.block_id z
// CHECK: memref.load %[[SCHED]][%[[Z]], %{{.*}}] : memref<?x3xi32>
// CHECK: %[[BEGIN:.*]] = memref.load %[[SCHED]][%[[Z]], %{{.*}}] : memref<?x3xi32>
// CHECK: %[[END:.*]] = memref.load %[[SCHED]][%[[Z]], %{{.*}}] : memref<?x3xi32>
// CHECK: %[[PAD:.*]] = arith.cmpi slt, %[[REQ:.*]], %{{.*}}
// CHECK: %[[R0:.*]] = arith.maxsi %[[REQ]]
// CHECK: %[[R:.*]] = arith.minsi %[[R0]],
// CHECK: %[[B0:.*]] = memref.load %[[IP]][%[[R]]]
// CHECK: %[[FIRST:.*]] = arith.index_cast %[[B0]]
// kv_len = (pages - 1) * 16 + last_page_len, 0 for padding or no pages.
// CHECK: %[[NP:.*]] = arith.subi
// CHECK: %[[FULL:.*]] = arith.muli %{{.*}}, %c16
// CHECK: memref.load %[[LAST]][%[[R]]]
// CHECK: %[[EMPTY:.*]] = arith.ori %[[PAD]],
// CHECK: %[[LEN:.*]] = arith.select %[[EMPTY]], %{{.*}}, %{{.*}} : index
// The range ends at kv_end or kv_len; the steps mask there.
// CHECK: %[[STOP:.*]] = arith.minsi %[[LEN]], %{{.*}} : index
// The query row is the request's.
// CHECK: vector.transfer_read %[[Q]][%[[R]],
// CHECK: attn.online_attention_step %{{.*}}, %[[KC]][%{{.*}}, %{{.*}}], %[[VC]], %[[STOP]] pages(%[[IDX]][%[[FIRST]]] : memref<?xi32>)
// CHECK: attn.online_attention_step {{.*}}, %[[STOP]] pages(%[[IDX]][%[[FIRST]]] : memref<?xi32>), {{.*}} masked

// The merge: request b = block y reads its partial rows.
// CHECK: gpu.func @paged_decode_merge(%{{[^:]*}}: memref<?x32x128xf32>, %{{[^:]*}}: memref<?x32xf32>, %[[MI:[^:]*]]: memref<?xi32>, %[[O:[^:]*]]: memref<?x32x128xbf16, strided<[?, ?, 1]>>
// CHECK: %[[B:.*]] = gpu.block_id y
// CHECK: memref.load %[[MI]][%[[B]]]
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[O]][%[[B]],

// Staged (gfx942, synchronous copies): every K and V row's page comes from
// the page list, and no tile read is left.
// STAGED-LABEL: gpu.func @paged_decode(
// STAGED-SAME: %[[KC:[^:]*]]: memref<?x16x8x128xbf16, strided<[?, ?, ?, 1]>>, %[[VC:[^:]*]]: memref<?x16x8x128xbf16, strided<[?, ?, ?, 1]>>, %{{[^:]*}}: memref<?xi32>, %[[IDX:[^:]*]]: memref<?xi32>
// STAGED: memref.load %[[IDX]]
// STAGED: arith.minui
// STAGED: vector.load %[[KC]]
// STAGED: memref.load %[[IDX]]
// STAGED: vector.load %[[VC]]
// STAGED-NOT: attn.load_kv_tile
// STAGED-NOT: attn.online_attention_step
// STAGED: gpu.func @paged_decode_merge

func.func @paged_decode(%q: tensor<?x32x128xbf16>, %kc: tensor<?x16x8x128xbf16>, %vc: tensor<?x16x8x128xbf16>,
    %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x32x128xbf16>, %lse: tensor<?x32xf32>)
    -> (tensor<?x32x128xbf16>, tensor<?x32xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x16x8x128xbf16>) v_cache(%vc : tensor<?x16x8x128xbf16>)
      kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>)
      outs(%o, %lse : tensor<?x32x128xbf16>, tensor<?x32xf32>) -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
}

// -----

// hnd with a dynamic page size, f16, head dim 64, causal: the page size is
// read from the cache's shape, the manifest says -1.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NEXT: attn.kernel_manifest
// CHECK-SAME: name = "k_cache", rank = 4 : i64, shape = [-1, 4, -1, 64]
// CHECK-SAME: causal = true
// CHECK-SAME: kv_layout = "hnd"
// CHECK-SAME: page_size = -1 : i64
// CHECK: gpu.func @paged_hnd(
// CHECK-SAME: %[[KC:[^:]*]]: memref<?x4x?x64xf16, strided<[?, ?, ?, 1]>>
// CHECK: %[[P:.*]] = memref.dim %[[KC]], %c2
// CHECK: arith.muli %{{.*}}, %[[P]]
// CHECK: attn.online_attention_step {{.*}} {block_n = {{.*}}, causal, kv_layout = #attn.kv_layout<hnd>
// A page size known only at run time is divided in 32 bits.
// STAGED-LABEL: gpu.func @paged_hnd(
// STAGED: %[[T:.*]] = arith.index_castui %{{.*}} : index to i32
// STAGED-NEXT: %[[PS:.*]] = arith.index_castui %{{.*}} : index to i32
// STAGED-NEXT: arith.divui %[[T]], %[[PS]] : i32
// STAGED: arith.remui %[[T]], %[[PS]] : i32

func.func @paged_hnd(%q: tensor<?x16x64xf16>, %kc: tensor<?x4x?x64xf16>, %vc: tensor<?x4x?x64xf16>,
    %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x16x64xf16>)
    -> tensor<?x16x64xf16> {
  %r = attn.paged_attention q(%q : tensor<?x16x64xf16>) k_cache(%kc : tensor<?x4x?x64xf16>) v_cache(%vc : tensor<?x4x?x64xf16>)
      kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>)
      outs(%o : tensor<?x16x64xf16>) attributes {causal, kv_layout = #attn.kv_layout<hnd>} -> tensor<?x16x64xf16>
  return %r : tensor<?x16x64xf16>
}
