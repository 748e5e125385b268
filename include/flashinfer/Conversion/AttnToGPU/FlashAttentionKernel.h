//===- FlashAttentionKernel.h - tiled attention kernel generator -*- C++
//-*-===//

#ifndef FLASHINFER_CONVERSION_ATTNTOGPU_FLASHATTENTIONKERNEL_H
#define FLASHINFER_CONVERSION_ATTNTOGPU_FLASHATTENTIONKERNEL_H

#include "flashinfer/Dialect/Attn/IR/AttnDialect.h"
#include "flashinfer/Target/MatrixInstructions.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {

/// Everything the generator needs to know about one attention problem and
/// the chosen tiling. Shapes other than the token counts are static.
struct FlashAttentionConfig {
  MatrixInstr instr;
  Type elementType;   // f16 or bf16: q and o (and k, v unless fp8)
  Type kvElementType; // k and v: elementType, or fp8 (widened when staged)
  int64_t numQoHeads = 0, numKvHeads = 0;
  int64_t headDim = 0, headDimV = 0;
  bool causal = false;
  int64_t windowLeft = -1;
  float smScale = 1.0f;
  float logitsSoftCap = 0.0f; // 0: none
  /// Variant values known at launch (the ops' sm_scale / logits_soft_cap /
  /// window_left operands): the kernel takes them as trailing scalar
  /// arguments (f32 sm_scale, f32 logits_soft_cap, i64 window_left, in this
  /// order, those present) after its other arguments.
  bool launchSmScale = false, launchSoftCap = false, launchWindow = false;
  /// Score and mask functions (the op's score_mod / mask_mod regions, scalar
  /// and self-contained), evaluated on every key tile: the kernel's steps
  /// carry them, after ALiBi's bias. A mask function makes every tile masked.
  Region *scoreMod = nullptr, *maskMod = nullptr;
  /// ALiBi's bias slope(h) * (kv_idx - q_idx): slopes from an argument
  /// `alibi_slopes` ([Hq] f32) or FlashInfer's default series for Hq heads.
  enum class Alibi { none, defaultSlopes, slopesArgument };
  Alibi alibi = Alibi::none;
  /// Attention sinks: an argument `sinks` ([Hq] f32), one logit per query
  /// head that joins the softmax denominator. Under splitKV the merge kernel
  /// takes it instead, so that it is counted once.
  bool sinks = false;
  /// Fused RoPE (pos_encoding = rope_llama): the query tile is rotated at
  /// its rows' positions before the key loop, and each key tile at its keys'
  /// (the steps' key_rotary). Needs the head dim's halves to be whole column
  /// tiles of the instruction's accumulator.
  RotaryAttr rotary;
  /// rope_theta / rope_scale known at launch (trailing f32 arguments after
  /// the other values at launch, in this order) instead of the attribute's.
  bool launchRopeTheta = false, launchRopeScale = false;
  /// A custom mask: an argument `custom_mask` (i8 [bytes]) holding the
  /// request's [qo_len, kv_len] visibility bits, row-major, little-endian
  /// within each byte. Every key tile is then masked.
  bool customMask = false;
  bool withLse = false;
  int64_t numWaves = 4; // waves (warps) per workgroup
  int64_t blockN = 64;  // keys staged per loop iteration
  /// Query tiles (of the instruction's M, or N when transposed) per wave.
  /// More tiles reuse each K and V fragment read from workgroup memory for
  /// more matrix instructions, at the cost of accumulator registers.
  int64_t queryTilesPerWave = 1;
  /// Read the query tile once before the key loops (it stays in registers),
  /// or at each key tile (from L1).
  bool qInRegisters = true;
  /// Which (token, head) a query row of a tile is. false: rows are tokens of
  /// the workgroup's head (grid.y = query heads). true (decode, one query
  /// token): rows are the query heads that share one KV head, row r being
  /// head kvHead * G + r, so each K/V tile is read once for the G heads
  /// (grid.y = KV heads); rows >= G are padding that is never stored.
  bool packHeads = false;
  /// Split-KV: the kernel takes the split size `kv_chunk` (a multiple of
  /// blockN, chosen at run time by a planner) as a trailing i64 argument;
  /// workgroup z of grid.z = ceil(kv_len / kv_chunk) handles keys
  /// [z * kv_chunk, (z + 1) * kv_chunk) and writes its normalized output and
  /// base-2 lse as f32 partials o_part[z, head, dv] and lse_part[z, head]
  /// instead of o and lse; a merge kernel combines them.
  bool splitKV = false;
  /// Paged batch decode (with packHeads and splitKV): K and V are paged
  /// caches in `kvLayout` ([pages, P, Hkv, D] or [pages, Hkv, P, D]) read
  /// through (kv_indptr, kv_indices, kv_last_page_len); q is [batch, Hq, D],
  /// request b's query row b. Workgroup z of grid.z = W runs work item z of
  /// a schedule [W, 3] of (request, kv_begin, kv_end) rows written by the
  /// planner: keys [kv_begin, kv_end) of the request, into partial row z. A
  /// request of -1 is padding (no keys). Nothing of the plan is a kernel
  /// argument by value, so a CUDA graph replays new plans.
  bool paged = false;
  KVLayout kvLayout = KVLayout::nhd;
  int64_t pageSize = ShapedType::kDynamic;
  /// Batch prefill (qo_indptr): q and o are [tokens, Hq, D], request b
  /// owning rows [qo_indptr[b], qo_indptr[b + 1]), its queries the last
  /// qo_len of its kv_len positions (bottom-right). Workgroup (x, y) of grid
  /// (W, Hq) runs work item x of a schedule [W, 2] of (request, q_begin)
  /// rows written by the planner: the request's query rows [q_begin,
  /// q_begin + blockM) of head y, straight into o (no split). Request -1 is
  /// padding. K and V are paged caches (`paged`) or, otherwise,
  /// [kv_tokens, Hkv, D] with request b's keys [kv_indptr[b], kv_indptr[b +
  /// 1]) (raggedKV()).
  bool raggedQueries = false;

