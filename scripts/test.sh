#!/usr/bin/env bash
# Runs every regression test (lit), then the fuzz runs: the runtime's
# manifest fuzzer, with the runtime's unit tests in an ASan + UBSan build
# (scripts/fuzz-runtime.sh). Exits non-zero when any test fails or a fuzzer
# finds a crash. Extra arguments go to lit, e.g. `scripts/test.sh -v` or
# `LIT_FILTER=downstream scripts/test.sh`; SKIP_FUZZ=1 runs lit alone.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"
if [[ $# -gt 0 ]]; then
  export LIT_OPTS="${LIT_OPTS:+$LIT_OPTS }$*"
fi
cmake --build "$BUILD_DIR" --target check-flashinfer
if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  RUNS="${FUZZ_RUNS:-200000}" bash "$REPO_ROOT/scripts/fuzz-runtime.sh"
fi
