// REQUIRES: ptxas
// ptxas accepts the generated PTX for sm_90a and the kernels keep everything
// in registers: no stack frame and no spills, for head dims 64 and 128. The
// shared memory ptxas allocates is what the manifest declares.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t" -o /dev/null
// RUN: cat %t/attn_f16_d64_kernels.json > %t/d64.log
// RUN: ptxas -arch=sm_90a -v %t/attn_f16_d64_kernels.ptx -o %t/d64.cubin >> %t/d64.log 2>&1
// RUN: FileCheck %s --check-prefixes=CHECK,D64 < %t/d64.log
// RUN: cat %t/attn_f16_d128_kernels.json > %t/d128.log
// RUN: ptxas -arch=sm_90a -v %t/attn_f16_d128_kernels.ptx -o %t/d128.cubin >> %t/d128.log 2>&1
// RUN: FileCheck %s --check-prefixes=CHECK,D128 < %t/d128.log

// CHECK: "static_shared_memory": [[#SHMEM:]]
// D64: Compiling entry function 'attn_f16_d64' for 'sm_90a'
// D128: Compiling entry function 'attn_f16_d128' for 'sm_90a'
// CHECK-NEXT: Function properties for attn_f16_d{{64|128}}
// CHECK-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// The register count is printed for the log; 255 is the hardware limit.
// CHECK-NEXT: Used {{[0-9]+}} registers, used 1 barriers, [[#SHMEM]] bytes smem
// CHECK-NOT: warning

func.func @attn_f16_d64(%q: tensor<?x32x64xf16>, %k: tensor<?x8x64xf16>, %v: tensor<?x8x64xf16>, %o: tensor<?x32x64xf16>, %lse: tensor<?x32xf32>) -> (tensor<?x32x64xf16>, tensor<?x32xf32>) {
  %r:2 = attn.attention q(%q : tensor<?x32x64xf16>) k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x64xf16>) outs(%o, %lse : tensor<?x32x64xf16>, tensor<?x32xf32>) -> tensor<?x32x64xf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x64xf16>, tensor<?x32xf32>
}

func.func @attn_f16_d128(%q: tensor<?x32x128xf16>, %k: tensor<?x8x128xf16>, %v: tensor<?x8x128xf16>, %o: tensor<?x32x128xf16>, %lse: tensor<?x32xf32>) -> (tensor<?x32x128xf16>, tensor<?x32xf32>) {
  %r:2 = attn.attention q(%q : tensor<?x32x128xf16>) k(%k : tensor<?x8x128xf16>) v(%v : tensor<?x8x128xf16>) outs(%o, %lse : tensor<?x32x128xf16>, tensor<?x32xf32>) attributes {causal} -> tensor<?x32x128xf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x128xf16>, tensor<?x32xf32>
}
