// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=sm_90a},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory,attn-distribute-to-matrix-instructions),canonicalize,cse)" --split-input-file | FileCheck %s --check-prefix=SM90
// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=gfx942},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory,attn-distribute-to-matrix-instructions))" --split-input-file | FileCheck %s --check-prefix=GFX942

// Decode: a query token dimension of static size 1 selects the split-KV
// path. Two kernels in one gpu.module, listed in launch order: the split
// kernel packs the G = Hq / Hkv query heads of a KV head into the rows of
// one wave's query tile (grid.y = Hkv) and gives each chunk of keys its own
// workgroup (grid.z); the merge kernel combines the f32 partials.

// bf16, head dim 128, GQA 32:8, with lse.
//
// SM90-LABEL: module attributes {gpu.container_module}
// SM90-NEXT: attn.kernel_manifest @decode_kernels {{.*}}kernels = [#attn.kernel<
// The split kernel writes the f32 workspace, not o and lse.
// SM90-SAME: args = [{align = 16 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "q", rank = 3 : i64, shape = [1, 32, 128]}, {align = 16 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "k", rank = 3 : i64, shape = [-1, 8, 128]}, {align = 16 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "v", rank = 3 : i64, shape = [{dim = ["k", 0]}, 8, 128]}, {dtype = "f32", kind = "memref", layout = "contiguous", name = "o_part", rank = 3 : i64, shape = [{ceil_div = ["k", 0, "kv_chunk"]}, 32, 128]}, {dtype = "f32", kind = "memref", layout = "contiguous", name = "lse_part", rank = 2 : i64, shape = [{ceil_div = ["k", 0, "kv_chunk"]}, 32]}, {dtype = "i64", kind = "scalar", multiple_of = 32 : i64, name = "kv_chunk"}]
// One wave.
// SM90-SAME: block = [32, 1, 1]
// One query tile holds the 4 heads; one workgroup per KV head and kv_chunk
// keys, the split size passed at run time.
// SM90-SAME: grid = [1, 8, {ceil_div = ["k", 0, "kv_chunk"]}]
// SM90-SAME: name = "decode", op = "attn.attention"
// SM90-SAME: params = {block_m = 16 : i64, block_n = 32 : i64, causal = false, group_size = 4 : i64, head_dim = 128 : i64, head_dim_v = 128 : i64, kv_chunk_multiple = 32 : i64, logits_soft_cap = 0.000000e+00 : f64, lse_base = "2", matrix_instruction = "mma.sync.m16n8k16.f32.bf16", num_kv_heads = 8 : i64, num_qo_heads = 32 : i64, q_in_registers = true, query_tiles_per_wave = 1 : i64, rows = "heads", sm_scale = {{.*}} : f64, split_workgroups_per_cu = 4 : i64, stage = "split_kv", window_left = -1 : i64
// SM90-SAME: workspace = [[WS:\[\{dtype = "f32", name = "o_part", shape = \[\{ceil_div = \["k", 0, "kv_chunk"\]\}, 32, 128\]\}, \{dtype = "f32", name = "lse_part", shape = \[\{ceil_div = \["k", 0, "kv_chunk"\]\}, 32\]\}\]]]}
// SM90-SAME: static_shared_memory = 17408>
// The merge kernel: one workgroup per query head, one thread per output
// element, the same workspace.
// SM90-SAME: #attn.kernel<args = [{dtype = "f32", kind = "memref", layout = "contiguous", name = "o_part", rank = 3 : i64, shape = [-1, 32, 128]}, {dtype = "f32", kind = "memref", layout = "contiguous", name = "lse_part", rank = 2 : i64, shape = [{dim = ["o_part", 0]}, 32]}, {dtype = "bf16", kind = "memref", layout = "strided", name = "o", rank = 3 : i64, shape = [1, 32, 128]}, {dtype = "f32", kind = "memref", layout = "strided", name = "lse", rank = 2 : i64, shape = [1, 32]}]
// SM90-SAME: block = [128, 1, 1], grid = [32, 1, 1], name = "decode_merge", op = "attn.merge_states"
// SM90-SAME: params = {head_dim_v = 128 : i64, lse_base = "2", num_qo_heads = 32 : i64, stage = "merge", workspace = [[WS]]}
// SM90-SAME: static_shared_memory = 0>]
// SM90-SAME: target = "sm_90a"

