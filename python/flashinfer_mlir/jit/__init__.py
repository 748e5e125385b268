"""Kernels ahead of time and on demand (FlashInfer's `flashinfer.jit`).

Our kernels are compiled from attn IR by flashinfer-opt, one function per
KernelSpec (spec.py); the kernel cache (cache.py) finds them prebuilt or
compiles them on first use. `JitSpec`, `build_jit_specs` and the `gen_*_module`
names are here for code written for FlashInfer, which warms its JIT up with
them: our specs need the head counts too, which arrive with plan() or the
call, so those warm-ups build nothing and return at once.

    python -m flashinfer_mlir.jit build --chip sm_90a     # the AOT set
"""

import dataclasses
from typing import List, Optional

from . import env  # noqa: F401
from .cache import (CompileError, build, compiler_path, find_manifest,
                    get_module, prebuilt_chips)
from .spec import KINDS, KernelSpec

__all__ = ["CompileError", "JitSpec", "KINDS", "KernelSpec", "build",
           "build_jit_specs", "compiler_path", "find_manifest",
           "get_module", "prebuilt_chips"]


@dataclasses.dataclass
class JitSpec:
    """A named group of kernels. `kernels` lists concrete KernelSpecs to
    build; FlashInfer-style module specs (from gen_*_module) carry none."""
    name: str
    kernels: List[KernelSpec] = dataclasses.field(default_factory=list)

    def is_compiled(self, chip: Optional[str] = None) -> bool:
        if not self.kernels:
            return True
        chip = chip or _current_chip()
        return all(find_manifest(k, chip) for k in self.kernels)

    def build(self, verbose: bool = False, chip: Optional[str] = None):
        if not self.kernels:
            return
        chip = chip or _current_chip()
        missing = [k for k in self.kernels if not find_manifest(k, chip)]
        for k in missing:
            get_module(k, chip)
            if verbose:
                print(f"flashinfer_mlir: built {k.name} for {chip}")

    def load(self, chip: Optional[str] = None):
        chip = chip or _current_chip()
        return [get_module(k, chip) for k in self.kernels]

    def build_and_load(self, chip: Optional[str] = None):
        self.build(chip=chip)
        return self.load(chip)


def _current_chip() -> str:
    from ..utils import device_chip
    return device_chip()


def build_jit_specs(specs: List[JitSpec], verbose: bool = False,
                    skip_prebuilt: bool = True) -> None:
    for s in specs:
        if skip_prebuilt and s.is_compiled():
            continue
        s.build(verbose=verbose)


def _module_spec(family: str):
    def gen(*args, **kwargs) -> JitSpec:
        return JitSpec(name=family)
    gen.__name__ = f"gen_{family}_module"
    gen.__doc__ = (f"FlashInfer's {gen.__name__}: a JitSpec with no kernels "
                   "(ours are specialised per call; see the module "
                   "docstring).")
    return gen


# The module generators of flashinfer.jit (FlashInfer 0.6.x).
_FAMILIES = [
    "act_and_mul", "batch_attention", "batch_decode_mla", "batch_decode",
    "batch_mla", "batch_pod", "batch_prefill", "bgmv_moe", "comm_alltoall",
    "cudnn_fmha", "customize_batch_decode", "customize_batch_prefill",
    "customize_single_decode", "customize_single_prefill", "dcp_alltoall",
    "dsv3_fused_routing", "dsv3_router_gemm", "flash_kda_m128",
    "flash_kda_m128_n16", "flash_kda_m64", "fmha_cutlass_sm100a", "fmha_v2",
    "fp4_kv_dequantization", "fp4_kv_quantization", "hash_topk",
    "moe_alltoall", "moe_utils", "monomoe", "nvfp4_attention_sm120", "pod",
    "single_decode", "single_prefill", "tinygemm2", "tinygemm2_sm100",
    "trtllm_comm", "trtllm_fmha_v2_sm120", "trtllm_gen_fmha",
    "trtllm_mnnvl_comm", "vllm_comm",
]
for _family in _FAMILIES:
    globals()[f"gen_{_family}_module"] = _module_spec(_family)
    __all__.append(f"gen_{_family}_module")
del _family
