"""Imports the installed flashinfer_mlir wheel (no source tree on the path)
and checks that it loads the runtime library shipped inside it and that the
library works: a planner call and a manifest error, neither needs a GPU."""
import os
import sys

import flashinfer_mlir
from flashinfer_mlir import planner, runtime

package_dir = os.path.dirname(os.path.abspath(flashinfer_mlir.__file__))
runtime.load_library()
lib_dir = os.path.dirname(os.path.abspath(runtime._lib_path))
print("package:", "site" if "site" in package_dir else package_dir)
print("library inside the package:", lib_dir == package_dir)
# 32k keys, 8 KV heads, 132 SMs at 4 split workgroups each, 64-key multiple.
print("kv_chunk:", planner.plan_kv_chunk(32768, 8, 64, 132))
try:
    planner.plan_kv_chunk(-1, 8, 64, 132)
except ValueError as e:
    print("error:", e)
from flashinfer_mlir.jit import cache  # noqa: E402

chips = cache.prebuilt_chips()
kernels = [f for c in chips for f in os.listdir(cache.package_cache_dir(c))
           if f.endswith("_kernels.json")]
print("kernel cache inside the package:", chips, len(kernels), "kernels")
sys.exit(0 if lib_dir == package_dir and flashinfer_mlir.utils.
         has_flashinfer_jit_cache() else 1)
