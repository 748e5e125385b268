//===- FlashAttentionKernel.cpp - tiling attention into GPU kernels -------===//
//
// Stage 1 of the GPU lowering: the work decomposition. A kernel is built
// whose workgroups each own a tile of query rows (or, for decode, the query
// heads of one KV head and one chunk of keys), walk the keys they can see in
// tiles of `block_n` with `attn.online_attention_step`, and write the
// normalized output. Everything inside the kernel is still expressed on whole
// workgroup tiles (vectors); later passes decompose the step, stage operands
// in workgroup memory and distribute the tiles over lanes and matrix
// instructions.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Conversion/AttnToGPU/FlashAttentionKernel.h"

#include "flashinfer/Dialect/Attn/IR/AttnOps.h"
#include "flashinfer/Target/AttentionLayout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;

SmallVector<FlashAttentionConfig::VariantArg>
FlashAttentionConfig::variantArgs() const {
  SmallVector<VariantArg> args;
  if (customMask)
    args.push_back(VariantArg::CustomMask);
  if (alibi == Alibi::slopesArgument)
    args.push_back(VariantArg::AlibiSlopes);
  // Split-KV: the merge kernel counts the sinks.
  if (sinks && !splitKV)
    args.push_back(VariantArg::Sinks);
  if (launchSmScale)
    args.push_back(VariantArg::SmScale);
  if (launchSoftCap)
    args.push_back(VariantArg::LogitsSoftCap);
  if (launchWindow)
    args.push_back(VariantArg::WindowLeft);
  if (launchRopeTheta)
    args.push_back(VariantArg::RopeTheta);
  if (launchRopeScale)
    args.push_back(VariantArg::RopeScale);
  return args;
}

StringRef FlashAttentionConfig::getName(VariantArg arg) {
  switch (arg) {
  case VariantArg::CustomMask:
    return "custom_mask";
  case VariantArg::AlibiSlopes:
    return "alibi_slopes";
  case VariantArg::Sinks:
    return "sinks";
  case VariantArg::SmScale:
    return "sm_scale";
  case VariantArg::LogitsSoftCap:
    return "logits_soft_cap";
  case VariantArg::WindowLeft:
    return "window_left";
  case VariantArg::RopeTheta:
    return "rope_theta";
  case VariantArg::RopeScale:
    return "rope_scale";
  }
  llvm_unreachable("unknown variant argument");
}

int64_t FlashAttentionConfig::blockM() const {
  std::optional<AttentionLayout> layout = getAttentionLayout(instr);
  int64_t rows = layout ? layout->rowsPerTile() : instr.m;
  return numWaves * queryTilesPerWave * rows;
}

namespace {

/// Builds the body of the tiled kernel.
class TiledKernelBuilder {
public:
  TiledKernelBuilder(ImplicitLocOpBuilder &b, const FlashAttentionConfig &cfg)
      : b(b), cfg(cfg) {}

  void build(gpu::GPUFuncOp func);

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value minIdx(Value x, Value y) { return arith::MinSIOp::create(b, x, y); }
  Value maxIdx(Value x, Value y) { return arith::MaxSIOp::create(b, x, y); }
  Value roundDown(Value x, int64_t n) {
    return mul(arith::DivUIOp::create(b, x, idx(n)), idx(n));
  }
  /// An i32 table entry as an index.
  Value loadIndex(Value mem, ValueRange at) {
    return arith::IndexCastOp::create(b, b.getIndexType(),
                                      memref::LoadOp::create(b, mem, at));
  }
  Value splat(VectorType type, Attribute value) {
    return arith::ConstantOp::create(b, DenseElementsAttr::get(type, value));
  }
  /// `(d0, d1, d2) -> (d_rows, d2)`: a [rows x dim] tile of a 3-D memref.
  AffineMapAttr tileMap(MLIRContext *ctx, unsigned rowsDim, unsigned rank) {
    return AffineMapAttr::get(AffineMap::get(
        rank, 0,
        {getAffineDimExpr(rowsDim, ctx), getAffineDimExpr(rank - 1, ctx)},
        ctx));
  }

  /// Batch prefill: reads the work item (request, q_begin) of workgroup x
  /// and sets up the request's query rows and KV source.
  void buildBatchPrefillPrologue(gpu::GPUFuncOp func);
  /// Paged: the request's first page-list entry and its kv_len (0 for
  /// padding or a request without pages).
  void readPageTable(Value kvIndptr, Value lastPageLen, Value request,
                     Value padding);
  /// The first custom-mask bit of `request` in a batch: sum over the earlier
  /// requests of qo_len * kv_len (qo_len 1 without qoIndptr: decode).
  Value maskBitsBefore(Value request, Value qoIndptr, Value kvIndptr,
                       Value lastPageLen);
  Value readQueryTile();
  /// Fused RoPE: the query tile `q` with each row turned at its position
  /// (`positions`, [blockM] index).
  Value rotateQueryTile(Value q, Value positions);
  Value queryPositions();
  /// Each row's query head ([blockM] index).
  Value queryHeads();
  /// A per-head f32 table's entry for each row ([blockM]).
  Value perRowEntries(Value table);
  /// FlashInfer's default ALiBi slope of each row's head.
  Value defaultAlibiSlopes(Value heads);
  /// Fills the score_mod / mask_mod regions of `step` (ALiBi's bias with
  /// the slope as its row value, then the op's functions).
  void buildStepRegions(OnlineAttentionStepOp step);
  void writeOutputs(Value acc, Value max, Value sum);

