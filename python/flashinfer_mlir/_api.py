"""FlashInfer's attention API over our kernels: argument handling shared by
decode.py, prefill.py, cascade.py and page.py.

Each entry point turns its arguments into a KernelSpec (jit/spec.py), gets
the spec's kernels from the kernel cache (prebuilt, or compiled on first
use) and launches them through the runtime; planning, validation of tables
and launch arguments stay in the C++ runtime (planner.py, runtime.py).
"""

import math
from typing import Optional

from ._launch import launcher
from .decode import PagedDecode
from .jit.cache import get_module
from .jit.spec import FP8_TYPES, KernelSpec
from .page import AppendPagedKV
from .prefill import BatchPrefill
from .utils import (canonicalize_dtype, check_kv_layout,
                    check_pos_encoding_mode, default_sm_scale, device_chip)


def _torch():
    import torch
    return torch


def _dtype(t, what: str, kv: bool = False) -> str:
    """The kernel dtype name of a torch dtype (or its name); with `kv` (K/V
    and caches) fp8 e4m3 too."""
    name = canonicalize_dtype(t)
    if name in ("f16", "bf16") or (kv and name in FP8_TYPES):
        return name
    allowed = "float16 and bfloat16"
    if kv:
        allowed += " (and float8_e4m3fn / float8_e4m3fnuz for K/V)"
    raise NotImplementedError(
        f"{what}: {t} has no kernel in flashinfer_mlir ({allowed})")


def _torch_dtype(name: str):
    torch = _torch()
    return {"f16": torch.float16, "bf16": torch.bfloat16,
            "f32": torch.float32}[name]


def _compiling() -> bool:
    """While torch.compile traces: call the custom ops (_ops.py)."""
    compiler = getattr(_torch(), "compiler", None)
    return bool(compiler is not None and compiler.is_compiling())


def _ops():
    from . import _ops as ops
    return ops


def _fold(q_scale, k_scale):
    """q_scale and k_scale multiply the logits alike: one factor (None when
    neither is given)."""
    if q_scale is None and k_scale is None:
        return None
    return float(1.0 if q_scale is None else q_scale) * float(
        1.0 if k_scale is None else k_scale)


def _cap(logits_soft_cap) -> float:
    cap = 0.0 if logits_soft_cap is None else float(logits_soft_cap)
    if cap < 0:
        raise ValueError(f"logits_soft_cap must be >= 0, got {cap}")
    return cap


def _check_tensor(x, what: str, dim: int):
    torch = _torch()
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got "
                        f"{type(x).__name__}")
    if x.dim() != dim:
        raise ValueError(f"{what} must be {dim}-D, got shape "
                         f"{tuple(x.shape)}")
    if x.device.type != "cuda":
        raise ValueError(f"{what} must be on a CUDA device, got {x.device}")


def _unsupported(what: str, **args):
    """NotImplementedError for arguments our kernels do not take yet."""
    for name, value in args.items():
        if value is not None and value is not False:
            raise NotImplementedError(
                f"{what}: {name} has no kernel in flashinfer_mlir yet")


def _variant(head_dim, window_left, logits_soft_cap, sm_scale,
             pos_encoding="none", rope_scale=None, rope_theta=None):
    """(spec fields, values at launch) of a variant: the scale always at
    launch, a soft cap and a window at launch when on (compiled-in switches,
    as FlashInfer's use_logits_soft_cap / use_sliding_window), so that one
    kernel serves every value; ALiBi compiled in; fused RoPE's scale and
    theta at launch (FlashInfer's defaults 1 and 1e4)."""
    cap = _cap(logits_soft_cap)
    window = int(window_left) if window_left is not None else -1
    scale = float(sm_scale) if sm_scale is not None else \
        default_sm_scale(head_dim)
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"sm_scale must be finite and > 0, got {sm_scale}")
    if pos_encoding == "alibi" and cap > 0:
        # FlashInfer caps the biased logits; the attn ops cap, then bias.
        raise NotImplementedError(
            "pos_encoding_mode='ALIBI' with logits_soft_cap has no kernel in "
            "flashinfer_mlir (FlashInfer caps after the bias; ours would cap "
            "before it)")
    fields = dict(launch_sm_scale=True, launch_soft_cap=cap > 0,
                  launch_window=window >= 0, pos_encoding=pos_encoding)
    values = dict(sm_scale=scale)
    if pos_encoding == "rope_llama":
        for name, value, default in (("rope_scale", rope_scale, 1.0),
                                     ("rope_theta", rope_theta, 1e4)):
            value = float(value) if value is not None else default
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be finite and > 0, got "
                                 f"{value}")
            values[name] = value
    if cap > 0:
        values["logits_soft_cap"] = cap
    if window >= 0:
        values["window_left"] = window
    return fields, values


def _scaled(values, scale):
    """The launch values with q_scale/k_scale folded into sm_scale."""
    if scale is None or float(scale) == 1.0:
        return values
    return dict(values, sm_scale=values["sm_scale"] * float(scale))


def _scale_out(out, v_scale):
    if v_scale is not None and float(v_scale) != 1.0:
        out.mul_(float(v_scale))
    return out


def _out(out, shape, dtype, device, what: str):
    torch = _torch()
    if out is None:
        return torch.empty(shape, dtype=dtype, device=device)
    if tuple(out.shape) != tuple(shape) or out.dtype != dtype:
        raise ValueError(f"{what} must be {tuple(shape)} {dtype}, got "
                         f"{tuple(out.shape)} {out.dtype}")
    return out


