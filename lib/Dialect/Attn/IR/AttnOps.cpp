//===- AttnOps.cpp - attn dialect ops -------------------------------------===//

#include "flashinfer/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

//===----------------------------------------------------------------------===//
// Shape checking helpers
//===----------------------------------------------------------------------===//

namespace {
/// A named operand of known rank, used to phrase diagnostics such as
/// "'k' dim 2 (64) must equal 'q' dim 2 (128)".
struct NamedTensor {
  StringRef name;
  RankedTensorType type;
  int64_t dim(unsigned i) const { return type.getDimSize(i); }
};

/// Checks facts about operand shapes on behalf of one op and reports the
/// first violation on it.
class ShapeChecker {
public:
  explicit ShapeChecker(Operation *op) : op(op) {}

  LogicalResult rank(const NamedTensor &t, int64_t rank, StringRef what) {
    if (t.type.getRank() == rank)
      return success();
    return op->emitOpError() << "'" << t.name << "' must be " << what
                             << " (rank " << rank << "), got " << t.type;
  }

  /// Static dims must agree; dynamic dims are checked at run time.
  LogicalResult sameDim(const NamedTensor &a, unsigned ai, const NamedTensor &b,
                        unsigned bi, StringRef meaning) {
    int64_t x = a.dim(ai), y = b.dim(bi);
    if (ShapedType::isDynamic(x) || ShapedType::isDynamic(y) || x == y)
      return success();
    return op->emitOpError()
           << meaning << " mismatch: '" << a.name << "' dim " << ai << " is "
           << x << " but '" << b.name << "' dim " << bi << " is " << y;
  }

  LogicalResult dimIs(const NamedTensor &a, unsigned ai, int64_t expected,
                      StringRef meaning) {
    int64_t x = a.dim(ai);
    if (ShapedType::isDynamic(x) || ShapedType::isDynamic(expected) ||
        x == expected)
      return success();
    return op->emitOpError()
           << "'" << a.name << "' dim " << ai << " (" << meaning << ") must be "
           << expected << ", got " << x;
  }

  LogicalResult elementType(const NamedTensor &t, Type expected) {
    if (t.type.getElementType() == expected)
      return success();
    return op->emitOpError() << "'" << t.name << "' must have element type "
                             << expected << ", got " << t.type.getElementType();
  }

  LogicalResult sameElementType(const NamedTensor &a, const NamedTensor &b) {
    if (a.type.getElementType() == b.type.getElementType())
      return success();
    return op->emitOpError()
           << "'" << a.name << "' and '" << b.name
           << "' must have the same element type, got "
           << a.type.getElementType() << " and " << b.type.getElementType();
  }

private:
  Operation *op;
};

NamedTensor named(StringRef name, Value v) {
  return {name, cast<RankedTensorType>(v.getType())};
}
} // namespace

/// Checks the outputs/results of an attention-like op: `o [tokens, Hq, Dv]`
/// and optional `lse [tokens, Hq]` in f32.
static LogicalResult
verifyAttentionOutputs(Operation *op, ShapeChecker &check, const NamedTensor &q,
                       const NamedTensor &v, unsigned vHeadDimIdx,
                       ValueRange outputs, TypeRange results) {
  if (outputs.empty() || outputs.size() > 2)
    return op->emitOpError() << "expects 1 or 2 outputs (o and optionally "
                                "lse), got "
                             << outputs.size();
  if (TypeRange(outputs) != results)
    return op->emitOpError("result types must match the output (outs) types");
  NamedTensor o = named("o", outputs[0]);
  if (failed(check.rank(o, 3, "[tokens, Hq, Dv]")) ||
      failed(check.sameDim(o, 0, q, 0, "token count")) ||
      failed(check.sameDim(o, 1, q, 1, "query head count")) ||
      failed(check.sameDim(o, 2, v, vHeadDimIdx, "value head dim")))
    return failure();
  if (outputs.size() == 2) {
    NamedTensor lse = named("lse", outputs[1]);
    if (failed(check.rank(lse, 2, "[tokens, Hq]")) ||
        failed(check.elementType(lse, Float32Type::get(op->getContext()))) ||
        failed(check.sameDim(lse, 0, q, 0, "token count")) ||
        failed(check.sameDim(lse, 1, q, 1, "query head count")))
      return failure();
  }
  return success();
}

