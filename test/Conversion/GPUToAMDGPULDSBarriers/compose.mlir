// RUN: flashinfer-opt %s --pass-pipeline='builtin.module(gpu.module(gpu-kernel-args-to-amdgpu-buffers,gpu-barriers-to-amdgpu-lds-barriers))' | FileCheck %s
// RUN: flashinfer-opt %s --pass-pipeline='builtin.module(gpu.module(gpu-kernel-args-to-amdgpu-buffers,gpu-barriers-to-amdgpu-lds-barriers),convert-amdgpu-to-rocdl{chipset=gfx942},gpu.module(convert-gpu-to-rocdl{chipset=gfx942}))' | FileCheck %s --check-prefix=ROCDL

// In the AMD pipeline the pass runs after gpu-kernel-args-to-amdgpu-buffers,
// in the same gpu.module nest: a store through a fat_raw_buffer memref is a
// global store. The rewritten barrier lowers to LDS-only fences around
// s_barrier (the mmra tag restricts them to the local address space); the
// kept one to rocdl.barrier, whose fences cover all memory.

// CHECK-LABEL: gpu.func @stage_then_store
// CHECK: amdgpu.lds_barrier
// CHECK-NEXT: vector.load %{{.*}} : memref<64xf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: vector.store %{{.*}} : memref<?xf16, #amdgpu.address_space<fat_raw_buffer>>

// ROCDL: #[[TAG:.*]] = #llvm.mmra_tag<"amdgpu-synchronize-as":"local">
// ROCDL-LABEL: llvm.func @stage_then_store
// ROCDL: llvm.fence syncscope("workgroup") release {llvm.mmra = #[[TAG]]}
// ROCDL-NEXT: rocdl.s.barrier
// ROCDL-NEXT: llvm.fence syncscope("workgroup") acquire {llvm.mmra = #[[TAG]]}
// ROCDL: rocdl.barrier
// ROCDL-NOT: llvm.fence
// ROCDL: llvm.return
gpu.module @kernels {
  gpu.func @stage_then_store(%in: memref<?xf16>, %out: memref<?xf16>)
      workgroup(%tile: memref<64xf16, #gpu.address_space<workgroup>>) kernel {
    %c0 = arith.constant 0 : index
    %tid = gpu.thread_id x
    %x = vector.load %in[%tid] : memref<?xf16>, vector<8xf16>
    vector.store %x, %tile[%tid] : memref<64xf16, #gpu.address_space<workgroup>>, vector<8xf16>
    gpu.barrier
    %y = vector.load %tile[%c0] : memref<64xf16, #gpu.address_space<workgroup>>, vector<8xf16>
    gpu.barrier
    vector.store %y, %out[%tid] : memref<?xf16>, vector<8xf16>
    gpu.return
  }
}
