"""Kernel specifications: what the API needs compiled, as attn IR.

A KernelSpec names one function of attn ops by the parameters that its code
depends on (op form, dtypes, head dims and counts, KV layout, the variant's
values). Its `name` is the function's symbol and the stem of its code object
and manifest in a kernel cache; `ir()` is the function's attn IR, which
`flashinfer-opt --attn-compile` turns into `<name>_kernels.{cubin,hsaco,json}`.
Paged kernels take any page size (the cache's is read at launch).
"""

import dataclasses
import hashlib
import json
import math
import textwrap
from dataclasses import dataclass
from typing import Optional

__all__ = ["KINDS", "KernelSpec"]

# The op forms, each one function of the kernel cache:
#   single_decode        attn.attention, q [1, Hq, D] (split-KV + merge)
#   single_prefill       attn.attention, q [qo_len, Hq, D]
#   batch_decode         attn.paged_attention without qo_indptr
#   batch_prefill        attn.paged_attention with qo_indptr
#   batch_prefill_ragged attn.attention with qo_indptr and kv_indptr
#   merge                attn.merge_states of `num_states` states
#   merge_segmented      attn.merge_states with indptr (rows of states)
#   append               attn.append_paged_kv
#   rope                 attn.rope of q [nnz, Hq, D] and of k [nnz, Hkv, D]
KINDS = ("single_decode", "single_prefill", "batch_decode", "batch_prefill",
         "batch_prefill_ragged", "merge", "merge_segmented", "append", "rope")
_ATTENTION = KINDS[:5]
_PAGED = ("batch_decode", "batch_prefill", "append")
_ELEMENT_TYPES = ("f16", "bf16", "f32")
# fp8 KV caches (e4m3; FNUZ as gfx942 reads it): K/V of the attention
# kinds, the cache of append.
FP8_TYPES = ("f8E4M3FN", "f8E4M3FNUZ")


def _body(text: str) -> str:
    """A region body's text, indented under its block label."""
    return textwrap.indent(textwrap.dedent(text).strip(), "    ")


def _tag(value: float) -> str:
    """A float as symbol characters (30.0 -> 30p0, -1.5 -> m1p5)."""
    return repr(float(value)).replace("-", "m").replace(".", "p").replace(
        "+", "")


