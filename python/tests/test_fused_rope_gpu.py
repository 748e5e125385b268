"""GPU tests of fused RoPE (pos_encoding_mode='ROPE_LLAMA', issue 9): q and
k rotated inside the attention kernels at their positions (a query row at
kv_len - qo_len + i, key j at j), rope_scale and rope_theta passed at
launch, through every attention entry point, against a float64 reference
that rotates first and then attends (test_api_gpu.reference). Each case
also differs measurably from the same call without RoPE. Kernels:
fused_rope_specs.SPECS."""

import math

import pytest

torch = pytest.importorskip("torch")
import flashinfer_mlir as flashinfer  # noqa: E402
from test_api_gpu import (Paged, close, close_lse, gen,  # noqa: E402
                          itertools_accumulate, rand, reference, workspace)

pytestmark = pytest.mark.gpu
BF16, F16 = torch.bfloat16, torch.float16
ROPE = "ROPE_LLAMA"
# (rope_scale, rope_theta): FlashInfer's defaults, Llama 3's theta with a
# position interpolation scale. One kernel serves both (values at launch).
VALUES = [(None, None), (8.0, 5e5)]


def rotate(x, positions, scale=None, theta=None):
    """float64 rotate-half RoPE of x [n, H, D] at positions [n]: pair
    (i, i + D/2) turned by pos / scale * theta^(-2i/D)."""
    scale = 1.0 if scale is None else scale
    theta = 1e4 if theta is None else theta
    d = x.shape[-1]
    i = torch.arange(d // 2, dtype=torch.float64, device=x.device)
    freq = theta ** (-2 * i / d) / scale
    angle = positions.double()[:, None] * freq[None]
    cos, sin = angle.cos()[:, None], angle.sin()[:, None]
    x = x.double()
    a, b = x[..., :d // 2], x[..., d // 2:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)


def fused_reference(q, k, v, causal=False, scale=None, theta=None):
    """(o, lse) of attention over q, k rotated at their positions."""
    qo, kv = q.shape[0], k.shape[0]
    dev = q.device
    qr = rotate(q, torch.arange(qo, device=dev) + (kv - qo), scale, theta)
    kr = rotate(k, torch.arange(kv, device=dev), scale, theta)
    return reference(qr, kr, v, causal)


def differs(out, plain, what):
    """A variant silently ignored must fail."""
    gap = (out.double() - plain.double()).abs().max().item()
    assert gap > 0.05, f"{what}: RoPE changed nothing ({gap:.3g})"


def rope_kwargs(values):
    scale, theta = values
    kw = {}
    if scale is not None:
        kw["rope_scale"] = scale
    if theta is not None:
        kw["rope_theta"] = theta
    return kw


@pytest.mark.parametrize("values", VALUES)
@pytest.mark.parametrize("shape", [(BF16, 32, 8, 128), (F16, 4, 4, 64),
                                   (F16, 4, 4, 256)])
@pytest.mark.parametrize("kv_len", [1, 17, 1000, 5000])
def test_single_decode(values, shape, kv_len):
    t, hq, hkv, d = shape
    g = gen(kv_len + d)
    q = rand((hq, d), t, g)
    k, v = rand((kv_len, hkv, d), t, g), rand((kv_len, hkv, d), t, g)
    o, lse = flashinfer.single_decode_with_kv_cache(
        q, k, v, pos_encoding_mode=ROPE, return_lse=True,
        **rope_kwargs(values))
    ro, rl = fused_reference(q[None], k, v, False, *values)
    close(o, ro[0], f"decode {shape} {kv_len} {values}")
    close_lse(lse, rl[0], "decode lse")
    if kv_len > 1:
        differs(o, flashinfer.single_decode_with_kv_cache(q, k, v),
                "decode")


@pytest.mark.parametrize("values", VALUES)
@pytest.mark.parametrize("shape", [(BF16, 32, 8, 128), (F16, 4, 4, 64),
                                   (F16, 4, 4, 256)])
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("lens", [(1, 300), (77, 77), (300, 1000),
                                  (129, 4097)])
def test_single_prefill(values, shape, causal, lens):
    t, hq, hkv, d = shape
    qo, kv = lens
    g = gen(qo + kv + d)
    q = rand((qo, hq, d), t, g)
    k, v = rand((kv, hkv, d), t, g), rand((kv, hkv, d), t, g)
    o, lse = flashinfer.single_prefill_with_kv_cache(
        q, k, v, causal=causal, pos_encoding_mode=ROPE, return_lse=True,
        **rope_kwargs(values))
    ro, rl = fused_reference(q, k, v, causal, *values)
    close(o, ro, f"prefill {shape} {lens} causal={causal} {values}")
    close_lse(lse, rl, "prefill lse")
    differs(o, flashinfer.single_prefill_with_kv_cache(q, k, v,
                                                       causal=causal),
            "prefill")


def test_single_prefill_fused_qkv_views():
    """q, k and v sliced from one projection buffer (strided views)."""
    g = gen(3)
    qkv = rand((500, 32 + 8 + 8, 128), BF16, g)
    q, k, v = qkv[:, :32], qkv[:, 32:40], qkv[:, 40:]
    o = flashinfer.single_prefill_with_kv_cache(
        q[100:], k, v, causal=True, pos_encoding_mode=ROPE, rope_theta=5e5)
    close(o, fused_reference(q[100:], k, v, True, None, 5e5)[0],
          "prefill of views")


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("page_size", [1, 16])
def test_batch_decode(layout, page_size):
    g = gen(page_size + 7)
    lens = [1, 17, 1000, 5, 300, 64, 4097]
    c = Paged(lens, page_size, 8, 128, BF16, layout, g)
    w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(workspace(), layout)
    q = rand((len(lens), 32, 128), BF16, g)
    for values in VALUES:
        w.plan(c.indptr, c.indices, c.last, 32, 8, 128, page_size,
               pos_encoding_mode=ROPE, q_data_type=BF16,
               **rope_kwargs(values))
        out = torch.full((len(lens), 32, 128), float("nan"), device="cuda",
                         dtype=BF16)
        o, lse = w.run(q, c.cache, out=out, return_lse=True)
        for b in range(len(lens)):
            ro, rl = fused_reference(q[b:b + 1], c.keys[b], c.values[b],
                                     False, *values)
            close(o[b], ro[0], f"decode request {b} {values}")
            close_lse(lse[b], rl[0], f"decode lse {b}")
    # The K and V halves of the cache as a (k, v) tuple of strided views.
    assert torch.equal(w.run(q, (c.cache[:, 0], c.cache[:, 1])), o)
    # forward() checks that the variant is the planned one.
    with pytest.raises(ValueError, match="planned"):
        w.forward(q, c.cache, pos_encoding_mode=ROPE, rope_theta=1e6)
    with pytest.raises(ValueError, match="planned"):
        w.forward(q, c.cache)
    o2 = w.forward(q, c.cache, pos_encoding_mode=ROPE,
                   **rope_kwargs(VALUES[-1]))
    assert torch.equal(o2, o)


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("causal", [True, False])
def test_batch_prefill_paged(layout, causal):
    g = gen(19)
    qo = [1, 17, 300, 64, 0, 129]
    kv = [1, 1000, 300, 200, 9, 2000]
    c = Paged(kv, 16, 8, 128, BF16, layout, g)
    i32 = dict(dtype=torch.int32, device="cuda")
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    w = flashinfer.BatchPrefillWithPagedKVCacheWrapper(workspace(), layout)
    q = rand((sum(qo), 32, 128), BF16, g)
    for values in VALUES:
        w.plan(qo_indptr, c.indptr, c.indices, c.last, 32, 8, 128, 16,
               causal=causal, pos_encoding_mode=ROPE, q_data_type=BF16,
               **rope_kwargs(values))
        o, lse = w.run(q, c.cache, return_lse=True)
        for b in range(len(qo)):
            if not qo[b]:
                continue
            s = slice(qo_indptr[b].item(), qo_indptr[b + 1].item())
            ro, rl = fused_reference(q[s], c.keys[b], c.values[b], causal,
                                     *values)
            close(o[s], ro, f"paged prefill request {b} {values}")
            close_lse(lse[s], rl, f"paged prefill lse {b}")


@pytest.mark.parametrize("shape", [(BF16, 32, 8, 128), (F16, 4, 4, 64)])
@pytest.mark.parametrize("causal", [True, False])
def test_batch_prefill_ragged(shape, causal):
    t, hq, hkv, d = shape
    g = gen(23 + d)
    qo, kv = [5, 1, 700, 128, 0], [5, 3000, 700, 1000, 3]
    i32 = dict(dtype=torch.int32, device="cuda")
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    kv_indptr = torch.tensor([0] + list(itertools_accumulate(kv)), **i32)
    q = rand((sum(qo), hq, d), t, g)
    kvbuf = rand((sum(kv), 2 * hkv, d), t, g)
    k, v = kvbuf[:, :hkv], kvbuf[:, hkv:]
    w = flashinfer.BatchPrefillWithRaggedKVCacheWrapper(workspace())
    w.plan(qo_indptr, kv_indptr, hq, hkv, d, causal=causal,
           pos_encoding_mode=ROPE, rope_scale=2.0, q_data_type=t)
    o = w.run(q, k, v)
    for b in range(len(qo)):
        if not qo[b]:
            continue
        s = slice(qo_indptr[b].item(), qo_indptr[b + 1].item())
        r = slice(kv_indptr[b].item(), kv_indptr[b + 1].item())
        close(o[s], fused_reference(q[s], k[r], v[r], causal, 2.0)[0],
              f"ragged request {b}")


def test_errors():
    g = gen(31)
    q = rand((32, 128), BF16, g)
    k = rand((10, 8, 128), BF16, g)
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="rope_theta"):
            flashinfer.single_decode_with_kv_cache(
                q, k, k, pos_encoding_mode=ROPE, rope_theta=bad)
        with pytest.raises(ValueError, match="rope_scale"):
            flashinfer.single_prefill_with_kv_cache(
                q[None], k, k, pos_encoding_mode=ROPE, rope_scale=bad)
    # A cascade level's kernels would not know the other levels' keys.
    w = flashinfer.MultiLevelCascadeAttentionWrapper(2, workspace(), "NHD")
    with pytest.raises(NotImplementedError, match="ROPE_LLAMA"):
        w.plan([None] * 2, [None] * 2, [None] * 2, [None] * 2, 32, 8, 128,
               16, pos_encoding_mode=ROPE)


def test_torch_compile_fullgraph():
    g = gen(37)
    q = rand((40, 32, 128), BF16, g)
    k, v = rand((300, 8, 128), BF16, g), rand((300, 8, 128), BF16, g)

    def step(q, k, v):
        o = flashinfer.single_prefill_with_kv_cache(
            q, k, v, causal=True, pos_encoding_mode=ROPE, rope_theta=5e5)
        d = flashinfer.single_decode_with_kv_cache(
            q[-1], k, v, pos_encoding_mode=ROPE, rope_theta=5e5)
        return o, d

    o, d = torch.compile(step, fullgraph=True)(q, k, v)
    ro = fused_reference(q, k, v, True, None, 5e5)[0]
    close(o, ro, "compiled prefill")
    close(d, fused_reference(q[-1:], k, v, False, None, 5e5)[0][0],
          "compiled decode")
    assert math.isfinite(o.float().sum().item())