  ImplicitLocOpBuilder &b;
  const FlashAttentionConfig &cfg;
  Value qMem, kMem, vMem, oMem, lseMem;
  // Paged: the page list and the request's first entry in it.
  Value kvIndices, pageBegin;
  // The query token of the packed rows (decode), its request's; with a
  // batch of prefill requests, the request's first query row.
  Value qToken, qStart;
  // The workgroup's first row, its query head (prefill) or first packed
  // head (decode), its KV head, its split-KV chunk; the rows that exist.
  Value rowBase, qHead, headBase, kvHead, split, chunk, kvChunk, numRowsTotal;
  // Paged: the work item's key range.
  Value chunkBegin, chunkEnd;
  Value qoLen, kvLen, posOffset;
  // The request (a region's `batch`); the per-head variant tensors.
  Value batchIndex, alibiMem, sinksMem, maskMem;
  // Batch prefill with a custom mask: the request's first mask bit.
  Value maskBase;
  // Fused RoPE's theta and scale when known at launch.
  Value ropeTheta, ropeScale;
};

Value TiledKernelBuilder::readQueryTile() {
  MLIRContext *ctx = b.getContext();
  auto type = VectorType::get({cfg.blockM(), cfg.headDim}, cfg.elementType);
  Value pad = arith::ConstantOp::create(b, b.getZeroAttr(cfg.elementType));
  // Rows are tokens of one head, or with packed heads the heads of the one
  // token. Rows past the memref's end read the padding; rows of another
  // KV head's group are read but never stored.
  SmallVector<Value> at =
      cfg.packHeads ? SmallVector<Value>{qToken, headBase, idx(0)}
                    : SmallVector<Value>{add(qStart, rowBase), qHead, idx(0)};
  return vector::TransferReadOp::create(
      b, type, qMem, at, tileMap(ctx, cfg.packHeads ? 1 : 0, 3), pad,
      /*mask=*/Value(), b.getBoolArrayAttr({false, true}));
}

Value TiledKernelBuilder::rotateQueryTile(Value q, Value positions) {
  int64_t rows = cfg.blockM(), dim = cfg.headDim, half = dim / 2;
  Type f32 = b.getF32Type();
  auto halfType = VectorType::get({rows, half}, cfg.elementType);
  auto halfF32 = VectorType::get({rows, half}, f32);
  SmallVector<int64_t> sizes = {rows, half}, unit = {1, 1};
  Value x = vector::ExtractStridedSliceOp::create(b, q, ArrayRef<int64_t>{0, 0},
                                                  sizes, unit);
  Value y = vector::ExtractStridedSliceOp::create(
      b, q, ArrayRef<int64_t>{0, half}, sizes, unit);
  Value xF32 = arith::ExtFOp::create(b, halfF32, x);
  Value yF32 = arith::ExtFOp::create(b, halfF32, y);
  // Pair i of row r turns by positions[r] * f_i: the pair index along the
  // columns, the position along the rows.
  auto pairType = VectorType::get({half}, b.getIndexType());
  Value pairIndices = vector::StepOp::create(b, pairType);
  Value pairsI32 = arith::IndexCastUIOp::create(
      b, pairType.clone(b.getI32Type()), pairIndices);
  Value pairs = arith::UIToFPOp::create(b, pairType.clone(f32), pairsI32);
  auto rowType = VectorType::get({rows}, b.getI32Type());
  // (Signed: with more queries than keys the first rows sit before 0.)
  Value posI32 = arith::IndexCastOp::create(b, rowType, positions);
  Value pos = arith::SIToFPOp::create(b, rowType.clone(f32), posI32);
  Value posColumn =
      vector::ShapeCastOp::create(b, VectorType::get({rows, 1}, f32), pos);
  // One builder call per statement: the IR must not depend on the host
  // compiler's argument evaluation order.
  Value pairGrid = vector::BroadcastOp::create(b, halfF32, pairs);
  Value posGrid = vector::BroadcastOp::create(b, halfF32, posColumn);
  Value angle = cfg.rotary.buildAngles(b, b.getLoc(), pairGrid, posGrid, dim,
                                       ropeTheta, ropeScale);
  auto [xOut, yOut] =
      RotaryAttr::buildRotation(b, b.getLoc(), xF32, yF32, angle);
  Value turned = vector::InsertStridedSliceOp::create(
      b, arith::TruncFOp::create(b, halfType, xOut), q, ArrayRef<int64_t>{0, 0},
      unit);
  return vector::InsertStridedSliceOp::create(
      b, arith::TruncFOp::create(b, halfType, yOut), turned,
      ArrayRef<int64_t>{0, half}, unit);
}

Value TiledKernelBuilder::queryHeads() {
  auto type = VectorType::get({cfg.blockM()}, b.getIndexType());
  if (!cfg.packHeads)
    return vector::BroadcastOp::create(b, type, qHead);
  return arith::AddIOp::create(b, vector::StepOp::create(b, type),
                               vector::BroadcastOp::create(b, type, headBase));
}

Value TiledKernelBuilder::perRowEntries(Value table) {
  auto type = VectorType::get({cfg.blockM()}, b.getF32Type());
  if (!cfg.packHeads)
    return vector::BroadcastOp::create(
        b, type, memref::LoadOp::create(b, table, ValueRange{qHead}));
  // Rows are the heads headBase + r; padding rows past the table read 0.
  Value pad = arith::ConstantOp::create(b, b.getF32FloatAttr(0.0f));
  return vector::TransferReadOp::create(
      b, type, table, ValueRange{headBase},
      AffineMapAttr::get(AffineMap::getMinorIdentityMap(1, 1, b.getContext())),
      pad, /*mask=*/Value(), b.getBoolArrayAttr({false}));
}

Value TiledKernelBuilder::defaultAlibiSlopes(Value heads) {
  // With n the largest power of two <= Hq, head h < n has slope
  // 2^(-8(h+1)/n) and head n + k has 2^(-4(2k+1)/n), as FlashInfer and the
  // ALiBi paper compute them.
  auto type = cast<VectorType>(heads.getType());
  auto f32Type = type.clone(b.getF32Type());
  int64_t n = int64_t(1) << llvm::Log2_64(cfg.numQoHeads);
  auto cst = [&](float v) {
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(f32Type, b.getF32FloatAttr(v)));
  };
  Value h = arith::SIToFPOp::create(
      b, f32Type,
      arith::IndexCastOp::create(b, type.clone(b.getI32Type()), heads));
  float nf = static_cast<float>(n);
  // -8(h+1)/n and -4(2(h-n)+1)/n = (-8h + 8n - 4)/n.
  Value inSeries = arith::MulFOp::create(
      b, arith::AddFOp::create(b, h, cst(1.0f)), cst(-8.0f / nf));
  Value interleaved = arith::AddFOp::create(
      b, arith::MulFOp::create(b, h, cst(-8.0f / nf)), cst(8.0f - 4.0f / nf));
  Value first = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, h, cst(nf));
  return math::Exp2Op::create(
      b, arith::SelectOp::create(b, first, inSeries, interleaved));
}

