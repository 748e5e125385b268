//===- WriteCodeObjects.cpp - write code objects and manifests ------------===//

#include "flashinfer/Dialect/Attn/IR/AttnOps.h"
#include "flashinfer/Target/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNWRITECODEOBJECTS
#include "flashinfer/Target/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// Builtin attributes as JSON: the manifest entries are plain data.
llvm::json::Value toJson(Attribute attr) {
  if (auto b = dyn_cast<BoolAttr>(attr))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getValue().getSExtValue();
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto s = dyn_cast<StringAttr>(attr))
    return s.getValue().str();
  if (auto a = dyn_cast<ArrayAttr>(attr)) {
    llvm::json::Array out;
    for (Attribute e : a)
      out.push_back(toJson(e));
    return out;
  }
  if (auto d = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object out;
    for (NamedAttribute e : d)
      out[e.getName().getValue()] = toJson(e.getValue());
    return out;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << attr;
  return text;
}

struct AttnWriteCodeObjectsPass
    : public attn::impl::AttnWriteCodeObjectsBase<AttnWriteCodeObjectsPass> {
  using Base::Base;

  LogicalResult writeFile(Operation *op, StringRef path, StringRef bytes) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
    if (ec)
      return op->emitError() << "attn-write-code-objects: cannot write '"
                             << path << "': " << ec.message();
    os << bytes;
    return success();
  }

  /// The JSON manifest's kernel entry for `kernel`.
  static llvm::json::Object kernelToJson(KernelAttr kernel) {
    llvm::json::Object out;
    out["name"] = kernel.getName().str();
    out["op"] = kernel.getOp().str();
    out["params"] = toJson(kernel.getParams());
    out["block"] = llvm::json::Array(kernel.getBlock());
    out["grid"] = toJson(kernel.getGrid());
    out["dynamic_shared_memory"] = 0;
    out["static_shared_memory"] = kernel.getStaticSharedMemory();
    out["args"] = toJson(kernel.getArgs());
    return out;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Each binary's manifest op, found through its symbol reference.
    llvm::DenseMap<Operation *, KernelManifestOp> manifestOf;
    SymbolTable symbols(module);
    for (auto manifest : module.getOps<KernelManifestOp>())
      if (Operation *target = symbols.lookup(manifest.getKernelModule()))
        manifestOf[target] = manifest;
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir)) {
      module.emitError() << "attn-write-code-objects: cannot create '"
                         << outputDir << "': " << ec.message();
      return signalPassFailure();
    }
    WalkResult result = module.walk([&](gpu::BinaryOp binary) {
      StringRef name = binary.getSymName();
      KernelManifestOp entry = manifestOf.lookup(binary);
      if (!entry) {
        binary.emitError() << "attn-write-code-objects: no kernels were "
                              "recorded for '"
                           << name << "' (was it made by convert-attn-to-gpu?)";
        return WalkResult::interrupt();
      }
      for (Attribute attr : binary.getObjects()) {
        auto object = cast<gpu::ObjectAttr>(attr);
        bool nvidia = isa<NVVM::NVVMTargetAttr>(object.getTarget());
        bool amd = isa<ROCDL::ROCDLTargetAttr>(object.getTarget());
        if (!nvidia && !amd) {
          binary.emitError("attn-write-code-objects: only NVVM and ROCDL "
                           "targets are supported");
          return WalkResult::interrupt();
        }
        StringRef chip =
            nvidia ? cast<NVVM::NVVMTargetAttr>(object.getTarget()).getChip()
                   : cast<ROCDL::ROCDLTargetAttr>(object.getTarget()).getChip();
        bool isBinary = object.getFormat() == gpu::CompilationTarget::Binary;
        bool isAssembly =
            object.getFormat() == gpu::CompilationTarget::Assembly;
        if (!isBinary && !isAssembly) {
          binary.emitError("attn-write-code-objects: expected format=bin or "
                           "format=isa from gpu-module-to-binary");
          return WalkResult::interrupt();
        }
        StringRef ext =
            nvidia ? (isBinary ? "cubin" : "ptx") : (isBinary ? "hsaco" : "s");
        std::string file = (name + "." + ext).str();
        SmallString<256> path(outputDir);
        llvm::sys::path::append(path, file);
        if (failed(writeFile(binary, path, object.getObject().getValue())))
          return WalkResult::interrupt();

        llvm::json::Object manifest;
        manifest["version"] = 1;
        manifest["target"] = chip.str();
        manifest["binary"] = file;
        manifest["format"] = isBinary ? "binary" : "assembly";
        llvm::json::Array kernels, launches;
        for (Attribute kernel : entry.getKernels())
          kernels.push_back(kernelToJson(cast<KernelAttr>(kernel)));
        for (Attribute attr : entry.getLaunches()) {
          auto launch = cast<KernelLaunchAttr>(attr);
          launches.push_back(llvm::json::Object{
              {"kernel", launch.getKernel().str()},
              {"args", llvm::json::Array(launch.getArguments())}});
        }
        manifest["kernels"] = std::move(kernels);
        // The launch sequence (docs/runtime.md: launch sequences).
        manifest["sequence"] =
            llvm::json::Object{{"args", toJson(entry.getArguments())},
                               {"launches", std::move(launches)},
                               {"workspace", toJson(entry.getWorkspace())}};
        std::string text;
        llvm::raw_string_ostream os(text);
        os << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest)))
           << "\n";
        SmallString<256> jsonPath(outputDir);
        llvm::sys::path::append(jsonPath, (name + ".json").str());
        if (failed(writeFile(binary, jsonPath, text)))
          return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
