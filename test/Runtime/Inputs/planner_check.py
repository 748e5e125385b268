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
