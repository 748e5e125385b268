//===- MergeStatesKernel.cpp - attn.merge_states as a GPU kernel ----------===//
//
// Stage 1 of the GPU lowering for attn.merge_states, both forms. Memory-bound.
// Several states: each thread reads a short vector of its row from every
// state, and the states' lse, all loads issued before the arithmetic that
// combines them; a workgroup takes one token and a group of heads.
// Segmented (indptr, and split-KV decode's merge): one thread per output
// element walks its segment's rows with online rescaling.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Conversion/AttnToGPU/FlashAttentionKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <limits>

using namespace mlir;
using namespace mlir::attn;

MergeStatesTiling mlir::attn::getMergeStatesTiling(int64_t heads, int64_t dim) {
  // 16-byte f32 vectors where the head dim allows; then as many heads per
  // workgroup as divide H within 256 threads, so workgroups are not tiny.
  MergeStatesTiling tiling;
  tiling.elementsPerThread = dim % 4 == 0 ? 4 : dim % 2 == 0 ? 2 : 1;
  int64_t lanes = dim / tiling.elementsPerThread;
  for (int64_t g = 1; g <= heads; ++g)
    if (heads % g == 0 && lanes * g <= 256)
      tiling.headsPerWorkgroup = g;
  return tiling;
}

FailureOr<gpu::GPUFuncOp> mlir::attn::buildMergeStatesKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    TypeRange valueTypes, RankedTensorType outType) {
  int64_t heads = outType.getDimSize(1), dim = outType.getDimSize(2);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(dim) ||
      dim > kMaxWorkgroupThreads)
    return failure();
  MLIRContext *ctx = builder.getContext();
  Type f32 = Float32Type::get(ctx);
  int64_t tokens = outType.getDimSize(0);
  size_t n = valueTypes.size();
  SmallVector<Type> args;
  for (Type t : valueTypes)
    args.push_back(getUserViewType({tokens, heads, dim},
                                   cast<RankedTensorType>(t).getElementType()));
  for (size_t i = 0; i < n; ++i)
    args.push_back(getUserViewType({tokens, heads}, f32));
  args.push_back(
      getUserViewType({tokens, heads, dim}, outType.getElementType()));
  args.push_back(getUserViewType({tokens, heads}, f32));

  MergeStatesTiling tiling = getMergeStatesTiling(heads, dim);
  int64_t vec = tiling.elementsPerThread;
  int64_t lanesPerHead = dim / vec;
  OpBuilder::InsertionGuard guard(builder);
  gpu::GPUFuncOp func = createKernel(builder, loc, module, name, args,
                                     lanesPerHead * tiling.headsPerWorkgroup);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  auto vecType = VectorType::get({vec}, f32);
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  float inf = std::numeric_limits<float>::infinity();
  Value negInf =
      arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(-inf));
  Value zero = arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(0.0f));
  Value zeros = arith::ConstantOp::create(
      b, DenseElementsAttr::get(vecType, b.getF32FloatAttr(0.0f)));
  // Thread t of workgroup (token, g) owns elements [vec * (t % lanesPerHead),
  // + vec) of head g * headsPerWorkgroup + t / lanesPerHead.
  Value token = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value group = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value headInGroup = arith::DivUIOp::create(b, tid, idx(lanesPerHead));
  Value groupBase =
      arith::MulIOp::create(b, group, idx(tiling.headsPerWorkgroup));
  Value head = arith::AddIOp::create(b, groupBase, headInGroup);
  Value lane = arith::RemUIOp::create(b, tid, idx(lanesPerHead));
  Value d = arith::MulIOp::create(b, lane, idx(vec));
  auto bytes = [](Type elem) { return elem.getIntOrFloatBitWidth() / 8; };

  SmallVector<Value> lse(n), x(n);
  for (size_t i = 0; i < n; ++i) {
    lse[i] = memref::LoadOp::create(b, func.getArgument(n + i),
                                    ValueRange{token, head});
    Type elem =
        cast<MemRefType>(func.getArgument(i).getType()).getElementType();
    // The manifest asks for kStagingCopyBytes-aligned rows, at least a
    // vector's width.
    auto load =
        vector::LoadOp::create(b, vecType.clone(elem), func.getArgument(i),
                               ValueRange{token, head, d});
    load.setAlignment(vec * bytes(elem));
    x[i] = load;
    if (elem != f32)
      x[i] = arith::ExtFOp::create(b, vecType, x[i]);
  }
  Value m = negInf;
  for (Value l : lse)
    m = arith::MaximumFOp::create(b, m, l);
  // With every state empty (lse -inf) exponentiate against 0: no NaN, and
  // each weight is exactly 0.
  Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf);
  Value mExp = arith::SelectOp::create(b, empty, zero, m);
  Value sum = zero, acc = zeros;
  for (size_t i = 0; i < n; ++i) {
    Value shifted = arith::SubFOp::create(b, lse[i], mExp);
    Value w = math::Exp2Op::create(b, shifted);
    // A state with lse -inf adds nothing, whatever its values hold.
    Value used = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, w, zero);
    Value weights = vector::BroadcastOp::create(b, vecType, w);
    Value term = arith::MulFOp::create(b, weights, x[i]);
    Value kept = arith::SelectOp::create(b, used, term, zeros);
    acc = arith::AddFOp::create(b, acc, kept);
    sum = arith::AddFOp::create(b, sum, w);
  }
  Value positive =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, zero);
  Value sums = vector::BroadcastOp::create(b, vecType, sum);
  Value quotient = arith::DivFOp::create(b, acc, sums);
  Value out = arith::SelectOp::create(b, positive, quotient, zeros);
  Type outElem = outType.getElementType();
  if (outElem != f32)
    out = arith::TruncFOp::create(b, vecType.clone(outElem), out);
  auto store = vector::StoreOp::create(b, out, func.getArgument(2 * n),
                                       ValueRange{token, head, d});
  store.setAlignment(vec * bytes(outElem));
  Value logSum = math::Log2Op::create(b, sum);
  Value mergedLse = arith::AddFOp::create(b, mExp, logSum);
  Value merged = arith::SelectOp::create(b, positive, mergedLse, negInf);
  Value firstLane =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(0));
  auto ifOp = scf::IfOp::create(b, firstLane, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    memref::StoreOp::create(b, merged, func.getArgument(2 * n + 1),
                            ValueRange{token, head});
  }
  gpu::ReturnOp::create(b);
  return func;
}

