"""ctypes bindings of the FlashInfer-MLIR launch runtime (libflashinfer_runtime).

    from flashinfer_mlir.runtime import Module
    mod = Module("build/attention.json")
    mod.kernel("attn_fwd")(q, k, v, o, qo_len, kv_len, sm_scale)

Tensors are torch tensors (anything with data_ptr/shape/stride/dtype) or
DeviceTensor views; ints and floats are scalars. torch is imported only when a
tensor needs its dtype mapped, so this module imports without torch.

The library is found through $FLASHINFER_RUNTIME_LIB, then next to this
package, then in the source tree's build directories (build/lib,
build-rt/lib), then by the system loader.
"""

import ctypes
import json
import os
import struct
import sys
import threading
from typing import NamedTuple, Optional, Sequence

__all__ = [
    "Context",
    "DeviceTensor",
    "Kernel",
    "Module",
    "library_path",
    "load_library",
]

MAX_RANK = 8
LIBRARY_NAME = "libflashinfer_runtime.so"

# fimlir_dtype values (runtime.h).
DTYPES = {
    "f16": 1, "bf16": 2, "f32": 3, "f64": 4, "f8E4M3FN": 5, "f8E5M2": 6,
    "i1": 7, "i8": 8, "i16": 9, "i32": 10, "i64": 11, "ui8": 12,
    "f8E4M3FNUZ": 13,
}
_DTYPE_I64, _DTYPE_F64 = DTYPES["i64"], DTYPES["f64"]
_ARG_TENSOR = 1
_ARG_SCALAR = 2
_BACKENDS = {0: "auto", 1: "cuda", 2: "hip"}

# torch dtype attribute name -> runtime dtype name.
_TORCH_DTYPES = {
    "float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64",
    "float8_e4m3fn": "f8E4M3FN", "float8_e5m2": "f8E5M2",
    "float8_e4m3fnuz": "f8E4M3FNUZ", "bool": "i1",
    "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "ui8",
}


class _Tensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("rank", ctypes.c_int32),
        ("dtype", ctypes.c_int32),
        ("sizes", ctypes.c_int64 * MAX_RANK),
        ("strides", ctypes.c_int64 * MAX_RANK),
    ]


class _ScalarValue(ctypes.Union):
    _fields_ = [("i", ctypes.c_int64), ("f", ctypes.c_double)]


class _Scalar(ctypes.Structure):
    _fields_ = [
        ("dtype", ctypes.c_int32),
        ("reserved", ctypes.c_int32),
        ("value", _ScalarValue),
    ]


class _ArgUnion(ctypes.Union):
    _fields_ = [("tensor", _Tensor), ("scalar", _Scalar)]


class _Arg(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_int32),
        ("reserved", ctypes.c_int32),
        ("u", _ArgUnion),
    ]


# The packed forms of an argument slot, written with struct.pack_into (one
# call per argument instead of a ctypes field assignment per value). Built
# from the ctypes layout above, and checked against it, so that the two
# cannot drift apart.
_ARG_SIZE = ctypes.sizeof(_Arg)
_U = _Arg.u.offset
_T = _ArgUnion.tensor.offset
_S = _ArgUnion.scalar.offset


def _layout(*fields):
    """A little-endian, unaligned struct format placing each (offset, code)
    field at its byte offset within an argument slot."""
    fmt, at = "<", 0
    for offset, code in fields:
        assert offset >= at, "fields must be in increasing order"
        if offset > at:
            fmt += f"{offset - at}x"
        fmt += code
        at = offset + struct.calcsize("<" + code)
    return struct.Struct(fmt)


def _tensor_layout(rank):
    base = _U + _T
    return _layout((0, "i"), (base + _Tensor.data.offset, "Q"),
                   (base + _Tensor.rank.offset, "i"),
                   (base + _Tensor.dtype.offset, "i"),
                   (base + _Tensor.sizes.offset, f"{rank}q"),
                   (base + _Tensor.strides.offset, f"{rank}q"))


