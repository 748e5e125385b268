#!/usr/bin/env bash
# Runs on the GPU machine (CUDA + PyTorch, no LLVM): builds the launch
# runtime alone, checks the SASS of the carried cubins, runs the correctness
# matrix and the benchmark. Code objects are compiled beforehand on a machine
# with LLVM (scripts/gen_kernels.py) into KERNELS (default .device-artifacts).
#
#   bash scripts/device/run.sh [check|bench|profile|sanitize|all]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
what=${1:-all}
KERNELS=${KERNELS:-.device-artifacts}
OUT=${OUT:-/tmp/fimlir-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

cmake -G Ninja -S . -B build-rt -DFLASHINFER_RUNTIME_ONLY=ON >/dev/null &&
  ninja -C build-rt >/dev/null || { echo "runtime build failed"; exit 1; }
export FLASHINFER_RUNTIME_LIB=$PWD/build-rt/lib/libflashinfer_runtime.so
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv

status=0
if [[ $what == check || $what == all ]]; then
  echo "== SASS of the carried cubins (HMMA = tensor-core MMA, LDL/STL = local memory)"
  for f in "$KERNELS"/sm_90a/*.cubin "$KERNELS"/decode/*.cubin; do
    [[ -f $f ]] || continue
    sass=$(cuobjdump -sass "$f")
    printf '%-45s HMMA=%-5s LDL=%-3s STL=%-3s\n' "$(basename "$f")" \
      "$(grep -c HMMA <<<"$sass")" "$(grep -c 'LDL' <<<"$sass")" \
      "$(grep -c 'STL' <<<"$sass")"
  done | tee "$OUT/sass.txt"
  python3 scripts/device/check_attention.py "$KERNELS/sm_90a" \
    --json "$OUT/check.json" 2>&1 | tee "$OUT/check.log" | tail -n 45
  status=${PIPESTATUS[0]}
  # The decode pairs (gen_kernels.py --set decode), when carried.
  if [[ -d $KERNELS/decode ]]; then
    python3 scripts/device/check_attention.py "$KERNELS/decode" \
      --json "$OUT/check-decode.json" 2>&1 | tee "$OUT/check-decode.log" |
      tail -n 25
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  fi
  # attn.merge_states kernels (gen_kernels.py --set merge), when carried.
  if [[ -d $KERNELS/merge ]]; then
    python3 scripts/device/check_attention.py "$KERNELS/merge" \
      --json "$OUT/check-merge.json" 2>&1 | tee "$OUT/check-merge.log" |
      tail -n 12
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  fi
fi
if [[ $what == sanitize ]]; then
  # compute-sanitizer on a few carried kernels (KERNELS/sanitize: copies of
  # manifests and code objects), small lengths, views and bad arguments
  # included: memcheck (out-of-bounds and misaligned accesses) and
  # racecheck (workgroup-memory hazards).
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer --tool $tool"
    compute-sanitizer --tool "$tool" --error-exitcode 99 \
      python3 scripts/device/check_attention.py "$KERNELS/sanitize" \
      --lengths 17,130 --decode-chunks plan 2>&1 |
      tee "$OUT/sanitize-$tool.log" | grep -E "ERROR SUMMARY|passed|FAIL" | tail -5
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  done
fi
if [[ $what == bench || $what == all ]]; then
  alts=()
  for d in "$KERNELS"/bench_*; do
    [[ -d $d ]] && alts+=(--alt "$(basename "$d")=$d")
  done
  # Further decode builds (e.g. decode_bn64 from --options block-n=64).
  for d in "$KERNELS"/decode_*; do
    [[ -d $d ]] && alts+=(--decode-alt "$(basename "$d")=$d")
  done
  python3 scripts/device/bench_attention.py "$KERNELS/bench" "${alts[@]}" \
    --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log" | tail -n 40
fi
if [[ $what == profile || $what == all ]]; then
  echo "== Nsight Compute: prefill bf16 d128, 4096 tokens, not causal"
  ncu --clock-control none --kernel-name regex:attn_ --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section WarpStateStats \
    --section ComputeWorkloadAnalysis \
    python3 scripts/device/profile_prefill.py "$KERNELS/bench" full \
    > "$OUT/ncu.txt" 2>&1
  grep -E "Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Block Limit|Stall|Warp Cycles Per Issued|Issued Ipc|Pipe" \
    "$OUT/ncu.txt" | head -40
fi
exit $status