void TiledKernelBuilder::buildStepRegions(OnlineAttentionStepOp step) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type(), index = b.getIndexType();
  OpBuilder rb(ctx);
  Location loc = step.getLoc();
  unsigned numRowValues = step.getRowValues().size();
  // Block arguments: [score,] batch, q_head, q_idx, kv_idx, row values.
  auto addBlock = [&](Region &region, bool withScore) {
    SmallVector<Type> types;
    if (withScore)
      types.push_back(f32);
    types.append(4, index);
    types.append(numRowValues, f32);
    Block *block = rb.createBlock(&region, {}, types,
                                  SmallVector<Location>(types.size(), loc));
    rb.setInsertionPointToStart(block);
    return block;
  };
  if (cfg.alibi != FlashAttentionConfig::Alibi::none || cfg.scoreMod) {
    Block *block = addBlock(step.getScoreMod(), /*withScore=*/true);
    Value s = block->getArgument(0);
    Value qIdx = block->getArgument(3), kvIdx = block->getArgument(4);
    if (cfg.alibi != FlashAttentionConfig::Alibi::none) {
      // The slope is the first row value.
      Value slope = block->getArgument(5);
      Value dist = arith::SIToFPOp::create(
          rb, loc, f32,
          arith::IndexCastOp::create(
              rb, loc, rb.getI32Type(),
              arith::SubIOp::create(rb, loc, kvIdx, qIdx)));
      s = arith::AddFOp::create(rb, loc, s,
                                arith::MulFOp::create(rb, loc, slope, dist));
    }
    if (cfg.scoreMod)
      s = inlineVariantRegion(
          rb, *cfg.scoreMod,
          {s, block->getArgument(1), block->getArgument(2), qIdx, kvIdx});
    YieldOp::create(rb, loc, s);
  }
  if (cfg.maskMod) {
    Block *block = addBlock(step.getMaskMod(), /*withScore=*/false);
    Value visible = inlineVariantRegion(rb, *cfg.maskMod,
                                        block->getArguments().take_front(4));
    YieldOp::create(rb, loc, visible);
  }
}

Value TiledKernelBuilder::queryPositions() {
  // Queries are the last qo_len tokens: row r is at r + kv_len - qo_len;
  // packed rows are heads of the one token, all at kv_len - 1.
  auto type = VectorType::get({cfg.blockM()}, b.getIndexType());
  if (cfg.packHeads)
    return vector::BroadcastOp::create(b, type, posOffset);
  Value rows = vector::StepOp::create(b, type);
  Value first = vector::BroadcastOp::create(b, type, add(rowBase, posOffset));
  return arith::AddIOp::create(b, rows, first);
}

