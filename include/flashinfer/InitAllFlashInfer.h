//===- InitAllFlashInfer.h - register FlashInfer-MLIR ----------*- C++ -*-===//
//
// One call each for downstream compilers: the dialects FlashInfer-MLIR defines
// and needs, and its passes and pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHINFER_INITALLFLASHINFER_H
#define FLASHINFER_INITALLFLASHINFER_H

namespace mlir {
class DialectRegistry;
namespace attn {

/// Registers the attn dialect and every dialect its passes produce.
void registerFlashInferDialects(DialectRegistry &registry);

/// Registers FlashInfer-MLIR's passes and named pipelines.
void registerFlashInferPasses();

} // namespace attn
} // namespace mlir

#endif // FLASHINFER_INITALLFLASHINFER_H
