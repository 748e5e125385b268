//===- DistributeToMatrixInstructions.cpp - tiles onto lanes --------------===//
//
// Stage 4 of the GPU lowering: the workgroup-level vector program of an
// attention kernel is distributed over the lanes of its waves. Every value
// gets one of three layouts, all derived from the accumulator layout of the
// kernel's matrix instruction (MatrixInstructions.h, AttentionLayout.h):
//
//  - Tile [rows x cols]: as accumulators of the instruction, the rows split
//    over waves and each wave's query tiles, the columns over column tiles;
//  - Row [rows] (or [rows x 1]): one value per query row a lane holds;
//  - Col [cols]: one value per column a lane holds.
//
// Contractions become the instruction itself, their operands loaded straight
// into fragments from memory, or, for the P operand of P V, taken from the
// score accumulators in registers. Reductions along the columns combine a
// lane's elements and then the lanes that share a row with shuffles.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Conversion/AttnToGPU/FlashAttentionKernel.h"
#include "flashinfer/Conversion/Passes.h"
#include "flashinfer/Dialect/Attn/IR/AttnDialect.h"
#include "flashinfer/Target/AttentionLayout.h"

#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/Utils/VectorUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/SetVector.h"

#include <numeric>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNDISTRIBUTETOMATRIXINSTRUCTIONS
#include "flashinfer/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

enum class Layout { Tile, Row, Col };

StringRef layoutName(Layout l) {
  switch (l) {
  case Layout::Tile:
    return "tile";
  case Layout::Row:
    return "row";
  case Layout::Col:
    return "column";
  }
  llvm_unreachable("layout");
}

/// Where the elements of one distributed access sit along each dim of a
/// vector: `base[d] + elem[e][d]`, with `align[d]` a power of two that
/// divides every lane-dependent part of base[d].
struct Access {
  SmallVector<Value> base;
  SmallVector<SmallVector<int64_t>> elem;
  SmallVector<int64_t> align;
};

class Distributor {
public:
  Distributor(gpu::GPUFuncOp func, const AttentionLayout &layout,
              int64_t numWaves)
      : func(func), al(layout), mi(layout.instr), numWaves(numWaves),
        b(func.getLoc(), func.getContext()) {}

  LogicalResult run();

private:
  // --- Layout geometry ---------------------------------------------------
  int64_t numC() const { return mi.c.numElems; }
  int64_t numRowGroups() const { return rowGroupQ.size(); }
  int64_t numColGroups() const { return colGroupX.size(); }
  LogicalResult checkShape(Operation *op, VectorType type, Layout layout);
  int64_t countOf(VectorType type, Layout layout) const;
  /// Element coordinates of a value in `layout`, as accesses of its vector.
  Access accessOf(VectorType type, Layout layout);

  // --- Distribution ------------------------------------------------------
  FailureOr<SmallVector<Value>> distribute(Value v, Layout layout);
  FailureOr<SmallVector<Value>> distributeOp(Operation *op, Value v,
                                             Layout layout);
  FailureOr<SmallVector<Value>> distributeContract(vector::ContractionOp op);
  struct TileLoadPlan;
  std::optional<TileLoadPlan> planTileLoads(vector::TransferReadOp read,
                                            AffineMap rhsMap,
                                            ArrayRef<int64_t> kElem,
                                            ArrayRef<LayoutTerm> kLaneTerms);
  SmallVector<SmallVector<Value>> tileLoad(vector::TransferReadOp read,
                                           const TileLoadPlan &plan, int64_t kk,
                                           int64_t t0, int64_t count);
  FailureOr<SmallVector<Value>>
  distributeReduction(vector::MultiDimReductionOp op);
  /// vector.extract_strided_slice / insert_strided_slice of whole column
  /// tiles of a tile.
  FailureOr<SmallVector<Value>> distributeColumnSlice(Operation *op,
                                                      Layout layout);
  LogicalResult rebuildLoop(scf::ForOp loop);
  LogicalResult distributeWrite(vector::TransferWriteOp op);
  /// Erases workgroup values nothing used (row positions when no mask needs
  /// them) and reports any workgroup-level op left.
  LogicalResult removeDeadAndCheck();

  // --- Memory ------------------------------------------------------------
  /// Loads the elements of `access` from what `read` reads.
  FailureOr<SmallVector<Value>> load(vector::TransferReadOp read,
                                     const Access &access);
  /// Stores `values` (one per element of `access`) where `write` writes.
  LogicalResult store(vector::TransferWriteOp write, const Access &access,
                      ArrayRef<Value> values);
  /// Runs of elements contiguous along the memref's innermost dim.
  SmallVector<std::pair<int64_t, int64_t>>
  runs(const Access &access, int64_t fastDim, int64_t maxLen);

  // --- Helpers -----------------------------------------------------------
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value laneValue(ArrayRef<LayoutTerm> terms);
  int64_t laneAlign(ArrayRef<LayoutTerm> terms);
  SmallVector<Value> mma(ArrayRef<Value> a, ArrayRef<Value> bElems,
                         ArrayRef<Value> c);
  Value shuffleXor(Value v, int64_t mask);
  FailureOr<SmallVector<Value>> fail(Operation *op, const Twine &msg) {
    op->emitOpError() << "attn-distribute-to-matrix-instructions: " << msg;
    return failure();
  }

  gpu::GPUFuncOp func;
  AttentionLayout al;
  const MatrixInstr &mi;
  int64_t numWaves;
  int64_t rows = 0, qTiles = 0;
  ImplicitLocOpBuilder b;

  Value lane, waveRowBase, laneRow, laneCol;
  int64_t laneRowAlign = 1, laneColAlign = 1;
  // Accumulator element -> index of its row (column) group within a lane,
  // and each group's offset; lane bits across which lanes share rows.
  SmallVector<int64_t> rowGroupOf, rowGroupQ, colGroupOf, colGroupX;
  SmallVector<int64_t> rowShareMasks;

  DenseMap<std::pair<Value, int>, SmallVector<Value>> memo;
  /// Query-operand fragments of reads loaded outside the contraction's loop.
  DenseMap<Value, SmallVector<Value>> hoistedFragments;
  SetVector<Operation *> replaced;
  /// Where lane-only values that several loops share are computed.
  Operation *laneValuesPoint = nullptr;
};

/// How the shared operand's fragments map onto the target's tile load: for
/// each register (group of `tile.numElems` elements) of a fragment, the
/// tile's first row (along the operand's columns) and column (along k), at
/// column tile 0 and k step 0; each column tile adds `colsPerTile` rows and
/// each k step `k` columns. Lane offsets within a load are `rowOffset` and
/// `colOffset`.
struct Distributor::TileLoadPlan {
  SmallVector<int64_t> tileRow, tileCol; // per register of one fragment
  int64_t elemsPerTile = 0, fragmentsPerLoad = 1;
  bool transpose = false;
  /// The operand's columns run along the memref's rows (K as [key][d]) or
  /// its columns (V as [key][dv]).
  bool colsAlongRows = true;
  Value rowOffset, colOffset;
  std::pair<int64_t, int64_t> columnTileOffset(int64_t cols) const {
    return colsAlongRows ? std::make_pair(cols, int64_t(0))
                         : std::make_pair(int64_t(0), cols);
  }
  std::pair<int64_t, int64_t> kStepOffset(int64_t k) const {
    return colsAlongRows ? std::make_pair(int64_t(0), k)
                         : std::make_pair(k, int64_t(0));
  }
};

