// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" -split-input-file -verify-diagnostics -allow-unregistered-dialect

// One case per feature convert-attn-to-gpu rejects, in the order
// lib/Conversion/AttnToGPU/AttnToGPU.cpp checks them. The pass options and
// the chip-dependent checks are in invalid-options.mlir.

func.func @dynamic_heads(%q: tensor<?x?x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x?x64xf16>) -> tensor<?x?x64xf16> {
  // expected-error @below {{convert-attn-to-gpu: head counts and head dims must be static for GPU code generation}}
  %r = attn.attention q(%q : tensor<?x?x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) outs(%o : tensor<?x?x64xf16>) -> tensor<?x?x64xf16>
  return %r : tensor<?x?x64xf16>
}

// -----

func.func @dynamic_head_dim(%q: tensor<?x2x?xf16>, %k: tensor<?x2x?xf16>, %v: tensor<?x2x?xf16>, %o: tensor<?x2x?xf16>) -> tensor<?x2x?xf16> {
  // expected-error @below {{convert-attn-to-gpu: head counts and head dims must be static for GPU code generation}}
  %r = attn.attention q(%q : tensor<?x2x?xf16>) k(%k : tensor<?x2x?xf16>) v(%v : tensor<?x2x?xf16>) outs(%o : tensor<?x2x?xf16>) attributes {sm_scale = 0.125 : f32} -> tensor<?x2x?xf16>
  return %r : tensor<?x2x?xf16>
}

// -----

func.func @f32(%q: tensor<?x2x64xf32>, %k: tensor<?x2x64xf32>, %v: tensor<?x2x64xf32>, %o: tensor<?x2x64xf32>) -> tensor<?x2x64xf32> {
  // expected-error @below {{convert-attn-to-gpu: only f16 and bf16 inputs have a matrix-instruction lowering}}
  %r = attn.attention q(%q : tensor<?x2x64xf32>) k(%k : tensor<?x2x64xf32>) v(%v : tensor<?x2x64xf32>) outs(%o : tensor<?x2x64xf32>) -> tensor<?x2x64xf32>
  return %r : tensor<?x2x64xf32>
}

// -----

func.func @output_type(%q: tensor<?x2x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x2x64xf32>) -> tensor<?x2x64xf32> {
  // expected-error @below {{convert-attn-to-gpu: the output element type must equal the input element type}}
  %r = attn.attention q(%q : tensor<?x2x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) outs(%o : tensor<?x2x64xf32>) -> tensor<?x2x64xf32>
  return %r : tensor<?x2x64xf32>
}

// -----

// Head dims too large for any workgroup memory are rejected before the tile
// sizes are computed from them (2^60 * 64 keys would overflow).
func.func @head_dim_huge(%q: tensor<?x2x1152921504606846976xf16>, %k: tensor<?x2x1152921504606846976xf16>, %v: tensor<?x2x1152921504606846976xf16>, %o: tensor<?x2x1152921504606846976xf16>) -> tensor<?x2x1152921504606846976xf16> {
  // expected-error @below {{convert-attn-to-gpu: head dim 1152921504606846976 exceeds 1024, the most the GPU lowering takes}}
  %r = attn.attention q(%q : tensor<?x2x1152921504606846976xf16>) k(%k : tensor<?x2x1152921504606846976xf16>) v(%v : tensor<?x2x1152921504606846976xf16>) outs(%o : tensor<?x2x1152921504606846976xf16>) -> tensor<?x2x1152921504606846976xf16>
  return %r : tensor<?x2x1152921504606846976xf16>
}

// -----

// The value head dim too.
func.func @head_dim_v_huge(%q: tensor<?x2x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x2048xf16>, %o: tensor<?x2x2048xf16>) -> tensor<?x2x2048xf16> {
  // expected-error @below {{convert-attn-to-gpu: head dim 2048 exceeds 1024, the most the GPU lowering takes}}
  %r = attn.attention q(%q : tensor<?x2x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x2048xf16>) outs(%o : tensor<?x2x2048xf16>) -> tensor<?x2x2048xf16>
  return %r : tensor<?x2x2048xf16>
}

// -----

