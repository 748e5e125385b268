//===- AppendPagedKVKernel.cpp - attn.append_paged_kv as a GPU kernel -----===//
//
// Stage 1 of the GPU lowering for attn.append_paged_kv: one workgroup per
// new token, each thread copying one vector of one KV head's K and V row
// into the token's page slot. A token whose request, position, page-list
// entry or page id is out of range is not written: an append through a bad
// table loses the token instead of overwriting another request's cache.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Conversion/AttnToGPU/FlashAttentionKernel.h"
#include "flashinfer/Dialect/Attn/Transforms/Staging.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <numeric>

using namespace mlir;
using namespace mlir::attn;

AppendPagedKVTiling mlir::attn::getAppendPagedKVTiling(int64_t heads,
                                                       int64_t dim,
                                                       int64_t dimV,
                                                       int64_t elemBytes) {
  // Vectors of the staging copies' 16 bytes where both head dims allow,
  // narrower otherwise.
  AppendPagedKVTiling tiling;
  int64_t vec = kStagingCopyBytes / elemBytes;
  while (vec > 1 && (dim % vec != 0 || dimV % vec != 0))
    vec /= 2;
  tiling.elementsPerThread = vec;
  tiling.lanesPerHead = std::max(dim, dimV) / vec;
  tiling.threads = heads * tiling.lanesPerHead;
  return tiling;
}

FailureOr<gpu::GPUFuncOp> mlir::attn::buildAppendPagedKVKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    RankedTensorType kType, RankedTensorType vType, RankedTensorType kCacheType,
    RankedTensorType vCacheType, KVLayout layout) {
  int64_t heads = kType.getDimSize(1), dim = kType.getDimSize(2),
          dimV = vType.getDimSize(2);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(dim) ||
      ShapedType::isDynamic(dimV))
    return failure();
  Type kElem = kType.getElementType(), vElem = vType.getElementType();
  int64_t bytes =
      std::max(kElem.getIntOrFloatBitWidth(), vElem.getIntOrFloatBitWidth()) /
      8;
  AppendPagedKVTiling tiling = getAppendPagedKVTiling(heads, dim, dimV, bytes);
  if (tiling.threads > kMaxWorkgroupThreads)
    return failure();
  MLIRContext *ctx = builder.getContext();
  int64_t dyn = ShapedType::kDynamic;
  auto list = MemRefType::get({dyn}, IntegerType::get(ctx, 32));
  SmallVector<Type> args = {getUserViewType({dyn, heads, dim}, kElem),
                            getUserViewType({dyn, heads, dimV}, vElem),
                            list,
                            list,
                            list,
                            list,
                            getUserViewType(kCacheType.getShape(), kElem),
                            getUserViewType(vCacheType.getShape(), vElem)};
  OpBuilder::InsertionGuard guard(builder);
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, args, tiling.threads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  auto dimOf = [&](Value mem, int64_t d) {
    return b.createOrFold<memref::DimOp>(mem, d);
  };
  auto load = [&](Value mem, Value at) {
    return arith::IndexCastOp::create(b, b.getIndexType(),
                                      memref::LoadOp::create(b, mem, at));
  };
  Value k = func.getArgument(0), v = func.getArgument(1);
  Value batchIndices = func.getArgument(2), positions = func.getArgument(3);
  Value kvIndices = func.getArgument(4), kvIndptr = func.getArgument(5);
  Value kCache = func.getArgument(6), vCache = func.getArgument(7);
  int64_t vec = tiling.elementsPerThread;

  // Token n's request and position.
  Value token = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value head = arith::DivUIOp::create(b, tid, idx(tiling.lanesPerHead));
  Value d = arith::MulIOp::create(
      b, arith::RemUIOp::create(b, tid, idx(tiling.lanesPerHead)), idx(vec));
  Value request = load(batchIndices, token);
  Value pos = load(positions, token);
  // Each check guards the reads after it, so no table is read out of range.
  auto guardBy = [&](Value cond) {
    auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
  };
  Value batch = arith::SubIOp::create(b, dimOf(kvIndptr, 0), idx(1));
  Value zero = idx(0);
  auto sge = [&](Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::sge, x, y);
  };
  auto slt = [&](Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::slt, x, y);
  };
  guardBy(arith::AndIOp::create(
      b, arith::AndIOp::create(b, sge(request, zero), slt(request, batch)),
      sge(pos, zero)));
  Value pageSize = dimOf(kCache, getPageSlotDim(layout));
  Value first = load(kvIndptr, request);
  Value end = load(kvIndptr, arith::AddIOp::create(b, request, idx(1)));
  Value entry =
      arith::AddIOp::create(b, first, arith::DivUIOp::create(b, pos, pageSize));
  // The entry must be one of the request's pages and inside the list.
  guardBy(arith::AndIOp::create(
      b, arith::AndIOp::create(b, sge(first, zero), slt(entry, end)),
      slt(entry, dimOf(kvIndices, 0))));
  Value page = load(kvIndices, entry);
  guardBy(
      arith::AndIOp::create(b, sge(page, zero), slt(page, dimOf(kCache, 0))));
  Value slot = arith::RemUIOp::create(b, pos, pageSize);
  auto copyRow = [&](Value src, Value cache, int64_t rowDim) {
    // Lanes past a narrower head dim copy nothing.
    OpBuilder::InsertionGuard g(b);
    if (rowDim < std::max(dim, dimV)) {
      auto inRow = scf::IfOp::create(b, slt(d, idx(rowDim)), false);
      b.setInsertionPointToStart(inRow.thenBlock());
    }
    Type elem = cast<MemRefType>(src.getType()).getElementType();
    auto type = VectorType::get({vec}, elem);
    int64_t align = vec * elem.getIntOrFloatBitWidth() / 8;
    auto row = vector::LoadOp::create(b, type, src, ValueRange{token, head, d});
    row.setAlignment(align);
    SmallVector<Value> at(4);
    at[0] = page;
    at[getPageSlotDim(layout)] = slot;
    at[getPagedKVHeadDim(layout)] = head;
    at[3] = d;
    auto store = vector::StoreOp::create(b, row, cache, at);
    store.setAlignment(align);
  };
  copyRow(k, kCache, dim);
  copyRow(v, vCache, dimV);
  b.setInsertionPointToEnd(&func.getBody().front());
  gpu::ReturnOp::create(b);
  return func;
}
