"""GPU tests of FlashInfer's API over our kernels, against float64
references: every attention entry point, merges, the cascade wrappers,
appends, CUDA-graph replay after a new plan, strided views and the errors.
Kernels come from the kernel cache (FLASHINFER_MLIR_KERNELS or the
package's): `python -m flashinfer_mlir.jit build` makes it."""

import math

import pytest

torch = pytest.importorskip("torch")
import flashinfer_mlir as flashinfer  # noqa: E402

pytestmark = pytest.mark.gpu
TOL = 2e-2
DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16}


def gen(seed):
    return torch.Generator(device="cuda").manual_seed(seed)


def rand(shape, dtype, g, scale=1.0):
    return (torch.randn(shape, generator=g, device="cuda") * scale).to(dtype)


def alibi_slopes(n):
    """ALiBi's slopes for n heads (the paper's and FlashInfer's): with m the
    largest power of two <= n, 2^(-8 (i + 1) / m) for the first m heads,
    then every other slope of the series for 2m heads."""
    m = 2 ** int(math.floor(math.log2(n)))
    slopes = [2 ** (-8 * (i + 1) / m) for i in range(m)]
    slopes += [2 ** (-4 * (2 * i + 1) / m) for i in range(n - m)]
    return torch.tensor(slopes, dtype=torch.float64, device="cuda")


def reference(q, k, v, causal=False, sm_scale=None, window_left=-1, cap=0.0,
              alibi=False, sinks=None, score_mod=None, mask_mod=None):
    """float64 attention of one request: q [qo, Hq, D], k/v [kv, Hkv, D];
    causal and the window aligned to the end of the keys; ALiBi's bias
    after the soft cap, then score_mod(s [H, Q, K], h, q, kv) and the mask
    mask_mod(h, q, kv) (position tensors [H,1,1], [1,Q,1], [1,1,K]); sinks
    [Hq] join the denominator. Returns (o [qo, Hq, Dv], base-2 lse [qo,
    Hq])."""
    qo, hq, d = q.shape
    kv, hkv = k.shape[:2]
    g = hq // hkv
    sm_scale = sm_scale or 1 / math.sqrt(d)
    kk = k.double().repeat_interleave(g, dim=1)
    vv = v.double().repeat_interleave(g, dim=1)
    s = torch.einsum("qhd,khd->hqk", q.double(), kk) * sm_scale
    if cap:
        s = cap * torch.tanh(s / cap)
    i = torch.arange(qo, device=q.device)[:, None] + (kv - qo)
    j = torch.arange(kv, device=q.device)[None, :]
    h = torch.arange(hq, device=q.device)[:, None, None]
    if alibi:
        s = s + alibi_slopes(hq)[:, None, None] * (j - i)[None]
    if score_mod is not None:
        s = score_mod(s, h, i[None], j[None])
    mask = torch.ones(qo, kv, dtype=torch.bool, device=q.device)
    if causal:
        mask &= j <= i
    if window_left >= 0:
        mask &= j >= i - window_left
    mask = mask[None].expand(hq, qo, kv)
    if mask_mod is not None:
        mask = mask & mask_mod(h, i[None], j[None])
    s = s.masked_fill(~mask, -math.inf)
    if sinks is not None:
        sink = sinks.double()[:, None, None].expand(hq, qo, 1)
        lse = torch.logsumexp(torch.cat([s, sink], -1), -1)
        # A row that sees no key: o = 0 and lse -inf, sink or not.
        lse = lse.masked_fill(~mask.any(-1), -math.inf)
    else:
        lse = torch.logsumexp(s, -1)
    p = torch.exp(s - lse[..., None]).nan_to_num(0.0)
    o = torch.einsum("hqk,khd->qhd", p, vv)
    return o, (lse / math.log(2)).transpose(0, 1)


def close(out, ref, what):
    assert torch.isfinite(out).all(), f"{what}: non-finite output"
    err = (out.double() - ref).abs().max().item()
    scale = max(ref.abs().max().item(), 1e-6)
    assert err / scale < TOL, f"{what}: relative error {err / scale:.3g}"


def close_lse(lse, ref, what):
    fin = torch.isfinite(ref)
    if fin.any():
        assert (lse[fin] - ref[fin]).abs().max().item() < 0.05, what
    assert (lse[~fin] == -math.inf).all() or not (~fin).any(), what


# -- single requests ----------------------------------------------------------

@pytest.mark.parametrize("dtype", ["bf16", "f16"])
@pytest.mark.parametrize("heads", [(32, 8), (32, 32), (4, 4)])
@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("kv_len", [1, 17, 1000, 33001])
def test_single_decode(dtype, heads, layout, kv_len):
    hq, hkv = heads
    t, g = DTYPES[dtype], gen(kv_len + hq)
    q = rand((hq, 128), t, g)
    k, v = rand((kv_len, hkv, 128), t, g), rand((kv_len, hkv, 128), t, g)
    kk, vv = ((k.transpose(0, 1).contiguous(), v.transpose(0, 1).contiguous())
              if layout == "HND" else (k, v))
    o, lse = flashinfer.single_decode_with_kv_cache(
        q, kk, vv, kv_layout=layout, return_lse=True)
    ro, rl = reference(q[None], k, v)
    assert o.shape == (hq, 128) and lse.shape == (hq,)
    close(o, ro[0], "single decode")
    close_lse(lse, rl[0], "single decode lse")
    assert torch.equal(flashinfer.single_decode_with_kv_cache(
        q, kk, vv, kv_layout=layout), o)


@pytest.mark.parametrize("d", [64, 256])
def test_single_decode_head_dims(d):
    g = gen(d)
    q = rand((32, d), torch.bfloat16, g)
    k, v = rand((777, 8, d), torch.bfloat16, g), rand((777, 8, d),
                                                       torch.bfloat16, g)
    close(flashinfer.single_decode_with_kv_cache(q, k, v),
          reference(q[None], k, v)[0][0], f"decode d{d}")


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lens", [(1, 1), (17, 1000), (1000, 1000),
                                  (128, 4096), (0, 5)])