// 72 is a multiple of mma.sync's N (8) but not of its M and K (16).
func.func @head_dim_72(%q: tensor<?x2x72xf16>, %k: tensor<?x2x72xf16>, %v: tensor<?x2x72xf16>, %o: tensor<?x2x72xf16>) -> tensor<?x2x72xf16> {
  // expected-error @below {{convert-attn-to-gpu: head dims 72/72 must be multiples of a matrix instruction's M, N and K (mma.sync.m16n8k16.f32.f16)}}
  %r = attn.attention q(%q : tensor<?x2x72xf16>) k(%k : tensor<?x2x72xf16>) v(%v : tensor<?x2x72xf16>) outs(%o : tensor<?x2x72xf16>) -> tensor<?x2x72xf16>
  return %r : tensor<?x2x72xf16>
}

// -----

// The value head dim is checked too.
func.func @head_dim_v_40(%q: tensor<?x2x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x40xf16>, %o: tensor<?x2x40xf16>) -> tensor<?x2x40xf16> {
  // expected-error @below {{convert-attn-to-gpu: head dims 64/40 must be multiples of a matrix instruction's M, N and K (mma.sync.m16n8k16.f32.f16)}}
  %r = attn.attention q(%q : tensor<?x2x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x40xf16>) outs(%o : tensor<?x2x40xf16>) -> tensor<?x2x40xf16>
  return %r : tensor<?x2x40xf16>
}

// -----

func.func @operand_not_argument(%q: tensor<?x2x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>) -> tensor<?x2x64xf16> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %q, %c0 : tensor<?x2x64xf16>
  %o = tensor.empty(%n) : tensor<?x2x64xf16>
  // expected-error @below {{convert-attn-to-gpu: operand #3 must be an argument of the enclosing function, the result of an earlier attn op in it or a constant}}
  %r = attn.attention q(%q : tensor<?x2x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) outs(%o : tensor<?x2x64xf16>) -> tensor<?x2x64xf16>
  return %r : tensor<?x2x64xf16>
}

// -----

func.func @extra_op(%q: tensor<?x2x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x2x64xf16>) -> (tensor<?x2x64xf16>, index) {
  %c0 = arith.constant 0 : index
  // expected-error @below {{convert-attn-to-gpu: a function with attn ops becomes a launch sequence and may hold only attn ops, constants and its return}}
  %n = tensor.dim %q, %c0 : tensor<?x2x64xf16>
  %r = attn.attention q(%q : tensor<?x2x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) outs(%o : tensor<?x2x64xf16>) -> tensor<?x2x64xf16>
  return %r, %n : tensor<?x2x64xf16>, index
}

// -----

// Even the smallest key tile (16) of head dim 1024 needs
// (16 * 1032 + 1024 * 24) * 2 = 82176 bytes of K and V; NVIDIA allows 48 KiB.
func.func @too_much_workgroup_memory(%q: tensor<?x2x1024xf16>, %k: tensor<?x2x1024xf16>, %v: tensor<?x2x1024xf16>, %o: tensor<?x2x1024xf16>) -> tensor<?x2x1024xf16> {
  // expected-error @below {{convert-attn-to-gpu: head dims 1024/1024 need more workgroup memory than 49152 bytes}}
  %r = attn.attention q(%q : tensor<?x2x1024xf16>) k(%k : tensor<?x2x1024xf16>) v(%v : tensor<?x2x1024xf16>) outs(%o : tensor<?x2x1024xf16>) -> tensor<?x2x1024xf16>
  return %r : tensor<?x2x1024xf16>
}

// -----

"test.wrapper"() ({
^bb0(%q: tensor<?x2x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x2x64xf16>):
  // expected-error @below {{convert-attn-to-gpu: expected directly inside a func.func, which becomes its launch sequence}}
  %r = attn.attention q(%q : tensor<?x2x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) outs(%o : tensor<?x2x64xf16>) -> tensor<?x2x64xf16>
  "test.terminator"() : () -> ()
}) : () -> ()

// -----

