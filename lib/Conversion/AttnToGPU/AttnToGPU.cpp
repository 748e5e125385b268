//===- AttnToGPU.cpp - attn ops to tiled GPU kernels ----------------------===//

#include "flashinfer/Conversion/AttnToGPU/FlashAttentionKernel.h"
#include "flashinfer/Conversion/Passes.h"
#include "flashinfer/Dialect/Attn/IR/AttnOps.h"
#include "flashinfer/Dialect/Attn/Transforms/Staging.h"
#include "flashinfer/Target/AttentionLayout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

#include <map>
#include <set>

#include <numeric>

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNTOGPU
#include "flashinfer/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

/// Upper bounds of the tiling options.
static constexpr int64_t kMaxQueryTilesPerWave = 4;
static constexpr int64_t kMaxBlockN = kMaxTileDim;
static constexpr int64_t kMaxHeadDim = kMaxTileDim;

namespace {

/// The value of a constant f32 operand (null or not constant: none). A
/// launch-time operand that is constant is compiled in.
std::optional<APFloat> getConstantFloat(Value v) {
  FloatAttr attr;
  if (v && matchPattern(v, m_Constant(&attr)))
    return attr.getValue();
  return std::nullopt;
}

/// Checks the variants of `op` (attn.attention or attn.paged_attention)
/// against what the kernel generator handles and fills them in `cfg`.
template <typename OpT>
LogicalResult configureVariants(OpT op, FlashAttentionConfig &cfg) {
  auto fail = [&](const Twine &what) {
    return op.emitOpError() << "convert-attn-to-gpu: " << what;
  };
  cfg.customMask = static_cast<bool>(op.getCustomMask());
  if (op.getPosEncoding() == PosEncoding::rope_llama) {
    APFloat theta = op.getRopeTheta(), scale = op.getRopeScale();
    // Launch-time operands: constants are compiled in, others become
    // kernel arguments.
    for (auto [value, field, launch] :
         {std::tuple<Value, APFloat *, bool *>{op.getRopeThetaValue(), &theta,
                                               &cfg.launchRopeTheta},
          {op.getRopeScaleValue(), &scale, &cfg.launchRopeScale}}) {
      if (!value)
        continue;
      if (auto c = getConstantFloat(value)) {
        if (!(c->convertToFloat() > 0.0f) || c->isInfinity())
          return fail("the rope_scale and rope_theta operands must be finite "
                      "and > 0");
        *field = *c;
      } else {
        *launch = true;
      }
    }
    cfg.rotary = RotaryAttr::get(op.getContext(), theta, scale);
  }
  if (op.getPosEncoding() == PosEncoding::alibi)
    cfg.alibi = op.getAlibiSlopes()
                    ? FlashAttentionConfig::Alibi::slopesArgument
                    : FlashAttentionConfig::Alibi::defaultSlopes;
  cfg.sinks = static_cast<bool>(op.getSinks());
  if (!op.getScoreMod().empty())
    cfg.scoreMod = &op.getScoreMod();
  if (!op.getMaskMod().empty())
    cfg.maskMod = &op.getMaskMod();
  cfg.causal = op.getCausal();
  cfg.windowLeft = static_cast<int64_t>(op.getWindowLeft());
  cfg.smScale = op.getEffectiveSmScale();
  cfg.logitsSoftCap = op.getLogitsSoftCap().convertToFloat();
  cfg.withLse = static_cast<bool>(op.getLseOutput());
  // Launch-time values become kernel arguments; constants stay constants.
  if (Value v = op.getSmScaleValue()) {
    if (auto c = getConstantFloat(v)) {
      if (!(c->convertToFloat() > 0.0f) || c->isInfinity())
        return fail("the sm_scale operand must be finite and > 0");
      cfg.smScale = c->convertToFloat();
    } else {
      cfg.launchSmScale = true;
    }
  }
  if (Value v = op.getLogitsSoftCapValue()) {
    if (auto c = getConstantFloat(v))
      cfg.logitsSoftCap = std::max(0.0f, c->convertToFloat());
    else
      cfg.launchSoftCap = true;
  }
  if (Value v = op.getWindowLeftValue()) {
    IntegerAttr w;
    if (matchPattern(v, m_Constant(&w)))
      cfg.windowLeft = std::max<int64_t>(-1, w.getInt());
    else
      cfg.launchWindow = true;
  }
  return success();
}

/// Checks the element type and head dims in `cfg` against the size limits,
/// and sets cfg.instr to the first of the chip's matrix instructions
/// (`instrs`, preferred first) whose shape divides the head dims.
LogicalResult checkProblem(Operation *op, Type elem, Type outElem,
                           FlashAttentionConfig &cfg,
                           ArrayRef<MatrixInstr> instrs) {
  auto fail = [&](const Twine &what) {
    return op->emitOpError() << "convert-attn-to-gpu: " << what;
  };
  // (K and V have q's element type or an fp8 one: the verifier's rule.)
  if (!elem.isF16() && !elem.isBF16())
    return fail("only f16 and bf16 inputs have a matrix-instruction lowering");
  if (outElem != elem)
    return fail("the output element type must equal the input element type");
  // Beyond this no key tile fits in any target's workgroup memory, and the
  // tile sizes computed from the head dims would overflow.
  for (int64_t d : {cfg.headDim, cfg.headDimV})
    if (d > kMaxHeadDim)
      return fail(Twine("head dim ") + Twine(d) + " exceeds " +
                  Twine(kMaxHeadDim) + ", the most the GPU lowering takes");
  auto divides = [&](const MatrixInstr &mi) {
    return llvm::all_of(
        std::array<int64_t, 2>{cfg.headDim, cfg.headDimV}, [&](int64_t d) {
          return d % mi.k == 0 && d % mi.m == 0 && d % mi.n == 0;
        });
  };
  const MatrixInstr *fit = llvm::find_if(instrs, divides);
  if (fit == instrs.end()) {
    std::string names;
    for (const MatrixInstr &mi : instrs)
      names += (names.empty() ? "" : ", ") + mi.name.str();
    return fail(Twine("head dims ") + Twine(cfg.headDim) + "/" +
                Twine(cfg.headDimV) +
                " must be multiples of a matrix instruction's M, N and K (" +
                names + ")");
  }
  cfg.instr = *fit;
  return success();
}

/// Checks that the head-count and head-dim dims of each operand type are
/// static (the kernel generator specializes on them).
LogicalResult requireStaticHeads(
    Operation *op,
    ArrayRef<std::pair<RankedTensorType, SmallVector<unsigned>>> headDims) {
  for (const auto &[type, dims] : headDims)
    for (unsigned d : dims)
      if (type.isDynamicDim(d))
        return op->emitOpError("convert-attn-to-gpu: head counts and head "
                               "dims must be static for GPU code generation");
  return success();
}

/// Checks that `op` is something the kernel generator handles and fills in
/// the problem part of `cfg`. Reports what is missing otherwise.
LogicalResult configureAttention(AttentionOp op, FlashAttentionConfig &cfg,
                                 ArrayRef<MatrixInstr> instrs) {
  // A ragged batch (the verifier makes the two indptrs go together).
  cfg.raggedQueries = static_cast<bool>(op.getQoIndptr());
  if (failed(configureVariants(op, cfg)))
    return failure();
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto kType = cast<RankedTensorType>(op.getKey().getType());
  auto vType = cast<RankedTensorType>(op.getValue().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  if (failed(requireStaticHeads(op, {{qType, {1, 2}},
                                     {kType, {1, 2}},
                                     {vType, {1, 2}},
                                     {oType, {1, 2}}})))
    return failure();
  cfg.elementType = qType.getElementType();
  cfg.kvElementType = kType.getElementType();
  cfg.numQoHeads = qType.getDimSize(1);
  cfg.numKvHeads = kType.getDimSize(1);
  cfg.headDim = qType.getDimSize(2);
  cfg.headDimV = vType.getDimSize(2);
  return checkProblem(op, cfg.elementType, oType.getElementType(), cfg, instrs);
}

/// The same for attn.paged_attention: batch decode (one query row per
/// request, no qo_indptr) or batch prefill (qo_indptr) over paged caches of
/// static head counts and head dims; the page size may be dynamic.
LogicalResult configurePagedAttention(PagedAttentionOp op,
                                      FlashAttentionConfig &cfg,
                                      ArrayRef<MatrixInstr> instrs) {
  cfg.raggedQueries = static_cast<bool>(op.getQoIndptr());
  if (failed(configureVariants(op, cfg)))
    return failure();
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto kType = cast<RankedTensorType>(op.getKCache().getType());
  auto vType = cast<RankedTensorType>(op.getVCache().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  unsigned headDimOfCache = op.getKVHeadDim();
  if (failed(requireStaticHeads(op, {{qType, {1, 2}},
                                     {oType, {1, 2}},
                                     {kType, {headDimOfCache, 3}},
                                     {vType, {headDimOfCache, 3}}})))
    return failure();
  cfg.paged = true;
  cfg.kvLayout = op.getKvLayout();
  cfg.pageSize = kType.getDimSize(op.getPageSlotDim());
  cfg.elementType = qType.getElementType();
  cfg.kvElementType = kType.getElementType();
  cfg.numQoHeads = qType.getDimSize(1);
  cfg.numKvHeads = kType.getDimSize(headDimOfCache);
  cfg.headDim = qType.getDimSize(2);
  cfg.headDimV = vType.getDimSize(3);
  return checkProblem(op, cfg.elementType, oType.getElementType(), cfg, instrs);
}

/// Workgroup memory bytes of the K and V tiles for `blockN`, as
/// attn-promote-to-workgroup-memory lays them out (Staging.h): K as
/// [key][d]; V as [key][dv] when staged with asynchronous copies, else
/// transposed (its reduction dim, the keys, innermost).
int64_t tileBytes(const FlashAttentionConfig &cfg, int64_t blockN) {
  // Tiles are staged in q's type (fp8 K/V widened on the way).
  int64_t bytes = cfg.elementType.getIntOrFloatBitWidth() / 8;
  int64_t sourceBytes = cfg.kvElementType.getIntOrFloatBitWidth() / 8;
  auto k = stagedBufferShape(blockN, cfg.headDim, /*transposed=*/false, bytes);
  auto v = stagedBufferShape(
      blockN, cfg.headDimV,
      !stagesWithAsyncCopies(cfg.instr, sourceBytes, bytes), bytes);
  return (k[0] * k[1] + v[0] * v[1]) * bytes;
}

/// Picks how many query tiles each wave owns, the key tile, and whether Q
/// stays in registers, from a per-lane budget of 32-bit registers for the
/// long-lived values (accumulators, scores, Q). Two query tiles halve the
/// workgroup-memory reads per matrix instruction. Options > 0 force the tile
/// count or key tile.
void chooseRegisterTiling(FlashAttentionConfig &cfg, int64_t requestedTiles,
                          int64_t requestedBlockN) {
  const MatrixInstr &mi = cfg.instr;
  AttentionLayout layout = *getAttentionLayout(mi);
  int64_t tileKeys = layout.colsPerTile(), dvPerTile = layout.colsPerTile();
  int64_t accRegs = cfg.headDimV / dvPerTile * mi.c.numElems;
  auto scoreRegs = [&](int64_t blockN) {
    return blockN / tileKeys * mi.c.numElems;
  };
  // Two 16-bit elements per register.
  int64_t qRegs = cfg.headDim / mi.k * layout.queryOperand().numElems / 2;
  const int64_t budget = 180;
  int64_t maxBlockN = cfg.blockN; // what fits in workgroup memory
  // Measured on H100 (docs/performance.md): a second query tile pays only
  // when it does not force a smaller key tile; with the key tile halved the
  // extra loop trips cost more than the reuse saves. A query tile turned by
  // fused RoPE (built in f32 halves, kept in registers so that it is not
  // turned again at every key tile) counts twice its packed registers: with
  // it ptxas spills two tiles at head dim 64 (checked with ptxas -v).
  int64_t perTile =
      accRegs + scoreRegs(maxBlockN) + (cfg.rotary ? 2 * qRegs : 0);
  int64_t tiles = requestedTiles > 0 ? requestedTiles
                  : mi.maxQueryTilesPerWave >= 2 && 2 * perTile <= budget ? 2
                                                                          : 1;
  int64_t blockN =
      requestedBlockN > 0 ? std::min(requestedBlockN, maxBlockN) : maxBlockN;
  cfg.queryTilesPerWave = tiles;
  cfg.blockN = blockN;
  cfg.qInRegisters = tiles * (accRegs + scoreRegs(blockN) + qRegs) <= budget;
}

/// The #attn.kernel of `kernel`: a one-dimensional block of `threads`.
KernelAttr makeKernelAttr(Builder &b, gpu::GPUFuncOp kernel, StringRef opName,
                          int64_t threads, ArrayRef<Attribute> grid,
                          int64_t staticSharedMemory,
                          ArrayRef<NamedAttribute> params, ArrayAttr args) {
  return KernelAttr::get(b.getContext(), kernel.getName(), opName,
                         b.getDictionaryAttr(params), {threads, 1, 1},
                         b.getArrayAttr(grid), staticSharedMemory, args);
}

/// What the manifest says of one kernel argument beyond its type: its name,
/// the sizes its dynamic dimensions must have (in order; an absent entry
/// leaves the size free), and the alignment in bytes of its rows and data
/// pointer that the kernel's vector accesses need (0: none).
struct ManifestArg {
  StringRef name;
  SmallVector<Attribute> dynamicSizes = {};
  int64_t alignBytes = 0;
  int64_t multipleOf = 0; // integer scalars
};

/// The manifest's "args" of `kernel`, from its argument types: dtype, rank,
/// the static sizes, and layout ("strided" for the views the caller passes,
/// getUserViewType, with the alignment their vector accesses need).
ArrayAttr buildManifestArgs(Builder &b, gpu::GPUFuncOp kernel,
                            ArrayRef<ManifestArg> descs) {
  auto str = [&](StringRef s) { return b.getStringAttr(s); };
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  auto named = [&](StringRef k, Attribute v) { return b.getNamedAttr(k, v); };
  auto typeName = [](Type type) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << type;
    return text;
  };
  assert(descs.size() == kernel.getNumArguments() && "one entry per argument");
  SmallVector<Attribute> args;
  for (auto [desc, type] : llvm::zip(descs, kernel.getArgumentTypes())) {
    SmallVector<NamedAttribute> entry = {named("name", str(desc.name))};
    auto memref = dyn_cast<MemRefType>(type);
    if (!memref) {
      entry.push_back(named("kind", str("scalar")));
      entry.push_back(named("dtype", str(typeName(type))));
      if (desc.multipleOf > 0)
        entry.push_back(named("multiple_of", i64(desc.multipleOf)));
      args.push_back(b.getDictionaryAttr(entry));
      continue;
    }
    entry.push_back(named("kind", str("memref")));
    entry.push_back(named("dtype", str(typeName(memref.getElementType()))));
    entry.push_back(named("rank", i64(memref.getRank())));
    SmallVector<Attribute> shape;
    const Attribute *nextDynamic = desc.dynamicSizes.begin();
    for (int64_t size : memref.getShape()) {
      if (!ShapedType::isDynamic(size))
        shape.push_back(i64(size));
      else if (nextDynamic != desc.dynamicSizes.end())
        shape.push_back(*nextDynamic++);
      else
        shape.push_back(i64(-1));
    }
    entry.push_back(named("shape", b.getArrayAttr(shape)));
    bool strided = !memref.getLayout().isIdentity();
    entry.push_back(named("layout", str(strided ? "strided" : "contiguous")));
    if (strided && desc.alignBytes > 1)
      entry.push_back(named("align", i64(desc.alignBytes)));
    args.push_back(b.getDictionaryAttr(entry));
  }
  return b.getArrayAttr(args);
}

/// Argument names of a segmented merge kernel in its manifest (`sinks`
/// empty: none).
struct SegmentedMergeNames {
  StringRef values, lse, indptr, out, outLse, sinks;
};

/// The manifest entry of a kernel built by buildSegmentedMergeStatesKernel:
/// the state's rows are free, the lse has the values' rows, the indptr one
/// entry per output row and one more; grid (H, output rows, 1), one thread
/// per element of a head. `extraParams` joins the entry's params.
KernelAttr buildSegmentedMergeEntry(Builder &b, gpu::GPUFuncOp kernel,
                                    const SegmentedMergeNames &names,
                                    ArrayRef<NamedAttribute> extraParams) {
  auto str = [&](StringRef s) { return b.getStringAttr(s); };
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  auto named = [&](StringRef k, Attribute v) { return b.getNamedAttr(k, v); };
  auto dimOf = [&](StringRef arg, int64_t d = 0) {
    return b.getDictionaryAttr(
        {named("dim", b.getArrayAttr({str(arg), i64(d)}))});
  };
  auto add = [&](Attribute lhs, int64_t rhs) {
    return b.getDictionaryAttr({named("add", b.getArrayAttr({lhs, i64(rhs)}))});
  };
  ArrayRef<Type> types = kernel.getArgumentTypes();
  bool withIndptr = types.size() > 2 && isa<MemRefType>(types[2]) &&
                    cast<MemRefType>(types[2]).getRank() == 1;
  unsigned outArg = withIndptr ? 3 : 2;
  auto outType = cast<MemRefType>(types[outArg]);
  int64_t heads = outType.getDimSize(1), dim = outType.getDimSize(2);
  // Scalar accesses, one element per thread: no alignment beyond the type's.
  SmallVector<ManifestArg> descs = {{names.values},
                                    {names.lse, {dimOf(names.values)}}};
  if (withIndptr)
    descs.push_back({names.indptr, {add(dimOf(names.out), 1)}});
  descs.push_back({names.out});
  unsigned withSinks = names.sinks.empty() ? 0 : 1;
  if (types.size() > outArg + 1 + withSinks)
    descs.push_back({names.outLse, {dimOf(names.out)}});
  if (withSinks)
    descs.push_back({names.sinks});
  ArrayAttr args = buildManifestArgs(b, kernel, descs);
  SmallVector<NamedAttribute> params(extraParams);
  params.push_back(named("num_qo_heads", i64(heads)));
  params.push_back(named("head_dim_v", i64(dim)));
  params.push_back(named("lse_base", str("2")));
  Attribute rows = withIndptr ? Attribute(dimOf(names.out)) : i64(1);
  return makeKernelAttr(b, kernel, MergeStatesOp::getOperationName(), dim,
                        {i64(heads), rows, i64(1)}, 0, params, args);
}

/// The manifest entries of `op`'s kernels, in launch order: one prefill
/// kernel, or for decode (packHeads) the split-KV kernel and its merge
/// kernel, both carrying the workspace they share in "params".
SmallVector<KernelAttr> buildManifestEntries(Builder &b, Operation *op,
                                             gpu::GPUFuncOp kernel,
                                             gpu::GPUFuncOp merge,
                                             const FlashAttentionConfig &cfg) {
  auto str = [&](StringRef s) { return b.getStringAttr(s); };
  auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
  auto named = [&](StringRef k, Attribute v) { return b.getNamedAttr(k, v); };
  auto dimOf = [&](StringRef arg, int64_t d = 0) {
    return b.getDictionaryAttr(
        {named("dim", b.getArrayAttr({str(arg), i64(d)}))});
  };
  // v_cache has k_cache's pages and, when it is dynamic, its page size.
  SmallVector<Attribute> vCachePages = {dimOf("k_cache")};
  if (ShapedType::isDynamic(cfg.pageSize))
    vCachePages.push_back(dimOf("k_cache", getPageSlotDim(cfg.kvLayout)));
  auto ceilDiv = [&](StringRef arg, Attribute divisor) {
    return b.getDictionaryAttr(
        {named("ceil_div", b.getArrayAttr({str(arg), i64(0), divisor}))});
  };
  auto add = [&](Attribute lhs, int64_t rhs) {
    return b.getDictionaryAttr({named("add", b.getArrayAttr({lhs, i64(rhs)}))});
  };
  bool split = cfg.splitKV;
  // Token counts: v has k's, o and lse have q's; the split-KV partials have
  // one row per chunk of kv_chunk keys (docs/runtime.md: planning decode).
  // q, k, v and o rows are staged and stored with 16-byte accesses.
  int64_t rowAlign = kStagingCopyBytes;
  SmallVector<ManifestArg> argDescs;
  // Split-KV partials: one row per chunk of kv_chunk keys, or with a batch
  // one per row of the planner's schedule.
  Attribute partials = ceilDiv("k", str("kv_chunk"));
  // A batch's size: the page table's or the indptrs' length.
  Attribute batch;
  if (cfg.raggedQueries && cfg.paged) {
    // Request b owns q rows qo_indptr[b] .. qo_indptr[b + 1] and the pages
    // kv_indptr[b] .. kv_indptr[b + 1].
    batch = dimOf("kv_last_page_len");
    argDescs = {{"q", {}, rowAlign},
                {"k_cache", {}, rowAlign},
                {"v_cache", vCachePages, rowAlign},
                {"kv_indptr", {add(batch, 1)}},
                {"kv_indices"},
                {"kv_last_page_len"},
                {"qo_indptr", {add(batch, 1)}},
                {"schedule"}};
  } else if (cfg.raggedKV()) {
    // ... and key rows kv_indptr[b] .. kv_indptr[b + 1].
    batch = add(dimOf("qo_indptr"), -1);
    argDescs = {{"q", {}, rowAlign},
                {"k", {}, rowAlign},
                {"v", {dimOf("k")}, rowAlign},
                {"qo_indptr"},
                {"kv_indptr", {dimOf("qo_indptr")}},
                {"schedule"}};
  } else if (cfg.paged) {
    // A paged batch: request b is q's row b and owns kv_indptr[b] ..
    // kv_indptr[b + 1] of the page list; v_cache has k_cache's pages.
    batch = dimOf("q");
    argDescs = {{"q", {}, rowAlign},
                {"k_cache", {}, rowAlign},
                {"v_cache", vCachePages, rowAlign},
                {"kv_indptr", {add(batch, 1)}},
                {"kv_indices"},
                {"kv_last_page_len", {batch}},
                {"schedule"}};
    partials = dimOf("schedule");
  } else {
    argDescs = {{"q", {}, rowAlign},
                {"k", {}, rowAlign},
                {"v", {dimOf("k")}, rowAlign}};
  }
  SmallVector<ManifestArg> outDescs = {{"o", {dimOf("q")}, rowAlign}};
  if (cfg.withLse)
    outDescs.push_back({"lse", {dimOf("q")}});
  if (split) {
    argDescs.push_back({"o_part", {partials}});
    argDescs.push_back({"lse_part", {partials}});
    if (!cfg.paged)
      argDescs.push_back({"kv_chunk", {}, 0, cfg.blockN});
  } else {
    llvm::append_range(argDescs, outDescs);
  }
  SmallVector<FlashAttentionConfig::VariantArg> variants = cfg.variantArgs();
  for (FlashAttentionConfig::VariantArg arg : variants)
    argDescs.push_back({FlashAttentionConfig::getName(arg)});
  ArrayAttr args = buildManifestArgs(b, kernel, argDescs);

  int64_t group = cfg.numQoHeads / cfg.numKvHeads;
  auto mulExpr = [&](Attribute lhs, Attribute rhs) {
    return b.getDictionaryAttr({named("mul", b.getArrayAttr({lhs, rhs}))});
  };
  auto atMostOne = [&](Attribute x) {
    return b.getDictionaryAttr({named("min", b.getArrayAttr({x, i64(1)}))});
  };
  SmallVector<Attribute> grid;
  Attribute headTiles = i64((group + cfg.blockM() - 1) / cfg.blockM());
  if (cfg.raggedQueries) {
    // One workgroup per schedule row and query head; an empty batch or q
    // launches nothing (the padding rows would have no row to read).
    grid = {mulExpr(dimOf("schedule"),
                    mulExpr(atMostOne(batch), atMostOne(dimOf("q")))),
            i64(cfg.numQoHeads), i64(1)};
  } else if (cfg.packHeads) {
    // An empty paged batch launches nothing, for the same reason.
    if (cfg.paged)
      headTiles = mulExpr(headTiles, atMostOne(dimOf("q")));
    grid = {headTiles, i64(cfg.numKvHeads), split ? partials : i64(1)};
  } else {
    grid = {ceilDiv("q", i64(cfg.blockM())), i64(cfg.numQoHeads), i64(1)};
  }

  // Split-KV workspace, sized with the grid's expression forms over the
  // attention operands (q, k, v): o_part [splits, Hq, Dv], lse_part
  // [splits, Hq], both f32.
  Attribute workspace;
  if (split) {
    auto buffer = [&](StringRef bufName, ArrayRef<Attribute> shape) {
      return b.getDictionaryAttr({named("name", str(bufName)),
                                  named("dtype", str("f32")),
                                  named("shape", b.getArrayAttr(shape))});
    };
    workspace = b.getArrayAttr(
        {buffer("o_part", {partials, i64(cfg.numQoHeads), i64(cfg.headDimV)}),
         buffer("lse_part", {partials, i64(cfg.numQoHeads)})});
  }

  SmallVector<NamedAttribute> paramList = {
      named("num_qo_heads", i64(cfg.numQoHeads)),
      named("num_kv_heads", i64(cfg.numKvHeads)),
      named("head_dim", i64(cfg.headDim)),
      named("head_dim_v", i64(cfg.headDimV)),
      named("causal", b.getBoolAttr(cfg.causal)),
      named("window_left", i64(cfg.windowLeft)),
      named("sm_scale", b.getF64FloatAttr(cfg.smScale)),
      named("logits_soft_cap", b.getF64FloatAttr(cfg.logitsSoftCap)),
      named("lse_base", str("2")),
      named("block_m", i64(cfg.blockM())),
      named("block_n", i64(cfg.blockN)),
      named("query_tiles_per_wave", i64(cfg.queryTilesPerWave)),
      named("q_in_registers", b.getBoolAttr(cfg.qInRegisters)),
      named("matrix_instruction", str(cfg.instr.name))};
  // The variant values the kernel takes as arguments, at launch (their
  // params above are then only the ops' defaults).
  SmallVector<StringRef> launchValues;
  for (FlashAttentionConfig::VariantArg arg : variants)
    if (FlashAttentionConfig::isLaunchValue(arg))
      launchValues.push_back(FlashAttentionConfig::getName(arg));
  if (!launchValues.empty())
    paramList.push_back(
        named("launch_values", b.getStrArrayAttr(launchValues)));
  if (cfg.alibi != FlashAttentionConfig::Alibi::none)
    paramList.push_back(
        named("alibi_slopes",
              str(cfg.alibi == FlashAttentionConfig::Alibi::slopesArgument
                      ? "argument"
                      : "default")));
  if (cfg.sinks)
    paramList.push_back(named("sinks", b.getBoolAttr(true)));
  if (cfg.rotary) {
    paramList.push_back(named("pos_encoding", str("rope_llama")));
    paramList.push_back(
        named("rope_theta",
              b.getF64FloatAttr(cfg.rotary.getTheta().convertToFloat())));
    paramList.push_back(
        named("rope_scale",
              b.getF64FloatAttr(cfg.rotary.getScale().convertToFloat())));
  }
  if (cfg.customMask)
    paramList.push_back(named("custom_mask", b.getBoolAttr(true)));
  if (cfg.scoreMod)
    paramList.push_back(named("score_mod", b.getBoolAttr(true)));
  if (cfg.maskMod)
    paramList.push_back(named("mask_mod", b.getBoolAttr(true)));
  if (cfg.packHeads) {
    // Query row r of a workgroup is head kv_head * G + r.
    paramList.push_back(named("rows", str("heads")));
    paramList.push_back(named("group_size", i64(group)));
  }
  if (cfg.paged) {
    // What the planner needs: kv_len = (pages - 1) * page_size +
    // kv_last_page_len.
    paramList.push_back(named("kv_source", str("paged")));
    paramList.push_back(
        named("kv_layout", str(cfg.kvLayout == KVLayout::nhd ? "nhd" : "hnd")));
    paramList.push_back(
        named("page_size",
              i64(ShapedType::isDynamic(cfg.pageSize) ? -1 : cfg.pageSize)));
  } else if (cfg.raggedKV()) {
    paramList.push_back(named("kv_source", str("ragged")));
  }
  // The schedule's rows: (request, kv_begin, kv_end) for decode, (request,
  // q_begin) for prefill; request -1 is padding.
  if (cfg.raggedQueries)
    paramList.push_back(named("schedule", str("request_q_tile")));
  else if (cfg.paged)
    paramList.push_back(named("schedule", str("request_kv_range")));
  if (split) {
    paramList.push_back(named("stage", str("split_kv")));
    paramList.push_back(named("kv_chunk_multiple", i64(cfg.blockN)));
    paramList.push_back(
        named("split_workgroups_per_cu",
              i64(cfg.paged ? cfg.instr.pagedSplitWorkgroupsPerComputeUnit
                            : cfg.instr.splitWorkgroupsPerComputeUnit)));
    paramList.push_back(named("workspace", workspace));
  }
  SmallVector<KernelAttr> entries = {
      makeKernelAttr(b, kernel, op->getName().getStringRef(),
                     cfg.numWaves * cfg.instr.waveSize, grid,
                     tileBytes(cfg, cfg.blockN), paramList, args)};
  if (!split)
    return entries;

  entries.push_back(buildSegmentedMergeEntry(
      b, merge,
      {"o_part", "lse_part", "merge_indptr", "o", "lse",
       cfg.sinks ? "sinks" : ""},
      {named("stage", str("merge")), named("workspace", workspace)}));
  return entries;
}

/// The operand of `op` that the kernel argument `argName` of its kernels
/// reads or writes; null for the planner's buffers and the workspace
/// (schedule, merge_indptr, o_part, lse_part, kv_chunk).
Value getOperandOfKernelArg(Operation *op, StringRef argName) {
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](AttentionOp a) -> Value {
        return llvm::StringSwitch<Value>(argName)
            .Case("q", a.getQuery())
            .Case("k", a.getKey())
            .Case("v", a.getValue())
            .Case("qo_indptr", a.getQoIndptr())
            .Case("kv_indptr", a.getKvIndptr())
            .Case("o", a.getOutput())
            .Case("lse", a.getLseOutput())
            .Case("sm_scale", a.getSmScaleValue())
            .Case("logits_soft_cap", a.getLogitsSoftCapValue())
            .Case("window_left", a.getWindowLeftValue())
            .Case("rope_scale", a.getRopeScaleValue())
            .Case("rope_theta", a.getRopeThetaValue())
            .Case("alibi_slopes", a.getAlibiSlopes())
            .Case("sinks", a.getSinks())
            .Case("custom_mask", a.getCustomMask())
            .Default(Value());
      })
      .Case([&](PagedAttentionOp a) -> Value {
        return llvm::StringSwitch<Value>(argName)
            .Case("q", a.getQuery())
            .Case("k_cache", a.getKCache())
            .Case("v_cache", a.getVCache())
            .Case("kv_indptr", a.getKvIndptr())
            .Case("kv_indices", a.getKvIndices())
            .Case("kv_last_page_len", a.getKvLastPageLen())
            .Case("qo_indptr", a.getQoIndptr())
            .Case("o", a.getOutput())
            .Case("lse", a.getLseOutput())
            .Case("sm_scale", a.getSmScaleValue())
            .Case("logits_soft_cap", a.getLogitsSoftCapValue())
            .Case("window_left", a.getWindowLeftValue())
            .Case("rope_scale", a.getRopeScaleValue())
            .Case("rope_theta", a.getRopeThetaValue())
            .Case("alibi_slopes", a.getAlibiSlopes())
            .Case("sinks", a.getSinks())
            .Case("custom_mask", a.getCustomMask())
            .Default(Value());
      })
      .Case([&](AppendPagedKVOp a) -> Value {
        return llvm::StringSwitch<Value>(argName)
            .Case("k", a.getKey())
            .Case("v", a.getValue())
            .Case("batch_indices", a.getBatchIndices())
            .Case("positions", a.getPositions())
            .Case("kv_indices", a.getKvIndices())
            .Case("kv_indptr", a.getKvIndptr())
            .Case("k_cache", a.getKCache())
            .Case("v_cache", a.getVCache())
            .Default(Value());
      })
      .Case([&](RopeOp r) -> Value {
        return llvm::StringSwitch<Value>(argName)
            .Case("input", r.getInput())
            .Case("pos_ids", r.getPosIds())
            .Case("indptr", r.getIndptr())
            .Case("offsets", r.getOffsets())
            .Case("cos_sin_cache", r.getCosSinCache())
            .Case("rope_scale", r.getRopeScaleValue())
            .Case("rope_theta", r.getRopeThetaValue())
            .Case("output", r.getOutput())
            .Default(Value());
      })
      .Case([&](MergeStatesOp m) -> Value {
        if (argName == "indptr")
          return m.getIndptr();
        if (argName == "o")
          return m.getOutputs()[0];
        if (argName == "lse")
          return m.getOutputs()[1];
        unsigned i = 0;
        if (argName.consume_front("lse") && !argName.getAsInteger(10, i))
          return Value(m.getLses()[i]);
        if (argName.consume_front("v") && !argName.getAsInteger(10, i))
          return Value(m.getValues()[i]);
        return Value();
      })
      .Default([](Operation *) { return Value(); });
}

