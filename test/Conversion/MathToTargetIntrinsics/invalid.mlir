// RUN: flashinfer-opt %s --split-input-file -verify-diagnostics --pass-pipeline="builtin.module(gpu.module(convert-math-to-target-intrinsics))"

// The instruction choice needs the vendor: a module without an NVVM or ROCDL
// target is an error, not a silent no-op.

// expected-error @below {{convert-math-to-target-intrinsics: the gpu.module has no NVVM or ROCDL target; run nvvm-attach-target or rocdl-attach-target first}}
gpu.module @untargeted {
  gpu.func @f(%x: f32) -> f32 {
    %e = math.exp2 %x : f32
    gpu.return %e : f32
  }
}

// -----

// Only scalars and fixed 1-D vectors are lowered element by element.

gpu.module @matrix [#nvvm.target<chip = "sm_90a">] {
  gpu.func @f(%x: vector<2x2xf32>) -> vector<2x2xf32> {
    // expected-error @below {{convert-math-to-target-intrinsics: expected a scalar or a fixed 1-D vector}}
    %e = math.exp2 %x : vector<2x2xf32>
    gpu.return %e : vector<2x2xf32>
  }
}
