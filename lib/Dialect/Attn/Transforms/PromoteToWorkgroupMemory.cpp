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
#include "flashinfer/Dialect/Attn/IR/AttnOps.h"
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

#include <numeric>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNPROMOTETOWORKGROUPMEMORY
#include "flashinfer/Dialect/Attn/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

/// A tile to stage and how: the buffer holds the tile with the
/// contraction's reduction dim innermost, so matrix-instruction operands
/// read runs of consecutive k; `transposed` when that is the tile's dim 0.
struct Candidate {
  LoadKVTileOp load;
  bool transposed;
};

/// Bytes of an element of `load`'s source (1 for an fp8 cache).
int64_t sourceElemBytes(LoadKVTileOp load) {
  return std::max<int64_t>(
      load.getSource().getType().getElementTypeBitWidth() / 8, 1);
}

/// Whether `load` widens its source's elements (an fp8 cache) to the tile's.
bool widens(LoadKVTileOp load) {
  return load.getSource().getType().getElementType() !=
         load.getTile().getType().getElementType();
}

/// The tile feeds only a contraction, as its right-hand side, and is read
/// from global memory in whole 16-byte chunks along its rows.
std::optional<Candidate> asCandidate(LoadKVTileOp load) {
  // (`transposed` is what a synchronous copy does; asynchronous copies keep
  // the memory layout, see Promoter::promoteLoopAsync.)
  VectorType type = load.getTile().getType();
  if (load.getSource().getType().getMemorySpace() || !load->hasOneUse())
    return std::nullopt;
  auto contract = dyn_cast<vector::ContractionOp>(*load->user_begin());
  if (!contract || contract.getRhs() != load.getResult())
    return std::nullopt;
  // Chunks are 16 bytes of the source (16 fp8 elements of a widened tile).
  int64_t perCopy = kStagingCopyBytes / sourceElemBytes(load);
  if (type.getDimSize(1) % perCopy != 0)
    return std::nullopt;
  // Which tile dim the contraction reduces over.
  AffineMap rhsMap = contract.getIndexingMapsArray()[1];
  auto iterators = contract.getIteratorTypesArray();
  unsigned reducedDim = 0;
  for (unsigned d = 0; d < 2; ++d)
    if (iterators[rhsMap.getDimPosition(d)] == vector::IteratorType::reduction)
      reducedDim = d;
  return Candidate{load, reducedDim == 0};
}

/// The source indices of element `col` of token `token` of `load`'s KV
/// head: [token, head, col] when contiguous; for a paged cache the page
/// comes from the page list, clamped to the cache (a bad page id reads a
/// wrong page, never out of bounds; run()'s validating mode reports it).
/// `token`'s page of a paged `load` and its slot in it. The page comes from
/// the page list, clamped to the cache (a bad page id reads a wrong page,
/// never out of bounds; run()'s validating mode reports it). With
/// `knownPage` the lookup is skipped and that page used.
std::pair<Value, Value> pageAndSlot(ImplicitLocOpBuilder &b, LoadKVTileOp load,
                                    Value token, Value knownPage = Value()) {
  Value source = load.getSource();
  unsigned tokenDim = load.getTokenDim();
  Value pageSize = b.createOrFold<memref::DimOp>(source, tokenDim);
  Value pageOfToken, slot;
  if (load.getSource().getType().isDynamicDim(tokenDim)) {
    // A page size known only at run time: divide in 32 bits (tokens and
    // page sizes fit; the planner bounds kv_len below 2^31), which GPUs do
    // in a fraction of the 64-bit sequence.
    Type i32 = b.getI32Type();
    Value t = arith::IndexCastUIOp::create(b, i32, token);
    Value p = arith::IndexCastUIOp::create(b, i32, pageSize);
    pageOfToken = arith::IndexCastUIOp::create(b, b.getIndexType(),
                                               arith::DivUIOp::create(b, t, p));
    slot = arith::IndexCastUIOp::create(b, b.getIndexType(),
                                        arith::RemUIOp::create(b, t, p));
  } else {
    pageOfToken = arith::DivUIOp::create(b, token, pageSize);
    slot = arith::RemUIOp::create(b, token, pageSize);
  }
  if (knownPage)
    return {knownPage, slot};
  Value entry = arith::AddIOp::create(b, load.getPageBegin(), pageOfToken);
  Value id = memref::LoadOp::create(b, load.getKvIndices(), entry);
  Value page = arith::IndexCastOp::create(b, b.getIndexType(), id);
  Value lastPage =
      arith::SubIOp::create(b, b.createOrFold<memref::DimOp>(source, 0),
                            arith::ConstantIndexOp::create(b, 1));
  // Unsigned: a negative id becomes huge and is clamped too.
  page = arith::MinUIOp::create(b, page, lastPage);
  return {page, slot};
}

