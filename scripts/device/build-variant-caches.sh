#!/usr/bin/env bash
# Builds, on a machine with flashinfer-opt, the kernel caches that
# `run.sh fusedrope` and `run.sh fp8` carry to the GPU machine, for sm_90a:
# python/tests/fused_rope_specs.DEVICE_SPECS into KERNELS/fused_rope and
# python/tests/fp8_kv_specs.DEVICE_SPECS into KERNELS/fp8.
#
#   bash scripts/device/build-variant-caches.sh [KERNELS (default .device-artifacts)]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
kernels=${1:-.device-artifacts}
opt=${FLASHINFER_MLIR_OPT:-$PWD/build/bin/flashinfer-opt}
mkdir -p "$kernels/fused_rope/sm_90a" "$kernels/fp8/sm_90a"
kernels=$(cd "$kernels" && pwd)
for set in fused_rope:fused_rope_specs fp8:fp8_kv_specs; do
  python3 scripts/device/build_spec_cache.py "${set#*:}.DEVICE_SPECS" \
    "$kernels/${set%%:*}/sm_90a" "$opt"
done
du -sh "$kernels/fused_rope" "$kernels/fp8"
