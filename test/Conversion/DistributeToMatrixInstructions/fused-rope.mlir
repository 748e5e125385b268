// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=sm_90a},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory,attn-distribute-to-matrix-instructions))" | FileCheck %s --check-prefixes=CHECK,SM90 --implicit-check-not=vector.extract_strided_slice --implicit-check-not=vector.insert_strided_slice --implicit-check-not=vector.transfer_read --implicit-check-not=vector.contract --implicit-check-not=attn.load_kv_tile
// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=gfx942},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory,attn-distribute-to-matrix-instructions))" | FileCheck %s --check-prefixes=CHECK,GFX942 --implicit-check-not=vector.extract_strided_slice --implicit-check-not=vector.insert_strided_slice --implicit-check-not=vector.transfer_read --implicit-check-not=vector.contract --implicit-check-not=attn.load_kv_tile

// Fused RoPE through the pipeline up to attn-distribute-to-matrix-
// instructions: the query tile that convert-attn-to-gpu rotates (a
// tile-layout vector.transfer_read outside any contraction, sliced into
// halves with vector.extract_strided_slice and put back with
// vector.insert_strided_slice) is distributed in the accumulator's layout:
// each lane loads its own elements of the tile, turns the pairs it holds
// (column c of the first half and c + 32 of the second sit in the same
// lane, since both halves are whole column tiles) with scalar math.cos /
// math.sin, and keeps them as the product's left-hand side. No slice, tile
// read or contraction is left. The staged K tile is turned in workgroup
// memory in each key loop, between the barrier that publishes its copy and
// one more barrier before the product reads it.

// mma.sync m16n8k16: 1 query tile of 16 rows per wave (a turned query
// tile counts twice its registers when convert-attn-to-gpu sizes the
// tiling, so it stays in registers: one tile at head dim 64), 8 column
// tiles of 8: a lane holds 8 x 4 = 32 elements, read in pairs, of which 16
// are in the first half (16 angles).
// SM90-LABEL: gpu.func @prefill(
// SM90-SAME: %[[Q:[^:]*]]: memref<?x4x64xf16, strided<[?, ?, 1]>>
// SM90-SAME: workgroup(%[[KBUF:.*]] : memref<64x72xf16, #gpu.address_space<workgroup>>, %[[VBUF:.*]] : memref<64x72xf16, #gpu.address_space<workgroup>>)
// SM90-COUNT-16: vector.load %[[Q]][{{.*}}] {alignment = 4 : i64} : memref<?x4x64xf16, strided<[?, ?, 1]>>, vector<2xf16>
// SM90-NOT: vector.load %[[Q]]
// SM90: arith.constant -4.152410e-01 : f32
// SM90-COUNT-16: math.cos %{{.*}} : f32
// SM90-COUNT-16: math.sin %{{.*}} : f32
// SM90-NOT: math.sin %{{.*}} : f32
// SM90: scf.for
// SM90-NOT: vector.load %[[Q]]
// SM90: nvgpu.device_async_wait
// SM90-NEXT: gpu.barrier
// SM90: nvgpu.device_async_copy {{.*}}, %[[VBUF]]
// SM90: vector.load %[[KBUF]]{{.*}} vector<8xf16>
// SM90: math.cos %{{.*}} : vector<8xf32>
// SM90: math.sin %{{.*}} : vector<8xf32>
// SM90: vector.store %{{.*}}, %[[KBUF]]{{.*}} vector<8xf16>
// SM90: vector.store %{{.*}}, %[[KBUF]]{{.*}} vector<8xf16>
// SM90-NEXT: gpu.barrier
// SM90: nvgpu.ldmatrix %[[KBUF]]
// SM90: nvgpu.mma.sync
// The masked loop turns its tile too.
// SM90: scf.for
// SM90: nvgpu.device_async_wait
// SM90: math.sin %{{.*}} : vector<8xf32>
// SM90: gpu.barrier
// SM90: nvgpu.ldmatrix %[[KBUF]]
// SM90-NOT: math.sin
// SM90: gpu.return

