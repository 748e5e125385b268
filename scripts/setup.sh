#!/usr/bin/env bash
# Installs FlashInfer-MLIR's dependencies from Debian 12 (bookworm) apt
# sources, then configures and builds the project in build/.
#
# Safe to run again: apt skips installed packages, CMake reuses build/ and
# Ninja rebuilds only what changed. Runs apt as root directly, or through sudo
# when invoked by another user (the build then stays owned by that user).
#
# Environment:
#   BUILD_DIR        build directory (default: <repo>/build)
#   BUILD_TYPE       CMAKE_BUILD_TYPE (default: Release)
#   JOBS             parallel build jobs (default: Ninja's choice)
#   SKIP_APT=1       skip the package installation step
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"
BUILD_TYPE="${BUILD_TYPE:-Release}"
LLVM_VERSION=22

# What each package is for:
#   llvm/mlir dev + tools  LLVM/MLIR CMake packages, headers, libMLIR.so,
#                          mlir-tblgen, and FileCheck/not/count/lit for tests
#   mlir-22-tools          mlir-tblgen, mlir-runner (CPU execution tests)
#   lld-22                 ld.lld links AMDGPU code objects
#   clang-22               clang of the same LLVM release (GPU-side C++ and
#                          tools that need the matching clang)
#   libclang-rt-22-dev     compiler-rt: libFuzzer, ASan and UBSan for the
#                          fuzz and sanitizer runs of scripts/test.sh
#   g++                    the host C++ compiler CMake picks by default
#   cmake ninja-build      build system (CMake >= 3.20)
#   ccache                 compiler cache (used automatically when present)
#   python3-numpy          reference results in execution tests
#   python3-venv python3-pip  `pip install .` of the Python package in a
#                          fresh environment (scripts/test-package.sh)
#   libamdhip64-5          HIP runtime for launching AMDGPU code objects
PACKAGES=(
  "llvm-$LLVM_VERSION-dev" "libmlir-$LLVM_VERSION-dev"
  "mlir-$LLVM_VERSION-tools" "llvm-$LLVM_VERSION-tools"
  "lld-$LLVM_VERSION" "clang-$LLVM_VERSION" "libclang-rt-$LLVM_VERSION-dev"
  g++ cmake ninja-build ccache python3 python3-numpy python3-venv python3-pip
  libamdhip64-5
)

log() { printf '==> %s\n' "$*"; }

if [[ "${SKIP_APT:-0}" != 1 ]]; then
  if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null; then
    SUDO=(sudo)
  else
    echo "error: installing packages needs root or sudo (or set SKIP_APT=1)" >&2
    exit 1
  fi
  log "Installing packages: ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}"
fi

LLVM_CONFIG="llvm-config-$LLVM_VERSION"
if ! command -v "$LLVM_CONFIG" >/dev/null; then
  echo "error: $LLVM_CONFIG not found; are the LLVM $LLVM_VERSION packages installed?" >&2
  exit 1
fi
LLVM_LIBDIR="$("$LLVM_CONFIG" --libdir)"
LLVM_BINDIR="$("$LLVM_CONFIG" --bindir)"

log "Configuring $BUILD_DIR ($BUILD_TYPE)"
cmake -G Ninja -S "$REPO_ROOT" -B "$BUILD_DIR" \
  -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
  -DMLIR_DIR="$LLVM_LIBDIR/cmake/mlir" \
  -DMLIR_LINK_MLIR_DYLIB=ON \
  -DLLVM_EXTERNAL_LIT="$LLVM_BINDIR/lit"

log "Building"
cmake --build "$BUILD_DIR" ${JOBS:+--parallel "$JOBS"}
log "Built: $BUILD_DIR/bin/flashinfer-opt"
