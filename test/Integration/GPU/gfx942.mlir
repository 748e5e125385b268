// REQUIRES: lld
// gfx942 code object: the products run on v_mfma_f32_16x16x16 (f16 and
// bf16), K/V tiles come in through 16-byte buffer loads (global memory is
// read through buffer descriptors), the kernel is wave64 and keeps
// everything in registers (no private segment, no spills), its LDS size is
// what the manifest declares, and the barriers that only order LDS accesses
// are LDS-only barriers.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t" --mlir-print-ir-before=gpu-module-to-binary -o /dev/null 2> %t.llvm.mlir
// RUN: FileCheck %s --check-prefix=LLVM < %t.llvm.mlir
// RUN: llvm-objdump -d --mcpu=gfx942 %t/attn_f16_kernels.hsaco | grep -B1 s_barrier | FileCheck %s --check-prefix=BARRIER
// RUN: llvm-objdump -d --mcpu=gfx942 %t/attn_f16_kernels.hsaco | FileCheck %s --check-prefix=F16
// RUN: llvm-objdump -d --mcpu=gfx942 %t/attn_bf16_kernels.hsaco | FileCheck %s --check-prefix=BF16
// RUN: cat %t/attn_f16_kernels.json > %t/f16.log
// RUN: llvm-readelf -h --notes %t/attn_f16_kernels.hsaco >> %t/f16.log
// RUN: FileCheck %s --check-prefix=NOTES < %t/f16.log

// F16: <attn_f16>:
// F16-NOT: {{global|flat}}_load
// F16: buffer_load_dwordx4
// F16: v_mfma_f32_16x16x16_f16
// F16-NOT: v_mfma_f32_16x16x16_bf16
// F16: s_endpgm

// BF16: <attn_bf16>:
// BF16: v_mfma_f32_16x16x16_bf16
// BF16: s_endpgm

// Each key loop's first barrier only separates the previous tile's LDS reads
// from the next tile's LDS writes: gpu-barriers-to-amdgpu-lds-barriers makes
// it an amdgpu.lds_barrier, whose fences are restricted to LDS. The second
// is kept whole, because the loop can exit into the global stores of O and
// lse.
// LLVM: #[[LOCAL:.*]] = #llvm.mmra_tag<"amdgpu-synchronize-as":"local">
// LLVM-LABEL: llvm.func @attn_f16(
// LLVM: llvm.fence syncscope("workgroup") release {llvm.mmra = #[[LOCAL]]}
// LLVM-NEXT: rocdl.s.barrier
// LLVM-NEXT: llvm.fence syncscope("workgroup") acquire {llvm.mmra = #[[LOCAL]]}
// LLVM: rocdl.barrier
// LLVM-LABEL: llvm.func @attn_bf16(

// No barrier waits for global memory (vmcnt) right before it. Outside
// threadgroup-split mode gfx942 needs no such wait for either barrier form,
// so this holds with or without the rewrite; LLVM above tells them apart.
// BARRIER-NOT: vmcnt
// BARRIER: s_barrier
// BARRIER-NOT: vmcnt

// NOTES: "static_shared_memory": [[#LDS:]]
// NOTES: "target": "gfx942",
// NOTES: Machine: EM_AMDGPU
// NOTES: amdhsa.kernels:
// NOTES: .group_segment_fixed_size: [[#LDS]]
// NOTES: .name: attn_f16
// NOTES: .private_segment_fixed_size: 0
// NOTES: .sgpr_spill_count: 0
// NOTES: .symbol: attn_f16.kd
// NOTES: .vgpr_spill_count: 0
// NOTES: .wavefront_size: 64
// NOTES: amdhsa.target: amdgcn-amd-amdhsa--gfx942

func.func @attn_f16(%q: tensor<?x8x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x8x64xf16>, %lse: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  %r:2 = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) outs(%o, %lse : tensor<?x8x64xf16>, tensor<?x8xf32>) attributes {causal} -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %r#0, %r#1 : tensor<?x8x64xf16>, tensor<?x8xf32>
}

func.func @attn_bf16(%q: tensor<?x8x128xbf16>, %k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %o: tensor<?x8x128xbf16>) -> tensor<?x8x128xbf16> {
  %r = attn.attention q(%q : tensor<?x8x128xbf16>) k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) outs(%o : tensor<?x8x128xbf16>) -> tensor<?x8x128xbf16>
  return %r : tensor<?x8x128xbf16>
}
