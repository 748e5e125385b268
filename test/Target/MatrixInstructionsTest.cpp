//===- MatrixInstructionsTest.cpp - checks of the matrix instruction table ===//
//
// For every table entry, each operand layout (A: MxK, B: KxN, C: MxN) must
// place the (lane, element) pairs of one wave on the operand's tile as a
// bijection, its element count must match the vector shape the dialect op
// takes, and getAttentionLayout must pick the formulation the kernel relies
// on. A deliberately broken copy of a layout must be caught by the same
// checks. Prints one line per entry for FileCheck (matrix-instructions.test)
// and exits non-zero on any failure.
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Target/MatrixInstructions.h"
#include "flashinfer/Target/AttentionLayout.h"

#include <cstdio>
#include <string>
#include <vector>

using namespace mlir::attn;

namespace {

int failures = 0;
std::vector<std::string> pending;

/// Records a failure; printed by flushFailures after the entry's line.
void fail(const std::string &what) { pending.push_back(what); }

void flushFailures() {
  for (const std::string &what : pending)
    std::printf("FAIL: %s\n", what.c_str());
  failures += static_cast<int>(pending.size());
  pending.clear();
}

/// Returns the problems of `layout` as the `rows` x `cols` operand of a wave
/// of `waveSize` lanes; empty if every cell is covered exactly once.
std::vector<std::string> layoutProblems(const FragmentLayout &layout,
                                        int64_t rows, int64_t cols,
                                        int64_t waveSize) {
  std::vector<std::string> problems;
  int64_t shapeElems = 1;
  for (int64_t d : layout.vectorShape)
    shapeElems *= d;
  if (shapeElems != layout.numElems)
    problems.push_back("vector shape holds " + std::to_string(shapeElems) +
                       " elements, the layout " +
                       std::to_string(layout.numElems));
  if (waveSize * layout.numElems != rows * cols)
    problems.push_back(std::to_string(waveSize) + " lanes x " +
                       std::to_string(layout.numElems) +
                       " elements do not tile " + std::to_string(rows) + "x" +
                       std::to_string(cols));
  std::vector<int> hits(rows * cols, 0);
  for (int64_t lane = 0; lane < waveSize; ++lane) {
    for (int64_t e = 0; e < layout.numElems; ++e) {
      int64_t r = layout.rowOf(lane, e), c = layout.colOf(lane, e);
      if (r < 0 || r >= rows || c < 0 || c >= cols) {
        problems.push_back("lane " + std::to_string(lane) + " element " +
                           std::to_string(e) + " maps outside the tile to (" +
                           std::to_string(r) + ", " + std::to_string(c) + ")");
        continue;
      }
      ++hits[r * cols + c];
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      if (int n = hits[r * cols + c]; n != 1)
        problems.push_back("(" + std::to_string(r) + ", " + std::to_string(c) +
                           ") is covered " + std::to_string(n) + " times");
  return problems;
}

/// Checks one operand and prints `NAME=RxC/E ok` or its first problems.
bool checkOperand(const std::string &entry, const char *name,
                  const FragmentLayout &layout, int64_t rows, int64_t cols,
                  int64_t waveSize) {
  std::vector<std::string> problems =
      layoutProblems(layout, rows, cols, waveSize);
  std::printf(" %s=%lldx%lld/%lld", name, (long long)rows, (long long)cols,
              (long long)layout.numElems);
  for (size_t i = 0; i < problems.size() && i < 4; ++i)
    fail(entry + " " + name + ": " + problems[i]);
  return problems.empty();
}

const char *typeName(MatrixElemType t) {
  return t == MatrixElemType::F16 ? "f16" : "bf16";
}

void checkInstr(const char *chip, MatrixElemType type,
                const std::optional<MatrixInstr> &mi);

/// Every instruction of the chip's list, preferred first; the preferred one
/// is what getMatrixInstr gives.
void checkEntry(const char *chip, MatrixElemType type) {
  llvm::SmallVector<MatrixInstr, 2> instrs = getMatrixInstrs(chip, type);
  std::optional<MatrixInstr> preferred = getMatrixInstr(chip, type);
  if (instrs.empty() || !preferred || preferred->name != instrs[0].name)
    fail(std::string(chip) + ": getMatrixInstr is not the list's first");
  if (instrs.empty())
    checkInstr(chip, type, std::nullopt);
  for (const MatrixInstr &mi : instrs)
    checkInstr(chip, type, mi);
}

void checkInstr(const char *chip, MatrixElemType type,
                const std::optional<MatrixInstr> &mi) {
  std::string entry = std::string(chip) + " " + typeName(type);
  if (!mi) {
    fail(entry + ": no table entry");
    flushFailures();
    return;
  }
  bool amd = isAmdChip(chip);
  std::printf("%s: %s m%lldn%lldk%lld wave%lld", entry.c_str(),
              mi->name.str().c_str(), (long long)mi->m, (long long)mi->n,
              (long long)mi->k, (long long)mi->waveSize);
  if (mi->elemType != type)
    fail(entry + ": the entry's element type differs from the one asked for");
  if (mi->kind != (amd ? MatrixInstrKind::AmdMfma : MatrixInstrKind::NvMmaSync))
    fail(entry + ": wrong instruction kind for the chip's vendor");
  if (mi->waveSize != (amd ? 64 : 32))
    fail(entry + ": wrong wave size");
  bool ok = checkOperand(entry, "A", mi->a, mi->m, mi->k, mi->waveSize);
  ok &= checkOperand(entry, "B", mi->b, mi->k, mi->n, mi->waveSize);
  ok &= checkOperand(entry, "C", mi->c, mi->m, mi->n, mi->waveSize);

  std::optional<AttentionLayout> layout = getAttentionLayout(*mi);
  std::optional<AttentionFormulation> form;
  if (layout)
    form = layout->form;
  const char *formName = !form                                   ? "none"
                         : *form == AttentionFormulation::Direct ? "direct"
                                                                 : "transposed";
  AttentionFormulation expected = mi->kind == MatrixInstrKind::NvMmaSync
                                      ? AttentionFormulation::Direct
                                      : AttentionFormulation::Transposed;
  if (!form || *form != expected) {
    fail(entry + ": getAttentionLayout gave " + formName);
    ok = false;
  }
  std::printf(" %s %s\n", formName, ok ? "ok" : "BROKEN");
  flushFailures();
}

/// The checks must notice a broken layout: each mutation of a correct entry
/// is expected to produce problems.
void checkNegativeControls() {
  MatrixInstr nv = *getMatrixInstr("sm_90a", MatrixElemType::F16);
  MatrixInstr amd = *getMatrixInstr("gfx942", MatrixElemType::F16);
  struct Mutation {
    const char *what;
    FragmentLayout layout;
    int64_t rows, cols, waveSize;
  };
  std::vector<Mutation> mutations;
  // The row's element term of mma.sync's A dropped: rows 8..15 never hit.
  FragmentLayout a = nv.a;
  a.row.pop_back();
  mutations.push_back(
      {"sm_90a A without its element row term", a, nv.m, nv.k, nv.waveSize});
  // threadInGroup stride 2 -> 1 in C's column: columns overlap.
  FragmentLayout c = nv.c;
  c.col[0].mul = 1;
  mutations.push_back(
      {"sm_90a C with column stride 1", c, nv.m, nv.n, nv.waveSize});
  // MFMA B with lane groups of 8 instead of 16.
  FragmentLayout b = amd.b;
  b.col[0].mod = 8;
  mutations.push_back(
      {"gfx942 B with 8 columns", b, amd.k, amd.n, amd.waveSize});
  // A vector shape that disagrees with the element count.
  FragmentLayout shape = amd.a;
  shape.vectorShape = {8};
  mutations.push_back(
      {"gfx942 A with vector shape 8", shape, amd.m, amd.k, amd.waveSize});
  for (const Mutation &m : mutations) {
    std::vector<std::string> problems =
        layoutProblems(m.layout, m.rows, m.cols, m.waveSize);
    if (problems.empty())
      fail(std::string("negative control not detected: ") + m.what);
    else
      std::printf("broken %s: %s\n", m.what, problems.front().c_str());
  }
}

} // namespace

int main() {
  for (const char *chip : {"sm_90a", "gfx942", "gfx950"})
    for (MatrixElemType type : {MatrixElemType::F16, MatrixElemType::BF16})
      checkEntry(chip, type);

  // Every chip name the code generator accepts has an entry; others none.
  for (const char *chip :
       {"sm_80", "sm_86", "sm_89", "sm_90", "gfx940", "gfx941"})
    if (!getMatrixInstr(chip, MatrixElemType::F16))
      fail(std::string(chip) + ": no table entry");
  for (const char *chip : {"sm_75", "gfx90a", "gfx1100", ""})
    if (getMatrixInstr(chip, MatrixElemType::F16) || isNvidiaChip(chip) ||
        isAmdChip(chip))
      fail(std::string("'") + chip + "' should be unsupported");

  checkNegativeControls();
  flushFailures();
  std::printf("failures: %d\n", failures);
  return failures == 0 ? 0 : 1;
}
