//===- CudaBackend.cpp - CUDA driver backend through dlopen ---------------===//
//
// Uses the CUDA driver API from libcuda.so.1. Types and entry points are the
// driver's stable ABI (the *_v2 symbols are what cuda.h has mapped the plain
// names to since CUDA 3.2). The device's primary context is used, so
// launches share the context and streams of the CUDA runtime (e.g. PyTorch).
//
//===----------------------------------------------------------------------===//

#include "Backend.h"

#include <dlfcn.h>
#include <mutex>
#include <type_traits>

namespace fimlir {
namespace {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

struct CudaApi {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxPushCurrent)(CUcontext);
  CUresult (*cuCtxPopCurrent)(CUcontext *);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuMemsetD8)(CUdeviceptr, unsigned char, size_t);
  CUresult (*cuStreamSynchronize)(CUstream);
};

constexpr const char *kLibrary = "libcuda.so.1";

// Opened once per process and never closed: other libraries in the process
// may hold the same driver.
fimlir_status loadCudaApi(const CudaApi *&out) {
  static std::mutex mutex;
  static CudaApi api;
  static bool loaded = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (loaded) {
    out = &api;
    return FIMLIR_SUCCESS;
  }
  void *handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!handle) {
    const char *reason = dlerror();
    return setError(FIMLIR_ERROR_DRIVER_NOT_FOUND,
                    std::string("could not load ") + kLibrary + ": " +
                        (reason ? reason : "unknown error"));
  }
  CudaApi candidate;
  bool ok = true;
  std::string missing;
  auto bind = [&](auto &fn, const char *symbol) {
    void *p = dlsym(handle, symbol);
    if (!p && ok) {
      ok = false;
      missing = symbol;
    }
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
  };
  bind(candidate.cuInit, "cuInit");
  bind(candidate.cuDeviceGetCount, "cuDeviceGetCount");
  bind(candidate.cuDeviceGet, "cuDeviceGet");
  bind(candidate.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  bind(candidate.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  bind(candidate.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
  bind(candidate.cuCtxPushCurrent, "cuCtxPushCurrent_v2");
  bind(candidate.cuCtxPopCurrent, "cuCtxPopCurrent_v2");
  bind(candidate.cuCtxSynchronize, "cuCtxSynchronize");
  bind(candidate.cuModuleLoadData, "cuModuleLoadData");
  bind(candidate.cuModuleUnload, "cuModuleUnload");
  bind(candidate.cuModuleGetFunction, "cuModuleGetFunction");
  bind(candidate.cuFuncSetAttribute, "cuFuncSetAttribute");
  bind(candidate.cuLaunchKernel, "cuLaunchKernel");
  bind(candidate.cuGetErrorName, "cuGetErrorName");
  bind(candidate.cuGetErrorString, "cuGetErrorString");
  bind(candidate.cuMemAlloc, "cuMemAlloc_v2");
  bind(candidate.cuMemFree, "cuMemFree_v2");
  bind(candidate.cuMemcpyHtoD, "cuMemcpyHtoD_v2");
  bind(candidate.cuMemcpyDtoH, "cuMemcpyDtoH_v2");
  bind(candidate.cuMemsetD8, "cuMemsetD8_v2");
  bind(candidate.cuStreamSynchronize, "cuStreamSynchronize");
  // No dlclose on failure: unloading and reloading a driver can re-run
  // static initializers of its dependencies (libamdhip64 pulls in LLVM,
  // which aborts on re-registered options).
  if (!ok) {
    return setError(FIMLIR_ERROR_DRIVER_NOT_FOUND,
                    std::string(kLibrary) + " does not export " + missing +
                        " (driver too old?)");
  }
  api = candidate;
  loaded = true;
  out = &api;
  return FIMLIR_SUCCESS;
}

class CudaBackend final : public Backend {
public:
  CudaBackend(const CudaApi &api, int ordinal, CUdevice device,
              CUcontext context)
      : api(api), ordinal(ordinal), device(device), context(context) {}
  ~CudaBackend() override { api.cuDevicePrimaryCtxRelease(device); }

  fimlir_backend kind() const override { return FIMLIR_BACKEND_CUDA; }
  const char *name() const override { return "CUDA"; }

  fimlir_status checkTarget(const std::string &target) override;
  fimlir_status loadModule(const void *image, size_t size,
                           void **module) override;
  void unloadModule(void *module) override;
  fimlir_status getFunction(void *module, const std::string &name,
                            void **function) override;
  fimlir_status setMaxDynamicSharedMemory(void *function,
                                          const std::string &name,
                                          uint32_t bytes) override;
  fimlir_status launch(void *function, const std::string &name,
                       const LaunchDims &dims, void *stream,
                       void **params) override;
  fimlir_status allocate(size_t bytes, void **ptr) override;
  fimlir_status release(void *ptr) override;
  fimlir_status copyToDevice(void *dst, const void *src, size_t bytes) override;
  fimlir_status copyToHost(void *dst, const void *src, size_t bytes) override;
  fimlir_status fill(void *ptr, int value, size_t bytes) override;
  fimlir_status synchronize() override;
  fimlir_status synchronizeStream(void *stream) override;

private:
  const CudaApi &api;
  int ordinal;
  CUdevice device;
  CUcontext context;

  // Makes the primary context current for the scope of one operation.
  class Scope {
  public:
    explicit Scope(const CudaBackend &backend) : api(backend.api) {
      pushed = api.cuCtxPushCurrent(backend.context) == CUDA_SUCCESS;
    }
    ~Scope() {
      if (pushed) {
        CUcontext ignored;
        api.cuCtxPopCurrent(&ignored);
      }
    }

  private:
    const CudaApi &api;
    bool pushed;
  };

  fimlir_status check(CUresult result, fimlir_status code,
                      const std::string &what) const;
};

std::string describeCuda(const CudaApi &api, CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (api.cuGetErrorName(result, &name) != CUDA_SUCCESS || !name)
    return "CUDA error " + std::to_string(result);
  std::string out = name;
  if (api.cuGetErrorString(result, &text) == CUDA_SUCCESS && text)
    out += std::string(" (") + text + ")";
  return out;
}

fimlir_status CudaBackend::check(CUresult result, fimlir_status code,
                                 const std::string &what) const {
  if (result == CUDA_SUCCESS)
    return FIMLIR_SUCCESS;
  return setError(code, what + " failed: " + describeCuda(api, result));
}

fimlir_status CudaBackend::checkTarget(const std::string &target) {
  // "sm_90a": compute capability 9.0, arch-specific ('a': exact match only);
  // plain and family ('f') targets run on later minors of the same major.
  std::string digits = target.substr(3);
  char suffix = 0;
  if (!digits.empty() && (digits.back() == 'a' || digits.back() == 'f')) {
    suffix = digits.back();
    digits.pop_back();
  }
  int number = std::stoi(digits);
  int wantMajor = number / 10, wantMinor = number % 10;
  int major = 0, minor = 0;
  if (fimlir_status s = check(
          api.cuDeviceGetAttribute(
              &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
          FIMLIR_ERROR_DRIVER, "cuDeviceGetAttribute"))
    return s;
  if (fimlir_status s = check(
          api.cuDeviceGetAttribute(
              &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
          FIMLIR_ERROR_DRIVER, "cuDeviceGetAttribute"))
    return s;
  bool ok = major == wantMajor &&
            (suffix == 'a' ? minor == wantMinor : minor >= wantMinor);
  if (ok)
    return FIMLIR_SUCCESS;
  return setError(FIMLIR_ERROR_TARGET_MISMATCH,
                  "code object targets " + target + " (compute capability " +
                      std::to_string(wantMajor) + "." +
                      std::to_string(wantMinor) + ") but CUDA device " +
                      std::to_string(ordinal) + " has compute capability " +
                      std::to_string(major) + "." + std::to_string(minor) +
                      " (sm_" + std::to_string(major * 10 + minor) + ")");
}

fimlir_status CudaBackend::loadModule(const void *image, size_t,
                                      void **module) {
  Scope scope(*this);
  CUmodule handle = nullptr;
  if (fimlir_status s = check(api.cuModuleLoadData(&handle, image),
                              FIMLIR_ERROR_DRIVER, "cuModuleLoadData"))
    return s;
  *module = handle;
  return FIMLIR_SUCCESS;
}

void CudaBackend::unloadModule(void *module) {
  Scope scope(*this);
  api.cuModuleUnload(static_cast<CUmodule>(module));
}

fimlir_status CudaBackend::getFunction(void *module, const std::string &name,
                                       void **function) {
  Scope scope(*this);
  CUfunction fn = nullptr;
  CUresult r =
      api.cuModuleGetFunction(&fn, static_cast<CUmodule>(module), name.c_str());
  if (r != CUDA_SUCCESS)
    return setError(FIMLIR_ERROR_NOT_FOUND,
                    "kernel '" + abbreviate(name) +
                        "' is not in the code object: " + describeCuda(api, r));
  *function = fn;
  return FIMLIR_SUCCESS;
}

fimlir_status CudaBackend::setMaxDynamicSharedMemory(void *function,
                                                     const std::string &name,
                                                     uint32_t bytes) {
  Scope scope(*this);
  return check(
      api.cuFuncSetAttribute(static_cast<CUfunction>(function),
                             CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                             static_cast<int>(bytes)),
      FIMLIR_ERROR_DRIVER,
      "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES=" +
          std::to_string(bytes) + ") for '" + abbreviate(name) + "'");
}

fimlir_status CudaBackend::launch(void *function, const std::string &name,
                                  const LaunchDims &dims, void *stream,
                                  void **params) {
  Scope scope(*this);
  return check(
      api.cuLaunchKernel(static_cast<CUfunction>(function), dims.grid[0],
                         dims.grid[1], dims.grid[2], dims.block[0],
                         dims.block[1], dims.block[2], dims.dynamicSharedMemory,
                         static_cast<CUstream>(stream), params, nullptr),
      FIMLIR_ERROR_DRIVER,
      "cuLaunchKernel of '" + abbreviate(name) + "' (" + describeLaunch(dims) +
          ")");
}

fimlir_status CudaBackend::allocate(size_t bytes, void **ptr) {
  Scope scope(*this);
  CUdeviceptr p = 0;
  if (fimlir_status s =
          check(api.cuMemAlloc(&p, bytes), FIMLIR_ERROR_DRIVER,
                "cuMemAlloc of " + std::to_string(bytes) + " bytes"))
    return s;
  *ptr = reinterpret_cast<void *>(static_cast<uintptr_t>(p));
  return FIMLIR_SUCCESS;
}

fimlir_status CudaBackend::release(void *ptr) {
  Scope scope(*this);
  return check(api.cuMemFree(reinterpret_cast<uintptr_t>(ptr)),
               FIMLIR_ERROR_DRIVER, "cuMemFree");
}

fimlir_status CudaBackend::copyToDevice(void *dst, const void *src,
                                        size_t bytes) {
  Scope scope(*this);
  return check(api.cuMemcpyHtoD(reinterpret_cast<uintptr_t>(dst), src, bytes),
               FIMLIR_ERROR_DRIVER, "cuMemcpyHtoD");
}

fimlir_status CudaBackend::copyToHost(void *dst, const void *src,
                                      size_t bytes) {
  Scope scope(*this);
  return check(api.cuMemcpyDtoH(dst, reinterpret_cast<uintptr_t>(src), bytes),
               FIMLIR_ERROR_DRIVER, "cuMemcpyDtoH");
}

fimlir_status CudaBackend::fill(void *ptr, int value, size_t bytes) {
  Scope scope(*this);
  return check(api.cuMemsetD8(reinterpret_cast<uintptr_t>(ptr),
                              static_cast<unsigned char>(value), bytes),
               FIMLIR_ERROR_DRIVER, "cuMemsetD8");
}

fimlir_status CudaBackend::synchronize() {
  Scope scope(*this);
  return check(api.cuCtxSynchronize(), FIMLIR_ERROR_DRIVER, "cuCtxSynchronize");
}

fimlir_status CudaBackend::synchronizeStream(void *stream) {
  Scope scope(*this);
  return check(api.cuStreamSynchronize(static_cast<CUstream>(stream)),
               FIMLIR_ERROR_DRIVER, "cuStreamSynchronize");
}

} // namespace

fimlir_status createCudaBackend(int ordinal, std::unique_ptr<Backend> &out) {
  const CudaApi *api = nullptr;
  if (fimlir_status s = loadCudaApi(api))
    return s;
  CUresult r = api->cuInit(0);
  if (r != CUDA_SUCCESS)
    return setError(
        r == CUDA_ERROR_NO_DEVICE ? FIMLIR_ERROR_NO_DEVICE
                                  : FIMLIR_ERROR_DRIVER,
        std::string(r == CUDA_ERROR_NO_DEVICE ? "no CUDA device: " : "") +
            "cuInit failed: " + describeCuda(*api, r));
  int count = 0;
  r = api->cuDeviceGetCount(&count);
  if (r != CUDA_SUCCESS)
    return setError(FIMLIR_ERROR_DRIVER,
                    "cuDeviceGetCount failed: " + describeCuda(*api, r));
  if (count == 0)
    return setError(FIMLIR_ERROR_NO_DEVICE, "no CUDA device");
  if (ordinal < 0 || ordinal >= count)
    return setError(FIMLIR_ERROR_NO_DEVICE,
                    "CUDA device " + std::to_string(ordinal) +
                        " does not exist (" + std::to_string(count) +
                        " device(s))");
  CUdevice device = 0;
  r = api->cuDeviceGet(&device, ordinal);
  if (r != CUDA_SUCCESS)
    return setError(FIMLIR_ERROR_DRIVER,
                    "cuDeviceGet failed: " + describeCuda(*api, r));
  CUcontext context = nullptr;
  r = api->cuDevicePrimaryCtxRetain(&context, device);
  if (r != CUDA_SUCCESS)
    return setError(FIMLIR_ERROR_DRIVER, "cuDevicePrimaryCtxRetain failed: " +
                                             describeCuda(*api, r));
  out = std::make_unique<CudaBackend>(*api, ordinal, device, context);
  return FIMLIR_SUCCESS;
}

} // namespace fimlir
