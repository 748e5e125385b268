//===- Passes.h - FlashInfer-MLIR conversion passes -------------*- C++ -*-===//

#ifndef FLASHINFER_CONVERSION_PASSES_H
#define FLASHINFER_CONVERSION_PASSES_H

#include "flashinfer/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::attn {

#define GEN_PASS_DECL
#include "flashinfer/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "flashinfer/Conversion/Passes.h.inc"

} // namespace mlir::attn

#endif // FLASHINFER_CONVERSION_PASSES_H
