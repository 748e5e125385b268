// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=sm_90a},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory,attn-distribute-to-matrix-instructions))" --split-input-file | FileCheck %s --check-prefix=SM90
// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=sm_90a num-waves=2},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory,attn-distribute-to-matrix-instructions))" --split-input-file | FileCheck %s --check-prefix=WAVES2
// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=gfx942},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory,attn-distribute-to-matrix-instructions))" --split-input-file | FileCheck %s --check-prefix=GFX942
// RUN: flashinfer-opt %s --pass-pipeline="builtin.module(convert-attn-to-gpu{chip=gfx950},attn-decompose-online-attention,gpu.module(attn-promote-to-workgroup-memory,attn-distribute-to-matrix-instructions))" --split-input-file | FileCheck %s --check-prefix=GFX950
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" --split-input-file | FileCheck %s --check-prefix=TILED

// The kernel interface and the manifest: the host function becomes a
// gpu.func in `<func>_kernels` with the tensors as memrefs whose token
// dimension stays dynamic, K and V staged in workgroup memory, and a
// manifest entry recorded on the module. Only the stable parts of the kernel
// body are checked (matrix instruction, key loop, reductions, barriers).

// f16, head dim 128, GQA 8:2, causal, with lse.
//
// SM90-LABEL: module attributes {gpu.container_module}
// SM90-NEXT: attn.kernel_manifest @attn_f16_d128_kernels {{.*}}kernels = [#attn.kernel<
// SM90-SAME: args = [{align = 16 : i64, dtype = "f16", kind = "memref", layout = "strided", name = "q", rank = 3 : i64, shape = [-1, 8, 128]}, {align = 16 : i64, dtype = "f16", kind = "memref", layout = "strided", name = "k", rank = 3 : i64, shape = [-1, 2, 128]}, {align = 16 : i64, dtype = "f16", kind = "memref", layout = "strided", name = "v", rank = 3 : i64, shape = [{dim = ["k", 0]}, 2, 128]}, {align = 16 : i64, dtype = "f16", kind = "memref", layout = "strided", name = "o", rank = 3 : i64, shape = [{dim = ["q", 0]}, 8, 128]}, {dtype = "f32", kind = "memref", layout = "strided", name = "lse", rank = 2 : i64, shape = [{dim = ["q", 0]}, 8]}]
// 8 waves of 32 lanes (the sm_90a default, see MatrixInstructions.h).
// SM90-SAME: block = [256, 1, 1]
// One workgroup per block_m query rows and query head.
// SM90-SAME: grid = [{ceil_div = ["q", 0, [[BM:[0-9]+]]]}, 8, 1]
// SM90-SAME: name = "attn_f16_d128", op = "attn.attention"
// SM90-SAME: params = {block_m = [[BM]] : i64, block_n = [[#BN:]] : i64, causal = true, head_dim = 128 : i64, head_dim_v = 128 : i64, logits_soft_cap = 0.000000e+00 : f64, lse_base = "2", matrix_instruction = "mma.sync.m16n8k16.f32.f16", num_kv_heads = 2 : i64, num_qo_heads = 8 : i64, q_in_registers = {{true|false}}, query_tiles_per_wave = {{[0-9]+}} : i64, sm_scale = 0.088388{{[0-9]*}} : f64, window_left = -1 : i64}
// K and V tiles, 2 bytes an element.
// SM90-SAME: static_shared_memory = [[#mul(mul(BN,136),4)]]
// SM90-SAME: target = "sm_90a"
// SM90-NOT: func.func
// SM90: gpu.module @attn_f16_d128_kernels {
// SM90-NEXT: gpu.func @attn_f16_d128(%[[Q:.*]]: memref<?x8x128xf16, strided<[?, ?, 1]>>, %[[K:.*]]: memref<?x2x128xf16, strided<[?, ?, 1]>>, %[[V:.*]]: memref<?x2x128xf16, strided<[?, ?, 1]>>, %[[O:.*]]: memref<?x8x128xf16, strided<[?, ?, 1]>>, %[[LSE:.*]]: memref<?x8xf32, strided<[?, 1]>>)
// K and V are staged (asynchronously) as [block_n, D + pad].
// SM90-SAME: workgroup(%{{.*}} : memref<[[#BN]]x136xf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<[[#BN]]x136xf16, #gpu.address_space<workgroup>>)
// SM90-SAME: kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// The token counts come from the memrefs at run time.
// SM90-DAG: memref.dim %[[Q]], %{{.*}} : memref<?x8x128xf16, strided<[?, ?, 1]>>
// SM90-DAG: memref.dim %[[K]], %{{.*}} : memref<?x2x128xf16, strided<[?, ?, 1]>>
// SM90: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c[[#BN]]{{(_[0-9]+)?}} iter_args(
// SM90: gpu.barrier
// SM90: nvgpu.mma.sync(%{{.*}}, %{{.*}}, %{{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// SM90: gpu.shuffle xor
// SM90: math.exp2 %{{.*}} : f32
// SM90: scf.yield
// SM90: {{memref|vector}}.store %{{.*}}, %[[LSE]]
// SM90: gpu.return
// SM90-NOT: nvvm.mma.sync
// SM90-NOT: amdgpu.mfma

