"""CPU tests of the FlashInfer-compatible package (no GPU, no torch): the
API's signatures against FlashInfer's (a checked-in list), the root
exports, kernel specs and their cache keys, the kernel cache's lookup and
on-demand compilation, and argument checks that need no tensor."""

import importlib
import inspect
import json
import os
import shutil
import sys

import pytest

import flashinfer_mlir
from flashinfer_mlir import utils
from flashinfer_mlir.jit import aot, cache
from flashinfer_mlir.jit.spec import KernelSpec

HERE = os.path.dirname(__file__)
with open(os.path.join(HERE, "flashinfer_api.json")) as f:
    FLASHINFER = json.load(f)["signatures"]
_EMPTY = inspect.Parameter.empty
_KINDS = {"positional_or_keyword": inspect.Parameter.POSITIONAL_OR_KEYWORD,
          "keyword_only": inspect.Parameter.KEYWORD_ONLY,
          "var_positional": inspect.Parameter.VAR_POSITIONAL,
          "var_keyword": inspect.Parameter.VAR_KEYWORD}


def _resolve(qualified: str):
    parts = qualified.split(".")
    assert parts[0] == "flashinfer"
    obj = importlib.import_module("flashinfer_mlir." + parts[1])
    for p in parts[2:]:
        obj = getattr(obj, p)
    return obj


@pytest.mark.parametrize("qualified", sorted(FLASHINFER))
def test_signature_matches_flashinfer(qualified):
    ours = inspect.signature(_resolve(qualified))
    params = [p for p in ours.parameters.values()
              if p.name != "self" or qualified.endswith("fast_decode_plan")]
    expected = FLASHINFER[qualified]
    names = [p.name for p in params]
    assert names == [e[0] for e in expected], qualified
    for p, (name, kind, default) in zip(params, expected):
        assert p.kind == _KINDS[kind], f"{qualified}: {name} kind"
        if default is None:
            assert p.default is _EMPTY or kind.startswith("var"), \
                f"{qualified}: {name} must be required"
        else:
            want = eval(default)  # FlashInfer's defaults are literals
            assert p.default == want and type(p.default) in (
                type(want), int, float) or (p.default is None and
                                            want is None), \
                f"{qualified}: {name} defaults to {p.default!r}, " \
                f"FlashInfer {default}"


def test_root_exports():
    for qualified in FLASHINFER:
        module, name = qualified.split(".")[1:3]
        if module in ("utils",):
            continue
        assert getattr(flashinfer_mlir, name) is getattr(
            importlib.import_module("flashinfer_mlir." + module), name)


def test_enums_and_helpers():
    assert [m.name for m in utils.PosEncodingMode] == ["NONE", "ROPE_LLAMA",
                                                       "ALIBI"]
    assert [m.value for m in utils.TensorLayout] == [0, 1]
    assert issubclass(utils.GPUArchitectureError, Exception)
    assert utils.round_up(17, 16) == 32 and utils.round_up(32, 16) == 32
    assert utils.check_kv_layout("HND") == "hnd"
    with pytest.raises(KeyError, match="Invalid kv_layout"):
        utils.check_kv_layout("NDH")
    with pytest.raises(KeyError, match="Invalid pos_encoding_mode"):
        utils.check_pos_encoding_mode("ROPE", "x")
    assert utils.check_pos_encoding_mode("ROPE_LLAMA", "x") == "rope_llama"


def test_jit_warmup_names_are_harmless():
    spec = flashinfer_mlir.jit.gen_batch_decode_module(
        "bf16", "bf16", "bf16", "i32", 128, 128, 0, False, False)
    assert spec.name == "batch_decode" and spec.kernels == []
    flashinfer_mlir.jit.build_jit_specs([spec], verbose=True)
    assert callable(flashinfer_mlir.jit.gen_trtllm_gen_fmha_module)


