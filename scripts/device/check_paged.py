#!/usr/bin/env python3
"""Correctness of paged batch decode (attn.paged_attention) on the GPU.

For every `paged_*_kernels.json` in KERNEL_DIR (gen_kernels.py --set paged):
batches over a paged cache through PagedDecode's plan()/run() (the runtime's
planner), compared with a float64 PyTorch reference on each request's keys
gathered from its pages. Every case draws fresh inputs, shuffles the page
ids (unused pages hold large finite values, so a wrong page shows), poisons
o, lse and the workspace with NaN first and checks that every output element
was written. Cases: page sizes 1, 5, 16, 64; batches mixing lengths 1, 17,
1000 and 32k with an empty request and a request whose last page holds one
token; 64 requests of random lengths; an empty batch; the cache as one
[pages, 2, ...] tensor (K and V views) and as two tensors; a CUDA graph
captured once and replayed after re-planning with new lengths and new cache
contents. Each variant case (causal, window, soft-cap) is also checked to
differ from the plain reference (a variant silently ignored fails). Then bad
page tables and bad arguments must raise errors naming the fault.

Prints one row per case, then a summary table; exits non-zero on any failure.

  check_paged.py KERNEL_DIR [--quick] [--json out.json]
"""
import argparse
import glob
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from flashinfer_mlir.decode import PagedDecode  # noqa: E402
from flashinfer_mlir.runtime import Module  # noqa: E402

DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}


def reference(q, ks, vs, params):
    """float64 decode of request b's query row q[b] over keys ks[b], values
    vs[b] ([kv_len, Hkv, D]); returns o [B, Hq, Dv], base-2 lse [B, Hq]."""
    b, hq, _ = q.shape
    dv = params["head_dim_v"]
    hkv = params["num_kv_heads"]
    group = hq // hkv
    o = torch.zeros(b, hq, dv, dtype=torch.float64, device=q.device)
    lse = torch.full((b, hq), -math.inf, dtype=torch.float64, device=q.device)
    cap = params.get("logits_soft_cap", 0.0)
    window = params.get("window_left", -1)
    for i in range(b):
        kv_len = ks[i].shape[0]
        if kv_len == 0:
            continue
        k = ks[i].double().repeat_interleave(group, dim=1)
        v = vs[i].double().repeat_interleave(group, dim=1)
        s = torch.einsum("hd,khd->hk", q[i].double(), k) * params["sm_scale"]
        if cap > 0:
            s = cap * torch.tanh(s / cap)
        pos = kv_len - 1  # the query is the last token
        kpos = torch.arange(kv_len, device=q.device)
        if window >= 0:
            s = s.masked_fill(kpos[None, :] < pos - window, -math.inf)
        m = s.amax(-1, keepdim=True)
        p = torch.exp(s - m)
        l = p.sum(-1, keepdim=True)
        o[i] = torch.einsum("hk,khd->hd", p, v) / l
        lse[i] = ((m + torch.log(l)) / math.log(2)).squeeze(-1)
    return o, lse


