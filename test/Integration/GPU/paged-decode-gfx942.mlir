// REQUIRES: lld
// Paged batch decode (bf16, head dim 128, GQA 4, page size 16, nhd) for gfx942: one code object
// with both kernels; the split kernel runs on v_mfma_f32_16x16x16_bf16, both
// keep everything in registers, and the LDS size is what the manifest
// declares.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx942 %t/paged_decode_kernels.hsaco | FileCheck %s --check-prefix=ASM
// RUN: llvm-objdump -d --mcpu=gfx942 %t/paged_decode_kernels.hsaco | FileCheck %s --check-prefix=MEM
// RUN: cat %t/paged_decode_kernels.json > %t/log
// RUN: llvm-readelf --notes %t/paged_decode_kernels.hsaco >> %t/log
// RUN: FileCheck %s --check-prefix=NOTES < %t/log
// RUN: FileCheck %s --check-prefix=MERGE < %t/log
// The same IR for gfx950.
// RUN: rm -rf %t.950 && flashinfer-opt %s --attn-compile="chip=gfx950 o-dir=%t.950" -o /dev/null
// RUN: llvm-readelf --notes %t.950/paged_decode_kernels.hsaco | FileCheck %s --check-prefix=GFX950

// ASM: <paged_decode>:
// ASM: v_mfma_f32_16x16x16_bf16
// ASM: s_endpgm

// Every global access, the page lookups included, is a buffer access.
// MEM-NOT: {{flat_|global_}}

// NOTES: "name": "paged_decode"
// NOTES: "static_shared_memory": [[#LDS:]]
// NOTES: "name": "paged_decode_merge"
// NOTES: "target": "gfx942"
// NOTES: .group_segment_fixed_size: [[#LDS]]
// NOTES: .name: paged_decode{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .sgpr_spill_count: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .wavefront_size: 64

// GFX950: .name: paged_decode{{$}}
// GFX950: .private_segment_fixed_size: 0
// GFX950: .vgpr_spill_count: 0
// GFX950: amdhsa.target: amdgcn-amd-amdhsa--gfx950

// MERGE: .group_segment_fixed_size: 0
// MERGE: .name: paged_decode_merge
// MERGE: .private_segment_fixed_size: 0
// MERGE: .sgpr_spill_count: 0
// MERGE: .vgpr_spill_count: 0


func.func @paged_decode(%q: tensor<?x32x128xbf16>, %kc: tensor<?x16x8x128xbf16>, %vc: tensor<?x16x8x128xbf16>,
    %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x32x128xbf16>, %lse: tensor<?x32xf32>)
    -> (tensor<?x32x128xbf16>, tensor<?x32xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x16x8x128xbf16>) v_cache(%vc : tensor<?x16x8x128xbf16>)
      kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>)
      outs(%o, %lse : tensor<?x32x128xbf16>, tensor<?x32xf32>) -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
}
