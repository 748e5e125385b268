// Failures of attn-write-code-objects: each is a diagnostic and a non-zero
// exit.

// A gpu.binary that convert-attn-to-gpu did not record.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not flashinfer-opt %s --split-input-file --attn-write-code-objects="o-dir=%t/ok" 2>&1 | FileCheck %s

// CHECK: error: attn-write-code-objects: no kernels were recorded for 'unrecorded' (was it made by convert-attn-to-gpu?)
module {
  gpu.binary @recorded [#gpu.object<#nvvm.target<chip = "sm_90a">, bin = "X">]
  attn.kernel_manifest @recorded {arguments = [], kernels = [#attn.kernel<args = [], block = [1, 1, 1], grid = [1, 1, 1], name = "r", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [], target = "sm_90a"}
  gpu.binary @unrecorded [#gpu.object<#nvvm.target<chip = "sm_90a">, bin = "X">]
}

// -----

// No manifest at all.
// CHECK: error: attn-write-code-objects: no kernels were recorded for 'bare'
gpu.binary @bare [#gpu.object<#rocdl.target<chip = "gfx942">, bin = "X">]

// -----

// Only NVVM and ROCDL objects have a launch runtime.
// CHECK: error: attn-write-code-objects: only NVVM and ROCDL targets are supported
module {
  attn.kernel_manifest @xe {arguments = [], kernels = [#attn.kernel<args = [], block = [1, 1, 1], grid = [1, 1, 1], name = "x", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [], target = "sm_90a"}
  gpu.binary @xe [#gpu.object<#xevm.target, bin = "X">]
}

// -----

// Offload (LLVM IR) objects are not code objects.
// CHECK: error: attn-write-code-objects: expected format=bin or format=isa from gpu-module-to-binary
module {
  attn.kernel_manifest @llvm_ir {arguments = [], kernels = [#attn.kernel<args = [], block = [1, 1, 1], grid = [1, 1, 1], name = "x", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [], target = "sm_90a"}
  gpu.binary @llvm_ir [#gpu.object<#nvvm.target<chip = "sm_90a">, offload = "X">]
}
