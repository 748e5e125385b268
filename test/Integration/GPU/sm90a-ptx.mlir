// sm_90a assembly: the products run on the tensor cores (mma.sync m16n8k16
// with f32 accumulation), exp2/log2 on the SFU's approximate instructions,
// the row reductions on warp shuffles, and K/V tiles live in shared memory.
// format=isa stops at PTX, so this needs no CUDA toolkit.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t" -o /dev/null
// RUN: FileCheck %s --check-prefix=F16 < %t/attn_f16_d64_kernels.ptx
// RUN: FileCheck %s --check-prefix=BF16 < %t/attn_bf16_d128_kernels.ptx
// RUN: FileCheck %s --check-prefix=JSON < %t/attn_f16_d64_kernels.json

// F16: .version 8.0
// F16-NEXT: .target sm_90a
// F16: .visible .entry attn_f16_d64(
// F16-DAG: .shared .align {{[0-9]+}} .b8 __wg_attn_f16_d64_0[
// F16-DAG: .shared .align {{[0-9]+}} .b8 __wg_attn_f16_d64_1[
// F16-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// F16-DAG: ex2.approx.ftz.f32
// F16-DAG: lg2.approx.ftz.f32
// F16-DAG: shfl.sync.bfly.b32
// F16-DAG: bar.sync
// No libdevice calls: exp2/log2 are native.
// F16-NOT: __nv_

// BF16: .visible .entry attn_bf16_d128(
// BF16-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// BF16-DAG: ex2.approx.ftz.f32
// BF16-NOT: .f16.f16.f32

// JSON: "binary": "attn_f16_d64_kernels.ptx",
// JSON-NEXT: "format": "assembly",
// JSON: "target": "sm_90a",
// JSON-NEXT: "version": 1

func.func @attn_f16_d64(%q: tensor<?x8x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x8x64xf16>, %lse: tensor<?x8xf32>) -> (tensor<?x8x64xf16>, tensor<?x8xf32>) {
  %r:2 = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) outs(%o, %lse : tensor<?x8x64xf16>, tensor<?x8xf32>) -> tensor<?x8x64xf16>, tensor<?x8xf32>
  return %r#0, %r#1 : tensor<?x8x64xf16>, tensor<?x8xf32>
}

func.func @attn_bf16_d128(%q: tensor<?x8x128xbf16>, %k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %o: tensor<?x8x128xbf16>) -> tensor<?x8x128xbf16> {
  %r = attn.attention q(%q : tensor<?x8x128xbf16>) k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) outs(%o : tensor<?x8x128xbf16>) attributes {causal} -> tensor<?x8x128xbf16>
  return %r : tensor<?x8x128xbf16>
}