def test_single_prefill(causal, lens):
    qo, kv = lens
    g = gen(qo * 7 + kv)
    q = rand((qo, 32, 128), torch.bfloat16, g)
    k, v = rand((kv, 8, 128), torch.bfloat16, g), rand((kv, 8, 128),
                                                        torch.bfloat16, g)
    o, lse = flashinfer.single_prefill_with_kv_cache(q, k, v, causal=causal,
                                                     return_lse=True)
    assert o.shape == (qo, 32, 128) and lse.shape == (qo, 32)
    if qo:
        ro, rl = reference(q, k, v, causal)
        close(o, ro, "single prefill")
        close_lse(lse, rl, "single prefill lse")


@pytest.mark.parametrize("causal", [False, True])
def test_split_head_dims(causal):
    """DeepSeek's prefill: q/k head dim 192, v/o 128, single and ragged."""
    g = gen(61)
    q = rand((300, 16, 192), torch.bfloat16, g)
    k = rand((700, 16, 192), torch.bfloat16, g)
    v = rand((700, 16, 128), torch.bfloat16, g)
    o = flashinfer.single_prefill_with_kv_cache(q, k, v, causal=causal)
    assert o.shape == (300, 16, 128)
    close(o, reference(q, k, v, causal)[0], "single 192/128")
    i32 = dict(dtype=torch.int32, device="cuda")
    qo_indptr = torch.tensor([0, 100, 300], **i32)
    kv_indptr = torch.tensor([0, 300, 700], **i32)
    w = flashinfer.BatchPrefillWithRaggedKVCacheWrapper(workspace())
    w.plan(qo_indptr, kv_indptr, 16, 16, 192, head_dim_vo=128, causal=causal,
           q_data_type=torch.bfloat16)
    o = w.run(q, k, v)
    for b, (s, t) in enumerate([(slice(0, 100), slice(0, 300)),
                                (slice(100, 300), slice(300, 700))]):
        close(o[s], reference(q[s], k[t], v[t], causal)[0],
              f"ragged 192/128 request {b}")


def test_single_prefill_fused_qkv_views():
    """q, k and v sliced from one fused projection (strided views)."""
    g = gen(3)
    qkv = rand((300, 32 + 8 + 8, 128), torch.float16, g)
    q, k, v = qkv[:, :32], qkv[:, 32:40], qkv[:, 40:]
    assert not q.is_contiguous()
    o = flashinfer.single_prefill_with_kv_cache(q, k, v, causal=True)
    close(o, reference(q, k, v, True)[0], "fused qkv prefill")


@pytest.mark.parametrize("variant", [
    dict(sm_scale=0.05), dict(logits_soft_cap=30.0, sm_scale=0.3),
    dict(window_left=100), dict(window_left=0)])
def test_single_variants(variant):
    """sm_scale, the soft cap and the window are launch-time values of one
    kernel each (per switch); each measurably changes the result."""
    g = gen(11)
    q = rand((200, 32, 128), torch.bfloat16, g, 4.0)
    k, v = rand((300, 8, 128), torch.bfloat16, g), rand((300, 8, 128),
                                                         torch.bfloat16, g)
    ref = reference(q, k, v, True, variant.get("sm_scale"),
                    variant.get("window_left", -1),
                    variant.get("logits_soft_cap", 0.0))[0]
    o = flashinfer.single_prefill_with_kv_cache(q, k, v, causal=True,
                                                **variant)
    close(o, ref, f"prefill {variant}")
    plain = flashinfer.single_prefill_with_kv_cache(q, k, v, causal=True)
    assert (plain.double() - o.double()).abs().max() > 0.05
    if "window_left" not in variant:
        d = flashinfer.single_decode_with_kv_cache(q[-1], k, v, **variant)
        close(d, ref[-1], f"decode {variant}")


@pytest.mark.parametrize("variant", [dict(logits_soft_cap=30.0),
                                     dict(window_left=64),
                                     dict(sm_scale=0.02)])
@pytest.mark.parametrize("kind", ["decode", "prefill"])
def test_batch_variants(variant, kind):
    """The batch wrappers plan a variant and pass its values at launch;
    planned again with other values, the same kernels give their results."""
    g = gen(59)
    lens = [1, 40, 700, 130]
    c = Paged(lens, 16, 8, 128, torch.bfloat16, "NHD", g)
    ws = workspace()
    if kind == "decode":
        w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(ws)
        plan = lambda **v: w.plan(c.indptr, c.indices, c.last, 32, 8, 128,
                                  16, q_data_type=torch.bfloat16, **v)
        qo = [1] * len(lens)
    else:
        w = flashinfer.BatchPrefillWithPagedKVCacheWrapper(ws)
        qo = [1, 17, 300, 5]
        qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)),
                                 dtype=torch.int32, device="cuda")
        plan = lambda **v: w.plan(qo_indptr, c.indptr, c.indices, c.last,
                                  32, 8, 128, 16, causal=True,
                                  q_data_type=torch.bfloat16, **v)
    q = rand((sum(qo), 32, 128), torch.bfloat16, g, 3.0)
    for scale in (1.0, 0.5):
        v = {k: (x * scale if k != "window_left" else int(x * scale))
             for k, x in variant.items()}
        plan(**v)
        o = w.run(q, c.cache)
        row = 0
        for b, n in enumerate(lens):
            ref = reference(q[row:row + qo[b]], c.keys[b], c.values[b],
                            kind == "prefill", v.get("sm_scale"),
                            v.get("window_left", -1),
                            v.get("logits_soft_cap", 0.0))[0]
            close(o[row:row + qo[b]], ref, f"{kind} {v} request {b}")
            row += qo[b]


# -- paged caches -------------------------------------------------------------

