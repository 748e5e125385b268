#!/usr/bin/env bash
# Packs the compiler fuzzer for a machine without LLVM (the GPU machine:
# x86-64, Ubuntu 24.04 userland, glibc >= 2.36) into .device-artifacts/fuzz/,
# for scripts/device/fuzz-compiler.sh to unpack and run there:
#
#   fuzz-bin.tar.xz     bin/flashinfer-compiler-fuzzer (debug info stripped,
#                       symbols kept) and lib/: every shared library it loads
#                       except glibc's (libc, libm, libresolv, ld.so), taken
#                       from this machine (Debian 12) under its soname
#   fuzz-corpus.tar.xz  seeds/ (made from the lit inputs exactly as
#                       scripts/fuzz-compiler.sh makes them) and mlir.dict
#   MANIFEST.txt        what is in the bundle, the fuzzer's build id, sizes
#   SHA256SUMS          of the two tarballs
#
# libLLVM.so needs libz3.so.4 (for the static analyzer's SMT solver) and,
# through libxml2 and libicuuc, libicudata.so.72 (ICU's 31 MB data table);
# the compiler never calls the first and never converts text encodings with
# the second, and together they would add 15 MB of the 64 MB that may travel.
# So by default those two are replaced by stubs built here with the same
# soname and the symbols the bundle references: a stub function prints its
# name and aborts (the fuzzer would report that as a crash), a stub data
# symbol is zeros (ICU rejects it as data and reports an error). STUB_LIBS=""
# bundles the real libraries instead (about 63 MB in all).
#
#   bash scripts/device/make-fuzz-bundle.sh
#
# Needs the fuzzer built (scripts/fuzz-compiler.sh, build-fuzz), python3, xz,
# strip and a C compiler for the stubs. Environment: BUILD_DIR (default
# build-fuzz), DEST (default .device-artifacts/fuzz), STUB_LIBS (default
# "libz3.so.4 libicudata.so.72"), KEEP_DEBUG=1 (keep the fuzzer's debug
# info, +3 MB), LIMIT_MB (fail above this total, default 50), XZ_THREADS
# (default 1), NICE (niceness of the compression, default 19), CC (default
# cc).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build-fuzz}"
DEST="${DEST:-$REPO_ROOT/.device-artifacts/fuzz}"
STUB_LIBS="${STUB_LIBS-libz3.so.4 libicudata.so.72}"
KEEP_DEBUG="${KEEP_DEBUG:-0}"
LIMIT_MB="${LIMIT_MB:-50}"
XZ_THREADS="${XZ_THREADS:-1}"
NICE="${NICE:-19}"
CC="${CC:-cc}"
FUZZER="$BUILD_DIR/bin/flashinfer-compiler-fuzzer"
# glibc: the target's own (newer) copies are used; bundling them would mean
# starting the fuzzer through a bundled ld.so.
GLIBC_RE='^(linux-vdso\.so\.1|ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libresolv\.so\.2|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libutil\.so\.1)$'

log() { echo "make-fuzz-bundle: $*" >&2; }
die() { log "$*"; exit 1; }

[[ -x $FUZZER ]] || die "no $FUZZER (build it with scripts/fuzz-compiler.sh)"
for tool in python3 xz strip readelf nm ldd "$CC"; do
  command -v "$tool" >/dev/null || die "needs $tool"
done

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/bin" "$STAGE/lib" "$STAGE/seeds" "$STAGE/stubsrc"

# The fuzzer, without its DWARF (there is no symbolizer on the target; the
# symbol table stays, and reports give module+offset to symbolize here).
if [[ $KEEP_DEBUG == 1 ]]; then
  cp "$FUZZER" "$STAGE/bin/"
else
  strip --strip-debug -o "$STAGE/bin/flashinfer-compiler-fuzzer" "$FUZZER"
fi
BUILD_ID="$(readelf -n "$FUZZER" | awk '/Build ID/{print $3}')"

# Every library the fuzzer loads (ldd lists the whole closure), under its
# soname, except glibc's.
declare -a LIBS=()
while read -r name path; do
  [[ $name =~ $GLIBC_RE ]] && continue
  [[ -n $path && -f $path ]] || die "$name: not found by ldd"
  LIBS+=("$name=$path")
done < <(ldd "$FUZZER" | awk '$2 == "=>" {print $1, $3} $2 != "=>" {print $1, ""}' |
         sed 's@^/[^ ]*/@@')

