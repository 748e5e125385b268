// One prefill request: 32 query heads sharing 8 KV heads (GQA), head dim 64,
// f16 inputs, no mask. Token counts are dynamic; the default softmax scale is
// 1/sqrt(64). Writes the attention output and its base-2 log-sum-exp into
// the caller's buffers %o and %lse (destination-passing style), so the
// function is exactly a kernel's interface: each argument becomes a kernel
// argument on the GPU.
func.func @attention_f16_d64(%q: tensor<?x32x64xf16>, %k: tensor<?x8x64xf16>,
                             %v: tensor<?x8x64xf16>, %o: tensor<?x32x64xf16>,
                             %lse: tensor<?x32xf32>)
    -> (tensor<?x32x64xf16>, tensor<?x32xf32>) {
  %out, %out_lse = attn.attention q(%q : tensor<?x32x64xf16>)
                     k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x64xf16>)
                     outs(%o, %lse : tensor<?x32x64xf16>, tensor<?x32xf32>)
                     -> tensor<?x32x64xf16>, tensor<?x32xf32>
  return %out, %out_lse : tensor<?x32x64xf16>, tensor<?x32xf32>
}