class Paged:
    """A paged cache of the requests' keys at shuffled pages: one fused
    [pages, 2, ...] tensor (K, V views; unused slots NaN) and its FlashInfer
    page table."""

    def __init__(self, lens, page_size, hkv, d, dtype, layout, g, spare=3,
                 num_pages=None):
        self.lens, self.ps, self.layout = lens, page_size, layout
        pages = [-(-n // page_size) for n in lens]
        num = num_pages or sum(pages) + spare
        slot = (page_size, hkv) if layout == "NHD" else (hkv, page_size)
        self.cache = torch.full((num, 2, *slot, d), float("nan"),
                                device="cuda", dtype=dtype)
        order = torch.randperm(num, generator=g, device="cuda")
        self.keys = [rand((n, hkv, d), dtype, g) for n in lens]
        self.values = [rand((n, hkv, d), dtype, g) for n in lens]
        ids, used = [], 0
        for b, n in enumerate(lens):
            mine = order[used:used + pages[b]]
            used += pages[b]
            ids.append(mine)
            for half, rows in ((0, self.keys[b]), (1, self.values[b])):
                padded = torch.full((pages[b] * page_size, hkv, d),
                                    float("nan"), device="cuda", dtype=dtype)
                padded[:n] = rows
                tiles = padded.view(pages[b], page_size, hkv, d)
                if layout == "HND":
                    tiles = tiles.transpose(1, 2)
                self.cache[mine, half] = tiles
        i32 = dict(dtype=torch.int32, device="cuda")
        self.indptr = torch.tensor([0] + list(
            itertools_accumulate(pages)), **i32)
        self.indices = (torch.cat(ids) if ids else
                        torch.zeros(0, device="cuda")).to(torch.int32)
        self.last = torch.tensor([(n - 1) % page_size + 1 if n else 0
                                  for n in lens], **i32)


def itertools_accumulate(xs):
    total = 0
    for x in xs:
        total += x
        yield total


def workspace():
    return torch.empty(128 << 20, dtype=torch.uint8, device="cuda")


@pytest.mark.parametrize("page_size", [1, 5, 16])
@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("heads", [(32, 8), (32, 32)])
def test_batch_decode(page_size, layout, heads):
    hq, hkv = heads
    g = gen(page_size * 13 + hq)
    lens = [1, 17, 1000, 5, 300, 64]
    if page_size == 16:
        lens.append(32768)
    c = Paged(lens, page_size, hkv, 128, torch.bfloat16, layout, g)
    w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(workspace(), layout)
    w.plan(c.indptr, c.indices, c.last, hq, hkv, 128, page_size,
           q_data_type=torch.bfloat16)
    q = rand((len(lens), hq, 128), torch.bfloat16, g)
    out = torch.full((len(lens), hq, 128), float("nan"), device="cuda",
                     dtype=torch.bfloat16)
    o, lse = w.run(q, c.cache, out=out, return_lse=True)
    assert o is out
    for b in range(len(lens)):
        ro, rl = reference(q[b:b + 1], c.keys[b], c.values[b])
        close(o[b], ro[0], f"decode request {b} ({lens[b]} keys)")
        close_lse(lse[b], rl[0], f"decode lse {b}")
    # The (k, v) tuple form gives the same.
    o2 = w.run(q, (c.cache[:, 0], c.cache[:, 1]))
    assert torch.equal(o2, o)


def test_batch_decode_cuda_graph_replay_after_new_plan():
    g = gen(5)
    hq, hkv, ps, batch = 32, 8, 16, 8
    i32 = dict(dtype=torch.int32, device="cuda")
    bufs = (torch.empty(batch + 1, **i32), torch.empty(4096, **i32),
            torch.empty(batch, **i32))
    w = flashinfer.CUDAGraphBatchDecodeWithPagedKVCacheWrapper(workspace(),
                                                               *bufs)
    assert w.is_cuda_graph_enabled
    c1 = Paged([100, 1, 2000, 33, 7, 512, 16, 900], ps, hkv, 128,
               torch.bfloat16, "NHD", g, num_pages=400)
    w.plan(c1.indptr, c1.indices, c1.last, hq, hkv, 128, ps,
           q_data_type=torch.bfloat16)
    q = rand((batch, hq, 128), torch.bfloat16, g)
    out = torch.empty((batch, hq, 128), dtype=torch.bfloat16, device="cuda")
    w.run(q, c1.cache, out=out)  # warm-up outside the graph
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        w.run(q, c1.cache, out=out)
    # A new plan (new lengths, new pages) into the same buffers, new q and
    # cache contents: the replay reads them all.
    c2 = Paged([3, 4000, 1, 64, 65, 1000, 2, 17], ps, hkv, 128,
               torch.bfloat16, "NHD", g, num_pages=c1.cache.shape[0])
    c1.cache.copy_(c2.cache)
    w.plan(c2.indptr, c2.indices, c2.last, hq, hkv, 128, ps,
           q_data_type=torch.bfloat16)
    q.copy_(rand((batch, hq, 128), torch.bfloat16, g))
    out.fill_(float("nan"))
    graph.replay()
    torch.cuda.synchronize()
    for b in range(batch):
        close(out[b], reference(q[b:b + 1], c2.keys[b], c2.values[b])[0][0],
              f"replayed request {b}")


@pytest.mark.parametrize("layout", ["NHD", "HND"])
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("page_size", [1, 16])
def test_batch_prefill_paged(layout, causal, page_size):
    g = gen(17 + page_size)
    qo = [1, 17, 300, 64, 0]
    kv = [1, 1000, 300, 200, 9]
    c = Paged(kv, page_size, 8, 128, torch.bfloat16, layout, g)
    i32 = dict(dtype=torch.int32, device="cuda")
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    w = flashinfer.BatchPrefillWithPagedKVCacheWrapper(workspace(), layout)
    w.plan(qo_indptr, c.indptr, c.indices, c.last, 32, 8, 128, page_size,
           causal=causal, q_data_type=torch.bfloat16)
    q = rand((sum(qo), 32, 128), torch.bfloat16, g)
    o, lse = w.run(q, c.cache, return_lse=True)
    for b in range(len(qo)):
        if not qo[b]:
            continue
        s = slice(qo_indptr[b].item(), qo_indptr[b + 1].item())
        ro, rl = reference(q[s], c.keys[b], c.values[b], causal)
        close(o[s], ro, f"prefill request {b}")
        close_lse(lse[s], rl, f"prefill lse {b}")


@pytest.mark.parametrize("causal", [True, False])
def test_batch_prefill_ragged(causal):
    g = gen(23)
    qo, kv = [5, 1, 700, 128], [5, 3000, 700, 1000]
    i32 = dict(dtype=torch.int32, device="cuda")
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    kv_indptr = torch.tensor([0] + list(itertools_accumulate(kv)), **i32)
    # q, k, v as views of one fused projection buffer.
    q = rand((sum(qo), 32, 128), torch.bfloat16, g)
    kvbuf = rand((sum(kv), 16, 128), torch.bfloat16, g)
    k, v = kvbuf[:, :8], kvbuf[:, 8:]
    w = flashinfer.BatchPrefillWithRaggedKVCacheWrapper(workspace())
    w.plan(qo_indptr, kv_indptr, 32, 8, 128, causal=causal,
           q_data_type=torch.bfloat16)
    o = w.run(q, k, v)
    for b in range(len(qo)):
        s = slice(qo_indptr[b].item(), qo_indptr[b + 1].item())
        t = slice(kv_indptr[b].item(), kv_indptr[b + 1].item())
        close(o[s], reference(q[s], k[t], v[t], causal)[0],
              f"ragged request {b}")


# -- merges and cascades ------------------------------------------------------

def _state(seq, h, d, g, dtype=torch.bfloat16):
    return rand((seq, h, d), dtype, g), \
        torch.randn((seq, h), generator=g, device="cuda") * 3


def _merge_ref(vs, ss):
    s = torch.stack([x.double() for x in ss])
    m = torch.logsumexp(s * math.log(2), 0) / math.log(2)
    w = torch.exp2(s - m)
    v = sum(w[i][..., None] * vs[i].double() for i in range(len(vs)))
    return v, m


def test_merge_state_and_in_place():
    g = gen(29)
    va, sa = _state(77, 32, 128, g)
    vb, sb = _state(77, 32, 128, g)
    v, s = flashinfer.merge_state(va, sa, vb, sb)
    rv, rs = _merge_ref([va, vb], [sa, sb])
    close(v, rv, "merge_state")
    assert (s.double() - rs).abs().max() < 1e-3
    mask = torch.rand(77, generator=g, device="cuda") > 0.5
    v0, s0 = va.clone(), sa.clone()
    flashinfer.merge_state_in_place(va, sa, vb, sb, mask=mask)
    close(va[mask], rv[mask], "in place, merged rows")
    assert torch.equal(va[~mask], v0[~mask]) and torch.equal(sa[~mask],
                                                             s0[~mask])


def test_merge_states():
    g = gen(31)
    v = rand((50, 5, 32, 128), torch.bfloat16, g)
    s = torch.randn((50, 5, 32), generator=g, device="cuda") * 2
    o, lse = flashinfer.merge_states(v, s)
    rv, rs = _merge_ref(list(v.unbind(1)), list(s.unbind(1)))
    close(o, rv, "merge_states")
    assert (lse.double() - rs).abs().max() < 1e-3


def test_multi_level_cascade_three_levels():
    """Level 0: one prefix shared by all; level 1: shared by pairs; level 2:
    each request's own causal tokens; against one attention over all."""
    g = gen(37)
    ps, hq, hkv, d, batch = 16, 32, 8, 128, 4
    shared = Paged([256], ps, hkv, d, torch.bfloat16, "NHD", g, spare=0)
    pairs = Paged([48, 80], ps, hkv, d, torch.bfloat16, "NHD", g, spare=0)
    own = Paged([20, 7, 33, 16], ps, hkv, d, torch.bfloat16, "NHD", g,
                spare=0)
    # One cache holding the three tables' pages.
    cache = torch.cat([shared.cache, pairs.cache, own.cache])
    off1, off2 = shared.cache.shape[0], shared.cache.shape[0] + \
        pairs.cache.shape[0]
    i32 = dict(dtype=torch.int32, device="cuda")
    qo = [4, 1, 6, 3]
    qo_all = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    qo_pairs = torch.tensor([0, qo[0] + qo[1], sum(qo)], **i32)
    qo_shared = torch.tensor([0, sum(qo)], **i32)
    w = flashinfer.MultiLevelCascadeAttentionWrapper(3, workspace(), "NHD")
    w.plan([qo_shared, qo_pairs, qo_all],
           [shared.indptr, pairs.indptr, own.indptr],
           [shared.indices, pairs.indices + off1, own.indices + off2],
           [shared.last, pairs.last, own.last], hq, hkv, d, ps, causal=True,
           q_data_type=torch.bfloat16)
    q = rand((sum(qo), hq, d), torch.bfloat16, g)
    o = w.run(q, cache)
    for b in range(batch):
        keys = torch.cat([shared.keys[0], pairs.keys[b // 2], own.keys[b]])
        vals = torch.cat([shared.values[0], pairs.values[b // 2],
                          own.values[b]])
        s = slice(qo_all[b].item(), qo_all[b + 1].item())
        # Causal within the request's own tokens, full over the prefixes.
        close(o[s], reference(q[s], keys, vals, True)[0],
              f"cascade request {b}")


def test_shared_prefix_decode():
    g = gen(41)
    k_shared = rand((500, 8, 128), torch.bfloat16, g)
    v_shared = rand((500, 8, 128), torch.bfloat16, g)
    c = Paged([1, 40, 300], 16, 8, 128, torch.bfloat16, "NHD", g)
    w = flashinfer.BatchDecodeWithSharedPrefixPagedKVCacheWrapper(workspace())
    w.begin_forward(c.indptr, c.indices, c.last, 32, 8, 128, 16,
                    data_type=torch.bfloat16)
    q = rand((3, 32, 128), torch.bfloat16, g)
    o = w.forward(q, k_shared, v_shared, c.cache)
    for b in range(3):
        keys = torch.cat([k_shared, c.keys[b]])
        vals = torch.cat([v_shared, c.values[b]])
        close(o[b], reference(q[b:b + 1], keys, vals)[0][0],
              f"shared-prefix decode {b}")


def test_append_paged_kv_cache():
    g = gen(43)
    ps = 16
    old = [0, 20, 15]
    new = [5, 1, 17]
    total = [a + b for a, b in zip(old, new)]
    c = Paged(total, ps, 8, 128, torch.bfloat16, "NHD", g)
    i32 = dict(dtype=torch.int32, device="cuda")
    append_indptr = torch.tensor([0] + list(itertools_accumulate(new)),
                                 **i32)
    seq_lens = flashinfer.get_seq_lens(c.indptr, c.last, ps)
    assert seq_lens.tolist() == total
    nnz = sum(new)
    bi, pos = flashinfer.get_batch_indices_positions(append_indptr, seq_lens,
                                                     nnz + 2)
    assert bi[-2:].tolist() == [-1, -1] and pos[-2:].tolist() == [0, 0]
    bi, pos = flashinfer.get_batch_indices_positions(append_indptr, seq_lens,
                                                     nnz)
    exp_b = sum(([b] * n for b, n in enumerate(new)), [])
    exp_p = sum((list(range(o, o + n)) for o, n in zip(old, new)), [])
    assert bi.tolist() == exp_b and pos.tolist() == exp_p
    k_new = torch.cat([c.keys[b][old[b]:] for b in range(3)]) * -1
    v_new = torch.cat([c.values[b][old[b]:] for b in range(3)]) * -1
    before = c.cache.clone()
    flashinfer.append_paged_kv_cache(k_new, v_new, bi, pos, c.cache,
                                     c.indices, c.indptr, c.last)
    changed = (c.cache != before) & ~(c.cache.isnan() & before.isnan())
    assert changed.sum().item() == 2 * nnz * 8 * 128
    # Decode over the updated cache sees the new rows.
    w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(workspace())
    w.plan(c.indptr, c.indices, c.last, 32, 8, 128, ps,
           q_data_type=torch.bfloat16)
    q = rand((3, 32, 128), torch.bfloat16, g)
    o = w.run(q, c.cache)
    for b in range(3):
        keys = torch.cat([c.keys[b][:old[b]], -c.keys[b][old[b]:]])
        vals = torch.cat([c.values[b][:old[b]], -c.values[b][old[b]:]])
        close(o[b], reference(q[b:b + 1], keys, vals)[0][0], f"after {b}")


# -- errors -------------------------------------------------------------------

def test_errors():
    g = gen(47)
    q = rand((32, 128), torch.bfloat16, g)
    k = rand((10, 8, 128), torch.bfloat16, g)
    with pytest.raises(KeyError, match="Invalid kv_layout"):
        flashinfer.single_decode_with_kv_cache(q, k, k, kv_layout="NDH")
    with pytest.raises(KeyError, match="Invalid pos_encoding_mode"):
        flashinfer.single_decode_with_kv_cache(q, k, k,
                                               pos_encoding_mode="ROPE")
    with pytest.raises(ValueError, match="must be 2-D"):
        flashinfer.single_decode_with_kv_cache(q[None], k, k)
    with pytest.raises(ValueError, match="multiple of num_kv_heads"):
        flashinfer.single_decode_with_kv_cache(q[:30], k, k)
    # v shorter than k: the runtime names the argument.
    with pytest.raises((ValueError, RuntimeError), match="'v'"):
        flashinfer.single_decode_with_kv_cache(q, k, k[:5])
    w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(workspace())
    with pytest.raises(RuntimeError, match="plan"):
        w.run(q[None], (k[None], k[None]))
    c = Paged([5, 9], 16, 8, 128, torch.bfloat16, "NHD", g)
    with pytest.raises(ValueError, match="last_page_len|kv_last_page_len"):
        w.plan(c.indptr, c.indices, c.last + 16, 32, 8, 128, 16,
               q_data_type=torch.bfloat16)
    w.plan(c.indptr, c.indices, c.last, 32, 8, 128, 16,
           q_data_type=torch.bfloat16)
    with pytest.raises(ValueError, match="q is"):
        w.run(rand((2, 32, 128), torch.float16, g), c.cache)
    with pytest.raises(ValueError, match="batch"):
        w.run(rand((3, 32, 128), torch.bfloat16, g), c.cache)
    # Sinks of the wrong length: the runtime names the argument.
    with pytest.raises((ValueError, RuntimeError), match="sinks"):
        w.run(rand((2, 32, 128), torch.bfloat16, g), c.cache,
              sinks=torch.zeros(31, device="cuda"))
    with pytest.raises(NotImplementedError, match="float8"):
        w.plan(c.indptr, c.indices, c.last, 32, 8, 128, 16,
               q_data_type=torch.bfloat16, kv_data_type=torch.float8_e4m3fn)


# -- variants: ALiBi, sinks, user-defined functions -------------------------

def differs(out, ref_without, what):
    """A variant silently ignored must fail: the output is measurably not
    the plain kernel's."""
    err = (out.double() - ref_without).abs().max().item()
    scale = max(ref_without.abs().max().item(), 1e-6)
    assert err / scale > 5 * TOL, f"{what}: indistinguishable from no variant"


@pytest.mark.parametrize("kind", ["decode", "prefill"])
@pytest.mark.parametrize("heads", [(32, 32), (32, 8)])
def test_alibi_single(kind, heads):
    hq, hkv = heads
    g = gen(71 + hq + hkv)
    kv = 1000
    k, v = rand((kv, hkv, 128), torch.float16, g), rand((kv, hkv, 128),
                                                         torch.float16, g)
    if kind == "decode":
        q = rand((hq, 128), torch.float16, g)
        o = flashinfer.single_decode_with_kv_cache(q, k, v,
                                                   pos_encoding_mode="ALIBI")
        ref, plain = (reference(q[None], k, v, alibi=a)[0][0]
                      for a in (True, False))
    else:
        q = rand((200, hq, 128), torch.float16, g)
        o = flashinfer.single_prefill_with_kv_cache(
            q, k, v, causal=True, pos_encoding_mode="ALIBI")
        ref, plain = (reference(q, k, v, True, alibi=a)[0]
                      for a in (True, False))
    close(o, ref, f"ALiBi single {kind}")
    differs(o, plain, f"ALiBi single {kind}")


@pytest.mark.parametrize("kind", ["decode", "prefill", "ragged"])
def test_alibi_batch(kind):
    g = gen(73)
    lens = [1, 40, 700, 130, 2000]
    ws = workspace()
    hq, hkv = 32, 8
    if kind == "ragged":
        qo = [1, 17, 300, 5, 64]
        i32 = dict(dtype=torch.int32, device="cuda")
        qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
        kv_indptr = torch.tensor([0] + list(itertools_accumulate(lens)),
                                 **i32)
        keys = rand((sum(lens), hkv, 128), torch.bfloat16, g)
        vals = rand((sum(lens), hkv, 128), torch.bfloat16, g)
        w = flashinfer.BatchPrefillWithRaggedKVCacheWrapper(ws)
        w.plan(qo_indptr, kv_indptr, hq, hkv, 128, causal=True,
               pos_encoding_mode="ALIBI", q_data_type=torch.bfloat16)
        kvs = [(keys[kv_indptr[b]:kv_indptr[b + 1]],
                vals[kv_indptr[b]:kv_indptr[b + 1]]) for b in range(len(lens))]
        run = lambda q: w.run(q, keys, vals)
    else:
        c = Paged(lens, 16, hkv, 128, torch.bfloat16, "NHD", g)
        kvs = list(zip(c.keys, c.values))
        if kind == "decode":
            w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(ws)
            w.plan(c.indptr, c.indices, c.last, hq, hkv, 128, 16,
                   pos_encoding_mode="ALIBI", q_data_type=torch.bfloat16)
            qo = [1] * len(lens)
        else:
            qo = [1, 17, 300, 5, 64]
            qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)),
                                     dtype=torch.int32, device="cuda")
            w = flashinfer.BatchPrefillWithPagedKVCacheWrapper(ws)
            w.plan(qo_indptr, c.indptr, c.indices, c.last, hq, hkv, 128, 16,
                   causal=True, pos_encoding_mode="ALIBI",
                   q_data_type=torch.bfloat16)
        run = lambda q: w.run(q, c.cache)
    q = rand((sum(qo), hq, 128), torch.bfloat16, g)
    o = run(q)
    row = 0
    for b in range(len(lens)):
        rq = q[row:row + qo[b]]
        ref = reference(rq, *kvs[b], kind != "decode", alibi=True)[0]
        close(o[row:row + qo[b]], ref, f"ALiBi {kind} request {b}")
        if lens[b] > 100:
            differs(o[row:row + qo[b]],
                    reference(rq, *kvs[b], kind != "decode")[0],
                    f"ALiBi {kind} request {b}")
        row += qo[b]


@pytest.mark.parametrize("kind", ["decode", "prefill"])
@pytest.mark.parametrize("shape", [(64, 8, 64), (32, 8, 128)])
@pytest.mark.parametrize("window", [-1, 64])
def test_sinks(kind, shape, window):
    """gpt-oss's sinks: one logit per query head in the denominator; the
    split-KV merge counts them for decode, the kernel's epilogue for
    prefill (the ragged wrapper's run takes none, as FlashInfer's). A run
    without sinks before and after gives the plain result (the wrapper plans
    the other kernel)."""
    hq, hkv, d = shape
    g = gen(79 + hq + d + window)
    lens = [1, 40, 700, 130, 2000]
    ws = workspace()
    # Large enough to move every request's output (e^7 against the keys'
    # sum of about 1.6 per key).
    sinks = (torch.randn(hq, generator=g, device="cuda") * 0.5 + 7).float()
    wl = dict(window_left=window) if window >= 0 else {}
    c = Paged(lens, 16, hkv, d, torch.bfloat16, "HND", g)
    kvs = list(zip(c.keys, c.values))
    if kind == "decode":
        w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(ws, "HND")
        w.plan(c.indptr, c.indices, c.last, hq, hkv, d, 16,
               q_data_type=torch.bfloat16, **wl)
        qo = [1] * len(lens)
    else:
        qo = [1, 17, 300, 5, 64]
        qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)),
                                 dtype=torch.int32, device="cuda")
        w = flashinfer.BatchPrefillWithPagedKVCacheWrapper(ws, "HND")
        w.plan(qo_indptr, c.indptr, c.indices, c.last, hq, hkv, d, 16,
               causal=True, q_data_type=torch.bfloat16, **wl)
    run = lambda q, **kw: w.run(q, c.cache, return_lse=True, **kw)
    q = rand((sum(qo), hq, d), torch.bfloat16, g)
    plain_first, _ = run(q)
    out = torch.full((sum(qo), hq, d), float("nan"), device="cuda",
                     dtype=torch.bfloat16)
    o, lse = run(q, sinks=sinks, out=out)
    assert o is out
    plain_after, _ = run(q)
    assert torch.equal(plain_first, plain_after)
    # A new plan keeps the last run's kernel (FlashInfer's loop: plan, then
    # run with the sinks, every step), so it plans once per step.
    o_sinks, _ = run(q, sinks=sinks)
    if kind == "decode":
        w.plan(c.indptr, c.indices, c.last, hq, hkv, d, 16,
               q_data_type=torch.bfloat16, **wl)
    else:
        w.plan(qo_indptr, c.indptr, c.indices, c.last, hq, hkv, d, 16,
               causal=True, q_data_type=torch.bfloat16, **wl)
    assert w._spec.sinks
    assert torch.equal(run(q, sinks=sinks)[0], o_sinks)
    row = 0
    for b in range(len(lens)):
        rq = q[row:row + qo[b]]
        causal = kind != "decode"
        ro, rl = reference(rq, *kvs[b], causal, window_left=window,
                           sinks=sinks)
        rows = slice(row, row + qo[b])
        close(o[rows], ro, f"sinks {kind} request {b}")
        close_lse(lse[rows], rl, f"sinks {kind} lse {b}")
        plain = reference(rq, *kvs[b], causal, window_left=window)[0]
        close(plain_first[rows], plain, f"no sinks {kind} request {b}")
        differs(o[rows], plain, f"sinks {kind} request {b}")
        row += qo[b]