/// The source indices of element `col` of token `token` of `load`'s KV
/// head: [token, head, col] when contiguous; for a paged cache [page, slot,
/// head, col] in the cache's layout (pageAndSlot).
SmallVector<Value> rowIndices(ImplicitLocOpBuilder &b, LoadKVTileOp load,
                              Value token, Value col,
                              Value knownPage = Value()) {
  if (!load.isPaged())
    return {token, load.getKvHead(), col};
  auto [page, slot] = pageAndSlot(b, load, token, knownPage);
  SmallVector<Value> at(4);
  at[0] = page;
  at[load.getTokenDim()] = slot;
  at[load.getKVHeadDim()] = load.getKvHead();
  at[3] = col;
  return at;
}

/// Reads `load`'s tile row by row, without staging: for tiles that feed no
/// contraction inside a loop.
void readDirectly(LoadKVTileOp load) {
  ImplicitLocOpBuilder b(load.getLoc(), load);
  VectorType type = load.getTile().getType();
  Type elem = type.getElementType();
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value padding = arith::ConstantOp::create(b, b.getZeroAttr(elem));
  if (!load.isPaged()) {
    MLIRContext *ctx = b.getContext();
    auto map = AffineMap::get(
        3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(2, ctx)}, ctx);
    // Rows at or past kv_len are masked off to the padding.
    Value mask;
    if (!load.getInBounds())
      mask = vector::CreateMaskOp::create(
          b, VectorType::get(type.getShape(), b.getI1Type()),
          ValueRange{
              arith::SubIOp::create(b, load.getKvLen(), load.getKeyStart()),
              arith::ConstantIndexOp::create(b, cols)});
    Value tile = vector::TransferReadOp::create(
        b, type, load.getSource(),
        ValueRange{load.getKeyStart(), load.getKvHead(), zero},
        AffineMapAttr::get(map), padding, mask,
        b.getBoolArrayAttr({load.getInBounds(), true}));
    load.replaceAllUsesWith(tile);
    load.erase();
    return;
  }
  auto rowType = VectorType::get({cols}, elem);
  Value zeroRow = vector::BroadcastOp::create(b, rowType, padding);
  Value tile = vector::BroadcastOp::create(b, type, padding);
  Value lastToken;
  if (!load.getInBounds())
    lastToken = arith::SubIOp::create(b, load.getKvLen(),
                                      arith::ConstantIndexOp::create(b, 1));
  for (int64_t r = 0; r < rows; ++r) {
    Value token = arith::AddIOp::create(b, load.getKeyStart(),
                                        arith::ConstantIndexOp::create(b, r));
    Value inRange;
    if (lastToken) {
      inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, token,
                                      load.getKvLen());
      token = arith::MaxSIOp::create(
          b, zero, arith::MinSIOp::create(b, token, lastToken));
    }
    Value row = vector::LoadOp::create(b, rowType, load.getSource(),
                                       rowIndices(b, load, token, zero));
    if (inRange)
      row = arith::SelectOp::create(b, inRange, row, zeroRow);
    tile = vector::InsertOp::create(b, row, tile, r);
  }
  load.replaceAllUsesWith(tile);
  load.erase();
}

class Promoter {
public:
  /// `instr`: the kernel's matrix instruction, when it names one (its
  /// target's staging rules, Staging.h).
  Promoter(gpu::GPUFuncOp func, int64_t threads,
           std::optional<MatrixInstr> instr)
      : func(func), threads(threads), instr(instr), dominance(func) {}

