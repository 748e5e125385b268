//===- Passes.td - code object emission passes -------------*- tablegen -*-===//

#ifndef FLASHINFER_TARGET_PASSES_TD
#define FLASHINFER_TARGET_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnWriteCodeObjects : Pass<"attn-write-code-objects", "::mlir::ModuleOp"> {
  let summary = "Write each gpu.binary's code objects and a JSON manifest to a folder";
  let description = [{
    For every object of every `gpu.binary` (as produced by
    `gpu-module-to-binary`), writes `<dir>/<binary>.<ext>` (`.cubin` or
    `.ptx` for NVVM targets, `.hsaco` or `.s` for ROCDL targets) and
    `<dir>/<binary>.json`, the manifest the launch runtime reads: target
    chip, code object file, and for each kernel the entry recorded by
    `convert-attn-to-gpu` (symbol, ordered arguments, grid and block
    formulas, shared memory, op parameters). Fails with a diagnostic if the
    folder cannot be written or a binary has no recorded kernels.
  }];
  let options = [
    Option<"outputDir", "o-dir", "std::string", /*default=*/"\".\"",
           "Folder the code objects and manifests are written to">,
  ];
}

#endif // FLASHINFER_TARGET_PASSES_TD
