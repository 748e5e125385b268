//===- Passes.h - code object emission passes -------------------*- C++ -*-===//

#ifndef FLASHINFER_TARGET_PASSES_H
#define FLASHINFER_TARGET_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::attn {

#define GEN_PASS_DECL
#include "flashinfer/Target/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "flashinfer/Target/Passes.h.inc"

} // namespace mlir::attn

#endif // FLASHINFER_TARGET_PASSES_H
