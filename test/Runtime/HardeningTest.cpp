//===- HardeningTest.cpp - Malformed input never aborts the runtime -------===//
//
// Runs without a GPU. Each check feeds the runtime one kind of hostile input
// (found by fuzzing the manifest reader) and asserts the status code and a
// substring of the message. Prints one line per check; exits non-zero on any
// mismatch (run by hardening.test).
//
// Usage: flashinfer-runtime-hardening-test SCRATCH_DIR
//
//===----------------------------------------------------------------------===//

#include "CodeObject.h"
#include "Manifest.h"
#include "flashinfer-runtime/runtime.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace fimlir;

static int failures = 0;

static void expect(bool condition, const std::string &what) {
  if (condition)
    return;
  ++failures;
  std::printf("FAIL: %s\n", what.c_str());
}

static bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

static void writeFile(const std::string &path, const std::string &data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  expect(out.good(), "writing " + path);
}

// Replaces the scratch directory in `message` so output is stable.
static std::string scrub(std::string message, const std::string &scratch) {
  for (size_t at; (at = message.find(scratch)) != std::string::npos;)
    message.replace(at, scratch.size(), "SCRATCH");
  return message;
}

static std::string gScratch;

// Loads `manifestPath` with fimlir_module_load and checks that it fails with
// `status` and a message containing `part`.
static void checkLoad(const char *label, const std::string &manifestPath,
                      fimlir_status status, const std::string &part) {
  fimlir_context *ctx = nullptr;
  expect(fimlir_context_create(0, &ctx) == FIMLIR_SUCCESS, "context");
  fimlir_module *module = nullptr;
  auto start = std::chrono::steady_clock::now();
  fimlir_status s = fimlir_module_load(ctx, manifestPath.c_str(), &module);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::string message = fimlir_last_error();
  std::printf("load %s: %d %s\n", label, s, scrub(message, gScratch).c_str());
  expect(s == status && !module, std::string(label) + ": status " +
                                     std::to_string(s) + ", expected " +
                                     std::to_string(status));
  expect(contains(message, part), std::string(label) + ": message '" + message +
                                      "' lacks '" + part + "'");
  // Nothing here may be read: each is refused up front.
  expect(seconds < 5,
         std::string(label) + ": took " + std::to_string(seconds) + " s");
  fimlir_module_destroy(module);
  fimlir_context_destroy(ctx);
}

// A manifest naming `binary`, written to SCRATCH/NAME.json.
static std::string manifestFor(const std::string &name,
                               const std::string &binary) {
  std::string path = gScratch + "/" + name + ".json";
  writeFile(path, "{\"version\": 1, \"target\": \"sm_90a\", \"binary\": \"" +
                      binary +
                      "\", \"kernels\": [{\"name\": \"k\", \"block\": [32], "
                      "\"grid\": [1], \"args\": []}]}");
  return path;
}

//===----------------------------------------------------------------------===//
// Files: only regular files up to FIMLIR_MAX_FILE_SIZE are read
//===----------------------------------------------------------------------===//