  LogicalResult promoteLoop(scf::ForOp loop);

private:
  Value bufferFor(Candidate c);
  void
  forEachChunk(ImplicitLocOpBuilder &b, Candidate c, Value keyStart,
               bool rowsFastest,
               function_ref<void(Value, Value, ArrayRef<Value>, Value)> emit,
               ArrayRef<Value> pages = {});
  /// How a tile splits into 16-byte copy chunks.
  struct ChunkGeometry {
    int64_t rows, perCopy, chunksPerRow, chunks;
  };
  ChunkGeometry geometry(Candidate c) const;
  /// Chunk `linear` of a tile at `keyStart`: its tile row and column, its
  /// token (clamped to `lastToken` when given) and whether that token
  /// exists. With `rowsFastest` consecutive chunks go down the
  /// rows.
  struct Chunk {
    Value row, col, token, inRange;
  };
  Chunk chunkAt(ImplicitLocOpBuilder &b, Candidate c, Value keyStart,
                Value linear, bool rowsFastest, Value lastToken);
  /// kv_len - 1, the token rows past the end are clamped to, or null when
  /// the load is in bounds.
  Value lastTokenOf(ImplicitLocOpBuilder &b, Candidate c);
  /// The token this thread copies in each round of forEachChunk (rows along
  /// the copy, not rowsFastest), clamped as the copy clamps it.
  Value tokenOfRound(ImplicitLocOpBuilder &b, Candidate c, Value keyStart,
                     int64_t round);
  /// The pages of this thread's tokens of every copy round of the paged
  /// `c`'s tile at `keyStart`, looked up once for the copies that share
  /// them (K and V of one tile).
  SmallVector<Value> pagesFor(ImplicitLocOpBuilder &b, Candidate c,
                              Value keyStart);
  int64_t copyRounds(Candidate c);
  /// Whether K and V (`cands`) read the same tokens through the same page
  /// list, so that one lookup serves both copies.
  bool sharePages(ArrayRef<Candidate> cands);
  void copy(ImplicitLocOpBuilder &b, Candidate c, Value buffer);
  /// Calls `emit` with each index in [0, count) this thread takes, the
  /// workgroup's threads taking consecutive ones round by round (a last,
  /// partial round guarded), and the round.
  void forEachThreadRound(ImplicitLocOpBuilder &b, int64_t count,
                          function_ref<void(Value, int64_t)> emit);
  /// Fused RoPE: rotates the rows of `c`'s tile staged in `buffer` in place,
  /// row r at position key_start + r (the load's `rotary`). Each thread
  /// turns runs of up to 16 bytes of pairs (d, d + D/2) of one row. The
  /// caller orders it after the copy's barrier and before the readers'.
  void rotateStaged(ImplicitLocOpBuilder &b, Candidate c, Value buffer);
  /// Issues asynchronous copies of `c`'s tile into `buffer`, reading the
  /// tile that starts at `keyStart` instead of the load's own.
  void copyAsync(ImplicitLocOpBuilder &b, Candidate c, Value buffer,
                 Value keyStart, ArrayRef<Value> pages = {});
  bool promoteLoopAsync(scf::ForOp loop, MutableArrayRef<Candidate> cands);
  /// The load's key start with the loop's induction variable replaced by
  /// `iv`, or failure if it depends on other values of the loop body.
  FailureOr<Value> keyStartAt(ImplicitLocOpBuilder &b, LoadKVTileOp load,
                              scf::ForOp loop, Value iv);

  gpu::GPUFuncOp func;
  int64_t threads;
  std::optional<MatrixInstr> instr;
  DominanceInfo dominance;
  /// Buffers by (source, type): the loops of one kernel run one after the
  /// other and share them.
  DenseMap<std::pair<Value, Type>, Value> buffers;
};

Value Promoter::bufferFor(Candidate c) {
  VectorType type = c.load.getTile().getType();
  auto shape =
      stagedBufferShape(type.getDimSize(0), type.getDimSize(1), c.transposed,
                        type.getElementTypeBitWidth() / 8);
  auto space = gpu::AddressSpaceAttr::get(func.getContext(),
                                          gpu::AddressSpace::Workgroup);
  auto bufferType = MemRefType::get(shape, type.getElementType(),
                                    MemRefLayoutAttrInterface(), space);
  auto key = std::make_pair(c.load.getSource(), Type(bufferType));
  auto it = buffers.find(key);
  if (it != buffers.end())
    return it->second;
  Value buffer = func.addWorkgroupAttribution(bufferType, c.load.getLoc());
  buffers[key] = buffer;
  return buffer;
}

/// All threads copy the tile, 16 bytes each per round: calls `emit` with
/// the chunk's place in the tile (row, col), its source indices (the tile
/// starting at token `keyStart`; rows at or past kv_len clamped to the last
/// token) and, unless the load is in bounds, whether the row exists. The
/// global reads run along the rows (coalesced); with `rowsFastest`
/// consecutive threads take consecutive tile rows instead, so that the
/// scalar stores of a transposing copy fall in different banks.
Promoter::ChunkGeometry Promoter::geometry(Candidate c) const {
  VectorType type = c.load.getTile().getType();
  ChunkGeometry g;
  g.rows = type.getDimSize(0);
  g.perCopy = kStagingCopyBytes / sourceElemBytes(c.load);
  g.chunksPerRow = type.getDimSize(1) / g.perCopy;
  g.chunks = g.rows * g.chunksPerRow;
  return g;
}

