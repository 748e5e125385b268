// One prefill request: 32 query heads sharing 8 KV heads (GQA), head dim 64,
// f16 inputs, no mask. Token counts are dynamic; the default softmax scale is
// 1/sqrt(64). Returns the attention output and its base-2 log-sum-exp.
func.func @attention_f16_d64(%q: tensor<?x32x64xf16>, %k: tensor<?x8x64xf16>,
                             %v: tensor<?x8x64xf16>)
    -> (tensor<?x32x64xf16>, tensor<?x32xf32>) {
  %c0 = arith.constant 0 : index
  %tokens = tensor.dim %q, %c0 : tensor<?x32x64xf16>
  %o_init = tensor.empty(%tokens) : tensor<?x32x64xf16>
  %lse_init = tensor.empty(%tokens) : tensor<?x32xf32>
  %o, %lse = attn.attention q(%q : tensor<?x32x64xf16>)
               k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x64xf16>)
               outs(%o_init, %lse_init : tensor<?x32x64xf16>, tensor<?x32xf32>)
               -> tensor<?x32x64xf16>, tensor<?x32xf32>
  return %o, %lse : tensor<?x32x64xf16>, tensor<?x32xf32>
}
