// REQUIRES: ptxas
// Batch prefill for sm_90a, over a paged cache and over ragged K/V (the IR
// of batch-prefill-gfx942.mlir): ptxas accepts both kernels, neither has a
// stack frame or spills, and their shared memory is what the manifests
// declare.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t" -o /dev/null
// RUN: cat %t/paged_prefill_kernels.json > %t/log
// RUN: ptxas -arch=sm_90a -v %t/paged_prefill_kernels.ptx -o %t/paged.cubin >> %t/log 2>&1
// RUN: FileCheck %s --check-prefix=PAGED < %t/log
// RUN: cat %t/ragged_prefill_kernels.json > %t/log2
// RUN: ptxas -arch=sm_90a -v %t/ragged_prefill_kernels.ptx -o %t/ragged.cubin >> %t/log2 2>&1
// RUN: FileCheck %s --check-prefix=RAGGED < %t/log2

// PAGED: "static_shared_memory": [[#SHMEM:]]
// PAGED: Compiling entry function 'paged_prefill' for 'sm_90a'
// PAGED-NEXT: Function properties for paged_prefill
// PAGED-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PAGED-NEXT: Used {{[0-9]+}} registers, used 1 barriers, [[#SHMEM]] bytes smem
// PAGED-NOT: warning

// RAGGED: "static_shared_memory": [[#SHMEM:]]
// RAGGED: Compiling entry function 'ragged_prefill' for 'sm_90a'
// RAGGED-NEXT: Function properties for ragged_prefill
// RAGGED-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// RAGGED-NEXT: Used {{[0-9]+}} registers, used 1 barriers, [[#SHMEM]] bytes smem
// RAGGED-NOT: warning

func.func @paged_prefill(%q: tensor<?x32x128xbf16>, %kc: tensor<?x16x8x128xbf16>, %vc: tensor<?x16x8x128xbf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %qo: tensor<?xi32>, %o: tensor<?x32x128xbf16>, %lse: tensor<?x32xf32>) -> (tensor<?x32x128xbf16>, tensor<?x32xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x16x8x128xbf16>) v_cache(%vc : tensor<?x16x8x128xbf16>)
      kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) qo_indptr(%qo : tensor<?xi32>)
      outs(%o, %lse : tensor<?x32x128xbf16>, tensor<?x32xf32>) attributes {causal} -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
}
func.func @ragged_prefill(%q: tensor<?x32x128xf16>, %k: tensor<?x8x128xf16>, %v: tensor<?x8x128xf16>, %qo: tensor<?xi32>, %kv: tensor<?xi32>, %o: tensor<?x32x128xf16>) -> tensor<?x32x128xf16> {
  %r = attn.attention q(%q : tensor<?x32x128xf16>) k(%k : tensor<?x8x128xf16>) v(%v : tensor<?x8x128xf16>) qo_indptr(%qo : tensor<?xi32>) kv_indptr(%kv : tensor<?xi32>)
      outs(%o : tensor<?x32x128xf16>) attributes {causal} -> tensor<?x32x128xf16>
  return %r : tensor<?x32x128xf16>
}
