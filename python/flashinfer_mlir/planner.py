"""Run-time planning of batches (FlashInfer's "plan once, run many").

A thin layer over the runtime library's planners (fimlir_plan_kv_chunk,
fimlir_plan_paged_decode, fimlir_plan_paged_prefill and
fimlir_plan_ragged_prefill in runtime.h): the one implementation, which a
C++ serving engine calls directly.

A split-KV decode kernel reads keys in chunks of `kv_chunk` keys, a positive
multiple of its `params["kv_chunk_multiple"]` (the key tile). Short caches
need small chunks to give every SM work; long ones larger chunks, so that the
partial results the merge kernel reads stay small next to the cache.
"""

import ctypes
from typing import NamedTuple, Sequence

from .runtime import (PagedDecodePlan, PrefillParams, PrefillPlan,
                      SplitKVParams, _check, load_library)


def _params(num_kv_heads, multiple, num_sms, workgroups_per_sm=4,
            max_work_items=0, fixed_kv_chunk=0, disable_split_kv=False):
    return SplitKVParams(
        num_kv_heads=num_kv_heads, num_compute_units=num_sms,
        workgroups_per_compute_unit=workgroups_per_sm,
        kv_chunk_multiple=multiple, max_work_items=max_work_items,
        fixed_kv_chunk=fixed_kv_chunk,
        disable_split_kv=1 if disable_split_kv else 0)


def _call(fn, *args):
    try:
        _check(fn(*args))
    except RuntimeError as e:
        # Bad problems are the caller's values.
        raise ValueError(str(e)) from None


def plan_kv_chunk(kv_len: int, num_kv_heads: int, multiple: int,
                  num_sms: int, workgroups_per_sm: int = 4) -> int:
    """The split size for one request of `kv_len` keys: about
    `workgroups_per_sm` split workgroups (one per KV head and chunk) per SM,
    rounded up to `multiple`.

    Four one-wave workgroups per SM, each streaming its chunk with
    asynchronous copies, measured best on H100 from 4k to 128k keys (eight
    and sixteen lose 5-25%, docs/performance.md); more only add merge work."""
    lib = load_library()
    params = _params(num_kv_heads, multiple, num_sms, workgroups_per_sm)
    lens = (ctypes.c_int64 * 1)(kv_len)
    chunk, items = ctypes.c_int64(), ctypes.c_int64()
    _call(lib.fimlir_plan_kv_chunk, ctypes.byref(params), lens, 1,
          ctypes.byref(chunk), ctypes.byref(items))
    return chunk.value


def plan_decode(params: dict, kv_len: int, num_sms: int, **kwargs) -> int:
    """plan_kv_chunk for a split kernel's manifest params (and its
    "split_workgroups_per_cu" tuning unless workgroups_per_sm is given)."""
    kwargs.setdefault("workgroups_per_sm",
                      params.get("split_workgroups_per_cu", 4))
    return plan_kv_chunk(kv_len, params["num_kv_heads"],
                         params["kv_chunk_multiple"], num_sms, **kwargs)


class PagedPlan(NamedTuple):
    """What plan_paged_decode writes: the schedule's rows (request,
    kv_begin, kv_end), padding rows (-1, 0, 0) up to `schedule_rows`, the
    merge kernel's per-request partial ranges, and the chosen chunk."""
    schedule: Sequence[int]      # 3 * schedule_rows int32
    merge_indptr: Sequence[int]  # batch + 1 int32
    kv_chunk: int
    num_work_items: int
    max_kv_len: int


def plan_paged_decode(params: dict, kv_indptr: Sequence[int],
                      kv_last_page_len: Sequence[int], page_size: int,
                      num_sms: int, schedule_rows: int,
                      num_kv_indices: int = -1, workgroups_per_sm: int = 4,
                      fixed_kv_chunk: int = 0,
                      disable_split_kv: bool = False) -> PagedPlan:
    """Plans a paged batch decode for a split kernel's manifest `params`
    from host copies of the page table; raises ValueError with the reason
    for a bad table (kv_indptr not starting at 0 or decreasing, a last page
    length outside [1, page_size], kv_indptr[-1] != num_kv_indices) or a
    schedule too small for the batch."""
    lib = load_library()
    batch = len(kv_last_page_len)
    if len(kv_indptr) != batch + 1:
        raise ValueError(
            f"plan_paged_decode: kv_indptr has {len(kv_indptr)} entries, "
            f"expected batch_size + 1 = {batch + 1}")
    c_params = _params(params["num_kv_heads"], params["kv_chunk_multiple"],
                       num_sms, workgroups_per_sm, 0, fixed_kv_chunk,
                       disable_split_kv)
    indptr = (ctypes.c_int32 * (batch + 1))(*kv_indptr)
    last = (ctypes.c_int32 * max(batch, 1))(*kv_last_page_len)
    schedule = (ctypes.c_int32 * (3 * max(schedule_rows, 1)))()
    merge = (ctypes.c_int32 * (batch + 1))()
    plan = PagedDecodePlan()
    _call(lib.fimlir_plan_paged_decode, ctypes.byref(c_params), page_size,
          indptr, last, batch, num_kv_indices, schedule, schedule_rows, merge,
          ctypes.byref(plan))
    return PagedPlan(schedule, merge, plan.kv_chunk, plan.num_work_items,
                     plan.max_kv_len)


