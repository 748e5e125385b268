#!/usr/bin/env bash
# The main job: compiles examples/attention_f16_d64.mlir with flashinfer-opt
# for one target and writes the result to out/.
#
# Usage: scripts/compile-example.sh [INPUT.mlir]
# Environment:
#   TARGET     what to compile for (default: gpu); see compile_<target> below:
#                gpu      GPU code objects for sm_90a and gfx942
#                sm_90a   NVIDIA Hopper: out/sm_90a/<func>_kernels.cubin + .json
#                gfx942   AMD MI300: out/gfx942/<func>_kernels.hsaco + .json
#                gfx950   AMD MI350: out/gfx950/<func>_kernels.hsaco + .json
#                cpu      LLVM dialect for the host CPU: out/<name>.cpu.mlir
#   BUILD_DIR  build directory holding bin/flashinfer-opt (default: <repo>/build)
#   OUT_DIR    output directory (default: <repo>/out)
#
# NVIDIA targets assemble PTX with CUDA's ptxas (found on PATH, under
# $CUDA_ROOT, $CUDA_HOME or $CUDA_PATH, or in /usr/local/cuda); AMD targets
# link with LLVM's ld.lld, which scripts/setup.sh installs.
#
# A new target is one more compile_<target> function that reads $INPUT and
# writes under $OUT_DIR.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"
OUT_DIR="${OUT_DIR:-$REPO_ROOT/out}"
TARGET="${TARGET:-gpu}"
INPUT="${1:-$REPO_ROOT/examples/attention_f16_d64.mlir}"
OPT="$BUILD_DIR/bin/flashinfer-opt"
NAME="$(basename "$INPUT" .mlir)"

# The ptxas that gpu-module-to-binary will run: PATH first, then the CUDA
# toolkit folders MLIR's NVVM target searches.
find_ptxas() {
  if command -v ptxas; then
    return 0
  fi
  local root
  for root in "${CUDA_ROOT:-}" "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
    if [[ -n "$root" && -x "$root/bin/ptxas" ]]; then
      echo "$root/bin/ptxas"
      return 0
    fi
  done
  return 1
}

# One GPU chip: attn -> tiled kernel -> code object + JSON manifest per
# function, written to $OUT_DIR/<chip>/ by the attn-compile pipeline.
compile_chip() {
  local chip="$1" dir="$OUT_DIR/$1"
  case "$chip" in
    sm_*)
      local ptxas
      if ! ptxas="$(find_ptxas)"; then
        echo "error: TARGET=$TARGET needs CUDA's ptxas to assemble $chip code," \
          "and none was found on PATH, under \$CUDA_ROOT/\$CUDA_HOME/\$CUDA_PATH" \
          "or in /usr/local/cuda. Install the CUDA toolkit (ptxas 12.0 or newer)" \
          "or put its bin/ on PATH; TARGET=gfx942 or TARGET=cpu need no CUDA." >&2
        return 1
      fi
      # The NVVM target also looks for libdevice under the toolkit root.
      export CUDA_HOME="${CUDA_HOME:-$(dirname "$(dirname "$ptxas")")}"
      ;;
    gfx*)
      if [[ ! -x "$BUILD_DIR/toolkit/llvm/bin/ld.lld" ]]; then
        echo "error: TARGET=$TARGET needs ld.lld to link $chip code objects;" \
          "install lld-22 and rerun scripts/setup.sh" >&2
        return 1
      fi
      ;;
  esac
  # Compile into a fresh folder so the listing below shows exactly this
  # input's files, then move them into place.
  local tmp
  tmp="$(mktemp -d "$OUT_DIR/.$chip.XXXXXX")"
  if ! "$OPT" "$INPUT" --attn-compile="chip=$chip o-dir=$tmp" -o /dev/null; then
    rm -rf "$tmp"
    echo "error: flashinfer-opt failed to compile $INPUT for $chip" >&2
    return 1
  fi
  local files=("$tmp"/*)
  if [[ ! -e "${files[0]}" ]]; then
    rm -rf "$tmp"
    echo "error: $INPUT has no function holding an attn.attention;" \
      "nothing was compiled for $chip" >&2
    return 1
  fi
  mkdir -p "$dir"
  local f
  for f in "${files[@]}"; do
    mv -f "$f" "$dir/"
    echo "$dir/$(basename "$f")"
  done
  rmdir "$tmp"
}

# GPU code objects for the two reference chips.
compile_gpu() {
  compile_chip sm_90a
  compile_chip gfx942
}
compile_sm_90a() { compile_chip sm_90a; }
compile_gfx942() { compile_chip gfx942; }
compile_gfx950() { compile_chip gfx950; }

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
    sed -n "s/^declare -f compile_//p" | grep -vx chip | paste -sd " "))" >&2
  exit 1
fi

mkdir -p "$OUT_DIR"
echo "==> Compiling $INPUT for $TARGET"
"compile_$TARGET"
