# -*- Python -*-
import os
import shlex
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "FLASHINFER"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "Inputs",
                   "downstream"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.flashinfer_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shlibext", config.llvm_shlib_ext))
config.substitutions.append(
    ("%mlir_runner_utils",
     os.path.join(config.mlir_lib_dir, "libmlir_runner_utils" + config.llvm_shlib_ext)))
config.substitutions.append(
    ("%mlir_c_runner_utils",
     os.path.join(config.mlir_lib_dir, "libmlir_c_runner_utils" + config.llvm_shlib_ext)))
config.substitutions.append(("%flashinfer_src", config.flashinfer_src_root))
config.substitutions.append(("%flashinfer_obj", config.flashinfer_obj_root))
# The downstream test configures and builds an out-of-tree project.
config.substitutions.append(("%cmake_generator", config.cmake_generator))
config.substitutions.append(("%cmake", config.cmake_command))
config.substitutions.append(("%cxx_compiler", config.cxx_compiler))
# scripts/test-sanitized.sh names the sanitizer runtime and flags; elsewhere
# both substitutions are empty. %sanitizer_preload loads the ASan runtime into
# python3, which is not instrumented but loads our instrumented runtime
# library (CPython's own leaks at exit are not ours); %downstream_flags builds
# the out-of-tree consumer with the flags of our instrumented libraries.
sanitizer_rt = os.environ.get("FLASHINFER_SANITIZER_RT", "")
asan_options = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":")
                if o and not o.startswith("detect_leaks=")]
config.substitutions.append(
    ("%sanitizer_preload",
     "LD_PRELOAD={} ASAN_OPTIONS={}".format(
         shlex.quote(sanitizer_rt),
         shlex.quote(":".join(asan_options + ["detect_leaks=0"])))
     if sanitizer_rt else ""))
downstream_flags = [
    shlex.quote("-D{}={}".format(var, os.environ[env]))
    for env, var in (("FLASHINFER_SANITIZER_CXX_FLAGS", "CMAKE_CXX_FLAGS"),
                     ("FLASHINFER_SANITIZER_LINKER_FLAGS", "CMAKE_EXE_LINKER_FLAGS"))
    if os.environ.get(env)]
config.substitutions.append(("%downstream_flags", " ".join(downstream_flags)))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# `not` and `count` are used verbatim, so LLVM's tools dir must be on PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.flashinfer_tools_dir, config.llvm_tools_dir]
# llvm-objdump/llvm-readelf inspect the emitted code objects.
tools = ["flashinfer-opt", "mlir-runner", "mlir-translate", "llvm-objdump",
         "llvm-readelf"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# GPU emission tests need CUDA's ptxas for sm_90a and ld.lld for AMDGPU.
if shutil.which("ptxas"):
    config.available_features.add("ptxas")
if shutil.which("ld.lld-22") or os.path.exists(
        os.path.join(config.llvm_tools_dir, "ld.lld")):
    config.available_features.add("lld")