def check_page_indices(kv_indices: Sequence[int], num_pages: int):
    """Raises ValueError naming the first page id of `kv_indices` outside a
    cache of `num_pages` pages (the runtime's fimlir_check_page_indices)."""
    lib = load_library()
    ids = (ctypes.c_int32 * max(len(kv_indices), 1))(*kv_indices)
    _call(lib.fimlir_check_page_indices, ids, len(kv_indices), num_pages)


class PrefillSchedule(NamedTuple):
    """What the prefill planners write: the schedule's rows (request,
    q_begin), the tiles that see the most keys first, padding rows (-1, 0)
    up to `schedule_rows`."""
    schedule: Sequence[int]  # 2 * schedule_rows int32
    num_work_items: int
    total_qo_len: int
    total_kv_len: int  # ragged: kv_indptr[-1]; paged: -1
    max_qo_len: int
    max_kv_len: int


def prefill_schedule_rows(block_m: int, max_tokens: int,
                          max_batch_size: int) -> int:
    """Schedule rows enough for any batch of at most `max_batch_size`
    requests and `max_tokens` query tokens: each request's last tile may be
    partial."""
    return max(1, -(-max_tokens // block_m) + max_batch_size)


def _prefill_params(params: dict) -> PrefillParams:
    return PrefillParams(block_m=params["block_m"],
                         causal=1 if params["causal"] else 0,
                         window_left=params["window_left"])


def _indptr(name: str, values: Sequence[int], batch: int):
    if len(values) != batch + 1:
        raise ValueError(f"{name} has {len(values)} entries, expected "
                         f"batch_size + 1 = {batch + 1}")
    return (ctypes.c_int32 * (batch + 1))(*values)


def _prefill_result(schedule, plan) -> PrefillSchedule:
    return PrefillSchedule(schedule, plan.num_work_items, plan.total_qo_len,
                           plan.total_kv_len, plan.max_qo_len,
                           plan.max_kv_len)


def plan_paged_prefill(params: dict, qo_indptr: Sequence[int],
                       kv_indptr: Sequence[int],
                       kv_last_page_len: Sequence[int], page_size: int,
                       schedule_rows: int,
                       num_kv_indices: int = -1) -> PrefillSchedule:
    """Plans a batch prefill over a paged cache for a prefill kernel's
    manifest `params`; raises ValueError with the reason for a bad table
    (an indptr not starting at 0 or decreasing, a last page length outside
    [1, page_size], kv_indptr[-1] != num_kv_indices) or a schedule too small
    for the batch."""
    lib = load_library()
    batch = len(kv_last_page_len)
    qo = _indptr("qo_indptr", qo_indptr, batch)
    kv = _indptr("kv_indptr", kv_indptr, batch)
    last = (ctypes.c_int32 * max(batch, 1))(*kv_last_page_len)
    schedule = (ctypes.c_int32 * (2 * max(schedule_rows, 1)))()
    plan = PrefillPlan()
    _call(lib.fimlir_plan_paged_prefill, ctypes.byref(_prefill_params(params)),
          page_size, qo, kv, last, batch, num_kv_indices, schedule,
          schedule_rows, ctypes.byref(plan))
    return _prefill_result(schedule, plan)


def plan_ragged_prefill(params: dict, qo_indptr: Sequence[int],
                        kv_indptr: Sequence[int],
                        schedule_rows: int) -> PrefillSchedule:
    """The same over ragged K/V (request b's keys are rows kv_indptr[b] ..
    kv_indptr[b + 1] of k and v)."""
    lib = load_library()
    batch = len(qo_indptr) - 1
    if batch < 0:
        raise ValueError("qo_indptr must have batch_size + 1 >= 1 entries")
    qo = _indptr("qo_indptr", qo_indptr, batch)
    kv = _indptr("kv_indptr", kv_indptr, batch)
    schedule = (ctypes.c_int32 * (2 * max(schedule_rows, 1)))()
    plan = PrefillPlan()
    _call(lib.fimlir_plan_ragged_prefill,
          ctypes.byref(_prefill_params(params)), qo, kv, batch, schedule,
          schedule_rows, ctypes.byref(plan))
    return _prefill_result(schedule, plan)
