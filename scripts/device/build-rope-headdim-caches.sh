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
python3 scripts/device/build_spec_cache.py head_dim_specs.SPECS \
  "$kernels/headdims/sm_90a" "$opt"
du -sh "$kernels/rope" "$kernels/headdims"
