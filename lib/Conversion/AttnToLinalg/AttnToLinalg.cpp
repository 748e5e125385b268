//===- AttnToLinalg.cpp - reference lowering of attn ops ------------------===//
//
// Gives every attn op its meaning in linalg/tensor/scf/arith/math, written
// for clarity. Attention runs one request and one query head at a time: the
// request's keys and values are first made contiguous (a slice of ragged
// storage, or a gather from pages), then one per-head core shared by
// attn.attention and attn.paged_attention materializes the f32 score matrix,
// applies the variant in a single elementwise linalg.generic and runs a
// max-subtracted softmax with f32 accumulation.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Conversion/Passes.h"
#include "flashinfer/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNTOLINALG
#include "flashinfer/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using utils::IteratorType;

namespace {

constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kRed = IteratorType::reduction;

//===----------------------------------------------------------------------===//
// Small builders
//===----------------------------------------------------------------------===//

Value f32Const(ImplicitLocOpBuilder &b, double v) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
}

Value negInf(ImplicitLocOpBuilder &b) {
  return f32Const(b, -std::numeric_limits<double>::infinity());
}

Value indexConst(ImplicitLocOpBuilder &b, int64_t v) {
  return arith::ConstantIndexOp::create(b, v);
}

Value materialize(ImplicitLocOpBuilder &b, OpFoldResult ofr) {
  return getValueOrCreateConstantIndexOp(b, b.getLoc(), ofr);
}

Value dimOf(ImplicitLocOpBuilder &b, Value tensor, int64_t dim) {
  return materialize(b, tensor::getMixedSize(b, b.getLoc(), tensor, dim));
}

/// Reads element `idx` of a 1-D i32 tensor as an index.
Value extractIndex(ImplicitLocOpBuilder &b, Value tensor, Value idx) {
  Value e = tensor::ExtractOp::create(b, tensor, ValueRange{idx});
  return arith::IndexCastOp::create(b, b.getIndexType(), e);
}

Value toF32(ImplicitLocOpBuilder &b, Value v) {
  if (v.getType().isF32())
    return v;
  // fp8 (a quantized KV cache) in integer operations every target lowers.
  if (isFloat8KVType(v.getType()))
    return buildFloat8Extension(b, b.getLoc(), v, b.getF32Type());
  return arith::ExtFOp::create(b, b.getF32Type(), v);
}

Value fromF32(ImplicitLocOpBuilder &b, Value v, Type type) {
  if (type.isF32())
    return v;
  return arith::TruncFOp::create(b, type, v);
}

/// Signed index -> f32 (positions may be negative relative to each other).
Value indexToF32(ImplicitLocOpBuilder &b, Value v) {
  Value i = arith::IndexCastOp::create(b, b.getI64Type(), v);
  return arith::SIToFPOp::create(b, b.getF32Type(), i);
}

Value isVisibleMax(ImplicitLocOpBuilder &b, Value rowMax) {
  // `one` is false for NaN too, which then yields 0 rather than garbage.
  return arith::CmpFOp::create(b, arith::CmpFPredicate::ONE, rowMax, negInf(b));
}

Value emptyTensor(ImplicitLocOpBuilder &b, ArrayRef<OpFoldResult> sizes,
                  Type elem) {
  return tensor::EmptyOp::create(b, sizes, elem);
}

Value filledTensor(ImplicitLocOpBuilder &b, ArrayRef<OpFoldResult> sizes,
                   double value) {
  Value init = emptyTensor(b, sizes, b.getF32Type());
  return linalg::FillOp::create(b, ValueRange{f32Const(b, value)},
                                ValueRange{init})
      .getResult(0);
}

/// Map from `numDims` loops onto the listed loop dims.
AffineMap loopsTo(MLIRContext *ctx, unsigned numDims, ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : dims)
    exprs.push_back(getAffineDimExpr(d, ctx));
  return AffineMap::get(numDims, 0, exprs, ctx);
}

using BodyFn = function_ref<Value(ImplicitLocOpBuilder &, ValueRange)>;

/// A single-result linalg.generic; `body` gets the block arguments (inputs,
/// then the output element) and returns the value to yield.
Value generic(ImplicitLocOpBuilder &b, ValueRange inputs, Value init,
              ArrayRef<AffineMap> maps, ArrayRef<IteratorType> iterators,
              BodyFn body) {
  auto op = linalg::GenericOp::create(
      b, TypeRange{init.getType()}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        ImplicitLocOpBuilder ib(loc, nb);
        linalg::YieldOp::create(ib, body(ib, args));
      });
  return op.getResult(0);
}

SmallVector<Value> loopIndices(ImplicitLocOpBuilder &b, unsigned rank) {
  SmallVector<Value> ivs;
  for (unsigned d = 0; d < rank; ++d)
    ivs.push_back(linalg::IndexOp::create(b, b.getI64IntegerAttr(d)));
  return ivs;
}

/// Elementwise conversion of a float tensor to f32.
Value convertToF32(ImplicitLocOpBuilder &b, Value input) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getElementType().isF32())
    return input;
  Value init = emptyTensor(b, tensor::getMixedSizes(b, b.getLoc(), input),
                           b.getF32Type());
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<IteratorType> iters(type.getRank(), kPar);
  return generic(b, input, init, {id, id}, iters,
                 [](ImplicitLocOpBuilder &ib, ValueRange args) {
                   return toF32(ib, args[0]);
                 });
}

/// extract_slice with unit strides dropping the unit dims listed in `drop`.
Value extractSlice(ImplicitLocOpBuilder &b, Value src,
                   ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
                   ArrayRef<unsigned> drop) {
  SmallVector<int64_t> shape;
  for (auto [i, size] : llvm::enumerate(sizes))
    if (!llvm::is_contained(drop, i))
      shape.push_back(getConstantIntValue(size).value_or(ShapedType::kDynamic));
  auto type = RankedTensorType::get(
      shape, cast<RankedTensorType>(src.getType()).getElementType());
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, type, src, offsets, sizes, strides);
}

