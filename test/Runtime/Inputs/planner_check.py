"""Checks the split-KV planner's choices against hand-computed values."""
from flashinfer_mlir.planner import plan_decode, plan_kv_chunk

# H100: 132 SMs, 4 workgroups per SM -> 528 workgroups; GQA 4 with 8 KV
# heads -> 66 splits wanted.
for kv_len in (1, 17, 4096, 32768, 131072):
    print(f"kv_len={kv_len} chunk={plan_kv_chunk(kv_len, 8, 32, 132)}")
# Fewer KV heads: more splits; a tile of 64 keys.
print("mqa", plan_kv_chunk(131072, 1, 64, 132))
print("params", plan_decode({"num_kv_heads": 8, "kv_chunk_multiple": 32},
                            32768, 132, workgroups_per_sm=8))
try:
    plan_kv_chunk(100, 0, 32, 132)
except ValueError as e:
    print("error:", e)

# Paged: kv_len 33 (last page holds 1), 0 (no pages), 16, 21 with page size
# 16; rows (request, kv_begin, kv_end), padding (-1, 0, 0).
from flashinfer_mlir.planner import plan_paged_decode
params = {"num_kv_heads": 8, "kv_chunk_multiple": 32}
plan = plan_paged_decode(params, [0, 3, 3, 4, 6], [1, 7, 16, 5], 16, 132, 6)
rows = [tuple(plan.schedule[3 * i:3 * i + 3]) for i in range(6)]
print("paged", plan.kv_chunk, plan.num_work_items, rows, list(plan.merge_indptr))
for indptr, last in (([0, 2, 1], [3, 3]), ([0, 2], [17])):
    try:
        plan_paged_decode(params, indptr, last, 16, 132, 6)
    except ValueError as e:
        print("error:", e)

from flashinfer_mlir.planner import check_page_indices
check_page_indices([3, 0, 7], 8)
try:
    check_page_indices([3, 0, 7], 7)
except ValueError as e:
    print("error:", e)

# Prefill over a paged cache (page size 16), 128-row tiles, causal:
# request 0: 300 queries over 300 keys (19 pages, the last holding 12);
# request 1: 1 query over 1000 keys; request 2: no query, 5 keys; request 3:
# 127 queries over 127 keys. Rows (request, q_begin), the tiles that see the
# most keys first: 1000, 300, 256, 128, 127 keys.
from flashinfer_mlir.planner import (plan_paged_prefill, plan_ragged_prefill,
                                     prefill_schedule_rows)
causal = {"block_m": 128, "causal": True, "window_left": -1}
plan = plan_paged_prefill(causal, [0, 300, 301, 301, 428],
                          [0, 19, 82, 83, 91], [12, 8, 5, 15], 16, 7,
                          num_kv_indices=91)
rows = [tuple(plan.schedule[2 * i:2 * i + 2]) for i in range(7)]
print("prefill", plan.num_work_items, plan.total_qo_len, plan.total_kv_len,
      plan.max_qo_len, plan.max_kv_len, rows)
print("rows", prefill_schedule_rows(128, 428, 4))
for qo, n in (([0, 300, 299, 299, 428], 7), ([0, 300, 301, 301, 428], 4)):
    try:
        plan_paged_prefill(causal, qo, [0, 19, 82, 83, 91], [12, 8, 5, 15],
                           16, n)
    except ValueError as e:
        print("error:", e)
# Ragged, 4-row tiles, not causal: every tile of request 0 sees its 5 keys
# (grid order kept); request 1 has no query.
full = {"block_m": 4, "causal": False, "window_left": -1}
plan = plan_ragged_prefill(full, [0, 10, 10], [0, 5, 25], 4)
print("ragged", plan.num_work_items, plan.total_kv_len,
      [tuple(plan.schedule[2 * i:2 * i + 2]) for i in range(4)])
# Causal with a window of 2: tile 0 sees keys 0..3, tile 4 keys 2..7.
window = {"block_m": 4, "causal": True, "window_left": 2}
plan = plan_ragged_prefill(window, [0, 8], [0, 8], 2)
print("window", [tuple(plan.schedule[2 * i:2 * i + 2]) for i in range(2)])
try:
    plan_ragged_prefill(full, [0, 4], [1, 5], 2)
except ValueError as e:
    print("error:", e)