//===----------------------------------------------------------------------===//
// Geometry
//===----------------------------------------------------------------------===//

LogicalResult Distributor::checkShape(Operation *op, VectorType type,
                                      Layout layout) {
  auto bad = [&]() {
    return op->emitOpError()
           << "attn-distribute-to-matrix-instructions: " << type
           << " does not fit the " << layoutName(layout) << " layout of "
           << rows << " rows and " << al.colsPerTile() << "-column tiles";
  };
  ArrayRef<int64_t> shape = type.getShape();
  switch (layout) {
  case Layout::Tile:
    if (shape.size() != 2 || shape[0] != rows ||
        shape[1] % al.colsPerTile() != 0)
      return bad();
    return success();
  case Layout::Row:
    if (shape.empty() || shape.size() > 2 || shape[0] != rows ||
        (shape.size() == 2 && shape[1] != 1))
      return bad();
    return success();
  case Layout::Col:
    if (shape.size() != 1 || shape[0] % al.colsPerTile() != 0)
      return bad();
    return success();
  }
  return failure();
}

int64_t Distributor::countOf(VectorType type, Layout layout) const {
  switch (layout) {
  case Layout::Tile:
    return qTiles * type.getDimSize(1) / al.colsPerTile() * numC();
  case Layout::Row:
    return qTiles * numRowGroups();
  case Layout::Col:
    return type.getDimSize(0) / al.colsPerTile() * numColGroups();
  }
  return 0;
}

Access Distributor::accessOf(VectorType type, Layout layout) {
  Access a;
  int64_t rpt = al.rowsPerTile(), cpt = al.colsPerTile();
  switch (layout) {
  case Layout::Tile: {
    int64_t nt = type.getDimSize(1) / cpt;
    a.base = {arith::AddIOp::create(b, waveRowBase, laneRow), laneCol};
    a.align = {laneRowAlign, laneColAlign};
    for (int64_t mt = 0; mt < qTiles; ++mt)
      for (int64_t t = 0; t < nt; ++t)
        for (int64_t i = 0; i < numC(); ++i)
          a.elem.push_back({mt * rpt + elemPart(al.accRow(), i),
                            t * cpt + elemPart(al.accCol(), i)});
    break;
  }
  case Layout::Row:
    a.base = {arith::AddIOp::create(b, waveRowBase, laneRow)};
    a.align = {laneRowAlign};
    for (int64_t mt = 0; mt < qTiles; ++mt)
      for (int64_t r = 0; r < numRowGroups(); ++r)
        a.elem.push_back({mt * rpt + rowGroupQ[r]});
    if (type.getRank() == 2) {
      a.base.push_back(idx(0));
      a.align.push_back(1 << 20);
      for (auto &e : a.elem)
        e.push_back(0);
    }
    break;
  case Layout::Col:
    a.base = {laneCol};
    a.align = {laneColAlign};
    for (int64_t t = 0; t < type.getDimSize(0) / cpt; ++t)
      for (int64_t j = 0; j < numColGroups(); ++j)
        a.elem.push_back({t * cpt + colGroupX[j]});
    break;
  }
  return a;
}

Value Distributor::laneValue(ArrayRef<LayoutTerm> terms) {
  Value sum = idx(0);
  for (const LayoutTerm &t : terms) {
    if (t.source != LayoutTerm::Source::Lane)
      continue;
    Value v = lane;
    if (t.div != 1)
      v = arith::DivUIOp::create(b, v, idx(t.div));
    if (t.div * t.mod < mi.waveSize)
      v = arith::RemUIOp::create(b, v, idx(t.mod));
    if (t.mul != 1)
      v = arith::MulIOp::create(b, v, idx(t.mul));
    sum = arith::AddIOp::create(b, sum, v);
  }
  return sum;
}

int64_t Distributor::laneAlign(ArrayRef<LayoutTerm> terms) {
  int64_t align = 1 << 20;
  for (const LayoutTerm &t : terms)
    if (t.source == LayoutTerm::Source::Lane)
      align = std::gcd(align, t.mul);
  return align;
}

//===----------------------------------------------------------------------===//
// Memory accesses
//===----------------------------------------------------------------------===//

SmallVector<std::pair<int64_t, int64_t>>
Distributor::runs(const Access &access, int64_t fastDim, int64_t maxLen) {
  SmallVector<std::pair<int64_t, int64_t>> out;
  int64_t n = access.elem.size();
  int64_t limit = fastDim < 0 ? 1 : std::gcd(maxLen, access.align[fastDim]);
  for (int64_t e = 0; e < n;) {
    int64_t len = 1;
    auto continues = [&](int64_t next) {
      for (size_t d = 0; d < access.elem[e].size(); ++d) {
        int64_t want = access.elem[e][d] +
                       (static_cast<int64_t>(d) == fastDim ? next - e : 0);
        if (access.elem[next][d] != want)
          return false;
      }
      return true;
    };
    while (fastDim >= 0 && e + len < n && len < limit && continues(e + len))
      ++len;
    // A power of two that divides the start, so accesses stay aligned.
    while (len > 1 && (access.elem[e][fastDim] % len != 0 || (len & (len - 1))))
      len /= 2;
    out.push_back({e, len});
    e += len;
  }
  return out;
}

/// For an access through a transfer op: the memref indices of a run's first
/// element and whether each of its out-of-bounds-checked dims is in range.
template <typename TransferOp>
static std::pair<SmallVector<Value>, Value>
memrefIndices(ImplicitLocOpBuilder &b, TransferOp op, const Access &access,
              int64_t e, bool clamp) {
  AffineMap map = op.getPermutationMap();
  SmallVector<Value> at(op.getIndices());
  Value inRange;
  for (unsigned d = 0; d < map.getNumResults(); ++d) {
    unsigned memDim = map.getDimPosition(d);
    at[memDim] = arith::AddIOp::create(
        b, at[memDim],
        arith::AddIOp::create(
            b, access.base[d],
            arith::ConstantIndexOp::create(b, access.elem[e][d])));
    if (op.isDimInBounds(d))
      continue;
    Value size = memref::DimOp::create(b, op.getBase(), memDim);
    Value ok =
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, at[memDim], size);
    inRange = inRange ? arith::AndIOp::create(b, inRange, ok) : ok;
    if (clamp)
      at[memDim] = arith::MinSIOp::create(
          b, at[memDim],
          arith::SubIOp::create(b, size, arith::ConstantIndexOp::create(b, 1)));
  }
  return {at, inRange};
}

/// The vector dim that walks the memref's innermost dim, or -1. Also -1
/// when the transfer's start along that dim is not a known multiple of
/// `maxLen`, so that no vector access could be proven aligned.
template <typename TransferOp>
static int64_t fastVectorDim(TransferOp op, int64_t maxLen) {
  AffineMap map = op.getPermutationMap();
  int64_t memRank = cast<MemRefType>(op.getBase().getType()).getRank();
  std::optional<int64_t> start =
      getConstantIntValue(op.getIndices()[memRank - 1]);
  if (!start || *start % maxLen != 0)
    return -1;
  for (unsigned d = 0; d < map.getNumResults(); ++d)
    if (map.getDimPosition(d) == memRank - 1)
      return d;
  return -1;
}