Value insertSlice(ImplicitLocOpBuilder &b, Value src, Value dest,
                  ArrayRef<OpFoldResult> offsets,
                  ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  return tensor::InsertSliceOp::create(b, src, dest, offsets, sizes, strides);
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

struct RopeParams {
  Value rotaryDim; // index
  bool interleave;
  float scale;
  float theta;
  Llama31ScalingAttr llama31 = {}; // Llama 3.1's frequency scaling, if any
  Value cosSinCache = {};          // [max_position, rotary_dim] f32, if any
  Value scaleValue = {}, thetaValue = {}; // f32 at run time, if given
};

/// Rotates the last dim of `input` (any rank) into `init` (same shape),
/// computing in f32. Feature d < rotary_dim is paired with `d +- rotary_dim/2`
/// (rotate-half) or `d ^ 1` (interleaved) and turned by `pos * f_i` where i
/// is the pair's index and `f_i = theta^(-2i/rotary_dim) / scale` (or its
/// Llama 3.1 rescaling), or by the cosine and sine of row `pos` of the
/// cache; features past rotary_dim are copied. `position` returns the
/// position (index) of the element at the given loop indices.
Value emitRope(
    ImplicitLocOpBuilder &b, Value input, Value init, const RopeParams &p,
    function_ref<Value(ImplicitLocOpBuilder &, ValueRange)> position) {
  auto type = cast<RankedTensorType>(input.getType());
  unsigned rank = type.getRank();
  Type outElem = cast<RankedTensorType>(init.getType()).getElementType();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  SmallVector<IteratorType> iters(rank, kPar);
  double log2Theta = std::log2(static_cast<double>(p.theta));
  return generic(
      b, input, init, {id, id}, iters,
      [&](ImplicitLocOpBuilder &ib, ValueRange args) {
        using P = arith::CmpIPredicate;
        SmallVector<Value> ivs = loopIndices(ib, rank);
        Value d = ivs.back(), rd = p.rotaryDim;
        Value one = indexConst(ib, 1), two = indexConst(ib, 2);
        Value half = arith::DivUIOp::create(ib, rd, two);
        Value inRotary = arith::CmpIOp::create(ib, P::ult, d, rd);
        Value first, partner, pairIdx;
        if (p.interleave) {
          Value rem = arith::RemUIOp::create(ib, d, two);
          first = arith::CmpIOp::create(ib, P::eq, rem, indexConst(ib, 0));
          pairIdx = arith::DivUIOp::create(ib, d, two);
          Value down = arith::SubIOp::create(ib, d, one);
          Value up = arith::AddIOp::create(ib, d, one);
          partner = arith::SelectOp::create(ib, first, up, down);
        } else {
          first = arith::CmpIOp::create(ib, P::ult, d, half);
          Value lower = arith::SubIOp::create(ib, d, half);
          pairIdx = arith::SelectOp::create(ib, first, d, lower);
          Value upper = arith::AddIOp::create(ib, d, half);
          partner = arith::SelectOp::create(ib, first, upper, lower);
        }
        // Features past rotary_dim read themselves: keeps reads in bounds.
        partner = arith::SelectOp::create(ib, inRotary, partner, d);
        pairIdx =
            arith::SelectOp::create(ib, inRotary, pairIdx, indexConst(ib, 0));
        SmallVector<Value> partnerIvs(ivs);
        partnerIvs.back() = partner;
        Value x = toF32(ib, args[0]);
        Value y = toF32(ib, tensor::ExtractOp::create(ib, input, partnerIvs));

        // One builder call per statement: argument evaluation order is
        // unspecified, and the IR must not depend on the host compiler.
        Value pos = position(ib, ivs);
        Value c, s;
        if (p.cosSinCache) {
          // Rows outside the cache have no defined result: read row 0.
          Value rows = dimOf(ib, p.cosSinCache, 0);
          Value zero = indexConst(ib, 0);
          Value notNegative = arith::CmpIOp::create(ib, P::sge, pos, zero);
          Value below = arith::CmpIOp::create(ib, P::slt, pos, rows);
          Value inside = arith::AndIOp::create(ib, notNegative, below);
          Value row = arith::SelectOp::create(ib, inside, pos, zero);
          c = tensor::ExtractOp::create(ib, p.cosSinCache,
                                        ValueRange{row, pairIdx});
          Value sinCol = arith::AddIOp::create(ib, pairIdx, half);
          s = tensor::ExtractOp::create(ib, p.cosSinCache,
                                        ValueRange{row, sinCol});
        } else {
          Value twoI = arith::MulIOp::create(ib, pairIdx, two);
          Value log2ThetaConst =
              p.thetaValue ? math::Log2Op::create(ib, p.thetaValue).getResult()
                           : f32Const(ib, log2Theta);
          Value rdF32 = indexToF32(ib, rd);
          Value twoIF32 = indexToF32(ib, twoI);
          Value ratio = arith::DivFOp::create(ib, twoIF32, rdF32);
          Value expo = arith::MulFOp::create(ib, ratio, log2ThetaConst);
          Value freq =
              math::Exp2Op::create(ib, arith::NegFOp::create(ib, expo));
          Value scaleConst =
              p.scaleValue ? p.scaleValue : f32Const(ib, p.scale);
          Value scaled = arith::DivFOp::create(ib, freq, scaleConst);
          if (p.llama31)
            scaled = p.llama31.buildFrequency(ib, ib.getLoc(), freq, scaled);
          Value posF32 = indexToF32(ib, pos);
          Value angle = arith::MulFOp::create(ib, posF32, scaled);
          c = math::CosOp::create(ib, angle);
          s = math::SinOp::create(ib, angle);
        }
        Value xc = arith::MulFOp::create(ib, x, c);
        Value ys = arith::MulFOp::create(ib, y, s);
        Value plus = arith::AddFOp::create(ib, xc, ys);
        Value minus = arith::SubFOp::create(ib, xc, ys);
        Value rotated = arith::SelectOp::create(ib, first, minus, plus);
        Value r = arith::SelectOp::create(ib, inRotary, rotated, x);
        return fromF32(ib, r, outElem);
      });
}

//===----------------------------------------------------------------------===//
// Attention core shared by attn.attention and attn.paged_attention
//===----------------------------------------------------------------------===//

/// The variant of one attention op, read once from its attributes.
struct Variant {
  float smScale;
  bool causal;
  int64_t windowLeft;
  float softCap;
  // Launch-time values (the ops' operands), replacing the three above.
  Value smScaleValue, softCapValue, windowLeftValue;
  PosEncoding posEncoding;
  float ropeScale, ropeTheta;
  Value ropeScaleValue, ropeThetaValue; // f32 at launch, if given
  Value customMask, alibiSlopes, sinks;
  Region *scoreMod = nullptr, *maskMod = nullptr;
  Type outElem;
  bool wantLse;

  template <typename OpTy> static Variant get(OpTy op) {
    Variant v;
    v.smScale = op.getEffectiveSmScale();
    v.causal = op.getCausal();
    v.windowLeft = static_cast<int64_t>(op.getWindowLeft());
    v.softCap = op.getLogitsSoftCap().convertToFloat();
    v.smScaleValue = op.getSmScaleValue();
    v.softCapValue = op.getLogitsSoftCapValue();
    v.windowLeftValue = op.getWindowLeftValue();
    v.posEncoding = op.getPosEncoding();
    v.ropeScale = op.getRopeScale().convertToFloat();
    v.ropeTheta = op.getRopeTheta().convertToFloat();
    v.ropeScaleValue = op.getRopeScaleValue();
    v.ropeThetaValue = op.getRopeThetaValue();
    v.customMask = op.getCustomMask();
    v.alibiSlopes = op.getAlibiSlopes();
    v.sinks = op.getSinks();
    if (!op.getScoreMod().empty())
      v.scoreMod = &op.getScoreMod();
    if (!op.getMaskMod().empty())
      v.maskMod = &op.getMaskMod();
    v.outElem =
        cast<RankedTensorType>(op.getOutput().getType()).getElementType();
    v.wantLse = static_cast<bool>(op.getLseOutput());
    return v;
  }
};

/// One request: its query rows and its keys/values laid out contiguously as
/// `[kv_len, Hkv, D]`.
struct Request {
  Value batch;
  OpFoldResult qoStart, qoLen, kvLen;
  /// Bit offset of this request's mask in the custom mask stream.
  Value maskOffset;
  Value key, value;
};

/// ALiBi slope of query head `h` among `numHeads` when no slopes are given:
/// the ALiBi paper's geometric series. With n the largest power of two
/// <= numHeads, head h < n gets 2^(-8(h+1)/n); the remaining heads take every
/// other slope of the series for 2n heads, i.e. head n+k gets
/// 2^(-4(2k+1)/n). For a power of two this is just 2^(-8(h+1)/numHeads).
Value defaultAlibiSlope(ImplicitLocOpBuilder &b, Value h, Value numHeads) {
  Type i64 = b.getI64Type();
  auto c = [&](int64_t v) { return arith::ConstantIntOp::create(b, i64, v); };
  Value hq = arith::IndexCastOp::create(b, i64, numHeads);
  Value hi = arith::IndexCastOp::create(b, i64, h);
  Value log2N =
      arith::SubIOp::create(b, c(63), math::CountLeadingZerosOp::create(b, hq));
  Value n = arith::ShLIOp::create(b, c(1), log2N);
  Value nF = arith::SIToFPOp::create(b, b.getF32Type(), n);
  auto toF = [&](Value v) {
    return arith::SIToFPOp::create(b, b.getF32Type(), v);
  };
  // -8(h+1)/n
  Value inSeries = arith::DivFOp::create(
      b,
      toF(arith::MulIOp::create(b, c(-8), arith::AddIOp::create(b, hi, c(1)))),
      nF);
  // -4(2(h-n)+1)/n
  Value k = arith::SubIOp::create(b, hi, n);
  Value odd = arith::AddIOp::create(b, arith::MulIOp::create(b, k, c(2)), c(1));
  Value interleaved =
      arith::DivFOp::create(b, toF(arith::MulIOp::create(b, c(-4), odd)), nF);
  Value isFirst = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, hi, n);
  return math::Exp2Op::create(
      b, arith::SelectOp::create(b, isFirst, inSeries, interleaved));
}

