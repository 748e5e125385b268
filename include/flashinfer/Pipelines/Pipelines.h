//===- Pipelines.h - FlashInfer-MLIR named pipelines ------------*- C++ -*-===//

#ifndef FLASHINFER_PIPELINES_PIPELINES_H
#define FLASHINFER_PIPELINES_PIPELINES_H

namespace mlir {
class OpPassManager;
namespace attn {

/// attn ops -> reference linalg -> LLVM dialect for the host CPU, ready for
/// mlir-runner or the ExecutionEngine.
void buildAttnCpuPipeline(OpPassManager &pm);

/// Registers every named pipeline with the pass registry.
void registerFlashInferPipelines();

} // namespace attn
} // namespace mlir

#endif // FLASHINFER_PIPELINES_PIPELINES_H