void TiledKernelBuilder::writeOutputs(Value acc, Value max, Value sum) {
  MLIRContext *ctx = b.getContext();
  int64_t rows = cfg.blockM();
  Type f32 = b.getF32Type();
  auto rowType = VectorType::get({rows}, f32);
  auto columnType = VectorType::get({rows, 1}, f32);
  auto accType = cast<VectorType>(acc.getType());
  Value zero = splat(rowType, b.getF32FloatAttr(0.0f));
  Value negInf = splat(
      rowType, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  // A row that saw no key has sum 0: output 0 and lse -inf, sink or not.
  Value seen = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, zero);
  Value one = splat(rowType, b.getF32FloatAttr(1.0f));
  // The sink joins the state as one more key of logit sinks[h] and value 0:
  // max and sum are rescaled to the new max, acc with them below.
  Value accScale = one;
  if (sinksMem) {
    Value sink = arith::MulFOp::create(
        b, perRowEntries(sinksMem),
        splat(rowType, b.getF32FloatAttr(static_cast<float>(M_LOG2E))));
    Value newMax = arith::MaximumFOp::create(b, max, sink);
    // Exponentiate against 0 while the max is -inf (a -inf sink is none).
    Value base = arith::SelectOp::create(
        b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax, negInf),
        zero, newMax);
    accScale = math::Exp2Op::create(b, arith::SubFOp::create(b, max, base));
    Value sinkTerm =
        math::Exp2Op::create(b, arith::SubFOp::create(b, sink, base));
    sum = arith::AddFOp::create(b, arith::MulFOp::create(b, sum, accScale),
                                sinkTerm);
    max = base;
  }
  Value inv = arith::SelectOp::create(
      b, seen, arith::DivFOp::create(b, accScale, sum), zero);
  Value invColumn = vector::ShapeCastOp::create(b, columnType, inv);
  Value o = arith::MulFOp::create(
      b, acc, vector::BroadcastOp::create(b, accType, invColumn));
  Type oElem = cast<MemRefType>(oMem.getType()).getElementType();
  if (oElem != f32)
    o = arith::TruncFOp::create(b, accType.clone(oElem), o);

  // Split-KV partials go to [split, head, dv]; packed rows are heads.
  Value first = cfg.splitKV ? split : idx(0);
  Value oRow = add(qStart, rowBase);
  SmallVector<Value> oAt = cfg.packHeads
                               ? SmallVector<Value>{first, headBase, idx(0)}
                               : SmallVector<Value>{oRow, qHead, idx(0)};
  // Packed rows past the group's G heads belong to another workgroup, rows
  // past a batched request's queries to the next request.
  Value rowsLeft = sub(numRowsTotal, rowBase);
  Value oMask, lseMask;
  if (cfg.packHeads || cfg.raggedQueries) {
    oMask = vector::CreateMaskOp::create(
        b, VectorType::get(accType.getShape(), b.getI1Type()),
        ValueRange{rowsLeft, idx(accType.getDimSize(1))});
    lseMask = vector::CreateMaskOp::create(
        b, VectorType::get({rows}, b.getI1Type()), ValueRange{rowsLeft});
  }
  unsigned rowsDim = cfg.packHeads ? 1 : 0;
  vector::TransferWriteOp::create(b, o, oMem, oAt, tileMap(ctx, rowsDim, 3),
                                  oMask, b.getBoolArrayAttr({false, true}));
  if (!lseMem)
    return;
  Value logSum = arith::AddFOp::create(b, max, math::Log2Op::create(b, sum));
  Value lse = arith::SelectOp::create(b, seen, logSum, negInf);
  SmallVector<Value> lseAt = cfg.packHeads ? SmallVector<Value>{first, headBase}
                                           : SmallVector<Value>{oRow, qHead};
  auto lseMap = AffineMapAttr::get(
      AffineMap::get(2, 0, {getAffineDimExpr(rowsDim, ctx)}, ctx));
  vector::TransferWriteOp::create(b, lse, lseMem, lseAt, lseMap, lseMask,
                                  b.getBoolArrayAttr({false}));
}

void TiledKernelBuilder::readPageTable(Value kvIndptr, Value lastPageLen,
                                       Value request, Value padding) {
  pageBegin = loadIndex(kvIndptr, {request});
  Value numPages = sub(loadIndex(kvIndptr, {add(request, idx(1))}), pageBegin);
  // kv_len = (pages - 1) * page_size + last_page_len, 0 without pages.
  Value pageSize =
      b.createOrFold<memref::DimOp>(kMem, getPageSlotDim(cfg.kvLayout));
  Value full = mul(sub(numPages, idx(1)), pageSize);
  Value len = add(full, loadIndex(lastPageLen, {request}));
  Value empty = arith::OrIOp::create(
      b, padding,
      arith::CmpIOp::create(b, arith::CmpIPredicate::sle, numPages, idx(0)));
  kvLen = arith::SelectOp::create(b, empty, idx(0), len);
}

