#!/usr/bin/env bash
# Runs every regression test (lit); exits non-zero when any test fails.
# Extra arguments go to lit, e.g. `scripts/test.sh -v` or
# `LIT_FILTER=downstream scripts/test.sh`.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$REPO_ROOT/build}"
if [[ $# -gt 0 ]]; then
  export LIT_OPTS="${LIT_OPTS:+$LIT_OPTS }$*"
fi
exec cmake --build "$BUILD_DIR" --target check-flashinfer