_TENSOR_LAYOUTS = [_tensor_layout(r) for r in range(MAX_RANK + 1)]
_SCALAR_I64 = _layout((0, "i"), (_U + _S + _Scalar.dtype.offset, "i"),
                      (_U + _S + _Scalar.value.offset, "q"))
_SCALAR_F64 = _layout((0, "i"), (_U + _S + _Scalar.dtype.offset, "i"),
                      (_U + _S + _Scalar.value.offset, "d"))
assert sys.byteorder == "little" and ctypes.sizeof(ctypes.c_void_p) == 8
assert all(layout.size <= _ARG_SIZE for layout in _TENSOR_LAYOUTS)


class _LaunchInfo(ctypes.Structure):
    _fields_ = [
        ("grid", ctypes.c_uint32 * 3),
        ("block", ctypes.c_uint32 * 3),
        ("dynamic_shared_memory", ctypes.c_uint32),
    ]


class SplitKVParams(ctypes.Structure):
    """fimlir_split_kv_params (runtime.h)."""
    _fields_ = [
        ("num_kv_heads", ctypes.c_int32),
        ("num_compute_units", ctypes.c_int32),
        ("workgroups_per_compute_unit", ctypes.c_int32),
        ("kv_chunk_multiple", ctypes.c_int64),
        ("max_work_items", ctypes.c_int64),
        ("fixed_kv_chunk", ctypes.c_int64),
        ("disable_split_kv", ctypes.c_int32),
    ]


class PagedDecodePlan(ctypes.Structure):
    """fimlir_paged_decode_plan (runtime.h)."""
    _fields_ = [
        ("kv_chunk", ctypes.c_int64),
        ("num_work_items", ctypes.c_int64),
        ("max_kv_len", ctypes.c_int64),
    ]


class PrefillParams(ctypes.Structure):
    """fimlir_prefill_params (runtime.h)."""
    _fields_ = [
        ("block_m", ctypes.c_int64),
        ("causal", ctypes.c_int32),
        ("window_left", ctypes.c_int64),
    ]


class PrefillPlan(ctypes.Structure):
    """fimlir_prefill_plan (runtime.h)."""
    _fields_ = [
        ("num_work_items", ctypes.c_int64),
        ("total_qo_len", ctypes.c_int64),
        ("total_kv_len", ctypes.c_int64),
        ("max_qo_len", ctypes.c_int64),
        ("max_kv_len", ctypes.c_int64),
    ]


class DeviceTensor(NamedTuple):
    """A strided view of device memory (sizes and strides in elements)."""

    data: int
    shape: Sequence[int]
    strides: Sequence[int]
    dtype: str  # runtime spelling: "f16", "i32", ...

    @staticmethod
    def contiguous(data: int, shape: Sequence[int], dtype: str) -> "DeviceTensor":
        strides, step = [], 1
        for size in reversed(list(shape)):
            strides.append(step)
            step *= size
        return DeviceTensor(data, tuple(shape), tuple(reversed(strides)), dtype)


_lib = None
_lib_path = None
_lib_lock = threading.Lock()


def _candidates():
    env = os.environ.get("FLASHINFER_RUNTIME_LIB")
    if env:
        return [env], True
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    paths = [
        os.path.join(here, LIBRARY_NAME),
        os.path.join(here, "lib", LIBRARY_NAME),
        os.path.join(root, "build", "lib", LIBRARY_NAME),
        os.path.join(root, "build-rt", "lib", LIBRARY_NAME),
    ]
    return paths, False


