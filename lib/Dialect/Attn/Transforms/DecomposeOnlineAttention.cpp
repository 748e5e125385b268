//===- DecomposeOnlineAttention.cpp - expand the online softmax step ------===//
//
// Stage 2 of the GPU lowering: each attn.online_attention_step becomes the
// FlashAttention-2 recurrence on workgroup tiles: two vector.contract
// products, row reductions and exp2, still independent of any target.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Dialect/Attn/IR/AttnOps.h"
#include "flashinfer/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDECOMPOSEONLINEATTENTION
#include "flashinfer/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

Value splat(ImplicitLocOpBuilder &b, VectorType type, Attribute value) {
  return arith::ConstantOp::create(b, DenseElementsAttr::get(type, value));
}

/// Broadcasts the per-row vector `rows` ([M]) along the columns of `type`
/// ([M x N]).
Value broadcastRows(ImplicitLocOpBuilder &b, Value rows, VectorType type) {
  auto rowType = cast<VectorType>(rows.getType());
  auto column =
      VectorType::get({type.getDimSize(0), 1}, rowType.getElementType());
  Value shaped = vector::ShapeCastOp::create(b, column, rows);
  return vector::BroadcastOp::create(b, type.clone(rowType.getElementType()),
                                     shaped);
}

/// The `[rows x dim]` tile of keys (or values) [start, start + rows) that
/// `op` reads from `mem`, zero past kv_len unless `inBounds`, its rows
/// rotated by `rotary` when given.
Value readKeyTile(ImplicitLocOpBuilder &b, OnlineAttentionStepOp op, Value mem,
                  int64_t rows, bool inBounds, RotaryAttr rotary = {}) {
  auto memType = cast<MemRefType>(mem.getType());
  // In the query's type: an fp8 cache is widened as it is read.
  auto type = VectorType::get({rows, memType.getDimSize(memType.getRank() - 1)},
                              op.getQuery().getType().getElementType());
  return LoadKVTileOp::create(b, type, mem, op.getKvHead(), op.getKeyStart(),
                              op.getKvLen(), op.getKvIndices(),
                              op.getPageBegin(),
                              rotary ? op.getRotaryTheta() : Value(),
                              rotary ? op.getRotaryScale() : Value(),
                              op.getKvLayout(), inBounds, rotary);
}

/// `C[m, n] += sum_k lhs[m, k] * rhs(...)`: rhs is [n, k] (`rhsTransposed`,
/// S = Q K^T) or [k, n] (O = P V).
Value contract(ImplicitLocOpBuilder &b, Value lhs, Value rhs, Value acc,
               bool rhsTransposed) {
  MLIRContext *ctx = b.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  auto map = [&](ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(3, 0, exprs, ctx);
  };
  SmallVector<AffineMap> maps = {
      map({m, k}), rhsTransposed ? map({n, k}) : map({k, n}), map({m, n})};
  auto parallel =
      vector::IteratorTypeAttr::get(ctx, vector::IteratorType::parallel);
  auto reduction =
      vector::IteratorTypeAttr::get(ctx, vector::IteratorType::reduction);
  return vector::ContractionOp::create(
      b, lhs, rhs, acc, b.getAffineMapArrayAttr(maps),
      b.getArrayAttr({parallel, parallel, reduction}));
}

/// The shape a value of a score or mask region takes on the tile: one per
/// workgroup, one per query row ([M]), one per key ([N]) or one per score
/// ([M x N]). Each op of a region computes at the smallest shape holding its
/// operands, so that what depends on the row alone (an ALiBi slope, a
/// document id) is computed once per row and hoisted with it.
enum class TileShape { Scalar, Row, Col, Score };

struct TileValue {
  Value value;
  TileShape shape;
};

TileShape join(TileShape a, TileShape b) {
  if (a == b || b == TileShape::Scalar)
    return a;
  if (a == TileShape::Scalar)
    return b;
  return TileShape::Score; // Row and Col, or either with Score.
}

