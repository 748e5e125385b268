// convert-attn-to-gpu rejects no variant the verifier accepts: every
// variant of attn.attention and attn.paged_attention compiles to kernels
// for sm_90a, gfx942 and gfx950 (--attn-compile, default tiling). The
// single prefill (attn.attention, f16, head dim 32, 4 heads) takes one
// variant per function; a single decode (one query token), a ragged batch
// prefill, and paged batch decodes and prefills over nhd and hnd caches
// take several each, together covering every op form with f16 and bf16,
// fp8 K/V (f8E4M3FN and FNUZ), GQA and head_dim_vo != head_dim. Each function must leave a manifest that
// records its variant (JSON, in file order: the functions are sorted by
// manifest name) and its kernels in the chip's assembly (PTX .entry,
// .amdhsa_kernel), so a function or variant dropped without an error fails
// the test. Head dims are small to keep the compile short; the kernels' code
// quality is checked elsewhere.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t/sm_90a" -o /dev/null
// RUN: export LC_ALL=C && cat %t/sm_90a/*_kernels.json | FileCheck %s --check-prefix=JSON
// RUN: cat %t/sm_90a/*_kernels.ptx | FileCheck %s --check-prefix=PTX
// RUN: cat %t/sm_90a/*_kernels.ptx | grep -c "^\.visible \.entry " | FileCheck %s --check-prefix=COUNT
// RUN: flashinfer-opt %s --attn-compile="chip=gfx942 format=isa o-dir=%t/gfx942" -o /dev/null
// RUN: export LC_ALL=C && cat %t/gfx942/*_kernels.json | FileCheck %s --check-prefix=JSON
// RUN: cat %t/gfx942/*_kernels.s | FileCheck %s --check-prefix=AMD
// RUN: cat %t/gfx942/*_kernels.s | grep -c "^\s*\.amdhsa_kernel " | FileCheck %s --check-prefix=COUNT
// RUN: flashinfer-opt %s --attn-compile="chip=gfx950 format=isa o-dir=%t/gfx950" -o /dev/null
// RUN: export LC_ALL=C && cat %t/gfx950/*_kernels.json | FileCheck %s --check-prefix=JSON
// RUN: cat %t/gfx950/*_kernels.s | FileCheck %s --check-prefix=AMD
// RUN: cat %t/gfx950/*_kernels.s | grep -c "^\s*\.amdhsa_kernel " | FileCheck %s --check-prefix=COUNT

