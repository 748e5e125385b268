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

from ._tables import (check_page_size, host_int32, pick_kernel,
                      resolve_page_size, split_paged_cache)
from .planner import check_page_indices, plan_paged_decode
from .runtime import Module

__all__ = ["PagedDecode"]


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
            lse=None, validate: bool = False, stream=None):
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
        self.split(q, k_cache, v_cache, self.kv_indptr[:b + 1],
                   self.kv_indices, self.kv_last_page_len[:b], self.schedule,
                   self.o_part, self.lse_part, stream=stream)
        merge_args = [self.o_part, self.lse_part, self.merge_indptr[:b + 1],
                      out]
        if self.with_lse:
            if lse is None:
                lse = self._lse[:b]
            merge_args.append(lse)
        self.merge(*merge_args, stream=stream)
        return (out, lse) if self.with_lse else out
