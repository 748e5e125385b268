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
  return true;
}

} // namespace fimlir
