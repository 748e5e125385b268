#!/usr/bin/env python3
"""Correctness matrix of the compiled attention kernels on the GPU.

Loads every `<kernel>_kernels.json` manifest in KERNEL_DIR through the
project's launch runtime and runs it with fresh random inputs for L in 1,
17, 1000, 4097, poisoning outputs (and workspace) with NaN first, comparing
o and lse with a float64 PyTorch reference. Two kinds of manifest:

- one prefill kernel (q token dimension dynamic): single-request prefill
  (qo_len = kv_len = L) and decode (qo_len = 1, kv_len = L);
- a decode pair (q token dimension 1; kernels with params.stage "split_kv"
  then "merge"): decode only. The split size kv_chunk comes from the
  planner (flashinfer_mlir.planner) and, to exercise other split counts,
  also from --decode-chunks; the workspace buffers are allocated from
  params.workspace (shapes in the grid expression forms, over q/k/v and
  kv_chunk) and the kernels are launched in manifest order, arguments bound
  by name.

Then, per manifest, views and bad arguments, as serving engines pass them:
q, k and v sliced from one fused projection; K and V as the two halves of
one [T, 2, Hkv, D] cache; keys head-major (an HND cache); q a token range of
a larger buffer; o and lse columns of larger, NaN-poisoned buffers whose
other columns must stay NaN (nothing written outside the view). Each bad
argument (wrong head counts, v shorter than k, o shorter than q, a non-unit
innermost stride, a misaligned pointer, a wrong dtype) must raise an error
naming the argument instead of launching the kernel that takes it.

A manifest of `attn.merge_states` (gen_kernels.py --set merge) gets its
own cases: states with random lse, some rows -inf in one state, some in
all (o 0, lse -inf), NaN values under an lse of -inf (must add nothing),
states and lse as views of one [T, S, H, D] / [T, S, H] tensor, o a view;
plus bad arguments.

Prints one row per case and a summary; exits non-zero if any case fails.

  check_attention.py KERNEL_DIR [--lengths 1,17,1000,4097] [--tol 1e-2]
"""
import argparse
import glob
import itertools
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from flashinfer_mlir._launch import eval_shape  # noqa: E402
from flashinfer_mlir.planner import plan_decode  # noqa: E402
from flashinfer_mlir.runtime import Module  # noqa: E402

DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}
NUM_SMS = torch.cuda.get_device_properties(0).multi_processor_count


def reference(q, k, v, causal, sm_scale, soft_cap=0.0):
    """float64 attention; returns o [T, Hq, Dv] and base-2 lse [T, Hq]."""
    qo_len, hq, _ = q.shape
    kv_len, hkv, _ = k.shape
    group = hq // hkv
    qd, kd, vd = q.double(), k.double(), v.double()
    kd = kd.repeat_interleave(group, dim=1)
    vd = vd.repeat_interleave(group, dim=1)
    o = torch.zeros(qo_len, hq, v.shape[2], dtype=torch.float64, device=q.device)
    lse = torch.full((qo_len, hq), -math.inf, dtype=torch.float64, device=q.device)
    for h0 in range(0, hq, 8):  # bound the score matrix's memory
        hs = slice(h0, min(hq, h0 + 8))
        s = torch.einsum("qhd,khd->hqk", qd[:, hs], kd[:, hs]) * sm_scale
        if soft_cap > 0:
            s = soft_cap * torch.tanh(s / soft_cap)
        if causal:
            qpos = torch.arange(qo_len, device=q.device) + (kv_len - qo_len)
            kpos = torch.arange(kv_len, device=q.device)
            s = s.masked_fill(kpos[None, None, :] > qpos[None, :, None], -math.inf)
        m = s.amax(dim=-1, keepdim=True)
        m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
        p = torch.exp(s - m)
        l = p.sum(-1, keepdim=True)
        o[:, hs] = (torch.einsum("hqk,khd->hqd", p, vd[:, hs]) /
                    torch.where(l > 0, l, torch.ones_like(l))).permute(1, 0, 2)
        lse[:, hs] = ((m + torch.log(l)) / math.log(2)).squeeze(-1).T
    return o, lse


