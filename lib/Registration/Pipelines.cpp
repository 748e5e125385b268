//===- Pipelines.cpp - FlashInfer-MLIR named pipelines --------------------===//

#include "flashinfer/Pipelines/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

// The CPU path is a fixed sequence of upstream passes after our reference
// lowering; spelling it as text keeps it readable and identical to what a
// user would type into mlir-opt.
static constexpr const char *kCpuPipeline =
    "convert-attn-to-linalg,canonicalize,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
    // expand-strided-metadata creates affine.apply: lower-affine comes after.
    "convert-linalg-to-loops,expand-strided-metadata,lower-affine,"
    "convert-scf-to-cf,math-expand-ops,convert-math-to-llvm,"
    "convert-math-to-libm,convert-vector-to-llvm,finalize-memref-to-llvm,"
    "convert-arith-to-llvm,convert-index-to-llvm,convert-cf-to-llvm,"
    "convert-func-to-llvm,reconcile-unrealized-casts";

void mlir::attn::buildAttnCpuPipeline(OpPassManager &pm) {
  if (failed(parsePassPipeline(kCpuPipeline, pm)))
    llvm::report_fatal_error("attn-cpu-pipeline: malformed pass pipeline");
}

void mlir::attn::registerFlashInferPipelines() {
  PassPipelineRegistration<>(
      "attn-cpu-pipeline",
      "Lower attn ops through the reference lowering to the LLVM dialect for "
      "execution on the host CPU",
      buildAttnCpuPipeline);
}
