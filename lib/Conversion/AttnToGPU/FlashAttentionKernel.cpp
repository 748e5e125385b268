//===- FlashAttentionKernel.cpp - tiled attention kernel generator --------===//
//
// Builds a FlashAttention-2 style kernel from the generic description of a
// matrix instruction (MatrixInstructions.h): each wave owns a strip of query
// rows, K and V tiles are staged in workgroup memory, both products run on
// the matrix unit, and the softmax is computed online in registers. Which
// lane holds which element comes only from the instruction's layout tables,
// so the same code serves mma.sync and MFMA.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Conversion/AttnToGPU/FlashAttentionKernel.h"

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/DenseMap.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attn;

int64_t FlashAttentionConfig::blockM() const {
  bool direct =
      chooseFormulation(instr).value_or(AttentionFormulation::Direct) ==
      AttentionFormulation::Direct;
  return numWaves * queryTilesPerWave * (direct ? instr.m : instr.n);
}

namespace {

/// Where the elements of one fragment live in a 2-D (slow, fast) memory
/// view: index = lanePart(lane) + elemPart[e] on each axis.
struct FragmentIndexing {
  SmallVector<LayoutTerm, 4> slowLane, fastLane;
  SmallVector<int64_t> slowElem, fastElem;
};

SmallVector<LayoutTerm, 4> laneTerms(ArrayRef<LayoutTerm> terms) {
  SmallVector<LayoutTerm, 4> out;
  for (const LayoutTerm &t : terms)
    if (t.source == LayoutTerm::Source::Lane)
      out.push_back(t);
  return out;
}

int64_t elemPart(ArrayRef<LayoutTerm> terms, int64_t e) {
  int64_t s = 0;
  for (const LayoutTerm &t : terms)
    if (t.source == LayoutTerm::Source::Elem)
      s += t.eval(0, e);
  return s;
}

int64_t lanePart(ArrayRef<LayoutTerm> terms, int64_t lane) {
  int64_t s = 0;
  for (const LayoutTerm &t : terms)
    if (t.source == LayoutTerm::Source::Lane)
      s += t.eval(lane, 0);
  return s;
}

FragmentIndexing indexingOf(const FragmentLayout &layout, bool rowIsFast) {
  ArrayRef<LayoutTerm> slow = rowIsFast ? layout.col : layout.row;
  ArrayRef<LayoutTerm> fast = rowIsFast ? layout.row : layout.col;
  FragmentIndexing ix;
  ix.slowLane = laneTerms(slow);
  ix.fastLane = laneTerms(fast);
  for (int64_t e = 0; e < layout.numElems; ++e) {
    ix.slowElem.push_back(elemPart(slow, e));
    ix.fastElem.push_back(elemPart(fast, e));
  }
  return ix;
}

/// The roles the formulation gives each operand. "q axis" and "key axis"
/// are row or col of the C layout of the score tile.
struct Roles {
  AttentionFormulation form;
  bool direct() const { return form == AttentionFormulation::Direct; }
  // Score tile: C rows are queries (direct) or keys (transposed).
  const FragmentLayout &pOperand(const MatrixInstr &mi) const {
    return direct() ? mi.a : mi.b;
  }
  const FragmentLayout &vOperand(const MatrixInstr &mi) const {
    return direct() ? mi.b : mi.a;
  }
  ArrayRef<LayoutTerm> cQ(const MatrixInstr &mi) const {
    return direct() ? mi.c.row : mi.c.col;
  }
  ArrayRef<LayoutTerm> cKey(const MatrixInstr &mi) const {
    return direct() ? mi.c.col : mi.c.row;
  }
  int64_t keysPerScoreTile(const MatrixInstr &mi) const {
    return direct() ? mi.n : mi.m;
  }
  int64_t queriesPerWave(const MatrixInstr &mi) const {
    return direct() ? mi.m : mi.n;
  }
  int64_t dvPerOutputTile(const MatrixInstr &mi) const {
    return direct() ? mi.n : mi.m;
  }
};

/// For a formulation, the key of element e of the V operand is
/// keyLane(lane) + vKeyElem[e], where keyLane is the score tile's key lane
/// part. Computed from the layouts; fails if P cannot stay in registers.
struct PvMapping {
  int64_t scoreTilesPerChunk;
  SmallVector<int64_t> vKeyElem;
};

FailureOr<PvMapping> derivePvMapping(const MatrixInstr &mi, Roles roles) {
  const FragmentLayout &p = roles.pOperand(mi);
  const FragmentLayout &vop = roles.vOperand(mi);
  int64_t tileKeys = roles.keysPerScoreTile(mi);
  if (mi.k % tileKeys != 0)
    return failure();
  int64_t tiles = mi.k / tileKeys;
  if (p.numElems != tiles * mi.c.numElems)
    return failure();
  // P operand axes: q is row of A (direct) / col of B; k is the other one.
  auto pQ = [&](int64_t l, int64_t e) {
    return roles.direct() ? p.rowOf(l, e) : p.colOf(l, e);
  };
  auto pK = [&](int64_t l, int64_t e) {
    return roles.direct() ? p.colOf(l, e) : p.rowOf(l, e);
  };
  ArrayRef<LayoutTerm> cQ = roles.cQ(mi), cKey = roles.cKey(mi);
  SmallVector<int64_t> perm(mi.k, -1); // operand k index -> key in chunk
  for (int64_t l = 0; l < mi.waveSize; ++l) {
    for (int64_t e = 0; e < p.numElems; ++e) {
      int64_t t = e / mi.c.numElems, i = e % mi.c.numElems;
      int64_t q = FragmentLayout::sum(cQ, l, i);
      int64_t key = t * tileKeys + FragmentLayout::sum(cKey, l, i);
      if (pQ(l, e) != q)
        return failure();
      int64_t &slot = perm[pK(l, e)];
      if (slot != -1 && slot != key)
        return failure();
      slot = key;
    }
  }
  // V operand: key = perm[k of its element]; must split into the score
  // tile's key lane part plus a per-element constant.
  auto vK = [&](int64_t l, int64_t e) {
    return roles.direct() ? vop.rowOf(l, e) : vop.colOf(l, e);
  };
  PvMapping mapping;
  mapping.scoreTilesPerChunk = tiles;
  for (int64_t e = 0; e < vop.numElems; ++e) {
    int64_t delta = perm[vK(0, e)] - lanePart(cKey, 0);
    for (int64_t l = 0; l < mi.waveSize; ++l)
      if (perm[vK(l, e)] - lanePart(cKey, l) != delta)
        return failure();
    mapping.vKeyElem.push_back(delta);
  }
  return mapping;
}

/// Emits the kernel body. Fragments are kept as flat lists of scalars and
/// packed into the dialect op's vector shape right at the instruction.
class KernelEmitter {
public:
  KernelEmitter(ImplicitLocOpBuilder &b, const FlashAttentionConfig &cfg,
                Roles roles, PvMapping pv)
      : b(b), cfg(cfg), mi(cfg.instr), roles(roles), pv(std::move(pv)) {}

