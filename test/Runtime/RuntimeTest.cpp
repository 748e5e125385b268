//===- RuntimeTest.cpp - Unit test of the launch runtime ------------------===//
//
// Runs without a GPU. Prints one line per check for FileCheck (see
// runtime.test) and also asserts expectations itself, exiting non-zero on a
// mismatch. Driver-dependent checks decide what to expect by trying dlopen on
// the driver libraries themselves.
//
// Usage: flashinfer-runtime-test SCRATCH_DIR
//
//===----------------------------------------------------------------------===//

#include "flashinfer-runtime/runtime.h"
#include "Backend.h"
#include "CodeObject.h"
#include "Manifest.h"

#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace fimlir;

static int failures = 0;

static void expect(bool condition, const std::string &what) {
  if (condition)
    return;
  ++failures;
  std::printf("FAIL: %s\n", what.c_str());
}

// Replaces the scratch directory in `message` so output is stable.
static std::string scrub(std::string message, const std::string &scratch) {
  for (size_t at; (at = message.find(scratch)) != std::string::npos;)
    message.replace(at, scratch.size(), "SCRATCH");
  return message;
}

static bool startsWith(const std::string &s, const std::string &prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

static const char *kValidManifest = R"({
  "version": 1,
  "target": "sm_90a",
  "binary": "attention.cubin",
  "kernels": [ {
    "name": "attn_fwd",
    "op": "attn.attention",
    "params": {"causal": true, "head_dim": 128, "sm_scale": 0.08838834764831845,
               "num_qo_heads": 32, "layout": "NHD", "window": null},
    "block": [128, 1, 1],
    "grid": [ {"ceil_div": ["q", 0, 64]}, {"dim": ["q", 1]}, 1 ],
    "dynamic_shared_memory": 16384,
    "args": [ {"name": "q", "kind": "memref", "dtype": "f16", "rank": 3},
              {"name": "k", "kind": "memref", "dtype": "f16", "rank": 3},
              {"name": "v", "kind": "memref", "dtype": "f16", "rank": 3,
               "shape": [-1, -1, 128]},
              {"name": "o", "kind": "memref", "dtype": "f16", "rank": 3},
              {"name": "qo_len", "kind": "scalar", "dtype": "i32"},
              {"name": "kv_len", "kind": "scalar", "dtype": "i64"},
              {"name": "sm_scale", "kind": "scalar", "dtype": "f32"} ]
  }, {
    "name": "merge",
    "block": [256],
    "grid": [ {"mul": [{"ceil_div": ["s", 0, 128]}, {"dim": ["s", 1]}]} ],
    "dynamic_shared_memory": 65536,
    "args": [ {"name": "s", "kind": "memref", "dtype": "f32", "rank": 2} ]
  } ]
})";

//===----------------------------------------------------------------------===//
// Manifest parsing
//===----------------------------------------------------------------------===//

static void testValidManifest(Manifest &m) {
  std::string error;
  bool ok = parseManifest(kValidManifest, "valid.json", m, error);
  expect(ok, "valid manifest parses: " + error);
  if (!ok)
    return;
  std::printf("valid: version=%d target=%s binary=%s kernels=%zu\n", m.version,
              m.target.c_str(), m.binary.c_str(), m.kernels.size());
  for (const KernelSpec &k : m.kernels) {
    std::printf("kernel %s op='%s' block=%ux%ux%u shmem=%u args=%zu "
                "params=%zu\n",
                k.name.c_str(), k.op.c_str(), k.block[0], k.block[1],
                k.block[2], k.dynamicSharedMemory, k.args.size(),
                k.numParams());
    for (const ArgSpec &a : k.args)
      std::printf("  arg %s %s %s rank=%d shape=%zu\n", a.name.c_str(),
                  a.kind == ArgKind::Memref ? "memref" : "scalar",
                  dtypeName(a.dtype), a.rank, a.shape.size());
    std::printf("  params %s\n", k.params.serialize().c_str());
  }
}

static void checkManifestError(const char *label, const std::string &text,
                               const std::string &expected) {
  Manifest m;
  std::string error;
  bool ok = parseManifest(text, "m.json", m, error);
  expect(!ok, std::string(label) + ": malformed manifest was accepted");
  expect(error == expected, std::string(label) + ": got '" + error +
                                "', expected '" + expected + "'");
  std::printf("bad %s: %s\n", label, error.c_str());
}

// A well-formed manifest with `kernel` as its only kernel.
static std::string withKernel(const std::string &kernel) {
  return "{\"version\": 1, \"target\": \"gfx942\", \"binary\": \"a.hsaco\",\n"
         "\"kernels\": [" +
         kernel + "]}";
}

static void testMalformedManifests() {
  // JSON syntax.
  checkManifestError("empty", "",
                     "m.json:1:1: expected a JSON value, got end "
                     "of input");
  checkManifestError("trailing-comma", "{\"version\": 1,}",
                     "m.json:1:15: expected a string key, got '}'");
  checkManifestError("missing-colon", "{\n  \"version\" 1\n}",
                     "m.json:2:13: expected ':' after object key, got '1'");
  checkManifestError("unterminated-string", "{\"target\": \"sm_90a",
                     "m.json:1:19: unterminated string");
  checkManifestError("leading-zero", "{\"version\": 01}",
                     "m.json:1:14: invalid number: leading zero");
  checkManifestError("bad-literal", "[tru]",
                     "m.json:1:2: invalid literal, expected 'true'");
  checkManifestError("duplicate-key", "{\"version\": 1,\n \"version\": 1}",
                     "m.json:2:2: duplicate key \"version\"");
  checkManifestError("trailing-content", "{} {}",
                     "m.json:1:4: unexpected content after the JSON value");
  checkManifestError("bad-escape", "[\"a\\q\"]",
                     "m.json:1:4: invalid escape '\\q' in string");
  checkManifestError("array-separator", "[1 2]",
                     "m.json:1:4: expected ',' or ']' in array, got '2'");
  checkManifestError("deep", std::string(200, '['),
                     "m.json:1:129: nesting deeper than 128");

  // Format.
  checkManifestError("not-object", "[1]",
                     "m.json:1:1: the manifest must be an object, got array");
  checkManifestError("version-2", "{\"version\": 2, \"target\": \"sm_90a\"}",
                     "m.json:1:13: unsupported manifest version 2 (this "
                     "runtime reads version 1)");
  checkManifestError("version-string", "{\"version\": \"1\"}",
                     "m.json:1:13: \"version\" must be an integer, got string");
  checkManifestError("missing-kernels",
                     "{\"version\": 1, \"target\": \"sm_90a\", \"binary\": "
                     "\"a.cubin\"}",
                     "m.json:1:1: missing required key \"kernels\"");
  checkManifestError("bad-target", "{\"version\": 1, \"target\": \"sm_9x\"}",
                     "m.json:1:26: unsupported target 'sm_9x' (expected "
                     "sm_<NN>[a|f] or gfx<ID>)");
  checkManifestError("no-kernels",
                     "{\"version\": 1, \"target\": \"gfx950\", \"binary\": "
                     "\"a\", \"kernels\": []}",
                     "m.json:1:62: \"kernels\" must list at least one kernel");
  checkManifestError(
      "block-zero",
      withKernel("{\"name\": \"f\", \"args\": [], \"block\": [0, 1], "
                 "\"grid\": [1]}"),
      "m.json:2:49: kernels[0] ('f'): block dimension 0 must be an integer "
      "in [1, 1024]");
  checkManifestError(
      "grid-unknown-arg",
      withKernel("{\"name\": \"f\", \"args\": [], \"block\": [64],\n"
                 "\"grid\": [{\"dim\": [\"q\", 0]}]}"),
      "m.json:3:19: kernels[0] ('f'): grid: \"dim\" refers to unknown "
      "argument 'q'");
  checkManifestError(
      "grid-dim-range",
      withKernel("{\"name\": \"f\", \"block\": [64],\n"
                 "\"args\": [{\"name\": \"q\", \"kind\": \"memref\", "
                 "\"dtype\": \"bf16\", \"rank\": 2}],\n"
                 "\"grid\": [{\"ceil_div\": [\"q\", 2, 16]}]}"),
      "m.json:4:29: kernels[0] ('f'): grid: \"ceil_div\" dimension of 'q' "
      "must be an integer in [0, 2)");
  checkManifestError(
      "grid-divisor",
      withKernel("{\"name\": \"f\", \"block\": [64],\n"
                 "\"args\": [{\"name\": \"q\", \"kind\": \"memref\", "
                 "\"dtype\": \"bf16\", \"rank\": 2}],\n"
                 "\"grid\": [{\"ceil_div\": [\"q\", 1, 0]}]}"),
      "m.json:4:32: kernels[0] ('f'): grid: \"ceil_div\" divisor must be a "
      "positive integer or the name of a scalar argument");
  checkManifestError(
      "grid-scalar-dim",
      withKernel("{\"name\": \"f\", \"block\": [64],\n"
                 "\"args\": [{\"name\": \"n\", \"kind\": \"scalar\", "
                 "\"dtype\": \"i32\"}],\n"
                 "\"grid\": [{\"dim\": [\"n\", 0]}]}"),
      "m.json:4:19: kernels[0] ('f'): grid: \"dim\" refers to 'n', which is "
      "not a memref");
  checkManifestError(
      "grid-unknown-op",
      withKernel("{\"name\": \"f\", \"args\": [], \"block\": [64],\n"
                 "\"grid\": [{\"sub\": [1, 2]}]}"),
      "m.json:3:10: kernels[0] ('f'): grid: unknown operator \"sub\" (expected "
      "\"dim\", \"ceil_div\", \"mul\", \"add\" or \"min\")");
  checkManifestError(
      "grid-float",
      withKernel("{\"name\": \"f\", \"args\": [], \"block\": [64],\n"
                 "\"grid\": [1.5]}"),
      "m.json:3:10: kernels[0] ('f'): grid entry must be an integer or an "
      "object with one key of \"dim\", \"ceil_div\", \"mul\", \"add\", "
      "\"min\"");
  checkManifestError(
      "grid-min-arity",
      withKernel("{\"name\": \"f\", \"args\": [], \"block\": [64],\n"
                 "\"grid\": [{\"min\": [1]}]}"),
      "m.json:3:18: kernels[0] ('f'): \"min\" takes [expr, expr]");
  checkManifestError(
      "unknown-dtype",
      withKernel("{\"name\": \"f\", \"block\": [64], \"grid\": [1],\n"
                 "\"args\": [{\"name\": \"q\", \"kind\": \"memref\", "
                 "\"dtype\": \"f17\", \"rank\": 2}]}"),
      "m.json:3:51: kernels[0] ('f'): args[0] ('q'): unknown dtype 'f17'");
  checkManifestError(
      "scalar-dtype",
      withKernel("{\"name\": \"f\", \"block\": [64], \"grid\": [1],\n"
                 "\"args\": [{\"name\": \"x\", \"kind\": \"scalar\", "
                 "\"dtype\": \"f16\"}]}"),
      "m.json:3:51: kernels[0] ('f'): args[0] ('x'): scalar dtype must be "
      "i32, i64, f32 or f64, got 'f16'");
  checkManifestError(
      "bad-kind",
      withKernel("{\"name\": \"f\", \"block\": [64], \"grid\": [1],\n"
                 "\"args\": [{\"name\": \"x\", \"kind\": \"tensor\"}]}"),
      "m.json:3:32: kernels[0] ('f'): args[0] ('x'): unknown kind 'tensor' "
      "(expected \"memref\" or \"scalar\")");
  checkManifestError(
      "rank-range",
      withKernel("{\"name\": \"f\", \"block\": [64], \"grid\": [1],\n"
                 "\"args\": [{\"name\": \"q\", \"kind\": \"memref\", "
                 "\"dtype\": \"f16\", \"rank\": 9}]}"),
      "m.json:3:66: kernels[0] ('f'): args[0] ('q').rank must be an integer "
      "in [0, 8]");
  checkManifestError(
      "duplicate-arg",
      withKernel("{\"name\": \"f\", \"block\": [64], \"grid\": [1],\n"
                 "\"args\": [{\"name\": \"x\", \"kind\": \"scalar\", "
                 "\"dtype\": \"i32\"},\n"
                 "{\"name\": \"x\", \"kind\": \"scalar\", "
                 "\"dtype\": \"i32\"}]}"),
      "m.json:4:10: kernels[0] ('f'): duplicate argument name 'x'");
  checkManifestError(
      "duplicate-kernel",
      withKernel("{\"name\": \"f\", \"block\": [64], \"grid\": [1], "
                 "\"args\": []},\n"
                 "{\"name\": \"f\", \"block\": [64], \"grid\": [1], "
                 "\"args\": []}"),
      "m.json:3:10: duplicate kernel name 'f'");
  checkManifestError(
      "shmem-negative",
      withKernel("{\"name\": \"f\", \"block\": [64], \"grid\": [1], "
                 "\"args\": [],\n\"dynamic_shared_memory\": -4}"),
      "m.json:3:26: kernels[0] ('f'): \"dynamic_shared_memory\" must be a "
      "non-negative integer (bytes)");
}

