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

// -----

// sin and cos are reduced to one period first: t = x / (2 pi) rounded to
// the nearest even integer's remainder, then PTX's approximate instructions
// on 2 pi t (NVVM), or the ROCDL ones on the turns t (AMD). Vectors are
// lowered element by element.

// CHECK-LABEL: gpu.module @nvidia_trig [#nvvm.target<chip = "sm_90a">]
// CHECK-LABEL: gpu.func @f(
// CHECK-SAME: %[[X:.*]]: f32, %[[V:.*]]: vector<2xf32>)
// CHECK-NEXT: %[[INV:.*]] = arith.constant 0.159154937 : f32
// CHECK-NEXT: %[[T0:.*]] = arith.mulf %[[X]], %[[INV]] : f32
// CHECK-NEXT: %[[W:.*]] = llvm.inline_asm "cvt.rni.f32.f32 $0, $1;", "=f,f" %[[T0]] : (f32) -> f32
// CHECK-NEXT: %[[T:.*]] = arith.subf %[[T0]], %[[W]] : f32
// CHECK-NEXT: %[[TWOPI:.*]] = arith.constant 6.28318548 : f32
// CHECK-NEXT: %[[R:.*]] = arith.mulf %[[T]], %[[TWOPI]] : f32
// CHECK-NEXT: %[[S:.*]] = llvm.inline_asm "sin.approx.ftz.f32 $0, $1;", "=f,f" %[[R]] : (f32) -> f32
// CHECK-NEXT: %[[V0:.*]] = vector.extract %[[V]][0] : f32 from vector<2xf32>
// CHECK:      llvm.inline_asm "cos.approx.ftz.f32 $0, $1;"
// CHECK:      %[[V1:.*]] = vector.extract %[[V]][1] : f32 from vector<2xf32>
// CHECK:      llvm.inline_asm "cos.approx.ftz.f32 $0, $1;"
// CHECK:      %[[C:.*]] = vector.from_elements %{{.*}}, %{{.*}} : vector<2xf32>
// CHECK-NEXT: %[[E0:.*]] = vector.extract %[[C]][0] : f32 from vector<2xf32>
// CHECK-NEXT: %[[E0X:.*]] = llvm.inline_asm "ex2.approx.ftz.f32 $0, $1;", "=f,f" %[[E0]] : (f32) -> f32
// CHECK-NEXT: %[[E1:.*]] = vector.extract %[[C]][1] : f32 from vector<2xf32>
// CHECK-NEXT: %[[E1X:.*]] = llvm.inline_asm "ex2.approx.ftz.f32 $0, $1;", "=f,f" %[[E1]] : (f32) -> f32
// CHECK-NEXT: %[[E:.*]] = vector.from_elements %[[E0X]], %[[E1X]] : vector<2xf32>
// CHECK-NEXT: gpu.return %[[S]], %[[E]]
gpu.module @nvidia_trig [#nvvm.target<chip = "sm_90a">] {
  gpu.func @f(%x: f32, %v: vector<2xf32>) -> (f32, vector<2xf32>) {
    %s = math.sin %x : f32
    %c = math.cos %v : vector<2xf32>
    %e = math.exp2 %c : vector<2xf32>
    gpu.return %s, %e : f32, vector<2xf32>
  }
}

// -----

// CHECK-LABEL: gpu.module @amd_trig [#rocdl.target<chip = "gfx942">]
// CHECK-LABEL: gpu.func @f(
// CHECK-SAME: %[[X:.*]]: f32)
// CHECK-NEXT: %[[INV:.*]] = arith.constant 0.159154937 : f32
// CHECK-NEXT: %[[T0:.*]] = arith.mulf %[[X]], %[[INV]] : f32
// CHECK-NEXT: %[[W:.*]] = llvm.intr.roundeven(%[[T0]]) : (f32) -> f32
// CHECK-NEXT: %[[T:.*]] = arith.subf %[[T0]], %[[W]] : f32
// CHECK-NEXT: %[[S:.*]] = rocdl.sin %[[T]] f32 -> f32
// CHECK:      %[[C:.*]] = rocdl.cos %{{.*}} f32 -> f32
// CHECK-NEXT: gpu.return %[[S]], %[[C]]
gpu.module @amd_trig [#rocdl.target<chip = "gfx942">] {
  gpu.func @f(%x: f32) -> (f32, f32) {
    %s = math.sin %x : f32
    %c = math.cos %x : f32
    gpu.return %s, %c : f32, f32
  }
}