int64_t Promoter::copyRounds(Candidate c) {
  return (geometry(c).chunks + threads - 1) / threads;
}

Promoter::Chunk Promoter::chunkAt(ImplicitLocOpBuilder &b, Candidate c,
                                  Value keyStart, Value linear,
                                  bool rowsFastest, Value lastToken) {
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  ChunkGeometry g = geometry(c);
  Chunk chunk;
  // One builder call per statement: the IR must not depend on the host
  // compiler's argument evaluation order.
  if (rowsFastest) {
    chunk.row = arith::RemUIOp::create(b, linear, idx(g.rows));
    Value perCopy = idx(g.perCopy);
    Value chunkOfRow = arith::DivUIOp::create(b, linear, idx(g.rows));
    chunk.col = arith::MulIOp::create(b, chunkOfRow, perCopy);
  } else {
    chunk.row = arith::DivUIOp::create(b, linear, idx(g.chunksPerRow));
    Value perCopy = idx(g.perCopy);
    Value chunkOfRow = arith::RemUIOp::create(b, linear, idx(g.chunksPerRow));
    chunk.col = arith::MulIOp::create(b, chunkOfRow, perCopy);
  }
  chunk.token = arith::AddIOp::create(b, keyStart, chunk.row);
  if (lastToken) {
    chunk.inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                                          chunk.token, c.load.getKvLen());
    chunk.token = arith::MinSIOp::create(b, chunk.token, lastToken);
  }
  return chunk;
}

Value Promoter::tokenOfRound(ImplicitLocOpBuilder &b, Candidate c,
                             Value keyStart, int64_t round) {
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  int64_t chunks = geometry(c).chunks;
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value linear = arith::AddIOp::create(b, tid, idx(round * threads));
  // Idle threads of a partial round take the last chunk's row.
  if ((round + 1) * threads > chunks)
    linear = arith::MinUIOp::create(b, linear, idx(chunks - 1));
  return chunkAt(b, c, keyStart, linear, /*rowsFastest=*/false,
                 lastTokenOf(b, c))
      .token;
}

Value Promoter::lastTokenOf(ImplicitLocOpBuilder &b, Candidate c) {
  if (c.load.getInBounds())
    return Value();
  return arith::SubIOp::create(b, c.load.getKvLen(),
                               arith::ConstantIndexOp::create(b, 1));
}

SmallVector<Value> Promoter::pagesFor(ImplicitLocOpBuilder &b, Candidate c,
                                      Value keyStart) {
  // As i32, half the registers of index values across the loop.
  SmallVector<Value> pages;
  for (int64_t round = 0; round < copyRounds(c); ++round)
    pages.push_back(arith::IndexCastUIOp::create(
        b, b.getI32Type(),
        pageAndSlot(b, c.load, tokenOfRound(b, c, keyStart, round)).first));
  return pages;
}

bool Promoter::sharePages(ArrayRef<Candidate> cands) {
  if (cands.size() != 2)
    return false;
  LoadKVTileOp k = cands[0].load, v = cands[1].load;
  if (!k.isPaged() || !v.isPaged() || k.getKvIndices() != v.getKvIndices() ||
      k.getPageBegin() != v.getPageBegin() || k.getKvLen() != v.getKvLen() ||
      k.getKeyStart() != v.getKeyStart() ||
      k.getInBounds() != v.getInBounds() ||
      k.getTile().getType() != v.getTile().getType() ||
      k.getKvLayout() != v.getKvLayout())
    return false;
  // The same page size: equal static sizes, or both dynamic (the manifest
  // makes the runtime check that v_cache's equals k_cache's).
  unsigned dim = k.getTokenDim();
  return k.getSource().getType().getDimSize(dim) ==
         v.getSource().getType().getDimSize(dim);
}

void Promoter::forEachChunk(
    ImplicitLocOpBuilder &b, Candidate c, Value keyStart, bool rowsFastest,
    function_ref<void(Value, Value, ArrayRef<Value>, Value)> emit,
    ArrayRef<Value> pages) {
  Value lastToken = lastTokenOf(b, c);
  forEachThreadRound(b, geometry(c).chunks, [&](Value linear, int64_t round) {
    Chunk chunk = chunkAt(b, c, keyStart, linear, rowsFastest, lastToken);
    Value page;
    if (!pages.empty())
      page = arith::IndexCastUIOp::create(b, b.getIndexType(), pages[round]);
    emit(chunk.row, chunk.col,
         rowIndices(b, c.load, chunk.token, chunk.col, page), chunk.inRange);
  });
}