@pytest.mark.parametrize("heads", [(32, 8), (32, 32)])
@pytest.mark.parametrize("packed", [False, True])
def test_single_prefill_custom_mask(heads, packed):
    """One request's custom mask (FlashInfer's custom_mask or its packbits
    form): a random mask with an all-zero row (output 0, lse -inf); causal
    is ignored under a mask, as FlashInfer ignores it."""
    hq, hkv = heads
    g = gen(97 + hq + packed)
    qo, kv = 300, 1000
    q = rand((qo, hq, 128), torch.float16, g)
    k, v = rand((kv, hkv, 128), torch.float16, g), rand((kv, hkv, 128),
                                                         torch.float16, g)
    mask = torch.rand((qo, kv), generator=g, device="cuda") < 0.3
    mask[7] = False
    kwargs = dict(custom_mask=mask)
    if packed:
        bits = torch.cat([mask.reshape(-1),
                          mask.new_zeros((-mask.numel()) % 8)])
        weights = 2 ** torch.arange(8, device="cuda")
        kwargs = dict(packed_custom_mask=(bits.view(-1, 8).long() *
                                          weights).sum(-1).to(torch.uint8))
    o, lse = flashinfer.single_prefill_with_kv_cache(
        q, k, v, causal=True, return_lse=True, **kwargs)
    ro, rl = reference(q, k, v, mask_mod=lambda h, i, j: mask[None])
    close(o, ro, "custom mask")
    close_lse(lse, rl, "custom mask lse")
    assert (o[7] == 0).all() and (lse[7] == -math.inf).all()
    differs(o, reference(q, k, v, True)[0], "custom mask")
    with pytest.raises(ValueError, match="custom_mask must be"):
        flashinfer.single_prefill_with_kv_cache(q, k, v,
                                                custom_mask=mask[:, :-1])
    with pytest.raises(ValueError, match="packed_custom_mask must be"):
        flashinfer.single_prefill_with_kv_cache(
            q, k, v, packed_custom_mask=torch.zeros(5, dtype=torch.uint8,
                                                    device="cuda"))


