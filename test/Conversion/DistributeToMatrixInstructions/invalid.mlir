// RUN: flashinfer-opt %s --pass-pipeline='builtin.module(gpu.module(attn-distribute-to-matrix-instructions))' -split-input-file -verify-diagnostics

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

gpu.module @kernels {
  // expected-error @+1 {{attn-distribute-to-matrix-instructions: unknown matrix instruction "mma.sync.m8n8k4"}}
  gpu.func @unknown() kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = "mma.sync.m8n8k4"} {
    gpu.return
  }
}

// -----

gpu.module @kernels {
  // expected-error @+1 {{attn-distribute-to-matrix-instructions: needs a known_block_size of whole 32-lane waves along x}}
  gpu.func @partial_wave() kernel attributes {known_block_size = array<i32: 48, 1, 1>, attn.matrix_instruction = "mma.sync.m16n8k16.f32.f16"} {
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  // expected-error @+1 {{attn-distribute-to-matrix-instructions: 24 rows do not split into 1 waves of 16-row tiles}}
  gpu.func @rows(%q: memref<24x16xf16>, %k: memref<8x16xf16>, %o: memref<24x8xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = "mma.sync.m16n8k16.f32.f16"} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<24x8xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<24x16xf16>, vector<24x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<8x16xf16>, vector<8x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<24x16xf16>, vector<8x16xf16> into vector<24x8xf32>
    vector.transfer_write %s, %o[%c0, %c0] {in_bounds = [true, true]} : vector<24x8xf32>, memref<24x8xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @rhs_in_registers(%q: memref<16x16xf16>, %o: memref<16x16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = "mma.sync.m16n8k16.f32.f16"} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = arith.constant dense<1.0> : vector<16x16xf16>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: the right-hand side must come from vector.transfer_read}}
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    vector.transfer_write %s, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @transpose(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = "mma.sync.m16n8k16.f32.f16"} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: has no distribution to lanes}}
    %t = vector.transpose %s, [1, 0] : vector<16x16xf32> to vector<16x16xf32>
    vector.transfer_write %t, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}