/// `expr` (a size expression, or an array or dictionary of them) with the
/// argument names of its {dim}/{ceil_div} references replaced by `names`.
Attribute renameArgRefs(Builder &b, Attribute expr,
                        const llvm::StringMap<std::string> &names) {
  auto rename = [&](Attribute a) -> Attribute {
    auto str = dyn_cast<StringAttr>(a);
    if (!str || !names.count(str.getValue()))
      return a;
    return b.getStringAttr(names.lookup(str.getValue()));
  };
  if (auto array = dyn_cast<ArrayAttr>(expr))
    return b.getArrayAttr(llvm::map_to_vector(
        array, [&](Attribute e) { return renameArgRefs(b, e, names); }));
  auto dict = dyn_cast<DictionaryAttr>(expr);
  if (!dict)
    return expr;
  NamedAttrList out;
  for (NamedAttribute entry : dict) {
    StringRef key = entry.getName().getValue();
    auto operands = dyn_cast<ArrayAttr>(entry.getValue());
    if ((key == "dim" || key == "ceil_div") && operands) {
      // [arg, dim] or [arg, dim, divisor]; a divisor may name a scalar.
      SmallVector<Attribute> renamed(operands.begin(), operands.end());
      for (unsigned i = 0; i < renamed.size(); i += 2)
        renamed[i] = rename(renamed[i]);
      out.append(entry.getName(), b.getArrayAttr(renamed));
      continue;
    }
    out.append(entry.getName(), renameArgRefs(b, entry.getValue(), names));
  }
  return out.getDictionary(b.getContext());
}