@pytest.mark.parametrize("kind", ["paged", "ragged"])
@pytest.mark.parametrize("packed", [False, True])
def test_batch_prefill_custom_mask(kind, packed):
    """A batch's custom masks, as FlashInfer takes them: the flattened
    [qo_len, kv_len] bool masks, or each request's packed (packbits,
    little-endian) and padded to whole bytes (segment_packbits)."""
    g = gen(101 + packed + len(kind))
    qo, kv = [1, 17, 300, 5, 64], [1, 1000, 300, 200, 9]
    i32 = dict(dtype=torch.int32, device="cuda")
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    masks = [torch.rand((a, b), generator=g, device="cuda") < 0.4
             for a, b in zip(qo, kv)]
    masks[2][5] = False  # a row that sees no key
    if packed:
        weights = 2 ** torch.arange(8, device="cuda")
        segs = []
        for m in masks:
            bits = m.reshape(-1)
            bits = torch.cat([bits, bits.new_zeros((-bits.numel()) % 8)])
            segs.append((bits.view(-1, 8).long() * weights).sum(-1))
        mask_args = dict(packed_custom_mask=torch.cat(segs).to(torch.uint8))
    else:
        mask_args = dict(custom_mask=torch.cat([m.reshape(-1)
                                                for m in masks]))
    ws = workspace()
    if kind == "paged":
        c = Paged(kv, 16, 8, 128, torch.bfloat16, "NHD", g)
        kvs = list(zip(c.keys, c.values))
        w = flashinfer.BatchPrefillWithPagedKVCacheWrapper(ws)
        w.plan(qo_indptr, c.indptr, c.indices, c.last, 32, 8, 128, 16,
               causal=True, q_data_type=torch.bfloat16, **mask_args)
        run = lambda q: w.run(q, c.cache, return_lse=True)
    else:
        kv_indptr = torch.tensor([0] + list(itertools_accumulate(kv)), **i32)
        keys = rand((sum(kv), 8, 128), torch.bfloat16, g)
        vals = rand((sum(kv), 8, 128), torch.bfloat16, g)
        kvs = [(keys[kv_indptr[b]:kv_indptr[b + 1]],
                vals[kv_indptr[b]:kv_indptr[b + 1]]) for b in range(len(kv))]
        w = flashinfer.BatchPrefillWithRaggedKVCacheWrapper(ws)
        w.plan(qo_indptr, kv_indptr, 32, 8, 128, causal=True,
               q_data_type=torch.bfloat16, **mask_args)
        run = lambda q: w.run(q, keys, vals, return_lse=True)
    q = rand((sum(qo), 32, 128), torch.bfloat16, g)
    o, lse = run(q)
    for b in range(len(qo)):
        s = slice(qo_indptr[b].item(), qo_indptr[b + 1].item())
        m = masks[b]
        ro, rl = reference(q[s], *kvs[b], mask_mod=lambda h, i, j: m[None])
        close(o[s], ro, f"{kind} custom mask request {b}")
        close_lse(lse[s], rl, f"{kind} custom mask lse {b}")
        if qo[b] >= 17:
            differs(o[s], reference(q[s], *kvs[b], True)[0],
                    f"{kind} custom mask request {b}")
    assert (o[1 + 17 + 5] == 0).all()