def _declare(lib):
    c = ctypes
    status = c.c_int
    p = c.c_void_p
    sigs = {
        "fimlir_last_error": (c.c_char_p, []),
        "fimlir_status_string": (c.c_char_p, [c.c_int]),
        "fimlir_context_create_with_backend": (status, [c.c_int, c.c_int, c.POINTER(p)]),
        "fimlir_context_get_backend": (c.c_int, [p]),
        "fimlir_context_destroy": (None, [p]),
        "fimlir_module_load": (status, [p, c.c_char_p, c.POINTER(p)]),
        "fimlir_module_load_data": (status, [p, c.c_void_p, c.c_size_t, c.c_char_p, c.POINTER(p)]),
        "fimlir_module_destroy": (None, [p]),
        "fimlir_module_target": (c.c_char_p, [p]),
        "fimlir_module_num_kernels": (c.c_int, [p]),
        "fimlir_module_kernel_name": (c.c_char_p, [p, c.c_int]),
        "fimlir_module_get_kernel": (status, [p, c.c_char_p, c.POINTER(p)]),
        "fimlir_kernel_name": (c.c_char_p, [p]),
        "fimlir_kernel_num_args": (c.c_int, [p]),
        "fimlir_kernel_arg_name": (c.c_char_p, [p, c.c_int]),
        "fimlir_kernel_params_json": (c.c_char_p, [p]),
        "fimlir_kernel_info": (status, [p, c.POINTER(_Arg), c.c_int, c.POINTER(_LaunchInfo)]),
        "fimlir_kernel_launch": (status, [p, c.POINTER(_Arg), c.c_int, p]),
        "fimlir_module_sequence_num_args": (c.c_int, [p]),
        "fimlir_module_sequence_arg_name": (c.c_char_p, [p, c.c_int]),
        "fimlir_module_sequence_arg_is_workspace": (c.c_int, [p, c.c_int]),
        "fimlir_module_sequence_num_launches": (c.c_int, [p]),
        "fimlir_module_launch_sequence": (status, [p, c.POINTER(_Arg), c.c_int, p]),
        "fimlir_malloc": (status, [p, c.c_size_t, c.POINTER(p)]),
        "fimlir_free": (status, [p, p]),
        "fimlir_memcpy_h2d": (status, [p, p, p, c.c_size_t]),
        "fimlir_memcpy_d2h": (status, [p, p, p, c.c_size_t]),
        "fimlir_memset": (status, [p, p, c.c_int, c.c_size_t]),
        "fimlir_synchronize": (status, [p]),
        "fimlir_stream_synchronize": (status, [p, p]),
        "fimlir_plan_kv_chunk": (status, [c.POINTER(SplitKVParams), c.POINTER(c.c_int64), c.c_int64, c.POINTER(c.c_int64), c.POINTER(c.c_int64)]),
        "fimlir_check_page_indices": (status, [c.POINTER(c.c_int32), c.c_int64, c.c_int64]),
        "fimlir_plan_paged_prefill": (status, [c.POINTER(PrefillParams), c.c_int32, c.POINTER(c.c_int32), c.POINTER(c.c_int32), c.POINTER(c.c_int32), c.c_int64, c.c_int64, c.POINTER(c.c_int32), c.c_int64, c.POINTER(PrefillPlan)]),
        "fimlir_plan_ragged_prefill": (status, [c.POINTER(PrefillParams), c.POINTER(c.c_int32), c.POINTER(c.c_int32), c.c_int64, c.POINTER(c.c_int32), c.c_int64, c.POINTER(PrefillPlan)]),
        "fimlir_plan_paged_decode": (status, [c.POINTER(SplitKVParams), c.c_int32, c.POINTER(c.c_int32), c.POINTER(c.c_int32), c.c_int64, c.c_int64, c.POINTER(c.c_int32), c.c_int64, c.POINTER(c.c_int32), c.POINTER(PagedDecodePlan)]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def load_library():
    """Loads libflashinfer_runtime once; raises RuntimeError if not found."""
    global _lib, _lib_path
    with _lib_lock:
        if _lib is not None:
            return _lib
        paths, from_env = _candidates()
        errors = []
        for path in paths:
            if not from_env and not os.path.exists(path):
                errors.append(f"{path}: not found")
                continue
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                errors.append(f"{path}: {e}")
                continue
            _declare(lib)
            _lib, _lib_path = lib, path
            return lib
        if not from_env:
            # Last resort: the system loader (LD_LIBRARY_PATH, ld.so.cache).
            try:
                lib = ctypes.CDLL(LIBRARY_NAME)
                _declare(lib)
                _lib, _lib_path = lib, LIBRARY_NAME
                return lib
            except OSError as e:
                errors.append(f"{LIBRARY_NAME}: {e}")
        where = "FLASHINFER_RUNTIME_LIB" if from_env else "the search path"
        raise RuntimeError(
            f"could not load {LIBRARY_NAME} from {where}: " + "; ".join(errors))


def library_path() -> str:
    load_library()
    return _lib_path


def _check(status: int):
    if status != 0:
        lib = load_library()
        message = lib.fimlir_last_error().decode(errors="replace")
        raise RuntimeError(message or lib.fimlir_status_string(status).decode())


class Context:
    """One device of one backend ("auto": chosen by the first module)."""

    def __init__(self, device: int = 0, backend: str = "auto"):
        lib = load_library()
        codes = {v: k for k, v in _BACKENDS.items()}
        if backend not in codes:
            raise ValueError(f"backend must be one of {sorted(codes)}, got {backend!r}")
        self._lib = lib
        self._handle = ctypes.c_void_p()
        _check(lib.fimlir_context_create_with_backend(
            int(device), codes[backend], ctypes.byref(self._handle)))
        self.device = int(device)

    @property
    def backend(self) -> str:
        return _BACKENDS[self._lib.fimlir_context_get_backend(self._handle)]

    def close(self):
        if getattr(self, "_handle", None):
            self._lib.fimlir_context_destroy(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    # Device memory helpers (mainly for tests).
    def malloc(self, nbytes: int) -> int:
        ptr = ctypes.c_void_p()
        _check(self._lib.fimlir_malloc(self._handle, nbytes, ctypes.byref(ptr)))
        return ptr.value or 0

    def free(self, ptr: int):
        _check(self._lib.fimlir_free(self._handle, ptr))

    def memcpy_h2d(self, dst: int, src, nbytes: int):
        _check(self._lib.fimlir_memcpy_h2d(self._handle, dst, _host_ptr(src), nbytes))

    def memcpy_d2h(self, dst, src: int, nbytes: int):
        _check(self._lib.fimlir_memcpy_d2h(self._handle, _host_ptr(dst), src, nbytes))

    def memset(self, ptr: int, value: int, nbytes: int):
        _check(self._lib.fimlir_memset(self._handle, ptr, value, nbytes))

    def synchronize(self, stream=None):
        if stream is None:
            _check(self._lib.fimlir_synchronize(self._handle))
        else:
            _check(self._lib.fimlir_stream_synchronize(self._handle, _stream_handle(stream)))


def _host_ptr(buf) -> int:
    if isinstance(buf, int):
        return buf
    if isinstance(buf, ctypes.Array) or isinstance(buf, ctypes.Structure):
        return ctypes.addressof(buf)
    # Writable buffer-protocol objects (bytearray, numpy arrays).
    return ctypes.addressof(ctypes.c_char.from_buffer(buf))


def _stream_handle(stream) -> Optional[int]:
    if stream is None:
        return None
    if isinstance(stream, int):
        return stream
    handle = getattr(stream, "cuda_stream", None)  # torch.cuda.Stream
    if handle is None:
        raise TypeError(f"stream must be an int handle or have .cuda_stream, got {type(stream).__name__}")
    return handle


def _is_torch_tensor(x) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "data_ptr")


def _torch_dtype_name(dtype) -> str:
    name = _torch_dtype_names.get(dtype)
    if name is None:
        text = str(dtype).replace("torch.", "")
        if text not in _TORCH_DTYPES:
            raise TypeError(f"unsupported tensor dtype {dtype}")
        name = _torch_dtype_names[dtype] = _TORCH_DTYPES[text]
    return name


_torch_dtype_names = {}


class Kernel:
    """A kernel of a loaded Module; call it to launch."""

    def __init__(self, module: "Module", handle: ctypes.c_void_p):
        self._module = module  # keeps the module (and its code) alive
        self._handle = handle
        lib = module._lib
        self.name = lib.fimlir_kernel_name(handle).decode()
        self.arg_names = [
            lib.fimlir_kernel_arg_name(handle, i).decode()
            for i in range(lib.fimlir_kernel_num_args(handle))
        ]
        self.params = json.loads(lib.fimlir_kernel_params_json(handle).decode())

    def _label(self, i: int) -> str:
        return (f"argument {i} '{self.arg_names[i]}'"
                if i < len(self.arg_names) else f"argument {i}")

    def _pack(self, args):
        # On every launch: the messages' labels are made only on errors.
        packed = (_Arg * max(len(args), 1))()
        cuda_device = None
        for i, value in enumerate(args):
            offset = i * _ARG_SIZE
            if isinstance(value, (bool, int)):
                if not -(1 << 63) <= int(value) < (1 << 63):
                    raise RuntimeError(f"kernel '{self.name}': "
                                       f"{self._label(i)}: value {value} does "
                                       "not fit in i64")
                _SCALAR_I64.pack_into(packed, offset, _ARG_SCALAR,
                                      _DTYPE_I64, int(value))
            elif isinstance(value, float):
                _SCALAR_F64.pack_into(packed, offset, _ARG_SCALAR,
                                      _DTYPE_F64, value)
            elif isinstance(value, DeviceTensor):
                self._fill_tensor(packed, offset, i, value.data, value.shape,
                                  value.strides, value.dtype)
            elif _is_torch_tensor(value):
                device = value.device
                if device.type != "cuda":
                    raise RuntimeError(
                        f"kernel '{self.name}': {self._label(i)}: tensor is "
                        f"on {device}, expected a GPU tensor")
                cuda_device = device
                self._fill_tensor(packed, offset, i, value.data_ptr(),
                                  value.shape, value.stride(),
                                  _torch_dtype_name(value.dtype))
            else:
                raise TypeError(
                    f"kernel '{self.name}': {self._label(i)}: expected a "
                    f"tensor, int or float, got {type(value).__name__}")
        return packed, cuda_device

    def _fill_tensor(self, packed, offset, i, data, shape, strides, dtype):
        rank = len(shape)
        if rank > MAX_RANK or len(strides) != rank:
            raise RuntimeError(
                f"kernel '{self.name}': {self._label(i)}: tensor of rank "
                f"{rank} is not supported (at most {MAX_RANK})")
        code = DTYPES.get(dtype)
        if code is None:
            raise TypeError(f"kernel '{self.name}': {self._label(i)}: unknown "
                            f"dtype {dtype!r}")
        _TENSOR_LAYOUTS[rank].pack_into(packed, offset, _ARG_TENSOR, data or 0,
                                        rank, code, *shape, *strides)

    def info(self, *args) -> dict:
        """Launch shape for these arguments: grid, block, dynamic shared memory."""
        self._module._require_open()
        packed, _ = self._pack(args)
        out = _LaunchInfo()
        _check(self._module._lib.fimlir_kernel_info(
            self._handle, packed, len(args), ctypes.byref(out)))
        return {
            "grid": tuple(out.grid),
            "block": tuple(out.block),
            "dynamic_shared_memory": out.dynamic_shared_memory,
        }

    def __call__(self, *args, stream=None):
        self._module._require_open()
        packed, cuda_device = self._pack(args)
        if stream is None and cuda_device is not None:
            # Follow PyTorch: launch on the current stream of the tensors' device.
            import torch
            stream = torch.cuda.current_stream(cuda_device).cuda_stream
        _check(self._module._lib.fimlir_kernel_launch(
            self._handle, packed, len(args), _stream_handle(stream)))


class Sequence:
    """The launch sequence of a Module (the kernels convert-attn-to-gpu made
    of one function, in order). Call it with the sequence's arguments, by
    position or by name; every launch is checked before the first runs."""

    def __init__(self, module: "Module"):
        self._module = module
        lib = module._lib
        n = lib.fimlir_module_sequence_num_args(module._handle)
        if n < 0:
            raise RuntimeError(
                f"{module.manifest_path}: the manifest has no launch sequence "
                "(launch its kernels one by one)")
        self.name = os.path.basename(module.manifest_path) + " sequence"
        self.arg_names = [
            lib.fimlir_module_sequence_arg_name(module._handle, i).decode()
            for i in range(n)]
        self.workspace = [
            name for i, name in enumerate(self.arg_names)
            if lib.fimlir_module_sequence_arg_is_workspace(module._handle, i)]
        self.num_launches = lib.fimlir_module_sequence_num_launches(module._handle)

    _label = Kernel._label
    _pack = Kernel._pack
    _fill_tensor = Kernel._fill_tensor

    def __call__(self, *args, stream=None, **named):
        self._module._require_open()
        if named:
            unknown = sorted(set(named) - set(self.arg_names))
            if unknown:
                raise TypeError(f"sequence {self.name}: unknown arguments "
                                f"{', '.join(unknown)}")
            args = list(args)
            for name in self.arg_names[len(args):]:
                if name not in named:
                    raise TypeError(f"sequence {self.name}: missing argument "
                                    f"'{name}'")
                args.append(named[name])
        packed, cuda_device = self._pack(args)
        if stream is None and cuda_device is not None:
            import torch
            stream = torch.cuda.current_stream(cuda_device).cuda_stream
        _check(self._module._lib.fimlir_module_launch_sequence(
            self._module._handle, packed, len(args), _stream_handle(stream)))


class Module:
    """A code object and its manifest, loaded on one device."""

    def __init__(self, manifest_path: str, device: Optional[int] = None,
                 context: Optional[Context] = None):
        if context is None:
            if device is None:
                device = _default_device()
            context = Context(device)
        self.context = context
        self._lib = context._lib
        self._handle = ctypes.c_void_p()
        _check(self._lib.fimlir_module_load(
            context._handle, os.fsencode(manifest_path), ctypes.byref(self._handle)))
        self.manifest_path = manifest_path
        # Handles only: a Kernel refers to its Module, not the reverse, so a
        # module is freed as soon as it and its kernels are unreferenced.
        self._kernel_handles = {}

    @property
    def target(self) -> str:
        self._require_open()
        return self._lib.fimlir_module_target(self._handle).decode()

    @property
    def kernel_names(self):
        self._require_open()
        n = self._lib.fimlir_module_num_kernels(self._handle)
        return [self._lib.fimlir_module_kernel_name(self._handle, i).decode()
                for i in range(n)]

    def kernel(self, name: str) -> Kernel:
        self._require_open()
        if name not in self._kernel_handles:
            handle = ctypes.c_void_p()
            _check(self._lib.fimlir_module_get_kernel(
                self._handle, name.encode(), ctypes.byref(handle)))
            self._kernel_handles[name] = handle
        return Kernel(self, self._kernel_handles[name])

    @property
    def sequence(self) -> Sequence:
        """The launch sequence of the function the module was made of."""
        self._require_open()
        return Sequence(self)

    def _require_open(self):
        if not getattr(self, "_handle", None):
            raise RuntimeError(f"module {self.manifest_path} is closed")

    def __getitem__(self, name: str) -> Kernel:
        return self.kernel(name)

    def close(self):
        """Unloads the code object; kernels of this module stop working."""
        if getattr(self, "_handle", None):
            self._lib.fimlir_module_destroy(self._handle)
            self._handle = None
            self._kernel_handles = {}

    def __del__(self):
        self.close()


def _default_device() -> int:
    # Use PyTorch's current device when PyTorch is already in use.
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                return torch.cuda.current_device()
        except Exception:
            pass
    return 0