/// Score of one (query row, key) pair after the variant: scale, soft-cap,
/// ALiBi and score_mod, or -inf where a mask hides the key.
Value applyVariant(ImplicitLocOpBuilder &b, const Variant &var,
                   const Request &req, Value head, Value qPosOffset,
                   Value kvLen, Value slope, Value dot) {
  using P = arith::CmpIPredicate;
  SmallVector<Value> ivs = loopIndices(b, 2);
  Value i = ivs[0], kvIdx = ivs[1];
  Value qIdx = arith::AddIOp::create(b, i, qPosOffset);

  Value s = arith::MulFOp::create(
      b, dot, var.smScaleValue ? var.smScaleValue : f32Const(b, var.smScale));
  if (Value cap = var.softCapValue) {
    // A cap <= 0 at launch leaves the score alone.
    Value capped = arith::MulFOp::create(
        b, cap, math::TanhOp::create(b, arith::DivFOp::create(b, s, cap)));
    Value on = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, cap,
                                     f32Const(b, 0.0f));
    s = arith::SelectOp::create(b, on, capped, s);
  } else if (var.softCap > 0.0f) {
    Value cap = f32Const(b, var.softCap);
    s = arith::MulFOp::create(
        b, cap, math::TanhOp::create(b, arith::DivFOp::create(b, s, cap)));
  }
  if (slope) {
    Value dist = indexToF32(b, arith::SubIOp::create(b, kvIdx, qIdx));
    s = arith::AddFOp::create(b, s, arith::MulFOp::create(b, slope, dist));
  }
  if (var.scoreMod)
    s = inlineVariantRegion(b, *var.scoreMod,
                            {s, req.batch, head, qIdx, kvIdx});

  Value visible; // null: every key visible
  auto hideUnless = [&](Value cond) {
    visible = visible ? Value(arith::AndIOp::create(b, visible, cond)) : cond;
  };
  if (var.causal)
    hideUnless(arith::CmpIOp::create(b, P::sle, kvIdx, qIdx));
  if (var.windowLeft >= 0)
    hideUnless(arith::CmpIOp::create(
        b, P::sge, kvIdx,
        arith::SubIOp::create(b, qIdx, indexConst(b, var.windowLeft))));
  if (Value w = var.windowLeftValue) {
    // A window < 0 at launch shows every key.
    Value window = arith::IndexCastOp::create(b, b.getIndexType(), w);
    Value inside = arith::CmpIOp::create(
        b, P::sge, kvIdx, arith::SubIOp::create(b, qIdx, window));
    Value none = arith::CmpIOp::create(b, P::slt, window, indexConst(b, 0));
    hideUnless(arith::OrIOp::create(b, inside, none));
  }
  if (var.customMask) {
    // Bit (i * kv_len + j) of this request's row-major mask, little-endian
    // within each byte.
    Value bit = arith::AddIOp::create(
        b, req.maskOffset,
        arith::AddIOp::create(b, arith::MulIOp::create(b, i, kvLen), kvIdx));
    Value byteIdx = arith::DivUIOp::create(b, bit, indexConst(b, 8));
    Value shift = arith::IndexCastOp::create(
        b, b.getI32Type(), arith::RemUIOp::create(b, bit, indexConst(b, 8)));
    Value byte = arith::ExtUIOp::create(
        b, b.getI32Type(),
        tensor::ExtractOp::create(b, var.customMask, ValueRange{byteIdx}));
    Value one = arith::ConstantIntOp::create(b, b.getI32Type(), 1);
    Value bitVal =
        arith::AndIOp::create(b, arith::ShRUIOp::create(b, byte, shift), one);
    hideUnless(arith::CmpIOp::create(b, P::eq, bitVal, one));
  }
  if (var.maskMod)
    hideUnless(
        inlineVariantRegion(b, *var.maskMod, {req.batch, head, qIdx, kvIdx}));
  if (!visible)
    return s;
  return arith::SelectOp::create(b, visible, s, negInf(b));
}