// MFMA 16x16x16 (transposed formulation): 1 query tile of 16 rows per
// wave, 4 column tiles of 16: lane l holds row l % 16 and columns
// 4 (l / 16) + {0..3} of each, 16 elements read 4 at a time; the first two
// tiles pair with the last two, element for element (8 angles).
// GFX942-LABEL: gpu.func @prefill(
// GFX942-SAME: %[[Q:[^:]*]]: memref<?x4x64xf16, strided<[?, ?, 1]>>
// GFX942-SAME: workgroup(%[[KBUF:.*]] : memref<64x72xf16, #gpu.address_space<workgroup>>, %[[VBUF:.*]] : memref<64x72xf16, #gpu.address_space<workgroup>>)
// GFX942: %[[L0:.*]] = vector.load %[[Q]][{{.*}}] {alignment = 8 : i64} : memref<?x4x64xf16, strided<[?, ?, 1]>>, vector<4xf16>
// GFX942: %[[X0:.*]] = vector.extract %[[L0]][0] : f16 from vector<4xf16>
// GFX942: %[[XM:.*]] = arith.select %{{.*}}, %[[X0]], %{{.*}} : f16
// GFX942: %[[L1:.*]] = vector.load %[[Q]][{{.*}}] {alignment = 8 : i64}
// GFX942: %[[L2:.*]] = vector.load %[[Q]][{{.*}}] {alignment = 8 : i64}
// GFX942: %[[Y0:.*]] = vector.extract %[[L2]][0] : f16 from vector<4xf16>
// GFX942: %[[YM:.*]] = arith.select %{{.*}}, %[[Y0]], %{{.*}} : f16
// GFX942: %[[L3:.*]] = vector.load %[[Q]][{{.*}}] {alignment = 8 : i64}
// GFX942-NOT: vector.load %[[Q]]
// GFX942: %[[XF:.*]] = arith.extf %[[XM]] : f16 to f32
// GFX942: %[[YF:.*]] = arith.extf %[[YM]] : f16 to f32
// GFX942: %[[POS:.*]] = arith.sitofp %{{.*}} : i32 to f32
// -2 log2(1e4) / 64 = -0.41524...
// GFX942: arith.constant -4.152410e-01 : f32
// GFX942-COUNT-8: math.exp2 %{{.*}} : f32
// GFX942: %[[A0:.*]] = arith.mulf %[[POS]], %{{.*}} : f32
// GFX942-COUNT-7: arith.mulf %[[POS]], %{{.*}} : f32
// GFX942: %[[C0:.*]] = math.cos %[[A0]] : f32
// GFX942-COUNT-7: math.cos %{{.*}} : f32
// GFX942: %[[S0:.*]] = math.sin %[[A0]] : f32
// GFX942-COUNT-7: math.sin %{{.*}} : f32
// GFX942-NOT: math.sin %{{.*}} : f32
// GFX942: %[[XC:.*]] = arith.mulf %[[XF]], %[[C0]] : f32
// GFX942: %[[YS:.*]] = arith.mulf %[[YF]], %[[S0]] : f32
// GFX942: %[[YC:.*]] = arith.mulf %[[YF]], %[[C0]] : f32
// GFX942: %[[XS:.*]] = arith.mulf %[[XF]], %[[S0]] : f32
// GFX942: %[[XO:.*]] = arith.subf %[[XC]], %[[YS]] : f32
// GFX942: %[[YO:.*]] = arith.addf %[[YC]], %[[XS]] : f32
// GFX942: %[[XT:.*]] = arith.truncf %[[XO]] : f32 to f16
// GFX942: %[[YT:.*]] = arith.truncf %[[YO]] : f32 to f16
// GFX942: scf.for
// GFX942-NOT: vector.load %[[Q]]
// Synchronous copies: the barrier before them, the one after, the turn.
// GFX942: gpu.barrier
// GFX942: memref.store %{{.*}}, %[[VBUF]]
// GFX942: gpu.barrier
// GFX942-NOT: %[[VBUF]]
// GFX942: vector.load %[[KBUF]]{{.*}} vector<8xf16>
// GFX942: math.cos %{{.*}} : vector<8xf32>
// GFX942: math.sin %{{.*}} : vector<8xf32>
// GFX942: vector.store %{{.*}}, %[[KBUF]]{{.*}} vector<8xf16>
// GFX942: vector.store %{{.*}}, %[[KBUF]]{{.*}} vector<8xf16>
// GFX942-NEXT: gpu.barrier
// The turned query elements are the product's operand.
// GFX942: vector.from_elements %[[XT]], %{{.*}}, %{{.*}}, %{{.*}} : vector<4xf16>
// GFX942: amdgpu.mfma 16x16x16
// GFX942: scf.for
// GFX942: math.sin %{{.*}} : vector<8xf32>
// GFX942: gpu.barrier
// GFX942: amdgpu.mfma 16x16x16
// GFX942-NOT: math.sin
// GFX942: gpu.return

// CHECK-NOT: gpu.func
func.func @prefill(%q: tensor<?x4x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %o: tensor<?x4x64xf16>) -> tensor<?x4x64xf16> {
  %r = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) outs(%o : tensor<?x4x64xf16>) attributes {causal, pos_encoding = #attn.pos_encoding<rope_llama>} -> tensor<?x4x64xf16>
  return %r : tensor<?x4x64xf16>
}