FailureOr<SmallVector<Value>> Distributor::load(vector::TransferReadOp read,
                                                const Access &access) {
  if (read.getMask() || !read.getPermutationMap().isProjectedPermutation())
    return fail(read, "reads with a mask or a broadcasting map are not "
                      "supported");
  Type elemType = read.getVectorType().getElementType();
  int64_t maxLen = 128 / elemType.getIntOrFloatBitWidth();
  // Elements that may fall out of bounds are read one by one.
  int64_t fastDim = fastVectorDim(read, maxLen);
  if (fastDim >= 0 && !read.isDimInBounds(fastDim))
    fastDim = -1;
  SmallVector<Value> out(access.elem.size());
  for (auto [start, len] : runs(access, fastDim, maxLen)) {
    // Out-of-range rows read the last row and take the padding instead.
    auto [at, inRange] = memrefIndices(b, read, access, start, /*clamp=*/true);
    SmallVector<Value> got;
    if (len == 1) {
      got.push_back(memref::LoadOp::create(b, read.getBase(), at));
    } else {
      auto loaded = vector::LoadOp::create(b, VectorType::get({len}, elemType),
                                           read.getBase(), at);
      loaded.setAlignment(len * elemType.getIntOrFloatBitWidth() / 8);
      for (int64_t i = 0; i < len; ++i)
        got.push_back(vector::ExtractOp::create(b, loaded, i));
    }
    for (int64_t i = 0; i < len; ++i)
      out[start + i] = inRange ? arith::SelectOp::create(b, inRange, got[i],
                                                         read.getPadding())
                               : got[i];
  }
  return out;
}

LogicalResult Distributor::store(vector::TransferWriteOp write,
                                 const Access &access, ArrayRef<Value> values) {
  Type elemType = write.getVectorType().getElementType();
  int64_t maxLen = 128 / elemType.getIntOrFloatBitWidth();
  // The mask, from vector.create_mask: element coordinates below its bounds.
  SmallVector<Value> maskBounds;
  if (Value mask = write.getMask()) {
    auto create = mask.getDefiningOp<vector::CreateMaskOp>();
    if (!create)
      return write.emitOpError("attn-distribute-to-matrix-instructions: "
                               "only masks from vector.create_mask are "
                               "supported");
    maskBounds.assign(create.getOperands().begin(), create.getOperands().end());
  }
  // Runs are stored as vectors where neither the bounds nor the mask can cut
  // them; elsewhere element by element.
  int64_t fastDim = fastVectorDim(write, maxLen);
  if (fastDim >= 0 && !write.isDimInBounds(fastDim))
    fastDim = -1;
  if (fastDim >= 0 && !maskBounds.empty()) {
    std::optional<int64_t> bound = getConstantIntValue(maskBounds[fastDim]);
    if (bound && *bound >= write.getVectorType().getDimSize(fastDim))
      maskBounds[fastDim] = Value();
    else
      fastDim = -1;
  }
  for (auto [start, len] : runs(access, fastDim, maxLen)) {
    auto [at, inRange] =
        memrefIndices(b, write, access, start, /*clamp=*/false);
    for (auto [d, bound] : llvm::enumerate(maskBounds)) {
      if (!bound)
        continue;
      Value coord =
          arith::AddIOp::create(b, access.base[d], idx(access.elem[start][d]));
      Value ok =
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, coord, bound);
      inRange = inRange ? arith::AndIOp::create(b, inRange, ok) : ok;
    }
    OpBuilder::InsertionGuard guard(b);
    if (inRange) {
      auto ifOp = scf::IfOp::create(b, inRange, /*withElseRegion=*/false);
      b.setInsertionPointToStart(ifOp.thenBlock());
    }
    if (len == 1) {
      memref::StoreOp::create(b, values[start], write.getBase(), at);
      continue;
    }
    Value vec = vector::FromElementsOp::create(
        b, VectorType::get({len}, elemType), values.slice(start, len));
    auto st = vector::StoreOp::create(b, vec, write.getBase(), at);
    st.setAlignment(len * elemType.getIntOrFloatBitWidth() / 8);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Matrix instructions and shuffles
//===----------------------------------------------------------------------===//

SmallVector<Value> Distributor::mma(ArrayRef<Value> a, ArrayRef<Value> bElems,
                                    ArrayRef<Value> c) {
  auto pack = [&](ArrayRef<Value> elems, ArrayRef<int64_t> shape) {
    return vector::FromElementsOp::create(
        b, VectorType::get(shape, elems.front().getType()), elems);
  };
  SmallVector<Value> out;
  if (mi.kind == MatrixInstrKind::NvMmaSync &&
      mi.elemType == MatrixElemType::BF16) {
    // nvgpu.mma.sync has no bf16 lowering upstream; nvvm.mma.sync takes bf16
    // operands as i32 pairs, in the same fragment layout as f16.
    auto asPairs = [&](ArrayRef<Value> elems) {
      SmallVector<Value> regs;
      auto pairType = VectorType::get({2}, elems.front().getType());
      for (size_t i = 0; i + 1 < elems.size(); i += 2) {
        Value pair = vector::FromElementsOp::create(
            b, pairType, ValueRange{elems[i], elems[i + 1]});
        regs.push_back(LLVM::BitcastOp::create(b, b.getI32Type(), pair));
      }
      return regs;
    };
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(c.size(), b.getF32Type()));
    auto op = NVVM::MmaOp::create(
        b, resultType, asPairs(a), asPairs(bElems), c,
        ArrayRef<int64_t>{mi.m, mi.n, mi.k}, std::nullopt, std::nullopt,
        std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                      NVVM::MMATypes::bf16},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    for (size_t i = 0; i < c.size(); ++i)
      out.push_back(LLVM::ExtractValueOp::create(b, op, i));
    return out;
  }
  Value va = pack(a, mi.a.vectorShape), vb = pack(bElems, mi.b.vectorShape),
        vc = pack(c, mi.c.vectorShape);
  Value d;
  if (mi.kind == MatrixInstrKind::NvMmaSync)
    d = nvgpu::MmaSyncOp::create(b, va, vb, vc,
                                 ArrayRef<int64_t>{mi.m, mi.n, mi.k});
  else
    d = amdgpu::MFMAOp::create(
        b, vc.getType(), b.getI32IntegerAttr(mi.m), b.getI32IntegerAttr(mi.n),
        b.getI32IntegerAttr(mi.k), b.getI32IntegerAttr(1), va, vb, vc);
  auto type = cast<VectorType>(d.getType());
  for (int64_t i = 0; i < type.getNumElements(); ++i) {
    SmallVector<int64_t> pos = delinearize(i, computeStrides(type.getShape()));
    out.push_back(vector::ExtractOp::create(b, d, pos));
  }
  return out;
}

