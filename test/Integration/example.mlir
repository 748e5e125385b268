// The example that scripts/compile-example.sh compiles parses and verifies.
// RUN: flashinfer-opt %flashinfer_src/examples/attention_f16_d64.mlir | FileCheck %s

// CHECK-LABEL: func.func @attention_f16_d64(
// CHECK-SAME: tensor<?x32x64xf16>, %{{.*}}: tensor<?x8x64xf16>, %{{.*}}: tensor<?x8x64xf16>)
// CHECK: %[[R:.*]]:2 = attn.attention q(%{{.*}} : tensor<?x32x64xf16>) k(%{{.*}} : tensor<?x8x64xf16>) v(%{{.*}} : tensor<?x8x64xf16>) outs(%{{.*}}, %{{.*}} : tensor<?x32x64xf16>, tensor<?x32xf32>) -> tensor<?x32x64xf16>, tensor<?x32xf32>
// CHECK: return %[[R]]#0, %[[R]]#1