is_stubbed() { [[ " $STUB_LIBS " == *" $1 "* ]]; }

for entry in "${LIBS[@]}"; do
  name="${entry%%=*}"; path="${entry#*=}"
  is_stubbed "$name" && continue
  # Shrinks nothing for Debian's (already stripped) libraries, but costs
  # nothing either; keep whichever is smaller.
  strip --strip-unneeded -o "$STAGE/lib/$name" "$(readlink -f "$path")" 2>/dev/null ||
    cp -L "$path" "$STAGE/lib/$name"
  if [[ $(stat -c %s "$STAGE/lib/$name") -gt $(stat -L -c %s "$path") ]]; then
    cp -L "$path" "$STAGE/lib/$name"
  fi
done

# Stubs: the real library's dynamic symbols that the bundle references.
for name in $STUB_LIBS; do
  path=""
  for entry in "${LIBS[@]}"; do
    if [[ ${entry%%=*} == "$name" ]]; then path="${entry#*=}"; fi
  done
  [[ -n $path ]] || { log "$name: not loaded by the fuzzer, no stub"; continue; }
  if readelf -S --wide "$path" | grep -q '\.gnu\.version_d'; then
    die "$name defines symbol versions; stubbing it needs a version script (STUB_LIBS= to bundle it)"
  fi
  # Names the bundle (the fuzzer and the other bundled libraries) imports
  # that only this library defines: a name that glibc or another bundled
  # library defines too (vague-linkage typeinfo, say) must keep resolving
  # there, never to a stub.
  { nm -D --undefined-only "$STAGE/bin/flashinfer-compiler-fuzzer"
    for f in "$STAGE"/lib/*; do nm -D --undefined-only "$f"; done
  } | awk '{print $NF}' | sed 's/@.*//' | sort -u >"$STAGE/stubsrc/imports"
  { for f in "$STAGE"/lib/*; do nm -D --defined-only "$f"; done
    for entry in "${LIBS[@]}"; do
      if [[ ${entry%%=*} != "$name" ]]; then nm -D --defined-only "${entry#*=}"; fi
    done
    # glibc's libraries, ld.so included.
    for g in $(ldd "$FUZZER" | awk '$2 == "=>" {print $1"="$3}
                                    $2 != "=>" && $1 ~ /^\// {print "ld.so="$1}'); do
      if [[ ${g%%=*} =~ $GLIBC_RE || ${g%%=*} == ld.so ]]; then
        nm -D --defined-only "${g#*=}"
      fi
    done
  } | awk '{print $3}' | sed 's/@.*//' | sort -u >"$STAGE/stubsrc/others"
  nm -D --defined-only "$path" | awk '{print $3, $2}' | sed 's/@[^ ]*//' |
    sort -u >"$STAGE/stubsrc/defs"
  src="$STAGE/stubsrc/$name.c"
  python3 - "$STAGE/stubsrc/imports" "$STAGE/stubsrc/defs" "$STAGE/stubsrc/others" \
      "$name" >"$src" <<'PY'
import sys
imports = set(open(sys.argv[1]).read().split())
defs = dict(line.split() for line in open(sys.argv[2]) if len(line.split()) == 2)
others = set(open(sys.argv[3]).read().split())
lib = sys.argv[4]
print(f"/* Stub {lib} made by scripts/device/make-fuzz-bundle.sh. */")
print("#include <stdio.h>\n#include <stdlib.h>")
print("static void stub_called(const char *name) {")
print(f'  fprintf(stderr, "{lib} stub: %s called\\n", name);')
print("  abort();\n}")
n_func = n_data = 0
for sym in sorted((imports & defs.keys()) - others):
    kind = defs[sym]
    if kind in "TtWiI":
        print(f'void {sym}(void) {{ stub_called("{sym}"); }}')
        n_func += 1
    else:  # data (R, D, B, V, u): zeros
        print(f"__attribute__((aligned(64))) const unsigned char {sym}[64] = {{0}};")
        n_data += 1
print(f"/* {n_func} functions, {n_data} data symbols */")
PY
  "$CC" -shared -fPIC -O1 -w -Wl,-soname,"$name" -o "$STAGE/lib/$name" "$src"
  strip --strip-unneeded "$STAGE/lib/$name"
  log "$name: stub, $(tail -1 "$src" | tr -d '/*')"
done

# Does everything resolve inside the bundle? ldd with only the bundle on the
# library path: nothing but glibc may come from elsewhere.
resolved="$(LD_LIBRARY_PATH="$STAGE/lib" ldd "$STAGE/bin/flashinfer-compiler-fuzzer")"
if grep -q 'not found' <<<"$resolved"; then
  echo "$resolved" >&2; die "unresolved libraries"
fi
outside="$(awk '$2 == "=>" {print $1, $3}' <<<"$resolved" |
           grep -Ev "^[^ ]+ $STAGE/lib/" | awk '{print $1}' | grep -Ev "$GLIBC_RE" || true)"
[[ -z $outside ]] || die "resolved outside the bundle: $outside"

# Seeds: the python program of scripts/fuzz-compiler.sh, taken from there so
# that both make the same corpus.
seedgen="$(sed -n "/<<'PY'\$/,/^PY\$/p" "$REPO_ROOT/scripts/fuzz-compiler.sh" | sed '1d;$d')"
[[ $seedgen == *"// -----"* ]] ||
  die "cannot find the seed generator in scripts/fuzz-compiler.sh"
python3 -c "$seedgen" "$REPO_ROOT/test" "$STAGE/seeds"
cp "$REPO_ROOT/test/Fuzz/mlir.dict" "$STAGE/mlir.dict"

# A smoke run from the staged bundle: the first seed case, once per
# pipeline (file arguments: each is run once).
if ! LD_LIBRARY_PATH="$STAGE/lib" ASAN_OPTIONS=detect_leaks=0:allow_user_poisoning=0 \
    nice -n "$NICE" "$STAGE/bin/flashinfer-compiler-fuzzer" "$STAGE"/seeds/seed-00000-* \
    >"$STAGE/smoke.log" 2>&1; then
  cat "$STAGE/smoke.log" >&2; die "smoke run failed"
fi
rm -f "$STAGE/smoke.log"

mkdir -p "$DEST"
rm -f "$DEST"/fuzz-*.tar.xz "$DEST/MANIFEST.txt" "$DEST/SHA256SUMS"
log "compressing (xz -9 with the x86 filter; a few minutes)"
# Machine code compresses about 3% better through the x86 branch filter.
XZ_BIN=(xz -T"$XZ_THREADS" --x86 --lzma2=preset=9)
XZ_TXT=(xz -T"$XZ_THREADS" -9)
tar -C "$STAGE" --owner=0 --group=0 --numeric-owner -cf - bin lib |
  nice -n "$NICE" "${XZ_BIN[@]}" >"$DEST/fuzz-bin.tar.xz"
tar -C "$STAGE" --owner=0 --group=0 --numeric-owner -cf - seeds mlir.dict |
  nice -n "$NICE" "${XZ_TXT[@]}" >"$DEST/fuzz-corpus.tar.xz"

{
  echo "flashinfer-compiler-fuzzer bundle, made $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "repo commit: $(git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$REPO_ROOT" diff --quiet HEAD -- lib include tools test 2>/dev/null || echo ' (lib/include/tools/test modified)')"
  echo "fuzzer: $FUZZER, build id $BUILD_ID, built $(date -u -r "$FUZZER" +%Y-%m-%dT%H:%M:%SZ)$([[ $KEEP_DEBUG == 1 ]] || echo ', debug info stripped')"
  echo "stubbed: ${STUB_LIBS:-none}"
  echo "seeds: $(ls "$STAGE/seeds" | wc -l) files"
  echo "files (uncompressed bytes):"
  (cd "$STAGE" && find bin lib mlir.dict -type f -printf '  %s %p\n' | sort -k2)
  echo "tarballs (bytes):"
  (cd "$DEST" && stat -c '  %s %n' fuzz-*.tar.xz)
} >"$DEST/MANIFEST.txt"
(cd "$DEST" && sha256sum fuzz-*.tar.xz >SHA256SUMS)

total=$(du -cb "$DEST"/* | tail -1 | cut -f1)
log "$(cd "$DEST" && stat -c '%n %s' fuzz-*.tar.xz | tr '\n' ' ')"
log "bundle: $total bytes ($(awk -v b="$total" 'BEGIN{printf "%.1f MiB", b/1048576}')) in $DEST"
(( total <= LIMIT_MB * 1048576 )) || die "bundle over LIMIT_MB=$LIMIT_MB MiB"