def test_spec_names_and_keys():
    specs = aot.aot_specs()
    assert len({s.name for s in specs}) == len(specs)
    assert len({s.key() for s in specs}) == len(specs)
    for s in specs[:20]:
        assert KernelSpec.from_json(json.loads(s.key())) == s
    # Neutral values are no part of the name or key.
    a = KernelSpec("batch_decode", "bf16", 128, 32, 8)
    b = KernelSpec("batch_decode", "bf16", 128, 32, 8, sm_scale=128 ** -0.5,
                   head_dim_vo=128, dtype_kv="bf16", window_left=-7)
    assert a == b and a.key() == b.key() and a.name == b.name
    c = a.replace(sm_scale=0.1, logits_soft_cap=30, window_left=64)
    assert c.name == "batch_decode_bf16_d128_h32x8_nhd_w64_cap30p0_s0p1"
    assert "sm_scale = 0.1 : f32" in c.ir() and \
        "window_left = 64 : i64" in c.ir()


def test_fp8_kv_specs(tmp_path):
    """fp8 KV caches: K/V in f8E4M3FN (or FNUZ) with f16/bf16 queries, in
    the name and the IR; the kernels take the fp8 caches (manifest dtypes);
    what has no kernel says so."""
    from flashinfer_mlir import _api
    spec = KernelSpec("batch_decode", "bf16", 128, 32, 8,
                      dtype_kv="f8E4M3FN", launch_sm_scale=True)
    assert spec.name == "batch_decode_bf16_kvf8E4M3FN_d128_h32x8_nhd_sL"
    ir = spec.ir()
    assert "k_cache(%k_cache : tensor<?x?x8x128xf8E4M3FN>)" in ir
    assert "q(%q : tensor<?x32x128xbf16>)" in ir
    prefill = KernelSpec("single_prefill", "f16", 64, 4, 4, causal=True,
                         dtype_kv="f8E4M3FNUZ")
    assert "k(%k : tensor<?x4x64xf8E4M3FNUZ>)" in prefill.ir()
    paths = cache.build([spec, prefill], "gfx942", str(tmp_path), _compiler())
    with open(paths[0]) as f:
        args = {a["name"]: a["dtype"] for a in json.load(f)["kernels"][0]["args"]}
    assert args["k_cache"] == args["v_cache"] == "f8E4M3FN"
    assert args["q"] == "bf16"
    with pytest.raises(NotImplementedError, match="fp8"):
        KernelSpec("batch_decode", "f8E4M3FN", 128, 32, 8)
    with pytest.raises(NotImplementedError, match="K/V share q's dtype"):
        KernelSpec("batch_decode", "bf16", 128, 32, 8, dtype_kv="f16")
    with pytest.raises(NotImplementedError, match="f8E5M2"):
        KernelSpec("batch_decode", "bf16", 128, 32, 8, dtype_kv="f8E5M2")
    assert _api._dtype("float8_e4m3fn", "x", kv=True) == "f8E4M3FN"
    with pytest.raises(NotImplementedError, match="float16 and bfloat16"):
        _api._dtype("float8_e4m3fn", "x")


def test_spec_errors():
    with pytest.raises(ValueError, match="multiple of num_kv_heads"):
        KernelSpec("single_decode", "f16", 128, 30, 8)
    with pytest.raises(ValueError, match="unknown kernel kind"):
        KernelSpec("decode", "f16", 128, 32, 8)
    with pytest.raises(ValueError, match="kv_layout"):
        KernelSpec("batch_decode", "f16", 128, 32, 8, kv_layout="HND")


def _compiler():
    opt = cache.compiler_path()
    if not opt:
        pytest.skip("flashinfer-opt not built")
    return opt


def test_missing_kernel_says_how_to_build(monkeypatch, tmp_path):
    monkeypatch.setenv("FLASHINFER_MLIR_OPT", str(tmp_path / "none"))
    monkeypatch.setenv("FLASHINFER_MLIR_KERNELS", str(tmp_path))
    spec = KernelSpec("single_decode", "bf16", 128, 12, 4)
    with pytest.raises(NotImplementedError) as e:
        cache.ensure_built(spec, "sm_90a")
    msg = str(e.value)
    assert spec.name in msg and "python -m flashinfer_mlir.jit build" in msg
    # The spec in the message is the one to build.
    quoted = msg.split("--spec '")[1].split("'")[0]
    assert KernelSpec.from_json(json.loads(quoted)) == spec