Value Distributor::shuffleXor(Value v, int64_t mask) {
  return gpu::ShuffleOp::create(b, v, static_cast<int32_t>(mask),
                                static_cast<int32_t>(mi.waveSize),
                                gpu::ShuffleMode::XOR)
      .getShuffleResult();
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<Value>>
Distributor::distributeContract(vector::ContractionOp op) {
  auto maps = op.getIndexingMapsArray();
  auto iterators = op.getIteratorTypesArray();
  MLIRContext *ctx = op.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  auto map = [&](ArrayRef<AffineExpr> e) {
    return AffineMap::get(3, 0, e, ctx);
  };
  if (op.getKind() != vector::CombiningKind::ADD || iterators.size() != 3 ||
      iterators[2] != vector::IteratorType::reduction ||
      maps[0] != map({m, k}) || maps[2] != map({m, n}) ||
      (maps[1] != map({n, k}) && maps[1] != map({k, n})))
    return fail(op, "expected C[m, n] += A[m, k] * B[n, k] or B[k, n]");
  auto rhsRead = op.getRhs().getDefiningOp<vector::TransferReadOp>();
  if (!rhsRead)
    return fail(op, "the right-hand side must come from vector.transfer_read");
  auto lhsType = cast<VectorType>(op.getLhsType());
  auto accType = cast<VectorType>(op.getResultType());
  int64_t kSize = lhsType.getDimSize(1), nSize = accType.getDimSize(1);
  if (kSize % mi.k != 0)
    return fail(op, Twine("the reduction (") + Twine(kSize) +
                        ") must be a multiple of the instruction's K (" +
                        Twine(mi.k) + ")");
  if (failed(checkShape(op, accType, Layout::Tile)))
    return failure();
  FailureOr<SmallVector<Value>> accIn = distribute(op.getAcc(), Layout::Tile);
  if (failed(accIn))
    return failure();
  SmallVector<Value> acc = *accIn;

  int64_t rpt = al.rowsPerTile(), cpt = al.colsPerTile();
  int64_t nt = nSize / cpt, kSteps = kSize / mi.k;
  const FragmentLayout &qOp = al.queryOperand(), &sOp = al.sharedOperand();
  auto lhsRead = op.getLhs().getDefiningOp<vector::TransferReadOp>();

  // The left-hand side: read into query-operand fragments, or (P of P V)
  // made of score accumulators, which fixes the order of the keys that the
  // shared operand must follow.
  SmallVector<int64_t> sharedKElem;
  Value sharedKLane;
  int64_t sharedKAlign;
  SmallVector<SmallVector<Value>> lhsFrags(qTiles * kSteps); // [mt][kk]
  // Loads the query-operand fragments of k steps [kkBegin, kkEnd) of every
  // query tile into lhsFrags.
  auto loadLhs = [&](int64_t kkBegin, int64_t kkEnd) -> LogicalResult {
    Access a;
    a.base = {
        arith::AddIOp::create(b, waveRowBase, laneValue(al.queryOperandRow())),
        laneValue(al.queryOperandK())};
    a.align = {laneAlign(al.queryOperandRow()), laneAlign(al.queryOperandK())};
    for (int64_t mt = 0; mt < qTiles; ++mt)
      for (int64_t kk = kkBegin; kk < kkEnd; ++kk)
        for (int64_t e = 0; e < qOp.numElems; ++e)
          a.elem.push_back({mt * rpt + elemPart(al.queryOperandRow(), e),
                            kk * mi.k + elemPart(al.queryOperandK(), e)});
    // Hoisted fragments are loaded once for every contraction using them.
    bool whole = kkBegin == 0 && kkEnd == kSteps;
    auto cached = hoistedFragments.find(lhsRead.getResult());
    FailureOr<SmallVector<Value>> vals =
        whole && cached != hoistedFragments.end()
            ? FailureOr<SmallVector<Value>>(cached->second)
            : load(lhsRead, a);
    if (failed(vals))
      return failure();
    if (whole)
      hoistedFragments[lhsRead.getResult()] = *vals;
    int64_t f = 0, n = qOp.numElems;
    for (int64_t mt = 0; mt < qTiles; ++mt)
      for (int64_t kk = kkBegin; kk < kkEnd; ++kk, ++f)
        lhsFrags[mt * kSteps + kk].assign(vals->begin() + f * n,
                                          vals->begin() + (f + 1) * n);
    return success();
  };
  // A read in the contraction's block is re-read each time, one k step at a
  // time so that only that step's fragments are live; a read outside it (Q
  // before the key loop) is loaded where it is and stays in registers.
  bool lhsPerStep = lhsRead && lhsRead->getBlock() == op->getBlock();
  if (lhsRead) {
    if (!lhsPerStep) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointAfter(lhsRead);
      if (failed(loadLhs(0, kSteps)))
        return failure();
    }
    for (int64_t e = 0; e < sOp.numElems; ++e)
      sharedKElem.push_back(elemPart(al.sharedOperandK(), e));
    sharedKLane = laneValue(al.sharedOperandK());
    sharedKAlign = laneAlign(al.sharedOperandK());
  } else {
    if (failed(checkShape(op, lhsType, Layout::Tile)))
      return failure();
    FailureOr<SmallVector<Value>> p = distribute(op.getLhs(), Layout::Tile);
    if (failed(p))
      return failure();
    int64_t tilesK = kSize / cpt, chunk = al.scoreTilesPerChunk;
    for (int64_t mt = 0; mt < qTiles; ++mt)
      for (int64_t kk = 0; kk < kSteps; ++kk) {
        SmallVector<Value> frag;
        for (int64_t t = kk * chunk; t < (kk + 1) * chunk; ++t)
          llvm::append_range(frag, ArrayRef<Value>(*p).slice(
                                       (mt * tilesK + t) * numC(), numC()));
        lhsFrags[mt * kSteps + kk] = std::move(frag);
      }
    sharedKElem = al.vKeyElem;
    sharedKLane = laneCol;
    sharedKAlign = laneColAlign;
  }

  // The shared operand's fragment for column tile t and k step kk, read at
  // the contraction (between the same barriers as the original read).
  AffineMap rhsMap = maps[1];
  auto loadShared = [&](int64_t t, int64_t kk) {
    Value colLane = laneValue(al.sharedOperandCol());
    Access a;
    a.base.resize(2);
    a.align.resize(2);
    SmallVector<int64_t> nPart, kPart;
    for (int64_t e = 0; e < sOp.numElems; ++e) {
      nPart.push_back(t * cpt + elemPart(al.sharedOperandCol(), e));
      kPart.push_back(kk * mi.k + sharedKElem[e]);
    }
    for (unsigned d = 0; d < 2; ++d) {
      bool isN = rhsMap.getDimPosition(d) == 1;
      a.base[d] = isN ? colLane : sharedKLane;
      a.align[d] = isN ? laneAlign(al.sharedOperandCol()) : sharedKAlign;
    }
    for (int64_t e = 0; e < sOp.numElems; ++e) {
      SmallVector<int64_t> coords(2);
      for (unsigned d = 0; d < 2; ++d)
        coords[d] = rhsMap.getDimPosition(d) == 1 ? nPart[e] : kPart[e];
      a.elem.push_back(coords);
    }
    return load(rhsRead, a);
  };

  // With a tile load (ldmatrix) the fragments of several column tiles come
  // from one instruction; otherwise each fragment is read on its own.
  std::optional<TileLoadPlan> plan =
      planTileLoads(rhsRead, rhsMap, sharedKElem,
                    lhsRead ? al.sharedOperandK() : al.accCol());
  int64_t perLoad = plan ? plan->fragmentsPerLoad : 1;
  for (int64_t kk = 0; kk < kSteps; ++kk) {
    if (lhsPerStep && failed(loadLhs(kk, kk + 1)))
      return failure();
    for (int64_t t0 = 0; t0 < nt; t0 += perLoad) {
      int64_t count = std::min(perLoad, nt - t0);
      SmallVector<SmallVector<Value>> shared;
      if (plan) {
        shared = tileLoad(rhsRead, *plan, kk, t0, count);
      } else {
        FailureOr<SmallVector<Value>> one = loadShared(t0, kk);
        if (failed(one))
          return failure();
        shared.push_back(*one);
      }
      for (int64_t t = t0; t < t0 + count; ++t) {
        // Each shared fragment serves every query tile of the wave.
        for (int64_t mt = 0; mt < qTiles; ++mt) {
          auto slot = acc.begin() + (mt * nt + t) * numC();
          SmallVector<Value> c(slot, slot + numC());
          const SmallVector<Value> &q = lhsFrags[mt * kSteps + kk];
          const SmallVector<Value> &f = shared[t - t0];
          SmallVector<Value> d = al.direct() ? mma(q, f, c) : mma(f, q, c);
          llvm::copy(d, slot);
        }
      }
    }
  }
  replaced.insert(rhsRead);
  if (lhsRead)
    replaced.insert(lhsRead);
  return acc;
}

