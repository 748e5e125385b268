// RUN: flashinfer-opt %s --pass-pipeline='builtin.module(gpu.module(gpu-kernel-args-to-amdgpu-buffers))' | FileCheck %s

// Global memref arguments of kernels, strided views with static or dynamic
// strides among them, are read and written through buffer descriptors;
// workgroup memory, layouts that are not strided, non-kernel functions and
// unused arguments are left alone.

// CHECK-LABEL: gpu.func @kernel
// CHECK-SAME: (%[[A:.*]]: memref<?x8x64xf16>, %[[B:.*]]: memref<4xf32, #gpu.address_space<global>>, %[[S:.*]]: memref<4xf32, strided<[2]>>, %[[D:.*]]: memref<?x8x64xf16, strided<[?, ?, 1]>>, %[[M:.*]]: memref<4xf32, #{{.*}}>, %[[U:.*]]: memref<4xf32>)
// CHECK-NEXT: %[[FA:.*]] = amdgpu.fat_raw_buffer_cast %[[A]] resetOffset : memref<?x8x64xf16> to memref<?x8x64xf16, #amdgpu.address_space<fat_raw_buffer>>
// CHECK-NEXT: %[[FB:.*]] = amdgpu.fat_raw_buffer_cast %[[B]] resetOffset : memref<4xf32, #gpu.address_space<global>> to memref<4xf32, #amdgpu.address_space<fat_raw_buffer>>
// CHECK-NEXT: %[[FS:.*]] = amdgpu.fat_raw_buffer_cast %[[S]] resetOffset : memref<4xf32, strided<[2]>> to memref<4xf32, strided<[2]>, #amdgpu.address_space<fat_raw_buffer>>
// CHECK-NEXT: %[[FD:.*]] = amdgpu.fat_raw_buffer_cast %[[D]] resetOffset : memref<?x8x64xf16, strided<[?, ?, 1]>> to memref<?x8x64xf16, strided<[?, ?, 1]>, #amdgpu.address_space<fat_raw_buffer>>
// CHECK-NOT: amdgpu.fat_raw_buffer_cast
// CHECK: vector.load %[[FA]]
// CHECK: memref.load %[[FB]]
// CHECK: memref.load %[[FS]]
// CHECK: vector.load %[[FD]]
// CHECK: memref.load %[[M]]
// CHECK: memref.store %{{.*}}, %[[FB]]
// CHECK-LABEL: gpu.func @helper
// CHECK-NOT: amdgpu.fat_raw_buffer_cast
gpu.module @m {
  gpu.func @kernel(%a: memref<?x8x64xf16>, %b: memref<4xf32, #gpu.address_space<global>>,
                   %s: memref<4xf32, strided<[2]>>,
                   %d: memref<?x8x64xf16, strided<[?, ?, 1]>>,
                   %m: memref<4xf32, affine_map<(d0) -> (d0 floordiv 2)>>,
                   %unused: memref<4xf32>)
      workgroup(%w: memref<16xf32, #gpu.address_space<workgroup>>) kernel {
    %c0 = arith.constant 0 : index
    %v = vector.load %a[%c0, %c0, %c0] : memref<?x8x64xf16>, vector<8xf16>
    %x = memref.load %b[%c0] : memref<4xf32, #gpu.address_space<global>>
    %y = memref.load %s[%c0] : memref<4xf32, strided<[2]>>
    %e = vector.load %d[%c0, %c0, %c0] : memref<?x8x64xf16, strided<[?, ?, 1]>>, vector<8xf16>
    %n = memref.load %m[%c0] : memref<4xf32, affine_map<(d0) -> (d0 floordiv 2)>>
    %z = arith.addf %x, %y : f32
    %z2 = arith.addf %z, %n : f32
    memref.store %z2, %b[%c0] : memref<4xf32, #gpu.address_space<global>>
    memref.store %z, %w[%c0] : memref<16xf32, #gpu.address_space<workgroup>>
    gpu.return
  }
  gpu.func @helper(%a: memref<4xf32>) {
    %c0 = arith.constant 0 : index
    %x = memref.load %a[%c0] : memref<4xf32>
    gpu.return
  }
}

// A view of an argument (a ragged request's rows), and a view of that view,
// read through the argument's descriptor.
// CHECK-LABEL: gpu.func @views
// CHECK: %[[F:.*]] = amdgpu.fat_raw_buffer_cast %{{.*}} resetOffset
// CHECK: %[[V:.*]] = memref.subview %[[F]][%{{.*}}, 0, 0] [%{{.*}}, 8, 64] [1, 1, 1] : memref<?x8x64xf16, strided<[?, ?, 1]>, #amdgpu.address_space<fat_raw_buffer>> to memref<?x8x64xf16, strided<[?, ?, 1], offset: ?>, #amdgpu.address_space<fat_raw_buffer>>
// CHECK: %[[W:.*]] = memref.subview %[[V]][1, 0, 0] [1, 8, 64] [1, 1, 1] : memref<?x8x64xf16, strided<[?, ?, 1], offset: ?>, #amdgpu.address_space<fat_raw_buffer>> to memref<1x8x64xf16, strided<[?, ?, 1], offset: ?>, #amdgpu.address_space<fat_raw_buffer>>
// CHECK: vector.load %[[W]]
gpu.module @ragged {
  gpu.func @views(%k: memref<?x8x64xf16, strided<[?, ?, 1]>>, %begin: index, %len: index) kernel {
    %c0 = arith.constant 0 : index
    %rows = memref.subview %k[%begin, 0, 0] [%len, 8, 64] [1, 1, 1] : memref<?x8x64xf16, strided<[?, ?, 1]>> to memref<?x8x64xf16, strided<[?, ?, 1], offset: ?>>
    %row = memref.subview %rows[1, 0, 0] [1, 8, 64] [1, 1, 1] : memref<?x8x64xf16, strided<[?, ?, 1], offset: ?>> to memref<1x8x64xf16, strided<[?, ?, 1], offset: ?>>
    %x = vector.load %row[%c0, %c0, %c0] : memref<1x8x64xf16, strided<[?, ?, 1], offset: ?>>, vector<8xf16>
    vector.store %x, %k[%c0, %c0, %c0] : memref<?x8x64xf16, strided<[?, ?, 1]>>, vector<8xf16>
    gpu.return
  }
}
