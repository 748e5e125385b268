"""Batch decode over a paged KV cache: plan once, run many.

    from flashinfer_mlir.decode import PagedDecode
    dec = PagedDecode(Module("paged_decode_kernels.json"), max_batch_size=64)
    dec.plan(kv_indptr, kv_indices, kv_last_page_len)   # host sync, no launch
    out = dec.run(q, (k_cache, v_cache))                # two launches, no sync

The module holds a kernel pair compiled from `attn.paged_attention` without
`qo_indptr` (convert-attn-to-gpu's paged split kernel and its merge kernel).
plan() validates the page table and runs the runtime's planner (the C API's
fimlir_plan_paged_decode), then copies the page table and the schedule into
buffers this object owns; run() only launches, reading every planned value
from those buffers, so a run() captured in a CUDA graph replays correctly
after later plan() calls for the same batch size.
"""

import math
from typing import Optional, Tuple, Union

from ._tables import (WrapperBase, check_page_size, host_int32,
                      launch_values, pick_kernel, resolve_page_size,
                      split_paged_cache, variant_tensors)
from .planner import check_page_indices, plan_paged_decode
from .runtime import Module

__all__ = ["BatchDecodeWithPagedKVCacheWrapper",
           "CUDAGraphBatchDecodeWithPagedKVCacheWrapper", "PagedDecode",
           "fast_decode_plan", "single_decode_with_kv_cache"]


def _torch():
    import torch
    return torch