def eval_expr(expr, tensors):
    """A manifest grid/shape expression over named tensors (docs/runtime.md)."""
    return eval_shape(expr, tensors)


def launch_all(kernels, tensors, poison=True, kv_chunk=None):
    """Plans the split size of a split-KV kernel (unless `kv_chunk` is
    given), allocates the workspace the kernels' params describe
    (NaN-poisoned unless `poison` is false), then launches the kernels in
    order with their arguments bound by name."""
    if "kv_chunk" in kernels[0].arg_names:
        tensors["kv_chunk"] = kv_chunk or plan_decode(
            kernels[0].params, tensors["k"].shape[0], NUM_SMS)
    for buf in kernels[0].params.get("workspace", []):
        shape = [eval_expr(e, tensors) for e in buf["shape"]]
        assert buf["dtype"] == "f32", buf
        tensors[buf["name"]] = (
            torch.full(shape, float("nan"), device="cuda", dtype=torch.float32)
            if poison else
            torch.empty(shape, device="cuda", dtype=torch.float32))
    for kernel in kernels:
        kernel(*[tensors[n] for n in kernel.arg_names])


def run_case(kernels, params, dtype, qo_len, kv_len, gen, kv_chunk=None):
    hq, hkv = params["num_qo_heads"], params["num_kv_heads"]
    d, dv = params["head_dim"], params["head_dim_v"]
    dev = "cuda"
    q = torch.randn(qo_len, hq, d, generator=gen, device=dev).to(dtype)
    k = torch.randn(kv_len, hkv, d, generator=gen, device=dev).to(dtype)
    v = torch.randn(kv_len, hkv, dv, generator=gen, device=dev).to(dtype)
    o = torch.full((qo_len, hq, dv), float("nan"), device=dev, dtype=dtype)
    lse = torch.full((qo_len, hq), float("nan"), device=dev, dtype=torch.float32)
    launch_all(kernels, dict(q=q, k=k, v=v, o=o, lse=lse), kv_chunk=kv_chunk)
    torch.cuda.synchronize()
    ref_o, ref_lse = reference(q, k, v, params["causal"], params["sm_scale"],
                               params.get("logits_soft_cap", 0.0))
    finite = bool(torch.isfinite(o).all()) and not bool(torch.isnan(lse).any())
    rel = ((o.double() - ref_o).norm() / ref_o.norm().clamp_min(1e-30)).item()
    lse_err = (lse.double() - ref_lse).abs().max().item()
    # A soft-capped case must tell the cap apart: the output has to be far
    # from the uncapped one (with one key both are that key's value row).
    sensitive = True
    cap = params.get("logits_soft_cap", 0.0)
    if cap > 0 and kv_len > 1:
        plain_o, _ = reference(q, k, v, params["causal"], params["sm_scale"])
        apart = ((o.double() - plain_o).norm() / plain_o.norm()).item()
        sensitive = apart > 0.05
    return finite and sensitive, rel, lse_err


def compare(o, lse, q, k, v, params):
    """Relative error of o and max abs error of lse against the float64
    reference over contiguous copies of the (possibly strided) inputs."""
    ref_o, ref_lse = reference(q.contiguous(), k.contiguous(), v.contiguous(),
                               params["causal"], params["sm_scale"],
                               params.get("logits_soft_cap", 0.0))
    finite = bool(torch.isfinite(o).all()) and not bool(torch.isnan(lse).any())
    rel = ((o.double() - ref_o).norm() / ref_o.norm().clamp_min(1e-30)).item()
    return finite, rel, (lse.double() - ref_lse).abs().max().item()