std::optional<Distributor::TileLoadPlan>
Distributor::planTileLoads(vector::TransferReadOp read, AffineMap rhsMap,
                           ArrayRef<int64_t> kElem,
                           ArrayRef<LayoutTerm> kLaneTerms) {
  if (!mi.tileLoad)
    return std::nullopt;
  const TileLoad &tl = *mi.tileLoad;
  auto memType = cast<MemRefType>(read.getBase().getType());
  auto space =
      dyn_cast_or_null<gpu::AddressSpaceAttr>(memType.getMemorySpace());
  Type elemType = memType.getElementType();
  if (!space || space.getValue() != gpu::AddressSpace::Workgroup ||
      memType.getRank() != 2 || !memType.hasStaticShape() ||
      elemType.getIntOrFloatBitWidth() != 16 || read.getMask() ||
      !read.isDimInBounds(0) || !read.isDimInBounds(1))
    return std::nullopt;
  // Tile rows are the memref's rows; their contiguous elements its columns.
  int64_t rowBytes = memType.getDimSize(1) * 2;
  std::optional<int64_t> colStart = getConstantIntValue(read.getIndices()[1]);
  if (rowBytes % 16 != 0 || !colStart || *colStart % tl.tileCols != 0)
    return std::nullopt;
  AffineMap perm = read.getPermutationMap();
  TileLoadPlan plan;
  for (unsigned d = 0; d < 2; ++d)
    if (rhsMap.getDimPosition(d) != 2) // the operand's column (n) dim
      plan.colsAlongRows = perm.getDimPosition(d) == 0;

  // Memref (row, col) of element e of lane l of the fragment of column tile
  // 0 and k step 0.
  const FragmentLayout &sOp = al.sharedOperand();
  auto at = [&](int64_t l, int64_t e) -> std::pair<int64_t, int64_t> {
    int64_t x = FragmentLayout::sum(al.sharedOperandCol(), l, e);
    int64_t k = lanePart(kLaneTerms, l) + kElem[e];
    return plan.colsAlongRows ? std::make_pair(x, k) : std::make_pair(k, x);
  };
  // Every register of a fragment must be one tile's share of a lane, in
  // the plain or (where the target has one) the transposing form.
  SmallVector<std::pair<const FragmentLayout *, bool>, 2> forms = {
      {&tl.tile, false}};
  if (tl.transposedTile)
    forms.push_back({&*tl.transposedTile, true});
  for (auto [layout, transpose] : forms) {
    int64_t m = layout->numElems;
    if (sOp.numElems % m != 0)
      continue;
    plan.tileRow.clear();
    plan.tileCol.clear();
    bool fits = true;
    for (int64_t r = 0; r < sOp.numElems / m && fits; ++r) {
      auto [row0, col0] = at(0, r * m);
      row0 -= layout->rowOf(0, 0);
      col0 -= layout->colOf(0, 0);
      for (int64_t l = 0; l < mi.waveSize && fits; ++l)
        for (int64_t j = 0; j < m && fits; ++j)
          fits = at(l, r * m + j) == std::make_pair(row0 + layout->rowOf(l, j),
                                                    col0 + layout->colOf(l, j));
      fits &= col0 % tl.tileCols == 0;
      plan.tileRow.push_back(row0);
      plan.tileCol.push_back(col0);
    }
    if (!fits)
      continue;
    plan.transpose = transpose;
    plan.elemsPerTile = m;
    break;
  }
  if (plan.elemsPerTile == 0)
    return std::nullopt;
  int64_t tilesPerFragment = plan.tileRow.size();
  plan.fragmentsPerLoad = std::max<int64_t>(1, tl.maxTiles / tilesPerFragment);

  // Lane l addresses row l % tileRows of tile (l / tileRows) % numTiles; the
  // tiles of one load are the registers of consecutive column tiles.
  int64_t numTiles = tilesPerFragment * plan.fragmentsPerLoad;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfter(laneValuesPoint);
  Value tile = arith::RemUIOp::create(
      b, arith::DivUIOp::create(b, lane, idx(tl.tileRows)), idx(numTiles));
  Value rowInTile = arith::RemUIOp::create(b, lane, idx(tl.tileRows));
  Value rowOffset = rowInTile, colOffset = idx(0);
  for (int64_t i = numTiles - 1; i >= 1; --i) {
    int64_t f = i / tilesPerFragment, r = i % tilesPerFragment;
    auto [fRow, fCol] = plan.columnTileOffset(f * al.colsPerTile());
    int64_t dRow = fRow + plan.tileRow[r] - plan.tileRow[0];
    int64_t dCol = fCol + plan.tileCol[r] - plan.tileCol[0];
    Value isTile =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, tile, idx(i));
    rowOffset = arith::SelectOp::create(
        b, isTile, arith::AddIOp::create(b, rowInTile, idx(dRow)), rowOffset);
    colOffset = arith::SelectOp::create(b, isTile, idx(dCol), colOffset);
  }
  plan.rowOffset = rowOffset;
  plan.colOffset = colOffset;
  return plan;
}

SmallVector<SmallVector<Value>>
Distributor::tileLoad(vector::TransferReadOp read, const TileLoadPlan &plan,
                      int64_t kk, int64_t t0, int64_t count) {
  int64_t tilesPerFragment = plan.tileRow.size();
  int64_t numTiles = tilesPerFragment * count;
  auto [tRow, tCol] = plan.columnTileOffset(t0 * al.colsPerTile());
  auto [kRow, kCol] = plan.kStepOffset(kk * mi.k);
  SmallVector<Value> at(read.getIndices());
  at[0] = arith::AddIOp::create(
      b, at[0],
      arith::AddIOp::create(b, plan.rowOffset,
                            idx(plan.tileRow[0] + tRow + kRow)));
  at[1] = arith::AddIOp::create(
      b, at[1],
      arith::AddIOp::create(b, plan.colOffset,
                            idx(plan.tileCol[0] + tCol + kCol)));
  Type elemType = read.getVectorType().getElementType();
  auto type = VectorType::get({numTiles, plan.elemsPerTile}, elemType);
  // With fewer tiles than planned, the lanes of the missing ones give
  // addresses that are ignored.
  Value loaded = nvgpu::LdMatrixOp::create(b, type, read.getBase(), at,
                                           plan.transpose, numTiles);
  SmallVector<SmallVector<Value>> frags(count);
  for (int64_t i = 0; i < numTiles; ++i)
    for (int64_t j = 0; j < plan.elemsPerTile; ++j)
      frags[i / tilesPerFragment].push_back(
          vector::ExtractOp::create(b, loaded, ArrayRef<int64_t>{i, j}));
  return frags;
}