void Promoter::forEachThreadRound(ImplicitLocOpBuilder &b, int64_t count,
                                  function_ref<void(Value, int64_t)> emit) {
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  for (int64_t round = 0; round * threads < count; ++round) {
    OpBuilder::InsertionGuard guard(b);
    Value linear = arith::AddIOp::create(b, tid, idx(round * threads));
    // A last, partial round leaves some threads idle.
    if ((round + 1) * threads > count) {
      Value active = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, linear,
                                           idx(count));
      auto ifOp = scf::IfOp::create(b, active, /*withElseRegion=*/false);
      b.setInsertionPointToStart(ifOp.thenBlock());
    }
    emit(linear, round);
  }
}

void Promoter::copy(ImplicitLocOpBuilder &b, Candidate c, Value buffer) {
  VectorType type = c.load.getTile().getType();
  Type sourceElem = c.load.getSource().getType().getElementType();
  int64_t perCopy = geometry(c).perCopy;
  auto copyType = VectorType::get({perCopy}, sourceElem);
  auto tileChunkType = VectorType::get({perCopy}, type.getElementType());
  Value padding = arith::ConstantOp::create(
      b, DenseElementsAttr::get(tileChunkType,
                                b.getZeroAttr(type.getElementType())));
  // The stores' alignment: what every chunk start in a padded row is a
  // multiple of.
  int64_t tileElemBytes = type.getElementTypeBitWidth() / 8;
  int64_t storeAlign = std::gcd(
      perCopy * tileElemBytes,
      cast<MemRefType>(buffer.getType()).getDimSize(1) * tileElemBytes);
  forEachChunk(
      b, c, c.load.getKeyStart(), /*rowsFastest=*/c.transposed,
      [&](Value row, Value col, ArrayRef<Value> at, Value inRange) {
        auto load = vector::LoadOp::create(b, copyType, c.load.getSource(), at);
        load.setAlignment(kStagingCopyBytes);
        // An fp8 chunk is widened in registers.
        Value chunk = load;
        if (widens(c.load))
          chunk =
              buildFloat8Extension(b, b.getLoc(), chunk, type.getElementType());
        // Rows past the end are zero.
        if (inRange)
          chunk = arith::SelectOp::create(b, inRange, chunk, padding);
        if (!c.transposed) {
          auto store =
              vector::StoreOp::create(b, chunk, buffer, ValueRange{row, col});
          store.setAlignment(storeAlign);
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

void Promoter::rotateStaged(ImplicitLocOpBuilder &b, Candidate c,
                            Value buffer) {
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  RotaryAttr rotary = *c.load.getRotary();
  VectorType type = c.load.getTile().getType();
  Type elem = type.getElementType(), f32 = b.getF32Type();
  int64_t elemBytes = type.getElementTypeBitWidth() / 8;
  int64_t rows = type.getDimSize(0), dim = type.getDimSize(1), half = dim / 2;
  int64_t vec = std::gcd(kStagingCopyBytes / elemBytes, half);
  int64_t runsPerRow = half / vec, runs = rows * runsPerRow;
  // Aligned to what every run's start is a multiple of: the run, the half
  // row and the buffer's padded row.
  int64_t pitchBytes =
      cast<MemRefType>(buffer.getType()).getDimSize(1) * elemBytes;
  int64_t align =
      std::gcd(std::gcd(vec * elemBytes, half * elemBytes), pitchBytes);
  auto vecType = VectorType::get({vec}, elem);
  auto f32Vec = VectorType::get({vec}, f32);
  SmallVector<float> offsets;
  for (int64_t j = 0; j < vec; ++j)
    offsets.push_back(static_cast<float>(j));
  Value pairOffsets = arith::ConstantOp::create(
      b, DenseElementsAttr::get(f32Vec, ArrayRef<float>(offsets)));
  auto toF32 = [&](Value index) -> Value {
    Value i32 = arith::IndexCastUIOp::create(b, b.getI32Type(), index);
    Value f = arith::UIToFPOp::create(b, f32, i32);
    return vector::BroadcastOp::create(b, f32Vec, f);
  };
  forEachThreadRound(b, runs, [&](Value linear, int64_t) {
    Value row = arith::DivUIOp::create(b, linear, idx(runsPerRow));
    Value vecConst = idx(vec);
    Value runOfRow = arith::RemUIOp::create(b, linear, idx(runsPerRow));
    Value col = arith::MulIOp::create(b, runOfRow, vecConst);
    Value partner = arith::AddIOp::create(b, col, idx(half));
    auto x = vector::LoadOp::create(b, vecType, buffer, ValueRange{row, col});
    auto y =
        vector::LoadOp::create(b, vecType, buffer, ValueRange{row, partner});
    x.setAlignment(align);
    y.setAlignment(align);
    Value xF32 = arith::ExtFOp::create(b, f32Vec, x.getResult());
    Value yF32 = arith::ExtFOp::create(b, f32Vec, y.getResult());
    Value pairs = arith::AddFOp::create(b, toF32(col), pairOffsets);
    // Rows past kv_len hold zeros and stay zero.
    Value token = arith::AddIOp::create(b, c.load.getKeyStart(), row);
    Value angle =
        rotary.buildAngles(b, b.getLoc(), pairs, toF32(token), dim,
                           c.load.getRotaryTheta(), c.load.getRotaryScale());
    auto [xOut, yOut] =
        RotaryAttr::buildRotation(b, b.getLoc(), xF32, yF32, angle);
    auto xStore =
        vector::StoreOp::create(b, arith::TruncFOp::create(b, vecType, xOut),
                                buffer, ValueRange{row, col});
    auto yStore =
        vector::StoreOp::create(b, arith::TruncFOp::create(b, vecType, yOut),
                                buffer, ValueRange{row, partner});
    xStore.setAlignment(align);
    yStore.setAlignment(align);
  });
}

void Promoter::copyAsync(ImplicitLocOpBuilder &b, Candidate c, Value buffer,
                         Value keyStart, ArrayRef<Value> pages) {
  int64_t perCopy = geometry(c).perCopy;
  forEachChunk(
      b, c, keyStart, /*rowsFastest=*/false,
      [&](Value row, Value col, ArrayRef<Value> at, Value inRange) {
        // Rows past the end copy nothing and are zero filled.
        Value srcElements;
        if (inRange)
          srcElements = arith::SelectOp::create(
              b, inRange, arith::ConstantIndexOp::create(b, perCopy),
              arith::ConstantIndexOp::create(b, 0));
        nvgpu::DeviceAsyncCopyOp::create(
            b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), buffer,
            ValueRange{row, col}, c.load.getSource(), at,
            b.getIndexAttr(perCopy), srcElements, b.getUnitAttr());
      },
      pages);
}

FailureOr<Value> Promoter::keyStartAt(ImplicitLocOpBuilder &b,
                                      LoadKVTileOp load, scf::ForOp loop,
                                      Value iv) {
  Value v = load.getKeyStart();
  if (v == loop.getInductionVar())
    return iv;
  if (std::optional<int64_t> cst = getConstantIntValue(v))
    return Value(arith::ConstantIndexOp::create(b, *cst));
  if (dominance.properlyDominates(v, loop))
    return v;
  return failure();
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
  // An asynchronous copy cannot widen (Staging.h's rule).
  if (cands.size() < 2 || llvm::any_of(cands, [&](Candidate c) {
        return !stagesWithAsyncCopies(
            *instr, sourceElemBytes(c.load),
            c.load.getTile().getType().getElementTypeBitWidth() / 8);
      }))
    return false;
  // Each tile's only use, in program order; every operand but the key
  // start known before the loop (constants move up).
  SmallVector<Operation *> uses;
  for (Candidate &c : cands) {
    Operation *use = *c.load->user_begin();
    if (use->getBlock() != loop.getBody() ||
        (!uses.empty() && !uses.back()->isBeforeInBlock(use)))
      return false;
    for (Value v : c.load->getOperands()) {
      if (v == c.load.getKeyStart() || dominance.properlyDominates(v, loop))
        continue;
      Operation *def = v.getDefiningOp();
      if (!def || !def->hasTrait<OpTrait::ConstantLike>())
        return false;
    }
    uses.push_back(use);
  }
  for (Candidate &c : cands) {
    for (Value v : c.load->getOperands())
      if (v != c.load.getKeyStart() && !dominance.properlyDominates(v, loop))
        v.getDefiningOp()->moveBefore(loop);
    c.transposed = false;
  }
  ImplicitLocOpBuilder b(loop.getLoc(), loop);
  // K and V of a paged tile read the same tokens: one lookup of their pages
  // serves both copies. The pages of tile i + 1 are looked up early in
  // iteration i, right after V(i)'s copy is issued, so the loads run behind
  // the products; K(i + 1)'s copy uses them, and they are carried into
  // iteration i + 1 for V(i + 1)'s.
  bool share = sharePages(cands);
  MLIRContext *ctx = func.getContext();
  auto pageTypes = [&](size_t n) {
    return SmallVector<Type>(n, b.getI32Type());
  };
  // `lookUp` (yielding pages) if `cond`, else `otherwise`: the page list is
  // read only for tiles that exist.
  auto pagesIf = [&](Value cond, function_ref<SmallVector<Value>()> lookUp,
                     ValueRange otherwise) {
    size_t n = otherwise.size();
    auto ifOp = scf::IfOp::create(b, pageTypes(n), cond,
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, lookUp());
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, otherwise);
    return SmallVector<Value>(ifOp.getResults());
  };
  SmallVector<Value> firstPages;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop);
    for (Candidate &c : cands)
      if (failed(keyStartAt(b, c.load, loop, loop.getLowerBound())))
        return false;
    // The next iteration's first tile is read at iv + step.
    FailureOr<Value> first =
        keyStartAt(b, cands.front().load, loop, loop.getLowerBound());
    Value any =
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                              loop.getLowerBound(), loop.getUpperBound());
    if (share) {
      Value zero = arith::ConstantIntOp::create(b, 0, 32);
      firstPages = pagesIf(
          any, [&] { return pagesFor(b, cands.front(), *first); },
          SmallVector<Value>(copyRounds(cands.front()), zero));
    }
    auto ifOp = scf::IfOp::create(b, any, /*withElseRegion=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
    copyAsync(b, cands.front(), bufferFor(cands.front()), *first, firstPages);
    nvgpu::DeviceAsyncCreateGroupOp::create(
        b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), ValueRange{});
  }
  // The pages of the iteration's tile arrive as loop-carried values.
  ValueRange carriedPages;
  if (share) {
    IRRewriter rewriter(ctx);
    FailureOr<LoopLikeOpInterface> extended = loop.replaceWithAdditionalYields(
        rewriter, firstPages, /*replaceInitOperandUsesInLoop=*/false,
        [](OpBuilder &, Location, ArrayRef<BlockArgument> args) {
          return SmallVector<Value>(args.begin(), args.end());
        });
    if (failed(extended))
      return false;
    loop = cast<scf::ForOp>(extended->getOperation());
    carriedPages = loop.getRegionIterArgs().take_back(firstPages.size());
  }
  SmallVector<Value> nextPages;
  for (auto [j, c] : llvm::enumerate(cands)) {
    Value buffer = bufferFor(c);
    b.setInsertionPoint(uses[j]);
    b.setLoc(uses[j]->getLoc());
    Value group = nvgpu::DeviceAsyncCreateGroupOp::create(
        b, nvgpu::DeviceAsyncTokenType::get(ctx), ValueRange{});
    nvgpu::DeviceAsyncWaitOp::create(b, group, b.getI32IntegerAttr(0));
    gpu::BarrierOp::create(b);
    Value next =
        j + 1 < cands.size() && !share
            ? Value()
            : arith::AddIOp::create(b, loop.getInductionVar(), loop.getStep());
    Value more = next ? arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                                              next, loop.getUpperBound())
                      : Value();
    if (j + 1 < cands.size()) {
      copyAsync(b, cands[j + 1], bufferFor(cands[j + 1]),
                cands[j + 1].load.getKeyStart(),
                share ? SmallVector<Value>(carriedPages)
                      : SmallVector<Value>());
      if (share)
        nextPages = pagesIf(
            more,
            [&] {
              FailureOr<Value> at =
                  keyStartAt(b, cands.front().load, loop, next);
              return pagesFor(b, cands.front(), *at);
            },
            carriedPages);
    } else {
      auto ifOp = scf::IfOp::create(b, more, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      FailureOr<Value> at = keyStartAt(b, cands.front().load, loop, next);
      copyAsync(b, cands.front(), bufferFor(cands.front()), *at, nextPages);
    }
    // A rotated tile is turned once its copy has landed, and published
    // with a second barrier.
    if (c.load.getRotary()) {
      rotateStaged(b, c, buffer);
      gpu::BarrierOp::create(b);
    }
    Value zero = arith::ConstantIndexOp::create(b, 0);
    VectorType type = c.load.getTile().getType();
    Value padding =
        arith::ConstantOp::create(b, b.getZeroAttr(type.getElementType()));
    auto read = vector::TransferReadOp::create(
        b, type, buffer, ValueRange{zero, zero},
        AffineMapAttr::get(AffineMap::getMultiDimIdentityMap(2, ctx)), padding,
        /*mask=*/Value(), b.getBoolArrayAttr({true, true}));
    c.load.replaceAllUsesWith(read.getResult());
  }
  for (Candidate &c : cands)
    c.load.erase();
  if (share) {
    // Tile i + 1's pages go to iteration i + 1.
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    unsigned first = yield.getNumOperands() - nextPages.size();
    for (auto [i, page] : llvm::enumerate(nextPages))
      yield.setOperand(first + i, page);
  }
  return true;
}

