//===- Passes.td - FlashInfer-MLIR conversion passes -------*- tablegen -*-===//

#ifndef FLASHINFER_CONVERSION_PASSES_TD
#define FLASHINFER_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAttnToLinalg : Pass<"convert-attn-to-linalg"> {
  let summary = "Reference lowering of every attn op to linalg/tensor/scf/arith/math";
  let description = [{
    Gives each `attn` op its meaning in upstream dialects, written for
    clarity rather than speed: per request and head it materializes the full
    score matrix in f32, subtracts the row maximum before exponentiating and
    accumulates in f32. This lowering is the semantic definition of the
    dialect and the oracle that every faster lowering is tested against; the
    CPU pipeline runs it with `mlir-runner`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // FLASHINFER_CONVERSION_PASSES_TD
