// REQUIRES: lld
// Fused RoPE (pos_encoding = rope_llama) compiled to code objects for
// gfx942 and gfx950 and, with ptxas, to PTX for sm_90a: a causal single
// prefill (bf16, head dim 128, theta from the attribute), a paged batch
// decode (bf16, head dim 128, theta and scale known at launch: split and
// merge kernels), a ragged batch prefill (f16, head dim 64, GQA 4) and a
// paged batch prefill (f16, head dim 128, hnd, scale known at launch).
// Every attention kernel turns its query tile and its staged K tiles with
// the native sine and cosine (v_sin_f32 / v_cos_f32, sin.approx /
// cos.approx after the reduction to one period), keeps the rest on the
// matrix instructions, and has no scratch, spills or stack frame; the
// manifests name the launch-time values.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx942 %t/prefill_causal_kernels.hsaco %t/paged_decode_kernels.hsaco %t/ragged_prefill_kernels.hsaco %t/paged_prefill_kernels.hsaco | FileCheck %s --check-prefix=ASM
// RUN: cat %t/prefill_causal_kernels.json %t/paged_decode_kernels.json %t/ragged_prefill_kernels.json %t/paged_prefill_kernels.json > %t/json
// RUN: FileCheck %s --check-prefix=JSON < %t/json
// RUN: llvm-readelf --notes %t/prefill_causal_kernels.hsaco %t/paged_decode_kernels.hsaco %t/ragged_prefill_kernels.hsaco %t/paged_prefill_kernels.hsaco | FileCheck %s --check-prefixes=NOTES,NOTES942
// RUN: rm -rf %t.950 && flashinfer-opt %s --attn-compile="chip=gfx950 o-dir=%t.950" -o /dev/null
// RUN: llvm-objdump -d --mcpu=gfx950 %t.950/prefill_causal_kernels.hsaco %t.950/paged_decode_kernels.hsaco %t.950/ragged_prefill_kernels.hsaco %t.950/paged_prefill_kernels.hsaco | FileCheck %s --check-prefix=ASM950
// RUN: llvm-readelf --notes %t.950/prefill_causal_kernels.hsaco %t.950/paged_decode_kernels.hsaco %t.950/ragged_prefill_kernels.hsaco %t.950/paged_prefill_kernels.hsaco | FileCheck %s --check-prefixes=NOTES,NOTES950
// RUN: cat %t.950/prefill_causal_kernels.json %t.950/paged_decode_kernels.json %t.950/ragged_prefill_kernels.json %t.950/paged_prefill_kernels.json | FileCheck %s --check-prefix=JSON
// RUN: %if ptxas %{ rm -rf %t.nv && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t.nv" -o /dev/null %}
// RUN: %if ptxas %{ cat %t.nv/prefill_causal_kernels.ptx %t.nv/paged_decode_kernels.ptx %t.nv/ragged_prefill_kernels.ptx %t.nv/paged_prefill_kernels.ptx | FileCheck %s --check-prefix=PTX %}
// RUN: %if ptxas %{ cat %t.nv/prefill_causal_kernels.json %t.nv/paged_decode_kernels.json %t.nv/ragged_prefill_kernels.json %t.nv/paged_prefill_kernels.json | FileCheck %s --check-prefix=JSON %}
// RUN: %if ptxas %{ for f in prefill_causal paged_decode ragged_prefill paged_prefill; do ptxas -arch=sm_90a -v %t.nv/$f\_kernels.ptx -o %t.nv/$f.cubin; done 2>&1 | FileCheck %s --check-prefix=SM90 %}

