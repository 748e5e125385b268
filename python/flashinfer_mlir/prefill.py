"""Batch prefill over a paged or ragged KV cache: plan once, run many.

    from flashinfer_mlir.prefill import BatchPrefill
    pre = BatchPrefill(Module("paged_prefill_kernels.json"),
                       max_batch_size=16, max_num_tokens=32768,
                       max_num_pages=4096)
    pre.plan(qo_indptr, kv_indptr, kv_indices, kv_last_page_len)  # host sync
    out, lse = pre.run(q, (k_cache, v_cache))                     # one launch

The module holds a kernel compiled from `attn.paged_attention` with
`qo_indptr` (a paged cache) or `attn.attention` with `qo_indptr`/`kv_indptr`
(ragged K/V: plan(qo_indptr, kv_indptr), run(q, (k, v))). Request b owns q's
rows qo_indptr[b] .. qo_indptr[b + 1], aligned to the end of its keys
(bottom-right causal). plan() validates the tables and runs the runtime's
planner (fimlir_plan_paged_prefill / fimlir_plan_ragged_prefill), then copies
the tables and the schedule into buffers this object owns; run() only
launches, reading every planned value from them, so a run() captured in a
CUDA graph replays correctly after later plan() calls of the same batch size.
"""

from typing import Optional

from ._tables import (WrapperBase, check_page_size, host_int32,
                      launch_values, pick_kernel, resolve_page_size,
                      split_paged_cache, variant_tensors)
from .planner import (check_page_indices, plan_paged_prefill,
                      plan_ragged_prefill, prefill_schedule_rows)
from .runtime import Module

__all__ = ["BatchPrefill", "BatchPrefillWithPagedKVCacheWrapper",
           "BatchPrefillWithRaggedKVCacheWrapper",
           "single_prefill_with_kv_cache",
           "single_prefill_with_kv_cache_return_lse"]


def _torch():
    import torch
    return torch


