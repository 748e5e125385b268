func.func @attn_decode(%q: tensor<1x32x128xf16>, %k: tensor<?x8x128xf16>,
                       %v: tensor<?x8x128xf16>, %o: tensor<1x32x128xf16>,
                       %lse: tensor<1x32xf32>)
    -> (tensor<1x32x128xf16>, tensor<1x32xf32>) {
  %r:2 = attn.attention q(%q : tensor<1x32x128xf16>) k(%k : tensor<?x8x128xf16>)
           v(%v : tensor<?x8x128xf16>) outs(%o, %lse : tensor<1x32x128xf16>, tensor<1x32xf32>)
           -> tensor<1x32x128xf16>, tensor<1x32xf32>
  return %r#0, %r#1 : tensor<1x32x128xf16>, tensor<1x32xf32>
}
