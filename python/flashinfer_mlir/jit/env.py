"""FlashInfer's `flashinfer.jit.env`: where kernels come from."""

from .cache import package_cache_dir, prebuilt_chips

__all__ = ["FLASHINFER_MLIR_KERNEL_DIR", "has_flashinfer_cubin",
           "has_flashinfer_jit_cache"]

FLASHINFER_MLIR_KERNEL_DIR = package_cache_dir()


def has_flashinfer_jit_cache() -> bool:
    """True when the package carries prebuilt kernels (its ahead-of-time
    cache) for at least one target."""
    return bool(prebuilt_chips())


def has_flashinfer_cubin() -> bool:
    return has_flashinfer_jit_cache()