  /// Batch prefill over ragged (contiguous) K/V.
  bool raggedKV() const { return raggedQueries && !paged; }

  /// Paged batch decode: one query row per request, split over a schedule.
  bool batchDecode() const { return paged && !raggedQueries; }

  /// Query rows per workgroup.
  int64_t blockM() const;

  /// The kernel's variant arguments, its last ones, in order: the variant
  /// tensors, then the values known at launch. The kernel's argument types,
  /// the manifest's argument names and its "launch_values" all come from
  /// this one list.
  enum class VariantArg {
    CustomMask,    // memref<? x i8>: the mask's bits
    AlibiSlopes,   // memref<Hq x f32>
    Sinks,         // memref<Hq x f32>
    SmScale,       // f32, known at launch
    LogitsSoftCap, // f32, known at launch
    WindowLeft,    // i64, known at launch
    RopeTheta,     // f32, known at launch
    RopeScale,     // f32, known at launch
  };
  SmallVector<VariantArg> variantArgs() const;
  /// The argument's name in the manifest (and the op operand it binds).
  static StringRef getName(VariantArg arg);
  static bool isLaunchValue(VariantArg arg) {
    return arg == VariantArg::SmScale || arg == VariantArg::LogitsSoftCap ||
           arg == VariantArg::WindowLeft || arg == VariantArg::RopeTheta ||
           arg == VariantArg::RopeScale;
  }
};

/// The type of a kernel argument that the caller passes (q, k, v, o, lse):
/// any strides with a unit innermost one, so that views (q, k and v sliced
/// from one fused projection, a token range of a larger buffer) are read in
/// place. The runtime checks the strides against the manifest's "layout".
MemRefType getUserViewType(ArrayRef<int64_t> shape, Type elementType);

/// An empty `gpu.func @name(args) kernel` at the end of `module` with a
/// one-dimensional known block size of `threads`.
gpu::GPUFuncOp createKernel(OpBuilder &builder, Location loc,
                            gpu::GPUModuleOp module, StringRef name,
                            TypeRange args, int64_t threads);