@dataclass(frozen=True)
class KernelSpec:
    kind: str
    dtype: str                 # q (and o unless dtype_o): f16 | bf16
    head_dim: int
    num_qo_heads: int = 0      # attention and merge kinds
    num_kv_heads: int = 0      # attention kinds and append
    dtype_kv: Optional[str] = None
    dtype_o: Optional[str] = None
    head_dim_vo: Optional[int] = None
    kv_layout: str = "nhd"
    causal: bool = False
    window_left: int = -1
    logits_soft_cap: float = 0.0
    sm_scale: Optional[float] = None  # None: 1/sqrt(head_dim)
    num_states: int = 2               # merge
    # Variant values passed at launch (kernel arguments) instead of compiled
    # in: the op's sm_scale / logits_soft_cap / window_left operands. With
    # one set, the matching field above must keep its neutral value.
    launch_sm_scale: bool = False
    launch_soft_cap: bool = False
    launch_window: bool = False
    # ALiBi with FlashInfer's default slopes for num_qo_heads ("alibi"),
    # fused RoPE ("rope_llama": q and k rotated at their positions, the
    # kernel taking rope_scale and rope_theta at launch), or none. Attention
    # sinks: the kernel takes a `sinks` [Hq] f32 tensor.
    pos_encoding: str = "none"
    sinks: bool = False
    # A custom mask (each request's [qo_len, kv_len] bits, row-major, the
    # requests' one after the other, packed little-endian as FlashInfer's
    # packbits): the kernel takes `custom_mask` (int8 bytes).
    custom_mask: bool = False
    # User-defined score and mask functions: the body of an attn score_mod
    # region over (%score: f32, %batch, %q_head, %q_idx, %kv_idx: index)
    # ending in `attn.yield %x : f32`, and of a mask_mod region over
    # (%batch, %q_head, %q_idx, %kv_idx) ending in `attn.yield %b : i1`
    # (docs/dialect.md: arith and math ops on scalars).
    score_mod: Optional[str] = None
    mask_mod: Optional[str] = None
    # rope: the rotated features (0: all), GPT-J's interleaved pairs instead
    # of rotate-half, where positions come from ("pos_ids", or "indptr" for
    # a ragged batch's indptr + offsets), Llama 3.1's frequency scaling
    # (low_freq_factor > 0: with high_freq_factor and old_context_len), or
    # angles from a cos_sin_cache. rope_scale and rope_theta are passed at
    # launch.
    rotary_dim: int = 0
    interleave: bool = False
    rope_positions: str = "pos_ids"
    # pos_ids' element type: "i32", or "i64" (vLLM's int64 positions, read
    # as they are).
    rope_pos_dtype: str = "i32"
    low_freq_factor: float = 0.0
    high_freq_factor: float = 0.0
    old_context_len: float = 0.0
    cos_sin_cache: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown kernel kind {self.kind!r}; one of "
                             f"{', '.join(KINDS)}")
        for field in ("dtype", "dtype_kv", "dtype_o"):
            t = getattr(self, field)
            fp8_ok = (field == "dtype_kv" and self.kind in _ATTENTION) or (
                field == "dtype" and self.kind == "append")
            if t is not None and t not in _ELEMENT_TYPES and not (
                    fp8_ok and t in FP8_TYPES):
                raise NotImplementedError(
                    f"{self.kind}: {field} {t} has no kernel in "
                    f"flashinfer_mlir (element types: "
                    f"{', '.join(_ELEMENT_TYPES)}; fp8 ({', '.join(FP8_TYPES)})"
                    " for K/V caches)")
        if self.kv_dtype != self.dtype and self.kind in _ATTENTION and (
                self.kv_dtype not in FP8_TYPES or
                self.dtype not in ("f16", "bf16")):
            raise NotImplementedError(
                f"{self.kind}: q in {self.dtype} with K/V in {self.kv_dtype} "
                "has no kernel (K/V share q's dtype, or are fp8 with f16 or "
                "bf16 queries)")
        if self.kv_layout not in ("nhd", "hnd"):
            raise ValueError(f"kv_layout must be nhd or hnd, got "
                             f"{self.kv_layout!r}")
        if self.kind == "rope":
            self._check_rope()
        elif (self.rotary_dim or self.interleave or self.cos_sin_cache or
              self.low_freq_factor or self.rope_positions != "pos_ids" or
              self.rope_pos_dtype != "i32"):
            raise ValueError(f"{self.kind} takes no rope fields")
        if self.kind in _ATTENTION or self.kind == "append":
            if self.num_kv_heads < 1 or (self.kind != "append" and (
                    self.num_qo_heads < 1 or
                    self.num_qo_heads % self.num_kv_heads)):
                raise ValueError(
                    f"num_qo_heads ({self.num_qo_heads}) must be a positive "
                    f"multiple of num_kv_heads ({self.num_kv_heads})")
        if self.head_dim < 1 or self.vo_dim < 1:
            raise ValueError("head dims must be positive")
        # One name and key per kernel: the default scale is no attribute,
        # a variant's neutral value none either.
        if self.sm_scale is not None and math.isclose(
                self.sm_scale, 1 / math.sqrt(self.head_dim), rel_tol=1e-7):
            object.__setattr__(self, "sm_scale", None)
        if self.head_dim_vo == self.head_dim:
            object.__setattr__(self, "head_dim_vo", None)
        for field, same in (("dtype_kv", self.dtype), ("dtype_o", self.dtype)):
            if getattr(self, field) == same:
                object.__setattr__(self, field, None)
        if self.window_left < 0:
            object.__setattr__(self, "window_left", -1)
        if self.kind not in _ATTENTION and (
                self.launch_sm_scale or self.launch_soft_cap or
                self.launch_window):
            raise ValueError(f"{self.kind} takes no variant values")
        for flag, field, neutral in (
                ("launch_sm_scale", "sm_scale", None),
                ("launch_soft_cap", "logits_soft_cap", 0.0),
                ("launch_window", "window_left", -1)):
            if getattr(self, flag) and getattr(self, field) != neutral:
                raise ValueError(f"{field} is passed at launch ({flag}); "
                                 f"leave it at {neutral}")
        object.__setattr__(self, "logits_soft_cap",
                           float(self.logits_soft_cap))
        if self.pos_encoding not in ("none", "alibi", "rope_llama"):
            raise ValueError(
                f"{self.kind}: pos_encoding must be none, alibi or "
                f"rope_llama, got {self.pos_encoding!r}")
        if self.pos_encoding == "rope_llama" and self.head_dim % 2:
            raise ValueError(f"{self.kind}: rope_llama needs an even "
                             f"head_dim, got {self.head_dim}")
        if self.custom_mask and self.kind == "batch_decode":
            raise NotImplementedError(
                "batch_decode: a custom mask has no decode wrapper kernel "
                "(FlashInfer's decode takes none)")
        if self.kind not in _ATTENTION and (
                self.custom_mask or self.pos_encoding != "none" or
                self.sinks or
                self.score_mod is not None or self.mask_mod is not None):
            raise ValueError(f"{self.kind} takes no attention variant")
        for field in ("score_mod", "mask_mod"):
            body = getattr(self, field)
            if body is not None and "attn.yield" not in body:
                raise ValueError(f"{field} must end with attn.yield")

    def _check_rope(self):
        if self.num_qo_heads < 1 or self.num_kv_heads < 1:
            raise ValueError("rope: num_qo_heads and num_kv_heads (the heads "
                             "of q and k) must be positive")
        if self.rotary_dim == self.head_dim:
            object.__setattr__(self, "rotary_dim", 0)
        rd = self.rotary_dim or self.head_dim
        if rd < 0 or rd % 2 or rd > self.head_dim:
            raise ValueError(f"rope: rotary_dim must be even and at most "
                             f"head_dim ({self.head_dim}), got {rd}")
        if self.head_dim % 2:
            raise NotImplementedError(
                f"rope: head_dim {self.head_dim} is odd; the kernel rotates "
                "even head dims")
        if self.rope_positions not in ("pos_ids", "indptr"):
            raise ValueError(f"rope: rope_positions must be pos_ids or "
                             f"indptr, got {self.rope_positions!r}")
        if self.rope_pos_dtype not in ("i32", "i64") or (
                self.rope_pos_dtype == "i64" and
                self.rope_positions != "pos_ids"):
            raise ValueError(f"rope: rope_pos_dtype must be i32, or i64 with "
                             f"pos_ids, got {self.rope_pos_dtype!r}")
        for field in ("low_freq_factor", "high_freq_factor",
                      "old_context_len"):
            object.__setattr__(self, field, float(getattr(self, field)))
        if self.low_freq_factor and not (
                0 < self.low_freq_factor < self.high_freq_factor and
                self.old_context_len > 0):
            raise ValueError(
                "rope: Llama 3.1 scaling needs 0 < low_freq_factor < "
                "high_freq_factor and old_context_len > 0, got "
                f"{self.low_freq_factor}, {self.high_freq_factor}, "
                f"{self.old_context_len}")
        if self.cos_sin_cache and self.low_freq_factor:
            raise ValueError("rope: a cos_sin_cache holds the angles; Llama "
                             "3.1 scaling does not apply")

    @property
    def kv_dtype(self) -> str:
        return self.dtype_kv or self.dtype

    @property
    def out_dtype(self) -> str:
        return self.dtype_o or self.dtype

    @property
    def vo_dim(self) -> int:
        return self.head_dim_vo or self.head_dim

    def replace(self, **changes) -> "KernelSpec":
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_json(data: dict) -> "KernelSpec":
        return KernelSpec(**data)

    def key(self) -> str:
        """A canonical text of every field (the cache's lookup key)."""
        return json.dumps(self.to_json(), sort_keys=True)

    @property
    def name(self) -> str:
        t = self.dtype
        if self.kind in ("merge", "merge_segmented"):
            n = f"n{self.num_states}_" if self.kind == "merge" else ""
            return (f"{self.kind}_{n}{t}_to_{self.out_dtype}_d{self.head_dim}"
                    f"_h{self.num_qo_heads}")
        if self.kind == "append":
            return (f"append_{t}_d{self.head_dim}_h{self.num_kv_heads}_"
                    f"{self.kv_layout}")
        if self.kind == "rope":
            parts = ["rope", t, f"d{self.head_dim}"]
            if self.rotary_dim:
                parts[-1] += f"r{self.rotary_dim}"
            parts += [f"h{self.num_qo_heads}x{self.num_kv_heads}",
                      "pos" if self.rope_positions == "pos_ids" else "indptr"]
            if self.interleave:
                parts.append("il")
            if self.low_freq_factor:
                parts.append(f"l31_{_tag(self.low_freq_factor)}_"
                             f"{_tag(self.high_freq_factor)}_"
                             f"{_tag(self.old_context_len)}")
            if self.cos_sin_cache:
                parts.append("cache")
            if self.rope_pos_dtype == "i64":
                parts.append("p64")
            return "_".join(parts)
        parts = [self.kind, t]
        if self.out_dtype != t:
            parts.append(f"to_{self.out_dtype}")
        if self.kv_dtype != t:
            parts.append(f"kv{self.kv_dtype}")
        dims = f"d{self.head_dim}"
        if self.vo_dim != self.head_dim:
            dims += f"x{self.vo_dim}"
        parts += [dims, f"h{self.num_qo_heads}x{self.num_kv_heads}"]
        if self.kind in _PAGED:
            parts.append(self.kv_layout)
        if self.causal:
            parts.append("causal")
        if self.window_left >= 0:
            parts.append(f"w{self.window_left}")
        if self.logits_soft_cap:
            parts.append(f"cap{_tag(self.logits_soft_cap)}")
        if self.sm_scale is not None:
            parts.append(f"s{_tag(self.sm_scale)}")
        # Values at launch: the switch in the name, not the value.
        for flag, tag in (("launch_window", "wL"), ("launch_soft_cap", "capL"),
                          ("launch_sm_scale", "sL")):
            if getattr(self, flag):
                parts.append(tag)
        if self.pos_encoding == "alibi":
            parts.append("alibi")
        if self.pos_encoding == "rope_llama":
            parts.append("rope")
        if self.sinks:
            parts.append("sinks")
        if self.custom_mask:
            parts.append("mask")
        # A user function by a digest of its text.
        for field, tag in (("score_mod", "score"), ("mask_mod", "mask")):
            body = getattr(self, field)
            if body is not None:
                digest = hashlib.sha256(body.encode()).hexdigest()[:10]
                parts.append(f"{tag}{digest}")
        return "_".join(parts)

    # -- attn IR -----------------------------------------------------------

    def _launch_args(self):
        """(function arguments, op operands) of the values at launch."""
        args, uses = [], ""
        for flag, name, t in (("launch_sm_scale", "sm_scale", "f32"),
                              ("launch_soft_cap", "logits_soft_cap", "f32"),
                              ("launch_window", "window_left", "i64")):
            if getattr(self, flag):
                args.append(f"%{name}: {t}")
                uses += f" {name}(%{name})"
        # Fused RoPE's scale and theta are always values at launch.
        if self.kind in _ATTENTION and self.pos_encoding == "rope_llama":
            for name in ("rope_scale", "rope_theta"):
                args.append(f"%{name}: f32")
                uses += f" {name}(%{name})"
        return args, uses

    def _variant_args(self):
        """(function arguments, op operands) of the per-head tensors."""
        args, uses = [], ""
        if self.custom_mask:
            args.append("%custom_mask: tensor<?xi8>")
            uses += " custom_mask(%custom_mask : tensor<?xi8>)"
        if self.sinks:
            t = f"tensor<{self.num_qo_heads}xf32>"
            args.append(f"%sinks: {t}")
            uses += f" sinks(%sinks : {t})"
        return args, uses

    def _regions(self) -> str:
        text = ""
        if self.score_mod is not None:
            text += (" score_mod {\n  ^bb0(%score: f32, %batch: index, "
                     "%q_head: index, %q_idx: index, %kv_idx: index):\n"
                     f"{_body(self.score_mod)}\n  }}")
        if self.mask_mod is not None:
            text += (" mask_mod {\n  ^bb0(%batch: index, %q_head: index, "
                     "%q_idx: index, %kv_idx: index):\n"
                     f"{_body(self.mask_mod)}\n  }}")
        return text

    def _attrs(self, extra=()) -> str:
        attrs = list(extra)
        if self.pos_encoding != "none":
            attrs.append(
                f"pos_encoding = #attn.pos_encoding<{self.pos_encoding}>")
        if self.causal:
            attrs.append("causal")
        if self.window_left >= 0:
            attrs.append(f"window_left = {self.window_left} : i64")
        if self.logits_soft_cap:
            attrs.append(f"logits_soft_cap = {float(self.logits_soft_cap)!r}"
                         " : f32")
        if self.sm_scale is not None:
            attrs.append(f"sm_scale = {float(self.sm_scale)!r} : f32")
        return f" attributes {{{', '.join(attrs)}}}" if attrs else ""

    def ir(self) -> str:
        """The function's attn IR (tensors; one function)."""
        return getattr(self, f"_ir_{self.kind}")()

    def _qo(self, tokens="?"):
        hq, t = self.num_qo_heads, self.dtype
        q = f"tensor<{tokens}x{hq}x{self.head_dim}x{t}>"
        o = f"tensor<{tokens}x{hq}x{self.vo_dim}x{self.out_dtype}>"
        lse = f"tensor<{tokens}x{hq}xf32>"
        return q, o, lse

    def _ir_contiguous(self, tokens, indptrs):
        q, o, lse = self._qo(tokens)
        hkv, t = self.num_kv_heads, self.kv_dtype
        k = f"tensor<?x{hkv}x{self.head_dim}x{t}>"
        v = f"tensor<?x{hkv}x{self.vo_dim}x{t}>"
        ids = "tensor<?xi32>"
        args = [f"%q: {q}", f"%k: {k}", f"%v: {v}"]
        uses = ""
        if indptrs:
            args += [f"%qo_indptr: {ids}", f"%kv_indptr: {ids}"]
            uses = (f" qo_indptr(%qo_indptr : {ids})"
                    f" kv_indptr(%kv_indptr : {ids})")
        variant_args, variant_uses = self._variant_args()
        args += variant_args + [f"%o: {o}", f"%lse: {lse}"]
        launch_args, launch_uses = self._launch_args()
        args += launch_args
        return (
            f"func.func @{self.name}({', '.join(args)}) -> ({o}, {lse}) {{\n"
            f"  %r:2 = attn.attention q(%q : {q}) k(%k : {k}) v(%v : {v})"
            f"{uses}{variant_uses}{launch_uses}\n"
            f"      outs(%o, %lse : {o}, {lse}){self._attrs()}"
            f"{self._regions()} -> {o}, {lse}\n"
            f"  return %r#0, %r#1 : {o}, {lse}\n}}\n")

    def _ir_single_decode(self):
        return self._ir_contiguous("1", False)

    def _ir_single_prefill(self):
        return self._ir_contiguous("?", False)

    def _ir_batch_prefill_ragged(self):
        return self._ir_contiguous("?", True)

    def _cache_type(self, dim):
        hkv, t = self.num_kv_heads, self.kv_dtype
        shape = (f"?x?x{hkv}x{dim}" if self.kv_layout == "nhd" else
                 f"?x{hkv}x?x{dim}")
        return f"tensor<{shape}x{t}>"

    def _ir_paged(self, prefill):
        q, o, lse = self._qo()
        kc, vc = self._cache_type(self.head_dim), self._cache_type(self.vo_dim)
        ids = "tensor<?xi32>"
        args = [f"%q: {q}", f"%k_cache: {kc}", f"%v_cache: {vc}",
                f"%kv_indptr: {ids}", f"%kv_indices: {ids}",
                f"%kv_last_page_len: {ids}"]
        qo = ""
        if prefill:
            args.append(f"%qo_indptr: {ids}")
            qo = f" qo_indptr(%qo_indptr : {ids})"
        variant_args, variant_uses = self._variant_args()
        args += variant_args + [f"%o: {o}", f"%lse: {lse}"]
        launch_args, launch_uses = self._launch_args()
        args += launch_args
        layout = f"kv_layout = #attn.kv_layout<{self.kv_layout}>"
        return (
            f"func.func @{self.name}({', '.join(args)}) -> ({o}, {lse}) {{\n"
            f"  %r:2 = attn.paged_attention q(%q : {q})"
            f" k_cache(%k_cache : {kc}) v_cache(%v_cache : {vc})\n"
            f"      kv_indptr(%kv_indptr : {ids}) kv_indices(%kv_indices :"
            f" {ids}) kv_last_page_len(%kv_last_page_len : {ids}){qo}"
            f"{variant_uses}{launch_uses}\n"
            f"      outs(%o, %lse : {o}, {lse}){self._attrs([layout])}"
            f"{self._regions()} -> {o}, {lse}\n"
            f"  return %r#0, %r#1 : {o}, {lse}\n}}\n")

    def _ir_batch_decode(self):
        return self._ir_paged(False)

    def _ir_batch_prefill(self):
        return self._ir_paged(True)

    def _ir_merge(self):
        n, h, d = self.num_states, self.num_qo_heads, self.head_dim
        v = f"tensor<?x{h}x{d}x{self.dtype}>"
        lse = f"tensor<?x{h}xf32>"
        o = f"tensor<?x{h}x{d}x{self.out_dtype}>"
        args = ([f"%v{i}: {v}" for i in range(n)] +
                [f"%s{i}: {lse}" for i in range(n)] +
                [f"%o: {o}", f"%lse: {lse}"])
        vs = ", ".join(f"%v{i}" for i in range(n))
        ss = ", ".join(f"%s{i}" for i in range(n))
        return (
            f"func.func @{self.name}({', '.join(args)}) -> ({o}, {lse}) {{\n"
            f"  %r:2 = attn.merge_states values({vs} : "
            f"{', '.join([v] * n)})\n"
            f"      lse({ss} : {', '.join([lse] * n)})\n"
            f"      outs(%o, %lse : {o}, {lse}) -> {o}, {lse}\n"
            f"  return %r#0, %r#1 : {o}, {lse}\n}}\n")

    def _ir_merge_segmented(self):
        h, d = self.num_qo_heads, self.head_dim
        v = f"tensor<?x{h}x{d}x{self.dtype}>"
        lse = f"tensor<?x{h}xf32>"
        o = f"tensor<?x{h}x{d}x{self.out_dtype}>"
        ids = "tensor<?xi32>"
        return (
            f"func.func @{self.name}(%v: {v}, %s: {lse}, %indptr: {ids}, "
            f"%o: {o}, %lse: {lse}) -> ({o}, {lse}) {{\n"
            f"  %r:2 = attn.merge_states indptr(%indptr : {ids})"
            f" values(%v : {v}) lse(%s : {lse})\n"
            f"      outs(%o, %lse : {o}, {lse}) -> {o}, {lse}\n"
            f"  return %r#0, %r#1 : {o}, {lse}\n}}\n")

    def _ir_rope(self):
        t, d = self.dtype, self.head_dim
        q = f"tensor<?x{self.num_qo_heads}x{d}x{t}>"
        k = f"tensor<?x{self.num_kv_heads}x{d}x{t}>"
        ids = "tensor<?xi32>"
        if self.rope_positions == "pos_ids":
            pos = f"tensor<?x{self.rope_pos_dtype}>"
            args = [f"%pos_ids: {pos}"]
            uses = f" pos_ids(%pos_ids : {pos})"
        else:
            args = [f"%indptr: {ids}", f"%offsets: {ids}"]
            uses = (f" indptr(%indptr : {ids})"
                    f" offsets(%offsets : {ids})")
        rd = self.rotary_dim or d
        if self.cos_sin_cache:
            cache = f"tensor<?x{rd}xf32>"
            args.append(f"%cos_sin_cache: {cache}")
            uses += f" cos_sin_cache(%cos_sin_cache : {cache})"
        values = []
        if not self.cos_sin_cache:
            values = ["%rope_scale: f32", "%rope_theta: f32"]
            uses += " rope_scale(%rope_scale) rope_theta(%rope_theta)"
        attrs = []
        if self.interleave:
            attrs.append("interleave")
        if self.rotary_dim:
            attrs.append(f"rotary_dim = {self.rotary_dim} : i64")
        if self.low_freq_factor:
            attrs.append(
                "llama31_scaling = #attn.llama31_scaling<low_freq_factor = "
                f"{self.low_freq_factor!r}, high_freq_factor = "
                f"{self.high_freq_factor!r}, old_context_len = "
                f"{self.old_context_len!r}>")
        attr_text = f" {{{', '.join(attrs)}}}" if attrs else ""
        all_args = ([f"%q: {q}", f"%k: {k}"] + args +
                    [f"%q_out: {q}", f"%k_out: {k}"] + values)
        return (
            f"func.func @{self.name}({', '.join(all_args)}) -> ({q}, {k}) {{\n"
            f"  %q_rope = attn.rope %q{uses} outs(%q_out : {q}){attr_text}"
            f" : {q} -> {q}\n"
            f"  %k_rope = attn.rope %k{uses} outs(%k_out : {k}){attr_text}"
            f" : {k} -> {k}\n"
            f"  return %q_rope, %k_rope : {q}, {k}\n}}\n")

    def _ir_append(self):
        hkv, d, t = self.num_kv_heads, self.head_dim, self.dtype
        rows = f"tensor<?x{hkv}x{d}x{t}>"
        cache = self._cache_type(d)
        ids = "tensor<?xi32>"
        layout = f"{{kv_layout = #attn.kv_layout<{self.kv_layout}>}}"
        return (
            f"func.func @{self.name}(%k: {rows}, %v: {rows}, "
            f"%batch_indices: {ids}, %positions: {ids}, %kv_indices: {ids}, "
            f"%kv_indptr: {ids}, %k_cache: {cache}, %v_cache: {cache}) -> "
            f"({cache}, {cache}) {{\n"
            f"  %r:2 = attn.append_paged_kv k(%k : {rows}) v(%v : {rows})"
            f" batch_indices(%batch_indices : {ids}) positions(%positions :"
            f" {ids}) kv_indices(%kv_indices : {ids}) kv_indptr(%kv_indptr :"
            f" {ids})\n"
            f"      outs(%k_cache, %v_cache : {cache}, {cache}) {layout}"
            f" -> {cache}, {cache}\n"
            f"  return %r#0, %r#1 : {cache}, {cache}\n}}\n")
