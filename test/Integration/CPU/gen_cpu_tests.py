#!/usr/bin/python3
"""Generates the CPU execution tests of the attn reference lowering.

Regenerate the checked-in tests (from the repository root):

    /usr/bin/python3 test/Integration/CPU/gen_cpu_tests.py

Each case draws its inputs with a fixed seed (multiples of 1/32, so every
input is exact in f32, f16 and bf16), computes the expected outputs in float64
with the straightforward numpy model of the op semantics below (written from
the op descriptions in AttnOps.td, one query row and one key at a time), and
writes `<case>.mlir`: the inputs as dense constants, a @kernel function
holding the attn op (leading dims dynamic), and a @check of every result
against the expected values. @check prints the max abs error relative to the
max |expected| and a 0/1 verdict against a tolerance suited to the dtype; the
CHECK lines require verdict 1. Positions where the expected value is -inf (lse
of a row without visible keys) must be -inf exactly.
"""

import math
import os
import sys

import numpy as np

TOL = {"f32": 1e-5, "f16": 2e-3, "bf16": 2e-2}
NP_DTYPE = {"f32": np.float32, "f16": np.float16}
NEG_INF_HEX = {"f32": "0xFF800000", "f16": "0xFC00", "bf16": "0xFF80"}

RUN_LINE = ("// RUN: flashinfer-opt %s --attn-cpu-pipeline | mlir-runner -e main "
            "-entry-point-result=void "
            "-shared-libs=%mlir_runner_utils,%mlir_c_runner_utils | FileCheck %s")

#===------------------------------------------------------------------------===#
# numpy model of the semantics
#===------------------------------------------------------------------------===#


def rope_freq(i, rotary_dim, scale, theta, llama31=None):
    """Pair i's frequency: theta^(-2i/rotary_dim) / scale, or with
    llama31 = (low_freq_factor, high_freq_factor, old_context_len) Llama
    3.1's: kept above the high-frequency band, / scale below the low one,
    interpolated by the wavelength in between."""
    f = theta ** (-2.0 * i / rotary_dim)
    if llama31 is None:
        return f / scale
    low, high, context = llama31
    wavelen = 2 * math.pi / f
    if wavelen < context / high:
        return f
    if wavelen > context / low:
        return f / scale
    smooth = (context / wavelen - low) / (high - low)
    return (1 - smooth) * f / scale + smooth * f


def rope_vec(x, pos, rotary_dim, interleave, scale, theta, llama31=None,
             cos_sin=None):
    """Rotates the first rotary_dim features of one head vector (angles
    from cos_sin = (cos[half], sin[half]) when given)."""
    out = x.copy()
    half = rotary_dim // 2
    for i in range(half):
        if cos_sin is not None:
            c, s = cos_sin[0][i], cos_sin[1][i]
        else:
            angle = pos * rope_freq(i, rotary_dim, scale, theta, llama31)
            c, s = math.cos(angle), math.sin(angle)
        a, b = (2 * i, 2 * i + 1) if interleave else (i, i + half)
        out[a] = x[a] * c - x[b] * s
        out[b] = x[b] * c + x[a] * s
    return out


def alibi_default_slopes(n):
    """The ALiBi paper's slopes (Press et al., reference implementation)."""
    def power_of_2(n):
        start = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [start * start ** i for i in range(n)]
    if math.log2(n).is_integer():
        return power_of_2(n)
    closest = 2 ** math.floor(math.log2(n))
    return power_of_2(closest) + alibi_default_slopes(2 * closest)[0::2][:n - closest]


def attention_ref(q, k, v, qo_indptr, kv_indptr, sm_scale=None, causal=False,
                  window_left=-1, soft_cap=0.0, pos_encoding="none",
                  rope_scale=1.0, rope_theta=1e4, mask_bits=None,
                  alibi_slopes=None, sinks=None, score_mod=None, mask_mod=None):
    tokens, hq, d = q.shape
    hkv, dv = k.shape[1], v.shape[2]
    if sm_scale is None:
        sm_scale = 1.0 / math.sqrt(d)
    if pos_encoding == "alibi" and alibi_slopes is None:
        alibi_slopes = alibi_default_slopes(hq)
    o = np.zeros((tokens, hq, dv))
    lse = np.full((tokens, hq), -np.inf)
    bit = 0
    for b in range(len(qo_indptr) - 1):
        qs, qo_len = qo_indptr[b], qo_indptr[b + 1] - qo_indptr[b]
        ks, kv_len = kv_indptr[b], kv_indptr[b + 1] - kv_indptr[b]
        for h in range(hq):
            kh = h // (hq // hkv)
            for i in range(qo_len):
                q_idx = i + kv_len - qo_len
                qv = q[qs + i, h]
                if pos_encoding == "rope_llama":
                    qv = rope_vec(qv, q_idx, d, False, rope_scale, rope_theta)
                logits, values = [], []
                for j in range(kv_len):
                    kv = k[ks + j, kh]
                    if pos_encoding == "rope_llama":
                        kv = rope_vec(kv, j, d, False, rope_scale, rope_theta)
                    s = float(np.dot(qv, kv)) * sm_scale
                    if soft_cap > 0:
                        s = soft_cap * math.tanh(s / soft_cap)
                    if pos_encoding == "alibi":
                        s += alibi_slopes[h] * (j - q_idx)
                    if score_mod:
                        s = score_mod(s, b, h, q_idx, j)
                    visible = True
                    if causal and j > q_idx:
                        visible = False
                    if window_left >= 0 and j < q_idx - window_left:
                        visible = False
                    if mask_bits is not None and not mask_bits[bit + i * kv_len + j]:
                        visible = False
                    if mask_mod and not mask_mod(b, h, q_idx, j):
                        visible = False
                    if visible:
                        logits.append(s)
                        values.append(v[ks + j, kh])
                if not logits:
                    continue  # o stays 0, lse -inf
                all_logits = logits + ([sinks[h]] if sinks is not None else [])
                m = max(all_logits)
                denom = sum(math.exp(x - m) for x in all_logits)
                o[qs + i, h] = sum(math.exp(x - m) * val
                                   for x, val in zip(logits, values)) / denom
                lse[qs + i, h] = (m + math.log(denom)) / math.log(2.0)
        bit += qo_len * kv_len
    return o, lse


def merge_ref(vs, lses):
    tokens, heads, dim = vs[0].shape
    out = np.zeros((tokens, heads, dim))
    out_lse = np.full((tokens, heads), -np.inf)
    for t in range(tokens):
        for h in range(heads):
            ls = [l[t, h] for l in lses]
            live = [i for i, l in enumerate(ls) if l != -np.inf]
            if not live:
                continue
            total = sum(2.0 ** ls[i] for i in live)
            out_lse[t, h] = math.log2(total)
            out[t, h] = sum(2.0 ** ls[i] * vs[i][t, h] for i in live) / total
    return out, out_lse


def rope_ref(x, pos_ids, rotary_dim, interleave, scale, theta, llama31=None,
             cache=None):
    out = x.copy()
    half = rotary_dim // 2
    for t in range(x.shape[0]):
        cos_sin = None
        if cache is not None:
            row = cache[pos_ids[t]]
            cos_sin = (row[:half], row[half:])
        for h in range(x.shape[1]):
            out[t, h] = rope_vec(x[t, h], pos_ids[t], rotary_dim, interleave,
                                 scale, theta, llama31, cos_sin)
    return out