@pytest.mark.parametrize("chip", ["sm_90a", "gfx942"])
def test_compile_on_first_use(monkeypatch, tmp_path, capfd, chip):
    if chip.startswith("sm_") and not (shutil.which("ptxas") or
                                       os.path.exists(
                                           "/usr/local/cuda/bin/ptxas")):
        pytest.skip("no ptxas")
    monkeypatch.setenv("FLASHINFER_MLIR_OPT", _compiler())
    monkeypatch.setenv("FLASHINFER_MLIR_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("FLASHINFER_MLIR_KERNELS", raising=False)
    spec = KernelSpec("batch_decode", "bf16", 64, 8, 2, kv_layout="hnd",
                      logits_soft_cap=30.0)
    path = cache.ensure_built(spec, chip)
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and f"compiling {spec.name} for {chip}" in err
    assert path.startswith(str(tmp_path))
    with open(path) as f:
        manifest = json.load(f)
    assert manifest["target"] == chip
    split = manifest["kernels"][0]["params"]
    assert (split["num_qo_heads"], split["num_kv_heads"], split["head_dim"],
            split["kv_layout"], split["logits_soft_cap"]) == (8, 2, 64, "hnd",
                                                             30.0)
    binary = os.path.join(os.path.dirname(path), manifest["binary"])
    assert os.path.getsize(binary) > 0
    # Second use: found in the cache, nothing printed.
    assert cache.ensure_built(spec, chip) == path
    assert capfd.readouterr().err == ""
    with open(os.path.join(os.path.dirname(path), "index.json")) as f:
        assert json.load(f)["kernels"][spec.name] == spec.to_json()


def test_every_kind_compiles(tmp_path):
    """The IR of every kernel kind is accepted by flashinfer-opt (gfx942:
    needs no CUDA toolkit)."""
    specs = aot.test_specs()
    assert {s.kind for s in specs} == set(flashinfer_mlir.jit.KINDS)
    paths = cache.build(specs, "gfx942", str(tmp_path), _compiler())
    for s, p in zip(specs, paths):
        with open(p) as f:
            names = [k["name"] for k in json.load(f)["kernels"]]
        # A function of several ops (rope: q and k) numbers its kernels.
        assert names[0] in (s.name, s.name + "_0")


def test_fused_rope_specs(tmp_path):
    """pos_encoding_mode='ROPE_LLAMA': a kernel per shape whose rope_scale
    and rope_theta are values at launch (FlashInfer's defaults when not
    given); the IR compiles, its manifest names them."""
    from flashinfer_mlir import _api
    fields, values = _api._variant(128, -1, None, None, "rope_llama")
    assert fields["pos_encoding"] == "rope_llama"
    assert values["rope_scale"] == 1.0 and values["rope_theta"] == 1e4
    _, values = _api._variant(128, -1, None, None, "rope_llama", 8.0, 5e5)
    assert values["rope_scale"] == 8.0 and values["rope_theta"] == 5e5
    _, plain = _api._variant(128, -1, None, None, "none", 8.0, 5e5)
    assert "rope_scale" not in plain and "rope_theta" not in plain
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="rope_theta must be finite"):
            _api._variant(128, -1, None, None, "rope_llama", None, bad)
    spec = KernelSpec("batch_decode", "bf16", 128, 32, 8, **fields)
    assert spec.name.endswith("_rope")
    ir = spec.ir()
    assert "pos_encoding = #attn.pos_encoding<rope_llama>" in ir
    assert "rope_scale(%rope_scale) rope_theta(%rope_theta)" in ir
    with pytest.raises(ValueError, match="even head_dim"):
        KernelSpec("single_prefill", "f16", 63, 4, 4,
                   pos_encoding="rope_llama")
    with pytest.raises(ValueError, match="pos_encoding must be"):
        KernelSpec("single_prefill", "f16", 64, 4, 4, pos_encoding="rope")
    path, = cache.build([spec], "gfx942", str(tmp_path), _compiler())
    with open(path) as f:
        params = json.load(f)["kernels"][0]["params"]
    assert params["launch_values"] == ["sm_scale", "rope_theta", "rope_scale"]
    assert params["pos_encoding"] == "rope_llama"


