//===- Runtime.cpp - C API of the launch runtime --------------------------===//

#include "flashinfer-runtime/runtime.h"
#include "Backend.h"
#include "CodeObject.h"
#include "Manifest.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <new>
#include <sys/stat.h>
#include <unistd.h>

using namespace fimlir;

namespace fimlir {

static thread_local std::string lastErrorMessage;

fimlir_status setError(fimlir_status code, std::string message) {
  lastErrorMessage = std::move(message);
  return code;
}

Backend::~Backend() = default;

std::string describeLaunch(const LaunchDims &dims) {
  auto triple = [](const std::array<uint32_t, 3> &v) {
    return std::to_string(v[0]) + "x" + std::to_string(v[1]) + "x" +
           std::to_string(v[2]);
  };
  return "grid " + triple(dims.grid) + ", block " + triple(dims.block) + ", " +
         std::to_string(dims.dynamicSharedMemory) + " B shared";
}

namespace {

// Shared by the context handle and every module loaded in it.
struct ContextState {
  int device = 0;
  std::mutex mutex;
  std::unique_ptr<Backend> backend;

  Backend *current() {
    std::lock_guard<std::mutex> lock(mutex);
    return backend.get();
  }
};

fimlir_status ensureBackend(ContextState &ctx, fimlir_backend kind,
                            const char *why, Backend *&out) {
  std::lock_guard<std::mutex> lock(ctx.mutex);
  if (ctx.backend) {
    if (ctx.backend->kind() != kind)
      return setError(FIMLIR_ERROR_INVALID_VALUE,
                      std::string("the context already uses ") +
                          ctx.backend->name() + "; cannot use it for " + why);
    out = ctx.backend.get();
    return FIMLIR_SUCCESS;
  }
  std::unique_ptr<Backend> backend;
  fimlir_status s = kind == FIMLIR_BACKEND_CUDA
                        ? createCudaBackend(ctx.device, backend)
                        : createHipBackend(ctx.device, backend);
  if (s)
    return s;
  ctx.backend = std::move(backend);
  out = ctx.backend.get();
  return FIMLIR_SUCCESS;
}

// Reads a regular file of at most FIMLIR_MAX_FILE_SIZE bytes. Devices, FIFOs
// and directories are refused before anything is read (O_NONBLOCK keeps
// open() from waiting for a FIFO writer), and the read loop stops at the cap
// even if the file grows meanwhile.
fimlir_status readFile(const std::string &path, const char *what,
                       std::string &out) {
  std::string shown = abbreviate(path, kMaxEchoedPath);
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return setError(FIMLIR_ERROR_IO,
                    "could not open '" + shown + "': " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return setError(FIMLIR_ERROR_IO,
                    "could not stat '" + shown + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return setError(
        FIMLIR_ERROR_IO,
        std::string("could not read ") + what + " '" + shown + "': " +
            (S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file"));
  const uint64_t cap = FIMLIR_MAX_FILE_SIZE;
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > cap)
    return setError(FIMLIR_ERROR_IO, std::string("could not read ") + what +
                                         " '" + shown +
                                         "': " + std::to_string(st.st_size) +
                                         " bytes is larger than the limit of " +
                                         std::to_string(cap) + " bytes");
  out.clear();
  out.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return setError(FIMLIR_ERROR_IO, "could not read '" + shown +
                                           "': " + std::strerror(errno));
    }
    if (n == 0)
      break;
    if (static_cast<uint64_t>(n) > cap - out.size())
      return setError(FIMLIR_ERROR_IO,
                      std::string("could not read ") + what + " '" + shown +
                          "': it grew past the limit of " +
                          std::to_string(cap) + " bytes while being read");
    out.append(buffer, static_cast<size_t>(n));
  }
  return FIMLIR_SUCCESS;
}

} // namespace
} // namespace fimlir

struct fimlir_context {
  std::shared_ptr<ContextState> state;
};

struct fimlir_kernel {
  const KernelSpec *spec = nullptr;
  void *function = nullptr;
  Backend *backend = nullptr;
  std::string paramsJson;
  std::once_flag sharedMemoryOnce;
  fimlir_status sharedMemoryStatus = FIMLIR_SUCCESS;
  std::string sharedMemoryError;
};

struct fimlir_module {
  std::shared_ptr<ContextState> context;
  Backend *backend = nullptr;
  Manifest manifest;
  void *handle = nullptr;
  std::vector<std::unique_ptr<fimlir_kernel>> kernels;

