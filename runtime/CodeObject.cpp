//===- CodeObject.cpp - Recognize GPU code objects ------------------------===//

#include "CodeObject.h"

#include <cstdint>

namespace fimlir {

static constexpr const char *kNotGpu = "not a CUDA cubin or AMDGPU code object";

const char *codeObjectKindName(TargetKind kind) {
  return kind == TargetKind::Cuda ? "CUDA cubin" : "AMDGPU code object";
}

const char *codeObjectKindArticle(TargetKind kind) {
  return kind == TargetKind::Cuda ? "a" : "an";
}

bool detectCodeObject(const void *image, size_t size, TargetKind &kind,
                      std::string &error) {
  const auto *bytes = static_cast<const uint8_t *>(image);
  if (!bytes || size < 4 || bytes[0] != 0x7f || bytes[1] != 'E' ||
      bytes[2] != 'L' || bytes[3] != 'F') {
    error = std::string(kNotGpu) + " (no ELF header)";
    return false;
  }
  // e_machine sits at offset 18 in both ELF32 and ELF64 headers; a full
  // ELF64 header is 64 bytes.
  if (size < 64) {
    error = std::string(kNotGpu) +
            " (truncated ELF header: " + std::to_string(size) + " bytes)";
    return false;
  }
  uint8_t elfClass = bytes[4], elfData = bytes[5];
  if (elfData != 1 && elfData != 2) {
    error = std::string(kNotGpu) + " (invalid ELF data encoding " +
            std::to_string(elfData) + ")";
    return false;
  }
  unsigned machine = elfData == 1 ? bytes[18] | (bytes[19] << 8)
                                  : (bytes[18] << 8) | bytes[19];
  if (machine == kElfMachineCuda)
    kind = TargetKind::Cuda;
  else if (machine == kElfMachineAmdgpu)
    kind = TargetKind::Amdgpu;
  else {
    error = std::string(kNotGpu) + " (ELF e_machine " +
            std::to_string(machine) + ")";
    return false;
  }
  if (elfClass != 2 || elfData != 1) {
    error = std::string(codeObjectKindName(kind)) +
            " must be a little-endian 64-bit ELF";
    return false;
  }
  // The program and section header tables must lie inside the image (the
  // driver walks them); a count of 0 means there is no table.
  auto read = [&](size_t offset, size_t width) {
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i)
      v |= static_cast<uint64_t>(bytes[offset + i]) << (8 * i);
    return v;
  };
  struct Table {
    const char *what;
    uint64_t offset, entrySize, count, minEntrySize;
  };
  const Table tables[] = {
      {"program header table", read(32, 8), read(54, 2), read(56, 2), 56},
      {"section header table", read(40, 8), read(58, 2), read(60, 2), 64},
  };
  for (const Table &t : tables) {
    if (t.count == 0)
      continue;
    if (t.entrySize < t.minEntrySize) {
      error = std::string(codeObjectKindName(kind)) + " has a " + t.what +
              " with " + std::to_string(t.entrySize) +
              "-byte entries (ELF64 needs " + std::to_string(t.minEntrySize) +
              ")";
      return false;
    }
    // entrySize and count are 16-bit, so their product cannot overflow.
    uint64_t bytesNeeded = t.entrySize * t.count;
    if (t.offset > size || bytesNeeded > size - t.offset) {
      error = std::string(codeObjectKindName(kind)) + " is truncated: its " +
              t.what + " (" + std::to_string(t.count) + " entries at offset " +
              std::to_string(t.offset) + ") ends past the image's " +
              std::to_string(size) + " bytes";
      return false;
    }
  }
  return true;
}

} // namespace fimlir
