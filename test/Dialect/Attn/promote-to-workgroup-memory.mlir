// RUN: flashinfer-opt %s --pass-pipeline='builtin.module(gpu.module(attn-promote-to-workgroup-memory))' -split-input-file -verify-diagnostics | FileCheck %s

// The right-hand sides of the contractions (K, V) are staged in workgroup
// memory: one buffer each, [16 keys][32 + 8] for K (its reduction dim, d,
// already innermost) and [16 dv][16 + 8] for V (stored transposed, so that
// keys are innermost), shared by both loops. The left-hand side (Q) stays a
// global read. 64 threads copy 16-byte chunks: K takes one round, V (32
// chunks) half a round.

// CHECK-LABEL: gpu.func @stage(
// CHECK-SAME: %[[Q:[^:]*]]: memref<?x2x32xbf16>, %[[K:[^:]*]]: memref<?x2x32xbf16>, %[[V:[^:]*]]: memref<?x2x16xbf16>, %{{[^:]*}}: memref<16x16xf32>, %{{[^:]*}}: index, %[[LEN:[^:]*]]: index)
// CHECK-SAME: workgroup(%[[KBUF:.*]] : memref<16x40xbf16, #gpu.address_space<workgroup>>, %[[VBUF:.*]] : memref<16x24xbf16, #gpu.address_space<workgroup>>)
// CHECK: scf.for %[[I:[^ ]*]] = 
// CHECK: vector.transfer_read %[[Q]]
// CHECK-NEXT: arith.constant 0 : index
// CHECK-NEXT: gpu.barrier
// CHECK: %[[T:.*]] = gpu.thread_id x
// K: thread t copies key t / 4, dims 8 (t % 4) .. +8, in bounds.
// CHECK: %[[KROW:.*]] = arith.divui %{{.*}}, %c4
// CHECK: %[[KCOL:.*]] = arith.muli %{{.*}}, %c8
// CHECK: %[[KEY:.*]] = arith.addi %[[I]], %[[KROW]]
// CHECK: %[[KV:.*]] = vector.load %[[K]][%[[KEY]], %{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<?x2x32xbf16>, vector<8xbf16>
// CHECK-NEXT: vector.store %[[KV]], %[[KBUF]][%[[KROW]], %[[KCOL]]] {alignment = 16 : i64}
// V: the tile may run past kv_len: clamp the key, fill with zeros.
// CHECK: %[[ACTIVE:.*]] = arith.cmpi ult, %{{.*}}, %c32
// CHECK-NEXT: scf.if %[[ACTIVE]] {
// CHECK: %[[VROW:.*]] = arith.remui %{{.*}}, %c16
// CHECK: %[[VKEY:.*]] = arith.addi %[[I]], %[[VROW]]
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[VKEY]], %[[LEN]]
// CHECK-NEXT: %[[CLAMPED:.*]] = arith.minsi %[[VKEY]],
// CHECK-NEXT: %[[VV:.*]] = vector.load %[[V]][%[[CLAMPED]], %{{.*}}, %{{.*}}] {alignment = 16 : i64}
// CHECK-NEXT: %[[SEL:.*]] = arith.select %[[IN]], %[[VV]], %{{.*}} : vector<8xbf16>
// CHECK-NEXT: %[[X0:.*]] = vector.extract %[[SEL]][0]
// CHECK: memref.store %[[X0]], %[[VBUF]][%{{.*}}, %[[VROW]]]
// CHECK-COUNT-7: memref.store %{{.*}}, %[[VBUF]]
// CHECK: }
// CHECK-NEXT: gpu.barrier
// CHECK: %[[KT:.*]] = vector.transfer_read %[[KBUF]][%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true, true]} : memref<16x40xbf16, #gpu.address_space<workgroup>>, vector<16x32xbf16>
// CHECK: %[[VT:.*]] = vector.transfer_read %[[VBUF]][%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true, true], permutation_map = #{{.*}}} : memref<16x24xbf16, #gpu.address_space<workgroup>>, vector<16x16xbf16>
// CHECK: vector.contract {{.*}} %[[KT]]
// CHECK: vector.contract {{.*}} %[[VT]]
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: vector.store %{{.*}}, %[[KBUF]]
// CHECK: gpu.barrier
// CHECK: vector.transfer_read %[[KBUF]]
// CHECK-NOT: attn.load_kv_tile

#tile = affine_map<(d0, d1, d2) -> (d0, d2)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @stage(%q: memref<?x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x16xbf16>, %o: memref<16x16xf32>, %end: index, %len: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      // Rows of one wave: the left-hand side stays a global read.
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = attn.load_kv_tile %k[%c0, %i], %len {in_bounds} : memref<?x2x32xbf16> -> vector<16x32xbf16>
      %c0_v = arith.constant 0 : index
      %vt = attn.load_kv_tile %v[%c0_v, %i], %len : memref<?x2x16xbf16> -> vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    // A second loop reuses the K buffer.
    %r2 = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %r) -> (vector<16x16xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = attn.load_kv_tile %k[%c0, %i], %len {in_bounds} : memref<?x2x32xbf16> -> vector<16x32xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %acc : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      scf.yield %s : vector<16x16xf32>
    }
    vector.transfer_write %r2, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

