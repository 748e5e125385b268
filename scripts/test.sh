#!/usr/bin/env bash
# Runs every regression test (lit), then `pip install .` in a fresh virtual
# environment with the installed package checked (scripts/test-package.sh),
# then the hardening runs:
#  - scripts/fuzz-runtime.sh: the runtime's unit tests in an ASan + UBSan
#    build, then its manifest fuzzer (FUZZ_RUNS inputs, default 200000);
#  - scripts/fuzz-compiler.sh: the compiler fuzzer over parse, verify and the
#    attn pipelines (COMPILER_FUZZ_RUNS inputs, default 20000);
#  - scripts/test-sanitized.sh: the whole lit suite again, built with clang,
#    ASan and UBSan.
# Exits non-zero when any test fails or a fuzzer or sanitizer reports.
# Extra arguments go to the first lit run, e.g. `scripts/test.sh -v` or
# `LIT_FILTER=downstream scripts/test.sh`; SKIP_FUZZ=1 runs that alone.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"
if [[ $# -gt 0 ]]; then
  export LIT_OPTS="${LIT_OPTS:+$LIT_OPTS }$*"
fi
cmake --build "$BUILD_DIR" --target check-flashinfer
if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  unset LIT_OPTS
  bash "$REPO_ROOT/scripts/test-package.sh"
  RUNS="${FUZZ_RUNS:-200000}" bash "$REPO_ROOT/scripts/fuzz-runtime.sh"
  RUNS="${COMPILER_FUZZ_RUNS:-20000}" JOBS="${JOBS:-2}" \
    bash "$REPO_ROOT/scripts/fuzz-compiler.sh"
  bash "$REPO_ROOT/scripts/test-sanitized.sh"
fi
