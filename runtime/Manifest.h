//===- Manifest.h - Kernel manifest and launch arguments --------*- C++ -*-===//
//
// The manifest (version 1) that the compiler writes beside a code object:
// target, binary, and per kernel its launch shape and argument list. This
// file also checks launch arguments against it, evaluates the grid, and packs
// kernel parameters in the MLIR memref-descriptor ABI.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHINFER_RUNTIME_MANIFEST_H
#define FLASHINFER_RUNTIME_MANIFEST_H

#include "Json.h"
#include "flashinfer-runtime/runtime.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fimlir {

enum class ArgKind { Memref, Scalar };

// Grid entry: integer | {"dim":[arg,d]} | {"ceil_div":[arg,d,n]} |
// {"mul":[expr,expr]} | {"add":[expr,expr]} | {"min":[expr,expr]}. The divisor
// n of "ceil_div" is a positive integer or the name of an integer scalar
// argument with a "multiple_of" constraint. Memref shapes use the same forms.
struct GridExpr {
  enum class Op { Constant, Dim, CeilDiv, Mul, Add, Min };
  Op op = Op::Constant;
  int64_t value = 1;              // Constant
  int arg = -1;                   // Dim, CeilDiv: index into KernelSpec::args
  int dim = 0;                    // Dim, CeilDiv
  int64_t divisor = 1;            // CeilDiv: a constant divisor, or
  int divisorArg = -1;            //   the scalar argument that is one
  std::vector<GridExpr> operands; // Mul, Add, Min
};

// How a memref argument may be laid out in memory.
enum class MemrefLayout {
  // Row-major with no gaps (the only form kernels of older manifests read).
  Contiguous,
  // Any non-negative strides with a unit innermost stride (views such as q,
  // k and v sliced from one fused projection).
  Strided,
};

struct ArgSpec {
  std::string name;
  ArgKind kind = ArgKind::Scalar;
  fimlir_dtype dtype = FIMLIR_DTYPE_INVALID;
  int rank = 0;
  // Optional shape, one entry per dimension: empty for a free (dynamic)
  // size, else an expression the size must equal (a constant, or a relation
  // to other arguments such as {"dim":["q",0]}). Empty when the manifest
  // gives none.
  std::vector<std::optional<GridExpr>> shape;
  MemrefLayout layout = MemrefLayout::Contiguous;
  // Memrefs: the data pointer and every outer stride (in bytes) must be a
  // multiple of this ("align"; the kernel's widest vector access).
  int64_t alignBytes = 0;
  // Integer scalars: > 0 if the value must be a positive multiple of it
  // ("multiple_of", e.g. a split size the kernel tiles by).
  int64_t multipleOf = 0;
};

struct KernelSpec {
  std::string name;
  std::string op;
  JsonValue params;
  std::array<uint32_t, 3> block = {1, 1, 1};
  std::array<GridExpr, 3> grid;
  uint32_t dynamicSharedMemory = 0;
  std::vector<ArgSpec> args;
  // Number of kernel parameters after memref expansion.
  size_t numParams() const;
};

enum class TargetKind { Cuda, Amdgpu };

// One launch of the sequence: a kernel (index into Manifest::kernels) and,
// for each of its arguments, the sequence argument passed to it.
struct LaunchSpec {
  int kernel = 0;
  std::vector<int> args;
};

// The launch sequence convert-attn-to-gpu records for the function the
// module was made of ("sequence"): its arguments' names, and its launches in
// order. `workspace` names the arguments that are scratch buffers.
struct SequenceSpec {
  std::vector<std::string> args;
  std::vector<LaunchSpec> launches;
  std::vector<std::string> workspace;
};

struct Manifest {
  int version = 0;
  std::string target;
  TargetKind targetKind = TargetKind::Cuda;
  std::string binary;
  std::vector<KernelSpec> kernels;
  // Absent in manifests without a "sequence" (written by hand or by older
  // compilers): their kernels are launched one by one.
  std::optional<SequenceSpec> sequence;

  const KernelSpec *findKernel(const std::string &name) const;
};

// MLIR spelling of a dtype ("f16", "i32", ...); "invalid" for unknown values.
const char *dtypeName(fimlir_dtype dtype);
fimlir_dtype parseDtype(const std::string &name);

// Parses and checks a manifest. `source` names it in messages, which read
// "SOURCE:LINE:COLUMN: message".
bool parseManifest(std::string_view text, const std::string &source,
                   Manifest &out, std::string &error);

struct LaunchDims {
  std::array<uint32_t, 3> grid = {1, 1, 1};
  std::array<uint32_t, 3> block = {1, 1, 1};
  uint32_t dynamicSharedMemory = 0;
  bool empty() const { return !grid[0] || !grid[1] || !grid[2]; }
};

// Checks count, kinds, dtypes, ranks, scalar ranges, then each memref's
// shape relations, layout and alignment.
bool checkArgs(const KernelSpec &kernel, const fimlir_arg *args, int nargs,
               std::string &error);

// Checks the arguments of a manifest's launch sequence: their count, then
// each launch's picks with checkArgs and computeLaunch; `picked` receives
// each launch's arguments. Errors name the launch.
bool checkSequenceArgs(const Manifest &manifest, const fimlir_arg *args,
                       int nargs, std::vector<std::vector<fimlir_arg>> &picked,
                       std::string &error);

// Evaluates the grid for arguments that passed checkArgs.
bool computeLaunch(const KernelSpec &kernel, const fimlir_arg *args,
                   LaunchDims &out, std::string &error);

// Kernel parameters for cuLaunchKernel / hipModuleLaunchKernel: `pointers`
// holds one pointer per parameter into `storage`.
struct PackedParams {
  std::vector<uint64_t> storage;
  std::vector<void *> pointers;
};

// Packs arguments that passed checkArgs: each memref becomes (allocated ptr,
// aligned ptr, offset 0, sizes..., strides...), each scalar its value
// converted to the manifest type.
void packParams(const KernelSpec &kernel, const fimlir_arg *args,
                PackedParams &out);

} // namespace fimlir

#endif // FLASHINFER_RUNTIME_MANIFEST_H