class BatchPrefill:
    def __init__(self, module: Module, kernel: Optional[str] = None, *,
                 max_batch_size: int, max_num_tokens: int,
                 max_num_pages: int = 0, device=None):
        torch = _torch()
        self.kernel = pick_kernel(
            module, kernel,
            lambda p: p.get("schedule") == "request_q_tile", "BatchPrefill",
            "batch prefill")
        if max_batch_size < 0 or max_num_tokens < 0 or max_num_pages < 0:
            raise ValueError("BatchPrefill: max_batch_size, max_num_tokens "
                             "and max_num_pages must be >= 0")
        p = self.kernel.params
        self.params = p
        self.paged = p.get("kv_source") == "paged"
        self.page_size = p.get("page_size", -1)
        self.with_lse = "lse" in self.kernel.arg_names
        self.device = torch.device(device if device is not None else "cuda")
        self.max_batch_size = max_batch_size
        self.max_num_tokens = max_num_tokens
        rows = prefill_schedule_rows(p["block_m"], max_num_tokens,
                                     max_batch_size)
        i32, dev = torch.int32, self.device
        self.schedule = torch.full((rows, 2), -1, dtype=i32, device=dev)
        self.qo_indptr = torch.zeros(max_batch_size + 1, dtype=i32,
                                     device=dev)
        self.kv_indptr = torch.zeros(max_batch_size + 1, dtype=i32,
                                     device=dev)
        if self.paged:
            self.kv_last_page_len = torch.zeros(max(max_batch_size, 1),
                                                dtype=i32, device=dev)
            self.kv_indices = torch.zeros(max(max_num_pages, 1), dtype=i32,
                                          device=dev)
        self._lse = (torch.empty((max_num_tokens, p["num_qo_heads"]),
                                 dtype=torch.float32, device=dev)
                     if self.with_lse else None)
        self.batch_size = None
        self.plan_info = None

    def plan(self, qo_indptr, kv_indptr, kv_indices=None,
             kv_last_page_len=None, page_size: Optional[int] = None):
        """Validates the tables (host or device tensors, or lists) and plans
        the batch; copies everything run() reads into this object's buffers.
        Paged kernels take the page table (kv_indptr indexes kv_indices),
        ragged ones kv_indptr alone (it indexes k's rows). Synchronizes with
        the host (as FlashInfer's plan does)."""
        torch = _torch()
        what = "BatchPrefill.plan"
        qo = host_int32(qo_indptr, f"{what}: qo_indptr")
        kv = host_int32(kv_indptr, f"{what}: kv_indptr")
        batch = qo.numel() - 1
        if batch < 0:
            raise ValueError(f"{what}: qo_indptr must have batch_size + 1 "
                             f">= 1 entries")
        if batch > self.max_batch_size:
            raise ValueError(f"{what}: batch of {batch} exceeds "
                             f"max_batch_size {self.max_batch_size}")
        if int(qo[-1]) > self.max_num_tokens:
            raise ValueError(f"{what}: {int(qo[-1])} query tokens exceed "
                             f"max_num_tokens {self.max_num_tokens}")
        rows = self.schedule.shape[0]
        if self.paged:
            if kv_indices is None or kv_last_page_len is None:
                raise ValueError(f"{what}: a paged kernel takes kv_indices "
                                 f"and kv_last_page_len")
            indices = host_int32(kv_indices, f"{what}: kv_indices")
            last = host_int32(kv_last_page_len, f"{what}: kv_last_page_len")
            if last.numel() != batch:
                raise ValueError(f"{what}: kv_last_page_len has "
                                 f"{last.numel()} entries, qo_indptr "
                                 f"{batch + 1}")
            if indices.numel() > self.kv_indices.numel():
                raise ValueError(f"{what}: {indices.numel()} page ids exceed "
                                 f"max_num_pages {self.kv_indices.numel()}")
            if indices.numel() and int(indices.min()) < 0:
                raise ValueError(f"{what}: kv_indices holds a negative page "
                                 f"id ({int(indices.min())})")
            page_size = resolve_page_size(self.page_size, page_size, what)
            plan = plan_paged_prefill(self.params, qo.tolist(), kv.tolist(),
                                      last.tolist(), page_size, rows,
                                      num_kv_indices=indices.numel())
        else:
            if kv_indices is not None or kv_last_page_len is not None:
                raise ValueError(f"{what}: a ragged kernel takes no page "
                                 f"table")
            plan = plan_ragged_prefill(self.params, qo.tolist(), kv.tolist(),
                                       rows)
        schedule = torch.frombuffer(bytearray(plan.schedule),
                                    dtype=torch.int32).view(rows, 2)
        self.schedule.copy_(schedule)
        self.qo_indptr[:batch + 1].copy_(qo)
        self.kv_indptr[:batch + 1].copy_(kv)
        if self.paged:
            self.kv_last_page_len[:batch].copy_(last)
            self.kv_indices[:indices.numel()].copy_(indices)
            self.planned_indices = indices.tolist()
            self.page_size_planned = page_size
        torch.cuda.current_stream(self.device).synchronize()
        self.batch_size = batch
        self.plan_info = plan
        return plan

    def run(self, q, kv_cache, out=None, lse=None, validate: bool = False,
            stream=None, variant_values: Optional[dict] = None, sinks=None,
            custom_mask=None):
        """Launches the prefill kernel for the planned batch: q is
        [tokens, Hq, D] with tokens >= qo_indptr[-1] (o has q's rows; rows
        past the batch's are not written); kv_cache is (k_cache, v_cache) or one
        [pages, 2, ...] tensor (paged), or (k, v) with at least
        kv_indptr[-1] rows (ragged). With `validate` (paged), first checks
        (with a host sync) that every planned page id is inside the cache.
        Returns out (and lse when compiled with it)."""
        torch = _torch()
        what = "BatchPrefill.run"
        if self.batch_size is None:
            raise RuntimeError(f"{what}: call plan() first")
        b, plan = self.batch_size, self.plan_info
        # More rows than planned are left alone: a CUDA graph captures q
        # and o at their largest and replays plans of fewer tokens.
        if q.dim() != 3 or q.shape[0] < plan.total_qo_len:
            raise ValueError(f"{what}: q must be [tokens >= qo_indptr[-1] = "
                             f"{plan.total_qo_len}, Hq, D] as planned, got "
                             f"{tuple(q.shape)}")
        if self.paged:
            k, v = split_paged_cache(kv_cache, what)
            check_page_size(self.params, k, self.page_size_planned, what)
            if validate:
                try:
                    check_page_indices(self.planned_indices, k.shape[0])
                except ValueError as e:
                    raise ValueError(f"{what}: {e}") from None
        else:
            if not isinstance(kv_cache, (tuple, list)) or len(kv_cache) != 2:
                raise ValueError(f"{what}: a ragged kernel takes (k, v)")
            k, v = kv_cache
            if k.dim() != 3 or k.shape[0] < plan.total_kv_len:
                raise ValueError(f"{what}: k must be [kv_tokens >= "
                                 f"kv_indptr[-1] = {plan.total_kv_len}, Hkv, "
                                 f"D], got {tuple(k.shape)}")
        if out is None:
            out = torch.empty((q.shape[0], self.params["num_qo_heads"],
                               self.params["head_dim_v"]), dtype=q.dtype,
                              device=q.device)
        if self.paged:
            args = [q, k, v, self.kv_indptr[:b + 1], self.kv_indices,
                    self.kv_last_page_len[:b], self.qo_indptr[:b + 1]]
        else:
            args = [q, k, v, self.qo_indptr[:b + 1], self.kv_indptr[:b + 1]]
        args += [self.schedule, out]
        extra = launch_values(self.params, variant_values, "BatchPrefill.run")
        if self.with_lse:
            if lse is None:
                lse = self._lse[:q.shape[0]]
            args.append(lse)
        args += variant_tensors(self.params, sinks, what, custom_mask)
        self.kernel(*args, *extra, stream=stream)
        return (out, lse) if self.with_lse else out


