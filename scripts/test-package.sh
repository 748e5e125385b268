#!/usr/bin/env bash
# The Python package as a user installs it: `pip install .` in a fresh
# virtual environment (the build backend, scikit-build-core, comes from PyPI
# as pyproject.toml requires; the build needs no LLVM), then the installed
# package imported from outside the source tree, checked to load the runtime
# library shipped inside it (test/Runtime/Inputs/package_check.py).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRATCH="${PACKAGE_SCRATCH:-$(mktemp -d)}"
trap 'rm -rf "$SCRATCH"' EXIT
python3 -m venv "$SCRATCH/venv"
"$SCRATCH/venv/bin/python" -m pip install -q --disable-pip-version-check \
  "$REPO_ROOT"
cd "$SCRATCH"
env -u FLASHINFER_RUNTIME_LIB -u PYTHONPATH "$SCRATCH/venv/bin/python" \
  "$REPO_ROOT/test/Runtime/Inputs/package_check.py" > "$SCRATCH/out.txt"
cat "$SCRATCH/out.txt"
FILECHECK="${FILECHECK:-$(command -v FileCheck-22 || command -v FileCheck ||
  echo /usr/lib/llvm-22/bin/FileCheck)}"
"$FILECHECK" "$REPO_ROOT/scripts/test-package.sh" < "$SCRATCH/out.txt"
echo "package: ok"
# CHECK: package: site
# CHECK-NEXT: library inside the package: True
# CHECK-NEXT: kv_chunk: 512
# CHECK-NEXT: error: fimlir_plan_kv_chunk: kv_lens[0] must be in [0, 2^31), got -1
