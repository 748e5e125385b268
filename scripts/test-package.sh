#!/usr/bin/env bash
# The Python package as a user installs it: a copy of the source tree with
# a small kernel cache built into it (python -m flashinfer_mlir.jit build,
# gfx942: needs no CUDA toolkit), then `pip install .[test]` in a fresh
# virtual environment (the build backend, scikit-build-core, and pytest come
# from PyPI as pyproject.toml requires; the build needs no LLVM). The
# installed package, imported from outside the source tree, must load the
# runtime library and the kernel cache shipped inside it
# (test/Runtime/Inputs/package_check.py), and pass the API's CPU tests
# (python/tests; its GPU tests skip without a GPU).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRATCH="${PACKAGE_SCRATCH:-$(mktemp -d)}"
[[ -n ${PACKAGE_KEEP:-} ]] || trap 'rm -rf "$SCRATCH"' EXIT
OPT="${FLASHINFER_MLIR_OPT:-$REPO_ROOT/build/bin/flashinfer-opt}"
mkdir -p "$SCRATCH/src"
git -C "$REPO_ROOT" ls-files -co --exclude-standard -z |
  tar -C "$REPO_ROOT" --null -T - -cf - | tar -C "$SCRATCH/src" -xf -
PYTHONPATH="$SCRATCH/src/python" python3 -m flashinfer_mlir.jit build \
  --chip gfx942 --set test --opt "$OPT" \
  --out "$SCRATCH/src/python/flashinfer_mlir/_kernels/gfx942"
python3 -m venv "$SCRATCH/venv"
"$SCRATCH/venv/bin/python" -m pip install -q --disable-pip-version-check \
  "$SCRATCH/src[test]"
cd "$SCRATCH"
env -u FLASHINFER_RUNTIME_LIB -u PYTHONPATH "$SCRATCH/venv/bin/python" \
  "$REPO_ROOT/test/Runtime/Inputs/package_check.py" > "$SCRATCH/out.txt"
cat "$SCRATCH/out.txt"
FILECHECK="${FILECHECK:-$(command -v FileCheck-22 || command -v FileCheck ||
  echo /usr/lib/llvm-22/bin/FileCheck)}"
"$FILECHECK" "$REPO_ROOT/scripts/test-package.sh" < "$SCRATCH/out.txt"
FLASHINFER_MLIR_TEST_INSTALLED=1 FLASHINFER_MLIR_OPT="$OPT" \
  env -u FLASHINFER_RUNTIME_LIB -u PYTHONPATH "$SCRATCH/venv/bin/python" -m \
  pytest -q -p no:cacheprovider "$REPO_ROOT/python/tests"
echo "package: ok"
# CHECK: package: site
# CHECK-NEXT: library inside the package: True
# CHECK-NEXT: kv_chunk: 512
# CHECK-NEXT: error: fimlir_plan_kv_chunk: kv_lens[0] must be in [0, 2^31), got -1
# CHECK-NEXT: kernel cache inside the package: ['gfx942'] 37 kernels
