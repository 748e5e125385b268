#!/usr/bin/env python3
"""Writes the attn IR of a family of attention kernels and compiles it.

Each kernel is one `func.func` holding one `attn.attention` (q, k, v -> o,
lse); `flashinfer-opt --attn-compile` turns every function into a code object
plus a JSON manifest named `<func>_kernels.*` in the output folder. The
`decode` set gives q a static token dimension of 1, which compiles to a
split-KV kernel and its merge kernel (two kernels in one manifest). The
`paged` sets hold `attn.paged_attention` batch decode functions (q
[batch, Hq, D], paged caches, the page size static or any), which compile to
a scheduled split kernel and its merge kernel. The `prefill` sets hold batch
prefill functions: `attn.paged_attention` with qo_indptr (`prefill_*`) and
`attn.attention` with qo_indptr/kv_indptr (`ragged_*`), each one scheduled
kernel. The `merge` set holds `attn.merge_states` functions instead.

  gen_kernels.py --chip sm_90a --out build/kernels/sm_90a [--set matrix|bench|decode|decode-bench|merge|paged|paged-bench|prefill|prefill-bench|example]
"""
import argparse
import itertools
import os
import subprocess
import sys

SETS = {
    # The correctness matrix run on the GPU: dtypes x head dims x causal x GQA
    # (head dim 16 also exercises the guarded partial staging round).
    "matrix": dict(dtypes=["f16", "bf16"], head_dims=[16, 64, 128, 256],
                   causal=[False, True], groups=[1, 4, 8], qo_heads=32,
                   # Plus logits soft-cap at head dim 128, GQA 4: a cap of 1
                   # bends unit-variance scores far more than the tolerance.
                   soft_cap=dict(cap=1, head_dims=[128], groups=[4])),
    # The benchmark shapes: bf16, head dim 128, causal and not, GQA 1 and 4.
    "bench": dict(dtypes=["bf16"], head_dims=[128], causal=[False, True],
                  groups=[1, 4], qo_heads=32),
    # Single-request decode (q token dimension statically 1): dtypes x head
    # dims x GQA.
    "decode": dict(dtypes=["f16", "bf16"], head_dims=[64, 128, 256],
                   causal=[False], groups=[1, 4, 8], qo_heads=32, decode=True,
                   soft_cap=dict(cap=1, head_dims=[128], groups=[4])),
    # The decode benchmark shape alone (bf16, head dim 128, GQA 4), e.g. to
    # compare builds (e.g. block-n values) with bench_attention.py --decode-alt.
    "decode-bench": dict(dtypes=["bf16"], head_dims=[128], causal=[False],
                         groups=[4], qo_heads=32, decode=True),
    # attn.merge_states: (state value dtypes, output dtype, head dim) x
    # 32 heads; f32 partials are what split-KV and cascade stages write.
    "merge": dict(merge=[(["f32", "f32"], "bf16", 128),
                         (["f16", "f16", "f16"], "f16", 64),
                         (["bf16"] * 5, "bf16", 256),
                         (["f32", "bf16"], "f16", 128)],
                  # The segmented form: (rows' dtype, output dtype, head dim).
                  segmented_merge=[("f32", "bf16", 128), ("bf16", "bf16", 64)],
                  qo_heads=32),
    # Paged batch decode: dtypes x head dims x GQA x layout, any page size
    # (read from the cache), with lse; plus causal, a sliding window and
    # soft-cap at head dim 128, GQA 4.
    "paged": dict(paged=dict(dtypes=["f16", "bf16"], head_dims=[64, 128, 256],
                             groups=[1, 4, 8], layouts=["nhd", "hnd"],
                             page_sizes=[None],
                             variants=[{}, {"causal": True},
                                       {"window_left": 100},
                                       {"logits_soft_cap": 1.0}]),
                  qo_heads=32),
    # The serving benchmark's shape (bf16, 32/8 heads, head dim 128): page
    # size 16 compiled in, and any page size, nhd.
    "paged-bench": dict(paged=dict(dtypes=["bf16"], head_dims=[128],
                                   groups=[4], layouts=["nhd"],
                                   page_sizes=[16, None], variants=[{}]),
                        qo_heads=32),
    # Batch prefill: attn.paged_attention with qo_indptr over any page size
    # (dtypes x head dims x GQA x layout, causal), and attn.attention over
    # ragged K/V (dtypes x head dims x GQA, causal); plus non-causal, a
    # sliding window and soft-cap at head dim 128, GQA 4.
    "prefill": dict(prefill=dict(dtypes=["f16", "bf16"],
                                 head_dims=[64, 128, 256], groups=[1, 4, 8],
                                 layouts=["nhd", "hnd"], page_sizes=[None],
                                 variants=[{"causal": True}, {},
                                           {"causal": True,
                                            "window_left": 100},
                                           {"causal": True,
                                            "logits_soft_cap": 1.0}]),
                    ragged=dict(dtypes=["f16", "bf16"],
                                head_dims=[64, 128, 256], groups=[1, 4],
                                variants=[{"causal": True}, {},
                                          {"causal": True,
                                           "window_left": 100}]),
                    qo_heads=32),
    # The batched prefill benchmark's shape (bf16, 32/8 heads, head dim 128,
    # causal): page size 16 compiled in, ragged K/V.
    "prefill-bench": dict(prefill=dict(dtypes=["bf16"], head_dims=[128],
                                       groups=[4], layouts=["nhd"],
                                       page_sizes=[16],
                                       variants=[{"causal": True}]),
                          ragged=dict(dtypes=["bf16"], head_dims=[128],
                                      groups=[4], variants=[{"causal": True}]),
                          qo_heads=32),
    # Launch sequences (functions of several attn ops): append + decode and
    # a two-level cascade, bf16/f16 x layout, head dim 128, 32/8 heads.
    "sequence": dict(sequence=dict(dtypes=["bf16", "f16"],
                                   layouts=["nhd", "hnd"], page_sizes=[16]),
                     qo_heads=32),
    # attn.append_paged_kv: dtypes x head dims x layout, 8 KV heads, any
    # page size.
    "append": dict(append=dict(dtypes=["f16", "bf16"],
                               head_dims=[64, 128, 256],
                               layouts=["nhd", "hnd"]), kv_heads=8),
    "example": dict(dtypes=["f16"], head_dims=[64], causal=[False],
                    groups=[1], qo_heads=8),
}