//===----------------------------------------------------------------------===//
// Arguments, grid and parameter packing
//===----------------------------------------------------------------------===//

static fimlir_arg tensor(void *data, fimlir_dtype dtype,
                         std::vector<int64_t> sizes) {
  fimlir_arg a;
  std::memset(&a, 0, sizeof(a));
  a.kind = FIMLIR_ARG_TENSOR;
  a.u.tensor.data = data;
  a.u.tensor.dtype = dtype;
  a.u.tensor.rank = static_cast<int32_t>(sizes.size());
  int64_t stride = 1;
  for (int d = a.u.tensor.rank - 1; d >= 0; --d) {
    a.u.tensor.sizes[d] = sizes[d];
    a.u.tensor.strides[d] = stride;
    stride *= sizes[d];
  }
  return a;
}

static fimlir_arg intScalar(int64_t v) {
  fimlir_arg a;
  std::memset(&a, 0, sizeof(a));
  a.kind = FIMLIR_ARG_SCALAR;
  a.u.scalar.dtype = FIMLIR_DTYPE_I64;
  a.u.scalar.value.i = v;
  return a;
}

static fimlir_arg floatScalar(double v) {
  fimlir_arg a;
  std::memset(&a, 0, sizeof(a));
  a.kind = FIMLIR_ARG_SCALAR;
  a.u.scalar.dtype = FIMLIR_DTYPE_F64;
  a.u.scalar.value.f = v;
  return a;
}

static void checkArgError(const char *label, const KernelSpec &kernel,
                          const std::vector<fimlir_arg> &args,
                          const std::string &expected) {
  std::string error;
  bool ok =
      checkArgs(kernel, args.data(), static_cast<int>(args.size()), error);
  expect(!ok, std::string(label) + ": bad arguments were accepted");
  expect(error == expected, std::string(label) + ": got '" + error +
                                "', expected '" + expected + "'");
  std::printf("args %s: %s\n", label, error.c_str());
}

