"""GPU tests of FlashInfer's RoPE entry points (flashinfer.rope) over
attn.rope, against a float64 reference: positions from pos_ids and from a
ragged batch's indptr + offsets, rotate-half and interleaved pairs, partial
rotary dims, rope_scale / rope_theta at launch, Llama 3.1's scaling, vLLM's
cos/sin cache, in place and not, strided views of fused projections, empty
inputs and wrong arguments. Kernels come from the kernel cache, as in
test_api_gpu.py."""

import math

import pytest

torch = pytest.importorskip("torch")
import flashinfer_mlir as flashinfer  # noqa: E402

pytestmark = pytest.mark.gpu
DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16}
# Half-precision outputs of f32 arithmetic (FlashInfer's own tolerance for
# its RoPE tests is 1e-3 relative for f16; bf16 rounds 8x coarser).
TOL = {"f16": 2e-3, "bf16": 1e-2}


def gen(seed):
    return torch.Generator(device="cuda").manual_seed(seed)


def rand(shape, dtype, g):
    return torch.randn(shape, generator=g, device="cuda").to(dtype)


def poison():
    """Leaves NaN in the memory the next allocations of the caching
    allocator reuse, so an output element that is never written shows."""
    torch.full((64 << 20,), float("nan"), device="cuda")