  void emit(gpu::GPUFuncOp func);

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f32(float v) {
    return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(v));
  }
  Value negInf() { return f32(-std::numeric_limits<float>::infinity()); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value minIdx(Value x, Value y) { return arith::MinSIOp::create(b, x, y); }
  Value maxIdx(Value x, Value y) { return arith::MaxSIOp::create(b, x, y); }

  /// sum of ((lane / div) % mod) * mul over the lane terms.
  Value laneValue(ArrayRef<LayoutTerm> terms) {
    Value sum = idx(0);
    for (const LayoutTerm &t : terms) {
      if (t.source != LayoutTerm::Source::Lane)
        continue;
      Value v = lane;
      if (t.div != 1)
        v = arith::DivUIOp::create(b, v, idx(t.div));
      if (t.mod < mi.waveSize)
        v = arith::RemUIOp::create(b, v, idx(t.mod));
      if (t.mul != 1)
        v = mul(v, idx(t.mul));
      sum = add(sum, v);
    }
    return sum;
  }

  /// Groups the fragment's elements into runs that are contiguous along the
  /// fast axis, so each run is one vector access.
  SmallVector<std::pair<int64_t, int64_t>>
  contiguousRuns(const FragmentIndexing &ix, int64_t maxLen) {
    int64_t laneAlign = maxLen;
    for (const LayoutTerm &t : ix.fastLane)
      laneAlign = std::gcd(laneAlign, t.mul);
    SmallVector<std::pair<int64_t, int64_t>> runs;
    int64_t n = ix.fastElem.size();
    for (int64_t e = 0; e < n;) {
      int64_t len = 1;
      while (e + len < n && len < laneAlign &&
             ix.slowElem[e + len] == ix.slowElem[e] &&
             ix.fastElem[e + len] == ix.fastElem[e] + len)
        ++len;
      // Keep runs a power of two that divides the start offset, so vector
      // accesses stay naturally aligned.
      while (len > 1 && (ix.fastElem[e] % len != 0 || (len & (len - 1))))
        len /= 2;
      runs.push_back({e, len});
      e += len;
    }
    return runs;
  }

  /// Loads a fragment through `loadRun(slow, fast, len)`.
  SmallVector<Value> loadFragment(
      const FragmentIndexing &ix, Value slowBase, Value fastBase,
      function_ref<SmallVector<Value>(Value, Value, int64_t)> loadRun) {
    Value slowLane = add(slowBase, laneValue(ix.slowLane));
    Value fastLane = add(fastBase, laneValue(ix.fastLane));
    SmallVector<Value> elems(ix.fastElem.size());
    for (auto [start, len] : contiguousRuns(ix, 8)) {
      SmallVector<Value> got =
          loadRun(add(slowLane, idx(ix.slowElem[start])),
                  add(fastLane, idx(ix.fastElem[start])), len);
      for (int64_t i = 0; i < len; ++i)
        elems[start + i] = got[i];
    }
    return elems;
  }

  SmallVector<Value> loadVectorRun(Value memref, ValueRange prefix, Value slow,
                                   Value fast, int64_t len, bool slowFirst) {
    SmallVector<Value> indices(prefix);
    if (slowFirst) {
      indices.push_back(slow);
      indices.push_back(fast);
    } else {
      indices.push_back(fast);
      indices.push_back(slow);
    }
    return loadRun(memref, indices, len);
  }

  SmallVector<Value> loadRun(Value memref, ValueRange indices, int64_t len) {
    Type elemType = cast<MemRefType>(memref.getType()).getElementType();
    if (len == 1)
      return {memref::LoadOp::create(b, memref, indices)};
    auto vecType = VectorType::get({len}, elemType);
    auto load = vector::LoadOp::create(b, vecType, memref, indices);
    load.setAlignment(len * elemType.getIntOrFloatBitWidth() / 8);
    SmallVector<Value> out;
    for (int64_t i = 0; i < len; ++i)
      out.push_back(vector::ExtractOp::create(b, load, i));
    return out;
  }

  Value pack(ArrayRef<Value> elems, ArrayRef<int64_t> shape) {
    auto type = VectorType::get(shape, elems.front().getType());
    return vector::FromElementsOp::create(b, type, elems);
  }

  SmallVector<Value> unpack(Value vec) {
    auto type = cast<VectorType>(vec.getType());
    SmallVector<Value> out;
    int64_t n = type.getNumElements();
    for (int64_t i = 0; i < n; ++i) {
      SmallVector<int64_t> pos;
      int64_t rem = i;
      for (int64_t d = type.getRank() - 1; d >= 0; --d) {
        pos.insert(pos.begin(), rem % type.getDimSize(d));
        rem /= type.getDimSize(d);
      }
      out.push_back(vector::ExtractOp::create(b, vec, pos));
    }
    return out;
  }

  /// D = A * B + C on the matrix unit.
  SmallVector<Value> mma(ArrayRef<Value> a, ArrayRef<Value> bElems,
                         ArrayRef<Value> c) {
    Value va = pack(a, mi.a.vectorShape), vb = pack(bElems, mi.b.vectorShape),
          vc = pack(c, mi.c.vectorShape);
    if (mi.kind == MatrixInstrKind::NvMmaSync &&
        mi.elemType == MatrixElemType::BF16)
      return mmaSyncBF16(a, bElems, c);
    Value d;
    if (mi.kind == MatrixInstrKind::NvMmaSync) {
      d = nvgpu::MmaSyncOp::create(b, va, vb, vc,
                                   ArrayRef<int64_t>{mi.m, mi.n, mi.k});
    } else {
      d = amdgpu::MFMAOp::create(
          b, vc.getType(), b.getI32IntegerAttr(mi.m), b.getI32IntegerAttr(mi.n),
          b.getI32IntegerAttr(mi.k), b.getI32IntegerAttr(1), va, vb, vc);
    }
    return unpack(d);
  }

  /// nvgpu.mma.sync has no bf16 lowering upstream; nvvm.mma.sync takes bf16
  /// operands as i32 pairs, in the same fragment layout as f16.
  SmallVector<Value> mmaSyncBF16(ArrayRef<Value> a, ArrayRef<Value> bElems,
                                 ArrayRef<Value> c) {
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
    Type f32Type = b.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(c.size(), f32Type));
    auto op = NVVM::MmaOp::create(
        b, resultType, asPairs(a), asPairs(bElems), c,
        ArrayRef<int64_t>{mi.m, mi.n, mi.k}, std::nullopt, std::nullopt,
        std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                      NVVM::MMATypes::bf16},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    SmallVector<Value> out;
    for (size_t i = 0; i < c.size(); ++i)
      out.push_back(LLVM::ExtractValueOp::create(b, op, i));
    return out;
  }

