//===- AttentionLayout.h - attention's products on a matrix instr -*- C++ -*-//
//
// What the lane layouts of one matrix instruction imply for attention: which
// operand carries the query rows, and whether the probabilities P can feed
// the second product straight from the score accumulators.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHINFER_TARGET_ATTENTIONLAYOUT_H
#define FLASHINFER_TARGET_ATTENTIONLAYOUT_H

#include "flashinfer/Target/MatrixInstructions.h"

namespace mlir::attn {

/// Which way the two products of attention are laid onto the instruction:
/// `Direct` computes S = Q K^T with Q as the A operand and feeds P as the A
/// operand of P V; `Transposed` computes S^T = K Q^T and feeds P^T as the B
/// operand of V^T P^T.
enum class AttentionFormulation { Direct, Transposed };

/// The roles one formulation gives the operands of one instruction. In
/// "query-major" terms every accumulator tile is [query row, column], where
/// a column is a key (scores) or a value dim (output); the "shared" operand
/// is K or V, read by every query row.
struct AttentionLayout {
  MatrixInstr instr;
  AttentionFormulation form;
  /// Element e of the P operand of P V (or P^T) is taken from accumulator
  /// element e % c.numElems of score tile e / c.numElems of a chunk of
  /// `scoreTilesPerChunk` tiles; in the V operand, element e's key is the
  /// accumulator's column lane part plus `vKeyElem[e]`.
  int64_t scoreTilesPerChunk = 1;
  llvm::SmallVector<int64_t> vKeyElem;

  bool direct() const { return form == AttentionFormulation::Direct; }
  /// Query rows and columns of one accumulator tile.
  int64_t rowsPerTile() const { return direct() ? instr.m : instr.n; }
  int64_t colsPerTile() const { return direct() ? instr.n : instr.m; }
  /// The accumulator's query-row and column terms.
  llvm::ArrayRef<LayoutTerm> accRow() const {
    return direct() ? instr.c.row : instr.c.col;
  }
  llvm::ArrayRef<LayoutTerm> accCol() const {
    return direct() ? instr.c.col : instr.c.row;
  }
  /// The operand that holds query rows (Q, or P) and the shared one (K, V).
  const FragmentLayout &queryOperand() const {
    return direct() ? instr.a : instr.b;
  }
  const FragmentLayout &sharedOperand() const {
    return direct() ? instr.b : instr.a;
  }
  /// Terms of the query operand's row and reduction (k) coordinates, and of
  /// the shared operand's column and k coordinates.
  llvm::ArrayRef<LayoutTerm> queryOperandRow() const {
    return direct() ? instr.a.row : instr.b.col;
  }
  llvm::ArrayRef<LayoutTerm> queryOperandK() const {
    return direct() ? instr.a.col : instr.b.row;
  }
  llvm::ArrayRef<LayoutTerm> sharedOperandCol() const {
    return direct() ? instr.b.col : instr.a.row;
  }
  llvm::ArrayRef<LayoutTerm> sharedOperandK() const {
    return direct() ? instr.b.row : instr.a.col;
  }
};

/// The first formulation under which P stays in registers between the two
/// products, or nullopt if the instruction's layouts allow neither.
std::optional<AttentionLayout> getAttentionLayout(const MatrixInstr &instr);

/// Sum of the lane-only (or element-only) terms of `terms`.
int64_t lanePart(llvm::ArrayRef<LayoutTerm> terms, int64_t lane);
int64_t elemPart(llvm::ArrayRef<LayoutTerm> terms, int64_t elem);

} // namespace mlir::attn

#endif // FLASHINFER_TARGET_ATTENTIONLAYOUT_H
