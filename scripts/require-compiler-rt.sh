# Sourced by the fuzz scripts: stops with a message unless $CXX can link
# libFuzzer with ASan and UBSan. Those runtimes come with compiler-rt (on
# Debian: libclang-rt-22-dev, which scripts/setup.sh installs), which clang
# itself does not pull in. $1 names the calling script in the message.
require_compiler_rt() {
  local probe
  probe="$(mktemp -d)"
  printf 'extern "C" int LLVMFuzzerTestOneInput(const char *, unsigned long) '\
'{ return 0; }\n' >"$probe/probe.cpp"
  if ! "$CXX" -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" \
      -o "$probe/probe" 2>"$probe/log"; then
    cat "$probe/log" >&2
    echo "$1: $CXX cannot link libFuzzer with ASan/UBSan" \
      "(install compiler-rt, e.g. apt-get install libclang-rt-22-dev)" >&2
    rm -rf "$probe"
    exit 1
  fi
  rm -rf "$probe"
}