# -- FlashInfer's prefill API -------------------------------------------------

def _fi():
    from . import _api
    return _api


def single_prefill_with_kv_cache(
        q, k, v, scale_q=None, scale_k=None, scale_v=None, o_dtype=None,
        custom_mask=None, packed_custom_mask=None, causal: bool = False,
        kv_layout: str = "NHD", pos_encoding_mode: str = "NONE",
        use_fp16_qk_reduction: bool = False, sm_scale: Optional[float] = None,
        window_left: int = -1, logits_soft_cap: Optional[float] = None,
        rope_scale: Optional[float] = None, rope_theta: Optional[float] = None,
        backend: str = "auto", return_lse: bool = False, kv_cache_sf=None,
        k_scale: Optional[float] = None, v_scale: Optional[float] = None):
    """Prefill attention of one request: q [qo_len, num_qo_heads, head_dim]
    against k, v [kv_len, num_kv_heads, head_dim] (NHD) or [num_kv_heads,
    kv_len, head_dim] (HND); causal is aligned to the end of the keys.
    Returns o [qo_len, num_qo_heads, head_dim_vo] (and the base-2 lse
    [qo_len, num_qo_heads] with return_lse)."""
    return _fi().single_prefill(
        q, k, v, custom_mask, packed_custom_mask, causal, kv_layout,
        pos_encoding_mode, sm_scale, window_left, logits_soft_cap, return_lse,
        o_dtype, dict(scale_q=scale_q, scale_k=scale_k, scale_v=scale_v,
                      kv_cache_sf=kv_cache_sf, k_scale=k_scale,
                      v_scale=v_scale), rope_scale, rope_theta)


def single_prefill_with_kv_cache_return_lse(*args, **kwargs):
    kwargs["return_lse"] = True
    return single_prefill_with_kv_cache(*args, **kwargs)


class _PrefillWrapper(WrapperBase):
    def _forward(self, causal, pos_encoding_mode, window_left,
                 logits_soft_cap, sm_scale, rope_scale=None, rope_theta=None):
        _fi().check_forward_variant(self, pos_encoding_mode, window_left,
                                    logits_soft_cap, sm_scale, rope_scale,
                                    rope_theta)
        if bool(causal) != self._spec.causal:
            raise ValueError(f"{type(self).__name__}.forward: causal must be "
                             "the planned one")


