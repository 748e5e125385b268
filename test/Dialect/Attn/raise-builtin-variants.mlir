// RUN: flashinfer-opt %s -attn-raise-builtin-variants -split-input-file | FileCheck %s

// mask_mod and score_mod regions that spell a builtin variant become the
// equivalent attributes; everything else is left as written.

// Causal: kv_idx <= q_idx in each of its four spellings.
// CHECK-LABEL: func.func @causal_sle(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @causal_sle(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %m = arith.cmpi sle, %ki, %qi : index
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// CHECK-LABEL: func.func @causal_ule(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @causal_ule(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %m = arith.cmpi ule, %ki, %qi : index
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// CHECK-LABEL: func.func @causal_sge(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @causal_sge(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %m = arith.cmpi sge, %qi, %ki : index
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// CHECK-LABEL: func.func @causal_uge(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @causal_uge(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %m = arith.cmpi uge, %qi, %ki : index
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Causal sliding window, `q - kv <= W`.
// CHECK-LABEL: func.func @window_sub_le(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal, window_left = 16 : i64} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @window_sub_le(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c = arith.cmpi sle, %ki, %qi : index
    %d = arith.subi %qi, %ki : index
    %w = arith.constant 16 : index
    %in = arith.cmpi sle, %d, %w : index
    %m = arith.andi %c, %in : i1
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Unsigned compares and the conjunction in the other order.
// CHECK-LABEL: func.func @window_sub_ule_swapped(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal, window_left = 16 : i64} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @window_sub_ule_swapped(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c = arith.cmpi ule, %ki, %qi : index
    %d = arith.subi %qi, %ki : index
    %w = arith.constant 16 : index
    %in = arith.cmpi ule, %d, %w : index
    %m = arith.andi %in, %c : i1
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Causal sliding window, `kv >= q - W`.
// CHECK-LABEL: func.func @window_ge_lower_bound(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal, window_left = 8 : i64} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @window_ge_lower_bound(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c = arith.cmpi sge, %qi, %ki : index
    %w = arith.constant 8 : index
    %lo = arith.subi %qi, %w : index
    %in = arith.cmpi sge, %ki, %lo : index
    %m = arith.andi %c, %in : i1
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// W = 0: each query sees only its own position.
// CHECK-LABEL: func.func @window_zero(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal, window_left = 0 : i64} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @window_zero(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c = arith.cmpi sle, %ki, %qi : index
    %d = arith.subi %qi, %ki : index
    %w = arith.constant 0 : index
    %in = arith.cmpi sle, %d, %w : index
    %m = arith.andi %c, %in : i1
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Region and attribute both mask, so the narrower window wins.
// CHECK-LABEL: func.func @window_narrower_than_attr(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal, window_left = 16 : i64} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @window_narrower_than_attr(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) attributes {window_left = 32} mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c = arith.cmpi sle, %ki, %qi : index
    %d = arith.subi %qi, %ki : index
    %w = arith.constant 16 : index
    %in = arith.cmpi sle, %d, %w : index
    %m = arith.andi %c, %in : i1
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// CHECK-LABEL: func.func @window_wider_than_attr(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal, window_left = 4 : i64} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @window_wider_than_attr(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) attributes {window_left = 4} mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c = arith.cmpi sle, %ki, %qi : index
    %d = arith.subi %qi, %ki : index
    %w = arith.constant 16 : index
    %in = arith.cmpi sle, %d, %w : index
    %m = arith.andi %c, %in : i1
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Soft cap, `cap * tanh(s / cap)`.
// CHECK-LABEL: func.func @soft_cap_div(
// CHECK: attn.attention
// CHECK-SAME: attributes {logits_soft_cap = 3.000000e+01 : f32} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @soft_cap_div(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %cap = arith.constant 3.000000e+01 : f32
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %cap, %t : f32
    attn.yield %y : f32
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Soft cap, `tanh(s * (1/cap)) * cap`.
// CHECK-LABEL: func.func @soft_cap_mul_reciprocal(
// CHECK: attn.attention
// CHECK-SAME: attributes {logits_soft_cap = 5.000000e+01 : f32} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @soft_cap_mul_reciprocal(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %cap = arith.constant 5.000000e+01 : f32
    %inv = arith.constant 2.000000e-02 : f32
    %x = arith.mulf %inv, %s : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %t, %cap : f32
    attn.yield %y : f32
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Both regions raised at once.
// CHECK-LABEL: func.func @causal_and_soft_cap(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal, logits_soft_cap = 3.000000e+01 : f32} -> tensor<4x2x64xf16>
// CHECK-NOT: mask_mod
// CHECK-NOT: score_mod
// CHECK: return
func.func @causal_and_soft_cap(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %cap = arith.constant 3.000000e+01 : f32
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %cap, %t : f32
    attn.yield %y : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %m = arith.cmpi sle, %ki, %qi : index
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Not builtins: strictly-before-the-diagonal is not causal.
// CHECK-LABEL: func.func @strict_causal_kept(
// CHECK: attn.attention
// CHECK-SAME: outs(%arg3 : tensor<4x2x64xf16>) mask_mod {
// CHECK: attn.yield
// CHECK: return
func.func @strict_causal_kept(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %m = arith.cmpi slt, %ki, %qi : index
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// kv_idx >= q_idx is the anti-causal mask.
// CHECK-LABEL: func.func @reversed_causal_kept(
// CHECK: attn.attention
// CHECK-SAME: outs(%arg3 : tensor<4x2x64xf16>) mask_mod {
// CHECK: attn.yield
// CHECK: return
func.func @reversed_causal_kept(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %m = arith.cmpi sle, %qi, %ki : index
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// A window alone also shows future keys; no builtin spells that.
// CHECK-LABEL: func.func @window_without_causal_kept(
// CHECK: attn.attention
// CHECK-SAME: outs(%arg3 : tensor<4x2x64xf16>) mask_mod {
// CHECK: attn.yield
// CHECK: return
func.func @window_without_causal_kept(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %d = arith.subi %qi, %ki : index
    %w = arith.constant 16 : index
    %m = arith.cmpi sle, %d, %w : index
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// A negative window hides every key; window_left cannot say that.
// CHECK-LABEL: func.func @negative_window_kept(
// CHECK: attn.attention
// CHECK-SAME: outs(%arg3 : tensor<4x2x64xf16>) mask_mod {
// CHECK: attn.yield
// CHECK: return
func.func @negative_window_kept(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c = arith.cmpi sle, %ki, %qi : index
    %d = arith.subi %qi, %ki : index
    %w = arith.constant -1 : index
    %in = arith.cmpi sle, %d, %w : index
    %m = arith.andi %c, %in : i1
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// `q - W` wraps for q < W, so an unsigned `kv >= q - W` hides every key of
// the first W rows: not a window.
// CHECK-LABEL: func.func @unsigned_lower_bound_kept(
// CHECK: attn.attention
// CHECK-SAME: outs(%arg3 : tensor<4x2x64xf16>) mask_mod {
// CHECK: attn.yield
// CHECK: return
func.func @unsigned_lower_bound_kept(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c = arith.cmpi sle, %ki, %qi : index
    %w = arith.constant 8 : index
    %lo = arith.subi %qi, %w : index
    %in = arith.cmpi uge, %ki, %lo : index
    %m = arith.andi %c, %in : i1
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// A window that depends on the head is not a constant.
// CHECK-LABEL: func.func @dynamic_window_kept(
// CHECK: attn.attention
// CHECK-SAME: outs(%arg3 : tensor<4x2x64xf16>) mask_mod {
// CHECK: attn.yield
// CHECK: return
func.func @dynamic_window_kept(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c = arith.cmpi sle, %ki, %qi : index
    %d = arith.subi %qi, %ki : index
    %in = arith.cmpi sle, %d, %h : index
    %m = arith.andi %c, %in : i1
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Score mods that are not a soft cap.
// CHECK-LABEL: func.func @scaled_score_kept(
// CHECK: attn.attention
// CHECK-SAME: outs(%arg3 : tensor<4x2x64xf16>) score_mod {
// CHECK: attn.yield
// CHECK: return
func.func @scaled_score_kept(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %c = arith.constant 2.000000e+00 : f32
    %y = arith.mulf %s, %c : f32
    attn.yield %y : f32
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// CHECK-LABEL: func.func @mismatched_cap_kept(
// CHECK: attn.attention
// CHECK-SAME: outs(%arg3 : tensor<4x2x64xf16>) score_mod {
// CHECK: attn.yield
// CHECK: return
func.func @mismatched_cap_kept(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %cap = arith.constant 3.000000e+01 : f32
    %div = arith.constant 2.000000e+01 : f32
    %x = arith.divf %s, %div : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %cap, %t : f32
    attn.yield %y : f32
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// CHECK-LABEL: func.func @tanh_of_other_value_kept(
// CHECK: attn.attention
// CHECK-SAME: outs(%arg3 : tensor<4x2x64xf16>) score_mod {
// CHECK: attn.yield
// CHECK: return
func.func @tanh_of_other_value_kept(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %cap = arith.constant 3.000000e+01 : f32
    %qf = arith.index_cast %qi : index to i32
    %f = arith.sitofp %qf : i32 to f32
    %x = arith.divf %f, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %cap, %t : f32
    attn.yield %y : f32
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// The builtin cap applies before ALiBi and a score_mod after it, so with
// ALiBi the cap stays a region; the causal mask is still raised.
// CHECK-LABEL: func.func @alibi_blocks_soft_cap(
// CHECK: attn.attention
// CHECK-SAME: attributes {causal, pos_encoding = #attn.pos_encoding<alibi>} score_mod {
// CHECK: math.tanh
// CHECK-NOT: mask_mod
// CHECK: return
func.func @alibi_blocks_soft_cap(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) attributes {pos_encoding = #attn.pos_encoding<alibi>} score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %cap = arith.constant 3.000000e+01 : f32
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %cap, %t : f32
    attn.yield %y : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %m = arith.cmpi sle, %ki, %qi : index
    attn.yield %m : i1
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Two caps do not compose into one.
// CHECK-LABEL: func.func @existing_cap_blocks_soft_cap(
// CHECK: attn.attention
// CHECK-SAME: outs(%arg3 : tensor<4x2x64xf16>) attributes {logits_soft_cap = 1.000000e+01 : f32} score_mod {
// CHECK: attn.yield
// CHECK: return
func.func @existing_cap_blocks_soft_cap(%q: tensor<4x2x64xf16>, %k: tensor<4x2x64xf16>, %v: tensor<4x2x64xf16>, %o: tensor<4x2x64xf16>) -> tensor<4x2x64xf16> {
  %r = attn.attention q(%q : tensor<4x2x64xf16>) k(%k : tensor<4x2x64xf16>) v(%v : tensor<4x2x64xf16>) outs(%o : tensor<4x2x64xf16>) attributes {logits_soft_cap = 10.0 : f32} score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %cap = arith.constant 3.000000e+01 : f32
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %cap, %t : f32
    attn.yield %y : f32
  } -> tensor<4x2x64xf16>
  return %r : tensor<4x2x64xf16>
}

// -----

// Paged attention is raised the same way.
// CHECK-LABEL: func.func @paged(
// CHECK: attn.paged_attention
// CHECK-SAME: attributes {causal, kv_layout = #attn.kv_layout<hnd>, logits_soft_cap = 3.000000e+01 : f32, window_left = 16 : i64} -> tensor<?x8x64xf16>
// CHECK-NOT: _mod
// CHECK: return
func.func @paged(%q: tensor<?x8x64xf16>, %kc: tensor<?x8x16x64xf16>, %ip: tensor<?xi32>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %r = attn.paged_attention q(%q : tensor<?x8x64xf16>) k_cache(%kc : tensor<?x8x16x64xf16>) v_cache(%kc : tensor<?x8x16x64xf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%ip : tensor<?xi32>) kv_last_page_len(%ip : tensor<?xi32>) qo_indptr(%ip : tensor<?xi32>) outs(%o : tensor<?x8x64xf16>) attributes {kv_layout = #attn.kv_layout<hnd>} score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %ki: index):
    %cap = arith.constant 3.000000e+01 : f32
    %x = arith.divf %s, %cap : f32
    %t = math.tanh %x : f32
    %y = arith.mulf %cap, %t : f32
    attn.yield %y : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c = arith.cmpi sle, %ki, %qi : index
    %d = arith.subi %qi, %ki : index
    %w = arith.constant 16 : index
    %in = arith.cmpi sle, %d, %w : index
    %m = arith.andi %c, %in : i1
    attn.yield %m : i1
  } -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}