def view_cases(params, dtype, qo_len, kv_len, gen):
    """(label, tensors, outside) per view layout: `outside` are the parts of
    the poisoned output buffers that the kernels must leave NaN."""
    hq, hkv = params["num_qo_heads"], params["num_kv_heads"]
    d, dv = params["head_dim"], params["head_dim_v"]
    dev = "cuda"
    rnd = lambda *shape: torch.randn(*shape, generator=gen, device=dev).to(dtype)
    nan = lambda *shape, t=dtype: torch.full(shape, float("nan"), device=dev, dtype=t)
    cases = []
    # o and lse: the second half of [T, 2 Hq, Dv] and the first of [T, 2 Hq].
    def outputs():
        obuf, lbuf = nan(qo_len, 2 * hq, dv), nan(qo_len, 2 * hq, t=torch.float32)
        return (obuf[:, hq:], lbuf[:, :hq]), [obuf[:, :hq], lbuf[:, hq:]]
    if d == dv and qo_len == kv_len:
        qkv = rnd(qo_len, hq + 2 * hkv, d)
        (o, lse), outside = outputs()
        cases.append(("fused-qkv", dict(q=qkv[:, :hq], k=qkv[:, hq:hq + hkv],
                                        v=qkv[:, hq + hkv:], o=o, lse=lse),
                      outside))
    if d == dv:
        kv = rnd(kv_len, 2, hkv, d)
        (o, lse), outside = outputs()
        cases.append(("kv-halves", dict(q=rnd(qo_len, hq, d), k=kv[:, 0],
                                        v=kv[:, 1], o=o, lse=lse), outside))
    qbig = rnd(qo_len + 3, hq, d)
    k_hnd, v_hnd = rnd(hkv, kv_len, d), rnd(hkv, kv_len, dv)
    (o, lse), outside = outputs()
    cases.append(("hnd-kv+q-slice", dict(q=qbig[3:], k=k_hnd.transpose(0, 1),
                                         v=v_hnd.transpose(0, 1), o=o, lse=lse),
                  outside))
    return cases


def bad_cases(params, dtype, qo_len, kv_len, split):
    """(label, tensors, expected message part) per bad argument."""
    hq, hkv = params["num_qo_heads"], params["num_kv_heads"]
    d, dv = params["head_dim"], params["head_dim_v"]
    z = lambda *shape, t=dtype: torch.zeros(*shape, device="cuda", dtype=t)
    good = lambda: dict(q=z(qo_len, hq, d), k=z(kv_len, hkv, d),
                        v=z(kv_len, hkv, dv), o=z(qo_len, hq, dv),
                        lse=z(qo_len, hq, t=torch.float32))
    cases = []
    def case(label, expect, **changes):
        t = good()
        t.update(changes)
        cases.append((label, t, expect))
    case("k-heads", "'k': dimension 1 must be", k=z(kv_len, hkv + 1, d))
    case("lse-heads", "'lse': dimension 1 must be",
         lse=z(qo_len, hq + 1, t=torch.float32))
    case("v-shorter", "'v': dimension 0 must be k.shape[0]",
         v=z(kv_len - 1, hkv, dv))
    case("o-shorter", "'o': dimension 0 must be", o=z(qo_len - 1, hq, dv)
         if not split else z(2, hq, dv))
    case("q-inner-stride", "'q': innermost stride must be 1",
         q=z(qo_len, hq, 2 * d)[:, :, ::2])
    case("k-misaligned", "'k': data pointer must be aligned",
         k=z(kv_len * hkv * d + 1).narrow(0, 1, kv_len * hkv * d)
         .view(kv_len, hkv, d))
    case("v-dtype", "'v': expected dtype",
         v=z(kv_len, hkv, dv, t=torch.float32))
    return cases