class BatchPrefillWithPagedKVCacheWrapper(_PrefillWrapper):
    """FlashInfer's batch prefill over a paged KV cache (ragged queries,
    qo_indptr): plan() once per batch, run() many times."""

    def __init__(self, float_workspace_buffer, kv_layout: str = "NHD",
                 use_cuda_graph: bool = False, qo_indptr_buf=None,
                 paged_kv_indptr_buf=None, paged_kv_indices_buf=None,
                 paged_kv_last_page_len_buf=None, custom_mask_buf=None,
                 mask_indptr_buf=None, backend: str = "auto", jit_args=None,
                 jit_kwargs=None):
        _fi().wrapper_init(
            self, float_workspace_buffer, kv_layout, use_cuda_graph,
            dict(qo_indptr_buf=qo_indptr_buf,
                 paged_kv_indptr_buf=paged_kv_indptr_buf,
                 paged_kv_indices_buf=paged_kv_indices_buf,
                 paged_kv_last_page_len_buf=paged_kv_last_page_len_buf),
            backend)
        # A custom mask's bytes, when given (the CUDA-graph buffer).
        self._custom_mask_buf = custom_mask_buf

    def plan(self, qo_indptr, paged_kv_indptr, paged_kv_indices,
             paged_kv_last_page_len, num_qo_heads: int, num_kv_heads: int,
             head_dim_qk: int, page_size: int,
             head_dim_vo: Optional[int] = None, custom_mask=None,
             packed_custom_mask=None, causal: bool = False,
             pos_encoding_mode: str = "NONE",
             use_fp16_qk_reduction: bool = False,
             sm_scale: Optional[float] = None, window_left: int = -1,
             logits_soft_cap: Optional[float] = None,
             rope_scale: Optional[float] = None,
             rope_theta: Optional[float] = None, q_data_type="float16",
             kv_data_type=None, o_data_type=None, non_blocking: bool = True,
             prefix_len_ptr=None, token_pos_in_items_ptr=None,
             token_pos_in_items_len: int = 0, max_item_len_ptr=None,
             seq_lens=None, seq_lens_q=None, block_tables=None,
             max_token_per_sequence=None, max_sequence_kv=None,
             fixed_split_size=None, disable_split_kv: bool = False):
        _fi()._unsupported(f"{type(self).__name__}.plan",
                           prefix_len_ptr=prefix_len_ptr,
                           token_pos_in_items_ptr=token_pos_in_items_ptr,
                           max_item_len_ptr=max_item_len_ptr)
        _fi().prefill_plan(
            self, "batch_prefill", qo_indptr, paged_kv_indptr,
            paged_kv_indices, paged_kv_last_page_len, num_qo_heads,
            num_kv_heads, head_dim_qk, page_size, head_dim_vo, custom_mask,
            packed_custom_mask, causal, pos_encoding_mode, sm_scale,
            window_left, logits_soft_cap, q_data_type, kv_data_type,
            o_data_type, fixed_split_size, disable_split_kv,
            rope_scale=rope_scale, rope_theta=rope_theta)

    begin_forward = plan

    def run(self, q, paged_kv_cache, *args, q_scale=None, k_scale=None,
            v_scale=None, out=None, lse=None, return_lse: bool = False,
            enable_pdl=None, window_left=None, sinks=None, kv_cache_sf=None,
            skip_softmax_threshold_scale_factor=None, use_fp16_softmax=None,
            uses_spcompress=None):
        """o [tokens, num_qo_heads, head_dim_vo] (and the base-2 lse
        [tokens, num_qo_heads] with return_lse) for q [tokens, ...]."""
        k_scale = None if q_scale is None and k_scale is None else \
            (q_scale or 1.0) * (k_scale or 1.0)
        return _fi().prefill_run(
            self, q, paged_kv_cache, k_scale, v_scale, out, lse, return_lse,
            window_left, sinks, dict(kv_cache_sf=kv_cache_sf))

    def forward(self, q, paged_kv_cache, causal: bool = False,
                pos_encoding_mode: str = "NONE",
                use_fp16_qk_reduction: bool = False, k_scale=None,
                v_scale=None, window_left: int = -1, logits_soft_cap=None,
                sm_scale=None, rope_scale=None, rope_theta=None):
        self._forward(causal, pos_encoding_mode, window_left,
                      logits_soft_cap, sm_scale, rope_scale, rope_theta)
        return self.run(q, paged_kv_cache, k_scale=k_scale, v_scale=v_scale)

    def forward_return_lse(self, q, paged_kv_cache, causal: bool = False,
                           pos_encoding_mode: str = "NONE",
                           use_fp16_qk_reduction: bool = False, k_scale=None,
                           v_scale=None, window_left: int = -1,
                           logits_soft_cap=None, sm_scale=None,
                           rope_scale=None, rope_theta=None):
        self._forward(causal, pos_encoding_mode, window_left,
                      logits_soft_cap, sm_scale, rope_scale, rope_theta)
        return self.run(q, paged_kv_cache, k_scale=k_scale, v_scale=v_scale,
                        return_lse=True)


