// RUN: flashinfer-opt %s --pass-pipeline='builtin.module(gpu.module(attn-distribute-to-matrix-instructions))' -split-input-file -verify-diagnostics

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

gpu.module @kernels {
  // The instruction is a typed attribute: a name the table lacks does not
  // parse.
  // expected-error @+1 {{unknown matrix instruction "mma.sync.m8n8k4"}}
  gpu.func @unknown() kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m8n8k4">} {
    gpu.return
  }
}

// -----

gpu.module @kernels {
  // expected-error @+1 {{'attn.matrix_instruction' must be a #attn.matrix_instruction}}
  gpu.func @untyped() kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = "mma.sync.m16n8k16.f32.f16"} {
    gpu.return
  }
}

// -----

gpu.module @kernels {
  // expected-error @+1 {{unknown attn dialect attribute 'attn.tiling'}}
  gpu.func @unknown_attr() kernel attributes {attn.tiling = 4} {
    gpu.return
  }
}

// -----

gpu.module @kernels {
  // expected-error @+1 {{attn-distribute-to-matrix-instructions: needs a known_block_size of 1 to 1024 threads in whole 32-lane waves along x}}
  gpu.func @partial_wave() kernel attributes {known_block_size = array<i32: 48, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    gpu.return
  }
}

// -----

gpu.module @kernels {
  // expected-error @+1 {{attn-distribute-to-matrix-instructions: needs a known_block_size of 1 to 1024 threads in whole 32-lane waves along x}}
  gpu.func @no_threads() kernel attributes {known_block_size = array<i32: 0, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    gpu.return
  }
}

// -----

gpu.module @kernels {
  // expected-error @+1 {{attn-distribute-to-matrix-instructions: needs a known_block_size of 1 to 1024 threads in whole 32-lane waves along x}}
  gpu.func @negative() kernel attributes {known_block_size = array<i32: -32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    gpu.return
  }
}

// -----

gpu.module @kernels {
  // expected-error @+1 {{attn-distribute-to-matrix-instructions: needs a known_block_size of 1 to 1024 threads in whole 32-lane waves along x}}
  gpu.func @too_many() kernel attributes {known_block_size = array<i32: 2048, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    gpu.return
  }
}

// -----

// Tiles beyond 1024 in a dimension are rejected before unrolling (a 65536 x
// 65536 tile exhausted memory).
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @huge_tile(%q: memref<2048x16xf16>, %k: memref<8x16xf16>, %o: memref<2048x8xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: tile 'vector<2048x8xf32>' exceeds 1024 in a dimension}}
    %zero = arith.constant dense<0.0> : vector<2048x8xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<2048x16xf16>, vector<2048x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<8x16xf16>, vector<8x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<2048x16xf16>, vector<8x16xf16> into vector<2048x8xf32>
    vector.transfer_write %s, %o[%c0, %c0] {in_bounds = [true, true]} : vector<2048x8xf32>, memref<2048x8xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @many_values_per_lane(%q: memref<512x16xf16>, %k: memref<512x16xf16>, %o: memref<512x512xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: tile 'vector<512x512xf32>' needs more than 1024 values per lane over 32 threads}}
    %zero = arith.constant dense<0.0> : vector<512x512xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<512x16xf16>, vector<512x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<512x16xf16>, vector<512x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<512x16xf16>, vector<512x16xf16> into vector<512x512xf32>
    vector.transfer_write %s, %o[%c0, %c0] {in_bounds = [true, true]} : vector<512x512xf32>, memref<512x512xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  // expected-error @+1 {{attn-distribute-to-matrix-instructions: 24 rows do not split into 1 waves of 16-row tiles}}
  gpu.func @rows(%q: memref<24x16xf16>, %k: memref<8x16xf16>, %o: memref<24x8xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
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
  gpu.func @rhs_in_registers(%q: memref<16x16xf16>, %o: memref<16x16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
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
  gpu.func @transpose(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
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

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @read_mask(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %m = vector.create_mask %c16, %c16 : vector<16x16xi1>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: reads with a mask or a broadcasting map are not supported}}
    %qt = vector.transfer_read %q[%c0, %c0], %pad, %m {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    vector.transfer_write %s, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @write_mask(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    %m = vector.constant_mask [16, 16] : vector<16x16xi1>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: only masks from vector.create_mask are supported}}
    vector.transfer_write %s, %o[%c0, %c0], %m {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @lhs_map(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: expected C[m, n] += A[m, k] * B[n, k] or B[k, n]}}
    %s = vector.contract {indexing_maps = [#km, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    vector.transfer_write %s, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @short_k(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x8xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x8xf16>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: the reduction (8) must be a multiple of the instruction's K (16)}}
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x8xf16>, vector<16x8xf16> into vector<16x16xf32>
    vector.transfer_write %s, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @narrow(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %z12 = arith.constant dense<0.0> : vector<16x12xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<12x16xf16>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: 'vector<16x12xf32>' does not fit the tile layout of 16 rows and 8-column tiles}}
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %z12 : vector<16x16xf16>, vector<12x16xf16> into vector<16x12xf32>
    vector.transfer_write %s, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x12xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @row_reduction(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: only reductions along the columns of a tile are supported}}
    %m = vector.multi_reduction <maximumf>, %s, %ninf [0] : vector<16x16xf32> to vector<16xf32>
    vector.transfer_write %m, %r[%c0] {in_bounds = [true]} : vector<16xf32>, memref<16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @non_splat(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: only splat vector constants are supported}}
    %acc = arith.constant dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]> : vector<16xf32>
    %m = vector.multi_reduction <maximumf>, %s, %acc [1] : vector<16x16xf32> to vector<16xf32>
    vector.transfer_write %m, %r[%c0] {in_bounds = [true]} : vector<16xf32>, memref<16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @row_broadcast(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    %one = arith.constant dense<1.0> : vector<1xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: only scalars broadcast to rows or columns}}
    %acc = vector.broadcast %one : vector<1xf32> to vector<16xf32>
    %m = vector.multi_reduction <maximumf>, %s, %acc [1] : vector<16x16xf32> to vector<16xf32>
    vector.transfer_write %m, %r[%c0] {in_bounds = [true]} : vector<16xf32>, memref<16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @broadcast_row_major(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    %row = arith.constant dense<1.0> : vector<1x16xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: expected a broadcast of [rows x 1] or [columns]}}
    %b = vector.broadcast %row : vector<1x16xf32> to vector<16x16xf32>
    %a = arith.addf %s, %b : vector<16x16xf32>
    vector.transfer_write %a, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @shape_cast_tile(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    %flat = arith.constant dense<1.0> : vector<256xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: only [rows] <-> [rows x 1] shape casts are supported}}
    %t = vector.shape_cast %flat : vector<256xf32> to vector<16x16xf32>
    %a = arith.addf %s, %t : vector<16x16xf32>
    vector.transfer_write %a, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @contract_as_row(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %z1 = arith.constant dense<0.0> : vector<16x1xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<1x16xf16>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: a contraction's result is a tile}}
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %z1 : vector<16x16xf16>, vector<1x16xf16> into vector<16x1xf32>
    %c = vector.shape_cast %s : vector<16x1xf32> to vector<16xf32>
    vector.transfer_write %c, %r[%c0] {in_bounds = [true]} : vector<16xf32>, memref<16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @reduction_as_column(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: a reduction's result is a row vector}}
    %m = vector.multi_reduction <maximumf>, %s, %ninf [1] : vector<16x16xf32> to vector<16xf32>
    %b = vector.broadcast %m : vector<16xf32> to vector<16x16xf32>
    %a = arith.addf %s, %b : vector<16x16xf32>
    vector.transfer_write %a, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  // expected-error @+1 {{attn-distribute-to-matrix-instructions: cannot distribute this block argument as a tile}}
  gpu.func @block_argument(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>, %v: vector<16x16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    %a = arith.addf %s, %v : vector<16x16xf32>
    vector.transfer_write %a, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @nested_write(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>, %flag: i1) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    // A write inside another op is no root: nothing reaches the contraction,
    // and the first op left is reported.
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: left undistributed (not reachable from a loop or a write)}}
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    scf.if %flag {
      vector.transfer_write %s, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    }
    gpu.return
  }
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @no_contraction(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>, %r: memref<16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: left undistributed (not reachable from a loop or a write)}}
    vector.transfer_write %zero, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