def check_views_and_errors(kernels, params, dtype, gen, rows, tol, lse_tol):
    """Views against the reference, then bad arguments; returns failures."""
    failures = 0
    split = "kv_chunk" in kernels[0].arg_names
    name = kernels[0].name
    lengths = [(1, 1000)] if split else [(1000, 1000), (17, 1000)]
    for qo_len, kv_len in lengths:
        for label, tensors, outside in view_cases(params, dtype, qo_len,
                                                  kv_len, gen):
            launch_all(kernels, tensors)
            torch.cuda.synchronize()
            finite, rel, lse_err = compare(tensors["o"], tensors["lse"],
                                           tensors["q"], tensors["k"],
                                           tensors["v"], params)
            untouched = all(bool(torch.isnan(t).all()) for t in outside)
            ok = finite and untouched and rel <= tol and lse_err <= lse_tol
            failures += not ok
            rows.append(dict(kernel=name, mode=f"view:{label}", kv_len=kv_len,
                             qo_len=qo_len, rel_err=rel, lse_max_abs_err=lse_err,
                             finite=finite, ok=ok))
            print(f"{name:28s} {label:16s} T={qo_len:4d} L={kv_len:5d} "
                  f"rel={rel:.2e} lse={lse_err:.2e} "
                  f"{'' if untouched else 'WROTE-OUTSIDE '}"
                  f"{'ok' if ok else 'FAIL'}", flush=True)
    qo_len = 1 if split else 33
    for label, tensors, expect in bad_cases(params, dtype, qo_len, 77, split):
        try:
            launch_all(kernels, tensors, kv_chunk=32 if split else None)
            torch.cuda.synchronize()
            message, ok = "launched", False
        except Exception as e:  # the runtime's error, whatever its class
            message, ok = str(e), expect in str(e)
        failures += not ok
        rows.append(dict(kernel=name, mode=f"bad:{label}", kv_len=77,
                         qo_len=qo_len, rel_err=0.0, lse_max_abs_err=0.0,
                         finite=True, ok=ok, message=message))
        print(f"{name:28s} bad:{label:14s} {'ok' if ok else 'FAIL'}: "
              f"{message[:110]}", flush=True)
    return failures


def merge_reference(vs, lses):
    """float64 merge of states (v [T, H, D], base-2 lse [T, H])."""
    lse = torch.stack([l.double() for l in lses])            # [S, T, H]
    m = lse.amax(0)
    m_exp = torch.where(torch.isinf(m) & (m < 0), torch.zeros_like(m), m)
    w = torch.exp2(lse - m_exp)                               # 0 where -inf
    vals = torch.stack([torch.nan_to_num(v.double()) for v in vs])
    vals = torch.where(w[..., None] > 0, vals, torch.zeros_like(vals))
    total = w.sum(0)
    o = (w[..., None] * vals).sum(0) / torch.where(
        total > 0, total, torch.ones_like(total))[..., None]
    out_lse = torch.where(total > 0, m_exp + torch.log2(total),
                          torch.full_like(total, -math.inf))
    return o, out_lse


