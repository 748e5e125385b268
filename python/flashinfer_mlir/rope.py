"""Rotary position embedding (FlashInfer's `flashinfer.rope`), on the GPU
through attn.rope.

Each call rotates q [nnz, num_q_heads, head_dim] and k [nnz, num_k_heads,
head_dim] in one launch sequence (one kernel for each): the first
`rotary_dim` features (default all) as rotate-half pairs (i, i + rotary_dim
/ 2), or with `interleave` as GPT-J's pairs (2i, 2i + 1), by the angle
pos * f_i, f_i = rope_theta^(-2i / rotary_dim) / rope_scale (Llama 3.1's
rescaled frequency for the apply_llama31_rope* forms). A token's position is
pos_ids[t], or for a ragged batch (indptr [batch + 1], offsets [batch])
offsets[b] + t - indptr[b]. rope_scale and rope_theta are kernel arguments,
so every value runs on the same kernel. q and k may be strided views (the
head dim contiguous); the *_inplace forms write into them.

A token whose position cannot be found (outside indptr's rows, or a row
outside cos_sin_cache) is not written.
"""

from typing import Optional

__all__ = ["apply_llama31_rope", "apply_llama31_rope_inplace",
           "apply_llama31_rope_pos_ids", "apply_llama31_rope_pos_ids_inplace",
           "apply_rope", "apply_rope_inplace", "apply_rope_pos_ids",
           "apply_rope_pos_ids_inplace", "apply_rope_with_cos_sin_cache",
           "apply_rope_with_cos_sin_cache_inplace"]


def _rope(q, k, inplace: bool, what: str, **fields):
    """Out of place: returns (q_rope, k_rope), fresh contiguous tensors."""
    import torch

    from . import _api
    if inplace:
        if _api._compiling():
            torch.ops.flashinfer_mlir.rope_inplace(
                q, k, fields.get("pos_ids"), fields.get("indptr"),
                fields.get("offsets"), fields.get("cos_sin_cache"),
                fields.get("rotary_dim"), fields.get("interleave", False),
                fields.get("rope_scale", 1.0), fields.get("rope_theta", 1e4),
                fields.get("llama31"))
            return None
        _api.rope(q, k, q, k, what=what, **fields)
        return None
    q_out = torch.empty(q.shape, dtype=q.dtype, device=q.device)
    k_out = torch.empty(k.shape, dtype=k.dtype, device=k.device)
    if _api._compiling():
        torch.ops.flashinfer_mlir.rope(
            q, k, q_out, k_out, fields.get("pos_ids"), fields.get("indptr"),
            fields.get("offsets"), fields.get("cos_sin_cache"),
            fields.get("rotary_dim"), fields.get("interleave", False),
            fields.get("rope_scale", 1.0), fields.get("rope_theta", 1e4),
            fields.get("llama31"))
    else:
        _api.rope(q, k, q_out, k_out, what=what, **fields)
    return q_out, k_out


def _llama31(low_freq_factor, high_freq_factor, old_context_len):
    return [float(low_freq_factor), float(high_freq_factor),
            float(old_context_len)]


def apply_rope(q, k, indptr, offsets, rotary_dim: Optional[int] = None,
               interleave: bool = False, rope_scale: float = 1,
               rope_theta: float = 1e4):
    return _rope(q, k, False, "apply_rope", indptr=indptr, offsets=offsets,
                 rotary_dim=rotary_dim, interleave=interleave,
                 rope_scale=rope_scale, rope_theta=rope_theta)


def apply_rope_inplace(q, k, indptr, offsets, rotary_dim: Optional[int] = None,
                       interleave: bool = False, rope_scale: float = 1,
                       rope_theta: float = 1e4):
    _rope(q, k, True, "apply_rope_inplace", indptr=indptr, offsets=offsets,
          rotary_dim=rotary_dim, interleave=interleave, rope_scale=rope_scale,
          rope_theta=rope_theta)


def apply_rope_pos_ids(q, k, pos_ids, rotary_dim: Optional[int] = None,
                       interleave: bool = False, rope_scale: float = 1,
                       rope_theta: float = 1e4):
    return _rope(q, k, False, "apply_rope_pos_ids", pos_ids=pos_ids,
                 rotary_dim=rotary_dim, interleave=interleave,
                 rope_scale=rope_scale, rope_theta=rope_theta)


def apply_rope_pos_ids_inplace(q, k, pos_ids, rotary_dim: Optional[int] = None,
                               interleave: bool = False, rope_scale: float = 1,
                               rope_theta: float = 1e4):
    _rope(q, k, True, "apply_rope_pos_ids_inplace", pos_ids=pos_ids,
          rotary_dim=rotary_dim, interleave=interleave, rope_scale=rope_scale,
          rope_theta=rope_theta)


