// RUN: flashinfer-opt %s --pass-pipeline='builtin.module(gpu.module(attn-distribute-to-matrix-instructions),canonicalize,cse)' -split-input-file | FileCheck %s

// A whole attention tile program (S = Q K^T, row max, P = 2^(S - max),
// O = P V, stores of O and the max) distributed over one wave, from the
// same IR for two instructions: only the attribute naming the instruction
// differs (and the head dim of V, a multiple of each instruction's tile).

// mma.sync m16n8k16 (direct formulation): lane l holds rows l / 4 and
// l / 4 + 8 of each accumulator, columns 2 (l % 4) + {0, 1}.
// CHECK-LABEL: gpu.func @attend(
// CHECK-SAME: %[[Q:[^:]*]]: memref<?x16xf16>, %{{[^:]*}}: memref<16x24xf16, #gpu.address_space<workgroup>>, %[[V:[^:]*]]: memref<8x24xf16, #gpu.address_space<workgroup>>, %[[O:[^:]*]]: memref<?x8xf16>, %[[LSE:[^:]*]]: memref<?xf32>)
// CHECK-SAME: kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
// CHECK-DAG: %[[TID:.*]] = gpu.thread_id x
// CHECK-DAG: %[[LANE:.*]] = arith.remui %[[TID]], %c32
// CHECK-DAG: %[[ROW8:.*]] = arith.remui %[[LANE]], %c8
// CHECK-DAG: %[[G:.*]] = arith.divui %[[LANE]], %c4
// CHECK-DAG: %[[T4:.*]] = arith.remui %[[LANE]], %c4
// CHECK-DAG: %[[COL:.*]] = arith.muli %[[T4]], %c2
// Q (A operand) is read in pairs; rows past the end of q read the padding.
// CHECK: %[[QIN:.*]] = arith.cmpi slt, %[[ROW:.*]], %{{.*}} : index
// CHECK: vector.load %[[Q]][%{{.*}}, %[[COL]]] {alignment = 4 : i64} : memref<?x16xf16>, vector<2xf16>
// CHECK: arith.select %[[QIN]]
// K (B operand) from workgroup memory with ldmatrix (the table's tile load):
// lane l addresses row l % 8 of 8x8 tile l / 8; the four tiles are the two
// registers (k 0-7, 8-15) of the fragments of both 8-key column tiles.
// CHECK: nvgpu.ldmatrix %{{.*}}[%{{.*}}, %{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<16x24xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK: nvgpu.mma.sync(%{{.*}}, %{{.*}}, %{{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: nvgpu.mma.sync
// The row max: lane-local, then across the 4 lanes of a row.
// CHECK: gpu.shuffle xor %{{.*}}, %c1_i32, %c32_i32 : f32
// CHECK: gpu.shuffle xor %{{.*}}, %c2_i32, %c32_i32 : f32
// CHECK-NOT: gpu.shuffle xor %{{.*}}, %c4_i32
// CHECK: math.exp2 %{{.*}} : f32
// P stays in registers: the two score tiles are the A operand of P V; V is
// read from its transposed buffer (rows dv, keys contiguous): one column
// tile of 8 dv, so two 8x8 tiles.
// CHECK: nvgpu.ldmatrix %[[V]][%{{.*}}, %{{.*}}] {numTiles = 2 : i32, transpose = false} : memref<8x24xf16, #gpu.address_space<workgroup>> -> vector<2x2xf16>
// CHECK: nvgpu.mma.sync
// O in pairs, guarded by the row bound; the max once per row.
// CHECK: scf.if
// CHECK-NEXT: vector.from_elements
// CHECK-NEXT: vector.store %{{.*}}, %[[O]][%{{.*}}, %[[COL]]] {alignment = 4 : i64} : memref<?x8xf16>, vector<2xf16>
// CHECK: memref.store %{{.*}}, %[[LSE]][%{{.*}}] : memref<?xf32>
// CHECK-NOT: vector.contract
// CHECK-NOT: vector.transfer
// CHECK-NOT: attn.matrix_instruction

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
gpu.module @kernels {
  gpu.func @attend(%q: memref<?x16xf16>, %k: memref<16x24xf16, #gpu.address_space<workgroup>>,
                   %vt: memref<8x24xf16, #gpu.address_space<workgroup>>, %o: memref<?x8xf16>, %lse: memref<?xf32>)
      kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %zacc = arith.constant dense<0.0> : vector<16x8xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [false, true]} : memref<?x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x24xf16, #gpu.address_space<workgroup>>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    %m = vector.multi_reduction <maximumf>, %s, %ninf [1] : vector<16x16xf32> to vector<16xf32>
    %mc = vector.shape_cast %m : vector<16xf32> to vector<16x1xf32>
    %mb = vector.broadcast %mc : vector<16x1xf32> to vector<16x16xf32>
    %d = arith.subf %s, %mb : vector<16x16xf32>
    %p = math.exp2 %d : vector<16x16xf32>
    %ph = arith.truncf %p : vector<16x16xf32> to vector<16x16xf16>
    %vv = vector.transfer_read %vt[%c0, %c0], %pad {in_bounds = [true, true], permutation_map = #t} : memref<8x24xf16, #gpu.address_space<workgroup>>, vector<16x8xf16>
    %out = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %ph, %vv, %zacc : vector<16x16xf16>, vector<16x8xf16> into vector<16x8xf32>
    %oh = arith.truncf %out : vector<16x8xf32> to vector<16x8xf16>
    vector.transfer_write %oh, %o[%c0, %c0] {in_bounds = [false, true]} : vector<16x8xf16>, memref<?x8xf16>
    vector.transfer_write %m, %lse[%c0] {in_bounds = [false]} : vector<16xf32>, memref<?xf32>
    gpu.return
  }
}