// 2 waves: half the threads and query rows per workgroup.
// WAVES2-LABEL: module attributes {gpu.container_module}
// WAVES2-NEXT: attn.kernel_manifest
// WAVES2-SAME: block = [64, 1, 1]
// WAVES2: known_block_size = array<i32: 64, 1, 1>

// Stage 1 alone (the RUN line with TILED): the kernel on whole workgroup
// tiles. Q is read once, the unmasked key tiles come first, then the ones
// that straddle the causal diagonal or kv_len.
// TILED-LABEL: gpu.func @attn_f16_d128(
// TILED-SAME: attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">
// TILED: %[[QT:.*]] = vector.transfer_read %{{.*}} {in_bounds = [false, true], permutation_map = #{{.*}}} : memref<?x8x128xf16, strided<[?, ?, 1]>>, vector<[[BM:[0-9]+]]x128xf16>
// TILED: %[[POS:.*]] = arith.addi %{{.*}}, %{{.*}} : vector<[[BM]]xindex>
// TILED: %[[R1:.*]]:3 = scf.for {{.*}} -> (vector<[[BM]]x128xf32>, vector<[[BM]]xf32>, vector<[[BM]]xf32>)
// TILED-NEXT: attn.online_attention_step %[[QT]], %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}}, %{{.*}}, %[[POS]], {{.*}} {block_n = {{[0-9]+}} : i64, causal, scale_log2 = {{.*}} : f32}
// TILED: scf.for {{.*}} iter_args(%{{.*}} = %[[R1]]#0, %{{.*}} = %[[R1]]#1, %{{.*}} = %[[R1]]#2)
// TILED-NEXT: attn.online_attention_step {{.*}} {block_n = {{[0-9]+}} : i64, causal, masked, scale_log2
// TILED: vector.transfer_write %{{.*}} : vector<[[BM]]x128xf16>, memref<?x8x128xf16, strided<[?, ?, 1]>>
// TILED: vector.transfer_write %{{.*}} : vector<[[BM]]xf32>, memref<?x8xf32, strided<[?, 1]>>
// TILED: gpu.return

// Wave64 MFMA, 16x16x16 on CDNA3 (gfx942) and 16x16x32 on CDNA4 (gfx950).
// GFX942-LABEL: module attributes {gpu.container_module}
// GFX942-NEXT: attn.kernel_manifest
// GFX942-SAME: block = [256, 1, 1]
// GFX942-SAME: matrix_instruction = "v_mfma_f32_16x16x16_f16"
// GFX942-SAME: static_shared_memory = {{[0-9]+}}
// GFX942-SAME: target = "gfx942"
// GFX942: gpu.func @attn_f16_d128(%{{.*}}: memref<?x8x128xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x2x128xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x2x128xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x8x128xf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x8xf32, strided<[?, 1]>>)
// GFX942-SAME: known_block_size = array<i32: 256, 1, 1>
// GFX942: scf.for
// GFX942: amdgpu.mfma 16x16x16 %{{.*}} * %{{.*}} + %{{.*}} {{.*}}: vector<4xf16>, vector<4xf16>, vector<4xf32>
// GFX942: gpu.shuffle xor
// GFX942-NOT: amdgpu.mfma 16x16x32
// GFX942-NOT: nvgpu.mma.sync

// GFX950-LABEL: module attributes {gpu.container_module}
// GFX950-NEXT: attn.kernel_manifest
// GFX950-SAME: matrix_instruction = "v_mfma_f32_16x16x32_f16"
// GFX950-SAME: target = "gfx950"
// GFX950: scf.for
// GFX950: amdgpu.mfma 16x16x32 %{{.*}} * %{{.*}} + %{{.*}} {{.*}}: vector<8xf16>, vector<8xf16>, vector<4xf32>
// GFX950-NOT: amdgpu.mfma 16x16x16

func.func @attn_f16_d128(%q: tensor<?x8x128xf16>, %k: tensor<?x2x128xf16>, %v: tensor<?x2x128xf16>, %o: tensor<?x8x128xf16>, %lse: tensor<?x8xf32>) -> (tensor<?x8x128xf16>, tensor<?x8xf32>) {
  %r:2 = attn.attention q(%q : tensor<?x8x128xf16>) k(%k : tensor<?x2x128xf16>) v(%v : tensor<?x2x128xf16>) outs(%o, %lse : tensor<?x8x128xf16>, tensor<?x8xf32>) attributes {causal} -> tensor<?x8x128xf16>, tensor<?x8xf32>
  return %r#0, %r#1 : tensor<?x8x128xf16>, tensor<?x8xf32>
}

