"""GPU tests of fp8 KV caches (issue 9): K and V stored as float8_e4m3fn,
queries in bf16 or f16, FlashInfer's k_scale / v_scale, through single
decode and prefill, paged batch decode and paged and ragged batch prefill,
against the float64 reference of test_api_gpu.py over the dequantized
values (k.double() * k_scale). Outputs are written into NaN-filled buffers.
Kernels: fp8_kv_specs.SPECS."""

import pytest

torch = pytest.importorskip("torch")
import flashinfer_mlir as flashinfer  # noqa: E402
from test_api_gpu import (Paged, close, close_lse, gen,  # noqa: E402
                          itertools_accumulate, rand, reference, workspace)

pytestmark = pytest.mark.gpu
FP8 = torch.float8_e4m3fn
BF16, F16 = torch.bfloat16, torch.float16


def quantize(x, scale):
    """x / scale in e4m3 (FlashInfer's per-tensor scale)."""
    return (x.float() / scale).to(FP8)


def dequantize(x, scale):
    return x.double() * scale


@pytest.mark.parametrize("shape", [(BF16, 32, 8, 128), (F16, 4, 4, 64)])
@pytest.mark.parametrize("kv_len", [1, 17, 1000, 8191])
@pytest.mark.parametrize("scales", [(None, None), (0.5, 2.0)])
def test_single_decode(shape, kv_len, scales):
    t, hq, hkv, d = shape
    ks, vs = scales
    g = gen(kv_len + d)
    q = rand((hq, d), t, g)
    k = quantize(rand((kv_len, hkv, d), t, g), ks or 1.0)
    v = quantize(rand((kv_len, hkv, d), t, g), vs or 1.0)
    o, lse = flashinfer.single_decode_with_kv_cache(
        q, k, v, k_scale=ks, v_scale=vs, return_lse=True)
    ro, rl = reference(q[None], dequantize(k, ks or 1.0),
                       dequantize(v, vs or 1.0))
    assert o.dtype == t
    close(o, ro[0], f"fp8 decode {shape} {kv_len}")
    close_lse(lse, rl[0], "fp8 decode lse")


@pytest.mark.parametrize("shape", [(BF16, 32, 8, 128), (F16, 4, 4, 64)])
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("lens", [(1, 300), (77, 77), (300, 1000)])
def test_single_prefill(shape, causal, lens):
    t, hq, hkv, d = shape
    qo, kv = lens
    g = gen(qo + kv)
    q = rand((qo, hq, d), t, g)
    k = quantize(rand((kv, hkv, d), t, g), 1.0)
    v = quantize(rand((kv, hkv, d), t, g), 1.0)
    o = flashinfer.single_prefill_with_kv_cache(q, k, v, causal=causal)
    close(o, reference(q, k.double(), v.double(), causal)[0],
          f"fp8 prefill {shape} {lens}")


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("page_size", [1, 16])
def test_batch_decode(layout, page_size):
    g = gen(page_size + 3)
    lens = [1, 17, 1000, 0, 300, 64, 4097]
    c = Paged(lens, page_size, 8, 128, BF16, layout, g)
    cache = c.cache.nan_to_num(0.0).to(FP8)
    w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(workspace(), layout)
    w.plan(c.indptr, c.indices, c.last, 32, 8, 128, page_size,
           q_data_type=BF16, kv_data_type=FP8)
    q = rand((len(lens), 32, 128), BF16, g)
    out = torch.full((len(lens), 32, 128), float("nan"), device="cuda",
                     dtype=BF16)
    o, lse = w.run(q, cache, out=out, return_lse=True, k_scale=0.25,
                   v_scale=4.0)
    for b in range(len(lens)):
        kk = c.keys[b].to(FP8).double() * 0.25
        vv = c.values[b].to(FP8).double() * 4.0
        ro, rl = reference(q[b:b + 1], kk, vv)
        close(o[b], ro[0], f"fp8 batch decode request {b}")
        close_lse(lse[b], rl[0], f"fp8 batch decode lse {b}")
    # The K and V halves of the cache as a (k, v) tuple of strided views.
    o2 = w.run(q, (cache[:, 0], cache[:, 1]), k_scale=0.25, v_scale=4.0)
    assert torch.equal(o2, o)
    # A bf16 cache given to the fp8 plan is refused, naming the argument.
    with pytest.raises((ValueError, RuntimeError), match="k_cache|dtype"):
        w.run(q, c.cache)


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("causal", [True, False])
def test_batch_prefill_paged(layout, causal):
    g = gen(29)
    qo = [1, 17, 300, 0, 64]
    kv = [1, 1000, 300, 9, 200]
    c = Paged(kv, 16, 8, 128, BF16, layout, g)
    cache = c.cache.nan_to_num(0.0).to(FP8)
    i32 = dict(dtype=torch.int32, device="cuda")
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    w = flashinfer.BatchPrefillWithPagedKVCacheWrapper(workspace(), layout)
    w.plan(qo_indptr, c.indptr, c.indices, c.last, 32, 8, 128, 16,
           causal=causal, q_data_type=BF16, kv_data_type=FP8)
    q = rand((sum(qo), 32, 128), BF16, g)
    o = w.run(q, cache)
    for b in range(len(qo)):
        if not qo[b]:
            continue
        s = slice(qo_indptr[b].item(), qo_indptr[b + 1].item())
        close(o[s], reference(q[s], c.keys[b].to(FP8).double(),
                              c.values[b].to(FP8).double(), causal)[0],
              f"fp8 paged prefill request {b}")


def test_batch_prefill_ragged():
    g = gen(31)
    qo, kv = [5, 1, 700, 0], [5, 3000, 700, 3]
    i32 = dict(dtype=torch.int32, device="cuda")
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    kv_indptr = torch.tensor([0] + list(itertools_accumulate(kv)), **i32)
    q = rand((sum(qo), 4, 64), F16, g)
    kvbuf = rand((sum(kv), 8, 64), F16, g).to(FP8)
    k, v = kvbuf[:, :4], kvbuf[:, 4:]
    w = flashinfer.BatchPrefillWithRaggedKVCacheWrapper(workspace())
    w.plan(qo_indptr, kv_indptr, 4, 4, 64, causal=True, q_data_type=F16,
           kv_data_type=FP8)
    o = w.run(q, k, v)
    for b in range(len(qo)):
        if not qo[b]:
            continue
        s = slice(qo_indptr[b].item(), qo_indptr[b + 1].item())
        r = slice(kv_indptr[b].item(), kv_indptr[b + 1].item())
        close(o[s], reference(q[s], k[r].double(), v[r].double(), True)[0],
              f"fp8 ragged request {b}")


@pytest.mark.parametrize("fp8", [torch.float8_e4m3fn, torch.float8_e4m3fnuz])
def test_every_code_exact(fp8):
    """Every e4m3 byte (subnormals and NaN codes included) is widened
    exactly: a decode over one key returns that key's value row, which f16
    holds exactly, so o must equal PyTorch's own conversion bit for bit."""
    codes = torch.arange(256, dtype=torch.uint8, device="cuda")
    v = codes.view(fp8).reshape(1, 4, 64)
    k = torch.zeros((1, 4, 64), dtype=torch.float16,
                    device="cuda").to(fp8)
    q = torch.ones((4, 64), dtype=torch.float16, device="cuda")
    o = flashinfer.single_decode_with_kv_cache(q, k, v)
    want = v.to(torch.float16)[0]
    same = (o == want) | (o.isnan() & want.isnan())
    assert same.all(), f"codes {codes.view(4, 64)[~same].tolist()} differ"
