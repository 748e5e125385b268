#!/usr/bin/env python3
"""Launch sequences on the GPU: functions of several attn ops compiled into
one module each (gen_kernels.py --set sequence), run with one call of
Module.sequence (the runtime's fimlir_module_launch_sequence).

- serve_*: attn.append_paged_kv writes each request's new token, then the
  paged decode reads the updated cache. Checked against a float64 decode over
  the expected cache, and the cache's new slots against the new K/V. Also
  captured in a CUDA graph and replayed after a new plan and new inputs.
- cascade_*: two paged decodes (a shared prefix, each request's suffix) and
  attn.merge_states of their states; checked against one float64 decode over
  prefix + suffix.
- Bad arguments: an error that names the launch, and nothing launched (the
  cache is unchanged, the outputs keep their NaN poison).

  check_sequence.py KERNEL_DIR [--json OUT]
"""

import argparse
import glob
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
sys.path.insert(0, os.path.dirname(__file__))
from check_paged import reference  # noqa: E402
from flashinfer_mlir.decode import PagedDecode  # noqa: E402
from flashinfer_mlir.runtime import Module  # noqa: E402

TOL = 2e-2


class PagedCache:
    """One fused [pages, 2, ...] cache (K and V are views) holding each
    request's tokens at shuffled pages; `table(lens)` gives the page table
    of the first lens[b] tokens."""

    def __init__(self, params, dtype, lens, max_new, gen, shared=()):
        self.ps = params["page_size"]
        self.layout = params["kv_layout"]
        hkv, d = params["num_kv_heads"], params["head_dim"]
        self.shared = list(shared)  # pages of a shared prefix
        pages = [-(-(n + max_new) // self.ps) for n in lens]
        num = sum(pages) + len(self.shared) + 2
        slot = (self.ps, hkv) if self.layout == "nhd" else (hkv, self.ps)
        self.tensor = torch.full((num, 2, *slot, d), 30.0, device="cuda",
                                 dtype=dtype)
        self.k, self.v = self.tensor[:, 0], self.tensor[:, 1]
        order = torch.randperm(num, generator=gen, device="cuda").tolist()
        self.ids, used = [], 0
        for npg in pages:
            self.ids.append(order[used:used + npg])
            used += npg
        self.spare = order[used:]
        self.keys = [torch.randn(n, hkv, d, generator=gen, device="cuda")
                     .to(dtype) for n in lens]
        self.values = [torch.randn(n, hkv, d, generator=gen, device="cuda")
                       .to(dtype) for n in lens]
        for b in range(len(lens)):
            self.write(b, 0, self.keys[b], self.values[b])

    def where(self, b, positions):
        page = torch.tensor(self.ids[b], device="cuda")[positions // self.ps]
        return page, positions % self.ps

    def write(self, b, start, k, v):
        if k.shape[0] == 0:
            return
        page, slot = self.where(b, torch.arange(start, start + k.shape[0],
                                                device="cuda"))
        if self.layout == "nhd":
            self.k[page, slot], self.v[page, slot] = k, v
        else:
            self.k[page, :, slot], self.v[page, :, slot] = k, v

    def read(self, b, n):
        page, slot = self.where(b, torch.arange(n, device="cuda"))
        if self.layout == "nhd":
            return self.k[page, slot], self.v[page, slot]
        return self.k[page, :, slot], self.v[page, :, slot]

    def table(self, lens):
        indptr, indices, last = [0], [], []
        for b, n in enumerate(lens):
            npg = -(-n // self.ps)
            indices += self.ids[b][:npg]
            indptr.append(len(indices))
            last.append(n - (npg - 1) * self.ps if npg else 0)
        return indptr, indices, last


def compare(o, ref_o, lse=None, ref_lse=None):
    den = ref_o.norm().item()
    rel = ((o.double() - ref_o).norm().item() / den) if den > 0 else 0.0
    lse_err = 0.0
    if lse is not None:
        fin = torch.isfinite(ref_lse)
        lse_err = ((lse.double() - ref_lse).abs()[fin].max().item()
                   if fin.any() else 0.0)
    ok = bool(torch.isfinite(o).all()) and rel < TOL and lse_err < 0.05
    return ok, rel, lse_err


def serve_step(module, dec, cache, lens, q, k_new, v_new, out):
    """Plans the step (every request gains one token) and launches the
    sequence: append, split, merge."""
    b = len(lens)
    new = [n + 1 for n in lens]
    indptr, indices, last = cache.table(new)
    dec.plan(indptr, indices, last, page_size=cache.ps)
    i32 = dict(dtype=torch.int32, device="cuda")
    module.sequence(
        k=k_new, v=v_new, batch_indices=torch.arange(b, **i32),
        positions=torch.tensor(lens, **i32), kv_indices=dec.kv_indices,
        kv_indptr=dec.kv_indptr[:b + 1], k_cache=cache.k, v_cache=cache.v,
        q=q, kv_last_page_len=dec.kv_last_page_len[:b],
        schedule=dec.schedule, o_part=dec.o_part, lse_part=dec.lse_part,
        merge_indptr=dec.merge_indptr[:b + 1], o=out)


def serve_reference(cache, lens, q, k_new, v_new, params):
    ks, vs = [], []
    for b, n in enumerate(lens):
        ks.append(torch.cat([cache.keys[b], k_new[b:b + 1]]))
        vs.append(torch.cat([cache.values[b], v_new[b:b + 1]]))
    return reference(q, ks, vs, params)


def check_serve(module, name, gen, rows, bad):
    dec = PagedDecode(module, name + "_1", max_batch_size=64,
                      max_num_pages=8192)
    p = dec.params
    dtype = torch.bfloat16 if "bf16" in name else torch.float16
    hq, hkv, d = p["num_qo_heads"], p["num_kv_heads"], p["head_dim"]
    for lens in ([0, 16, 1000, 31], [1, 17, 1000, 32767] + [300] * 4,
                 [15] * 64):
        cache = PagedCache(p, dtype, lens, 1, gen)
        b = len(lens)
        q = torch.randn(b, hq, d, generator=gen, device="cuda").to(dtype)
        # K/V of the step sliced from one fused [b, 2 Hkv, D] projection.
        kv = torch.randn(b, 2 * hkv, d, generator=gen, device="cuda").to(dtype)
        k_new, v_new = kv[:, :hkv], kv[:, hkv:]
        out = torch.full((b, hq, d), float("nan"), device="cuda", dtype=dtype)
        serve_step(module, dec, cache, lens, q, k_new, v_new, out)
        torch.cuda.synchronize()
        ref_o, _ = serve_reference(cache, lens, q, k_new, v_new, p)
        ok, rel, _ = compare(out, ref_o)
        written = all(
            torch.equal(cache.read(i, n + 1)[0][n], k_new[i]) and
            torch.equal(cache.read(i, n + 1)[1][n], v_new[i])
            for i, n in enumerate(lens))
        ok = ok and written
        rows.append(dict(label=f"{name} lens={lens[:4]}{'...' if b > 4 else ''}",
                         ok=ok, rel=rel, lse_err=0.0))
        print(f"{'ok ' if ok else 'FAIL'} {rows[-1]['label']:60s} rel={rel:.2e}"
              f"{'' if written else ' CACHE-NOT-WRITTEN'}", flush=True)

    # CUDA graph: capture one step, then plan another batch of the same
    # size into the same buffers, refill the inputs in place and replay.
    lens = [5, 700, 64, 1]
    cache = PagedCache(p, dtype, lens, 2, gen)
    b = len(lens)
    q = torch.randn(b, hq, d, generator=gen, device="cuda").to(dtype)
    k_new = torch.randn(b, hkv, d, generator=gen, device="cuda").to(dtype)
    v_new = torch.randn(b, hkv, d, generator=gen, device="cuda").to(dtype)
    out = torch.empty(b, hq, d, device="cuda", dtype=dtype)
    positions = torch.tensor(lens, dtype=torch.int32, device="cuda")
    batch_indices = torch.arange(b, dtype=torch.int32, device="cuda")
    indptr, indices, last = cache.table([n + 1 for n in lens])
    dec.plan(indptr, indices, last, page_size=cache.ps)
    args = dict(k=k_new, v=v_new, batch_indices=batch_indices,
                positions=positions, kv_indices=dec.kv_indices,
                kv_indptr=dec.kv_indptr[:b + 1], k_cache=cache.k,
                v_cache=cache.v, q=q, kv_last_page_len=dec.kv_last_page_len[:b],
                schedule=dec.schedule, o_part=dec.o_part,
                lse_part=dec.lse_part, merge_indptr=dec.merge_indptr[:b + 1],
                o=out)
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        module.sequence(**args)  # warm-up
    torch.cuda.synchronize()
    # The warm-up wrote the step's token; restore the cache's reference.
    for i, n in enumerate(lens):
        cache.write(i, n, k_new[i:i + 1], v_new[i:i + 1])
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=s):
        module.sequence(**args)
    # Step 2: every request one token longer, new inputs, new plan.
    step2 = [n + 1 for n in lens]
    for i, n in enumerate(lens):
        cache.keys[i] = torch.cat([cache.keys[i], k_new[i:i + 1]])
        cache.values[i] = torch.cat([cache.values[i], v_new[i:i + 1]])
    q.copy_(torch.randn(b, hq, d, generator=gen, device="cuda"))
    k_new.copy_(torch.randn(b, hkv, d, generator=gen, device="cuda"))
    v_new.copy_(torch.randn(b, hkv, d, generator=gen, device="cuda"))
    positions.copy_(torch.tensor(step2, dtype=torch.int32))
    indptr, indices, last = cache.table([n + 1 for n in step2])
    dec.plan(indptr, indices, last, page_size=cache.ps)
    out.fill_(float("nan"))
    graph.replay()
    torch.cuda.synchronize()
    ref_o, _ = serve_reference(cache, step2, q, k_new, v_new, p)
    ok, rel, _ = compare(out, ref_o)
    rows.append(dict(label=f"{name} graph replay, new plan", ok=ok, rel=rel,
                     lse_err=0.0))
    print(f"{'ok ' if ok else 'FAIL'} {rows[-1]['label']:60s} rel={rel:.2e}",
          flush=True)

    # Bad arguments: nothing may run, whichever launch they belong to.
    for label, change, expect in [
            ("o-heads", dict(o=torch.full((b, hq + 1, d), float("nan"),
                                          device="cuda", dtype=dtype)),
             "launch 2 of the sequence: kernel '" + name + "_1_merge'"),
            ("positions-short", dict(positions=positions[:b - 1]),
             "launch 0 of the sequence: kernel '" + name + "_0': argument 3 "
             "'positions'"),
            ("q-batch", dict(q=q[:b - 1]),
             "launch 1 of the sequence: kernel '" + name + "_1'")]:
        before = cache.tensor.clone()
        try:
            module.sequence(**dict(args, **change))
            torch.cuda.synchronize()
            message, raised = "no error", False
        except (RuntimeError, ValueError) as e:
            message, raised = str(e), expect in str(e)
        untouched = torch.equal(before, cache.tensor)
        bad.append((name, label, raised and untouched,
                    message if untouched else "LAUNCHED: " + message))


def check_cascade(module, name, gen, rows, bad):
    dec0 = PagedDecode(module, name + "_0", max_batch_size=64,
                       max_num_pages=8192)
    dec1 = PagedDecode(module, name + "_1", max_batch_size=64,
                       max_num_pages=8192)
    p = dec0.params
    dtype = torch.bfloat16 if "bf16" in name else torch.float16
    hq, d = p["num_qo_heads"], p["head_dim"]
    for prefix, suffixes in ((1024, [0, 1, 17, 500]), (16, [3000] * 8),
                             (0, [33, 1])):
        b = len(suffixes)
        # Request 0 holds the prefix; every request's suffix follows it.
        lens = [prefix + suffixes[0]] + suffixes[1:]
        cache = PagedCache(p, dtype, lens, 0, gen)
        ps = cache.ps
        # The prefix: request 0's first pages (a whole number of them).
        assert prefix % ps == 0
        pre_pages = cache.ids[0][:prefix // ps]
        pre_indptr = [0] + [len(pre_pages) * (i + 1) for i in range(b)]
        pre_indices = pre_pages * b
        pre_last = [ps if prefix else 0] * b
        suf_indptr, suf_indices, suf_last = [0], [], []
        for i, n in enumerate(suffixes):
            ids = cache.ids[i][prefix // ps:] if i == 0 else cache.ids[i]
            npg = -(-n // ps)
            suf_indices += ids[:npg]
            suf_indptr.append(len(suf_indices))
            suf_last.append(n - (npg - 1) * ps if npg else 0)
        dec0.plan(pre_indptr, pre_indices, pre_last, page_size=ps)
        dec1.plan(suf_indptr, suf_indices, suf_last, page_size=ps)
        q = torch.randn(b, hq, d, generator=gen, device="cuda").to(dtype)
        nan = lambda *s, t=torch.float32: torch.full(s, float("nan"),
                                                     device="cuda", dtype=t)
        o0, l0, o1, l1 = nan(b, hq, d, t=dtype), nan(b, hq), \
            nan(b, hq, d, t=dtype), nan(b, hq)
        o, l = nan(b, hq, d, t=dtype), nan(b, hq)
        module.sequence(
            q, cache.k, cache.v, dec0.kv_indptr[:b + 1], dec0.kv_indices,
            dec0.kv_last_page_len[:b], dec0.schedule, dec0.o_part,
            dec0.lse_part, dec0.merge_indptr[:b + 1], o0, l0,
            dec1.kv_indptr[:b + 1], dec1.kv_indices,
            dec1.kv_last_page_len[:b], dec1.schedule, dec1.o_part,
            dec1.lse_part, dec1.merge_indptr[:b + 1], o1, l1, o, l)
        torch.cuda.synchronize()
        ks, vs = [], []
        for i, n in enumerate(suffixes):
            k0, v0 = cache.read(0, prefix)
            k1, v1 = cache.read(i, lens[i])
            if i == 0:
                k1, v1 = k1[prefix:], v1[prefix:]
            ks.append(torch.cat([k0, k1]))
            vs.append(torch.cat([v0, v1]))
        ref_o, ref_lse = reference(q, ks, vs, p)
        ok, rel, lse_err = compare(o, ref_o, l, ref_lse)
        rows.append(dict(label=f"{name} prefix={prefix} suffixes={suffixes[:4]}",
                         ok=ok, rel=rel, lse_err=lse_err))
        print(f"{'ok ' if ok else 'FAIL'} {rows[-1]['label']:60s} rel={rel:.2e}"
              f" lse={lse_err:.2e}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kernel_dir")
    ap.add_argument("--json")
    args = ap.parse_args()
    gen = torch.Generator(device="cuda")
    gen.manual_seed(20261202)
    rows, bad = [], []
    paths = sorted(glob.glob(os.path.join(args.kernel_dir, "*_kernels.json")))
    if not paths:
        sys.exit(f"check_sequence: no manifests in {args.kernel_dir}")
    for path in paths:
        module = Module(path)
        name = os.path.basename(path)[:-len("_kernels.json")]
        if name.startswith("serve_"):
            check_serve(module, name, gen, rows, bad)
        elif name.startswith("cascade_"):
            check_cascade(module, name, gen, rows, bad)
    for name, label, ok, msg in bad:
        print(f"{'ok ' if ok else 'FAIL'} {name:32s} bad {label:16s} {msg[:120]}")
    print("\n| launch-sequence cases | passed | bad-argument cases raised, nothing "
          "launched | worst rel err | worst lse err |")
    print("|---|---|---|---|---|")
    print(f"| {len(rows)} | {sum(r['ok'] for r in rows)} | "
          f"{sum(b[2] for b in bad)}/{len(bad)} | "
          f"{max(r['rel'] for r in rows):.2e} | "
          f"{max(r['lse_err'] for r in rows):.2e} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, bad=bad), f, indent=1)
    sys.exit(1 if any(not r["ok"] for r in rows) or
             any(not b[2] for b in bad) else 0)


if __name__ == "__main__":
    main()
