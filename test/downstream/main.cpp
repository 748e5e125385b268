//===- main.cpp - a downstream compiler using FlashInfer-MLIR -------------===//
//
// Usage: flashinfer-downstream <input.mlir> <pass-pipeline>
//
// Registers FlashInfer-MLIR's dialects and passes through InitAllFlashInfer.h,
// parses the input, runs the textual pipeline and prints the module. The
// passes are looked up by name, so this also proves that registration works.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/InitAllFlashInfer.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    llvm::errs() << "usage: " << argv[0] << " <input.mlir> <pass-pipeline>\n";
    return 2;
  }

  mlir::attn::registerFlashInferPasses();
  mlir::DialectRegistry registry;
  mlir::attn::registerFlashInferDialects(registry);
  mlir::MLIRContext context(registry);

  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(argv[1]);
  if (!buffer) {
    llvm::errs() << "cannot read " << argv[1] << ": "
                 << buffer.getError().message() << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  mlir::PassManager pm(&context);
  if (mlir::failed(mlir::parsePassPipeline(argv[2], pm, llvm::errs())) ||
      mlir::failed(pm.run(*module)))
    return 1;

  module->print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}