def test_variants_on_user_inputs():
    """Variants on what users pass: q, k and v sliced from fused
    projections, an empty request, a last page holding one token (17 keys on
    16-token pages), and a bad page table, which plan() rejects."""
    g = gen(103)
    i32 = dict(dtype=torch.int32, device="cuda")
    # Ragged prefill with a batch custom mask over views of fused buffers.
    qo, kv = [5, 0, 17, 300], [5, 9, 17, 1000]
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    kv_indptr = torch.tensor([0] + list(itertools_accumulate(kv)), **i32)
    qkv = rand((sum(qo), 48, 128), torch.bfloat16, g)
    q = qkv[:, :32]
    kvbuf = rand((sum(kv), 16, 128), torch.bfloat16, g)
    k, v = kvbuf[:, :8], kvbuf[:, 8:]
    masks = [torch.rand((a, b), generator=g, device="cuda") < 0.5
             for a, b in zip(qo, kv)]
    w = flashinfer.BatchPrefillWithRaggedKVCacheWrapper(workspace())
    w.plan(qo_indptr, kv_indptr, 32, 8, 128, q_data_type=torch.bfloat16,
           custom_mask=torch.cat([m.reshape(-1) for m in masks]))
    o = w.run(q, k, v)
    for b in range(len(qo)):
        if not qo[b]:
            continue
        s = slice(qo_indptr[b].item(), qo_indptr[b + 1].item())
        t = slice(kv_indptr[b].item(), kv_indptr[b + 1].item())
        m = masks[b]
        close(o[s], reference(q[s], k[t], v[t],
                              mask_mod=lambda h, i, j: m[None])[0],
              f"views custom mask request {b}")
    # Paged prefill with sinks: K/V halves of one cache, an empty request,
    # 17 keys on 16-token pages.
    lens, qo = [17, 40, 1], [3, 0, 1]
    c = Paged(lens, 16, 8, 128, torch.bfloat16, "NHD", g)
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    sinks = torch.full((32,), 4.0, device="cuda")
    w = flashinfer.BatchPrefillWithPagedKVCacheWrapper(workspace())
    with pytest.raises(ValueError, match="last_page_len"):
        w.plan(qo_indptr, c.indptr, c.indices, c.last + 16, 32, 8, 128, 16,
               causal=True, q_data_type=torch.bfloat16)
    w.plan(qo_indptr, c.indptr, c.indices, c.last, 32, 8, 128, 16,
           causal=True, q_data_type=torch.bfloat16)
    q = rand((sum(qo), 32, 128), torch.bfloat16, g)
    o = w.run(q, (c.cache[:, 0], c.cache[:, 1]), sinks=sinks)
    row = 0
    for b in range(len(lens)):
        if qo[b]:
            close(o[row:row + qo[b]],
                  reference(q[row:row + qo[b]], c.keys[b], c.values[b], True,
                            sinks=sinks)[0], f"sinks views request {b}")
        row += qo[b]


