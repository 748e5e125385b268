// REQUIRES: ptxas
// The decode pair (bf16, head dim 128, GQA 4) for sm_90a: ptxas accepts both
// kernels of the one PTX module, neither has a stack frame or spills, and
// the split kernel's shared memory is what the manifest declares.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t" -o /dev/null
// RUN: cat %t/decode_bf16_d128_g4_kernels.json > %t/log
// RUN: ptxas -arch=sm_90a -v %t/decode_bf16_d128_g4_kernels.ptx -o %t/decode.cubin >> %t/log 2>&1
// RUN: FileCheck %s < %t/log
// RUN: FileCheck %s --check-prefix=MERGE < %t/log

// Launch order: split kernel, then merge.
// CHECK: "name": "decode_bf16_d128_g4"
// CHECK: "static_shared_memory": [[#SHMEM:]]
// CHECK: "name": "decode_bf16_d128_g4_merge"
// CHECK: Compiling entry function 'decode_bf16_d128_g4' for 'sm_90a'
// CHECK-NEXT: Function properties for decode_bf16_d128_g4
// CHECK-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-NEXT: Used {{[0-9]+}} registers, used 1 barriers, [[#SHMEM]] bytes smem
// CHECK-NOT: warning

// MERGE: Compiling entry function 'decode_bf16_d128_g4_merge' for 'sm_90a'
// MERGE-NEXT: Function properties for decode_bf16_d128_g4_merge
// MERGE-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// MERGE-NEXT: Used {{[0-9]+}} registers, used 0 barriers

func.func @decode_bf16_d128_g4(%q: tensor<1x32x128xbf16>, %k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %o: tensor<1x32x128xbf16>, %lse: tensor<1x32xf32>) -> (tensor<1x32x128xbf16>, tensor<1x32xf32>) {
  %r:2 = attn.attention q(%q : tensor<1x32x128xbf16>) k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) outs(%o, %lse : tensor<1x32x128xbf16>, tensor<1x32xf32>) -> tensor<1x32x128xbf16>, tensor<1x32xf32>
  return %r#0, %r#1 : tensor<1x32x128xbf16>, tensor<1x32xf32>
}