FailureOr<SmallVector<Value>>
Distributor::distributeReduction(vector::MultiDimReductionOp op) {
  if (op.getSourceVectorType().getRank() != 2 ||
      op.getReductionMask() != ArrayRef<bool>{false, true})
    return fail(op, "only reductions along the columns of a tile are "
                    "supported");
  vector::CombiningKind kind = op.getKind();
  FailureOr<SmallVector<Value>> src = distribute(op.getSource(), Layout::Tile);
  FailureOr<SmallVector<Value>> acc = distribute(op.getAcc(), Layout::Row);
  if (failed(src) || failed(acc))
    return failure();
  int64_t nt = op.getSourceVectorType().getDimSize(1) / al.colsPerTile();
  SmallVector<Value> out;
  for (int64_t mt = 0; mt < qTiles; ++mt) {
    for (int64_t r = 0; r < numRowGroups(); ++r) {
      Value x;
      for (int64_t t = 0; t < nt; ++t)
        for (int64_t i = 0; i < numC(); ++i)
          if (rowGroupOf[i] == r) {
            Value y = (*src)[(mt * nt + t) * numC() + i];
            x = x ? vector::makeArithReduction(b, b.getLoc(), kind, x, y) : y;
          }
      // The lanes that share the row hold its other columns.
      for (int64_t mask : rowShareMasks)
        x = vector::makeArithReduction(b, b.getLoc(), kind, x,
                                       shuffleXor(x, mask));
      out.push_back(vector::makeArithReduction(
          b, b.getLoc(), kind, x, (*acc)[mt * numRowGroups() + r]));
    }
  }
  return out;
}

FailureOr<SmallVector<Value>>
Distributor::distributeColumnSlice(Operation *op, Layout layout) {
  // Whole column tiles of a tile: lanes keep their elements, the slice only
  // selects (or replaces) the column tiles [t0, t0 + count).
  auto extract = dyn_cast<vector::ExtractStridedSliceOp>(op);
  auto insert = dyn_cast<vector::InsertStridedSliceOp>(op);
  VectorType whole =
      extract ? extract.getSourceVectorType() : insert.getDestVectorType();
  VectorType part = extract ? extract.getType() : insert.getSourceVectorType();
  SmallVector<int64_t> offsets = extract ? getI64SubArray(extract.getOffsets())
                                         : getI64SubArray(insert.getOffsets());
  int64_t cpt = al.colsPerTile();
  bool unitStrides = extract
                         ? llvm::all_of(getI64SubArray(extract.getStrides()),
                                        [](int64_t s) { return s == 1; })
                         : llvm::all_of(getI64SubArray(insert.getStrides()),
                                        [](int64_t s) { return s == 1; });
  if (layout != Layout::Tile || whole.getRank() != 2 || part.getRank() != 2 ||
      !unitStrides || offsets[0] != 0 ||
      part.getDimSize(0) != whole.getDimSize(0) || offsets[1] % cpt != 0 ||
      part.getDimSize(1) % cpt != 0)
    return fail(op, Twine("only slices of whole rows and whole ") + Twine(cpt) +
                        "-column tiles are supported");
  if (failed(checkShape(op, whole, Layout::Tile)) ||
      failed(checkShape(op, part, Layout::Tile)))
    return failure();
  int64_t ntWhole = whole.getDimSize(1) / cpt;
  int64_t ntPart = part.getDimSize(1) / cpt, t0 = offsets[1] / cpt;
  auto slot = [&](int64_t mt, int64_t t, int64_t i) {
    return ((mt * ntWhole + t0 + t) * numC()) + i;
  };
  if (extract) {
    FailureOr<SmallVector<Value>> src =
        distribute(extract.getSource(), Layout::Tile);
    if (failed(src))
      return failure();
    SmallVector<Value> out;
    for (int64_t mt = 0; mt < qTiles; ++mt)
      for (int64_t t = 0; t < ntPart; ++t)
        for (int64_t i = 0; i < numC(); ++i)
          out.push_back((*src)[slot(mt, t, i)]);
    return out;
  }
  FailureOr<SmallVector<Value>> src =
      distribute(insert.getValueToStore(), Layout::Tile);
  FailureOr<SmallVector<Value>> dest =
      distribute(insert.getDest(), Layout::Tile);
  if (failed(src) || failed(dest))
    return failure();
  SmallVector<Value> out = *dest;
  for (int64_t mt = 0; mt < qTiles; ++mt)
    for (int64_t t = 0; t < ntPart; ++t)
      for (int64_t i = 0; i < numC(); ++i)
        out[slot(mt, t, i)] = (*src)[(mt * ntPart + t) * numC() + i];
  return out;
}

FailureOr<SmallVector<Value>> Distributor::distributeOp(Operation *op, Value v,
                                                        Layout layout) {
  auto type = cast<VectorType>(v.getType());
  if (failed(checkShape(op, type, layout)))
    return failure();
  int64_t count = countOf(type, layout);

  if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
    auto dense = dyn_cast<SplatElementsAttr>(cst.getValue());
    if (!dense)
      return fail(op, "only splat vector constants are supported");
    Value scalar = arith::ConstantOp::create(
        b, cast<TypedAttr>(dense.getSplatValue<Attribute>()));
    return SmallVector<Value>(count, scalar);
  }
  if (auto bcast = dyn_cast<vector::BroadcastOp>(op)) {
    Value src = bcast.getSource();
    auto srcType = dyn_cast<VectorType>(src.getType());
    if (!srcType)
      return SmallVector<Value>(count, src);
    if (layout != Layout::Tile)
      return fail(op, "only scalars broadcast to rows or columns");
    int64_t nt = type.getDimSize(1) / al.colsPerTile();
    bool fromRows = srcType.getRank() == 2 && srcType.getDimSize(1) == 1;
    if (!fromRows && srcType.getRank() != 1)
      return fail(op, "expected a broadcast of [rows x 1] or [columns]");
    FailureOr<SmallVector<Value>> s =
        distribute(src, fromRows ? Layout::Row : Layout::Col);
    if (failed(s))
      return failure();
    SmallVector<Value> out;
    for (int64_t mt = 0; mt < qTiles; ++mt)
      for (int64_t t = 0; t < nt; ++t)
        for (int64_t i = 0; i < numC(); ++i)
          out.push_back(fromRows ? (*s)[mt * numRowGroups() + rowGroupOf[i]]
                                 : (*s)[t * numColGroups() + colGroupOf[i]]);
    return out;
  }
  if (auto cast = dyn_cast<vector::ShapeCastOp>(op)) {
    if (layout != Layout::Row)
      return fail(op, "only [rows] <-> [rows x 1] shape casts are supported");
    return distribute(cast.getSource(), Layout::Row);
  }
  if (isa<vector::StepOp>(op)) {
    // (One-dimensional: checkShape rejected a tile.)
    Access a = accessOf(type, layout);
    SmallVector<Value> out;
    for (const SmallVector<int64_t> &e : a.elem)
      out.push_back(arith::AddIOp::create(b, a.base[0], idx(e[0])));
    return out;
  }
  if (auto gather = dyn_cast<vector::GatherOp>(op)) {
    // A gather from a 1-D memref (a custom mask's bytes): each lane loads
    // its elements, with the index clamped into the memref so that no bad
    // index reads outside it.
    auto base = dyn_cast<TypedValue<MemRefType>>(gather.getBase());
    if (!base || base.getType().getRank() != 1)
      return fail(op, "only gathers from a 1-D memref are supported");
    FailureOr<SmallVector<Value>> indices =
        distribute(gather.getIndices(), layout);
    FailureOr<SmallVector<Value>> mask = distribute(gather.getMask(), layout);
    FailureOr<SmallVector<Value>> pass =
        distribute(gather.getPassThru(), layout);
    if (failed(indices) || failed(mask) || failed(pass))
      return failure();
    Value size = memref::DimOp::create(b, base, 0);
    Value last = arith::MaxSIOp::create(
        b, arith::SubIOp::create(b, size, idx(1)), idx(0));
    SmallVector<Value> out;
    for (int64_t i = 0; i < count; ++i) {
      Value at =
          arith::AddIOp::create(b, gather.getOffsets()[0], (*indices)[i]);
      at = arith::MinSIOp::create(b, arith::MaxSIOp::create(b, at, idx(0)),
                                  last);
      Value loaded = memref::LoadOp::create(b, base, at);
      out.push_back(arith::SelectOp::create(b, (*mask)[i], loaded, (*pass)[i]));
    }
    return out;
  }
  if (auto read = dyn_cast<vector::TransferReadOp>(op)) {
    // Tiles are read by the contractions that use them, or, when computed on
    // first (a query tile rotated by fused RoPE), as accumulator-shaped
    // tiles; a row vector (a per-head table's entries for the rows) where
    // it is.
    if (layout == Layout::Tile ||
        (layout == Layout::Row && type.getRank() == 1))
      return load(read, accessOf(type, layout));
    return fail(op, "only tiles and row vectors are read outside "
                    "contractions");
  }
  if (isa<vector::ExtractStridedSliceOp, vector::InsertStridedSliceOp>(op))
    return distributeColumnSlice(op, layout);
  if (auto contract = dyn_cast<vector::ContractionOp>(op)) {
    if (layout != Layout::Tile)
      return fail(op, "a contraction's result is a tile");
    return distributeContract(contract);
  }
  if (auto reduction = dyn_cast<vector::MultiDimReductionOp>(op)) {
    if (layout != Layout::Row)
      return fail(op, "a reduction's result is a row vector");
    return distributeReduction(reduction);
  }
  if (op->hasTrait<OpTrait::Elementwise>() && op->getNumResults() == 1) {
    SmallVector<SmallVector<Value>> operands;
    for (Value operand : op->getOperands()) {
      if (!isa<VectorType>(operand.getType())) {
        operands.push_back(SmallVector<Value>(count, operand));
        continue;
      }
      FailureOr<SmallVector<Value>> d = distribute(operand, layout);
      if (failed(d))
        return failure();
      operands.push_back(*d);
    }
    SmallVector<Value> out;
    Type elemType = type.getElementType();
    for (int64_t i = 0; i < count; ++i) {
      OperationState state(op->getLoc(), op->getName());
      for (auto &o : operands)
        state.addOperands(o[i]);
      state.addTypes(elemType);
      state.addAttributes(op->getAttrs());
      out.push_back(b.create(state)->getResult(0));
    }
    return out;
  }
  return fail(op, "has no distribution to lanes");
}