// With a target that has 16-byte asynchronous copies and a transposing tile
// load (the kernel names mma.sync), tiles keep their memory layout (V as
// [key][dv]) and each copy starts as soon as its buffer is free: K of the
// first tile before the loop; in the loop, after the wait and barrier before
// the use of K, the copy of V, and after the ones before the use of V, the
// copy of the next iteration's K. The second loop stages one tile only and
// keeps the synchronous copy.

// CHECK-LABEL: gpu.func @stage(
// CHECK-SAME: %[[Q:[^:]*]]: memref<?x2x32xbf16>, %[[K:[^:]*]]: memref<?x2x32xbf16>, %[[V:[^:]*]]: memref<?x2x16xbf16>, %{{[^:]*}}: memref<16x16xf32>, %[[END:[^:]*]]: index, %[[VLEN:[^:]*]]: index)
// CHECK-SAME: workgroup(%[[KBUF:.*]] : memref<16x40xbf16, #gpu.address_space<workgroup>>, %[[VBUF:.*]] : memref<16x24xbf16, #gpu.address_space<workgroup>>)
// CHECK: %[[ANY:.*]] = arith.cmpi slt, %{{.*}}, %[[END]] : index
// CHECK-NEXT: scf.if %[[ANY]] {
// CHECK: nvgpu.device_async_copy %[[K]][%{{.*}}], %[[KBUF]][%{{.*}}], 8 {bypassL1} : memref<?x2x32xbf16> to memref<16x40xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_create_group
// CHECK: scf.for %[[I:[^ ]*]] =
// CHECK: %[[G1:.*]] = nvgpu.device_async_create_group
// CHECK-NEXT: nvgpu.device_async_wait %[[G1]] {numGroups = 0 : i32}
// CHECK-NEXT: gpu.barrier
// V may run past its end: rows past it copy 0 of 8 elements (zero fill).
// CHECK: %[[IN:.*]] = arith.cmpi slt, %{{.*}}, %[[VLEN]]
// CHECK: %[[N:.*]] = arith.select %[[IN]], %{{.*}}, %{{.*}} : index
// CHECK: nvgpu.device_async_copy %[[V]][%{{.*}}], %[[VBUF]][%{{.*}}], 8, %[[N]] {bypassL1}
// CHECK: %[[KT:.*]] = vector.transfer_read %[[KBUF]]
// CHECK: vector.contract {{.*}} %[[KT]]
// CHECK: %[[G2:.*]] = nvgpu.device_async_create_group
// CHECK-NEXT: nvgpu.device_async_wait %[[G2]] {numGroups = 0 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK: %[[NEXT:.*]] = arith.addi %[[I]], %{{.*}}
// CHECK: %[[MORE:.*]] = arith.cmpi slt, %[[NEXT]], %[[END]]
// CHECK-NEXT: scf.if %[[MORE]] {
// CHECK: nvgpu.device_async_copy %[[K]]
// CHECK: %[[VT:.*]] = vector.transfer_read %[[VBUF]][%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true, true]} : memref<16x24xbf16, #gpu.address_space<workgroup>>, vector<16x16xbf16>
// CHECK: vector.contract {{.*}} %[[VT]]
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: vector.store %{{.*}}, %[[KBUF]]
// CHECK: gpu.barrier

#tile = affine_map<(d0, d1, d2) -> (d0, d2)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @stage(%q: memref<?x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x16xbf16>, %o: memref<16x16xf32>, %end: index, %len: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.bf16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      // Rows of one wave: the left-hand side stays a global read.
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = attn.load_kv_tile %k[%c0, %i], %len {in_bounds} : memref<?x2x32xbf16> -> vector<16x32xbf16>
      %c0_v = arith.constant 0 : index
      %vt = attn.load_kv_tile %v[%c0_v, %i], %len : memref<?x2x16xbf16> -> vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    // A second loop reuses the K buffer.
    %r2 = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %r) -> (vector<16x16xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = attn.load_kv_tile %k[%c0, %i], %len {in_bounds} : memref<?x2x32xbf16> -> vector<16x32xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %acc : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      scf.yield %s : vector<16x16xf32>
    }
    vector.transfer_write %r2, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

gpu.module @kernels {
  // expected-error @+1 {{attn-promote-to-workgroup-memory: the kernel needs a one-dimensional known_block_size to share the copies among its threads}}
  gpu.func @no_block_size(%k: memref<?x32xf16>) kernel {
    gpu.return
  }
}

// -----

