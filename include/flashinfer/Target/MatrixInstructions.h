//===- MatrixInstructions.h - matrix instruction shapes and layouts -*- C++
//-*-===//
//
// The one place that knows the target matrix instructions: their shapes,
// operand types and which lane holds which element of each operand. Kernel
// generators consume this data and stay target-independent.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHINFER_TARGET_MATRIXINSTRUCTIONS_H
#define FLASHINFER_TARGET_MATRIXINSTRUCTIONS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace mlir::attn {

/// `((lane or element) / div) % mod * mul`: one additive piece of an index.
struct LayoutTerm {
  enum class Source { Lane, Elem };
  Source source;
  int64_t div, mod, mul;
  int64_t eval(int64_t lane, int64_t elem) const {
    int64_t x = source == Source::Lane ? lane : elem;
    return (x / div) % mod * mul;
  }
};

/// Where element `e` of lane `lane` of one operand fragment sits in the
/// operand's (row, col) tile; row and col are sums of terms.
struct FragmentLayout {
  int64_t numElems;
  llvm::SmallVector<LayoutTerm, 4> row, col;
  /// The vector shape the dialect op takes the fragment as (e.g. 4x2 for
  /// nvgpu.mma.sync's A operand); elements are in row-major order of it.
  llvm::SmallVector<int64_t, 2> vectorShape;

  int64_t rowOf(int64_t lane, int64_t elem) const {
    return sum(row, lane, elem);
  }
  int64_t colOf(int64_t lane, int64_t elem) const {
    return sum(col, lane, elem);
  }
  /// The lane-only and element-only parts of row/col: layouts here are
  /// separable, which lets generated code compute `lanePart(lane_id) + c`.
  static int64_t sum(llvm::ArrayRef<LayoutTerm> terms, int64_t lane,
                     int64_t elem) {
    int64_t s = 0;
    for (const LayoutTerm &t : terms)
      s += t.eval(lane, elem);
    return s;
  }
};

/// A collective load of `tileRows x tileCols` tiles of 16-bit elements from
/// memory whose tile rows are contiguous (NVIDIA's ldmatrix): lane l gives
/// the address of row `l % tileRows` of tile `(l / tileRows) % numTiles`,
/// and every lane receives `tile.numElems` elements of each tile, at
/// (tile.row, tile.col) within it.
struct TileLoad {
  int64_t tileRows = 0, tileCols = 0, maxTiles = 0;
  FragmentLayout tile;
  /// The transposing form, if any: the same addresses, each lane receiving
  /// elements of the transposed tile (rows and columns of memory).
  std::optional<FragmentLayout> transposedTile;
};

enum class MatrixInstrKind { NvMmaSync, AmdMfma };
enum class MatrixElemType { F16, BF16 };

/// One matrix-multiply-accumulate instruction: D[MxN] = A[MxK] B[KxN] + C,
/// f32 accumulation, executed by `waveSize` lanes together.
struct MatrixInstr {
  llvm::StringRef name;
  MatrixInstrKind kind;
  MatrixElemType elemType;
  int64_t m, n, k;
  int64_t waveSize;
  FragmentLayout a, b, c;
  /// Tuning: the most query tiles per wave the generator may give a wave on
  /// this target. Two were measured to pay on H100; AMD stays at one until
  /// measured on hardware (on gfx950 two already spill SGPRs).
  int64_t maxQueryTilesPerWave = 1;
  /// Tuning: waves per workgroup. Eight measured best on H100 (each staged
  /// K/V tile serves twice the query rows of four); AMD keeps four (256
  /// lanes) until measured on hardware.
  int64_t wavesPerWorkgroup = 4;
  /// Workgroup memory a kernel may declare statically: 48 KiB on NVIDIA
  /// (more needs dynamic shared memory and an opt-in), the 64 KiB LDS of a
  /// CDNA3 workgroup.
  int64_t maxStaticWorkgroupMemory = 64 * 1024;
  /// A load that fills operand fragments from workgroup memory several
  /// registers at a time, where the target has one.
  std::optional<TileLoad> tileLoad;
  /// Bytes one thread can copy from global to workgroup memory
  /// asynchronously (cp.async on NVIDIA), 0 if the target cannot. With a
  /// transposing tile load, staged tiles then keep their memory layout.
  int64_t asyncCopyBytes = 0;
  /// Tuning: the key tile of decode (one query token), which streams the
  /// cache. 32 keys halve the score registers of 64 (168 instead of 255 on
  /// sm_90a at head dim 128), so more one-wave workgroups stay resident;
  /// measured 0.60-0.70 of copy bandwidth at 32k-128k keys on H100 against
  /// 0.49-0.61 with 64. AMD keeps it until measured on hardware.
  int64_t decodeBlockN = 32;
  /// Tuning: split-KV workgroups per compute unit the planner aims at
  /// (manifest "split_workgroups_per_cu"). Measured on the H200
  /// (docs/performance.md): four for contiguous decode; eight for paged
  /// decode, whose page lookups add latency that more resident waves hide
  /// (0.345 -> 0.276 ms at 64 x 4k keys, 0.181 -> 0.153 ms at 1 x 128k;
  /// sixteen gains nothing more).
  int64_t splitWorkgroupsPerComputeUnit = 4;
  int64_t pagedSplitWorkgroupsPerComputeUnit = 8;
};

/// The matrix instructions of `chip` (sm_90a, gfx942, gfx950) for
/// `elemType`, preferred first; empty if the chip or type is not supported.
/// A kernel takes the first whose shape divides its head dims (gfx950: the
/// 16x16x32 MFMA, or the 16x16x16 one for odd multiples of 16).
llvm::SmallVector<MatrixInstr, 2> getMatrixInstrs(llvm::StringRef chip,
                                                  MatrixElemType elemType);
/// The preferred matrix instruction (getMatrixInstrs' first), or nullopt.
std::optional<MatrixInstr> getMatrixInstr(llvm::StringRef chip,
                                          MatrixElemType elemType);

/// Threads per workgroup on every target the table holds (CUDA and HIP).
inline constexpr int64_t kMaxWorkgroupThreads = 1024;

/// The largest size of any dimension of a workgroup tile (keys per step,
/// query rows, head dims) the GPU stages take: no target's registers or
/// workgroup memory hold more, and larger tiles only exhaust memory while
/// being unrolled.
inline constexpr int64_t kMaxTileDim = 1024;

/// The instruction of the table called `name` (MatrixInstr::name), which is
/// what #attn.matrix_instruction records on a kernel.
std::optional<MatrixInstr> getMatrixInstrByName(llvm::StringRef name);

/// True for the chips the code generator knows: NVIDIA sm_80+ names and
/// AMD CDNA3/4 names.
bool isNvidiaChip(llvm::StringRef chip);
bool isAmdChip(llvm::StringRef chip);

} // namespace mlir::attn

#endif // FLASHINFER_TARGET_MATRIXINSTRUCTIONS_H
