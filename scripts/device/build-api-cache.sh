#!/usr/bin/env bash
# Builds, on a machine with flashinfer-opt, the kernel cache that
# `run.sh api` carries to the GPU machine: the package's AOT set, the
# kernels bench_api.py compares against (sm_scale compiled in) and the
# user-defined variants of python/tests/variant_specs.py.
#
#   bash scripts/device/build-api-cache.sh [OUT (default .device-artifacts/api)]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=${1:-.device-artifacts/api}
opt=${FLASHINFER_MLIR_OPT:-$PWD/build/bin/flashinfer-opt}
mkdir -p "$out/sm_90a"
out=$(cd "$out" && pwd)
(cd python && python3 -m flashinfer_mlir.jit build --chip sm_90a --set aot \
  --out "$out/sm_90a" --jobs "$(nproc)" --opt "$opt")
(cd python && PYTHONPATH=tests python3 - "$out/sm_90a" "$opt" <<'PY'
import sys
from flashinfer_mlir.jit import cache
from flashinfer_mlir.jit.spec import KernelSpec
from variant_specs import SPECS
bench = [KernelSpec("batch_decode", "bf16", 128, 32, 8),
         KernelSpec("batch_prefill", "bf16", 128, 32, 8, causal=True)]
cache.build(bench + SPECS, "sm_90a", sys.argv[1], sys.argv[2])
print(f"{len(bench) + len(SPECS)} more kernels")
PY
)
du -sh "$out"