Value TiledKernelBuilder::maskBitsBefore(Value request, Value qoIndptr,
                                         Value kvIndptr, Value lastPageLen) {
  auto loop =
      scf::ForOp::create(b, idx(0), request, idx(1), ValueRange{idx(0)});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value req = loop.getInductionVar();
  auto lengthOf = [&](Value indptr) {
    return maxIdx(
        sub(loadIndex(indptr, {add(req, idx(1))}), loadIndex(indptr, {req})),
        idx(0));
  };
  Value kvOfReq;
  if (cfg.paged) {
    // kv_len = (pages - 1) * page_size + last_page_len, 0 without pages.
    Value pages = lengthOf(kvIndptr);
    Value pageSize =
        b.createOrFold<memref::DimOp>(kMem, getPageSlotDim(cfg.kvLayout));
    Value len =
        add(mul(sub(pages, idx(1)), pageSize), loadIndex(lastPageLen, {req}));
    kvOfReq = arith::SelectOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, pages, idx(0)),
        len, idx(0));
  } else {
    kvOfReq = lengthOf(kvIndptr);
  }
  Value qoOfReq = qoIndptr ? lengthOf(qoIndptr) : idx(1);
  scf::YieldOp::create(b,
                       add(loop.getRegionIterArgs()[0], mul(qoOfReq, kvOfReq)));
  return loop.getResult(0);
}

void TiledKernelBuilder::buildBatchPrefillPrologue(gpu::GPUFuncOp func) {
  // Clamps [begin, end) read from an indptr into [0, size): the planner
  // validates the tables, and this keeps any row of them inside the buffers.
  auto clampRange = [&](Value indptr, Value at, Value size) {
    Value begin = minIdx(maxIdx(loadIndex(indptr, {at}), idx(0)), size);
    Value end =
        minIdx(maxIdx(loadIndex(indptr, {add(at, idx(1))}), begin), size);
    return std::make_pair(begin, end);
  };
  Value qoIndptr, kvIndptr, lastPageLen;
  unsigned next;
  if (cfg.paged) {
    kvIndptr = func.getArgument(3);
    kvIndices = func.getArgument(4);
    lastPageLen = func.getArgument(5);
    qoIndptr = func.getArgument(6);
    next = 7;
  } else {
    qoIndptr = func.getArgument(3);
    kvIndptr = func.getArgument(4);
    next = 5;
  }
  Value schedule = func.getArgument(next);
  oMem = func.getArgument(next + 1);
  lseMem = cfg.withLse ? func.getArgument(next + 2) : Value();
  Value item = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value request = loadIndex(schedule, {item, idx(0)});
  rowBase = loadIndex(schedule, {item, idx(1)});
  Value padding =
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, request, idx(0));
  // Clamped into the batch (launched only when it and q are not empty).
  Value lastRequest = sub(memref::DimOp::create(b, qoIndptr, 0), idx(2));
  Value r = minIdx(maxIdx(request, idx(0)), lastRequest);
  batchIndex = r;
  auto [qBegin, qEnd] =
      clampRange(qoIndptr, r, memref::DimOp::create(b, qMem, 0));
  qStart = qBegin;
  qoLen = arith::SelectOp::create(b, padding, idx(0), sub(qEnd, qBegin));
  if (cfg.customMask)
    maskBase = maskBitsBefore(r, qoIndptr, kvIndptr, lastPageLen);
  if (cfg.paged) {
    readPageTable(kvIndptr, lastPageLen, r, padding);
    return;
  }
  // Ragged K/V: the request's keys as views of k and v (v has k's rows).
  auto [kvBegin, kvEnd] =
      clampRange(kvIndptr, r, memref::DimOp::create(b, kMem, 0));
  kvLen = arith::SelectOp::create(b, padding, idx(0), sub(kvEnd, kvBegin));
  Value firstKey = kvBegin;
  auto rows = [&](Value mem) {
    auto type = cast<MemRefType>(mem.getType());
    SmallVector<OpFoldResult> offsets = {firstKey, b.getIndexAttr(0),
                                         b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {kvLen,
                                       b.getIndexAttr(type.getDimSize(1)),
                                       b.getIndexAttr(type.getDimSize(2))};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    return memref::SubViewOp::create(b, mem, offsets, sizes, strides)
        .getResult();
  };
  kMem = rows(kMem);
  vMem = rows(vMem);
}

