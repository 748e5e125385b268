//===- HipBackend.cpp - HIP backend through dlopen ------------------------===//
//
// Uses HIP's module API from libamdhip64. Types and entry points are declared
// here; the device properties struct is read through its stable "R0000"
// layout (the only one exported by both HIP 5 and HIP 6), of which only the
// prefix up to gcnArchName is needed.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"

#include <cstddef>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <type_traits>
#include <vector>

namespace fimlir {
namespace {

using hipError_t = int;
using hipModule_t = struct ihipModule_t *;
using hipFunction_t = struct ihipModuleSymbol_t *;
using hipStream_t = struct ihipStream_t *;

constexpr hipError_t hipSuccess = 0;
constexpr hipError_t hipErrorInvalidDevice = 101;
constexpr hipError_t hipErrorNoDevice = 100;
constexpr hipError_t hipErrorInvalidDeviceFunction = 98;
constexpr hipError_t hipErrorNotSupported = 801;
constexpr int hipFuncAttributeMaxDynamicSharedMemorySize = 8;
constexpr int hipMemcpyHostToDevice = 1;
constexpr int hipMemcpyDeviceToHost = 2;

// Prefix of hipDeviceProp_t in its R0000 layout.
struct DevicePropPrefix {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int clockRate;
  int memoryClockRate;
  int memoryBusWidth;
  size_t totalConstMem;
  int major;
  int minor;
  int multiProcessorCount;
  int l2CacheSize;
  int maxThreadsPerMultiProcessor;
  int computeMode;
  int clockInstructionRate;
  unsigned arch; // hipDeviceArch_t: 32 bits of feature flags
  int concurrentKernels;
  int pciDomainID;
  int pciBusID;
  int pciDeviceID;
  size_t maxSharedMemoryPerMultiProcessor;
  int isMultiGpuBoard;
  int canMapHostMemory;
  int gcnArch;
  char gcnArchName[256];
};
static_assert(offsetof(DevicePropPrefix, gcnArchName) == 396,
              "hipDeviceProp_tR0000 layout");

struct HipApi {
  std::string library;
  hipError_t (*hipInit)(unsigned);
  hipError_t (*hipGetDeviceCount)(int *);
  hipError_t (*hipSetDevice)(int);
  hipError_t (*hipGetDeviceProperties)(void *, int);
  hipError_t (*hipModuleLoadData)(hipModule_t *, const void *);
  hipError_t (*hipModuleUnload)(hipModule_t);
  hipError_t (*hipModuleGetFunction)(hipFunction_t *, hipModule_t,
                                     const char *);
  hipError_t (*hipFuncSetAttribute)(const void *, int, int);
  hipError_t (*hipModuleLaunchKernel)(hipFunction_t, unsigned, unsigned,
                                      unsigned, unsigned, unsigned, unsigned,
                                      unsigned, hipStream_t, void **, void **);
  const char *(*hipGetErrorName)(hipError_t);
  const char *(*hipGetErrorString)(hipError_t);
  hipError_t (*hipMalloc)(void **, size_t);
  hipError_t (*hipFree)(void *);
  hipError_t (*hipMemcpy)(void *, const void *, size_t, int);
  hipError_t (*hipMemset)(void *, int, size_t);
  hipError_t (*hipDeviceSynchronize)();
  hipError_t (*hipStreamSynchronize)(hipStream_t);
};

constexpr const char *kLibraries[] = {"libamdhip64.so", "libamdhip64.so.7",
                                      "libamdhip64.so.6", "libamdhip64.so.5"};

fimlir_status loadHipApi(const HipApi *&out) {
  static std::mutex mutex;
  static HipApi api;
  static bool loaded = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (loaded) {
    out = &api;
    return FIMLIR_SUCCESS;
  }
  void *handle = nullptr;
  std::string tried, lastReason;
  HipApi candidate;
  for (const char *library : kLibraries) {
    handle = dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (handle) {
      candidate.library = library;
      break;
    }
    const char *reason = dlerror();
    tried += tried.empty() ? library : std::string(", ") + library;
    lastReason = reason ? reason : "unknown error";
  }
  if (!handle)
    return setError(FIMLIR_ERROR_DRIVER_NOT_FOUND,
                    "could not load libamdhip64 (tried " + tried +
                        "): " + lastReason);
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
  // HIP 6 renamed the R0000-layout entry point; HIP 5 has only the old name.
  void *props = dlsym(handle, "hipGetDevicePropertiesR0000");
  if (!props)
    props = dlsym(handle, "hipGetDeviceProperties");
  candidate.hipGetDeviceProperties =
      reinterpret_cast<hipError_t (*)(void *, int)>(props);
  if (!props) {
    ok = false;
    missing = "hipGetDevicePropertiesR0000 or hipGetDeviceProperties";
  }
  bind(candidate.hipInit, "hipInit");
  bind(candidate.hipGetDeviceCount, "hipGetDeviceCount");
  bind(candidate.hipSetDevice, "hipSetDevice");
  bind(candidate.hipModuleLoadData, "hipModuleLoadData");
  bind(candidate.hipModuleUnload, "hipModuleUnload");
  bind(candidate.hipModuleGetFunction, "hipModuleGetFunction");
  bind(candidate.hipFuncSetAttribute, "hipFuncSetAttribute");
  bind(candidate.hipModuleLaunchKernel, "hipModuleLaunchKernel");
  bind(candidate.hipGetErrorName, "hipGetErrorName");
  bind(candidate.hipGetErrorString, "hipGetErrorString");
  bind(candidate.hipMalloc, "hipMalloc");
  bind(candidate.hipFree, "hipFree");
  bind(candidate.hipMemcpy, "hipMemcpy");
  bind(candidate.hipMemset, "hipMemset");
  bind(candidate.hipDeviceSynchronize, "hipDeviceSynchronize");
  bind(candidate.hipStreamSynchronize, "hipStreamSynchronize");
  // No dlclose on failure: unloading and reloading a driver can re-run
  // static initializers of its dependencies (libamdhip64 pulls in LLVM,
  // which aborts on re-registered options).
  if (!ok) {
    return setError(FIMLIR_ERROR_DRIVER_NOT_FOUND,
                    candidate.library + " does not export " + missing);
  }
  api = candidate;
  loaded = true;
  out = &api;
  return FIMLIR_SUCCESS;
}

std::string describeHip(const HipApi &api, hipError_t result) {
  const char *name = api.hipGetErrorName(result);
  const char *text = api.hipGetErrorString(result);
  std::string out = name ? name : "HIP error " + std::to_string(result);
  if (text && (!name || std::strcmp(name, text) != 0))
    out += std::string(" (") + text + ")";
  return out;
}

class HipBackend final : public Backend {
public:
  HipBackend(const HipApi &api, int device, std::string archName)
      : api(api), device(device), archName(std::move(archName)) {}

