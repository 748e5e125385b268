//===- GPUToAMDGPUBuffers.cpp - kernel memrefs through buffer descriptors -===//

#include "flashinfer/Conversion/Passes.h"

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace mlir::attn {
#define GEN_PASS_DEF_GPUKERNELARGSTOAMDGPUBUFFERS
#include "flashinfer/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Global memory: no memory space, or the GPU dialect's global one.
bool isGlobal(MemRefType type) {
  Attribute space = type.getMemorySpace();
  if (!space)
    return true;
  if (auto gpuSpace = dyn_cast<gpu::AddressSpaceAttr>(space))
    return gpuSpace.getValue() == gpu::AddressSpace::Global;
  if (auto intSpace = dyn_cast<IntegerAttr>(space))
    return intSpace.getInt() == 0 || intSpace.getInt() == 1;
  return false;
}

/// Views of `buffer` (a request's rows of a ragged batch) read through the
/// same descriptor: their result types take its memory space.
void moveViewsToSpace(Value buffer) {
  Attribute space = cast<MemRefType>(buffer.getType()).getMemorySpace();
  for (Operation *user : buffer.getUsers()) {
    auto view = dyn_cast<memref::SubViewOp>(user);
    if (!view || view.getSource() != buffer)
      continue;
    MemRefType type = view.getType();
    view.getResult().setType(MemRefType::get(
        type.getShape(), type.getElementType(), type.getLayout(), space));
    moveViewsToSpace(view.getResult());
  }
}

struct GPUKernelArgsToAMDGPUBuffersPass
    : public attn::impl::GPUKernelArgsToAMDGPUBuffersBase<
          GPUKernelArgsToAMDGPUBuffersPass> {
  void runOnOperation() override {
    OpBuilder builder(&getContext());
    getOperation().walk([&](gpu::GPUFuncOp func) {
      if (!func.isKernel())
        return;
      Block &entry = func.getBody().front();
      builder.setInsertionPointToStart(&entry);
      for (BlockArgument arg : func.getArguments()) {
        auto type = dyn_cast<MemRefType>(arg.getType());
        // The descriptor's extent comes from the sizes and strides, static
        // or passed at run time, so views (dynamic strides) qualify too.
        if (!type || !type.isStrided() || !isGlobal(type) || arg.use_empty())
          continue;
        // resetOffset folds the memref's offset into the descriptor base,
        // so indices stay relative to the view.
        auto cast = amdgpu::FatRawBufferCastOp::create(
            builder, func.getLoc(), arg, /*validBytes=*/Value(),
            /*cacheSwizzleStride=*/Value(), builder.getBoolAttr(true),
            builder.getUnitAttr());
        arg.replaceAllUsesExcept(cast.getResult(), cast);
        moveViewsToSpace(cast.getResult());
      }
    });
  }
};
} // namespace
