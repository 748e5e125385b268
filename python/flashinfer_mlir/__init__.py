"""FlashInfer-MLIR: FlashInfer's attention API over kernels compiled from
the attn dialect, and their launch runtime.

    import flashinfer_mlir as flashinfer
    wrapper = flashinfer.BatchDecodeWithPagedKVCacheWrapper(workspace, "NHD")
    wrapper.plan(kv_indptr, kv_indices, kv_last_page_len, 32, 8, 128, 16,
                 q_data_type=torch.bfloat16)
    o = wrapper.run(q, paged_kv_cache)

The low-level layer (runtime.Module, decode.PagedDecode, prefill.BatchPrefill,
page.AppendPagedKV, the planners) runs compiled manifests directly.
"""

import importlib.util

from . import cascade, decode, jit, page, prefill, rope, utils  # noqa: F401
from .cascade import (BatchDecodeWithSharedPrefixPagedKVCacheWrapper,  # noqa: F401
                      BatchPrefillWithSharedPrefixPagedKVCacheWrapper,
                      MultiLevelCascadeAttentionWrapper, merge_state,
                      merge_state_in_place, merge_states)
from .decode import (BatchDecodeWithPagedKVCacheWrapper,  # noqa: F401
                     CUDAGraphBatchDecodeWithPagedKVCacheWrapper,
                     fast_decode_plan, single_decode_with_kv_cache)
from .page import (append_paged_kv_cache, get_batch_indices_positions,  # noqa: F401
                   get_seq_lens)
from .planner import plan_decode, plan_kv_chunk  # noqa: F401
from .prefill import (BatchPrefillWithPagedKVCacheWrapper,  # noqa: F401
                      BatchPrefillWithRaggedKVCacheWrapper,
                      single_prefill_with_kv_cache,
                      single_prefill_with_kv_cache_return_lse)
from .rope import (apply_llama31_rope, apply_llama31_rope_inplace,  # noqa: F401
                   apply_llama31_rope_pos_ids,
                   apply_llama31_rope_pos_ids_inplace, apply_rope,
                   apply_rope_inplace, apply_rope_pos_ids,
                   apply_rope_pos_ids_inplace, apply_rope_with_cos_sin_cache,
                   apply_rope_with_cos_sin_cache_inplace)
from .runtime import Context, DeviceTensor, Kernel, Module  # noqa: F401

__version__ = "0.1.0"

# The entry points as torch custom ops, for torch.compile (when torch is
# installed; the package imports without it).
if importlib.util.find_spec("torch") is not None:
    from . import _ops  # noqa: F401,E402