// The copy rounds divide the tiles among the threads: none is an error, not
// an endless loop.
gpu.module @kernels {
  // expected-error @+1 {{attn-promote-to-workgroup-memory: known_block_size must have 1 to 1024 threads, got 0}}
  gpu.func @no_threads(%k: memref<?x32xf16>) kernel attributes {known_block_size = array<i32: 0, 1, 1>} {
    gpu.return
  }
}

// -----

// Tiles beyond 1024 in a dimension are rejected before their copies are
// built (a 2^31 x 2^31 tile exhausted memory); the op's verifier bounds the
// rows, the pass the head dim.
#tile = affine_map<(d0, d1, d2) -> (d0, d2)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @huge_tile(%q: memref<?x2x2048xbf16>, %k: memref<?x2x2048xbf16>, %o: memref<16x16xf32>, %end: index, %len: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x2048xbf16>, vector<16x2048xbf16>
      // expected-error @+1 {{attn-promote-to-workgroup-memory: tile 'vector<16x2048xbf16>' exceeds 1024 in a dimension}}
      %kt = attn.load_kv_tile %k[%c0, %i], %len {in_bounds} : memref<?x2x2048xbf16> -> vector<16x2048xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %acc : vector<16x2048xbf16>, vector<16x2048xbf16> into vector<16x16xf32>
      scf.yield %s : vector<16x16xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#tile = affine_map<(d0, d1, d2) -> (d0, d2)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @late_index(%q: memref<?x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x16xbf16>, %o: memref<16x16xf32>, %end: index, %len: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = attn.load_kv_tile %k[%c0, %i], %len {in_bounds} : memref<?x2x32xbf16> -> vector<16x32xbf16>
      // V's tile starts at a key computed after K's tile: the copies, which
      // go before the first staged tile, cannot know it.
      %j = arith.addi %i, %c16 : index
      // expected-error @+1 {{attn-promote-to-workgroup-memory: the tile's operands must be known before the first tile staged in this loop}}
      %vt = attn.load_kv_tile %v[%c0, %j], %len : memref<?x2x16xbf16> -> vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

// A paged KV source (hnd: [pages, H_kv, page_size, D]): each copy looks its
// token's page up in the page list, clamps the id to the cache's pages, and
// reads slot token % page_size. Synchronous copies (no instruction named).

// CHECK-LABEL: gpu.func @paged(
// CHECK-SAME: %[[K:[^:]*]]: memref<?x2x16x32xbf16>, %[[V:[^:]*]]: memref<?x2x16x16xbf16>, %[[IDX:[^:]*]]: memref<?xi32>, %[[PB:[^:]*]]: index, %{{[^:]*}}: memref<16x16xf32>, %{{[^:]*}}: index, %[[LEN:[^:]*]]: index)
// CHECK: scf.for %[[I:[^ ]*]] =
// CHECK: gpu.barrier
// CHECK: %[[KEY:.*]] = arith.addi %[[I]], %{{.*}} : index
// CHECK: %[[P:.*]] = arith.divui %[[KEY]], %c16{{[_0-9]*}} : index
// CHECK: %[[SLOT:.*]] = arith.remui %[[KEY]], %c16{{[_0-9]*}} : index
// CHECK: %[[E:.*]] = arith.addi %[[PB]], %[[P]]
// CHECK: %[[ID:.*]] = memref.load %[[IDX]][%[[E]]] : memref<?xi32>
// CHECK: %[[PAGE:.*]] = arith.index_cast %[[ID]] : i32 to index
// CHECK: %[[NP:.*]] = memref.dim %[[K]], %c0{{[_0-9]*}}
// CHECK: %[[LAST:.*]] = arith.subi %[[NP]], %c1{{[_0-9]*}}
// CHECK: %[[CL:.*]] = arith.minui %[[PAGE]], %[[LAST]]
// CHECK: vector.load %[[K]][%[[CL]], %{{.*}}, %[[SLOT]], %{{.*}}] {alignment = 16 : i64} : memref<?x2x16x32xbf16>, vector<8xbf16>
// V may run past kv_len: the token is clamped before the lookup.
// CHECK: %[[VKEY:.*]] = arith.addi %[[I]], %{{.*}} : index
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[VKEY]], %[[LEN]]
// CHECK: %[[CK:.*]] = arith.minsi %[[VKEY]],
// CHECK: arith.divui %[[CK]], %c16{{[_0-9]*}} : index
// CHECK: memref.load %[[IDX]]
// CHECK: %[[VV:.*]] = vector.load %[[V]]
// CHECK: arith.select %[[IN]], %[[VV]], %{{.*}} : vector<8xbf16>
// CHECK: gpu.barrier
// CHECK-NOT: attn.load_kv_tile