def check_merge(kernel, manifest_kernel, gen, rows, tol):
    """attn.merge_states kernels: plain and view cases, then bad arguments."""
    p = kernel.params
    n, h, d = p["num_states"], p["num_heads"], p["head_dim"]
    args = {a["name"]: a for a in manifest_kernel["args"]}
    vdt = [DTYPES.get(args[f"v{i}"]["dtype"], torch.float32) for i in range(n)]
    odt = DTYPES[args["o"]["dtype"]]
    dev, failures = "cuda", 0
    for tokens in (1, 17, 1000):
        for views in (False, True):
            lse_all = torch.randn(tokens, n, h, generator=gen, device=dev) * 4
            # Row 0 empty in every state; rows 1.. empty in state 0 alone.
            lse_all[0] = -math.inf
            if tokens > 1:
                lse_all[1::3, 0] = -math.inf
            # One dtype for all states: the states are views of one tensor.
            v_all = torch.randn(tokens, n, h, d, generator=gen, device=dev)
            if len(set(vdt)) == 1:
                v_all = v_all.to(vdt[0])
            vs, lses = [], []
            for i in range(n):
                vi = v_all[:, i] if views else v_all[:, i].contiguous()
                vi = vi.to(vdt[i])
                li = lse_all[:, i] if views else lse_all[:, i].contiguous()
                vs.append(vi)
                lses.append(li)
            # A state that saw no key may hold anything: NaN must not leak.
            if tokens > 1:
                vs[0][1::3] = float("nan")
            obuf = torch.full((tokens, 2 * h, d), float("nan"), device=dev,
                              dtype=odt)
            o = obuf[:, h:] if views else obuf[:, :h].contiguous()
            lse = torch.full((tokens, h), float("nan"), device=dev)
            tensors = {f"v{i}": vs[i] for i in range(n)}
            tensors.update({f"lse{i}": lses[i] for i in range(n)})
            tensors.update(o=o, lse=lse)
            kernel(*[tensors[a] for a in kernel.arg_names])
            torch.cuda.synchronize()
            ref_o, ref_lse = merge_reference(vs, lses)
            finite = bool(torch.isfinite(o).all())
            rel = ((o.double() - ref_o).norm() /
                   ref_o.norm().clamp_min(1e-30)).item()
            same_inf = bool((torch.isinf(lse) == torch.isinf(ref_lse)).all())
            fin = torch.isfinite(ref_lse)
            lse_err = ((lse.double()[fin] - ref_lse[fin]).abs().max().item()
                       if fin.any() else 0.0)
            empty_ok = bool((o[0] == 0).all())
            untouched = not views or bool(torch.isnan(obuf[:, :h]).all())
            ok = (finite and same_inf and empty_ok and untouched and
                  rel <= tol and lse_err <= 1e-3)
            failures += not ok
            label = "merge:views" if views else "merge"
            rows.append(dict(kernel=kernel.name, mode=label, kv_len=n,
                             qo_len=tokens, rel_err=rel,
                             lse_max_abs_err=lse_err, finite=finite, ok=ok))
            print(f"{kernel.name:28s} {label:12s} T={tokens:5d} "
                  f"rel={rel:.2e} lse={lse_err:.2e} "
                  f"{'' if empty_ok and same_inf else 'EMPTY-ROW '}"
                  f"{'' if untouched else 'WROTE-OUTSIDE '}"
                  f"{'ok' if ok else 'FAIL'}", flush=True)
    z = lambda *shape, t=torch.float32: torch.zeros(*shape, device=dev, dtype=t)
    good = lambda: {**{f"v{i}": z(5, h, d, t=vdt[i]) for i in range(n)},
                    **{f"lse{i}": z(5, h) for i in range(n)},
                    "o": z(5, h, d, t=odt), "lse": z(5, h)}
    for label, change, expect in [
            ("state-shorter", {"v1": z(4, h, d, t=vdt[1])},
             "'v1': dimension 0 must be o.shape[0]"),
            ("lse-heads", {"lse0": z(5, h + 1)}, "'lse0': dimension 1 must be"),
            ("out-dim", {"o": z(5, h, d + 16, t=odt)}, "'o': dimension 2 must be"),
            ("lse-inner-stride", {"lse": z(5, 2 * h)[:, ::2]},
             "'lse': innermost stride must be 1")]:
        t = good()
        t.update(change)
        try:
            kernel(*[t[a] for a in kernel.arg_names])
            torch.cuda.synchronize()
            message, ok = "launched", False
        except Exception as e:
            message, ok = str(e), expect in str(e)
        failures += not ok
        rows.append(dict(kernel=kernel.name, mode=f"bad:{label}", kv_len=n,
                         qo_len=5, rel_err=0.0, lse_max_abs_err=0.0,
                         finite=True, ok=ok, message=message))
        print(f"{kernel.name:28s} bad:{label:14s} {'ok' if ok else 'FAIL'}: "
              f"{message[:110]}", flush=True)
    return failures


