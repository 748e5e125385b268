//===- PromoteToWorkgroupMemory.cpp - stage shared tiles in LDS -----------===//
//
// Stage 3 of the GPU lowering: inside a kernel's loops, the tiles that every
// row of the workgroup reads (the right-hand side of a contraction: K and V)
// are copied once per iteration from global memory into workgroup memory by
// all threads together, with 16-byte loads, and the contraction then reads
// them from there.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Dialect/Attn/IR/AttnDialect.h"
#include "flashinfer/Dialect/Attn/Transforms/Passes.h"
#include "flashinfer/Dialect/Attn/Transforms/Staging.h"
#include "flashinfer/Target/MatrixInstructions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNPROMOTETOWORKGROUPMEMORY
#include "flashinfer/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// A read to stage and how: the buffer holds the tile with the
/// contraction's reduction dim innermost, so matrix-instruction operands
/// read runs of consecutive k; `transposed` when that is the tile's dim 0.
struct Candidate {
  vector::TransferReadOp read;
  bool transposed;
};

/// The read feeds only a contraction, as its right-hand side, and reads a
/// kernel argument in global memory along the memref's innermost dim.
std::optional<Candidate> asCandidate(vector::TransferReadOp read,
                                     gpu::GPUFuncOp func) {
  // (`transposed` is what a synchronous copy does; asynchronous copies keep
  // the memory layout, see Promoter::promoteLoopAsync.)
  auto arg = dyn_cast<BlockArgument>(read.getBase());
  auto memType = dyn_cast<MemRefType>(read.getBase().getType());
  VectorType type = read.getVectorType();
  if (!arg || arg.getOwner() != &func.getBody().front() || !memType ||
      memType.getMemorySpace() || type.getRank() != 2 || read.getMask() ||
      !read->hasOneUse())
    return std::nullopt;
  auto contract = dyn_cast<vector::ContractionOp>(*read->user_begin());
  if (!contract || contract.getRhs() != read.getResult())
    return std::nullopt;
  AffineMap map = read.getPermutationMap();
  if (!map.isProjectedPermutation() || map.getNumResults() != 2 ||
      map.getDimPosition(1) != memType.getRank() - 1 || !read.isDimInBounds(1))
    return std::nullopt;
  int64_t elemBytes = type.getElementTypeBitWidth() / 8;
  int64_t perCopy = kStagingCopyBytes / std::max<int64_t>(elemBytes, 1);
  if (type.getDimSize(1) % perCopy != 0)
    return std::nullopt;
  // Which tile dim the contraction reduces over.
  AffineMap rhsMap = contract.getIndexingMapsArray()[1];
  auto iterators = contract.getIteratorTypesArray();
  unsigned reducedDim = 0;
  for (unsigned d = 0; d < 2; ++d)
    if (iterators[rhsMap.getDimPosition(d)] == vector::IteratorType::reduction)
      reducedDim = d;
  return Candidate{read, reducedDim == 0};
}

class Promoter {
public:
  Promoter(gpu::GPUFuncOp func, int64_t threads, bool asyncCopies)
      : func(func), threads(threads), asyncCopies(asyncCopies),
        dominance(func) {}

  LogicalResult promoteLoop(scf::ForOp loop);

private:
  Value bufferFor(Candidate c);
  void
  forEachChunk(ImplicitLocOpBuilder &b, Candidate c, ValueRange indices,
               bool rowsFastest,
               function_ref<void(Value, Value, ArrayRef<Value>, Value)> emit);
  void copy(ImplicitLocOpBuilder &b, Candidate c, Value buffer);
  /// Issues asynchronous copies of `c`'s tile into `buffer`, reading at
  /// `indices` instead of the read's own.
  void copyAsync(ImplicitLocOpBuilder &b, Candidate c, Value buffer,
                 ValueRange indices);
  bool promoteLoopAsync(scf::ForOp loop, MutableArrayRef<Candidate> cands);
  /// The read's indices with the loop's induction variable replaced by
  /// `iv`, or failure if they depend on other values of the loop body.
  FailureOr<SmallVector<Value>> indicesAt(ImplicitLocOpBuilder &b,
                                          vector::TransferReadOp read,
                                          scf::ForOp loop, Value iv);

