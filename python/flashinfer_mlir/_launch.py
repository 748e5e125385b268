"""Launching a KernelSpec's compiled function: its launch sequence with the
workspace its manifest describes, and the split size the runtime's planner
picks for single-request split-KV decode."""

import json
from typing import Dict

from .jit.cache import get_module
from .jit.spec import KernelSpec
from .planner import plan_decode
from .utils import device_chip

__all__ = ["SpecLaunch", "launcher"]


def _torch():
    import torch
    return torch


def eval_shape(expr, tensors: Dict[str, object]) -> int:
    """A manifest shape expression (docs/runtime.md) over named arguments."""
    if isinstance(expr, int):
        return expr
    (op, a), = expr.items()
    if op == "dim":
        return tensors[a[0]].shape[a[1]]
    if op == "ceil_div":
        divisor = tensors[a[2]] if isinstance(a[2], str) else a[2]
        return -(-tensors[a[0]].shape[a[1]] // divisor)
    if op in ("mul", "add", "min"):
        x, y = eval_shape(a[0], tensors), eval_shape(a[1], tensors)
        return x * y if op == "mul" else x + y if op == "add" else min(x, y)
    raise ValueError(f"unknown manifest expression {expr!r}")


class SpecLaunch:
    """One spec's module on one device: call it with the function's
    arguments by name; it plans kv_chunk where the sequence takes one,
    allocates the workspace and launches the sequence on the current
    stream."""

    def __init__(self, spec: KernelSpec, device):
        torch = _torch()
        self.spec = spec
        self.device = torch.device(device)
        index = self.device.index if self.device.index is not None else \
            torch.cuda.current_device()
        self.device = torch.device("cuda", index)
        self.chip = device_chip(self.device)
        self.module = get_module(spec, self.chip, index)
        with open(self.module.manifest_path) as f:
            manifest = json.load(f)
        seq = manifest["sequence"]
        self.arg_names = seq["args"]
        self.workspace = seq.get("workspace", [])
        self.kernels = [self.module.kernel(k["name"])
                        for k in manifest["kernels"]]
        self.sequence = self.module.sequence
        self.num_sms = torch.cuda.get_device_properties(
            self.device).multi_processor_count

    def __call__(self, **tensors):
        torch = _torch()
        if "kv_chunk" in self.arg_names and "kv_chunk" not in tensors:
            tensors["kv_chunk"] = plan_decode(
                self.kernels[0].params, tensors["k"].shape[0], self.num_sms)
        for buf in self.workspace:
            if buf["name"] in tensors:
                continue
            shape = [eval_shape(e, tensors) for e in buf["shape"]]
            tensors[buf["name"]] = torch.empty(
                shape, dtype=getattr(torch, {"f32": "float32"}.get(
                    buf["dtype"], buf["dtype"])), device=self.device)
        self.sequence(**tensors)
        return tensors


_launchers: Dict[tuple, SpecLaunch] = {}


def launcher(spec: KernelSpec, device) -> SpecLaunch:
    torch = _torch()
    device = torch.device(device)
    key = (spec.name, device.index)
    if key not in _launchers:
        _launchers[key] = SpecLaunch(spec, device)
    return _launchers[key]
