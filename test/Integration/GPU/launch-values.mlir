// Launch-time variant values (sm_scale, logits_soft_cap, window_left as
// kernel arguments) in a paged batch decode and a causal prefill, compiled
// for gfx942 and gfx950 (MFMA, buffer accesses only, no scratch or spills,
// LDS as declared) and, with ptxas, sm_90a (no stack frame or spills).

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx942 %t/decode_kernels.hsaco %t/prefill_kernels.hsaco | FileCheck %s --check-prefix=ASM
// RUN: cat %t/decode_kernels.json > %t/log
// RUN: llvm-readelf --notes %t/decode_kernels.hsaco >> %t/log
// RUN: FileCheck %s --check-prefix=DECODE < %t/log
// RUN: llvm-readelf --notes %t/prefill_kernels.hsaco | FileCheck %s --check-prefix=PREFILL
// RUN: rm -rf %t.950 && flashinfer-opt %s --attn-compile="chip=gfx950 o-dir=%t.950" -o /dev/null
// RUN: llvm-readelf --notes %t.950/decode_kernels.hsaco %t.950/prefill_kernels.hsaco | FileCheck %s --check-prefix=GFX950
// RUN: %if ptxas %{ rm -rf %t.nv && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t.nv" -o /dev/null %}
// RUN: %if ptxas %{ ptxas -arch=sm_90a -v %t.nv/decode_kernels.ptx -o %t.nv/d.cubin 2>&1 | FileCheck %s --check-prefix=SM90 %}
// RUN: %if ptxas %{ ptxas -arch=sm_90a -v %t.nv/prefill_kernels.ptx -o %t.nv/p.cubin 2>&1 | FileCheck %s --check-prefix=SM90 %}

// ASM: <decode>:
// ASM: v_mfma_f32_16x16x16_bf16
// ASM: <prefill>:
// ASM: v_mfma_f32_16x16x16_f16
// ASM-NOT: {{flat_|global_}}

// DECODE: "launch_values": [
// DECODE-NEXT: "sm_scale",
// DECODE-NEXT: "logits_soft_cap",
// DECODE-NEXT: "window_left"
// DECODE: "static_shared_memory": [[#LDS:]]
// DECODE: .group_segment_fixed_size: [[#LDS]]
// DECODE: .name: decode{{$}}
// DECODE: .private_segment_fixed_size: 0
// DECODE: .sgpr_spill_count: 0
// DECODE: .vgpr_spill_count: 0

// PREFILL: .name: prefill{{$}}
// PREFILL: .private_segment_fixed_size: 0
// PREFILL: .vgpr_spill_count: 0

// GFX950: .name: decode{{$}}
// GFX950: .private_segment_fixed_size: 0
// GFX950: amdhsa.target: amdgcn-amd-amdhsa--gfx950
// GFX950: .name: prefill{{$}}
// GFX950: .private_segment_fixed_size: 0

// SM90: Function properties for {{decode|prefill}}
// SM90-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

func.func @decode(%q: tensor<?x32x128xbf16>, %kc: tensor<?x?x8x128xbf16>, %vc: tensor<?x?x8x128xbf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x32x128xbf16>, %lse: tensor<?x32xf32>, %s: f32, %c: f32, %w: i64) -> (tensor<?x32x128xbf16>, tensor<?x32xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x?x8x128xbf16>) v_cache(%vc : tensor<?x?x8x128xbf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) sm_scale(%s) logits_soft_cap(%c) window_left(%w) outs(%o, %lse : tensor<?x32x128xbf16>, tensor<?x32xf32>) -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
}

func.func @prefill(%q: tensor<?x32x128xf16>, %k: tensor<?x8x128xf16>, %v: tensor<?x8x128xf16>, %o: tensor<?x32x128xf16>, %s: f32, %w: i64) -> tensor<?x32x128xf16> {
  %r = attn.attention q(%q : tensor<?x32x128xf16>) k(%k : tensor<?x8x128xf16>) v(%v : tensor<?x8x128xf16>) sm_scale(%s) window_left(%w) outs(%o : tensor<?x32x128xf16>) attributes {causal} -> tensor<?x32x128xf16>
  return %r : tensor<?x32x128xf16>
}