static void testArguments(const Manifest &m) {
  const KernelSpec *attn = m.findKernel("attn_fwd");
  const KernelSpec *merge = m.findKernel("merge");
  expect(attn && merge, "kernels found");
  if (!attn || !merge)
    return;
  // Fake device addresses: nothing is dereferenced.
  void *q = reinterpret_cast<void *>(0x10000),
       *k = reinterpret_cast<void *>(0x20000),
       *v = reinterpret_cast<void *>(0x30000),
       *o = reinterpret_cast<void *>(0x40000);
  std::vector<fimlir_arg> good = {tensor(q, FIMLIR_DTYPE_F16, {1000, 32, 128}),
                                  tensor(k, FIMLIR_DTYPE_F16, {2048, 8, 128}),
                                  tensor(v, FIMLIR_DTYPE_F16, {2048, 8, 128}),
                                  tensor(o, FIMLIR_DTYPE_F16, {1000, 32, 128}),
                                  intScalar(1000),
                                  intScalar(2048),
                                  floatScalar(0.125)};
  std::string error;
  expect(checkArgs(*attn, good.data(), 7, error), "good args: " + error);

  LaunchDims dims;
  expect(computeLaunch(*attn, good.data(), dims, error), "grid: " + error);
  std::printf("launch attn_fwd: %s\n", describeLaunch(dims).c_str());

  // Packing: 4 memrefs of rank 3 (3 + 2*3 slots each) and 3 scalars.
  PackedParams packed;
  packParams(*attn, good.data(), packed);
  expect(packed.pointers.size() == attn->numParams() &&
             packed.storage.size() == 39,
         "packed parameter count");
  expect(packed.pointers[0] == &packed.storage[0] &&
             packed.pointers[38] == &packed.storage[38],
         "parameter pointers point into storage");
  // q descriptor: allocated, aligned, offset, sizes, strides.
  const std::vector<uint64_t> qDesc = {0x10000, 0x10000, 0,   1000, 32,
                                       128,     4096,    128, 1};
  expect(std::vector<uint64_t>(packed.storage.begin(),
                               packed.storage.begin() + 9) == qDesc,
         "memref descriptor of q");
  int32_t qoLen;
  std::memcpy(&qoLen, &packed.storage[36], sizeof(qoLen));
  int64_t kvLen;
  std::memcpy(&kvLen, &packed.storage[37], sizeof(kvLen));
  float scale;
  std::memcpy(&scale, &packed.storage[38], sizeof(scale));
  std::printf("packed: %zu params, q=[%llx %llx %llu | %llu %llu %llu | %llu "
              "%llu %llu], qo_len=%d kv_len=%lld sm_scale=%g\n",
              packed.pointers.size(), (unsigned long long)packed.storage[0],
              (unsigned long long)packed.storage[1],
              (unsigned long long)packed.storage[2],
              (unsigned long long)packed.storage[3],
              (unsigned long long)packed.storage[4],
              (unsigned long long)packed.storage[5],
              (unsigned long long)packed.storage[6],
              (unsigned long long)packed.storage[7],
              (unsigned long long)packed.storage[8], qoLen, (long long)kvLen,
              scale);

  // Nested grid expression: ceil(300/128) * 7.
  std::vector<fimlir_arg> mergeArgs = {tensor(q, FIMLIR_DTYPE_F32, {300, 7})};
  expect(checkArgs(*merge, mergeArgs.data(), 1, error), "merge args: " + error);
  expect(computeLaunch(*merge, mergeArgs.data(), dims, error),
         "merge grid: " + error);
  std::printf("launch merge: %s\n", describeLaunch(dims).c_str());

  // An empty input gives an empty grid: nothing to launch.
  mergeArgs = {tensor(nullptr, FIMLIR_DTYPE_F32, {0, 7})};
  expect(checkArgs(*merge, mergeArgs.data(), 1, error),
         "empty tensor with null data accepted: " + error);
  expect(computeLaunch(*merge, mergeArgs.data(), dims, error) && dims.empty(),
         "empty grid");
  std::printf("launch merge (empty): %s empty=%d\n",
              describeLaunch(dims).c_str(), dims.empty());

  // Overflowing grid.
  mergeArgs = {tensor(q, FIMLIR_DTYPE_F32, {int64_t(1) << 40, 1 << 20})};
  expect(!computeLaunch(*merge, mergeArgs.data(), dims, error),
         "overflowing grid rejected");
  std::printf("launch merge (huge): %s\n", error.c_str());

  // Argument errors.
  std::vector<fimlir_arg> bad(good.begin(), good.end() - 1);
  checkArgError("count", *attn, bad,
                "kernel 'attn_fwd': expected 7 arguments, got 6");
  bad = good;
  bad[2] = intScalar(3);
  checkArgError("kind", *attn, bad,
                "kernel 'attn_fwd': argument 2 'v': expected memref of rank "
                "3, got scalar");
  bad = good;
  bad[4] = tensor(q, FIMLIR_DTYPE_I32, {1});
  checkArgError("scalar-kind", *attn, bad,
                "kernel 'attn_fwd': argument 4 'qo_len': expected scalar i32, "
                "got tensor");
  bad = good;
  bad[1] = tensor(k, FIMLIR_DTYPE_F16, {2048, 1024});
  checkArgError("rank", *attn, bad,
                "kernel 'attn_fwd': argument 1 'k': expected memref of rank "
                "3, got rank 2");
  bad = good;
  bad[0] = tensor(q, FIMLIR_DTYPE_BF16, {1000, 32, 128});
  checkArgError("dtype", *attn, bad,
                "kernel 'attn_fwd': argument 0 'q': expected dtype f16, got "
                "bf16");
  bad = good;
  bad[2] = tensor(v, FIMLIR_DTYPE_F16, {2048, 8, 64});
  checkArgError("static-shape", *attn, bad,
                "kernel 'attn_fwd': argument 2 'v': dimension 2 must be 128, "
                "got 64");
  bad = good;
  bad[3].u.tensor.sizes[1] = -1;
  checkArgError("negative-size", *attn, bad,
                "kernel 'attn_fwd': argument 3 'o': size of dimension 1 is "
                "negative (-1)");
  bad = good;
  bad[3].u.tensor.data = nullptr;
  checkArgError("null-data", *attn, bad,
                "kernel 'attn_fwd': argument 3 'o': null data pointer");
  bad = good;
  bad[4] = intScalar(int64_t(1) << 33);
  checkArgError("i32-range", *attn, bad,
                "kernel 'attn_fwd': argument 4 'qo_len': value 8589934592 "
                "does not fit in i32");
  bad = good;
  bad[5] = floatScalar(2.5);
  checkArgError("float-for-int", *attn, bad,
                "kernel 'attn_fwd': argument 5 'kv_len': expected integer "
                "scalar i64, got f64 value 2.5");
  bad = good;
  bad[6] = floatScalar(1e300);
  checkArgError("f32-range", *attn, bad,
                "kernel 'attn_fwd': argument 6 'sm_scale': value 1e+300 "
                "does not fit in f32");
  bad = good;
  bad[6].kind = 7;
  checkArgError("bad-kind", *attn, bad,
                "kernel 'attn_fwd': argument 6 'sm_scale': invalid argument "
                "kind 7");
  // An integer is accepted for a float scalar and converted.
  bad = good;
  bad[6] = intScalar(2);
  expect(checkArgs(*attn, bad.data(), 7, error), "int for f32: " + error);
  packParams(*attn, bad.data(), packed);
  std::memcpy(&scale, &packed.storage[38], sizeof(scale));
  expect(scale == 2.0f, "int converted to f32");
}

//===----------------------------------------------------------------------===//
// Code objects
//===----------------------------------------------------------------------===//

static std::vector<unsigned char>
elfHeader(unsigned machine, unsigned char elfClass = 2, size_t size = 64) {
  std::vector<unsigned char> h(size, 0);
  const unsigned char ident[] = {0x7f, 'E', 'L', 'F', elfClass, 1, 1};
  std::memcpy(h.data(), ident, sizeof(ident));
  if (size >= 20) {
    h[16] = 1; // ET_REL
    h[18] = machine & 0xff;
    h[19] = machine >> 8;
  }
  return h;
}

static void checkDetect(const char *label,
                        const std::vector<unsigned char> &image) {
  TargetKind kind;
  std::string error;
  if (detectCodeObject(image.data(), image.size(), kind, error))
    std::printf("elf %s: %s\n", label, codeObjectKindName(kind));
  else
    std::printf("elf %s: error: %s\n", label, error.c_str());
}

static void testCodeObjects() {
  checkDetect("cuda", elfHeader(kElfMachineCuda));
  checkDetect("amdgpu", elfHeader(kElfMachineAmdgpu));
  checkDetect("x86-64", elfHeader(62));
  checkDetect("cuda-elf32", elfHeader(kElfMachineCuda, 1));
  checkDetect("truncated", elfHeader(kElfMachineCuda, 2, 40));
  std::vector<unsigned char> text = {'h', 'e', 'l', 'l', 'o'};
  checkDetect("text", text);
}

//===----------------------------------------------------------------------===//
// C API without a GPU
//===----------------------------------------------------------------------===//

// Never dlclose: libamdhip64 5.x aborts when loaded a second time after an
// unload (its LLVM re-registers command-line options).
static bool canLoad(const char *library) {
  return dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) != nullptr;
}

static std::string writeFile(const std::string &path, const void *data,
                             size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char *>(data), size);
  expect(out.good(), "writing " + path);
  return path;
}

static const char *kSmallCudaManifest =
    R"({"version": 1, "target": "sm_90a", "binary": "k.cubin",
        "kernels": [{"name": "k", "block": [32], "grid": [1], "args": []}]})";
static const char *kSmallHipManifest =
    R"({"version": 1, "target": "gfx942", "binary": "k.hsaco",
        "kernels": [{"name": "k", "block": [64], "grid": [1], "args": []}]})";

