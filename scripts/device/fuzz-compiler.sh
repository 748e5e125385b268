#!/usr/bin/env bash
# Runs on the GPU machine (no LLVM there): the compiler fuzzer from the
# bundle that scripts/device/make-fuzz-bundle.sh packs into
# .device-artifacts/fuzz (carry that folder), in parallel, for TOTAL_RUNS
# inputs in all, with the options of scripts/fuzz-compiler.sh. Meant to run
# beside another command and be waited for:
#
#   bash scripts/device/fuzz-compiler.sh & fuzz=$!; ...; wait $fuzz
#
# Unpacks into a temporary folder and loads only the bundled libraries
# (LD_LIBRARY_PATH; glibc is the machine's). Worker i (0 <= i < WORKERS) is
# one libFuzzer process with -seed=SEED+i and its share of TOTAL_RUNS as
# -runs; all of them read the seeds and share one output corpus (what
# -jobs does, except that -jobs gives every job the same -seed and the whole
# -runs, and -fork checks -runs only between its short jobs). libFuzzer's
# count includes each worker's pass over the seed corpus. Every worker stops
# at its -runs or at the wall limit, whichever comes first.
#
# Results, in $OUT/fuzz (few files: the machine returns at most 8 from $OUT):
#   summary.txt         the summary line, per-worker counts, the sanitizer and
#                       libFuzzer error lines of any failure, and how the
#                       libraries resolved
#   fuzz-logs.tar.xz    every worker's libFuzzer log
#   artifacts.tar.gz    crash-/leak-/timeout-/oom-/slow-unit- files, if any
# The summary line is also the last line printed. Exit status: 0 when the
# total was reached with no crash, 1 on any crash, leak, timeout, OOM or
# failed worker, 2 when the bundle could not be unpacked or loaded, 3 when
# the wall limit stopped the run short of TOTAL_RUNS with no crash.
#
# Environment: OUT (default /tmp/fimlir-out), TOTAL_RUNS (1000000), WORKERS
# (nproc - 2, at least 1), WALL (seconds from start to summary, 480), SEED
# (1), TIMEOUT (seconds per input, 30), MAX_LEN (8192), RSS_LIMIT_MB (4096),
# FUZZ_BUNDLE (.device-artifacts/fuzz), FUZZ_WORK (where to unpack; default
# a new temporary folder, removed at the end unless KEEP_WORK=1),
# ASAN_OPTIONS and UBSAN_OPTIONS (as scripts/fuzz-compiler.sh sets them).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
START=$(date +%s)

BUNDLE=${FUZZ_BUNDLE:-.device-artifacts/fuzz}
OUT=${OUT:-/tmp/fimlir-out}
RES="$OUT/fuzz"
TOTAL_RUNS=${TOTAL_RUNS:-1000000}
NCPU=$(nproc 2>/dev/null || echo 1)
WORKERS=${WORKERS:-$(( NCPU > 3 ? NCPU - 2 : 1 ))}
WALL=${WALL:-480}
SEED=${SEED:-1}
TIMEOUT=${TIMEOUT:-30}
MAX_LEN=${MAX_LEN:-8192}
RSS_LIMIT_MB=${RSS_LIMIT_MB:-4096}
KEEP_WORK=${KEEP_WORK:-0}
DEADLINE=$(( START + WALL ))
# Seconds kept after the workers' own time limit for their last input and
# the summary; the watchdog stops stragglers at DEADLINE - 5 (SIGTERM:
# libFuzzer prints its final stats) and kills them at DEADLINE + 5.
GRACE=20

mkdir -p "$RES"
rm -f "$RES/summary.txt" "$RES/fuzz-logs.tar.xz" "$RES/artifacts.tar.gz"
say() { echo "fuzz-compiler: $*"; }
# Until the end, summary.txt says that the run did not finish.
echo "fuzz-compiler: started $(date -u +%FT%TZ), not finished" >"$RES/summary.txt"

if [[ -n ${FUZZ_WORK:-} ]]; then
  WORK=$FUZZ_WORK; mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-compiler.XXXXXX")
fi
cleanup() { [[ $KEEP_WORK == 1 ]] || rm -rf "$WORK"; }
trap cleanup EXIT

fail_early() {
  say "$*" | tee -a "$RES/summary.txt" >&2
  exit 2
}

# Unpack (tar with xz, or Python's tarfile where xz is missing).
ls "$BUNDLE"/fuzz-*.tar.xz >/dev/null 2>&1 || fail_early "no bundle in $BUNDLE"
if [[ -f $BUNDLE/SHA256SUMS ]] && command -v sha256sum >/dev/null; then
  (cd "$BUNDLE" && sha256sum --quiet -c SHA256SUMS) || fail_early "bundle checksums differ"
fi
for t in "$BUNDLE"/fuzz-*.tar.xz; do
  if command -v xz >/dev/null; then
    tar -xJf "$t" -C "$WORK" || fail_early "cannot unpack $t"
  else
    python3 - "$t" "$WORK" <<'PY' || fail_early "cannot unpack $t"