// Every kernel of every function, in any order.
// PTX-DAG: .entry decode(
// PTX-DAG: .entry decode_merge(
// PTX-DAG: .entry paged_decode_fp8(
// PTX-DAG: .entry paged_decode_fp8_merge(
// PTX-DAG: .entry paged_decode_hnd(
// PTX-DAG: .entry paged_decode_hnd_merge(
// PTX-DAG: .entry paged_decode_nhd(
// PTX-DAG: .entry paged_decode_nhd_merge(
// PTX-DAG: .entry paged_prefill_hnd(
// PTX-DAG: .entry paged_prefill_nhd(
// PTX-DAG: .entry prefill_alibi(
// PTX-DAG: .entry prefill_alibi_slopes(
// PTX-DAG: .entry prefill_causal(
// PTX-DAG: .entry prefill_custom_mask(
// PTX-DAG: .entry prefill_d192_128(
// PTX-DAG: .entry prefill_fp8(
// PTX-DAG: .entry prefill_gqa_bf16(
// PTX-DAG: .entry prefill_launch_values(
// PTX-DAG: .entry prefill_lse(
// PTX-DAG: .entry prefill_mask_mod(
// PTX-DAG: .entry prefill_rope(
// PTX-DAG: .entry prefill_rope_launch(
// PTX-DAG: .entry prefill_score_mod(
// PTX-DAG: .entry prefill_sinks(
// PTX-DAG: .entry prefill_sm_scale(
// PTX-DAG: .entry prefill_soft_cap(
// PTX-DAG: .entry prefill_window(
// PTX-DAG: .entry ragged(
// AMD-DAG: .amdhsa_kernel decode{{$}}
// AMD-DAG: .amdhsa_kernel decode_merge{{$}}
// AMD-DAG: .amdhsa_kernel paged_decode_fp8{{$}}
// AMD-DAG: .amdhsa_kernel paged_decode_fp8_merge{{$}}
// AMD-DAG: .amdhsa_kernel paged_decode_hnd{{$}}
// AMD-DAG: .amdhsa_kernel paged_decode_hnd_merge{{$}}
// AMD-DAG: .amdhsa_kernel paged_decode_nhd{{$}}
// AMD-DAG: .amdhsa_kernel paged_decode_nhd_merge{{$}}
// AMD-DAG: .amdhsa_kernel paged_prefill_hnd{{$}}
// AMD-DAG: .amdhsa_kernel paged_prefill_nhd{{$}}
// AMD-DAG: .amdhsa_kernel prefill_alibi{{$}}
// AMD-DAG: .amdhsa_kernel prefill_alibi_slopes{{$}}
// AMD-DAG: .amdhsa_kernel prefill_causal{{$}}
// AMD-DAG: .amdhsa_kernel prefill_custom_mask{{$}}
// AMD-DAG: .amdhsa_kernel prefill_d192_128{{$}}
// AMD-DAG: .amdhsa_kernel prefill_fp8{{$}}
// AMD-DAG: .amdhsa_kernel prefill_gqa_bf16{{$}}
// AMD-DAG: .amdhsa_kernel prefill_launch_values{{$}}
// AMD-DAG: .amdhsa_kernel prefill_lse{{$}}
// AMD-DAG: .amdhsa_kernel prefill_mask_mod{{$}}
// AMD-DAG: .amdhsa_kernel prefill_rope{{$}}
// AMD-DAG: .amdhsa_kernel prefill_rope_launch{{$}}
// AMD-DAG: .amdhsa_kernel prefill_score_mod{{$}}
// AMD-DAG: .amdhsa_kernel prefill_sinks{{$}}
// AMD-DAG: .amdhsa_kernel prefill_sm_scale{{$}}
// AMD-DAG: .amdhsa_kernel prefill_soft_cap{{$}}
// AMD-DAG: .amdhsa_kernel prefill_window{{$}}
// AMD-DAG: .amdhsa_kernel ragged{{$}}
// 25 kernels, no more.
// COUNT: {{^}}28{{$}}

