//===- Backend.h - CUDA driver / HIP backends -------------------*- C++ -*-===//
//
// A backend owns one device of one driver. The driver library is opened with
// dlopen on first use; its entry points and types are declared locally so
// that no GPU SDK is needed to build the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHINFER_RUNTIME_BACKEND_H
#define FLASHINFER_RUNTIME_BACKEND_H

#include "Manifest.h"
#include "flashinfer-runtime/runtime.h"

#include <memory>
#include <string>

namespace fimlir {

// Records `message` as this thread's last error and returns `code`.
fimlir_status setError(fimlir_status code, std::string message);

// Backends report failures through setError and return its status.
class Backend {
public:
  virtual ~Backend();
  virtual fimlir_backend kind() const = 0;
  // "CUDA" or "HIP".
  virtual const char *name() const = 0;

  // Fails with FIMLIR_ERROR_TARGET_MISMATCH unless code for `target`
  // ("sm_90a", "gfx942") runs on this backend's device.
  virtual fimlir_status checkTarget(const std::string &target) = 0;

  virtual fimlir_status loadModule(const void *image, size_t size,
                                   void **module) = 0;
  virtual void unloadModule(void *module) = 0;
  virtual fimlir_status getFunction(void *module, const std::string &name,
                                    void **function) = 0;
  virtual fimlir_status setMaxDynamicSharedMemory(void *function,
                                                  const std::string &name,
                                                  uint32_t bytes) = 0;
  virtual fimlir_status launch(void *function, const std::string &name,
                               const LaunchDims &dims, void *stream,
                               void **params) = 0;

  virtual fimlir_status allocate(size_t bytes, void **ptr) = 0;
  virtual fimlir_status release(void *ptr) = 0;
  virtual fimlir_status copyToDevice(void *dst, const void *src,
                                     size_t bytes) = 0;
  virtual fimlir_status copyToHost(void *dst, const void *src,
                                   size_t bytes) = 0;
  virtual fimlir_status fill(void *ptr, int value, size_t bytes) = 0;
  virtual fimlir_status synchronize() = 0;
  virtual fimlir_status synchronizeStream(void *stream) = 0;
};

// Open the driver, initialize it and bind `device`.
fimlir_status createCudaBackend(int device, std::unique_ptr<Backend> &out);
fimlir_status createHipBackend(int device, std::unique_ptr<Backend> &out);

// Launch shape in messages: "grid 4x2x1, block 128x1x1, 16384 B shared".
std::string describeLaunch(const LaunchDims &dims);

} // namespace fimlir

#endif // FLASHINFER_RUNTIME_BACKEND_H
