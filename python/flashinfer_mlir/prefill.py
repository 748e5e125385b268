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

from ._tables import (check_page_size, host_int32, pick_kernel,
                      resolve_page_size, split_paged_cache)
from .planner import (check_page_indices, plan_paged_prefill,
                      plan_ragged_prefill, prefill_schedule_rows)
from .runtime import Module

__all__ = ["BatchPrefill"]


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
            stream=None):
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
        if self.with_lse:
            if lse is None:
                lse = self._lse[:q.shape[0]]
            args.append(lse)
        self.kernel(*args, stream=stream)
        return (out, lse) if self.with_lse else out
