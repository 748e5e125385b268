//===- MathToTargetIntrinsics.cpp - exp/log to native GPU instructions ----===//

#include "flashinfer/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
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
    module.walk([&](Operation *op) {
      if (!isa<math::Exp2Op, math::Log2Op, math::ExpOp, math::LogOp>(op) ||
          !op->getResult(0).getType().isF32())
        return;
      rewriter.setInsertionPoint(op);
      Location loc = op->getLoc();
      Value x = op->getOperand(0), y;
      bool isExp = isa<math::Exp2Op, math::ExpOp>(op);
      // e^x = 2^(x log2(e)); ln(x) = log2(x) ln(2) below.
      auto constant = [&](double v) {
        return arith::ConstantOp::create(rewriter, loc,
                                         rewriter.getF32FloatAttr(v));
      };
      if (isa<math::ExpOp>(op))
        x = arith::MulFOp::create(rewriter, loc, x, constant(M_LOG2E));
      if (*vendor == GpuVendor::Nvidia)
        y = ptxUnary(rewriter, loc,
                     isExp ? "ex2.approx.ftz.f32" : "lg2.approx.ftz.f32", x);
      else if (isExp)
        y = ROCDL::ROCDLExp2::create(rewriter, loc, x.getType(), x);
      else
        y = ROCDL::ROCDLLog::create(rewriter, loc, x.getType(), x);
      if (isa<math::LogOp>(op))
        y = arith::MulFOp::create(rewriter, loc, y, constant(M_LN2));
      rewriter.replaceOp(op, y);
    });
  }
};
} // namespace