def _packed_mask(custom_mask, packed_custom_mask, qo_len, kv_len, device,
                 what):
    """The bits of one request's [qo_len, kv_len] mask, row-major and
    little-endian within each byte (FlashInfer's packbits), as int8 bytes,
    from a bool mask or already packed (uint8); None without one."""
    torch = _torch()
    if custom_mask is not None:
        if tuple(custom_mask.shape) != (qo_len, kv_len):
            raise ValueError(f"{what}: custom_mask must be [qo_len, kv_len] ="
                             f" {(qo_len, kv_len)}, got "
                             f"{tuple(custom_mask.shape)}")
        bits = custom_mask.to(device=device, dtype=torch.bool).reshape(-1)
        pad = (-bits.numel()) % 8
        if pad:
            bits = torch.cat([bits, bits.new_zeros(pad)])
        weights = torch.tensor([1, 2, 4, 8, 16, 32, 64, 128],
                               dtype=torch.int32, device=device)
        packed = (bits.view(-1, 8).to(torch.int32) * weights).sum(-1)
        # The kernel's argument is i8: the same bytes.
        return packed.to(torch.uint8).view(torch.int8)
    if packed_custom_mask is None:
        return None
    _check_packed_mask(packed_custom_mask, (qo_len * kv_len + 7) // 8,
                       "ceil(qo_len * kv_len / 8)", what)
    return packed_custom_mask.to(device).contiguous().view(torch.int8)


def _check_packed_mask(packed, need: int, how: str, what: str):
    """ValueError unless `packed` is 1-D uint8 of `need` bytes."""
    torch = _torch()
    if packed.dim() != 1 or packed.dtype != torch.uint8 or \
            packed.numel() != need:
        raise ValueError(f"{what}: packed_custom_mask must be 1-D uint8 with "
                         f"{how} = {need} bytes, got {tuple(packed.shape)} "
                         f"{packed.dtype}")


