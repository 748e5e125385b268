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

LogicalResult
MatrixInstructionAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              StringRef name) {
  if (!getMatrixInstrByName(name))
    return emitError() << "unknown matrix instruction \"" << name << "\"";
  return success();
}

MatrixInstr MatrixInstructionAttr::getInstr() const {
  return *getMatrixInstrByName(getName());
}

LogicalResult AttnDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  if (name == MatrixInstructionAttrHelper::getNameStr()) {
    if (!isa<MatrixInstructionAttr>(attribute.getValue()))
      return op->emitError()
             << "'" << name << "' must be a #attn.matrix_instruction";
    return success();
  }
  // The manifests convert-attn-to-gpu records for attn-write-code-objects.
  if (name == "attn.manifests") {
    if (!isa<DictionaryAttr>(attribute.getValue()))
      return op->emitError() << "'" << name << "' must be a dictionary";
    return success();
  }
  return op->emitError() << "unknown attn dialect attribute '" << name << "'";
}