  fimlir_backend kind() const override { return FIMLIR_BACKEND_HIP; }
  const char *name() const override { return "HIP"; }

  fimlir_status checkTarget(const std::string &target) override {
    auto base = [](const std::string &arch) {
      return arch.substr(0, arch.find(':'));
    };
    if (base(target) == base(archName))
      return FIMLIR_SUCCESS;
    return setError(FIMLIR_ERROR_TARGET_MISMATCH,
                    "code object targets " + target + " but HIP device " +
                        std::to_string(device) + " is " + base(archName) +
                        " (" + archName + ")");
  }

  fimlir_status loadModule(const void *image, size_t, void **module) override {
    hipModule_t handle = nullptr;
    if (fimlir_status s = check(select(), "hipSetDevice"))
      return s;
    if (fimlir_status s =
            check(api.hipModuleLoadData(&handle, image), "hipModuleLoadData"))
      return s;
    *module = handle;
    return FIMLIR_SUCCESS;
  }

  void unloadModule(void *module) override {
    select();
    api.hipModuleUnload(static_cast<hipModule_t>(module));
  }

  fimlir_status getFunction(void *module, const std::string &name,
                            void **function) override {
    select();
    hipFunction_t fn = nullptr;
    hipError_t r = api.hipModuleGetFunction(
        &fn, static_cast<hipModule_t>(module), name.c_str());
    if (r != hipSuccess)
      return setError(
          FIMLIR_ERROR_NOT_FOUND,
          "kernel '" + abbreviate(name) +
              "' is not in the code object: " + describeHip(api, r));
    *function = fn;
    return FIMLIR_SUCCESS;
  }

  fimlir_status setMaxDynamicSharedMemory(void *function,
                                          const std::string &name,
                                          uint32_t bytes) override {
    select();
    hipError_t r = api.hipFuncSetAttribute(
        function, hipFuncAttributeMaxDynamicSharedMemorySize,
        static_cast<int>(bytes));
    // AMD GPUs need no opt-in for large LDS and some HIP versions do not
    // accept module functions here; the launch itself checks the size.
    if (r == hipErrorInvalidDeviceFunction || r == hipErrorNotSupported)
      return FIMLIR_SUCCESS;
    return check(r, "hipFuncSetAttribute(MaxDynamicSharedMemorySize=" +
                        std::to_string(bytes) + ") for '" + abbreviate(name) +
                        "'");
  }