static void testApi(const std::string &scratch) {
  fimlir_context *ctx = nullptr;
  fimlir_status s = fimlir_context_create(-1, &ctx);
  std::printf("api negative-device: %d %s\n", s, fimlir_last_error());
  expect(s == FIMLIR_ERROR_INVALID_VALUE && !ctx, "negative device rejected");

  s = fimlir_context_create(0, &ctx);
  expect(s == FIMLIR_SUCCESS && ctx, "auto context created without driver");
  expect(fimlir_context_get_backend(ctx) == FIMLIR_BACKEND_AUTO,
         "auto context has no backend yet");
  void *ptr = nullptr;
  s = fimlir_malloc(ctx, 16, &ptr);
  std::printf("api malloc-before-backend: %d %s\n", s, fimlir_last_error());

  auto cudaElf = elfHeader(kElfMachineCuda);
  auto hipElf = elfHeader(kElfMachineAmdgpu);
  auto x86Elf = elfHeader(62);
  fimlir_module *module = nullptr;

  s = fimlir_module_load_data(ctx, x86Elf.data(), x86Elf.size(),
                              kSmallCudaManifest, &module);
  std::printf("api x86-object: %d %s\n", s, fimlir_last_error());
  expect(s == FIMLIR_ERROR_BINARY && !module, "x86 ELF rejected");

  s = fimlir_module_load_data(ctx, hipElf.data(), hipElf.size(),
                              kSmallCudaManifest, &module);
  std::printf("api target-vs-object: %d %s\n", s, fimlir_last_error());
  expect(s == FIMLIR_ERROR_BINARY, "manifest/object mismatch rejected");

  s = fimlir_module_load_data(ctx, cudaElf.data(), cudaElf.size(),
                              "{\"version\": 1,\n \"target\": 90}", &module);
  std::printf("api bad-manifest: %d %s\n", s, fimlir_last_error());
  expect(s == FIMLIR_ERROR_MANIFEST, "bad manifest rejected");

  s = fimlir_module_load(ctx, (scratch + "/missing.json").c_str(), &module);
  std::string message = fimlir_last_error();
  std::printf("api missing-manifest: %d %s\n", s,
              scrub(message, scratch).c_str());
  expect(
      s == FIMLIR_ERROR_IO &&
          startsWith(message, "could not open '" + scratch + "/missing.json'"),
      "missing manifest reported");

  // Binary named by the manifest is looked up beside it.
  std::string noBinary = scratch + "/nobinary.json";
  writeFile(noBinary, kSmallHipManifest, std::strlen(kSmallHipManifest));
  s = fimlir_module_load(ctx, noBinary.c_str(), &module);
  message = fimlir_last_error();
  expect(s == FIMLIR_ERROR_IO &&
             startsWith(message, "could not open '" + scratch + "/k.hsaco'"),
         "missing binary reported: " + message);
  std::printf("api missing-binary: %d %s\n", s,
              scrub(message, scratch).c_str());

  // CUDA: a cubin goes to libcuda.so.1.
  std::string cudaDir = scratch + "/cuda";
  std::string cudaManifest = cudaDir + "/attention.json";
  mkdir(cudaDir.c_str(), 0755);
  writeFile(cudaManifest, kSmallCudaManifest, std::strlen(kSmallCudaManifest));
  writeFile(cudaDir + "/k.cubin", cudaElf.data(), cudaElf.size());
  bool haveCuda = canLoad("libcuda.so.1");
  s = fimlir_module_load(ctx, cudaManifest.c_str(), &module);
  message = fimlir_last_error();
  expect(s != FIMLIR_SUCCESS && !module, "synthetic cubin is not loadable");
  if (!haveCuda)
    expect(s == FIMLIR_ERROR_DRIVER_NOT_FOUND &&
               startsWith(message, "could not load libcuda.so.1: "),
           "missing libcuda reported: " + message);
  else
    expect(s == FIMLIR_ERROR_NO_DEVICE || s == FIMLIR_ERROR_DRIVER ||
               s == FIMLIR_ERROR_TARGET_MISMATCH,
           "driver rejects the synthetic cubin: " + message);
  std::printf("api cuda-load: driver %s: %s\n", haveCuda ? "present" : "absent",
              message.c_str());

  fimlir_context *cudaCtx = nullptr;
  s = fimlir_context_create_with_backend(0, FIMLIR_BACKEND_CUDA, &cudaCtx);
  if (!haveCuda)
    expect(s == FIMLIR_ERROR_DRIVER_NOT_FOUND && !cudaCtx,
           "explicit CUDA context without libcuda fails");
  std::printf("api cuda-context: driver %s: %s\n",
              haveCuda ? "present" : "absent",
              s ? fimlir_last_error() : "created");
  fimlir_context_destroy(cudaCtx);

  // HIP: an AMDGPU code object goes to libamdhip64; without a device it must
  // fail cleanly.
  bool haveHip = canLoad("libamdhip64.so") || canLoad("libamdhip64.so.7") ||
                 canLoad("libamdhip64.so.6") || canLoad("libamdhip64.so.5");
  fimlir_context *hipCtx = nullptr;
  s = fimlir_context_create(0, &hipCtx);
  expect(s == FIMLIR_SUCCESS, "second auto context");
  s = fimlir_module_load_data(hipCtx, hipElf.data(), hipElf.size(),
                              kSmallHipManifest, &module);
  message = fimlir_last_error();
  expect(s != FIMLIR_SUCCESS && !module, "synthetic hsaco is not loadable");
  if (!haveHip)
    expect(s == FIMLIR_ERROR_DRIVER_NOT_FOUND &&
               startsWith(message, "could not load libamdhip64 (tried "),
           "missing libamdhip64 reported: " + message);
  else
    expect((s == FIMLIR_ERROR_NO_DEVICE &&
            startsWith(message, "no HIP device (libamdhip64")) ||
               s == FIMLIR_ERROR_DRIVER || s == FIMLIR_ERROR_TARGET_MISMATCH,
           "HIP without device reported: " + message);
  std::printf("api hip-load: library %s: %s\n", haveHip ? "present" : "absent",
              message.c_str());
  // The failed attempt leaves the context usable and unbound.
  expect(fimlir_context_get_backend(hipCtx) == FIMLIR_BACKEND_AUTO,
         "failed load leaves the backend unchosen");
  fimlir_context_destroy(hipCtx);
  fimlir_context_destroy(ctx);

  std::printf("api status-string: %s | %s\n",
              fimlir_status_string(FIMLIR_ERROR_ARGUMENT),
              fimlir_dtype_name(FIMLIR_DTYPE_F8E4M3FN));
}

//===----------------------------------------------------------------------===//
// Split sizes chosen at run time: a scalar as a grid divisor
//===----------------------------------------------------------------------===//

static void testScalarDivisor() {
  const std::string kernel =
      "{\"name\": \"split\", \"block\": [32],\n"
      "\"args\": [{\"name\": \"k\", \"kind\": \"memref\", \"dtype\": \"bf16\", "
      "\"rank\": 3}, {\"name\": \"kv_chunk\", \"kind\": \"scalar\", \"dtype\": "
      "\"i64\", \"multiple_of\": 32}],\n"
      "\"grid\": [1, 8, {\"ceil_div\": [\"k\", 0, \"kv_chunk\"]}]}";
  Manifest m;
  std::string error;
  expect(parseManifest(withKernel(kernel), "m.json", m, error),
         "scalar divisor manifest parses: " + error);
  if (m.kernels.empty())
    return;
  const KernelSpec &split = m.kernels[0];
  void *k = reinterpret_cast<void *>(0x20000);
  for (int64_t chunk : {32, 64, 4096}) {
    std::vector<fimlir_arg> args = {
        tensor(k, FIMLIR_DTYPE_BF16, {4097, 8, 128}), intScalar(chunk)};
    LaunchDims dims;
    bool ok = checkArgs(split, args.data(), 2, error) &&
              computeLaunch(split, args.data(), dims, error);
    expect(ok, "kv_chunk " + std::to_string(chunk) + ": " + error);
    std::printf("split kv_chunk=%lld: %s\n", static_cast<long long>(chunk),
                describeLaunch(dims).c_str());
  }
  for (int64_t chunk : {48, 0, -32}) {
    std::vector<fimlir_arg> args = {
        tensor(k, FIMLIR_DTYPE_BF16, {4097, 8, 128}), intScalar(chunk)};
    expect(!checkArgs(split, args.data(), 2, error),
           "kv_chunk " + std::to_string(chunk) + " was accepted");
    std::printf("bad kv_chunk=%lld: %s\n", static_cast<long long>(chunk),
                error.c_str());
  }
  auto withArgs = [](const std::string &chunkArg) {
    return withKernel(
        "{\"name\": \"f\", \"block\": [32],\n\"args\": [{\"name\": "
        "\"k\", \"kind\": \"memref\", \"dtype\": \"bf16\", "
        "\"rank\": 3}, " +
        chunkArg + "],\n\"grid\": [{\"ceil_div\": [\"k\", 0, \"c\"]}]}");
  };
  checkManifestError(
      "divisor-unconstrained",
      withArgs("{\"name\": \"c\", \"kind\": \"scalar\", \"dtype\": \"i64\"}"),
      "m.json:4:32: kernels[0] ('f'): grid: \"ceil_div\" divisor 'c' must "
      "name an integer scalar argument with \"multiple_of\"");
  checkManifestError(
      "divisor-memref",
      withArgs("{\"name\": \"c\", \"kind\": \"memref\", \"dtype\": \"i64\", "
               "\"rank\": 1}"),
      "m.json:4:32: kernels[0] ('f'): grid: \"ceil_div\" divisor 'c' must "
      "name an integer scalar argument with \"multiple_of\"");
  checkManifestError(
      "multiple-of-float",
      withArgs("{\"name\": \"c\", \"kind\": \"scalar\", \"dtype\": \"f32\", "
               "\"multiple_of\": 32}"),
      "m.json:3:134: kernels[0] ('f'): args[1] ('c'): \"multiple_of\" needs "
      "an integer scalar");
  checkManifestError(
      "multiple-of-zero",
      withArgs("{\"name\": \"c\", \"kind\": \"scalar\", \"dtype\": \"i64\", "
               "\"multiple_of\": 0}"),
      "m.json:3:134: kernels[0] ('f'): args[1] ('c').multiple_of must be a "
      "positive integer");
}

//===----------------------------------------------------------------------===//
// Shape relations, strided views and alignment (what the compiler writes)
//===----------------------------------------------------------------------===//

static fimlir_arg view(void *data, fimlir_dtype dtype,
                       std::vector<int64_t> sizes,
                       std::vector<int64_t> strides) {
  fimlir_arg a = tensor(data, dtype, sizes);
  for (size_t d = 0; d < strides.size(); ++d)
    a.u.tensor.strides[d] = strides[d];
  return a;
}