func.func @paged_dynamic_heads(%q: tensor<?x2x64xf16>, %kc: tensor<?x16x?x64xf16>, %ip: tensor<?xi32>, %idx: tensor<?xi32>, %last: tensor<?xi32>, %o: tensor<?x2x64xf16>) -> tensor<?x2x64xf16> {
  // expected-error @below {{convert-attn-to-gpu: head counts and head dims must be static for GPU code generation}}
  %r = attn.paged_attention q(%q : tensor<?x2x64xf16>) k_cache(%kc : tensor<?x16x?x64xf16>) v_cache(%kc : tensor<?x16x?x64xf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) outs(%o : tensor<?x2x64xf16>) -> tensor<?x2x64xf16>
  return %r : tensor<?x2x64xf16>
}

// -----

func.func @merge_dynamic_dim(%v0: tensor<?x2x?xf16>, %v1: tensor<?x2x?xf16>, %s0: tensor<?x2xf32>, %s1: tensor<?x2xf32>, %vo: tensor<?x2x?xf16>, %so: tensor<?x2xf32>) -> (tensor<?x2x?xf16>, tensor<?x2xf32>) {
  // expected-error @below {{convert-attn-to-gpu: the head count and head dim must be static}}
  %v, %s = attn.merge_states values(%v0, %v1 : tensor<?x2x?xf16>, tensor<?x2x?xf16>) lse(%s0, %s1 : tensor<?x2xf32>, tensor<?x2xf32>) outs(%vo, %so : tensor<?x2x?xf16>, tensor<?x2xf32>) -> tensor<?x2x?xf16>, tensor<?x2xf32>
  return %v, %s : tensor<?x2x?xf16>, tensor<?x2xf32>
}

// -----

func.func @merge_wide(%v0: tensor<?x2x2048xf16>, %v1: tensor<?x2x2048xf16>, %s0: tensor<?x2xf32>, %s1: tensor<?x2xf32>, %vo: tensor<?x2x2048xf16>, %so: tensor<?x2xf32>) -> (tensor<?x2x2048xf16>, tensor<?x2xf32>) {
  // expected-error @below {{convert-attn-to-gpu: head dim 2048 exceeds the merge kernel's 1024 threads}}
  %v, %s = attn.merge_states values(%v0, %v1 : tensor<?x2x2048xf16>, tensor<?x2x2048xf16>) lse(%s0, %s1 : tensor<?x2xf32>, tensor<?x2xf32>) outs(%vo, %so : tensor<?x2x2048xf16>, tensor<?x2xf32>) -> tensor<?x2x2048xf16>, tensor<?x2xf32>
  return %v, %s : tensor<?x2x2048xf16>, tensor<?x2xf32>
}

// -----

func.func @rope_odd_head_dim(%x: tensor<?x2x9xf16>, %p: tensor<?xi32>, %o: tensor<?x2x9xf16>) -> tensor<?x2x9xf16> {
  // expected-error @below {{convert-attn-to-gpu: head dim 9 with rotary dim 6 has no GPU tiling (both must be even, at most 2048 features)}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%o : tensor<?x2x9xf16>) {rotary_dim = 6} : tensor<?x2x9xf16> -> tensor<?x2x9xf16>
  return %r : tensor<?x2x9xf16>
}

// -----

func.func @rope_dynamic_heads(%x: tensor<?x?x64xf16>, %p: tensor<?xi32>, %o: tensor<?x?x64xf16>) -> tensor<?x?x64xf16> {
  // expected-error @below {{convert-attn-to-gpu: head counts and head dims must be static for GPU code generation}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) outs(%o : tensor<?x?x64xf16>) : tensor<?x?x64xf16> -> tensor<?x?x64xf16>
  return %r : tensor<?x?x64xf16>
}

// -----

func.func @append_dynamic_heads(%k: tensor<?x?x64xf16>, %v: tensor<?x?x64xf16>, %b: tensor<?xi32>, %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>, %kc: tensor<?x16x?x64xf16>, %vc: tensor<?x16x?x64xf16>) -> (tensor<?x16x?x64xf16>, tensor<?x16x?x64xf16>) {
  // expected-error @below {{convert-attn-to-gpu: head counts and head dims must be static for GPU code generation}}
  %kc2, %vc2 = attn.append_paged_kv k(%k : tensor<?x?x64xf16>) v(%v : tensor<?x?x64xf16>) batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>) outs(%kc, %vc : tensor<?x16x?x64xf16>, tensor<?x16x?x64xf16>) -> tensor<?x16x?x64xf16>, tensor<?x16x?x64xf16>
  return %kc2, %vc2 : tensor<?x16x?x64xf16>, tensor<?x16x?x64xf16>
}

