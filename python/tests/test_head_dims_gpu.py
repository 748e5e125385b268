"""GPU tests of head dims outside FlashInfer's 64/128/256 (issue 9): every
multiple of 16 up to 256 through single decode and prefill, paged batch
decode and ragged batch prefill, and head dim 512 for decode, against the
float64 reference of test_api_gpu.py. Kernels: head_dim_specs.SPECS."""

import pytest

torch = pytest.importorskip("torch")
import flashinfer_mlir as flashinfer  # noqa: E402
from head_dim_specs import DECODE_ONLY_DIMS, DIMS, HKV, HQ  # noqa: E402
from test_api_gpu import (Paged, close, gen, itertools_accumulate,  # noqa: E402
                          rand, reference, workspace)

pytestmark = pytest.mark.gpu
BF16 = torch.bfloat16


@pytest.mark.parametrize("d", DIMS + DECODE_ONLY_DIMS)
def test_decode_head_dims(d):
    g = gen(d)
    q = rand((HQ, d), BF16, g)
    k, v = rand((1777, HKV, d), BF16, g), rand((1777, HKV, d), BF16, g)
    close(flashinfer.single_decode_with_kv_cache(q, k, v),
          reference(q[None], k, v)[0][0], f"single decode d{d}")
    lens = [1, 17, 1000, 300]
    c = Paged(lens, 16, HKV, d, BF16, "NHD", g)
    w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(workspace(), "NHD")
    w.plan(c.indptr, c.indices, c.last, HQ, HKV, d, 16, q_data_type=BF16)
    qb = rand((len(lens), HQ, d), BF16, g)
    out = torch.full((len(lens), HQ, d), float("nan"), device="cuda",
                     dtype=BF16)
    o = w.run(qb, c.cache, out=out)
    for b in range(len(lens)):
        close(o[b], reference(qb[b:b + 1], c.keys[b], c.values[b])[0][0],
              f"batch decode d{d} request {b}")


@pytest.mark.parametrize("d", DIMS)
def test_prefill_head_dims(d):
    g = gen(d + 1)
    q = rand((333, HQ, d), BF16, g)
    k, v = rand((900, HKV, d), BF16, g), rand((900, HKV, d), BF16, g)
    close(flashinfer.single_prefill_with_kv_cache(q, k, v, causal=True),
          reference(q, k, v, True)[0], f"single prefill d{d}")
    qo, kv = [5, 1, 300, 77], [5, 1000, 300, 200]
    i32 = dict(dtype=torch.int32, device="cuda")
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    kv_indptr = torch.tensor([0] + list(itertools_accumulate(kv)), **i32)
    qr = rand((sum(qo), HQ, d), BF16, g)
    kr, vr = rand((sum(kv), HKV, d), BF16, g), rand((sum(kv), HKV, d), BF16,
                                                    g)
    w = flashinfer.BatchPrefillWithRaggedKVCacheWrapper(workspace())
    w.plan(qo_indptr, kv_indptr, HQ, HKV, d, causal=True, q_data_type=BF16)
    o = w.run(qr, kr, vr)
    for b in range(len(qo)):
        s = slice(qo_indptr[b].item(), qo_indptr[b + 1].item())
        t = slice(kv_indptr[b].item(), kv_indptr[b + 1].item())
        close(o[s], reference(qr[s], kr[t], vr[t], True)[0],
              f"ragged prefill d{d} request {b}")