def _batch_mask(self, custom_mask, packed_custom_mask, qo_host, kv_indptr,
                kv_last_page_len, page_size, kind, what):
    """A batch's custom mask as the kernel reads it: the requests' [qo_len,
    kv_len] bits one after the other, packed once (FlashInfer passes the
    flat bool mask, or each request packed and padded to whole bytes). Kept
    in one buffer per wrapper, so that a CUDA graph's replay reads the new
    plan's mask."""
    torch = _torch()
    qo = (qo_host[1:] - qo_host[:-1]).tolist()

    def host(t):
        return t.to("cpu") if isinstance(t, torch.Tensor) else \
            torch.tensor(list(t))
    kvp = host(kv_indptr)
    if kind == "batch_prefill":
        pages = (kvp[1:] - kvp[:-1]).tolist()
        kv = [(p - 1) * int(page_size) + int(n) if p > 0 else 0
              for p, n in zip(pages, host(kv_last_page_len).tolist())]
    else:
        kv = (kvp[1:] - kvp[:-1]).tolist()
    sizes = [a * b for a, b in zip(qo, kv)]
    if custom_mask is not None:
        if custom_mask.dim() != 1 or custom_mask.numel() != sum(sizes):
            raise ValueError(f"{what}: custom_mask must be the flattened "
                             f"[qo_len, kv_len] masks of the batch, "
                             f"{sum(sizes)} entries, got "
                             f"{tuple(custom_mask.shape)}")
        bits = custom_mask.to(device=self.device, dtype=torch.bool)
    else:
        # FlashInfer's segment_packbits: each request's bits padded to bytes.
        _check_packed_mask(packed_custom_mask,
                           sum((n + 7) // 8 for n in sizes),
                           "each request's ceil(qo_len * kv_len / 8), summed",
                           what)
        shifts = torch.arange(8, device=self.device)
        unpacked = ((packed_custom_mask.to(self.device)[:, None].long() >>
                     shifts) & 1).bool().reshape(-1)
        parts, at = [], 0
        for n in sizes:
            parts.append(unpacked[at * 8:at * 8 + n])
            at += (n + 7) // 8
        bits = torch.cat(parts) if parts else unpacked[:0]
    packed = _packed_mask(bits.reshape(1, -1), None, 1, bits.numel(),
                          self.device, what)
    if packed.numel() == 0:
        packed = torch.zeros(1, dtype=torch.int8, device=self.device)
    given = getattr(self, "_custom_mask_buf", None)
    if given is not None:
        # The caller's buffer (FlashInfer's custom_mask_buf), as bytes.
        if given.dtype not in (torch.uint8, torch.int8) or given.dim() != 1:
            raise ValueError(f"{what}: custom_mask_buf must be a 1-D uint8 "
                             "tensor")
        if given.numel() < packed.numel():
            raise ValueError(f"{what}: custom_mask_buf holds {given.numel()} "
                             f"bytes; this plan's mask needs "
                             f"{packed.numel()}")
        buf = given.view(torch.int8)
        buf[:packed.numel()].copy_(packed)
        return buf
    buf = getattr(self, "_mask_buf", None)
    if buf is None or buf.numel() < packed.numel():
        if self._use_cuda_graph and buf is not None:
            raise ValueError(f"{what}: under use_cuda_graph the custom mask "
                             "buffer is fixed by the first plan(); this "
                             "plan's mask is larger (pass custom_mask_buf "
                             "of the largest mask's size)")
        size = max(packed.numel(), 2 * (buf.numel() if buf is not None else 0))
        buf = self._mask_buf = torch.empty(size, dtype=torch.int8,
                                           device=self.device)
    buf[:packed.numel()].copy_(packed)
    return buf


def _layout_kv(k, v, kv_layout: str):
    """K and V as [kv_len, Hkv, D] views (HND: a transposed view)."""
    if kv_layout == "hnd":
        return k.transpose(0, 1), v.transpose(0, 1)
    return k, v


# -- single requests ----------------------------------------------------------

def single_decode(q, k, v, kv_layout, pos_encoding_mode, q_scale, k_scale,
                  v_scale, window_left, logits_soft_cap, sm_scale,
                  return_lse, rope_scale=None, rope_theta=None):
    torch = _torch()
    what = "single_decode_with_kv_cache"
    layout = check_kv_layout(kv_layout)
    pos = check_pos_encoding_mode(pos_encoding_mode, what)
    if _compiling():
        o, lse = torch.ops.flashinfer_mlir.single_decode(
            q, k, v, kv_layout, pos_encoding_mode, int(window_left),
            _cap(logits_soft_cap),
            sm_scale, _fold(q_scale, k_scale), v_scale, rope_scale,
            rope_theta)
        return (o, lse) if return_lse else o
    _check_tensor(q, f"{what}: q", 2)
    _check_tensor(k, f"{what}: k", 3)
    _check_tensor(v, f"{what}: v", 3)
    k, v = _layout_kv(k, v, layout)
    hq, d = q.shape
    fields, values = _variant(d, window_left, logits_soft_cap, sm_scale, pos,
                              rope_scale, rope_theta)
    spec = KernelSpec("single_decode", _dtype(q.dtype, what), d, hq,
                      k.shape[1], dtype_kv=_dtype(k.dtype, what, kv=True),
                      head_dim_vo=v.shape[2], **fields)
    o = torch.empty((1, hq, spec.vo_dim), dtype=q.dtype, device=q.device)
    lse = torch.empty((1, hq), dtype=torch.float32, device=q.device)
    values = _scaled(values, _fold(q_scale, k_scale))
    launcher(spec, q.device)(q=q.unsqueeze(0), k=k, v=v, o=o, lse=lse,
                             **values)
    o = _scale_out(o[0], v_scale)
    return (o, lse[0]) if return_lse else o


def single_prefill(q, k, v, custom_mask, packed_custom_mask, causal,
                   kv_layout, pos_encoding_mode, sm_scale, window_left,
                   logits_soft_cap, return_lse, o_dtype, scales,
                   rope_scale=None, rope_theta=None):
    torch = _torch()
    what = "single_prefill_with_kv_cache"
    layout = check_kv_layout(kv_layout)
    pos = check_pos_encoding_mode(pos_encoding_mode, what)
    if _compiling() and custom_mask is None and packed_custom_mask is None:
        o, lse = torch.ops.flashinfer_mlir.single_prefill(
            q, k, v, bool(causal), kv_layout, pos_encoding_mode, sm_scale,
            int(window_left), _cap(logits_soft_cap), scales.get("k_scale"),
            scales.get("v_scale"), rope_scale, rope_theta)
        return (o, lse) if return_lse else o
    _unsupported(what, scale_q=scales.get("scale_q"),
                 scale_k=scales.get("scale_k"),
                 scale_v=scales.get("scale_v"),
                 kv_cache_sf=scales.get("kv_cache_sf"))
    _check_tensor(q, f"{what}: q", 3)
    _check_tensor(k, f"{what}: k", 3)
    _check_tensor(v, f"{what}: v", 3)
    k, v = _layout_kv(k, v, layout)
    qo_len, hq, d = q.shape
    if o_dtype is not None and o_dtype != q.dtype:
        raise NotImplementedError(f"{what}: o_dtype {o_dtype} differs from "
                                  f"q's {q.dtype}; no such kernel")
    fields, values = _variant(d, window_left, logits_soft_cap, sm_scale, pos,
                              rope_scale, rope_theta)
    mask = _packed_mask(custom_mask, packed_custom_mask, qo_len, k.shape[0],
                        q.device, what)
    # As FlashInfer's: a custom mask replaces the causal one.
    spec = KernelSpec("single_prefill", _dtype(q.dtype, what), d, hq,
                      k.shape[1], dtype_kv=_dtype(k.dtype, what, kv=True),
                      head_dim_vo=v.shape[2],
                      causal=bool(causal) and mask is None,
                      custom_mask=mask is not None, **fields)
    if mask is not None:
        values = dict(values, custom_mask=mask)
    o = torch.empty((qo_len, hq, spec.vo_dim), dtype=q.dtype,
                    device=q.device)
    lse = torch.empty((qo_len, hq), dtype=torch.float32, device=q.device)
    values = _scaled(values, scales.get("k_scale"))
    launcher(spec, q.device)(q=q, k=k, v=v, o=o, lse=lse, **values)
    o = _scale_out(o, scales.get("v_scale"))
    return (o, lse) if return_lse else o


# -- batch wrappers -----------------------------------------------------------

def _buffer_len(buf, what: str) -> Optional[int]:
    if buf is None:
        return None
    if buf.dim() != 1 or buf.dtype != _torch().int32:
        raise ValueError(f"{what} must be a 1-D int32 tensor")
    return buf.numel()


def wrapper_init(self, float_workspace_buffer, kv_layout, use_cuda_graph,
                 buffers: dict, backend: str):
    torch = _torch()
    what = type(self).__name__
    self._kv_layout = check_kv_layout(kv_layout)
    if not isinstance(float_workspace_buffer, torch.Tensor):
        raise TypeError(f"{what}: float_workspace_buffer must be a "
                        f"torch.Tensor")
    if backend not in ("auto", "fa2", "fa3"):
        raise NotImplementedError(f"{what}: backend {backend!r} is not "
                                  "available; flashinfer_mlir has one "
                                  "(pass 'auto')")
    self._float_workspace_buffer = float_workspace_buffer
    self.device = float_workspace_buffer.device
    self._use_cuda_graph = bool(use_cuda_graph)
    self._buffers = buffers
    self._impl = None
    self._spec = None
    self._planned = None
    self._handle = _ops().register(self)
    if self._use_cuda_graph:
        for name, buf in buffers.items():
            if buf is None:
                raise ValueError(f"{what}: use_cuda_graph needs "
                                 f"{name} (its length fixes the batch "
                                 f"capacity)")
            _buffer_len(buf, f"{what}: {name}")


def _capacity(self, name: str, needed: int) -> int:
    """Capacity of a planned table: the caller's buffer's under CUDA graphs
    (fixed), else the needed size, grown geometrically."""
    buf = self._buffers.get(name)
    if self._use_cuda_graph and buf is not None:
        return buf.numel()
    return needed


def _spec_for_plan(kind, what, num_qo_heads, num_kv_heads, head_dim,
                   head_dim_vo, kv_layout, pos_encoding_mode, window_left,
                   logits_soft_cap, q_data_type, kv_data_type, o_data_type,
                   sm_scale, causal=False, sinks=False, rope_scale=None,
                   rope_theta=None):
    pos = check_pos_encoding_mode(pos_encoding_mode, what)
    dt = _dtype(q_data_type, what)
    kvt = _dtype(kv_data_type if kv_data_type is not None else q_data_type,
                 what, kv=True)
    ot = dt if o_data_type is None else _dtype(o_data_type, what)
    if ot != dt:
        raise NotImplementedError(f"{what}: o_data_type {o_data_type} "
                                  "differs from q_data_type; no such kernel")
    fields, values = _variant(int(head_dim), window_left, logits_soft_cap,
                              sm_scale, pos, rope_scale, rope_theta)
    spec = KernelSpec(kind, dt, int(head_dim), int(num_qo_heads),
                      int(num_kv_heads), dtype_kv=kvt,
                      head_dim_vo=head_dim_vo, kv_layout=kv_layout,
                      causal=bool(causal), sinks=bool(sinks), **fields)
    return spec, values


def _module(spec, device):
    torch = _torch()
    device = torch.device(device)
    index = device.index if device.index is not None else \
        torch.cuda.current_device()
    return get_module(spec, device_chip(device), index)


def decode_plan(self, indptr, indices, last_page_len, num_qo_heads,
                num_kv_heads, head_dim, page_size, pos_encoding_mode,
                window_left, logits_soft_cap, q_data_type, kv_data_type,
                o_data_type, data_type, sm_scale, fixed_split_size,
                disable_split_kv, q_len_per_req, sinks=None, rope_scale=None,
                rope_theta=None):
    what = f"{type(self).__name__}.plan"
    # FlashInfer takes sinks at run(): a new plan keeps the last run's.
    if sinks is None:
        sinks = self._spec is not None and self._spec.sinks
    self._replan = lambda with_sinks: decode_plan(
        self, indptr, indices, last_page_len, num_qo_heads, num_kv_heads,
        head_dim, page_size, pos_encoding_mode, window_left, logits_soft_cap,
        q_data_type, kv_data_type, o_data_type, data_type, sm_scale,
        fixed_split_size, disable_split_kv, q_len_per_req, with_sinks,
        rope_scale, rope_theta)
    if data_type is not None:
        kv_data_type = kv_data_type or data_type
        q_data_type = data_type if q_data_type is None else q_data_type
    if q_len_per_req not in (None, 1):
        raise NotImplementedError(f"{what}: q_len_per_req > 1 has no decode "
                                  "kernel; use BatchPrefillWithPagedKVCache"
                                  "Wrapper")
    spec, values = _spec_for_plan(
        "batch_decode", what, num_qo_heads, num_kv_heads, head_dim, None,
        self._kv_layout, pos_encoding_mode, window_left, logits_soft_cap,
        q_data_type, kv_data_type, o_data_type, sm_scale, sinks=sinks,
        rope_scale=rope_scale, rope_theta=rope_theta)
    batch = last_page_len.numel() if hasattr(last_page_len, "numel") else \
        len(last_page_len)
    pages = indices.numel() if hasattr(indices, "numel") else len(indices)
    max_batch = _capacity(self, "paged_kv_last_page_len_buffer", batch)
    max_pages = _capacity(self, "paged_kv_indices_buffer", pages)
    impl = self._impl
    if (impl is None or self._spec != spec or
            impl.max_batch_size < max_batch or
            impl.kv_indices.numel() < max_pages):
        if self._use_cuda_graph and impl is not None:
            raise ValueError(f"{what}: under use_cuda_graph the kernel and "
                             "the buffers are fixed by the first plan(); "
                             "this plan needs others (a new variant or a "
                             "larger batch)")
        if not self._use_cuda_graph and impl is not None:
            max_batch = max(max_batch, 2 * impl.max_batch_size)
            max_pages = max(max_pages, 2 * impl.kv_indices.numel())
        impl = PagedDecode(_module(spec, self.device),
                           max_batch_size=max_batch, max_num_pages=max_pages,
                           device=self.device)
    chunk = 0
    if fixed_split_size is not None and fixed_split_size > 0:
        # FlashInfer's fixed split size counts pages.
        chunk = int(fixed_split_size) * int(page_size)
    impl.plan(indptr, indices, last_page_len, page_size=int(page_size),
              fixed_kv_chunk=chunk, disable_split_kv=bool(disable_split_kv))
    self._impl, self._spec = impl, spec
    self._planned = dict(values=values, batch_size=batch,
                         heads=spec.num_qo_heads, vo_dim=spec.vo_dim)


def _match_sinks(self, sinks, what):
    """FlashInfer takes sinks at run(), our kernels compile them in: a run
    whose sinks switch differs from the planned kernel's plans again, with
    the same arguments, for the other kernel (before a CUDA-graph capture:
    warm up with the sinks as FlashInfer's users do)."""
    want = sinks is not None
    if self._spec.sinks == want:
        return
    torch = _torch()
    if torch.cuda.is_current_stream_capturing():
        kind = "with" if want else "without"
        raise RuntimeError(f"{what}: the first run {kind} sinks cannot be "
                           "captured (its kernel is planned on first use); "
                           "run it once before the capture")
    impl, graph = self._impl, self._use_cuda_graph
    # Under CUDA graphs the buffers stay; the kernel changes once.
    self._impl, self._use_cuda_graph = None, False
    try:
        self._replan(want)
    except Exception:
        self._impl = impl
        raise
    finally:
        self._use_cuda_graph = graph


def _run_values(self, window_left, what):
    """The planned launch values, with run()'s window_left override (a
    kernel planned with a window takes any; one planned without none)."""
    values = self._planned["values"]
    if window_left is None:
        return values
    planned = values.get("window_left", -1)
    if int(window_left) == planned or (window_left < 0 and planned < 0):
        return values
    if self._spec.launch_window and window_left >= 0:
        return dict(values, window_left=int(window_left))
    raise ValueError(f"{what}: window_left={window_left} needs a kernel "
                     f"planned with {'no ' if window_left < 0 else 'a '}"
                     "window (plan with it)")


def decode_run(self, q, paged_kv_cache, q_scale, k_scale, v_scale, out, lse,
               return_lse, window_left, sinks):
    torch = _torch()
    what = f"{type(self).__name__}.run"
    if self._impl is None:
        raise RuntimeError(f"{what}: call plan() first")
    _match_sinks(self, sinks, what)
    values = _run_values(self, window_left, what)
    if _compiling():
        return _traced_run(self, q, paged_kv_cache, _fold(q_scale, k_scale),
                           v_scale, out, lse, return_lse,
                           self._planned["batch_size"], values, sinks)
    spec, b = self._spec, self._planned["batch_size"]
    _check_tensor(q, f"{what}: q", 3)
    if canonicalize_dtype(q.dtype) != spec.dtype:
        raise ValueError(f"{what}: q is {q.dtype}, planned "
                         f"{_torch_dtype(spec.dtype)}")
    shape = (b, spec.num_qo_heads, spec.vo_dim)
    out = _out(out, shape, q.dtype, q.device, f"{what}: out")
    if return_lse or lse is not None:
        lse = _out(lse, shape[:2], torch.float32, q.device, f"{what}: lse")
    values = _scaled(values, _fold(q_scale, k_scale))
    out, lse = self._impl.run(q, paged_kv_cache, out=out, lse=lse,
                              variant_values=values, sinks=sinks)
    _scale_out(out, v_scale)
    return (out, lse) if return_lse else out


def _traced_run(self, q, kv, k_scale, v_scale, out, lse, return_lse, rows,
                values=None, sinks=None):
    """run() while torch.compile traces: outputs allocated in the graph,
    the launch (with every check) in the wrapper_run custom op."""
    from ._tables import split_paged_cache
    torch = _torch()
    if values is not None and values is not self._planned["values"]:
        raise NotImplementedError(f"{type(self).__name__}.run: a window_left "
                                  "override under torch.compile (plan with "
                                  "it)")
    k, v = (kv if isinstance(kv, (tuple, list)) else
            split_paged_cache(kv, f"{type(self).__name__}.run"))
    shape = (rows, self._planned["heads"], self._planned["vo_dim"])
    if out is None:
        out = torch.empty(shape, dtype=q.dtype, device=q.device)
    if lse is None:
        lse = torch.empty(shape[:2], dtype=torch.float32, device=q.device)
    torch.ops.flashinfer_mlir.wrapper_run(self._handle, q, k, v, out, lse,
                                          k_scale, v_scale, sinks)
    return (out, lse) if return_lse else out


def run_eager(self, q, kv, k_scale, v_scale, out, lse, sinks=None):
    """The wrapper_run op's implementation: the eager run() into out and
    lse."""
    if isinstance(self._impl, PagedDecode):
        decode_run(self, q, kv, None, k_scale, v_scale, out, lse, True, None,
                   sinks)
    else:
        prefill_run(self, q, kv, k_scale, v_scale, out, lse, True, None,
                    sinks)


def check_forward_variant(self, pos_encoding_mode, window_left,
                          logits_soft_cap, sm_scale, rope_scale=None,
                          rope_theta=None):
    what = f"{type(self).__name__}.forward"
    pos = check_pos_encoding_mode(pos_encoding_mode, what)
    if self._planned is None:
        raise RuntimeError(f"{what}: call begin_forward() first")
    _, asked = _variant(self._spec.head_dim, window_left, logits_soft_cap,
                        sm_scale, pos, rope_scale, rope_theta)
    if pos != self._spec.pos_encoding or asked != self._planned["values"]:
        raise ValueError(f"{what}: the variant (pos_encoding_mode, "
                         "window_left, logits_soft_cap, sm_scale, rope_scale, "
                         "rope_theta) must be the planned one")


def prefill_plan(self, kind, qo_indptr, kv_indptr, kv_indices,
                 kv_last_page_len, num_qo_heads, num_kv_heads, head_dim_qk,
                 page_size, head_dim_vo, custom_mask, packed_custom_mask,
                 causal, pos_encoding_mode, sm_scale, window_left,
                 logits_soft_cap, q_data_type, kv_data_type, o_data_type,
                 fixed_split_size, disable_split_kv, sinks=None,
                 rope_scale=None, rope_theta=None):
    torch = _torch()
    what = f"{type(self).__name__}.plan"
    if sinks is None:
        sinks = self._spec is not None and self._spec.sinks
    self._replan = lambda with_sinks: prefill_plan(
        self, kind, qo_indptr, kv_indptr, kv_indices, kv_last_page_len,
        num_qo_heads, num_kv_heads, head_dim_qk, page_size, head_dim_vo,
        custom_mask, packed_custom_mask, causal, pos_encoding_mode, sm_scale,
        window_left, logits_soft_cap, q_data_type, kv_data_type, o_data_type,
        fixed_split_size, disable_split_kv, with_sinks, rope_scale,
        rope_theta)
    has_mask = custom_mask is not None or packed_custom_mask is not None
    # As FlashInfer's: a custom mask replaces the causal one.
    spec, values = _spec_for_plan(
        kind, what, num_qo_heads, num_kv_heads, head_dim_qk, head_dim_vo,
        self._kv_layout, pos_encoding_mode, window_left, logits_soft_cap,
        q_data_type, kv_data_type, o_data_type, sm_scale,
        causal and not has_mask, sinks, rope_scale, rope_theta)
    if has_mask:
        spec = spec.replace(custom_mask=True)
    qo_host = qo_indptr.to("cpu") if isinstance(qo_indptr, torch.Tensor) \
        else torch.tensor(list(qo_indptr))
    if qo_host.dim() != 1 or qo_host.numel() < 1:
        raise ValueError(f"{what}: qo_indptr must be 1-D with batch_size + 1 "
                         f"entries")
    batch = qo_host.numel() - 1
    tokens = int(qo_host[-1]) if batch >= 0 else 0
    pages = 0
    if kv_indices is not None:
        pages = kv_indices.numel() if hasattr(kv_indices, "numel") else \
            len(kv_indices)
    max_batch = _capacity(self, "qo_indptr_buf", batch + 1) - 1
    max_pages = _capacity(self, "paged_kv_indices_buf", pages)
    # Under CUDA graphs the token capacity is what q can hold: FlashInfer
    # sizes it by the batch's, so grow generously but keep it fixed.
    max_tokens = tokens
    impl = self._impl
    if (impl is None or self._spec != spec or impl.max_batch_size < max_batch
            or impl.max_num_tokens < max_tokens or
            (kind == "batch_prefill" and
             impl.kv_indices.numel() < max_pages)):
        if self._use_cuda_graph and impl is not None:
            raise ValueError(f"{what}: under use_cuda_graph the kernel and "
                             "the buffers are fixed by the first plan(); "
                             "this plan needs others (a new variant, a "
                             "larger batch or more query tokens)")
        if impl is not None and self._spec == spec:
            max_batch = max(max_batch, 2 * impl.max_batch_size)
            max_tokens = max(max_tokens, 2 * impl.max_num_tokens)
            if kind == "batch_prefill":
                max_pages = max(max_pages, 2 * impl.kv_indices.numel())
        impl = BatchPrefill(_module(spec, self.device),
                            max_batch_size=max_batch,
                            max_num_tokens=max_tokens,
                            max_num_pages=max_pages if kind == "batch_prefill"
                            else 0, device=self.device)
    # The mask is checked before the tables change.
    mask = None
    if has_mask:
        mask = _batch_mask(self, custom_mask, packed_custom_mask, qo_host,
                           kv_indptr, kv_last_page_len, page_size, kind, what)
    if kind == "batch_prefill":
        impl.plan(qo_indptr, kv_indptr, kv_indices, kv_last_page_len,
                  page_size=int(page_size))
    else:
        impl.plan(qo_indptr, kv_indptr)
    self._impl, self._spec = impl, spec
    self._planned = dict(values=values, batch_size=batch, tokens=tokens,
                         heads=spec.num_qo_heads, vo_dim=spec.vo_dim,
                         custom_mask=mask)


def prefill_run(self, q, kv, k_scale, v_scale, out, lse, return_lse,
                window_left, sinks=None, extra=None):
    torch = _torch()
    what = f"{type(self).__name__}.run"
    if self._impl is None:
        raise RuntimeError(f"{what}: call plan() first")
    _unsupported(what, **(extra or {}))
    _match_sinks(self, sinks, what)
    values = _run_values(self, window_left, what)
    if _compiling():
        return _traced_run(self, q, kv, k_scale, v_scale, out, lse,
                           return_lse, q.shape[0], values, sinks)
    spec = self._spec
    _check_tensor(q, f"{what}: q", 3)
    if canonicalize_dtype(q.dtype) != spec.dtype:
        raise ValueError(f"{what}: q is {q.dtype}, planned "
                         f"{_torch_dtype(spec.dtype)}")
    shape = (q.shape[0], spec.num_qo_heads, spec.vo_dim)
    out = _out(out, shape, q.dtype, q.device, f"{what}: out")
    if return_lse or lse is not None:
        lse = _out(lse, shape[:2], torch.float32, q.device, f"{what}: lse")
    values = _scaled(values, k_scale)
    out, lse = self._impl.run(q, kv, out=out, lse=lse, variant_values=values,
                              sinks=sinks,
                              custom_mask=self._planned["custom_mask"])
    _scale_out(out, v_scale)
    return (out, lse) if return_lse else out


# -- merges and the cache -----------------------------------------------------

def _state_args(v, s, what):
    torch = _torch()
    _check_tensor(v, f"{what}: v", 3)
    _check_tensor(s, f"{what}: s", 2)
    if s.dtype != torch.float32:
        raise ValueError(f"{what}: s must be float32, got {s.dtype}")
    if tuple(s.shape) != tuple(v.shape[:2]):
        raise ValueError(f"{what}: s must be [seq_len, num_heads] = "
                         f"{tuple(v.shape[:2])}, got {tuple(s.shape)}")


def merge_state(v_a, s_a, v_b, s_b):
    torch = _torch()
    if _compiling():
        return torch.ops.flashinfer_mlir.merge_state(v_a, s_a, v_b, s_b)
    what = "merge_state"
    _state_args(v_a, s_a, what)
    _state_args(v_b, s_b, what)
    if v_a.shape != v_b.shape or v_a.dtype != v_b.dtype:
        raise ValueError(f"{what}: v_a and v_b must match, got "
                         f"{tuple(v_a.shape)} {v_a.dtype} and "
                         f"{tuple(v_b.shape)} {v_b.dtype}")
    seq, h, d = v_a.shape
    spec = KernelSpec("merge", _dtype(v_a.dtype, what), d, h, num_states=2)
    v = torch.empty_like(v_a, memory_format=torch.contiguous_format)
    s = torch.empty((seq, h), dtype=torch.float32, device=v_a.device)
    launcher(spec, v_a.device)(v0=v_a, v1=v_b, lse0=s_a, lse1=s_b, o=v,
                               lse=s)
    return v, s


def merge_state_in_place(v, s, v_other, s_other, mask=None):
    torch = _torch()
    if _compiling():
        torch.ops.flashinfer_mlir.merge_state_in_place(v, s, v_other, s_other,
                                                       mask)
        return
    merged, lse = merge_state(v, s, v_other, s_other)
    if mask is None:
        v.copy_(merged)
        s.copy_(lse)
        return
    if mask.dim() != 1 or mask.shape[0] != v.shape[0]:
        raise ValueError(f"merge_state_in_place: mask must be [seq_len = "
                         f"{v.shape[0]}], got {tuple(mask.shape)}")
    keep = mask.to(device=v.device, dtype=torch.bool)
    v.copy_(torch.where(keep[:, None, None], merged, v))
    s.copy_(torch.where(keep[:, None], lse, s))


def merge_states(v, s):
    torch = _torch()
    if _compiling():
        return torch.ops.flashinfer_mlir.merge_states(v, s)
    what = "merge_states"
    _check_tensor(v, f"{what}: v", 4)
    _check_tensor(s, f"{what}: s", 3)
    if tuple(s.shape) != tuple(v.shape[:3]) or s.dtype != torch.float32:
        raise ValueError(f"{what}: s must be float32 [seq_len, num_states, "
                         f"num_heads] = {tuple(v.shape[:3])}, got "
                         f"{tuple(s.shape)} {s.dtype}")
    seq, n, h, d = v.shape
    spec = KernelSpec("merge_segmented", _dtype(v.dtype, what), d, h,
                      dtype_o=_dtype(v.dtype, what))
    o = torch.empty((seq, h, d), dtype=v.dtype, device=v.device)
    lse = torch.empty((seq, h), dtype=torch.float32, device=v.device)
    if seq == 0:
        return o, lse
    indptr = torch.arange(0, (seq + 1) * n, n, dtype=torch.int32,
                          device=v.device)
    launcher(spec, v.device)(v0=v.reshape(seq * n, h, d),
                             lse0=s.reshape(seq * n, h), indptr=indptr, o=o,
                             lse=lse)
    return o, lse


def append_paged_kv_cache(append_key, append_value, batch_indices, positions,
                          paged_kv_cache, kv_indices, kv_indptr,
                          kv_last_page_len, kv_layout):
    from ._tables import split_paged_cache
    what = "append_paged_kv_cache"
    layout = check_kv_layout(kv_layout)
    if _compiling():
        k_cache, v_cache = split_paged_cache(paged_kv_cache, what)
        _torch().ops.flashinfer_mlir.append_paged_kv_cache(
            append_key, append_value, batch_indices, positions, k_cache,
            v_cache, kv_indices, kv_indptr, kv_last_page_len, kv_layout)
        return
    _check_tensor(append_key, f"{what}: append_key", 3)
    _check_tensor(append_value, f"{what}: append_value", 3)
    k_cache, v_cache = split_paged_cache(paged_kv_cache, what)
    if k_cache.dim() != 4:
        raise ValueError(f"{what}: a paged cache half must be 4-D, got "
                         f"{tuple(k_cache.shape)}")
    _, hkv, d = append_key.shape
    spec = KernelSpec("append", _dtype(append_key.dtype, what, kv=True), d,
                      num_kv_heads=hkv, kv_layout=layout)
    key = (spec.name, append_key.device.index)
    op = _appenders.get(key)
    if op is None:
        op = _appenders[key] = AppendPagedKV(_module(spec,
                                                     append_key.device))
    op(append_key, append_value, batch_indices, positions,
       (k_cache, v_cache), kv_indices, kv_indptr)


_appenders = {}


# -- RoPE ---------------------------------------------------------------------

def _index_tensor(x, what: str, n: Optional[int], device,
                  keep_int64: bool = False):
    """A 1-D integer tensor on `device` as int32 ([n] when n is given), or
    as it is with `keep_int64`."""
    torch = _torch()
    _check_tensor(x, what, 1)
    if x.dtype not in (torch.int32, torch.int64):
        raise ValueError(f"{what} must be int32 or int64, got {x.dtype}")
    if n is not None and x.shape[0] != n:
        raise ValueError(f"{what} must have {n} entries, got {x.shape[0]}")
    if x.device != device:
        raise ValueError(f"{what} must be on {device}, got {x.device}")
    return x if keep_int64 else x.to(torch.int32)


def rope(q, k, q_out, k_out, pos_ids=None, indptr=None, offsets=None,
         cos_sin_cache=None, rotary_dim=None, interleave=False, rope_scale=1.0,
         rope_theta=1e4, llama31=None, what="apply_rope"):
    """Rotates q [nnz, Hq, D] into q_out and k [nnz, Hkv, D] into k_out
    (each may be its input: in place) with attn.rope: positions from pos_ids
    or a ragged batch's indptr + offsets, angles from (rope_scale,
    rope_theta[, llama31 = (low, high, old_context_len)]) or from a
    cos_sin_cache [max_position, rotary_dim] f32."""
    torch = _torch()
    _check_tensor(q, f"{what}: q", 3)
    _check_tensor(k, f"{what}: k", 3)
    if q.dtype != k.dtype:
        raise ValueError(f"{what}: q and k must share a dtype, got {q.dtype} "
                         f"and {k.dtype}")
    t = _dtype(q.dtype, what)
    nnz, hq, d = q.shape
    if k.shape[0] != nnz or k.shape[2] != d:
        raise ValueError(f"{what}: k must be [nnz = {nnz}, num_kv_heads, "
                         f"head_dim = {d}], got {tuple(k.shape)}")
    if k.device != q.device:
        raise ValueError(f"{what}: q and k must be on one device, got "
                         f"{q.device} and {k.device}")
    for name, x in (("q", q), ("k", k)):
        if x.shape[-1] > 1 and x.stride(-1) != 1:
            raise ValueError(f"{what}: {name}'s head dim must be contiguous "
                             f"(stride 1), got strides {tuple(x.stride())}")
    rd = d if rotary_dim is None else int(rotary_dim)
    if rd <= 0 or rd % 2 or rd > d:
        raise ValueError(f"{what}: rotary_dim must be even, positive and at "
                         f"most head_dim ({d}), got {rd}")
    device = q.device
    args = {}
    # The cos/sin cache kernels (vLLM's path) read int64 positions as they
    # are; the others take int32.
    pos_dtype = "i32"
    if pos_ids is not None:
        args["pos_ids"] = _index_tensor(
            pos_ids, f"{what}: pos_ids", nnz, device,
            keep_int64=cos_sin_cache is not None)
        if args["pos_ids"].dtype == torch.int64:
            pos_dtype = "i64"
    else:
        ip = _index_tensor(indptr, f"{what}: indptr", None, device)
        if ip.shape[0] < 1:
            raise ValueError(f"{what}: indptr must have batch_size + 1 "
                             "entries, got none")
        args["indptr"] = ip
        args["offsets"] = _index_tensor(offsets, f"{what}: offsets",
                                        ip.shape[0] - 1, device)
    if cos_sin_cache is not None:
        _check_tensor(cos_sin_cache, f"{what}: cos_sin_cache", 2)
        if cos_sin_cache.dtype != torch.float32:
            raise ValueError(f"{what}: cos_sin_cache must be float32, got "
                             f"{cos_sin_cache.dtype}")
        if cos_sin_cache.shape[1] != rd:
            raise ValueError(f"{what}: cos_sin_cache must be [max_position, "
                             f"rotary_dim = {rd}], got "
                             f"{tuple(cos_sin_cache.shape)}")
        args["cos_sin_cache"] = cos_sin_cache.contiguous()
    else:
        scale, theta = float(rope_scale), float(rope_theta)
        if not (scale > 0 and theta > 0 and math.isfinite(scale) and
                math.isfinite(theta)):
            raise ValueError(f"{what}: rope_scale and rope_theta must be "
                             f"finite and > 0, got {scale} and {theta}")
        args["rope_scale"], args["rope_theta"] = scale, theta
    llama31 = None if llama31 is None else tuple(float(x) for x in llama31)
    # The kernel of these fields, looked up once (the per-call cost matters
    # at decode sizes).
    key = (t, d, hq, k.shape[1], rd, bool(interleave), pos_ids is not None,
           pos_dtype, llama31, cos_sin_cache is not None, device)
    launch = _rope_launchers.get(key)
    if launch is None:
        low, high, context = llama31 or (0.0, 0.0, 0.0)
        spec = KernelSpec("rope", t, d, hq, k.shape[1],
                          rotary_dim=0 if rd == d else rd,
                          interleave=bool(interleave),
                          rope_positions="pos_ids" if pos_ids is not None
                          else "indptr",
                          low_freq_factor=low, high_freq_factor=high,
                          old_context_len=context,
                          cos_sin_cache=cos_sin_cache is not None,
                          rope_pos_dtype=pos_dtype)
        launch = _rope_launchers[key] = launcher(spec, device)
    for name, out, src in (("q_out", q_out, q), ("k_out", k_out, k)):
        if out.shape != src.shape or out.dtype != src.dtype:
            raise ValueError(f"{what}: {name} must be {tuple(src.shape)} "
                             f"{src.dtype}, got {tuple(out.shape)} "
                             f"{out.dtype}")
    if nnz == 0:
        return
    launch(input=q, input_1=k, output=q_out, output_1=k_out, **args)


_rope_launchers = {}
