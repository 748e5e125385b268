//===- Passes.h - attn dialect transformation passes ------------*- C++ -*-===//

#ifndef FLASHINFER_DIALECT_ATTN_TRANSFORMS_PASSES_H
#define FLASHINFER_DIALECT_ATTN_TRANSFORMS_PASSES_H

#include "flashinfer/Dialect/Attn/IR/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::attn {

#define GEN_PASS_DECL
#include "flashinfer/Dialect/Attn/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "flashinfer/Dialect/Attn/Transforms/Passes.h.inc"

} // namespace mlir::attn

#endif // FLASHINFER_DIALECT_ATTN_TRANSFORMS_PASSES_H