/// Evaluates the scalar `region` of `op` on the tile: its block arguments
/// bound to `args`, each op rebuilt on vectors of its operands' joint shape.
/// Returns the yielded value, as a [M x N] tile.
Value applyRegionOnTile(ImplicitLocOpBuilder &b, Region &region,
                        ArrayRef<TileValue> args, int64_t rows, int64_t keys) {
  auto typeOf = [&](TileShape shape, Type elem) -> Type {
    switch (shape) {
    case TileShape::Scalar:
      return elem;
    case TileShape::Row:
      return VectorType::get({rows}, elem);
    case TileShape::Col:
      return VectorType::get({keys}, elem);
    case TileShape::Score:
      return VectorType::get({rows, keys}, elem);
    }
    return elem;
  };
  auto expand = [&](TileValue v, TileShape to) -> Value {
    if (v.shape == to)
      return v.value;
    Type elem = getElementTypeOrSelf(v.value.getType());
    auto scoreType = VectorType::get({rows, keys}, elem);
    if (v.shape == TileShape::Row) // only to Score
      return broadcastRows(b, v.value, scoreType);
    return vector::BroadcastOp::create(b, typeOf(to, elem), v.value);
  };
  Block &block = region.front();
  DenseMap<Value, TileValue> values;
  for (auto [arg, v] : llvm::zip_equal(block.getArguments(), args))
    values[arg] = v;
  for (Operation &op : block.without_terminator()) {
    TileShape shape = TileShape::Scalar;
    for (Value operand : op.getOperands())
      shape = join(shape, values.lookup(operand).shape);
    OperationState state(op.getLoc(), op.getName());
    for (Value operand : op.getOperands())
      state.addOperands(expand(values.lookup(operand), shape));
    state.addTypes(typeOf(shape, op.getResult(0).getType()));
    state.addAttributes(op.getAttrs());
    values[op.getResult(0)] = {b.create(state)->getResult(0), shape};
  }
  Value yielded = cast<YieldOp>(block.getTerminator()).getValue();
  return expand(values.lookup(yielded), TileShape::Score);
}

/// The block arguments of `op`'s regions after the score: batch, each row's
/// query head and position, each key's index, the row values.
SmallVector<TileValue> regionIndexArgs(ImplicitLocOpBuilder &b,
                                       OnlineAttentionStepOp op, int64_t keys) {
  auto keyType = VectorType::get({keys}, b.getIndexType());
  Value keyIds = arith::AddIOp::create(
      b, vector::StepOp::create(b, keyType),
      vector::BroadcastOp::create(b, keyType, op.getKeyStart()));
  SmallVector<TileValue> args = {{op.getBatch(), TileShape::Scalar},
                                 {op.getQueryHeads(), TileShape::Row},
                                 {op.getQueryPositions(), TileShape::Row},
                                 {keyIds, TileShape::Col}};
  for (Value v : op.getRowValues())
    args.push_back({v, TileShape::Row});
  return args;
}

/// The scores `s = q . k` in log2 units with the scale and soft cap of
/// `op` when either is a launch-time operand: s * scale_log2, or
/// log2(e) c tanh(s * scale_log2 / (log2(e) c)) (the tanh as in the constant
/// form below), the cap skipped where c <= 0.
Value scoreWithLaunchValues(ImplicitLocOpBuilder &b, OnlineAttentionStepOp op,
                            Value s, VectorType scoreType) {
  auto scalar = [&](float v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v)).getResult();
  };
  auto bcast = [&](Value v) {
    return vector::BroadcastOp::create(b, scoreType, v).getResult();
  };
  Value scaleLog2 = op.getScaleLog2Value();
  if (!scaleLog2)
    scaleLog2 = scalar(op.getScaleLog2()->convertToFloat());
  Value plain = arith::MulFOp::create(b, s, bcast(scaleLog2));
  Value cap = op.getLogitsSoftCapValue();
  float capAttr = op.getLogitsSoftCap().convertToFloat();
  if (!cap && !(capAttr > 0.0f))
    return plain;
  if (!cap)
    cap = scalar(capAttr);
  float log2e = static_cast<float>(M_LOG2E);
  // 2 log2(e) x with x = sm_scale (q . k) / c = s * scale_log2 / (log2(e) c).
  Value twoScale = arith::MulFOp::create(b, scalar(2.0f), scaleLog2);
  Value factor = arith::DivFOp::create(b, twoScale, cap);
  Value e = math::Exp2Op::create(b, arith::MulFOp::create(b, s, bcast(factor)));
  Value ePlusOne = arith::AddFOp::create(b, e, bcast(scalar(1.0f)));
  Value quotient = arith::DivFOp::create(b, bcast(scalar(2.0f)), ePlusOne);
  Value tanh = arith::SubFOp::create(b, bcast(scalar(1.0f)), quotient);
  Value capLog2 = arith::MulFOp::create(b, cap, scalar(log2e));
  Value capped = arith::MulFOp::create(b, tanh, bcast(capLog2));
  Value on =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, cap, scalar(0.0f));
  return arith::SelectOp::create(b, on, capped, plain);
}

