"""Helpers that code written for FlashInfer imports from `flashinfer.utils`:
the enums of its API, device queries and argument checks. Importing this
module needs no torch and no GPU."""

import enum
import math
from typing import Tuple

__all__ = [
    "GPUArchitectureError",
    "PosEncodingMode",
    "TensorLayout",
    "canonicalize_dtype",
    "check_kv_layout",
    "check_pos_encoding_mode",
    "default_sm_scale",
    "device_chip",
    "get_compute_capability",
    "has_flashinfer_jit_cache",
    "is_sm90a_supported",
    "is_sm100a_supported",
    "next_positive_power_of_2",
    "round_up",
]


class PosEncodingMode(enum.Enum):
    NONE = 0
    ROPE_LLAMA = 1
    ALIBI = 2


class TensorLayout(enum.Enum):
    NHD = 0
    HND = 1


class GPUArchitectureError(Exception):
    """The GPU has no kernels in this package (FlashInfer's name)."""


def round_up(x: int, y: int) -> int:
    return (x + y - 1) // y * y


def next_positive_power_of_2(x: int) -> int:
    return 1 if x < 1 else 1 << (x - 1).bit_length()


def default_sm_scale(head_dim: int) -> float:
    return 1.0 / math.sqrt(head_dim)


def check_kv_layout(kv_layout: str) -> str:
    """'NHD' or 'HND' (FlashInfer's strings) as the attn dialect's
    `#attn.kv_layout` keyword; KeyError as FlashInfer raises it otherwise."""
    if not hasattr(TensorLayout, str(kv_layout)):
        raise KeyError(f"Invalid kv_layout {kv_layout}")
    return str(kv_layout).lower()


def check_pos_encoding_mode(pos_encoding_mode: str, what: str) -> str:
    """The kernel's pos_encoding for FlashInfer's mode: 'NONE' -> none,
    'ALIBI' -> alibi (FlashInfer's slopes for the head count, compiled in),
    'ROPE_LLAMA' -> rope_llama (q and k rotated in the kernel, rope_scale
    and rope_theta passed at launch); KeyError as FlashInfer raises it
    otherwise. (`what` names the caller in errors raised later.)"""
    if not hasattr(PosEncodingMode, str(pos_encoding_mode)):
        raise KeyError(f"Invalid pos_encoding_mode {pos_encoding_mode}")
    return {"NONE": "none", "ALIBI": "alibi",
            "ROPE_LLAMA": "rope_llama"}[str(pos_encoding_mode)]


# torch dtype name -> the attn dialect's element type.
_DTYPES = {"float16": "f16", "half": "f16", "bfloat16": "bf16",
           "float32": "f32", "float": "f32", "float8_e4m3fn": "f8E4M3FN",
           "float8_e5m2": "f8E5M2", "float8_e4m3fnuz": "f8E4M3FNUZ"}


def canonicalize_dtype(dtype) -> str:
    """A torch dtype (or its name, or an MLIR type name) as an MLIR element
    type name."""
    if dtype is None:
        return None
    name = str(dtype)
    if name.startswith("torch."):
        name = name[len("torch."):]
    if name in _DTYPES.values():
        return name
    if name not in _DTYPES:
        raise ValueError(f"unsupported data type {dtype}")
    return _DTYPES[name]


def get_compute_capability(device) -> Tuple[int, int]:
    """(major, minor) of a CUDA device; (-1, -1) for anything else, as
    FlashInfer returns."""
    import torch
    device = torch.device(device)
    if device.type != "cuda":
        return -1, -1
    return torch.cuda.get_device_capability(device)


def device_chip(device=None) -> str:
    """The code-object target of a device: 'sm_90a' for compute capability
    9.0, the gfx name of an AMD GPU, else 'sm_<major><minor>'."""
    import torch
    device = torch.device(device if device is not None else "cuda")
    props = torch.cuda.get_device_properties(device)
    if getattr(torch.version, "hip", None):
        return props.gcnArchName.split(":")[0]
    major, minor = props.major, props.minor
    return f"sm_{major}{minor}{'a' if major >= 9 else ''}"


def is_sm90a_supported(device) -> bool:
    import torch
    major, _ = get_compute_capability(device)
    cuda = tuple(int(x) for x in (torch.version.cuda or "0.0").split(".")[:2])
    return major == 9 and cuda >= (12, 3)


def is_sm100a_supported(device) -> bool:
    major, _ = get_compute_capability(device)
    return major == 10


def has_flashinfer_jit_cache() -> bool:
    """True when this package carries prebuilt kernels (its ahead-of-time
    kernel cache) for at least one target."""
    from .jit.env import has_flashinfer_jit_cache as has_cache
    return has_cache()
