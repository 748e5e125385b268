"""The kernel cache: code objects found ahead of time, or compiled on first use.

A kernel (a KernelSpec) is looked up by its name in, in order:
  1. the folders of $FLASHINFER_MLIR_KERNELS (os.pathsep-separated; each
     folder, or its <chip> subfolder);
  2. the package's own cache, flashinfer_mlir/_kernels/<chip>/, which
     `python -m flashinfer_mlir.jit build` fills before `pip install .`;
  3. the user cache, $FLASHINFER_MLIR_CACHE_DIR (default
     ~/.cache/flashinfer_mlir)/<compiler version>/<chip>/.
When none holds it and flashinfer-opt is found ($FLASHINFER_MLIR_OPT, PATH,
or the source tree's build/bin), it is compiled into the user cache with one
progress line on stderr; otherwise NotImplementedError says how to build it.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, Iterable, List, Optional

from .spec import KernelSpec

__all__ = ["CompileError", "build", "compiler_path", "compiler_version",
           "ensure_built", "find_manifest", "get_module", "package_cache_dir",
           "prebuilt_chips", "search_dirs", "user_cache_dir"]

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SOURCE_ROOT = os.path.dirname(os.path.dirname(_PACKAGE_ROOT))
INDEX = "index.json"


class CompileError(RuntimeError):
    """flashinfer-opt failed on a kernel's IR."""


def package_cache_dir(chip: Optional[str] = None) -> str:
    base = os.path.join(_PACKAGE_ROOT, "_kernels")
    return os.path.join(base, chip) if chip else base


def prebuilt_chips() -> List[str]:
    """The targets the package's own cache holds kernels for."""
    base = package_cache_dir()
    if not os.path.isdir(base):
        return []
    return sorted(c for c in os.listdir(base)
                  if os.path.isfile(os.path.join(base, c, INDEX)))


def compiler_path() -> Optional[str]:
    env = os.environ.get("FLASHINFER_MLIR_OPT")
    if env:
        return env if os.access(env, os.X_OK) else None
    found = shutil.which("flashinfer-opt")
    if found:
        return found
    local = os.path.join(_SOURCE_ROOT, "build", "bin", "flashinfer-opt")
    return local if os.access(local, os.X_OK) else None


_versions: Dict[str, str] = {}
_lock = threading.RLock()