#tile = affine_map<(d0, d1, d2) -> (d0, d2)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @paged(%k: memref<?x2x16x32xbf16>, %v: memref<?x2x16x16xbf16>, %idx: memref<?xi32>, %pb: index, %o: memref<16x16xf32>, %end: index, %len: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %qt = arith.constant dense<1.0> : vector<16x32xbf16>
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      %kt = attn.load_kv_tile %k[%c0, %i], %len pages(%idx[%pb] : memref<?xi32>) {in_bounds, kv_layout = #attn.kv_layout<hnd>} : memref<?x2x16x32xbf16> -> vector<16x32xbf16>
      %vt = attn.load_kv_tile %v[%c0, %i], %len pages(%idx[%pb] : memref<?xi32>) {kv_layout = #attn.kv_layout<hnd>} : memref<?x2x16x16xbf16> -> vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

// K and V tiles of one shape over one page list (the kernels' case): their
// copies share one lookup of the tile's pages. The first tile's pages are
// looked up before the loop (only if it runs); in iteration i, V(i)'s copy
// uses the carried pages, the pages of tile i + 1 are looked up right after
// it (only if there is a next tile), K(i + 1)'s copy uses them, and they go
// to iteration i + 1 as an i32 loop value. 64 threads copy a 16 x 32 bf16
// tile in one round: one page per thread.

// CHECK-LABEL: gpu.func @paged_async_shared(
// CHECK-SAME: %[[K:[^:]*]]: memref<?x16x2x32xbf16>, %[[V:[^:]*]]: memref<?x16x2x32xbf16>, %[[IDX:[^:]*]]: memref<?xi32>
// CHECK: %[[FIRST:.*]] = scf.if %[[ANY:.*]] -> (i32) {
// CHECK:   memref.load %[[IDX]]
// CHECK:   scf.yield %{{.*}} : i32
// CHECK: } else {
// CHECK:   scf.yield %c0_i32 : i32
// CHECK: scf.if %[[ANY]] {
// CHECK:   %[[P0:.*]] = arith.index_castui %[[FIRST]] : i32 to index
// CHECK:   nvgpu.device_async_copy %[[K]][%[[P0]],
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}, %[[CARRIED:.*]] = %[[FIRST]]) -> (vector<16x32xf32>, i32)
// CHECK-NOT: memref.load %[[IDX]]
// CHECK:   %[[PV:.*]] = arith.index_castui %[[CARRIED]] : i32 to index
// CHECK:   nvgpu.device_async_copy %[[V]][%[[PV]],
// CHECK:   %[[NEXT:.*]] = scf.if %{{.*}} -> (i32) {
// CHECK:     memref.load %[[IDX]]
// CHECK:   } else {
// CHECK:     scf.yield %[[CARRIED]] : i32
// CHECK-NOT: memref.load %[[IDX]]
// CHECK:   %[[PK:.*]] = arith.index_castui %[[NEXT]] : i32 to index
// CHECK:   nvgpu.device_async_copy %[[K]][%[[PK]],
// CHECK:   scf.yield %{{.*}}, %[[NEXT]] : vector<16x32xf32>, i32

