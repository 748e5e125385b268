// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" -split-input-file | FileCheck %s

// ALiBi with given slopes: the kernel takes them after its outputs, reads
// each row's slope before the key loops, and every step's score function
// starts with the bias slope * (kv_idx - q_idx). Sinks join in the
// epilogue (no split here).

// CHECK-LABEL: attn.kernel_manifest @prefill_kernels
// CHECK-SAME: arguments = ["q", "k", "v", "o", "alibi_slopes", "sinks"]
// CHECK-SAME: name = "alibi_slopes"
// CHECK-SAME: name = "sinks"
// CHECK-SAME: alibi_slopes = "argument"
// CHECK-SAME: sinks = true
// CHECK: gpu.func @prefill(%{{.*}}: memref<?x8x64xf16, strided<[?, ?, 1]>>, %{{.*}}, %{{.*}}, %{{.*}}: memref<?x8x64xf16, strided<[?, ?, 1]>>, %[[SLOPES:.*]]: memref<8xf32>, %[[SINKS:.*]]: memref<8xf32>) kernel
// CHECK: %[[HEAD:.*]] = gpu.block_id  y
// CHECK: %[[SLOPE:.*]] = memref.load %[[SLOPES]][%[[HEAD]]] : memref<8xf32>
// CHECK: %[[ROWS:.*]] = vector.broadcast %[[SLOPE]] : f32 to vector<256xf32>
// CHECK: attn.online_attention_step {{.*}} row_values(%[[ROWS]] : vector<256xf32>) score_mod {
// CHECK-NEXT: ^bb0(%[[S:.*]]: f32, %{{.*}}: index, %{{.*}}: index, %[[QI:.*]]: index, %[[KI:.*]]: index, %[[SL:.*]]: f32):
// CHECK-NEXT: %[[D:.*]] = arith.subi %[[KI]], %[[QI]] : index
// CHECK-NEXT: %[[DI:.*]] = arith.index_cast %[[D]] : index to i32
// CHECK-NEXT: %[[DF:.*]] = arith.sitofp %[[DI]] : i32 to f32
// CHECK-NEXT: %[[B:.*]] = arith.mulf %[[SL]], %[[DF]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.addf %[[S]], %[[B]] : f32
// CHECK-NEXT: attn.yield %[[R]] : f32
// The epilogue: the sink, in log2 units, as one more state.
// CHECK: %[[SINK:.*]] = memref.load %[[SINKS]][%[[HEAD]]] : memref<8xf32>
// CHECK: arith.maximumf
func.func @prefill(%q: tensor<?x8x64xf16>, %k: tensor<?x8x64xf16>, %v: tensor<?x8x64xf16>, %s: tensor<8xf32>, %sinks: tensor<8xf32>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %r = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x64xf16>) alibi_slopes(%s : tensor<8xf32>) sinks(%sinks : tensor<8xf32>) outs(%o : tensor<?x8x64xf16>) attributes {causal, pos_encoding = #attn.pos_encoding<alibi>} -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}

// -----

// Decode (split-KV): the packed rows are the heads of one KV head, so the
// default slopes are computed per row from the heads vector; the sinks go
// to the merge kernel, which counts them once.

// CHECK-LABEL: attn.kernel_manifest @decode_kernels
// CHECK: gpu.func @decode(
// CHECK-NOT: memref<32xf32>
// CHECK-SAME: kernel
// CHECK: %[[STEP:.*]] = vector.step : vector<16xindex>
// CHECK: %[[HEADS:.*]] = arith.addi %[[STEP]], %{{.*}} : vector<16xindex>
// CHECK: %[[H32:.*]] = arith.index_cast %[[HEADS]] : vector<16xindex> to vector<16xi32>
// CHECK: %[[SLOPES:.*]] = math.exp2 %{{.*}} : vector<16xf32>
// CHECK: attn.online_attention_step {{.*}} query_heads(%[[HEADS]] : vector<16xindex>) row_values(%[[SLOPES]] : vector<16xf32>) score_mod
// CHECK: gpu.func @decode_merge({{.*}}, %[[SINKS:.*]]: memref<32xf32>) kernel
// CHECK: memref.load %[[SINKS]]
func.func @decode(%q: tensor<1x32x128xbf16>, %k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %sinks: tensor<32xf32>, %o: tensor<1x32x128xbf16>) -> tensor<1x32x128xbf16> {
  %r = attn.attention q(%q : tensor<1x32x128xbf16>) k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) sinks(%sinks : tensor<32xf32>) outs(%o : tensor<1x32x128xbf16>) attributes {pos_encoding = #attn.pos_encoding<alibi>} -> tensor<1x32x128xbf16>
  return %r : tensor<1x32x128xbf16>
}

// -----

// A mask function: one key loop, every tile masked; the step carries the
// user's region as it is.

// CHECK-LABEL: attn.kernel_manifest @masked_kernels
// CHECK-SAME: mask_mod = true
// CHECK: gpu.func @masked(
// CHECK: scf.for
// CHECK: attn.online_attention_step {{.*}} mask_mod {
// CHECK: arith.cmpi slt
// CHECK: {{.*}}masked
// CHECK-NOT: scf.for
// CHECK: gpu.return
func.func @masked(%q: tensor<?x4x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %o: tensor<?x4x64xf16>) -> tensor<?x4x64xf16> {
  %r = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) outs(%o : tensor<?x4x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %c48 = arith.constant 48 : index
    %prefix = arith.cmpi slt, %ki, %c48 : index
    attn.yield %prefix : i1
  } -> tensor<?x4x64xf16>
  return %r : tensor<?x4x64xf16>
}