def check_segmented_merge(kernel, gen, rows, tol):
    """Segmented attn.merge_states (indptr): output row b merges the rows
    indptr[b] .. indptr[b + 1]; empty segments, NaN in empty rows, views,
    then bad arguments."""
    p = kernel.params
    h, d = p["num_qo_heads"], p["head_dim_v"]
    dev, failures = "cuda", 0
    # Segmented rows are often f32 partials.
    dtypes = dict(DTYPES, f32=torch.float32)
    # The last case's indptr points outside the 6 rows: it is clamped into
    # them (segments [0,3), [3,6), empty, [0,6)), never read past them.
    bad_indptr = [0, 3, 1000, -5, 6]
    for lengths in ([1], [3, 0, 1, 17], [0] * 4 + [1000, 5], [2] * 64, None):
        for views in (False, True):
            offsets = (bad_indptr if lengths is None
                       else [0] + list(itertools.accumulate(lengths)))
            indptr = torch.tensor(offsets, dtype=torch.int32, device=dev)
            rows_n = 6 if lengths is None else offsets[-1]
            batch = len(offsets) - 1
            vdt = dtypes[kernel.manifest_args["v0"]["dtype"]]
            odt = dtypes[kernel.manifest_args["o"]["dtype"]]
            vbuf = torch.randn(rows_n, 2 * h, d, generator=gen, device=dev).to(vdt)
            v = vbuf[:, h:] if views else vbuf[:, :h].contiguous()
            lse = torch.randn(rows_n, h, generator=gen, device=dev) * 4
            lse[1::3] = -math.inf
            v[1::3] = float("nan")
            obuf = torch.full((batch, 2 * h, d), float("nan"), device=dev,
                              dtype=odt)
            o = obuf[:, h:] if views else obuf[:, :h].contiguous()
            olse = torch.full((batch, h), float("nan"), device=dev)
            kernel(v, lse, indptr, o, olse)
            torch.cuda.synchronize()
            ref_o = torch.zeros(batch, h, d, dtype=torch.float64, device=dev)
            ref_lse = torch.full((batch, h), -math.inf, dtype=torch.float64,
                                 device=dev)
            for b in range(batch):
                lo = max(offsets[b], 0)
                hi = min(offsets[b + 1], rows_n)
                if hi > lo:
                    ob, lb = merge_reference(list(v[lo:hi, None].unbind(0)),
                                             list(lse[lo:hi, None].unbind(0)))
                    ref_o[b], ref_lse[b] = ob[0], lb[0]
            finite = bool(torch.isfinite(o).all())
            rel = ((o.double() - ref_o).norm() /
                   ref_o.norm().clamp_min(1e-30)).item()
            same_inf = bool((torch.isinf(olse) == torch.isinf(ref_lse)).all())
            fin = torch.isfinite(ref_lse)
            lse_err = ((olse.double()[fin] - ref_lse[fin]).abs().max().item()
                       if fin.any() else 0.0)
            untouched = not views or bool(torch.isnan(obuf[:, :h]).all())
            ok = finite and same_inf and untouched and rel <= tol and lse_err <= 1e-3
            failures += not ok
            label = "segmented:views" if views else "segmented"
            rows.append(dict(kernel=kernel.name, mode=label, kv_len=rows_n,
                             qo_len=batch, rel_err=rel,
                             lse_max_abs_err=lse_err, finite=finite, ok=ok))
            print(f"{kernel.name:28s} {label:16s} B={batch:3d} rows={rows_n:5d} "
                  f"rel={rel:.2e} lse={lse_err:.2e} {'ok' if ok else 'FAIL'}",
                  flush=True)
    z = lambda *shape, t=torch.float32: torch.zeros(*shape, device=dev, dtype=t)
    vdt = dtypes[kernel.manifest_args["v0"]["dtype"]]
    odt = dtypes[kernel.manifest_args["o"]["dtype"]]
    ip = lambda n: torch.zeros(n, dtype=torch.int32, device=dev)
    for label, args, expect in [
            ("indptr-length", (z(6, h, d, t=vdt), z(6, h), ip(4), z(4, h, d, t=odt), z(4, h)),
             "'indptr': dimension 0 must be"),
            ("lse-rows", (z(6, h, d, t=vdt), z(5, h), ip(5), z(4, h, d, t=odt), z(4, h)),
             "'lse0': dimension 0 must be"),
            ("out-heads", (z(6, h, d, t=vdt), z(6, h), ip(5), z(4, h + 1, d, t=odt), z(4, h)),
             "'o': dimension 1 must be")]:
        try:
            kernel(*args)
            torch.cuda.synchronize()
            message, ok = "launched", False
        except Exception as e:
            message, ok = str(e), expect in str(e)
        failures += not ok
        rows.append(dict(kernel=kernel.name, mode=f"bad:{label}", kv_len=0,
                         qo_len=4, rel_err=0.0, lse_max_abs_err=0.0,
                         finite=True, ok=ok, message=message))
        print(f"{kernel.name:28s} bad:{label:14s} {'ok' if ok else 'FAIL'}: "
              f"{message[:110]}", flush=True)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("kernel_dir")
    ap.add_argument("--lengths", default="1,17,1000,4097")
    ap.add_argument("--tol", type=float, default=1e-2)
    ap.add_argument("--lse-tol", type=float, default=1e-2)
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--decode-chunks", default="plan,512",
                    help="split sizes to check decode pairs with: 'plan' "
                         "(the planner's choice) or a number of keys")
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    gen = torch.Generator(device="cuda")
    gen.manual_seed(20261125)
    rows, failures = [], 0
    manifests = sorted(glob.glob(os.path.join(args.kernel_dir, "*_kernels.json")))
    if not manifests:
        sys.exit(f"check_attention: no manifests in {args.kernel_dir}")
    for path in manifests:
        module = Module(path)
        manifest = json.load(open(path))
        if manifest["kernels"][0].get("op") == "attn.merge_states":
            for k in manifest["kernels"]:
                kernel = module.kernel(k["name"])
                if "indptr" in kernel.arg_names:
                    kernel.manifest_args = {a["name"]: a for a in k["args"]}
                    failures += check_segmented_merge(kernel, gen, rows,
                                                      args.tol)
                else:
                    failures += check_merge(kernel, k, gen, rows, args.tol)
            continue
        dtype = DTYPES[manifest["kernels"][0]["args"][0]["dtype"]]
        stages = [k.get("params", {}).get("stage") for k in manifest["kernels"]]
        if stages == ["split_kv", "merge"]:
            # Decode pair: one problem, two launches.
            groups = [(manifest["kernels"][0]["name"], ("decode",),
                       [module.kernel(k["name"]) for k in manifest["kernels"]])]
        elif all(s is None for s in stages):
            groups = [(name, ("prefill", "decode"), [module.kernel(name)])
                      for name in module.kernel_names]
        else:
            sys.exit(f"check_attention: {path}: unknown kernel stages {stages}")
        for name, modes, kernels in groups:
            p = kernels[0].params
            split = "kv_chunk" in kernels[0].arg_names
            chunks = ([None if c == "plan" else int(c)
                       for c in args.decode_chunks.split(",")]
                      if split else [None])
            for mode in modes:
                for chunk in chunks:
                    label = mode if chunk is None else f"{mode}/c{chunk}"
                    for length in lengths:
                        qo_len = length if mode == "prefill" else 1
                        finite, rel, lse_err = run_case(
                            kernels, p, dtype, qo_len, length, gen, chunk)
                        ok = (finite and rel <= args.tol and
                              lse_err <= args.lse_tol)
                        failures += not ok
                        rows.append(dict(kernel=name, mode=label,
                                         kv_len=length, qo_len=qo_len,
                                         rel_err=rel, lse_max_abs_err=lse_err,
                                         finite=finite, ok=ok))
                        print(f"{name:28s} {label:12s} L={length:5d} "
                              f"rel={rel:.2e} lse={lse_err:.2e} "
                              f"{'ok' if ok else 'FAIL'}", flush=True)
            failures += check_views_and_errors(kernels, p, dtype, gen, rows,
                                               args.tol, args.lse_tol)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    # Summary: worst relative error per (dtype, head dim, causal, group).
    print("\n| kernel | cases | worst rel err (o) | worst lse abs err | result |")
    print("|---|---|---|---|---|")
    for name in dict.fromkeys(r["kernel"] for r in rows):
        rs = [r for r in rows if r["kernel"] == name]
        print(f"| {name} | {len(rs)} | {max(r['rel_err'] for r in rs):.2e} | "
              f"{max(r['lse_max_abs_err'] for r in rs):.2e} | "
              f"{'pass' if all(r['ok'] for r in rs) else 'FAIL'} |")
    print(f"\n{len(rows) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
