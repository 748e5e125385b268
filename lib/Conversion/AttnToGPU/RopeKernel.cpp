//===- RopeKernel.cpp - attn.rope as a GPU kernel -------------------------===//
//
// Stage 1 of the GPU lowering for attn.rope: each lane reads its features of
// one head of one token as vectors, rotates them in f32 and writes them
// back. The angles are computed from the pair's frequency (optionally
// Llama 3.1's rescaled one) or read from a cos/sin cache. A token whose
// position cannot be found is left unwritten, so a bad table never reads or
// writes out of bounds.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Conversion/AttnToGPU/FlashAttentionKernel.h"
#include "flashinfer/Dialect/Attn/Transforms/Staging.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

FailureOr<RopeTiling> mlir::attn::getRopeTiling(const RopeKernelConfig &cfg) {
  int64_t d = cfg.headDim, r = cfg.rotaryDim;
  if (d % 2 != 0 || r % 2 != 0 || r > d || r <= 0)
    return failure();
  // Vectors of the staging copies' 16 bytes where the dims allow: a lane's
  // two vectors must stay inside the rotated half-pairs (or the interleaved
  // pairs) and the copied tail.
  RopeTiling tiling;
  int64_t vec =
      kStagingCopyBytes / (cfg.elementType.getIntOrFloatBitWidth() / 8);
  auto fits = [&](int64_t v) {
    if (d % (2 * v) != 0 || (d - r) % (2 * v) != 0)
      return false;
    return cfg.interleave ? r % (2 * v) == 0 : (r / 2) % v == 0;
  };
  while (vec > 1 && !fits(vec))
    vec /= 2;
  if (!fits(vec))
    return failure();
  tiling.elementsPerThread = vec;
  tiling.lanesPerHead = d / (2 * vec);
  if (tiling.lanesPerHead > kMaxWorkgroupThreads)
    return failure();
  // A lane computes its pairs' cos and sin once and rotates them in up to
  // kMaxHeadsPerThread heads (a divisor of the head count); tokens fill the
  // workgroup up to 256 threads.
  int64_t heads = std::min(cfg.numHeads, kMaxHeadsPerThread);
  while (cfg.numHeads % heads != 0)
    --heads;
  tiling.headsPerThread = heads;
  int64_t perToken = cfg.numHeads / heads * tiling.lanesPerHead;
  if (perToken > kMaxWorkgroupThreads)
    return failure();
  tiling.tokensPerWorkgroup = std::max<int64_t>(1, 256 / perToken);
  tiling.threads = tiling.tokensPerWorkgroup * perToken;
  return tiling;
}