class Cache:
    """A paged cache with shuffled page ids, holding the requests' keys."""

    def __init__(self, params, dtype, lens, page_size, gen, fused=True,
                 spare=3):
        hkv, d, dv = (params["num_kv_heads"], params["head_dim"],
                      params["head_dim_v"])
        self.layout = params["kv_layout"]
        pages = [-(-n // page_size) for n in lens]
        num_pages = sum(pages) + spare
        dev = "cuda"
        slot = (page_size, hkv) if self.layout == "nhd" else (hkv, page_size)
        # Unused slots and pages hold large finite values: read by mistake,
        # they dominate the output.
        if fused and d == dv:
            self.tensor = torch.full((num_pages, 2, *slot, d), 30.0,
                                     device=dev, dtype=dtype)
            self.k, self.v = self.tensor[:, 0], self.tensor[:, 1]
        else:
            self.tensor = None
            self.k = torch.full((num_pages, *slot, d), 30.0, device=dev,
                                dtype=dtype)
            self.v = torch.full((num_pages, *slot, dv), 30.0, device=dev,
                                dtype=dtype)
        order = torch.randperm(num_pages, generator=gen, device=gen.device).cpu()
        self.indptr, self.indices, self.last = [0], [], []
        self.keys, self.values = [], []
        used = 0
        for n, npg in zip(lens, pages):
            ids = order[used:used + npg].tolist()
            used += npg
            self.indices += ids
            self.indptr.append(len(self.indices))
            # An empty request's last page length is ignored; pass 0.
            self.last.append(n - (npg - 1) * page_size if npg else 0)
            k = torch.randn(n, hkv, d, generator=gen, device=dev).to(dtype)
            v = torch.randn(n, hkv, dv, generator=gen, device=dev).to(dtype)
            if n:
                # Token t: slot t % page_size of page ids[t // page_size].
                t = torch.arange(n, device=dev)
                page = torch.tensor(ids, device=dev)[t // page_size]
                slot_of = t % page_size
                if self.layout == "nhd":
                    self.k[page, slot_of] = k
                    self.v[page, slot_of] = v
                else:
                    self.k[page, :, slot_of] = k
                    self.v[page, :, slot_of] = v
            self.keys.append(k)
            self.values.append(v)

    def arg(self):
        return self.tensor if self.tensor is not None else (self.k, self.v)


def check(dec, params, dtype, lens, page_size, gen, fused=True, label="",
          q_from_qkv=False):
    """Plans and runs one batch; returns a result row. With `q_from_qkv`, q
    is the head range of one fused [batch, Hq + 2 Hkv, D] projection."""
    hq, d = params["num_qo_heads"], params["head_dim"]
    cache = Cache(params, dtype, lens, page_size, gen, fused)
    if q_from_qkv:
        qkv = torch.randn(len(lens), hq + 2 * params["num_kv_heads"], d,
                          generator=gen, device="cuda").to(dtype)
        q = qkv[:, :hq]
    else:
        q = torch.randn(len(lens), hq, d, generator=gen,
                        device="cuda").to(dtype)
    plan = dec.plan(cache.indptr, cache.indices, cache.last,
                    page_size=page_size)
    dec.o_part.fill_(float("nan"))
    dec.lse_part.fill_(float("nan"))
    o = torch.full((len(lens), hq, params["head_dim_v"]), float("nan"),
                   device="cuda", dtype=dtype)
    lse = torch.full((len(lens), hq), float("nan"), device="cuda")
    dec.run(q, cache.arg(), out=o, lse=lse, validate=True)
    torch.cuda.synchronize()
    return compare(o, lse, q, cache, params, plan, label)


def compare(o, lse, q, cache, params, plan, label):
    ref_o, ref_lse = reference(q, cache.keys, cache.values, params)
    written = bool(torch.isfinite(o).all()) and not bool(torch.isnan(lse).any())
    den = ref_o.norm().item()
    rel = ((o.double() - ref_o).norm().item() / den) if den > 0 else \
        o.double().norm().item()
    finite = torch.isfinite(ref_lse)
    lse_err = ((lse.double() - ref_lse).abs()[finite].max().item()
               if finite.any() else 0.0)
    lse_inf_ok = bool((lse[~finite] == -math.inf).all())
    # A variant must move the output away from the plain attention's.
    sensitive = True
    # (Causal cannot show in decode: the query is the last token.)
    variant = params.get("window_left", -1) >= 0 or \
        params.get("logits_soft_cap", 0.0) > 0
    if variant and max((k.shape[0] for k in cache.keys), default=0) > 200:
        plain = dict(params, window_left=-1, logits_soft_cap=0.0)
        p_o, _ = reference(q, cache.keys, cache.values, plain)
        sensitive = ((o.double() - p_o).norm() / p_o.norm()).item() > 0.02
    ok = written and lse_inf_ok and sensitive and rel < TOL and lse_err < 0.05
    return dict(label=label, ok=ok, rel=rel, lse_err=lse_err,
                items=plan.num_work_items, chunk=plan.kv_chunk,
                written=written, sensitive=sensitive)


def graph_case(dec, params, dtype, gen, page_size):
    """Captures run() once, then replays it after re-planning the same batch
    size with new lengths and new cache contents."""
    hq, d, dv = params["num_qo_heads"], params["head_dim"], params["head_dim_v"]
    lens_a = [300, 1, 5000, 64, 2049, 17, 0, 900]
    lens_b = [4000, 33, 2, 700, 1, 128, 3000, 16]
    num_pages = sum(-(-n // page_size) for n in lens_a + lens_b) + 3
    hkv = params["num_kv_heads"]
    slot = (page_size, hkv) if params["kv_layout"] == "nhd" else (hkv, page_size)
    k_buf = torch.zeros(num_pages, *slot, d, device="cuda", dtype=dtype)
    v_buf = torch.zeros(num_pages, *slot, dv, device="cuda", dtype=dtype)
    q_buf = torch.zeros(len(lens_a), hq, d, device="cuda", dtype=dtype)
    o_buf = torch.zeros(len(lens_a), hq, dv, device="cuda", dtype=dtype)
    lse_buf = torch.zeros(len(lens_a), hq, device="cuda")

    def load(lens):
        c = Cache(params, dtype, lens, page_size, gen, fused=False, spare=0)
        k_buf.fill_(30.0)
        v_buf.fill_(30.0)
        k_buf[:c.k.shape[0]].copy_(c.k)
        v_buf[:c.v.shape[0]].copy_(c.v)
        q_buf.copy_(torch.randn(q_buf.shape, generator=gen,
                                device="cuda").to(dtype))
        plan = dec.plan(c.indptr, c.indices, c.last, page_size=page_size)
        return c, plan

    rows = []
    c, plan = load(lens_a)
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        dec.run(q_buf, (k_buf, v_buf), out=o_buf, lse=lse_buf)  # warm-up
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        dec.run(q_buf, (k_buf, v_buf), out=o_buf, lse=lse_buf)
    for lens, tag in ((lens_a, "graph-first"), (lens_b, "graph-replan")):
        if tag != "graph-first":
            c, plan = load(lens)
        o_buf.fill_(float("nan"))
        lse_buf.fill_(float("nan"))
        graph.replay()
        torch.cuda.synchronize()
        rows.append(compare(o_buf, lse_buf, q_buf, c, params, plan, tag))
    return rows


def bad_cases(dec, params, dtype, page_size):
    """(label, callable, expected message part): each must raise."""
    hq, d = params["num_qo_heads"], params["head_dim"]
    hkv = params["num_kv_heads"]
    slot = (page_size, hkv) if params["kv_layout"] == "nhd" else (hkv, page_size)
    k = torch.zeros(4, *slot, d, device="cuda", dtype=dtype)
    q = torch.zeros(2, hq, d, device="cuda", dtype=dtype)
    good = dict(kv_indptr=[0, 1, 3], kv_indices=[0, 1, 2],
                kv_last_page_len=[1, page_size])

    def plan(**changes):
        t = dict(good, **changes)
        return lambda: dec.plan(t["kv_indptr"], t["kv_indices"],
                                t["kv_last_page_len"], page_size=page_size)

    def run_with(**kw):
        def go():
            dec.plan(**dict(good, page_size=page_size))
            args = dict(q=q, paged_kv_cache=(k, k), validate=True)
            args.update(kw)
            dec.run(**args)
        return go

    return [
        ("indptr-decreasing", plan(kv_indptr=[0, 3, 2],
                                   kv_indices=[0, 1]), "non-decreasing"),
        ("indptr-start", plan(kv_indptr=[1, 2, 3]), "kv_indptr[0] must be 0"),
        ("indices-length", plan(kv_indices=[0, 1]), "must equal the length"),
        ("last-page-zero", plan(kv_last_page_len=[0, 1]), "must be in [1,"),
        ("last-page-big", plan(kv_last_page_len=[1, page_size + 1]),
         "must be in [1,"),
        ("negative-page", plan(kv_indices=[0, -1, 2]), "negative page id"),
        ("page-out-of-cache", run_with(paged_kv_cache=(k[:2], k[:2])),
         "kv_indices[2] = 2 is not a page of the cache"),
        ("q-batch", run_with(q=q[:1]), "as planned"),
        ("q-heads", run_with(q=torch.zeros(2, hq // 2, d, device="cuda",
                                           dtype=dtype)), "'q': dimension 1"),
        ("v-pages", run_with(paged_kv_cache=(k, k[:3])),
         "'v_cache': dimension 0"),
        ("dtype", run_with(q=q.float()), "'q'"),
    ]


def run_bad_cases(name, cases, out):
    """Runs (label, callable, expected message part) cases, each of which
    must raise; appends (kernel, label, raised as expected, message)."""
    for label, fn, expect in cases:
        try:
            fn()
            torch.cuda.synchronize()
            out.append((name, label, False, "no error"))
        except (ValueError, RuntimeError) as e:
            out.append((name, label, expect in str(e), str(e)))


def report(rows, bad_rows, what, json_path=None):
    """Prints the bad-argument rows and the summary table (and writes
    `json_path`); returns whether anything failed."""
    for name, label, ok, msg in bad_rows:
        print(f"{'ok ' if ok else 'FAIL'} {name:40s} bad {label:18s} {msg[:110]}")
    print(f"\n| {what} | passed | bad-argument cases raised | worst rel err "
          f"| worst lse err |")
    print("|---|---|---|---|---|")
    print(f"| {len(rows)} | {sum(r['ok'] for r in rows)} | "
          f"{sum(b[2] for b in bad_rows)}/{len(bad_rows)} | "
          f"{max((r['rel'] for r in rows), default=0):.2e} | "
          f"{max((r['lse_err'] for r in rows), default=0):.2e} |")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(dict(rows=rows, bad=bad_rows), f, indent=1)
    return any(not r["ok"] for r in rows) or any(not b[2] for b in bad_rows)


TOL = 2e-2


def main():
    global TOL
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kernel_dir")
    ap.add_argument("--quick", action="store_true",
                    help="fewer cases (e.g. under compute-sanitizer)")
    ap.add_argument("--json")
    ap.add_argument("--tol", type=float, default=2e-2)
    args = ap.parse_args()
    TOL = args.tol
    gen = torch.Generator(device="cpu").manual_seed(1234)
    cuda_gen = torch.Generator(device="cuda").manual_seed(1234)
    rows, bad_rows = [], []
    paths = sorted(glob.glob(os.path.join(args.kernel_dir, "paged_*_kernels.json")))
    if not paths:
        sys.exit(f"check_paged: no paged_*_kernels.json in {args.kernel_dir}")
    for path in paths:
        mod = Module(path)
        name = os.path.basename(path)[:-len("_kernels.json")]
        dec = PagedDecode(mod, max_batch_size=64, max_num_pages=70000)
        params = dec.params
        dtype = DTYPES[name.split("_")[1]]
        page_sizes = [params["page_size"]] if params["page_size"] > 0 else \
            [1, 5, 16, 64]
        plain = not (params.get("causal") or params.get("window_left", -1) >= 0
                     or params.get("logits_soft_cap", 0.0) > 0)
        full = plain and "_d128_g4_" in name and not args.quick
        for ps in page_sizes if (full or args.quick) else page_sizes[2:3] or page_sizes:
            mixed = [1, 17, 1000, 32768, 0, 3 * ps + 1] if not args.quick else \
                [1, 17, 130, 0, 3 * ps + 1]
            rows.append(dict(kernel=name, **check(
                dec, params, dtype, mixed, ps, cuda_gen, label=f"mixed p{ps}")))
        if args.quick:
            continue
        ps = page_sizes[min(2, len(page_sizes) - 1)]
        lens = torch.randint(1, 4097, (64,), generator=gen).tolist()
        rows.append(dict(kernel=name, **check(
            dec, params, dtype, lens, ps, cuda_gen, label=f"batch64 p{ps}")))
        rows.append(dict(kernel=name, **check(
            dec, params, dtype, [700, 1, 40], ps, cuda_gen, fused=False,
            label=f"two-tensors p{ps}")))
        rows.append(dict(kernel=name, **check(
            dec, params, dtype, [], ps, cuda_gen, label="empty-batch")))
        rows.append(dict(kernel=name, **check(
            dec, params, dtype, [300, 1, 2000], ps, cuda_gen,
            label="q-from-qkv", q_from_qkv=True)))
        if full or "_d64_g1_nhd" in name:
            for r in graph_case(dec, params, dtype, cuda_gen, ps):
                rows.append(dict(kernel=name, **r))
            run_bad_cases(name, bad_cases(dec, params, dtype, ps), bad_rows)
    for r in rows:
        print(f"{'ok ' if r['ok'] else 'FAIL'} {r['kernel']:36s} "
              f"{r['label']:14s} rel {r['rel']:.2e} lse {r['lse_err']:.2e} "
              f"items {r['items']:4d} chunk {r['chunk']:6d}"
              + ("" if r["written"] else " UNWRITTEN")
              + ("" if r["sensitive"] else " VARIANT-IGNORED"))
    failed = report(rows, bad_rows, "cases", args.json)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