def _variant_case(name):
    import variant_specs
    return variant_specs.CASES[name]


@pytest.mark.parametrize("name", ["relative_bias", "document_mask",
                                  "prefix_lm", "tanh_cap_alibi"])
def test_user_variant_ragged_prefill(name):
    """User-defined score/mask functions (attn regions, FlexAttention-style)
    compiled into the ragged batch prefill kernel, against the same
    functions in torch."""
    from flashinfer_mlir._api import _module
    from flashinfer_mlir.prefill import BatchPrefill
    spec, score_mod, mask_mod, causal = _variant_case(name)
    g = gen(83 + len(name))
    qo, kv = [5, 1, 300, 128, 60], [5, 1000, 300, 700, 60]
    i32 = dict(dtype=torch.int32, device="cuda")
    qo_indptr = torch.tensor([0] + list(itertools_accumulate(qo)), **i32)
    kv_indptr = torch.tensor([0] + list(itertools_accumulate(kv)), **i32)
    q = rand((sum(qo), 32, 128), torch.float16, g, 2.0)
    k = rand((sum(kv), 8, 128), torch.float16, g)
    v = rand((sum(kv), 8, 128), torch.float16, g)
    impl = BatchPrefill(_module(spec, "cuda"), max_batch_size=len(qo),
                        max_num_tokens=sum(qo), max_num_pages=0,
                        device=torch.device("cuda"))
    impl.plan(qo_indptr, kv_indptr)
    out = torch.full_like(q, float("nan"))
    o, lse = impl.run(q, (k, v), out=out,
                      variant_values=dict(sm_scale=1 / math.sqrt(128)))
    alibi = spec.pos_encoding == "alibi"
    for b in range(len(qo)):
        s = slice(qo_indptr[b].item(), qo_indptr[b + 1].item())
        t = slice(kv_indptr[b].item(), kv_indptr[b + 1].item())
        ro, rl = reference(q[s], k[t], v[t], causal, alibi=alibi,
                           score_mod=score_mod, mask_mod=mask_mod)
        close(o[s], ro, f"{name} request {b}")
        close_lse(lse[s], rl, f"{name} lse {b}")
        # (A lone last query sees every key under a prefix-LM mask too.)
        if kv[b] >= 300 and qo[b] >= 100:
            differs(o[s], reference(q[s], k[t], v[t], causal)[0],
                    f"{name} request {b}")