  gpu::GPUFuncOp func;
  int64_t threads;
  bool asyncCopies;
  DominanceInfo dominance;
  /// Buffers by (source, type): the loops of one kernel run one after the
  /// other and share them.
  DenseMap<std::pair<Value, Type>, Value> buffers;
};

Value Promoter::bufferFor(Candidate c) {
  VectorType type = c.read.getVectorType();
  auto shape =
      stagedBufferShape(type.getDimSize(0), type.getDimSize(1), c.transposed,
                        type.getElementTypeBitWidth() / 8);
  auto space = gpu::AddressSpaceAttr::get(func.getContext(),
                                          gpu::AddressSpace::Workgroup);
  auto bufferType = MemRefType::get(shape, type.getElementType(),
                                    MemRefLayoutAttrInterface(), space);
  auto key = std::make_pair(c.read.getBase(), Type(bufferType));
  auto it = buffers.find(key);
  if (it != buffers.end())
    return it->second;
  Value buffer = func.addWorkgroupAttribution(bufferType, c.read.getLoc());
  buffers[key] = buffer;
  return buffer;
}

/// All threads copy the tile, 16 bytes each per round: calls `emit` with
/// the chunk's place in the tile (row, col), its memref indices (reading at
/// `indices`; rows past the end clamped to the last row) and, for reads not
/// in bounds along their rows, whether the row exists. The global reads run
/// along the memref's innermost dim (coalesced); with `rowsFastest`
/// consecutive threads take consecutive tile rows instead, so that the
/// scalar stores of a transposing copy fall in different banks.
void Promoter::forEachChunk(
    ImplicitLocOpBuilder &b, Candidate c, ValueRange indices, bool rowsFastest,
    function_ref<void(Value, Value, ArrayRef<Value>, Value)> emit) {
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  VectorType type = c.read.getVectorType();
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  int64_t perCopy = kStagingCopyBytes / (type.getElementTypeBitWidth() / 8);
  AffineMap map = c.read.getPermutationMap();
  unsigned rowDim = map.getDimPosition(0), colDim = map.getDimPosition(1);
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value memRows, lastRow;
  if (!c.read.isDimInBounds(0)) {
    memRows = memref::DimOp::create(b, c.read.getBase(), rowDim);
    lastRow = arith::SubIOp::create(b, memRows, idx(1));
  }
  int64_t chunks = rows * cols / perCopy, chunksPerRow = cols / perCopy;
  for (int64_t round = 0; round * threads < chunks; ++round) {
    OpBuilder::InsertionGuard guard(b);
    Value linear = arith::AddIOp::create(b, tid, idx(round * threads));
    // A last, partial round leaves some threads idle.
    if ((round + 1) * threads > chunks) {
      Value active = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, linear,
                                           idx(chunks));
      auto ifOp = scf::IfOp::create(b, active, /*withElseRegion=*/false);
      b.setInsertionPointToStart(ifOp.thenBlock());
    }
    Value row, col;
    if (rowsFastest) {
      row = arith::RemUIOp::create(b, linear, idx(rows));
      col = arith::MulIOp::create(
          b, arith::DivUIOp::create(b, linear, idx(rows)), idx(perCopy));
    } else {
      row = arith::DivUIOp::create(b, linear, idx(chunksPerRow));
      col = arith::MulIOp::create(
          b, arith::RemUIOp::create(b, linear, idx(chunksPerRow)),
          idx(perCopy));
    }
    SmallVector<Value> at(indices);
    at[rowDim] = arith::AddIOp::create(b, at[rowDim], row);
    at[colDim] = arith::AddIOp::create(b, at[colDim], col);
    Value inRange;
    if (memRows) {
      inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, at[rowDim],
                                      memRows);
      at[rowDim] = arith::MinSIOp::create(b, at[rowDim], lastRow);
    }
    emit(row, col, at, inRange);
  }
}