class BatchPrefillWithRaggedKVCacheWrapper(_PrefillWrapper):
    """FlashInfer's batch prefill over ragged K/V (qo_indptr, kv_indptr)."""

    def __init__(self, float_workspace_buffer, kv_layout: str = "NHD",
                 use_cuda_graph: bool = False, qo_indptr_buf=None,
                 kv_indptr_buf=None, custom_mask_buf=None,
                 mask_indptr_buf=None, backend: str = "auto", jit_args=None,
                 jit_kwargs=None):
        _fi().wrapper_init(
            self, float_workspace_buffer, kv_layout, use_cuda_graph,
            dict(qo_indptr_buf=qo_indptr_buf, kv_indptr_buf=kv_indptr_buf),
            backend)
        self._custom_mask_buf = custom_mask_buf

    def plan(self, qo_indptr, kv_indptr, num_qo_heads: int,
             num_kv_heads: int, head_dim_qk: int,
             head_dim_vo: Optional[int] = None, custom_mask=None,
             packed_custom_mask=None, causal: bool = False,
             pos_encoding_mode: str = "NONE",
             use_fp16_qk_reduction: bool = False, window_left: int = -1,
             logits_soft_cap: Optional[float] = None,
             sm_scale: Optional[float] = None,
             rope_scale: Optional[float] = None,
             rope_theta: Optional[float] = None, q_data_type="float16",
             kv_data_type=None, o_data_type=None, non_blocking: bool = True,
             prefix_len_ptr=None, token_pos_in_items_ptr=None,
             token_pos_in_items_len: int = 0, max_item_len_ptr=None,
             fixed_split_size=None, disable_split_kv: bool = False,
             seq_lens=None, seq_lens_q=None, max_token_per_sequence=None,
             max_sequence_kv=None, v_indptr=None, o_indptr=None):
        _fi()._unsupported(f"{type(self).__name__}.plan",
                           prefix_len_ptr=prefix_len_ptr,
                           token_pos_in_items_ptr=token_pos_in_items_ptr,
                           max_item_len_ptr=max_item_len_ptr,
                           v_indptr=v_indptr, o_indptr=o_indptr)
        if self._kv_layout != "nhd":
            raise NotImplementedError(
                "BatchPrefillWithRaggedKVCacheWrapper: ragged K/V are "
                "[tokens, heads, dim]; kv_layout must be 'NHD'")
        _fi().prefill_plan(
            self, "batch_prefill_ragged", qo_indptr, kv_indptr, None, None,
            num_qo_heads, num_kv_heads, head_dim_qk, 0, head_dim_vo,
            custom_mask, packed_custom_mask, causal, pos_encoding_mode,
            sm_scale, window_left, logits_soft_cap, q_data_type,
            kv_data_type, o_data_type, fixed_split_size, disable_split_kv,
            rope_scale=rope_scale, rope_theta=rope_theta)

    begin_forward = plan

    def run(self, q, k, v, *args, q_scale=None, k_scale=None, v_scale=None,
            o_scale=None, out=None, lse=None, return_lse: bool = False,
            enable_pdl=None, kv_cache_sf=None):
        k_scale = None if q_scale is None and k_scale is None else \
            (q_scale or 1.0) * (k_scale or 1.0)
        if o_scale is not None:
            v_scale = (v_scale or 1.0) * o_scale
        return _fi().prefill_run(self, q, (k, v), k_scale, v_scale, out, lse,
                                 return_lse, None, None,
                                 dict(kv_cache_sf=kv_cache_sf))

    def forward(self, q, k, v, causal: bool = False,
                pos_encoding_mode: str = "NONE",
                use_fp16_qk_reduction: bool = False, window_left: int = -1,
                logits_soft_cap=None, sm_scale=None, rope_scale=None,
                rope_theta=None):
        self._forward(causal, pos_encoding_mode, window_left,
                      logits_soft_cap, sm_scale, rope_scale, rope_theta)
        return self.run(q, k, v)

    def forward_return_lse(self, q, k, v, causal: bool = False,
                           pos_encoding_mode: str = "NONE",
                           use_fp16_qk_reduction: bool = False,
                           window_left: int = -1, logits_soft_cap=None,
                           sm_scale=None, rope_scale=None, rope_theta=None):
        self._forward(causal, pos_encoding_mode, window_left,
                      logits_soft_cap, sm_scale, rope_scale, rope_theta)
        return self.run(q, k, v, return_lse=True)