def compiler_version(opt: str) -> str:
    """A short digest of the compiler's version text and its binary's size
    and time (a rebuilt compiler is a new version)."""
    if opt not in _versions:
        text = subprocess.run([opt, "--version"], capture_output=True,
                              text=True).stdout
        st = os.stat(opt)
        digest = hashlib.sha256(
            f"{text}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
        _versions[opt] = digest[:16]
    return _versions[opt]


def user_cache_dir(chip: str, opt: str) -> str:
    base = os.environ.get("FLASHINFER_MLIR_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "flashinfer_mlir")
    return os.path.join(base, compiler_version(opt), chip)


def search_dirs(chip: str) -> List[str]:
    dirs = []
    for d in filter(None, os.environ.get("FLASHINFER_MLIR_KERNELS",
                                         "").split(os.pathsep)):
        sub = os.path.join(d, chip)
        dirs.append(sub if os.path.isdir(sub) else d)
    dirs.append(package_cache_dir(chip))
    opt = compiler_path()
    if opt:
        dirs.append(user_cache_dir(chip, opt))
    return dirs


def _manifest_name(spec: KernelSpec) -> str:
    return f"{spec.name}_kernels.json"


def find_manifest(spec: KernelSpec, chip: str) -> Optional[str]:
    for d in search_dirs(chip):
        path = os.path.join(d, _manifest_name(spec))
        if os.path.isfile(path):
            return path
    return None


def _write_index(out_dir: str, specs: Iterable[KernelSpec], chip: str,
                 opt: str):
    """index.json: every kernel of the folder with its spec (merged with an
    existing index)."""
    path = os.path.join(out_dir, INDEX)
    # Builds run in parallel (threads and processes): one writer at a time.
    with _lock, open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        index = {"chip": chip, "kernels": {}}
        if os.path.isfile(path):
            with open(path) as f:
                index = json.load(f)
        index["compiler"] = compiler_version(opt)
        for s in specs:
            index["kernels"][s.name] = s.to_json()
        tmp = path + f".{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w") as f:
            json.dump(index, f, indent=1, sort_keys=True)
        os.replace(tmp, path)


def build(specs: List[KernelSpec], chip: str, out_dir: str,
          opt: Optional[str] = None, options: str = "") -> List[str]:
    """Compiles `specs` (one flashinfer-opt run) into out_dir, each kernel's
    files moved in atomically; returns the manifest paths."""
    opt = opt or compiler_path()
    if not opt:
        raise CompileError("flashinfer-opt not found (set FLASHINFER_MLIR_OPT "
                           "or put it on PATH)")
    specs = list({s.name: s for s in specs}.values())
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        src = os.path.join(tmp, "kernels.mlir")
        with open(src, "w") as f:
            f.write("\n".join(s.ir() for s in specs))
        opts = f"chip={chip} o-dir={tmp} {options}".strip()
        r = subprocess.run([opt, src, f"--attn-compile={opts}", "-o",
                            os.devnull], capture_output=True, text=True)
        if r.returncode != 0:
            raise CompileError(
                f"flashinfer-opt failed ({r.returncode}) compiling "
                f"{', '.join(s.name for s in specs[:4])}"
                f"{' ...' if len(specs) > 4 else ''} for {chip}:\n"
                f"{r.stderr.strip()}")
        paths = []
        for s in specs:
            stem = f"{s.name}_kernels"
            for entry in sorted(os.listdir(tmp)):
                if entry.startswith(stem + "."):
                    os.replace(os.path.join(tmp, entry),
                               os.path.join(out_dir, entry))
            paths.append(os.path.join(out_dir, stem + ".json"))
    _write_index(out_dir, specs, chip, opt)
    return paths


_modules: Dict[tuple, object] = {}


def _missing(spec: KernelSpec, chip: str) -> NotImplementedError:
    return NotImplementedError(
        f"flashinfer_mlir: no kernel '{spec.name}' for {chip} in the kernel "
        f"cache ({', '.join(search_dirs(chip))}) and no flashinfer-opt to "
        f"compile it. Build it where flashinfer-opt is installed: "
        f"python -m flashinfer_mlir.jit build --chip {chip} --spec "
        f"'{spec.key()}' --out DIR, then point FLASHINFER_MLIR_KERNELS at "
        f"DIR (or reinstall the package after building into its cache)")


def ensure_built(spec: KernelSpec, chip: str) -> str:
    """The manifest of `spec` for `chip`: found in the caches, or compiled
    into the user cache now (one progress line on stderr)."""
    with _lock:
        path = find_manifest(spec, chip)
        if path is not None:
            return path
        opt = compiler_path()
        if not opt:
            raise _missing(spec, chip)
        start = time.perf_counter()
        print(f"flashinfer_mlir: compiling {spec.name} for {chip} "
              f"(first use) ...", end="", file=sys.stderr, flush=True)
        try:
            path, = build([spec], chip, user_cache_dir(chip, opt), opt)
        except CompileError:
            print(" failed", file=sys.stderr)
            raise
        print(f" {time.perf_counter() - start:.2f} s", file=sys.stderr)
        return path


def get_module(spec: KernelSpec, chip: str, device: int = 0):
    """The loaded runtime Module of `spec` for `chip` (once per process,
    kernel and device)."""
    from ..runtime import Module
    key = (spec.name, chip, device)
    with _lock:
        mod = _modules.get(key)
        if mod is None:
            mod = _modules[key] = Module(ensure_built(spec, chip),
                                         device=device)
        return mod