// -----

// bf16 has no nvgpu.mma.sync form: the NVIDIA path emits nvvm.mma.sync with
// bf16 multiplicands. No lse: four arguments. Dv (64) differs from D (128),
// and the explicit scale and sliding window reach the manifest.
//
// SM90-LABEL: module attributes {gpu.container_module}
// SM90-NEXT: attn.kernel_manifest @attn_bf16_kernels {{.*}}kernels = [#attn.kernel<
// SM90-SAME: args = [{align = 16 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "q", rank = 3 : i64, shape = [-1, 4, 128]}, {align = 16 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "k", rank = 3 : i64, shape = [-1, 4, 128]}, {align = 16 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "v", rank = 3 : i64, shape = [{dim = ["k", 0]}, 4, 64]}, {align = 16 : i64, dtype = "bf16", kind = "memref", layout = "strided", name = "o", rank = 3 : i64, shape = [{dim = ["q", 0]}, 4, 64]}]
// SM90-SAME: grid = [{ceil_div = ["q", 0, {{[0-9]+}}]}, 4, 1]
// SM90-SAME: causal = false, head_dim = 128 : i64, head_dim_v = 64 : i64
// SM90-SAME: matrix_instruction = "mma.sync.m16n8k16.f32.bf16", num_kv_heads = 4 : i64, num_qo_heads = 4 : i64, q_in_registers = {{true|false}}, query_tiles_per_wave = {{[0-9]+}} : i64, sm_scale = 5.000000e-01 : f64, window_left = 32 : i64
// SM90: gpu.module @attn_bf16_kernels
// SM90-NEXT: gpu.func @attn_bf16(%{{.*}}: memref<?x4x128xbf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x4x128xbf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x4x64xbf16, strided<[?, ?, 1]>>, %{{.*}}: memref<?x4x64xbf16, strided<[?, ?, 1]>>) workgroup(
// SM90: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {{{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// SM90-NOT: nvgpu.mma.sync

// GFX942-LABEL: module attributes {gpu.container_module}
// GFX942-NEXT: attn.kernel_manifest
// GFX942-SAME: matrix_instruction = "v_mfma_f32_16x16x16_bf16"
// GFX942: amdgpu.mfma 16x16x16 {{.*}}: vector<4xbf16>, vector<4xbf16>, vector<4xf32>

// GFX950-LABEL: module attributes {gpu.container_module}
// GFX950-NEXT: attn.kernel_manifest
// GFX950-SAME: matrix_instruction = "v_mfma_f32_16x16x32_bf16"
// GFX950: amdgpu.mfma 16x16x32 {{.*}}: vector<8xbf16>, vector<8xbf16>, vector<4xf32>

func.func @attn_bf16(%q: tensor<?x4x128xbf16>, %k: tensor<?x4x128xbf16>, %v: tensor<?x4x64xbf16>, %o: tensor<?x4x64xbf16>) -> tensor<?x4x64xbf16> {
  %r = attn.attention q(%q : tensor<?x4x128xbf16>) k(%k : tensor<?x4x128xbf16>) v(%v : tensor<?x4x64xbf16>) outs(%o : tensor<?x4x64xbf16>) attributes {sm_scale = 0.5 : f32, window_left = 32} -> tensor<?x4x64xbf16>
  return %r : tensor<?x4x64xbf16>
}

// -----

// Two functions: two gpu.modules, two manifest entries; functions without
// attn ops stay on the host.
//
// SM90-LABEL: module attributes {gpu.container_module}
// SM90: func.func @host_only(
// SM90: attn.kernel_manifest @first_kernels {{.*}}kernels = [#attn.kernel<{{.*}}name = "first"{{.*}}target = "sm_90a"}
// SM90-NEXT: gpu.module @first_kernels
// SM90: attn.kernel_manifest @second_kernels {{.*}}kernels = [#attn.kernel<{{.*}}name = "second"{{.*}}target = "sm_90a"}
// SM90-NEXT: gpu.module @second_kernels

func.func @first(%q: tensor<?x2x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x2x64xf16>) -> tensor<?x2x64xf16> {
  %r = attn.attention q(%q : tensor<?x2x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) outs(%o : tensor<?x2x64xf16>) -> tensor<?x2x64xf16>
  return %r : tensor<?x2x64xf16>
}

func.func @second(%q: tensor<?x2x64xf16>, %k: tensor<?x2x64xf16>, %v: tensor<?x2x64xf16>, %o: tensor<?x2x64xf16>) -> tensor<?x2x64xf16> {
  %r = attn.attention q(%q : tensor<?x2x64xf16>) k(%k : tensor<?x2x64xf16>) v(%v : tensor<?x2x64xf16>) outs(%o : tensor<?x2x64xf16>) -> tensor<?x2x64xf16>
  return %r : tensor<?x2x64xf16>
}

func.func @host_only(%x: i32) -> i32 {
  return %x : i32
}