void Promoter::copy(ImplicitLocOpBuilder &b, Candidate c, Value buffer) {
  VectorType type = c.read.getVectorType();
  int64_t perCopy = kStagingCopyBytes / (type.getElementTypeBitWidth() / 8);
  auto copyType = VectorType::get({perCopy}, type.getElementType());
  Value padding = vector::BroadcastOp::create(b, copyType, c.read.getPadding());
  forEachChunk(b, c, c.read.getIndices(), /*rowsFastest=*/c.transposed,
               [&](Value row, Value col, ArrayRef<Value> at, Value inRange) {
                 auto load =
                     vector::LoadOp::create(b, copyType, c.read.getBase(), at);
                 load.setAlignment(kStagingCopyBytes);
                 // Rows past the end keep the padding.
                 Value chunk = load;
                 if (inRange)
                   chunk = arith::SelectOp::create(b, inRange, chunk, padding);
                 if (!c.transposed) {
                   auto store = vector::StoreOp::create(b, chunk, buffer,
                                                        ValueRange{row, col});
                   store.setAlignment(kStagingCopyBytes);
                   return;
                 }
                 for (int64_t j = 0; j < perCopy; ++j) {
                   Value x = vector::ExtractOp::create(b, chunk, j);
                   Value at = arith::AddIOp::create(
                       b, col, arith::ConstantIndexOp::create(b, j));
                   memref::StoreOp::create(b, x, buffer, ValueRange{at, row});
                 }
               });
}

void Promoter::copyAsync(ImplicitLocOpBuilder &b, Candidate c, Value buffer,
                         ValueRange indices) {
  int64_t perCopy =
      kStagingCopyBytes / (c.read.getVectorType().getElementTypeBitWidth() / 8);
  forEachChunk(b, c, indices, /*rowsFastest=*/false,
               [&](Value row, Value col, ArrayRef<Value> at, Value inRange) {
                 // Rows past the end copy nothing and zero-fill (the padding,
                 // zero).
                 Value srcElements;
                 if (inRange)
                   srcElements = arith::SelectOp::create(
                       b, inRange, arith::ConstantIndexOp::create(b, perCopy),
                       arith::ConstantIndexOp::create(b, 0));
                 nvgpu::DeviceAsyncCopyOp::create(
                     b, nvgpu::DeviceAsyncTokenType::get(b.getContext()),
                     buffer, ValueRange{row, col}, c.read.getBase(), at,
                     b.getIndexAttr(perCopy), srcElements, b.getUnitAttr());
               });
}

FailureOr<SmallVector<Value>> Promoter::indicesAt(ImplicitLocOpBuilder &b,
                                                  vector::TransferReadOp read,
                                                  scf::ForOp loop, Value iv) {
  SmallVector<Value> out;
  for (Value v : read.getIndices()) {
    if (v == loop.getInductionVar()) {
      out.push_back(iv);
    } else if (std::optional<int64_t> cst = getConstantIntValue(v)) {
      out.push_back(arith::ConstantIndexOp::create(b, *cst));
    } else if (dominance.properlyDominates(v, loop)) {
      out.push_back(v);
    } else {
      return failure();
    }
  }
  return out;
}