def kernel_name(dtype, d, causal, group, decode=False, soft_cap=0):
    cap = f"_cap{soft_cap:g}" if soft_cap else ""
    if decode:
        return f"decode_{dtype}_d{d}_g{group}{'_causal' if causal else ''}{cap}"
    return f"attn_{dtype}_d{d}_g{group}_{'causal' if causal else 'full'}{cap}"


def kernel_ir(dtype, d, causal, group, qo_heads, decode=False, soft_cap=0):
    kv_heads = qo_heads // group
    tokens = "1" if decode else "?"
    q = f"tensor<{tokens}x{qo_heads}x{d}x{dtype}>"
    kv = f"tensor<?x{kv_heads}x{d}x{dtype}>"
    lse = f"tensor<{tokens}x{qo_heads}xf32>"
    attr_list = (["causal"] if causal else []) + (
        [f"logits_soft_cap = {soft_cap:g}.0 : f32"] if soft_cap else [])
    attrs = f" attributes {{{', '.join(attr_list)}}}" if attr_list else ""
    name = kernel_name(dtype, d, causal, group, decode, soft_cap)
    return (
        f"func.func @{name}(%q: {q}, %k: {kv}, %v: {kv}, %o: {q}, %lse: {lse})"
        f" -> ({q}, {lse}) {{\n"
        f"  %r:2 = attn.attention q(%q : {q}) k(%k : {kv}) v(%v : {kv})\n"
        f"      outs(%o, %lse : {q}, {lse}){attrs} -> {q}, {lse}\n"
        f"  return %r#0, %r#1 : {q}, {lse}\n}}\n")


def variant_tags(variant):
    return "".join(
        "_causal" if k == "causal" else
        f"_w{v}" if k == "window_left" else f"_cap{v:g}"
        for k, v in sorted(variant.items()))


def paged_name(dtype, d, group, layout, page_size, variant):
    tags = variant_tags(variant)
    page = f"p{page_size}" if page_size else "pany"
    return f"paged_{dtype}_d{d}_g{group}_{layout}_{page}{tags}"


def variant_attrs(variant):
    return ["causal" if k == "causal" else
            f"window_left = {v} : i64" if k == "window_left" else
            f"logits_soft_cap = {float(v)!r} : f32"
            for k, v in sorted(variant.items())]


