"""Rotary position embedding (FlashInfer's `flashinfer.rope`).

The attn dialect has `attn.rope` (rotate-half and interleaved, position ids
or indptr + offsets), lowered to the CPU reference only: it has no GPU
kernel yet, so these entry points raise NotImplementedError saying so
rather than compute anything here.
"""

__all__ = ["apply_llama31_rope", "apply_llama31_rope_inplace",
           "apply_llama31_rope_pos_ids", "apply_llama31_rope_pos_ids_inplace",
           "apply_rope", "apply_rope_inplace", "apply_rope_pos_ids",
           "apply_rope_pos_ids_inplace", "apply_rope_with_cos_sin_cache",
           "apply_rope_with_cos_sin_cache_inplace"]


def _no_kernel(name: str):
    raise NotImplementedError(
        f"flashinfer_mlir.{name}: attn.rope has no GPU kernel yet (it lowers "
        "to the CPU reference only); apply RoPE with your framework before "
        "calling the attention entry points")


def apply_rope(q, k, indptr, offsets, rotary_dim=None, interleave=False,
               rope_scale=1, rope_theta=1e4):
    _no_kernel("apply_rope")


def apply_rope_inplace(q, k, indptr, offsets, rotary_dim=None,
                       interleave=False, rope_scale=1, rope_theta=1e4):
    _no_kernel("apply_rope_inplace")


def apply_rope_pos_ids(q, k, pos_ids, rotary_dim=None, interleave=False,
                       rope_scale=1, rope_theta=1e4):
    _no_kernel("apply_rope_pos_ids")


def apply_rope_pos_ids_inplace(q, k, pos_ids, rotary_dim=None,
                               interleave=False, rope_scale=1,
                               rope_theta=1e4):
    _no_kernel("apply_rope_pos_ids_inplace")


def apply_llama31_rope(q, k, indptr, offsets, rotary_dim=None,
                       interleave=False, rope_scale=8, rope_theta=5e5,
                       low_freq_factor=1, high_freq_factor=4,
                       old_context_len=8192):
    _no_kernel("apply_llama31_rope")


def apply_llama31_rope_inplace(q, k, indptr, offsets, rotary_dim=None,
                               interleave=False, rope_scale=8,
                               rope_theta=5e5, low_freq_factor=1,
                               high_freq_factor=4, old_context_len=8192):
    _no_kernel("apply_llama31_rope_inplace")


def apply_llama31_rope_pos_ids(q, k, pos_ids, rotary_dim=None,
                               interleave=False, rope_scale=8,
                               rope_theta=5e5, low_freq_factor=1,
                               high_freq_factor=4, old_context_len=8192):
    _no_kernel("apply_llama31_rope_pos_ids")


def apply_llama31_rope_pos_ids_inplace(q, k, pos_ids, rotary_dim=None,
                                       interleave=False, rope_scale=8,
                                       rope_theta=5e5, low_freq_factor=1,
                                       high_freq_factor=4,
                                       old_context_len=8192):
    _no_kernel("apply_llama31_rope_pos_ids_inplace")


def apply_rope_with_cos_sin_cache(positions, query, key, head_size,
                                  cos_sin_cache, is_neox=True):
    _no_kernel("apply_rope_with_cos_sin_cache")


def apply_rope_with_cos_sin_cache_inplace(positions, query, key, head_size,
                                          cos_sin_cache, is_neox=True):
    _no_kernel("apply_rope_with_cos_sin_cache_inplace")