import sys, tarfile
with tarfile.open(sys.argv[1]) as tar:
    try:
        tar.extractall(sys.argv[2], filter="tar")
    except TypeError:
        tar.extractall(sys.argv[2])
PY
  fi
done
BIN="$WORK/bin/flashinfer-compiler-fuzzer"
LIB="$WORK/lib"
[[ -x $BIN && -d $WORK/seeds ]] || fail_early "bundle lacks the fuzzer or the seeds"
export LD_LIBRARY_PATH="$LIB"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allow_user_poisoning=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Preflight: every library but glibc's must come from the bundle.
RESOLVED="$WORK/resolved.txt"
if command -v ldd >/dev/null; then
  ldd "$BIN" >"$RESOLVED" 2>&1
  grep -q 'not found' "$RESOLVED" && { cat "$RESOLVED" >&2; fail_early "unresolved libraries"; }
  for l in libMLIR.so.22.1 libLLVM.so.22.1; do
    grep -q "$l => $LIB/$l" "$RESOLVED" || { cat "$RESOLVED" >&2; fail_early "$l not from the bundle"; }
  done
else
  echo "(no ldd here)" >"$RESOLVED"
fi
# One seed through the fuzzer, with LeakSanitizer's check at exit: if LSan
# cannot stop the world here (it uses ptrace), fuzz without leak checks and
# say so rather than report every input as a failure.
PRE="$WORK/preflight.log"
probe=$(find "$WORK/seeds" -type f -name "seed-*" | sort | head -1)
"$BIN" "$probe" </dev/null >"$PRE" 2>&1
pre_rc=$?
if [[ :$ASAN_OPTIONS: == *:detect_leaks=0:* ]]; then LEAKS=off; else LEAKS=on; fi
if [[ $LEAKS == on ]] && grep -qE 'LeakSanitizer has encountered a fatal error|LeakSanitizer does not work|Tracer caught signal' "$PRE"; then
  export ASAN_OPTIONS="${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}"
  [[ $ASAN_OPTIONS == *detect_leaks=0* ]] || ASAN_OPTIONS+=":detect_leaks=0"
  LEAKS="off (LeakSanitizer fails on this machine)"
  "$BIN" "$probe" </dev/null >"$PRE" 2>&1
  pre_rc=$?
fi
if (( pre_rc != 0 )); then
  tail -n 30 "$PRE" >&2
  fail_early "the fuzzer failed on one seed (exit $pre_rc): cannot run from the bundle"
fi

# Workers.
ART="$WORK/artifacts"; CORPUS="$WORK/corpus"; LOGS="$WORK/logs"
mkdir -p "$ART" "$CORPUS" "$LOGS"
now=$(date +%s)
MAX_TIME=$(( DEADLINE - GRACE - now ))
(( MAX_TIME >= 10 )) || fail_early "WALL=$WALL leaves no time to fuzz"
(( WORKERS >= 1 )) || WORKERS=1
base=$(( TOTAL_RUNS / WORKERS )); extra=$(( TOTAL_RUNS % WORKERS ))
say "$WORKERS workers, $TOTAL_RUNS inputs, up to ${MAX_TIME}s, leak checks $LEAKS, unpacked in $(( now - START ))s"
declare -a PIDS=() RUNS=() RCS=()
for (( i = 0; i < WORKERS; i++ )); do
  RUNS[i]=$(( base + (i < extra ? 1 : 0) ))
  "$BIN" -runs="${RUNS[i]}" -max_total_time="$MAX_TIME" -seed=$(( SEED + i )) \
    -max_len="$MAX_LEN" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_LIMIT_MB" \
    -print_final_stats=1 -dict="$WORK/mlir.dict" -artifact_prefix="$ART/" \
    "$CORPUS" "$WORK/seeds" </dev/null >"$LOGS/worker-$i.log" 2>&1 &
  PIDS[i]=$!
done

stop_all() { # signal
  local pid
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && kill -"$1" "$pid" 2>/dev/null; done
}
STOPPED=""
trap 'STOPPED="signal"; stop_all TERM' TERM INT HUP
sent_term=0; sent_kill=0
while :; do
  alive=0
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$(( alive + 1 )); done
  (( alive == 0 )) && break
  now=$(date +%s)
  if (( now >= DEADLINE - 5 && !sent_term )); then
    STOPPED=${STOPPED:-"wall limit"}; stop_all TERM; sent_term=1
  fi
  if (( now >= DEADLINE + 5 && !sent_kill )); then stop_all KILL; sent_kill=1; fi
  sleep 1
done
for (( i = 0; i < WORKERS; i++ )); do wait "${PIDS[i]}"; RCS[i]=$?; done
END=$(date +%s)