/// How the merge kernel of attn.merge_states splits its rows: each thread
/// merges `elementsPerThread` consecutive elements of one head, a workgroup
/// `headsPerWorkgroup` heads of one token.
struct MergeStatesTiling {
  int64_t elementsPerThread = 1;
  int64_t headsPerWorkgroup = 1;
};
MergeStatesTiling getMergeStatesTiling(int64_t heads, int64_t dim);

/// Builds `gpu.func @name(v_0 .. v_{n-1}, lse_0 .. lse_{n-1}, o, lse)
/// kernel` merging `n` attention states [tokens, H, D] / [tokens, H]
/// (base-2 lse) as attn.merge_states defines it, tiled by
/// getMergeStatesTiling: workgroup (t, g) of grid (tokens, H /
/// headsPerWorkgroup, 1) merges token t of its heads. Value types may differ
/// from the output's; all are views (getUserViewType) whose rows are read
/// and written as vectors. Fails for D > 1024 or dynamic H, D.
FailureOr<gpu::GPUFuncOp>
buildMergeStatesKernel(OpBuilder &builder, Location loc,
                       gpu::GPUModuleOp module, StringRef name,
                       TypeRange valueTypes, RankedTensorType outType);

/// How the append kernel of attn.append_paged_kv splits a token's rows: each
/// thread copies `elementsPerThread` elements of one KV head's K and V rows,
/// `lanesPerHead` threads a head, `threads` a token.
struct AppendPagedKVTiling {
  int64_t elementsPerThread = 1;
  int64_t lanesPerHead = 1;
  int64_t threads = 1;
};
AppendPagedKVTiling getAppendPagedKVTiling(int64_t heads, int64_t dim,
                                           int64_t dimV, int64_t elemBytes);

/// Builds `gpu.func @name(k, v, batch_indices, positions, kv_indices,
/// kv_indptr, k_cache, v_cache) kernel` writing each new token's K and V rows
/// into its page slot, as attn.append_paged_kv defines it: workgroup n of
/// grid (tokens, 1, 1) copies token n, tiled by getAppendPagedKVTiling. A
/// token whose request, position, page-list entry (it must be one of the
/// request's) or page is out of range is skipped. The caches are written in
/// place. Fails for dynamic head counts or dims, or more than 1024 threads.
FailureOr<gpu::GPUFuncOp> buildAppendPagedKVKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    RankedTensorType kType, RankedTensorType vType, RankedTensorType kCacheType,
    RankedTensorType vCacheType, KVLayout layout);

/// One attn.rope: the input's static head count and dim, the rotation and
/// where each token's position and angles come from.
struct RopeKernelConfig {
  Type elementType; // f16, bf16 or f32: input and output
  int64_t numHeads = 0, headDim = 0, rotaryDim = 0;
  bool interleave = false;
  /// Positions from `indptr` + `offsets` (a ragged batch) instead of
  /// `pos_ids`, whose element type (i32 or i64) is `positionType`.
  bool raggedPositions = false;
  Type positionType;
  /// cos and sin read from a `cos_sin_cache` [max_position, rotaryDim] f32
  /// argument instead of computed from the frequencies below.
  bool cosSinCache = false;
  float ropeScale = 1.0f, ropeTheta = 1.0e4f;
  /// rope_scale / rope_theta known at launch: trailing f32 arguments (in
  /// this order, those present) instead of the constants above.
  bool launchScale = false, launchTheta = false;
  Llama31ScalingAttr llama31;
};

/// How a rope kernel's threads cover tokens, heads and features: a lane
/// handles 2 * elementsPerThread features (two vectors of the rotate-half
/// pairs, or one vector of interleaved pairs, or a copy past rotaryDim) in
/// each of headsPerThread heads, reusing its pairs' cos and sin;
/// lanesPerHead lanes cover a head's features, all of a token's heads and
/// tokensPerWorkgroup tokens a workgroup. Grid: (ceil(tokens /
/// tokensPerWorkgroup), 1, 1).
struct RopeTiling {
  int64_t elementsPerThread = 1, lanesPerHead = 1, headsPerThread = 1,
          tokensPerWorkgroup = 1, threads = 1;
};

