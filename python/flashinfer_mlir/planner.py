"""Run-time planning of split-KV decode (FlashInfer's "plan once, run many").

A thin layer over the runtime library's planner (fimlir_plan_kv_chunk and
fimlir_plan_paged_decode in runtime.h): the one implementation, which a C++
serving engine calls directly.

A split-KV decode kernel reads keys in chunks of `kv_chunk` keys, a positive
multiple of its `params["kv_chunk_multiple"]` (the key tile). Short caches
need small chunks to give every SM work; long ones larger chunks, so that the
partial results the merge kernel reads stay small next to the cache.
"""

import ctypes
from typing import NamedTuple, Sequence

from .runtime import PagedDecodePlan, SplitKVParams, _check, load_library


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