/// Asynchronous staging (targets with 16-byte async copies and a
/// transposing tile load): the tiles keep their memory layout, and each
/// tile's copy is issued as early as its buffer is free, so that it runs
/// behind the products of the previous tile:
///
///   before the loop:  copy tile 1 of the first iteration
///   before the use of tile j:  wait for the copies, barrier, then copy
///     tile j + 1 (or tile 1 of the next iteration after the last one)
///
/// The barrier before a use also orders every earlier use of the buffer
/// the copy after it overwrites. Needs at least two staged tiles (with one
/// there is nothing to overlap); returns false to fall back.
bool Promoter::promoteLoopAsync(scf::ForOp loop,
                                MutableArrayRef<Candidate> cands) {
  if (cands.size() < 2)
    return false;
  // Each tile's only use, in program order, and zero padding (the fill).
  SmallVector<Operation *> uses;
  for (Candidate &c : cands) {
    std::optional<APFloat> pad;
    if (auto cst = c.read.getPadding().getDefiningOp<arith::ConstantOp>())
      if (auto f = dyn_cast<FloatAttr>(cst.getValue()))
        pad = f.getValue();
    if (!pad || !pad->isZero())
      return false;
    Operation *use = *c.read->user_begin();
    if (use->getBlock() != loop.getBody() ||
        (!uses.empty() && !uses.back()->isBeforeInBlock(use)))
      return false;
    uses.push_back(use);
    c.transposed = false;
  }
  ImplicitLocOpBuilder b(loop.getLoc(), loop);
  // The next iteration's first tile is read at iv + step.
  SmallVector<SmallVector<Value>> firstIndices(1);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop);
    FailureOr<SmallVector<Value>> at =
        indicesAt(b, cands.front().read, loop, loop.getLowerBound());
    if (failed(at))
      return false;
    firstIndices[0] = *at;
    for (Candidate &c : cands)
      for (Value v : c.read.getIndices())
        if (v != loop.getInductionVar() && !getConstantIntValue(v) &&
            !dominance.properlyDominates(v, loop))
          return false;
    Value any =
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                              loop.getLowerBound(), loop.getUpperBound());
    auto ifOp = scf::IfOp::create(b, any, /*withElseRegion=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
    copyAsync(b, cands.front(), bufferFor(cands.front()), firstIndices[0]);
    nvgpu::DeviceAsyncCreateGroupOp::create(
        b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), ValueRange{});
  }
  MLIRContext *ctx = func.getContext();
  for (auto [j, c] : llvm::enumerate(cands)) {
    Value buffer = bufferFor(c);
    b.setInsertionPoint(uses[j]);
    b.setLoc(uses[j]->getLoc());
    Value group = nvgpu::DeviceAsyncCreateGroupOp::create(
        b, nvgpu::DeviceAsyncTokenType::get(ctx), ValueRange{});
    nvgpu::DeviceAsyncWaitOp::create(b, group, b.getI32IntegerAttr(0));
    gpu::BarrierOp::create(b);
    if (j + 1 < cands.size()) {
      copyAsync(b, cands[j + 1], bufferFor(cands[j + 1]),
                cands[j + 1].read.getIndices());
    } else {
      Value next =
          arith::AddIOp::create(b, loop.getInductionVar(), loop.getStep());
      Value more = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, next,
                                         loop.getUpperBound());
      auto ifOp = scf::IfOp::create(b, more, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      FailureOr<SmallVector<Value>> at =
          indicesAt(b, cands.front().read, loop, next);
      copyAsync(b, cands.front(), bufferFor(cands.front()), *at);
    }
    Value zero = arith::ConstantIndexOp::create(b, 0);
    auto read = vector::TransferReadOp::create(
        b, c.read.getVectorType(), buffer, ValueRange{zero, zero},
        AffineMapAttr::get(AffineMap::getMultiDimIdentityMap(2, ctx)),
        c.read.getPadding(), /*mask=*/Value(),
        b.getBoolArrayAttr({true, true}));
    c.read.replaceAllUsesWith(read.getResult());
  }
  for (Candidate &c : cands)
    c.read.erase();
  return true;
}

