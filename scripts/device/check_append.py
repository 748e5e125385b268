#!/usr/bin/env python3
"""Correctness of attn.append_paged_kv on the GPU, and of appending then
attending (chunked prefill over a paged cache).

For every `append_*_kernels.json` in KERNEL_DIR (gen_kernels.py --set
append): a batch of requests with cached prefixes of 0, 17, 100 and 1000
tokens receives 5, 1, 30, 0 and 64 new tokens through AppendPagedKV, with
get_batch_indices_positions giving each token's request and position. Page
ids are shuffled, page sizes 1, 5 and 16, the cache is one [pages, 2, ...]
tensor (K and V views) and K, V are head ranges of one fused projection.
The caches must equal a reference written by PyTorch indexing, bit for bit,
everywhere. Tokens with a request outside the batch, a negative position, a
position past the request's pages or a page id outside the cache must leave
the cache untouched, and validate=True must name each.

With --prefill-dir, the new tokens' queries then attend over the whole
cache through BatchPrefill (prefill_bf16_d128_g4_nhd_pany_causal): the
append and the prefill captured in one CUDA graph and replayed with new
tokens, against a float64 reference.

  check_append.py KERNEL_DIR [--prefill-dir DIR]
"""
import argparse
import glob
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
sys.path.insert(0, os.path.dirname(__file__))
from check_prefill import reference  # noqa: E402
from flashinfer_mlir.page import (AppendPagedKV,  # noqa: E402
                                  get_batch_indices_positions)
from flashinfer_mlir.runtime import Module  # noqa: E402

DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}
PREFIX = [0, 17, 100, 1000, 3]
NEW = [5, 1, 30, 0, 64]


