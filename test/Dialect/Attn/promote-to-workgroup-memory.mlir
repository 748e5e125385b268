// RUN: flashinfer-opt %s --pass-pipeline='builtin.module(gpu.module(attn-promote-to-workgroup-memory))' -split-input-file -verify-diagnostics | FileCheck %s

// The right-hand sides of the contractions (K, V) are staged in workgroup
// memory: one buffer each, [16 keys][32 + 8] for K (its reduction dim, d,
// already innermost) and [16 dv][16 + 8] for V (stored transposed, so that
// keys are innermost), shared by both loops. The left-hand side (Q) stays a
// global read. 64 threads copy 16-byte chunks: K takes one round, V (32
// chunks) half a round.

// CHECK-LABEL: gpu.func @stage(
// CHECK-SAME: %[[Q:[^:]*]]: memref<?x2x32xbf16>, %[[K:[^:]*]]: memref<?x2x32xbf16>, %[[V:[^:]*]]: memref<?x2x16xbf16>
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
// V: the read may run past the end: clamp the key, keep the padding.
// CHECK: %[[LEN:.*]] = memref.dim %[[V]], %{{.*}}
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
// CHECK-NOT: vector.transfer_read %[[K]]
// CHECK-NOT: vector.transfer_read %[[V]]

#tile = affine_map<(d0, d1, d2) -> (d0, d2)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @stage(%q: memref<?x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x16xbf16>, %o: memref<16x16xf32>, %end: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      // Rows of one wave: the left-hand side stays a global read.
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = vector.transfer_read %k[%i, %c0, %c0], %pad {in_bounds = [true, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %c0_v = arith.constant 0 : index
      %vt = vector.transfer_read %v[%i, %c0_v, %c0_v], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x16xbf16>, vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    // A second loop reuses the K buffer.
    %r2 = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %r) -> (vector<16x16xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = vector.transfer_read %k[%i, %c0, %c0], %pad {in_bounds = [true, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
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
// CHECK-SAME: %[[Q:[^:]*]]: memref<?x2x32xbf16>, %[[K:[^:]*]]: memref<?x2x32xbf16>, %[[V:[^:]*]]: memref<?x2x16xbf16>, %{{[^:]*}}: memref<16x16xf32>, %[[END:[^:]*]]: index)
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
// CHECK: %[[VLEN:.*]] = memref.dim %[[V]]
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
  gpu.func @stage(%q: memref<?x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x16xbf16>, %o: memref<16x16xf32>, %end: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.bf16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      // Rows of one wave: the left-hand side stays a global read.
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = vector.transfer_read %k[%i, %c0, %c0], %pad {in_bounds = [true, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %c0_v = arith.constant 0 : index
      %vt = vector.transfer_read %v[%i, %c0_v, %c0_v], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x16xbf16>, vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    // A second loop reuses the K buffer.
    %r2 = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %r) -> (vector<16x16xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = vector.transfer_read %k[%i, %c0, %c0], %pad {in_bounds = [true, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
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
// built (a 2^31 x 2^31 tile exhausted memory).
#tile = affine_map<(d0, d1, d2) -> (d0, d2)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @huge_tile(%q: memref<?x2x32xbf16>, %k: memref<?x2x32xbf16>, %o: memref<16x2048xf32>, %end: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x2048xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x2048xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      // expected-error @+1 {{attn-promote-to-workgroup-memory: tile 'vector<2048x32xbf16>' exceeds 1024 in a dimension}}
      %kt = vector.transfer_read %k[%i, %c0, %c0], %pad {in_bounds = [true, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<2048x32xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %acc : vector<16x32xbf16>, vector<2048x32xbf16> into vector<16x2048xf32>
      scf.yield %s : vector<16x2048xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x2048xf32>, memref<16x2048xf32>
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
  gpu.func @late_index(%q: memref<?x2x32xbf16>, %k: memref<?x2x32xbf16>, %v: memref<?x2x16xbf16>, %o: memref<16x16xf32>, %end: index)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : bf16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %r = scf.for %i = %c0 to %end step %c16 iter_args(%acc = %zero) -> (vector<16x16xf32>) {
      %qt = vector.transfer_read %q[%c0, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      %kt = vector.transfer_read %k[%i, %c0, %c0], %pad {in_bounds = [true, true], permutation_map = #tile} : memref<?x2x32xbf16>, vector<16x32xbf16>
      // V's tile starts at a key computed after K's read: the copies, which
      // go before the first staged read, cannot know it.
      %j = arith.addi %i, %c16 : index
      // expected-error @+1 {{attn-promote-to-workgroup-memory: the tile's indices must be known before the first read staged in this loop}}
      %vt = vector.transfer_read %v[%j, %c0, %c0], %pad {in_bounds = [false, true], permutation_map = #tile} : memref<?x2x16xbf16>, vector<16x16xbf16>
      %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xbf16>, vector<16x32xbf16> into vector<16x16xf32>
      %p = arith.truncf %s : vector<16x16xf32> to vector<16x16xbf16>
      %a = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %p, %vt, %acc : vector<16x16xbf16>, vector<16x16xbf16> into vector<16x16xf32>
      scf.yield %a : vector<16x16xf32>
    }
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}
