#!/usr/bin/env python3
"""End-to-end check of the launch runtime on an NVIDIA GPU (not run by lit).

Compiles two small CUDA kernels that follow the runtime's kernel ABI (MLIR
memref descriptors) to a cubin with nvcc, writes a manifest, and launches them
through flashinfer_mlir.runtime with torch tensors and with runtime-allocated
memory. Needs nvcc, torch with CUDA, and libflashinfer_runtime.so (found as
flashinfer_mlir.runtime finds it).

    python3 test/Runtime/gpu_smoke.py [--arch sm_90a]
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

import torch  # noqa: E402

from flashinfer_mlir.runtime import Context, DeviceTensor, Module  # noqa: E402

KERNELS = r"""
#define MEMREF2(T, n) T *n##_alloc, T *n, long long n##_off, long long n##_s0, \
    long long n##_s1, long long n##_st0, long long n##_st1
#define MEMREF3(T, n) T *n##_alloc, T *n, long long n##_off, long long n##_s0, \
    long long n##_s1, long long n##_s2, long long n##_st0, long long n##_st1, \
    long long n##_st2

// o = alpha * a + beta, staged through the far end of 64 KiB of dynamic
// shared memory so the launch fails unless the opt-in attribute was set.
extern "C" __global__ void scale_add(MEMREF2(const float, a), MEMREF2(float, o),
                                     float alpha, int beta) {
  extern __shared__ float smem[];
  long long row = blockIdx.y;
  long long col = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  bool in = row < a_s0 && col < a_s1;
  float v = in ? a[a_off + row * a_st0 + col * a_st1] : 0.0f;
  smem[16383 - threadIdx.x] = alpha * v + (float)beta;
  __syncthreads();
  if (in)
    o[o_off + row * o_st0 + col * o_st1] = smem[16383 - threadIdx.x];
}