def append_ref(k, v, batch_indices, positions, kv_indices, kv_indptr, kc, vc,
               layout):
    kc, vc = kc.copy(), vc.copy()
    page_size = kc.shape[1 if layout == "nhd" else 2]
    for n in range(k.shape[0]):
        b, pos = batch_indices[n], positions[n]
        page = kv_indices[kv_indptr[b] + pos // page_size]
        slot = pos % page_size
        if layout == "nhd":
            kc[page, slot], vc[page, slot] = k[n], v[n]
        else:
            kc[page, :, slot], vc[page, :, slot] = k[n], v[n]
    return kc, vc

#===------------------------------------------------------------------------===#
# MLIR emission
#===------------------------------------------------------------------------===#


def fmt_float(x, dtype):
    if np.isnan(x):
        assert dtype == "f32"
        return "0x7FC00000"
    if np.isinf(x):
        assert x < 0
        return NEG_INF_HEX[dtype]
    s = np.format_float_positional(np.float32(x), unique=True, trim="0")
    return s


def fmt_dense(arr, dtype):
    if dtype in ("i32", "i64", "i8"):
        fmt = lambda x: str(int(x))
    else:
        fmt = lambda x: fmt_float(x, dtype)

    def rec(a):
        if a.ndim == 0:
            return fmt(a)
        return "[" + ", ".join(rec(x) for x in a) + "]"
    return "dense<" + rec(np.asarray(arr)) + ">"


def ttype(shape, dtype, dyn=()):
    dims = ["?" if i in dyn else str(s) for i, s in enumerate(shape)]
    return "tensor<" + "x".join(dims + [dtype]) + ">"


class Arg:
    """An operand of the attn op, passed to @kernel with dims `dyn` dynamic."""

    def __init__(self, name, value, dtype, dyn=(0,)):
        self.name, self.value, self.dtype = name, np.asarray(value), dtype
        self.dyn = tuple(dyn)

    @property
    def type(self):
        return ttype(self.value.shape, self.dtype, self.dyn)

    @property
    def static_type(self):
        return ttype(self.value.shape, self.dtype)


class Scalar:
    """A scalar operand of the attn op (a launch-time variant value), passed
    to @kernel as an argument."""

    def __init__(self, name, value, dtype):
        self.name, self.value, self.dtype = name, value, dtype

    @property
    def type(self):
        return self.dtype

    static_type = type


class Out:
    """A result: its init is tensor.empty sized like `like` (list of
    (arg name, dim) per dim), or the arg named `init`."""

    def __init__(self, name, expected, dtype, like=None, init=None, dyn=(0,),
                 tol=None):
        self.name, self.expected, self.dtype = name, np.asarray(expected), dtype
        self.like, self.init, self.dyn = like, init, tuple(dyn)
        self.tol = tol if tol is not None else TOL[dtype]

    @property
    def type(self):
        return ttype(self.expected.shape, self.dtype, self.dyn)

    @property
    def static_type(self):
        return ttype(self.expected.shape, self.dtype)


CHECK_FN = """\
func.func @check(%got: tensor<?xf32>, %exp: tensor<?xf32>, %tol: f32) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %inf = arith.constant 0x7F800000 : f32
  %e0 = tensor.empty() : tensor<f32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %e1 = tensor.empty() : tensor<f32>
  %acc1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<f32>) -> tensor<f32>
  // Max |got - exp| (0 where both are the same infinity; NaN propagates) and
  // max finite |exp|.
  %r:2 = linalg.generic {
      indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>,
                       affine_map<(i) -> ()>, affine_map<(i) -> ()>],
      iterator_types = ["reduction"]}
      ins(%got, %exp : tensor<?xf32>, tensor<?xf32>)
      outs(%acc0, %acc1 : tensor<f32>, tensor<f32>) {
  ^bb0(%g: f32, %e: f32, %err: f32, %mag: f32):
    %same = arith.cmpf oeq, %g, %e : f32
    %d = arith.subf %g, %e : f32
    %ad = math.absf %d : f32
    %de = arith.select %same, %zero, %ad : f32
    %err2 = arith.maximumf %err, %de : f32
    %ae = math.absf %e : f32
    %fin = arith.cmpf olt, %ae, %inf : f32
    %ae2 = arith.select %fin, %ae, %zero : f32
    %mag2 = arith.maximumf %mag, %ae2 : f32
    linalg.yield %err2, %mag2 : f32, f32
  } -> (tensor<f32>, tensor<f32>)
  %err = tensor.extract %r#0[] : tensor<f32>
  %mag = tensor.extract %r#1[] : tensor<f32>
  %pos = arith.cmpf ogt, %mag, %zero : f32
  %den = arith.select %pos, %mag, %one : f32
  %rel = arith.divf %err, %den : f32
  %ok = arith.cmpf ole, %rel, %tol : f32
  vector.print str "rel_err = "
  vector.print %rel : f32
  vector.print str "ok = "
  vector.print %ok : i1
  return
}
"""


def emit_case(path, name, doc, args, outs, op_text):
    """op_text(types) -> the op's text given {name: type} of args and
    '<out>_init' values; the op's results are named %r."""
    lines = [RUN_LINE, "//",
             "// Generated by test/Integration/CPU/gen_cpu_tests.py (case %s);" % name,
             "// do not edit, rerun the script.", "//"]
    lines += ["// " + l for l in doc.strip().splitlines()]
    lines.append("")
    for o in outs:
        lines.append("// CHECK: result %s: rel_err =" % o.name)
        lines.append("// CHECK-NEXT: {{^}}ok = 1{{$}}")
    lines.append("")

    arg_by_name = {a.name: a for a in args}
    sig = ", ".join("%%%s: %s" % (a.name, a.type) for a in args)
    res = ", ".join(o.type for o in outs)
    body = []
    consts = set()
    for o in outs:
        if o.init:
            continue
        dyn_sizes = []
        for i, (an, ad) in enumerate(o.like):
            if i in o.dyn:
                a = arg_by_name[an]
                if ad not in consts:
                    body.append("  %%c%d = arith.constant %d : index" % (ad, ad))
                    consts.add(ad)
                body.append("  %%%s_d%d = tensor.dim %%%s, %%c%d : %s"
                            % (o.name, i, an, ad, a.type))
                dyn_sizes.append("%%%s_d%d" % (o.name, i))
        body.append("  %%%s_init = tensor.empty(%s) : %s"
                    % (o.name, ", ".join(dyn_sizes), o.type))
    types = {a.name: a.type for a in args}
    inits = [("%" + o.init) if o.init else ("%" + o.name + "_init") for o in outs]
    body.append("  %%r:%d = %s" % (len(outs), op_text(types, inits,
                                                       [o.type for o in outs])))
    body.append("  return %s : %s" % (
        ", ".join("%%r#%d" % i for i in range(len(outs))), res))
    lines.append("func.func @kernel(%s) -> (%s) {" % (sig, res))
    lines += body
    lines.append("}")
    lines.append("")
    lines.append(CHECK_FN)

    lines.append("func.func @main() {")
    for a in args:
        if isinstance(a, Scalar):
            lines.append("  %%%s = arith.constant %s : %s"
                         % (a.name, repr(a.value), a.dtype))
            continue
        lines.append("  %%%s_c = arith.constant %s : %s"
                     % (a.name, fmt_dense(a.value, a.dtype), a.static_type))
        lines.append("  %%%s = tensor.cast %%%s_c : %s to %s"
                     % (a.name, a.name, a.static_type, a.type))
    lines.append("  %%r:%d = call @kernel(%s) : (%s) -> (%s)" % (
        len(outs), ", ".join("%" + a.name for a in args),
        ", ".join(a.type for a in args), res))
    for i, o in enumerate(outs):
        n = o.expected.size
        rank = o.expected.ndim
        flat = "tensor<%dx%s>" % (n, o.dtype)
        lines.append("  %%%s_s = tensor.cast %%r#%d : %s to %s"
                     % (o.name, i, o.type, o.static_type))
        lines.append("  %%%s_flat = tensor.collapse_shape %%%s_s [[%s]] : %s into %s"
                     % (o.name, o.name, ", ".join(str(d) for d in range(rank)),
                        o.static_type, flat))
        got = "%%%s_flat" % o.name
        if o.dtype != "f32":
            lines.append("  %%%s_e = tensor.empty() : tensor<%dxf32>" % (o.name, n))
            lines.append(
                "  %%%s_f = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, "
                "affine_map<(i) -> (i)>], iterator_types = [\"parallel\"]} "
                "ins(%s : %s) outs(%%%s_e : tensor<%dxf32>) {" % (
                    o.name, got, flat, o.name, n))
            lines.append("  ^bb0(%%ext_in: %s, %%ext_out: f32):" % o.dtype)
            lines.append("    %%ext = arith.extf %%ext_in : %s to f32" % o.dtype)
            lines.append("    linalg.yield %ext : f32")
            lines.append("  } -> tensor<%dxf32>" % n)
            got = "%%%s_f" % o.name
        lines.append("  %%%s_got = tensor.cast %s : tensor<%dxf32> to tensor<?xf32>"
                     % (o.name, got, n))
        lines.append("  %%%s_exp_c = arith.constant %s : tensor<%dxf32>" % (
            o.name, fmt_dense(o.expected.reshape(-1).astype(np.float32), "f32"), n))
        lines.append("  %%%s_exp = tensor.cast %%%s_exp_c : tensor<%dxf32> to tensor<?xf32>"
                     % (o.name, o.name, n))
        lines.append("  %%%s_tol = arith.constant %s : f32" % (o.name, "%.1e" % o.tol))
        lines.append("  vector.print str \"result %s: \"" % o.name)
        lines.append("  call @check(%%%s_got, %%%s_exp, %%%s_tol) : "
                     "(tensor<?xf32>, tensor<?xf32>, f32) -> ()" % (o.name, o.name, o.name))
    lines.append("  return")
    lines.append("}")
    with open(os.path.join(path, name + ".mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")

#===------------------------------------------------------------------------===#
# Op text
#===------------------------------------------------------------------------===#


def attrs_text(attrs):
    if not attrs:
        return ""
    return " attributes {" + ", ".join(attrs) + "}"


def operand(name, types, keyword=None):
    return "%s(%%%s : %s)" % (keyword or name, name, types[name])


def attention_text(attrs, score_mod=None, mask_mod=None, paged=False):
    def text(types, inits, out_types):
        parts = ["attn.paged_attention" if paged else "attn.attention",
                 operand("q", types)]
        if paged:
            parts += [operand("k_cache", types), operand("v_cache", types),
                      operand("kv_indptr", types), operand("kv_indices", types),
                      operand("kv_last_page_len", types)]
            optional = ["qo_indptr", "custom_mask", "alibi_slopes", "sinks"]
        else:
            parts += [operand("k", types), operand("v", types)]
            optional = ["qo_indptr", "kv_indptr", "custom_mask",
                        "alibi_slopes", "sinks"]
        parts += [operand(n, types) for n in optional if n in types]
        # Launch-time variant values: `name(%name)`, the type is implied.
        parts += ["%s(%%%s)" % (n, n)
                  for n in ("sm_scale", "logits_soft_cap", "window_left",
                            "rope_scale", "rope_theta")
                  if n in types]
        parts.append("outs(%s : %s)" % (", ".join(inits), ", ".join(out_types)))
        s = " ".join(parts) + attrs_text(attrs)
        if score_mod:
            s += " score_mod {\n" + score_mod + "  }"
        if mask_mod:
            s += " mask_mod {\n" + mask_mod + "  }"
        return s + " -> " + ", ".join(out_types)
    return text

#===------------------------------------------------------------------------===#
# Cases
#===------------------------------------------------------------------------===#


def rand(rng, shape, scale=1.0):
    """Multiples of 1/32 in [-3, 3] * scale: exact in f32, f16 and bf16."""
    x = np.clip(rng.standard_normal(shape), -3, 3)
    return np.round(x * 32) / 32 * scale


def fp8_value(code, fnuz):
    """The value of an e4m3 byte (OCP's f8E4M3FN, bias 7; f8E4M3FNUZ, bias
    8): sign, 4 exponent bits, 3 mantissa bits, subnormal at exponent 0."""
    sign = -1.0 if code & 0x80 else 1.0
    e, m = (code >> 3) & 0xF, code & 7
    bias = 8 if fnuz else 7
    if e == 0:
        return sign * m * 2.0 ** (1 - bias - 3)
    return sign * (1 + m / 8) * 2.0 ** (e - bias)


def rand_fp8(rng, shape, dtype):
    """e4m3 values of magnitude below 4 (exponents 0 .. bias + 1, so
    subnormals too), as float64: exact in the fp8 type and in f32."""
    fnuz = dtype == "f8E4M3FNUZ"
    bias = 8 if fnuz else 7
    e = rng.integers(0, bias + 2, size=shape)
    m = rng.integers(0, 8, size=shape)
    sign = rng.integers(0, 2, size=shape)
    # FNUZ has no negative zero: 0x80 is its NaN.
    sign = np.where((e == 0) & (m == 0), 0, sign)
    codes = (sign << 7) | (e << 3) | m
    return np.vectorize(lambda c: fp8_value(int(c), fnuz))(codes)


def attention_case(out_dir, name, doc, seed, qo_lens, kv_lens, hq=4, hkv=2, d=8,
                   dv=None, dtype="f32", ragged=None, attrs=(), lse=True,
                   ref_kw=None, extra_args=(), score_mod=None, mask_mod=None,
                   input_scale=1.0, all_dynamic=False, kv_dtype=None):
    rng = np.random.default_rng(seed)
    dv = dv or d
    ref_kw = dict(ref_kw or {})
    tokens, kv_tokens = sum(qo_lens), sum(kv_lens)
    q = rand(rng, (tokens, hq, d), input_scale)
    if kv_dtype:
        k = rand_fp8(rng, (kv_tokens, hkv, d), kv_dtype)
        v = rand_fp8(rng, (kv_tokens, hkv, dv), kv_dtype)
    else:
        k = rand(rng, (kv_tokens, hkv, d), input_scale)
        v = rand(rng, (kv_tokens, hkv, dv))
    qo_indptr = np.concatenate([[0], np.cumsum(qo_lens)]).astype(np.int64)
    kv_indptr = np.concatenate([[0], np.cumsum(kv_lens)]).astype(np.int64)
    if ragged is None:
        ragged = len(qo_lens) > 1
    dyn = (0, 1, 2) if all_dynamic else (0,)
    args = [Arg("q", q, dtype, dyn), Arg("k", k, kv_dtype or dtype, dyn),
            Arg("v", v, kv_dtype or dtype, dyn)]
    if ragged:
        args += [Arg("qo_indptr", qo_indptr, "i32"), Arg("kv_indptr", kv_indptr, "i32")]
    for a in extra_args:
        args.append(a(rng, ref_kw) if callable(a) else a)
    o, l = attention_ref(q, k, v, qo_indptr, kv_indptr, **ref_kw)
    outs = [Out("o", o, dtype, like=[("q", 0), ("q", 1), ("v", 2)], dyn=dyn)]
    if lse:
        outs.append(Out("lse", l, "f32", like=[("q", 0), ("q", 1)],
                        dyn=(0, 1) if all_dynamic else (0,), tol=1e-5))
    emit_case(out_dir, name, doc, args, outs,
              attention_text(list(attrs), score_mod, mask_mod))


def paged_case(out_dir, name, doc, seed, kv_lens, qo_lens=None, layout="nhd",
               hq=4, hkv=2, d=8, dtype="f32", page_size=4, num_pages=10,
               spare_pages=None, empty_last_page_len=None, dyn_page_size=False,
               mixed=False, attrs=(), lse=True, ref_kw=None, kv_dtype=None):
    """A paged request batch. Request b's kv_lens[b] tokens go, in sequence
    order, into pages drawn at random from the cache (a random permutation of
    a subset of the page ids: out of order, non-contiguous); every slot that
    no request owns, whole unused pages included, holds finite garbage (4x
    the inputs' range) that a wrong gather would pick up. The expected values
    come from attention_ref over the contiguous k, v, never from the cache.

    spare_pages: num_pages = pages used + spare_pages (else num_pages).
    empty_last_page_len: kv_last_page_len of a request with no pages (kv_len
    0); by default the value the kv_len formula would need, page_size.
    dyn_page_size: the caches' page size dim is dynamic in @kernel too.
    mixed: asserts the batch has the mix of lengths every new paged case
    must cover (see the checks after the cache is filled)."""
    rng = np.random.default_rng(seed)
    ref_kw = dict(ref_kw or {})
    decode = qo_lens is None
    batch = len(kv_lens)
    qo = [1] * batch if decode else qo_lens
    pages_per_req = [(n + page_size - 1) // page_size for n in kv_lens]
    if spare_pages is not None:
        num_pages = sum(pages_per_req) + spare_pages
    assert sum(pages_per_req) <= num_pages
    q = rand(rng, (sum(qo), hq, d))
    shape = ((num_pages, page_size, hkv, d) if layout == "nhd"
             else (num_pages, hkv, page_size, d))
    if kv_dtype:
        k = rand_fp8(rng, (sum(kv_lens), hkv, d), kv_dtype)
        v = rand_fp8(rng, (sum(kv_lens), hkv, d), kv_dtype)
        # Unused slots hold garbage that a wrong gather would pick up.
        kc = rand_fp8(rng, shape, kv_dtype) * 4
        vc = rand_fp8(rng, shape, kv_dtype) * 4
    else:
        k = rand(rng, (sum(kv_lens), hkv, d))
        v = rand(rng, (sum(kv_lens), hkv, d))
        # Unused slots hold garbage that a wrong gather would pick up.
        kc, vc = rand(rng, shape, 4.0), rand(rng, shape, 4.0)
    order = rng.permutation(num_pages)[:sum(pages_per_req)]
    kv_indptr = np.concatenate([[0], np.cumsum(pages_per_req)])
    last = [n - (p - 1) * page_size for n, p in zip(kv_lens, pages_per_req)]
    if empty_last_page_len is not None:
        last = [empty_last_page_len if p == 0 else l
                for p, l in zip(pages_per_req, last)]
    tok = 0
    for b, n in enumerate(kv_lens):
        for j in range(n):
            page = order[kv_indptr[b] + j // page_size]
            slot = j % page_size
            if layout == "nhd":
                kc[page, slot], vc[page, slot] = k[tok + j], v[tok + j]
            else:
                kc[page, :, slot], vc[page, :, slot] = k[tok + j], v[tok + j]
        tok += n
    check_paged_inputs(k, v, kc, vc, kv_indptr, order, last, kv_lens, layout)
    if mixed:
        # The batch mix the paged tests must cover: a request with no pages, a
        # request whose last page holds one token, a request with many pages,
        # and pages out of order with unused pages left in the cache.
        assert 0 in kv_lens
        assert any(p > 0 and l == 1 for p, l in zip(pages_per_req, last))
        assert max(pages_per_req) >= 4
        assert len(order) < num_pages
        assert list(order) != sorted(order)
    qo_indptr = np.concatenate([[0], np.cumsum(qo)])
    tok_indptr = np.concatenate([[0], np.cumsum(kv_lens)])
    o, l = attention_ref(q, k, v, qo_indptr, tok_indptr, **ref_kw)
    slot_dim = 1 if layout == "nhd" else 2
    cache_dyn = (0, slot_dim) if dyn_page_size else (0,)
    args = [Arg("q", q, dtype), Arg("k_cache", kc, kv_dtype or dtype, cache_dyn),
            Arg("v_cache", vc, kv_dtype or dtype, cache_dyn),
            Arg("kv_indptr", kv_indptr, "i32"),
            Arg("kv_indices", order, "i32"), Arg("kv_last_page_len", last, "i32")]
    if not decode:
        args.append(Arg("qo_indptr", qo_indptr, "i32"))
    outs = [Out("o", o, dtype, like=[("q", 0), ("q", 1), ("q", 2)])]
    if lse:
        outs.append(Out("lse", l, "f32", like=[("q", 0), ("q", 1)], tol=1e-5))
    attrs = list(attrs)
    if layout == "hnd":
        attrs.append("kv_layout = #attn.kv_layout<hnd>")
    emit_case(out_dir, name, doc, args, outs, attention_text(attrs, paged=True))


def check_paged_inputs(k, v, kc, vc, kv_indptr, kv_indices, last, kv_lens,
                       layout):
    """Reads every request back out of the cache with the documented mapping
    (kv_len from kv_indptr and kv_last_page_len, 0 without pages; position p
    in page kv_indices[kv_indptr[b] + p / page_size], slot p % page_size) and
    checks it is the request's contiguous k, v, so that the cache the test
    hands the op holds the sequences the float64 model attends over."""
    page_size = kc.shape[1 if layout == "nhd" else 2]
    tok = 0
    for b in range(len(kv_indptr) - 1):
        n_pages = kv_indptr[b + 1] - kv_indptr[b]
        kv_len = (n_pages - 1) * page_size + last[b] if n_pages > 0 else 0
        assert kv_len == kv_lens[b]
        assert n_pages == 0 or 1 <= last[b] <= page_size
        pos = np.arange(kv_len)
        pages = np.asarray(kv_indices)[kv_indptr[b] + pos // page_size]
        if layout == "nhd":
            kg, vg = kc[pages, pos % page_size], vc[pages, pos % page_size]
        else:
            kg, vg = kc[pages, :, pos % page_size], vc[pages, :, pos % page_size]
        assert np.array_equal(kg, k[tok:tok + kv_len])
        assert np.array_equal(vg, v[tok:tok + kv_len])
        tok += kv_len
    assert len(set(int(x) for x in kv_indices)) == len(kv_indices)


def merge_case(out_dir, name, doc, seed, num_states, dtype, tokens=5, heads=4,
               dim=8, empty_state=None):
    rng = np.random.default_rng(seed)
    vs = [rand(rng, (tokens, heads, dim)) for _ in range(num_states)]
    lses = [rand(rng, (tokens, heads), 2.0) for _ in range(num_states)]
    # Token 0 has no state at all.
    for l in lses:
        l[0, :] = -np.inf
    if empty_state is not None:
        lses[empty_state][:] = -np.inf
        if dtype == "f32":
            vs[empty_state][1::2] = np.nan  # must not leak into the result
    o, l = merge_ref(vs, lses)
    args = [Arg("v%d" % i, x, dtype) for i, x in enumerate(vs)]
    args += [Arg("s%d" % i, x, "f32") for i, x in enumerate(lses)]

    def text(types, inits, out_types):
        vals = ["v%d" % i for i in range(num_states)]
        ls = ["s%d" % i for i in range(num_states)]
        return ("attn.merge_states values(%s : %s) lse(%s : %s) outs(%s : %s) -> %s"
                % (", ".join("%" + x for x in vals), ", ".join(types[x] for x in vals),
                   ", ".join("%" + x for x in ls), ", ".join(types[x] for x in ls),
                   ", ".join(inits), ", ".join(out_types), ", ".join(out_types)))
    outs = [Out("v", o, dtype, like=[("v0", 0), ("v0", 1), ("v0", 2)]),
            Out("lse", l, "f32", like=[("s0", 0), ("s0", 1)], tol=1e-5)]
    emit_case(out_dir, name, doc, args, outs, text)


def segmented_merge_case(out_dir, name, doc, seed, dtype, lengths, heads=4,
                         dim=8):
    """Output row b merges rows indptr[b] .. indptr[b + 1] of one state
    (split-KV's merge). Row 1 of the first segment is empty (lse -inf) with
    NaN garbage values, which must not leak."""
    rng = np.random.default_rng(seed)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows = int(indptr[-1])
    vs = rand(rng, (rows, heads, dim))
    lses = rand(rng, (rows, heads), 2.0)
    if lengths[0] > 1:
        lses[1, :] = -np.inf
        if dtype == "f32":
            vs[1] = np.nan
    o = np.zeros((len(lengths), heads, dim))
    l = np.full((len(lengths), heads), -np.inf)
    for b in range(len(lengths)):
        lo, hi = indptr[b], indptr[b + 1]
        if hi > lo:
            ob, lb = merge_ref([vs[r:r + 1] for r in range(lo, hi)],
                               [lses[r:r + 1] for r in range(lo, hi)])
            o[b], l[b] = ob[0], lb[0]
    args = [Arg("ip", indptr, "i32"), Arg("vp", vs, dtype),
            Arg("sp", lses, "f32")]

    def text(types, inits, out_types):
        return ("attn.merge_states indptr(%%ip : %s) values(%%vp : %s) "
                "lse(%%sp : %s) outs(%s : %s) -> %s"
                % (types["ip"], types["vp"], types["sp"], ", ".join(inits),
                   ", ".join(out_types), ", ".join(out_types)))
    outs = [Out("v", o, dtype, like=[("vp", 0)] * 3, dyn=()),
            Out("lse", l, "f32", like=[("vp", 0)] * 2, dyn=(), tol=1e-5)]
    emit_case(out_dir, name, doc, args, outs, text)


def rope_case(out_dir, name, doc, seed, dtype, tokens=6, heads=4, dim=16,
              rotary_dim=None, interleave=False, scale=1.0, theta=1e4,
              llama31=None, ragged=None, cache_rows=None, at_launch=False,
              pos_dtype="i32"):
    """ragged: the requests' token counts (positions from indptr and
    offsets); cache_rows: angles from a cos_sin_cache of that many rows;
    at_launch: scale and theta as operands rather than attributes;
    pos_dtype: pos_ids' element type."""
    rng = np.random.default_rng(seed)
    x = rand(rng, (tokens, heads, dim))
    rd = rotary_dim or dim
    cache = None
    if cache_rows:
        angles = rng.uniform(-math.pi, math.pi, size=(cache_rows, rd // 2))
        cache = np.concatenate([np.cos(angles), np.sin(angles)], axis=1)
    if ragged:
        assert sum(ragged) == tokens
        indptr = np.concatenate([[0], np.cumsum(ragged)])
        offsets = rng.integers(0, 40, size=len(ragged))
        pos = np.concatenate([offsets[b] + np.arange(n)
                              for b, n in enumerate(ragged)])
    else:
        pos = rng.integers(0, cache_rows or 24, size=tokens)
    ref = rope_ref(x, pos, rd, interleave, scale, theta, llama31, cache)
    attrs = []
    if interleave:
        attrs.append("interleave")
    if rotary_dim:
        attrs.append("rotary_dim = %d" % rotary_dim)
    if scale != 1.0 and not at_launch:
        attrs.append("rope_scale = %r : f32" % scale)
    if theta != 1e4 and not at_launch:
        attrs.append("rope_theta = %r : f32" % theta)
    if llama31:
        attrs.append("llama31_scaling = #attn.llama31_scaling<"
                     "low_freq_factor = %r, high_freq_factor = %r, "
                     "old_context_len = %r>" % tuple(map(float, llama31)))
    args = [Arg("x", x, dtype)]
    if ragged:
        args += [Arg("indptr", indptr, "i32"), Arg("offsets", offsets, "i32")]
    else:
        args.append(Arg("pos", pos, pos_dtype))
    if cache is not None:
        args.append(Arg("cache", cache, "f32"))
    if at_launch:
        args += [Scalar("scale", scale, "f32"), Scalar("theta", theta, "f32")]

    def text(types, inits, out_types):
        if ragged:
            where = "indptr(%%indptr : %s) offsets(%%offsets : %s)" % (
                types["indptr"], types["offsets"])
        else:
            where = "pos_ids(%%pos : %s)" % types["pos"]
        if cache is not None:
            where += " cos_sin_cache(%%cache : %s)" % types["cache"]
        if at_launch:
            where += " rope_scale(%scale) rope_theta(%theta)"
        s = "attn.rope %%x %s outs(%s : %s)" % (where, inits[0], out_types[0])
        if attrs:
            s += " {" + ", ".join(attrs) + "}"
        return s + " : %s -> %s" % (types["x"], out_types[0])
    outs = [Out("x_rot", ref, dtype, like=[("x", 0), ("x", 1), ("x", 2)])]
    emit_case(out_dir, name, doc, args, outs, text)


def append_case(out_dir, name, doc, seed, layout, dtype, hkv=2, d=8,
                page_size=4, num_pages=6):
    rng = np.random.default_rng(seed)
    shape = ((num_pages, page_size, hkv, d) if layout == "nhd"
             else (num_pages, hkv, page_size, d))
    kc, vc = rand(rng, shape), rand(rng, shape)
    # Two requests: pages [4, 1] and [0, 5, 2]; append tokens at various
    # positions, crossing a page boundary.
    kv_indices = np.array([4, 1, 0, 5, 2])
    kv_indptr = np.array([0, 2, 5])
    batch_indices = np.array([0, 1, 1, 0, 1, 1, 0])
    positions = np.array([3, 5, 4, 4, 11, 0, 7])
    n = len(positions)
    k, v = rand(rng, (n, hkv, d)), rand(rng, (n, hkv, d))
    ekc, evc = append_ref(k, v, batch_indices, positions, kv_indices, kv_indptr,
                          kc, vc, layout)
    args = [Arg("k", k, dtype), Arg("v", v, dtype),
            Arg("batch_indices", batch_indices, "i32"),
            Arg("positions", positions, "i32"),
            Arg("kv_indices", kv_indices, "i32"), Arg("kv_indptr", kv_indptr, "i32"),
            Arg("k_cache", kc, dtype), Arg("v_cache", vc, dtype)]

    def text(types, inits, out_types):
        s = ("attn.append_paged_kv k(%%k : %s) v(%%v : %s) batch_indices(%%batch_indices : %s) "
             "positions(%%positions : %s) kv_indices(%%kv_indices : %s) "
             "kv_indptr(%%kv_indptr : %s) outs(%%k_cache, %%v_cache : %s, %s)" % (
                 types["k"], types["v"], types["batch_indices"], types["positions"],
                 types["kv_indices"], types["kv_indptr"], types["k_cache"],
                 types["v_cache"]))
        if layout == "hnd":
            s += " {kv_layout = #attn.kv_layout<hnd>}"
        return s + " -> %s, %s" % tuple(out_types)
    outs = [Out("k_cache", ekc, dtype, init="k_cache"),
            Out("v_cache", evc, dtype, init="v_cache")]
    emit_case(out_dir, name, doc, args, outs, text)


SCORE_MOD = """\
  ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):
    %bi = arith.index_cast %b : index to i32
    %bf = arith.sitofp %bi : i32 to f32
    %hi = arith.index_cast %h : index to i32
    %hf = arith.sitofp %hi : i32 to f32
    %ki = arith.index_cast %kj : index to i32
    %kf = arith.sitofp %ki : i32 to f32
    %half = arith.constant 0.5 : f32
    %quarter = arith.constant 0.25 : f32
    %m3_8 = arith.constant -0.375 : f32
    %t0 = arith.mulf %bf, %half : f32
    %t1 = arith.mulf %hf, %quarter : f32
    %t2 = arith.mulf %kf, %m3_8 : f32
    %hk = arith.mulf %t1, %t2 : f32
    %s0 = arith.addf %s, %t0 : f32
    %s1 = arith.addf %s0, %t1 : f32
    %s2 = arith.addf %s1, %hk : f32
    attn.yield %s2 : f32
"""


def score_mod_py(s, b, h, qi, kj):
    t1 = 0.25 * h
    return s + 0.5 * b + t1 + t1 * (-0.375 * kj)


# Prefix-LM: the first 3 keys are visible to every query, the rest causally.
MASK_MOD = """\
  ^bb0(%b: index, %h: index, %qi: index, %kj: index):
    %c3 = arith.constant 3 : index
    %causal = arith.cmpi sle, %kj, %qi : index
    %prefix = arith.cmpi slt, %kj, %c3 : index
    %vis = arith.ori %causal, %prefix : i1
    attn.yield %vis : i1
"""


def mask_mod_py(b, h, qi, kj):
    return kj <= qi or kj < 3


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    A = attention_case
    A(out_dir, "attention_f32", "Plain attention, f32, one request, Hq=4 Hkv=2, with lse.",
      1, [5], [7])
    A(out_dir, "attention_f16", "Plain attention, f16 in and out, D=16.", 2, [5], [7],
      d=16, dtype="f16")
    A(out_dir, "attention_bf16", "Plain attention, bf16 in and out, D=16.", 3, [5], [7],
      d=16, dtype="bf16")
    A(out_dir, "attention_causal_short_q",
      "Causal, qo_len 3 < kv_len 7: queries are the last 3 positions (bottom-right).",
      4, [3], [7], attrs=["causal"], ref_kw=dict(causal=True))
    A(out_dir, "attention_causal_long_q",
      "Causal, qo_len 7 > kv_len 4: rows 0..2 see no key (o = 0, lse = -inf).",
      5, [7], [4], attrs=["causal"], ref_kw=dict(causal=True))
    A(out_dir, "attention_window", "Causal sliding window, window_left = 2.",
      6, [6], [8], attrs=["causal", "window_left = 2"],
      ref_kw=dict(causal=True, window_left=2))
    A(out_dir, "attention_launch_values",
      "sm_scale, logits_soft_cap and window_left as operands (launch-time\n"
      "values passed to @kernel), causal, GQA.",
      21, [6], [9], attrs=["causal"],
      ref_kw=dict(causal=True, sm_scale=0.4, soft_cap=1.5, window_left=3),
      input_scale=2.0,
      extra_args=[Scalar("sm_scale", 0.4, "f32"),
                  Scalar("logits_soft_cap", 1.5, "f32"),
                  Scalar("window_left", 3, "i64")])
    A(out_dir, "attention_launch_values_off",
      "A launch-time soft cap of 0 and window of -1 turn both off.",
      22, [5], [5], attrs=["causal"], ref_kw=dict(causal=True),
      extra_args=[Scalar("logits_soft_cap", 0.0, "f32"),
                  Scalar("window_left", -1, "i64")])
    A(out_dir, "attention_soft_cap", "logits_soft_cap = 2 with large logits.",
      7, [5], [7], attrs=["logits_soft_cap = 2.0 : f32"],
      ref_kw=dict(soft_cap=2.0), input_scale=2.0)
    slopes = np.array([0.5, 0.25, 0.125, 0.0625])
    A(out_dir, "attention_alibi_slopes", "ALiBi with explicit slopes, causal.",
      8, [4], [7], attrs=["causal", "pos_encoding = #attn.pos_encoding<alibi>"],
      ref_kw=dict(causal=True, pos_encoding="alibi", alibi_slopes=slopes),
      extra_args=[Arg("alibi_slopes", slopes, "f32", dyn=())])
    A(out_dir, "attention_alibi_default",
      "ALiBi with default slopes for Hq = 6 (not a power of two: heads 4, 5 take\n"
      "the interleaved slopes of the 8-head series), not causal.",
      9, [4], [7], hq=6, hkv=2, attrs=["pos_encoding = #attn.pos_encoding<alibi>"],
      ref_kw=dict(pos_encoding="alibi"))
    A(out_dir, "attention_rope_llama",
      "rope_llama inside attention (rope_scale 2, rope_theta 500), D=16, causal.",
      10, [4], [7], d=16,
      attrs=["causal", "pos_encoding = #attn.pos_encoding<rope_llama>",
             "rope_scale = 2.0 : f32", "rope_theta = 500.0 : f32"],
      ref_kw=dict(causal=True, pos_encoding="rope_llama", rope_scale=2.0,
                  rope_theta=500.0))

    A(out_dir, "attention_rope_launch_values",
      "rope_llama with rope_scale and rope_theta as operands (launch-time\n"
      "values passed to @kernel: 4 and 1e5), D=16, GQA, a ragged batch of 2,\n"
      "causal.",
      26, [3, 2], [7, 4], d=16,
      attrs=["causal", "pos_encoding = #attn.pos_encoding<rope_llama>"],
      ref_kw=dict(causal=True, pos_encoding="rope_llama", rope_scale=4.0,
                  rope_theta=1e5),
      extra_args=[Scalar("rope_scale", 4.0, "f32"),
                  Scalar("rope_theta", 1e5, "f32")])

    def custom_mask(rng, ref_kw):
        bits = rng.integers(0, 2, size=3 * 5 + 2 * 4).astype(bool)
        bits[:5] = False  # request 0, row 0 sees nothing
        ref_kw["mask_bits"] = bits
        packed = np.packbits(bits, bitorder="little").view(np.int8)
        return Arg("custom_mask", packed, "i8")
    A(out_dir, "attention_custom_mask",
      "Custom bit mask over a ragged batch of 2 requests (3x5 and 2x4 bits, one\n"
      "row fully masked).", 11, [3, 2], [5, 4], attrs=[], extra_args=[custom_mask])
    sinks = np.array([-1.0, 0.5, 2.0, 1.0])
    A(out_dir, "attention_sinks", "Attention sinks (denominator only), causal.",
      12, [4], [6], attrs=["causal"], ref_kw=dict(causal=True, sinks=sinks),
      extra_args=[Arg("sinks", sinks, "f32", dyn=())])
    A(out_dir, "attention_gqa", "GQA Hq=4, Hkv=2, causal, D=16.", 13, [5], [6],
      d=16, attrs=["causal"], ref_kw=dict(causal=True))
    A(out_dir, "attention_mqa", "MQA Hq=4, Hkv=1 with value head dim 8 != D 16.",
      14, [5], [6], hkv=1, d=16, dv=8)
    A(out_dir, "attention_ragged",
      "Ragged batch of 3 requests (qo 2,3,1; kv 4,3,5) with qo/kv_indptr, causal.",
      15, [2, 3, 1], [4, 3, 5], attrs=["causal"], ref_kw=dict(causal=True))
    A(out_dir, "attention_score_mod",
      "score_mod region: s + 0.5 batch + 0.25 h - 0.09375 h kv_idx, ragged batch of 2.",
      16, [3, 2], [4, 5], score_mod=SCORE_MOD, ref_kw=dict(score_mod=score_mod_py))
    A(out_dir, "attention_mask_mod",
      "mask_mod region: prefix-LM (keys < 3 always visible, the rest causal).",
      17, [7], [7], mask_mod=MASK_MOD, ref_kw=dict(mask_mod=mask_mod_py))
    A(out_dir, "attention_all_dynamic",
      "Every dim dynamic (explicit sm_scale 0.3), causal, GQA.", 18, [5], [6],
      attrs=["causal", "sm_scale = 0.3 : f32"],
      ref_kw=dict(causal=True, sm_scale=float(np.float32(0.3))), all_dynamic=True)

    A(out_dir, "attention_fp8_kv",
      "fp8 K/V (f8E4M3FN, subnormals included) with f16 queries, causal GQA,\n"
      "a ragged batch of 2: the values are widened exactly.",
      24, [3, 2], [6, 4], d=16, dtype="f16", kv_dtype="f8E4M3FN",
      attrs=["causal"], ref_kw=dict(causal=True))
    A(out_dir, "attention_fp8_fnuz_kv",
      "fp8 K/V in gfx942's f8E4M3FNUZ (exponent bias 8) with bf16 queries.",
      25, [4], [9], d=16, dtype="bf16", kv_dtype="f8E4M3FNUZ")

    P = paged_case
    P(out_dir, "paged_decode_nhd",
      "Paged decode, nhd, f16, page_size 4, kv_len 6, 8, 3 (last pages partial or\n"
      "full), pages out of order.", 20, [6, 8, 3], dtype="f16", lse=False)
    P(out_dir, "paged_decode_hnd", "Paged decode, hnd, f32, with lse.", 21,
      [5, 9, 2], layout="hnd")
    P(out_dir, "paged_prefill_nhd",
      "Paged prefill, nhd, f32, causal, qo_len 2, 3, 1 over kv_len 6, 8, 3.",
      22, [6, 8, 3], qo_lens=[2, 3, 1], attrs=["causal"], ref_kw=dict(causal=True))
    P(out_dir, "paged_prefill_hnd", "Paged prefill, hnd, bf16, causal, Hkv=1.",
      23, [7, 4], qo_lens=[3, 4], layout="hnd", hkv=1, dtype="bf16",
      attrs=["causal"], ref_kw=dict(causal=True))

    # Page sizes 1 and 16, both layouts, decode and prefill, each over a batch
    # mixing a request with no pages (kv_len 0: o = 0, lse = -inf), one whose
    # last page holds a single token, one with many pages, and pages out of
    # order among unused garbage pages. kv_last_page_len of an empty request
    # is 0 except where noted (page_size): the reference lowering and the
    # runtime's planner take kv_len 0 for a request without pages whatever it
    # says, while the kv_len formula alone would need page_size.
    P(out_dir, "paged_decode_nhd_ps1",
      "Paged decode, nhd, page_size 1, f32, GQA Hq=8 Hkv=2, with lse; kv_len\n"
      "0, 1, 13, 4 (an empty request, 13 pages), 5 unused pages.",
      24, [0, 1, 13, 4], hq=8, hkv=2, page_size=1, spare_pages=5,
      empty_last_page_len=0, mixed=True)
    P(out_dir, "paged_decode_hnd_ps1",
      "Paged decode, hnd, page_size 1, f16, Hq=4 Hkv=1, causal, with lse; kv_len\n"
      "5, 0, 11, 1; the empty request's kv_last_page_len is page_size (1).",
      25, [5, 0, 11, 1], layout="hnd", hq=4, hkv=1, dtype="f16", page_size=1,
      spare_pages=4, mixed=True, attrs=["causal"], ref_kw=dict(causal=True))
    P(out_dir, "paged_prefill_nhd_ps1",
      "Paged prefill, nhd, page_size 1, f32, GQA Hq=8 Hkv=2, causal, with lse;\n"
      "qo_len 3, 2, 5, 1 over kv_len 7, 0, 12, 1 (bottom-right: the empty\n"
      "request's 2 rows see nothing).",
      26, [7, 0, 12, 1], qo_lens=[3, 2, 5, 1], hq=8, hkv=2, page_size=1,
      spare_pages=5, empty_last_page_len=0, mixed=True, attrs=["causal"],
      ref_kw=dict(causal=True))
    P(out_dir, "paged_prefill_hnd_ps1",
      "Paged prefill, hnd, page_size 1, f32, Hq=4 Hkv=1, causal, with lse;\n"
      "qo_len 1, 4, 0, 2 over kv_len 1, 9, 5, 0 (a request with no query rows,\n"
      "one with no pages).",
      27, [1, 9, 5, 0], qo_lens=[1, 4, 0, 2], layout="hnd", hq=4, hkv=1,
      page_size=1, spare_pages=3, empty_last_page_len=0, mixed=True,
      attrs=["causal"], ref_kw=dict(causal=True))
    P(out_dir, "paged_decode_fp8",
      "Paged decode over an fp8 cache (f8E4M3FN) with f16 queries, nhd, page_size\n"
      "4, GQA Hq=8 Hkv=2, with lse; kv_len 9, 0, 1, 17 (garbage fp8 pages too).",
      33, [9, 0, 1, 17], hq=8, hkv=2, dtype="f16", page_size=4, spare_pages=3,
      empty_last_page_len=0, mixed=True, kv_dtype="f8E4M3FN")
    P(out_dir, "paged_prefill_rope",
      "Paged prefill with rope_llama (theta 1000), hnd, page_size 4, f16, GQA\n"
      "Hq=8 Hkv=2, causal: keys rotated at their index in the request, queries\n"
      "at kv_len - qo_len + i; qo_len 2, 0, 3, 1 over kv_len 9, 0, 5, 14.",
      34, [9, 0, 5, 14], qo_lens=[2, 0, 3, 1], layout="hnd", hq=8, hkv=2,
      d=16, dtype="f16", page_size=4, spare_pages=2, empty_last_page_len=0,
      mixed=True,
      attrs=["causal", "pos_encoding = #attn.pos_encoding<rope_llama>",
             "rope_theta = 1000.0 : f32"],
      ref_kw=dict(causal=True, pos_encoding="rope_llama", rope_theta=1000.0))
    P(out_dir, "paged_decode_nhd_ps16",
      "Paged decode, nhd, page_size 16, f32, GQA Hq=8 Hkv=2, with lse; kv_len\n"
      "17, 0, 70, 16, 1 (last pages of 1, 6, 16 and 1 tokens; 5 pages), 3\n"
      "unused pages.",
      28, [17, 0, 70, 16, 1], hq=8, hkv=2, page_size=16, spare_pages=3,
      empty_last_page_len=0, mixed=True)
    P(out_dir, "paged_decode_hnd_ps16",
      "Paged decode, hnd, page_size 16 (dynamic in @kernel), f16, Hq=4 Hkv=1,\n"
      "causal, with lse; kv_len 0, 33, 5, 64; the empty request's\n"
      "kv_last_page_len is page_size (16).",
      29, [0, 33, 5, 64], layout="hnd", hq=4, hkv=1, dtype="f16", page_size=16,
      spare_pages=2, dyn_page_size=True, mixed=True, attrs=["causal"],
      ref_kw=dict(causal=True))
    P(out_dir, "paged_prefill_nhd_ps16",
      "Paged prefill, nhd, page_size 16 (dynamic in @kernel), f32, GQA Hq=8\n"
      "Hkv=2, causal, with lse; qo_len 3, 2, 5, 1 over kv_len 17, 0, 50, 33.",
      32, [17, 0, 50, 33], qo_lens=[3, 2, 5, 1], hq=8, hkv=2, page_size=16,
      spare_pages=3, dyn_page_size=True, empty_last_page_len=0, mixed=True,
      attrs=["causal"], ref_kw=dict(causal=True))
    P(out_dir, "paged_prefill_hnd_ps16",
      "Paged prefill, hnd, page_size 16, bf16, GQA Hq=8 Hkv=2, causal, with\n"
      "lse; qo_len 4, 1, 6, 2 over kv_len 49, 0, 20, 65 (last pages of 1, 4\n"
      "and 1 tokens; 5 pages).",
      33, [49, 0, 20, 65], qo_lens=[4, 1, 6, 2], layout="hnd", hq=8, hkv=2,
      dtype="bf16", page_size=16, spare_pages=3, empty_last_page_len=0,
      mixed=True, attrs=["causal"], ref_kw=dict(causal=True))

    merge_case(out_dir, "merge_states_2", "Merge 2 f16 states (token 0: both -inf).",
               30, 2, "f16")
    merge_case(out_dir, "merge_states_3",
               "Merge 3 f32 states; state 1 is all -inf with NaN garbage values.",
               31, 3, "f32", empty_state=1)
    segmented_merge_case(
        out_dir, "merge_states_segmented",
        "Segmented merge (split-KV's), f32: segments of 3, 1, 0 and 5 rows; row 1\n"
        "is empty with NaN garbage values.", 32, "f32", [3, 1, 0, 5])
    segmented_merge_case(
        out_dir, "merge_states_segmented_f16",
        "Segmented merge, f16 output from f16 rows: segments of 1, 4 and 2.",
        33, "f16", [1, 4, 2])

    rope_case(out_dir, "rope_f32", "RoPE rotate-half, f32.", 40, "f32")
    rope_case(out_dir, "rope_interleave_f16",
              "RoPE interleaved (GPT-J pairs), f16, rope_theta 500, rope_scale 4.",
              41, "f16", interleave=True, scale=4.0, theta=500.0)
    rope_case(out_dir, "rope_partial", "RoPE rotate-half on rotary_dim 8 of 16.",
              42, "f32", rotary_dim=8)
    rope_case(out_dir, "rope_partial_interleave_bf16",
              "RoPE interleaved on rotary_dim 6 of 10, bf16.", 43, "bf16",
              dim=10, rotary_dim=6, interleave=True)
    rope_case(out_dir, "rope_llama31",
              "RoPE with Llama 3.1's frequency scaling (rope_scale 8, theta\n"
              "5e5, factors 1 and 4, old context 64: every band taken), f32.",
              44, "f32", dim=32, scale=8.0, theta=5e5, llama31=(1, 4, 64),
              tokens=5)
    rope_case(out_dir, "rope_ragged_interleave_f16",
              "RoPE over a ragged batch (indptr + offsets: requests of 3, 0\n"
              "and 4 tokens), interleaved, f16.", 45, "f16", tokens=7,
              interleave=True, ragged=[3, 0, 4])
    rope_case(out_dir, "rope_launch_values_llama31",
              "RoPE with rope_scale 4 and rope_theta 2e5 as operands (values\n"
              "at launch) and Llama 3.1's scaling, old context 64, f32.", 47,
              "f32", dim=32, scale=4.0, theta=2e5, llama31=(1, 4, 64),
              tokens=5, at_launch=True)
    rope_case(out_dir, "rope_cos_sin_cache_partial",
              "RoPE with angles from a cos_sin_cache of 9 rows, rotary_dim 8\n"
              "(the cache's width) of 12, f32.", 46, "f32", dim=12,
              rotary_dim=8, cache_rows=9)
    rope_case(out_dir, "rope_cos_sin_cache_i64",
              "RoPE with i64 pos_ids (vLLM's positions) and angles from a\n"
              "cos_sin_cache of 30 rows, rotate-half, bf16.", 48, "bf16",
              dim=16, cache_rows=30, tokens=7, pos_dtype="i64")

    append_case(out_dir, "append_paged_kv_nhd", "append_paged_kv, nhd, f32.", 50,
                "nhd", "f32")
    append_case(out_dir, "append_paged_kv_hnd", "append_paged_kv, hnd, f16.", 51,
                "hnd", "f16")


if __name__ == "__main__":
    main()
