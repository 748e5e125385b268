#!/usr/bin/env python3
"""Builds the kernels of a spec list from python/tests (MODULE.ATTR, a list
of KernelSpec) for sm_90a into OUT with flashinfer-opt OPT: the caches the
device runs carry (build-rope-headdim-caches.sh, build-variant-caches.sh).

  build_spec_cache.py MODULE.ATTR OUT OPT
"""
import importlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python", "tests"))
from flashinfer_mlir.jit import cache  # noqa: E402


def main():
    target, out, opt = sys.argv[1:4]
    module, attr = target.rsplit(".", 1)
    specs = getattr(importlib.import_module(module), attr)
    start = time.perf_counter()
    cache.build(specs, "sm_90a", out, opt)
    print(f"{target}: {len(specs)} kernels in "
          f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