# Counts: libFuzzer's final stats (printed on a normal end, a crash, a
# timeout, an OOM and SIGTERM), else "Done N runs", else the last "#N" line.
total=0; failed=0; est=""; rss=0; newu=0
TABLE="$WORK/table.txt"; : >"$TABLE"
for (( i = 0; i < WORKERS; i++ )); do
  log="$LOGS/worker-$i.log"
  n=$(grep -a '^stat::number_of_executed_units:' "$log" | tail -1 | awk '{print $2}')
  how=stats
  if [[ -z $n ]]; then
    n=$(grep -aoE '^Done [0-9]+ runs' "$log" | tail -1 | awk '{print $2}'); how="done"
  fi
  if [[ -z $n ]]; then
    n=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#'); how=estimate; est=" (some counts estimated)"
  fi
  n=${n:-0}
  eps=$(grep -a '^stat::average_exec_per_sec:' "$log" | tail -1 | awk '{print $2}')
  r=$(grep -a '^stat::peak_rss_mb:' "$log" | tail -1 | awk '{print $2}')
  u=$(grep -a '^stat::new_units_added:' "$log" | tail -1 | awk '{print $2}')
  (( ${r:-0} > rss )) && rss=${r:-0}
  newu=$(( newu + ${u:-0} ))
  total=$(( total + n ))
  note=""
  case ${RCS[i]} in
    0) ;;
    72) note="stopped (SIGTERM)" ;;
    *) if grep -aqE 'Test unit written to|artifact_prefix' "$log"; then note="found a failure";
       else note="FAILED without an artifact"; failed=$(( failed + 1 )); fi ;;
  esac
  printf 'worker %2d seed %3d runs %7s of %7s (%s) exec/s %5s peak_rss_mb %5s exit %3s %s\n' \
    "$i" $(( SEED + i )) "$n" "${RUNS[i]}" "$how" "${eps:-?}" "${r:-?}" "${RCS[i]}" "$note" >>"$TABLE"
done
count() { find "$ART" -maxdepth 1 -type f -name "$1*" | wc -l; }
n_crash=$(count crash-); n_leak=$(count leak-); n_timeout=$(count timeout-)
n_oom=$(count oom-); n_slow=$(count slow-unit-)
crashes=$(( n_crash + n_leak + n_timeout + n_oom ))
wall=$(( END - START ))
rate=$(( wall > 0 ? total / wall : total ))
if (( crashes > 0 || failed > 0 )); then result=FAIL; status=1
elif (( total < TOTAL_RUNS )); then result="SHORT (${STOPPED:-stopped early})"; status=3
else result=PASS; status=0; fi
LINE="fuzz-compiler: $total inputs$est (target $TOTAL_RUNS, $WORKERS workers, seeds $SEED..$(( SEED + WORKERS - 1 ))) in ${wall}s wall, $rate inputs/s; crashes $crashes (crash $n_crash, leak $n_leak, timeout $n_timeout, oom $n_oom), slow units $n_slow, failed workers $failed, leak checks $LEAKS: $result"

{
  echo "$LINE"
  echo
  echo "started $(date -u -d "@$START" +%FT%TZ 2>/dev/null || echo "$START"), $NCPU CPUs, wall limit ${WALL}s, fuzz limit ${MAX_TIME}s per worker, peak RSS ${rss} MB, new units $newu (shared corpus)"
  echo "options: -max_len=$MAX_LEN -timeout=$TIMEOUT -rss_limit_mb=$RSS_LIMIT_MB -dict=mlir.dict; ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS"
  cat "$TABLE"
  if (( crashes + n_slow > 0 )); then
    echo; echo "artifacts:"; (cd "$ART" && ls -l)
  fi
  # Each failing worker's report: 40 lines from its first error line, then
  # the SUMMARY and artifact lines.
  ERR_RE='^==[0-9]+== ?ERROR|runtime error:|stub: .* called|^(UndefinedBehavior|Address|Leak)Sanitizer'
  for (( i = 0; i < WORKERS; i++ )); do
    log="$LOGS/worker-$i.log"
    first=$(grep -anE "$ERR_RE" "$log" | head -1 | cut -d: -f1)
    if [[ -n $first || ${RCS[i]} != 0 && ${RCS[i]} != 72 ]]; then
      echo; echo "== worker $i (exit ${RCS[i]}):"
      if [[ -n $first ]]; then sed -n "${first},$(( first + 39 ))p" "$log"; else tail -n 20 "$log"; fi
      grep -aE '^SUMMARY:|Test unit written to' "$log"
    fi
  done
  echo; echo "libraries (ldd with LD_LIBRARY_PATH=<bundle>/lib):"; sed 's/^/  /' "$RESOLVED"
  [[ -f $BUNDLE/MANIFEST.txt ]] && { echo; echo "bundle:"; head -n 5 "$BUNDLE/MANIFEST.txt" | sed 's/^/  /'; }
  echo; echo "$LINE"
} >"$RES/summary.txt"

tar -C "$WORK" -cf - logs preflight.log | xz -T1 -6 >"$RES/fuzz-logs.tar.xz"
if [[ -n $(ls -A "$ART") ]]; then
  tar -C "$WORK" -czf "$RES/artifacts.tar.gz" artifacts
fi
cat "$TABLE"
echo "$LINE"
exit $status
