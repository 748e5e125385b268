// RUN: flashinfer-opt %s --pass-pipeline='builtin.module(gpu.module(gpu-barriers-to-amdgpu-lds-barriers))' | FileCheck %s

// A kernel barrier becomes amdgpu.lds_barrier when no write to memory outside
// the workgroup can run between it and the barrier (or kernel entry) before
// it, nor between it and the barrier (or return) after it.

// The attention key loop: the barrier at the top of the loop only separates
// the previous tile's LDS reads from the next tile's LDS writes; the one in
// the middle is kept because the loop can exit to the global store of %o.
// CHECK-LABEL: gpu.func @key_loop
// CHECK: scf.for
// CHECK-NEXT: amdgpu.lds_barrier
// CHECK-NEXT: arith.addi
// CHECK-NEXT: memref.load %{{.*}} : memref<?xf16>
// CHECK-NEXT: memref.store %{{.*}} : memref<64xf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: barrier
// CHECK: gpu.return
gpu.module @kernels {
  gpu.func @key_loop(%k: memref<?xf16>, %o: memref<256xf16>, %n: index)
      workgroup(%tile: memref<64xf16, #gpu.address_space<workgroup>>) kernel {
    %c0 = arith.constant 0 : index
    %c64 = arith.constant 64 : index
    %zero = arith.constant 0.0 : f16
    %tid = gpu.thread_id x
    %lane = arith.remui %tid, %c64 : index
    %acc = scf.for %i = %c0 to %n step %c64 iter_args(%a = %zero) -> f16 {
      gpu.barrier
      %row = arith.addi %i, %lane : index
      %x = memref.load %k[%row] : memref<?xf16>
      memref.store %x, %tile[%lane] : memref<64xf16, #gpu.address_space<workgroup>>
      gpu.barrier
      %y = memref.load %tile[%c0] : memref<64xf16, #gpu.address_space<workgroup>>
      %s = arith.addf %a, %y : f16
      scf.yield %s : f16
    }
    memref.store %acc, %o[%tid] : memref<256xf16>
    gpu.return
  }

  // A global store between two barriers keeps both of them; the barriers
  // further away are rewritten. Stores to private memory never count.
  // CHECK-LABEL: gpu.func @store_between
  // CHECK: amdgpu.lds_barrier
  // CHECK-NEXT: memref.store %{{.*}} : memref<64xf32, #gpu.address_space<workgroup>>
  // CHECK-NEXT: gpu.barrier
  // CHECK-NEXT: memref.store %{{.*}} : memref<256xf32>
  // CHECK-NEXT: gpu.barrier
  // CHECK-NEXT: memref.load
  // CHECK-NEXT: memref.store %{{.*}} : memref<4xf32, #gpu.address_space<private>>
  // CHECK-NEXT: amdgpu.lds_barrier
  // CHECK-NEXT: memref.store %{{.*}} : memref<64xf32, #gpu.address_space<workgroup>>
  // CHECK-NEXT: gpu.return
  gpu.func @store_between(%g: memref<256xf32>, %x: f32)
      workgroup(%w: memref<64xf32, #gpu.address_space<workgroup>>)
      private(%p: memref<4xf32, #gpu.address_space<private>>) kernel {
    %c0 = arith.constant 0 : index
    %v = memref.load %g[%c0] : memref<256xf32>
    gpu.barrier
    memref.store %v, %w[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    memref.store %x, %g[%c0] : memref<256xf32>
    gpu.barrier
    %y = memref.load %w[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    memref.store %y, %p[%c0] : memref<4xf32, #gpu.address_space<private>>
    gpu.barrier
    memref.store %x, %w[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    gpu.return
  }

  // Loop-carried: in the first loop the global store at the end of one
  // iteration runs before the barrier at the top of the next, so both
  // barriers are kept. In the second loop the store in the scf.if keeps the
  // barriers on both sides of it, and the last barrier of the previous
  // iteration separates it from the top one, which is rewritten.
  // CHECK-LABEL: gpu.func @loop_carried
  // CHECK: scf.for
  // CHECK-NEXT: gpu.barrier
  // CHECK-NEXT: memref.store
  // CHECK-NEXT: gpu.barrier
  // CHECK: scf.for
  // CHECK-NEXT: amdgpu.lds_barrier
  // CHECK-NEXT: memref.store
  // CHECK-NEXT: gpu.barrier
  // CHECK-NEXT: scf.if
  gpu.func @loop_carried(%g: memref<256xf32>, %x: f32, %n: index, %c: i1)
      workgroup(%w: memref<64xf32, #gpu.address_space<workgroup>>) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    scf.for %i = %c0 to %n step %c1 {
      gpu.barrier
      memref.store %x, %w[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      memref.store %x, %g[%i] : memref<256xf32>
    }
    gpu.barrier
    scf.for %i = %c0 to %n step %c1 {
      gpu.barrier
      memref.store %x, %w[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      scf.if %c {
        memref.store %x, %g[%i] : memref<256xf32>
      }
      gpu.barrier
    }
    gpu.return
  }

  // A loop made of blocks: over the back edge, the global store at the end
  // of the body precedes the first barrier, which is kept like the last
  // one; the middle barrier only separates LDS accesses.
  // CHECK-LABEL: gpu.func @blocks
  // CHECK: ^bb2:
  // CHECK-NEXT: gpu.barrier
  // CHECK-NEXT: memref.store %{{.*}} : memref<64xf32, #gpu.address_space<workgroup>>
  // CHECK-NEXT: amdgpu.lds_barrier
  // CHECK-NEXT: memref.load
  // CHECK-NEXT: gpu.barrier
  // CHECK-NEXT: memref.store %{{.*}} : memref<256xf32>
  gpu.func @blocks(%g: memref<256xf32>, %x: f32, %n: index)
      workgroup(%w: memref<64xf32, #gpu.address_space<workgroup>>) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    cf.br ^bb1(%c0 : index)
  ^bb1(%i: index):
    %more = arith.cmpi slt, %i, %n : index
    cf.cond_br %more, ^bb2, ^bb3
  ^bb2:
    gpu.barrier
    memref.store %x, %w[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %y = memref.load %w[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    memref.store %y, %g[%i] : memref<256xf32>
    %next = arith.addi %i, %c1 : index
    cf.br ^bb1(%next : index)
  ^bb3:
    gpu.return
  }

  // scf.while and scf.execute_region are followed through their regions; a
  // global atomic, here an op whose region is not control flow, is a write.
  // CHECK-LABEL: gpu.func @while_and_atomic
  // CHECK: scf.while
  // CHECK-NEXT: amdgpu.lds_barrier
  // CHECK: } do {
  // CHECK: amdgpu.lds_barrier
  // CHECK: gpu.barrier
  // CHECK-NEXT: memref.generic_atomic_rmw
  // CHECK: gpu.barrier
  // CHECK-NEXT: scf.execute_region
  // CHECK-NEXT: amdgpu.lds_barrier
  gpu.func @while_and_atomic(%g: memref<16xf32>, %x: f32, %n: index)
      workgroup(%w: memref<16xf32, #gpu.address_space<workgroup>>) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %r = scf.while (%i = %c0) : (index) -> index {
      gpu.barrier
      %lt = arith.cmpi slt, %i, %n : index
      scf.condition(%lt) %i : index
    } do {
    ^bb0(%i: index):
      memref.store %x, %w[%c0] : memref<16xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %next = arith.addi %i, %c1 : index
      scf.yield %next : index
    }
    gpu.barrier
    %v = memref.generic_atomic_rmw %g[%c0] : memref<16xf32> {
    ^bb0(%cur: f32):
      %s = arith.addf %cur, %x : f32
      memref.atomic_yield %s : f32
    }
    gpu.barrier
    scf.execute_region {
      gpu.barrier
      cf.br ^bb1
    ^bb1:
      memref.store %x, %w[%c0] : memref<16xf32, #gpu.address_space<workgroup>>
      scf.yield
    }
    gpu.return
  }

  // Operations with unknown effects (here a call) count as global writes.
  // CHECK-LABEL: gpu.func @unknown_effects
  // CHECK: gpu.barrier
  // CHECK-NEXT: func.call @opaque()
  // CHECK-NEXT: gpu.barrier
  // CHECK-NEXT: amdgpu.lds_barrier
  gpu.func @unknown_effects() kernel {
    gpu.barrier
    func.call @opaque() : () -> ()
    gpu.barrier
    gpu.barrier
    gpu.return
  }
  func.func private @opaque()

  // A barrier carrying an attribute is left alone.
  // CHECK-LABEL: gpu.func @attributed
  // CHECK-NEXT: gpu.barrier {keep}
  // CHECK-NEXT: amdgpu.lds_barrier
  gpu.func @attributed() kernel {
    gpu.barrier {keep}
    gpu.barrier
    gpu.return
  }

  // Barriers outside kernels are left alone.
  // CHECK-LABEL: gpu.func @helper
  // CHECK-NEXT: gpu.barrier
  // CHECK-NOT: amdgpu.lds_barrier
  gpu.func @helper() {
    gpu.barrier
    gpu.return
  }
}

// Every gpu.module is processed.
// CHECK-LABEL: gpu.module @other
// CHECK: amdgpu.lds_barrier
gpu.module @other {
  gpu.func @k() kernel {
    gpu.barrier
    gpu.return
  }
}
