// REQUIRES: lld
// Batch prefill for gfx942 and gfx950: over a paged cache (bf16, head dim
// 128, GQA 4, page size 16, nhd, causal, lse) and over ragged K/V (f16, head
// dim 64, GQA 1, causal). Both run on MFMA, keep everything in registers,
// read all global memory through buffer descriptors (a ragged request's
// rows are views of the kernel arguments), and use the LDS the manifest
// declares.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx942 %t/paged_prefill_kernels.hsaco | FileCheck %s --check-prefix=PAGED-ASM
// RUN: llvm-objdump -d --mcpu=gfx942 %t/ragged_prefill_kernels.hsaco | FileCheck %s --check-prefix=RAGGED-ASM
// RUN: llvm-objdump -d --mcpu=gfx942 %t/paged_prefill_kernels.hsaco %t/ragged_prefill_kernels.hsaco | FileCheck %s --check-prefix=MEM
// RUN: cat %t/paged_prefill_kernels.json > %t/log
// RUN: llvm-readelf --notes %t/paged_prefill_kernels.hsaco >> %t/log
// RUN: FileCheck %s --check-prefix=PAGED < %t/log
// RUN: cat %t/ragged_prefill_kernels.json > %t/log2
// RUN: llvm-readelf --notes %t/ragged_prefill_kernels.hsaco >> %t/log2
// RUN: FileCheck %s --check-prefix=RAGGED < %t/log2
// RUN: rm -rf %t.950 && flashinfer-opt %s --attn-compile="chip=gfx950 o-dir=%t.950" -o /dev/null
// RUN: llvm-readelf --notes %t.950/paged_prefill_kernels.hsaco %t.950/ragged_prefill_kernels.hsaco | FileCheck %s --check-prefix=GFX950

// PAGED-ASM: <paged_prefill>:
// PAGED-ASM: v_mfma_f32_16x16x16_bf16
// PAGED-ASM: s_endpgm
// RAGGED-ASM: <ragged_prefill>:
// RAGGED-ASM: v_mfma_f32_16x16x16_f16
// RAGGED-ASM: s_endpgm

// MEM-NOT: {{flat_|global_}}

// PAGED: "name": "paged_prefill"
// PAGED: "schedule": "request_q_tile"
// PAGED: "static_shared_memory": [[#LDS:]]
// PAGED: .group_segment_fixed_size: [[#LDS]]
// PAGED: .name: paged_prefill{{$}}
// PAGED: .private_segment_fixed_size: 0
// PAGED: .sgpr_spill_count: 0
// PAGED: .vgpr_spill_count: 0

// RAGGED: "name": "ragged_prefill"
// RAGGED: "kv_source": "ragged"
// RAGGED: "schedule": "request_q_tile"
// RAGGED: "static_shared_memory": [[#LDS:]]
// RAGGED: .group_segment_fixed_size: [[#LDS]]
// RAGGED: .name: ragged_prefill{{$}}
// RAGGED: .private_segment_fixed_size: 0
// RAGGED: .sgpr_spill_count: 0
// RAGGED: .vgpr_spill_count: 0

// GFX950: .name: paged_prefill{{$}}
// GFX950: .private_segment_fixed_size: 0
// GFX950: .vgpr_spill_count: 0
// GFX950: amdhsa.target: amdgcn-amd-amdhsa--gfx950
// GFX950: .name: ragged_prefill{{$}}
// GFX950: .private_segment_fixed_size: 0
// GFX950: .vgpr_spill_count: 0

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