// -----

// One request's custom mask: the kernel takes its bytes after the output;
// every tile is masked, and the steps read bit (p - (kv_len - qo_len)) *
// kv_len + kv_idx for the row at position p.

// CHECK-LABEL: attn.kernel_manifest @custom_kernels
// CHECK-SAME: name = "custom_mask"
// CHECK-SAME: custom_mask = true
// CHECK: gpu.func @custom({{.*}}, %[[BITS:.*]]: memref<?xi8>) kernel
// CHECK: %[[QO:.*]] = memref.dim %{{.*}}, %c0
// CHECK: %[[KV:.*]] = memref.dim %{{.*}}, %c0
// CHECK: %[[OFF:.*]] = arith.subi %[[KV]], %[[QO]] : index
// CHECK: %[[ROW:.*]] = arith.muli %[[OFF]], %[[KV]] : index
// CHECK: %[[FIRST:.*]] = arith.subi %c0{{.*}}, %[[ROW]] : index
// CHECK: scf.for
// CHECK: attn.online_attention_step {{.*}} custom_mask(%[[BITS]][%[[FIRST]], %[[KV]]] : memref<?xi8>) {{.*}}masked
// CHECK-NOT: scf.for
// CHECK: gpu.return
func.func @custom(%q: tensor<?x4x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %m: tensor<?xi8>, %o: tensor<?x4x64xf16>) -> tensor<?x4x64xf16> {
  %r = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) custom_mask(%m : tensor<?xi8>) outs(%o : tensor<?x4x64xf16>) -> tensor<?x4x64xf16>
  return %r : tensor<?x4x64xf16>
}

// -----

// A batch's custom mask: the requests' masks follow each other, so a work
// item's first bit is the sum of qo_len * kv_len over the earlier requests,
// a loop over them in the prologue.

// CHECK-LABEL: attn.kernel_manifest @ragged_custom_kernels
// CHECK: gpu.func @ragged_custom(
// CHECK: %[[BASE:.*]] = scf.for %{{.*}} = %c0{{.*}} to %{{.*}} step %c1{{.*}} iter_args(%[[SUM:.*]] = %c0{{.*}}) -> (index) {
// CHECK: %[[PAIR:.*]] = arith.muli
// CHECK: %[[NEXT:.*]] = arith.addi %[[SUM]], %[[PAIR]] : index
// CHECK: scf.yield %[[NEXT]] : index
// CHECK: %[[FIRST:.*]] = arith.subi %[[BASE]], %{{.*}} : index
// CHECK: attn.online_attention_step {{.*}} custom_mask(%{{.*}}[%[[FIRST]], %{{.*}}] : memref<?xi8>)
func.func @ragged_custom(%q: tensor<?x4x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %qo: tensor<?xi32>, %kv: tensor<?xi32>, %m: tensor<?xi8>, %o: tensor<?x4x64xf16>) -> tensor<?x4x64xf16> {
  %r = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) qo_indptr(%qo : tensor<?xi32>) kv_indptr(%kv : tensor<?xi32>) custom_mask(%m : tensor<?xi8>) outs(%o : tensor<?x4x64xf16>) -> tensor<?x4x64xf16>
  return %r : tensor<?x4x64xf16>
}
