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

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  gScratch = argv[1];
  testFiles();
  testScale();
  testNul();
  std::printf("failures: %d\n", failures);
  return failures ? 1 : 0;
}
