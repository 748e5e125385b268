// REQUIRES: ptxas
// attn.append_paged_kv for sm_90a (the IR of append-paged-kv-gfx942.mlir):
// ptxas accepts it, with 16-byte global loads and stores and no stack.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX < %t/append_kv_kernels.ptx
// RUN: ptxas -arch=sm_90a -v %t/append_kv_kernels.ptx -o %t/append.cubin 2>&1 | FileCheck %s

// PTX: ld.global.v4.b32
// PTX: st.global.v4.b32

// CHECK: Compiling entry function 'append_kv' for 'sm_90a'
// CHECK-NEXT: Function properties for append_kv
// CHECK-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

func.func @append_kv(%k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %b: tensor<?xi32>, %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>, %kc: tensor<?x?x8x128xbf16>, %vc: tensor<?x?x8x128xbf16>) -> (tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>) {
  %r:2 = attn.append_paged_kv k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>) outs(%kc, %vc : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>
  return %r#0, %r#1 : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>
}
