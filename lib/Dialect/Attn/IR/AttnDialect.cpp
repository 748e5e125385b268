//===- AttnDialect.cpp - attn dialect -------------------------------------===//

#include "flashinfer/Dialect/Attn/IR/AttnDialect.h"
#include "flashinfer/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

#include "flashinfer/Dialect/Attn/IR/AttnDialect.cpp.inc"
#include "flashinfer/Dialect/Attn/IR/AttnEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "flashinfer/Dialect/Attn/IR/AttnAttrs.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "flashinfer/Dialect/Attn/IR/AttnOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "flashinfer/Dialect/Attn/IR/AttnAttrs.cpp.inc"
      >();
}
