//===- AttnOps.td - attn dialect ops -----------------------*- tablegen -*-===//

#ifndef FLASHINFER_DIALECT_ATTN_IR_ATTNOPS_TD
#define FLASHINFER_DIALECT_ATTN_IR_ATTNOPS_TD

include "mlir/IR/SymbolInterfaces.td"
include "flashinfer/Dialect/Attn/IR/AttnBase.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

def Attn_I32Tensor1D : 1DTensorOf<[I32]>;
def Attn_F32Tensor1D : 1DTensorOf<[F32]>;
def Attn_I8Tensor1D : 1DTensorOf<[I8]>;
def Attn_FloatTensor : RankedTensorOf<[F16, BF16, F32]>;
// K and V, and the paged caches: also fp8 (e4m3; FNUZ as gfx942 reads it).
def Attn_KVTensor : RankedTensorOf<[F16, BF16, F32, F8E4M3FN, F8E4M3FNUZ]>;

// Attributes shared by attn.attention and attn.paged_attention.
defvar Attn_VariantAttrs = (ins
  OptionalAttr<F32Attr>:$sm_scale,
  UnitAttr:$causal,
  DefaultValuedAttr<I64Attr, "-1">:$window_left,
  DefaultValuedAttr<F32Attr, "0.0f">:$logits_soft_cap,
  DefaultValuedAttr<Attn_PosEncodingAttr, "PosEncoding::none">:$pos_encoding,
  DefaultValuedAttr<F32Attr, "1.0f">:$rope_scale,
  DefaultValuedAttr<F32Attr, "1.0e4f">:$rope_theta
);

defvar Attn_VariantDoc = [{
    Scores. For query row `i` of a request with `qo_len` query rows and
    `kv_len` keys, its *position* is `q_idx = i + kv_len - qo_len` (queries are
    the last `qo_len` tokens of the sequence: FlashInfer's bottom-right
    alignment). For key `kv_idx` the score is computed in f32 in this order:

    1. `s = dot(q, k) * sm_scale` (`sm_scale` defaults to `1/sqrt(D)`); with
       `pos_encoding = rope_llama`, q and k are first rotated by RoPE
       (rotate-half style, positions `q_idx` and `kv_idx`, `rope_theta`,
       `rope_scale` dividing the position);
    2. `logits_soft_cap > 0`: `s = cap * tanh(s / cap)`;
    3. `pos_encoding = alibi`: `s += alibi_slopes[h] * (kv_idx - q_idx)`
       (slopes default to the ALiBi paper's geometric series when the operand
       is absent);
    4. the `score_mod` region, if present, maps `s` to a new score.

    A key is visible unless a mask removes it: `causal` hides `kv_idx > q_idx`;
    `window_left = W >= 0` hides `kv_idx < q_idx - W`; `custom_mask` hides keys
    whose bit is 0; the `mask_mod` region hides keys where it yields false.

    The output row is `sum_j p_j v_j` with `p = softmax(s)` over visible keys.
    With `sinks`, the per-head sink logit `sinks[h]` joins the softmax
    denominator only (gpt-oss style). The optional second output `lse` holds
    `log2(sum_j exp(s_j))` over visible keys (sink included), base 2 as in
    FlashInfer, so that `attn.merge_states` can combine partial results. A row
    that sees no key gets output 0 and lse `-inf`.

    Regions take `(score: f32, batch: index, q_head: index, q_idx: index,
    kv_idx: index)` for `score_mod` (yielding f32) and `(batch, q_head, q_idx,
    kv_idx)` for `mask_mod` (yielding i1), where `q_idx` is the position
    defined above. `attn-raise-builtin-variants` recognizes the builtin masks
    and soft-cap written as regions and turns them into attributes, so later
    passes can skip whole tiles.

    The custom mask is a bit stream, little-endian within each byte, holding
    each request's `[qo_len, kv_len]` row-major mask one after the other.

    GQA/MQA: `Hq` must be a multiple of `Hkv`; query head `h` reads KV head
    `h / (Hq / Hkv)`.

    K and V share an element type: q's, or an fp8 type (`f8E4M3FN`, or
    `f8E4M3FNUZ` as gfx942 reads it), an fp8 KV cache. Its values are widened
    exactly before the products; a per-tensor scale is the caller's to fold
    (FlashInfer's `k_scale` into `sm_scale`, `v_scale` onto the output).

    Launch-time variant values: `sm_scale(%s)`, `logits_soft_cap(%c)` (f32)
    and `window_left(%w)` (i64) give the value as an operand instead of an
    attribute (never both), so that one compiled kernel serves every value,
    as FlashInfer's kernels take them at run time. So do `rope_scale(%s)` and
    `rope_theta(%t)` (f32, `> 0`, with `pos_encoding = rope_llama` only). A soft cap `<= 0` or a
    window `< 0` at run time disables it.
}];

