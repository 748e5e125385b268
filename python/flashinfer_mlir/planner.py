"""Run-time planning of split-KV decode (FlashInfer's "plan once, run many").

A split-KV decode kernel takes its split size `kv_chunk` as an argument: a
positive multiple of `params.kv_chunk_multiple` (the key tile). Short caches
need small splits to give every SM work; long ones larger splits, so that
the partial results the merge kernel reads stay small next to the cache.
"""


def plan_kv_chunk(kv_len: int, num_kv_heads: int, multiple: int,
                  num_sms: int, workgroups_per_sm: int = 4) -> int:
    """The split size that gives about `workgroups_per_sm` split workgroups
    per SM (one per KV head and split), rounded up to `multiple`.

    Four one-wave workgroups per SM, each streaming its split with
    asynchronous copies, measured best on H100 from 4k to 128k keys (eight
    and sixteen lose 5-25%, docs/performance.md); more splits only add
    merge work."""
    if kv_len < 0 or num_kv_heads < 1 or multiple < 1 or num_sms < 1:
        raise ValueError(
            f"plan_kv_chunk: bad problem (kv_len={kv_len}, "
            f"num_kv_heads={num_kv_heads}, multiple={multiple}, "
            f"num_sms={num_sms})")
    target = max(1, num_sms * workgroups_per_sm)
    splits = max(1, -(-target // num_kv_heads))
    chunk = -(-max(kv_len, 1) // splits)
    return max(multiple, -(-chunk // multiple) * multiple)


def plan_decode(params: dict, kv_len: int, num_sms: int, **kwargs) -> int:
    """plan_kv_chunk for a split kernel's manifest params."""
    return plan_kv_chunk(kv_len, params["num_kv_heads"],
                         params["kv_chunk_multiple"], num_sms, **kwargs)