/// Checks what attn.attention and attn.paged_attention share: head counts,
/// head dims, variant attributes and the optional per-head operands. The
/// caller has checked the ranks of q, k and v.
template <typename OpTy>
static LogicalResult
verifyAttentionCommon(OpTy op, ShapeChecker &check, const NamedTensor &q,
                      const NamedTensor &k, const NamedTensor &v,
                      unsigned headIdx, unsigned dimIdx) {
  // K and V have q's element type, or share an fp8 one (a quantized cache,
  // widened for q's products).
  if (isFloat8KVType(k.type.getElementType())
          ? failed(check.sameElementType(k, v))
          : failed(check.sameElementType(q, k)) ||
                failed(check.sameElementType(q, v)))
    return failure();
  if (failed(check.sameDim(k, dimIdx, q, 2, "head dim")) ||
      failed(check.sameDim(v, headIdx, k, headIdx, "KV head count")))
    return failure();

  int64_t hq = q.dim(1), hkv = k.dim(headIdx);
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hkv) &&
      (hkv == 0 || hq % hkv != 0))
    return op.emitOpError() << "query head count (" << hq
                            << ") must be a multiple of the KV head count ("
                            << hkv << ") for GQA/MQA";

  // I64Attr reads back as unsigned; the attribute is a signed count.
  int64_t windowLeft = static_cast<int64_t>(op.getWindowLeft());
  if (windowLeft < -1)
    return op.emitOpError() << "window_left must be -1 (no window) or >= 0, "
                               "got "
                            << windowLeft;
  float cap = op.getLogitsSoftCap().convertToFloat();
  if (!(cap >= 0.0f) || std::isinf(cap))
    return op.emitOpError() << "logits_soft_cap must be finite and >= 0 (0 "
                               "disables it), got "
                            << cap;
  if (auto scale = op.getSmScale()) {
    float s = scale->convertToFloat();
    if (!(s > 0.0f) || std::isinf(s))
      return op.emitOpError() << "sm_scale must be finite and > 0, got " << s;
  }
  // A launch-time value replaces the attribute; both would be ambiguous.
  if (op.getSmScaleValue() && op.getSmScale())
    return op.emitOpError("sm_scale is given both as an attribute and as an "
                          "operand");
  if (op.getLogitsSoftCapValue() && cap != 0.0f)
    return op.emitOpError("logits_soft_cap is given both as an attribute and "
                          "as an operand");
  if (op.getWindowLeftValue() && windowLeft != -1)
    return op.emitOpError("window_left is given both as an attribute and as "
                          "an operand");
  if (!(op.getRopeScale().convertToFloat() > 0.0f) ||
      !(op.getRopeTheta().convertToFloat() > 0.0f) ||
      std::isinf(op.getRopeScale().convertToFloat()) ||
      std::isinf(op.getRopeTheta().convertToFloat()))
    return op.emitOpError("rope_scale and rope_theta must be finite and > 0");
  // (Default-valued attributes read back as their defaults when absent.)
  for (auto [value, isDefault, name] :
       {std::tuple<Value, bool, StringRef>{
            op.getRopeScaleValue(), op.getRopeScale().convertToFloat() == 1.0f,
            "rope_scale"},
        {op.getRopeThetaValue(), op.getRopeTheta().convertToFloat() == 1.0e4f,
         "rope_theta"}}) {
    if (!value)
      continue;
    if (op.getPosEncoding() != PosEncoding::rope_llama)
      return op.emitOpError()
             << "'" << name << "' given but pos_encoding is not rope_llama";
    if (!isDefault)
      return op.emitOpError() << name
                              << " is given both as an attribute and as an "
                                 "operand";
  }

  if (op.getPosEncoding() == PosEncoding::rope_llama) {
    int64_t d = q.dim(2);
    if (!ShapedType::isDynamic(d) && d % 2 != 0)
      return op.emitOpError() << "rope_llama needs an even head dim, got " << d;
  }

  if (Value slopes = op.getAlibiSlopes()) {
    if (op.getPosEncoding() != PosEncoding::alibi)
      return op.emitOpError("'alibi_slopes' given but pos_encoding is not "
                            "alibi");
    if (failed(check.dimIs(named("alibi_slopes", slopes), 0, hq,
                           "one slope per query head")))
      return failure();
  }
  if (Value sinks = op.getSinks())
    if (failed(check.dimIs(named("sinks", sinks), 0, hq,
                           "one sink logit per query head")))
      return failure();
  return verifyAttentionOutputs(op, check, q, v, dimIdx, op.getOutputs(),
                                op.getResultTypes());
}