FailureOr<gpu::GPUFuncOp>
mlir::attn::buildRopeKernel(OpBuilder &builder, Location loc,
                            gpu::GPUModuleOp module, StringRef name,
                            const RopeKernelConfig &cfg) {
  FailureOr<RopeTiling> maybeTiling = getRopeTiling(cfg);
  if (failed(maybeTiling))
    return failure();
  RopeTiling tiling = *maybeTiling;
  MLIRContext *ctx = builder.getContext();
  int64_t dyn = ShapedType::kDynamic;
  Type elem = cfg.elementType, f32 = builder.getF32Type();
  auto list = MemRefType::get({dyn}, IntegerType::get(ctx, 32));
  MemRefType view = getUserViewType({dyn, cfg.numHeads, cfg.headDim}, elem);
  SmallVector<Type> args = {view};
  if (cfg.raggedPositions)
    args.append({list, list});
  else
    args.push_back(MemRefType::get({dyn}, cfg.positionType));
  if (cfg.cosSinCache)
    args.push_back(MemRefType::get({dyn, cfg.rotaryDim}, f32));
  args.push_back(view);
  if (cfg.launchScale)
    args.push_back(f32);
  if (cfg.launchTheta)
    args.push_back(f32);

  OpBuilder::InsertionGuard guard(builder);
  gpu::GPUFuncOp func =
      createKernel(builder, loc, module, name, args, tiling.threads);
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  auto f32Const = [&](double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  };
  auto dimOf = [&](Value mem, int64_t d) {
    return b.createOrFold<memref::DimOp>(mem, d);
  };
  auto loadIndex = [&](Value mem, Value at) {
    return arith::IndexCastOp::create(b, b.getIndexType(),
                                      memref::LoadOp::create(b, mem, at));
  };
  auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y);
  };
  using P = arith::CmpIPredicate;
  // Each check guards the reads after it, so no table is read out of range.
  auto guardBy = [&](Value cond) {
    auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
  };

  unsigned argIndex = 0;
  Value input = func.getArgument(argIndex++);
  Value posIds, indptr, offsets, cache;
  if (cfg.raggedPositions) {
    indptr = func.getArgument(argIndex++);
    offsets = func.getArgument(argIndex++);
  } else {
    posIds = func.getArgument(argIndex++);
  }
  if (cfg.cosSinCache)
    cache = func.getArgument(argIndex++);
  Value output = func.getArgument(argIndex++);
  Value scaleArg, thetaArg;
  if (cfg.launchScale)
    scaleArg = func.getArgument(argIndex++);
  if (cfg.launchTheta)
    thetaArg = func.getArgument(argIndex++);
  int64_t vec = tiling.elementsPerThread, lanes = tiling.lanesPerHead;

  // This lane's token, heads and features.
  // One builder call per statement where several create ops: the IR must
  // not depend on the host compiler's argument evaluation order.
  Value zero = idx(0), one = idx(1);
  int64_t headGroups = cfg.numHeads / tiling.headsPerThread;
  Value lanesPerHead = idx(lanes);
  Value groupCount = idx(headGroups);
  Value tokensPerGroup = idx(tiling.tokensPerWorkgroup);
  Value lanesPerToken = idx(lanes * headGroups);
  Value headsPerThread = idx(tiling.headsPerThread);
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, tid, lanesPerHead);
  Value group = arith::RemUIOp::create(
      b, arith::DivUIOp::create(b, tid, lanesPerHead), groupCount);
  Value tokenInGroup = arith::DivUIOp::create(b, tid, lanesPerToken);
  Value token = arith::AddIOp::create(
      b,
      arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                            tokensPerGroup),
      tokenInGroup);
  Value firstHead = arith::MulIOp::create(b, group, headsPerThread);
  Value tokens = dimOf(input, 0);
  guardBy(cmp(P::slt, token, tokens));

  // The token's position.
  Value pos;
  if (cfg.raggedPositions) {
    // The last request whose first row is <= token (indptr ascending), by
    // bisection over [0, batch); then the token must lie in its rows.
    Value indptrSize = dimOf(indptr, 0);
    Value batch = arith::SubIOp::create(b, indptrSize, one);
    guardBy(cmp(P::sgt, batch, zero));
    auto search = scf::WhileOp::create(
        b, TypeRange{b.getIndexType(), b.getIndexType()},
        ValueRange{zero, batch},
        [&](OpBuilder &ob, Location l, ValueRange range) {
          ImplicitLocOpBuilder wb(l, ob);
          Value width = arith::SubIOp::create(wb, range[1], range[0]);
          Value oneWide = arith::ConstantIndexOp::create(wb, 1);
          Value more = arith::CmpIOp::create(wb, P::sgt, width, oneWide);
          scf::ConditionOp::create(wb, more, range);
        },
        [&](OpBuilder &ob, Location l, ValueRange range) {
          ImplicitLocOpBuilder wb(l, ob);
          Value two = arith::ConstantIndexOp::create(wb, 2);
          Value mid = arith::DivUIOp::create(
              wb, arith::AddIOp::create(wb, range[0], range[1]), two);
          Value first = arith::IndexCastOp::create(
              wb, wb.getIndexType(), memref::LoadOp::create(wb, indptr, mid));
          Value below = arith::CmpIOp::create(wb, P::sle, first, token);
          Value low = arith::SelectOp::create(wb, below, mid, range[0]);
          Value high = arith::SelectOp::create(wb, below, range[1], mid);
          scf::YieldOp::create(wb, ValueRange{low, high});
        });
    Value request = search.getResult(0);
    Value first = loadIndex(indptr, request);
    Value end = loadIndex(indptr, arith::AddIOp::create(b, request, one));
    Value fromFirst = cmp(P::sle, first, token);
    Value beforeEnd = cmp(P::slt, token, end);
    Value offsetCount = dimOf(offsets, 0);
    Value hasOffset = cmp(P::slt, request, offsetCount);
    Value inRows = arith::AndIOp::create(b, fromFirst, beforeEnd);
    guardBy(arith::AndIOp::create(b, inRows, hasOffset));
    Value offset = loadIndex(offsets, request);
    pos = arith::AddIOp::create(b, offset,
                                arith::SubIOp::create(b, token, first));
  } else if (cfg.positionType.isInteger(64)) {
    // Index arithmetic may be 32-bit on the GPU: a position outside 32 bits
    // finds no angle and leaves its token unwritten.
    Value raw = memref::LoadOp::create(b, posIds, token);
    Type i64 = b.getI64Type();
    Value min = arith::ConstantIntOp::create(b, i64, INT32_MIN);
    Value max = arith::ConstantIntOp::create(b, i64, INT32_MAX);
    Value aboveMin = cmp(P::sge, raw, min);
    Value belowMax = cmp(P::sle, raw, max);
    guardBy(arith::AndIOp::create(b, aboveMin, belowMax));
    pos = arith::IndexCastOp::create(b, b.getIndexType(), raw);
  } else {
    pos = loadIndex(posIds, token);
  }
  if (cfg.cosSinCache) {
    Value notNegative = cmp(P::sge, pos, zero);
    Value cacheRows = dimOf(cache, 0);
    Value belowRows = cmp(P::slt, pos, cacheRows);
    guardBy(arith::AndIOp::create(b, notNegative, belowRows));
  }
  Value posF32 = arith::SIToFPOp::create(
      b, f32, arith::IndexCastOp::create(b, b.getI64Type(), pos));

  // Lane l covers features [2 l vec, 2 (l + 1) vec) of the head, except
  // that rotate-half lanes inside the rotary features take pair indices
  // [l vec, (l + 1) vec) and read both halves.
  int64_t rotaryLanes = cfg.rotaryDim / (2 * vec);
  auto vecType = [&](int64_t n, Type t) { return VectorType::get({n}, t); };
  int64_t elemBytes = elem.getIntOrFloatBitWidth() / 8;
  auto loadRow = [&](Value head, Value d, int64_t n) {
    auto load = vector::LoadOp::create(b, vecType(n, elem), input,
                                       ValueRange{token, head, d});
    // Rows are only as aligned as one vector (the manifest's "align").
    load.setAlignment(vec * elemBytes);
    Value v = load;
    if (!elem.isF32())
      v = arith::ExtFOp::create(b, vecType(n, f32), v);
    return v;
  };
  auto storeRow = [&](Value v, Value head, Value d) {
    auto type = cast<VectorType>(v.getType());
    if (!elem.isF32())
      v = arith::TruncFOp::create(b, vecType(type.getNumElements(), elem), v);
    auto store =
        vector::StoreOp::create(b, v, output, ValueRange{token, head, d});
    store.setAlignment(vec * elemBytes);
  };
  Value chunkWidth = idx(2 * vec), rotaryLaneCount = idx(rotaryLanes);
  Value halfRotary = idx(cfg.rotaryDim / 2), pairsPerLane = idx(vec);
  Value chunkStart = arith::MulIOp::create(b, lane, chunkWidth);
  // The thread's heads, unrolled: their loads are independent.
  SmallVector<Value> heads;
  for (int64_t j = 0; j < tiling.headsPerThread; ++j)
    heads.push_back(
        j == 0 ? firstHead
               : arith::AddIOp::create(b, firstHead, idx(j)).getResult());
  if (rotaryLanes < lanes) {
    auto rotary = scf::IfOp::create(b, cmp(P::slt, lane, rotaryLaneCount),
                                    /*withElseRegion=*/true);
    {
      // Past rotary_dim: a copy (a no-op in place).
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(rotary.elseBlock());
      SmallVector<Value> rows;
      for (Value head : heads)
        rows.push_back(loadRow(head, chunkStart, 2 * vec));
      for (auto [head, row] : llvm::zip(heads, rows))
        storeRow(row, head, chunkStart);
    }
    b.setInsertionPointToStart(rotary.thenBlock());
  }
  Value firstPair = arith::MulIOp::create(b, lane, pairsPerLane);
  // The pairs' second features (rotate-half), and their sines' cache column.
  Value halfOn;
  if (!cfg.interleave || cfg.cosSinCache)
    halfOn = arith::AddIOp::create(b, firstPair, halfRotary);
  Value firstAt = firstPair, secondAt = halfOn;
  // Each head's vec pairs' first and second elements, as [vec] f32.
  SmallVector<std::pair<Value, Value>> pairs;
  for (Value head : heads) {
    if (cfg.interleave) {
      Value both = loadRow(head, chunkStart, 2 * vec);
      SmallVector<int64_t> evens, odds;
      for (int64_t j = 0; j < vec; ++j) {
        evens.push_back(2 * j);
        odds.push_back(2 * j + 1);
      }
      Value xs = vector::ShuffleOp::create(b, both, both, evens);
      Value ys = vector::ShuffleOp::create(b, both, both, odds);
      pairs.push_back({xs, ys});
    } else {
      Value xs = loadRow(head, firstAt, vec);
      Value ys = loadRow(head, secondAt, vec);
      pairs.push_back({xs, ys});
    }
  }
  // cos and sin of each pair's angle.
  Value cosines, sines;
  if (cfg.cosSinCache) {
    auto read = [&](Value col) {
      return vector::LoadOp::create(b, vecType(vec, f32), cache,
                                    ValueRange{pos, col});
    };
    cosines = read(firstPair);
    sines = read(halfOn);
  } else {
    // f_i = theta^(-2i/rotary_dim) / scale, per pair i = firstPair + j.
    SmallVector<float> offsetsInVector;
    for (int64_t j = 0; j < vec; ++j)
      offsetsInVector.push_back(static_cast<float>(j));
    Value firstPairF32 = arith::UIToFPOp::create(
        b, f32, arith::IndexCastOp::create(b, b.getI64Type(), firstPair));
    Value pairOffsets = arith::ConstantOp::create(
        b, DenseElementsAttr::get(vecType(vec, f32),
                                  ArrayRef<float>(offsetsInVector)));
    Value pairsF32 = arith::AddFOp::create(
        b, vector::BroadcastOp::create(b, vecType(vec, f32), firstPairF32),
        pairOffsets);
    auto splat = [&](double v) {
      return vector::BroadcastOp::create(b, vecType(vec, f32), f32Const(v));
    };
    // -2 log2(theta) / rotary_dim and 1 / scale: constants, or computed
    // once from the launch values.
    Value exponentPerPair, rcpScale;
    if (thetaArg) {
      Value log2Theta = math::Log2Op::create(b, thetaArg);
      Value perPair = f32Const(-2.0 / cfg.rotaryDim);
      exponentPerPair = vector::BroadcastOp::create(
          b, vecType(vec, f32), arith::MulFOp::create(b, log2Theta, perPair));
    } else {
      exponentPerPair = splat(
          -2.0 * std::log2(static_cast<double>(cfg.ropeTheta)) / cfg.rotaryDim);
    }
    if (scaleArg) {
      Value oneF = f32Const(1.0);
      rcpScale = vector::BroadcastOp::create(
          b, vecType(vec, f32), arith::DivFOp::create(b, oneF, scaleArg));
    } else {
      rcpScale = splat(1.0 / cfg.ropeScale);
    }
    Value freq = math::Exp2Op::create(
        b, arith::MulFOp::create(b, pairsF32, exponentPerPair));
    Value scaled = arith::MulFOp::create(b, freq, rcpScale);
    if (cfg.llama31)
      scaled = cfg.llama31.buildFrequency(b, b.getLoc(), freq, scaled);
    Value positions = vector::BroadcastOp::create(b, vecType(vec, f32), posF32);
    Value angle = arith::MulFOp::create(b, positions, scaled);
    cosines = math::CosOp::create(b, angle);
    sines = math::SinOp::create(b, angle);
  }
  // (x, y) -> (x cos - y sin, y cos + x sin), in each head.
  for (auto [head, pair] : llvm::zip(heads, pairs)) {
    auto [xs, ys] = pair;
    auto [xOut, yOut] =
        RotaryAttr::rotatePair(b, b.getLoc(), xs, ys, cosines, sines);
    if (cfg.interleave) {
      SmallVector<int64_t> zipped;
      for (int64_t j = 0; j < vec; ++j) {
        zipped.push_back(j);
        zipped.push_back(vec + j);
      }
      storeRow(vector::ShuffleOp::create(b, xOut, yOut, zipped), head,
               chunkStart);
    } else {
      storeRow(xOut, head, firstAt);
      storeRow(yOut, head, secondAt);
    }
  }
  b.setInsertionPointToEnd(&func.getBody().front());
  gpu::ReturnOp::create(b);
  return func;
}