// SM90: gpu.module @decode_kernels {
// SM90-NEXT: gpu.func @decode(%[[Q:.*]]: memref<1x32x128xbf16, strided<[?, ?, 1]>>, %[[K:.*]]: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %[[V:.*]]: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %[[OP:.*]]: memref<?x32x128xf32>, %[[LP:.*]]: memref<?x32xf32>, %[[CHUNK:.*]]: i64)
// SM90-SAME: known_block_size = array<i32: 32, 1, 1>
// Head packing: the KV head is block y, the first query head 4 * block y;
// Q rows are the heads 4 * block y + row (rows past the 4 heads read
// heads that are never stored; past the last head, the zero padding).
// SM90-DAG: %[[KVH:.*]] = gpu.block_id y
// SM90-DAG: %[[BASE:.*]] = arith.muli %[[KVH]], %c4 : index
// SM90-DAG: %[[Z:.*]] = gpu.block_id z
// This workgroup's keys: [c z, min(c (z + 1), kv_len)) for c = kv_chunk.
// SM90: %[[C:.*]] = arith.index_cast %[[CHUNK]] : i64 to index
// SM90: %[[BEGIN:.*]] = arith.muli %[[Z]], %[[C]] : index
// SM90: %[[END0:.*]] = arith.addi %[[BEGIN]], %[[C]] : index
// SM90-NEXT: %[[END:.*]] = arith.minsi %{{.*}}, %[[END0]] : index
// SM90: %[[HEAD:.*]] = arith.addi %[[BASE]], %[[ROW:.*]] : index
// SM90-NEXT: %[[INQ:.*]] = arith.cmpi slt, %[[HEAD]], %c32 : index
// SM90-NEXT: %[[CLAMP:.*]] = arith.minsi %[[HEAD]], %c31 : index
// SM90-NEXT: %[[QV:.*]] = vector.load %[[Q]][%c0, %[[CLAMP]], %{{.*}}]
// SM90-NEXT: %[[Q0:.*]] = vector.extract %[[QV]][0]
// SM90-NEXT: vector.extract %[[QV]][1]
// SM90-NEXT: arith.select %[[INQ]], %[[Q0]], %cst
// Interior tiles without a mask, then the tail with one. Staging is
// asynchronous: K of a loop's first tile is copied before it; in the loop,
// after the wait and barrier before S = Q K^T the copy of V starts, and
// after the ones before O += P V the copy of the next K tile.
// SM90: nvgpu.device_async_copy %[[K]][%{{.*}}, %[[KVH]], %{{.*}}], %{{.*}}, 8 {bypassL1}
// SM90: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// SM90: nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// SM90-NEXT: gpu.barrier
// SM90: nvgpu.device_async_copy %[[V]]
// SM90: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false}
// SM90: nvvm.mma.sync
// SM90: nvgpu.device_async_wait
// SM90-NEXT: gpu.barrier
// SM90: scf.if
// SM90: nvgpu.device_async_copy %[[K]]
// V is [key][dv] in workgroup memory: the transposing tile load.
// SM90: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = true}
// SM90: scf.for %{{.*}} = %{{.*}} to %[[END]] step %c32
// SM90: arith.cmpi slt
// Stores only for rows < 4 - 16 * block x (the mask), at [z, 4 * block y +
// row].
// SM90: %[[LEFT:.*]] = arith.subi %c4, %{{.*}} : index
// SM90-NEXT: %[[VALID:.*]] = arith.cmpi slt, %[[ROW]], %[[LEFT]] : index
// SM90-NEXT: %[[BOTH:.*]] = arith.andi %[[INQ]], %[[VALID]] : i1
// SM90-NEXT: scf.if %[[BOTH]] {
// SM90: vector.store %{{.*}}, %[[OP]][%[[Z]], %[[HEAD]], %{{.*}}] {alignment = 8 : i64} : memref<?x32x128xf32>, vector<2xf32>
// SM90: memref.store %{{.*}}, %[[LP]][%[[Z]], %{{.*}}] : memref<?x32xf32>
// SM90: gpu.return
//
// SM90: gpu.func @decode_merge(%[[OPART:.*]]: memref<?x32x128xf32>, %[[LPART:.*]]: memref<?x32xf32>, %[[O:.*]]: memref<1x32x128xbf16, strided<[?, ?, 1]>>, %[[LSE:.*]]: memref<1x32xf32, strided<[?, 1]>>)
// SM90-SAME: known_block_size = array<i32: 128, 1, 1>
// SM90-DAG: %[[H:.*]] = gpu.block_id x
// SM90-DAG: %[[DV:.*]] = gpu.thread_id x
// SM90-DAG: %[[SPLITS:.*]] = memref.dim %[[OPART]], %c0
// One pass with online rescaling, 8 splits per trip; trips past the last
// split reread it and count as lse -inf.
// SM90: %[[LAST:.*]] = arith.subi %[[SPLITS]], %c1
// SM90: %[[ACC:.*]]:3 = scf.for %[[Z0:.*]] = %c0 to %[[SPLITS]] step %c8 iter_args(%[[M:.*]] = %[[NEGINF:[a-z_0-9]+]], %[[S:.*]] = %[[ZERO:[a-z_0-9]+]], %[[A:.*]] = %[[ZERO]]) -> (f32, f32, f32) {
// SM90-NEXT: %[[ZC:.*]] = arith.minsi %[[Z0]], %[[LAST]]
// SM90-NEXT: %[[IN:.*]] = arith.cmpi slt, %[[Z0]], %[[SPLITS]]
// SM90-NEXT: %[[L0:.*]] = memref.load %[[LPART]][%[[ZC]], %[[H]]]
// SM90-NEXT: %[[L:.*]] = arith.select %[[IN]], %[[L0]], %[[NEGINF]]
// SM90-NEXT: %[[X:.*]] = memref.load %[[OPART]][%[[ZC]], %[[H]], %[[DV]]]
// SM90-COUNT-7: memref.load %[[OPART]]
// SM90: %[[M1:.*]] = arith.maximumf %[[M]], %[[L]]
// SM90-COUNT-7: arith.maximumf
// Against 0 while no split has a key; the old state is rescaled by
// 2^(m_old - m_new), or dropped while it is empty.
// SM90-NEXT: %[[NONE:.*]] = arith.cmpf oeq, %[[MNEW:.*]], %[[NEGINF]]
// SM90-NEXT: %[[MEXP:.*]] = arith.select %[[NONE]], %[[ZERO]], %[[MNEW]]
// SM90-NEXT: %[[OLDEMPTY:.*]] = arith.cmpf oeq, %[[M]], %[[NEGINF]]
// SM90-NEXT: %[[DM:.*]] = arith.subf %[[M]], %[[MEXP]]
// SM90-NEXT: %[[R0:.*]] = math.exp2 %[[DM]]
// SM90-NEXT: %[[R:.*]] = arith.select %[[OLDEMPTY]], %[[ZERO]], %[[R0]]
// SM90-NEXT: %[[S0:.*]] = arith.mulf %[[S]], %[[R]]
// SM90-NEXT: %[[A0:.*]] = arith.mulf %[[A]], %[[R]]
// Weight 2^(lse_z - m); a split without keys adds exactly nothing.
// SM90-NEXT: %[[D:.*]] = arith.subf %[[L]], %[[MEXP]]
// SM90-NEXT: %[[W:.*]] = math.exp2 %[[D]]
// SM90-NEXT: %[[USED:.*]] = arith.cmpf ogt, %[[W]], %[[ZERO]]
// SM90-NEXT: %[[WX:.*]] = arith.mulf %[[W]], %[[X]]
// SM90-NEXT: %[[T:.*]] = arith.select %[[USED]], %[[WX]], %[[ZERO]]
// SM90-NEXT: arith.addf %[[S0]], %[[W]]
// SM90-NEXT: arith.addf %[[A0]], %[[T]]
// SM90-COUNT-7: math.exp2
// SM90: scf.yield %[[MNEW]],
// SM90: %[[FINALNONE:.*]] = arith.cmpf oeq, %[[ACC]]#0, %[[NEGINF]]
// SM90-NEXT: %[[FMEXP:.*]] = arith.select %[[FINALNONE]], %[[ZERO]], %[[ACC]]#0
// SM90-NEXT: %[[POS:.*]] = arith.cmpf ogt, %[[ACC]]#1, %[[ZERO]]
// SM90-NEXT: %[[DIV:.*]] = arith.divf %[[ACC]]#2, %[[ACC]]#1
// SM90-NEXT: %[[OUT:.*]] = arith.select %[[POS]], %[[DIV]], %[[ZERO]]
// SM90-NEXT: %[[OUT16:.*]] = arith.truncf %[[OUT]] : f32 to bf16
// SM90-NEXT: memref.store %[[OUT16]], %[[O]][%c0, %[[H]], %[[DV]]]
// lse = max + log2(sum), or -inf when no split saw a key; one thread stores.
// SM90-NEXT: %[[LOG:.*]] = math.log2 %[[ACC]]#1
// SM90-NEXT: %[[LSEV:.*]] = arith.addf %[[FMEXP]], %[[LOG]]
// SM90-NEXT: %[[LSESEL:.*]] = arith.select %[[POS]], %[[LSEV]], %[[NEGINF]]
// SM90-NEXT: %[[FIRST:.*]] = arith.cmpi eq, %[[DV]], %c0
// SM90-NEXT: scf.if %[[FIRST]] {
// SM90-NEXT: memref.store %[[LSESEL]], %[[LSE]][%c0, %[[H]]]
// SM90: gpu.return

