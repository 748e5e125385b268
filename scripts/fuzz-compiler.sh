#!/usr/bin/env bash
# Builds the compiler's libFuzzer target (test/Fuzz/CompilerFuzzer.cpp) with
# clang, ASan and UBSan in a full build directory (this project's libraries
# are instrumented; the system's libMLIR.so is not), makes a seed corpus from
# the lit inputs (every test/**/*.mlir split on `// -----`), then fuzzes for a
# fixed number of runs. Exits non-zero on a build failure or any crash,
# timeout or sanitizer report (the input is left in $ARTIFACTS).
#
#   scripts/fuzz-compiler.sh                 # 20000 runs
#   RUNS=200000 MAX_TIME=1800 scripts/fuzz-compiler.sh
#
# Needs what scripts/setup.sh installs plus compiler-rt (on Debian:
# libclang-rt-22-dev). Environment: CXX (default clang++-22), BUILD_DIR
# (default build-fuzz), RUNS, MAX_TIME (seconds, 0 = no limit), JOBS (build
# jobs, default 1), SEED (libFuzzer -seed, default 1), TIMEOUT (seconds per
# input, default 30), MAX_LEN (bytes per input, default 8192).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build-fuzz}"
CXX="${CXX:-clang++-22}"
CC="${CC:-${CXX/clang++/clang}}"
RUNS="${RUNS:-20000}"
MAX_TIME="${MAX_TIME:-0}"
JOBS="${JOBS:-1}"
SEED="${SEED:-1}"
TIMEOUT="${TIMEOUT:-30}"
MAX_LEN="${MAX_LEN:-8192}"
LLVM_VERSION=22

# shellcheck source=require-compiler-rt.sh
source "$REPO_ROOT/scripts/require-compiler-rt.sh"
require_compiler_rt fuzz-compiler

LLVM_CONFIG="llvm-config-$LLVM_VERSION"
LLVM_LIBDIR="$("$LLVM_CONFIG" --libdir)"
LLVM_BINDIR="$("$LLVM_CONFIG" --bindir)"
cmake -G Ninja -S "$REPO_ROOT" -B "$BUILD_DIR" \
  -DFLASHINFER_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DMLIR_DIR="$LLVM_LIBDIR/cmake/mlir" \
  -DMLIR_LINK_MLIR_DYLIB=ON \
  -DLLVM_EXTERNAL_LIT="$LLVM_BINDIR/lit" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target flashinfer-compiler-fuzzer

# Seeds: each split-input-file case of the lit tests, once per pipeline
# (header byte 0 = the pipeline, byte 1 = 0: convert-attn-to-gpu defaults).
SEEDS="$BUILD_DIR/fuzz-compiler-seeds"
rm -rf "$SEEDS"
mkdir -p "$SEEDS"
python3 - "$REPO_ROOT/test" "$SEEDS" <<'PY'
import pathlib, re, sys
root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
n = 0
for path in sorted(root.rglob("*.mlir")):
    text = path.read_text(errors="replace")
    for case in re.split(r"^// -----.*$", text, flags=re.M):
        if not case.strip():
            continue
        body = case.encode()
        for pipeline in range(8):
            (out / f"seed-{n:05d}-{pipeline}").write_bytes(
                bytes([pipeline, 0]) + body)
        n += 1
print(f"fuzz-compiler: {n} seed cases from {root}", file=sys.stderr)
PY

# LLVM's allocators poison memory by hand in instrumented code only; when
# the uninstrumented libMLIR.so writes that memory (interned strings) ASan
# reports a false use-after-poison, so hand poisoning is off.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allow_user_poisoning=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# New inputs go to a scratch corpus; libFuzzer exits non-zero on a crash,
# leak, timeout or sanitizer report.
ARTIFACTS="${ARTIFACTS:-$BUILD_DIR/fuzz-compiler-artifacts}"
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$ARTIFACTS"
"$BUILD_DIR/bin/flashinfer-compiler-fuzzer" \
  -runs="$RUNS" -max_total_time="$MAX_TIME" -seed="$SEED" \
  -max_len="$MAX_LEN" -timeout="$TIMEOUT" -rss_limit_mb=4096 \
  -print_final_stats=1 \
  -dict="$REPO_ROOT/test/Fuzz/mlir.dict" \
  -artifact_prefix="$ARTIFACTS/" \
  "$SCRATCH" "$SEEDS"
echo "fuzz-compiler: no crash"