void TiledKernelBuilder::build(gpu::GPUFuncOp func) {
  Block &entry = func.getBody().front();
  b.setInsertionPointToStart(&entry);
  qMem = func.getArgument(0);
  kMem = func.getArgument(1);
  vMem = func.getArgument(2);
  int64_t group = cfg.numQoHeads / cfg.numKvHeads;
  qToken = idx(0);
  qStart = idx(0);
  batchIndex = idx(0);
  // The workgroup's first row: from the schedule with a batch of prefill
  // requests (the prologue sets it), else from grid.x below.
  rowBase = Value();
  if (cfg.raggedQueries) {
    buildBatchPrefillPrologue(func);
  } else if (cfg.paged) {
    // Work item z: (request, kv_begin, kv_end) from the schedule; request
    // -1 (padding) sees no key and writes an empty partial.
    Value indptr = func.getArgument(3), lastPageLen = func.getArgument(5),
          schedule = func.getArgument(6);
    kvIndices = func.getArgument(4);
    oMem = func.getArgument(7);
    lseMem = func.getArgument(8);
    split = gpu::BlockIdOp::create(b, gpu::Dimension::z);
    Value request = loadIndex(schedule, {split, idx(0)});
    chunkBegin = loadIndex(schedule, {split, idx(1)});
    chunkEnd = loadIndex(schedule, {split, idx(2)});
    Value padding =
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, request, idx(0));
    // Clamped into the batch (launched only when it is not empty), so that
    // no schedule row makes the kernel read outside q and the page table.
    Value lastRequest = sub(memref::DimOp::create(b, qMem, 0), idx(1));
    qToken = minIdx(maxIdx(request, idx(0)), lastRequest);
    batchIndex = qToken;
    readPageTable(indptr, lastPageLen, qToken, padding);
    if (cfg.customMask)
      maskBase = maskBitsBefore(qToken, Value(), indptr, lastPageLen);
    qoLen = idx(1);
  } else {
    oMem = func.getArgument(3);
    lseMem = cfg.withLse || cfg.splitKV ? func.getArgument(4) : Value();
    qoLen = memref::DimOp::create(b, qMem, 0);
    kvLen = memref::DimOp::create(b, kMem, 0);
  }
  if (cfg.packHeads) {
    kvHead = gpu::BlockIdOp::create(b, gpu::Dimension::y);
    headBase = mul(kvHead, idx(group));
    numRowsTotal = idx(group);
  } else {
    qHead = gpu::BlockIdOp::create(b, gpu::Dimension::y);
    kvHead = arith::DivUIOp::create(b, qHead, idx(group));
    numRowsTotal = qoLen;
  }
  if (cfg.splitKV && !cfg.paged) {
    split = gpu::BlockIdOp::create(b, gpu::Dimension::z);
    chunk = split;
    kvChunk =
        arith::IndexCastOp::create(b, b.getIndexType(), func.getArgument(5));
  }
  // The variant arguments, the kernel's last ones.
  SmallVector<FlashAttentionConfig::VariantArg> variants = cfg.variantArgs();
  unsigned nextArg = func.getNumArguments() - variants.size();
  Value smScaleArg, softCapArg, window;
  for (FlashAttentionConfig::VariantArg arg : variants) {
    using Arg = FlashAttentionConfig::VariantArg;
    Value v = func.getArgument(nextArg++);
    switch (arg) {
    case Arg::CustomMask:
      maskMem = v;
      break;
    case Arg::AlibiSlopes:
      alibiMem = v;
      break;
    case Arg::Sinks:
      sinksMem = v;
      break;
    case Arg::SmScale:
      smScaleArg = v;
      break;
    case Arg::LogitsSoftCap:
      softCapArg = v;
      break;
    case Arg::WindowLeft:
      window = arith::IndexCastOp::create(b, b.getIndexType(), v);
      break;
    case Arg::RopeTheta:
      ropeTheta = v;
      break;
    case Arg::RopeScale:
      ropeScale = v;
      break;
    }
  }
  // A launch-time window below 0 shows every key.
  Value noWindow = window ? arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                                                  window, idx(0))
                          : Value();
  int64_t blockM = cfg.blockM(), blockN = cfg.blockN;
  if (!rowBase)
    rowBase = mul(gpu::BlockIdOp::create(b, gpu::Dimension::x), idx(blockM));
  posOffset = sub(kvLen, qoLen);
  auto positionOf = [&](Value row) {
    return cfg.packHeads ? posOffset : add(row, posOffset);
  };

  // The keys this workgroup may see: causal and sliding-window masks skip
  // whole tiles outside them; split-KV takes one chunk of whole tiles.
  Value lastRowPos =
      positionOf(sub(minIdx(add(rowBase, idx(blockM)), numRowsTotal), idx(1)));
  Value kvEnd = kvLen;
  if (cfg.causal)
    kvEnd = minIdx(kvLen, maxIdx(idx(0), add(lastRowPos, idx(1))));
  Value kvBegin = idx(0);
  if (cfg.windowLeft >= 0)
    kvBegin = roundDown(
        maxIdx(idx(0), sub(positionOf(rowBase), idx(cfg.windowLeft))), blockN);
  if (window)
    kvBegin = arith::SelectOp::create(
        b, noWindow, idx(0),
        roundDown(maxIdx(idx(0), sub(positionOf(rowBase), window)), blockN));
  if (cfg.batchDecode()) {
    kvBegin = maxIdx(kvBegin, chunkBegin);
    kvEnd = minIdx(kvEnd, chunkEnd);
  } else if (cfg.splitKV) {
    Value chunkBegin = mul(chunk, kvChunk);
    kvBegin = maxIdx(kvBegin, chunkBegin);
    kvEnd = minIdx(kvEnd, add(chunkBegin, kvChunk));
  }
  // Tiles wholly inside the keys every row may see need no mask test: all
  // but the tail past kv_len, the causal diagonal and a window's edges.
  // With a launch-time window: the unwindowed bound when it is off, else
  // every tile masked.
  Value unmaskedEnd = kvBegin;
  if (cfg.windowLeft < 0) {
    unmaskedEnd = roundDown(kvLen, blockN);
    if (cfg.causal)
      unmaskedEnd = minIdx(
          unmaskedEnd,
          roundDown(maxIdx(idx(0), add(positionOf(rowBase), idx(1))), blockN));
    unmaskedEnd = maxIdx(kvBegin, minIdx(unmaskedEnd, kvEnd));
    if (window)
      unmaskedEnd = arith::SelectOp::create(b, noWindow, unmaskedEnd, kvBegin);
  }
  // A mask function or a custom mask may hide any key: every tile is tested.
  if (cfg.maskMod || cfg.customMask)
    unmaskedEnd = kvBegin;
  // A schedule's ranges need not be tile aligned: whole tiles from kvBegin
  // up to kvEnd (all rows share one position, so kvEnd already holds the
  // causal bound), and the steps mask at kvEnd, so that a range never sees
  // its neighbour's keys.
  Value stepKvLen = kvLen;
  if (cfg.batchDecode()) {
    stepKvLen = kvEnd;
    if (cfg.windowLeft < 0) {
      unmaskedEnd =
          add(kvBegin, roundDown(maxIdx(idx(0), sub(kvEnd, kvBegin)), blockN));
      if (window)
        unmaskedEnd =
            arith::SelectOp::create(b, noWindow, unmaskedEnd, kvBegin);
    }
    if (cfg.maskMod || cfg.customMask)
      unmaskedEnd = kvBegin;
  }

  // Q stays in registers for the whole kernel when it fits, else it is
  // re-read (from L1) for each key tile.
  Value qTile = cfg.qInRegisters ? readQueryTile() : Value();
  Value positions = queryPositions();
  if (qTile && cfg.rotary)
    qTile = rotateQueryTile(qTile, positions);
  auto queryTile = [&]() {
    Value q = readQueryTile();
    return cfg.rotary ? rotateQueryTile(q, positions) : q;
  };
  // What the score and mask functions read: the rows' heads, and ALiBi's
  // slopes as a row value.
  bool withRegions = cfg.alibi != FlashAttentionConfig::Alibi::none ||
                     cfg.scoreMod || cfg.maskMod;
  Value heads = withRegions ? queryHeads() : Value();
  SmallVector<Value> rowValues;
  if (alibiMem)
    rowValues.push_back(perRowEntries(alibiMem));
  else if (cfg.alibi == FlashAttentionConfig::Alibi::defaultSlopes)
    rowValues.push_back(defaultAlibiSlopes(heads));
  // The mask row of position p starts at bit (p - posOffset) * kv_len.
  Value maskFirstBit, maskRowBits;
  if (maskMem) {
    maskRowBits = kvLen;
    maskFirstBit = sub(maskBase ? maskBase : idx(0), mul(posOffset, kvLen));
  }
  Type f32 = b.getF32Type();
  auto rowType = VectorType::get({blockM}, f32);
  auto accType = VectorType::get({blockM, cfg.headDimV}, f32);
  SmallVector<Value> init = {
      splat(accType, b.getF32FloatAttr(0.0f)),
      splat(rowType,
            b.getF32FloatAttr(-std::numeric_limits<float>::infinity())),
      splat(rowType, b.getF32FloatAttr(0.0f))};
  float scaleLog2 = cfg.smScale * static_cast<float>(M_LOG2E);
  Value scaleLog2Value =
      smScaleArg ? arith::MulFOp::create(
                       b, smScaleArg,
                       arith::ConstantOp::create(
                           b, b.getF32FloatAttr(static_cast<float>(M_LOG2E))))
                 : Value();
  auto keyLoop = [&](Value begin, Value end, ValueRange state, bool masked) {
    auto loop = scf::ForOp::create(b, begin, end, idx(blockN), state);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value q = qTile ? qTile : queryTile();
    ValueRange it = loop.getRegionIterArgs();
    auto step = OnlineAttentionStepOp::create(
        b, accType, rowType, rowType, q, kMem, kvHead, loop.getInductionVar(),
        vMem, stepKvLen, kvIndices, pageBegin, positions, it[0], it[1], it[2],
        scaleLog2Value, softCapArg, window, withRegions ? batchIndex : Value(),
        heads, maskMem, maskFirstBit, maskRowBits, rowValues, ropeTheta,
        ropeScale, b.getI64IntegerAttr(blockN),
        scaleLog2Value ? FloatAttr() : b.getF32FloatAttr(scaleLog2),
        b.getF32FloatAttr(cfg.logitsSoftCap),
        cfg.causal ? b.getUnitAttr() : UnitAttr(),
        b.getI64IntegerAttr(cfg.windowLeft),
        masked ? b.getUnitAttr() : UnitAttr(),
        KVLayoutAttr::get(b.getContext(), cfg.kvLayout), cfg.rotary);
    if (withRegions)
      buildStepRegions(step);
    scf::YieldOp::create(b, step->getResults());
    return SmallVector<Value>(loop.getResults());
  };
  // (A mask function leaves no tile unmasked.)
  SmallVector<Value> interior =
      cfg.maskMod || cfg.customMask
          ? init
          : keyLoop(kvBegin, unmaskedEnd, init, false);
  SmallVector<Value> state = keyLoop(unmaskedEnd, kvEnd, interior, true);
  writeOutputs(state[0], state[1], state[2]);
  gpu::ReturnOp::create(b);
}

} // namespace

