//===- AttnToLinalg.cpp - reference lowering of attn ops ------------------===//

#include "flashinfer/Conversion/Passes.h"
#include "flashinfer/Dialect/Attn/IR/AttnOps.h"

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNTOLINALG
#include "flashinfer/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
// FIXME(session-1): being written; the reference lowering lands next.
struct ConvertAttnToLinalgPass
    : public attn::impl::ConvertAttnToLinalgBase<ConvertAttnToLinalgPass> {
  void runOnOperation() override {
    getOperation()->emitError("convert-attn-to-linalg: not implemented yet");
    signalPassFailure();
  }
};
} // namespace
