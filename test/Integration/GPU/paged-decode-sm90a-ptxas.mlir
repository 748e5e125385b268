// REQUIRES: ptxas
// Paged batch decode (bf16, head dim 128, GQA 4, page size 16, nhd) for sm_90a: ptxas accepts both
// kernels of the one PTX module, neither has a stack frame or spills, and
// the split kernel's shared memory is what the manifest declares.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t" -o /dev/null
// RUN: cat %t/paged_decode_kernels.json > %t/log
// RUN: ptxas -arch=sm_90a -v %t/paged_decode_kernels.ptx -o %t/decode.cubin >> %t/log 2>&1
// RUN: FileCheck %s < %t/log
// RUN: FileCheck %s --check-prefix=MERGE < %t/log

// Launch order: split kernel, then merge.
// CHECK: "name": "paged_decode"
// CHECK: "static_shared_memory": [[#SHMEM:]]
// CHECK: "name": "paged_decode_merge"
// CHECK: Compiling entry function 'paged_decode' for 'sm_90a'
// CHECK-NEXT: Function properties for paged_decode
// CHECK-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-NEXT: Used {{[0-9]+}} registers, used 1 barriers, [[#SHMEM]] bytes smem
// CHECK-NOT: warning

// MERGE: Compiling entry function 'paged_decode_merge' for 'sm_90a'
// MERGE-NEXT: Function properties for paged_decode_merge
// MERGE-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// MERGE-NEXT: Used {{[0-9]+}} registers, used 0 barriers

func.func @paged_decode(%q: tensor<?x32x128xbf16>, %kc: tensor<?x16x8x128xbf16>, %vc: tensor<?x16x8x128xbf16>,
    %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x32x128xbf16>, %lse: tensor<?x32xf32>)
    -> (tensor<?x32x128xbf16>, tensor<?x32xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x16x8x128xbf16>) v_cache(%vc : tensor<?x16x8x128xbf16>)
      kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>)
      outs(%o, %lse : tensor<?x32x128xbf16>, tensor<?x32xf32>) -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
}
