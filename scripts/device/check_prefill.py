#!/usr/bin/env python3
"""Correctness of batch prefill on the GPU: attn.paged_attention with
qo_indptr (a paged cache) and attn.attention with qo_indptr/kv_indptr
(ragged K/V).

For every `prefill_*_kernels.json` and `ragged_*_kernels.json` in KERNEL_DIR
(gen_kernels.py --set prefill): batches through BatchPrefill's plan()/run()
(the runtime's planner), compared with a float64 PyTorch reference per
request (queries aligned to the end of the request's keys). Every case draws
fresh inputs, shuffles page ids (unused pages and slots hold large finite
values, so a wrong read shows), poisons o and lse with NaN and checks that
every row of the batch was written and no row past it. Cases: page sizes 1,
5, 16, 64; batches mixing query lengths 1, 17, 1000 and 4k with key lengths
up to 32k, a request without queries, one without keys, one with more
queries than keys, a last page holding one token; 16 random requests; an
empty batch; q (and ragged k, v) sliced from one fused qkv tensor; o a view
of a larger buffer; a CUDA graph captured once and replayed after
re-planning with new lengths and contents. Each variant case is checked to
differ from the plain reference. Then bad tables and bad arguments must
raise errors naming the fault.

  check_prefill.py KERNEL_DIR [--quick] [--json out.json]
"""
import argparse
import glob
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
sys.path.insert(0, os.path.dirname(__file__))
from check_paged import DTYPES, Cache, report, run_bad_cases  # noqa: E402
from flashinfer_mlir.prefill import BatchPrefill  # noqa: E402
from flashinfer_mlir.runtime import Module  # noqa: E402

TOL = 2e-2
NAN = float("nan")


def reference(qs, ks, vs, params):
    """float64 attention of request b's queries qs[b] [qo, Hq, D] over keys
    ks[b] and values vs[b] [kv, Hkv, D], query i at position kv - qo + i;
    returns per-request o [qo, Hq, Dv] and base-2 lse [qo, Hq]."""
    hq, hkv = params["num_qo_heads"], params["num_kv_heads"]
    group = hq // hkv
    cap = params.get("logits_soft_cap", 0.0)
    window = params.get("window_left", -1)
    outs, lses = [], []
    for q, k, v in zip(qs, ks, vs):
        qo, kv = q.shape[0], k.shape[0]
        o = torch.zeros(qo, hq, params["head_dim_v"], dtype=torch.float64,
                        device="cuda")
        lse = torch.full((qo, hq), -math.inf, dtype=torch.float64,
                         device="cuda")
        if qo and kv:
            kk = k.double().repeat_interleave(group, dim=1)
            vv = v.double().repeat_interleave(group, dim=1)
            kpos = torch.arange(kv, device="cuda")
            for r0 in range(0, qo, 512):
                qq = q[r0:r0 + 512].double()
                s = torch.einsum("qhd,khd->hqk", qq, kk) * params["sm_scale"]
                if cap > 0:
                    s = cap * torch.tanh(s / cap)
                pos = kv - qo + r0 + torch.arange(qq.shape[0], device="cuda")
                mask = torch.zeros_like(s[0], dtype=torch.bool)
                if params["causal"]:
                    mask |= kpos[None, :] > pos[:, None]
                if window >= 0:
                    mask |= kpos[None, :] < pos[:, None] - window
                s = s.masked_fill(mask[None], -math.inf)
                m = s.amax(-1, keepdim=True)
                seen = torch.isfinite(m)
                p = torch.exp(s - torch.where(seen, m, torch.zeros_like(m)))
                l = p.sum(-1, keepdim=True)
                oo = torch.einsum("hqk,khd->qhd", p, vv) / \
                    l.clamp_min(1e-300).permute(1, 0, 2)
                o[r0:r0 + 512] = torch.where(seen.permute(1, 0, 2), oo,
                                             torch.zeros_like(oo))
                ll = ((m + torch.log(l)) / math.log(2)).squeeze(-1)
                lse[r0:r0 + 512] = torch.where(seen.squeeze(-1), ll,
                                               torch.full_like(ll, -math.inf)).T
        outs.append(o)
        lses.append(lse)
    return outs, lses