// AMD: wave64, the query tile is the MFMA's N (transposed formulation).
// GFX942-LABEL: module attributes {gpu.container_module}
// GFX942-NEXT: attn.kernel_manifest
// GFX942-SAME: block = [64, 1, 1]
// GFX942-SAME: grid = [1, 8, {ceil_div = ["k", 0, "kv_chunk"]}]
// GFX942-SAME: matrix_instruction = "v_mfma_f32_16x16x16_bf16"
// GFX942-SAME: name = "decode_merge"
// GFX942: gpu.func @decode(%{{.*}}: memref<1x32x128xbf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x8x128xbf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x32x128xf32>, %{{.*}}: memref<?x32xf32>, %{{.*}}: i64)
// GFX942-SAME: known_block_size = array<i32: 64, 1, 1>
// GFX942: amdgpu.mfma 16x16x16
// GFX942: gpu.func @decode_merge(



func.func @decode(%q: tensor<1x32x128xbf16>, %k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %o: tensor<1x32x128xbf16>, %lse: tensor<1x32xf32>) -> (tensor<1x32x128xbf16>, tensor<1x32xf32>) {
  %r:2 = attn.attention q(%q : tensor<1x32x128xbf16>) k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) outs(%o, %lse : tensor<1x32x128xbf16>, tensor<1x32xf32>) -> tensor<1x32x128xbf16>, tensor<1x32xf32>
  return %r#0, %r#1 : tensor<1x32x128xbf16>, tensor<1x32xf32>
}

