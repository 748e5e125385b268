//===- Pipelines.h - FlashInfer-MLIR named pipelines ------------*- C++ -*-===//

#ifndef FLASHINFER_PIPELINES_PIPELINES_H
#define FLASHINFER_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir {
class OpPassManager;
namespace attn {

/// Options of `attn-compile`.
struct AttnCompileOptions : public PassPipelineOptions<AttnCompileOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("Target chip: sm_90a (cubin), gfx942 or gfx950 (hsaco), "
                     "or another chip MatrixInstructions.h knows"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> outputDir{
      *this, "o-dir",
      llvm::cl::desc("Folder the code objects and manifests are written to"),
      llvm::cl::init("out")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("bin (cubin/hsaco) or isa (PTX/AMDGCN assembly)"),
      llvm::cl::init("bin")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("ROCm-style toolkit folder holding llvm/bin/ld.lld "
                     "(AMD targets); defaults to the one set up at build time"),
      llvm::cl::init("")};
  PassOptions::Option<int64_t> numWaves{
      *this, "num-waves",
      llvm::cl::desc("Waves (warps) per workgroup (0: the target's default)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> queryTilesPerWave{
      *this, "query-tiles-per-wave",
      llvm::cl::desc("Query tiles per wave (0: from the register budget)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> blockN{
      *this, "block-n",
      llvm::cl::desc("Keys staged per iteration (0: from the budgets)"),
      llvm::cl::init(0)};
};

/// attn ops -> tiled GPU kernels -> NVVM or ROCDL -> code objects and
/// manifests written to `o-dir`.
LogicalResult buildAttnCompilePipeline(OpPassManager &pm,
                                       const AttnCompileOptions &options);

/// attn ops -> reference linalg -> LLVM dialect for the host CPU, ready for
/// mlir-runner or the ExecutionEngine.
void buildAttnCpuPipeline(OpPassManager &pm);

/// Registers every named pipeline with the pass registry.
void registerFlashInferPipelines();

} // namespace attn
} // namespace mlir

#endif // FLASHINFER_PIPELINES_PIPELINES_H