def test_user_variant_paged_decode():
    """A per-head bias (each packed row its own head) and a document mask in
    the paged batch decode kernel (split-KV + merge)."""
    from flashinfer_mlir._api import _module
    from flashinfer_mlir.decode import PagedDecode
    spec, score_mod, mask_mod, _ = _variant_case("decode_head_bias_document")
    g = gen(89)
    lens = [1, 40, 700, 130, 2000]
    c = Paged(lens, 16, 8, 128, torch.float16, "NHD", g)
    impl = PagedDecode(_module(spec, "cuda"), max_batch_size=len(lens),
                       max_num_pages=c.indices.numel(),
                       device=torch.device("cuda"))
    impl.plan(c.indptr, c.indices, c.last, page_size=16)
    q = rand((len(lens), 32, 128), torch.float16, g, 2.0)
    o, lse = impl.run(q, c.cache,
                      variant_values=dict(sm_scale=1 / math.sqrt(128)))
    for b in range(len(lens)):
        ro, rl = reference(q[b:b + 1], c.keys[b], c.values[b],
                           score_mod=score_mod, mask_mod=mask_mod)
        close(o[b], ro[0], f"decode variant request {b}")
        close_lse(lse[b], rl[0], f"decode variant lse {b}")
        if lens[b] >= 40:
            differs(o[b], reference(q[b:b + 1], c.keys[b], c.values[b])[0][0],
                    f"decode variant request {b}")


# -- torch.compile ------------------------------------------------------------

def test_torch_compile_fullgraph():
    """The entry points trace into one graph (custom ops with fake
    implementations) and give the eager results."""
    g = gen(53)
    q1 = rand((32, 128), torch.bfloat16, g)
    k1, v1 = rand((500, 8, 128), torch.bfloat16, g), rand((500, 8, 128),
                                                           torch.bfloat16, g)
    qp = rand((40, 32, 128), torch.bfloat16, g)
    c = Paged([1, 40, 300], 16, 8, 128, torch.bfloat16, "NHD", g)
    w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(workspace())
    w.plan(c.indptr, c.indices, c.last, 32, 8, 128, 16,
           q_data_type=torch.bfloat16)
    qd = rand((3, 32, 128), torch.bfloat16, g)

    def step(q1, k1, v1, qp, qd, cache):
        o1, s1 = flashinfer.single_decode_with_kv_cache(q1, k1, v1,
                                                        return_lse=True)
        op, sp = flashinfer.single_prefill_with_kv_cache(qp, k1, v1,
                                                         causal=True,
                                                         return_lse=True)
        od, sd = w.run(qd, cache, return_lse=True)
        m, ms = flashinfer.merge_state(od, sd, od * 0.5, sd - 1.0)
        return o1 * 2, op + 1, m, ms

    compiled = torch.compile(step, fullgraph=True)
    got = compiled(q1, k1, v1, qp, qd, c.cache)
    # An append into the cache, compiled, writes what the eager one does.
    i32 = dict(dtype=torch.int32, device="cuda")
    k_new = rand((3, 8, 128), torch.bfloat16, g)
    v_new = rand((3, 8, 128), torch.bfloat16, g)
    bi = torch.tensor([0, 1, 2], **i32)
    pos = torch.tensor([0, 39, 299], **i32)

    def append(cache):
        flashinfer.append_paged_kv_cache(k_new, v_new, bi, pos, cache,
                                         c.indices, c.indptr, c.last)
        return cache

    eager_cache = append(c.cache.clone())
    compiled_cache = torch.compile(append, fullgraph=True)(c.cache.clone())
    same = (eager_cache == compiled_cache) | (eager_cache.isnan() &
                                              compiled_cache.isnan())
    assert same.all() and not torch.equal(eager_cache.nan_to_num(),
                                          c.cache.nan_to_num())
    want = step(q1, k1, v1, qp, qd, c.cache)
    for x, y in zip(got, want):
        assert torch.allclose(x.float(), y.float(), atol=1e-2, rtol=1e-2)
    close(got[0] / 2, reference(q1[None], k1, v1)[0][0], "compiled decode")