class PagedDecode:
    def __init__(self, module: Module, kernel: Optional[str] = None, *,
                 max_batch_size: int, max_num_pages: int,
                 num_sms: Optional[int] = None,
                 max_work_items: Optional[int] = None,
                 workgroups_per_sm: Optional[int] = None, device=None):
        torch = _torch()
        self.split = pick_kernel(
            module, kernel,
            lambda p: p.get("schedule") == "request_kv_range", "PagedDecode",
            "paged decode")
        self.merge = module.kernel(self.split.name + "_merge")
        p = self.split.params
        self.params = p
        self.page_size = p["page_size"]  # -1: any (read from the cache)
        self.with_lse = "lse" in self.merge.arg_names
        self.device = torch.device(device if device is not None else "cuda")
        if num_sms is None:
            num_sms = torch.cuda.get_device_properties(
                self.device).multi_processor_count
        self.num_sms = num_sms
        # The compiler's tuning for this kernel, unless overridden.
        self.workgroups_per_sm = workgroups_per_sm or p.get(
            "split_workgroups_per_cu", 4)
        if max_batch_size < 0 or max_num_pages < 0:
            raise ValueError("PagedDecode: max_batch_size and max_num_pages "
                             "must be >= 0")
        # The planner never makes more items than max(wanted, batch).
        wanted = math.ceil(num_sms * self.workgroups_per_sm /
                           p["num_kv_heads"])
        rows = max_work_items or max(wanted, max_batch_size, 1)
        i32, f32 = torch.int32, torch.float32
        dev = self.device
        self.max_batch_size = max_batch_size
        self.schedule = torch.full((rows, 3), -1, dtype=i32, device=dev)
        self.merge_indptr = torch.zeros(max_batch_size + 1, dtype=i32,
                                        device=dev)
        self.kv_indptr = torch.zeros(max_batch_size + 1, dtype=i32,
                                     device=dev)
        self.kv_last_page_len = torch.zeros(max(max_batch_size, 1),
                                            dtype=i32, device=dev)
        self.kv_indices = torch.zeros(max(max_num_pages, 1), dtype=i32,
                                      device=dev)
        hq, dv = p["num_qo_heads"], p["head_dim_v"]
        self.o_part = torch.empty((rows, hq, dv), dtype=f32, device=dev)
        self.lse_part = torch.empty((rows, hq), dtype=f32, device=dev)
        self._lse = (torch.empty((max_batch_size, hq), dtype=f32, device=dev)
                     if self.with_lse else None)
        self.batch_size = None
        self.plan_info = None

    def plan(self, kv_indptr, kv_indices, kv_last_page_len,
             page_size: Optional[int] = None, fixed_kv_chunk: int = 0,
             disable_split_kv: bool = False):
        """Validates the page table (host or device tensors, or lists) and
        plans the batch; copies everything run() reads into this object's
        buffers. Synchronizes with the host (as FlashInfer's plan does)."""
        torch = _torch()

        indptr = host_int32(kv_indptr, "PagedDecode.plan: kv_indptr")
        last = host_int32(kv_last_page_len,
                          "PagedDecode.plan: kv_last_page_len")
        indices = host_int32(kv_indices, "PagedDecode.plan: kv_indices")
        batch = last.numel()
        if batch > self.max_batch_size:
            raise ValueError(f"PagedDecode.plan: batch of {batch} exceeds "
                             f"max_batch_size {self.max_batch_size}")
        if indices.numel() > self.kv_indices.numel():
            raise ValueError(f"PagedDecode.plan: {indices.numel()} page ids "
                             f"exceed max_num_pages {self.kv_indices.numel()}")
        page_size = resolve_page_size(self.page_size, page_size,
                                      "PagedDecode.plan")
        if indices.numel() and int(indices.min()) < 0:
            raise ValueError(
                f"PagedDecode.plan: kv_indices holds a negative page id "
                f"({int(indices.min())})")
        rows = self.schedule.shape[0]
        plan = plan_paged_decode(
            self.params, indptr.tolist(), last.tolist(), page_size,
            self.num_sms, rows, num_kv_indices=indices.numel(),
            workgroups_per_sm=self.workgroups_per_sm,
            fixed_kv_chunk=fixed_kv_chunk, disable_split_kv=disable_split_kv)
        schedule = torch.frombuffer(bytearray(plan.schedule),
                                    dtype=torch.int32).view(rows, 3)
        merge = torch.frombuffer(bytearray(plan.merge_indptr),
                                 dtype=torch.int32)
        self.schedule.copy_(schedule)
        self.merge_indptr[:batch + 1].copy_(merge)
        self.kv_indptr[:batch + 1].copy_(indptr)
        self.kv_last_page_len[:batch].copy_(last)
        self.kv_indices[:indices.numel()].copy_(indices)
        torch.cuda.current_stream(self.device).synchronize()
        self.batch_size = batch
        self.page_size_planned = page_size
        self.planned_indices = indices.tolist()
        self.plan_info = plan
        return plan

    def run(self, q, paged_kv_cache: Union[Tuple, "object"], out=None,
            lse=None, validate: bool = False, stream=None,
            variant_values: Optional[dict] = None, sinks=None):
        """Launches the split and merge kernels for the planned batch: q is
        [batch, Hq, D]; paged_kv_cache is (k_cache, v_cache) or one
        [pages, 2, ...] tensor whose K and V halves are views. With
        `validate`, first checks (with a host sync) that every planned page
        id is inside the cache. Returns out (and lse when compiled with
        it)."""
        torch = _torch()
        if self.batch_size is None:
            raise RuntimeError("PagedDecode.run: call plan() first")
        k_cache, v_cache = split_paged_cache(paged_kv_cache, "PagedDecode.run")
        b = self.batch_size
        if q.dim() != 3 or q.shape[0] != b:
            raise ValueError(f"PagedDecode.run: q must be [batch = {b}, Hq, "
                             f"D] as planned, got {tuple(q.shape)}")
        check_page_size(self.params, k_cache, self.page_size_planned,
                        "PagedDecode.run")
        if validate:
            try:
                check_page_indices(self.planned_indices, k_cache.shape[0])
            except ValueError as e:
                raise ValueError(f"PagedDecode.run: {e}") from None
        if out is None:
            out = torch.empty((b, self.params["num_qo_heads"],
                               self.params["head_dim_v"]), dtype=q.dtype,
                              device=q.device)
        extra = launch_values(self.params, variant_values, "PagedDecode.run")
        self.split(q, k_cache, v_cache, self.kv_indptr[:b + 1],
                   self.kv_indices, self.kv_last_page_len[:b], self.schedule,
                   self.o_part, self.lse_part, *extra, stream=stream)
        merge_args = [self.o_part, self.lse_part, self.merge_indptr[:b + 1],
                      out]
        if self.with_lse:
            if lse is None:
                lse = self._lse[:b]
            merge_args.append(lse)
        # Split-KV: the merge counts the sinks.
        merge_args += variant_tensors(self.params, sinks, "PagedDecode.run")
        self.merge(*merge_args, stream=stream)
        return (out, lse) if self.with_lse else out