FailureOr<SmallVector<Value>> Distributor::distribute(Value v, Layout layout) {
  auto key = std::make_pair(v, static_cast<int>(layout));
  auto it = memo.find(key);
  if (it != memo.end())
    return it->second;
  Operation *op = v.getDefiningOp();
  if (!op) {
    emitError(v.getLoc()) << "attn-distribute-to-matrix-instructions: "
                             "cannot distribute this block argument as a "
                          << layoutName(layout);
    return failure();
  }
  OpBuilder::InsertionGuard guard(b);
  // Contractions read their shared operand where they are; everything else
  // is computed right after its definition, which dominates every use.
  if (isa<vector::ContractionOp>(op))
    b.setInsertionPoint(op);
  else
    b.setInsertionPointAfter(op);
  b.setLoc(op->getLoc());
  FailureOr<SmallVector<Value>> out = distributeOp(op, v, layout);
  if (failed(out))
    return failure();
  replaced.insert(op);
  memo[key] = *out;
  return out;
}

LogicalResult Distributor::rebuildLoop(scf::ForOp loop) {
  // Iter args: tiles and row vectors become their lanes' scalars.
  SmallVector<std::optional<Layout>> layouts;
  SmallVector<Value> init;
  SmallVector<std::pair<int64_t, int64_t>> slices; // (first, count)
  for (Value arg : loop.getInitArgs()) {
    auto type = dyn_cast<VectorType>(arg.getType());
    slices.push_back({init.size(), 1});
    if (!type) {
      layouts.push_back(std::nullopt);
      init.push_back(arg);
      continue;
    }
    Layout layout = type.getRank() == 2 ? Layout::Tile : Layout::Row;
    FailureOr<SmallVector<Value>> d = distribute(arg, layout);
    if (failed(d))
      return failure();
    layouts.push_back(layout);
    slices.back().second = d->size();
    llvm::append_range(init, *d);
  }
  b.setInsertionPoint(loop);
  b.setLoc(loop.getLoc());
  auto newLoop = scf::ForOp::create(b, loop.getLowerBound(),
                                    loop.getUpperBound(), loop.getStep(), init);
  Block *oldBody = loop.getBody(), *newBody = newLoop.getBody();
  loop.getInductionVar().replaceAllUsesWith(newLoop.getInductionVar());
  for (auto [i, arg] : llvm::enumerate(loop.getRegionIterArgs())) {
    auto [first, count] = slices[i];
    ArrayRef<BlockArgument> args =
        newLoop.getRegionIterArgs().slice(first, count);
    if (!layouts[i]) {
      arg.replaceAllUsesWith(args.front());
      continue;
    }
    memo[{arg, static_cast<int>(*layouts[i])}] =
        SmallVector<Value>(args.begin(), args.end());
  }
  // Move the body (but the old terminator) into the new loop.
  if (newBody->mightHaveTerminator())
    newBody->getTerminator()->erase();
  auto oldYield = cast<scf::YieldOp>(oldBody->getTerminator());
  newBody->getOperations().splice(newBody->end(), oldBody->getOperations(),
                                  oldBody->begin(), oldYield->getIterator());
  // Nested loops first, in order, so that their results are distributed.
  SmallVector<scf::ForOp> inner;
  for (Operation &op : *newBody)
    if (auto f = dyn_cast<scf::ForOp>(op))
      inner.push_back(f);
  for (scf::ForOp f : inner)
    if (failed(rebuildLoop(f)))
      return failure();
  SmallVector<Value> yielded;
  for (auto [i, v] : llvm::enumerate(oldYield.getOperands())) {
    if (!layouts[i]) {
      yielded.push_back(v);
      continue;
    }
    FailureOr<SmallVector<Value>> d = distribute(v, *layouts[i]);
    if (failed(d))
      return failure();
    llvm::append_range(yielded, *d);
  }
  b.setInsertionPointToEnd(newBody);
  scf::YieldOp::create(b, yielded);
  for (auto [i, result] : llvm::enumerate(loop.getResults())) {
    auto [first, count] = slices[i];
    ValueRange results = newLoop.getResults().slice(first, count);
    if (!layouts[i]) {
      result.replaceAllUsesWith(results.front());
      continue;
    }
    memo[{result, static_cast<int>(*layouts[i])}] =
        SmallVector<Value>(results.begin(), results.end());
  }
  replaced.insert(loop);
  return success();
}

LogicalResult Distributor::distributeWrite(vector::TransferWriteOp op) {
  VectorType type = op.getVectorType();
  Layout layout = type.getRank() == 2 ? Layout::Tile : Layout::Row;
  FailureOr<SmallVector<Value>> values = distribute(op.getVector(), layout);
  if (failed(values))
    return failure();
  b.setInsertionPoint(op);
  b.setLoc(op.getLoc());
  if (failed(store(op, accessOf(type, layout), *values)))
    return failure();
  replaced.insert(op);
  if (Value mask = op.getMask())
    replaced.insert(mask.getDefiningOp());
  return success();
}

