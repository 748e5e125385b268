#!/usr/bin/env bash
# Builds, on a machine with flashinfer-opt, the kernel caches that
# `run.sh rope` and `run.sh headdims` carry to the GPU machine: the RoPE set
# (python -m flashinfer_mlir.jit build --set rope) and the head dims of
# python/tests/head_dim_specs.py, for sm_90a.
#
#   bash scripts/device/build-rope-headdim-caches.sh [KERNELS (default .device-artifacts)]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
kernels=${1:-.device-artifacts}
opt=${FLASHINFER_MLIR_OPT:-$PWD/build/bin/flashinfer-opt}
mkdir -p "$kernels/rope/sm_90a" "$kernels/headdims/sm_90a"
kernels=$(cd "$kernels" && pwd)
(cd python && python3 -m flashinfer_mlir.jit build --chip sm_90a --set rope \
  --out "$kernels/rope/sm_90a" --jobs "$(nproc)" --opt "$opt")
(cd python && PYTHONPATH=tests python3 - "$kernels/headdims/sm_90a" "$opt" <<'PY'
import sys
import time
from flashinfer_mlir.jit import cache
from head_dim_specs import SPECS
start = time.perf_counter()
cache.build(SPECS, "sm_90a", sys.argv[1], sys.argv[2])
print(f"{len(SPECS)} head-dim kernels in {time.perf_counter() - start:.1f} s")
PY
)
du -sh "$kernels/rope" "$kernels/headdims"
