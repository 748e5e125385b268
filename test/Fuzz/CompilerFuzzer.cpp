//===- CompilerFuzzer.cpp - libFuzzer target for the compiler -------------===//
//
// Fuzzes what flashinfer-opt does with untrusted MLIR text: parse, verify,
// then one of FlashInfer-MLIR's pass pipelines on a clone of the module. Any
// crash, sanitizer report or fatal error is a bug; diagnostics (a parse
// error, a verifier error, a pass that rejects its input) are the expected
// outcome for bad input and are swallowed.
//
// Input: two header bytes, then the MLIR text.
//   byte 0, bits 0-2: the pipeline (kPipelines below);
//   byte 0, bits 3-7: convert-attn-to-gpu's block-n (kBlockN);
//   byte 1, bits 0-2: its num-waves (kNumWaves);
//   byte 1, bits 3-5: its query-tiles-per-wave (kQueryTilesPerWave).
// The option tables include values the pass must reject with a diagnostic.
// The GPU pipelines stop before gpu-module-to-binary (no external assembler).
//
// The context has what flashinfer-opt registers: every upstream dialect and
// extension plus FlashInfer-MLIR's dialects, passes and pipelines. Built with
// -DFLASHINFER_FUZZ=ON (clang) in a full build; see scripts/fuzz-compiler.sh.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/InitAllFlashInfer.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "llvm/ADT/STLExtras.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace mlir;

namespace {

// The GPU lowering up to (not including) the vendor conversions and the
// external assembler; %s is replaced by convert-attn-to-gpu's options.
constexpr const char *kGpuHead =
    "attn-raise-builtin-variants,convert-attn-to-gpu{";
constexpr const char *kGpuTail =
    "},attn-decompose-online-attention,"
    "gpu.module(attn-promote-to-workgroup-memory,"
    "attn-distribute-to-matrix-instructions),canonicalize,cse";

struct Pipeline {
  const char *text; // the whole pipeline, or null for the GPU path
  const char *chip; // the GPU path's chip
};

constexpr Pipeline kPipelines[8] = {
    {"attn-raise-builtin-variants", nullptr},
    {"convert-attn-to-linalg", nullptr},
    {"attn-cpu-pipeline", nullptr},
    {nullptr, "sm_90a"},
    {nullptr, "gfx942"},
    {nullptr, "sm_80"},
    {nullptr, "gfx950"},
    // The later GPU stages alone, for inputs that already are gpu.modules.
    {"attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-"
     "memory,attn-distribute-to-matrix-instructions),canonicalize,cse",
     nullptr},
};

// Valid values (0: the pass chooses) and values the pass must reject.
constexpr int64_t kBlockN[32] = {0,   16,  32,   64,   128,  0,    16, 32,
                                 64,  128, 0,    64,   256,  512,  1024, 8,
                                 24,  48,  96,   1025, 2048, -1,   -16, 1,
                                 2,   4,   1008, 4096, 0,    32,   64, 100};
constexpr int64_t kNumWaves[8] = {0, 1, 2, 4, 8, 16, 17, -1};
constexpr int64_t kQueryTilesPerWave[8] = {0, 1, 2, 4, 3, 5, -1, 1000};

MLIRContext &context() {
  static MLIRContext *ctx = [] {
    registerAllPasses();
    attn::registerFlashInferPasses();
    DialectRegistry registry;
    registerAllDialects(registry);
    registerAllExtensions(registry);
    registerAllToLLVMIRTranslations(registry);
    attn::registerFlashInferDialects(registry);
    auto *ctx = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    // Diagnostics are the expected result of bad input; print nothing.
    ctx->getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
    return ctx;
  }();
  return *ctx;
}

std::string pipelineText(uint8_t b0, uint8_t b1) {
  const Pipeline &p = kPipelines[b0 & 7];
  if (p.text)
    return p.text;
  return std::string(kGpuHead) + "chip=" + p.chip +
         " num-waves=" + std::to_string(kNumWaves[b1 & 7]) +
         " query-tiles-per-wave=" +
         std::to_string(kQueryTilesPerWave[(b1 >> 3) & 7]) +
         " block-n=" + std::to_string(kBlockN[b0 >> 3]) + kGpuTail;
}

// Whether any value in `module` is a vector of more than 2^16 elements.
bool hasHugeVector(ModuleOp module) {
  auto huge = [](Type type) {
    auto vec = dyn_cast<VectorType>(type);
    if (!vec)
      return false;
    int64_t n = 1;
    for (int64_t d : vec.getShape()) {
      if (d > (int64_t(1) << 16) || (n *= d) > (int64_t(1) << 16))
        return true;
    }
    return false;
  };
  WalkResult result = module->walk([&](Operation *op) {
    if (llvm::any_of(op->getResultTypes(), huge))
      return WalkResult::interrupt();
    for (Region &region : op->getRegions())
      for (Block &block : region)
        if (llvm::any_of(block.getArgumentTypes(), huge))
          return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  MLIRContext &ctx = context();
  // parseSourceString does not copy: the lexer needs the NUL terminator that
  // files read by flashinfer-opt have and libFuzzer's buffer lacks.
  std::string text(reinterpret_cast<const char *>(data) + 2, size - 2);

  ParserConfig config(&ctx);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, config);
  if (!module || failed(verify(*module)))
    return 0;
  // Known upstream limitation, not ours: the CPU pipeline's vector lowering
  // unrolls vectors element by element, so a vector<65536x65536xf32> in the
  // input runs for hours. Our passes bound the tiles they take themselves.
  if ((data[0] & 7) == 2 && hasHugeVector(*module))
    return 0;

  OwningOpRef<ModuleOp> clone = module->clone();
  PassManager pm(&ctx, ModuleOp::getOperationName());
  std::string pipeline = pipelineText(data[0], data[1]);
  if (failed(parsePassPipeline(pipeline, pm))) {
    // The pipelines are fixed strings: failing to build one is a bug here.
    __builtin_trap();
  }
  (void)pm.run(*clone);
  return 0;
}