LogicalResult Promoter::promoteLoop(scf::ForOp loop) {
  SmallVector<Candidate> candidates;
  for (Operation &op : *loop.getBody())
    if (auto load = dyn_cast<LoadKVTileOp>(op))
      if (std::optional<Candidate> c = asCandidate(load))
        candidates.push_back(*c);
  if (candidates.empty())
    return success();
  for (Candidate &c : candidates) {
    if (llvm::any_of(c.load.getTile().getType().getShape(),
                     [](int64_t d) { return d > kMaxTileDim; }))
      return c.load.emitOpError() << "attn-promote-to-workgroup-memory: tile "
                                  << c.load.getTile().getType() << " exceeds "
                                  << kMaxTileDim << " in a dimension";
    // Rows are rotated where they lie in the buffer, one row a buffer row.
    if (c.load.getRotary() && c.transposed)
      return c.load.emitOpError(
          "attn-promote-to-workgroup-memory: a rotated tile must be the "
          "right-hand side of a product over its head dim");
  }
  if (instr && stagesWithAsyncCopies(*instr) &&
      promoteLoopAsync(loop, candidates))
    return success();
  // The copies go before the first staged tile; constants the later tiles
  // use move up with them.
  Operation *first = candidates.front().load;
  for (Candidate c : candidates) {
    for (Value v : c.load->getOperands()) {
      if (dominance.properlyDominates(v, first))
        continue;
      Operation *def = v.getDefiningOp();
      if (!def || !def->hasTrait<OpTrait::ConstantLike>())
        return c.load.emitOpError(
            "attn-promote-to-workgroup-memory: the tile's operands must be "
            "known before the first tile staged in this loop");
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
  // Rotated tiles are turned in place once copied, then published again.
  bool rotated = false;
  for (auto [c, buffer] : llvm::zip(candidates, staged)) {
    if (!c.load.getRotary())
      continue;
    rotateStaged(b, c, buffer);
    rotated = true;
  }
  if (rotated)
    gpu::BarrierOp::create(b);

  MLIRContext *ctx = func.getContext();
  for (auto [c, buffer] : llvm::zip(candidates, staged)) {
    b.setInsertionPoint(c.load);
    AffineMap map =
        c.transposed
            ? AffineMap::getPermutationMap(ArrayRef<unsigned>{1, 0}, ctx)
            : AffineMap::getMultiDimIdentityMap(2, ctx);
    Value zero = arith::ConstantIndexOp::create(b, 0);
    VectorType type = c.load.getTile().getType();
    Value padding =
        arith::ConstantOp::create(b, b.getZeroAttr(type.getElementType()));
    auto read = vector::TransferReadOp::create(
        b, type, buffer, ValueRange{zero, zero}, AffineMapAttr::get(map),
        padding, /*mask=*/Value(), b.getBoolArrayAttr({true, true}));
    c.load.replaceAllUsesWith(read.getResult());
    c.load.erase();
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
      std::optional<MatrixInstr> instr;
      if (auto *dialect = getContext().getLoadedDialect<AttnDialect>())
        if (MatrixInstructionAttr attr =
                dialect->getMatrixInstructionAttrHelper().getAttr(func))
          instr = attr.getInstr();
      Promoter promoter(func, (*block)[0], instr);
      SmallVector<scf::ForOp> loops;
      func.walk([&](scf::ForOp loop) { loops.push_back(loop); });
      for (scf::ForOp loop : loops)
        if (failed(promoter.promoteLoop(loop)))
          return WalkResult::interrupt();
      // Tiles that were not staged are read as they are.
      SmallVector<LoadKVTileOp> rest;
      func.walk([&](LoadKVTileOp load) { rest.push_back(load); });
      for (LoadKVTileOp load : rest) {
        // The rotation is applied only to staged tiles.
        if (load.getRotary() || widens(load)) {
          load.emitOpError("attn-promote-to-workgroup-memory: a rotated tile "
                           "(fused RoPE) or a widened one (an fp8 cache) "
                           "must be staged: it must feed one product, as its "
                           "right-hand side, inside a loop");
          return WalkResult::interrupt();
        }
        readDirectly(load);
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