class Batch:
    """One batch's inputs: per-request queries, and K/V either in a paged
    Cache or ragged (packed rows, optionally sliced from a fused qkv)."""

    def __init__(self, params, dtype, qo_lens, kv_lens, gen, paged,
                 page_size=16, fused_kv=True, fused_qkv=False, spare_rows=0,
                 spare_pages=3):
        hq, hkv, d, dv = (params["num_qo_heads"], params["num_kv_heads"],
                          params["head_dim"], params["head_dim_v"])
        self.qo_indptr = [0]
        for n in qo_lens:
            self.qo_indptr.append(self.qo_indptr[-1] + n)
        tokens = self.qo_indptr[-1] + spare_rows
        if fused_qkv and paged:
            # q is a head range of one projection whose K and V went to the
            # cache.
            qkv = torch.randn(tokens, hq + 2 * hkv, d, generator=gen,
                              device="cuda").to(dtype)
            self.q = qkv[:, :hq]
        elif fused_qkv:
            # One projection's output: q, k and v are head ranges of it.
            assert qo_lens == kv_lens and d == dv
            qkv = torch.randn(tokens, hq + 2 * hkv, d, generator=gen,
                              device="cuda").to(dtype)
            self.q = qkv[:, :hq]
            self.k, self.v = qkv[:, hq:hq + hkv], qkv[:, hq + hkv:]
        else:
            self.q = torch.randn(tokens, hq, d, generator=gen,
                                 device="cuda").to(dtype)
        self.qs = [self.q[a:b] for a, b in zip(self.qo_indptr,
                                                self.qo_indptr[1:])]
        if paged:
            self.cache = Cache(params, dtype, kv_lens, page_size, gen,
                               fused_kv, spare_pages)
            self.keys, self.values = self.cache.keys, self.cache.values
            self.kv_indptr = self.cache.indptr
            return
        self.cache = None
        self.kv_indptr = [0]
        for n in kv_lens:
            self.kv_indptr.append(self.kv_indptr[-1] + n)
        if not fused_qkv:
            rows = self.kv_indptr[-1] + 3
            self.k = torch.randn(rows, hkv, d, generator=gen,
                                 device="cuda").to(dtype)
            self.v = torch.randn(rows, hkv, dv, generator=gen,
                                 device="cuda").to(dtype)
        self.keys = [self.k[a:b] for a, b in zip(self.kv_indptr,
                                                  self.kv_indptr[1:])]
        self.values = [self.v[a:b] for a, b in zip(self.kv_indptr,
                                                    self.kv_indptr[1:])]

    def plan(self, pre, page_size):
        if self.cache is not None:
            return pre.plan(self.qo_indptr, self.kv_indptr, self.cache.indices,
                            self.cache.last, page_size=page_size)
        return pre.plan(self.qo_indptr, self.kv_indptr)

    def kv_arg(self):
        return self.cache.arg() if self.cache is not None else (self.k, self.v)


def compare(o, lse, batch, params, plan, label):
    ref_o, ref_lse = reference(batch.qs, batch.keys, batch.values, params)
    n = batch.qo_indptr[-1]
    written = bool(torch.isfinite(o[:n]).all()) and \
        not bool(torch.isnan(lse[:n]).any())
    # Rows past the batch's (spare rows of q and o) stay untouched.
    untouched = bool(torch.isnan(o[n:]).all()) and \
        bool(torch.isnan(lse[n:]).all())
    got_o = torch.cat([o[:n].double()]) if n else o[:0].double()
    want_o = torch.cat(ref_o) if ref_o else got_o
    want_lse = torch.cat(ref_lse) if ref_lse else lse[:0].double()
    den = want_o.norm().item()
    rel = ((got_o - want_o).norm().item() / den) if den > 0 else \
        got_o.norm().item()
    finite = torch.isfinite(want_lse)
    lse_err = ((lse[:n].double() - want_lse).abs()[finite].max().item()
               if finite.any() else 0.0)
    lse_inf_ok = bool((lse[:n][~finite] == -math.inf).all())
    sensitive = True
    variant = params["causal"] or params.get("window_left", -1) >= 0 or \
        params.get("logits_soft_cap", 0.0) > 0
    if variant and n > 200:
        plain = dict(params, causal=False, window_left=-1,
                     logits_soft_cap=0.0)
        p_o, _ = reference(batch.qs, batch.keys, batch.values, plain)
        p_o = torch.cat(p_o)
        sensitive = ((got_o - p_o).norm() / p_o.norm()).item() > 0.02
    ok = (written and untouched and lse_inf_ok and sensitive and rel < TOL
          and lse_err < 0.05)
    return dict(label=label, ok=ok, rel=rel, lse_err=lse_err,
                items=plan.num_work_items, written=written,
                untouched=untouched, sensitive=sensitive)


