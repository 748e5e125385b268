"""Cascade attention (FlashInfer's `flashinfer.cascade`): attention states
merged by their base-2 log-sum-exp on the GPU (attn.merge_states), and the
wrappers that attend a shared prefix and per-request suffixes separately
and merge the two states.

    v, s = merge_state(v_a, s_a, v_b, s_b)      # [seq, heads, dim], [seq, heads]
    merge_state_in_place(v, s, v_other, s_other, mask=None)
    v, s = merge_states(v_all, s_all)           # [seq, states, heads, dim]
"""

from typing import List, Optional

from .decode import BatchDecodeWithPagedKVCacheWrapper
from .prefill import (BatchPrefillWithPagedKVCacheWrapper,
                      single_prefill_with_kv_cache)

__all__ = ["BatchDecodeWithSharedPrefixPagedKVCacheWrapper",
           "BatchPrefillWithSharedPrefixPagedKVCacheWrapper",
           "MultiLevelCascadeAttentionWrapper", "merge_state",
           "merge_state_in_place", "merge_states"]


def _fi():
    from . import _api
    return _api


def merge_state(v_a, s_a, v_b, s_b):
    """Merges two attention states: (v, s) with s = log2(2^s_a + 2^s_b) and
    v the lse-weighted mix of v_a and v_b."""
    return _fi().merge_state(v_a, s_a, v_b, s_b)


def merge_state_in_place(v, s, v_other, s_other, mask=None):
    """Merges (v_other, s_other) into (v, s) in place; rows whose `mask`
    entry is False keep their values."""
    _fi().merge_state_in_place(v, s, v_other, s_other, mask)


def merge_states(v, s):
    """Merges the states along dim 1: v [seq, num_states, heads, dim], s
    [seq, num_states, heads] -> ([seq, heads, dim], [seq, heads])."""
    return _fi().merge_states(v, s)


def _with_shared_prefix(q, k_shared, v_shared, kv_layout, sm_scale, unique):
    """Every query's attention over the shared prefix (all of k_shared /
    v_shared), merged with `unique`, the (o, lse) of its own keys."""
    v, s = single_prefill_with_kv_cache(
        q, k_shared, v_shared, causal=False, kv_layout=kv_layout,
        sm_scale=sm_scale, return_lse=True)
    merge_state_in_place(v, s, *unique)
    return v


class MultiLevelCascadeAttentionWrapper:
    """Attention over `num_levels` page tables per request (level 0 the most
    shared prefix, the last each request's own tokens), each level a batch
    prefill with lse, merged level by level."""

    def __init__(self, num_levels: int, float_workspace_buffer,
                 kv_layout: str = "NHD", use_cuda_graph: bool = False,
                 qo_indptr_buf_arr: Optional[List] = None,
                 paged_kv_indptr_buf_arr: Optional[List] = None,
                 paged_kv_indices_buf_arr: Optional[List] = None,
                 paged_kv_last_page_len_buf_arr: Optional[List] = None):
        if num_levels < 1:
            raise ValueError(f"MultiLevelCascadeAttentionWrapper: num_levels "
                             f"must be >= 1, got {num_levels}")

        def buf(arr, i):
            return None if arr is None else arr[i]
        self._kv_layout = kv_layout
        self._batch_prefill_wrappers = [
            BatchPrefillWithPagedKVCacheWrapper(
                float_workspace_buffer, kv_layout, use_cuda_graph,
                qo_indptr_buf=buf(qo_indptr_buf_arr, i),
                paged_kv_indptr_buf=buf(paged_kv_indptr_buf_arr, i),
                paged_kv_indices_buf=buf(paged_kv_indices_buf_arr, i),
                paged_kv_last_page_len_buf=buf(
                    paged_kv_last_page_len_buf_arr, i))
            for i in range(num_levels)]

    @property
    def is_cuda_graph_enabled(self) -> bool:
        return self._batch_prefill_wrappers[0].is_cuda_graph_enabled

    def reset_workspace_buffer(self, float_workspace_buffer,
                               int_workspace_buffers=None):
        for w in self._batch_prefill_wrappers:
            w.reset_workspace_buffer(float_workspace_buffer)

    def plan(self, qo_indptr_arr, paged_kv_indptr_arr, paged_kv_indices_arr,
             paged_kv_last_page_len, num_qo_heads: int, num_kv_heads: int,
             head_dim: int, page_size: int, causal: bool = False,
             pos_encoding_mode: str = "NONE",
             use_fp16_qk_reduction: bool = False,
             sm_scale: Optional[float] = None, window_left: int = -1,
             logits_soft_cap: Optional[float] = None,
             rope_scale: Optional[float] = None,
             rope_theta: Optional[float] = None, q_data_type="float16",
             kv_data_type=None):
        """One table per level (lists of num_levels tensors; the last-page
        lengths a list as well). Only the last level is causal: the shared
        levels precede every query."""
        n = len(self._batch_prefill_wrappers)
        if pos_encoding_mode == "ROPE_LLAMA":
            # Each level's kernels would place the queries at the end of
            # that level's keys alone, not of the whole sequence.
            raise NotImplementedError(
                "MultiLevelCascadeAttentionWrapper.plan: pos_encoding_mode="
                "'ROPE_LLAMA' has no cascade kernel (a level's positions "
                "would not count the other levels' keys); apply RoPE to q "
                "and k first (flashinfer_mlir.rope)")
        for name, arr in (("qo_indptr_arr", qo_indptr_arr),
                          ("paged_kv_indptr_arr", paged_kv_indptr_arr),
                          ("paged_kv_indices_arr", paged_kv_indices_arr),
                          ("paged_kv_last_page_len", paged_kv_last_page_len)):
            if len(arr) != n:
                raise ValueError(f"MultiLevelCascadeAttentionWrapper.plan: "
                                 f"{name} has {len(arr)} levels, expected {n}")
        for i, w in enumerate(self._batch_prefill_wrappers):
            w.plan(qo_indptr_arr[i], paged_kv_indptr_arr[i],
                   paged_kv_indices_arr[i], paged_kv_last_page_len[i],
                   num_qo_heads, num_kv_heads, head_dim, page_size,
                   causal=causal if i == n - 1 else False,
                   pos_encoding_mode=pos_encoding_mode, sm_scale=sm_scale,
                   window_left=window_left, logits_soft_cap=logits_soft_cap,
                   rope_scale=rope_scale, rope_theta=rope_theta,
                   q_data_type=q_data_type, kv_data_type=kv_data_type)

    begin_forward = plan

    def run(self, q, paged_kv_cache):
        """o [tokens, num_qo_heads, head_dim]."""
        out, lse = self._batch_prefill_wrappers[-1].run(q, paged_kv_cache,
                                                        return_lse=True)
        for w in self._batch_prefill_wrappers[:-1]:
            o_i, lse_i = w.run(q, paged_kv_cache, return_lse=True)
            merge_state_in_place(out, lse, o_i, lse_i)
        return out

    forward = run

    def end_forward(self):
        pass


