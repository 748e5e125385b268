// RUN: flashinfer-opt %s --convert-attn-to-gpu=chip=sm_90a --canonicalize --split-input-file | FileCheck %s
// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=gfx942},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory),canonicalize,cse)" --split-input-file | FileCheck %s --check-prefix=STAGED

// Batch prefill: attn.paged_attention with qo_indptr, and attn.attention
// with qo_indptr/kv_indptr (ragged K/V). Workgroup (x, y) runs row x of the
// planner's schedule, (request, q_begin), for query head y: the request's
// query rows [q_begin, q_begin + block_m), read from q at qo_indptr[request]
// and stored into o there, masked at the request's qo_len so that no row of
// another request is written. Queries sit at the last qo_len of the kv_len
// positions (bottom-right causal). Request -1 is padding.

// Paged: bf16, head dim 128, GQA 4, page size 16, nhd, causal, with lse.
//
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NEXT: attn.kernel_manifest
// The batch is the page table's length; both indptrs have one entry more.
// CHECK-SAME: name = "kv_indptr", rank = 1 : i64, shape = [{add = [{dim = ["kv_last_page_len", 0]}, 1]}]}
// CHECK-SAME: name = "kv_last_page_len", rank = 1 : i64, shape = [-1]}
// CHECK-SAME: name = "qo_indptr", rank = 1 : i64, shape = [{add = [{dim = ["kv_last_page_len", 0]}, 1]}]}
// CHECK-SAME: name = "schedule", rank = 2 : i64, shape = [-1, 2]}
// o and lse are written in place, one row per query token.
// CHECK-SAME: name = "o", rank = 3 : i64, shape = [{dim = ["q", 0]}, 32, 128]}
// CHECK-SAME: name = "lse", rank = 2 : i64, shape = [{dim = ["q", 0]}, 32]}
// CHECK-SAME: block = [256, 1, 1]
// One workgroup per schedule row and query head; nothing for an empty batch
// or q.
// CHECK-SAME: grid = [{mul = [{dim = ["schedule", 0]}, {mul = [{min = [{dim = ["kv_last_page_len", 0]}, 1]}, {min = [{dim = ["q", 0]}, 1]}]}]}, 32, 1], name = "paged_prefill"
// CHECK-SAME: block_m = 128
// CHECK-SAME: kv_source = "paged"
// CHECK-SAME: schedule = "request_q_tile"

// CHECK: gpu.func @paged_prefill(%[[Q:[^:]*]]: memref<?x32x128xbf16, strided<[?, ?, 1]>>, %[[KC:[^:]*]]: memref<?x16x8x128xbf16, strided<[?, ?, ?, 1]>>, %{{[^:]*}}: memref<?x16x8x128xbf16, strided<[?, ?, ?, 1]>>, %[[IP:[^:]*]]: memref<?xi32>, %[[IDX:[^:]*]]: memref<?xi32>, %[[LAST:[^:]*]]: memref<?xi32>, %[[QO:[^:]*]]: memref<?xi32>, %[[SCHED:[^:]*]]: memref<?x2xi32>, %[[O:[^:]*]]: memref<?x32x128xbf16, strided<[?, ?, 1]>>, %[[LSE:[^:]*]]: memref<?x32xf32, strided<[?, 1]>>)
// CHECK: %[[X:.*]] = gpu.block_id x
// CHECK: memref.load %[[SCHED]][%[[X]], %c0]
// CHECK: %[[QB:.*]] = memref.load %[[SCHED]][%[[X]], %c1]
// CHECK: %[[QBEGIN:.*]] = arith.index_cast %[[QB]]
// CHECK: %[[PAD:.*]] = arith.cmpi slt, %[[REQ:.*]], %c0
// The request, clamped into the batch.
// CHECK: %[[NQO:.*]] = memref.dim %[[QO]], %c0
// CHECK: %[[LASTREQ:.*]] = arith.subi %[[NQO]], %c2
// CHECK: %[[R0:.*]] = arith.maxsi %[[REQ]], %c0
// CHECK: %[[R:.*]] = arith.minsi %[[R0]], %[[LASTREQ]]
// Its query rows, clamped into q.
// CHECK: %[[NQ:.*]] = memref.dim %[[Q]], %c0
// CHECK: memref.load %[[QO]][%[[R]]]
// CHECK: %[[FIRST:.*]] = arith.minsi %{{.*}}, %[[NQ]]
// CHECK: memref.load %[[QO]][%{{.*}}]
// CHECK: %[[QEND:.*]] = arith.minsi %{{.*}}, %[[NQ]]
// CHECK: %[[QLEN:.*]] = arith.subi %[[QEND]], %[[FIRST]]
// CHECK: %[[QOLEN:.*]] = arith.select %[[PAD]], %c0, %[[QLEN]]
// kv_len from the page table.
// CHECK: memref.load %[[IP]][%[[R]]]
// CHECK: arith.muli %{{.*}}, %c16
// CHECK: memref.load %[[LAST]][%[[R]]]
// CHECK: %[[KVLEN:.*]] = arith.select %{{.*}}, %c0, %{{.*}} : index
// Bottom-right: row i of the request is at kv_len - qo_len + i.
// CHECK: %[[OFFSET:.*]] = arith.subi %[[KVLEN]], %[[QOLEN]]
// CHECK: %[[ROW:.*]] = arith.addi %[[FIRST]], %[[QBEGIN]]
// CHECK: vector.transfer_read %[[Q]][%[[ROW]], %{{.*}}, %c0]
// CHECK: %[[POS:.*]] = arith.addi %[[QBEGIN]], %[[OFFSET]]
// CHECK: attn.online_attention_step {{.*}}, %[[KC]][%{{.*}}, %{{.*}}], %{{.*}}, %[[KVLEN]] pages(%[[IDX]][%{{.*}}] : memref<?xi32>)
// CHECK: attn.online_attention_step {{.*}} masked
// Stores stop at the request's last query row.
// CHECK: %[[LEFT:.*]] = arith.subi %[[QOLEN]], %[[QBEGIN]]
// CHECK: %[[MASK:.*]] = vector.create_mask %[[LEFT]], %c128 : vector<128x128xi1>
// CHECK: %[[LMASK:.*]] = vector.create_mask %[[LEFT]] : vector<128xi1>
// CHECK: vector.transfer_write %{{.*}}, %[[O]][%{{.*}}, %{{.*}}, %c0], %[[MASK]]
// CHECK: vector.transfer_write %{{.*}}, %[[LSE]][%{{.*}}, %{{.*}}], %[[LMASK]]