// Slices of a tile (fused RoPE's halves of the query tile) keep each lane's
// elements only when they are whole column tiles: 8 columns from column 4
// straddle mma.sync's 8-column tiles.
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @misaligned_slice(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: only slices of whole rows and whole 8-column tiles are supported}}
    %h = vector.extract_strided_slice %s {offsets = [0, 4], sizes = [16, 8], strides = [1, 1]} : vector<16x16xf32> to vector<16x8xf32>
    %r = vector.insert_strided_slice %h, %s {offsets = [0, 8], strides = [1, 1]} : vector<16x8xf32> into vector<16x16xf32>
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}

// -----

// A slice of some rows only.
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @row_slice(%q: memref<32x16xf16>, %k: memref<16x16xf16>, %o: memref<32x16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<32x16xf32>
    %zero16 = arith.constant dense<0.0> : vector<16x16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<32x16xf16>, vector<32x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<32x16xf16>, vector<16x16xf16> into vector<32x16xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: only slices of whole rows and whole 8-column tiles are supported}}
    %r = vector.insert_strided_slice %zero16, %s {offsets = [16, 0], strides = [1, 1]} : vector<16x16xf32> into vector<32x16xf32>
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<32x16xf32>, memref<32x16xf32>
    gpu.return
  }
}

// -----

// The column tile is the instruction's: 8 columns are whole tiles of
// mma.sync but half a tile of the 16x16x16 MFMA.
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @mfma_half_tile(%q: memref<16x32xf16>, %k: memref<32x32xf16>, %o: memref<16x32xf32>) kernel attributes {known_block_size = array<i32: 64, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"v_mfma_f32_16x16x16_f16">} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x32xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x32xf16>, vector<16x32xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<32x32xf16>, vector<32x32xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x32xf16>, vector<32x32xf16> into vector<16x32xf32>
    %h = vector.extract_strided_slice %s {offsets = [0, 16], sizes = [16, 8], strides = [1, 1]} : vector<16x32xf32> to vector<16x8xf32>
    // expected-error @+1 {{attn-distribute-to-matrix-instructions: only slices of whole rows and whole 16-column tiles are supported}}
    %r = vector.insert_strided_slice %h, %s {offsets = [0, 16], strides = [1, 1]} : vector<16x8xf32> into vector<16x32xf32>
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x32xf32>, memref<16x32xf32>
    gpu.return
  }
}
