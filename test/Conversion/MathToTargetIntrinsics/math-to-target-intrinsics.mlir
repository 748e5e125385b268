// RUN: flashinfer-opt %s --split-input-file --pass-pipeline="builtin.module(gpu.module(convert-math-to-target-intrinsics))" | FileCheck %s

// NVVM targets: f32 exp2/log2 become PTX's approximate instructions, f32
// exp/log the same with a scale; other types and other math ops are left
// alone.

// CHECK-LABEL: gpu.module @nvidia [#nvvm.target<chip = "sm_90a">]
// CHECK-LABEL: gpu.func @f(
// CHECK-SAME: %[[X:.*]]: f32, %[[Y:.*]]: f64, %[[H:.*]]: f16)
// CHECK-NEXT: %[[E:.*]] = llvm.inline_asm "ex2.approx.ftz.f32 $0, $1;", "=f,f" %[[X]] : (f32) -> f32
// CHECK-NEXT: %[[L:.*]] = llvm.inline_asm "lg2.approx.ftz.f32 $0, $1;", "=f,f" %[[E]] : (f32) -> f32
// CHECK-NEXT: %[[ED:.*]] = math.exp2 %[[Y]] : f64
// CHECK-NEXT: %[[LD:.*]] = math.log2 %[[ED]] : f64
// CHECK-NEXT: %[[EH:.*]] = math.exp2 %[[H]] : f16
// CHECK-NEXT: %[[LOG2E:.*]] = arith.constant 1.44269502 : f32
// CHECK-NEXT: %[[XS:.*]] = arith.mulf %[[L]], %[[LOG2E]] : f32
// CHECK-NEXT: %[[XE:.*]] = llvm.inline_asm "ex2.approx.ftz.f32 $0, $1;", "=f,f" %[[XS]] : (f32) -> f32
// CHECK-NEXT: %[[LN:.*]] = llvm.inline_asm "lg2.approx.ftz.f32 $0, $1;", "=f,f" %[[XE]] : (f32) -> f32
// CHECK-NEXT: %[[LN2:.*]] = arith.constant 0.693147182 : f32
// CHECK-NEXT: %[[XL:.*]] = arith.mulf %[[LN]], %[[LN2]] : f32
// CHECK-NEXT: %[[T:.*]] = math.tanh %[[XL]] : f32
// CHECK-NEXT: gpu.return %[[T]], %[[LD]], %[[EH]]
gpu.module @nvidia [#nvvm.target<chip = "sm_90a">] {
  gpu.func @f(%x: f32, %y: f64, %h: f16) -> (f32, f64, f16) {
    %e = math.exp2 %x : f32
    %l = math.log2 %e : f32
    %ed = math.exp2 %y : f64
    %ld = math.log2 %ed : f64
    %eh = math.exp2 %h : f16
    %xe = math.exp %l : f32
    %xl = math.log %xe : f32
    %t = math.tanh %xl : f32
    gpu.return %t, %ld, %eh : f32, f64, f16
  }
}

// -----

// ROCDL targets: v_exp_f32 / v_log_f32 through the ROCDL intrinsics.

// CHECK-LABEL: gpu.module @amd [#rocdl.target<chip = "gfx942">]
// CHECK-LABEL: gpu.func @f(
// CHECK-SAME: %[[X:.*]]: f32, %[[Y:.*]]: f64)
// CHECK-NEXT: %[[E:.*]] = rocdl.exp2 %[[X]] f32 -> f32
// CHECK-NEXT: %[[L:.*]] = rocdl.log %[[E]] f32 -> f32
// CHECK-NEXT: %[[ED:.*]] = math.exp2 %[[Y]] : f64
// CHECK-NEXT: %[[LD:.*]] = math.log2 %[[ED]] : f64
// CHECK-NEXT: gpu.return %[[L]], %[[LD]]
gpu.module @amd [#rocdl.target<chip = "gfx942">] {
  gpu.func @f(%x: f32, %y: f64) -> (f32, f64) {
    %e = math.exp2 %x : f32
    %l = math.log2 %e : f32
    %ed = math.exp2 %y : f64
    %ld = math.log2 %ed : f64
    gpu.return %l, %ld : f32, f64
  }
}