def test_variant_specs():
    """ALiBi, sinks and user-defined functions: in the name, the key and the
    IR; errors for what has no kernel."""
    base = KernelSpec("batch_prefill", "bf16", 128, 32, 8, causal=True)
    body = "%r = arith.negf %score : f32\nattn.yield %r : f32"
    a = base.replace(pos_encoding="alibi", sinks=True, score_mod=body)
    assert a.name.startswith(
        "batch_prefill_bf16_d128_h32x8_nhd_causal_alibi_sinks_score")
    assert a.key() != base.key() and a.name != base.replace(
        score_mod=body.replace("negf", "absf")).name
    ir = a.ir()
    assert "pos_encoding = #attn.pos_encoding<alibi>" in ir
    assert "sinks(%sinks : tensor<32xf32>)" in ir
    assert "score_mod {\n  ^bb0(%score: f32" in ir and "arith.negf" in ir
    assert KernelSpec.from_json(json.loads(a.key())) == a
    assert flashinfer_mlir.utils.check_pos_encoding_mode("ALIBI", "x") == \
        "alibi"
    from flashinfer_mlir import _api
    with pytest.raises(NotImplementedError, match="ALIBI.*logits_soft_cap"):
        _api._variant(128, -1, 30.0, None, "alibi")
    with pytest.raises(NotImplementedError, match="no decode wrapper"):
        KernelSpec("batch_decode", "bf16", 128, 32, 8, custom_mask=True)
    with pytest.raises(ValueError, match="takes no attention variant"):
        KernelSpec("merge", "bf16", 128, 32, sinks=True)
    with pytest.raises(ValueError, match="attn.yield"):
        base.replace(mask_mod="%t = arith.constant true")
    assert "custom_mask(%custom_mask : tensor<?xi8>)" in \
        base.replace(custom_mask=True).ir()
    m = KernelSpec("single_prefill", "f16", 128, 32, 8, custom_mask=True)
    assert m.name.endswith("_mask") and \
        "custom_mask(%custom_mask : tensor<?xi8>)" in m.ir()


def test_variant_kernels_compile(tmp_path):
    """The variant specs of the AOT set and the GPU tests' user functions
    compile for gfx942 (the H200 runs them from the cache); a region the
    verifier rejects is a CompileError naming the reason."""
    sys.path.insert(0, os.path.dirname(__file__))
    import variant_specs
    specs = [s for s in aot.aot_specs()
             if s.pos_encoding != "none" or s.sinks][:6]
    specs += variant_specs.SPECS
    specs.append(KernelSpec("single_prefill", "f16", 128, 32, 8,
                            custom_mask=True, launch_sm_scale=True))
    # (build() compiles each name once: no duplicates here.)
    assert len({s.name for s in specs}) == len(specs)
    paths = cache.build(specs, "gfx942", str(tmp_path), _compiler())
    for s, p in zip(specs, paths):
        with open(p) as f:
            kernels = json.load(f)["kernels"]
        params = kernels[0]["params"]
        assert params.get("alibi_slopes") == (
            "default" if s.pos_encoding == "alibi" else None)
        args = [a["name"] for k in kernels for a in k["args"]]
        assert ("sinks" in args) == s.sinks
        assert params.get("score_mod", False) == (s.score_mod is not None)
        assert params.get("mask_mod", False) == (s.mask_mod is not None)
        assert ("custom_mask" in args) == s.custom_mask
    bad = KernelSpec("single_prefill", "f16", 64, 4, 4, score_mod=(
        "%r = tensor.empty() : tensor<4xf32>\nattn.yield %score : f32"))
    with pytest.raises(cache.CompileError, match="scalar elementwise"):
        cache.build([bad], "gfx942", str(tmp_path), _compiler())