// The K/V tiles are staged from the request's pages.
// STAGED-LABEL: gpu.func @paged_prefill
// STAGED: scf.for
// STAGED: memref.load %{{.*}} : memref<?xi32>
// STAGED: arith.minui
// STAGED: vector.load %{{.*}} : memref<?x16x8x128xbf16, strided<[?, ?, ?, 1]>>, vector<8xbf16>

func.func @paged_prefill(%q: tensor<?x32x128xbf16>, %kc: tensor<?x16x8x128xbf16>, %vc: tensor<?x16x8x128xbf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %qo: tensor<?xi32>, %o: tensor<?x32x128xbf16>, %lse: tensor<?x32xf32>) -> (tensor<?x32x128xbf16>, tensor<?x32xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x16x8x128xbf16>) v_cache(%vc : tensor<?x16x8x128xbf16>)
      kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) qo_indptr(%qo : tensor<?xi32>)
      outs(%o, %lse : tensor<?x32x128xbf16>, tensor<?x32xf32>) attributes {causal} -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
}

// -----

// Ragged K/V: f16, head dim 64, GQA 2, a sliding window, no lse. The
// request's keys are a view of k and v at kv_indptr[request].
//
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NEXT: attn.kernel_manifest
// CHECK-SAME: name = "qo_indptr", rank = 1 : i64, shape = [-1]}
// CHECK-SAME: name = "kv_indptr", rank = 1 : i64, shape = [{dim = ["qo_indptr", 0]}]}
// CHECK-SAME: name = "schedule", rank = 2 : i64, shape = [-1, 2]}
// CHECK-SAME: grid = [{mul = [{dim = ["schedule", 0]}, {mul = [{min = [{add = [{dim = ["qo_indptr", 0]}, -1]}, 1]}, {min = [{dim = ["q", 0]}, 1]}]}]}, 4, 1], name = "ragged_prefill"
// CHECK-SAME: kv_source = "ragged"
// CHECK-SAME: schedule = "request_q_tile"
// CHECK-SAME: window_left = 100

// CHECK: gpu.func @ragged_prefill(%{{[^:]*}}: memref<?x4x64xf16, strided<[?, ?, 1]>>, %[[K:[^:]*]]: memref<?x2x64xf16, strided<[?, ?, 1]>>, %[[V:[^:]*]]: memref<?x2x64xf16, strided<[?, ?, 1]>>, %[[QO:[^:]*]]: memref<?xi32>, %[[KV:[^:]*]]: memref<?xi32>, %{{[^:]*}}: memref<?x2xi32>, %{{[^:]*}}: memref<?x4x64xf16, strided<[?, ?, 1]>>)
// CHECK: %[[NK:.*]] = memref.dim %[[K]], %c0
// CHECK: memref.load %[[KV]][%[[R:.*]]]
// CHECK: %[[KBEGIN:.*]] = arith.minsi %{{.*}}, %[[NK]]
// CHECK: memref.load %[[KV]][%{{.*}}]
// CHECK: %[[KEND:.*]] = arith.minsi %{{.*}}, %[[NK]]
// CHECK: %[[KLEN0:.*]] = arith.subi %[[KEND]], %[[KBEGIN]]
// CHECK: %[[KLEN:.*]] = arith.select %{{.*}}, %c0, %[[KLEN0]]
// CHECK: %[[KS:.*]] = memref.subview %[[K]][%[[KBEGIN]], 0, 0] [%[[KLEN]], 2, 64] [1, 1, 1] : memref<?x2x64xf16, strided<[?, ?, 1]>> to memref<?x2x64xf16, strided<[?, ?, 1], offset: ?>>
// CHECK: %[[VS:.*]] = memref.subview %[[V]][%[[KBEGIN]], 0, 0] [%[[KLEN]], 2, 64] [1, 1, 1]
// CHECK: attn.online_attention_step %{{.*}}, %[[KS]][%{{.*}}, %{{.*}}], %[[VS]], %[[KLEN]], {{.*}} masked

func.func @ragged_prefill(%q: tensor<?x4x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %qo: tensor<?xi32>, %kv: tensor<?xi32>, %o: tensor<?x4x64xf16>) -> tensor<?x4x64xf16> {
  %r = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) qo_indptr(%qo : tensor<?xi32>) kv_indptr(%kv : tensor<?xi32>)
      outs(%o : tensor<?x4x64xf16>) attributes {window_left = 100 : i64} -> tensor<?x4x64xf16>
  return %r : tensor<?x4x64xf16>
}