void decompose(OnlineAttentionStepOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  auto qType = cast<VectorType>(op.getQuery().getType());
  int64_t rows = qType.getDimSize(0), keys = op.getBlockN();
  bool masked = op.getMasked();
  Type f32 = b.getF32Type(), index = b.getIndexType();
  auto scoreType = VectorType::get({rows, keys}, f32);
  auto rowType = VectorType::get({rows}, f32);
  float inf = std::numeric_limits<float>::infinity();

  // Both tiles are read up front: the reads only depend on the tile start.
  Value kTile =
      readKeyTile(b, op, op.getKey(), keys, !masked, op.getKeyRotaryAttr());
  Value vTile = readKeyTile(b, op, op.getValue(), keys, !masked);

  // S = Q K^T in log2 units.
  Value s = contract(b, op.getQuery(), kTile,
                     splat(b, scoreType, b.getF32FloatAttr(0.0f)),
                     /*rhsTransposed=*/true);
  float cap = op.getLogitsSoftCap().convertToFloat();
  bool naturalUnits = false; // s is sm_scale (q . k), not yet in log2 units
  if (op.getScaleLog2Value() || op.getLogitsSoftCapValue()) {
    s = scoreWithLaunchValues(b, op, s, scoreType);
  } else if (cap > 0.0f) {
    // s = log2(e) c tanh(x), x = sm_scale (q . k) / c, with tanh(x) =
    // 1 - 2 / (2^(2 log2(e) x) + 1): exp2 is native on every target (no
    // libm on the GPU), and the form saturates to +-1 for large |x|.
    auto cst = [&](float v) {
      return splat(b, scoreType, b.getF32FloatAttr(v));
    };
    float log2e = static_cast<float>(M_LOG2E);
    float smScale = op.getScaleLog2()->convertToFloat() / log2e;
    Value e = math::Exp2Op::create(
        b, arith::MulFOp::create(b, s, cst(2.0f * log2e * smScale / cap)));
    // tanh(x) = 1 - 2 / (e^2x + 1); one builder call per statement, so the
    // IR does not depend on the host compiler's argument evaluation order.
    Value ePlusOne = arith::AddFOp::create(b, e, cst(1.0f));
    Value two = cst(2.0f);
    Value quotient = arith::DivFOp::create(b, two, ePlusOne);
    Value one = cst(1.0f);
    Value tanh = arith::SubFOp::create(b, one, quotient);
    s = arith::MulFOp::create(b, tanh, cst(log2e * cap));
  } else if (op.getScoreMod().empty()) {
    s = arith::MulFOp::create(b, s, splat(b, scoreType, op.getScaleLog2Attr()));
  } else {
    // Straight to natural units for the score function below.
    naturalUnits = true;
    s = arith::MulFOp::create(
        b, s,
        splat(b, scoreType,
              b.getF32FloatAttr(op.getScaleLog2()->convertToFloat() /
                                static_cast<float>(M_LOG2E))));
  }

  bool hasRegions = !op.getScoreMod().empty() || !op.getMaskMod().empty();
  SmallVector<TileValue> regionArgs;
  if (hasRegions)
    regionArgs = regionIndexArgs(b, op, keys);
  if (!op.getScoreMod().empty()) {
    // The region maps the score in natural units.
    float log2e = static_cast<float>(M_LOG2E);
    Value natural =
        naturalUnits
            ? s
            : arith::MulFOp::create(
                  b, s, splat(b, scoreType, b.getF32FloatAttr(1.0f / log2e)));
    SmallVector<TileValue> args = {{natural, TileShape::Score}};
    llvm::append_range(args, regionArgs);
    Value modded = applyRegionOnTile(b, op.getScoreMod(), args, rows, keys);
    s = arith::MulFOp::create(b, modded,
                              splat(b, scoreType, b.getF32FloatAttr(log2e)));
  }

  if (masked) {
    auto keyType = VectorType::get({keys}, index);
    auto tileType = VectorType::get({rows, keys}, index);
    Value keyIds = arith::AddIOp::create(
        b, vector::StepOp::create(b, keyType),
        vector::BroadcastOp::create(b, keyType, op.getKeyStart()));
    Value key = vector::BroadcastOp::create(b, tileType, keyIds);
    Value visible = arith::CmpIOp::create(
        b, arith::CmpIPredicate::slt, key,
        vector::BroadcastOp::create(b, tileType, op.getKvLen()));
    Value pos = broadcastRows(b, op.getQueryPositions(), scoreType);
    if (op.getCausal())
      visible = arith::AndIOp::create(
          b, visible,
          arith::CmpIOp::create(b, arith::CmpIPredicate::sle, key, pos));
    int64_t windowLeft = static_cast<int64_t>(op.getWindowLeft());
    if (Value w = op.getWindowLeftValue()) {
      // A window known at launch; < 0 shows every key.
      Value lo = arith::SubIOp::create(
          b, pos, vector::BroadcastOp::create(b, tileType, w));
      Value inWindow =
          arith::CmpIOp::create(b, arith::CmpIPredicate::sge, key, lo);
      Value none = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, w,
                                         arith::ConstantIndexOp::create(b, 0));
      Value noWindow = vector::BroadcastOp::create(
          b, VectorType::get({rows, keys}, b.getI1Type()), none);
      visible = arith::AndIOp::create(
          b, visible, arith::OrIOp::create(b, inWindow, noWindow));
    } else if (windowLeft >= 0) {
      Value window = vector::BroadcastOp::create(
          b, tileType, arith::ConstantIndexOp::create(b, windowLeft));
      Value lo = arith::SubIOp::create(b, pos, window);
      visible = arith::AndIOp::create(
          b, visible,
          arith::CmpIOp::create(b, arith::CmpIPredicate::sge, key, lo));
    }
    if (Value bits = op.getMaskBits()) {
      // Bit first + position * row_bits + kv_idx of the packed mask.
      auto rowIndexType = VectorType::get({rows}, index);
      Value rowStart = arith::AddIOp::create(
          b, vector::BroadcastOp::create(b, rowIndexType, op.getMaskFirstBit()),
          arith::MulIOp::create(b, op.getQueryPositions(),
                                vector::BroadcastOp::create(
                                    b, rowIndexType, op.getMaskRowBits())));
      Value bit =
          arith::AddIOp::create(b, broadcastRows(b, rowStart, tileType), key);
      auto c = [&](int64_t v) {
        return vector::BroadcastOp::create(
            b, tileType, arith::ConstantIndexOp::create(b, v));
      };
      Value byteIdx = arith::ShRUIOp::create(b, bit, c(3));
      Value shift = arith::AndIOp::create(b, bit, c(7));
      auto i32Type = VectorType::get({rows, keys}, b.getI32Type());
      auto i8Type = VectorType::get({rows, keys}, b.getI8Type());
      Value all = arith::ConstantOp::create(
          b, DenseElementsAttr::get(
                 VectorType::get({rows, keys}, b.getI1Type()), true));
      Value bytes = vector::GatherOp::create(
          b, i8Type, bits, ValueRange{arith::ConstantIndexOp::create(b, 0)},
          byteIdx, all, splat(b, i8Type, b.getI8IntegerAttr(0)),
          /*alignment=*/IntegerAttr());
      Value word = arith::ExtUIOp::create(b, i32Type, bytes);
      Value shifted = arith::ShRUIOp::create(
          b, word, arith::IndexCastOp::create(b, i32Type, shift));
      Value set = arith::AndIOp::create(
          b, shifted, splat(b, i32Type, b.getI32IntegerAttr(1)));
      visible = arith::AndIOp::create(
          b, visible,
          arith::CmpIOp::create(b, arith::CmpIPredicate::ne, set,
                                splat(b, i32Type, b.getI32IntegerAttr(0))));
    }
    if (!op.getMaskMod().empty())
      visible = arith::AndIOp::create(
          b, visible,
          applyRegionOnTile(b, op.getMaskMod(), regionArgs, rows, keys));
    s = arith::SelectOp::create(b, visible, s,
                                splat(b, scoreType, b.getF32FloatAttr(-inf)));
  }

  // Online softmax. A row that has seen no key keeps max -inf and
  // exponentiates against 0, so that 2^(-inf - -inf) never makes a NaN.
  Value newMax = vector::MultiDimReductionOp::create(
      b, s, op.getMax(), ArrayRef<bool>{false, true},
      vector::CombiningKind::MAXIMUMF);
  Value none =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax,
                            splat(b, rowType, b.getF32FloatAttr(-inf)));
  Value base = arith::SelectOp::create(
      b, none, splat(b, rowType, b.getF32FloatAttr(0.0f)), newMax);
  Value alpha =
      math::Exp2Op::create(b, arith::SubFOp::create(b, op.getMax(), base));
  Value p = math::Exp2Op::create(
      b, arith::SubFOp::create(b, s, broadcastRows(b, base, scoreType)));
  Value newSum = vector::MultiDimReductionOp::create(
      b, p, arith::MulFOp::create(b, op.getSum(), alpha),
      ArrayRef<bool>{false, true}, vector::CombiningKind::ADD);

  // O = O * alpha + P V, P rounded to the input type.
  auto accType = cast<VectorType>(op.getAcc().getType());
  Value acc =
      arith::MulFOp::create(b, op.getAcc(), broadcastRows(b, alpha, accType));
  Value pIn =
      arith::TruncFOp::create(b, scoreType.clone(qType.getElementType()), p);
  Value newAcc = contract(b, pIn, vTile, acc, /*rhsTransposed=*/false);
  op.replaceAllUsesWith(ValueRange{newAcc, newMax, newSum});
  op.erase();
}

struct AttnDecomposeOnlineAttentionPass
    : public attn::impl::AttnDecomposeOnlineAttentionBase<
          AttnDecomposeOnlineAttentionPass> {
  void runOnOperation() override {
    SmallVector<OnlineAttentionStepOp> steps;
    getOperation()->walk(
        [&](OnlineAttentionStepOp op) { steps.push_back(op); });
    for (OnlineAttentionStepOp op : steps)
      decompose(op);
  }
};
} // namespace
