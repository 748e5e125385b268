// RUN: flashinfer-opt %s --attn-raise-builtin-variants --convert-attn-to-gpu="chip=sm_90a" --split-input-file | FileCheck %s
// RUN: flashinfer-opt %s --attn-raise-builtin-variants --convert-attn-to-gpu="chip=gfx942" --split-input-file | FileCheck %s --check-prefix=RAISED

// logits_soft_cap reaches every key-tile step (unmasked and masked) and the
// manifest; the decomposition applies it (test/Dialect/Attn/
// decompose-online-attention.mlir).

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NEXT: attn.kernel_manifest
// CHECK-SAME: logits_soft_cap = 3.000000e+01 : f64
// CHECK: attn.online_attention_step {{.*}} {block_n = {{[0-9]+}} : i64, causal, logits_soft_cap = 3.000000e+01 : f32, scale_log2
// CHECK: attn.online_attention_step {{.*}} {block_n = {{[0-9]+}} : i64, causal, logits_soft_cap = 3.000000e+01 : f32, masked, scale_log2
func.func @capped(%q: tensor<?x8x128xbf16>, %k: tensor<?x2x128xbf16>, %v: tensor<?x2x128xbf16>, %o: tensor<?x8x128xbf16>) -> tensor<?x8x128xbf16> {
  %r = attn.attention q(%q : tensor<?x8x128xbf16>) k(%k : tensor<?x2x128xbf16>) v(%v : tensor<?x2x128xbf16>) outs(%o : tensor<?x8x128xbf16>) attributes {causal, logits_soft_cap = 30.0 : f32} -> tensor<?x8x128xbf16>
  return %r : tensor<?x8x128xbf16>
}

// -----

// A score_mod region that spells the soft cap is raised first, then lowered
// the same way.
// RAISED: logits_soft_cap = 5.000000e+01 : f64
// RAISED: attn.online_attention_step {{.*}}logits_soft_cap = 5.000000e+01 : f32
func.func @region(%q: tensor<?x4x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %o: tensor<?x4x64xf16>) -> tensor<?x4x64xf16> {
  %r = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) outs(%o : tensor<?x4x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %c = arith.constant 50.0 : f32
    %d = arith.divf %s, %c : f32
    %t = math.tanh %d : f32
    %m = arith.mulf %c, %t : f32
    attn.yield %m : f32
  } -> tensor<?x4x64xf16>
  return %r : tensor<?x4x64xf16>
}