def apply_llama31_rope(q, k, indptr, offsets,
                       rotary_dim: Optional[int] = None,
                       interleave: bool = False, rope_scale: float = 8,
                       rope_theta: float = 5e5, low_freq_factor: float = 1,
                       high_freq_factor: float = 4,
                       old_context_len: int = 8192):
    return _rope(q, k, False, "apply_llama31_rope", indptr=indptr,
                 offsets=offsets, rotary_dim=rotary_dim,
                 interleave=interleave, rope_scale=rope_scale,
                 rope_theta=rope_theta,
                 llama31=_llama31(low_freq_factor, high_freq_factor,
                                  old_context_len))


def apply_llama31_rope_inplace(q, k, indptr, offsets,
                               rotary_dim: Optional[int] = None,
                               interleave: bool = False,
                               rope_scale: float = 8, rope_theta: float = 5e5,
                               low_freq_factor: float = 1,
                               high_freq_factor: float = 4,
                               old_context_len: int = 8192):
    _rope(q, k, True, "apply_llama31_rope_inplace", indptr=indptr,
          offsets=offsets, rotary_dim=rotary_dim, interleave=interleave,
          rope_scale=rope_scale, rope_theta=rope_theta,
          llama31=_llama31(low_freq_factor, high_freq_factor,
                           old_context_len))


def apply_llama31_rope_pos_ids(q, k, pos_ids, rotary_dim: Optional[int] = None,
                               interleave: bool = False,
                               rope_scale: float = 8, rope_theta: float = 5e5,
                               low_freq_factor: float = 1,
                               high_freq_factor: float = 4,
                               old_context_len: int = 8192):
    return _rope(q, k, False, "apply_llama31_rope_pos_ids", pos_ids=pos_ids,
                 rotary_dim=rotary_dim, interleave=interleave,
                 rope_scale=rope_scale, rope_theta=rope_theta,
                 llama31=_llama31(low_freq_factor, high_freq_factor,
                                  old_context_len))


def apply_llama31_rope_pos_ids_inplace(q, k, pos_ids,
                                       rotary_dim: Optional[int] = None,
                                       interleave: bool = False,
                                       rope_scale: float = 8,
                                       rope_theta: float = 5e5,
                                       low_freq_factor: float = 1,
                                       high_freq_factor: float = 4,
                                       old_context_len: int = 8192):
    _rope(q, k, True, "apply_llama31_rope_pos_ids_inplace", pos_ids=pos_ids,
          rotary_dim=rotary_dim, interleave=interleave, rope_scale=rope_scale,
          rope_theta=rope_theta,
          llama31=_llama31(low_freq_factor, high_freq_factor,
                           old_context_len))


def _heads(x, head_size: int, what: str):
    """query / key as [nnz, heads, head_size] views: FlashInfer passes them
    flattened ([nnz, heads * head_size]) or as [nnz, heads, head_size]."""
    if x.dim() == 3:
        if x.shape[2] != head_size:
            raise ValueError(f"{what}: head dim {x.shape[2]} is not "
                             f"head_size {head_size}")
        return x
    if x.dim() != 2 or x.shape[1] % head_size:
        raise ValueError(f"{what}: expected [nnz, num_heads * head_size "
                         f"({head_size})], got {tuple(x.shape)}")
    return x.view(x.shape[0], x.shape[1] // head_size, head_size)


def _cos_sin_cache(positions, query, key, head_size, cos_sin_cache, is_neox,
                   inplace: bool, what: str):
    head_size = int(head_size)
    if head_size <= 0:
        raise ValueError(f"{what}: head_size must be positive, got "
                         f"{head_size}")
    q = _heads(query, head_size, f"{what}: query")
    k = _heads(key, head_size, f"{what}: key")
    if cos_sin_cache.dim() != 2:
        raise ValueError(f"{what}: cos_sin_cache must be [max_position, "
                         f"rotary_dim], got {tuple(cos_sin_cache.shape)}")
    out = _rope(q, k, inplace, what, pos_ids=positions,
                cos_sin_cache=cos_sin_cache,
                rotary_dim=cos_sin_cache.shape[1], interleave=not is_neox)
    if inplace:
        return None
    return out[0].view(query.shape), out[1].view(key.shape)


def apply_rope_with_cos_sin_cache(positions, query, key, head_size: int,
                                  cos_sin_cache, is_neox: bool = True):
    """vLLM's RoPE: cos_sin_cache [max_position, rotary_dim] float32 holds
    each position's cos (first half) and sin (second half); is_neox picks
    rotate-half pairs, else GPT-J's interleaved pairs. Returns (query_out,
    key_out) shaped like query and key."""
    return _cos_sin_cache(positions, query, key, head_size, cos_sin_cache,
                          is_neox, False, "apply_rope_with_cos_sin_cache")


def apply_rope_with_cos_sin_cache_inplace(positions, query, key,
                                          head_size: int, cos_sin_cache,
                                          is_neox: bool = True):
    _cos_sin_cache(positions, query, key, head_size, cos_sin_cache, is_neox,
                   True, "apply_rope_with_cos_sin_cache_inplace")
