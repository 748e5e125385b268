//===- RaiseBuiltinVariants.cpp - regions that spell builtins -> attrs ----===//

#include "flashinfer/Dialect/Attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <optional>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNRAISEBUILTINVARIANTS
#include "flashinfer/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// What a mask_mod region computes, when it is a builtin.
struct BuiltinMask {
  bool causal = false;
  int64_t windowLeft = -1;
};

/// Matches `kv <= q` in any of its spellings (sle/ule with kv on the left,
/// sge/uge with q on the left).
bool isCausalCompare(Value v, Value q, Value kv) {
  auto cmp = v.getDefiningOp<arith::CmpIOp>();
  if (!cmp)
    return false;
  using P = arith::CmpIPredicate;
  P p = cmp.getPredicate();
  if ((p == P::sle || p == P::ule) && cmp.getLhs() == kv && cmp.getRhs() == q)
    return true;
  return (p == P::sge || p == P::uge) && cmp.getLhs() == q &&
         cmp.getRhs() == kv;
}

/// Matches `q - kv <= W` or `kv >= q - W` and returns W. Callers pair it with
/// the causal test, so `q - kv` is never negative and may be compared either
/// way; `q - W` wraps below zero for the first W rows, so `kv >= q - W` must be
/// a signed compare to mean the window.
std::optional<int64_t> matchWindowCompare(Value v, Value q, Value kv) {
  auto cmp = v.getDefiningOp<arith::CmpIOp>();
  if (!cmp)
    return std::nullopt;
  using P = arith::CmpIPredicate;
  P p = cmp.getPredicate();
  APInt w;
  auto isSub = [](Value x, Value lhs, Value rhs) {
    auto sub = x.getDefiningOp<arith::SubIOp>();
    return sub && sub.getLhs() == lhs && sub.getRhs() == rhs;
  };
  // q - kv <= W
  if ((p == P::sle || p == P::ule) && isSub(cmp.getLhs(), q, kv) &&
      matchPattern(cmp.getRhs(), m_ConstantInt(&w)))
    return w.getSExtValue();
  // kv >= q - W
  if (p == P::sge && cmp.getLhs() == kv) {
    auto sub = cmp.getRhs().getDefiningOp<arith::SubIOp>();
    if (sub && sub.getLhs() == q &&
        matchPattern(sub.getRhs(), m_ConstantInt(&w)))
      return w.getSExtValue();
  }
  return std::nullopt;
}

std::optional<BuiltinMask> matchMaskMod(Region &region) {
  if (region.empty())
    return std::nullopt;
  Block &block = region.front();
  Value q = block.getArgument(2), kv = block.getArgument(3);
  Value yielded = cast<YieldOp>(block.getTerminator()).getValue();
  if (isCausalCompare(yielded, q, kv))
    return BuiltinMask{true, -1};
  auto andOp = yielded.getDefiningOp<arith::AndIOp>();
  if (!andOp)
    return std::nullopt;
  for (auto [a, b] : {std::pair(andOp.getLhs(), andOp.getRhs()),
                      std::pair(andOp.getRhs(), andOp.getLhs())}) {
    if (!isCausalCompare(a, q, kv))
      continue;
    if (std::optional<int64_t> w = matchWindowCompare(b, q, kv); w && *w >= 0)
      return BuiltinMask{true, *w};
  }
  return std::nullopt;
}

std::optional<double> constantFloat(Value v) {
  APFloat f(0.0);
  if (!matchPattern(v, m_ConstantFloat(&f)))
    return std::nullopt;
  return f.convertToDouble();
}

bool closeTo(double a, double b) {
  return std::abs(a - b) <= 1e-6 * std::max(std::abs(a), std::abs(b));
}

/// Matches `cap * tanh(s / cap)` (or `s * (1/cap)` inside) and returns cap.
std::optional<double> matchSoftCap(Region &region) {
  if (region.empty())
    return std::nullopt;
  Block &block = region.front();
  Value score = block.getArgument(0);
  Value yielded = cast<YieldOp>(block.getTerminator()).getValue();
  auto outer = yielded.getDefiningOp<arith::MulFOp>();
  if (!outer)
    return std::nullopt;
  for (auto [capValue, tanhValue] :
       {std::pair(outer.getLhs(), outer.getRhs()),
        std::pair(outer.getRhs(), outer.getLhs())}) {
    std::optional<double> cap = constantFloat(capValue);
    auto tanh = tanhValue.getDefiningOp<math::TanhOp>();
    if (!cap || *cap <= 0 || !tanh)
      continue;
    Value inner = tanh.getOperand();
    if (auto div = inner.getDefiningOp<arith::DivFOp>()) {
      std::optional<double> d = constantFloat(div.getRhs());
      if (div.getLhs() == score && d && closeTo(*d, *cap))
        return cap;
    }
    if (auto mul = inner.getDefiningOp<arith::MulFOp>()) {
      Value other = mul.getLhs() == score ? mul.getRhs() : mul.getLhs();
      std::optional<double> r = constantFloat(other);
      if ((mul.getLhs() == score || mul.getRhs() == score) && r &&
          closeTo(*r, 1.0 / *cap))
        return cap;
    }
  }
  return std::nullopt;
}

template <typename OpTy> void raise(OpTy op) {
  Builder b(op.getContext());
  if (std::optional<BuiltinMask> mask = matchMaskMod(op.getMaskMod())) {
    op.setCausal(true);
    if (mask->windowLeft >= 0) {
      int64_t current = static_cast<int64_t>(op.getWindowLeft());
      op.setWindowLeft(current < 0 ? mask->windowLeft
                                   : std::min(current, mask->windowLeft));
    }
    op.getMaskMod().getBlocks().clear();
  }
  // The builtin cap is applied before ALiBi and an existing cap cannot be
  // merged with a second one, so raise only when nothing else would move.
  if (op.getLogitsSoftCap().isZero() &&
      op.getPosEncoding() != PosEncoding::alibi) {
    if (std::optional<double> cap = matchSoftCap(op.getScoreMod())) {
      op.setLogitsSoftCapAttr(b.getF32FloatAttr(static_cast<float>(*cap)));
      op.getScoreMod().getBlocks().clear();
    }
  }
}

struct AttnRaiseBuiltinVariantsPass
    : public attn::impl::AttnRaiseBuiltinVariantsBase<
          AttnRaiseBuiltinVariantsPass> {
  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (auto attention = dyn_cast<AttentionOp>(op))
        raise(attention);
      else if (auto paged = dyn_cast<PagedAttentionOp>(op))
        raise(paged);
    });
  }
};
} // namespace