static void testFiles() {
  checkLoad("binary-dev-zero", manifestFor("devzero", "/dev/zero"),
            FIMLIR_ERROR_IO,
            "could not read binary '/dev/zero': not a regular file");
  mkdir((gScratch + "/dir.cubin").c_str(), 0755);
  checkLoad(
      "binary-directory", manifestFor("dir", "dir.cubin"), FIMLIR_ERROR_IO,
      "could not read binary '" + gScratch + "/dir.cubin': it is a directory");
  checkLoad("manifest-directory", gScratch, FIMLIR_ERROR_IO,
            "could not read manifest '" + gScratch + "': it is a directory");
  checkLoad("manifest-dev-zero", "/dev/zero", FIMLIR_ERROR_IO,
            "could not read manifest '/dev/zero': not a regular file");
  // A FIFO without a writer must not block the load.
  std::string fifo = gScratch + "/fifo.cubin";
  unlink(fifo.c_str());
  expect(mkfifo(fifo.c_str(), 0644) == 0, "mkfifo");
  checkLoad("binary-fifo", manifestFor("fifo", "fifo.cubin"), FIMLIR_ERROR_IO,
            "fifo.cubin': not a regular file");

  // A sparse file one byte over the limit is refused by its size.
  std::string big = gScratch + "/big.cubin";
  int fd = open(big.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  expect(fd >= 0 && ftruncate(fd, FIMLIR_MAX_FILE_SIZE + 1) == 0,
         "creating a sparse file");
  if (fd >= 0)
    close(fd);
  checkLoad("binary-too-large", manifestFor("big", "big.cubin"),
            FIMLIR_ERROR_IO,
            "big.cubin': 1073741825 bytes is larger than the limit of "
            "1073741824 bytes");
  unlink(big.c_str());
  checkLoad("binary-missing", manifestFor("missing", "nothere.cubin"),
            FIMLIR_ERROR_IO,
            "could not open '" + gScratch +
                "/nothere.cubin': No such file or directory");
}

//===----------------------------------------------------------------------===//
// Manifest parsing
//===----------------------------------------------------------------------===//

static bool parse(const std::string &text, std::string &error,
                  Manifest *out = nullptr) {
  Manifest m;
  return parseManifest(text, "m.json", out ? *out : m, error);
}

// Checks that `text` is rejected with a message containing `part`.
static void checkReject(const char *label, const std::string &text,
                        const std::string &part) {
  std::string error;
  bool ok = parse(text, error);
  std::printf("bad %s: %s\n", label, error.c_str());
  expect(!ok, std::string(label) + ": malformed manifest was accepted");
  expect(contains(error, part),
         std::string(label) + ": message '" + error + "' lacks '" + part + "'");
}

static std::string manifestWith(const std::string &kernels) {
  return "{\"version\": 1, \"target\": \"sm_90a\", \"binary\": \"k.cubin\", "
         "\"kernels\": [" +
         kernels + "]}";
}

// Times one parse; reading must stay (close to) linear in the input size.
static double timedParse(const char *label, const std::string &text,
                         bool expectOk, const std::string &part = "") {
  std::string error;
  auto start = std::chrono::steady_clock::now();
  bool ok = parse(text, error);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("scale %s: %s\n", label,
              ok ? "ok" : error.substr(0, 120).c_str());
  expect(ok == expectOk, std::string(label) + ": " + error);
  expect(contains(error, part),
         std::string(label) + ": message '" + error + "' lacks '" + part + "'");
  // 100k entries took ~25 s when duplicate checks were quadratic, and take
  // well under a second now.
  expect(seconds < 5, std::string(label) + ": parsing took " +
                          std::to_string(seconds) + " s");
  return seconds;
}

static void testScale() {
  const int n = 100000;
  std::string kernels;
  for (int i = 0; i < n; ++i)
    kernels += (i ? ",\n" : "") + std::string("{\"name\": \"k") +
               std::to_string(i) +
               "\", \"block\": [32], \"grid\": [1], \"args\": []}";
  timedParse("100k-kernels", manifestWith(kernels), true);
  timedParse("100k-kernels-duplicate",
             manifestWith(kernels + ",\n{\"name\": \"k0\", \"block\": [32], "
                                    "\"grid\": [1], \"args\": []}"),
             false, "m.json:100001:10: duplicate kernel name 'k0'");

  std::string args;
  for (int i = 0; i < n; ++i)
    args += (i ? ",\n" : "") + std::string("{\"name\": \"a") +
            std::to_string(i) +
            "\", \"kind\": \"memref\", \"dtype\": \"f16\", \"rank\": 1}";
  std::string kernel = "{\"name\": \"k\", \"block\": [32], \"grid\": "
                       "[{\"dim\": [\"a99999\", 0]}, {\"dim\": [\"a0\", 0]}], "
                       "\"args\": [";
  timedParse("100k-args", manifestWith(kernel + args + "]}"), true);
  timedParse("100k-args-duplicate",
             manifestWith(kernel + args +
                          ",\n{\"name\": \"a5\", \"kind\": \"scalar\", "
                          "\"dtype\": \"i32\"}]}"),
             false, "duplicate argument name 'a5'");

  std::string params;
  for (int i = 0; i < n; ++i)
    params += (i ? ", " : "") + std::string("\"p") + std::to_string(i) +
              "\": " + std::to_string(i);
  std::string paramsKernel = "{\"name\": \"k\", \"block\": [32], \"grid\": "
                             "[1], \"args\": [], \"params\": {";
  timedParse("100k-params", manifestWith(paramsKernel + params + "}}"), true);
  timedParse("100k-params-duplicate",
             manifestWith(paramsKernel + params + ", \"p77\": 1}}"), false,
             "duplicate key \"p77\"");
}

static void testNul() {
  checkReject("nul-binary",
              "{\"version\": 1, \"target\": \"sm_90a\", \"binary\": "
              "\"k.cubin\\u0000.evil\"}",
              "m.json:1:54: NUL character (\\u0000) is not allowed in strings");
  checkReject("nul-kernel-name",
              manifestWith("{\"name\": \"k\\u0000x\", \"block\": [32], "
                           "\"grid\": [1], \"args\": []}"),
              "NUL character (\\u0000) is not allowed in strings");
  checkReject("nul-key", "{\"version\\u0000\": 1}",
              "m.json:1:10: NUL character (\\u0000) is not allowed in strings");
  checkReject("nul-raw",
              std::string("{\"version\": 1, \"binary\": \"a\0b\"}", 30),
              "m.json:1:28: control character in string");
  // Over the C API too, from a file.
  std::string path = gScratch + "/nul.json";
  writeFile(path, "{\"version\": 1, \"target\": \"sm_90a\", \"binary\": "
                  "\"k.cubin\\u0000.evil\", \"kernels\": []}");
  writeFile(gScratch + "/k.cubin", "not an ELF");
  checkLoad("nul-binary", path, FIMLIR_ERROR_MANIFEST,
            "nul.json:1:54: NUL character (\\u0000) is not allowed in "
            "strings");
}

//===----------------------------------------------------------------------===//
// Echoed user values are abbreviated
//===----------------------------------------------------------------------===//

static void checkShort(const char *label, const std::string &error,
                       const std::string &part) {
  std::printf("echo %s: %s\n", label, error.c_str());
  expect(error.size() < 300, std::string(label) + ": message of " +
                                 std::to_string(error.size()) + " bytes");
  expect(contains(error, part),
         std::string(label) + ": message '" + error + "' lacks '" + part + "'");
}

static void testEcho() {
  std::string tenMB(10 << 20, 'x');
  std::string error;
  expect(
      !parse(manifestWith("{\"name\": \"k\", \"block\": [32], \"grid\": [1], "
                          "\"args\": [{\"name\": \"a\", \"kind\": "
                          "\"memref\", \"rank\": 1, \"dtype\": \"" +
                          tenMB + "\"}]}"),
             error),
      "10 MB dtype rejected");
  checkShort("dtype-10MB", error,
             "args[0] ('a'): unknown dtype '" + std::string(64, 'x') + "...'");

  // A long kernel name is cut in the context of every later error.
  std::string longName(1000, 'n');
  expect(!parse(manifestWith("{\"name\": \"" + longName +
                             "\", \"block\": [0], \"grid\": [1], "
                             "\"args\": []}"),
                error),
         "block 0 rejected");
  checkShort("kernel-name", error,
             "kernels[0] ('" + std::string(64, 'n') +
                 "...'): block dimension 0");

  // Control characters are escaped; UTF-8 is not split.
  expect(!parse("{\"version\": 1, \"target\": \"sm\\n\\u0007\"}", error),
         "bad target rejected");
  checkShort("control", error, "unsupported target 'sm\\x0a\\x07'");
  std::string euros;
  for (int i = 0; i < 30; ++i)
    euros += "\xe2\x82\xac"; // U+20AC, 3 bytes
  expect(abbreviate(euros) == euros.substr(0, 63) + "...",
         "abbreviate cuts at a character boundary: " + abbreviate(euros));
  expect(abbreviate("short") == "short", "short values stay whole");

  // Launch-argument messages cut the manifest's names too.
  Manifest m;
  std::string argName(200, 'a');
  expect(parse(manifestWith("{\"name\": \"" + longName +
                            "\", \"block\": [32], \"grid\": [1], "
                            "\"args\": [{\"name\": \"" +
                            argName +
                            "\", \"kind\": \"scalar\", \"dtype\": \"i32\"}]}"),
               error, &m),
         "long names parse: " + error);
  if (!m.kernels.empty()) {
    fimlir_arg arg;
    std::memset(&arg, 0, sizeof(arg));
    arg.kind = FIMLIR_ARG_SCALAR;
    arg.u.scalar.dtype = FIMLIR_DTYPE_I64;
    arg.u.scalar.value.i = int64_t(1) << 40;
    expect(!checkArgs(m.kernels[0], &arg, 1, error), "i32 range checked");
    checkShort("arg-name", error,
               "kernel '" + std::string(64, 'n') + "...': argument 0 '" +
                   std::string(64, 'a') + "...': value 1099511627776");
    expect(!checkArgs(m.kernels[0], &arg, 2, error), "count checked");
    checkShort("arg-count", error,
               "kernel '" + std::string(64, 'n') +
                   "...': expected 1 arguments, got 2");
  }

  // A long binary path is cut in I/O messages.
  std::string longPath = "/" + std::string(2000, 'p') + ".cubin";
  checkLoad("long-path", manifestFor("longpath", longPath), FIMLIR_ERROR_IO,
            "could not open '/" + std::string(511, 'p') + "...'");
}

//===----------------------------------------------------------------------===//
// Numbers, nesting, truncation, wrong types
//===----------------------------------------------------------------------===//

static const char *kValid =
    R"({"version": 1, "target": "gfx942:sramecc+:xnack-",
  "binary": "a.hsaco", "kernels": [{"name": "f", "op": "x", "block": [64, 2],
  "grid": [{"mul": [{"ceil_div": ["q", 0, "c"]}, {"dim": ["q", 1]}]}, 3],
  "dynamic_shared_memory": 1024, "params": {"a": [1, 2.5, "s", null, true]},
  "args": [{"name": "q", "kind": "memref", "dtype": "bf16", "rank": 2,
            "shape": [-1, 64]},
           {"name": "c", "kind": "scalar", "dtype": "i64", "multiple_of": 16}]}]})";