static void testShapesAndStrides() {
  // The prefill kernel's argument list as convert-attn-to-gpu writes it:
  // 4 query heads, 2 KV heads, head dim 64.
  const std::string kernel = R"({"name": "attn", "block": [128],
"args": [
 {"name": "q", "kind": "memref", "dtype": "f16", "rank": 3, "shape": [-1, 4, 64], "layout": "strided", "align": 16},
 {"name": "k", "kind": "memref", "dtype": "f16", "rank": 3, "shape": [-1, 2, 64], "layout": "strided", "align": 16},
 {"name": "v", "kind": "memref", "dtype": "f16", "rank": 3, "shape": [{"dim": ["k", 0]}, 2, 64], "layout": "strided", "align": 16},
 {"name": "o", "kind": "memref", "dtype": "f16", "rank": 3, "shape": [{"dim": ["q", 0]}, 4, 64], "layout": "strided", "align": 16},
 {"name": "lse", "kind": "memref", "dtype": "f32", "rank": 2, "shape": [{"dim": ["q", 0]}, 4], "layout": "strided"},
 {"name": "part", "kind": "memref", "dtype": "f32", "rank": 2, "shape": [{"ceil_div": ["k", 0, "chunk"]}, 4]},
 {"name": "chunk", "kind": "scalar", "dtype": "i64", "multiple_of": 16}],
"grid": [{"ceil_div": ["q", 0, 64]}, 4, 1]})";
  Manifest m;
  std::string error;
  expect(parseManifest(withKernel(kernel), "m.json", m, error),
         "shapes manifest parses: " + error);
  if (m.kernels.empty())
    return;
  const KernelSpec &spec = m.kernels[0];
  auto *base = reinterpret_cast<char *>(0x100000);
  // q, k and v sliced from one fused [T, (4 + 2 + 2) * 64] projection.
  int64_t row = 8 * 64;
  auto good = [&] {
    return std::vector<fimlir_arg>{
        view(base, FIMLIR_DTYPE_F16, {17, 4, 64}, {row, 64, 1}),
        view(base + 4 * 64 * 2, FIMLIR_DTYPE_F16, {17, 2, 64}, {row, 64, 1}),
        view(base + 6 * 64 * 2, FIMLIR_DTYPE_F16, {17, 2, 64}, {row, 64, 1}),
        tensor(base, FIMLIR_DTYPE_F16, {17, 4, 64}),
        tensor(base, FIMLIR_DTYPE_F32, {17, 4}),
        tensor(base, FIMLIR_DTYPE_F32, {2, 4}),
        intScalar(16)};
  };
  std::vector<fimlir_arg> args = good();
  expect(checkArgs(spec, args.data(), 7, error), "fused qkv views: " + error);

  args = good();
  args[1].u.tensor.sizes[1] = 3;
  checkArgError("k-heads", spec, args,
                "kernel 'attn': argument 1 'k': dimension 1 must be 2, got 3");
  args = good();
  args[2].u.tensor.sizes[0] = 16;
  checkArgError("v-shorter", spec, args,
                "kernel 'attn': argument 2 'v': dimension 0 must be "
                "k.shape[0] = 17, got 16");
  args = good();
  args[3] = tensor(base, FIMLIR_DTYPE_F16, {16, 4, 64});
  checkArgError("o-shorter", spec, args,
                "kernel 'attn': argument 3 'o': dimension 0 must be "
                "q.shape[0] = 17, got 16");
  args = good();
  args[4] = tensor(base, FIMLIR_DTYPE_F32, {17, 2});
  checkArgError("lse-heads", spec, args,
                "kernel 'attn': argument 4 'lse': dimension 1 must be 4, "
                "got 2");
  args = good();
  args[5] = tensor(base, FIMLIR_DTYPE_F32, {1, 4});
  checkArgError("workspace-rows", spec, args,
                "kernel 'attn': argument 5 'part': dimension 0 must be "
                "ceil_div(k.shape[0], chunk) = 2, got 1");
  args = good();
  args[0].u.tensor.strides[2] = 2;
  checkArgError("inner-stride", spec, args,
                "kernel 'attn': argument 0 'q': innermost stride must be 1, "
                "got strides [512, 64, 2]");
  args = good();
  args[1].u.tensor.strides[0] = -row;
  checkArgError("negative-stride", spec, args,
                "kernel 'attn': argument 1 'k': negative stride -512 in "
                "dimension 0");
  args = good();
  args[2].u.tensor.data = base + 2;
  checkArgError("misaligned", spec, args,
                "kernel 'attn': argument 2 'v': data pointer must be aligned "
                "to 16 bytes");
  args = good();
  args[0].u.tensor.strides[0] = 4 * 64 + 4;
  checkArgError("odd-row-stride", spec, args,
                "kernel 'attn': argument 0 'q': stride of dimension 0 (260 "
                "elements) must be a multiple of 16 bytes");
  args = good();
  args[5] = view(base, FIMLIR_DTYPE_F32, {2, 4}, {8, 2});
  checkArgError("workspace-strided", spec, args,
                "kernel 'attn': argument 5 'part': must be contiguous "
                "(row-major), got strides [8, 2]");
  // Sizes of 0 or 1 never address memory through their stride.
  args = good();
  args[0] = view(base, FIMLIR_DTYPE_F16, {1, 4, 64}, {12345, 64, 1});
  args[3] = tensor(base, FIMLIR_DTYPE_F16, {1, 4, 64});
  args[4] = tensor(base, FIMLIR_DTYPE_F32, {1, 4});
  expect(checkArgs(spec, args.data(), 7, error), "one token: " + error);

  checkManifestError(
      "shape-unknown-arg",
      withKernel(R"({"name": "f", "block": [1], "grid": [1], "args": [
{"name": "o", "kind": "memref", "dtype": "f16", "rank": 1, "shape": [{"dim": ["x", 0]}]}]})"),
      "m.json:3:79: kernels[0] ('f'): args[0] ('o').shape[0]: \"dim\" refers "
      "to unknown argument 'x'");
  checkManifestError(
      "shape-scalar",
      withKernel(R"({"name": "f", "block": [1], "grid": [1], "args": [
{"name": "c", "kind": "scalar", "dtype": "i64", "shape": [1]}]})"),
      "m.json:3:58: kernels[0] ('f'): args[0] ('c').shape: a scalar has no "
      "shape");
  checkManifestError(
      "bad-layout",
      withKernel(R"({"name": "f", "block": [1], "grid": [1], "args": [
{"name": "o", "kind": "memref", "dtype": "f16", "rank": 1, "layout": "tiled"}]})"),
      "m.json:3:70: kernels[0] ('f'): args[0] ('o'): unknown layout "
      "(expected \"contiguous\" or \"strided\")");
  checkManifestError(
      "bad-align",
      withKernel(R"({"name": "f", "block": [1], "grid": [1], "args": [
{"name": "o", "kind": "memref", "dtype": "f16", "rank": 1, "align": 12}]})"),
      "m.json:3:69: kernels[0] ('f'): args[0] ('o').align must be a power of "
      "two in [1, 4096] (bytes)");
}

//===----------------------------------------------------------------------===//
// Paged batch decode: argument relations and the planner
//===----------------------------------------------------------------------===//

static void testPagedDecodeArgs() {
  // The paged split kernel's arguments as convert-attn-to-gpu writes them.
  const std::string kernel = R"({"name": "paged", "block": [32],
"args": [
 {"name": "q", "kind": "memref", "dtype": "bf16", "rank": 3, "shape": [-1, 4, 64], "layout": "strided", "align": 16},
 {"name": "k_cache", "kind": "memref", "dtype": "bf16", "rank": 4, "shape": [-1, 16, 1, 64], "layout": "strided", "align": 16},
 {"name": "v_cache", "kind": "memref", "dtype": "bf16", "rank": 4, "shape": [{"dim": ["k_cache", 0]}, 16, 1, 64], "layout": "strided", "align": 16},
 {"name": "kv_indptr", "kind": "memref", "dtype": "i32", "rank": 1, "shape": [{"add": [{"dim": ["q", 0]}, 1]}]},
 {"name": "kv_indices", "kind": "memref", "dtype": "i32", "rank": 1, "shape": [-1]},
 {"name": "kv_last_page_len", "kind": "memref", "dtype": "i32", "rank": 1, "shape": [{"dim": ["q", 0]}]},
 {"name": "schedule", "kind": "memref", "dtype": "i32", "rank": 2, "shape": [-1, 3]}],
"grid": [{"min": [{"dim": ["q", 0]}, 1]}, 1, {"dim": ["schedule", 0]}]})";
  Manifest m;
  std::string error;
  expect(parseManifest(withKernel(kernel), "m.json", m, error),
         "paged manifest parses: " + error);
  if (m.kernels.empty())
    return;
  const KernelSpec &spec = m.kernels[0];
  auto *base = reinterpret_cast<char *>(0x100000);
  // K and V as the two halves of one [pages, 2, 16, 1, 64] cache.
  int64_t page = 2 * 16 * 64;
  auto good = [&] {
    return std::vector<fimlir_arg>{
        tensor(base, FIMLIR_DTYPE_BF16, {5, 4, 64}),
        view(base, FIMLIR_DTYPE_BF16, {9, 16, 1, 64}, {page, 64, 64, 1}),
        view(base + 16 * 64 * 2, FIMLIR_DTYPE_BF16, {9, 16, 1, 64},
             {page, 64, 64, 1}),
        tensor(base, FIMLIR_DTYPE_I32, {6}),
        tensor(base, FIMLIR_DTYPE_I32, {9}),
        tensor(base, FIMLIR_DTYPE_I32, {5}),
        tensor(base, FIMLIR_DTYPE_I32, {33, 3})};
  };
  std::vector<fimlir_arg> args = good();
  expect(checkArgs(spec, args.data(), 7, error), "paged views: " + error);
  LaunchDims dims;
  expect(computeLaunch(spec, args.data(), dims, error) && dims.grid[2] == 33 &&
             dims.grid[0] == 1,
         "paged grid.z is the schedule's rows: " + error);
  // An empty batch launches nothing (grid.x = min(batch, 1) = 0).
  args = good();
  args[0] = tensor(base, FIMLIR_DTYPE_BF16, {0, 4, 64});
  args[3] = tensor(base, FIMLIR_DTYPE_I32, {1});
  args[5] = tensor(base, FIMLIR_DTYPE_I32, {0});
  expect(checkArgs(spec, args.data(), 7, error) &&
             computeLaunch(spec, args.data(), dims, error) && dims.grid[0] == 0,
         "empty paged batch: " + error);
  args = good();
  args[3] = tensor(base, FIMLIR_DTYPE_I32, {5});
  checkArgError("indptr-short", spec, args,
                "kernel 'paged': argument 3 'kv_indptr': dimension 0 must be "
                "q.shape[0] + 1 = 6, got 5");
  args = good();
  args[5] = tensor(base, FIMLIR_DTYPE_I32, {6});
  checkArgError("last-page-len", spec, args,
                "kernel 'paged': argument 5 'kv_last_page_len': dimension 0 "
                "must be q.shape[0] = 5, got 6");
  args = good();
  args[2].u.tensor.sizes[0] = 8;
  checkArgError("v-pages", spec, args,
                "kernel 'paged': argument 2 'v_cache': dimension 0 must be "
                "k_cache.shape[0] = 9, got 8");
  args = good();
  args[1].u.tensor.sizes[1] = 8;
  checkArgError("page-size", spec, args,
                "kernel 'paged': argument 1 'k_cache': dimension 1 must be "
                "16, got 8");
  args = good();
  args[6] = tensor(base, FIMLIR_DTYPE_I32, {33, 2});
  checkArgError("schedule-columns", spec, args,
                "kernel 'paged': argument 6 'schedule': dimension 1 must be "
                "3, got 2");
}