# -- FlashInfer's decode API ------------------------------------------------

def _fi():
    from . import _api
    return _api


def single_decode_with_kv_cache(
        q, k, v, kv_layout: str = "NHD", pos_encoding_mode: str = "NONE",
        use_tensor_cores: bool = False, q_scale: Optional[float] = None,
        k_scale: Optional[float] = None, v_scale: Optional[float] = None,
        window_left: int = -1, logits_soft_cap: Optional[float] = None,
        sm_scale: Optional[float] = None, rope_scale: Optional[float] = None,
        rope_theta: Optional[float] = None, return_lse: bool = False):
    """Decode attention of one request: q [num_qo_heads, head_dim] against
    k, v [kv_len, num_kv_heads, head_dim] (NHD) or [num_kv_heads, kv_len,
    head_dim] (HND). Returns o [num_qo_heads, head_dim] (and the base-2 lse
    [num_qo_heads] with return_lse)."""
    return _fi().single_decode(
        q, k, v, kv_layout, pos_encoding_mode, q_scale, k_scale, v_scale,
        window_left, logits_soft_cap, sm_scale, return_lse, rope_scale,
        rope_theta)


class BatchDecodeWithPagedKVCacheWrapper(WrapperBase):
    """FlashInfer's batch decode over a paged KV cache: plan() once per
    batch shape (host sync), run() many times (no sync, no allocation when
    planned with use_cuda_graph)."""

    def __init__(self, float_workspace_buffer, kv_layout: str = "NHD",
                 use_cuda_graph: bool = False, use_tensor_cores: bool = False,
                 paged_kv_indptr_buffer=None, paged_kv_indices_buffer=None,
                 paged_kv_last_page_len_buffer=None, backend: str = "auto",
                 jit_args=None):
        _fi().wrapper_init(
            self, float_workspace_buffer, kv_layout, use_cuda_graph,
            dict(paged_kv_indptr_buffer=paged_kv_indptr_buffer,
                 paged_kv_indices_buffer=paged_kv_indices_buffer,
                 paged_kv_last_page_len_buffer=paged_kv_last_page_len_buffer),
            backend)

    def plan(self, indptr, indices, last_page_len, num_qo_heads: int,
             num_kv_heads: int, head_dim: int, page_size: int,
             pos_encoding_mode: str = "NONE", window_left: int = -1,
             logits_soft_cap: Optional[float] = None,
             q_data_type="float16", kv_data_type=None, o_data_type=None,
             data_type=None, sm_scale: Optional[float] = None,
             rope_scale: Optional[float] = None,
             rope_theta: Optional[float] = None, non_blocking: bool = True,
             block_tables=None, seq_lens=None,
             fixed_split_size: Optional[int] = None,
             disable_split_kv: bool = False, q_len_per_req: int = 1):
        """Plans decode over the page table (indptr [batch + 1], indices,
        last_page_len [batch], host or device int32): validates it, runs the
        runtime's planner and copies the schedule into this wrapper's
        buffers. Synchronizes with the host."""
        _fi().decode_plan(
            self, indptr, indices, last_page_len, num_qo_heads, num_kv_heads,
            head_dim, page_size, pos_encoding_mode, window_left,
            logits_soft_cap, q_data_type, kv_data_type, o_data_type,
            data_type, sm_scale, fixed_split_size, disable_split_kv,
            q_len_per_req, rope_scale=rope_scale, rope_theta=rope_theta)

    begin_forward = plan

    def run(self, q, paged_kv_cache, *args, q_scale: Optional[float] = None,
            k_scale: Optional[float] = None,
            v_scale: Optional[float] = None, out=None, lse=None,
            return_lse: bool = False, enable_pdl: Optional[bool] = None,
            window_left: Optional[int] = None, sinks=None,
            q_len_per_req: Optional[int] = None,
            skip_softmax_threshold_scale_factor: Optional[float] = None,
            kv_cache_sf=None):
        """o [batch, num_qo_heads, head_dim] (and lse [batch, num_qo_heads],
        base 2, with return_lse) for q [batch, num_qo_heads, head_dim]."""
        if q_len_per_req not in (None, 1):
            raise NotImplementedError(
                f"{type(self).__name__}.run: q_len_per_req > 1 has no decode "
                "kernel; use BatchPrefillWithPagedKVCacheWrapper")
        _fi()._unsupported(
            f"{type(self).__name__}.run", kv_cache_sf=kv_cache_sf,
            skip_softmax_threshold_scale_factor=(
                skip_softmax_threshold_scale_factor))
        return _fi().decode_run(self, q, paged_kv_cache, q_scale, k_scale,
                                v_scale, out, lse, return_lse, window_left,
                                sinks)

    def forward(self, q, paged_kv_cache, pos_encoding_mode: str = "NONE",
                q_scale=None, k_scale=None, v_scale=None,
                window_left: int = -1, logits_soft_cap=None, sm_scale=None,
                rope_scale=None, rope_theta=None):
        """The deprecated call: the variant values given here must be the
        planned ones."""
        _fi().check_forward_variant(self, pos_encoding_mode, window_left,
                                    logits_soft_cap, sm_scale, rope_scale,
                                    rope_theta)
        return self.run(q, paged_kv_cache, q_scale=q_scale, k_scale=k_scale,
                        v_scale=v_scale)

    def forward_return_lse(self, q, paged_kv_cache,
                           pos_encoding_mode: str = "NONE", q_scale=None,
                           k_scale=None, v_scale=None, window_left: int = -1,
                           logits_soft_cap=None, sm_scale=None,
                           rope_scale=None, rope_theta=None):
        _fi().check_forward_variant(self, pos_encoding_mode, window_left,
                                    logits_soft_cap, sm_scale, rope_scale,
                                    rope_theta)
        return self.run(q, paged_kv_cache, q_scale=q_scale, k_scale=k_scale,
                        v_scale=v_scale, return_lse=True)