/// Attention of one query head over one request: `q [qo_len, D]`,
/// `k [kv_len, D]`, `v [kv_len, Dv]` in the input element type. Returns the
/// output rows `[qo_len, Dv]` in the output element type and, if wanted, the
/// base-2 lse `[qo_len]`.
std::pair<Value, Value> attendHead(ImplicitLocOpBuilder &b, const Variant &var,
                                   const Request &req, Value head,
                                   Value numHeads, Value q, Value k, Value v) {
  MLIRContext *ctx = b.getContext();
  OpFoldResult n = req.qoLen, m = req.kvLen;
  OpFoldResult dv = tensor::getMixedSize(b, b.getLoc(), v, 1);
  Value kvLen = materialize(b, m);
  // Queries are the last qo_len tokens: q_idx = i + kv_len - qo_len.
  Value qPosOffset = arith::SubIOp::create(b, kvLen, materialize(b, n));

  Value qf, kf;
  if (var.posEncoding == PosEncoding::rope_llama) {
    RopeParams rope{dimOf(b, q, 1), /*interleave=*/false, var.ropeScale,
                    var.ropeTheta};
    rope.scaleValue = var.ropeScaleValue;
    rope.thetaValue = var.ropeThetaValue;
    auto f32Like = [&](Value t) {
      return emptyTensor(b, tensor::getMixedSizes(b, b.getLoc(), t),
                         b.getF32Type());
    };
    qf = emitRope(
        b, q, f32Like(q), rope, [&](ImplicitLocOpBuilder &ib, ValueRange ivs) {
          return arith::AddIOp::create(ib, ivs[0], qPosOffset).getResult();
        });
    kf = emitRope(
        b, k, f32Like(k), rope,
        [&](ImplicitLocOpBuilder &, ValueRange ivs) { return ivs[0]; });
  } else {
    qf = convertToF32(b, q);
    kf = convertToF32(b, k);
  }
  Value vf = convertToF32(b, v);

  auto map2 = [&](ArrayRef<unsigned> dims) { return loopsTo(ctx, 2, dims); };
  auto map3 = [&](ArrayRef<unsigned> dims) { return loopsTo(ctx, 3, dims); };
  AffineMap id1 = b.getMultiDimIdentityMap(1);
  auto add = [](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
    return arith::AddFOp::create(ib, a[0], a[1]);
  };

  // dot[i, j] = sum_d q[i, d] * k[j, d]
  Value dot =
      generic(b, {qf, kf}, filledTensor(b, {n, m}, 0.0),
              {map3({0, 2}), map3({1, 2}), map3({0, 1})}, {kPar, kPar, kRed},
              [](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
                return arith::AddFOp::create(
                    ib, a[2], arith::MulFOp::create(ib, a[0], a[1]));
              });

  Value slope;
  if (var.posEncoding == PosEncoding::alibi)
    slope = var.alibiSlopes ? tensor::ExtractOp::create(b, var.alibiSlopes,
                                                        ValueRange{head})
                                  .getResult()
                            : defaultAlibiSlope(b, head, numHeads);
  Value sink;
  if (var.sinks)
    sink = tensor::ExtractOp::create(b, var.sinks, ValueRange{head});

  Value scores = generic(b, dot, emptyTensor(b, {n, m}, b.getF32Type()),
                         {map2({0, 1}), map2({0, 1})}, {kPar, kPar},
                         [&](ImplicitLocOpBuilder &ib, ValueRange a) {
                           return applyVariant(ib, var, req, head, qPosOffset,
                                               kvLen, slope, a[0]);
                         });

  // Row maximum over visible keys; -inf when none is visible.
  Value rowMax = generic(
      b, scores, filledTensor(b, {n}, -std::numeric_limits<double>::infinity()),
      {map2({0, 1}), map2({0})}, {kPar, kRed},
      [](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
        return arith::MaximumFOp::create(ib, a[0], a[1]);
      });
  // What to subtract before exponentiating: the max (with the sink logit,
  // which joins the denominator), or 0 for rows that see nothing so that
  // exp(-inf - 0) = 0 stays NaN-free.
  Value shift =
      generic(b, rowMax, emptyTensor(b, {n}, b.getF32Type()), {id1, id1},
              {kPar}, [&](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
                Value mx = a[0];
                if (sink)
                  mx = arith::MaximumFOp::create(ib, mx, sink);
                return arith::SelectOp::create(ib, isVisibleMax(ib, a[0]), mx,
                                               f32Const(ib, 0));
              });
  Value probs = generic(
      b, {scores, shift}, emptyTensor(b, {n, m}, b.getF32Type()),
      {map2({0, 1}), map2({0}), map2({0, 1})}, {kPar, kPar},
      [](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
        return math::ExpOp::create(ib, arith::SubFOp::create(ib, a[0], a[1]));
      });
  Value rowSum = generic(b, probs, filledTensor(b, {n}, 0.0),
                         {map2({0, 1}), map2({0})}, {kPar, kRed}, add);
  if (sink)
    rowSum = generic(b, {rowSum, shift}, emptyTensor(b, {n}, b.getF32Type()),
                     {id1, id1, id1}, {kPar},
                     [&](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
                       Value e = math::ExpOp::create(
                           ib, arith::SubFOp::create(ib, sink, a[1]));
                       return arith::AddFOp::create(ib, a[0], e);
                     });

  // acc[i, d] = sum_j p[i, j] * v[j, d]   (loops i, d, j)
  Value acc =
      generic(b, {probs, vf}, filledTensor(b, {n, dv}, 0.0),
              {map3({0, 2}), map3({2, 1}), map3({0, 1})}, {kPar, kPar, kRed},
              [](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
                return arith::AddFOp::create(
                    ib, a[2], arith::MulFOp::create(ib, a[0], a[1]));
              });
  // A row without a visible key gets o = 0 and lse = -inf, sink or not: the
  // op's rule for rows that see no key.
  Value out =
      generic(b, {acc, rowSum, rowMax}, emptyTensor(b, {n, dv}, var.outElem),
              {map2({0, 1}), map2({0}), map2({0}), map2({0, 1})}, {kPar, kPar},
              [&](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
                Value o = arith::SelectOp::create(
                    ib, isVisibleMax(ib, a[2]),
                    arith::DivFOp::create(ib, a[0], a[1]), f32Const(ib, 0));
                return fromF32(ib, o, var.outElem);
              });
  if (!var.wantLse)
    return {out, Value()};

  // lse = log2(sum_j exp(s_j)) = (shift + ln(l)) / ln(2)
  Value lse = generic(
      b, {rowSum, shift, rowMax}, emptyTensor(b, {n}, b.getF32Type()),
      {id1, id1, id1, id1}, {kPar},
      [](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
        Value ln =
            arith::AddFOp::create(ib, a[1], math::LogOp::create(ib, a[0]));
        Value l2 =
            arith::MulFOp::create(ib, ln, f32Const(ib, 1.0 / std::log(2.0)));
        return arith::SelectOp::create(ib, isVisibleMax(ib, a[2]), l2,
                                       negInf(ib));
      });
  return {out, lse};
}