def Attn_AttentionOp : Attn_Op<"attention", [
    AttrSizedOperandSegments, Pure,
    DestinationStyleOpInterface]> {
  let summary = "batched attention over contiguous (ragged) keys and values";
  let description = !strconcat([{
    Operands: `q` `[tokens, Hq, D]`, `k` `[kv_tokens, Hkv, D]`, `v`
    `[kv_tokens, Hkv, Dv]`. Without `qo_indptr`/`kv_indptr` all rows form one
    request; with them (both i32, `[batch + 1]`, starting at 0), request `b`
    owns query rows `[qo_indptr[b], qo_indptr[b+1])` and key rows
    `[kv_indptr[b], kv_indptr[b+1])`. Outputs: `o` `[tokens, Hq, Dv]` and
    optionally `lse` `[tokens, Hq]` in f32.

    ```mlir
    %o = attn.attention q(%q : tensor<?x32x128xf16>)
           k(%k : tensor<?x8x128xf16>) v(%v : tensor<?x8x128xf16>)
           outs(%init : tensor<?x32x128xf16>) {causal}
           -> tensor<?x32x128xf16>
    ```
  }], Attn_VariantDoc);

  let arguments = !con((ins
    Attn_FloatTensor:$query,
    Attn_KVTensor:$key,
    Attn_KVTensor:$value,
    Optional<Attn_I32Tensor1D>:$qo_indptr,
    Optional<Attn_I32Tensor1D>:$kv_indptr,
    Optional<Attn_I8Tensor1D>:$custom_mask,
    Optional<Attn_F32Tensor1D>:$alibi_slopes,
    Optional<Attn_F32Tensor1D>:$sinks,
    Optional<F32>:$sm_scale_value,
    Optional<F32>:$logits_soft_cap_value,
    Optional<I64>:$window_left_value,
    Optional<F32>:$rope_scale_value,
    Optional<F32>:$rope_theta_value,
    Variadic<Attn_FloatTensor>:$outputs), Attn_VariantAttrs);
  let results = (outs Variadic<Attn_FloatTensor>:$results);
  let regions = (region MaxSizedRegion<1>:$score_mod,
                        MaxSizedRegion<1>:$mask_mod);

  let assemblyFormat = [{
    `q` `(` $query `:` type($query) `)`
    `k` `(` $key `:` type($key) `)`
    `v` `(` $value `:` type($value) `)`
    (`qo_indptr` `(` $qo_indptr^ `:` type($qo_indptr) `)`)?
    (`kv_indptr` `(` $kv_indptr^ `:` type($kv_indptr) `)`)?
    (`custom_mask` `(` $custom_mask^ `:` type($custom_mask) `)`)?
    (`alibi_slopes` `(` $alibi_slopes^ `:` type($alibi_slopes) `)`)?
    (`sinks` `(` $sinks^ `:` type($sinks) `)`)?
    (`sm_scale` `(` $sm_scale_value^ `)`)?
    (`logits_soft_cap` `(` $logits_soft_cap_value^ `)`)?
    (`window_left` `(` $window_left_value^ `)`)?
    (`rope_scale` `(` $rope_scale_value^ `)`)?
    (`rope_theta` `(` $rope_theta_value^ `)`)?
    `outs` `(` $outputs `:` type($outputs) `)`
    attr-dict-with-keyword
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    `->` type($results)
  }];

  let extraClassDeclaration = [{
    ::mlir::Value getOutput() { return getOutputs()[0]; }
    ::mlir::Value getLseOutput() {
      return getOutputs().size() > 1 ? getOutputs()[1] : ::mlir::Value();
    }
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getOutputsMutable();
    }
    /// The softmax scale, defaulting to 1/sqrt(head_dim).
    float getEffectiveSmScale();
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Attn_PagedAttentionOp : Attn_Op<"paged_attention", [
    AttrSizedOperandSegments, Pure,
    DestinationStyleOpInterface]> {
  let summary = "batched prefill or decode attention over a paged KV cache";
  let description = !strconcat([{
    `q` is `[tokens, Hq, D]`. The caches are `[num_pages, page_size, Hkv, D]`
    (`kv_layout = nhd`, the default) or `[num_pages, Hkv, page_size, D]`
    (`hnd`); `v_cache` has head dim `Dv`. Request `b` owns the pages
    `kv_indices[kv_indptr[b] .. kv_indptr[b+1])` in order, the last of them
    filled up to `kv_last_page_len[b]` entries, so its `kv_len` is
    `(num_pages_b - 1) * page_size + kv_last_page_len[b]`, or 0 for a request
    without pages (whatever `kv_last_page_len[b]` holds). With `qo_indptr`
    (prefill), request `b` owns query rows `[qo_indptr[b], qo_indptr[b+1])`;
    without it (decode), request `b` owns query row `b` alone.

    ```mlir
    %o = attn.paged_attention q(%q : tensor<?x32x128xf16>)
           k_cache(%kc : tensor<?x16x8x128xf16>)
           v_cache(%vc : tensor<?x16x8x128xf16>)
           kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>)
           kv_last_page_len(%last : tensor<?xi32>)
           outs(%init : tensor<?x32x128xf16>) -> tensor<?x32x128xf16>
    ```
  }], Attn_VariantDoc);

  let arguments = !con((ins
    Attn_FloatTensor:$query,
    Attn_KVTensor:$k_cache,
    Attn_KVTensor:$v_cache,
    Attn_I32Tensor1D:$kv_indptr,
    Attn_I32Tensor1D:$kv_indices,
    Attn_I32Tensor1D:$kv_last_page_len,
    Optional<Attn_I32Tensor1D>:$qo_indptr,
    Optional<Attn_I8Tensor1D>:$custom_mask,
    Optional<Attn_F32Tensor1D>:$alibi_slopes,
    Optional<Attn_F32Tensor1D>:$sinks,
    Optional<F32>:$sm_scale_value,
    Optional<F32>:$logits_soft_cap_value,
    Optional<I64>:$window_left_value,
    Optional<F32>:$rope_scale_value,
    Optional<F32>:$rope_theta_value,
    Variadic<Attn_FloatTensor>:$outputs), Attn_VariantAttrs,
    (ins DefaultValuedAttr<Attn_KVLayoutAttr, "KVLayout::nhd">:$kv_layout));
  let results = (outs Variadic<Attn_FloatTensor>:$results);
  let regions = (region MaxSizedRegion<1>:$score_mod,
                        MaxSizedRegion<1>:$mask_mod);

  let assemblyFormat = [{
    `q` `(` $query `:` type($query) `)`
    `k_cache` `(` $k_cache `:` type($k_cache) `)`
    `v_cache` `(` $v_cache `:` type($v_cache) `)`
    `kv_indptr` `(` $kv_indptr `:` type($kv_indptr) `)`
    `kv_indices` `(` $kv_indices `:` type($kv_indices) `)`
    `kv_last_page_len` `(` $kv_last_page_len `:` type($kv_last_page_len) `)`
    (`qo_indptr` `(` $qo_indptr^ `:` type($qo_indptr) `)`)?
    (`custom_mask` `(` $custom_mask^ `:` type($custom_mask) `)`)?
    (`alibi_slopes` `(` $alibi_slopes^ `:` type($alibi_slopes) `)`)?
    (`sinks` `(` $sinks^ `:` type($sinks) `)`)?
    (`sm_scale` `(` $sm_scale_value^ `)`)?
    (`logits_soft_cap` `(` $logits_soft_cap_value^ `)`)?
    (`window_left` `(` $window_left_value^ `)`)?
    (`rope_scale` `(` $rope_scale_value^ `)`)?
    (`rope_theta` `(` $rope_theta_value^ `)`)?
    `outs` `(` $outputs `:` type($outputs) `)`
    attr-dict-with-keyword
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    `->` type($results)
  }];

  let extraClassDeclaration = [{
    ::mlir::Value getOutput() { return getOutputs()[0]; }
    ::mlir::Value getLseOutput() {
      return getOutputs().size() > 1 ? getOutputs()[1] : ::mlir::Value();
    }
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getOutputsMutable();
    }
    float getEffectiveSmScale();
    /// Dimension of the caches that indexes the slot within a page, and the
    /// one that indexes the KV head.
    unsigned getPageSlotDim() {
      return ::mlir::attn::getPageSlotDim(getKvLayout());
    }
    unsigned getKVHeadDim() {
      return ::mlir::attn::getPagedKVHeadDim(getKvLayout());
    }
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Attn_YieldOp : Attn_Op<"yield", [
    Pure, Terminator,
    ParentOneOf<["AttentionOp", "PagedAttentionOp", "OnlineAttentionStepOp"]>]> {
  let summary = "terminates a score_mod or mask_mod region";
  let description = [{
    Yields the modified score (f32) from `score_mod`, or the visibility bit
    (i1) from `mask_mod`.
  }];
  let arguments = (ins AnyType:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def Attn_MergeStatesOp : Attn_Op<"merge_states", [
    AttrSizedOperandSegments, Pure,
    DestinationStyleOpInterface]> {
  let summary = "merge two or more partial attention states";
  let description = [{
    Combines partial attention results computed over disjoint key sets
    (cascade attention's shared prefix and unique suffix, or the chunks of
    split-KV). Each state is `(v_i [tokens, H, D], lse_i [tokens, H])` with
    base-2 `lse` as produced by `attn.attention`. The result is
    `v = sum_i w_i v_i` with `w_i = 2^(lse_i - lse)`,
    `lse = log2(sum_i 2^lse_i)`. States whose lse is `-inf` contribute nothing;
    if all are `-inf`, v is 0 and lse is `-inf`.

    ```mlir
    %v, %s = attn.merge_states values(%v0, %v1 : tensor<?x8x64xf16>, tensor<?x8x64xf16>)
               lse(%s0, %s1 : tensor<?x8xf32>, tensor<?x8xf32>)
               outs(%vi, %si : tensor<?x8x64xf16>, tensor<?x8xf32>)
               -> tensor<?x8x64xf16>, tensor<?x8xf32>
    ```

    With `indptr`, the states are the rows of one state (FlashInfer's
    variable-length merge, and the chunks of split-KV): output row `b` merges
    rows `indptr[b] .. indptr[b + 1]` of `values [rows, H, D]` and
    `lse [rows, H]`; `indptr` has one entry more than the output has rows, an
    empty range gives v = 0 and lse = `-inf`. This is the form that the GPU
    lowering of a split-KV decode ends in.

    ```mlir
    %v, %s = attn.merge_states indptr(%merge_indptr : tensor<?xi32>)
               values(%parts : tensor<?x8x64xf32>) lse(%lses : tensor<?x8xf32>)
               outs(%vi, %si : tensor<?x8x64xf16>, tensor<?x8xf32>)
               -> tensor<?x8x64xf16>, tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Optional<Attn_I32Tensor1D>:$indptr,
                       Variadic<Attn_FloatTensor>:$values,
                       Variadic<RankedTensorOf<[F32]>>:$lses,
                       Variadic<Attn_FloatTensor>:$outputs);
  let results = (outs Variadic<Attn_FloatTensor>:$results);
  let assemblyFormat = [{
    (`indptr` `(` $indptr^ `:` type($indptr) `)`)?
    `values` `(` $values `:` type($values) `)`
    `lse` `(` $lses `:` type($lses) `)`
    `outs` `(` $outputs `:` type($outputs) `)`
    attr-dict `->` type($results)
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getOutputsMutable();
    }
  }];
  let hasVerifier = 1;
}

def Attn_RopeOp : Attn_Op<"rope", [
    AttrSizedOperandSegments, Pure, DestinationStyleOpInterface]> {
  let summary = "apply rotary position embedding";
  let description = [{
    Rotates the first `rotary_dim` (default: all) features of each head of
    `input [tokens, H, D]` by the angle `pos * f_i`, `pos` being the token's
    position and `f_i = rope_theta^(-2i/rotary_dim) / rope_scale` the
    frequency of pair `i` (with `llama31_scaling`, Llama 3.1's rescaled
    frequency, `#attn.llama31_scaling`). Without `interleave` pairs are
    `(i, i + rotary_dim/2)` (rotate-half: GPT-NeoX, Hugging Face Llama,
    FlashInfer's `rope_llama`); with `interleave` pairs are `(2i, 2i+1)`
    (GPT-J and Meta's original Llama). Remaining features are copied.
    Apply it to queries and keys separately.

    Token `t`'s position is `pos_ids[t]` (i32, or i64 as vLLM passes
    them: a position must lie in [-2^31, 2^31), the GPU kernel leaves a
    token whose position does not unwritten), or, given `indptr [B+1]` and
    `offsets [B]` instead (a ragged batch, FlashInfer's `apply_rope`),
    `offsets[b] + t - indptr[b]` for the request `b` whose rows
    `indptr[b] .. indptr[b+1]` hold `t`. With `cos_sin_cache
    [max_position, rotary_dim]` (f32; vLLM's layout) the angle's cosine and
    sine are read from row `pos` (`cos` in the first `rotary_dim/2`
    columns, `sin` in the rest) instead of computed, and `rotary_dim` is
    the cache's width.

    `rope_scale(%s)` and `rope_theta(%t)` (f32 operands) give those values
    at run time instead of as attributes, so that one GPU kernel serves
    every value (they become kernel arguments).

    A token whose position cannot be found (outside `indptr`'s rows, or a
    row outside the cache) has no defined result; the GPU kernel leaves its
    output row unwritten rather than read out of bounds. Input and output
    may be the same buffer (in place).

    ```mlir
    %r = attn.rope %q pos_ids(%pos : tensor<?xi32>) outs(%init : tensor<?x8x64xf16>)
           {rope_theta = 500000.0 : f32} : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
    %s = attn.rope %k indptr(%ip : tensor<?xi32>) offsets(%off : tensor<?xi32>)
           outs(%init2 : tensor<?x8x64xf16>)
           {rope_scale = 8.0 : f32, rope_theta = 500000.0 : f32,
            llama31_scaling = #attn.llama31_scaling<low_freq_factor = 1.0,
                high_freq_factor = 4.0, old_context_len = 8192.0>}
           : tensor<?x8x64xf16> -> tensor<?x8x64xf16>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$input,
                       Optional<1DTensorOf<[I32, I64]>>:$pos_ids,
                       Optional<Attn_I32Tensor1D>:$indptr,
                       Optional<Attn_I32Tensor1D>:$offsets,
                       Optional<2DTensorOf<[F32]>>:$cos_sin_cache,
                       Optional<F32>:$rope_scale_value,
                       Optional<F32>:$rope_theta_value,
                       Attn_FloatTensor:$output,
                       UnitAttr:$interleave,
                       OptionalAttr<I64Attr>:$rotary_dim,
                       DefaultValuedAttr<F32Attr, "1.0f">:$rope_scale,
                       DefaultValuedAttr<F32Attr, "1.0e4f">:$rope_theta,
                       OptionalAttr<Attn_Llama31ScalingAttr>:$llama31_scaling);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $input
    (`pos_ids` `(` $pos_ids^ `:` type($pos_ids) `)`)?
    (`indptr` `(` $indptr^ `:` type($indptr) `)`)?
    (`offsets` `(` $offsets^ `:` type($offsets) `)`)?
    (`cos_sin_cache` `(` $cos_sin_cache^ `:` type($cos_sin_cache) `)`)?
    (`rope_scale` `(` $rope_scale_value^ `)`)?
    (`rope_theta` `(` $rope_theta_value^ `)`)?
    `outs` `(` $output `:` type($output) `)`
    attr-dict `:` type($input) `->` type($result)
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getOutputMutable();
    }
    /// Number of rotated features: the cache's width, `rotary_dim` or the
    /// head dim (dynamic when that is).
    int64_t getEffectiveRotaryDim();
  }];
  let hasVerifier = 1;
}

def Attn_AppendPagedKVOp : Attn_Op<"append_paged_kv", [
    Pure, DestinationStyleOpInterface]> {
  let summary = "write new key/value tokens into a paged KV cache";
  let description = [{
    Token `n` of `key [N, Hkv, D]` and `value [N, Hkv, Dv]` belongs to request
    `batch_indices[n]` at sequence position `positions[n]`; it is written to
    page `kv_indices[kv_indptr[b] + positions[n] / page_size]`, slot
    `positions[n] % page_size`, of the caches given as outputs (layout per
    `kv_layout`, as in `attn.paged_attention`). Other entries keep their
    values.

    ```mlir
    %kc2, %vc2 = attn.append_paged_kv k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x64xf16>)
        batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>)
        kv_indices(%i : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>)
        outs(%kc, %vc : tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>)
        -> tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16>
    ```
  }];
  let arguments = (ins Attn_KVTensor:$key, Attn_KVTensor:$value,
                       Attn_I32Tensor1D:$batch_indices,
                       Attn_I32Tensor1D:$positions,
                       Attn_I32Tensor1D:$kv_indices,
                       Attn_I32Tensor1D:$kv_indptr,
                       Attn_KVTensor:$k_cache, Attn_KVTensor:$v_cache,
                       DefaultValuedAttr<Attn_KVLayoutAttr, "KVLayout::nhd">:$kv_layout);
  let results = (outs Attn_KVTensor:$k_cache_result,
                      Attn_KVTensor:$v_cache_result);
  let assemblyFormat = [{
    `k` `(` $key `:` type($key) `)` `v` `(` $value `:` type($value) `)`
    `batch_indices` `(` $batch_indices `:` type($batch_indices) `)`
    `positions` `(` $positions `:` type($positions) `)`
    `kv_indices` `(` $kv_indices `:` type($kv_indices) `)`
    `kv_indptr` `(` $kv_indptr `:` type($kv_indptr) `)`
    `outs` `(` $k_cache `,` $v_cache `:` type($k_cache) `,` type($v_cache) `)`
    attr-dict `->` type($k_cache_result) `,` type($v_cache_result)
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return ::mlir::MutableOperandRange(getOperation(), 6, 2);
    }
    unsigned getPageSlotDim() {
      return ::mlir::attn::getPageSlotDim(getKvLayout());
    }
    unsigned getKVHeadDim() {
      return ::mlir::attn::getPagedKVHeadDim(getKvLayout());
    }
  }];
  let hasVerifier = 1;
}


//===----------------------------------------------------------------------===//
// The GPU lowering's record of what it built
//===----------------------------------------------------------------------===//

def Attn_KernelManifestOp : Attn_Op<"kernel_manifest", [
    HasParent<"::mlir::ModuleOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the kernels of one gpu.module and their launch sequence";
  let description = [{
    `convert-attn-to-gpu` turns each function holding attn ops into one
    `gpu.module` of kernels and records here how to run them: `kernels`
    describes each kernel (`#attn.kernel`), `arguments` names the arguments
    of the launch sequence (the function's operands, then the planner's
    buffers and the workspace, each once), and `launches` runs the kernels
    in order, each with its arguments picked from the sequence's.
    `workspace` lists the sequence arguments that are scratch buffers
    (split-KV partials), with their dtype and shape. `kernel_module` refers
    to the `gpu.module`, or the `gpu.binary` that `gpu-module-to-binary`
    makes of it; `attn-write-code-objects` writes the manifest beside the
    binary's code object.

    ```mlir
    attn.kernel_manifest @decode_kernels {target = "sm_90a",
        kernels = [#attn.kernel<...>, #attn.kernel<...>],
        arguments = ["q", "k", "v", "o_part", "lse_part", "kv_chunk", "o"],
        launches = [#attn.launch<kernel = "decode", arguments = [0, 1, 2, 3, 4, 5]>,
                    #attn.launch<kernel = "decode_merge", arguments = [3, 4, 6]>],
        workspace = [...]}
    ```
  }];
  let arguments = (ins
    FlatSymbolRefAttr:$kernel_module,
    StrAttr:$target,
    TypedArrayAttrBase<Attn_KernelAttr, "kernels">:$kernels,
    StrArrayAttr:$arguments,
    TypedArrayAttrBase<Attn_KernelLaunchAttr, "launches">:$launches,
    DefaultValuedAttr<ArrayAttr, "{}">:$workspace);
  let assemblyFormat = "$kernel_module attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Tile-level ops: the GPU lowering's intermediate form
//===----------------------------------------------------------------------===//

// The K/V storage a GPU kernel reads tiles from: `[kv_len, H_kv, D]`
// (contiguous), or pages `[num_pages, page_size, H_kv, D]` (`nhd`) /
// `[num_pages, H_kv, page_size, D]` (`hnd`) with the request's page list.
defvar Attn_KVSourceDoc = [{
    The KV source is contiguous, `[kv_len, H_kv, D]`, or paged: with
    `pages(%kv_indices[%page_begin])` the memref is a paged cache
    `[num_pages, page_size, H_kv, D]` (`kv_layout = nhd`) or
    `[num_pages, H_kv, page_size, D]` (`hnd`), and token `t` of the request
    is slot `t mod page_size` of page `kv_indices[page_begin + t floordiv
    page_size]`.
}];

def Attn_KVMemRef : MemRefRankOf<[F16, BF16, F8E4M3FN, F8E4M3FNUZ], [3, 4]>;

def Attn_LoadKVTileOp : Attn_Op<"load_kv_tile", [AttrSizedOperandSegments]> {
  let summary = "read a tile of consecutive keys (or values) of one KV head";
  let description = !strconcat([{
    The one place the GPU pipeline reads K and V: row `r` of the result
    (`rows x D`) is token `key_start + r` of KV head `kv_head`; rows at or
    past `kv_len` are zero. With `in_bounds` the caller guarantees that
    every row is below `kv_len`, and no test is made. An fp8 source (an fp8
    KV cache) is widened exactly to the tile's f16 or bf16. With `rotary`
    (`#attn.rotary`, fused RoPE), row `r` is rotated at position
    `key_start + r` (its index among the request's keys); the operands
    `rotary_theta(%t)` / `rotary_scale(%s)` (f32, known at launch) replace the
    attribute's theta and scale.

    `attn-decompose-online-attention` emits it for each step's K and V
    tiles; `attn-promote-to-workgroup-memory` stages it through workgroup
    memory (forming each row's address from the KV source, with the page
    lookup for paged caches) or, where it does not feed a contraction's
    right-hand side inside a loop, reads the rows directly.

  }], Attn_KVSourceDoc, [{

    ```mlir
    %k = attn.load_kv_tile %cache[%kv_head, %start], %kv_len
           pages(%kv_indices[%page_begin] : memref<?xi32>)
           {kv_layout = #attn.kv_layout<hnd>}
           : memref<?x8x16x128xbf16> -> vector<32x128xbf16>
    ```
  }]);
  let arguments = (ins
    Arg<Attn_KVMemRef, "K or V storage", [MemRead]>:$source,
    Index:$kv_head,
    Index:$key_start,
    Index:$kv_len,
    Arg<Optional<MemRefRankOf<[I32], [1]>>, "page ids", [MemRead]>:$kv_indices,
    Optional<Index>:$page_begin,
    Optional<F32>:$rotary_theta,
    Optional<F32>:$rotary_scale,
    DefaultValuedAttr<Attn_KVLayoutAttr, "KVLayout::nhd">:$kv_layout,
    UnitAttr:$in_bounds,
    OptionalAttr<Attn_RotaryAttr>:$rotary);
  let results = (outs VectorOfRankAndType<[2], [F16, BF16]>:$tile);
  let assemblyFormat = [{
    $source `[` $kv_head `,` $key_start `]` `,` $kv_len
    (`pages` `(` $kv_indices^ `[` $page_begin `]` `:` type($kv_indices) `)`)?
    (`rotary_theta` `(` $rotary_theta^ `)`)?
    (`rotary_scale` `(` $rotary_scale^ `)`)?
    attr-dict `:` type($source) `->` type($tile)
  }];
  let extraClassDeclaration = [{
    bool isPaged() { return static_cast<bool>(getKvIndices()); }
    /// The source's dims holding the token (the slot within a page when
    /// paged) and the KV head.
    unsigned getTokenDim() {
      return isPaged() ? ::mlir::attn::getPageSlotDim(getKvLayout()) : 0;
    }
    unsigned getKVHeadDim() {
      return isPaged() ? ::mlir::attn::getPagedKVHeadDim(getKvLayout()) : 1;
    }
  }];
  let hasVerifier = 1;
}

def Attn_OnlineAttentionStepOp : Attn_Op<"online_attention_step", [
    AttrSizedOperandSegments,
    AllTypesMatch<["acc", "new_acc"]>,
    AllTypesMatch<["max", "new_max", "sum", "new_sum"]>]> {
  let summary = "one key tile of FlashAttention's online softmax";
  let description = !strconcat([{
    The unit of work that `convert-attn-to-gpu` tiles attention into: a
    workgroup's `M` query rows (`query`, `M x D`) attend to the `block_n`
    keys `[key_start, key_start + block_n)` of KV head `kv_head` of the
    request's `kv_len` keys in `key` and `value` (head dims `D` and `Dv`),
    and the running state of the online softmax is updated:

    - `s = (q . k) * scale_log2`, the score in log2 units (`scale_log2` is
      `sm_scale * log2(e)`), computed in f32; with `logits_soft_cap = c > 0`
      the score is capped first: `s = log2(e) * c * tanh(sm_scale (q . k) / c)`;
    - with `masked`, keys `>= kv_len`, and under `causal` keys after the
      row's position (`query_positions`), and under `window_left = W >= 0`
      keys before `position - W`, get `s = -inf`; without it the caller
      guarantees that every key of the tile is visible;
    - `new_max = max(max, rowmax(s))`; `alpha = 2^(max - new_max)`;
    - `p = 2^(s - new_max)`, rounded to the element type of `query`;
    - `new_sum = sum * alpha + rowsum(p)`;
    - `new_acc = acc * alpha + p V`.

    The scale, the soft cap and the window may instead be operands
    (`scale_log2(%s)`, `logits_soft_cap(%c)`, `window_left(%w)`: values
    known at launch; exactly one of `scale_log2` and its operand is given);
    a cap `<= 0` or a window `< 0` then disables it.

    Score and mask functions, the one form every variant beyond these takes
    (ALiBi, user-defined ones): the `score_mod` region maps the score in
    natural units (`sm_scale (q . k)`, capped) to a new one before it is
    turned into log2 units, and under `masked` the `mask_mod` region hides
    the keys where it yields false. Their block arguments are those of
    `attn.attention`'s regions, `(score: f32, batch, q_head, q_idx,
    kv_idx)` (`mask_mod` without the score), followed by one f32 per
    `row_values` operand: values of each query row computed before the
    key loop (ALiBi's slope of the row's head, say). A region needs
    `batch(%b)` (the request) and `query_heads(%h)` (each row's query
    head); `q_idx` is the row's `query_positions` entry and `kv_idx` the
    key's index among the request's keys. Since a mask function is opaque,
    the caller marks every tile it may cut `masked`.

    A custom mask, `custom_mask(%bits[%first, %row_bits])`: under `masked`,
    key `kv_idx` of a row at position `p` is hidden unless bit `first + p *
    row_bits + kv_idx` of `bits` is set (bits little-endian within each
    byte, as attn.attention's `custom_mask`); bits past the end of `bits`
    read the last byte, never outside it.

    Fused RoPE: with `key_rotary` (`#attn.rotary`), each key is rotated at
    its position `kv_idx` before the product (the query rows arrive already
    rotated: `convert-attn-to-gpu` turns the query tile itself);
    `rotary_theta(%t)` / `rotary_scale(%s)` (f32, known at launch) replace
    its theta and scale.

    A row whose max is still `-inf` exponentiates against 0 instead, so that
    no NaN appears. The final output is `acc / sum` and the base-2 lse is
    `max + log2(sum)`. `attn-decompose-online-attention` expands the op into
    `attn.load_kv_tile`s, vector contractions, reductions and elementwise
    math.

  }], Attn_KVSourceDoc, [{
    K and V share the page list.

    ```mlir
    %acc1, %m1, %l1 = attn.online_attention_step
        %q, %k[%kv_head, %start], %v, %kv_len, %pos, %acc, %m, %l
        {block_n = 64 : i64, scale_log2 = 0.1275 : f32, causal, masked}
        : vector<128x128xbf16>, memref<?x8x128xbf16>, memref<?x8x128xbf16>,
          vector<128xindex>, vector<128x128xf32>, vector<128xf32>
    ```
  }]);
  let arguments = (ins
    VectorOfRankAndType<[2], [F16, BF16]>:$query,
    Arg<Attn_KVMemRef, "keys", [MemRead]>:$key,
    Index:$kv_head,
    Index:$key_start,
    Arg<Attn_KVMemRef, "values", [MemRead]>:$value,
    Index:$kv_len,
    Arg<Optional<MemRefRankOf<[I32], [1]>>, "page ids", [MemRead]>:$kv_indices,
    Optional<Index>:$page_begin,
    VectorOfRankAndType<[1], [Index]>:$query_positions,
    VectorOfRankAndType<[2], [F32]>:$acc,
    VectorOfRankAndType<[1], [F32]>:$max,
    VectorOfRankAndType<[1], [F32]>:$sum,
    Optional<F32>:$scale_log2_value,
    Optional<F32>:$logits_soft_cap_value,
    Optional<Index>:$window_left_value,
    Optional<Index>:$batch,
    Optional<VectorOfRankAndType<[1], [Index]>>:$query_heads,
    Arg<Optional<MemRefRankOf<[I8], [1]>>, "custom mask bits",
        [MemRead]>:$mask_bits,
    Optional<Index>:$mask_first_bit,
    Optional<Index>:$mask_row_bits,
    Variadic<VectorOfRankAndType<[1], [F32]>>:$row_values,
    Optional<F32>:$rotary_theta,
    Optional<F32>:$rotary_scale,
    ConfinedAttr<I64Attr, [IntPositive]>:$block_n,
    OptionalAttr<F32Attr>:$scale_log2,
    DefaultValuedAttr<F32Attr, "0.0f">:$logits_soft_cap,
    UnitAttr:$causal,
    DefaultValuedAttr<I64Attr, "-1">:$window_left,
    UnitAttr:$masked,
    DefaultValuedAttr<Attn_KVLayoutAttr, "KVLayout::nhd">:$kv_layout,
    OptionalAttr<Attn_RotaryAttr>:$key_rotary);
  let results = (outs
    VectorOfRankAndType<[2], [F32]>:$new_acc,
    VectorOfRankAndType<[1], [F32]>:$new_max,
    VectorOfRankAndType<[1], [F32]>:$new_sum);
  let regions = (region MaxSizedRegion<1>:$score_mod,
                        MaxSizedRegion<1>:$mask_mod);
  let assemblyFormat = [{
    $query `,` $key `[` $kv_head `,` $key_start `]` `,` $value `,` $kv_len
    (`pages` `(` $kv_indices^ `[` $page_begin `]` `:` type($kv_indices) `)`)?
    `,` $query_positions `,` $acc `,` $max `,` $sum
    (`scale_log2` `(` $scale_log2_value^ `)`)?
    (`logits_soft_cap` `(` $logits_soft_cap_value^ `)`)?
    (`window_left` `(` $window_left_value^ `)`)?
    (`batch` `(` $batch^ `)`)?
    (`query_heads` `(` $query_heads^ `:` type($query_heads) `)`)?
    (`row_values` `(` $row_values^ `:` type($row_values) `)`)?
    (`custom_mask` `(` $mask_bits^ `[` $mask_first_bit `,` $mask_row_bits `]`
      `:` type($mask_bits) `)`)?
    (`rotary_theta` `(` $rotary_theta^ `)`)?
    (`rotary_scale` `(` $rotary_scale^ `)`)?
    (`score_mod` $score_mod^)? (`mask_mod` $mask_mod^)?
    attr-dict `:`
    type($query) `,` type($key) `,` type($value) `,`
    type($query_positions) `,` type($acc) `,` type($max)
  }];
  let hasRegionVerifier = 1;
  let hasVerifier = 1;
}

#endif // FLASHINFER_DIALECT_ATTN_IR_ATTNOPS_TD
