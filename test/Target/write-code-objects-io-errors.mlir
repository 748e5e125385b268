// attn-write-code-objects reports files and folders it cannot write.

// The output folder cannot be created: its parent is a regular file.
// RUN: rm -rf %t && mkdir -p %t && touch %t/file
// RUN: not flashinfer-opt %s --attn-write-code-objects="o-dir=%t/file/sub" 2>&1 | FileCheck %s --check-prefix=DIR
// DIR: error: attn-write-code-objects: cannot create '{{.*}}file{{/|\\}}sub': Not a directory

// A code object path that is taken by a folder.
// RUN: mkdir -p %t/taken/good_kernels.cubin
// RUN: not flashinfer-opt %s --attn-write-code-objects="o-dir=%t/taken" 2>&1 | FileCheck %s --check-prefix=FILE
// FILE: error: attn-write-code-objects: cannot write '{{.*}}taken{{/|\\}}good_kernels.cubin': Is a directory
module {
  attn.kernel_manifest @good_kernels {arguments = [], kernels = [#attn.kernel<args = [], block = [1, 1, 1], grid = [1, 1, 1], name = "g", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [], target = "sm_90a"}
  gpu.binary @good_kernels [#gpu.object<#nvvm.target<chip = "sm_90a">, bin = "X">]
}