/// score_mod: (f32, index, index, index, index[, f32 x rowValues]) -> f32;
/// mask_mod: (index, index, index, index[, f32 x rowValues]) -> i1. The body
/// is a function of its arguments alone, built of scalar elementwise ops
/// (arith, math), so that every stage can evaluate it on whole tiles.
static LogicalResult verifyVariantRegion(Operation *op, Region &region,
                                         StringRef name, bool withScore,
                                         Type yieldType,
                                         unsigned rowValues = 0) {
  if (region.empty())
    return success();
  Block &block = region.front();
  MLIRContext *ctx = op->getContext();
  SmallVector<Type> expected;
  if (withScore)
    expected.push_back(Float32Type::get(ctx));
  expected.append(4, IndexType::get(ctx));
  expected.append(rowValues, Float32Type::get(ctx));
  if (block.getArgumentTypes() != TypeRange(expected)) {
    auto diag = op->emitOpError() << "'" << name << "' region must take (";
    llvm::interleaveComma(expected, diag);
    diag << ") as (" << (withScore ? "score, " : "")
         << "batch, q_head, q_idx, kv_idx" << (rowValues ? ", row values" : "")
         << "), got (";
    llvm::interleaveComma(block.getArgumentTypes(), diag);
    return diag << ")";
  }
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return op->emitOpError()
           << "'" << name << "' region must end with attn.yield";
  if (yield.getValue().getType() != yieldType)
    return op->emitOpError()
           << "'" << name << "' region must yield " << yieldType << ", got "
           << yield.getValue().getType();
  auto isScalar = [](Type t) { return t.isIntOrIndexOrFloat(); };
  for (Operation &inner : block.without_terminator()) {
    auto bad = [&](const Twine &why) {
      InFlightDiagnostic diag = op->emitOpError()
                                << "'" << name << "' region: '"
                                << inner.getName() << "' " << why;
      diag.attachNote(inner.getLoc()) << "here";
      return diag;
    };
    bool constant = inner.hasTrait<OpTrait::ConstantLike>();
    if (inner.getNumRegions() != 0 || inner.getNumResults() != 1 ||
        (!constant && !inner.hasTrait<OpTrait::Elementwise>()) ||
        !isMemoryEffectFree(&inner))
      return bad("is not a scalar elementwise op without side effects (the "
                 "regions take arith and math ops)");
    if (!llvm::all_of(inner.getOperandTypes(), isScalar) ||
        !llvm::all_of(inner.getResultTypes(), isScalar))
      return bad("must compute on scalars (integers, index, floats)");
    for (Value operand : inner.getOperands())
      if (operand.getParentRegion() != &region)
        return bad("uses a value defined outside the region; the regions "
                   "are functions of their arguments");
  }
  if (yield.getValue().getParentRegion() != &region)
    return op->emitOpError()
           << "'" << name << "' region must yield a value it computes";
  return success();
}

template <typename OpTy> static LogicalResult verifyVariantRegions(OpTy op) {
  MLIRContext *ctx = op.getContext();
  if (failed(verifyVariantRegion(op, op.getScoreMod(), "score_mod",
                                 /*withScore=*/true, Float32Type::get(ctx))))
    return failure();
  return verifyVariantRegion(op, op.getMaskMod(), "mask_mod",
                             /*withScore=*/false, IntegerType::get(ctx, 1));
}

template <typename OpTy> static float effectiveSmScale(OpTy op) {
  if (auto scale = op.getSmScale())
    return scale->convertToFloat();
  int64_t d = cast<RankedTensorType>(op.getQuery().getType()).getDimSize(2);
  if (ShapedType::isDynamic(d) || d <= 0)
    return 1.0f; // The verifier makes sure dynamic head dims carry a scale.
  return 1.0f / std::sqrt(static_cast<float>(d));
}