  Value shuffleXor(Value v, int64_t mask) {
    auto shuffle = gpu::ShuffleOp::create(b, v, static_cast<int32_t>(mask),
                                          static_cast<int32_t>(mi.waveSize),
                                          gpu::ShuffleMode::XOR);
    return shuffle.getShuffleResult();
  }

  /// Reduces `v` over the lanes that share its query rows.
  Value reduceAcrossLanes(Value v, bool isMax) {
    for (int64_t bit = 1; bit < mi.waveSize; bit <<= 1) {
      if (!reductionBits.contains(bit))
        continue;
      Value other = shuffleXor(v, bit);
      v = isMax ? Value(arith::MaximumFOp::create(b, v, other))
                : Value(arith::AddFOp::create(b, v, other));
    }
    return v;
  }

  void computeRowGroups();
  void copyTilesToWorkgroupMemory(Value kvStartOfTile);

  ImplicitLocOpBuilder &b;
  const FlashAttentionConfig &cfg;
  const MatrixInstr &mi;
  Roles roles;
  PvMapping pv;

  /// The (token, head) of query row `row` (see FlashAttentionConfig::
  /// packHeads); `row` counts from the first row of the grid's x axis.
  std::pair<Value, Value> tokenAndHead(Value row) {
    if (cfg.packHeads)
      return {idx(0), add(headBase, row)};
    return {row, qHead};
  }
  /// Position of row `row`'s token among the keys (for causal/window).
  Value positionOf(Value row) {
    return cfg.packHeads ? posOffset : add(row, posOffset);
  }
  /// Indices of row `row`'s output element (dv appended by the caller) in
  /// oMem: the token, or the split with split-KV.
  SmallVector<Value> outputIndices(Value row) {
    auto [token, head] = tokenAndHead(row);
    return {cfg.kvChunk > 0 ? split : token, head};
  }

  // Values of the kernel prologue.
  Value lane, tid, qMem, kMem, vMem, oMem, lseMem, kTile, vTile;
  Value qHead, kvHead, qoLen, kvLen, qWaveStart, posOffset;
  // Rows that exist (qo_len, or G with packHeads), the first packed head and
  // the split-KV chunk of this workgroup.
  Value numRowsTotal, headBase, split;
  // Lane bits (as masks) across which lanes share query rows.
  llvm::SmallDenseSet<int64_t> reductionBits;
  // Score-tile C element -> index of its query row within the lane.
  SmallVector<int64_t> rowGroupOf;
  SmallVector<int64_t> rowGroupQ; // query offset of each row group
};