MemRefType mlir::attn::getUserViewType(ArrayRef<int64_t> shape, Type elem) {
  SmallVector<int64_t> strides(shape.size(), ShapedType::kDynamic);
  strides.back() = 1;
  return MemRefType::get(shape, elem,
                         StridedLayoutAttr::get(elem.getContext(), 0, strides));
}

gpu::GPUFuncOp mlir::attn::createKernel(OpBuilder &builder, Location loc,
                                        gpu::GPUModuleOp module, StringRef name,
                                        TypeRange args, int64_t threads) {
  builder.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(builder, loc, name,
                                     builder.getFunctionType(args, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  func.setKnownBlockSizeAttr(
      builder.getDenseI32ArrayAttr({static_cast<int32_t>(threads), 1, 1}));
  return func;
}

FailureOr<gpu::GPUFuncOp>
mlir::attn::buildFlashAttentionKernel(OpBuilder &builder, Location loc,
                                      gpu::GPUModuleOp module, StringRef name,
                                      const FlashAttentionConfig &cfg) {
  if (!getAttentionLayout(cfg.instr))
    return failure();
  MLIRContext *ctx = builder.getContext();
  Type elem = cfg.elementType, kvElem = cfg.kvElementType;
  int64_t dyn = ShapedType::kDynamic;
  // Decode (packed heads) has exactly one query token.
  int64_t qTokens = cfg.packHeads ? 1 : dyn;
  Type f32 = Float32Type::get(ctx);
  SmallVector<Type> args;
  auto i32 = IntegerType::get(ctx, 32);
  auto list = MemRefType::get({dyn}, i32);
  if (cfg.raggedKV()) {
    // Ragged K/V, the two indptrs, the schedule of query tiles.
    args = {getUserViewType({dyn, cfg.numQoHeads, cfg.headDim}, elem),
            getUserViewType({dyn, cfg.numKvHeads, cfg.headDim}, kvElem),
            getUserViewType({dyn, cfg.numKvHeads, cfg.headDimV}, kvElem),
            list,
            list,
            MemRefType::get({dyn, 2}, i32)};
  } else if (cfg.paged) {
    // The caches, in their layout, and the page table; the schedule.
    auto cache = [&](int64_t dim) {
      SmallVector<int64_t> shape = {dyn, 0, 0, dim};
      shape[getPageSlotDim(cfg.kvLayout)] = cfg.pageSize;
      shape[getPagedKVHeadDim(cfg.kvLayout)] = cfg.numKvHeads;
      return getUserViewType(shape, kvElem);
    };
    args = {getUserViewType({dyn, cfg.numQoHeads, cfg.headDim}, elem),
            cache(cfg.headDim),
            cache(cfg.headDimV),
            list,
            list,
            list};
    // Prefill: qo_indptr and a schedule of query tiles; decode: the
    // schedule of key ranges.
    if (cfg.raggedQueries)
      args.append({list, MemRefType::get({dyn, 2}, i32)});
    else
      args.push_back(MemRefType::get({dyn, 3}, i32));
  } else {
    args = {getUserViewType({qTokens, cfg.numQoHeads, cfg.headDim}, elem),
            getUserViewType({dyn, cfg.numKvHeads, cfg.headDim}, kvElem),
            getUserViewType({dyn, cfg.numKvHeads, cfg.headDimV}, kvElem)};
  }
  if (cfg.splitKV) {
    // o_part [splits, Hq, Dv] and lse_part [splits, Hq], f32, then the split
    // size.
    args.push_back(MemRefType::get({dyn, cfg.numQoHeads, cfg.headDimV}, f32));
    args.push_back(MemRefType::get({dyn, cfg.numQoHeads}, f32));
    if (!cfg.paged)
      args.push_back(IntegerType::get(ctx, 64));
  } else {
    args.push_back(
        getUserViewType({qTokens, cfg.numQoHeads, cfg.headDimV}, elem));
    if (cfg.withLse)
      args.push_back(getUserViewType({qTokens, cfg.numQoHeads}, f32));
  }
  // The variant tensors, then the variant values known at launch, last.
  for (FlashAttentionConfig::VariantArg arg : cfg.variantArgs()) {
    using Arg = FlashAttentionConfig::VariantArg;
    switch (arg) {
    case Arg::CustomMask:
      args.push_back(MemRefType::get({dyn}, IntegerType::get(ctx, 8)));
      break;
    case Arg::AlibiSlopes:
    case Arg::Sinks:
      args.push_back(MemRefType::get({cfg.numQoHeads}, f32));
      break;
    case Arg::SmScale:
    case Arg::LogitsSoftCap:
    case Arg::RopeTheta:
    case Arg::RopeScale:
      args.push_back(f32);
      break;
    case Arg::WindowLeft:
      args.push_back(IntegerType::get(ctx, 64));
      break;
    }
  }

  OpBuilder::InsertionGuard guard(builder);
  auto func = createKernel(builder, loc, module, name, args,
                           cfg.numWaves * cfg.instr.waveSize);
  // What the distribution stage lays the tiles onto.
  ctx->getLoadedDialect<AttnDialect>()
      ->getMatrixInstructionAttrHelper()
      .setAttr(func, MatrixInstructionAttr::get(ctx, cfg.instr.name));

  ImplicitLocOpBuilder b(loc, builder);
  TiledKernelBuilder(b, cfg).build(func);
  return func;
}