  ~fimlir_module() {
    if (handle)
      backend->unloadModule(handle);
  }
};

// Converts escaping C++ exceptions (allocation failures) into statuses.
#define FIMLIR_GUARD_BEGIN try {
#define FIMLIR_GUARD_END                                                       \
  }                                                                            \
  catch (const std::bad_alloc &) {                                             \
    return setError(FIMLIR_ERROR_OUT_OF_MEMORY, "out of host memory");         \
  }                                                                            \
  catch (const std::exception &e) {                                            \
    return setError(FIMLIR_ERROR_INVALID_VALUE,                                \
                    std::string("internal error: ") + e.what());               \
  }

#define FIMLIR_REQUIRE(cond, what)                                             \
  do {                                                                         \
    if (!(cond))                                                               \
      return setError(FIMLIR_ERROR_INVALID_VALUE, what);                       \
  } while (0)

extern "C" {

const char *fimlir_last_error(void) { return lastErrorMessage.c_str(); }

const char *fimlir_status_string(fimlir_status status) {
  switch (status) {
  case FIMLIR_SUCCESS:
    return "success";
  case FIMLIR_ERROR_INVALID_VALUE:
    return "invalid value";
  case FIMLIR_ERROR_MANIFEST:
    return "invalid manifest";
  case FIMLIR_ERROR_IO:
    return "I/O error";
  case FIMLIR_ERROR_BINARY:
    return "invalid code object";
  case FIMLIR_ERROR_DRIVER_NOT_FOUND:
    return "GPU driver library not found";
  case FIMLIR_ERROR_NO_DEVICE:
    return "no GPU device";
  case FIMLIR_ERROR_TARGET_MISMATCH:
    return "code object target does not match the device";
  case FIMLIR_ERROR_NOT_FOUND:
    return "kernel not found";
  case FIMLIR_ERROR_ARGUMENT:
    return "invalid kernel arguments";
  case FIMLIR_ERROR_DRIVER:
    return "GPU driver error";
  case FIMLIR_ERROR_OUT_OF_MEMORY:
    return "out of host memory";
  }
  return "unknown status";
}

const char *fimlir_dtype_name(fimlir_dtype dtype) { return dtypeName(dtype); }

fimlir_status fimlir_context_create(int device, fimlir_context **out) {
  return fimlir_context_create_with_backend(device, FIMLIR_BACKEND_AUTO, out);
}

fimlir_status fimlir_context_create_with_backend(int device,
                                                 fimlir_backend backend,
                                                 fimlir_context **out) {
  FIMLIR_GUARD_BEGIN
  FIMLIR_REQUIRE(out, "fimlir_context_create: null output pointer");
  *out = nullptr;
  FIMLIR_REQUIRE(device >= 0, "fimlir_context_create: negative device index " +
                                  std::to_string(device));
  FIMLIR_REQUIRE(backend == FIMLIR_BACKEND_AUTO ||
                     backend == FIMLIR_BACKEND_CUDA ||
                     backend == FIMLIR_BACKEND_HIP,
                 "fimlir_context_create: unknown backend " +
                     std::to_string(static_cast<int>(backend)));
  auto ctx = std::make_unique<fimlir_context>();
  ctx->state = std::make_shared<ContextState>();
  ctx->state->device = device;
  if (backend != FIMLIR_BACKEND_AUTO) {
    Backend *ignored;
    if (fimlir_status s =
            ensureBackend(*ctx->state, backend, "this backend", ignored))
      return s;
  }
  *out = ctx.release();
  return FIMLIR_SUCCESS;
  FIMLIR_GUARD_END
}

fimlir_backend fimlir_context_get_backend(const fimlir_context *ctx) {
  if (!ctx)
    return FIMLIR_BACKEND_AUTO;
  Backend *backend = ctx->state->current();
  return backend ? backend->kind() : FIMLIR_BACKEND_AUTO;
}

void fimlir_context_destroy(fimlir_context *ctx) { delete ctx; }

static fimlir_status loadModule(fimlir_context *ctx, const void *image,
                                size_t size, std::string_view manifestText,
                                const std::string &source,
                                const std::string &binaryPath,
                                fimlir_module **out) {
  auto module = std::make_unique<fimlir_module>();
  module->context = ctx->state;
  std::string error;
  if (!parseManifest(manifestText, source, module->manifest, error))
    return setError(FIMLIR_ERROR_MANIFEST, error);
  const Manifest &manifest = module->manifest;

  TargetKind objectKind;
  if (!detectCodeObject(image, size, objectKind, error))
    return setError(FIMLIR_ERROR_BINARY,
                    (binaryPath.empty()
                         ? ""
                         : abbreviate(binaryPath, kMaxEchoedPath) + ": ") +
                        error);
  if (objectKind != manifest.targetKind)
    return setError(FIMLIR_ERROR_BINARY,
                    "manifest target '" + manifest.target +
                        "' does not match the code object, which is " +
                        codeObjectKindArticle(objectKind) + " " +
                        codeObjectKindName(objectKind));

  fimlir_backend kind =
      objectKind == TargetKind::Cuda ? FIMLIR_BACKEND_CUDA : FIMLIR_BACKEND_HIP;
  std::string why = std::string(codeObjectKindArticle(objectKind)) + " " +
                    codeObjectKindName(objectKind);
  Backend *backend = nullptr;
  if (fimlir_status s = ensureBackend(*ctx->state, kind, why.c_str(), backend))
    return s;
  module->backend = backend;
  if (fimlir_status s = backend->checkTarget(manifest.target))
    return s;
  if (fimlir_status s = backend->loadModule(image, size, &module->handle))
    return s;
  for (const KernelSpec &spec : manifest.kernels) {
    auto kernel = std::make_unique<fimlir_kernel>();
    kernel->spec = &spec;
    kernel->backend = backend;
    kernel->paramsJson = spec.params.serialize();
    if (fimlir_status s =
            backend->getFunction(module->handle, spec.name, &kernel->function))
      return s;
    module->kernels.push_back(std::move(kernel));
  }
  *out = module.release();
  return FIMLIR_SUCCESS;
}

fimlir_status fimlir_module_load(fimlir_context *ctx, const char *manifest_path,
                                 fimlir_module **out) {
  FIMLIR_GUARD_BEGIN
  FIMLIR_REQUIRE(out, "fimlir_module_load: null output pointer");
  *out = nullptr;
  FIMLIR_REQUIRE(ctx, "fimlir_module_load: null context");
  FIMLIR_REQUIRE(manifest_path, "fimlir_module_load: null manifest path");
  std::string path = manifest_path;
  std::string text;
  if (fimlir_status s = readFile(path, "manifest", text))
    return s;
  // Read the manifest once to find the binary; loadModule re-parses the
  // same text and reports errors against it.
  Manifest manifest;
  std::string error;
  if (!parseManifest(text, path, manifest, error))
    return setError(FIMLIR_ERROR_MANIFEST, error);
  std::string binaryPath = manifest.binary;
  if (binaryPath[0] != '/') {
    size_t slash = path.find_last_of('/');
    if (slash != std::string::npos)
      binaryPath = path.substr(0, slash + 1) + binaryPath;
  }
  std::string image;
  if (fimlir_status s = readFile(binaryPath, "binary", image))
    return s;
  return loadModule(ctx, image.data(), image.size(), text, path, binaryPath,
                    out);
  FIMLIR_GUARD_END
}

fimlir_status fimlir_module_load_data(fimlir_context *ctx, const void *image,
                                      size_t size, const char *manifest_json,
                                      fimlir_module **out) {
  FIMLIR_GUARD_BEGIN
  FIMLIR_REQUIRE(out, "fimlir_module_load_data: null output pointer");
  *out = nullptr;
  FIMLIR_REQUIRE(ctx, "fimlir_module_load_data: null context");
  FIMLIR_REQUIRE(image, "fimlir_module_load_data: null image");
  FIMLIR_REQUIRE(manifest_json, "fimlir_module_load_data: null manifest");
  return loadModule(ctx, image, size, manifest_json, "<manifest>", "", out);
  FIMLIR_GUARD_END
}

void fimlir_module_destroy(fimlir_module *module) { delete module; }

const char *fimlir_module_target(const fimlir_module *module) {
  return module ? module->manifest.target.c_str() : nullptr;
}

int fimlir_module_num_kernels(const fimlir_module *module) {
  return module ? static_cast<int>(module->kernels.size()) : 0;
}

const char *fimlir_module_kernel_name(const fimlir_module *module, int index) {
  if (!module || index < 0 ||
      static_cast<size_t>(index) >= module->kernels.size())
    return nullptr;
  return module->kernels[index]->spec->name.c_str();
}

fimlir_status fimlir_module_get_kernel(fimlir_module *module, const char *name,
                                       fimlir_kernel **out) {
  FIMLIR_GUARD_BEGIN
  FIMLIR_REQUIRE(out, "fimlir_module_get_kernel: null output pointer");
  *out = nullptr;
  FIMLIR_REQUIRE(module, "fimlir_module_get_kernel: null module");
  FIMLIR_REQUIRE(name, "fimlir_module_get_kernel: null name");
  for (auto &kernel : module->kernels)
    if (kernel->spec->name == name) {
      *out = kernel.get();
      return FIMLIR_SUCCESS;
    }
  // Name at most a few of the kernels, each abbreviated.
  constexpr size_t kMaxListed = 8;
  std::string known;
  size_t listed = 0;
  for (auto &kernel : module->kernels) {
    if (listed++ == kMaxListed) {
      known += " and " + std::to_string(module->kernels.size() - kMaxListed) +
               " more";
      break;
    }
    known +=
        (known.empty() ? "'" : ", '") + abbreviate(kernel->spec->name) + "'";
  }
  return setError(FIMLIR_ERROR_NOT_FOUND, "no kernel '" + abbreviate(name) +
                                              "' in the manifest (it has " +
                                              known + ")");
  FIMLIR_GUARD_END
}

const char *fimlir_kernel_name(const fimlir_kernel *kernel) {
  return kernel ? kernel->spec->name.c_str() : nullptr;
}

int fimlir_kernel_num_args(const fimlir_kernel *kernel) {
  return kernel ? static_cast<int>(kernel->spec->args.size()) : 0;
}

const char *fimlir_kernel_arg_name(const fimlir_kernel *kernel, int index) {
  if (!kernel || index < 0 ||
      static_cast<size_t>(index) >= kernel->spec->args.size())
    return nullptr;
  return kernel->spec->args[index].name.c_str();
}

const char *fimlir_kernel_params_json(const fimlir_kernel *kernel) {
  return kernel ? kernel->paramsJson.c_str() : nullptr;
}

fimlir_status fimlir_kernel_info(const fimlir_kernel *kernel,
                                 const fimlir_arg *args, int nargs,
                                 fimlir_launch_info *out) {
  FIMLIR_GUARD_BEGIN
  FIMLIR_REQUIRE(kernel, "fimlir_kernel_info: null kernel");
  FIMLIR_REQUIRE(out, "fimlir_kernel_info: null output pointer");
  std::string error;
  LaunchDims dims;
  if (!checkArgs(*kernel->spec, args, nargs, error) ||
      !computeLaunch(*kernel->spec, args, dims, error))
    return setError(FIMLIR_ERROR_ARGUMENT, error);
  for (int d = 0; d < 3; ++d) {
    out->grid[d] = dims.grid[d];
    out->block[d] = dims.block[d];
  }
  out->dynamic_shared_memory = dims.dynamicSharedMemory;
  return FIMLIR_SUCCESS;
  FIMLIR_GUARD_END
}

fimlir_status fimlir_kernel_launch(fimlir_kernel *kernel,
                                   const fimlir_arg *args, int nargs,
                                   void *stream) {
  FIMLIR_GUARD_BEGIN
  FIMLIR_REQUIRE(kernel, "fimlir_kernel_launch: null kernel");
  const KernelSpec &spec = *kernel->spec;
  std::string error;
  LaunchDims dims;
  if (!checkArgs(spec, args, nargs, error) ||
      !computeLaunch(spec, args, dims, error))
    return setError(FIMLIR_ERROR_ARGUMENT, error);
  if (dims.empty())
    return FIMLIR_SUCCESS;
  // Above 48 KiB the CUDA driver requires an explicit opt-in per function.
  if (dims.dynamicSharedMemory > 48 * 1024) {
    std::call_once(kernel->sharedMemoryOnce, [&] {
      kernel->sharedMemoryStatus = kernel->backend->setMaxDynamicSharedMemory(
          kernel->function, spec.name, dims.dynamicSharedMemory);
      if (kernel->sharedMemoryStatus)
        kernel->sharedMemoryError = fimlir_last_error();
    });
    if (kernel->sharedMemoryStatus)
      return setError(kernel->sharedMemoryStatus, kernel->sharedMemoryError);
  }
  PackedParams params;
  packParams(spec, args, params);
  return kernel->backend->launch(kernel->function, spec.name, dims, stream,
                                 params.pointers.data());
  FIMLIR_GUARD_END
}

int fimlir_module_sequence_num_args(const fimlir_module *module) {
  if (!module || !module->manifest.sequence)
    return -1;
  return static_cast<int>(module->manifest.sequence->args.size());
}

const char *fimlir_module_sequence_arg_name(const fimlir_module *module,
                                            int index) {
  if (index < 0 || index >= fimlir_module_sequence_num_args(module))
    return nullptr;
  return module->manifest.sequence->args[index].c_str();
}

int fimlir_module_sequence_arg_is_workspace(const fimlir_module *module,
                                            int index) {
  const char *name = fimlir_module_sequence_arg_name(module, index);
  if (!name)
    return 0;
  const auto &workspace = module->manifest.sequence->workspace;
  return std::find(workspace.begin(), workspace.end(), name) != workspace.end();
}

int fimlir_module_sequence_num_launches(const fimlir_module *module) {
  if (!module || !module->manifest.sequence)
    return 0;
  return static_cast<int>(module->manifest.sequence->launches.size());
}

fimlir_status fimlir_module_launch_sequence(fimlir_module *module,
                                            const fimlir_arg *args, int nargs,
                                            void *stream) {
  FIMLIR_GUARD_BEGIN
  FIMLIR_REQUIRE(module, "fimlir_module_launch_sequence: null module");
  if (!module->manifest.sequence)
    return setError(FIMLIR_ERROR_NOT_FOUND,
                    "fimlir_module_launch_sequence: the manifest has no "
                    "launch sequence (launch its kernels one by one)");
  FIMLIR_REQUIRE(args || nargs == 0,
                 "fimlir_module_launch_sequence: null arguments");
  const SequenceSpec &sequence = *module->manifest.sequence;
  // Every launch's arguments are checked before the first launch, so that a
  // bad argument never leaves the sequence half run.
  std::vector<std::vector<fimlir_arg>> picked;
  std::string error;
  if (!checkSequenceArgs(module->manifest, args, nargs, picked, error))
    return setError(FIMLIR_ERROR_ARGUMENT,
                    "fimlir_module_launch_sequence: " + error);
  for (size_t i = 0; i < sequence.launches.size(); ++i) {
    fimlir_kernel *kernel = module->kernels[sequence.launches[i].kernel].get();
    if (fimlir_status status =
            fimlir_kernel_launch(kernel, picked[i].data(),
                                 static_cast<int>(picked[i].size()), stream))
      return status;
  }
  return FIMLIR_SUCCESS;
  FIMLIR_GUARD_END
}

static fimlir_status memoryBackend(fimlir_context *ctx, const char *api,
                                   Backend *&out) {
  if (!ctx)
    return setError(FIMLIR_ERROR_INVALID_VALUE,
                    std::string(api) + ": null context");
  out = ctx->state->current();
  if (!out)
    return setError(FIMLIR_ERROR_INVALID_VALUE,
                    std::string(api) +
                        ": the context has no backend yet (create it with "
                        "fimlir_context_create_with_backend or load a module "
                        "first)");
  return FIMLIR_SUCCESS;
}

fimlir_status fimlir_malloc(fimlir_context *ctx, size_t bytes, void **out) {
  FIMLIR_GUARD_BEGIN
  FIMLIR_REQUIRE(out, "fimlir_malloc: null output pointer");
  *out = nullptr;
  Backend *backend;
  if (fimlir_status s = memoryBackend(ctx, "fimlir_malloc", backend))
    return s;
  return backend->allocate(bytes, out);
  FIMLIR_GUARD_END
}

fimlir_status fimlir_free(fimlir_context *ctx, void *ptr) {
  FIMLIR_GUARD_BEGIN
  Backend *backend;
  if (fimlir_status s = memoryBackend(ctx, "fimlir_free", backend))
    return s;
  return ptr ? backend->release(ptr) : FIMLIR_SUCCESS;
  FIMLIR_GUARD_END
}

fimlir_status fimlir_memcpy_h2d(fimlir_context *ctx, void *dst, const void *src,
                                size_t bytes) {
  FIMLIR_GUARD_BEGIN
  Backend *backend;
  if (fimlir_status s = memoryBackend(ctx, "fimlir_memcpy_h2d", backend))
    return s;
  FIMLIR_REQUIRE((dst && src) || !bytes, "fimlir_memcpy_h2d: null pointer");
  return bytes ? backend->copyToDevice(dst, src, bytes) : FIMLIR_SUCCESS;
  FIMLIR_GUARD_END
}

fimlir_status fimlir_memcpy_d2h(fimlir_context *ctx, void *dst, const void *src,
                                size_t bytes) {
  FIMLIR_GUARD_BEGIN
  Backend *backend;
  if (fimlir_status s = memoryBackend(ctx, "fimlir_memcpy_d2h", backend))
    return s;
  FIMLIR_REQUIRE((dst && src) || !bytes, "fimlir_memcpy_d2h: null pointer");
  return bytes ? backend->copyToHost(dst, src, bytes) : FIMLIR_SUCCESS;
  FIMLIR_GUARD_END
}

fimlir_status fimlir_memset(fimlir_context *ctx, void *ptr, int value,
                            size_t bytes) {
  FIMLIR_GUARD_BEGIN
  Backend *backend;
  if (fimlir_status s = memoryBackend(ctx, "fimlir_memset", backend))
    return s;
  FIMLIR_REQUIRE(ptr || !bytes, "fimlir_memset: null pointer");
  return bytes ? backend->fill(ptr, value, bytes) : FIMLIR_SUCCESS;
  FIMLIR_GUARD_END
}

fimlir_status fimlir_synchronize(fimlir_context *ctx) {
  FIMLIR_GUARD_BEGIN
  Backend *backend;
  if (fimlir_status s = memoryBackend(ctx, "fimlir_synchronize", backend))
    return s;
  return backend->synchronize();
  FIMLIR_GUARD_END
}

fimlir_status fimlir_stream_synchronize(fimlir_context *ctx, void *stream) {
  FIMLIR_GUARD_BEGIN
  Backend *backend;
  if (fimlir_status s =
          memoryBackend(ctx, "fimlir_stream_synchronize", backend))
    return s;
  return backend->synchronizeStream(stream);
  FIMLIR_GUARD_END
}

} // extern "C"