def check(pre, params, dtype, qo_lens, kv_lens, gen, page_size=16,
          label="", o_view=False, **batch_kw):
    b = Batch(params, dtype, qo_lens, kv_lens, gen, pre.paged, page_size,
              **batch_kw)
    plan = b.plan(pre, page_size)
    hq, dv = params["num_qo_heads"], params["head_dim_v"]
    rows = b.q.shape[0]
    if o_view:
        # o is every other row of a larger buffer, lse a column of one.
        big = torch.full((2 * rows, hq, dv), NAN, device="cuda", dtype=dtype)
        o = big[::2]
        lse = torch.full((rows, hq + 3), NAN, device="cuda")[:, 1:hq + 1]
    else:
        o = torch.full((rows, hq, dv), NAN, device="cuda", dtype=dtype)
        lse = torch.full((rows, hq), NAN, device="cuda")
    pre.run(b.q, b.kv_arg(), out=o, lse=lse, validate=pre.paged)
    torch.cuda.synchronize()
    r = compare(o, lse, b, params, plan, label)
    if o_view and not bool(torch.isnan(big[1::2]).all()):
        r.update(ok=False, untouched=False)
    return r


def graph_case(pre, params, dtype, gen, page_size):
    """Captures run() once on buffers of the largest size, then replays it
    after re-planning the same batch size with new lengths and contents."""
    qo_a, kv_a = [300, 1, 700, 64], [300, 900, 4000, 64]
    qo_b, kv_b = [17, 1000, 1, 128], [17, 1200, 3000, 128]
    tokens = max(sum(qo_a), sum(qo_b))
    hq, hkv, d, dv = (params["num_qo_heads"], params["num_kv_heads"],
                      params["head_dim"], params["head_dim_v"])
    q_buf = torch.zeros(tokens, hq, d, device="cuda", dtype=dtype)
    o_buf = torch.zeros(tokens, hq, dv, device="cuda", dtype=dtype)
    lse_buf = torch.zeros(tokens, hq, device="cuda")
    if pre.paged:
        pages = max(sum(-(-n // page_size) for n in kv) for kv in (kv_a, kv_b))
        slot = (page_size, hkv) if params["kv_layout"] == "nhd" else \
            (hkv, page_size)
        k_buf = torch.zeros(pages, *slot, d, device="cuda", dtype=dtype)
        v_buf = torch.zeros(pages, *slot, dv, device="cuda", dtype=dtype)
    else:
        rows = max(sum(kv_a), sum(kv_b))
        k_buf = torch.zeros(rows, hkv, d, device="cuda", dtype=dtype)
        v_buf = torch.zeros(rows, hkv, dv, device="cuda", dtype=dtype)

    def load(qo, kv):
        b = Batch(params, dtype, qo, kv, gen, pre.paged, page_size,
                  fused_kv=False, spare_rows=tokens - sum(qo), spare_pages=0)
        if pre.paged:
            k_buf.fill_(30.0)
            v_buf.fill_(30.0)
            k_buf[:b.cache.k.shape[0]].copy_(b.cache.k)
            v_buf[:b.cache.v.shape[0]].copy_(b.cache.v)
        else:
            n = min(k_buf.shape[0], b.k.shape[0])
            k_buf[:n].copy_(b.k[:n])
            v_buf[:n].copy_(b.v[:n])
            b.keys = [k_buf[x:y] for x, y in zip(b.kv_indptr, b.kv_indptr[1:])]
            b.values = [v_buf[x:y] for x, y in zip(b.kv_indptr,
                                                    b.kv_indptr[1:])]
        q_buf.copy_(b.q)
        b.qs = [q_buf[x:y] for x, y in zip(b.qo_indptr, b.qo_indptr[1:])]
        return b, b.plan(pre, page_size)

    b, plan = load(qo_a, kv_a)
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        pre.run(q_buf, (k_buf, v_buf), out=o_buf, lse=lse_buf)  # warm-up
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        pre.run(q_buf, (k_buf, v_buf), out=o_buf, lse=lse_buf)
    out = []
    for qo, kv, tag in ((qo_a, kv_a, "graph-first"), (qo_b, kv_b,
                                                       "graph-replan")):
        if tag != "graph-first":
            b, plan = load(qo, kv)
        o_buf.fill_(NAN)
        lse_buf.fill_(NAN)
        graph.replay()
        torch.cuda.synchronize()
        out.append(compare(o_buf, lse_buf, b, params, plan, tag))
    return out


def bad_cases(pre, params, dtype, page_size):
    """(label, callable, expected message part): each must raise."""
    hq, hkv, d = params["num_qo_heads"], params["num_kv_heads"], \
        params["head_dim"]
    q = torch.zeros(5, hq, d, device="cuda", dtype=dtype)
    if pre.paged:
        slot = (page_size, hkv) if params["kv_layout"] == "nhd" else \
            (hkv, page_size)
        k = torch.zeros(4, *slot, d, device="cuda", dtype=dtype)
        good = dict(qo_indptr=[0, 2, 5], kv_indptr=[0, 1, 3],
                    kv_indices=[0, 1, 2], kv_last_page_len=[1, page_size],
                    page_size=page_size)
    else:
        k = torch.zeros(20, hkv, d, device="cuda", dtype=dtype)
        good = dict(qo_indptr=[0, 2, 5], kv_indptr=[0, 7, 20])

    def plan(**changes):
        return lambda: pre.plan(**dict(good, **changes))

    def run_with(**kw):
        def go():
            pre.plan(**good)
            args = dict(q=q, kv_cache=(k, k), validate=pre.paged)
            args.update(kw)
            pre.run(**args)
        return go

    cases = [
        ("qo-decreasing", plan(qo_indptr=[0, 3, 2]), "non-decreasing"),
        ("qo-start", plan(qo_indptr=[1, 2, 5]), "qo_indptr[0] must be 0"),
        ("too-many-tokens", plan(qo_indptr=[0, 2, 10 ** 6]),
         "exceed max_num_tokens"),
        ("q-rows", run_with(q=q[:4]), "as planned"),
        ("q-heads", run_with(q=torch.zeros(5, hq // 2, d, device="cuda",
                                           dtype=dtype)), "'q': dimension 1"),
        ("o-rows", run_with(out=torch.zeros(4, hq, params["head_dim_v"],
                                            device="cuda", dtype=dtype)),
         "'o': dimension 0"),
        ("dtype", run_with(q=q.float()), "'q'"),
    ]
    if pre.paged:
        cases += [
            ("kv-indptr-start", plan(kv_indptr=[1, 2, 3]),
             "kv_indptr[0] must be 0"),
            ("indices-length", plan(kv_indices=[0, 1]),
             "must equal the length"),
            ("last-page-big", plan(kv_last_page_len=[1, page_size + 1]),
             "must be in [1,"),
            ("last-page-count", plan(kv_last_page_len=[1]), "entries"),
            ("page-out-of-cache", run_with(kv_cache=(k[:2], k[:2])),
             "kv_indices[2] = 2 is not a page of the cache"),
            ("v-pages", run_with(kv_cache=(k, k[:3])),
             "'v_cache': dimension 0"),
            ("no-page-table", plan(kv_indices=None), "takes kv_indices"),
            ("v-page-size", run_with(kv_cache=(k, torch.zeros(
                4, *[2 * x if x == page_size else x for x in slot], d,
                device="cuda", dtype=dtype))), "'v_cache': dimension"),
        ]
    else:
        cases += [
            ("kv-decreasing", plan(kv_indptr=[0, 7, 6]), "non-decreasing"),
            ("kv-length", plan(kv_indptr=[0, 7]), "entries"),
            ("k-rows", run_with(kv_cache=(k[:19], k[:19])), "kv_indptr[-1]"),
            ("v-rows", run_with(kv_cache=(k, k[:19])), "'v': dimension 0"),
        ]
    return cases


def main():
    global TOL
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kernel_dir")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--tol", type=float, default=2e-2)
    args = ap.parse_args()
    TOL = args.tol
    gen = torch.Generator(device="cpu").manual_seed(4321)
    cuda_gen = torch.Generator(device="cuda").manual_seed(4321)
    paths = sorted(glob.glob(os.path.join(args.kernel_dir, "prefill_*_kernels.json")) +
                   glob.glob(os.path.join(args.kernel_dir, "ragged_*_kernels.json")))
    if not paths:
        sys.exit(f"check_prefill: no prefill kernels in {args.kernel_dir}")
    rows, bad_rows = [], []
    for path in paths:
        name = os.path.basename(path)[:-len("_kernels.json")]
        pre = BatchPrefill(Module(path), max_batch_size=32,
                           max_num_tokens=16384, max_num_pages=40000)
        params = pre.params
        dtype = DTYPES[name.split("_")[1]]
        paged = pre.paged
        any_page = paged and params["page_size"] < 1
        base = params["causal"] and params.get("window_left", -1) < 0 and \
            params.get("logits_soft_cap", 0.0) == 0
        full = base and "_d128_g4" in name and not args.quick
        page_sizes = ([1, 5, 16, 64] if full or args.quick else [16]) \
            if any_page else [params.get("page_size", 16)]
        for ps in page_sizes:
            one = 3 * ps + 1  # a last page holding one token (paged)
            if args.quick:
                qo, kv = [1, 17, 130, 0, 9, 40], [1, 17, 300, 5, 0, one]
            else:
                qo = [1, 17, 1000, 300, 0, 9, 40] + ([4096] if full else [])
                kv = [1, 17, 1500, 32768, 5, 0, one] + ([4096] if full else [])
            rows.append(dict(kernel=name, **check(
                pre, params, dtype, qo, kv, cuda_gen, ps,
                label=f"mixed p{ps}" if paged else "mixed")))
        if args.quick:
            continue
        ps = page_sizes[min(2, len(page_sizes) - 1)]
        qo = torch.randint(1, 1025, (16,), generator=gen).tolist()
        kv = [n + int(torch.randint(0, 1025, (1,), generator=gen)) for n in qo]
        rows.append(dict(kernel=name, **check(
            pre, params, dtype, qo, kv, cuda_gen, ps, label="batch16")))
        rows.append(dict(kernel=name, **check(
            pre, params, dtype, [], [], cuda_gen, ps, label="empty-batch")))
        rows.append(dict(kernel=name, **check(
            pre, params, dtype, [0, 0], [5, 0], cuda_gen, ps,
            label="no-queries")))
        rows.append(dict(kernel=name, **check(
            pre, params, dtype, [300, 77], [900, 77], cuda_gen, ps,
            label="o-view+spare", o_view=True, spare_rows=5)))
        if paged:
            rows.append(dict(kernel=name, **check(
                pre, params, dtype, [200, 3], [700, 40], cuda_gen, ps,
                label="two-tensors", fused_kv=False)))
            rows.append(dict(kernel=name, **check(
                pre, params, dtype, [130, 1, 64], [500, 9, 64], cuda_gen, ps,
                label="q-from-qkv", fused_qkv=True)))
        elif params["head_dim"] == params["head_dim_v"]:
            rows.append(dict(kernel=name, **check(
                pre, params, dtype, [300, 1, 77], [300, 1, 77], cuda_gen,
                label="fused-qkv", fused_qkv=True)))
        if full or "_d64_g1" in name:
            for r in graph_case(pre, params, dtype, cuda_gen, ps):
                rows.append(dict(kernel=name, **r))
            run_bad_cases(name, bad_cases(pre, params, dtype, ps), bad_rows)
    for r in rows:
        print(f"{'ok ' if r['ok'] else 'FAIL'} {r['kernel']:40s} "
              f"{r['label']:14s} rel {r['rel']:.2e} lse {r['lse_err']:.2e} "
              f"items {r['items']:4d}"
              + ("" if r["written"] else " UNWRITTEN")
              + ("" if r["untouched"] else " WROTE-PAST")
              + ("" if r["sensitive"] else " VARIANT-IGNORED"))
    failed = report(rows, bad_rows, "prefill cases", args.json)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
