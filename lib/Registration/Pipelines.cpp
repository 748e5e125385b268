//===- Pipelines.cpp - FlashInfer-MLIR named pipelines --------------------===//

#include "flashinfer/Pipelines/Pipelines.h"

#include "flashinfer/Target/MatrixInstructions.h"

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

/// Math ops that no target has an instruction for, expanded into those it
/// has (exp, exp2, log and the arith ops) before those become instructions.
static constexpr const char *kExpandedMathOps =
    "tanh,sinh,cosh,tan,asinh,acosh,atanh,powf,fpowi";

#ifndef FLASHINFER_DEFAULT_TOOLKIT
#define FLASHINFER_DEFAULT_TOOLKIT ""
#endif

LogicalResult
mlir::attn::buildAttnCompilePipeline(OpPassManager &pm,
                                     const AttnCompileOptions &options) {
  std::string chip = options.chip;
  bool nvidia = isNvidiaChip(chip), amd = isAmdChip(chip);
  if (!nvidia && !amd) {
    llvm::errs() << "attn-compile: unsupported chip '" << chip
                 << "' (expected an sm_8x/sm_90[a] or gfx94x/gfx950 name)\n";
    return failure();
  }
  if (options.format != "bin" && options.format != "isa") {
    llvm::errs() << "attn-compile: format must be 'bin' or 'isa', got '"
                 << options.format << "'\n";
    return failure();
  }
  std::string toolkit = options.toolkit.empty()
                            ? std::string(FLASHINFER_DEFAULT_TOOLKIT)
                            : std::string(options.toolkit);
  // The stages of the GPU lowering (tiling, online softmax, staging in
  // workgroup memory, distribution onto the matrix instruction), then the
  // vendor's conversions; each is an ordinary pass that can be run alone.
  std::string text =
      "attn-raise-builtin-variants,convert-attn-to-gpu{chip=" + chip +
      " num-waves=" + std::to_string(options.numWaves) +
      " query-tiles-per-wave=" + std::to_string(options.queryTilesPerWave) +
      " block-n=" + std::to_string(options.blockN) +
      "},attn-decompose-online-attention,"
      "gpu.module(attn-promote-to-workgroup-memory,"
      "attn-distribute-to-matrix-instructions),canonicalize,cse,";
  if (nvidia) {
    text += "nvvm-attach-target{chip=" + chip +
            " features=+ptx80 O=3},"
            "gpu.module(math-expand-ops{ops=" +
            std::string(kExpandedMathOps) +
            "},"
            "convert-math-to-target-intrinsics,"
            "expand-strided-metadata,lower-affine),"
            "convert-scf-to-cf,convert-nvgpu-to-nvvm,"
            "gpu.module(convert-gpu-to-nvvm),";
  } else {
    text += "rocdl-attach-target{chip=" + chip +
            " O=3},"
            "gpu.module(math-expand-ops{ops=" +
            std::string(kExpandedMathOps) +
            "},"
            "convert-math-to-target-intrinsics,"
            "gpu-kernel-args-to-amdgpu-buffers,"
            "gpu-barriers-to-amdgpu-lds-barriers,expand-strided-metadata,"
            "lower-affine),"
            "convert-scf-to-cf,convert-amdgpu-to-rocdl{chipset=" +
            chip + "},gpu.module(convert-gpu-to-rocdl{chipset=" + chip + "}),";
  }
  text += "convert-vector-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
          "convert-cf-to-llvm,reconcile-unrealized-casts,"
          "gpu-module-to-binary{format=" +
          std::string(options.format) +
          (amd ? " toolkit=" + toolkit : std::string()) +
          "},attn-write-code-objects{o-dir=" + std::string(options.outputDir) +
          "}";
  return parsePassPipeline(text, pm);
}

void mlir::attn::registerFlashInferPipelines() {
  // Registered by hand rather than through PassPipelineRegistration so that
  // bad options (an unknown chip, say) fail the pipeline with the message
  // instead of aborting the tool.
  registerPassPipeline(
      "attn-compile",
      "Compile attn ops to GPU code objects (.cubin for NVIDIA, .hsaco for "
      "AMD) plus JSON manifests for the launch runtime",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        AttnCompileOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        return buildAttnCompilePipeline(pm, options);
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(AttnCompileOptions());
      });
  PassPipelineRegistration<>(
      "attn-cpu-pipeline",
      "Lower attn ops through the reference lowering to the LLVM dialect for "
      "execution on the host CPU",
      buildAttnCpuPipeline);
}