// o[i, j, k] = base + i * 10000 + j * 100 + k, one block per (i, j).
extern "C" __global__ void iota3(MEMREF3(int, o), long long base) {
  long long i = blockIdx.x / o_s1, j = blockIdx.x % o_s1;
  for (long long k = threadIdx.x; k < o_s2; k += blockDim.x)
    o[o_off + i * o_st0 + j * o_st1 + k * o_st2] =
        (int)(base + i * 10000 + j * 100 + k);
}
"""


def manifest(target, binary, extra_kernels=(), scale_add_shmem=65536):
    kernels = [
        {
            "name": "scale_add",
            "op": "test.scale_add",
            "params": {"staged": True},
            "block": [128, 1, 1],
            "grid": [{"ceil_div": ["a", 1, 128]}, {"dim": ["a", 0]}, 1],
            "dynamic_shared_memory": scale_add_shmem,
            "args": [
                {"name": "a", "kind": "memref", "dtype": "f32", "rank": 2},
                {"name": "o", "kind": "memref", "dtype": "f32", "rank": 2},
                {"name": "alpha", "kind": "scalar", "dtype": "f32"},
                {"name": "beta", "kind": "scalar", "dtype": "i32"},
            ],
        },
        {
            "name": "iota3",
            "block": [64],
            "grid": [{"mul": [{"dim": ["o", 0]}, {"dim": ["o", 1]}]}],
            "args": [
                {"name": "o", "kind": "memref", "dtype": "i32", "rank": 3},
                {"name": "base", "kind": "scalar", "dtype": "i64"},
            ],
        },
    ]
    kernels.extend(extra_kernels)
    return {"version": 1, "target": target, "binary": binary, "kernels": kernels}


def write_manifest(directory, name, content):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(content, f, indent=2)
    return path


def expect_error(fn, needle):
    try:
        fn()
    except RuntimeError as e:
        assert needle in str(e), f"expected {needle!r} in {str(e)!r}"
        print(f"  ok: error: {e}")
        return
    raise AssertionError(f"expected RuntimeError containing {needle!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="sm_90a")
    args = parser.parse_args()

    nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    work = tempfile.mkdtemp(prefix="fimlir-smoke-")
    src = os.path.join(work, "kernels.cu")
    with open(src, "w") as f:
        f.write(KERNELS)
    subprocess.run([nvcc, "-cubin", f"-arch={args.arch}", "-O2", "-o",
                    os.path.join(work, "kernels.cubin"), src], check=True)
    good = write_manifest(work, "kernels.json",
                          manifest(args.arch, "kernels.cubin"))

    mod = Module(good)
    print(f"loaded {mod.kernel_names} for {mod.target}")
    k = mod.kernel("scale_add")
    assert k.arg_names == ["a", "o", "alpha", "beta"] and k.params == {"staged": True}

    # Non-contiguous input (a transposed view): strides reach the kernel.
    a = torch.randn(300, 37, device="cuda").t()
    o = torch.empty(37, 300, device="cuda")
    info = k.info(a, o, 2.0, 3)
    assert info == {"grid": (3, 37, 1), "block": (128, 1, 1),
                    "dynamic_shared_memory": 65536}, info
    k(a, o, 2.0, 3)
    torch.cuda.synchronize()
    assert torch.allclose(o, 2.0 * a + 3), "scale_add result"
    print("  ok: scale_add with a strided view and 64 KiB dynamic shared memory")

    # An explicit stream, and an integer where a float is expected.
    s = torch.cuda.Stream()
    o2 = torch.empty_like(o)
    with torch.cuda.stream(s):
        a2 = a.contiguous()
    k(a2, o2, 1, -1, stream=s)
    s.synchronize()
    assert torch.allclose(o2, a - 1), "scale_add on a side stream"
    print("  ok: launch on a side stream")

    # Empty input: nothing launched.
    k(torch.empty(0, 5, device="cuda"), torch.empty(0, 5, device="cuda"), 1.0, 0)
    print("  ok: empty grid")

    expect_error(lambda: k(a, o, 2.0), "expected 4 arguments, got 3")
    expect_error(lambda: k(a, 2.0, o, 3),
                 "argument 1 'o': expected memref of rank 2, got scalar")
    expect_error(lambda: k(a.half(), o, 2.0, 3),
                 "argument 0 'a': expected dtype f32, got f16")
    expect_error(lambda: k(a.cpu(), o, 2.0, 3), "tensor is on cpu")
    expect_error(lambda: k(a, o, 2.5, 1 << 40), "does not fit in i32")
    expect_error(lambda: mod.kernel("nope"), "no kernel 'nope' in the manifest")

    # iota3 with runtime-allocated memory and a permuted 3-D view.
    ctx = mod.context
    shape = (3, 4, 70)
    nbytes = 4 * shape[0] * shape[1] * shape[2]
    ptr = ctx.malloc(nbytes)
    ctx.memset(ptr, 0xFF, nbytes)
    view = DeviceTensor.contiguous(ptr, shape, "i32")
    iota = mod.kernel("iota3")
    assert iota.info(view, 5)["grid"] == (12, 1, 1)
    iota(view, 5)
    ctx.synchronize()
    host = bytearray(nbytes)
    ctx.memcpy_d2h(host, ptr, nbytes)
    values = struct.unpack(f"{nbytes // 4}i", host)
    expected = [5 + i * 10000 + j * 100 + kk for i in range(3)
                for j in range(4) for kk in range(70)]
    assert list(values) == expected, "iota3 result"
    ctx.free(ptr)
    t = torch.zeros(70, 4, 3, dtype=torch.int32, device="cuda").permute(2, 1, 0)
    iota(t, 0)
    torch.cuda.synchronize()
    ref = torch.tensor(expected, dtype=torch.int32).view(3, 4, 70) - 5
    assert torch.equal(t.cpu(), ref), "iota3 on a permuted view"
    print("  ok: iota3 with runtime memory and with a permuted torch view")

    # Load-time errors.
    major, minor = torch.cuda.get_device_capability()
    wrong = "sm_80" if major != 8 else "sm_90a"
    expect_error(lambda: Module(write_manifest(
        work, "wrong.json", manifest(wrong, "kernels.cubin"))),
        f"code object targets {wrong}")
    expect_error(lambda: Module(write_manifest(
        work, "missing.json", manifest(args.arch, "kernels.cubin", [
            {"name": "nope", "block": [1], "grid": [1], "args": []}]))),
        "kernel 'nope' is not in the code object: CUDA_ERROR_NOT_FOUND")
    expect_error(lambda: Module(write_manifest(
        work, "gfx.json", manifest("gfx942", "kernels.cubin"))),
        "manifest target 'gfx942' does not match the code object, which is a CUDA cubin")
    # Too much shared memory: the driver refuses the opt-in.
    big = Module(write_manifest(work, "big.json", manifest(
        args.arch, "kernels.cubin", scale_add_shmem=1 << 20)))
    expect_error(lambda: big.kernel("scale_add")(a, o, 1.0, 0),
                 "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES=1048576) "
                 "for 'scale_add' failed: CUDA_ERROR_INVALID_VALUE")
    # The context is still usable after a failed launch.
    k(a, o, 1.0, 0)
    torch.cuda.synchronize()
    assert torch.allclose(o, a)
    mod.close()
    expect_error(lambda: k(a, o, 1.0, 0), "is closed")
    print("gpu smoke test passed")


if __name__ == "__main__":
    main()