/// The function argument that `v` is: an argument itself, or the result of
/// an earlier destination-style op of the function, which is its init.
BlockArgument traceToFunctionArgument(Value v, Block &body) {
  while (auto result = dyn_cast<OpResult>(v)) {
    auto dps = dyn_cast<DestinationStyleOpInterface>(result.getOwner());
    if (!dps || !isa<AttnDialect>(dps->getDialect()))
      return {};
    v = dps.getDpsInitOperand(result.getResultNumber())->get();
  }
  auto arg = dyn_cast<BlockArgument>(v);
  return arg && arg.getOwner() == &body ? arg : BlockArgument();
}

struct ConvertAttnToGPUPass
    : public attn::impl::ConvertAttnToGPUBase<ConvertAttnToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MatrixElemType probe = MatrixElemType::F16;
    if (!getMatrixInstr(chip, probe)) {
      module.emitError() << "convert-attn-to-gpu: unsupported chip '" << chip
                         << "' (supported: sm_80, sm_86, sm_89, sm_90, "
                            "sm_90a, gfx940, gfx941, gfx942, gfx950)";
      return signalPassFailure();
    }
    if (numWaves < 0 || numWaves > 16) {
      module.emitError() << "convert-attn-to-gpu: num-waves must be in "
                            "[1, 16] (or 0 for the target default), got "
                         << static_cast<int64_t>(numWaves);
      return signalPassFailure();
    }

    // Bounds that keep the generated tiles within what any target holds
    // (and the compile time within seconds).
    if (queryTilesPerWave < 0 || queryTilesPerWave > kMaxQueryTilesPerWave) {
      module.emitError() << "convert-attn-to-gpu: query-tiles-per-wave must "
                            "be in [1, "
                         << kMaxQueryTilesPerWave
                         << "] (or 0 to choose from the register budget), got "
                         << static_cast<int64_t>(queryTilesPerWave);
      return signalPassFailure();
    }
    if (blockN < 0 || blockN > kMaxBlockN) {
      module.emitError() << "convert-attn-to-gpu: block-n must be in [1, "
                         << kMaxBlockN
                         << "] (or 0 to choose from the budgets), got "
                         << static_cast<int64_t>(blockN);
      return signalPassFailure();
    }

    // The functions holding attn ops, in module order; each becomes one
    // gpu.module and its launch sequence.
    llvm::SetVector<func::FuncOp> funcs;
    WalkResult walk = module.walk([&](Operation *op) {
      if (!isa<AttentionOp, PagedAttentionOp, MergeStatesOp, AppendPagedKVOp,
               RopeOp>(op))
        return WalkResult::advance();
      auto func = dyn_cast<func::FuncOp>(op->getParentOp());
      if (!func) {
        op->emitOpError("convert-attn-to-gpu: expected directly inside a "
                        "func.func, which becomes its launch sequence");
        return WalkResult::interrupt();
      }
      funcs.insert(func);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();

    OpBuilder builder(module.getContext());
    for (func::FuncOp func : funcs) {
      if (failed(lowerFunction(builder, func)))
        return signalPassFailure();
      func.erase();
    }
  }

  /// Lowers every attn op of `func` into kernels of one gpu.module and
  /// records them, with the launch sequence that runs them in program order,
  /// in an attn.kernel_manifest. The sequence's arguments are the
  /// function's arguments that the ops use (an op result stands for its
  /// destination), named after the first kernel argument bound to them, then
  /// each op's planner buffers and workspace.
  LogicalResult lowerFunction(OpBuilder &builder, func::FuncOp func) {
    Block &body = func.getBody().front();
    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator()) {
      if (!isa<AttentionOp, PagedAttentionOp, MergeStatesOp, AppendPagedKVOp,
               RopeOp>(op))
        continue;
      for (auto [i, operand] : llvm::enumerate(op.getOperands()))
        if (!traceToFunctionArgument(operand, body) &&
            !matchPattern(operand, m_Constant()))
          return op.emitOpError()
                 << "convert-attn-to-gpu: operand #" << i
                 << " must be an argument of the enclosing function, the "
                    "result of an earlier attn op in it or a constant";
      ops.push_back(&op);
    }
    // Nothing else can run between the launches (constants are folded into
    // the kernels).
    for (Operation &op : body.without_terminator())
      if (!isa<AttentionOp, PagedAttentionOp, MergeStatesOp, AppendPagedKVOp,
               RopeOp>(op) &&
          !op.hasTrait<OpTrait::ConstantLike>())
        return op.emitOpError()
               << "convert-attn-to-gpu: a function with attn ops becomes a "
                  "launch sequence and may hold only attn ops, constants "
                  "and its return";

    gpu::GPUModuleOp gpuModule = createKernelModule(builder, func);
    SmallVector<Attribute> kernels, launches, workspace;
    SmallVector<std::string> argNames;
    // Sequence argument of each function argument, and of each (op, planner
    // or workspace buffer) pair.
    DenseMap<BlockArgument, int64_t> argOfOperand;
    std::map<std::pair<size_t, std::string>, int64_t> argOfBuffer;
    llvm::StringSet<> usedNames;
    std::set<int64_t> recordedWorkspace;
    auto addArg = [&](StringRef name, size_t opIndex) {
      std::string unique = name.str();
      if (!usedNames.insert(unique).second) {
        unique = (name + "_" + Twine(opIndex)).str();
        for (int n = 1; !usedNames.insert(unique).second; ++n)
          unique = (name + "_" + Twine(opIndex) + "_" + Twine(n)).str();
      }
      argNames.push_back(unique);
      return static_cast<int64_t>(argNames.size() - 1);
    };
    for (auto [opIndex, op] : llvm::enumerate(ops)) {
      std::string name = ops.size() == 1
                             ? func.getSymName().str()
                             : (func.getSymName() + "_" + Twine(opIndex)).str();
      FailureOr<SmallVector<KernelAttr>> built =
          llvm::TypeSwitch<Operation *, FailureOr<SmallVector<KernelAttr>>>(op)
              .Case([&](MergeStatesOp m) {
                return lowerMergeStates(builder, m, gpuModule, name);
              })
              .Case([&](AppendPagedKVOp a) {
                return lowerAppendPagedKV(builder, a, gpuModule, name);
              })
              .Case([&](RopeOp r) {
                return lowerRope(builder, r, gpuModule, name);
              })
              .Default([&](Operation *) {
                return lowerAttention(builder, op, gpuModule, name);
              });
      if (failed(built))
        return failure();
      for (KernelAttr kernel : *built) {
        SmallVector<int64_t> bound;
        for (unsigned i = 0, e = kernel.getArgs().size(); i < e; ++i) {
          StringRef argName = kernel.getArgName(i);
          if (Value operand = getOperandOfKernelArg(op, argName)) {
            BlockArgument arg = traceToFunctionArgument(operand, body);
            auto [it, inserted] = argOfOperand.try_emplace(arg, 0);
            if (inserted)
              it->second = addArg(argName, opIndex);
            bound.push_back(it->second);
            continue;
          }
          auto [it, inserted] =
              argOfBuffer.try_emplace({opIndex, argName.str()}, 0);
          if (inserted)
            it->second = addArg(argName, opIndex);
          bound.push_back(it->second);
        }
        kernels.push_back(kernel);
        launches.push_back(KernelLaunchAttr::get(builder.getContext(),
                                                 kernel.getName(), bound));
        // The split-KV partials, under their sequence names, once each.
        if (auto buffers = kernel.getParams().getAs<ArrayAttr>("workspace"))
          for (Attribute buffer : buffers) {
            auto entry = cast<DictionaryAttr>(buffer);
            int64_t index = argOfBuffer.at(
                {opIndex, entry.getAs<StringAttr>("name").getValue().str()});
            if (!recordedWorkspace.insert(index).second)
              continue;
            NamedAttrList renamed(entry);
            renamed.set("name", builder.getStringAttr(argNames[index]));
            // Its shape refers to the kernel's arguments: name the sequence's.
            llvm::StringMap<std::string> sequenceName;
            for (unsigned i = 0, e = bound.size(); i < e; ++i)
              sequenceName[kernel.getArgName(i)] = argNames[bound[i]];
            renamed.set("shape", renameArgRefs(builder, entry.get("shape"),
                                               sequenceName));
            workspace.push_back(renamed.getDictionary(builder.getContext()));
          }
      }
    }
    // Before the kernels it describes.
    builder.setInsertionPoint(gpuModule);
    SmallVector<StringRef> names(argNames.begin(), argNames.end());
    KernelManifestOp::create(
        builder, func.getLoc(), gpuModule.getName(), chip,
        builder.getArrayAttr(kernels), builder.getStrArrayAttr(names),
        builder.getArrayAttr(launches), builder.getArrayAttr(workspace));
    return success();
  }

  /// The kernels of one attn.attention or attn.paged_attention: one tiled
  /// kernel, or for decode the split-KV kernel and its merge.
  FailureOr<SmallVector<KernelAttr>> lowerAttention(OpBuilder &builder,
                                                    Operation *op,
                                                    gpu::GPUModuleOp gpuModule,
                                                    StringRef name) {
    auto paged = dyn_cast<PagedAttentionOp>(op);
    Value query = paged ? paged.getQuery() : cast<AttentionOp>(op).getQuery();
    auto elemType = getElementTypeOrSelf(query.getType());
    FlashAttentionConfig cfg;
    SmallVector<MatrixInstr, 2> instrs = getMatrixInstrs(
        chip, elemType.isBF16() ? MatrixElemType::BF16 : MatrixElemType::F16);
    cfg.instr = instrs.front();
    cfg.numWaves =
        numWaves > 0 ? int64_t(numWaves) : cfg.instr.wavesPerWorkgroup;
    if (failed(paged ? configurePagedAttention(paged, cfg, instrs)
                     : configureAttention(cast<AttentionOp>(op), cfg, instrs)))
      return failure();
    // Decode: a query token dimension of static size 1, or a paged batch
    // (one query row per request). One wave's query tile holds the G
    // heads of a KV head and the keys are split over grid.z, so the KV
    // cache is streamed once by many workgroups.
    bool decode =
        !cfg.raggedQueries &&
        (paged || cast<RankedTensorType>(query.getType()).getDimSize(0) == 1);
    if (decode) {
      cfg.packHeads = true;
      cfg.numWaves = 1;
    }
    if (!getAttentionLayout(cfg.instr)) {
      op->emitOpError() << "convert-attn-to-gpu: the lane layouts of "
                        << cfg.instr.name << " cannot keep P in registers";
      return failure();
    }
    // Fused RoPE turns the query tile's halves in accumulator-shaped
    // registers: each half is whole column tiles.
    int64_t colsPerTile = getAttentionLayout(cfg.instr)->colsPerTile();
    if (cfg.rotary && cfg.headDim % (2 * colsPerTile) != 0) {
      op->emitOpError() << "convert-attn-to-gpu: fused RoPE (rope_llama) "
                           "needs half the head dim ("
                        << cfg.headDim / 2 << ") to be a multiple of "
                        << colsPerTile << " on " << cfg.instr.name
                        << "; rotate q and k with attn.rope first";
      return failure();
    }
    // Largest key tile whose staged K and V fit in workgroup memory.
    int64_t limit = cfg.instr.maxStaticWorkgroupMemory;
    cfg.blockN = 64;
    while (cfg.blockN > 16 && tileBytes(cfg, cfg.blockN) > limit)
      cfg.blockN /= 2;
    if (tileBytes(cfg, cfg.blockN) > limit) {
      op->emitOpError() << "convert-attn-to-gpu: head dims " << cfg.headDim
                        << "/" << cfg.headDimV
                        << " need more workgroup memory than " << limit
                        << " bytes";
      return failure();
    }
    if (blockN > 0) {
      // A key tile is whole column tiles of S = Q K^T and whole k steps
      // of P V, and must fit in workgroup memory.
      int64_t keysPerStep =
          std::lcm(getAttentionLayout(cfg.instr)->colsPerTile(), cfg.instr.k);
      if (static_cast<int64_t>(blockN) % keysPerStep != 0) {
        op->emitOpError() << "convert-attn-to-gpu: block-n ("
                          << static_cast<int64_t>(blockN)
                          << ") must be a multiple of " << keysPerStep
                          << " for " << cfg.instr.name;
        return failure();
      }
      if (tileBytes(cfg, static_cast<int64_t>(blockN)) > limit) {
        op->emitOpError() << "convert-attn-to-gpu: block-n ("
                          << static_cast<int64_t>(blockN) << ") needs "
                          << tileBytes(cfg, static_cast<int64_t>(blockN))
                          << " bytes of workgroup memory; at most "
                          << cfg.blockN << " keys fit in " << limit;
        return failure();
      }
    }
    // Decode streams the cache with the target's decode key tile.
    int64_t decodeBlockN =
        blockN > 0 ? int64_t(blockN) : cfg.instr.decodeBlockN;
    chooseRegisterTiling(cfg, decode ? 1 : queryTilesPerWave,
                         decode ? decodeBlockN : int64_t(blockN));
    cfg.splitKV = decode;

    FailureOr<gpu::GPUFuncOp> kernel =
        buildFlashAttentionKernel(builder, op->getLoc(), gpuModule, name, cfg);
    if (failed(kernel)) {
      op->emitOpError("convert-attn-to-gpu: kernel generation failed");
      return failure();
    }
    std::string mergeName = (name + "_merge").str();
    gpu::GPUFuncOp merge;
    if (cfg.splitKV) {
      // The partials are merged as attn.merge_states merges a segmented
      // state: with a batch, request b's rows merge_indptr[b] ..
      // merge_indptr[b + 1]; for one request all of them.
      int64_t dyn = ShapedType::kDynamic, rows = cfg.paged ? dyn : 1;
      Type f32 = builder.getF32Type();
      SegmentedMergeConfig mergeCfg;
      mergeCfg.valuesType =
          MemRefType::get({dyn, cfg.numQoHeads, cfg.headDimV}, f32);
      mergeCfg.lseType = MemRefType::get({dyn, cfg.numQoHeads}, f32);
      if (cfg.paged)
        mergeCfg.indptrType = MemRefType::get({dyn}, builder.getI32Type());
      mergeCfg.outType = getUserViewType({rows, cfg.numQoHeads, cfg.headDimV},
                                         cfg.elementType);
      if (cfg.withLse)
        mergeCfg.outLseType = getUserViewType({rows, cfg.numQoHeads}, f32);
      if (cfg.sinks)
        mergeCfg.sinksType = MemRefType::get({cfg.numQoHeads}, f32);
      FailureOr<gpu::GPUFuncOp> built = buildSegmentedMergeStatesKernel(
          builder, op->getLoc(), gpuModule, mergeName, mergeCfg);
      if (failed(built)) {
        op->emitOpError() << "convert-attn-to-gpu: head dim " << cfg.headDimV
                          << " exceeds the merge kernel's 1024 threads";
        return failure();
      }
      merge = *built;
    }
    return buildManifestEntries(builder, op, *kernel, merge, cfg);
  }

  /// The kernel of one attn.append_paged_kv.
  FailureOr<SmallVector<KernelAttr>>
  lowerAppendPagedKV(OpBuilder &builder, AppendPagedKVOp op,
                     gpu::GPUModuleOp gpuModule, StringRef name) {
    auto kType = cast<RankedTensorType>(op.getKey().getType());
    auto vType = cast<RankedTensorType>(op.getValue().getType());
    auto kcType = cast<RankedTensorType>(op.getKCache().getType());
    auto vcType = cast<RankedTensorType>(op.getVCache().getType());
    unsigned headDim = op.getKVHeadDim();
    if (failed(requireStaticHeads(op, {{kType, {1, 2}},
                                       {vType, {1, 2}},
                                       {kcType, {headDim, 3}},
                                       {vcType, {headDim, 3}}})))
      return failure();
    int64_t heads = kType.getDimSize(1);
    int64_t bytes = std::max(kType.getElementTypeBitWidth(),
                             vType.getElementTypeBitWidth()) /
                    8;
    AppendPagedKVTiling tiling = getAppendPagedKVTiling(
        heads, kType.getDimSize(2), vType.getDimSize(2), bytes);
    if (tiling.threads > kMaxWorkgroupThreads)
      return op.emitOpError()
             << "convert-attn-to-gpu: " << heads << " KV heads of "
             << tiling.lanesPerHead << " vectors need " << tiling.threads
             << " threads, more than a workgroup's " << kMaxWorkgroupThreads;
    FailureOr<gpu::GPUFuncOp> kernel =
        buildAppendPagedKVKernel(builder, op.getLoc(), gpuModule, name, kType,
                                 vType, kcType, vcType, op.getKvLayout());
    if (failed(kernel))
      return op.emitOpError("convert-attn-to-gpu: kernel generation failed");

    auto str = [&](StringRef s) { return builder.getStringAttr(s); };
    auto i64 = [&](int64_t v) { return builder.getI64IntegerAttr(v); };
    auto named = [&](StringRef k, Attribute v) {
      return builder.getNamedAttr(k, v);
    };
    auto dimOf = [&](StringRef arg, int64_t d = 0) {
      return builder.getDictionaryAttr(
          {named("dim", builder.getArrayAttr({str(arg), i64(d)}))});
    };
    int64_t pageSize = kcType.getDimSize(op.getPageSlotDim());
    // v_cache has k_cache's pages and, when it is dynamic, its page size.
    SmallVector<Attribute> vCachePages = {dimOf("k_cache")};
    if (ShapedType::isDynamic(pageSize))
      vCachePages.push_back(dimOf("k_cache", op.getPageSlotDim()));
    // Rows are read and written as vectors of elementsPerThread elements.
    int64_t align = tiling.elementsPerThread * bytes;
    Attribute tokens = dimOf("k");
    SmallVector<ManifestArg> descs = {{"k", {}, align},
                                      {"v", {tokens}, align},
                                      {"batch_indices", {tokens}},
                                      {"positions", {tokens}},
                                      {"kv_indices"},
                                      {"kv_indptr"},
                                      {"k_cache", {}, align},
                                      {"v_cache", vCachePages, align}};
    ArrayAttr args = buildManifestArgs(builder, *kernel, descs);
    DictionaryAttr params = builder.getDictionaryAttr(
        {named("num_kv_heads", i64(heads)),
         named("head_dim", i64(kType.getDimSize(2))),
         named("head_dim_v", i64(vType.getDimSize(2))),
         named("kv_layout",
               str(op.getKvLayout() == KVLayout::nhd ? "nhd" : "hnd")),
         named("page_size",
               i64(ShapedType::isDynamic(pageSize) ? -1 : pageSize)),
         named("elements_per_thread", i64(tiling.elementsPerThread))});
    return SmallVector<KernelAttr>{makeKernelAttr(
        builder, *kernel, op->getName().getStringRef(), tiling.threads,
        {tokens, i64(1), i64(1)}, 0, params.getValue(), args)};
  }

  /// The kernel of one attn.rope.
  FailureOr<SmallVector<KernelAttr>> lowerRope(OpBuilder &builder, RopeOp op,
                                               gpu::GPUModuleOp gpuModule,
                                               StringRef name) {
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    if (failed(requireStaticHeads(op, {{inType, {1, 2}}})))
      return failure();
    RopeKernelConfig cfg;
    cfg.elementType = inType.getElementType();
    cfg.numHeads = inType.getDimSize(1);
    cfg.headDim = inType.getDimSize(2);
    // Static: the verifier requires rotary_dim where the head dim or the
    // cache's width is dynamic.
    cfg.rotaryDim = op.getEffectiveRotaryDim();
    cfg.interleave = op.getInterleave();
    cfg.raggedPositions = !op.getPosIds();
    if (Value posIds = op.getPosIds())
      cfg.positionType =
          cast<RankedTensorType>(posIds.getType()).getElementType();
    cfg.cosSinCache = static_cast<bool>(op.getCosSinCache());
    cfg.ropeScale = op.getRopeScale().convertToFloat();
    cfg.ropeTheta = op.getRopeTheta().convertToFloat();
    cfg.llama31 = op.getLlama31ScalingAttr();
    // Constant operands are compiled in.
    auto atLaunch = [](Value v, float &value) {
      if (std::optional<APFloat> c = getConstantFloat(v)) {
        value = c->convertToFloat();
        return false;
      }
      return static_cast<bool>(v);
    };
    cfg.launchScale = atLaunch(op.getRopeScaleValue(), cfg.ropeScale);
    cfg.launchTheta = atLaunch(op.getRopeThetaValue(), cfg.ropeTheta);
    if (!(cfg.ropeScale > 0.0f) || !(cfg.ropeTheta > 0.0f))
      return op.emitOpError("convert-attn-to-gpu: constant rope_scale and "
                            "rope_theta operands must be > 0");
    FailureOr<RopeTiling> tiling = getRopeTiling(cfg);
    if (failed(tiling))
      return op.emitOpError()
             << "convert-attn-to-gpu: head dim " << cfg.headDim
             << " with rotary dim " << cfg.rotaryDim
             << " has no GPU tiling (both must be even, at most "
             << 2 * kMaxWorkgroupThreads << " features)";
    FailureOr<gpu::GPUFuncOp> kernel =
        buildRopeKernel(builder, op.getLoc(), gpuModule, name, cfg);
    if (failed(kernel))
      return op.emitOpError("convert-attn-to-gpu: kernel generation failed");

    auto str = [&](StringRef s) { return builder.getStringAttr(s); };
    auto i64 = [&](int64_t v) { return builder.getI64IntegerAttr(v); };
    auto f32 = [&](float v) { return builder.getF32FloatAttr(v); };
    auto named = [&](StringRef k, Attribute v) {
      return builder.getNamedAttr(k, v);
    };
    auto dimOf = [&](StringRef arg, int64_t d = 0) {
      return builder.getDictionaryAttr(
          {named("dim", builder.getArrayAttr({str(arg), i64(d)}))});
    };
    // Rows are read and written as vectors of elementsPerThread elements.
    int64_t align =
        tiling->elementsPerThread * cfg.elementType.getIntOrFloatBitWidth() / 8;
    Attribute tokens = dimOf("input");
    SmallVector<ManifestArg> descs = {{"input", {}, align}};
    if (cfg.raggedPositions) {
      descs.push_back({"indptr"});
      // One offset per request.
      descs.push_back(
          {"offsets",
           {builder.getDictionaryAttr({named(
               "add", builder.getArrayAttr({dimOf("indptr"), i64(-1)}))})}});
    } else {
      descs.push_back({"pos_ids", {tokens}});
    }
    if (cfg.cosSinCache)
      descs.push_back({"cos_sin_cache"});
    descs.push_back({"output", {tokens}, align});
    SmallVector<StringRef> launchValues;
    if (cfg.launchScale)
      launchValues.push_back("rope_scale");
    if (cfg.launchTheta)
      launchValues.push_back("rope_theta");
    for (StringRef value : launchValues)
      descs.push_back({value});
    ArrayAttr args = buildManifestArgs(builder, *kernel, descs);
    SmallVector<NamedAttribute> params = {
        named("num_heads", i64(cfg.numHeads)),
        named("head_dim", i64(cfg.headDim)),
        named("rotary_dim", i64(cfg.rotaryDim)),
        named("interleave", builder.getBoolAttr(cfg.interleave)),
        named("positions",
              str(cfg.raggedPositions ? "indptr_offsets" : "pos_ids")),
        named("elements_per_thread", i64(tiling->elementsPerThread)),
        named("heads_per_thread", i64(tiling->headsPerThread)),
        named("tokens_per_workgroup", i64(tiling->tokensPerWorkgroup))};
    // The launch values' params below are then only the op's defaults.
    if (!launchValues.empty())
      params.push_back(
          named("launch_values", builder.getStrArrayAttr(launchValues)));
    if (cfg.cosSinCache) {
      params.push_back(named("angles", str("cos_sin_cache")));
    } else {
      params.push_back(named("rope_scale", f32(cfg.ropeScale)));
      params.push_back(named("rope_theta", f32(cfg.ropeTheta)));
      if (cfg.llama31) {
        params.push_back(
            named("low_freq_factor", f32(cfg.llama31.getLowFreq())));
        params.push_back(
            named("high_freq_factor", f32(cfg.llama31.getHighFreq())));
        params.push_back(
            named("old_context_len", f32(cfg.llama31.getOldContext())));
      }
    }
    Attribute grid = builder.getDictionaryAttr({named(
        "ceil_div", builder.getArrayAttr({str("input"), i64(0),
                                          i64(tiling->tokensPerWorkgroup)}))});
    return SmallVector<KernelAttr>{makeKernelAttr(
        builder, *kernel, op->getName().getStringRef(), tiling->threads,
        {grid, i64(1), i64(1)}, 0, params, args)};
  }

  /// An empty `gpu.module @<func>_kernels` at the end of the module, which
  /// becomes a GPU container module.
  gpu::GPUModuleOp createKernelModule(OpBuilder &builder, func::FuncOp func) {
    ModuleOp module = getOperation();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    builder.getUnitAttr());
    builder.setInsertionPointToEnd(module.getBody());
    return gpu::GPUModuleOp::create(builder, func.getLoc(),
                                    (func.getSymName() + "_kernels").str());
  }

  /// The kernel of one attn.merge_states.
  FailureOr<SmallVector<KernelAttr>>
  lowerMergeStates(OpBuilder &builder, MergeStatesOp op,
                   gpu::GPUModuleOp gpuModule, StringRef name) {
    auto outType = cast<RankedTensorType>(op.getOutputs()[0].getType());
    int64_t heads = outType.getDimSize(1), dim = outType.getDimSize(2);
    if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(dim))
      return op.emitOpError("convert-attn-to-gpu: the head count and head "
                            "dim must be static");
    if (dim > kMaxWorkgroupThreads)
      return op.emitOpError() << "convert-attn-to-gpu: head dim " << dim
                              << " exceeds the merge kernel's 1024 threads";
    if (op.getIndptr()) {
      auto view = [](Value v) {
        auto t = cast<RankedTensorType>(v.getType());
        return getUserViewType(t.getShape(), t.getElementType());
      };
      SegmentedMergeConfig cfg;
      cfg.valuesType = view(op.getValues()[0]);
      cfg.lseType = view(op.getLses()[0]);
      auto indptrType = cast<RankedTensorType>(op.getIndptr().getType());
      cfg.indptrType =
          MemRefType::get(indptrType.getShape(), indptrType.getElementType());
      cfg.outType = view(op.getOutputs()[0]);
      cfg.outLseType = view(op.getOutputs()[1]);
      FailureOr<gpu::GPUFuncOp> kernel = buildSegmentedMergeStatesKernel(
          builder, op.getLoc(), gpuModule, name, cfg);
      if (failed(kernel))
        return op.emitOpError("convert-attn-to-gpu: kernel generation failed");
      return SmallVector<KernelAttr>{buildSegmentedMergeEntry(
          builder, *kernel, {"v0", "lse0", "indptr", "o", "lse"}, {})};
    }
    FailureOr<gpu::GPUFuncOp> kernel =
        buildMergeStatesKernel(builder, op.getLoc(), gpuModule, name,
                               TypeRange(op.getValues()), outType);
    if (failed(kernel))
      return op.emitOpError("convert-attn-to-gpu: kernel generation failed");

    auto str = [&](StringRef s) { return builder.getStringAttr(s); };
    auto i64 = [&](int64_t v) { return builder.getI64IntegerAttr(v); };
    auto named = [&](StringRef k, Attribute v) {
      return builder.getNamedAttr(k, v);
    };
    // Every state and the merged lse have o's token count.
    Attribute tokens = builder.getDictionaryAttr(
        {named("dim", builder.getArrayAttr({str("o"), i64(0)}))});
    size_t n = op.getValues().size();
    MergeStatesTiling tiling = getMergeStatesTiling(heads, dim);
    // Rows of values and o are read and written as vectors of
    // elementsPerThread elements.
    auto rowAlign = [&](Value tensor) {
      Type elem = getElementTypeOrSelf(tensor.getType());
      return tiling.elementsPerThread * elem.getIntOrFloatBitWidth() / 8;
    };
    SmallVector<std::string> names;
    for (size_t i = 0; i < 2 * n; ++i)
      names.push_back((i < n ? "v" : "lse") + std::to_string(i % n));
    SmallVector<ManifestArg> descs;
    for (size_t i = 0; i < 2 * n; ++i)
      descs.push_back({names[i],
                       {tokens},
                       i < n ? int64_t(rowAlign(op.getValues()[i])) : 0});
    descs.push_back({"o", {}, int64_t(rowAlign(op.getOutputs()[0]))});
    descs.push_back({"lse", {tokens}});
    ArrayAttr args = buildManifestArgs(builder, *kernel, descs);
    DictionaryAttr params = builder.getDictionaryAttr(
        {named("num_states", i64(n)), named("num_heads", i64(heads)),
         named("head_dim", i64(dim)), named("lse_base", str("2")),
         named("elements_per_thread", i64(tiling.elementsPerThread)),
         named("heads_per_workgroup", i64(tiling.headsPerWorkgroup))});
    int64_t threads = dim / tiling.elementsPerThread * tiling.headsPerWorkgroup;
    return SmallVector<KernelAttr>{
        makeKernelAttr(builder, *kernel, op->getName().getStringRef(), threads,
                       {tokens, i64(heads / tiling.headsPerWorkgroup), i64(1)},
                       0, params.getValue(), args)};
  }
};
} // namespace