static void testRaggedPrefillArgs() {
  // The ragged prefill kernel's arguments and grid as convert-attn-to-gpu
  // writes them: the batch is qo_indptr's length - 1 (a negative "add").
  const std::string kernel = R"({"name": "ragged", "block": [256],
"args": [
 {"name": "q", "kind": "memref", "dtype": "f16", "rank": 3, "shape": [-1, 4, 64], "layout": "strided", "align": 16},
 {"name": "k", "kind": "memref", "dtype": "f16", "rank": 3, "shape": [-1, 2, 64], "layout": "strided", "align": 16},
 {"name": "v", "kind": "memref", "dtype": "f16", "rank": 3, "shape": [{"dim": ["k", 0]}, 2, 64], "layout": "strided", "align": 16},
 {"name": "qo_indptr", "kind": "memref", "dtype": "i32", "rank": 1, "shape": [-1]},
 {"name": "kv_indptr", "kind": "memref", "dtype": "i32", "rank": 1, "shape": [{"dim": ["qo_indptr", 0]}]},
 {"name": "schedule", "kind": "memref", "dtype": "i32", "rank": 2, "shape": [-1, 2]},
 {"name": "o", "kind": "memref", "dtype": "f16", "rank": 3, "shape": [{"dim": ["q", 0]}, 4, 64], "layout": "strided", "align": 16}],
"grid": [{"mul": [{"dim": ["schedule", 0]}, {"mul": [{"min": [{"add": [{"dim": ["qo_indptr", 0]}, -1]}, 1]}, {"min": [{"dim": ["q", 0]}, 1]}]}]}, 4, 1]})";
  Manifest m;
  std::string error;
  expect(parseManifest(withKernel(kernel), "m.json", m, error),
         "ragged manifest parses: " + error);
  if (m.kernels.empty())
    return;
  const KernelSpec &spec = m.kernels[0];
  auto *base = reinterpret_cast<char *>(0x100000);
  auto good = [&] {
    return std::vector<fimlir_arg>{
        tensor(base, FIMLIR_DTYPE_F16, {300, 4, 64}),
        tensor(base, FIMLIR_DTYPE_F16, {500, 2, 64}),
        tensor(base, FIMLIR_DTYPE_F16, {500, 2, 64}),
        tensor(base, FIMLIR_DTYPE_I32, {4}),
        tensor(base, FIMLIR_DTYPE_I32, {4}),
        tensor(base, FIMLIR_DTYPE_I32, {7, 2}),
        tensor(base, FIMLIR_DTYPE_F16, {300, 4, 64})};
  };
  std::vector<fimlir_arg> args = good();
  LaunchDims dims;
  expect(checkArgs(spec, args.data(), 7, error) &&
             computeLaunch(spec, args.data(), dims, error) &&
             dims.grid[0] == 7 && dims.grid[1] == 4,
         "ragged grid.x is the schedule's rows: " + error);
  // An empty batch (qo_indptr = [0]) launches nothing.
  args[3] = tensor(base, FIMLIR_DTYPE_I32, {1});
  args[4] = tensor(base, FIMLIR_DTYPE_I32, {1});
  expect(checkArgs(spec, args.data(), 7, error) &&
             computeLaunch(spec, args.data(), dims, error) && dims.grid[0] == 0,
         "empty ragged batch: " + error);
  // An empty qo_indptr makes the batch -1: an error, not a launch.
  args[3] = tensor(base, FIMLIR_DTYPE_I32, {0});
  args[4] = tensor(base, FIMLIR_DTYPE_I32, {0});
  expect(checkArgs(spec, args.data(), 7, error) &&
             !computeLaunch(spec, args.data(), dims, error) &&
             error == "kernel 'ragged': grid dimension x is out of range",
         "qo_indptr without entries: " + error);
  args = good();
  args[4] = tensor(base, FIMLIR_DTYPE_I32, {3});
  checkArgError("kv-indptr-length", spec, args,
                "kernel 'ragged': argument 4 'kv_indptr': dimension 0 must be "
                "qo_indptr.shape[0] = 4, got 3");
  checkManifestError(
      "grid-add-constant-range",
      withKernel(
          R"({"name": "f", "block": [1], "grid": [{"add": [1, -4294967296]}], "args": []})"),
      "m.json:2:62: kernels[0] ('f'): grid constant must be in "
      "[-4294967295, 4294967295]");
  // Only an operand of "add" may be negative.
  checkManifestError(
      "grid-negative-mul",
      withKernel(
          R"({"name": "f", "block": [1], "grid": [{"mul": [2, -1]}], "args": []})"),
      "m.json:2:62: kernels[0] ('f'): grid constant must be in [0, "
      "4294967295]");
}

static std::string lastError() { return fimlir_last_error(); }

static fimlir_split_kv_params h100Params(int64_t maxItems) {
  fimlir_split_kv_params p = {};
  p.num_kv_heads = 8;
  p.num_compute_units = 132;
  p.kv_chunk_multiple = 32;
  p.max_work_items = maxItems;
  return p;
}