def test_rope_specs():
    """attn.rope of q and k: the name and IR carry the rotation's fields;
    rope_scale and rope_theta are launch values (not in the name)."""
    base = KernelSpec("rope", "bf16", 128, 32, 8)
    assert base.name == "rope_bf16_d128_h32x8_pos"
    assert base.replace(rotary_dim=128) == base
    l31 = base.replace(rope_positions="indptr", interleave=True, rotary_dim=64,
                       low_freq_factor=1, high_freq_factor=4,
                       old_context_len=8192)
    assert l31.name == "rope_bf16_d128r64_h32x8_indptr_il_l31_1p0_4p0_8192p0"
    ir = l31.ir()
    assert ir.count("attn.rope") == 2
    assert "indptr(%indptr : tensor<?xi32>) offsets(%offsets" in ir
    assert "rope_scale(%rope_scale) rope_theta(%rope_theta)" in ir
    assert ("llama31_scaling = #attn.llama31_scaling<low_freq_factor = 1.0, "
            "high_freq_factor = 4.0, old_context_len = 8192.0>") in ir
    assert "interleave" in ir and "rotary_dim = 64 : i64" in ir
    cache_spec = base.replace(cos_sin_cache=True)
    assert cache_spec.name == "rope_bf16_d128_h32x8_pos_cache"
    assert "cos_sin_cache(%cos_sin_cache : tensor<?x128xf32>)" in \
        cache_spec.ir() and "rope_theta(" not in cache_spec.ir()
    assert KernelSpec.from_json(json.loads(l31.key())) == l31
    names = {s.name for s in aot.rope_specs()}
    assert len(names) == 504 and l31.replace(rotary_dim=0,
                                             interleave=False).name in names
    # vLLM's int64 positions: the cache kernels read them as they are.
    p64 = cache_spec.replace(rope_pos_dtype="i64")
    assert p64.name == "rope_bf16_d128_h32x8_pos_cache_p64" and p64.name in \
        names and "pos_ids(%pos_ids : tensor<?xi64>)" in p64.ir()
    with pytest.raises(ValueError, match="rope_pos_dtype"):
        base.replace(rope_positions="indptr", rope_pos_dtype="i64")
    with pytest.raises(ValueError, match="takes no rope fields"):
        KernelSpec("single_decode", "bf16", 128, 32, 8, rope_pos_dtype="i64")
    with pytest.raises(ValueError, match="rotary_dim must be even"):
        base.replace(rotary_dim=33)
    with pytest.raises(ValueError, match="rotary_dim must be even"):
        base.replace(rotary_dim=256)
    with pytest.raises(ValueError, match="rope_positions"):
        base.replace(rope_positions="offsets")
    with pytest.raises(ValueError, match="Llama 3.1 scaling needs"):
        base.replace(low_freq_factor=4, high_freq_factor=1, old_context_len=1)
    with pytest.raises(ValueError, match="cos_sin_cache holds the angles"):
        cache_spec.replace(low_freq_factor=1, high_freq_factor=4,
                           old_context_len=8192)
    with pytest.raises(ValueError, match="takes no rope fields"):
        KernelSpec("batch_decode", "bf16", 128, 32, 8, interleave=True)


