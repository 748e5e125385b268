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

/// Whether `type` is an fp8 KV element type: f8E4M3FN (OCP e4m3, NVIDIA's
/// and gfx950's) or f8E4M3FNUZ (the variant gfx942 reads).
bool isFloat8KVType(Type type);

/// Widens the fp8 values `x` (an isFloat8KVType scalar or vector) exactly to
/// `elemType` (f16, bf16 or f32) with integer operations and one f16
/// multiply, so that every target and the CPU reference lower it alike:
/// the seven magnitude bits placed in an f16's exponent and mantissa fields
/// are the value times 2^-8 (2^-7 for FNUZ, whose exponent bias is 8),
/// subnormals included. NaN codes (0x7F / 0xFF, or 0x80 for FNUZ) give NaN.
/// The subnormal codes need the f16 multiply to keep f16 denormals (no
/// flush-to-zero mode on f16 math), as the NVVM and ROCDL targets here do.
Value buildFloat8Extension(OpBuilder &builder, Location loc, Value x,
                           Type elemType);
} // namespace mlir::attn

#define GET_ATTRDEF_CLASSES
#include "flashinfer/Dialect/Attn/IR/AttnAttrs.h.inc"

#include "flashinfer/Dialect/Attn/IR/AttnDialect.h.inc"

#endif // FLASHINFER_DIALECT_ATTN_IR_ATTNDIALECT_H