static void testPlanner() {
  // One request: 132 SMs x 4 workgroups / 8 KV heads = 66 items wanted, the
  // chunk rounded up to the key tile (the single-request decode's numbers).
  fimlir_split_kv_params p = h100Params(0);
  int64_t chunk = 0, items = 0;
  struct Case {
    int64_t len, chunk, items;
  };
  for (Case c :
       {Case{0, 32, 0}, Case{1, 32, 1}, Case{17, 32, 1}, Case{4096, 64, 64},
        Case{32768, 512, 64}, Case{131072, 2016, 66}}) {
    bool ok =
        fimlir_plan_kv_chunk(&p, &c.len, 1, &chunk, &items) == FIMLIR_SUCCESS;
    expect(ok && chunk == c.chunk && items == c.items,
           "plan one request of " + std::to_string(c.len) + " keys: chunk " +
               std::to_string(chunk) + " items " + std::to_string(items));
  }
  // A batch longer than the device: one item per request.
  std::vector<int64_t> lens(100, 4096);
  expect(fimlir_plan_kv_chunk(&p, lens.data(), 100, &chunk, &items) ==
                 FIMLIR_SUCCESS &&
             chunk == 4096 && items == 100,
         "plan 100 x 4096: chunk " + std::to_string(chunk));
  // Mixed lengths: the long request is split, the short ones are not.
  lens = {1, 17, 1000, 32768};
  expect(fimlir_plan_kv_chunk(&p, lens.data(), 4, &chunk, &items) ==
                 FIMLIR_SUCCESS &&
             items <= 66 && items >= 60 && chunk % 32 == 0,
         "plan mixed lengths: chunk " + std::to_string(chunk) + " items " +
             std::to_string(items));
  p.max_work_items = 3;
  expect(fimlir_plan_kv_chunk(&p, lens.data(), 4, &chunk, &items) ==
                 FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_kv_chunk: the batch needs 4 work "
                            "items with kv_chunk = 32768 but the schedule "
                            "holds 3 (at least one per non-empty request)",
         "plan over capacity: " + lastError());
  p = h100Params(0);
  p.num_kv_heads = 0;
  expect(fimlir_plan_kv_chunk(&p, lens.data(), 4, &chunk, &items) ==
                 FIMLIR_ERROR_INVALID_VALUE &&
             lastError() ==
                 "fimlir_plan_kv_chunk: num_kv_heads must be >= 1, got 0",
         "plan bad heads: " + lastError());

  // Each parameter's range.
  struct BadParam {
    void (*change)(fimlir_split_kv_params &);
    const char *message;
  };
  int64_t one = 1;
  for (BadParam bad :
       {BadParam{[](fimlir_split_kv_params &q) { q.num_compute_units = 0; },
                 "num_compute_units must be >= 1, got 0"},
        BadParam{[](fimlir_split_kv_params &q) {
                   q.workgroups_per_compute_unit = -1;
                 },
                 "workgroups_per_compute_unit must be >= 0, got -1"},
        BadParam{[](fimlir_split_kv_params &q) { q.kv_chunk_multiple = 0; },
                 "kv_chunk_multiple must be in [1, 2^30], got 0"},
        BadParam{[](fimlir_split_kv_params &q) { q.max_work_items = -1; },
                 "max_work_items must be >= 0, got -1"},
        BadParam{[](fimlir_split_kv_params &q) { q.fixed_kv_chunk = -1; },
                 "fixed_kv_chunk must be >= 0, got -1"}}) {
    fimlir_split_kv_params q = h100Params(0);
    bad.change(q);
    expect(fimlir_plan_kv_chunk(&q, &one, 1, &chunk, &items) ==
                   FIMLIR_ERROR_INVALID_VALUE &&
               lastError() ==
                   std::string("fimlir_plan_kv_chunk: ") + bad.message,
           std::string("plan bad parameter: ") + lastError());
  }
  int64_t negative = -1;
  p = h100Params(0);
  expect(fimlir_plan_kv_chunk(&p, &negative, 1, &chunk, &items) ==
                 FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_kv_chunk: kv_lens[0] must be in "
                            "[0, 2^31), got -1",
         "plan negative length: " + lastError());
  expect(fimlir_plan_kv_chunk(nullptr, &one, 1, &chunk, &items) ==
                 FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_kv_chunk: params is NULL",
         "plan without params: " + lastError());
  // Fixed and unsplit chunks.
  fimlir_split_kv_params fixed = h100Params(0);
  fixed.fixed_kv_chunk = 100;
  lens = {1, 17, 1000, 32768};
  expect(fimlir_plan_kv_chunk(&fixed, lens.data(), 4, &chunk, &items) ==
                 FIMLIR_SUCCESS &&
             chunk == 128 && items == 1 + 1 + 8 + 256,
         "plan fixed chunk: " + std::to_string(chunk));
  fixed.disable_split_kv = 1;
  expect(fimlir_plan_kv_chunk(&fixed, lens.data(), 4, &chunk, &items) ==
                 FIMLIR_SUCCESS &&
             chunk == 32768 && items == 4,
         "plan without split: " + std::to_string(chunk));

  // Paged: requests of 3 pages (last holds 1 token), 0 pages, 1 page (16
  // tokens) and 2 pages (5 tokens in the last), page size 16.
  p = h100Params(0);
  std::vector<int32_t> indptr = {0, 3, 3, 4, 6}, last = {1, 7, 16, 5};
  std::vector<int32_t> schedule(3 * 8, 99), merge(5, 99);
  fimlir_paged_decode_plan plan = {};
  fimlir_status st =
      fimlir_plan_paged_decode(&p, 16, indptr.data(), last.data(), 4, 6,
                               schedule.data(), 8, merge.data(), &plan);
  expect(st == FIMLIR_SUCCESS, "paged plan: " + lastError());
  // kv_len 33, 0, 16, 21: the smallest chunk (32) with <= 66 items.
  expect(plan.kv_chunk == 32 && plan.num_work_items == 4 &&
             plan.max_kv_len == 33,
         "paged plan chunk " + std::to_string(plan.kv_chunk) + " items " +
             std::to_string(plan.num_work_items));
  std::vector<int32_t> wantSchedule = {0,  0, 32, 0,  32, 33, 2, 0,
                                       16, 3, 0,  21, -1, 0,  0, -1,
                                       0,  0, -1, 0,  0,  -1, 0, 0};
  expect(schedule == wantSchedule, "paged schedule rows");
  expect(merge == std::vector<int32_t>({0, 2, 2, 3, 4}), "paged merge_indptr");

  auto planError = [&](const std::string &name, std::vector<int32_t> ip,
                       std::vector<int32_t> lp, int64_t numIndices,
                       int64_t rows, const std::string &want) {
    int64_t batch = static_cast<int64_t>(lp.size());
    std::vector<int32_t> sched(3 * std::max<int64_t>(rows, 1)),
        mi(lp.size() + 1);
    fimlir_paged_decode_plan out = {};
    fimlir_status status = fimlir_plan_paged_decode(
        &p, 16, ip.data(), lp.data(), batch, numIndices, sched.data(), rows,
        mi.data(), &out);
    expect(status == FIMLIR_ERROR_INVALID_VALUE && lastError() == want,
           "paged plan " + name + ": got '" + lastError() + "'");
  };
  planError("indptr-start", {1, 3}, {4}, -1, 8,
            "fimlir_plan_paged_decode: kv_indptr[0] must be 0, got 1");
  planError("indptr-order", {0, 3, 2}, {4, 4}, -1, 8,
            "fimlir_plan_paged_decode: kv_indptr must be non-decreasing: "
            "kv_indptr[2] = 2 < kv_indptr[1] = 3");
  planError("last-page-zero", {0, 3}, {0}, -1, 8,
            "fimlir_plan_paged_decode: kv_last_page_len[0] = 0 must be in "
            "[1, 16] (request 0 has 3 pages)");
  planError("last-page-big", {0, 1, 2}, {16, 17}, -1, 8,
            "fimlir_plan_paged_decode: kv_last_page_len[1] = 17 must be in "
            "[1, 16] (request 1 has 1 pages)");
  planError("indices-length", {0, 3}, {4}, 4, 8,
            "fimlir_plan_paged_decode: kv_indptr[1] = 3 must equal the "
            "length of kv_indices (4)");
  planError("no-rows", {0, 3}, {4}, -1, 0,
            "fimlir_plan_paged_decode: schedule_rows must be in [1, 2^31), "
            "got 0");
  planError("capacity", {0, 1, 2, 3}, {4, 4, 4}, -1, 2,
            "fimlir_plan_paged_decode: the batch needs 3 work items with "
            "kv_chunk = 32 but the schedule holds 2 (at least one per "
            "non-empty request)");
  // Page ids against the cache.
  std::vector<int32_t> ids = {3, 0, 7};
  expect(fimlir_check_page_indices(ids.data(), 3, 8) == FIMLIR_SUCCESS,
         "page ids in the cache: " + lastError());
  expect(fimlir_check_page_indices(ids.data(), 3, 7) ==
                 FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_check_page_indices: kv_indices[2] = 7 is "
                            "not a page of the cache (it has 7 pages)",
         "page id past the cache: " + lastError());
  ids[1] = -1;
  expect(fimlir_check_page_indices(ids.data(), 3, 8) ==
                 FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_check_page_indices: kv_indices[1] = -1 is "
                            "not a page of the cache (it has 8 pages)",
         "negative page id: " + lastError());
  expect(fimlir_check_page_indices(nullptr, 0, 0) == FIMLIR_SUCCESS,
         "no page ids: " + lastError());
  // An empty batch plans no work.
  int32_t zero = 0, mi = 7;
  std::vector<int32_t> sched(3, 5);
  expect(fimlir_plan_paged_decode(&p, 16, &zero, nullptr, 0, 0, sched.data(), 1,
                                  &mi, &plan) == FIMLIR_SUCCESS &&
             plan.num_work_items == 0 && mi == 0 && sched[0] == -1,
         "paged plan of an empty batch: " + lastError());
}

