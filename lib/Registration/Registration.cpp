//===- Registration.cpp - register FlashInfer-MLIR ------------------------===//

#include "flashinfer/InitAllFlashInfer.h"

#include "flashinfer/Conversion/Passes.h"
#include "flashinfer/Dialect/Attn/IR/AttnDialect.h"
#include "flashinfer/Dialect/Attn/Transforms/Passes.h"
#include "flashinfer/Pipelines/Pipelines.h"
#include "flashinfer/Target/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

void mlir::attn::registerFlashInferDialects(DialectRegistry &registry) {
  registry.insert<
      AttnDialect, arith::ArithDialect, bufferization::BufferizationDialect,
      func::FuncDialect, linalg::LinalgDialect, math::MathDialect,
      memref::MemRefDialect, scf::SCFDialect, tensor::TensorDialect>();
}

void mlir::attn::registerFlashInferPasses() {
  registerAttnPasses();
  registerFlashInferConversionPasses();
  registerFlashInferTargetPasses();
  registerFlashInferPipelines();
}
