"""FlashInfer-MLIR Python package."""

from .runtime import Context, DeviceTensor, Kernel, Module  # noqa: F401
from .planner import plan_decode, plan_kv_chunk  # noqa: F401
