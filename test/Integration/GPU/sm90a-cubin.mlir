// REQUIRES: ptxas
// format=bin (the default) assembles the PTX with ptxas into a cubin: an
// ELF of machine EM_CUDA (190) for sm_90a holding the kernel symbol, next to
// its manifest.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=sm_90a o-dir=%t" -o /dev/null
// RUN: ls %t | FileCheck %s --check-prefix=FILES
// RUN: llvm-readelf -h -s %t/attn_kernels.cubin | FileCheck %s --check-prefix=ELF
// RUN: FileCheck %s --check-prefix=JSON < %t/attn_kernels.json

// FILES: attn_kernels.cubin
// FILES-NEXT: attn_kernels.json
// FILES-NOT: {{.}}

// ELF: Class: ELF64
// ELF: Machine: NVIDIA CUDA architecture
// ELF: Flags: {{.*}}sm_90
// ELF: FUNC {{.*}} attn{{$}}

// JSON: "binary": "attn_kernels.cubin",
// JSON-NEXT: "format": "binary",
// JSON: "name": "attn",
// JSON: "target": "sm_90a",

func.func @attn(%q: tensor<?x4x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %o: tensor<?x4x64xf16>) -> tensor<?x4x64xf16> {
  %r = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) outs(%o : tensor<?x4x64xf16>) -> tensor<?x4x64xf16>
  return %r : tensor<?x4x64xf16>
}
