#!/usr/bin/env python3
"""Host cost of packing a launch's arguments (flashinfer_mlir.runtime's
Kernel._pack, which every eager API call runs once per launch sequence):
seven arguments as the RoPE sequence takes them (five tensors, two f32
values), with a stand-in tensor type, so it runs without a GPU or PyTorch.

  python3 scripts/bench_runtime_pack.py
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from flashinfer_mlir import runtime  # noqa: E402


class _Device:
    type = "cuda"


class _Dtype:
    def __str__(self):
        return "torch.bfloat16"


class FakeTensor:
    """What _pack reads of a torch.Tensor."""

    def __init__(self, shape):
        self.shape, self.device, self.dtype = shape, _Device(), _Dtype()

    def data_ptr(self):
        return 1 << 20

    def stride(self):
        return (4096, 128, 1)[-len(self.shape):]


# _is_torch_tensor goes by the type's module.
FakeTensor.__module__ = "torch.stand_in"


class Packer:
    name = "rope"
    arg_names = ["input", "pos_ids", "output", "rope_scale", "rope_theta",
                 "input_1", "output_1"]
    _label = runtime.Kernel._label
    _pack = runtime.Kernel._pack
    _fill_tensor = runtime.Kernel._fill_tensor


def main():
    args = [FakeTensor((64, 32, 128)), FakeTensor((64,)),
            FakeTensor((64, 32, 128)), 1.0, 5e5, FakeTensor((64, 8, 128)),
            FakeTensor((64, 8, 128))]
    packer = Packer()
    for _ in range(1000):
        packer._pack(args)
    n = 20000
    start = time.perf_counter()
    for _ in range(n):
        packer._pack(args)
    print(f"Kernel._pack of 7 arguments: "
          f"{(time.perf_counter() - start) / n * 1e6:.2f} us a call")


if __name__ == "__main__":
    main()
