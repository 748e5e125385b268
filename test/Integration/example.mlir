// The example that scripts/compile-example.sh compiles parses and verifies,
// lowers for the CPU, and is a valid GPU kernel interface (every operand an
// argument of the function).
// RUN: flashinfer-opt %flashinfer_src/examples/attention_f16_d64.mlir | FileCheck %s
// RUN: flashinfer-opt %flashinfer_src/examples/attention_f16_d64.mlir --attn-cpu-pipeline | FileCheck %s --check-prefix=CPU
// RUN: flashinfer-opt %flashinfer_src/examples/attention_f16_d64.mlir --convert-attn-to-gpu="chip=sm_90a" | FileCheck %s --check-prefix=GPU

// CHECK-LABEL: func.func @attention_f16_d64(
// CHECK-SAME: %[[Q:.*]]: tensor<?x32x64xf16>, %[[K:.*]]: tensor<?x8x64xf16>, %[[V:.*]]: tensor<?x8x64xf16>, %[[O:.*]]: tensor<?x32x64xf16>, %[[LSE:.*]]: tensor<?x32xf32>)
// CHECK-NEXT: %[[R:.*]]:2 = attn.attention q(%[[Q]] : tensor<?x32x64xf16>) k(%[[K]] : tensor<?x8x64xf16>) v(%[[V]] : tensor<?x8x64xf16>) outs(%[[O]], %[[LSE]] : tensor<?x32x64xf16>, tensor<?x32xf32>) -> tensor<?x32x64xf16>, tensor<?x32xf32>
// CHECK-NEXT: return %[[R]]#0, %[[R]]#1

// CPU: llvm.func @attention_f16_d64(
// CPU-NOT: attn.

// GPU: attn.kernel_manifest @attention_f16_d64_kernels {{.*}}name = "attention_f16_d64"{{.*}}num_kv_heads = 8 : i64, num_qo_heads = 32 : i64
// GPU: gpu.func @attention_f16_d64(%{{.*}}: memref<?x32x64xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x8x64xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x8x64xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x32x64xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x32xf32, strided<[?, 1]>>) kernel attributes {attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">