def ragged_ir(dtype, d, group, qo_heads, variant):
    """Batch prefill over ragged K/V (attn.attention with both indptrs),
    with lse."""
    kv_heads = qo_heads // group
    q = f"tensor<?x{qo_heads}x{d}x{dtype}>"
    kv = f"tensor<?x{kv_heads}x{d}x{dtype}>"
    lse = f"tensor<?x{qo_heads}xf32>"
    ids = "tensor<?xi32>"
    name = f"ragged_{dtype}_d{d}_g{group}{variant_tags(variant)}"
    attrs = variant_attrs(variant)
    attr_text = f" attributes {{{', '.join(attrs)}}}" if attrs else ""
    return (
        f"func.func @{name}(%q: {q}, %k: {kv}, %v: {kv}, %qo: {ids}, "
        f"%kvp: {ids}, %o: {q}, %lse: {lse}) -> ({q}, {lse}) {{\n"
        f"  %r:2 = attn.attention q(%q : {q}) k(%k : {kv}) v(%v : {kv})"
        f" qo_indptr(%qo : {ids}) kv_indptr(%kvp : {ids})\n"
        f"      outs(%o, %lse : {q}, {lse}){attr_text} -> {q}, {lse}\n"
        f"  return %r#0, %r#1 : {q}, {lse}\n}}\n")


def paged_ir(dtype, d, group, qo_heads, layout, page_size, variant,
             prefill=False):
    """Batch decode (or with `prefill`, batch prefill: qo_indptr) over a
    paged cache, with lse."""
    kv_heads = qo_heads // group
    p = str(page_size) if page_size else "?"
    cache_shape = f"?x{p}x{kv_heads}x{d}" if layout == "nhd" else \
        f"?x{kv_heads}x{p}x{d}"
    cache = f"tensor<{cache_shape}x{dtype}>"
    q = f"tensor<?x{qo_heads}x{d}x{dtype}>"
    lse = f"tensor<?x{qo_heads}xf32>"
    ids = "tensor<?xi32>"
    attrs = [f"kv_layout = #attn.kv_layout<{layout}>"] + variant_attrs(variant)
    name = paged_name(dtype, d, group, layout, page_size, variant)
    if prefill:
        name = "prefill" + name[len("paged"):]
    qo = f", %qo: {ids}" if prefill else ""
    qo_use = f" qo_indptr(%qo : {ids})" if prefill else ""
    return (
        f"func.func @{name}(%q: {q}, %kc: {cache}, %vc: {cache}, "
        f"%ip: {ids}, %idx: {ids}, %last: {ids}{qo}, %o: {q}, %lse: {lse})"
        f" -> ({q}, {lse}) {{\n"
        f"  %r:2 = attn.paged_attention q(%q : {q}) k_cache(%kc : {cache})"
        f" v_cache(%vc : {cache})\n"
        f"      kv_indptr(%ip : {ids}) kv_indices(%idx : {ids})"
        f" kv_last_page_len(%last : {ids}){qo_use}\n"
        f"      outs(%o, %lse : {q}, {lse}) attributes {{{', '.join(attrs)}}}"
        f" -> {q}, {lse}\n"
        f"  return %r#0, %r#1 : {q}, {lse}\n}}\n")


def append_ir(dtype, d, kv_heads, layout):
    """attn.append_paged_kv into caches of any page size."""
    name = f"append_{dtype}_d{d}_h{kv_heads}_{layout}"
    rows = f"tensor<?x{kv_heads}x{d}x{dtype}>"
    shape = f"?x?x{kv_heads}x{d}" if layout == "nhd" else f"?x{kv_heads}x?x{d}"
    cache = f"tensor<{shape}x{dtype}>"
    ids = "tensor<?xi32>"
    return (
        f"func.func @{name}(%k: {rows}, %v: {rows}, %b: {ids}, %p: {ids}, "
        f"%i: {ids}, %ip: {ids}, %kc: {cache}, %vc: {cache}) -> ({cache}, "
        f"{cache}) {{\n"
        f"  %r:2 = attn.append_paged_kv k(%k : {rows}) v(%v : {rows})"
        f" batch_indices(%b : {ids}) positions(%p : {ids})"
        f" kv_indices(%i : {ids}) kv_indptr(%ip : {ids})\n"
        f"      outs(%kc, %vc : {cache}, {cache})"
        f" {{kv_layout = #attn.kv_layout<{layout}>}} -> {cache}, {cache}\n"
        f"  return %r#0, %r#1 : {cache}, {cache}\n}}\n")