// -----

// MFMA 16x16x16 (transposed formulation: S^T = K Q^T): lane l holds query
// l % 16 and 4 consecutive keys (or dv) 4 (l / 16) + {0..3}.
// CHECK-LABEL: gpu.func @attend(
// CHECK-SAME: %[[Q:[^:]*]]: memref<?x16xf16>, %[[K:[^:]*]]: memref<16x24xf16, #gpu.address_space<workgroup>>, %[[V:[^:]*]]: memref<16x24xf16, #gpu.address_space<workgroup>>, %[[O:[^:]*]]: memref<?x16xf16>
// CHECK-SAME: known_block_size = array<i32: 64, 1, 1>
// CHECK: vector.load %[[Q]]{{.*}} {alignment = 8 : i64} : memref<?x16xf16>, vector<4xf16>
// CHECK: %[[KF:.*]] = vector.load %[[K]]{{.*}} {alignment = 8 : i64} : memref<16x24xf16, #gpu.address_space<workgroup>>, vector<4xf16>
// CHECK: amdgpu.mfma 16x16x16 %[[KF]] * %{{.*}} + %{{.*}} blgp = none : vector<4xf16>, vector<4xf16>, vector<4xf32>
// Keys are spread over lanes 16 apart.
// CHECK: gpu.shuffle xor %{{.*}}, %c16_i32, %c64_i32 : f32
// CHECK: gpu.shuffle xor %{{.*}}, %c32_i32, %c64_i32 : f32
// CHECK: %[[VF:.*]] = vector.load %[[V]]{{.*}} : memref<16x24xf16, #gpu.address_space<workgroup>>, vector<4xf16>
// CHECK: amdgpu.mfma 16x16x16 %[[VF]] * %{{.*}}
// CHECK: vector.store %{{.*}}, %[[O]]{{.*}} {alignment = 8 : i64} : memref<?x16xf16>, vector<4xf16>
// CHECK-NOT: nvgpu.mma.sync

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
gpu.module @kernels {
  gpu.func @attend(%q: memref<?x16xf16>, %k: memref<16x24xf16, #gpu.address_space<workgroup>>,
                   %vt: memref<16x24xf16, #gpu.address_space<workgroup>>, %o: memref<?x16xf16>, %lse: memref<?xf32>)
      kernel attributes {known_block_size = array<i32: 64, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"v_mfma_f32_16x16x16_f16">} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %zacc = arith.constant dense<0.0> : vector<16x16xf32>
    %ninf = arith.constant dense<0xFF800000> : vector<16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [false, true]} : memref<?x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x24xf16, #gpu.address_space<workgroup>>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    %m = vector.multi_reduction <maximumf>, %s, %ninf [1] : vector<16x16xf32> to vector<16xf32>
    %mc = vector.shape_cast %m : vector<16xf32> to vector<16x1xf32>
    %mb = vector.broadcast %mc : vector<16x1xf32> to vector<16x16xf32>
    %d = arith.subf %s, %mb : vector<16x16xf32>
    %p = math.exp2 %d : vector<16x16xf32>
    %ph = arith.truncf %p : vector<16x16xf32> to vector<16x16xf16>
    %vv = vector.transfer_read %vt[%c0, %c0], %pad {in_bounds = [true, true], permutation_map = #t} : memref<16x24xf16, #gpu.address_space<workgroup>>, vector<16x16xf16>
    %out = vector.contract {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %ph, %vv, %zacc : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    %oh = arith.truncf %out : vector<16x16xf32> to vector<16x16xf16>
    vector.transfer_write %oh, %o[%c0, %c0] {in_bounds = [false, true]} : vector<16x16xf16>, memref<?x16xf16>
    vector.transfer_write %m, %lse[%c0] {in_bounds = [false]} : vector<16xf32>, memref<?xf32>
    gpu.return
  }
}

// -----

// Slices of whole column tiles (fused RoPE's halves of the query tile) only
// pick a lane's registers: column tile 1 of the result is column tile 0 of
// S, so each lane stores its fragment of the first product at columns
// 2 (l % 4) and 8 + 2 (l % 4) of its rows, and the product of the second
// column tile is dead.
// CHECK-LABEL: gpu.func @column_slice(
// CHECK-SAME: %{{[^:]*}}: memref<16x16xf16>, %{{[^:]*}}: memref<16x16xf16>, %[[O:[^:]*]]: memref<16x16xf32>)
// CHECK-DAG: %[[LANE:.*]] = arith.remui %{{.*}}, %c32
// CHECK-DAG: %[[T4:.*]] = arith.remui %[[LANE]], %c4
// CHECK-DAG: %[[COL:.*]] = arith.muli %[[T4]], %c2
// CHECK: %[[COL8:.*]] = arith.addi %[[COL]], %c8
// CHECK: %[[C0:.*]] = nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: %[[LO:.*]] = vector.extract %[[C0]][0] : vector<2xf32> from vector<2x2xf32>
// CHECK: vector.store %[[LO]], %[[O]][%[[ROW:.*]], %[[COL]]]
// CHECK: %[[HI:.*]] = vector.extract %[[C0]][1] : vector<2xf32> from vector<2x2xf32>
// CHECK: vector.store %[[HI]], %[[O]][%[[ROW8:.*]], %[[COL]]]
// CHECK: vector.store %[[LO]], %[[O]][%[[ROW]], %[[COL8]]]
// CHECK: vector.store %[[HI]], %[[O]][%[[ROW8]], %[[COL8]]]
// CHECK-NOT: vector.extract_strided_slice
// CHECK-NOT: vector.insert_strided_slice

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @kernels {
  gpu.func @column_slice(%q: memref<16x16xf16>, %k: memref<16x16xf16>, %o: memref<16x16xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>, attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">} {
    %c0 = arith.constant 0 : index
    %pad = arith.constant 0.0 : f16
    %zero = arith.constant dense<0.0> : vector<16x16xf32>
    %qt = vector.transfer_read %q[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %kt = vector.transfer_read %k[%c0, %c0], %pad {in_bounds = [true, true]} : memref<16x16xf16>, vector<16x16xf16>
    %s = vector.contract {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %qt, %kt, %zero : vector<16x16xf16>, vector<16x16xf16> into vector<16x16xf32>
    %h = vector.extract_strided_slice %s {offsets = [0, 0], sizes = [16, 8], strides = [1, 1]} : vector<16x16xf32> to vector<16x8xf32>
    %r = vector.insert_strided_slice %h, %s {offsets = [0, 8], strides = [1, 1]} : vector<16x8xf32> into vector<16x16xf32>
    vector.transfer_write %r, %o[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, memref<16x16xf32>
    gpu.return
  }
}