class Layout:
    """A shuffled page table for requests of `lens` tokens."""

    def __init__(self, lens, page_size, gen, spare=2):
        pages = [-(-n // page_size) for n in lens]
        self.num_pages = sum(pages) + spare
        order = torch.randperm(self.num_pages, generator=gen).tolist()
        self.indptr, self.indices, self.last = [0], [], []
        for npg, n in zip(pages, lens):
            self.indices += order[len(self.indices):len(self.indices) + npg]
            self.indptr.append(len(self.indices))
            self.last.append(n - (npg - 1) * page_size if npg else 0)


def slot_index(layout_name, cache, page, slot):
    return cache[page, slot] if layout_name == "nhd" else cache[page, :, slot]


def write_ref(kc, vc, layout_name, tab, page_size, k, v, b, pos):
    for n in range(k.shape[0]):
        page = tab.indices[tab.indptr[b[n]] + pos[n] // page_size]
        s = pos[n] % page_size
        if layout_name == "nhd":
            kc[page, s] = k[n]
            vc[page, s] = v[n]
        else:
            kc[page, :, s] = k[n]
            vc[page, :, s] = v[n]


def append_case(app, params, dtype, page_size, gen):
    layout = params["kv_layout"]
    hkv, d, dv = params["num_kv_heads"], params["head_dim"], params["head_dim_v"]
    lens = [p + n for p, n in zip(PREFIX, NEW)]
    tab = Layout(lens, page_size, gen)
    slot = (page_size, hkv) if layout == "nhd" else (hkv, page_size)
    cache = torch.randn(tab.num_pages, 2, *slot, d, device="cuda").to(dtype)
    ref = cache.clone()
    nnz = sum(NEW)
    hq = 2 * hkv
    qkv = torch.randn(nnz, hq + 2 * hkv, d, device="cuda").to(dtype)
    k, v = qkv[:, hq:hq + hkv], qkv[:, hq + hkv:]
    append_indptr = torch.tensor([0] + list(torch.tensor(NEW).cumsum(0)),
                                 dtype=torch.int32, device="cuda")
    seq = torch.tensor(lens, dtype=torch.int32, device="cuda")
    b, pos = get_batch_indices_positions(append_indptr, seq, nnz)
    ip = torch.tensor(tab.indptr, dtype=torch.int32, device="cuda")
    ids = torch.tensor(tab.indices, dtype=torch.int32, device="cuda")
    app(k, v, b, pos, cache, ids, ip)
    torch.cuda.synchronize()
    write_ref(ref[:, 0], ref[:, 1], layout, tab, page_size, k, v,
              b.tolist(), pos.tolist())
    exact = bool(torch.equal(cache, ref))
    # Bad tokens: nothing written; validate names them.
    bad_rows = []
    num_pages = tab.num_pages
    cases = [("request", [len(lens)], [0]), ("negative-request", [-1], [0]),
             ("negative-position", [1], [-1]),
             ("past-pages", [0], [(tab.indptr[1] - tab.indptr[0]) * page_size]),
             ("page-id", [2], [0])]
    for label, bb, pp in cases:
        bad_ids = ids.clone()
        if label == "page-id":
            bad_ids[tab.indptr[2]] = num_pages + 5
        before = cache.clone()
        app(k[:1], v[:1], torch.tensor(bb, dtype=torch.int32, device="cuda"),
            torch.tensor(pp, dtype=torch.int32, device="cuda"), cache,
            bad_ids, ip)
        torch.cuda.synchronize()
        untouched = bool(torch.equal(cache, before))
        try:
            app(k[:1], v[:1], torch.tensor(bb, dtype=torch.int32, device="cuda"),
                torch.tensor(pp, dtype=torch.int32, device="cuda"), cache,
                bad_ids, ip, validate=True)
            msg, raised = "no error", False
        except ValueError as e:
            msg, raised = str(e), True
        bad_rows.append((label, untouched and raised, msg))
    return exact, bad_rows


def prefill_case(app, pre, gen):
    """Append each request's new chunk, then prefill its queries over the
    whole cache; both captured in one CUDA graph, replayed with new tokens."""
    params = pre.params
    hq, hkv, d = params["num_qo_heads"], params["num_kv_heads"], params["head_dim"]
    page_size = 16
    lens = [p + n for p, n in zip(PREFIX, NEW)]
    tab = Layout(lens, page_size, gen)
    cache = torch.zeros(tab.num_pages, 2, page_size, hkv, d, device="cuda",
                        dtype=torch.bfloat16)
    keys = [torch.randn(n, hkv, d, device="cuda").to(torch.bfloat16) for n in lens]
    vals = [torch.randn(n, hkv, d, device="cuda").to(torch.bfloat16) for n in lens]
    # The cached prefixes, written by the reference path.
    for r, n in enumerate(PREFIX):
        for t in range(n):
            page = tab.indices[tab.indptr[r] + t // page_size]
            cache[page, 0, t % page_size] = keys[r][t]
            cache[page, 1, t % page_size] = vals[r][t]
    nnz = sum(NEW)
    qo_indptr = [0]
    for n in NEW:
        qo_indptr.append(qo_indptr[-1] + n)
    k_new = torch.empty(nnz, hkv, d, device="cuda", dtype=torch.bfloat16)
    v_new = torch.empty_like(k_new)
    q = torch.empty(nnz, hq, d, device="cuda", dtype=torch.bfloat16)
    o = torch.empty(nnz, hq, d, device="cuda", dtype=torch.bfloat16)
    lse = torch.empty(nnz, hq, device="cuda")
    seq = torch.tensor(lens, dtype=torch.int32, device="cuda")
    b, pos = get_batch_indices_positions(
        torch.tensor(qo_indptr, dtype=torch.int32, device="cuda"), seq, nnz)
    ip = torch.tensor(tab.indptr, dtype=torch.int32, device="cuda")
    ids = torch.tensor(tab.indices, dtype=torch.int32, device="cuda")
    pre.plan(qo_indptr, tab.indptr, tab.indices, tab.last, page_size=page_size)

    def step():
        app(k_new, v_new, b, pos, cache, ids, ip)
        pre.run(q, cache, out=o, lse=lse)

    def fill():
        for r, (p, n) in enumerate(zip(PREFIX, NEW)):
            keys[r][p:] = torch.randn(n, hkv, d, device="cuda").to(torch.bfloat16)
            vals[r][p:] = torch.randn(n, hkv, d, device="cuda").to(torch.bfloat16)
            k_new[qo_indptr[r]:qo_indptr[r + 1]] = keys[r][p:]
            v_new[qo_indptr[r]:qo_indptr[r + 1]] = vals[r][p:]
        q.copy_(torch.randn(q.shape, device="cuda").to(torch.bfloat16))

    fill()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    rows = []
    for tag in ("graph-first", "graph-new-tokens"):
        if tag != "graph-first":
            fill()
        o.fill_(float("nan"))
        graph.replay()
        torch.cuda.synchronize()
        qs = [q[a:e] for a, e in zip(qo_indptr, qo_indptr[1:])]
        ref_o, _ = reference(qs, keys, vals, params)
        want = torch.cat(ref_o)
        rel = ((o.double() - want).norm() / want.norm()).item()
        rows.append((tag, rel < 2e-2 and bool(torch.isfinite(o).all()), rel))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kernel_dir")
    ap.add_argument("--prefill-dir")
    args = ap.parse_args()
    gen = torch.Generator().manual_seed(99)
    paths = sorted(glob.glob(os.path.join(args.kernel_dir, "append_*_kernels.json")))
    if not paths:
        sys.exit(f"check_append: no append kernels in {args.kernel_dir}")
    cases = bads = ok_cases = ok_bads = 0
    failed = False
    for path in paths:
        name = os.path.basename(path)[:-len("_kernels.json")]
        app = AppendPagedKV(Module(path))
        dtype = DTYPES[name.split("_")[1]]
        for ps in (1, 5, 16):
            exact, bad_rows = append_case(app, app.params, dtype, ps, gen)
            cases += 1
            ok_cases += exact
            print(f"{'ok ' if exact else 'FAIL'} {name:28s} p{ps:<3d} exact")
            for label, ok, msg in bad_rows:
                bads += 1
                ok_bads += ok
                if not ok or ps == 16:
                    print(f"{'ok ' if ok else 'FAIL'} {name:28s} p{ps:<3d} "
                          f"bad {label:18s} {msg[:90]}")
            failed |= not exact or not all(r[1] for r in bad_rows)
    e2e = []
    if args.prefill_dir:
        pre_json = os.path.join(args.prefill_dir,
                                "prefill_bf16_d128_g4_nhd_pany_causal_kernels.json")
        from flashinfer_mlir.prefill import BatchPrefill
        pre = BatchPrefill(Module(pre_json), max_batch_size=8,
                           max_num_tokens=256, max_num_pages=256)
        app = AppendPagedKV(Module(os.path.join(
            args.kernel_dir, "append_bf16_d128_h8_nhd_kernels.json")))
        e2e = prefill_case(app, pre, gen)
        for tag, ok, rel in e2e:
            print(f"{'ok ' if ok else 'FAIL'} append+prefill {tag:18s} rel {rel:.2e}")
            failed |= not ok
    print("\n| append cases (exact) | bad tokens skipped and reported | append + prefill graph replays |")
    print("|---|---|---|")
    print(f"| {ok_cases}/{cases} | {ok_bads}/{bads} | "
          f"{sum(r[1] for r in e2e)}/{len(e2e)}"
          + (f", worst rel {max(r[2] for r in e2e):.1e}" if e2e else "") + " |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
