// With head dim 16 a K or V tile has fewer 16-byte chunks (64 keys x 2) than
// the workgroup has threads (8 waves x 32), so the staging copy must guard
// its only round; the usual shapes divide evenly and carry no guard. Both
// forms of the copy: asynchronous (sm_90a) and through registers (gfx942).
// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=sm_90a},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory,attn-distribute-to-matrix-instructions))" | FileCheck %s --check-prefixes=CHECK,ASYNC
// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=gfx942},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory,attn-distribute-to-matrix-instructions))" | FileCheck %s --check-prefixes=CHECK,SYNC

// CHECK-LABEL: gpu.func @attn_h16
// SYNC: gpu.barrier
// CHECK: %[[IN:.*]] = arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK-NEXT: scf.if %[[IN]] {
// ASYNC: nvgpu.device_async_copy %{{.*}} {bypassL1} : memref<?x4x16xf16, strided<[?, ?, 1]>> to memref<64x24xf16, #gpu.address_space<workgroup>>
// SYNC: vector.load %{{.*}} {alignment = 16 : i64} : memref<?x4x16xf16, strided<[?, ?, 1]>>, vector<8xf16>
// SYNC: vector.store
// CHECK-LABEL: gpu.func @attn_h64
// CHECK-NOT: arith.cmpi ult
// CHECK: gpu.return
func.func @attn_h16(%q: tensor<?x4x16xf16>, %k: tensor<?x4x16xf16>, %v: tensor<?x4x16xf16>, %o: tensor<?x4x16xf16>) -> tensor<?x4x16xf16> {
  %r = attn.attention q(%q : tensor<?x4x16xf16>) k(%k : tensor<?x4x16xf16>) v(%v : tensor<?x4x16xf16>) outs(%o : tensor<?x4x16xf16>) -> tensor<?x4x16xf16>
  return %r : tensor<?x4x16xf16>
}
func.func @attn_h64(%q: tensor<?x4x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %o: tensor<?x4x64xf16>) -> tensor<?x4x64xf16> {
  %r = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) outs(%o : tensor<?x4x64xf16>) -> tensor<?x4x64xf16>
  return %r : tensor<?x4x64xf16>
}
