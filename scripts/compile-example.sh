#!/usr/bin/env bash
# The main job: compiles examples/attention_f16_d64.mlir with flashinfer-opt
# for one target and writes the result to out/.
#
# Usage: scripts/compile-example.sh [INPUT.mlir]
# Environment:
#   TARGET     what to compile for (default: cpu); see compile_<target> below
#   BUILD_DIR  build directory holding bin/flashinfer-opt (default: <repo>/build)
#   OUT_DIR    output directory (default: <repo>/out)
#
# A new target is one more compile_<target> function that reads $INPUT and
# writes under $OUT_DIR.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"
OUT_DIR="${OUT_DIR:-$REPO_ROOT/out}"
TARGET="${TARGET:-cpu}"
INPUT="${1:-$REPO_ROOT/examples/attention_f16_d64.mlir}"
OPT="$BUILD_DIR/bin/flashinfer-opt"
NAME="$(basename "$INPUT" .mlir)"

# Host CPU: attn -> reference linalg -> LLVM dialect, runnable with
# mlir-runner or the ExecutionEngine.
compile_cpu() {
  local out="$OUT_DIR/$NAME.cpu.mlir"
  "$OPT" --attn-cpu-pipeline "$INPUT" -o "$out"
  echo "$out"
}

if [[ ! -x "$OPT" ]]; then
  echo "error: $OPT not found; run scripts/setup.sh first" >&2
  exit 1
fi
if [[ ! -f "$INPUT" ]]; then
  echo "error: input $INPUT not found" >&2
  exit 1
fi
if ! declare -F "compile_$TARGET" >/dev/null; then
  echo "error: unknown TARGET '$TARGET' (known: $(declare -F |
    sed -n "s/^declare -f compile_//p" | paste -sd " "))" >&2
  exit 1
fi

mkdir -p "$OUT_DIR"
echo "==> Compiling $INPUT for $TARGET"
"compile_$TARGET"