static void testPrefillPlanner() {
  fimlir_prefill_params p = {};
  p.block_m = 128;
  p.causal = 1;
  p.window_left = -1;
  fimlir_prefill_plan plan = {};
  // Two requests: 130 queries over 130 keys, 1 over 500 (page size 16).
  std::vector<int32_t> qo = {0, 130, 131}, kv = {0, 9, 41}, last = {2, 4};
  std::vector<int32_t> sched(2 * 4, 7);
  expect(fimlir_plan_paged_prefill(&p, 16, qo.data(), kv.data(), last.data(), 2,
                                   41, sched.data(), 4,
                                   &plan) == FIMLIR_SUCCESS &&
             plan.num_work_items == 3 && plan.total_qo_len == 131 &&
             plan.max_kv_len == 500 && plan.total_kv_len == -1,
         "paged prefill plan: " + lastError());
  // 500 keys, then 130 (the second tile of request 0), then 128.
  expect(sched == std::vector<int32_t>{1, 0, 0, 128, 0, 0, -1, 0},
         "tiles by the keys they see, padding last");
  expect(fimlir_plan_paged_prefill(&p, 16, qo.data(), kv.data(), last.data(), 2,
                                   41, sched.data(), 2,
                                   &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_paged_prefill: the batch needs 3 work "
                            "items of block_m = 128 query rows but the "
                            "schedule holds 2",
         "schedule too small: " + lastError());
  expect(fimlir_plan_paged_prefill(nullptr, 16, qo.data(), kv.data(),
                                   last.data(), 2, 41, sched.data(), 4,
                                   &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_paged_prefill: params is NULL",
         "NULL params: " + lastError());
  fimlir_prefill_params bad = p;
  bad.block_m = 0;
  expect(fimlir_plan_ragged_prefill(&bad, qo.data(), qo.data(), 2, sched.data(),
                                    4, &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_ragged_prefill: block_m must be in "
                            "[1, 2^20], got 0",
         "block_m: " + lastError());
  bad = p;
  bad.window_left = -2;
  expect(fimlir_plan_ragged_prefill(&bad, qo.data(), qo.data(), 2, sched.data(),
                                    4, &plan) == FIMLIR_ERROR_INVALID_VALUE,
         "window_left: " + lastError());
  expect(fimlir_plan_ragged_prefill(&p, qo.data(), nullptr, 2, sched.data(), 4,
                                    &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() ==
                 "fimlir_plan_ragged_prefill: kv_indptr must not be NULL",
         "NULL kv_indptr: " + lastError());
  std::vector<int32_t> down = {0, 130, 120};
  expect(fimlir_plan_ragged_prefill(&p, qo.data(), down.data(), 2, sched.data(),
                                    4, &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_ragged_prefill: kv_indptr must be "
                            "non-decreasing: kv_indptr[2] = 120 < "
                            "kv_indptr[1] = 130",
         "decreasing kv_indptr: " + lastError());
  expect(fimlir_plan_paged_prefill(&p, 0, qo.data(), kv.data(), last.data(), 2,
                                   41, sched.data(), 4,
                                   &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() ==
                 "fimlir_plan_paged_prefill: page_size must be >= 1, got 0",
         "page size: " + lastError());
  expect(fimlir_plan_paged_prefill(&p, 16, qo.data(), kv.data(), nullptr, 2, 41,
                                   sched.data(), 4,
                                   &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_paged_prefill: kv_indptr and "
                            "kv_last_page_len must not be NULL",
         "NULL page table: " + lastError());
  expect(fimlir_plan_ragged_prefill(&p, nullptr, qo.data(), 2, sched.data(), 4,
                                    &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_ragged_prefill: qo_indptr, schedule "
                            "and plan must not be NULL",
         "NULL qo_indptr: " + lastError());
  expect(fimlir_plan_ragged_prefill(&p, qo.data(), qo.data(), -1, sched.data(),
                                    4, &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_ragged_prefill: batch_size must be "
                            "in [0, 2^31 - 1), got -1",
         "negative batch: " + lastError());
  expect(fimlir_plan_ragged_prefill(&p, qo.data(), qo.data(), 2, sched.data(),
                                    0, &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_ragged_prefill: schedule_rows must "
                            "be in [1, 2^31), got 0",
         "no schedule rows: " + lastError());
  std::vector<int32_t> shifted = {1, 130, 131};
  expect(fimlir_plan_ragged_prefill(&p, shifted.data(), qo.data(), 2,
                                    sched.data(), 4,
                                    &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() ==
                 "fimlir_plan_ragged_prefill: qo_indptr[0] must be 0, got 1",
         "qo_indptr start: " + lastError());
  std::vector<int32_t> longLast = {2, 17};
  expect(fimlir_plan_paged_prefill(&p, 16, qo.data(), kv.data(),
                                   longLast.data(), 2, 41, sched.data(), 4,
                                   &plan) == FIMLIR_ERROR_INVALID_VALUE &&
             lastError() == "fimlir_plan_paged_prefill: kv_last_page_len[1] "
                            "= 17 must be in [1, 16] (request 1 has 32 pages)",
         "last page length: " + lastError());
  // An empty batch: all padding; the ragged plan reports k's tokens.
  int32_t zero = 0;
  expect(fimlir_plan_ragged_prefill(&p, &zero, &zero, 0, sched.data(), 4,
                                    &plan) == FIMLIR_SUCCESS &&
             plan.num_work_items == 0 && plan.total_kv_len == 0 &&
             sched[0] == -1 && sched[6] == -1,
         "empty prefill batch: " + lastError());
}

// A launch sequence as convert-attn-to-gpu writes it for a function of two
// ops: a kernel writing a cache, then one reading it and a workspace buffer.
static std::string sequenceManifest(const std::string &sequence) {
  return R"({"version": 1, "target": "sm_90a", "binary": "a.cubin",
"kernels": [
 {"name": "write", "block": [32], "grid": [{"dim": ["k", 0]}, 1, 1],
  "args": [{"name": "k", "kind": "memref", "dtype": "f16", "rank": 2, "shape": [-1, 64]},
           {"name": "cache", "kind": "memref", "dtype": "f16", "rank": 2, "shape": [-1, 64]}]},
 {"name": "read", "block": [32], "grid": [{"dim": ["cache", 0]}, 1, 1],
  "args": [{"name": "cache", "kind": "memref", "dtype": "f16", "rank": 2, "shape": [-1, 64]},
           {"name": "part", "kind": "memref", "dtype": "f32", "rank": 2, "shape": [{"dim": ["cache", 0]}, 64]}]}],
"sequence": )" +
         sequence + "}";
}

static void testSequences() {
  const std::string good =
      R"({"args": ["k", "cache", "part"],
  "launches": [{"kernel": "write", "args": [0, 1]}, {"kernel": "read", "args": [1, 2]}],
  "workspace": [{"name": "part", "dtype": "f32", "shape": [{"dim": ["cache", 0]}, 64]}]})";
  Manifest m;
  std::string error;
  expect(parseManifest(sequenceManifest(good), "m.json", m, error) &&
             m.sequence && m.sequence->launches.size() == 2 &&
             m.sequence->launches[1].kernel == 1 &&
             m.sequence->launches[1].args == std::vector<int>({1, 2}) &&
             m.sequence->workspace == std::vector<std::string>({"part"}),
         "sequence parses: " + error);
  Manifest none;
  expect(parseManifest(kValidManifest, "m.json", none, error) && !none.sequence,
         "a manifest without a sequence has none");

  checkManifestError(
      "sequence-unknown-kernel",
      sequenceManifest(
          R"({"args": ["k"], "launches": [{"kernel": "nope", "args": []}]})"),
      "m.json:9:53: sequence: launches[0]: no kernel 'nope' in \"kernels\"");
  checkManifestError(
      "sequence-arg-count",
      sequenceManifest(
          R"({"args": ["k"], "launches": [{"kernel": "write", "args": [0]}]})"),
      "m.json:9:70: sequence: launches[0]: passes 1 arguments to 'write', "
      "which takes 2");
  checkManifestError(
      "sequence-arg-index",
      sequenceManifest(
          R"({"args": ["k"], "launches": [{"kernel": "write", "args": [0, 1]}]})"),
      "m.json:9:74: sequence: launches[0]: argument index 1 is outside the "
      "sequence's 1");
  checkManifestError(
      "sequence-duplicate-arg",
      sequenceManifest(R"({"args": ["k", "k"], "launches": []})"),
      "m.json:9:28: sequence: argument names must be unique and not empty, "
      "got 'k'");
  checkManifestError(
      "sequence-workspace",
      sequenceManifest(
          R"({"args": ["k"], "launches": [], "workspace": [{"name": "w"}]})"),
      "m.json:9:68: sequence: workspace buffer 'w' is not a sequence "
      "argument");

  // Every launch is checked before any runs; errors name the launch.
  auto *base = reinterpret_cast<char *>(0x100000);
  std::vector<fimlir_arg> args = {tensor(base, FIMLIR_DTYPE_F16, {3, 64}),
                                  tensor(base, FIMLIR_DTYPE_F16, {10, 64}),
                                  tensor(base, FIMLIR_DTYPE_F32, {10, 64})};
  std::vector<std::vector<fimlir_arg>> picked;
  expect(checkSequenceArgs(m, args.data(), 3, picked, error) &&
             picked.size() == 2 && picked[1].size() == 2 &&
             picked[1][0].u.tensor.sizes[0] == 10 &&
             picked[1][1].u.tensor.dtype == FIMLIR_DTYPE_F32,
         "sequence arguments picked per launch: " + error);
  expect(!checkSequenceArgs(m, args.data(), 2, picked, error) &&
             error == "expected 3 arguments, got 2",
         "sequence argument count: " + error);
  std::printf("sequence count: %s\n", error.c_str());
  args[2] = tensor(base, FIMLIR_DTYPE_F32, {9, 64});
  expect(!checkSequenceArgs(m, args.data(), 3, picked, error) &&
             error == "launch 1 of the sequence: kernel 'read': argument 1 "
                      "'part': dimension 0 must be cache.shape[0] = 10, got 9",
         "sequence launch 1 checked: " + error);
  std::printf("sequence launch: %s\n", error.c_str());
}

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  Manifest manifest;
  testValidManifest(manifest);
  testMalformedManifests();
  testArguments(manifest);
  testCodeObjects();
  testApi(argv[1]);
  testScalarDivisor();
  testShapesAndStrides();
  testPagedDecodeArgs();
  testRaggedPrefillArgs();
  testPlanner();
  testPrefillPlanner();
  testSequences();
  std::printf("failures: %d\n", failures);
  return failures ? 1 : 0;
}