// gfx942: the query tile's pairs are turned before the key loops, the
// staged K tile's after its copy (16-byte LDS writes) and a barrier; no
// global or flat access.
// ASM: <prefill_causal>:
// ASM-NOT: {{flat_|global_}}
// ASM: v_cos_f32
// ASM: v_sin_f32
// ASM: s_barrier
// ASM: ds_read_b128
// ASM: v_sin_f32
// ASM: ds_write_b128
// ASM: s_barrier
// ASM: v_mfma_f32_16x16x16_bf16
// ASM: s_endpgm
// ASM-NOT: {{flat_|global_}}
// ASM: <paged_decode>:
// ASM-NOT: {{flat_|global_}}
// ASM: v_sin_f32
// ASM: v_mfma_f32_16x16x16_bf16
// ASM: s_endpgm
// ASM-NOT: {{flat_|global_}}
// ASM: <paged_decode_merge>:
// ASM-NOT: {{v_sin_f32|v_cos_f32|flat_|global_}}
// ASM: s_endpgm
// ASM-NOT: {{flat_|global_}}
// ASM: <ragged_prefill>:
// ASM-NOT: {{flat_|global_}}
// ASM: v_sin_f32
// ASM: v_mfma_f32_16x16x16_f16
// ASM: s_endpgm
// ASM-NOT: {{flat_|global_}}
// ASM: <paged_prefill>:
// ASM-NOT: {{flat_|global_}}
// ASM: v_sin_f32
// ASM: v_mfma_f32_16x16x16_f16
// ASM: s_endpgm
// ASM-NOT: {{flat_|global_}}

// gfx950 takes its 16x16x32 MFMA for the same kernels.
// ASM950: <prefill_causal>:
// ASM950: v_sin_f32
// ASM950: v_mfma_f32_16x16x32_bf16
// ASM950: <paged_decode>:
// ASM950: v_sin_f32
// ASM950: v_mfma_f32_16x16x32_bf16
// ASM950: <ragged_prefill>:
// ASM950: v_sin_f32
// ASM950: v_mfma_f32_16x16x32_f16
// ASM950: <paged_prefill>:
// ASM950: v_sin_f32
// ASM950: v_mfma_f32_16x16x32_f16

// The manifests: the attribute's theta in the single prefill, with no
// launch value; theta and scale as the decode kernel's last two f32
// arguments, in the sequence's arguments between the workspace and the
// merge kernel's; the ragged prefill's defaults; the paged prefill's
// constant theta and launch-time scale.
// JSON: "name": "prefill_causal",
// JSON-NOT: "launch_values"
// JSON: "pos_encoding": "rope_llama",
// JSON: "rope_scale": 1,
// JSON-NEXT: "rope_theta": 500000,
// JSON: "sequence": {
// JSON-NEXT: "args": [
// JSON-NEXT: "q",
// JSON-NEXT: "k",
// JSON-NEXT: "v",
// JSON-NEXT: "o"
// JSON-NEXT: ],
// JSON: "kind": "scalar",
// JSON-NEXT: "name": "rope_theta"
// JSON-NEXT: },
// JSON-NEXT: {
// JSON-NEXT: "dtype": "f32",
// JSON-NEXT: "kind": "scalar",
// JSON-NEXT: "name": "rope_scale"
// JSON-NEXT: }
// JSON-NEXT: ],
// JSON: "name": "paged_decode",
// JSON: "launch_values": [
// JSON-NEXT: "rope_theta",
// JSON-NEXT: "rope_scale"
// JSON-NEXT: ],
// JSON: "pos_encoding": "rope_llama",
// JSON: "rope_scale": 1,
// JSON-NEXT: "rope_theta": 10000,
// JSON: "name": "paged_decode_merge",
// JSON-NOT: "rope_
// JSON: "sequence": {
// JSON-NEXT: "args": [
// JSON: "lse_part",
// JSON-NEXT: "rope_theta",
// JSON-NEXT: "rope_scale",
// JSON-NEXT: "merge_indptr",
// JSON-NEXT: "o"
// JSON-NEXT: ],
// JSON: "name": "ragged_prefill",
// JSON-NOT: "launch_values"
// JSON: "pos_encoding": "rope_llama",
// JSON: "rope_scale": 1,
// JSON-NEXT: "rope_theta": 10000,
// JSON: "name": "rope_scale"
// JSON: "name": "paged_prefill",
// JSON: "launch_values": [
// JSON-NEXT: "rope_scale"
// JSON-NEXT: ],
// JSON: "pos_encoding": "rope_llama",
// JSON: "rope_scale": 1,
// JSON-NEXT: "rope_theta": 1000000,
// JSON: "sequence": {
// JSON-NEXT: "args": [
// JSON: "o",
// JSON-NEXT: "rope_scale"
// JSON-NEXT: ],