gpu.module @kernels {
  gpu.func @paged_async_shared(%k: memref<?x16x2x32xbf16>, %v: memref<?x16x2x32xbf16>, %idx: memref<?xi32>, %pb: index, %o: memref<16x32xf32>, %end: index, %len: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.bf16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %qt = arith.constant dense<1.0> : vector<16x32xbf16>
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %zacc = arith.constant dense<0.0> : vector<16x32xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zacc) -> (vector<16x32xf32>) {
      %kt = attn.load_kv_tile %k[%c0, %i], %len pages(%idx[%pb] : memref<?xi32>) : memref<?x16x2x32xbf16> -> vector<16x32xbf16>
      %vt = attn.load_kv_tile %v[%c0, %i], %len pages(%idx[%pb] : memref<?xi32>) : memref<?x16x2x32xbf16> -> vector<16x32xbf16>
      %s = vector.contract {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x32xbf16> into vector<16x32xf32>
      scf.yield %a : vector<16x32xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x32xf32>, memref<16x32xf32>
    gpu.return
  }
}

// -----

// The same with asynchronous copies (nhd: [pages, page_size, H_kv, D]): the
// first tile's copy before the loop and the next iteration's in it read
// through the page list too. K and V tiles differ in shape here, so each
// copy looks its pages up itself.

// CHECK-LABEL: gpu.func @paged_async(
// CHECK-SAME: %[[K:[^:]*]]: memref<?x16x2x32xbf16>, %[[V:[^:]*]]: memref<?x16x2x16xbf16>, %[[IDX:[^:]*]]: memref<?xi32>
// CHECK: scf.if
// CHECK: memref.load %[[IDX]]
// CHECK: nvgpu.device_async_copy %[[K]][%{{.*}}, %{{.*}}, %c0, %{{.*}}], %{{.*}}, 8 {bypassL1} : memref<?x16x2x32xbf16>
// CHECK: scf.for
// CHECK: memref.load %[[IDX]]
// CHECK: nvgpu.device_async_copy %[[V]][%{{.*}}, %{{.*}}, %c0, %{{.*}}], %{{.*}}, 8, %{{.*}} {bypassL1} : memref<?x16x2x16xbf16>
// CHECK: scf.if
// CHECK: memref.load %[[IDX]]
// CHECK: nvgpu.device_async_copy %[[K]]
// CHECK-NOT: attn.load_kv_tile

gpu.module @kernels {
  gpu.func @paged_async(%k: memref<?x16x2x32xbf16>, %v: memref<?x16x2x16xbf16>, %idx: memref<?xi32>, %pb: index, %o: memref<16x16xf32>, %end: index, %len: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.bf16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %qt = arith.constant dense<1.0> : vector<16x32xbf16>
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      %kt = attn.load_kv_tile %k[%c0, %i], %len pages(%idx[%pb] : memref<?xi32>) {in_bounds} : memref<?x16x2x32xbf16> -> vector<16x32xbf16>
      %vt = attn.load_kv_tile %v[%c0, %i], %len pages(%idx[%pb] : memref<?xi32>) : memref<?x16x2x16xbf16> -> vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

// Tiles that feed no contraction in a loop are read where they are: a
// contiguous one with a mask at kv_len, a paged one row by row.

// CHECK-LABEL: gpu.func @direct(
// CHECK-SAME: %[[K:[^:]*]]: memref<?x2x32xbf16>, %[[P:[^:]*]]: memref<?x4x2x32xbf16>, %[[IDX:[^:]*]]: memref<?xi32>, %[[PB:[^:]*]]: index, %[[S:[^:]*]]: index, %[[LEN:[^:]*]]: index
// CHECK: %[[N:.*]] = arith.subi %[[LEN]], %[[S]]
// CHECK: %[[M:.*]] = vector.create_mask %[[N]], %{{.*}} : vector<2x32xi1>
// CHECK: vector.transfer_read %[[K]][%[[S]], %{{.*}}, %{{.*}}], %{{.*}}, %[[M]] {in_bounds = [false, true], permutation_map = #{{.*}}} : memref<?x2x32xbf16>, vector<2x32xbf16>
// CHECK-COUNT-2: vector.load %[[P]]
// CHECK-NOT: attn.load_kv_tile
gpu.module @kernels {
  gpu.func @direct(%k: memref<?x2x32xbf16>, %p: memref<?x4x2x32xbf16>, %idx: memref<?xi32>, %pb: index, %s: index, %len: index, %o: memref<2x32xbf16>, %o2: memref<2x32xbf16>)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %t = attn.load_kv_tile %k[%c0, %s], %len : memref<?x2x32xbf16> -> vector<2x32xbf16>
    %u = attn.load_kv_tile %p[%c0, %s], %len pages(%idx[%pb] : memref<?xi32>) : memref<?x4x2x32xbf16> -> vector<2x32xbf16>
    vector.transfer_write %t, %o[%c0, %c0] {in_bounds = [true, true]} : vector<2x32xbf16>, memref<2x32xbf16>
    vector.transfer_write %u, %o2[%c0, %c0] {in_bounds = [true, true]} : vector<2x32xbf16>, memref<2x32xbf16>
    gpu.return
  }
}

// -----

// Fused RoPE, synchronous copies: the K tile's load carries rotary, so once
// both copies are published (the barrier after them) each of the first 32
// threads turns one 8-element run of the pairs (d, d + 16) of key row t / 2
// in the K buffer, at the key's position i + t / 2: angle = pos * 2^((d + j)
// * -2 log2(1e4) / 32) / 2 (-2 log2(1e4) / 32 = -0.83048..., 1 / scale =
// 0.5), (x, y) -> (x cos - y sin, y cos + x sin) in f32. A second barrier
// publishes the turned rows before the product reads them. The V buffer is
// neither read nor written by the rotation.

// CHECK-LABEL: gpu.func @rotate(
// CHECK-SAME: %[[K:[^:]*]]: memref<?x2x32xbf16>, %[[V:[^:]*]]: memref<?x2x16xbf16>, %{{[^:]*}}: memref<16x16xf32>, %{{[^:]*}}: index, %[[LEN:[^:]*]]: index)
// CHECK-SAME: workgroup(%[[KBUF:.*]] : memref<16x40xbf16, #gpu.address_space<workgroup>>, %[[VBUF:.*]] : memref<16x24xbf16, #gpu.address_space<workgroup>>)
// CHECK: scf.for %[[I:[^ ]*]] =
// CHECK: gpu.barrier
// CHECK: %[[KV:.*]] = vector.load %[[K]]
// CHECK: vector.store %{{.*}}, %[[KBUF]]
// CHECK: memref.store %{{.*}}, %[[VBUF]]
// CHECK: gpu.barrier
// CHECK-NOT: %[[VBUF]]
// CHECK: %[[OFFS:.*]] = arith.constant dense<[0.000000e+00, 1.000000e+00, {{.*}}, 7.000000e+00]> : vector<8xf32>
// CHECK: %[[T:.*]] = gpu.thread_id x
// CHECK: %[[LINEAR:.*]] = arith.addi %[[T]], %c0
// CHECK: %[[ACTIVE:.*]] = arith.cmpi ult, %[[LINEAR]], %c32
// CHECK-NEXT: scf.if %[[ACTIVE]] {
// CHECK: %[[ROW:.*]] = arith.divui %[[LINEAR]], %c2
// CHECK: %[[R2:.*]] = arith.remui %[[LINEAR]], %c2
// CHECK: %[[COL:.*]] = arith.muli %[[R2]], %c8
// CHECK: %[[PARTNER:.*]] = arith.addi %[[COL]], %c16
// CHECK: %[[X:.*]] = vector.load %[[KBUF]][%[[ROW]], %[[COL]]] {alignment = 16 : i64} : memref<16x40xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// CHECK: %[[Y:.*]] = vector.load %[[KBUF]][%[[ROW]], %[[PARTNER]]] {alignment = 16 : i64} : memref<16x40xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// CHECK: %[[XF:.*]] = arith.extf %[[X]] : vector<8xbf16> to vector<8xf32>
// CHECK: %[[YF:.*]] = arith.extf %[[Y]] : vector<8xbf16> to vector<8xf32>
// CHECK: %[[CI:.*]] = arith.index_castui %[[COL]] : index to i32
// CHECK: %[[CF:.*]] = arith.uitofp %[[CI]] : i32 to f32
// CHECK: %[[CB:.*]] = vector.broadcast %[[CF]] : f32 to vector<8xf32>
// CHECK: %[[PAIRS:.*]] = arith.addf %[[CB]], %[[OFFS]] : vector<8xf32>
// CHECK: %[[KEY:.*]] = arith.addi %[[I]], %[[ROW]] : index
// CHECK: %[[KI:.*]] = arith.index_castui %[[KEY]] : index to i32
// CHECK: %[[KF:.*]] = arith.uitofp %[[KI]] : i32 to f32
// CHECK: %[[POS:.*]] = vector.broadcast %[[KF]] : f32 to vector<8xf32>
// CHECK: %[[EXPO:.*]] = arith.constant dense<-8.30482{{[0-9]*}}e-01> : vector<8xf32>
// CHECK: %[[RSCALE:.*]] = arith.constant dense<5.000000e-01> : vector<8xf32>
// CHECK: %[[E:.*]] = arith.mulf %[[PAIRS]], %[[EXPO]] : vector<8xf32>
// CHECK: %[[F:.*]] = math.exp2 %[[E]] : vector<8xf32>
// CHECK: %[[FS:.*]] = arith.mulf %[[F]], %[[RSCALE]] : vector<8xf32>
// CHECK: %[[ANG:.*]] = arith.mulf %[[POS]], %[[FS]] : vector<8xf32>
// CHECK: %[[COS:.*]] = math.cos %[[ANG]] : vector<8xf32>
// CHECK: %[[SIN:.*]] = math.sin %[[ANG]] : vector<8xf32>
// CHECK: %[[XC:.*]] = arith.mulf %[[XF]], %[[COS]]
// CHECK: %[[YS:.*]] = arith.mulf %[[YF]], %[[SIN]]
// CHECK: %[[YC:.*]] = arith.mulf %[[YF]], %[[COS]]
// CHECK: %[[XS:.*]] = arith.mulf %[[XF]], %[[SIN]]
// CHECK: %[[XO:.*]] = arith.subf %[[XC]], %[[YS]]
// CHECK: %[[YO:.*]] = arith.addf %[[YC]], %[[XS]]
// CHECK: %[[XT:.*]] = arith.truncf %[[XO]] : vector<8xf32> to vector<8xbf16>
// CHECK: vector.store %[[XT]], %[[KBUF]][%[[ROW]], %[[COL]]] {alignment = 16 : i64}
// CHECK: %[[YT:.*]] = arith.truncf %[[YO]] : vector<8xf32> to vector<8xbf16>
// CHECK: vector.store %[[YT]], %[[KBUF]][%[[ROW]], %[[PARTNER]]] {alignment = 16 : i64}
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: math.cos
// CHECK: %[[KT:.*]] = vector.transfer_read %[[KBUF]]{{.*}} : memref<16x40xbf16, #gpu.address_space<workgroup>>, vector<16x32xbf16>
// CHECK: %[[VT:.*]] = vector.transfer_read %[[VBUF]]
// CHECK: vector.contract {{.*}} %[[KT]]
// CHECK: vector.contract {{.*}} %[[VT]]
// CHECK-NOT: attn.load_kv_tile
// CHECK-NOT: math.cos

#tile = affine_map<(d0, d1, d2) -> (d0, d2)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @rotate(%q: memref<?x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x16xbf16>, %o: memref<16x16xf32>, %end: index, %len: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = attn.load_kv_tile %k[%c0, %i], %len {rotary = #attn.rotary<theta = 10000.0, scale = 2.0>} : memref<?x2x32xbf16> -> vector<16x32xbf16>
      %vt = attn.load_kv_tile %v[%c0, %i], %len : memref<?x2x16xbf16> -> vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

// Fused RoPE with asynchronous copies (the kernel names mma.sync, as on
// sm_90a) and theta / scale known at launch: in the loop, after the wait
// and the barrier that publish K's copy (and after V's copy is issued into
// its own buffer), the K buffer is turned with -2 log2(theta) / 32 and
// 1 / scale computed from the operands, then one more barrier, then the
// product reads it. The next iteration's K copy is issued only after the
// barrier before V's use, when every thread has read the turned tile.

// CHECK-LABEL: gpu.func @rotate_async(
// CHECK-SAME: %[[K:[^:]*]]: memref<?x2x32xbf16>, %[[V:[^:]*]]: memref<?x2x16xbf16>, %{{[^:]*}}: memref<16x16xf32>, %[[END:[^:]*]]: index, %[[LEN:[^:]*]]: index, %[[THETA:[^:]*]]: f32, %[[SCALE:[^:]*]]: f32)
// CHECK-SAME: workgroup(%[[KBUF:.*]] : memref<16x40xbf16, #gpu.address_space<workgroup>>, %[[VBUF:.*]] : memref<16x24xbf16, #gpu.address_space<workgroup>>)
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy %[[K]][%{{.*}}], %[[KBUF]]
// CHECK-NOT: math.cos
// CHECK: scf.for %[[I:[^ ]*]] =
// CHECK: %[[G1:.*]] = nvgpu.device_async_create_group
// CHECK-NEXT: nvgpu.device_async_wait %[[G1]] {numGroups = 0 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.device_async_copy %[[V]][%{{.*}}], %[[VBUF]]
// CHECK-NOT: %[[VBUF]]
// CHECK: scf.if %{{.*}} {
// CHECK: %[[ROW:.*]] = arith.divui
// CHECK: %[[X:.*]] = vector.load %[[KBUF]][%[[ROW]], %[[COL:.*]]] {alignment = 16 : i64}
// CHECK: %[[Y:.*]] = vector.load %[[KBUF]][%[[ROW]], %[[PARTNER:.*]]] {alignment = 16 : i64}
// CHECK: %[[KEY:.*]] = arith.addi %[[I]], %[[ROW]] : index
// CHECK: %[[LOG:.*]] = math.log2 %[[THETA]] : f32
// CHECK: %[[FACTOR:.*]] = arith.constant -6.250000e-02 : f32
// CHECK: arith.mulf %[[LOG]], %[[FACTOR]] : f32
// CHECK: arith.divf %{{.*}}, %[[SCALE]] : f32
// CHECK: math.exp2
// CHECK: math.cos
// CHECK: math.sin
// CHECK: vector.store %{{.*}}, %[[KBUF]][%[[ROW]], %[[COL]]] {alignment = 16 : i64}
// CHECK: vector.store %{{.*}}, %[[KBUF]][%[[ROW]], %[[PARTNER]]] {alignment = 16 : i64}
// CHECK-NEXT: }
// CHECK-NEXT: gpu.barrier
// CHECK: %[[KT:.*]] = vector.transfer_read %[[KBUF]]
// CHECK: vector.contract {{.*}} %[[KT]]
// CHECK: %[[G2:.*]] = nvgpu.device_async_create_group
// CHECK-NEXT: nvgpu.device_async_wait %[[G2]] {numGroups = 0 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy %[[K]][%{{.*}}], %[[KBUF]]
// CHECK-NOT: math.cos
// CHECK: %[[VT:.*]] = vector.transfer_read %[[VBUF]]
// CHECK: vector.contract {{.*}} %[[VT]]
// CHECK-NOT: math.cos
// CHECK-NOT: attn.load_kv_tile

#tile = affine_map<(d0, d1, d2) -> (d0, d2)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @rotate_async(%q: memref<?x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x16xbf16>, %o: memref<16x16xf32>, %end: index, %len: index, %theta: f32, %scale: f32)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.bf16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = attn.load_kv_tile %k[%c0, %i], %len rotary_theta(%theta) rotary_scale(%scale) {rotary = #attn.rotary<theta = 10000.0, scale = 1.0>} : memref<?x2x32xbf16> -> vector<16x32xbf16>
      %vt = attn.load_kv_tile %v[%c0, %i], %len : memref<?x2x16xbf16> -> vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

// A rotated tile that is not staged (here it feeds no product in a loop)
// would be read unturned: an error.
gpu.module @kernels {
  gpu.func @rotated_unstaged(%k: memref<?x2x32xbf16>, %s: index, %len: index, %o: memref<2x32xbf16>)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    // expected-error-re @+1 {{attn-promote-to-workgroup-memory: a rotated tile (fused RoPE){{.*}} must be staged: it must feed one product, as its right-hand side, inside a loop}}
    %t = attn.load_kv_tile %k[%c0, %s], %len {rotary = #attn.rotary<theta = 10000.0, scale = 1.0>} : memref<?x2x32xbf16> -> vector<2x32xbf16>
    vector.transfer_write %t, %o[%c0, %c0] {in_bounds = [true, true]} : vector<2x32xbf16>, memref<2x32xbf16>
    gpu.return
  }
}

// -----

// Rows are turned where they lie in the buffer: a rotated tile staged
// transposed (V's place, B[k, n]) is an error.
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @rotated_transposed(%k: memref<?x2x32xbf16>, %v: memref<?x2x32xbf16>, %o: memref<16x32xf32>, %end: index, %len: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %qt = arith.constant dense<1.0> : vector<16x32xbf16>
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %zacc = arith.constant dense<0.0> : vector<16x32xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zacc) -> (vector<16x32xf32>) {
      %kt = attn.load_kv_tile %k[%c0, %i], %len : memref<?x2x32xbf16> -> vector<16x32xbf16>
      // expected-error @+1 {{attn-promote-to-workgroup-memory: a rotated tile must be the right-hand side of a product over its head dim}}
      %vt = attn.load_kv_tile %v[%c0, %i], %len {rotary = #attn.rotary<theta = 10000.0, scale = 1.0>} : memref<?x2x32xbf16> -> vector<16x32xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x32xbf16> into vector<16x32xf32>
      scf.yield %a : vector<16x32xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x32xf32>, memref<16x32xf32>
    gpu.return
  }
}

// -----

// fp8 K/V (an fp8 cache) on a target with asynchronous copies: a copy
// cannot widen, so the tiles take the synchronous path. Each thread reads
// 16 fp8 elements (16 bytes) of a row, widens them exactly in registers
// (attn::buildFloat8Extension: the magnitude bits in an f16, times 2^8) to
// the tile's bf16 and stores them: K as [16 keys][32 + 8] rows (32-byte
// chunks, stored 16-byte aligned), V transposed. 64 threads: K is 32 chunks
// (half a round), V 16.

// CHECK-LABEL: gpu.func @stage_fp8(
// CHECK-SAME: workgroup(%[[KBUF:.*]] : memref<16x40xbf16, #gpu.address_space<workgroup>>, %[[VBUF:.*]] : memref<16x24xbf16, #gpu.address_space<workgroup>>)
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: gpu.barrier
// CHECK: %[[KV:.*]] = vector.load %{{.*}} {alignment = 16 : i64} : memref<?x2x32xf8E4M3FN>, vector<16xf8E4M3FN>
// CHECK-NEXT: %[[BITS:.*]] = arith.bitcast %[[KV]] : vector<16xf8E4M3FN> to vector<16xi8>
// CHECK-NEXT: %[[WIDE:.*]] = arith.extui %[[BITS]] : vector<16xi8> to vector<16xi16>
// CHECK: %[[HALF:.*]] = arith.bitcast %{{.*}} : vector<16xi16> to vector<16xf16>
// CHECK: %[[VAL:.*]] = arith.mulf %[[HALF]], %{{.*}} : vector<16xf16>
// CHECK: %[[F32:.*]] = arith.extf %{{.*}} : vector<16xf16> to vector<16xf32>
// CHECK-NEXT: %[[BF:.*]] = arith.truncf %[[F32]] : vector<16xf32> to vector<16xbf16>
// CHECK-NEXT: vector.store %[[BF]], %[[KBUF]][%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<16x40xbf16, #gpu.address_space<workgroup>>, vector<16xbf16>
// CHECK: vector.load %{{.*}} : memref<?x2x16xf8E4M3FN>, vector<16xf8E4M3FN>
// CHECK: arith.select %{{.*}} : vector<16xi1>, vector<16xf16>
// CHECK: memref.store %{{.*}}, %[[VBUF]]
// CHECK: gpu.barrier
// CHECK: vector.transfer_read %[[KBUF]]
// CHECK: vector.transfer_read %[[VBUF]]
// CHECK-NOT: attn.load_kv_tile
gpu.module @kernels {
  gpu.func @stage_fp8(%q: memref<?x2x32xbf16>, %k: memref<?x2x32xf8E4M3FN>, %v: memref<?x2x16xf8E4M3FN>, %o: memref<16x16xf32>, %end: index, %len: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.bf16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = affine_map<(d0, d1, d2) -> (d0, d2)>} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = attn.load_kv_tile %k[%c0, %i], %len {in_bounds} : memref<?x2x32xf8E4M3FN> -> vector<16x32xbf16>
      %vt = attn.load_kv_tile %v[%c0, %i], %len : memref<?x2x16xf8E4M3FN> -> vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}