def merge_ir(value_dtypes, out_dtype, d, heads):
    n = len(value_dtypes)
    name = f"merge{n}_{'_'.join(dict.fromkeys(value_dtypes))}_to_{out_dtype}_d{d}"
    vs = [f"tensor<?x{heads}x{d}x{t}>" for t in value_dtypes]
    lse = f"tensor<?x{heads}xf32>"
    o = f"tensor<?x{heads}x{d}x{out_dtype}>"
    params = ", ".join([f"%v{i}: {t}" for i, t in enumerate(vs)] +
                       [f"%l{i}: {lse}" for i in range(n)] +
                       [f"%o: {o}", f"%lse: {lse}"])
    return (
        f"func.func @{name}({params}) -> ({o}, {lse}) {{\n"
        f"  %r:2 = attn.merge_states values({', '.join(f'%v{i}' for i in range(n))}"
        f" : {', '.join(vs)})\n"
        f"      lse({', '.join(f'%l{i}' for i in range(n))} : {', '.join([lse] * n)})\n"
        f"      outs(%o, %lse : {o}, {lse}) -> {o}, {lse}\n"
        f"  return %r#0, %r#1 : {o}, {lse}\n}}\n")


def segmented_merge_ir(value_dtype, out_dtype, d, heads):
    name = f"varlen_merge_{value_dtype}_to_{out_dtype}_d{d}"
    v = f"tensor<?x{heads}x{d}x{value_dtype}>"
    lse = f"tensor<?x{heads}xf32>"
    o = f"tensor<?x{heads}x{d}x{out_dtype}>"
    return (
        f"func.func @{name}(%v0: {v}, %l0: {lse}, %ip: tensor<?xi32>, %o: {o},"
        f" %lse: {lse}) -> ({o}, {lse}) {{\n"
        f"  %r:2 = attn.merge_states indptr(%ip : tensor<?xi32>) values(%v0 : {v})"
        f" lse(%l0 : {lse})\n"
        f"      outs(%o, %lse : {o}, {lse}) -> {o}, {lse}\n"
        f"  return %r#0, %r#1 : {o}, {lse}\n}}\n")