def test_rope_kernels_compile(tmp_path):
    """Every rope form compiles for gfx942, and its launch sequence names
    q's and k's arguments as the API passes them."""
    base = KernelSpec("rope", "f16", 64, 4, 2)
    specs = [base, base.replace(rope_positions="indptr", interleave=True),
             base.replace(low_freq_factor=1, high_freq_factor=4,
                          old_context_len=64, rotary_dim=32),
             base.replace(cos_sin_cache=True, interleave=True)]
    paths = cache.build(specs, "gfx942", str(tmp_path), _compiler())
    expected = [
        ["input", "pos_ids", "output", "rope_scale", "rope_theta", "input_1",
         "output_1"],
        ["input", "indptr", "offsets", "output", "rope_scale", "rope_theta",
         "input_1", "output_1"],
        ["input", "pos_ids", "output", "rope_scale", "rope_theta", "input_1",
         "output_1"],
        ["input", "pos_ids", "cos_sin_cache", "output", "input_1",
         "output_1"]]
    for p, args in zip(paths, expected):
        with open(p) as f:
            manifest = json.load(f)
        assert manifest["sequence"]["args"] == args
        assert [k["op"] for k in manifest["kernels"]] == ["attn.rope"] * 2


def test_runtime_pack_layout():
    """Kernel._pack writes each argument slot with one struct.pack_into:
    read back through the ctypes view of fimlir_arg (runtime.h's layout),
    every field is what was given (tensors of every rank, scalars, a null
    data pointer)."""
    from flashinfer_mlir import runtime

    class Device:
        type = "cuda"

    class Tensor:
        def __init__(self, shape, strides, ptr, dtype):
            self.shape, self._strides, self._ptr = shape, strides, ptr
            self.device, self.dtype = Device(), dtype

        def data_ptr(self):
            return self._ptr

        def stride(self):
            return self._strides

    Tensor.__module__ = "torch.stand_in"

    class Packer:
        name, arg_names = "k", []
        _label = runtime.Kernel._label
        _pack = runtime.Kernel._pack
        _fill_tensor = runtime.Kernel._fill_tensor

    class Dtype:
        def __init__(self, name):
            self.name = name

        def __str__(self):
            return "torch." + self.name

    tensors = [Tensor(tuple(range(3, 3 + r)), tuple(range(100, 100 + r)),
                      (1 << 40) + r, Dtype(name))
               for r, name in zip(range(runtime.MAX_RANK + 1),
                                  ["bfloat16", "float16", "float32", "int32",
                                   "int64", "uint8", "float8_e4m3fn",
                                   "float8_e4m3fnuz", "bool"])]
    args = tensors + [7, -(1 << 62), 0.25, True,
                      runtime.DeviceTensor(0, (5, 6), (6, 1), "f32")]
    packed, device = Packer()._pack(args)
    assert device is tensors[-1].device
    for i, t in enumerate(tensors):
        slot = packed[i]
        rank = len(t.shape)
        assert slot.kind == runtime._ARG_TENSOR
        assert slot.u.tensor.data == t.data_ptr()
        assert slot.u.tensor.rank == rank
        assert slot.u.tensor.dtype == runtime.DTYPES[
            runtime._TORCH_DTYPES[t.dtype.name]]
        assert list(slot.u.tensor.sizes[:rank]) == list(t.shape)
        assert list(slot.u.tensor.strides[:rank]) == list(t.stride())
        assert not any(slot.u.tensor.sizes[rank:])
    n = len(tensors)
    for j, want in enumerate([7, -(1 << 62)]):
        assert packed[n + j].kind == runtime._ARG_SCALAR
        assert packed[n + j].u.scalar.dtype == runtime.DTYPES["i64"]
        assert packed[n + j].u.scalar.value.i == want
    assert packed[n + 2].u.scalar.dtype == runtime.DTYPES["f64"]
    assert packed[n + 2].u.scalar.value.f == 0.25
    assert packed[n + 3].u.scalar.value.i == 1
    null = packed[n + 4].u.tensor
    assert packed[n + 4].kind == runtime._ARG_TENSOR and not null.data
    assert list(null.sizes[:2]) == [5, 6] and list(null.strides[:2]) == [6, 1]
    with pytest.raises(RuntimeError, match="rank 9"):
        Packer()._pack([Tensor((1,) * 9, (1,) * 9, 0, Dtype("float16"))])
    with pytest.raises(RuntimeError, match="does not fit in i64"):
        Packer()._pack([1 << 63])
