//===- flashinfer-opt.cpp - FlashInfer-MLIR optimizer driver --------------===//
//
// mlir-opt with the attn dialect, FlashInfer-MLIR's passes and pipelines, and
// every upstream dialect, pass and target so that one tool takes attn IR all
// the way to GPU code objects.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/InitAllFlashInfer.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::attn::registerFlashInferPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::attn::registerFlashInferDialects(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "FlashInfer-MLIR optimizer driver\n", registry));
}
