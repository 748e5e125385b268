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
  std::printf("failures: %d\n", failures);
  return failures ? 1 : 0;
}
