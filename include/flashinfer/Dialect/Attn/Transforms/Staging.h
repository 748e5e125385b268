//===- Staging.h - how tiles are laid out in workgroup memory ---*- C++ -*-===//
//
// The layout rule of attn-promote-to-workgroup-memory, in one place:
// convert-attn-to-gpu sizes tiles (and the manifest's shared memory) by it
// before the pass runs.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHINFER_DIALECT_ATTN_TRANSFORMS_STAGING_H
#define FLASHINFER_DIALECT_ATTN_TRANSFORMS_STAGING_H

#include "flashinfer/Target/MatrixInstructions.h"

#include <array>
#include <cstdint>

namespace mlir::attn {

/// Bytes each thread copies per chunk, and the padding after each buffer
/// row (it spreads fragment reads over the banks).
inline constexpr int64_t kStagingCopyBytes = 16;
inline constexpr int64_t kStagingRowPadBytes = 16;

/// Whether tiles for `mi`'s target are staged with asynchronous copies,
/// which keep the tiles' memory layout (read back with a transposing tile
/// load where needed), rather than through registers with the reduction
/// dim made innermost.
inline bool stagesWithAsyncCopies(const MatrixInstr &mi) {
  return mi.asyncCopyBytes == kStagingCopyBytes && mi.tileLoad &&
         mi.tileLoad->transposedTile;
}

/// Whether a tile whose source holds `sourceElemBytes`-byte elements (fp8:
/// 1) and whose staged copy `tileElemBytes`-byte ones is staged with
/// asynchronous copies: only when nothing is converted on the way, since an
/// asynchronous copy cannot widen; otherwise each thread converts its chunk
/// in registers.
inline bool stagesWithAsyncCopies(const MatrixInstr &mi,
                                  int64_t sourceElemBytes,
                                  int64_t tileElemBytes) {
  return sourceElemBytes == tileElemBytes && stagesWithAsyncCopies(mi);
}

/// The buffer shape that stages a [rows x cols] tile of `elemBytes`-byte
/// elements, stored transposed or not, rows padded.
inline std::array<int64_t, 2> stagedBufferShape(int64_t rows, int64_t cols,
                                                bool transposed,
                                                int64_t elemBytes) {
  int64_t pad = kStagingRowPadBytes / elemBytes;
  return transposed ? std::array<int64_t, 2>{cols, rows + pad}
                    : std::array<int64_t, 2>{rows, cols + pad};
}

} // namespace mlir::attn

#endif // FLASHINFER_DIALECT_ATTN_TRANSFORMS_STAGING_H