LogicalResult Promoter::promoteLoop(scf::ForOp loop) {
  SmallVector<Candidate> candidates;
  for (Operation &op : *loop.getBody())
    if (auto read = dyn_cast<vector::TransferReadOp>(op))
      if (std::optional<Candidate> c = asCandidate(read, func))
        candidates.push_back(*c);
  if (candidates.empty())
    return success();
  for (Candidate &c : candidates)
    if (llvm::any_of(c.read.getVectorType().getShape(),
                     [](int64_t d) { return d > kMaxTileDim; }))
      return c.read.emitOpError() << "attn-promote-to-workgroup-memory: tile "
                                  << c.read.getVectorType() << " exceeds "
                                  << kMaxTileDim << " in a dimension";
  if (asyncCopies && promoteLoopAsync(loop, candidates))
    return success();
  // The copies go before the first staged read; constants the later reads
  // use move up with them.
  Operation *first = candidates.front().read;
  for (Candidate c : candidates) {
    for (Value v : c.read->getOperands()) {
      if (dominance.properlyDominates(v, first))
        continue;
      Operation *def = v.getDefiningOp();
      if (!def || !def->hasTrait<OpTrait::ConstantLike>())
        return c.read.emitOpError(
            "attn-promote-to-workgroup-memory: the tile's indices must be "
            "known before the first read staged in this loop");
      def->moveBefore(first);
    }
  }

  // The barrier before the copy keeps the previous iteration's readers from
  // seeing the next tile; the one after publishes the copy.
  ImplicitLocOpBuilder b(first->getLoc(), first);
  gpu::BarrierOp::create(b);
  SmallVector<Value> staged;
  for (Candidate c : candidates) {
    Value buffer = bufferFor(c);
    copy(b, c, buffer);
    staged.push_back(buffer);
  }
  gpu::BarrierOp::create(b);

  MLIRContext *ctx = func.getContext();
  for (auto [c, buffer] : llvm::zip(candidates, staged)) {
    b.setInsertionPoint(c.read);
    AffineMap map =
        c.transposed
            ? AffineMap::getPermutationMap(ArrayRef<unsigned>{1, 0}, ctx)
            : AffineMap::getMultiDimIdentityMap(2, ctx);
    Value zero = arith::ConstantIndexOp::create(b, 0);
    auto read = vector::TransferReadOp::create(
        b, c.read.getVectorType(), buffer, ValueRange{zero, zero},
        AffineMapAttr::get(map), c.read.getPadding(), /*mask=*/Value(),
        b.getBoolArrayAttr({true, true}));
    c.read.replaceAllUsesWith(read.getResult());
    c.read.erase();
  }
  return success();
}

struct AttnPromoteToWorkgroupMemoryPass
    : public attn::impl::AttnPromoteToWorkgroupMemoryBase<
          AttnPromoteToWorkgroupMemoryPass> {
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([&](gpu::GPUFuncOp func) {
      if (!func.isKernel())
        return WalkResult::advance();
      std::optional<ArrayRef<int32_t>> block = func.getKnownBlockSize();
      if (!block || (*block)[1] != 1 || (*block)[2] != 1) {
        func.emitOpError("attn-promote-to-workgroup-memory: the kernel needs "
                         "a one-dimensional known_block_size to share the "
                         "copies among its threads");
        return WalkResult::interrupt();
      }
      // The copy rounds divide the tile among the threads.
      if ((*block)[0] < 1 || (*block)[0] > kMaxWorkgroupThreads) {
        func.emitOpError() << "attn-promote-to-workgroup-memory: "
                              "known_block_size must have 1 to "
                           << kMaxWorkgroupThreads << " threads, got "
                           << (*block)[0];
        return WalkResult::interrupt();
      }
      // Asynchronous copies where the kernel's target has them and can read
      // the tiles in their memory layout (a transposing tile load).
      bool asyncCopies = false;
      if (auto *dialect = getContext().getLoadedDialect<AttnDialect>())
        if (MatrixInstructionAttr instr =
                dialect->getMatrixInstructionAttrHelper().getAttr(func))
          asyncCopies = stagesWithAsyncCopies(instr.getInstr());
      Promoter promoter(func, (*block)[0], asyncCopies);
      SmallVector<scf::ForOp> loops;
      func.walk([&](scf::ForOp loop) { loops.push_back(loop); });
      for (scf::ForOp loop : loops)
        if (failed(promoter.promoteLoop(loop)))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
