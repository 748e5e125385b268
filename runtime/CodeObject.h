//===- CodeObject.h - Recognize GPU code objects ----------------*- C++ -*-===//
//
// Picks the backend from the ELF header of a code object: EM_CUDA cubins go
// to the CUDA driver, EM_AMDGPU code objects to HIP.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHINFER_RUNTIME_CODEOBJECT_H
#define FLASHINFER_RUNTIME_CODEOBJECT_H

#include "Manifest.h"

#include <cstddef>
#include <string>

namespace fimlir {

constexpr unsigned kElfMachineCuda = 190;   // EM_CUDA
constexpr unsigned kElfMachineAmdgpu = 224; // EM_AMDGPU

// Returns false with a message unless `image` is a little-endian 64-bit ELF
// whose machine is EM_CUDA or EM_AMDGPU and whose program and section header
// tables lie inside the image.
bool detectCodeObject(const void *image, size_t size, TargetKind &kind,
                      std::string &error);

const char *codeObjectKindName(TargetKind kind);
// "a" or "an", to go before codeObjectKindName in messages.
const char *codeObjectKindArticle(TargetKind kind);

} // namespace fimlir

#endif // FLASHINFER_RUNTIME_CODEOBJECT_H