void KernelEmitter::computeRowGroups() {
  ArrayRef<LayoutTerm> cQ = roles.cQ(mi);
  for (int64_t e = 0; e < mi.c.numElems; ++e) {
    int64_t q = elemPart(cQ, e);
    auto *it = llvm::find(rowGroupQ, q);
    if (it == rowGroupQ.end()) {
      rowGroupQ.push_back(q);
      rowGroupOf.push_back(rowGroupQ.size() - 1);
    } else {
      rowGroupOf.push_back(it - rowGroupQ.begin());
    }
  }
  for (int64_t bit = 1; bit < mi.waveSize; bit <<= 1) {
    bool shares = true;
    for (int64_t l = 0; l < mi.waveSize && shares; ++l)
      shares = lanePart(cQ, l) == lanePart(cQ, l ^ bit);
    if (shares)
      reductionBits.insert(bit);
  }
}

void KernelEmitter::copyTilesToWorkgroupMemory(Value tileStart) {
  // 16-byte global loads. K keeps its [key][d] layout with consecutive
  // threads along d (coalesced); V is stored transposed as [dv][key] so that
  // the P*V operand reads runs of keys, with consecutive threads along keys
  // so the transposing stores do not collide in banks.
  const int64_t vec = 8;
  int64_t threads = cfg.numWaves * mi.waveSize;
  Type elemType = cfg.elementType;
  auto vecType = VectorType::get({vec}, elemType);
  Value lastKey = arith::SubIOp::create(b, kvLen, idx(1));

  int64_t kChunks = cfg.blockN * cfg.headDim / vec;
  // A last, partial round of chunks leaves some threads idle.
  auto guardPartialRound = [&](int64_t it, int64_t chunks, Value linear) {
    if ((it + 1) * threads <= chunks)
      return;
    Value inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, linear,
                                          idx(chunks));
    auto ifOp = scf::IfOp::create(b, inRange, /*withElseRegion=*/false);
    b.setInsertionPointToStart(ifOp.thenBlock());
  };
  for (int64_t it = 0; it * threads < kChunks; ++it) {
    OpBuilder::InsertionGuard guard(b);
    Value linear = add(tid, idx(it * threads));
    guardPartialRound(it, kChunks, linear);
    Value row = arith::DivUIOp::create(b, linear, idx(cfg.headDim / vec));
    Value col = mul(arith::RemUIOp::create(b, linear, idx(cfg.headDim / vec)),
                    idx(vec));
    // Rows past the end read the last key; the score mask discards them.
    Value key = minIdx(add(tileStart, row), lastKey);
    auto load =
        vector::LoadOp::create(b, vecType, kMem, ValueRange{key, kvHead, col});
    load.setAlignment(16);
    auto store = vector::StoreOp::create(b, load, kTile, ValueRange{row, col});
    store.setAlignment(16);
  }
  int64_t vChunks = cfg.blockN * cfg.headDimV / vec;
  for (int64_t it = 0; it * threads < vChunks; ++it) {
    OpBuilder::InsertionGuard guard(b);
    Value linear = add(tid, idx(it * threads));
    guardPartialRound(it, vChunks, linear);
    Value row = arith::RemUIOp::create(b, linear, idx(cfg.blockN));
    Value col =
        mul(arith::DivUIOp::create(b, linear, idx(cfg.blockN)), idx(vec));
    Value key = minIdx(add(tileStart, row), lastKey);
    auto load =
        vector::LoadOp::create(b, vecType, vMem, ValueRange{key, kvHead, col});
    load.setAlignment(16);
    for (int64_t j = 0; j < vec; ++j) {
      Value x = vector::ExtractOp::create(b, load, j);
      memref::StoreOp::create(b, x, vTile, ValueRange{add(col, idx(j)), row});
    }
  }
}

