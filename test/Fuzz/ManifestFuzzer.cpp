//===- ManifestFuzzer.cpp - libFuzzer target for the manifest reader ------===//
//
// Fuzzes what the runtime does with untrusted input short of the GPU driver:
// parseManifest, then for each kernel checkArgs, computeLaunch and
// packParams on launch arguments derived from the input, and
// detectCodeObject. Input: the manifest text, optionally followed by a NUL
// byte and bytes that drive the arguments (without them the arguments follow
// the manifest). Any sanitizer report, or a violated invariant (trap), is a
// crash. Built with -DFLASHINFER_FUZZ=ON (clang); see scripts/fuzz-runtime.sh.
//
//===----------------------------------------------------------------------===//

#include "CodeObject.h"
#include "FuzzInput.h"
#include "Json.h"
#include "Manifest.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

using namespace fimlir;

namespace {

// The argument bytes, with the values the arguments are drawn as.
class Bytes : public fuzz::FuzzInput {
public:
  using FuzzInput::FuzzInput;

  int64_t i64() { return little<int64_t>(); }

  double f64() {
    int64_t bits = i64();
    double out;
    std::memcpy(&out, &bits, sizeof(out));
    return out;
  }

  // Mostly small sizes, sometimes 0 or an arbitrary (negative, huge) value.
  int64_t size64() {
    uint8_t sel = u8();
    if (sel < 0xC0)
      return 1 + sel % 96;
    if (sel < 0xE0)
      return 0;
    return i64();
  }
};

// Messages are bounded: user values are abbreviated.
constexpr size_t kMaxMessage = 2048;

fimlir_arg makeArg(const ArgSpec &spec, Bytes &in) {
  fimlir_arg a;
  std::memset(&a, 0, sizeof(a));
  uint8_t mode = in.u8();
  // mode >= 0xF0: something deliberately wrong.
  bool wrong = mode >= 0xF0;
  bool tensor = spec.kind == ArgKind::Memref;
  if (wrong && (mode & 3) == 0) {
    a.kind = static_cast<int32_t>(in.u8() % 4); // 0 and 3 are invalid
    tensor = a.kind == FIMLIR_ARG_TENSOR;
  } else {
    a.kind = tensor ? FIMLIR_ARG_TENSOR : FIMLIR_ARG_SCALAR;
  }
  if (tensor) {
    fimlir_tensor &t = a.u.tensor;
    t.rank = spec.rank;
    t.dtype = spec.dtype;
    t.data = reinterpret_cast<void *>(uintptr_t(0x10000));
    if (wrong && (mode & 3) == 1)
      t.rank = static_cast<int8_t>(in.u8()) % 12;
    if (wrong && (mode & 3) == 2)
      t.dtype = in.u8() % 14;
    if (wrong && (mode & 3) == 3)
      t.data = nullptr;
    for (int d = 0; d < FIMLIR_MAX_RANK; ++d) {
      bool isStatic = d < static_cast<int>(spec.shape.size()) &&
                      spec.shape[d] &&
                      spec.shape[d]->op == GridExpr::Op::Constant;
      int64_t size = in.size64();
      // Usually respect a static dimension so later checks are reached.
      t.sizes[d] = isStatic && (in.u8() & 7) ? spec.shape[d]->value : size;
      t.strides[d] = in.size64();
    }
    // Usually row-major strides, so the layout check passes and the
    // relations after it are reached.
    if (in.u8() & 3) {
      int64_t stride = 1;
      for (int d = std::min<int>(t.rank, FIMLIR_MAX_RANK) - 1; d >= 0; --d) {
        t.strides[d] = stride;
        if (__builtin_mul_overflow(stride, t.sizes[d], &stride))
          stride = 1;
      }
    }
    return a;
  }
  fimlir_scalar &s = a.u.scalar;
  s.dtype = spec.dtype;
  if (wrong && (mode & 3) == 1)
    s.dtype = in.u8() % 14;
  bool isInt = s.dtype == FIMLIR_DTYPE_I32 || s.dtype == FIMLIR_DTYPE_I64 ||
               s.dtype == FIMLIR_DTYPE_I1 || s.dtype == FIMLIR_DTYPE_I8 ||
               s.dtype == FIMLIR_DTYPE_I16;
  if (isInt) {
    uint8_t sel = in.u8();
    if (spec.multipleOf > 0 && sel < 0x80)
      s.value.i = spec.multipleOf * (1 + in.u8() % 64);
    else if (sel < 0xC0)
      s.value.i = 1 + sel % 256;
    else
      s.value.i = in.i64();
  } else {
    s.value.f = in.u8() < 0xC0 ? 0.5 * in.u8() : in.f64();
  }
  return a;
}

void fuzzKernel(const KernelSpec &kernel, Bytes &in) {
  // Arguments per spec, capped so one input stays fast.
  size_t count = kernel.args.size() < 256 ? kernel.args.size() : 256;
  std::vector<fimlir_arg> args;
  args.reserve(count + 1);
  for (size_t i = 0; i < count; ++i)
    args.push_back(makeArg(kernel.args[i], in));
  int nargs = static_cast<int>(kernel.args.size());
  uint8_t countMode = in.u8();
  if (countMode >= 0xFC) {
    // Wrong count, negative count, or a null array.
    switch (countMode & 3) {
    case 0:
      nargs += 1;
      args.push_back(args.empty() ? fimlir_arg() : args.back());
      break;
    case 1:
      nargs -= 1;
      break;
    case 2:
      nargs = -1;
      break;
    case 3:
      break;
    }
  }
  if (static_cast<size_t>(nargs) > args.size() && nargs >= 0)
    return; // more than 256 arguments: only the count check would run
  const fimlir_arg *argv =
      countMode >= 0xFC && (countMode & 3) == 3 ? nullptr : args.data();
  if (argv == nullptr && nargs == 0)
    nargs = 1;

  std::string error;
  if (!checkArgs(kernel, argv, nargs, error)) {
    FUZZ_CHECK(!error.empty() && error.size() < kMaxMessage);
    FUZZ_CHECK(error.compare(0, 8, "kernel '") == 0);
    return;
  }
  FUZZ_CHECK(nargs == static_cast<int>(kernel.args.size()));
  LaunchDims dims;
  if (!computeLaunch(kernel, argv, dims, error)) {
    FUZZ_CHECK(!error.empty() && error.size() < kMaxMessage);
    return;
  }
  FUZZ_CHECK(dims.block == kernel.block);
  FUZZ_CHECK(dims.dynamicSharedMemory == kernel.dynamicSharedMemory);
  PackedParams packed;
  packParams(kernel, argv, packed);
  FUZZ_CHECK(packed.storage.size() == kernel.numParams());
  FUZZ_CHECK(packed.pointers.size() == packed.storage.size());
  for (size_t i = 0; i < packed.pointers.size(); ++i)
    FUZZ_CHECK(packed.pointers[i] == &packed.storage[i]);
}

void checkManifest(const Manifest &m) {
  FUZZ_CHECK(m.version == 1 && !m.kernels.empty() && !m.binary.empty());
  FUZZ_CHECK(m.binary.find('\0') == std::string::npos);
  FUZZ_CHECK(m.target.size() <= 64);
  std::unordered_set<std::string> names;
  for (const KernelSpec &k : m.kernels) {
    FUZZ_CHECK(!k.name.empty() && k.name.find('\0') == std::string::npos);
    FUZZ_CHECK(names.insert(k.name).second);
    for (uint32_t b : k.block)
      FUZZ_CHECK(b >= 1 && b <= 1024);
    std::unordered_set<std::string> argNames;
    for (const ArgSpec &a : k.args) {
      FUZZ_CHECK(!a.name.empty() && argNames.insert(a.name).second);
      FUZZ_CHECK(a.rank >= 0 && a.rank <= FIMLIR_MAX_RANK);
      FUZZ_CHECK(a.shape.empty() || a.shape.size() == size_t(a.rank));
    }
    // The params re-serialize to JSON that reads back to the same text.
    std::string json = k.params.serialize();
    JsonValue again;
    std::string error;
    FUZZ_CHECK(parseJson(json, again, error));
    FUZZ_CHECK(again.serialize() == json);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const void *nul = std::memchr(data, 0, size);
  size_t textSize = nul ? static_cast<const uint8_t *>(nul) - data : size;
  std::string_view text(reinterpret_cast<const char *>(data), textSize);
  Bytes in(data + textSize + (nul ? 1 : 0), size - textSize - (nul ? 1 : 0));

  Manifest m;
  std::string error;
  if (!parseManifest(text, "fuzz.json", m, error)) {
    FUZZ_CHECK(error.compare(0, 10, "fuzz.json:") == 0);
    FUZZ_CHECK(error.size() < kMaxMessage);
    return 0;
  }
  FUZZ_CHECK(error.empty());
  checkManifest(m);

  // A few kernels per input.
  for (size_t i = 0; i < m.kernels.size() && i < 4; ++i)
    fuzzKernel(m.kernels[i], in);

  // The remaining bytes as a code object.
  TargetKind kind;
  if (!detectCodeObject(in.rest(), in.restSize(), kind, error))
    FUZZ_CHECK(!error.empty() && error.size() < kMaxMessage);
  return 0;
}