/// Runs every query head of one request and writes its rows into `outs`
/// (o and optionally lse); returns the updated outputs.
SmallVector<Value> lowerRequest(ImplicitLocOpBuilder &b, const Variant &var,
                                Value query, const Request &req,
                                ValueRange outs) {
  Value zero = indexConst(b, 0), one = indexConst(b, 1);
  Value numHeads = dimOf(b, query, 1);
  Value group = arith::DivUIOp::create(b, numHeads, dimOf(b, req.key, 1));
  OpFoldResult d = tensor::getMixedSize(b, b.getLoc(), query, 2);
  OpFoldResult dv = tensor::getMixedSize(b, b.getLoc(), req.value, 2);
  OpFoldResult z = b.getIndexAttr(0), u = b.getIndexAttr(1);
  auto loop = scf::ForOp::create(
      b, zero, numHeads, one, outs,
      [&](OpBuilder &nb, Location loc, Value h, ValueRange iter) {
        ImplicitLocOpBuilder ib(loc, nb);
        // GQA: query head h reads KV head h / (Hq / Hkv).
        Value kvHead = arith::DivUIOp::create(ib, h, group);
        Value q = extractSlice(ib, query, {req.qoStart, h, z},
                               {req.qoLen, u, d}, {1});
        Value k =
            extractSlice(ib, req.key, {z, kvHead, z}, {req.kvLen, u, d}, {1});
        Value v = extractSlice(ib, req.value, {z, kvHead, z},
                               {req.kvLen, u, dv}, {1});
        auto [o, lse] = attendHead(ib, var, req, h, numHeads, q, k, v);
        SmallVector<Value> results;
        results.push_back(insertSlice(ib, o, iter[0], {req.qoStart, h, z},
                                      {req.qoLen, u, dv}));
        if (lse)
          results.push_back(
              insertSlice(ib, lse, iter[1], {req.qoStart, h}, {req.qoLen, u}));
        scf::YieldOp::create(ib, results);
      });
  return SmallVector<Value>(loop.getResults());
}

/// Loops over `numRequests` requests carrying the outputs and the custom mask
/// bit offset; `makeRequest` builds request b (all but its mask offset).
SmallVector<Value> forEachRequest(
    ImplicitLocOpBuilder &b, const Variant &var, Value query, Value numRequests,
    ValueRange outs,
    function_ref<Request(ImplicitLocOpBuilder &, Value)> makeRequest) {
  SmallVector<Value> init(outs);
  init.push_back(indexConst(b, 0));
  auto loop = scf::ForOp::create(
      b, indexConst(b, 0), numRequests, indexConst(b, 1), init,
      [&](OpBuilder &nb, Location loc, Value batch, ValueRange iter) {
        ImplicitLocOpBuilder ib(loc, nb);
        Request req = makeRequest(ib, batch);
        req.batch = batch;
        req.maskOffset = iter.back();
        SmallVector<Value> results =
            lowerRequest(ib, var, query, req, iter.drop_back());
        // Requests' masks follow each other: advance by qo_len * kv_len bits.
        results.push_back(arith::AddIOp::create(
            ib, iter.back(),
            arith::MulIOp::create(ib, materialize(ib, req.qoLen),
                                  materialize(ib, req.kvLen))));
        scf::YieldOp::create(ib, results);
      });
  return SmallVector<Value>(loop.getResults().drop_back());
}

SmallVector<Value> lowerAttention(ImplicitLocOpBuilder &b, AttentionOp op) {
  Variant var = Variant::get(op);
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
  if (!op.getQoIndptr()) {
    Request req;
    req.batch = indexConst(b, 0);
    req.qoStart = b.getIndexAttr(0);
    req.qoLen = tensor::getMixedSize(b, b.getLoc(), q, 0);
    req.kvLen = tensor::getMixedSize(b, b.getLoc(), k, 0);
    req.maskOffset = indexConst(b, 0);
    req.key = k;
    req.value = v;
    return lowerRequest(b, var, q, req, op.getOutputs());
  }
  Value qoIndptr = op.getQoIndptr(), kvIndptr = op.getKvIndptr();
  Value numRequests =
      arith::SubIOp::create(b, dimOf(b, qoIndptr, 0), indexConst(b, 1));
  return forEachRequest(
      b, var, q, numRequests, op.getOutputs(),
      [&](ImplicitLocOpBuilder &ib, Value batch) {
        Value next = arith::AddIOp::create(ib, batch, indexConst(ib, 1));
        Value qs = extractIndex(ib, qoIndptr, batch);
        Value qe = extractIndex(ib, qoIndptr, next);
        Value ks = extractIndex(ib, kvIndptr, batch);
        Value ke = extractIndex(ib, kvIndptr, next);
        Request req;
        req.qoStart = qs;
        req.qoLen = arith::SubIOp::create(ib, qe, qs).getResult();
        req.kvLen = arith::SubIOp::create(ib, ke, ks).getResult();
        OpFoldResult z = ib.getIndexAttr(0);
        req.key = extractSlice(ib, k, {ks, z, z},
                               {req.kvLen,
                                tensor::getMixedSize(ib, ib.getLoc(), k, 1),
                                tensor::getMixedSize(ib, ib.getLoc(), k, 2)},
                               {});
        req.value = extractSlice(ib, v, {ks, z, z},
                                 {req.kvLen,
                                  tensor::getMixedSize(ib, ib.getLoc(), v, 1),
                                  tensor::getMixedSize(ib, ib.getLoc(), v, 2)},
                                 {});
        return req;
      });
}