// Single decode (one query token, bf16, GQA 4): fused RoPE with theta and
// scale at launch, sinks (in the merge kernel), lse.
// JSON-LABEL: "binary": "decode_kernels.
// JSON: "name": "rope_scale"
// JSON: "name": "decode",
// JSON: "launch_values": [
// JSON-NEXT: "rope_theta",
// JSON-NEXT: "rope_scale"
// JSON: "pos_encoding": "rope_llama",
// JSON: "sinks": true,
// JSON: "name": "sinks"
// JSON: "name": "decode_merge",
func.func @decode(%q: tensor<1x8x32xbf16>, %k: tensor<?x2x32xbf16>, %v: tensor<?x2x32xbf16>, %sinks: tensor<8xf32>, %rs: f32, %rt: f32, %o: tensor<1x8x32xbf16>, %lse: tensor<1x8xf32>) -> (tensor<1x8x32xbf16>, tensor<1x8xf32>) {
  %r:2 = attn.attention q(%q : tensor<1x8x32xbf16>) k(%k : tensor<?x2x32xbf16>) v(%v : tensor<?x2x32xbf16>) sinks(%sinks : tensor<8xf32>) rope_scale(%rs) rope_theta(%rt) outs(%o, %lse : tensor<1x8x32xbf16>, tensor<1x8xf32>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<1x8x32xbf16>, tensor<1x8xf32>
  return %r#0, %r#1 : tensor<1x8x32xbf16>, tensor<1x8xf32>
}

// Paged batch decode, hnd, page size 16: fused RoPE (theta 1e6), a soft cap,
// a custom mask and a mask function.
// fp8 caches (gfx942's FNUZ here) with bf16 queries and fused RoPE.
// JSON-LABEL: "binary": "paged_decode_fp8_kernels.
// JSON: "dtype": "f8E4M3FNUZ",
// JSON-NEXT: "kind": "memref",
// JSON-NEXT: "layout": "strided",
// JSON-NEXT: "name": "k_cache",
// JSON: "name": "paged_decode_fp8",
// JSON: "pos_encoding": "rope_llama",
// JSON: "name": "paged_decode_fp8_merge",
func.func @paged_decode_fp8(%q: tensor<?x8x32xbf16>, %kc: tensor<?x16x2x32xf8E4M3FNUZ>, %vc: tensor<?x16x2x32xf8E4M3FNUZ>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x8x32xbf16>) -> (tensor<?x8x32xbf16>) {
  %r = attn.paged_attention q(%q : tensor<?x8x32xbf16>) k_cache(%kc : tensor<?x16x2x32xf8E4M3FNUZ>) v_cache(%vc : tensor<?x16x2x32xf8E4M3FNUZ>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) outs(%o : tensor<?x8x32xbf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x8x32xbf16>
  return %r : tensor<?x8x32xbf16>
}

// JSON-LABEL: "binary": "paged_decode_hnd_kernels.
// JSON: "name": "custom_mask"
// JSON: "name": "paged_decode_hnd",
// JSON: "custom_mask": true,
// JSON: "kv_layout": "hnd",
// JSON: "logits_soft_cap": 30,
// JSON: "mask_mod": true,
// JSON: "pos_encoding": "rope_llama",
// JSON: "rope_theta": 1000000,
// JSON: "name": "paged_decode_hnd_merge",
func.func @paged_decode_hnd(%q: tensor<?x8x32xf16>, %kc: tensor<?x2x16x32xf16>, %vc: tensor<?x2x16x32xf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %mask: tensor<?xi8>, %o: tensor<?x8x32xf16>) -> (tensor<?x8x32xf16>) {
  %r = attn.paged_attention q(%q : tensor<?x8x32xf16>) k_cache(%kc : tensor<?x2x16x32xf16>) v_cache(%vc : tensor<?x2x16x32xf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) custom_mask(%mask : tensor<?xi8>) outs(%o : tensor<?x8x32xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>, rope_theta = 1000000.0 : f32, logits_soft_cap = 30.0 : f32, kv_layout = #attn.kv_layout<hnd>} mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c100 = arith.constant 100 : index
    %dq = arith.divui %qi, %c100 : index
    %dk = arith.divui %ki, %c100 : index
    %same = arith.cmpi eq, %dq, %dk : index
    attn.yield %same : i1
  } -> tensor<?x8x32xf16>
  return %r : tensor<?x8x32xf16>
}

// Paged batch decode, nhd, page size at launch, bf16: default ALiBi slopes
// with a score function after them, sm_scale / logits_soft_cap / window_left
// at launch, sinks, lse.
// JSON-LABEL: "binary": "paged_decode_nhd_kernels.
// JSON: "name": "window_left"
// JSON: "name": "paged_decode_nhd",
// JSON: "alibi_slopes": "default",
// JSON: "kv_layout": "nhd",
// JSON: "launch_values": [
// JSON-NEXT: "sm_scale",
// JSON-NEXT: "logits_soft_cap",
// JSON-NEXT: "window_left"
// JSON: "score_mod": true,
// JSON: "sinks": true,
// JSON: "name": "sinks"
// JSON: "name": "paged_decode_nhd_merge",
func.func @paged_decode_nhd(%q: tensor<?x8x32xbf16>, %kc: tensor<?x?x2x32xbf16>, %vc: tensor<?x?x2x32xbf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %sinks: tensor<8xf32>, %sm: f32, %cap: f32, %w: i64, %o: tensor<?x8x32xbf16>, %lse: tensor<?x8xf32>) -> (tensor<?x8x32xbf16>, tensor<?x8xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x8x32xbf16>) k_cache(%kc : tensor<?x?x2x32xbf16>) v_cache(%vc : tensor<?x?x2x32xbf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) sinks(%sinks : tensor<8xf32>) sm_scale(%sm) logits_soft_cap(%cap) window_left(%w) outs(%o, %lse : tensor<?x8x32xbf16>, tensor<?x8xf32>) attributes {pos_encoding = #attn.pos_encoding<alibi>, kv_layout = #attn.kv_layout<nhd>} score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %c = arith.constant 0.5 : f32
    %t = arith.mulf %s, %c : f32
    attn.yield %t : f32
  } -> tensor<?x8x32xbf16>, tensor<?x8xf32>
  return %r#0, %r#1 : tensor<?x8x32xbf16>, tensor<?x8xf32>
}

// Paged batch prefill, hnd, page size at launch, bf16, head dims 192 (q, k)
// and 128 (v, o): given ALiBi slopes, sinks, the three launch values, a
// score and a mask function.
// JSON-LABEL: "binary": "paged_prefill_hnd_kernels.
// JSON: "name": "alibi_slopes"
// JSON: "name": "sinks"
// JSON: "name": "paged_prefill_hnd",
// JSON: "alibi_slopes": "argument",
// JSON: "head_dim": 192,
// JSON-NEXT: "head_dim_v": 128,
// JSON: "kv_layout": "hnd",
// JSON: "launch_values": [
// JSON: "mask_mod": true,
// JSON: "score_mod": true,
// JSON: "sinks": true,
func.func @paged_prefill_hnd(%q: tensor<?x8x192xbf16>, %kc: tensor<?x2x?x192xbf16>, %vc: tensor<?x2x?x128xbf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %qo: tensor<?xi32>, %slopes: tensor<8xf32>, %sinks: tensor<8xf32>, %sm: f32, %cap: f32, %w: i64, %o: tensor<?x8x128xbf16>) -> (tensor<?x8x128xbf16>) {
  %r = attn.paged_attention q(%q : tensor<?x8x192xbf16>) k_cache(%kc : tensor<?x2x?x192xbf16>) v_cache(%vc : tensor<?x2x?x128xbf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) qo_indptr(%qo : tensor<?xi32>) alibi_slopes(%slopes : tensor<8xf32>) sinks(%sinks : tensor<8xf32>) sm_scale(%sm) logits_soft_cap(%cap) window_left(%w) outs(%o : tensor<?x8x128xbf16>) attributes {pos_encoding = #attn.pos_encoding<alibi>, kv_layout = #attn.kv_layout<hnd>} score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %c = arith.constant 0.5 : f32
    %t = arith.mulf %s, %c : f32
    attn.yield %t : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c100 = arith.constant 100 : index
    %dq = arith.divui %qi, %c100 : index
    %dk = arith.divui %ki, %c100 : index
    %same = arith.cmpi eq, %dq, %dk : index
    attn.yield %same : i1
  } -> tensor<?x8x128xbf16>
  return %r : tensor<?x8x128xbf16>
}

// Paged batch prefill, nhd, page size 16: causal, a window, fused RoPE with
// theta and scale at launch, a custom mask, lse.
// JSON-LABEL: "binary": "paged_prefill_nhd_kernels.
// JSON: "name": "lse"
// JSON: "name": "custom_mask"
// JSON: "name": "rope_scale"
// JSON: "name": "paged_prefill_nhd",
// JSON: "causal": true,
// JSON: "custom_mask": true,
// JSON: "launch_values": [
// JSON-NEXT: "rope_theta",
// JSON-NEXT: "rope_scale"
// JSON: "pos_encoding": "rope_llama",
// JSON: "window_left": 64
func.func @paged_prefill_nhd(%q: tensor<?x8x32xf16>, %kc: tensor<?x16x2x32xf16>, %vc: tensor<?x16x2x32xf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %qo: tensor<?xi32>, %mask: tensor<?xi8>, %rs: f32, %rt: f32, %o: tensor<?x8x32xf16>, %lse: tensor<?x8xf32>) -> (tensor<?x8x32xf16>, tensor<?x8xf32>) {
  %r:2 = attn.paged_attention q(%q : tensor<?x8x32xf16>) k_cache(%kc : tensor<?x16x2x32xf16>) v_cache(%vc : tensor<?x16x2x32xf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) qo_indptr(%qo : tensor<?xi32>) custom_mask(%mask : tensor<?xi8>) rope_scale(%rs) rope_theta(%rt) outs(%o, %lse : tensor<?x8x32xf16>, tensor<?x8xf32>) attributes {causal, pos_encoding = #attn.pos_encoding<rope_llama>, window_left = 64 : i64, kv_layout = #attn.kv_layout<nhd>} -> tensor<?x8x32xf16>, tensor<?x8xf32>
  return %r#0, %r#1 : tensor<?x8x32xf16>, tensor<?x8xf32>
}

// ALiBi with the default slopes.
// JSON-LABEL: "binary": "prefill_alibi_kernels.
// JSON: "name": "prefill_alibi",
// JSON: "alibi_slopes": "default",
func.func @prefill_alibi(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) outs(%o : tensor<?x4x32xf16>) attributes {pos_encoding = #attn.pos_encoding<alibi>} -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// ALiBi with given slopes.
// JSON-LABEL: "binary": "prefill_alibi_slopes_kernels.
// JSON: "name": "alibi_slopes"
// JSON: "name": "prefill_alibi_slopes",
// JSON: "alibi_slopes": "argument",
func.func @prefill_alibi_slopes(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %slopes: tensor<4xf32>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) alibi_slopes(%slopes : tensor<4xf32>) outs(%o : tensor<?x4x32xf16>) attributes {pos_encoding = #attn.pos_encoding<alibi>} -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// Causal.
// JSON-LABEL: "binary": "prefill_causal_kernels.
// JSON: "name": "prefill_causal",
// JSON: "causal": true,
func.func @prefill_causal(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) outs(%o : tensor<?x4x32xf16>) attributes {causal} -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// A custom mask.
// JSON-LABEL: "binary": "prefill_custom_mask_kernels.
// JSON: "name": "custom_mask"
// JSON: "name": "prefill_custom_mask",
// JSON: "custom_mask": true,
func.func @prefill_custom_mask(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %mask: tensor<?xi8>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) custom_mask(%mask : tensor<?xi8>) outs(%o : tensor<?x4x32xf16>) -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// Head dim 192 for q and k, 128 for v and o (DeepSeek's MLA prefill shape).
// JSON-LABEL: "binary": "prefill_d192_128_kernels.
// JSON: "name": "prefill_d192_128",
// JSON: "head_dim": 192,
// JSON-NEXT: "head_dim_v": 128,
func.func @prefill_d192_128(%q: tensor<?x4x192xf16>, %k: tensor<?x4x192xf16>, %v: tensor<?x4x128xf16>, %o: tensor<?x4x128xf16>) -> (tensor<?x4x128xf16>) {
  %r = attn.attention q(%q : tensor<?x4x192xf16>) k(%k : tensor<?x4x192xf16>) v(%v : tensor<?x4x128xf16>) outs(%o : tensor<?x4x128xf16>) -> tensor<?x4x128xf16>
  return %r : tensor<?x4x128xf16>
}

// bf16, GQA: 16 query heads on 4 KV heads.
// JSON-LABEL: "binary": "prefill_fp8_kernels.
// JSON: "dtype": "f8E4M3FN",
// JSON-NEXT: "kind": "memref",
// JSON-NEXT: "layout": "strided",
// JSON-NEXT: "name": "k",
// JSON: "name": "prefill_fp8",
// JSON: "causal": true,
func.func @prefill_fp8(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf8E4M3FN>, %v: tensor<?x4x32xf8E4M3FN>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf8E4M3FN>) v(%v : tensor<?x4x32xf8E4M3FN>) outs(%o : tensor<?x4x32xf16>) attributes {causal} -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// JSON-LABEL: "binary": "prefill_gqa_bf16_kernels.
// JSON: "dtype": "bf16"
// JSON: "name": "prefill_gqa_bf16",
// JSON: "matrix_instruction": "{{.*}}bf16",
// JSON: "num_kv_heads": 4,
// JSON-NEXT: "num_qo_heads": 16,
func.func @prefill_gqa_bf16(%q: tensor<?x16x32xbf16>, %k: tensor<?x4x32xbf16>, %v: tensor<?x4x32xbf16>, %o: tensor<?x16x32xbf16>) -> (tensor<?x16x32xbf16>) {
  %r = attn.attention q(%q : tensor<?x16x32xbf16>) k(%k : tensor<?x4x32xbf16>) v(%v : tensor<?x4x32xbf16>) outs(%o : tensor<?x16x32xbf16>) -> tensor<?x16x32xbf16>
  return %r : tensor<?x16x32xbf16>
}

// sm_scale, logits_soft_cap and window_left at launch.
// JSON-LABEL: "binary": "prefill_launch_values_kernels.
// JSON: "name": "prefill_launch_values",
// JSON: "launch_values": [
// JSON-NEXT: "sm_scale",
// JSON-NEXT: "logits_soft_cap",
// JSON-NEXT: "window_left"
func.func @prefill_launch_values(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %sm: f32, %cap: f32, %w: i64, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) sm_scale(%sm) logits_soft_cap(%cap) window_left(%w) outs(%o : tensor<?x4x32xf16>) -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// The lse output.
// JSON-LABEL: "binary": "prefill_lse_kernels.
// JSON: "name": "lse"
// JSON: "name": "prefill_lse",
func.func @prefill_lse(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %o: tensor<?x4x32xf16>, %lse: tensor<?x4xf32>) -> (tensor<?x4x32xf16>, tensor<?x4xf32>) {
  %r:2 = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) outs(%o, %lse : tensor<?x4x32xf16>, tensor<?x4xf32>) -> tensor<?x4x32xf16>, tensor<?x4xf32>
  return %r#0, %r#1 : tensor<?x4x32xf16>, tensor<?x4xf32>
}

// A mask function (documents of 100 tokens).
// JSON-LABEL: "binary": "prefill_mask_mod_kernels.
// JSON: "name": "prefill_mask_mod",
// JSON: "mask_mod": true,
func.func @prefill_mask_mod(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) outs(%o : tensor<?x4x32xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c100 = arith.constant 100 : index
    %dq = arith.divui %qi, %c100 : index
    %dk = arith.divui %ki, %c100 : index
    %same = arith.cmpi eq, %dq, %dk : index
    attn.yield %same : i1
  } -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// Fused RoPE, theta and scale as attributes.
// JSON-LABEL: "binary": "prefill_rope_kernels.
// JSON: "name": "prefill_rope",
// JSON: "pos_encoding": "rope_llama",
// JSON: "rope_scale": 8,
// JSON-NEXT: "rope_theta": 500000,
func.func @prefill_rope(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) outs(%o : tensor<?x4x32xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>, rope_scale = 8.0 : f32, rope_theta = 500000.0 : f32} -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// Fused RoPE, theta and scale at launch.
// JSON-LABEL: "binary": "prefill_rope_launch_kernels.
// JSON: "name": "prefill_rope_launch",
// JSON: "launch_values": [
// JSON-NEXT: "rope_theta",
// JSON-NEXT: "rope_scale"
// JSON: "pos_encoding": "rope_llama",
func.func @prefill_rope_launch(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %rs: f32, %rt: f32, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) rope_scale(%rs) rope_theta(%rt) outs(%o : tensor<?x4x32xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// A score function.
// JSON-LABEL: "binary": "prefill_score_mod_kernels.
// JSON: "name": "prefill_score_mod",
// JSON: "score_mod": true,
func.func @prefill_score_mod(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) outs(%o : tensor<?x4x32xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %c = arith.constant 0.5 : f32
    %t = arith.mulf %s, %c : f32
    attn.yield %t : f32
  } -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// Attention sinks.
// JSON-LABEL: "binary": "prefill_sinks_kernels.
// JSON: "name": "sinks"
// JSON: "name": "prefill_sinks",
// JSON: "sinks": true,
func.func @prefill_sinks(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %sinks: tensor<4xf32>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) sinks(%sinks : tensor<4xf32>) outs(%o : tensor<?x4x32xf16>) -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// An sm_scale attribute.
// JSON-LABEL: "binary": "prefill_sm_scale_kernels.
// JSON: "name": "prefill_sm_scale",
// JSON: "sm_scale": 0.1000000
func.func @prefill_sm_scale(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) outs(%o : tensor<?x4x32xf16>) attributes {sm_scale = 0.1 : f32} -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// A logits soft cap attribute.
// JSON-LABEL: "binary": "prefill_soft_cap_kernels.
// JSON: "name": "prefill_soft_cap",
// JSON: "logits_soft_cap": 30,
func.func @prefill_soft_cap(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) outs(%o : tensor<?x4x32xf16>) attributes {logits_soft_cap = 30.0 : f32} -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// A sliding window attribute.
// JSON-LABEL: "binary": "prefill_window_kernels.
// JSON: "name": "prefill_window",
// JSON: "window_left": 16
func.func @prefill_window(%q: tensor<?x4x32xf16>, %k: tensor<?x4x32xf16>, %v: tensor<?x4x32xf16>, %o: tensor<?x4x32xf16>) -> (tensor<?x4x32xf16>) {
  %r = attn.attention q(%q : tensor<?x4x32xf16>) k(%k : tensor<?x4x32xf16>) v(%v : tensor<?x4x32xf16>) outs(%o : tensor<?x4x32xf16>) attributes {window_left = 16 : i64} -> tensor<?x4x32xf16>
  return %r : tensor<?x4x32xf16>
}

// Ragged batch prefill (qo_indptr / kv_indptr), GQA 4: causal, a window,
// given ALiBi slopes, a custom mask, a score and a mask function.
// JSON-LABEL: "binary": "ragged_kernels.
// JSON: "name": "custom_mask"
// JSON: "name": "alibi_slopes"
// JSON: "name": "ragged",
// JSON: "alibi_slopes": "argument",
// JSON: "causal": true,
// JSON: "custom_mask": true,
// JSON: "mask_mod": true,
// JSON: "score_mod": true,
// JSON: "window_left": 32
func.func @ragged(%q: tensor<?x8x32xf16>, %k: tensor<?x2x32xf16>, %v: tensor<?x2x32xf16>, %qo: tensor<?xi32>, %kvp: tensor<?xi32>, %mask: tensor<?xi8>, %slopes: tensor<8xf32>, %o: tensor<?x8x32xf16>) -> (tensor<?x8x32xf16>) {
  %r = attn.attention q(%q : tensor<?x8x32xf16>) k(%k : tensor<?x2x32xf16>) v(%v : tensor<?x2x32xf16>) qo_indptr(%qo : tensor<?xi32>) kv_indptr(%kvp : tensor<?xi32>) custom_mask(%mask : tensor<?xi8>) alibi_slopes(%slopes : tensor<8xf32>) outs(%o : tensor<?x8x32xf16>) attributes {causal, pos_encoding = #attn.pos_encoding<alibi>, window_left = 32 : i64} score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %c = arith.constant 0.5 : f32
    %t = arith.mulf %s, %c : f32
    attn.yield %t : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c100 = arith.constant 100 : index
    %dq = arith.divui %qi, %c100 : index
    %dk = arith.divui %ki, %c100 : index
    %same = arith.cmpi eq, %dq, %dk : index
    attn.yield %same : i1
  } -> tensor<?x8x32xf16>
  return %r : tensor<?x8x32xf16>
}