// -----

// MQA 32:1 with more heads than a query tile's 16 rows: grid.x covers them.
// Causal is trivially satisfied by the last token; no lse: the merge kernel
// takes o only.
// SM90-LABEL: module attributes {gpu.container_module}
// SM90-NEXT: attn.kernel_manifest
// SM90-SAME: grid = [2, 1, {ceil_div = ["k", 0, "kv_chunk"]}]
// SM90-SAME: group_size = 32 : i64
// SM90-SAME: #attn.kernel<args = [{dtype = "f32", kind = "memref", layout = "contiguous", name = "o_part", rank = 3 : i64, shape = [-1, 32, 64]}, {dtype = "f32", kind = "memref", layout = "contiguous", name = "lse_part", rank = 2 : i64, shape = [{dim = ["o_part", 0]}, 32]}, {dtype = "f16", kind = "memref", layout = "strided", name = "o", rank = 3 : i64, shape = [1, 32, 64]}], block = [64, 1, 1]
// SM90: gpu.func @mqa(%{{.*}}: memref<1x32x64xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x1x64xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x1x64xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x32x64xf32>, %{{.*}}: memref<?x32xf32>, %{{.*}}: i64)
// Row = 16 block x + row in tile; stores for rows < 32.
// SM90: arith.muli %{{.*}}, %c16 : index
// SM90: arith.cmpi slt, %{{.*}}, %c32 : index
// SM90: gpu.func @mqa_merge(%{{.*}}: memref<?x32x64xf32>, %{{.*}}: memref<?x32xf32>, %{{.*}}: memref<1x32x64xf16, strided<[?, ?, 1]>>)
// SM90-SAME: known_block_size = array<i32: 64, 1, 1>
// SM90-NOT: memref<1x32xf32
// SM90: gpu.return

func.func @mqa(%q: tensor<1x32x64xf16>, %k: tensor<?x1x64xf16>, %v: tensor<?x1x64xf16>, %o: tensor<1x32x64xf16>) -> tensor<1x32x64xf16> {
  %r = attn.attention q(%q : tensor<1x32x64xf16>) k(%k : tensor<?x1x64xf16>) v(%v : tensor<?x1x64xf16>) outs(%o : tensor<1x32x64xf16>) attributes {causal} -> tensor<1x32x64xf16>
  return %r : tensor<1x32x64xf16>
}