class CUDAGraphBatchDecodeWithPagedKVCacheWrapper(
        BatchDecodeWithPagedKVCacheWrapper):
    """The wrapper with use_cuda_graph: the page-table buffers are the
    caller's and fixed, so a captured run() replays after a new plan()."""

    def __init__(self, workspace_buffer, indptr_buffer, indices_buffer,
                 last_page_len_buffer, kv_layout: str = "NHD",
                 use_tensor_cores: bool = False):
        super().__init__(workspace_buffer, kv_layout, use_cuda_graph=True,
                         use_tensor_cores=use_tensor_cores,
                         paged_kv_indptr_buffer=indptr_buffer,
                         paged_kv_indices_buffer=indices_buffer,
                         paged_kv_last_page_len_buffer=last_page_len_buffer)


def fast_decode_plan(self, indptr, indices, last_page_len, num_qo_heads: int,
                     num_kv_heads: int, head_dim: int, page_size: int,
                     pos_encoding_mode: str = "NONE", window_left: int = -1,
                     logits_soft_cap: Optional[float] = None,
                     q_data_type=None, kv_data_type=None, data_type=None,
                     sm_scale: Optional[float] = None,
                     rope_scale: Optional[float] = None,
                     rope_theta: Optional[float] = None,
                     non_blocking: bool = True, fixed_split_size=None,
                     disable_split_kv: bool = False, q_len_per_req: int = 1,
                     global_override_indptr_cpu=None):
    """FlashInfer's faster plan for CUDA-graph wrappers (it skips host-side
    copies): plan() here is already one host planner call and one copy per
    buffer, so this is plan()."""
    return BatchDecodeWithPagedKVCacheWrapper.plan(
        self, indptr, indices, last_page_len, num_qo_heads, num_kv_heads,
        head_dim, page_size, pos_encoding_mode, window_left, logits_soft_cap,
        q_data_type or "float16", kv_data_type, None, data_type, sm_scale,
        rope_scale, rope_theta, non_blocking, None, None, fixed_split_size,
        disable_split_kv, q_len_per_req)