LogicalResult Distributor::run() {
  rows = 0;
  Block &entry = func.getBody().front();
  b.setInsertionPointToStart(&entry);
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  lane = arith::RemUIOp::create(b, tid, idx(mi.waveSize));
  Value wave = arith::DivUIOp::create(b, tid, idx(mi.waveSize));

  // The row count of the kernel's tiles fixes the query tiles per wave.
  func.walk([&](vector::ContractionOp op) {
    rows = cast<VectorType>(op.getResultType()).getDimSize(0);
  });
  // Without a contraction there is nothing to lay out; any workgroup-level
  // op is reported below.
  if (rows == 0)
    return removeDeadAndCheck();
  int64_t rpt = al.rowsPerTile();
  if (rows % (numWaves * rpt) != 0)
    return func.emitOpError()
           << "attn-distribute-to-matrix-instructions: " << rows
           << " rows do not split into " << numWaves << " waves of " << rpt
           << "-row tiles";
  qTiles = rows / (numWaves * rpt);
  waveRowBase = arith::MulIOp::create(b, wave, idx(qTiles * rpt));
  laneValuesPoint = waveRowBase.getDefiningOp();
  laneRow = laneValue(al.accRow());
  laneCol = laneValue(al.accCol());
  laneRowAlign = laneAlign(al.accRow());
  laneColAlign = laneAlign(al.accCol());
  for (int64_t i = 0; i < numC(); ++i) {
    auto group = [&](int64_t off, SmallVector<int64_t> &offsets,
                     SmallVector<int64_t> &of) {
      auto *it = llvm::find(offsets, off);
      of.push_back(it - offsets.begin());
      if (it == offsets.end())
        offsets.push_back(off);
    };
    group(elemPart(al.accRow(), i), rowGroupQ, rowGroupOf);
    group(elemPart(al.accCol(), i), colGroupX, colGroupOf);
  }
  for (int64_t bit = 1; bit < mi.waveSize; bit <<= 1) {
    bool shares = true;
    for (int64_t l = 0; l < mi.waveSize && shares; ++l)
      shares = lanePart(al.accRow(), l) == lanePart(al.accRow(), l ^ bit);
    if (shares)
      rowShareMasks.push_back(bit);
  }

  // Loops carrying tiles, outermost first in program order, then the
  // writes, which pull in everything they depend on.
  SmallVector<Operation *> roots;
  for (Operation &op : entry)
    if (isa<scf::ForOp, vector::TransferWriteOp>(op))
      roots.push_back(&op);
  for (Operation *op : roots) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      bool carriesVectors = llvm::any_of(loop.getInitArgs(), [](Value v) {
        return isa<VectorType>(v.getType());
      });
      if (carriesVectors && failed(rebuildLoop(loop)))
        return failure();
      continue;
    }
    if (failed(distributeWrite(cast<vector::TransferWriteOp>(op))))
      return failure();
  }

  // Erase the workgroup-level program, users before producers.
  SmallVector<Operation *> order;
  func.walk<WalkOrder::PostOrder>([&](Operation *op) {
    if (replaced.contains(op))
      order.push_back(op);
  });
  for (Operation *op : llvm::reverse(order)) {
    op->dropAllUses();
    // The bodies of rebuilt loops moved out, still using the old block
    // arguments.
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          arg.dropAllUses();
    op->erase();
  }
  return removeDeadAndCheck();
}

LogicalResult Distributor::removeDeadAndCheck() {
  // Workgroup values nothing used (row positions when no mask needs them).
  SmallVector<Operation *> dead;
  func.walk<WalkOrder::PostOrder>([&](Operation *op) {
    if (llvm::any_of(op->getResultTypes(), llvm::IsaPred<VectorType>))
      dead.push_back(op);
  });
  for (Operation *op : llvm::reverse(dead))
    if (isOpTriviallyDead(op))
      op->erase();
  WalkResult left = func.walk([&](Operation *op) {
    if (isa<vector::ContractionOp, vector::MultiDimReductionOp,
            vector::TransferReadOp, vector::TransferWriteOp, vector::StepOp,
            vector::CreateMaskOp>(op)) {
      op->emitOpError("attn-distribute-to-matrix-instructions: left "
                      "undistributed (not reachable from a loop or a write)");
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(left.wasInterrupted());
}

struct AttnDistributeToMatrixInstructionsPass
    : public attn::impl::AttnDistributeToMatrixInstructionsBase<
          AttnDistributeToMatrixInstructionsPass> {
  void runOnOperation() override {
    // Without the attn dialect loaded no kernel can carry the attribute.
    auto *dialect = getContext().getLoadedDialect<AttnDialect>();
    if (!dialect)
      return;
    auto helper = dialect->getMatrixInstructionAttrHelper();
    WalkResult result = getOperation()->walk([&](gpu::GPUFuncOp func) {
      MatrixInstructionAttr attr = helper.getAttr(func);
      if (!attr)
        return WalkResult::advance();
      std::optional<MatrixInstr> instr = attr.getInstr();
      std::optional<AttentionLayout> layout = getAttentionLayout(*instr);
      std::optional<ArrayRef<int32_t>> block = func.getKnownBlockSize();
      if (!layout || !block || (*block)[0] <= 0 ||
          (*block)[0] > kMaxWorkgroupThreads ||
          (*block)[0] % instr->waveSize != 0 || (*block)[1] != 1 ||
          (*block)[2] != 1) {
        func.emitOpError() << "attn-distribute-to-matrix-instructions: needs "
                              "a known_block_size of 1 to "
                           << kMaxWorkgroupThreads << " threads in whole "
                           << instr->waveSize << "-lane waves along x";
        return WalkResult::interrupt();
      }
      // Tiles beyond kMaxTileDim would only exhaust memory while unrolling.
      // Nor more values per lane than this in one tile: real kernels hold
      // at most 256 (a 256 x 256 f32 accumulator over 256 lanes); past it the
      // unrolled IR takes minutes to canonicalize.
      constexpr int64_t kMaxValuesPerLane = 1024;
      int64_t threads = (*block)[0];
      WalkResult sizes = func.walk([&](Operation *op) {
        auto check = [&](Type type) {
          auto vec = dyn_cast<VectorType>(type);
          if (!vec)
            return true;
          if (llvm::any_of(vec.getShape(),
                           [](int64_t d) { return d > kMaxTileDim; })) {
            op->emitOpError()
                << "attn-distribute-to-matrix-instructions: tile " << type
                << " exceeds " << kMaxTileDim << " in a dimension";
            return false;
          }
          if (vec.getNumElements() > kMaxValuesPerLane * threads) {
            op->emitOpError()
                << "attn-distribute-to-matrix-instructions: tile " << type
                << " needs more than " << kMaxValuesPerLane
                << " values per lane over " << threads << " threads";
            return false;
          }
          return true;
        };
        for (Type type : op->getResultTypes())
          if (!check(type))
            return WalkResult::interrupt();
        for (Region &region : op->getRegions())
          for (Block &block : region)
            for (Type type : block.getArgumentTypes())
              if (!check(type))
                return WalkResult::interrupt();
        return WalkResult::advance();
      });
      if (sizes.wasInterrupted())
        return WalkResult::interrupt();
      Distributor d(func, *layout, (*block)[0] / instr->waveSize);
      if (failed(d.run()))
        return WalkResult::interrupt();
      helper.removeAttr(func);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
