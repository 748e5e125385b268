#!/usr/bin/env bash
# Runs on the GPU machine (CUDA + PyTorch, no LLVM): builds the launch
# runtime alone, checks the SASS of the carried cubins, runs the correctness
# matrix and the benchmark. Code objects are compiled beforehand on a machine
# with LLVM (scripts/gen_kernels.py) into KERNELS (default .device-artifacts).
#
#   bash scripts/device/run.sh [check|sequence|api|rope|fusedrope|fp8|headdims|bench|paged|prefill|flashinfer|profile|sanitize|all]
#
# paged: the paged batch decode matrix (KERNELS/paged, gen_kernels.py --set
# paged) and its serving benchmark (KERNELS/paged-bench, with KERNELS/decode
# for our contiguous decode). prefill: the batch prefill matrix
# (KERNELS/prefill, --set prefill) and its benchmark (KERNELS/prefill-bench,
# with KERNELS/bench for our single-request prefill). FUZZ=1 also runs the compiler fuzzer from
# KERNELS/fuzz (scripts/device/make-fuzz-bundle.sh) on the spare CPU cores
# beside everything else, and waits for it at the end.
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
fuzz_pid=
if [[ ${FUZZ:-0} == 1 ]]; then
  FUZZ_BUNDLE=$KERNELS/fuzz OUT=$OUT bash scripts/device/fuzz-compiler.sh \
    > "$OUT/fuzz-stdout.txt" 2>&1 &
  fuzz_pid=$!
fi
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
if [[ $what == sequence || $what == check || $what == all ]]; then
  # Launch sequences (gen_kernels.py --set sequence), when carried.
  if [[ -d $KERNELS/sequence ]]; then
    echo "== launch sequences (append + decode, cascade)"
    python3 scripts/device/check_sequence.py "$KERNELS/sequence" \
      --json "$OUT/check-sequence.json" 2>&1 | tee "$OUT/check-sequence.log" |
      grep -E "FAIL|^\|" | tail -n 12
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  fi
fi
if [[ $what == api || $what == all ]]; then
  # FlashInfer's API (python/tests) from the kernel cache in KERNELS/api
  # (python -m flashinfer_mlir.jit build --out KERNELS/api/sm_90a), then
  # what the API layer costs over the kernels.
  if [[ -d $KERNELS/api ]]; then
    echo "== FlashInfer API: python/tests against float64 references"
    export FLASHINFER_MLIR_KERNELS=$PWD/$KERNELS/api
    python3 -m pytest -q -p no:cacheprovider -rs python/tests \
      --junitxml "$OUT/api-tests.xml" 2>&1 | tee "$OUT/api-tests.log" |
      grep -vE "^\.+ *\[" | tail -n 40
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    echo "== FlashInfer API: cost over the kernels"
    python3 scripts/device/bench_api.py --json "$OUT/bench-api.json" 2>&1 |
      tee "$OUT/bench-api.log" | tail -n 14
    echo "== variants against the plain kernel and FlexAttention"
    python3 scripts/device/bench_variants.py --json "$OUT/bench-variants.json" \
      2>&1 | tee "$OUT/bench-variants.log" | tail -n 8
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    unset FLASHINFER_MLIR_KERNELS
  fi
