//===- AttnDialect.h - attn dialect -----------------------------*- C++ -*-===//

#ifndef FLASHINFER_DIALECT_ATTN_IR_ATTNDIALECT_H
#define FLASHINFER_DIALECT_ATTN_IR_ATTNDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "flashinfer/Dialect/Attn/IR/AttnDialect.h.inc"

#endif // FLASHINFER_DIALECT_ATTN_IR_ATTNDIALECT_H