def frequencies(rotary_dim, scale, theta, llama31=None):
    """float64 frequency of each pair (Llama 3.1's by wavelength bands)."""
    i = torch.arange(rotary_dim // 2, dtype=torch.float64, device="cuda")
    f = theta ** (-2 * i / rotary_dim)
    if llama31 is None:
        return f / scale
    low, high, context = llama31
    wavelen = 2 * math.pi / f
    smooth = ((context / wavelen - low) / (high - low)).clamp(0, 1)
    return (1 - smooth) * f / scale + smooth * f


def reference(x, pos, rotary_dim, interleave, cos=None, sin=None, **freq):
    """x [nnz, H, D] rotated in float64 at positions pos [nnz] (or by the
    given cos/sin [nnz, rotary_dim / 2])."""
    x = x.double()
    if cos is None:
        angle = pos.double()[:, None] * frequencies(rotary_dim, **freq)
        cos, sin = angle.cos(), angle.sin()
    cos, sin = cos[:, None, :].double(), sin[:, None, :].double()
    out = x.clone()
    r = x[..., :rotary_dim]
    if interleave:
        a, b = r[..., 0::2], r[..., 1::2]
        out[..., 0:rotary_dim:2] = a * cos - b * sin
        out[..., 1:rotary_dim:2] = b * cos + a * sin
    else:
        h = rotary_dim // 2
        a, b = r[..., :h], r[..., h:]
        out[..., :h] = a * cos - b * sin
        out[..., h:rotary_dim] = b * cos + a * sin
    return out


def check(got, ref, dtype, what):
    assert not torch.isnan(got).any(), f"{what}: NaN (an unwritten element)"
    err = ((got.double() - ref).norm() / ref.norm()).item()
    assert err < TOL[dtype], f"{what}: rel err {err:.2e}"
    return err


def ragged(lens, g):
    indptr = torch.tensor([0] + list(itertools_accumulate(lens)),
                          dtype=torch.int32, device="cuda")
    offsets = torch.randint(0, 3000, (len(lens),), generator=g,
                            device="cuda", dtype=torch.int32)
    pos = torch.cat([offsets[b] + torch.arange(n, device="cuda")
                     for b, n in enumerate(lens)]).to(torch.int32) \
        if sum(lens) else torch.zeros(0, dtype=torch.int32, device="cuda")
    return indptr, offsets, pos


def itertools_accumulate(xs):
    total = 0
    for x in xs:
        total += x
        yield total


@pytest.mark.parametrize("dtype", ["bf16", "f16"])
@pytest.mark.parametrize("interleave", [False, True])
@pytest.mark.parametrize("shape", [(32, 8, 128), (64, 8, 64), (4, 4, 256)])
@pytest.mark.parametrize("theta_scale", [(1e4, 1.0), (5e5, 1.0), (1e6, 2.0)])
def test_apply_rope_pos_ids(dtype, interleave, shape, theta_scale):
    hq, hk, d = shape
    theta, scale = theta_scale
    g = gen(1)
    nnz = 777
    q, k = rand((nnz, hq, d), DTYPES[dtype], g), rand((nnz, hk, d),
                                                      DTYPES[dtype], g)
    pos = torch.randint(0, 8192, (nnz,), generator=g, device="cuda")
    poison()
    qr, kr = flashinfer.apply_rope_pos_ids(q, k, pos, interleave=interleave,
                                           rope_scale=scale, rope_theta=theta)
    fr = dict(scale=scale, theta=theta)
    check(qr, reference(q, pos, d, interleave, **fr), dtype, "q")
    check(kr, reference(k, pos, d, interleave, **fr), dtype, "k")
    # In place gives the same values.
    q2, k2 = q.clone(), k.clone()
    assert flashinfer.apply_rope_pos_ids_inplace(
        q2, k2, pos, interleave=interleave, rope_scale=scale,
        rope_theta=theta) is None
    assert torch.equal(q2, qr) and torch.equal(k2, kr)


@pytest.mark.parametrize("dtype", ["bf16", "f16"])
@pytest.mark.parametrize("interleave", [False, True])
def test_apply_rope_ragged(dtype, interleave):
    """indptr + offsets: requests of odd lengths and an empty one."""
    g = gen(2)
    lens = [1, 0, 37, 300, 5]
    indptr, offsets, pos = ragged(lens, g)
    nnz = sum(lens)
    q, k = rand((nnz, 32, 128), DTYPES[dtype], g), rand((nnz, 8, 128),
                                                        DTYPES[dtype], g)
    poison()
    qr, kr = flashinfer.apply_rope(q, k, indptr, offsets,
                                   interleave=interleave)
    fr = dict(scale=1.0, theta=1e4)
    check(qr, reference(q, pos, 128, interleave, **fr), dtype, "q")
    check(kr, reference(k, pos, 128, interleave, **fr), dtype, "k")
    flashinfer.apply_rope_inplace(q, k, indptr, offsets,
                                  interleave=interleave)
    assert torch.equal(q, qr) and torch.equal(k, kr)


@pytest.mark.parametrize("form", ["pos_ids", "indptr"])
def test_apply_llama31_rope(form):
    """Llama 3.1's frequency scaling (its defaults: scale 8, theta 5e5,
    factors 1 and 4, context 8192) differs measurably from plain RoPE at
    the same scale, and matches the reference; partial rotary dim."""
    g = gen(3)
    dtype = "f16"
    lens = [100, 1, 900]
    indptr, offsets, pos = ragged(lens, g)
    nnz = sum(lens)
    q, k = rand((nnz, 32, 128), DTYPES[dtype], g), rand((nnz, 8, 128),
                                                        DTYPES[dtype], g)
    poison()
    if form == "pos_ids":
        qr, kr = flashinfer.apply_llama31_rope_pos_ids(q, k, pos)
        plain, _ = flashinfer.apply_rope_pos_ids(q, k, pos, rope_scale=8,
                                                 rope_theta=5e5)
    else:
        qr, kr = flashinfer.apply_llama31_rope(q, k, indptr, offsets)
        plain, _ = flashinfer.apply_rope(q, k, indptr, offsets, rope_scale=8,
                                         rope_theta=5e5)
    fr = dict(scale=8.0, theta=5e5, llama31=(1.0, 4.0, 8192.0))
    ref_q = reference(q, pos, 128, False, **fr)
    check(qr, ref_q, dtype, "q")
    check(kr, reference(k, pos, 128, False, **fr), dtype, "k")
    differ = ((plain.double() - ref_q).norm() / ref_q.norm()).item()
    assert differ > 5 * TOL[dtype], f"llama31 ignored? {differ:.2e}"
    # Partial rotary dim, in place: the tail is untouched.
    q2, k2 = q.clone(), k.clone()
    flashinfer.apply_llama31_rope_pos_ids_inplace(q2, k2, pos, rotary_dim=64)
    check(q2, reference(q, pos, 64, False, **dict(fr)), dtype, "q partial")
    assert torch.equal(q2[..., 64:], q[..., 64:])


@pytest.mark.parametrize("is_neox", [True, False])
@pytest.mark.parametrize("rotary_dim", [128, 64])
def test_apply_rope_with_cos_sin_cache(is_neox, rotary_dim):
    """vLLM's layout: query/key flattened [nnz, heads * head_size], a
    float32 [max_position, rotary_dim] cache, int64 positions."""
    g = gen(4)
    dtype, head_size, nnz = "bf16", 128, 513
    max_pos = 4096
    inv = 1e4 ** (-torch.arange(0, rotary_dim, 2, device="cuda",
                                dtype=torch.float64) / rotary_dim)
    angles = torch.arange(max_pos, device="cuda",
                          dtype=torch.float64)[:, None] * inv
    cache = torch.cat([angles.cos(), angles.sin()], -1).float()
    query = rand((nnz, 32 * head_size), DTYPES[dtype], g)
    key = rand((nnz, 8 * head_size), DTYPES[dtype], g)
    pos = torch.randint(0, max_pos, (nnz,), generator=g, device="cuda")
    poison()
    qo, ko = flashinfer.apply_rope_with_cos_sin_cache(pos, query, key,
                                                      head_size, cache,
                                                      is_neox)
    assert qo.shape == query.shape and ko.shape == key.shape
    cos, sin = cache[pos, :rotary_dim // 2], cache[pos, rotary_dim // 2:]
    for got, x, h in ((qo, query, 32), (ko, key, 8)):
        ref = reference(x.view(nnz, h, head_size), pos, rotary_dim,
                        not is_neox, cos=cos, sin=sin)
        check(got.view(nnz, h, head_size), ref, dtype, "cache")
    flashinfer.apply_rope_with_cos_sin_cache_inplace(pos, query, key,
                                                     head_size, cache,
                                                     is_neox)
    assert torch.equal(query, qo) and torch.equal(key, ko)


def test_rope_fused_qkv_views():
    """q and k sliced from one fused projection [nnz, (Hq + 2 Hk) D], in
    place: only their features change; v stays as it was."""
    g = gen(5)
    hq, hk, d, nnz = 32, 8, 128, 301
    qkv = rand((nnz, (hq + 2 * hk) * d), torch.bfloat16, g)
    before = qkv.clone()
    q = qkv[:, :hq * d].view(nnz, hq, d)
    k = qkv[:, hq * d:(hq + hk) * d].view(nnz, hk, d)
    pos = torch.randint(0, 4096, (nnz,), generator=g, device="cuda")
    qr, kr = flashinfer.apply_rope_pos_ids(q, k, pos)
    flashinfer.apply_rope_pos_ids_inplace(q, k, pos)
    assert torch.equal(q, qr) and torch.equal(k, kr)
    fr = dict(scale=1.0, theta=1e4)
    check(q, reference(before[:, :hq * d].view(nnz, hq, d), pos, d, False,
                       **fr), "bf16", "q view")
    assert torch.equal(qkv[:, (hq + hk) * d:], before[:, (hq + hk) * d:])


def test_rope_empty_and_errors():
    g = gen(6)
    q = rand((0, 32, 128), torch.float16, g)
    k = rand((0, 8, 128), torch.float16, g)
    pos = torch.zeros(0, dtype=torch.int32, device="cuda")
    qr, kr = flashinfer.apply_rope_pos_ids(q, k, pos)
    assert qr.shape == q.shape and kr.shape == k.shape
    indptr = torch.zeros(3, dtype=torch.int32, device="cuda")
    flashinfer.apply_rope_inplace(q, k, indptr,
                                  torch.zeros(2, dtype=torch.int32,
                                              device="cuda"))
    q = rand((5, 32, 128), torch.float16, g)
    k = rand((5, 8, 128), torch.float16, g)
    pos = torch.arange(5, device="cuda")
    with pytest.raises(ValueError, match="pos_ids must have 5 entries"):
        flashinfer.apply_rope_pos_ids(q, k, pos[:4])
    with pytest.raises(ValueError, match="rotary_dim must be even"):
        flashinfer.apply_rope_pos_ids(q, k, pos, rotary_dim=63)
    with pytest.raises(ValueError, match="k must be"):
        flashinfer.apply_rope_pos_ids(q, k[:4], pos)
    with pytest.raises(ValueError, match="share a dtype"):
        flashinfer.apply_rope_pos_ids(q, k.bfloat16(), pos)
    with pytest.raises(ValueError, match="rope_theta must be finite"):
        flashinfer.apply_rope_pos_ids(q, k, pos, rope_theta=0)
    with pytest.raises(ValueError, match="offsets must have 2 entries"):
        flashinfer.apply_rope(q, k, indptr, indptr)
    with pytest.raises(ValueError, match="int32 or int64"):
        flashinfer.apply_rope_pos_ids(q, k, pos.float())
    strided = torch.empty(5, 32, 256, dtype=torch.float16,
                          device="cuda")[..., ::2]
    with pytest.raises(ValueError, match="contiguous"):
        flashinfer.apply_rope_pos_ids(strided, k, pos)
    cache = torch.zeros(16, 128, device="cuda")
    with pytest.raises(ValueError, match="float32"):
        flashinfer.apply_rope_with_cos_sin_cache(pos, q.view(5, -1),
                                                 k.view(5, -1), 128,
                                                 cache.half())
    with pytest.raises(ValueError, match="num_heads \\* head_size"):
        flashinfer.apply_rope_with_cos_sin_cache(pos, q.view(5, -1)[:, 1:],
                                                 k.view(5, -1), 128, cache)


def test_rope_position_outside_cache_is_not_written():
    """A position outside cos_sin_cache leaves that token's rows unwritten
    (in place: unchanged) instead of reading past the cache."""
    g = gen(7)
    q = rand((4, 4, 64), torch.float16, g)
    k = rand((4, 4, 64), torch.float16, g)
    cache = torch.rand(8, 64, device="cuda")
    pos = torch.tensor([0, 8, -1, 7], device="cuda")
    q2, k2 = q.clone(), k.clone()
    flashinfer.apply_rope_with_cos_sin_cache_inplace(pos, q2, k2, 64, cache)
    assert torch.equal(q2[1:3], q[1:3]) and not torch.equal(q2[0], q[0])
    torch.cuda.synchronize()


def test_rope_torch_compile_fullgraph():
    g = gen(8)
    q = rand((64, 32, 128), torch.bfloat16, g)
    k = rand((64, 8, 128), torch.bfloat16, g)
    pos = torch.randint(0, 1000, (64,), generator=g, device="cuda")

    def f(q, k, pos):
        qr, kr = flashinfer.apply_rope_pos_ids(q, k, pos, rope_theta=5e5)
        return qr * 2, kr

    compiled = torch.compile(f, fullgraph=True)
    qc, kc = compiled(q, k, pos)
    qe, ke = f(q, k, pos)
    assert torch.equal(qc, qe) and torch.equal(kc, ke)