void KernelEmitter::emit(gpu::GPUFuncOp func) {
  Block &entry = func.getBody().front();
  b.setInsertionPointToStart(&entry);
  qMem = func.getArgument(0);
  kMem = func.getArgument(1);
  vMem = func.getArgument(2);
  oMem = func.getArgument(3);
  lseMem = cfg.withLse || cfg.kvChunk > 0 ? func.getArgument(4) : Value();
  kTile = func.getWorkgroupAttributions()[0];
  vTile = func.getWorkgroupAttributions()[1];
  computeRowGroups();

  const int64_t qTiles = cfg.queryTilesPerWave;
  const int64_t numC = mi.c.numElems;
  tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  lane = arith::RemUIOp::create(b, tid, idx(mi.waveSize));
  Value wave = arith::DivUIOp::create(b, tid, idx(mi.waveSize));
  Value qBlock = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  int64_t group = cfg.numQoHeads / cfg.numKvHeads;
  qoLen = memref::DimOp::create(b, qMem, 0);
  if (cfg.packHeads) {
    kvHead = gpu::BlockIdOp::create(b, gpu::Dimension::y);
    headBase = mul(kvHead, idx(group));
    numRowsTotal = idx(group);
  } else {
    qHead = gpu::BlockIdOp::create(b, gpu::Dimension::y);
    kvHead = arith::DivUIOp::create(b, qHead, idx(group));
    numRowsTotal = qoLen;
  }
  if (cfg.kvChunk > 0)
    split = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  kvLen = memref::DimOp::create(b, kMem, 0);
  int64_t qPerTile = roles.queriesPerWave(mi);
  Value qBlockStart = mul(qBlock, idx(cfg.blockM()));
  qWaveStart = add(qBlockStart, mul(wave, idx(qTiles * qPerTile)));
  // Queries are the last qo_len tokens: position = row + kv_len - qo_len.
  posOffset = arith::SubIOp::create(b, kvLen, qoLen);
  SmallVector<Value> qTileStart;
  for (int64_t mt = 0; mt < qTiles; ++mt)
    qTileStart.push_back(add(qWaveStart, idx(mt * qPerTile)));

  // Q fragments. Rows past the end read the last row; their results are
  // never stored. Kept in registers when they fit, else re-read (from L1)
  // at each use.
  const FragmentLayout &qLayout = roles.direct() ? mi.a : mi.b;
  FragmentIndexing qIx = indexingOf(qLayout, /*rowIsFast=*/!roles.direct());
  Value lastQ = arith::SubIOp::create(b, numRowsTotal, idx(1));
  auto loadQ = [&](int64_t mt, int64_t kk) {
    return loadFragment(qIx, qTileStart[mt], idx(kk * mi.k),
                        [&](Value q, Value d, int64_t len) {
                          auto [token, head] = tokenAndHead(minIdx(q, lastQ));
                          return loadRun(qMem, {token, head, d}, len);
                        });
  };
  int64_t dSteps = cfg.headDim / mi.k;
  SmallVector<SmallVector<SmallVector<Value>>> qFrags(qTiles);
  if (cfg.qInRegisters)
    for (int64_t mt = 0; mt < qTiles; ++mt)
      for (int64_t kk = 0; kk < dSteps; ++kk)
        qFrags[mt].push_back(loadQ(mt, kk));

  // The key range this workgroup needs: causal and sliding-window masks
  // skip whole tiles outside it.
  Value qBlockLastPos = positionOf(arith::SubIOp::create(
      b, minIdx(add(qBlockStart, idx(cfg.blockM())), numRowsTotal), idx(1)));
  Value kvEnd = kvLen;
  if (cfg.causal)
    kvEnd = minIdx(kvLen, maxIdx(idx(0), add(qBlockLastPos, idx(1))));
  Value kvBegin = idx(0);
  if (cfg.windowLeft >= 0) {
    Value first =
        arith::SubIOp::create(b, positionOf(qBlockStart), idx(cfg.windowLeft));
    first = maxIdx(idx(0), first);
    kvBegin =
        mul(arith::DivUIOp::create(b, first, idx(cfg.blockN)), idx(cfg.blockN));
  }
  // Split-KV: this workgroup's chunk, a whole number of key tiles.
  if (cfg.kvChunk > 0) {
    Value chunkBegin = mul(split, idx(cfg.kvChunk));
    kvBegin = maxIdx(kvBegin, chunkBegin);
    kvEnd = minIdx(kvEnd, add(chunkBegin, idx(cfg.kvChunk)));
  }

  int64_t tileKeys = roles.keysPerScoreTile(mi);
  int64_t numScoreTiles = cfg.blockN / tileKeys;
  int64_t dvPerTile = roles.dvPerOutputTile(mi);
  int64_t numOutTiles = cfg.headDimV / dvPerTile;
  int64_t numRows = rowGroupQ.size();
  int64_t accPerTile = numOutTiles * numC;

  // Loop state: output accumulators, running max and per-lane partial sum,
  // for each query tile of the wave.
  SmallVector<Value> init;
  Value zero = f32(0.0f);
  init.append(qTiles * accPerTile, zero);
  init.append(qTiles * numRows, negInf());
  init.append(qTiles * numRows, zero);

  float scaleLog2 = cfg.smScale * static_cast<float>(M_LOG2E);
  ArrayRef<LayoutTerm> cKey = roles.cKey(mi), cQ = roles.cQ(mi);
  Value keyLane = laneValue(cKey);
  Value qLaneC = laneValue(cQ);

  const FragmentLayout &kLayout = roles.direct() ? mi.b : mi.a;
  FragmentIndexing kIx = indexingOf(kLayout, /*rowIsFast=*/roles.direct());
  // V operand: slow axis dv from its layout, fast axis key from PvMapping.
  const FragmentLayout &vLayout = roles.vOperand(mi);
  FragmentIndexing vIx = indexingOf(vLayout, /*rowIsFast=*/roles.direct());
  vIx.fastLane = laneTerms(cKey);
  vIx.fastElem = pv.vKeyElem;

  // One key loop; `masked` adds the per-element bounds/causal/window test,
  // which only the tiles that straddle a mask edge need.
  auto keyLoop = [&](Value begin, Value end, ValueRange loopInit,
                     bool masked) -> ValueRange {
    auto loop = scf::ForOp::create(b, begin, end, idx(cfg.blockN), loopInit);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kvStart = loop.getInductionVar();
    ValueRange state = loop.getRegionIterArgs();
    SmallVector<Value> acc(state.begin(), state.begin() + qTiles * accPerTile);
    SmallVector<Value> rowMax(state.begin() + acc.size(),
                              state.begin() + acc.size() + qTiles * numRows);
    SmallVector<Value> rowSum(state.begin() + acc.size() + qTiles * numRows,
                              state.end());

    gpu::BarrierOp::create(b);
    copyTilesToWorkgroupMemory(kvStart);
    gpu::BarrierOp::create(b);

    // S (or S^T) tiles: scores[mt][j] holds the C elements of query tile mt
    // and key tile j. Each K fragment is read once and used by every query
    // tile of the wave, which is what makes several query tiles pay.
    SmallVector<SmallVector<SmallVector<Value>>> scores(
        qTiles, SmallVector<SmallVector<Value>>(
                    numScoreTiles, SmallVector<Value>(numC, zero)));
    for (int64_t kk = 0; kk < dSteps; ++kk) {
      SmallVector<SmallVector<Value>> q(qTiles);
      for (int64_t mt = 0; mt < qTiles; ++mt)
        q[mt] = cfg.qInRegisters ? qFrags[mt][kk] : loadQ(mt, kk);
      for (int64_t j = 0; j < numScoreTiles; ++j) {
        SmallVector<Value> kFrag =
            loadFragment(kIx, idx(j * tileKeys), idx(kk * mi.k),
                         [&](Value key, Value d, int64_t len) {
                           return loadRun(kTile, {key, d}, len);
                         });
        for (int64_t mt = 0; mt < qTiles; ++mt) {
          SmallVector<Value> &s = scores[mt][j];
          s = roles.direct() ? mma(q[mt], kFrag, s) : mma(kFrag, q[mt], s);
        }
      }
    }

    // Scale to log2 units and mask.
    Value scale = f32(scaleLog2);
    for (int64_t mt = 0; mt < qTiles && !masked; ++mt)
      for (auto &tile : scores[mt])
        for (Value &s : tile)
          s = arith::MulFOp::create(b, s, scale);
    for (int64_t mt = 0; mt < qTiles && masked; ++mt) {
      Value qPosLane = positionOf(add(qTileStart[mt], qLaneC));
      for (int64_t j = 0; j < numScoreTiles; ++j) {
        for (int64_t e = 0; e < numC; ++e) {
          Value &s = scores[mt][j][e];
          Value key =
              add(add(kvStart, keyLane), idx(j * tileKeys + elemPart(cKey, e)));
          // Packed rows are heads of the one token: one position.
          Value qPos =
              cfg.packHeads ? qPosLane : add(qPosLane, idx(elemPart(cQ, e)));
          Value valid =
              arith::CmpIOp::create(b, arith::CmpIPredicate::slt, key, kvLen);
          if (cfg.causal)
            valid = arith::AndIOp::create(
                b, valid,
                arith::CmpIOp::create(b, arith::CmpIPredicate::sle, key, qPos));
          if (cfg.windowLeft >= 0) {
            Value lo = arith::SubIOp::create(b, qPos, idx(cfg.windowLeft));
            valid = arith::AndIOp::create(
                b, valid,
                arith::CmpIOp::create(b, arith::CmpIPredicate::sge, key, lo));
          }
          Value scaled = arith::MulFOp::create(b, s, scale);
          s = arith::SelectOp::create(b, valid, scaled, negInf());
        }
      }
    }

    // Online softmax per query row of this lane.
    SmallVector<Value> newMax(qTiles * numRows), newSum(qTiles * numRows);
    SmallVector<Value> alpha(qTiles * numRows), maxForExp(qTiles * numRows);
    for (int64_t mt = 0; mt < qTiles; ++mt) {
      for (int64_t r = 0; r < numRows; ++r) {
        int64_t row = mt * numRows + r;
        Value m = rowMax[row];
        for (auto &s : scores[mt])
          for (int64_t e = 0; e < numC; ++e)
            if (rowGroupOf[e] == r)
              m = arith::MaximumFOp::create(b, m, s[e]);
        m = reduceAcrossLanes(m, /*isMax=*/true);
        newMax[row] = m;
        // A row that has seen no key keeps max -inf; exponentiate against 0
        // so that exp2(-inf - -inf) never produces NaN.
        Value isNegInf =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf());
        maxForExp[row] = arith::SelectOp::create(b, isNegInf, zero, m);
        alpha[row] = math::Exp2Op::create(
            b, arith::SubFOp::create(b, rowMax[row], maxForExp[row]));
        newSum[row] = arith::MulFOp::create(b, rowSum[row], alpha[row]);
      }
      for (auto &s : scores[mt])
        for (int64_t e = 0; e < numC; ++e) {
          int64_t row = mt * numRows + rowGroupOf[e];
          s[e] = math::Exp2Op::create(
              b, arith::SubFOp::create(b, s[e], maxForExp[row]));
          newSum[row] = arith::AddFOp::create(b, newSum[row], s[e]);
        }
      for (int64_t i = 0; i < accPerTile; ++i) {
        Value &x = acc[mt * accPerTile + i];
        x = arith::MulFOp::create(b, x,
                                  alpha[mt * numRows + rowGroupOf[i % numC]]);
      }
    }

    // O += P V: P chunks come straight from the score registers; each V
    // fragment is read once for all query tiles.
    int64_t chunkTiles = pv.scoreTilesPerChunk;
    for (int64_t c = 0; c * chunkTiles < numScoreTiles; ++c) {
      SmallVector<SmallVector<Value>> p(qTiles);
      for (int64_t mt = 0; mt < qTiles; ++mt)
        for (int64_t t = 0; t < chunkTiles; ++t)
          for (Value x : scores[mt][c * chunkTiles + t])
            p[mt].push_back(arith::TruncFOp::create(b, cfg.elementType, x));
      for (int64_t t = 0; t < numOutTiles; ++t) {
        SmallVector<Value> vFrag =
            loadFragment(vIx, idx(t * dvPerTile), idx(c * mi.k),
                         [&](Value dv, Value key, int64_t len) {
                           return loadRun(vTile, {dv, key}, len);
                         });
        for (int64_t mt = 0; mt < qTiles; ++mt) {
          auto slot = acc.begin() + mt * accPerTile + t * numC;
          SmallVector<Value> cIn(slot, slot + numC);
          SmallVector<Value> d =
              roles.direct() ? mma(p[mt], vFrag, cIn) : mma(vFrag, p[mt], cIn);
          llvm::copy(d, slot);
        }
      }
    }

    SmallVector<Value> yielded(acc);
    yielded.append(newMax);
    yielded.append(newSum);
    scf::YieldOp::create(b, yielded);
    return loop.getResults();
  };

  // Tiles wholly inside the keys every row of the workgroup may see run
  // without the mask test; the rest (the tail past kv_len, the causal
  // diagonal, a sliding window's edges) run with it.
  Value unmaskedEnd = kvBegin;
  if (cfg.windowLeft < 0) {
    Value blockN = idx(cfg.blockN);
    unmaskedEnd = mul(arith::DivUIOp::create(b, kvLen, blockN), blockN);
    if (cfg.causal) {
      Value firstPos = add(positionOf(qBlockStart), idx(1));
      Value diag = mul(
          arith::DivUIOp::create(b, maxIdx(idx(0), firstPos), blockN), blockN);
      unmaskedEnd = minIdx(unmaskedEnd, diag);
    }
    unmaskedEnd = maxIdx(kvBegin, minIdx(unmaskedEnd, kvEnd));
  }
  ValueRange interior = keyLoop(kvBegin, unmaskedEnd, init, /*masked=*/false);
  SmallVector<Value> interiorResults(interior.begin(), interior.end());
  ValueRange results = keyLoop(unmaskedEnd, kvEnd, interiorResults,
                               /*masked=*/true);

  // Epilogue: finish the row sums across lanes, normalize, store.
  int64_t maxBase = qTiles * accPerTile, sumBase = maxBase + qTiles * numRows;
  SmallVector<Value> invSum(qTiles * numRows), lse(qTiles * numRows);
  for (int64_t row = 0; row < qTiles * numRows; ++row) {
    Value m = results[maxBase + row];
    Value l = reduceAcrossLanes(results[sumBase + row], /*isMax=*/false);
    Value positive =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, l, zero);
    invSum[row] = arith::SelectOp::create(
        b, positive, arith::DivFOp::create(b, f32(1.0f), l), zero);
    Value logSum = arith::AddFOp::create(b, m, math::Log2Op::create(b, l));
    lse[row] = arith::SelectOp::create(b, positive, logSum, negInf());
  }

  FragmentIndexing oIx = indexingOf(mi.c, /*rowIsFast=*/!roles.direct());
  Value dvLane = laneValue(oIx.fastLane);
  // Split-KV partials stay f32.
  Type outType = cast<MemRefType>(oMem.getType()).getElementType();
  for (int64_t mt = 0; mt < qTiles; ++mt) {
    Value qLane = add(qTileStart[mt], laneValue(oIx.slowLane));
    for (int64_t t = 0; t < numOutTiles; ++t) {
      for (auto [start, len] : contiguousRuns(oIx, 8)) {
        Value q = add(qLane, idx(oIx.slowElem[start]));
        Value dv = add(dvLane, idx(t * dvPerTile + oIx.fastElem[start]));
        SmallVector<Value> vals;
        for (int64_t i = 0; i < len; ++i) {
          Value x = arith::MulFOp::create(
              b, results[mt * accPerTile + t * numC + start + i],
              invSum[mt * numRows + rowGroupOf[start + i]]);
          if (outType != x.getType())
            x = arith::TruncFOp::create(b, outType, x);
          vals.push_back(x);
        }
        Value inBounds = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, q,
                                               numRowsTotal);
        auto ifOp = scf::IfOp::create(b, inBounds, /*withElseRegion=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        SmallVector<Value> at = outputIndices(q);
        at.push_back(dv);
        if (len == 1) {
          memref::StoreOp::create(b, vals[0], oMem, at);
        } else {
          Value vec = vector::FromElementsOp::create(
              b, VectorType::get({len}, outType), vals);
          auto store = vector::StoreOp::create(b, vec, oMem, at);
          store.setAlignment(len * outType.getIntOrFloatBitWidth() / 8);
        }
      }
    }
    if (!lseMem)
      continue;
    for (int64_t r = 0; r < numRows; ++r) {
      Value q = add(add(qTileStart[mt], qLaneC), idx(rowGroupQ[r]));
      Value inBounds =
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, q, numRowsTotal);
      auto ifOp = scf::IfOp::create(b, inBounds, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      // Every lane of the row holds the same value; all may store it.
      memref::StoreOp::create(b, lse[mt * numRows + r], lseMem,
                              outputIndices(q));
    }
  }
  gpu::ReturnOp::create(b);
}

} // namespace

FailureOr<AttentionFormulation>
mlir::attn::chooseFormulation(const MatrixInstr &instr) {
  for (AttentionFormulation form :
       {AttentionFormulation::Direct, AttentionFormulation::Transposed})
    if (succeeded(derivePvMapping(instr, Roles{form})))
      return form;
  return failure();
}

FailureOr<gpu::GPUFuncOp>
mlir::attn::buildFlashAttentionKernel(OpBuilder &builder, Location loc,
                                      gpu::GPUModuleOp module, StringRef name,
                                      const FlashAttentionConfig &cfg) {
  FailureOr<AttentionFormulation> form = chooseFormulation(cfg.instr);
  if (failed(form))
    return failure();
  Roles roles{*form};
  PvMapping pv = *derivePvMapping(cfg.instr, roles);

  MLIRContext *ctx = builder.getContext();
  Type elem = cfg.elementType;
  int64_t dyn = ShapedType::kDynamic;
  // Decode (packed heads) has exactly one query token.
  int64_t qTokens = cfg.packHeads ? 1 : dyn;
  Type f32 = Float32Type::get(ctx);
  SmallVector<Type> args = {
      MemRefType::get({qTokens, cfg.numQoHeads, cfg.headDim}, elem),
      MemRefType::get({dyn, cfg.numKvHeads, cfg.headDim}, elem),
      MemRefType::get({dyn, cfg.numKvHeads, cfg.headDimV}, elem)};
  if (cfg.kvChunk > 0) {
    // o_part [splits, Hq, Dv] and lse_part [splits, Hq], f32.
    args.push_back(MemRefType::get({dyn, cfg.numQoHeads, cfg.headDimV}, f32));
    args.push_back(MemRefType::get({dyn, cfg.numQoHeads}, f32));
  } else {
    args.push_back(
        MemRefType::get({qTokens, cfg.numQoHeads, cfg.headDimV}, elem));
    if (cfg.withLse)
      args.push_back(MemRefType::get({qTokens, cfg.numQoHeads}, f32));
  }
  // Rows padded by 16 bytes to spread fragment reads over the banks.
  const int64_t pad = 8;
  auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  SmallVector<Type> workgroup = {
      MemRefType::get({cfg.blockN, cfg.headDim + pad}, elem,
                      MemRefLayoutAttrInterface(), wg),
      MemRefType::get({cfg.headDimV, cfg.blockN + pad}, elem,
                      MemRefLayoutAttrInterface(), wg)};

  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(
      builder, loc, name, builder.getFunctionType(args, {}), workgroup);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  int32_t threads = static_cast<int32_t>(cfg.numWaves * cfg.instr.waveSize);
  func.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr({threads, 1, 1}));

  ImplicitLocOpBuilder b(loc, builder);
  KernelEmitter(b, cfg, roles, std::move(pv)).emit(func);
  return func;
}

FailureOr<gpu::GPUFuncOp>
mlir::attn::buildSplitKVMergeKernel(OpBuilder &builder, Location loc,
                                    gpu::GPUModuleOp module, StringRef name,
                                    const FlashAttentionConfig &cfg) {
  if (cfg.headDimV > 1024)
    return failure();
  MLIRContext *ctx = builder.getContext();
  int64_t dyn = ShapedType::kDynamic;
  Type f32 = Float32Type::get(ctx);
  SmallVector<Type> args = {
      MemRefType::get({dyn, cfg.numQoHeads, cfg.headDimV}, f32),
      MemRefType::get({dyn, cfg.numQoHeads}, f32),
      MemRefType::get({1, cfg.numQoHeads, cfg.headDimV}, cfg.elementType)};
  if (cfg.withLse)
    args.push_back(MemRefType::get({1, cfg.numQoHeads}, f32));

  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(builder, loc, name,
                                     builder.getFunctionType(args, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  func.setKnownBlockSizeAttr(
      builder.getDenseI32ArrayAttr({static_cast<int32_t>(cfg.headDimV), 1, 1}));

  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&func.getBody().front());
  Value oPart = func.getArgument(0), lsePart = func.getArgument(1),
        o = func.getArgument(2);
  auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  auto cst = [&](float v) {
    return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(v));
  };
  Value negInf = cst(-std::numeric_limits<float>::infinity());
  Value zero = cst(0.0f);
  Value head = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value dv = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value splits = memref::DimOp::create(b, oPart, 0);
  Value c0 = idx(0);

  // One pass with online rescaling, `unroll` splits per trip so that their
  // loads are in flight together (each thread's chain of dependent loads is
  // what bounds this kernel). State: running max m of the partial lse, the
  // sum of 2^(lse_z - m) and the weighted sum of the partial outputs.
  const int64_t unroll = 8;
  Value lastSplit = arith::SubIOp::create(b, splits, idx(1));
  auto loop = scf::ForOp::create(b, c0, splits, idx(unroll),
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
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, z, splits);
      l[i] = arith::SelectOp::create(
          b, inRange, memref::LoadOp::create(b, lsePart, ValueRange{zc, head}),
          negInf);
      x[i] = memref::LoadOp::create(b, oPart, ValueRange{zc, head, dv});
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
  Value mExp = arith::SelectOp::create(
      b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf), zero,
      m);
  Value positive =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, zero);
  Value out = arith::SelectOp::create(b, positive,
                                      arith::DivFOp::create(b, acc, sum), zero);
  if (out.getType() != cfg.elementType)
    out = arith::TruncFOp::create(b, cfg.elementType, out);
  memref::StoreOp::create(b, out, o, ValueRange{c0, head, dv});
  if (cfg.withLse) {
    Value lse = arith::SelectOp::create(
        b, positive,
        arith::AddFOp::create(b, mExp, math::Log2Op::create(b, sum)), negInf);
    Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, dv, c0);
    auto ifOp = scf::IfOp::create(b, first, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    memref::StoreOp::create(b, lse, func.getArgument(3), ValueRange{c0, head});
  }
  b.setInsertionPointToEnd(&func.getBody().front());
  gpu::ReturnOp::create(b);
  return func;
}
