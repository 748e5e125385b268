//===- MathToTargetIntrinsics.cpp - exp/log to native GPU instructions ----===//

#include "flashinfer/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTMATHTOTARGETINTRINSICS
#include "flashinfer/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
enum class GpuVendor { Nvidia, Amd };

/// One PTX instruction `<opcode> $0, $1;` on an f32.
Value ptxUnary(OpBuilder &b, Location loc, StringRef opcode, Value x) {
  std::string text = (opcode + " $0, $1;").str();
  return LLVM::InlineAsmOp::create(
             b, loc, b.getF32Type(), ValueRange{x}, text, "=f,f",
             /*has_side_effects=*/false, /*is_align_stack=*/false,
             LLVM::tailcallkind::TailCallKind::None,
             /*asm_dialect=*/LLVM::AsmDialectAttr(),
             /*operand_attrs=*/ArrayAttr())
      .getResult(0);
}

struct ConvertMathToTargetIntrinsicsPass
    : public attn::impl::ConvertMathToTargetIntrinsicsBase<
          ConvertMathToTargetIntrinsicsPass> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    std::optional<GpuVendor> vendor;
    if (ArrayAttr targets = module.getTargetsAttr()) {
      for (Attribute t : targets) {
        if (isa<NVVM::NVVMTargetAttr>(t))
          vendor = GpuVendor::Nvidia;
        else if (isa<ROCDL::ROCDLTargetAttr>(t))
          vendor = GpuVendor::Amd;
      }
    }
    if (!vendor) {
      module.emitError("convert-math-to-target-intrinsics: the gpu.module "
                       "has no NVVM or ROCDL target; run nvvm-attach-target "
                       "or rocdl-attach-target first");
      return signalPassFailure();
    }
    IRRewriter rewriter(module.getContext());
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<math::Exp2Op, math::Log2Op, math::ExpOp, math::LogOp, math::SinOp,
              math::CosOp>(op) &&
          getElementTypeOrSelf(op->getResult(0).getType()).isF32())
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      Location loc = op->getLoc();
      Value x = op->getOperand(0);
      // Vectors element by element: the instructions take scalars.
      auto vector = dyn_cast<VectorType>(x.getType());
      if (!vector) {
        rewriter.replaceOp(op, lowerScalar(rewriter, loc, op, x, *vendor));
        continue;
      }
      if (vector.isScalable() || vector.getRank() != 1) {
        op->emitOpError("convert-math-to-target-intrinsics: expected a "
                        "scalar or a fixed 1-D vector");
        return signalPassFailure();
      }
      SmallVector<Value> elements;
      for (int64_t i = 0, e = vector.getNumElements(); i < e; ++i) {
        Value element = vector::ExtractOp::create(rewriter, loc, x, i);
        elements.push_back(lowerScalar(rewriter, loc, op, element, *vendor));
      }
      rewriter.replaceOp(
          op, vector::FromElementsOp::create(rewriter, loc, vector, elements));
    }
  }

  /// The target's instructions computing `op` on the f32 `x`.
  static Value lowerScalar(OpBuilder &b, Location loc, Operation *op, Value x,
                           GpuVendor vendor) {
    auto constant = [&](double v) {
      return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
    };
    if (isa<math::SinOp, math::CosOp>(op)) {
      // Reduced to whole turns first: the instructions are accurate on one
      // period only. turns = x / 2 pi - roundeven(x / 2 pi), in [-1/2, 1/2].
      bool isSin = isa<math::SinOp>(op);
      Value turns = arith::MulFOp::create(b, loc, x, constant(0.5 * M_1_PI));
      Value whole = vendor == GpuVendor::Nvidia
                        ? ptxUnary(b, loc, "cvt.rni.f32.f32", turns)
                        : LLVM::RoundEvenOp::create(b, loc, turns).getResult();
      turns = arith::SubFOp::create(b, loc, turns, whole);
      if (vendor == GpuVendor::Amd)
        // v_sin_f32 / v_cos_f32 take turns.
        return isSin ? ROCDL::ROCDLSin::create(b, loc, b.getF32Type(), turns)
                           .getResult()
                     : ROCDL::ROCDLCos::create(b, loc, b.getF32Type(), turns)
                           .getResult();
      Value radians =
          arith::MulFOp::create(b, loc, turns, constant(2.0 * M_PI));
      return ptxUnary(
          b, loc, isSin ? "sin.approx.ftz.f32" : "cos.approx.ftz.f32", radians);
    }
    bool isExp = isa<math::Exp2Op, math::ExpOp>(op);
    // e^x = 2^(x log2(e)); ln(x) = log2(x) ln(2) below.
    if (isa<math::ExpOp>(op))
      x = arith::MulFOp::create(b, loc, x, constant(M_LOG2E));
    Value y;
    if (vendor == GpuVendor::Nvidia)
      y = ptxUnary(b, loc, isExp ? "ex2.approx.ftz.f32" : "lg2.approx.ftz.f32",
                   x);
    else if (isExp)
      y = ROCDL::ROCDLExp2::create(b, loc, x.getType(), x);
    else
      y = ROCDL::ROCDLLog::create(b, loc, x.getType(), x);
    if (isa<math::LogOp>(op))
      y = arith::MulFOp::create(b, loc, y, constant(M_LN2));
    return y;
  }
};
} // namespace