/// The most heads one rope lane rotates with the same cos and sin.
inline constexpr int64_t kMaxHeadsPerThread = 8;

/// The tiling of `config`, or failure when no vector width divides its dims
/// (an odd head dim) or a head needs more than a workgroup's threads.
FailureOr<RopeTiling> getRopeTiling(const RopeKernelConfig &config);

/// Builds `gpu.func @name(input, pos_ids | indptr, offsets[, cos_sin_cache],
/// output[, rope_scale][, rope_theta]) kernel` applying attn.rope, tiled by
/// getRopeTiling. A token with no position (outside indptr's rows, or a row
/// outside the cache) is not written. Each lane reads all its features before
/// writing them, so input and output may be one buffer.
FailureOr<gpu::GPUFuncOp> buildRopeKernel(OpBuilder &builder, Location loc,
                                          gpu::GPUModuleOp module,
                                          StringRef name,
                                          const RopeKernelConfig &config);

/// Builds `gpu.func @name(q, k, v, o[, lse]) kernel` computing attention with
/// FlashAttention-2's online softmax inside `module`, on whole workgroup
/// tiles: a loop of `attn.online_attention_step` over the key tiles without
/// the mask test, then one over the tiles that need it. Grid: (ceil(qo_len /
/// blockM), numQoHeads, 1); block: numWaves * waveSize threads. With
/// packHeads: q is memref<1 x Hq x D>, grid (ceil(G / blockM), numKvHeads,
/// 1). With splitKV the outputs are (o_part, lse_part, kv_chunk) and grid.z is
/// the number of chunks. Paged: `(q, k_cache, v_cache, kv_indptr,
/// kv_indices, kv_last_page_len, schedule, o_part, lse_part)`. Batch
/// prefill: `(q, k_cache, v_cache, kv_indptr, kv_indices, kv_last_page_len,
/// qo_indptr, schedule, o[, lse])` over a paged cache, `(q, k, v, qo_indptr,
/// kv_indptr, schedule, o[, lse])` over ragged K/V.
FailureOr<gpu::GPUFuncOp>
buildFlashAttentionKernel(OpBuilder &builder, Location loc,
                          gpu::GPUModuleOp module, StringRef name,
                          const FlashAttentionConfig &config);

/// The operands of a segmented merge (attn.merge_states with indptr, and
/// the merge of split-KV decode): `values [rows, H, D]` and `lse [rows, H]`
/// merged into `out [batch, H, D]` and, if `outLseType` is set, its lse;
/// with `indptrType` (i32 [batch + 1]) output row b merges the rows
/// [indptr[b], indptr[b + 1]), without it the single output row merges all
/// of them (a one-request split-KV decode).
struct SegmentedMergeConfig {
  MemRefType valuesType, lseType, indptrType, outType, outLseType;
  /// Attention sinks ([H] f32, natural-log logits): each output row's merge
  /// counts head h's sink as one more state of lse sinks[h] log2(e) and value
  /// 0, the split-KV form of the attention kernel's sinks.
  MemRefType sinksType;
};

/// Builds `gpu.func @name(values, lse[, indptr], o[, lse_out][, sinks])
/// kernel`:
/// o = sum_z 2^(lse_z - lse) values_z with lse = log2(sum_z 2^lse_z) over
/// each output row's rows; rows with lse -inf add nothing and an empty
/// segment gives o = 0, lse = -inf. Grid (H, batch, 1), block D threads, one
/// per output element. Fails for D > 1024 or dynamic H, D.
FailureOr<gpu::GPUFuncOp>
buildSegmentedMergeStatesKernel(OpBuilder &builder, Location loc,
                                gpu::GPUModuleOp module, StringRef name,
                                const SegmentedMergeConfig &config);

} // namespace mlir::attn

#endif // FLASHINFER_CONVERSION_ATTNTOGPU_FLASHATTENTIONKERNEL_H