  fimlir_status launch(void *function, const std::string &name,
                       const LaunchDims &dims, void *stream,
                       void **params) override {
    if (fimlir_status s = check(select(), "hipSetDevice"))
      return s;
    return check(api.hipModuleLaunchKernel(
                     static_cast<hipFunction_t>(function), dims.grid[0],
                     dims.grid[1], dims.grid[2], dims.block[0], dims.block[1],
                     dims.block[2], dims.dynamicSharedMemory,
                     static_cast<hipStream_t>(stream), params, nullptr),
                 "hipModuleLaunchKernel of '" + abbreviate(name) + "' (" +
                     describeLaunch(dims) + ")");
  }

  fimlir_status allocate(size_t bytes, void **ptr) override {
    select();
    return check(api.hipMalloc(ptr, bytes),
                 "hipMalloc of " + std::to_string(bytes) + " bytes");
  }
  fimlir_status release(void *ptr) override {
    select();
    return check(api.hipFree(ptr), "hipFree");
  }
  fimlir_status copyToDevice(void *dst, const void *src,
                             size_t bytes) override {
    select();
    return check(api.hipMemcpy(dst, src, bytes, hipMemcpyHostToDevice),
                 "hipMemcpy (host to device)");
  }
  fimlir_status copyToHost(void *dst, const void *src, size_t bytes) override {
    select();
    return check(api.hipMemcpy(dst, src, bytes, hipMemcpyDeviceToHost),
                 "hipMemcpy (device to host)");
  }
  fimlir_status fill(void *ptr, int value, size_t bytes) override {
    select();
    return check(api.hipMemset(ptr, value, bytes), "hipMemset");
  }
  fimlir_status synchronize() override {
    select();
    return check(api.hipDeviceSynchronize(), "hipDeviceSynchronize");
  }
  fimlir_status synchronizeStream(void *stream) override {
    select();
    return check(api.hipStreamSynchronize(static_cast<hipStream_t>(stream)),
                 "hipStreamSynchronize");
  }

private:
  const HipApi &api;
  int device;
  std::string archName;

  // HIP binds the device per thread.
  hipError_t select() const { return api.hipSetDevice(device); }

  fimlir_status check(hipError_t result, const std::string &what) const {
    if (result == hipSuccess)
      return FIMLIR_SUCCESS;
    return setError(FIMLIR_ERROR_DRIVER,
                    what + " failed: " + describeHip(api, result));
  }
};

} // namespace

fimlir_status createHipBackend(int device, std::unique_ptr<Backend> &out) {
  const HipApi *api = nullptr;
  if (fimlir_status s = loadHipApi(api))
    return s;
  hipError_t r = api->hipInit(0);
  int count = 0;
  hipError_t countResult = api->hipGetDeviceCount(&count);
  if (r != hipSuccess || countResult != hipSuccess || count == 0) {
    hipError_t cause = r != hipSuccess ? r : countResult;
    bool noDevice = count == 0 || cause == hipErrorNoDevice ||
                    cause == hipErrorInvalidDevice;
    std::string detail =
        r != hipSuccess ? "hipInit failed: " + describeHip(*api, r)
        : countResult != hipSuccess
            ? "hipGetDeviceCount failed: " + describeHip(*api, countResult)
            : "hipGetDeviceCount returned 0";
    return setError(noDevice ? FIMLIR_ERROR_NO_DEVICE : FIMLIR_ERROR_DRIVER,
                    std::string(noDevice ? "no HIP device" : "HIP error") +
                        " (" + api->library + ": " + detail + ")");
  }
  if (device < 0 || device >= count)
    return setError(FIMLIR_ERROR_NO_DEVICE,
                    "HIP device " + std::to_string(device) +
                        " does not exist (" + std::to_string(count) +
                        " device(s))");
  // Generous buffer: the struct has grown over HIP releases.
  std::vector<unsigned char> buffer(8192, 0);
  r = api->hipGetDeviceProperties(buffer.data(), device);
  if (r != hipSuccess)
    return setError(FIMLIR_ERROR_DRIVER,
                    "hipGetDeviceProperties failed: " + describeHip(*api, r));
  DevicePropPrefix props;
  std::memcpy(&props, buffer.data(), sizeof(props));
  props.gcnArchName[sizeof(props.gcnArchName) - 1] = 0;
  std::string arch = props.gcnArchName;
  if (arch.rfind("gfx", 0) != 0)
    return setError(FIMLIR_ERROR_DRIVER,
                    "could not read the architecture of HIP device " +
                        std::to_string(device) + " (gcnArchName is '" + arch +
                        "')");
  out = std::make_unique<HipBackend>(*api, device, arch);
  return FIMLIR_SUCCESS;
}

} // namespace fimlir
