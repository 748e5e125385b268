"""python -m flashinfer_mlir.jit build|list

  build [--chip sm_90a] [--set aot|test] [--spec JSON ...] [--out DIR]
        [--jobs N]
      Compiles the set (or the given specs, as printed by the
      NotImplementedError of a missing kernel) with flashinfer-opt into DIR,
      by default the package's own cache flashinfer_mlir/_kernels/<chip>
      (what `pip install .` then ships). Prints the count, size and time.
  list [--chip sm_90a]
      The kernel folders searched and how many kernels each holds.
"""

import argparse
import concurrent.futures
import json
import os
import sys
import time

from .aot import SETS
from .cache import INDEX, build, compiler_path, package_cache_dir, search_dirs
from .spec import KernelSpec


def _size(folder: str) -> int:
    return sum(os.path.getsize(os.path.join(folder, f))
               for f in os.listdir(folder)
               if os.path.isfile(os.path.join(folder, f)))


def cmd_build(args) -> int:
    opt = args.opt or compiler_path()
    if not opt:
        print("flashinfer_mlir.jit: flashinfer-opt not found (set "
              "FLASHINFER_MLIR_OPT or build it: scripts/setup.sh)",
              file=sys.stderr)
        return 1
    if args.spec:
        specs = [KernelSpec.from_json(json.loads(s)) for s in args.spec]
    else:
        specs = SETS[args.set]()
    out = args.out or package_cache_dir(args.chip)
    start = time.perf_counter()
    # Batches of kernels per flashinfer-opt run, runs in parallel.
    batches = [specs[i::args.jobs] for i in range(args.jobs)]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        jobs = [pool.submit(build, b, args.chip, out, opt)
                for b in batches if b]
        for j in jobs:
            j.result()
    elapsed = time.perf_counter() - start
    print(f"flashinfer_mlir.jit: {len(specs)} kernels for {args.chip} in "
          f"{out}: {_size(out) / 2**20:.1f} MiB, {elapsed:.1f} s")
    return 0


def cmd_list(args) -> int:
    for d in search_dirs(args.chip):
        n = 0
        if os.path.isfile(os.path.join(d, INDEX)):
            with open(os.path.join(d, INDEX)) as f:
                n = len(json.load(f)["kernels"])
        print(f"{d}: {n} kernels")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flashinfer_mlir.jit",
                                 description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--chip", default="sm_90a")
    b.add_argument("--set", default="aot", choices=sorted(SETS))
    b.add_argument("--spec", action="append",
                   help="a KernelSpec as JSON (repeatable)")
    b.add_argument("--out")
    b.add_argument("--opt", help="the flashinfer-opt to use")
    b.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    b.set_defaults(fn=cmd_build)
    ls = sub.add_parser("list")
    ls.add_argument("--chip", default="sm_90a")
    ls.set_defaults(fn=cmd_list)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
