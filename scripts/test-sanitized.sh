#!/usr/bin/env bash
# Builds the whole project with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan and runs the lit suite there, so
# that every compiler and runtime test also runs instrumented. Exits non-zero
# on a build failure, a test failure or any sanitizer report.
#
# The Python binding test preloads the ASan runtime into the (uninstrumented)
# interpreter that loads our instrumented runtime library, and the
# out-of-tree consumer test builds with the same sanitizer flags: test/lit.cfg.py
# reads FLASHINFER_SANITIZER_* below. libMLIR.so itself is not instrumented.
#
# Environment: BUILD_DIR (default build-asan), JOBS (default: Ninja's choice).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build-asan}"
LLVM_LIBDIR="$(llvm-config-22 --libdir)"
LLVM_BINDIR="$(llvm-config-22 --bindir)"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# The sanitizer runtimes are shared (every library of ours is instrumented);
# the binaries find them through an rpath.
RT_DIR="$(dirname "$(clang++-22 -print-file-name=libclang_rt.asan-x86_64.so)")"
LINK="-fsanitize=address,undefined -shared-libsan -Wl,-rpath,$RT_DIR"

cmake -G Ninja -S "$REPO_ROOT" -B "$BUILD_DIR" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
  -DCMAKE_EXE_LINKER_FLAGS="$LINK" -DCMAKE_SHARED_LINKER_FLAGS="$LINK" \
  -DCMAKE_MODULE_LINKER_FLAGS="$LINK" \
  -DMLIR_DIR="$LLVM_LIBDIR/cmake/mlir" \
  -DMLIR_LINK_MLIR_DYLIB=ON \
  -DLLVM_EXTERNAL_LIT="$LLVM_BINDIR/lit" >/dev/null
cmake --build "$BUILD_DIR" ${JOBS:+--parallel "$JOBS"}
# Leaks at exit of a short-lived tool are not errors here; everything else
# (use after free, overflow, UB) fails the test that hit it. LLVM's
# allocators poison memory by hand in instrumented code only, which gives
# false reports when uninstrumented libMLIR.so hands that memory back:
# allow_user_poisoning=0 turns that hand poisoning off.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allow_user_poisoning=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export FLASHINFER_SANITIZER_RT="$RT_DIR/libclang_rt.asan-x86_64.so"
export FLASHINFER_SANITIZER_CXX_FLAGS="$SAN" FLASHINFER_SANITIZER_LINKER_FLAGS="$LINK"
cmake --build "$BUILD_DIR" --target check-flashinfer
