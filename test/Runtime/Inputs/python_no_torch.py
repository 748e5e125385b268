"""Drives flashinfer_mlir.runtime with torch made unimportable (python.test)."""

import os
import struct
import sys

sys.modules["torch"] = None  # any `import torch` now raises ImportError

from flashinfer_mlir import runtime as rt  # noqa: E402

scratch = sys.argv[1]
os.makedirs(scratch, exist_ok=True)
print("library:", os.path.basename(rt.library_path()))
print("strides:", rt.DeviceTensor.contiguous(0, (2, 3, 4), "f16").strides)


def elf(machine):
    header = bytearray(64)
    header[0:7] = b"\x7fELF\x02\x01\x01"
    header[16:20] = struct.pack("<HH", 1, machine)
    return bytes(header)


def write(name, data):
    path = os.path.join(scratch, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def try_load(label, manifest):
    try:
        rt.Module(manifest)
        print(label, "loaded")
    except RuntimeError as e:
        print(label, "RuntimeError:", str(e).replace(scratch, "SCRATCH"))


write("x86.bin", elf(62))
try_load("x86:", write("x86.json", '{"version": 1, "target": "sm_90a", "binary": "x86.bin",'
                       ' "kernels": [{"name": "k", "block": [1], "grid": [1], "args": []}]}'))
try_load("syntax:", write("syntax.json", '{"version": 1,\n "target": sm_90a}'))
try:
    rt.Context(0, "opencl")
except ValueError as e:
    print("backend: ValueError:", e)
print("torch imported:", sys.modules["torch"] is not None)