def sequence_irs(dtype, d, qo_heads, kv_heads, layout, page_size):
    """Functions of several attn ops, each one launch sequence: `serve`
    appends the step's new K/V and decodes over the updated cache; `cascade`
    decodes over two page lists (shared prefix, unique suffix) with lse and
    merges the two states."""
    t = {"f16": "f16", "bf16": "bf16"}[dtype]
    cache = (f"tensor<?x{page_size}x{kv_heads}x{d}x{t}>" if layout == "nhd"
             else f"tensor<?x{kv_heads}x{page_size}x{d}x{t}>")
    rows = f"tensor<?x{kv_heads}x{d}x{t}>"
    q = f"tensor<?x{qo_heads}x{d}x{t}>"
    lse = f"tensor<?x{qo_heads}xf32>"
    ids = "tensor<?xi32>"
    lay = f"{{kv_layout = #attn.kv_layout<{layout}>}}"
    sfx = f"{dtype}_d{d}_{layout}_ps{page_size}"
    serve = (
        f"func.func @serve_{sfx}(%k: {rows}, %v: {rows}, %b: {ids}, %p: {ids},"
        f" %idx: {ids}, %ip: {ids}, %kc: {cache}, %vc: {cache}, %q: {q},"
        f" %last: {ids}, %o: {q}) -> {q} {{\n"
        f"  %c:2 = attn.append_paged_kv k(%k : {rows}) v(%v : {rows})"
        f" batch_indices(%b : {ids}) positions(%p : {ids})"
        f" kv_indices(%idx : {ids}) kv_indptr(%ip : {ids})"
        f" outs(%kc, %vc : {cache}, {cache}) {lay} -> {cache}, {cache}\n"
        f"  %r = attn.paged_attention q(%q : {q}) k_cache(%c#0 : {cache})"
        f" v_cache(%c#1 : {cache}) kv_indptr(%ip : {ids})"
        f" kv_indices(%idx : {ids}) kv_last_page_len(%last : {ids})"
        f" outs(%o : {q}) attributes {lay} -> {q}\n"
        f"  return %r : {q}\n}}\n")
    def decode(tag, n):
        return (f"  %{tag}:2 = attn.paged_attention q(%q : {q}) k_cache(%kc : {cache})"
                f" v_cache(%vc : {cache}) kv_indptr(%ip{n} : {ids})"
                f" kv_indices(%idx{n} : {ids}) kv_last_page_len(%last{n} : {ids})"
                f" outs(%o{n}, %l{n} : {q}, {lse}) attributes {lay}"
                f" -> {q}, {lse}\n")
    cascade = (
        f"func.func @cascade_{sfx}(%q: {q}, %kc: {cache}, %vc: {cache},"
        f" %ip0: {ids}, %idx0: {ids}, %last0: {ids}, %ip1: {ids},"
        f" %idx1: {ids}, %last1: {ids}, %o0: {q}, %l0: {lse}, %o1: {q},"
        f" %l1: {lse}, %o: {q}, %l: {lse}) -> ({q}, {lse}) {{\n"
        + decode("a", 0) + decode("b", 1) +
        f"  %m:2 = attn.merge_states values(%a#0, %b#0 : {q}, {q})"
        f" lse(%a#1, %b#1 : {lse}, {lse}) outs(%o, %l : {q}, {lse})"
        f" -> {q}, {lse}\n"
        f"  return %m#0, %m#1 : {q}, {lse}\n}}\n")
    return [serve, cascade]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chip", default="sm_90a")
    ap.add_argument("--out", required=True)
    ap.add_argument("--set", default="matrix", choices=sorted(SETS))
    ap.add_argument("--options", default="",
                    help="extra attn-compile options, e.g. 'block-n=32' or "
                         "'block-n=64' (decode)")
    ap.add_argument("--opt", default=os.path.join(
        os.path.dirname(__file__), "..", "build", "bin", "flashinfer-opt"))
    args = ap.parse_args()
    cfg = SETS[args.set]
    os.makedirs(args.out, exist_ok=True)
    decode = cfg.get("decode", False)
    funcs = [kernel_ir(t, d, c, g, cfg["qo_heads"], decode)
             for t, d, c, g in
             itertools.product(cfg.get("dtypes", []), cfg.get("head_dims", []),
                               cfg.get("causal", []), cfg.get("groups", []))]
    funcs += [merge_ir(vt, ot, d, cfg["qo_heads"])
              for vt, ot, d in cfg.get("merge", [])]
    funcs += [segmented_merge_ir(vt, ot, d, cfg["qo_heads"])
              for vt, ot, d in cfg.get("segmented_merge", [])]
    if "paged" in cfg:
        pg = cfg["paged"]
        for t, d, g, lay, ps in itertools.product(
                pg["dtypes"], pg["head_dims"], pg["groups"], pg["layouts"],
                pg["page_sizes"]):
            # The variants at head dim 128, GQA 4 only.
            for var in pg["variants"]:
                if var and (d != 128 or g != 4):
                    continue
                funcs.append(paged_ir(t, d, g, cfg["qo_heads"], lay, ps, var))
    if "prefill" in cfg:
        pf = cfg["prefill"]
        for t, d, g, lay, ps in itertools.product(
                pf["dtypes"], pf["head_dims"], pf["groups"], pf["layouts"],
                pf["page_sizes"]):
            # The first variant everywhere, the others at head dim 128, GQA 4.
            for i, var in enumerate(pf["variants"]):
                if i and (d != 128 or g != 4):
                    continue
                funcs.append(paged_ir(t, d, g, cfg["qo_heads"], lay, ps, var,
                                      prefill=True))
    if "ragged" in cfg:
        rg = cfg["ragged"]
        for t, d, g in itertools.product(rg["dtypes"], rg["head_dims"],
                                         rg["groups"]):
            for i, var in enumerate(rg["variants"]):
                if i and (d != 128 or g != 4):
                    continue
                funcs.append(ragged_ir(t, d, g, cfg["qo_heads"], var))
    if "append" in cfg:
        ap = cfg["append"]
        funcs += [append_ir(t, d, cfg["kv_heads"], lay)
                  for t, d, lay in itertools.product(
                      ap["dtypes"], ap["head_dims"], ap["layouts"])]
    if "sequence" in cfg:
        sq = cfg["sequence"]
        for t, lay, ps in itertools.product(sq["dtypes"], sq["layouts"],
                                            sq["page_sizes"]):
            funcs += sequence_irs(t, 128, cfg["qo_heads"], 8, lay, ps)
    if "soft_cap" in cfg:
        sc = cfg["soft_cap"]
        funcs += [kernel_ir(t, d, c, g, cfg["qo_heads"], decode, sc["cap"])
                  for t, d, c, g in
                  itertools.product(cfg["dtypes"], sc["head_dims"],
                                    cfg["causal"], sc["groups"])]
    src = os.path.join(args.out, f"{args.set}.mlir")
    with open(src, "w") as f:
        f.write("\n".join(funcs))
    options = f"chip={args.chip} o-dir={args.out} {args.options}".strip()
    cmd = [args.opt, src, f"--attn-compile={options}",
           "-o", os.devnull]
    r = subprocess.run(cmd)
    if r.returncode != 0:
        sys.exit(f"gen_kernels: flashinfer-opt failed ({r.returncode})")
    print(f"gen_kernels: {len(funcs)} kernels for {args.chip} in {args.out}")


if __name__ == "__main__":
    main()
