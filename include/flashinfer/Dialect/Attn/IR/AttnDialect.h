//===- AttnDialect.h - attn dialect -----------------------------*- C++ -*-===//

#ifndef FLASHINFER_DIALECT_ATTN_IR_ATTNDIALECT_H
#define FLASHINFER_DIALECT_ATTN_IR_ATTNDIALECT_H

#include "flashinfer/Target/MatrixInstructions.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/Dialect.h"

// Attributes first: the dialect's discardable-attribute helpers name them.
#include "flashinfer/Dialect/Attn/IR/AttnEnums.h.inc"

namespace mlir::attn {
/// The dims of a paged cache, [pages, page_size, H_kv, D] (nhd) or
/// [pages, H_kv, page_size, D] (hnd), that index the slot within a page and
/// the KV head.
inline unsigned getPageSlotDim(KVLayout layout) {
  return layout == KVLayout::nhd ? 1 : 2;
}
inline unsigned getPagedKVHeadDim(KVLayout layout) {
  return layout == KVLayout::nhd ? 2 : 1;
}
} // namespace mlir::attn

#define GET_ATTRDEF_CLASSES
#include "flashinfer/Dialect/Attn/IR/AttnAttrs.h.inc"

#include "flashinfer/Dialect/Attn/IR/AttnDialect.h.inc"

#endif // FLASHINFER_DIALECT_ATTN_IR_ATTNDIALECT_H