/// A dynamic head dim leaves the default scale unknown at compile time.
template <typename OpTy> static LogicalResult verifyScaleIsKnown(OpTy op) {
  if (op.getSmScale())
    return success();
  if (ShapedType::isDynamic(
          cast<RankedTensorType>(op.getQuery().getType()).getDimSize(2)))
    return op.emitOpError("needs an explicit sm_scale when the head dim is "
                          "dynamic");
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

float AttentionOp::getEffectiveSmScale() { return effectiveSmScale(*this); }

/// Static sizes of 0 have nothing to compute and the lowerings do not take
/// them; an empty batch is a dynamic size that is 0 at run time.
static LogicalResult verifyNoStaticZeroSizes(Operation *op) {
  auto check = [&](Value value, StringRef what,
                   unsigned index) -> LogicalResult {
    auto type = dyn_cast<ShapedType>(value.getType());
    if (!type || !type.hasRank())
      return success();
    for (auto [d, size] : llvm::enumerate(type.getShape()))
      if (size == 0)
        return op->emitOpError()
               << what << " #" << index << " has a static size of 0 in "
               << "dimension " << d
               << "; use a dynamic size for inputs that may be empty";
    return success();
  };
  for (OpOperand &operand : op->getOpOperands())
    if (failed(check(operand.get(), "operand", operand.getOperandNumber())))
      return failure();
  return success();
}

LogicalResult AttentionOp::verify() {
  if (failed(verifyNoStaticZeroSizes(*this)))
    return failure();
  ShapeChecker check(*this);
  NamedTensor q = named("q", getQuery()), k = named("k", getKey()),
              v = named("v", getValue());
  // Ranks first: every later check indexes dimensions.
  if (failed(check.rank(q, 3, "[tokens, Hq, D]")) ||
      failed(check.rank(k, 3, "[kv_tokens, Hkv, D]")) ||
      failed(check.rank(v, 3, "[kv_tokens, Hkv, Dv]")) ||
      failed(check.sameDim(v, 0, k, 0, "KV token count")))
    return failure();
  if (static_cast<bool>(getQoIndptr()) != static_cast<bool>(getKvIndptr()))
    return emitOpError("'qo_indptr' and 'kv_indptr' must be given together");
  if (getQoIndptr() &&
      failed(check.sameDim(named("kv_indptr", getKvIndptr()), 0,
                           named("qo_indptr", getQoIndptr()), 0,
                           "batch size + 1")))
    return failure();
  if (failed(verifyScaleIsKnown(*this)))
    return failure();
  return verifyAttentionCommon(*this, check, q, k, v, /*headIdx=*/1,
                               /*dimIdx=*/2);
}

LogicalResult AttentionOp::verifyRegions() {
  return verifyVariantRegions(*this);
}

//===----------------------------------------------------------------------===//
// PagedAttentionOp
//===----------------------------------------------------------------------===//

float PagedAttentionOp::getEffectiveSmScale() {
  return effectiveSmScale(*this);
}

LogicalResult PagedAttentionOp::verify() {
  if (failed(verifyNoStaticZeroSizes(*this)))
    return failure();
  ShapeChecker check(*this);
  NamedTensor q = named("q", getQuery()), k = named("k_cache", getKCache()),
              v = named("v_cache", getVCache());
  StringRef layout = getKvLayout() == KVLayout::nhd
                         ? "[num_pages, page_size, Hkv, D] (nhd)"
                         : "[num_pages, Hkv, page_size, D] (hnd)";
  if (failed(check.rank(q, 3, "[tokens, Hq, D]")) ||
      failed(check.rank(k, 4, layout)) || failed(check.rank(v, 4, layout)) ||
      failed(check.sameDim(v, 0, k, 0, "page count")) ||
      failed(
          check.sameDim(v, getPageSlotDim(), k, getPageSlotDim(), "page size")))
    return failure();
  NamedTensor indptr = named("kv_indptr", getKvIndptr());
  NamedTensor last = named("kv_last_page_len", getKvLastPageLen());
  int64_t batchPlusOne = indptr.dim(0);
  if (!ShapedType::isDynamic(batchPlusOne) &&
      failed(check.dimIs(last, 0, batchPlusOne - 1, "batch size")))
    return failure();
  if (Value qoIndptr = getQoIndptr()) {
    if (failed(check.sameDim(named("qo_indptr", qoIndptr), 0, indptr, 0,
                             "batch size + 1")))
      return failure();
  } else if (!ShapedType::isDynamic(batchPlusOne) &&
             failed(check.dimIs(q, 0, batchPlusOne - 1,
                                "one query token per request in decode"))) {
    return failure();
  }
  if (failed(verifyScaleIsKnown(*this)))
    return failure();
  return verifyAttentionCommon(*this, check, q, k, v, getKVHeadDim(),
                               /*dimIdx=*/3);
}

LogicalResult PagedAttentionOp::verifyRegions() {
  return verifyVariantRegions(*this);
}

//===----------------------------------------------------------------------===//
// MergeStatesOp
//===----------------------------------------------------------------------===//

LogicalResult MergeStatesOp::verify() {
  if (failed(verifyNoStaticZeroSizes(*this)))
    return failure();
  ShapeChecker check(*this);
  bool segmented = static_cast<bool>(getIndptr());
  if (segmented && getValues().size() != 1)
    return emitOpError() << "with 'indptr' takes one state whose rows are "
                            "merged, got "
                         << getValues().size();
  if (!segmented && getValues().size() < 2)
    return emitOpError() << "needs at least 2 states to merge, got "
                         << getValues().size();
  if (getValues().size() != getLses().size())
    return emitOpError() << "needs one lse per value: " << getValues().size()
                         << " values but " << getLses().size() << " lse";
  if (getOutputs().size() != 2)
    return emitOpError() << "expects 2 outputs (v, lse), got "
                         << getOutputs().size();
  if (TypeRange(getOutputs()) != getResultTypes())
    return emitOpError("result types must match the output (outs) types");
  NamedTensor out = named("outs v", getOutputs()[0]);
  NamedTensor outLse = named("outs lse", getOutputs()[1]);
  if (failed(check.rank(out, 3, "[tokens, H, D]")) ||
      failed(check.rank(outLse, 2, "[tokens, H]")) ||
      failed(check.elementType(outLse, Float32Type::get(getContext()))) ||
      failed(check.sameDim(outLse, 0, out, 0, "token count")) ||
      failed(check.sameDim(outLse, 1, out, 1, "head count")))
    return failure();
  for (auto [i, vl] : llvm::enumerate(llvm::zip(getValues(), getLses()))) {
    std::string vName = "values #" + std::to_string(i);
    std::string lName = "lse #" + std::to_string(i);
    NamedTensor v = named(vName, std::get<0>(vl));
    NamedTensor l = named(lName, std::get<1>(vl));
    if (failed(check.rank(v, 3, "[tokens, H, D]")) ||
        failed(check.rank(l, 2, "[tokens, H]")))
      return failure();
    // With indptr the state's rows are not the output's.
    for (unsigned d = segmented ? 1 : 0; d < 3; ++d)
      if (failed(check.sameDim(v, d, out, d, "state shape")))
        return failure();
    for (unsigned d = segmented ? 1 : 0; d < 2; ++d)
      if (failed(check.sameDim(l, d, outLse, d, "lse shape")))
        return failure();
    if (segmented && failed(check.sameDim(l, 0, v, 0, "state row count")))
      return failure();
  }
  if (segmented) {
    NamedTensor indptr = named("indptr", getIndptr());
    if (!ShapedType::isDynamic(out.dim(0)) &&
        failed(check.dimIs(indptr, 0, out.dim(0) + 1, "output rows + 1")))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

int64_t RopeOp::getEffectiveRotaryDim() {
  if (auto dim = getRotaryDim())
    return static_cast<int64_t>(*dim);
  if (Value cache = getCosSinCache())
    return cast<RankedTensorType>(cache.getType()).getDimSize(1);
  return cast<RankedTensorType>(getInput().getType()).getDimSize(2);
}

LogicalResult RopeOp::verify() {
  if (failed(verifyNoStaticZeroSizes(*this)))
    return failure();
  ShapeChecker check(*this);
  NamedTensor in = named("input", getInput()), out = named("outs", getOutput());
  if (failed(check.rank(in, 3, "[tokens, H, D]")) ||
      failed(check.sameElementType(in, out)))
    return failure();
  if (in.type != out.type)
    return emitOpError() << "'outs' type " << out.type
                         << " must equal the input type " << in.type;
  // The positions: one id per token, or a ragged batch's rows and offsets.
  bool ragged = getIndptr() || getOffsets();
  if (getPosIds() && ragged)
    return emitOpError("takes positions as pos_ids or as indptr and offsets, "
                       "not both");
  if (!getPosIds() && !(getIndptr() && getOffsets()))
    return emitOpError("needs the positions: pos_ids, or indptr and offsets "
                       "together");
  if (getPosIds() && failed(check.sameDim(named("pos_ids", getPosIds()), 0, in,
                                          0, "token count")))
    return failure();
  if (ragged) {
    NamedTensor indptr = named("indptr", getIndptr());
    NamedTensor offsets = named("offsets", getOffsets());
    if (!ShapedType::isDynamic(indptr.dim(0)) &&
        failed(check.dimIs(offsets, 0, indptr.dim(0) - 1,
                           "one offset per request, indptr's size - 1")))
      return failure();
  }
  int64_t d = in.dim(2);
  std::optional<int64_t> rotaryDim;
  if (auto rd = getRotaryDim())
    // I64Attr reads back as unsigned; the attribute is a signed count.
    rotaryDim = static_cast<int64_t>(*rd);
  if (Value cacheValue = getCosSinCache()) {
    NamedTensor cache = named("cos_sin_cache", cacheValue);
    int64_t width = cache.dim(1);
    if (rotaryDim && failed(check.dimIs(cache, 1, *rotaryDim,
                                        "cos and sin of each pair, "
                                        "rotary_dim")))
      return failure();
    if (!rotaryDim && ShapedType::isDynamic(width))
      return emitOpError("needs rotary_dim when the width of cos_sin_cache "
                         "is dynamic");
    if (!rotaryDim)
      rotaryDim = width;
    if (getLlama31ScalingAttr() || getRopeScaleValue() || getRopeThetaValue() ||
        getRopeScale().convertToFloat() != 1.0f ||
        getRopeTheta().convertToFloat() != 1.0e4f)
      return emitOpError("cos_sin_cache holds the angles: rope_scale, "
                         "rope_theta and llama31_scaling do not apply");
  }
  if (rotaryDim) {
    int64_t rd = *rotaryDim;
    if (rd <= 0 || rd % 2 != 0)
      return emitOpError() << "rotary_dim must be positive and even, got "
                           << rd;
    if (!ShapedType::isDynamic(d) && rd > d)
      return emitOpError() << "rotary_dim (" << rd << ") exceeds the head dim ("
                           << d << ")";
  } else if (ShapedType::isDynamic(d)) {
    return emitOpError("needs rotary_dim when the head dim is dynamic");
  } else if (d % 2 != 0) {
    return emitOpError() << "head dim must be even to rotate pairs, got " << d;
  }
  if (!(getRopeScale().convertToFloat() > 0.0f) ||
      !(getRopeTheta().convertToFloat() > 0.0f))
    return emitOpError("rope_scale and rope_theta must be > 0");
  // A launch-time value replaces the attribute; both would be ambiguous.
  if (getRopeScaleValue() && getRopeScale().convertToFloat() != 1.0f)
    return emitOpError("rope_scale is given both as an attribute and as an "
                       "operand");
  if (getRopeThetaValue() && getRopeTheta().convertToFloat() != 1.0e4f)
    return emitOpError("rope_theta is given both as an attribute and as an "
                       "operand");
  return success();
}

//===----------------------------------------------------------------------===//
// AppendPagedKVOp
//===----------------------------------------------------------------------===//

LogicalResult AppendPagedKVOp::verify() {
  if (failed(verifyNoStaticZeroSizes(*this)))
    return failure();
  ShapeChecker check(*this);
  NamedTensor k = named("k", getKey()), v = named("v", getValue());
  NamedTensor kc = named("k_cache", getKCache()),
              vc = named("v_cache", getVCache());
  StringRef layout = getKvLayout() == KVLayout::nhd
                         ? "[num_pages, page_size, Hkv, D] (nhd)"
                         : "[num_pages, Hkv, page_size, D] (hnd)";
  unsigned headIdx = getKVHeadDim();
  if (failed(check.rank(k, 3, "[tokens, Hkv, D]")) ||
      failed(check.rank(v, 3, "[tokens, Hkv, Dv]")) ||
      failed(check.rank(kc, 4, layout)) || failed(check.rank(vc, 4, layout)) ||
      failed(check.sameElementType(k, kc)) ||
      failed(check.sameElementType(v, vc)) ||
      failed(check.sameDim(v, 0, k, 0, "token count")) ||
      failed(check.sameDim(kc, headIdx, k, 1, "KV head count")) ||
      failed(check.sameDim(vc, headIdx, v, 1, "KV head count")) ||
      failed(check.sameDim(kc, 3, k, 2, "head dim")) ||
      failed(check.sameDim(vc, 3, v, 2, "value head dim")) ||
      failed(check.sameDim(vc, 0, kc, 0, "page count")) ||
      failed(check.sameDim(vc, getPageSlotDim(), kc, getPageSlotDim(),
                           "page size")) ||
      failed(check.sameDim(named("batch_indices", getBatchIndices()), 0, k, 0,
                           "token count")) ||
      failed(check.sameDim(named("positions", getPositions()), 0, k, 0,
                           "token count")))
    return failure();
  if (getKCacheResult().getType() != kc.type ||
      getVCacheResult().getType() != vc.type)
    return emitOpError("result types must match the cache (outs) types");
  return success();
}

/// Checks a KV source (Attn_KVSourceDoc): rank 3 when contiguous, rank 4
/// with a page list; returns its head count and head dim (dynamic if
/// unknown) through `heads` and `dim`.
static LogicalResult verifyKVSource(Operation *op, StringRef name,
                                    MemRefType type, bool paged,
                                    bool hasPageBegin, KVLayout layout,
                                    int64_t &heads, int64_t &dim) {
  if (paged != hasPageBegin)
    return op->emitOpError("kv_indices and page_begin go together");
  int64_t rank = paged ? 4 : 3;
  if (type.getRank() != rank)
    return op->emitOpError()
           << name << " must have rank " << rank
           << (paged ? " (a paged cache, with pages(...))"
                     : " ([kv_len, H_kv, D], without pages(...))")
           << ", got " << type;
  heads = type.getDimSize(paged ? getPagedKVHeadDim(layout) : 1);
  dim = type.getDimSize(rank - 1);
  return success();
}

LogicalResult LoadKVTileOp::verify() {
  VectorType tile = getTile().getType();
  MemRefType source = getSource().getType();
  int64_t heads, dim;
  if (failed(verifyKVSource(*this, "source", source, isPaged(),
                            static_cast<bool>(getPageBegin()), getKvLayout(),
                            heads, dim)))
    return failure();
  // An fp8 source is widened to the tile's 16-bit type.
  if (tile.getElementType() != source.getElementType() &&
      !isFloat8KVType(source.getElementType()))
    return emitOpError("the tile must have the source's element type (or "
                       "widen an fp8 source)");
  if (tile.getDimSize(0) > kMaxTileDim)
    return emitOpError() << "tile rows must be at most " << kMaxTileDim
                         << ", got " << tile.getDimSize(0);
  if (ShapedType::isDynamic(dim) || tile.getDimSize(1) != dim)
    return emitOpError() << "tile columns (" << tile.getDimSize(1)
                         << ") must equal the source's static head dim (" << dim
                         << ")";
  if ((getRotaryTheta() || getRotaryScale()) && !getRotary())
    return emitOpError("rotary_theta and rotary_scale need rotary");
  if (getRotary() && tile.getDimSize(1) % 2 != 0)
    return emitOpError() << "a rotated tile needs an even head dim, got "
                         << tile.getDimSize(1);
  return success();
}

LogicalResult OnlineAttentionStepOp::verify() {
  VectorType q = getQuery().getType(), acc = getAcc().getType();
  MemRefType k = getKey().getType(), v = getValue().getType();
  int64_t rows = q.getDimSize(0);
  // The step unrolls into [rows x block_n] and [rows x head dim] tiles per
  // workgroup, bounded as every GPU stage bounds them.
  if (static_cast<int64_t>(getBlockN()) > kMaxTileDim)
    return emitOpError() << "block_n must be in [1, " << kMaxTileDim
                         << "], got " << static_cast<int64_t>(getBlockN());
  for (auto [what, size] : {std::pair<StringRef, int64_t>{"query rows", rows},
                            {"head dim", q.getDimSize(1)},
                            {"value head dim", acc.getDimSize(1)}})
    if (size > kMaxTileDim)
      return emitOpError() << what << " must be at most " << kMaxTileDim
                           << ", got " << size;
  auto mismatch = [&](StringRef what, int64_t got, StringRef want,
                      int64_t expected) {
    return emitOpError() << what << " (" << got << ") must equal " << want
                         << " (" << expected << ")";
  };
  if (k.getElementType() != v.getElementType() ||
      (k.getElementType() != q.getElementType() &&
       !isFloat8KVType(k.getElementType())))
    return emitOpError("key and value must have the query's element type "
                       "(or both an fp8 type)");
  if (getKeyRotary() && q.getDimSize(1) % 2 != 0)
    return emitOpError() << "key_rotary needs an even head dim, got "
                         << q.getDimSize(1);
  if ((getRotaryTheta() || getRotaryScale()) && !getKeyRotary())
    return emitOpError("rotary_theta and rotary_scale need key_rotary");
  bool paged = static_cast<bool>(getKvIndices());
  bool pageBegin = static_cast<bool>(getPageBegin());
  int64_t kHeads, kDim, vHeads, vDim;
  if (failed(verifyKVSource(*this, "key", k, paged, pageBegin, getKvLayout(),
                            kHeads, kDim)) ||
      failed(verifyKVSource(*this, "value", v, paged, pageBegin, getKvLayout(),
                            vHeads, vDim)))
    return failure();
  if (!ShapedType::isDynamic(kDim) && kDim != q.getDimSize(1))
    return mismatch("key head dim", kDim, "the query's", q.getDimSize(1));
  if (!ShapedType::isDynamic(kHeads) && !ShapedType::isDynamic(vHeads) &&
      kHeads != vHeads)
    return mismatch("value head count", vHeads, "the key's", kHeads);
  if (acc.getDimSize(0) != rows)
    return mismatch("acc rows", acc.getDimSize(0), "query rows", rows);
  if (!ShapedType::isDynamic(vDim) && vDim != acc.getDimSize(1))
    return mismatch("value head dim", vDim, "acc columns", acc.getDimSize(1));
  for (auto [name, vec] :
       {std::pair<StringRef, VectorType>{"max", getMax().getType()},
        {"sum", getSum().getType()},
        {"query_positions", getQueryPositions().getType()}})
    if (vec.getDimSize(0) != rows)
      return mismatch(name, vec.getDimSize(0), "query rows", rows);
  if (static_cast<int64_t>(getWindowLeft()) < -1)
    return emitOpError("window_left must be -1 (none) or >= 0");
  if (!(getLogitsSoftCap().convertToFloat() >= 0.0f))
    return emitOpError("logits_soft_cap must be >= 0 (0: none)");
  if (static_cast<bool>(getScaleLog2()) ==
      static_cast<bool>(getScaleLog2Value()))
    return emitOpError("takes exactly one of the scale_log2 attribute and "
                       "its operand");
  if (getLogitsSoftCapValue() && !getLogitsSoftCap().isZero())
    return emitOpError("logits_soft_cap is given both as an attribute and as "
                       "an operand");
  if (getWindowLeftValue() && static_cast<int64_t>(getWindowLeft()) != -1)
    return emitOpError("window_left is given both as an attribute and as an "
                       "operand");
  unsigned maskOperands = static_cast<bool>(getMaskBits()) +
                          static_cast<bool>(getMaskFirstBit()) +
                          static_cast<bool>(getMaskRowBits());
  if (maskOperands != 0 && maskOperands != 3)
    return emitOpError("custom_mask takes the bits, the first bit and the "
                       "bits per row together");
  bool regions = !getScoreMod().empty() || !getMaskMod().empty();
  if (regions && (!getBatch() || !getQueryHeads()))
    return emitOpError("score_mod/mask_mod regions need the batch and "
                       "query_heads operands");
  if (!regions && !getRowValues().empty())
    return emitOpError("row_values are read only by score_mod/mask_mod "
                       "regions");
  for (Value rowValue : getRowValues())
    if (cast<VectorType>(rowValue.getType()).getDimSize(0) != rows)
      return mismatch("row_values length",
                      cast<VectorType>(rowValue.getType()).getDimSize(0),
                      "query rows", rows);
  if (Value heads = getQueryHeads())
    if (cast<VectorType>(heads.getType()).getDimSize(0) != rows)
      return mismatch("query_heads length",
                      cast<VectorType>(heads.getType()).getDimSize(0),
                      "query rows", rows);
  return success();
}

LogicalResult OnlineAttentionStepOp::verifyRegions() {
  MLIRContext *ctx = getContext();
  unsigned rowValues = getRowValues().size();
  if (failed(verifyVariantRegion(*this, getScoreMod(), "score_mod",
                                 /*withScore=*/true, Float32Type::get(ctx),
                                 rowValues)))
    return failure();
  return verifyVariantRegion(*this, getMaskMod(), "mask_mod",
                             /*withScore=*/false, IntegerType::get(ctx, 1),
                             rowValues);
}

Value mlir::attn::inlineVariantRegion(OpBuilder &builder, Region &region,
                                      ValueRange args) {
  Block &block = region.front();
  IRMapping map;
  assert(block.getNumArguments() == args.size() && "one value per argument");
  map.map(block.getArguments(), args);
  for (Operation &op : block.without_terminator())
    builder.clone(op, map);
  return map.lookupOrDefault(cast<YieldOp>(block.getTerminator()).getValue());
}

#define GET_OP_CLASSES
#include "flashinfer/Dialect/Attn/IR/AttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// KernelManifestOp
//===----------------------------------------------------------------------===//

LogicalResult
KernelManifestOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  Operation *target =
      symbolTable.lookupNearestSymbolFrom(*this, getKernelModuleAttr());
  if (!isa_and_nonnull<gpu::GPUModuleOp, gpu::BinaryOp>(target))
    return emitOpError() << "'" << getKernelModule()
                         << "' is not a gpu.module or gpu.binary";
  return success();
}

LogicalResult KernelManifestOp::verify() {
  llvm::StringMap<KernelAttr> kernels;
  for (Attribute attr : getKernels()) {
    auto kernel = cast<KernelAttr>(attr);
    if (!kernels.try_emplace(kernel.getName(), kernel).second)
      return emitOpError() << "kernel '" << kernel.getName()
                           << "' is described twice";
  }
  int64_t numArgs = getArguments().size();
  for (auto [i, attr] : llvm::enumerate(getLaunches())) {
    auto launch = cast<KernelLaunchAttr>(attr);
    KernelAttr kernel = kernels.lookup(launch.getKernel());
    if (!kernel)
      return emitOpError() << "launch " << i << " names kernel '"
                           << launch.getKernel() << "', which is not described";
    if (launch.getArguments().size() != kernel.getArgs().size())
      return emitOpError() << "launch " << i << " of '" << launch.getKernel()
                           << "' passes " << launch.getArguments().size()
                           << " arguments; the kernel takes "
                           << kernel.getArgs().size();
    for (int64_t a : launch.getArguments())
      if (a < 0 || a >= numArgs)
        return emitOpError() << "launch " << i << " of '" << launch.getKernel()
                             << "' passes sequence argument " << a
                             << ", outside the " << numArgs << " arguments";
  }
  return success();
}
