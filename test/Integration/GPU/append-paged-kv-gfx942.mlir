// REQUIRES: lld
// attn.append_paged_kv for gfx942 and gfx950 (bf16, 8 KV heads, head dim
// 128, any page size, nhd): every global access goes through buffer
// descriptors, 16-byte loads and stores, no scratch.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx942 %t/append_kv_kernels.hsaco | FileCheck %s --check-prefix=ASM
// RUN: llvm-readelf --notes %t/append_kv_kernels.hsaco | FileCheck %s --check-prefix=NOTES
// RUN: rm -rf %t.950 && flashinfer-opt %s --attn-compile="chip=gfx950 o-dir=%t.950" -o /dev/null
// RUN: llvm-readelf --notes %t.950/append_kv_kernels.hsaco | FileCheck %s --check-prefix=GFX950

// ASM: <append_kv>:
// ASM-NOT: {{flat_|global_}}
// ASM: buffer_load_dwordx4
// ASM: buffer_store_dwordx4
// ASM: s_endpgm

// NOTES: .name: append_kv{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0

// GFX950: .name: append_kv{{$}}
// GFX950: .private_segment_fixed_size: 0
// GFX950: amdhsa.target: amdgcn-amd-amdhsa--gfx950

func.func @append_kv(%k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %b: tensor<?xi32>, %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>, %kc: tensor<?x?x8x128xbf16>, %vc: tensor<?x?x8x128xbf16>) -> (tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>) {
  %r:2 = attn.append_paged_kv k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>) outs(%kc, %vc : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>
  return %r#0, %r#1 : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>
}