// -----

func.func @append_too_wide(%k: tensor<?x64x256xf16>, %v: tensor<?x64x256xf16>, %b: tensor<?xi32>, %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>, %kc: tensor<?x16x64x256xf16>, %vc: tensor<?x16x64x256xf16>) -> (tensor<?x16x64x256xf16>, tensor<?x16x64x256xf16>) {
  // expected-error @below {{convert-attn-to-gpu: 64 KV heads of 32 vectors need 2048 threads, more than a workgroup's 1024}}
  %kc2, %vc2 = attn.append_paged_kv k(%k : tensor<?x64x256xf16>) v(%v : tensor<?x64x256xf16>) batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>) outs(%kc, %vc : tensor<?x16x64x256xf16>, tensor<?x16x64x256xf16>) -> tensor<?x16x64x256xf16>, tensor<?x16x64x256xf16>
  return %kc2, %vc2 : tensor<?x16x64x256xf16>, tensor<?x16x64x256xf16>
}

// -----

func.func @append_operand_not_argument(%k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %b: tensor<?xi32>, %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>, %kc: tensor<?x16x2x64xf16>, %vc: tensor<?x16x2x64xf16>) -> (tensor<?x16x2x64xf16>, tensor<?x16x2x64xf16>) {
  %k2 = arith.negf %k : tensor<?x2x64xf16>
  // expected-error @below {{convert-attn-to-gpu: operand #0 must be an argument of the enclosing function, the result of an earlier attn op in it or a constant}}
  %kc2, %vc2 = attn.append_paged_kv k(%k2 : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>) outs(%kc, %vc : tensor<?x16x2x64xf16>, tensor<?x16x2x64xf16>) -> tensor<?x16x2x64xf16>, tensor<?x16x2x64xf16>
  return %kc2, %vc2 : tensor<?x16x2x64xf16>, tensor<?x16x2x64xf16>
}

// -----

"test.wrapper"() ({
^bb0(%k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %b: tensor<?xi32>, %p: tensor<?xi32>, %i: tensor<?xi32>, %ip: tensor<?xi32>, %kc: tensor<?x16x2x64xf16>, %vc: tensor<?x16x2x64xf16>):
  // expected-error @below {{convert-attn-to-gpu: expected directly inside a func.func, which becomes its launch sequence}}
  %kc2, %vc2 = attn.append_paged_kv k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>) kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>) outs(%kc, %vc : tensor<?x16x2x64xf16>, tensor<?x16x2x64xf16>) -> tensor<?x16x2x64xf16>, tensor<?x16x2x64xf16>
  "test.terminator"() : () -> ()
}) : () -> ()

// -----

// A constant launch-time value is compiled in, and checked as the attribute
// would be.
func.func @constant_sm_scale_negative(%q: tensor<?x2x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x2x64xf16>) -> tensor<?x2x64xf16> {
  %s = arith.constant -1.0 : f32
  // expected-error @below {{convert-attn-to-gpu: the sm_scale operand must be finite and > 0}}
  %r = attn.attention q(%q : tensor<?x2x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) sm_scale(%s) outs(%o : tensor<?x2x64xf16>) -> tensor<?x2x64xf16>
  return %r : tensor<?x2x64xf16>
}

// -----

func.func @rope_constant_theta(%x: tensor<?x2x64xf16>, %p: tensor<?xi32>, %o: tensor<?x2x64xf16>) -> tensor<?x2x64xf16> {
  %t = arith.constant 0.0 : f32
  // expected-error @below {{convert-attn-to-gpu: constant rope_scale and rope_theta operands must be > 0}}
  %r = attn.rope %x pos_ids(%p : tensor<?xi32>) rope_theta(%t) outs(%o : tensor<?x2x64xf16>) : tensor<?x2x64xf16> -> tensor<?x2x64xf16>
  return %r : tensor<?x2x64xf16>
}
