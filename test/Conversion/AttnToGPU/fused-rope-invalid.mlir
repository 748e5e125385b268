// What convert-attn-to-gpu rejects in fused RoPE (pos_encoding =
// rope_llama): a head dim whose halves are not whole column tiles of the
// chip's accumulator (the query tile is turned in accumulator-shaped
// registers), and constant rope_theta / rope_scale operands that are not
// finite and > 0.

// Each run compiles every case below (split): stderr holds the rejections,
// in file order, stdout the kernels of the cases accepted.
//
// Head dim 48: its half (24) is three 8-column tiles of mma.sync (accepted
// on sm_90a) but not whole 16-column tiles of the 16x16x16 MFMA that gfx942
// and gfx950 (whose 16x16x32 one needs K = 32) take for it. Without RoPE the
// same shape compiles on both (invalid-options.mlir, D48-OK). Head dim 96
// is accepted everywhere (48 is three 16-column tiles).
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=gfx942" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefixes=AMD,OPERAND
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=gfx950" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefixes=AMD,OPERAND
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=OPERAND
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" --split-input-file 2>/dev/null | FileCheck %s --check-prefixes=SM90,D96
// RUN: not flashinfer-opt %s --convert-attn-to-gpu="chip=gfx950" --split-input-file 2>/dev/null | FileCheck %s --check-prefixes=GFX950,D96
// AMD: error: 'attn.attention' op convert-attn-to-gpu: fused RoPE (rope_llama) needs half the head dim (24) to be a multiple of 16 on v_mfma_f32_16x16x16_f16; rotate q and k with attn.rope first
// SM90: gpu.func @d48(
// SM90: vector.extract_strided_slice %{{.*}} {offsets = [0, 24], sizes = [{{[0-9]+}}, 24], strides = [1, 1]} : vector<{{[0-9]+}}x48xf16> to vector<{{[0-9]+}}x24xf16>
// SM90: attn.online_attention_step {{.*}}key_rotary = #attn.rotary<theta = 1.000000e+04, scale = 1.000000e+00>
// GFX950-NOT: gpu.func @d48(
// D96: gpu.func @d96(
// GFX950-SAME: attn.matrix_instruction = #attn.matrix_instruction<"v_mfma_f32_16x16x32_f16">
// D96: vector.extract_strided_slice %{{.*}} {offsets = [0, 48], sizes = [{{[0-9]+}}, 48], strides = [1, 1]} : vector<{{[0-9]+}}x96xf16> to vector<{{[0-9]+}}x48xf16>
// D96: attn.online_attention_step {{.*}}key_rotary = #attn.rotary<theta = 1.000000e+04, scale = 1.000000e+00>
// D96-NOT: gpu.func

func.func @d48(%q: tensor<?x2x48xf16>, %k: tensor<?x2x48xf16>, %v: tensor<?x2x48xf16>, %o: tensor<?x2x48xf16>) -> tensor<?x2x48xf16> {
  %r = attn.attention q(%q : tensor<?x2x48xf16>) k(%k : tensor<?x2x48xf16>) v(%v : tensor<?x2x48xf16>) outs(%o : tensor<?x2x48xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x2x48xf16>
  return %r : tensor<?x2x48xf16>
}

// -----

func.func @d96(%q: tensor<?x2x96xf16>, %k: tensor<?x2x96xf16>, %v: tensor<?x2x96xf16>, %o: tensor<?x2x96xf16>) -> tensor<?x2x96xf16> {
  %r = attn.attention q(%q : tensor<?x2x96xf16>) k(%k : tensor<?x2x96xf16>) v(%v : tensor<?x2x96xf16>) outs(%o : tensor<?x2x96xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x2x96xf16>
  return %r : tensor<?x2x96xf16>
}

// -----

// Constant operands are checked as the attributes are, on every chip.
// OPERAND-COUNT-4: error: 'attn.{{(paged_)?}}attention' op convert-attn-to-gpu: the rope_scale and rope_theta operands must be finite and > 0
// OPERAND-NOT: error:

func.func @theta_zero(%q: tensor<?x8x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %t = arith.constant 0.0 : f32
  %r = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) rope_theta(%t) outs(%o : tensor<?x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @scale_negative(%q: tensor<?x8x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x8x64xf16>, %t: f32) -> tensor<?x8x64xf16> {
  %s = arith.constant -1.0 : f32
  %r = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) rope_scale(%s) rope_theta(%t) outs(%o : tensor<?x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @theta_inf(%q: tensor<?x8x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %t = arith.constant 0x7F800000 : f32
  %r = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) rope_theta(%t) outs(%o : tensor<?x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

func.func @scale_nan(%q: tensor<?x8x64xf16>, %kc: tensor<?x?x2x64xf16>, %vc: tensor<?x?x2x64xf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %s = arith.constant 0x7FC00000 : f32
  %r = attn.paged_attention q(%q : tensor<?x8x64xf16>) k_cache(%kc : tensor<?x?x2x64xf16>) v_cache(%vc : tensor<?x?x2x64xf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) rope_scale(%s) outs(%o : tensor<?x8x64xf16>) attributes {pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}