fi
if [[ $what == rope || $what == all ]]; then
  # RoPE (attn.rope) from the kernel cache in KERNELS/rope
  # (python -m flashinfer_mlir.jit build --set rope --out KERNELS/rope/sm_90a):
  # FlashInfer's rope entry points against float64 references, the same
  # tests under compute-sanitizer's memcheck, then the benchmark against
  # PyTorch and (with its wheels carried in .whl/) FlashInfer.
  if [[ -d $KERNELS/rope ]]; then
    export FLASHINFER_MLIR_KERNELS=$PWD/$KERNELS/rope
    echo "== RoPE: python/tests/test_rope_gpu.py against float64 references"
    python3 -m pytest -q -p no:cacheprovider -rs python/tests/test_rope_gpu.py \
      --junitxml "$OUT/rope-tests.xml" 2>&1 | tee "$OUT/rope-tests.log" |
      grep -vE "^\.+ *\[" | tail -n 20
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    echo "== RoPE under compute-sanitizer memcheck"
    compute-sanitizer --tool memcheck --error-exitcode 99 python3 -m pytest \
      -q -p no:cacheprovider python/tests/test_rope_gpu.py \
      -k "ragged or views or outside or empty or cache" 2>&1 |
      tee "$OUT/rope-memcheck.log" | grep -E "ERROR SUMMARY|passed|failed" |
      tail -n 3
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    echo "== RoPE benchmark"
    site=
    if ls .whl/*.whl >/dev/null 2>&1; then
      python3 -m pip install -q --no-index --no-deps --no-compile \
        --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && site=/tmp/site
    fi
    PYTHONPATH=$site FLASHINFER_CUDA_ARCH_LIST=9.0a \
      python3 scripts/device/bench_rope.py --json "$OUT/bench-rope.json" 2>&1 |
      tee "$OUT/bench-rope.log" | tail -n 34
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    unset FLASHINFER_MLIR_KERNELS
  fi
fi
if [[ $what == fusedrope || $what == all ]]; then
  # Fused RoPE (pos_encoding_mode="ROPE_LLAMA") from KERNELS/fused_rope
  # (build-variant-caches.sh): every attention entry point against float64
  # references, the batch paths under compute-sanitizer's memcheck, then the
  # fused kernels against the plain ones.
  if [[ -d $KERNELS/fused_rope ]]; then
    export FLASHINFER_MLIR_KERNELS=$PWD/$KERNELS/fused_rope
    echo "== fused RoPE: python/tests/test_fused_rope_gpu.py against float64"
    python3 -m pytest -q -p no:cacheprovider -rs \
      python/tests/test_fused_rope_gpu.py --junitxml "$OUT/fused-rope-tests.xml" \
      2>&1 | tee "$OUT/fused-rope-tests.log" | grep -vE "^\.+ *\[" | tail -n 25
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    echo "== fused RoPE under compute-sanitizer memcheck"
    compute-sanitizer --tool memcheck --error-exitcode 99 python3 -m pytest \
      -q -p no:cacheprovider python/tests/test_fused_rope_gpu.py \
      -k "batch_decode or ragged or views" 2>&1 |
      tee "$OUT/fused-rope-memcheck.log" |
      grep -E "ERROR SUMMARY|passed|failed" | tail -n 3
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    echo "== fused RoPE benchmark"
    python3 scripts/device/bench_fused_rope.py \
      --json "$OUT/bench-fused-rope.json" 2>&1 |
      tee "$OUT/bench-fused-rope.log" | tail -n 8
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    unset FLASHINFER_MLIR_KERNELS
  fi
fi
if [[ $what == fp8 || $what == all ]]; then
  # fp8 (e4m3) KV caches from KERNELS/fp8 (build-variant-caches.sh): every
  # attention entry point against float64 references over the dequantized
  # values, the paged paths under memcheck, then fp8 against bf16 decode.
  if [[ -d $KERNELS/fp8 ]]; then
    export FLASHINFER_MLIR_KERNELS=$PWD/$KERNELS/fp8
    echo "== fp8 KV: python/tests/test_fp8_kv_gpu.py against float64"
    python3 -m pytest -q -p no:cacheprovider -rs python/tests/test_fp8_kv_gpu.py \
      --junitxml "$OUT/fp8-tests.xml" 2>&1 | tee "$OUT/fp8-tests.log" |
      grep -vE "^\.+ *\[" | tail -n 25
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    echo "== fp8 KV under compute-sanitizer memcheck"
    compute-sanitizer --tool memcheck --error-exitcode 99 python3 -m pytest \
      -q -p no:cacheprovider python/tests/test_fp8_kv_gpu.py -k "batch" 2>&1 |
      tee "$OUT/fp8-memcheck.log" | grep -E "ERROR SUMMARY|passed|failed" |
      tail -n 3
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    echo "== fp8 KV decode benchmark"
    python3 scripts/device/bench_fp8_decode.py --json "$OUT/bench-fp8.json" \
      2>&1 | tee "$OUT/bench-fp8.log" | tail -n 6
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    unset FLASHINFER_MLIR_KERNELS
  fi
fi
if [[ $what == headdims || $what == all ]]; then
  # Head dims outside 64/128/256 (every multiple of 16 up to 256, 512 for
  # decode) from KERNELS/headdims (build-rope-headdim-caches.sh).
  if [[ -d $KERNELS/headdims ]]; then
    export FLASHINFER_MLIR_KERNELS=$PWD/$KERNELS/headdims
    echo "== head dims: python/tests/test_head_dims_gpu.py against float64"
    python3 -m pytest -q -p no:cacheprovider -rs \
      python/tests/test_head_dims_gpu.py --junitxml "$OUT/headdims-tests.xml" \
      2>&1 | tee "$OUT/headdims-tests.log" | grep -vE "^\.+ *\[" | tail -n 20
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    unset FLASHINFER_MLIR_KERNELS
  fi
fi
if [[ $what == paged || $what == all ]]; then
  if [[ -d $KERNELS/paged ]]; then
    echo "== paged batch decode: correctness"
    python3 scripts/device/check_paged.py "$KERNELS/paged" \
      --json "$OUT/check-paged.json" 2>&1 | tee "$OUT/check-paged.log" |
      grep -E "FAIL|^\|" | tail -n 30
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  fi
  if [[ -d $KERNELS/paged-bench ]]; then
    echo "== paged batch decode: benchmark"
    python3 scripts/device/bench_paged.py "$KERNELS/paged-bench" \
      --decode-dir "$KERNELS/decode" --json "$OUT/bench-paged.json" 2>&1 |
      tee "$OUT/bench-paged.log" | tail -n 16
  fi
fi
if [[ $what == prefill || $what == all ]]; then
  if [[ -d $KERNELS/prefill ]]; then
    echo "== batch prefill (paged and ragged): correctness"
    python3 scripts/device/check_prefill.py "$KERNELS/prefill" \
      --json "$OUT/check-prefill.json" 2>&1 | tee "$OUT/check-prefill.log" |
      grep -E "FAIL|^\|" | tail -n 30
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  fi
  if [[ -d $KERNELS/append ]]; then
    echo "== attn.append_paged_kv, and append + prefill from one CUDA graph"
    python3 scripts/device/check_append.py "$KERNELS/append" \
      --prefill-dir "$KERNELS/prefill" 2>&1 | tee "$OUT/check-append.log" |
      grep -E "FAIL|^\|" | tail -n 12
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  fi
  if [[ -d $KERNELS/prefill-bench ]]; then
    echo "== batch prefill: benchmark"
    python3 scripts/device/bench_prefill.py "$KERNELS/prefill-bench" \
      --single-dir "$KERNELS/bench" --json "$OUT/bench-prefill.json" 2>&1 |
      tee "$OUT/bench-prefill.log" | tail -n 16
  fi
fi
if [[ $what == flashinfer ]]; then
  # FlashInfer itself beside ours: its wheel and missing dependencies in
  # .whl/ (carried; see docs/performance.md), kernels JIT-built by nvcc.
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl || { echo "no wheels"; exit 1; }
  PYTHONPATH=/tmp/site FLASHINFER_CUDA_ARCH_LIST=9.0a \
    python3 scripts/device/bench_flashinfer.py "$KERNELS/paged-bench" \
    "$KERNELS/prefill-bench" 2>&1 | tee "$OUT/bench-flashinfer.log" | tail -n 8
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
    if [[ -d $KERNELS/sanitize-paged ]]; then
      compute-sanitizer --tool "$tool" --error-exitcode 99 \
        python3 scripts/device/check_paged.py "$KERNELS/sanitize-paged" --quick 2>&1 |
        tee "$OUT/sanitize-paged-$tool.log" | grep -E "ERROR SUMMARY|^\||FAIL" | tail -5
      [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    fi
    if [[ -d $KERNELS/sanitize-sequence ]]; then
      compute-sanitizer --tool "$tool" --error-exitcode 99 \
        python3 scripts/device/check_sequence.py "$KERNELS/sanitize-sequence" 2>&1 |
        tee "$OUT/sanitize-sequence-$tool.log" | grep -E "ERROR SUMMARY|^\||FAIL" | tail -5
      [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    fi
    if [[ -d $KERNELS/sanitize-prefill ]]; then
      compute-sanitizer --tool "$tool" --error-exitcode 99 \
        python3 scripts/device/check_prefill.py "$KERNELS/sanitize-prefill" --quick 2>&1 |
        tee "$OUT/sanitize-prefill-$tool.log" | grep -E "ERROR SUMMARY|^\||FAIL" | tail -5
      [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    fi
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
if [[ -n $fuzz_pid ]]; then
  wait "$fuzz_pid"
  fuzz_status=$?
  echo "== compiler fuzzer (exit $fuzz_status)"
  tail -n 1 "$OUT/fuzz/summary.txt" 2>/dev/null || tail -n 5 "$OUT/fuzz-stdout.txt"
  [[ $fuzz_status == 0 ]] || status=1
fi
exit $status