/// Copies one request's `kv_len` tokens out of its pages into a contiguous
/// `[kv_len, Hkv, D]` tensor: token j lives in page
/// `kv_indices[first + j / page_size]`, slot `j % page_size`.
Value gatherPages(ImplicitLocOpBuilder &b, Value cache, Value kvIndices,
                  Value firstPage, Value kvLen, KVLayout layout) {
  unsigned slotDim = getPageSlotDim(layout);
  unsigned headDim = getPagedKVHeadDim(layout);
  Value pageSize = dimOf(b, cache, slotDim);
  Value init =
      emptyTensor(b,
                  {kvLen, tensor::getMixedSize(b, b.getLoc(), cache, headDim),
                   tensor::getMixedSize(b, b.getLoc(), cache, 3)},
                  cast<RankedTensorType>(cache.getType()).getElementType());
  AffineMap id = b.getMultiDimIdentityMap(3);
  auto op = linalg::GenericOp::create(
      b, TypeRange{init.getType()}, ValueRange{}, ValueRange{init}, {id},
      {kPar, kPar, kPar}, [&](OpBuilder &nb, Location loc, ValueRange) {
        ImplicitLocOpBuilder ib(loc, nb);
        SmallVector<Value> ivs = loopIndices(ib, 3);
        Value slot = arith::RemUIOp::create(ib, ivs[0], pageSize);
        Value pageIdx = arith::AddIOp::create(
            ib, firstPage, arith::DivUIOp::create(ib, ivs[0], pageSize));
        Value page = extractIndex(ib, kvIndices, pageIdx);
        SmallVector<Value> at = {page, Value(), Value(), ivs[2]};
        at[slotDim] = slot;
        at[headDim] = ivs[1];
        linalg::YieldOp::create(
            ib, tensor::ExtractOp::create(ib, cache, at).getResult());
      });
  return op.getResult(0);
}

SmallVector<Value> lowerPagedAttention(ImplicitLocOpBuilder &b,
                                       PagedAttentionOp op) {
  Variant var = Variant::get(op);
  Value q = op.getQuery(), kvIndptr = op.getKvIndptr();
  Value qoIndptr = op.getQoIndptr();
  Value numRequests =
      arith::SubIOp::create(b, dimOf(b, kvIndptr, 0), indexConst(b, 1));
  Value pageSize = dimOf(b, op.getKCache(), op.getPageSlotDim());
  return forEachRequest(
      b, var, q, numRequests, op.getOutputs(),
      [&](ImplicitLocOpBuilder &ib, Value batch) {
        Value next = arith::AddIOp::create(ib, batch, indexConst(ib, 1));
        Value first = extractIndex(ib, kvIndptr, batch);
        Value numPages =
            arith::SubIOp::create(ib, extractIndex(ib, kvIndptr, next), first);
        Value lastLen = extractIndex(ib, op.getKvLastPageLen(), batch);
        // kv_len = (num_pages - 1) * page_size + last_page_len, 0 without
        // pages.
        Value full = arith::MulIOp::create(
            ib, arith::SubIOp::create(ib, numPages, indexConst(ib, 1)),
            pageSize);
        Value hasPages = arith::CmpIOp::create(ib, arith::CmpIPredicate::sgt,
                                               numPages, indexConst(ib, 0));
        Value kvLen = arith::SelectOp::create(
            ib, hasPages, arith::AddIOp::create(ib, full, lastLen),
            indexConst(ib, 0));
        Request req;
        if (qoIndptr) {
          Value qs = extractIndex(ib, qoIndptr, batch);
          req.qoStart = qs;
          req.qoLen =
              arith::SubIOp::create(ib, extractIndex(ib, qoIndptr, next), qs)
                  .getResult();
        } else {
          // Decode: request b owns query row b.
          req.qoStart = batch;
          req.qoLen = ib.getIndexAttr(1);
        }
        req.kvLen = kvLen;
        req.key = gatherPages(ib, op.getKCache(), op.getKvIndices(), first,
                              kvLen, op.getKvLayout());
        req.value = gatherPages(ib, op.getVCache(), op.getKvIndices(), first,
                                kvLen, op.getKvLayout());
        return req;
      });
}

//===----------------------------------------------------------------------===//
// merge_states, rope, append_paged_kv
//===----------------------------------------------------------------------===//