class BatchDecodeWithSharedPrefixPagedKVCacheWrapper:
    """Decode over a prefix shared by the whole batch (contiguous k_shared,
    v_shared) plus each request's own pages, merged (the older cascade
    API)."""

    def __init__(self, float_workspace_buffer, kv_layout: str = "NHD"):
        self._kv_layout = kv_layout
        self._batch_decode_wrapper = BatchDecodeWithPagedKVCacheWrapper(
            float_workspace_buffer, kv_layout)

    def reset_workspace_buffer(self, float_workspace_buffer,
                               int_workspace_buffer=None):
        self._batch_decode_wrapper.reset_workspace_buffer(
            float_workspace_buffer)

    def begin_forward(self, unique_kv_indptr, unique_kv_indices,
                      unique_kv_last_page_len, num_qo_heads: int,
                      num_kv_heads: int, head_dim: int, page_size: int,
                      data_type="float16"):
        self._batch_decode_wrapper.plan(
            unique_kv_indptr, unique_kv_indices, unique_kv_last_page_len,
            num_qo_heads, num_kv_heads, head_dim, page_size,
            q_data_type=data_type, kv_data_type=data_type)

    def forward(self, q, k_shared, v_shared, unique_kv_cache):
        """q [batch, num_qo_heads, head_dim]; every query attends all of
        k_shared/v_shared, then its own pages."""
        return _with_shared_prefix(
            q, k_shared, v_shared, self._kv_layout, None,
            self._batch_decode_wrapper.run(q, unique_kv_cache,
                                           return_lse=True))

    def end_forward(self):
        pass


class BatchPrefillWithSharedPrefixPagedKVCacheWrapper:
    """Prefill over a shared prefix (contiguous) plus each request's own
    pages (causal within them), merged (the older cascade API)."""

    def __init__(self, float_workspace_buffer, kv_layout: str = "NHD"):
        self._kv_layout = kv_layout
        self._batch_prefill_wrapper = BatchPrefillWithPagedKVCacheWrapper(
            float_workspace_buffer, kv_layout)
        self._plan_args = None

    def reset_workspace_buffer(self, float_workspace_buffer,
                               int_workspace_buffer=None):
        self._batch_prefill_wrapper.reset_workspace_buffer(
            float_workspace_buffer)

    def begin_forward(self, qo_indptr, paged_kv_indptr, paged_kv_indices,
                      paged_kv_last_page_len, num_qo_heads: int,
                      num_kv_heads: int, head_dim: int, page_size: int):
        # The variant (causal, sm_scale) arrives with forward(): plan then.
        self._plan_args = (qo_indptr, paged_kv_indptr, paged_kv_indices,
                           paged_kv_last_page_len, num_qo_heads,
                           num_kv_heads, head_dim, page_size)

    def forward(self, q, k_shared, v_shared, unique_kv_cache,
                causal: bool = False, use_fp16_qk_reduction: bool = False,
                sm_scale: Optional[float] = None,
                rope_scale: Optional[float] = None,
                rope_theta: Optional[float] = None):
        if self._plan_args is None:
            raise RuntimeError("BatchPrefillWithSharedPrefixPagedKVCache"
                               "Wrapper.forward: call begin_forward() first")
        self._batch_prefill_wrapper.plan(
            *self._plan_args, causal=causal, sm_scale=sm_scale,
            q_data_type=q.dtype)
        return _with_shared_prefix(
            q, k_shared, v_shared, self._kv_layout, sm_scale,
            self._batch_prefill_wrapper.run(q, unique_kv_cache,
                                            return_lse=True))

    def end_forward(self):
        pass
