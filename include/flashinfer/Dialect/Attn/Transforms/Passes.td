//===- Passes.td - attn dialect transformation passes ------*- tablegen -*-===//

#ifndef FLASHINFER_DIALECT_ATTN_TRANSFORMS_PASSES_TD
#define FLASHINFER_DIALECT_ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnRaiseBuiltinVariants : Pass<"attn-raise-builtin-variants"> {
  let summary = "Turn score_mod/mask_mod regions that spell builtins into attributes";
  let description = [{
    Recognizes `mask_mod` regions that compute the causal mask
    (`kv_idx <= q_idx`) or a causal sliding window
    (`kv_idx <= q_idx && q_idx - kv_idx <= W`), and `score_mod` regions that
    compute a logits soft-cap (`cap * tanh(s / cap)`), and replaces them with
    the equivalent `causal`, `window_left` and `logits_soft_cap` attributes.
    Later stages know the attributes' structure and can skip whole tiles,
    which an opaque region forbids. Regions that are not recognized are left
    alone.
  }];
  let dependentDialects = ["::mlir::attn::AttnDialect"];
}

#endif // FLASHINFER_DIALECT_ATTN_TRANSFORMS_PASSES_TD
