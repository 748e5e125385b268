// fp8 KV caches compiled for gfx942 and gfx950 (MFMA, buffer accesses only,
// no scratch or spills) and, with ptxas, sm_90a (no stack frame or spills):
// a paged batch decode over an f8E4M3FN cache with bf16 queries (the
// widening's f16 multiply: v_pk_mul_f16 / mul.rn.f16x2) and a causal single
// prefill over f8E4M3FNUZ K/V with f16 queries. The caches are staged
// through registers (an asynchronous copy cannot widen): no cp.async on
// sm_90a. The manifests name the fp8 dtypes the runtime checks.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx942 %t/decode_fp8_kernels.hsaco %t/prefill_fp8_kernels.hsaco | FileCheck %s --check-prefix=ASM
// RUN: llvm-readelf --notes %t/decode_fp8_kernels.hsaco %t/prefill_fp8_kernels.hsaco | FileCheck %s --check-prefix=NOTES
// RUN: cat %t/decode_fp8_kernels.json %t/prefill_fp8_kernels.json | FileCheck %s --check-prefix=JSON
// RUN: rm -rf %t.950 && flashinfer-opt %s --attn-compile="chip=gfx950 o-dir=%t.950" -o /dev/null
// RUN: llvm-readelf --notes %t.950/decode_fp8_kernels.hsaco %t.950/prefill_fp8_kernels.hsaco | FileCheck %s --check-prefix=NOTES
// RUN: %if ptxas %{ rm -rf %t.nv && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t.nv" -o /dev/null %}
// RUN: %if ptxas %{ FileCheck %s --check-prefix=PTX < %t.nv/decode_fp8_kernels.ptx %}
// RUN: %if ptxas %{ for f in %t.nv/*_kernels.ptx; do ptxas -arch=sm_90a -v $f -o $f.cubin; done 2>&1 | FileCheck %s --check-prefix=SM90 %}

// ASM: <decode_fp8>:
// ASM: v_pk_mul_f16
// ASM: v_mfma_f32_16x16x16_bf16
// ASM: <prefill_fp8>:
// ASM: v_pk_mul_f16
// ASM: v_mfma_f32_16x16x16_f16
// ASM-NOT: {{flat_|global_}}

// NOTES: .name: decode_fp8{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .name: decode_fp8_merge{{$}}
// NOTES: .name: prefill_fp8{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0

// JSON: "dtype": "f8E4M3FN",
// JSON-NEXT: "kind": "memref",
// JSON-NEXT: "layout": "strided",
// JSON-NEXT: "name": "k_cache",
// JSON: "dtype": "f8E4M3FN",
// JSON-NEXT: "kind": "memref",
// JSON-NEXT: "layout": "strided",
// JSON-NEXT: "name": "v_cache",
// JSON: "dtype": "f8E4M3FNUZ",
// JSON-NEXT: "kind": "memref",
// JSON-NEXT: "layout": "strided",
// JSON-NEXT: "name": "k",

// PTX-LABEL: .entry decode_fp8(
// PTX-NOT: cp.async
// PTX: mul.rn.f16x2
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-LABEL: .entry decode_fp8_merge(

// SM90: Function properties for {{decode_fp8|decode_fp8_merge|prefill_fp8}}
// SM90-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads

func.func @decode_fp8(%q: tensor<?x32x128xbf16>, %kc: tensor<?x?x8x128xf8E4M3FN>, %vc: tensor<?x?x8x128xf8E4M3FN>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x32x128xbf16>, %lse: tensor<?x32xf32>) -> (tensor<?x32x128xbf16>, tensor<?x32xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x?x8x128xf8E4M3FN>) v_cache(%vc : tensor<?x?x8x128xf8E4M3FN>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) outs(%o, %lse : tensor<?x32x128xbf16>, tensor<?x32xf32>) -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  return %r#0, %r#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
}

func.func @prefill_fp8(%q: tensor<?x32x128xf16>, %k: tensor<?x8x128xf8E4M3FNUZ>, %v: tensor<?x8x128xf8E4M3FNUZ>, %o: tensor<?x32x128xf16>) -> tensor<?x32x128xf16> {
  %r = attn.attention q(%q : tensor<?x32x128xf16>) k(%k : tensor<?x8x128xf8E4M3FNUZ>) v(%v : tensor<?x8x128xf8E4M3FNUZ>) outs(%o : tensor<?x32x128xf16>) attributes {causal} -> tensor<?x32x128xf16>
  return %r : tensor<?x32x128xf16>
}