// kValid with `from` replaced by `to` (which must occur).
static std::string edit(const std::string &from, const std::string &to) {
  std::string text = kValid;
  size_t at = text.find(from);
  expect(at != std::string::npos, "edit: '" + from + "' not found");
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

static void testNumbers() {
  std::string error;
  expect(parse(kValid, error), "valid manifest parses: " + error);
  checkReject("version-huge", edit("\"version\": 1", "\"version\": 1e400"),
              "m.json:1:13: number out of range");
  checkReject("version-beyond-int64",
              edit("\"version\": 1", "\"version\": 99999999999999999999"),
              "\"version\" must be an integer, got number");
  checkReject("version-int64-min",
              edit("\"version\": 1", "\"version\": -9223372036854775808"),
              "unsupported manifest version -9223372036854775808");
  checkReject("block-huge", edit("[64, 2]", "[64, 1e30]"),
              "block dimension 1 must be an integer in [1, 1024]");
  checkReject("block-int64", edit("[64, 2]", "[9223372036854775807]"),
              "block dimension 0 must be an integer in [1, 1024]");
  checkReject("grid-constant-2^32", edit("}]}, 3]", "}]}, 4294967296]"),
              "grid constant must be in [0, 4294967295]");
  checkReject("grid-constant-negative", edit("}]}, 3]", "}]}, -1]"),
              "grid constant must be in [0, 4294967295]");
  checkReject("grid-dim-huge",
              edit("[\"q\", 1]", "[\"q\", 9223372036854775807]"),
              "\"dim\" dimension of 'q' must be an integer in [0, 2)");
  checkReject("shmem-2^32", edit("1024", "4294967296"),
              "\"dynamic_shared_memory\" must be a non-negative integer");
  checkReject("rank-huge",
              edit("\"rank\": 2", "\"rank\": 18446744073709551616"),
              "('q').rank must be an integer in [0, 8]");
  checkReject("shape-huge", edit("[-1, 64]", "[-1, 1e20]"),
              "('q').shape[1] entry must be an integer or an object");
  checkReject("multiple-of-huge",
              edit("\"multiple_of\": 16", "\"multiple_of\": 1e19"),
              "('c').multiple_of must be a positive integer");
  checkReject("minus-alone", edit("[64, 2]", "[-]"),
              "invalid number: expected a digit");
  checkReject("exponent-alone", edit("[64, 2]", "[1e]"),
              "invalid number: expected a digit in the exponent");

  // Extreme launch arguments: the grid evaluation must not overflow.
  Manifest m;
  expect(parse(kValid, error, &m), "valid manifest parses: " + error);
  if (m.kernels.empty())
    return;
  const KernelSpec &f = m.kernels[0];
  std::vector<fimlir_arg> args(2);
  std::memset(args.data(), 0, sizeof(fimlir_arg) * 2);
  args[0].kind = FIMLIR_ARG_TENSOR;
  args[0].u.tensor.data = reinterpret_cast<void *>(0x1000);
  args[0].u.tensor.rank = 2;
  args[0].u.tensor.dtype = FIMLIR_DTYPE_BF16;
  args[0].u.tensor.sizes[0] = INT64_MAX;
  args[0].u.tensor.sizes[1] = 64;
  args[0].u.tensor.strides[0] = 64;
  args[0].u.tensor.strides[1] = 1;
  args[1].kind = FIMLIR_ARG_SCALAR;
  args[1].u.scalar.dtype = FIMLIR_DTYPE_I64;
  args[1].u.scalar.value.i = 16;
  LaunchDims dims;
  expect(checkArgs(f, args.data(), 2, error), "extreme sizes pass: " + error);
  expect(!computeLaunch(f, args.data(), dims, error) &&
             contains(error, "grid dimension x is out of range"),
         "overflowing grid: " + error);
  std::printf("launch int64-max: %s\n", error.c_str());
  args[1].u.scalar.value.i = INT64_MIN;
  expect(!checkArgs(f, args.data(), 2, error) &&
             contains(error, "must be a positive multiple of 16"),
         "INT64_MIN divisor: " + error);
  args[1].u.scalar.value.i = INT64_MAX - INT64_MAX % 16;
  expect(checkArgs(f, args.data(), 2, error) &&
             computeLaunch(f, args.data(), dims, error),
         "huge divisor: " + error);
  expect(dims.grid[0] == 128 && dims.grid[1] == 3, "huge divisor grid");
}

static void testNesting() {
  checkReject("deep-arrays", std::string(100000, '['),
              "m.json:1:129: nesting deeper than 128");
  std::string objects;
  for (int i = 0; i < 100000; ++i)
    objects += "{\"a\":";
  checkReject("deep-objects", objects, "nesting deeper than 128");
  std::string mixed;
  for (int i = 0; i < 50000; ++i)
    mixed += "[{\"a\":";
  checkReject("deep-params",
              edit("\"params\": {", "\"params\": {\"x\": " + mixed),
              "nesting deeper than 128");
  // 127 levels are fine (and destroy without recursing too deep).
  std::string deep = std::string(120, '[') + std::string(120, ']');
  std::string error;
  expect(parse(edit("\"a\": [", "\"d\": " + deep + ", \"a\": ["), error),
         "120 levels of params: " + error);
  std::string grid = "3";
  for (int i = 0; i < 17; ++i)
    grid = "{\"mul\": [" + grid + ", 1]}";
  checkReject("deep-grid", edit("}]}, 3]", "}]}, " + grid + "]"),
              "grid expression nested too deeply");
}

static void testTruncated() {
  // Every proper prefix of a valid manifest is rejected with a position.
  std::string text = kValid;
  int bad = 0;
  for (size_t n = 0; n < text.size(); ++n) {
    std::string error;
    if (parse(text.substr(0, n), error) || error.compare(0, 7, "m.json:") ||
        error.size() < 12)
      ++bad;
  }
  std::printf("truncated: %zu prefixes, %d bad\n", text.size(), bad);
  expect(bad == 0, "truncated manifests: " + std::to_string(bad) + " bad");
  checkReject("truncated-escape", "{\"a\": \"\\u12", "truncated \\u escape");
  checkReject("truncated-surrogate", "{\"a\": \"\\ud800\"}",
              "unpaired UTF-16 surrogate");
}

static void testWrongTypes() {
  checkReject("kernels-object",
              edit("\"kernels\": [", "\"kernels\": [1], \"x\": ["),
              "kernels[0]: a kernel must be an object, got integer");
  checkReject("binary-array", edit("\"a.hsaco\"", "[\"a.hsaco\"]"),
              "\"binary\" must be a string, got array");
  checkReject("binary-empty", edit("\"a.hsaco\"", "\"\""),
              "\"binary\" must not be empty");
  checkReject("name-number", edit("\"name\": \"f\"", "\"name\": 5"),
              "\"name\" must be a string, got integer");
  checkReject("args-object", edit("\"args\": [", "\"args\": {}, \"y\": ["),
              "\"args\" must be an array, got object");
  checkReject("arg-string", edit("\"args\": [", "\"args\": [\"q\", "),
              "args[0] must be an object, got string");
  checkReject("block-string", edit("[64, 2]", "\"64\""),
              "\"block\" must be an array of 1 to 3 positive integers");
  checkReject("grid-empty", edit("\"grid\": [", "\"grid\": [], \"z\": ["),
              "\"grid\" must be an array of 1 to 3 expressions");
  checkReject("grid-dim-string", edit("[\"q\", 1]", "[\"q\", \"1\"]"),
              "\"dim\" dimension of 'q' must be an integer in [0, 2)");
  checkReject("op-number", edit("\"op\": \"x\"", "\"op\": 1"),
              "\"op\" must be a string, got integer");
  checkReject("target-features", edit("sramecc+", "sramecc"),
              "unsupported target 'gfx942:sramecc:xnack-'");
  checkReject(
      "target-long",
      edit("gfx942:sramecc+:xnack-", "gfx942:" + std::string(80, 'a') + "+"),
      "unsupported target 'gfx942:aaaa");
  checkReject("not-utf8-outside", "\xff",
              "m.json:1:1: expected a JSON value, got byte 0xff");
}

//===----------------------------------------------------------------------===//
// Code objects
//===----------------------------------------------------------------------===//

static std::string elf(unsigned machine, size_t size = 64) {
  std::string h(size, '\0');
  const char ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  std::memcpy(&h[0], ident, sizeof(ident));
  h[16] = 1; // ET_REL
  h[18] = static_cast<char>(machine & 0xff);
  h[19] = static_cast<char>(machine >> 8);
  return h;
}

static void put16(std::string &h, size_t at, unsigned v) {
  h[at] = static_cast<char>(v & 0xff);
  h[at + 1] = static_cast<char>(v >> 8);
}

static void put64(std::string &h, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    h[at + i] = static_cast<char>(v >> (8 * i));
}

static void checkElf(const char *label, const std::string &image,
                     const std::string &part) {
  TargetKind kind;
  std::string error;
  bool ok = detectCodeObject(image.data(), image.size(), kind, error);
  std::printf("elf %s: %s\n", label, ok ? "ok" : error.c_str());
  expect(part.empty() ? ok : !ok && contains(error, part),
         std::string(label) + ": got '" + error + "', expected '" + part + "'");
}

static void testCodeObjects() {
  checkElf("plain", elf(kElfMachineCuda), "");
  std::string h = elf(kElfMachineCuda, 64 + 3 * 64);
  put64(h, 40, 64); // e_shoff
  put16(h, 58, 64); // e_shentsize
  put16(h, 60, 3);  // e_shnum
  checkElf("sections-inside", h, "");
  put16(h, 60, 4);
  checkElf("sections-past-end", h,
           "CUDA cubin is truncated: its section header table (4 entries at "
           "offset 64) ends past the image's 256 bytes");
  put16(h, 60, 3);
  put64(h, 40, UINT64_MAX - 8);
  checkElf("sections-offset-wraps", h,
           "section header table (3 entries at "
           "offset 18446744073709551607)");
  h = elf(kElfMachineAmdgpu, 64 + 56);
  put64(h, 32, 64); // e_phoff
  put16(h, 54, 56); // e_phentsize
  put16(h, 56, 1);  // e_phnum
  checkElf("program-headers-inside", h, "");
  put16(h, 54, 8);
  checkElf("program-headers-small", h,
           "AMDGPU code object has a program header table with 8-byte "
           "entries (ELF64 needs 56)");
  put16(h, 54, 56);
  put16(h, 56, 2);
  checkElf("program-headers-past-end", h,
           "AMDGPU code object is truncated: its program header table");
  checkElf(
      "big-endian",
      [] {
        std::string b = elf(0);
        b[5] = 2;
        b[18] = 0;
        b[19] = static_cast<char>(kElfMachineCuda);
        return b;
      }(),
      "CUDA cubin must be a little-endian 64-bit ELF");
  checkElf(
      "bad-encoding",
      [] {
        std::string b = elf(kElfMachineCuda);
        b[5] = 3;
        return b;
      }(),
      "invalid ELF data encoding 3");
  checkElf("empty", "", "no ELF header");
  checkElf("magic-only",
           "\x7f"
           "ELF",
           "truncated ELF header: 4 bytes");

  // Over the C API, from files: e_machine against the manifest target.
  std::string dir = gScratch + "/elf";
  mkdir(dir.c_str(), 0755);
  writeFile(dir + "/x86.cubin", elf(62));
  checkLoad("binary-x86", manifestFor("elf/x86", "x86.cubin"),
            FIMLIR_ERROR_BINARY,
            "x86.cubin: not a CUDA cubin or AMDGPU code object (ELF "
            "e_machine 62)");
  writeFile(dir + "/amd.cubin", elf(kElfMachineAmdgpu));
  checkLoad("binary-wrong-machine", manifestFor("elf/amd", "amd.cubin"),
            FIMLIR_ERROR_BINARY,
            "manifest target 'sm_90a' does not match the code object, which "
            "is an AMDGPU code object");
  writeFile(dir + "/short.cubin", elf(kElfMachineCuda).substr(0, 63));
  checkLoad("binary-short", manifestFor("elf/short", "short.cubin"),
            FIMLIR_ERROR_BINARY, "truncated ELF header: 63 bytes");
  writeFile(dir + "/empty.cubin", "");
  checkLoad("binary-empty", manifestFor("elf/empty", "empty.cubin"),
            FIMLIR_ERROR_BINARY,
            "empty.cubin: not a CUDA cubin or AMDGPU "
            "code object (no ELF header)");
  std::string cut = elf(kElfMachineCuda);
  put64(cut, 40, 64);
  put16(cut, 58, 64);
  put16(cut, 60, 10);
  writeFile(dir + "/cut.cubin", cut);
  checkLoad("binary-cut", manifestFor("elf/cut", "cut.cubin"),
            FIMLIR_ERROR_BINARY, "CUDA cubin is truncated");
}

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  gScratch = argv[1];
  testFiles();
  testScale();
  testNul();
  testEcho();
  testNumbers();
  testNesting();
  testTruncated();
  testWrongTypes();
  testCodeObjects();
  std::printf("failures: %d\n", failures);
  return failures ? 1 : 0;
}
