//===- MatrixInstructions.cpp - the matrix instruction table --------------===//
//
// Lane layouts follow the PTX ISA ("Matrix fragments for mma.m16n8k16") and
// AMD's CDNA3/CDNA4 ISA guides (MFMA operand layouts for wave64).
//
//===----------------------------------------------------------------------===//

#include "flashinfer/Target/MatrixInstructions.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir::attn;

namespace {
using Src = LayoutTerm::Source;
constexpr LayoutTerm lane(int64_t div, int64_t mod, int64_t mul) {
  return {Src::Lane, div, mod, mul};
}
constexpr LayoutTerm elem(int64_t div, int64_t mod, int64_t mul) {
  return {Src::Elem, div, mod, mul};
}

// mma.sync.m16n8k16 (32 lanes): groupID = lane / 4, threadInGroup = lane % 4.
MatrixInstr nvMmaM16N8K16(MatrixElemType type) {
  MatrixInstr mi;
  mi.name = type == MatrixElemType::F16 ? "mma.sync.m16n8k16.f32.f16"
                                        : "mma.sync.m16n8k16.f32.bf16";
  mi.kind = MatrixInstrKind::NvMmaSync;
  mi.elemType = type;
  mi.m = 16;
  mi.n = 8;
  mi.k = 16;
  mi.waveSize = 32;
  mi.maxQueryTilesPerWave = 2;
  mi.wavesPerWorkgroup = 8;
  mi.maxStaticWorkgroupMemory = 48 * 1024;
  // A: a0..a7 as a 4x2 vector; row = g + 8*((e/2)%2), k = 2t + e%2 + 8*(e/4).
  mi.a = {8,
          {lane(4, 8, 1), elem(2, 2, 8)},
          {lane(1, 4, 2), elem(1, 2, 1), elem(4, 2, 8)},
          {4, 2}};
  // B: b0..b3 as 2x2; k = 2t + e%2 + 8*(e/2), n = g.
  mi.b = {4,
          {lane(1, 4, 2), elem(1, 2, 1), elem(2, 2, 8)},
          {lane(4, 8, 1)},
          {2, 2}};
  // C/D: c0..c3 as 2x2; row = g + 8*(e/2), col = 2t + e%2.
  mi.c = {4,
          {lane(4, 8, 1), elem(2, 2, 8)},
          {lane(1, 4, 2), elem(1, 2, 1)},
          {2, 2}};
  // ldmatrix.x{1,2,4}.b16: 8x8 tiles; lane l holds row l / 4, columns
  // 2 (l % 4) + {0, 1} of each (.trans: rows 2 (l % 4) + {0, 1}, column
  // l / 4).
  mi.tileLoad = TileLoad{
      8,
      8,
      4,
      {2, {lane(4, 8, 1)}, {lane(1, 4, 2), elem(1, 2, 1)}, {2}},
      FragmentLayout{2, {lane(1, 4, 2), elem(1, 2, 1)}, {lane(4, 8, 1)}, {2}}};
  // cp.async.cg: 16 bytes per thread.
  mi.asyncCopyBytes = 16;
  return mi;
}

// v_mfma_f32_16x16x{16,32}{f16,bf16} (64 lanes): operand k-groups of
// `kPerLane` consecutive elements, lane / 16 picks the group.
MatrixInstr amdMfma16x16(MatrixElemType type, int64_t k) {
  MatrixInstr mi;
  bool f16 = type == MatrixElemType::F16;
  if (k == 16)
    mi.name = f16 ? "v_mfma_f32_16x16x16_f16" : "v_mfma_f32_16x16x16_bf16";
  else
    mi.name = f16 ? "v_mfma_f32_16x16x32_f16" : "v_mfma_f32_16x16x32_bf16";
  mi.kind = MatrixInstrKind::AmdMfma;
  mi.elemType = type;
  mi.m = 16;
  mi.n = 16;
  mi.k = k;
  mi.waveSize = 64;
  int64_t kPerLane = k / 4;
  // A: row = lane % 16, k = kPerLane * (lane / 16) + e.
  mi.a = {kPerLane,
          {lane(1, 16, 1)},
          {lane(16, 4, kPerLane), elem(1, kPerLane, 1)},
          {kPerLane}};
  // B: k = kPerLane * (lane / 16) + e, col = lane % 16.
  mi.b = {kPerLane,
          {lane(16, 4, kPerLane), elem(1, kPerLane, 1)},
          {lane(1, 16, 1)},
          {kPerLane}};
  // C/D: row = 4 * (lane / 16) + e, col = lane % 16.
  mi.c = {4, {lane(16, 4, 4), elem(1, 4, 1)}, {lane(1, 16, 1)}, {4}};
  return mi;
}
} // namespace

bool mlir::attn::isNvidiaChip(llvm::StringRef chip) {
  return llvm::StringSwitch<bool>(chip)
      .Cases("sm_80", "sm_86", "sm_89", "sm_90", "sm_90a", true)
      .Default(false);
}

bool mlir::attn::isAmdChip(llvm::StringRef chip) {
  return llvm::StringSwitch<bool>(chip)
      .Cases("gfx940", "gfx941", "gfx942", "gfx950", true)
      .Default(false);
}

llvm::SmallVector<MatrixInstr, 2>
mlir::attn::getMatrixInstrs(llvm::StringRef chip, MatrixElemType type) {
  if (isNvidiaChip(chip))
    return {nvMmaM16N8K16(type)};
  // gfx950 doubles the K depth of the 16x16 f16/bf16 MFMA and keeps
  // CDNA3's, which takes head dims that are odd multiples of 16.
  if (chip == "gfx950")
    return {amdMfma16x16(type, 32), amdMfma16x16(type, 16)};
  if (isAmdChip(chip))
    return {amdMfma16x16(type, 16)};
  return {};
}

std::optional<MatrixInstr> mlir::attn::getMatrixInstr(llvm::StringRef chip,
                                                      MatrixElemType type) {
  llvm::SmallVector<MatrixInstr, 2> instrs = getMatrixInstrs(chip, type);
  if (instrs.empty())
    return std::nullopt;
  return instrs.front();
}

std::optional<MatrixInstr>
mlir::attn::getMatrixInstrByName(llvm::StringRef name) {
  for (MatrixElemType type : {MatrixElemType::F16, MatrixElemType::BF16})
    for (MatrixInstr mi :
         {nvMmaM16N8K16(type), amdMfma16x16(type, 16), amdMfma16x16(type, 32)})
      if (mi.name == name)
        return mi;
  return std::nullopt;
}
