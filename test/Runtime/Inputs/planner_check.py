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