/// The segmented form: output row b merges the rows indptr[b] ..
/// indptr[b + 1] of the one state. Each reduction runs over every row and
/// masks those outside the segment (a reference, not a fast path).
SmallVector<Value> lowerSegmentedMergeStates(ImplicitLocOpBuilder &b,
                                             MergeStatesOp op) {
  MLIRContext *ctx = b.getContext();
  Value values = op.getValues()[0], lses = op.getLses()[0];
  Value indptr = op.getIndptr();
  Value outV = op.getOutputs()[0], outLse = op.getOutputs()[1];
  Type outElem = cast<RankedTensorType>(outV.getType()).getElementType();
  OpFoldResult batch = tensor::getMixedSize(b, b.getLoc(), outV, 0);
  OpFoldResult heads = tensor::getMixedSize(b, b.getLoc(), outV, 1);
  OpFoldResult dim = tensor::getMixedSize(b, b.getLoc(), outV, 2);
  // Whether loop dim `rowDim` lies in output row `batchDim`'s segment.
  auto inSegment = [&](ImplicitLocOpBuilder &ib, unsigned batchDim,
                       unsigned rowDim) {
    Value bIdx = linalg::IndexOp::create(ib, ib.getI64IntegerAttr(batchDim));
    Value row = linalg::IndexOp::create(ib, ib.getI64IntegerAttr(rowDim));
    Value begin = extractIndex(ib, indptr, bIdx);
    Value end = extractIndex(
        ib, indptr, arith::AddIOp::create(ib, bIdx, indexConst(ib, 1)));
    Value afterBegin =
        arith::CmpIOp::create(ib, arith::CmpIPredicate::sge, row, begin);
    Value beforeEnd =
        arith::CmpIOp::create(ib, arith::CmpIPredicate::slt, row, end);
    return arith::AndIOp::create(ib, afterBegin, beforeEnd);
  };
  // 2^(lse - shift) inside the segment, else 0; shift is the row max, or 0
  // when every state of the row is empty.
  auto weight = [&](ImplicitLocOpBuilder &ib, Value inSeg, Value l, Value m) {
    Value shift =
        arith::SelectOp::create(ib, isVisibleMax(ib, m), m, f32Const(ib, 0));
    Value used = arith::AndIOp::create(
        ib, inSeg,
        arith::CmpFOp::create(ib, arith::CmpFPredicate::ONE, l, negInf(ib)));
    Value w = math::Exp2Op::create(ib, arith::SubFOp::create(ib, l, shift));
    return arith::SelectOp::create(ib, used, w, f32Const(ib, 0));
  };
  // Loops (b, h, r) and (b, h, d, r); r runs over the state's rows.
  AffineMap bhr_rh = loopsTo(ctx, 3, {2, 1}), bhr_bh = loopsTo(ctx, 3, {0, 1});
  Value rowMax = generic(
      b, {lses},
      filledTensor(b, {batch, heads}, -std::numeric_limits<double>::infinity()),
      {bhr_rh, bhr_bh}, {kPar, kPar, kRed},
      [&](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
        Value l =
            arith::SelectOp::create(ib, inSegment(ib, 0, 2), a[0], negInf(ib));
        return arith::MaximumFOp::create(ib, a[1], l);
      });
  Value sum =
      generic(b, {lses, rowMax}, filledTensor(b, {batch, heads}, 0),
              {bhr_rh, bhr_bh, bhr_bh}, {kPar, kPar, kRed},
              [&](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
                return arith::AddFOp::create(
                    ib, a[2], weight(ib, inSegment(ib, 0, 2), a[0], a[1]));
              });
  Value acc = generic(
      b, {values, lses, rowMax}, filledTensor(b, {batch, heads, dim}, 0),
      {loopsTo(ctx, 4, {3, 1, 2}), loopsTo(ctx, 4, {3, 1}),
       loopsTo(ctx, 4, {0, 1}), loopsTo(ctx, 4, {0, 1, 2})},
      {kPar, kPar, kPar, kRed},
      [&](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
        Value w = weight(ib, inSegment(ib, 0, 3), a[1], a[2]);
        // A row with weight 0 adds nothing, even if its values are garbage.
        Value used = arith::CmpFOp::create(ib, arith::CmpFPredicate::OGT, w,
                                           f32Const(ib, 0));
        Value term = arith::MulFOp::create(ib, w, toF32(ib, a[0]));
        return arith::AddFOp::create(
            ib, a[3], arith::SelectOp::create(ib, used, term, f32Const(ib, 0)));
      });
  AffineMap id2 = b.getMultiDimIdentityMap(2);
  Value lse = generic(
      b, {rowMax, sum}, outLse, {id2, id2, id2}, {kPar, kPar},
      [&](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
        Value positive = arith::CmpFOp::create(ib, arith::CmpFPredicate::OGT,
                                               a[1], f32Const(ib, 0));
        Value merged =
            arith::AddFOp::create(ib, a[0], math::Log2Op::create(ib, a[1]));
        return arith::SelectOp::create(ib, positive, merged, negInf(ib));
      });
  AffineMap id3 = b.getMultiDimIdentityMap(3);
  Value v = generic(
      b, {acc, sum}, outV, {id3, loopsTo(ctx, 3, {0, 1}), id3},
      {kPar, kPar, kPar}, [&](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
        Value positive = arith::CmpFOp::create(ib, arith::CmpFPredicate::OGT,
                                               a[1], f32Const(ib, 0));
        Value r = arith::SelectOp::create(ib, positive,
                                          arith::DivFOp::create(ib, a[0], a[1]),
                                          f32Const(ib, 0));
        return fromF32(ib, r, outElem);
      });
  return {v, lse};
}

SmallVector<Value> lowerMergeStates(ImplicitLocOpBuilder &b, MergeStatesOp op) {
  if (op.getIndptr())
    return lowerSegmentedMergeStates(b, op);
  MLIRContext *ctx = b.getContext();
  unsigned numStates = op.getValues().size();
  Value outV = op.getOutputs()[0], outLse = op.getOutputs()[1];
  Type outElem = cast<RankedTensorType>(outV.getType()).getElementType();

  // Max lse (0 when every state is empty) and sum_i 2^(lse_i - max).
  auto combine = [&](ImplicitLocOpBuilder &ib, ValueRange lses) {
    Value mx = negInf(ib);
    for (Value l : lses)
      mx = arith::MaximumFOp::create(ib, mx, l);
    Value any = isVisibleMax(ib, mx);
    Value shift = arith::SelectOp::create(ib, any, mx, f32Const(ib, 0));
    SmallVector<Value> weights;
    Value sum = f32Const(ib, 0);
    for (Value l : lses) {
      Value w = math::Exp2Op::create(ib, arith::SubFOp::create(ib, l, shift));
      weights.push_back(w);
      sum = arith::AddFOp::create(ib, sum, w);
    }
    return std::make_tuple(any, shift, sum, weights);
  };

  SmallVector<AffineMap> lseMaps(numStates + 1, b.getMultiDimIdentityMap(2));
  SmallVector<Value> lses(op.getLses());
  Value lse = generic(
      b, lses, outLse, lseMaps, {kPar, kPar},
      [&](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
        auto [any, shift, sum, weights] = combine(ib, a.take_front(numStates));
        Value merged =
            arith::AddFOp::create(ib, shift, math::Log2Op::create(ib, sum));
        return arith::SelectOp::create(ib, any, merged, negInf(ib));
      });

  SmallVector<Value> inputs(op.getValues());
  inputs.append(lses);
  SmallVector<AffineMap> maps(numStates, b.getMultiDimIdentityMap(3));
  maps.append(numStates, loopsTo(ctx, 3, {0, 1}));
  maps.push_back(b.getMultiDimIdentityMap(3));
  Value v = generic(
      b, inputs, outV, maps, {kPar, kPar, kPar},
      [&](ImplicitLocOpBuilder &ib, ValueRange a) -> Value {
        ValueRange vals = a.take_front(numStates);
        ValueRange ls = a.slice(numStates, numStates);
        auto [any, shift, sum, weights] = combine(ib, ls);
        Value acc = f32Const(ib, 0);
        for (unsigned i = 0; i < numStates; ++i) {
          // An empty state (lse -inf) contributes nothing, even if its value
          // rows hold garbage.
          Value term =
              arith::MulFOp::create(ib, weights[i], toF32(ib, vals[i]));
          Value empty = arith::CmpFOp::create(ib, arith::CmpFPredicate::OEQ,
                                              ls[i], negInf(ib));
          acc = arith::AddFOp::create(
              ib, acc,
              arith::SelectOp::create(ib, empty, f32Const(ib, 0), term));
        }
        Value r = arith::SelectOp::create(
            ib, any, arith::DivFOp::create(ib, acc, sum), f32Const(ib, 0));
        return fromF32(ib, r, outElem);
      });
  return {v, lse};
}

