//===- AttnOps.h - attn dialect ops -----------------------------*- C++ -*-===//

#ifndef FLASHINFER_DIALECT_ATTN_IR_ATTNOPS_H
#define FLASHINFER_DIALECT_ATTN_IR_ATTNOPS_H

#include "flashinfer/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "flashinfer/Dialect/Attn/IR/AttnOps.h.inc"

namespace mlir::attn {
/// Clones the body of a score_mod / mask_mod region at the builder's
/// insertion point with its block arguments bound to `args`; returns the
/// value its attn.yield yields. The reference lowering inlines the regions
/// per element, the GPU kernel builder into the steps' functions.
Value inlineVariantRegion(OpBuilder &builder, Region &region, ValueRange args);
} // namespace mlir::attn

#endif // FLASHINFER_DIALECT_ATTN_IR_ATTNOPS_H
