#!/usr/bin/env bash
# Builds the runtime's libFuzzer target (test/Fuzz/ManifestFuzzer.cpp) with
# clang, ASan and UBSan in a runtime-only build directory, runs the runtime
# unit tests in that build (sanitized), then fuzzes from the seed corpus for a
# fixed number of runs. Exits non-zero on a build failure, a test failure or
# any crash (the crashing input is left in $ARTIFACTS).
#
#   scripts/fuzz-runtime.sh                 # 20000 runs
#   RUNS=1000000 MAX_TIME=600 scripts/fuzz-runtime.sh
#
# Environment: CXX (default clang++-22), BUILD_DIR (default build-fuzz-rt),
# RUNS, MAX_TIME (seconds, 0 = no limit), JOBS (build jobs, default 1),
# SEED (libFuzzer -seed, default 1 so CI runs are reproducible).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build-fuzz-rt}"
CXX="${CXX:-clang++-22}"
CC="${CC:-${CXX/clang++/clang}}"
RUNS="${RUNS:-20000}"
MAX_TIME="${MAX_TIME:-0}"
JOBS="${JOBS:-1}"
SEED="${SEED:-1}"

# shellcheck source=require-compiler-rt.sh
source "$REPO_ROOT/scripts/require-compiler-rt.sh"
require_compiler_rt fuzz-runtime

cmake -G Ninja -S "$REPO_ROOT" -B "$BUILD_DIR" \
  -DFLASHINFER_RUNTIME_ONLY=ON -DFLASHINFER_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# The unit tests under the sanitizers.
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$SCRATCH/unit" "$SCRATCH/hardening"
"$BUILD_DIR/bin/flashinfer-runtime-test" "$SCRATCH/unit" >"$SCRATCH/unit.log" ||
  { cat "$SCRATCH/unit.log"; echo "fuzz-runtime: unit test failed" >&2; exit 1; }
"$BUILD_DIR/bin/flashinfer-runtime-hardening-test" "$SCRATCH/hardening" \
  >"$SCRATCH/hardening.log" ||
  { grep -B1 FAIL "$SCRATCH/hardening.log" || tail -20 "$SCRATCH/hardening.log"
    echo "fuzz-runtime: hardening test failed" >&2; exit 1; }

# Fuzz: new inputs go to a scratch corpus; the checked-in seeds stay as they
# are. libFuzzer exits non-zero on a crash, leak, timeout or sanitizer report.
ARTIFACTS="${ARTIFACTS:-$BUILD_DIR/fuzz-artifacts}"
mkdir -p "$ARTIFACTS" "$SCRATCH/corpus"
"$BUILD_DIR/bin/flashinfer-manifest-fuzzer" \
  -runs="$RUNS" -max_total_time="$MAX_TIME" -seed="$SEED" \
  -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
  -dict="$REPO_ROOT/test/Fuzz/manifest.dict" \
  -artifact_prefix="$ARTIFACTS/" \
  "$SCRATCH/corpus" "$REPO_ROOT/test/Fuzz/corpus"
# The batch planners, on tables drawn from the input.
mkdir -p "$SCRATCH/planner-corpus"
"$BUILD_DIR/bin/flashinfer-planner-fuzzer" \
  -runs="$RUNS" -max_total_time="$MAX_TIME" -seed="$SEED" \
  -max_len=4096 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
  -artifact_prefix="$ARTIFACTS/planner-" "$SCRATCH/planner-corpus"
echo "fuzz-runtime: no crash"