// NOTES: .name: prefill_causal{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .sgpr_spill_count: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .name: paged_decode{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .sgpr_spill_count: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .name: paged_decode_merge{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .name: ragged_prefill{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .sgpr_spill_count: 0
// NOTES: .vgpr_spill_count: 0
// NOTES: .name: paged_prefill{{$}}
// NOTES: .private_segment_fixed_size: 0
// NOTES: .sgpr_spill_count: 0
// NOTES: .vgpr_spill_count: 0
// NOTES942: amdhsa.target: amdgcn-amd-amdhsa--gfx942
// NOTES950: amdhsa.target: amdgcn-amd-amdhsa--gfx950

// sm_90a: in each key loop, after the cp.async wait and the barrier, the K
// tile is turned in shared memory and published by one more barrier.
// PTX: .entry prefill_causal(
// PTX: cvt.rni.f32.f32
// PTX: cos.approx.ftz.f32
// PTX: sin.approx.ftz.f32
// PTX: cp.async.wait_group
// PTX-NEXT: bar.sync
// PTX: sin.approx.ftz.f32
// PTX: bar.sync
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX: .entry paged_decode(
// PTX: sin.approx.ftz.f32
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX: .entry paged_decode_merge(
// PTX-NOT: sin.approx
// PTX: .entry ragged_prefill(
// PTX: sin.approx.ftz.f32
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX: .entry paged_prefill(
// PTX: sin.approx.ftz.f32
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32

// SM90-NOT: {{[1-9][0-9]*}} bytes {{stack frame|spill}}
// SM90: Function properties for prefill_causal
// SM90-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// SM90-NOT: {{[1-9][0-9]*}} bytes {{stack frame|spill}}
// SM90: Function properties for paged_decode
// SM90-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// SM90-NOT: {{[1-9][0-9]*}} bytes {{stack frame|spill}}
// SM90: Function properties for ragged_prefill
// SM90-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// SM90-NOT: {{[1-9][0-9]*}} bytes {{stack frame|spill}}
// SM90: Function properties for paged_prefill
// SM90-NEXT: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// SM90-NOT: {{[1-9][0-9]*}} bytes {{stack frame|spill}}
// SM90-NOT: warning

func.func @prefill_causal(%q: tensor<?x32x128xbf16>, %k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %o: tensor<?x32x128xbf16>) -> tensor<?x32x128xbf16> {
  %r = attn.attention q(%q : tensor<?x32x128xbf16>) k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) outs(%o : tensor<?x32x128xbf16>) attributes {causal, pos_encoding = #attn.pos_encoding<rope_llama>, rope_theta = 500000.0 : f32} -> tensor<?x32x128xbf16>
  return %r : tensor<?x32x128xbf16>
}

func.func @paged_decode(%q: tensor<?x32x128xbf16>, %kc: tensor<?x?x8x128xbf16>, %vc: tensor<?x?x8x128xbf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x32x128xbf16>, %t: f32, %s: f32) -> tensor<?x32x128xbf16> {
  %r = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x?x8x128xbf16>) v_cache(%vc : tensor<?x?x8x128xbf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) rope_scale(%s) rope_theta(%t) outs(%o : tensor<?x32x128xbf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x32x128xbf16>
  return %r : tensor<?x32x128xbf16>
}

func.func @ragged_prefill(%q: tensor<?x16x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %qo: tensor<?xi32>, %kvp: tensor<?xi32>, %o: tensor<?x16x64xf16>) -> tensor<?x16x64xf16> {
  %r = attn.attention q(%q : tensor<?x16x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) qo_indptr(%qo : tensor<?xi32>) kv_indptr(%kvp : tensor<?xi32>) outs(%o : tensor<?x16x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x16x64xf16>
  return %r : tensor<?x16x64xf16>
}

func.func @paged_prefill(%q: tensor<?x32x128xf16>, %kc: tensor<?x8x?x128xf16>, %vc: tensor<?x8x?x128xf16>, %qo: tensor<?xi32>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x32x128xf16>, %s: f32) -> tensor<?x32x128xf16> {
  %r = attn.paged_attention q(%q : tensor<?x32x128xf16>) k_cache(%kc : tensor<?x8x?x128xf16>) v_cache(%vc : tensor<?x8x?x128xf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) qo_indptr(%qo : tensor<?xi32>) rope_scale(%s) outs(%o : tensor<?x32x128xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>, rope_theta = 1000000.0 : f32, kv_layout = #attn.kv_layout<hnd>} -> tensor<?x32x128xf16>
  return %r : tensor<?x32x128xf16>
}
