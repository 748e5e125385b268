"""FlashInfer-MLIR Python package."""

from .runtime import Context, DeviceTensor, Kernel, Module  # noqa: F401
