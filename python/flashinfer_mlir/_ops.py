"""The entry points as torch custom ops (torch.library), with fake
implementations, so that torch.compile(fullgraph=True) traces through them.

Eager calls go straight to _api (no dispatcher on the launch path); while
torch.compile traces, the public functions and wrappers' run() call these
ops instead, whose real implementations are the same _api functions. A
wrapper is passed to its op by a handle (an int registered at creation):
its plan lives in Python objects that the graph cannot hold.
"""

import itertools
import weakref
from typing import List, Optional, Tuple

import torch

from . import _api

_wrappers: "weakref.WeakValueDictionary[int, object]" = \
    weakref.WeakValueDictionary()
_next_handle = itertools.count(1)
Tensor = torch.Tensor


def compiling() -> bool:
    return torch.compiler.is_compiling()


def register(wrapper) -> int:
    handle = next(_next_handle)
    _wrappers[handle] = wrapper
    return handle


def _wrapper(handle: int):
    w = _wrappers.get(handle)
    if w is None:
        raise RuntimeError(f"flashinfer_mlir: wrapper {handle} is gone")
    return w


@torch.library.custom_op("flashinfer_mlir::single_decode", mutates_args=())
def single_decode(q: Tensor, k: Tensor, v: Tensor, kv_layout: str,
                  pos_encoding_mode: str, window_left: int,
                  logits_soft_cap: float, sm_scale: Optional[float],
                  k_scale: Optional[float], v_scale: Optional[float],
                  rope_scale: Optional[float],
                  rope_theta: Optional[float]) -> Tuple[Tensor, Tensor]:
    return _api.single_decode(q, k, v, kv_layout, pos_encoding_mode, None,
                              k_scale,
                              v_scale, window_left, logits_soft_cap,
                              sm_scale, True, rope_scale, rope_theta)


@single_decode.register_fake
def _(q, k, v, kv_layout, pos_encoding_mode, window_left, logits_soft_cap,
      sm_scale, k_scale, v_scale, rope_scale, rope_theta):
    return (q.new_empty((q.shape[0], v.shape[-1])),
            q.new_empty((q.shape[0],), dtype=torch.float32))


@torch.library.custom_op("flashinfer_mlir::single_prefill", mutates_args=())
def single_prefill(q: Tensor, k: Tensor, v: Tensor, causal: bool,
                   kv_layout: str, pos_encoding_mode: str,
                   sm_scale: Optional[float],
                   window_left: int, logits_soft_cap: float,
                   k_scale: Optional[float], v_scale: Optional[float],
                   rope_scale: Optional[float],
                   rope_theta: Optional[float]) -> Tuple[Tensor, Tensor]:
    return _api.single_prefill(q, k, v, None, None, causal, kv_layout,
                               pos_encoding_mode,
                               sm_scale, window_left, logits_soft_cap, True,
                               None, dict(k_scale=k_scale, v_scale=v_scale),
                               rope_scale, rope_theta)


@single_prefill.register_fake
def _(q, k, v, causal, kv_layout, pos_encoding_mode, sm_scale, window_left,
      logits_soft_cap, k_scale, v_scale, rope_scale, rope_theta):
    return (q.new_empty((q.shape[0], q.shape[1], v.shape[-1])),
            q.new_empty((q.shape[0], q.shape[1]), dtype=torch.float32))


@torch.library.custom_op("flashinfer_mlir::wrapper_run",
                         mutates_args=("out", "lse"))
def wrapper_run(handle: int, q: Tensor, k: Tensor, v: Tensor, out: Tensor,
                lse: Tensor, k_scale: Optional[float],
                v_scale: Optional[float], sinks: Optional[Tensor]) -> None:
    w = _wrapper(handle)
    _api.run_eager(w, q, (k, v), k_scale, v_scale, out, lse, sinks)


@wrapper_run.register_fake
def _(handle, q, k, v, out, lse, k_scale, v_scale, sinks):
    return None


