#!/usr/bin/env bash
# Builds, on a machine with flashinfer-opt, the kernel cache that
# `run.sh fusedrope` carries to the GPU machine: python/tests/
# fused_rope_specs.DEVICE_SPECS for sm_90a.
#
#   bash scripts/device/build-fused-rope-cache.sh [KERNELS (default .device-artifacts)]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
kernels=${1:-.device-artifacts}
opt=${FLASHINFER_MLIR_OPT:-$PWD/build/bin/flashinfer-opt}
mkdir -p "$kernels/fused_rope/sm_90a"
kernels=$(cd "$kernels" && pwd)
(cd python && PYTHONPATH=tests python3 - "$kernels/fused_rope/sm_90a" "$opt" <<'PY'
import sys
import time
from flashinfer_mlir.jit import cache
from fused_rope_specs import DEVICE_SPECS
start = time.perf_counter()
cache.build(DEVICE_SPECS, "sm_90a", sys.argv[1], sys.argv[2])
print(f"{len(DEVICE_SPECS)} kernels in {time.perf_counter() - start:.1f} s")
PY
)
du -sh "$kernels/fused_rope"