/// Token t's position in a ragged batch: offsets[b] + t - indptr[b] for
/// the request b whose rows indptr[b] .. indptr[b + 1] hold t, as a
/// [tokens] index tensor (0 for a token no request holds).
Value raggedPositions(ImplicitLocOpBuilder &b, Value indptr, Value offsets,
                      Value tokens) {
  Value zero = indexConst(b, 0), one = indexConst(b, 1);
  Value init = emptyTensor(b, {OpFoldResult(tokens)}, b.getIndexType());
  init = linalg::FillOp::create(b, ValueRange{zero}, ValueRange{init})
             .getResult(0);
  Value batch = arith::SubIOp::create(b, dimOf(b, indptr, 0), one);
  auto requests = scf::ForOp::create(
      b, zero, batch, one, ValueRange{init},
      [&](OpBuilder &ob, Location loc, Value req, ValueRange iter) {
        ImplicitLocOpBuilder rb(loc, ob);
        Value begin = extractIndex(rb, indptr, req);
        Value next = arith::AddIOp::create(rb, req, one);
        Value end = extractIndex(rb, indptr, next);
        // Rows outside the tensor are skipped.
        begin = arith::MaxSIOp::create(rb, begin, zero);
        end = arith::MinSIOp::create(rb, end, tokens);
        Value offset = extractIndex(rb, offsets, req);
        auto rows = scf::ForOp::create(
            rb, begin, end, one, iter,
            [&](OpBuilder &ob2, Location loc2, Value t, ValueRange acc) {
              ImplicitLocOpBuilder tb(loc2, ob2);
              Value row = arith::SubIOp::create(tb, t, begin);
              Value pos = arith::AddIOp::create(tb, offset, row);
              Value next =
                  tensor::InsertOp::create(tb, pos, acc[0], ValueRange{t});
              scf::YieldOp::create(tb, next);
            });
        scf::YieldOp::create(rb, rows.getResults());
      });
  return requests.getResult(0);
}

SmallVector<Value> lowerRope(ImplicitLocOpBuilder &b, RopeOp op) {
  Value rotaryDim;
  int64_t rd = op.getEffectiveRotaryDim();
  if (!ShapedType::isDynamic(rd))
    rotaryDim = indexConst(b, rd);
  else
    rotaryDim = dimOf(b, op.getInput(), 2);
  RopeParams p{rotaryDim,
               op.getInterleave(),
               op.getRopeScale().convertToFloat(),
               op.getRopeTheta().convertToFloat(),
               op.getLlama31ScalingAttr(),
               op.getCosSinCache(),
               op.getRopeScaleValue(),
               op.getRopeThetaValue()};
  Value positions;
  if (Value posIds = op.getPosIds())
    positions = posIds;
  else
    positions = raggedPositions(b, op.getIndptr(), op.getOffsets(),
                                dimOf(b, op.getInput(), 0));
  Value r =
      emitRope(b, op.getInput(), op.getOutput(), p,
               [&](ImplicitLocOpBuilder &ib, ValueRange ivs) -> Value {
                 Value pos = tensor::ExtractOp::create(ib, positions,
                                                       ValueRange{ivs[0]});
                 if (pos.getType().isIndex())
                   return pos;
                 return arith::IndexCastOp::create(ib, ib.getIndexType(), pos);
               });
  return {r};
}

SmallVector<Value> lowerAppendPagedKV(ImplicitLocOpBuilder &b,
                                      AppendPagedKVOp op) {
  Value k = op.getKey(), v = op.getValue();
  unsigned slotDim = op.getPageSlotDim(), headDim = op.getKVHeadDim();
  Value pageSize = dimOf(b, op.getKCache(), slotDim);
  auto loop = scf::ForOp::create(
      b, indexConst(b, 0), dimOf(b, k, 0), indexConst(b, 1),
      ValueRange{op.getKCache(), op.getVCache()},
      [&](OpBuilder &nb, Location loc, Value n, ValueRange caches) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value batch = extractIndex(ib, op.getBatchIndices(), n);
        Value pos = extractIndex(ib, op.getPositions(), n);
        Value pageInRequest = arith::DivUIOp::create(ib, pos, pageSize);
        Value firstPage = extractIndex(ib, op.getKvIndptr(), batch);
        Value pageIdx = arith::AddIOp::create(ib, firstPage, pageInRequest);
        Value page = extractIndex(ib, op.getKvIndices(), pageIdx);
        Value slot = arith::RemUIOp::create(ib, pos, pageSize);
        OpFoldResult z = ib.getIndexAttr(0), u = ib.getIndexAttr(1);
        SmallVector<Value> results, sources = {k, v};
        for (auto [src, cache] : llvm::zip(sources, caches)) {
          OpFoldResult heads = tensor::getMixedSize(ib, loc, src, 1);
          OpFoldResult dim = tensor::getMixedSize(ib, loc, src, 2);
          Value row = extractSlice(ib, src, {n, z, z}, {u, heads, dim}, {0});
          SmallVector<OpFoldResult> offsets = {page, z, z, z};
          SmallVector<OpFoldResult> sizes = {u, u, u, dim};
          offsets[slotDim] = slot;
          sizes[headDim] = heads;
          results.push_back(insertSlice(ib, row, cache, offsets, sizes));
        }
        scf::YieldOp::create(ib, results);
      });
  return SmallVector<Value>(loop.getResults());
}

struct ConvertAttnToLinalgPass
    : public attn::impl::ConvertAttnToLinalgBase<ConvertAttnToLinalgPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<AttentionOp, PagedAttentionOp, MergeStatesOp, RopeOp,
              AppendPagedKVOp>(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      ImplicitLocOpBuilder b(op->getLoc(), rewriter);
      SmallVector<Value> results =
          llvm::TypeSwitch<Operation *, SmallVector<Value>>(op)
              .Case([&](AttentionOp o) { return lowerAttention(b, o); })
              .Case(
                  [&](PagedAttentionOp o) { return lowerPagedAttention(b, o); })
              .Case([&](MergeStatesOp o) { return lowerMergeStates(b, o); })
              .Case([&](RopeOp o) { return lowerRope(b, o); })
              .Case(
                  [&](AppendPagedKVOp o) { return lowerAppendPagedKV(b, o); });
      rewriter.replaceOp(op, results);
    }
  }
};

} // namespace