FailureOr<gpu::GPUFuncOp> mlir::attn::buildSegmentedMergeStatesKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module, StringRef name,
    const SegmentedMergeConfig &cfg) {
  int64_t heads = cfg.outType.getDimSize(1), dim = cfg.outType.getDimSize(2);
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(dim) ||
      dim > kMaxWorkgroupThreads)
    return failure();
  MLIRContext *ctx = builder.getContext();
  Type f32 = Float32Type::get(ctx);
  bool withIndptr = static_cast<bool>(cfg.indptrType);
  SmallVector<Type> args = {cfg.valuesType, cfg.lseType};
  if (withIndptr)
    args.push_back(cfg.indptrType);
  args.push_back(cfg.outType);
  if (cfg.outLseType)
    args.push_back(cfg.outLseType);
  if (cfg.sinksType)
    args.push_back(cfg.sinksType);

  OpBuilder::InsertionGuard guard(builder);
  auto func = createKernel(builder, loc, module, name, args, dim);

  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  Value oPart = func.getArgument(0), lsePart = func.getArgument(1);
  unsigned outArg = withIndptr ? 3 : 2;
  Value o = func.getArgument(outArg);
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  auto cst = [&](float v) {
    return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(v));
  };
  Value negInf = cst(-std::numeric_limits<float>::infinity());
  Value zero = cst(0.0f);
  Value head = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value dv = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value c0 = idx(0);
  // The rows [begin, end) of the output row `token`: its segment, or all of
  // them.
  Value token = c0, begin = c0, end;
  if (withIndptr) {
    token = gpu::BlockIdOp::create(b, gpu::Dimension::y);
    auto load = [&](Value at) {
      return arith::IndexCastOp::create(
          b, b.getIndexType(),
          memref::LoadOp::create(b, func.getArgument(2), at));
    };
    // Clamped into the state: a bad indptr merges fewer rows, never reads
    // outside.
    Value rows = memref::DimOp::create(b, oPart, 0);
    begin = arith::MaxSIOp::create(b, load(token), c0);
    end = arith::MinSIOp::create(
        b, load(arith::AddIOp::create(b, token, idx(1))), rows);
  } else {
    end = memref::DimOp::create(b, oPart, 0);
  }

  // One pass with online rescaling, `unroll` splits per trip so that their
  // loads are in flight together (each thread's chain of dependent loads is
  // what bounds this kernel). State: running max m of the partial lse, the
  // sum of 2^(lse_z - m) and the weighted sum of the partial outputs.
  const int64_t unroll = 8;
  Value lastSplit = arith::SubIOp::create(b, end, idx(1));
  auto loop = scf::ForOp::create(b, begin, end, idx(unroll),
                                 ValueRange{negInf, zero, zero});
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(loop.getBody());
    Value z0 = loop.getInductionVar();
    ValueRange it = loop.getRegionIterArgs();
    Value m = it[0], sum = it[1], acc = it[2];
    SmallVector<Value> l(unroll), x(unroll);
    for (int64_t i = 0; i < unroll; ++i) {
      // Trips past the last split reread it and count as lse -inf.
      Value z = arith::AddIOp::create(b, z0, idx(i));
      Value zc = arith::MinSIOp::create(b, z, lastSplit);
      Value inRange =
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, z, end);
      l[i] = arith::SelectOp::create(
          b, inRange, memref::LoadOp::create(b, lsePart, ValueRange{zc, head}),
          negInf);
      x[i] = memref::LoadOp::create(b, oPart, ValueRange{zc, head, dv});
      if (x[i].getType() != f32)
        x[i] = arith::ExtFOp::create(b, f32, x[i]);
    }
    Value newMax = m;
    for (Value li : l)
      newMax = arith::MaximumFOp::create(b, newMax, li);
    // While no split has seen a key the max is -inf: exponentiate against 0
    // so that no NaN appears, and drop the (empty) old state.
    Value noneYet =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax, negInf);
    Value mExp = arith::SelectOp::create(b, noneYet, zero, newMax);
    Value oldEmpty =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf);
    Value rescale = arith::SelectOp::create(
        b, oldEmpty, zero,
        math::Exp2Op::create(b, arith::SubFOp::create(b, m, mExp)));
    sum = arith::MulFOp::create(b, sum, rescale);
    acc = arith::MulFOp::create(b, acc, rescale);
    for (int64_t i = 0; i < unroll; ++i) {
      Value w = math::Exp2Op::create(b, arith::SubFOp::create(b, l[i], mExp));
      // A split that saw no key (lse -inf) adds exactly nothing.
      Value used = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, w, zero);
      Value term = arith::SelectOp::create(
          b, used, arith::MulFOp::create(b, w, x[i]), zero);
      sum = arith::AddFOp::create(b, sum, w);
      acc = arith::AddFOp::create(b, acc, term);
    }
    scf::YieldOp::create(b, ValueRange{newMax, sum, acc});
  }
  Value m = loop.getResult(0), sum = loop.getResult(1), acc = loop.getResult(2);
  // A row no split saw a key of gets o = 0 and lse -inf, sink or not.
  Value positive;
  if (cfg.sinksType) {
    positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, zero);
    // The sink: one more state, of lse sinks[h] log2(e) and value 0.
    Value sink = arith::MulFOp::create(
        b,
        memref::LoadOp::create(b, func.getArgument(func.getNumArguments() - 1),
                               ValueRange{head}),
        cst(static_cast<float>(M_LOG2E)));
    Value newMax = arith::MaximumFOp::create(b, m, sink);
    Value mExp = arith::SelectOp::create(
        b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax, negInf),
        zero, newMax);
    Value oldMExp = arith::SelectOp::create(
        b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf), zero,
        m);
    // The loop's sum and acc are relative to 2^oldMExp.
    Value rescale = arith::SelectOp::create(
        b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf), zero,
        math::Exp2Op::create(b, arith::SubFOp::create(b, oldMExp, mExp)));
    sum = arith::AddFOp::create(
        b, arith::MulFOp::create(b, sum, rescale),
        math::Exp2Op::create(b, arith::SubFOp::create(b, sink, mExp)));
    acc = arith::MulFOp::create(b, acc, rescale);
    m = newMax;
  }
  Value mExp = arith::SelectOp::create(
      b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf), zero,
      m);
  if (!positive)
    positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, zero);
  Value out = arith::SelectOp::create(b, positive,
                                      arith::DivFOp::create(b, acc, sum), zero);
  Type outElem = cfg.outType.getElementType();
  if (outElem != f32)
    out = arith::TruncFOp::create(b, outElem, out);
  memref::StoreOp::create(b, out, o, ValueRange{token, head, dv});
  if (cfg.outLseType) {
    Value lse = arith::SelectOp::create(
        b, positive,
        arith::AddFOp::create(b, mExp, math::Log2Op::create(b, sum)), negInf);
    Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, dv, c0);
    auto ifOp = scf::IfOp::create(b, first, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    memref::StoreOp::create(b, lse, func.getArgument(outArg + 1),
                            ValueRange{token, head});
  }
  b.setInsertionPointToEnd(&func.getBody().front());
  gpu::ReturnOp::create(b);
  return func;
}
