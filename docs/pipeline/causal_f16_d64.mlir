// The running example of docs/pipeline.md: one prefill request, 8 query
// heads and 8 KV heads, head dim 64, f16, causal (spelled as a mask_mod
// region, as a FlexAttention-style frontend would), returning the output and
// its base-2 log-sum-exp. Token counts are dynamic.
func.func @attn_causal(%q: tensor<?x8x64xf16>, %k: tensor<?x8x64xf16>,
                       %v: tensor<?x8x64xf16>, %o: tensor<?x8x64xf16>,
                       %lse: tensor<?x8xf32>)
    -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  %r:2 = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x8x64xf16>)
           v(%v : tensor<?x8x64xf16>)
           outs(%o, %lse : tensor<?x8x64xf16>, tensor<?x8xf32>)
           mask_mod {
           ^bb0(%b: index, %h: index, %q_idx: index, %kv_idx: index):
             %visible = arith.cmpi sle, %kv_idx, %q_idx : index
             attn.yield %visible : i1
           } -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %r#0, %r#1 : tensor<?x8x64xf16>, tensor<?x8xf32>
}