@torch.library.custom_op("flashinfer_mlir::merge_state", mutates_args=())
def merge_state(v_a: Tensor, s_a: Tensor, v_b: Tensor,
                s_b: Tensor) -> Tuple[Tensor, Tensor]:
    return _api.merge_state(v_a, s_a, v_b, s_b)


@merge_state.register_fake
def _(v_a, s_a, v_b, s_b):
    return torch.empty_like(v_a), torch.empty_like(s_a)


@torch.library.custom_op("flashinfer_mlir::merge_state_in_place",
                         mutates_args=("v", "s"))
def merge_state_in_place(v: Tensor, s: Tensor, v_other: Tensor,
                         s_other: Tensor, mask: Optional[Tensor]) -> None:
    _api.merge_state_in_place(v, s, v_other, s_other, mask)


@merge_state_in_place.register_fake
def _(v, s, v_other, s_other, mask):
    return None


@torch.library.custom_op("flashinfer_mlir::merge_states", mutates_args=())
def merge_states(v: Tensor, s: Tensor) -> Tuple[Tensor, Tensor]:
    return _api.merge_states(v, s)


@merge_states.register_fake
def _(v, s):
    return (v.new_empty((v.shape[0], v.shape[2], v.shape[3])),
            s.new_empty((s.shape[0], s.shape[2])))


@torch.library.custom_op("flashinfer_mlir::append_paged_kv_cache",
                         mutates_args=("k_cache", "v_cache"))
def append_paged_kv_cache(append_key: Tensor, append_value: Tensor,
                          batch_indices: Tensor, positions: Tensor,
                          k_cache: Tensor, v_cache: Tensor,
                          kv_indices: Tensor, kv_indptr: Tensor,
                          kv_last_page_len: Tensor, kv_layout: str) -> None:
    _api.append_paged_kv_cache(append_key, append_value, batch_indices,
                               positions, (k_cache, v_cache), kv_indices,
                               kv_indptr, kv_last_page_len, kv_layout)


@append_paged_kv_cache.register_fake
def _(append_key, append_value, batch_indices, positions, k_cache, v_cache,
      kv_indices, kv_indptr, kv_last_page_len, kv_layout):
    return None


@torch.library.custom_op("flashinfer_mlir::rope",
                         mutates_args=("q_out", "k_out"))
def rope(q: Tensor, k: Tensor, q_out: Tensor, k_out: Tensor,
         pos_ids: Optional[Tensor], indptr: Optional[Tensor],
         offsets: Optional[Tensor], cos_sin_cache: Optional[Tensor],
         rotary_dim: Optional[int], interleave: bool, rope_scale: float,
         rope_theta: float, llama31: Optional[List[float]]) -> None:
    _api.rope(q, k, q_out, k_out, pos_ids, indptr, offsets, cos_sin_cache,
              rotary_dim, interleave, rope_scale, rope_theta, llama31)


@rope.register_fake
def _(q, k, q_out, k_out, pos_ids, indptr, offsets, cos_sin_cache, rotary_dim,
      interleave, rope_scale, rope_theta, llama31):
    return None


@torch.library.custom_op("flashinfer_mlir::rope_inplace",
                         mutates_args=("q", "k"))
def rope_inplace(q: Tensor, k: Tensor, pos_ids: Optional[Tensor],
                 indptr: Optional[Tensor], offsets: Optional[Tensor],
                 cos_sin_cache: Optional[Tensor], rotary_dim: Optional[int],
                 interleave: bool, rope_scale: float, rope_theta: float,
                 llama31: Optional[List[float]]) -> None:
    _api.rope(q, k, q, k, pos_ids, indptr, offsets, cos_sin_cache,
              rotary_dim, interleave, rope_scale, rope_theta, llama31)


@rope_inplace.register_fake
def _(q, k, pos_ids, indptr, offsets, cos_sin_cache, rotary_dim, interleave,
      rope_scale, rope_theta, llama31):
    return None
