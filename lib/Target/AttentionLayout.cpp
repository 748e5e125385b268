//===- AttentionLayout.cpp - attention's products on a matrix instr -------===//

#include "flashinfer/Target/AttentionLayout.h"

using namespace mlir::attn;

int64_t mlir::attn::lanePart(llvm::ArrayRef<LayoutTerm> terms, int64_t lane) {
  int64_t s = 0;
  for (const LayoutTerm &t : terms)
    if (t.source == LayoutTerm::Source::Lane)
      s += t.eval(lane, 0);
  return s;
}

int64_t mlir::attn::elemPart(llvm::ArrayRef<LayoutTerm> terms, int64_t elem) {
  int64_t s = 0;
  for (const LayoutTerm &t : terms)
    if (t.source == LayoutTerm::Source::Elem)
      s += t.eval(0, elem);
  return s;
}

/// Fills in the P V mapping of `layout`; false if P cannot stay in
/// registers: every element of the P operand must be an accumulator element
/// of the same lane and query row, and the V operand's keys must then split
/// into the accumulator's column lane part plus a per-element constant.
static bool derivePvMapping(AttentionLayout &layout) {
  const MatrixInstr &mi = layout.instr;
  const FragmentLayout &p = layout.queryOperand();
  int64_t tileKeys = layout.colsPerTile();
  if (mi.k % tileKeys != 0)
    return false;
  int64_t tiles = mi.k / tileKeys;
  if (p.numElems != tiles * mi.c.numElems)
    return false;
  llvm::ArrayRef<LayoutTerm> pRow = layout.queryOperandRow(),
                             pK = layout.queryOperandK();
  llvm::ArrayRef<LayoutTerm> cRow = layout.accRow(), cCol = layout.accCol();
  // Operand k index -> key within the chunk of score tiles.
  llvm::SmallVector<int64_t> perm(mi.k, -1);
  for (int64_t l = 0; l < mi.waveSize; ++l) {
    for (int64_t e = 0; e < p.numElems; ++e) {
      int64_t t = e / mi.c.numElems, i = e % mi.c.numElems;
      int64_t key = t * tileKeys + FragmentLayout::sum(cCol, l, i);
      if (FragmentLayout::sum(pRow, l, e) != FragmentLayout::sum(cRow, l, i))
        return false;
      int64_t &slot = perm[FragmentLayout::sum(pK, l, e)];
      if (slot != -1 && slot != key)
        return false;
      slot = key;
    }
  }
  const FragmentLayout &v = layout.sharedOperand();
  llvm::ArrayRef<LayoutTerm> vK = layout.sharedOperandK();
  layout.scoreTilesPerChunk = tiles;
  layout.vKeyElem.clear();
  for (int64_t e = 0; e < v.numElems; ++e) {
    int64_t delta = perm[FragmentLayout::sum(vK, 0, e)] - lanePart(cCol, 0);
    for (int64_t l = 0; l < mi.waveSize; ++l)
      if (perm[FragmentLayout::sum(vK, l, e)] - lanePart(cCol, l) != delta)
        return false;
    layout.vKeyElem.push_back(delta);
  }
  return true;
}

std::optional<AttentionLayout>
mlir::attn::getAttentionLayout(const MatrixInstr &instr) {
  for (AttentionFormulation form :
       {AttentionFormulation::Direct, AttentionFormulation::Transposed}) {
    AttentionLayout layout{instr, form};
    if (derivePvMapping(layout))
      return layout;
  }
  return std::nullopt;
}
