//===- Passes.td - FlashInfer-MLIR conversion passes -------*- tablegen -*-===//

#ifndef FLASHINFER_CONVERSION_PASSES_TD
#define FLASHINFER_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAttnToLinalg : Pass<"convert-attn-to-linalg"> {
  let summary = "Reference lowering of every attn op to linalg/tensor/scf/arith/math";
  let description = [{
    Gives each `attn` op its meaning in upstream dialects, written for
    clarity rather than speed: per request and head it materializes the full
    score matrix in f32, subtracts the row maximum before exponentiating and
    accumulates in f32. This lowering is the semantic definition of the
    dialect and the oracle that every faster lowering is tested against; the
    CPU pipeline runs it with `mlir-runner`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ConvertAttnToGPU : Pass<"convert-attn-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Generate tiled GPU kernels for attn ops using the chip's matrix instructions";
  let description = [{
    Every `func.func` holding attn ops (`attn.attention`,
    `attn.paged_attention`, `attn.merge_states`, `attn.append_paged_kv`)
    becomes one `gpu.module` named `<func>_kernels` and one launch
    sequence: each op becomes its kernels, in program order, named after the
    function (`<func>_<i>` when it holds several ops). The host function is
    removed; an `attn.kernel_manifest` before the `gpu.module` records each
    kernel (`#attn.kernel`: symbol, arguments in order with their size
    relations, grid and block size as functions of the arguments, shared
    memory, the op's parameters) and the sequence (`#attn.launch`: which of
    the sequence's arguments each launch passes), for
    `attn-write-code-objects` and the runtime. The function may hold only
    attn ops and its return; each operand must be a function argument or
    the result of an earlier attn op (which stands for its destination).
    The sequence's arguments are the function's operands, named after the
    first kernel argument that reads them, then each op's planner buffers
    and workspace.

    `attn.merge_states` of several states becomes one merge kernel: a
    workgroup merges one token of a group of heads (up to 256 threads), each
    thread a 4-element vector of one head's row of every state (static H,
    head dim at most 1024), with the op's semantics: weights
    2^(lse_i - lse), states with lse -inf adding nothing, an all-empty row
    giving 0 and -inf. The segmented form (`indptr`) becomes the kernel that
    also ends a split-KV decode: one thread per output element walks its
    segment's rows with online rescaling; the indptr is clamped into the
    state.

    The arguments the caller passes (q, k, v, o, lse) are strided views,
    `memref<?xHxDxT, strided<[?, ?, 1]>>`: any token and head strides with
    a unit innermost one, so q, k and v sliced from one fused projection or
    a paged cache's K and V halves are read in place. The manifest gives
    each argument's shape with the relations between them (v has k's
    length, o and lse have q's, the split-KV partials one row per chunk),
    its layout and the alignment its 16-byte accesses need; the runtime
    checks all of them at launch.

    This is stage 1 of the GPU lowering, the work decomposition. The
    kernel is FlashAttention-2: each workgroup takes a tile of query rows of
    one head, sized for the matrix instruction that `MatrixInstructions.h`
    lists for `chip` (mma.sync m16n8k16 on NVIDIA, 16x16 MFMA on CDNA3/4),
    and walks the keys it can see in tiles of `block-n` with
    `attn.online_attention_step`, carrying the running output, max and sum as
    workgroup-level vectors, then normalizes and writes the output with
    `vector.transfer_write`. Causal and sliding-window masks bound the key
    range, so tiles wholly outside the mask are skipped, and the tiles that
    every row sees in full run in a first loop without the mask test. The
    kernel records its instruction as `attn.matrix_instruction` for
    `attn-distribute-to-matrix-instructions`. Unsupported features are
    reported as errors naming the feature.

    Decode (the query's token dimension is statically 1) gets two kernels,
    recorded in launch order: `<func>` packs the G query heads that share a
    KV head into the rows of one wave's query tile (grid.y = KV heads) and
    splits the keys into chunks over grid.z, writing f32 partial outputs and
    lse to workspace buffers `o_part` and `lse_part`; then `<func>_merge`
    combines the partials into `o` and `lse`. The chunk is the split
    kernel's last argument, `kv_chunk` (i64, a multiple of the key tile that
    the manifest records as `multiple_of`), so a planner picks it at run time
    from the cache length and the GPU's size; grid.z and the workspace
    (`params.workspace`) are expressions of it. The merge
    kernel is built directly at the thread level.

    Batches run from a schedule that the runtime's planner writes into a
    device buffer (`fimlir_plan_*` in runtime.h), so no plan value is a
    kernel argument by value and a CUDA graph replays new plans:
    - `attn.paged_attention` without `qo_indptr` (batch decode): the split
      kernel runs schedule row z = (request, kv_begin, kv_end) per grid.z,
      reading the request's pages through `attn.load_kv_tile`; the merge
      kernel combines request b's partial rows `merge_indptr[b] ..
      merge_indptr[b + 1]`.
    - `attn.paged_attention` with `qo_indptr`, and `attn.attention` with
      `qo_indptr`/`kv_indptr` (batch prefill): workgroup (x, y) runs
      schedule row x = (request, q_begin) for query head y, the request's
      rows `[q_begin, q_begin + block_m)` read from q and written to o at
      `qo_indptr[request]`, masked at its qo_len, queries aligned to the end
      of its keys (bottom-right). Ragged K/V are `memref.subview`s of k and v
      at `kv_indptr[request]`.
    Request -1 is padding, and every index read from the tables is clamped
    into the buffers.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target chip: sm_80, sm_90, sm_90a, gfx942, gfx950, ...">,
    Option<"numWaves", "num-waves", "int64_t", /*default=*/"0",
           "Waves (warps) per workgroup (0: the target's tuned default)">,
    Option<"queryTilesPerWave", "query-tiles-per-wave", "int64_t",
           /*default=*/"0",
           "Query tiles each wave owns (0: chosen from a register budget)">,
    Option<"blockN", "block-n", "int64_t", /*default=*/"0",
           "Keys staged per iteration (0: chosen from the workgroup memory and register budgets)">,
  ];
  let dependentDialects = [
    "::mlir::attn::AttnDialect", "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def AttnDistributeToMatrixInstructions
    : Pass<"attn-distribute-to-matrix-instructions", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Distribute a kernel's workgroup tiles over lanes and matrix instructions";
  let description = [{
    Stage 4 of the GPU lowering. In each `gpu.func` that carries
    `attn.matrix_instruction` (set by `convert-attn-to-gpu`), the vector
    program on whole workgroup tiles is rewritten into per-lane scalar code
    around the named instruction (`nvgpu.mma.sync`, `nvvm.mma.sync` for
    bf16, or `amdgpu.mfma`). All lane placement comes from the instruction's
    entry in `MatrixInstructions.h` through `AttentionLayout.h`: the same
    code serves every target.

    Values take one of three layouts derived from the accumulator layout:
    a *tile* `[rows x cols]` (rows split over the waves, each wave owning
    consecutive query tiles of the instruction; columns in instruction-wide
    column tiles), a *row* vector `[rows]` or `[rows x 1]`, and a *column*
    vector `[cols]`. Supported ops: splat constants, `vector.broadcast` of
    scalars, rows and columns, `vector.shape_cast` between `[rows]` and
    `[rows x 1]`, `vector.step`, elementwise `arith`/`math` ops,
    `vector.multi_reduction` along the columns (lane-local combination, then
    shuffles across the lanes that share a row), `vector.contract`
    `C[m, n] += A[m, k] B[n, k]` (or `B[k, n]`) whose right-hand side is a
    `vector.transfer_read` (loaded into operand fragments at the
    contraction) and whose left-hand side is either a read (loaded once where
    the read is, so a read hoisted out of a loop stays in registers) or a
    tile in registers (the P of `P V`, whose keys then fix the order in which
    the shared operand is read), `vector.transfer_write` (with a
    `vector.create_mask` mask or out-of-bounds rows), and `scf.for` loops
    carrying tiles and row vectors. Memory accesses are grouped into the
    longest aligned runs of up to 16 bytes along the memref's innermost dim.
    Anything else is reported as an error on the op.
  }];
  let dependentDialects = [
    "::mlir::amdgpu::AMDGPUDialect", "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertMathToTargetIntrinsics
    : Pass<"convert-math-to-target-intrinsics", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lower f32 exp2/log2 (and exp/log, sin/cos) to the GPU's native instructions";
  let description = [{
    Rewrites f32 `math.exp2` and `math.log2` in a `gpu.module` to the
    hardware's approximate instructions, chosen by the module's target
    attribute: `ex2.approx.ftz.f32` / `lg2.approx.ftz.f32` on NVVM targets,
    `rocdl.exp2` / `rocdl.log` (v_exp_f32 / v_log_f32) on ROCDL targets.
    `math.exp` and `math.log` (from user score functions, or from
    `math-expand-ops`' expansions of tanh and the like, which `attn-compile`
    runs first) become the same instructions with a scale by log2(e) or
    ln(2). `math.sin` and `math.cos` are first reduced to one period
    (`t = x / 2 pi - roundeven(x / 2 pi)`, the instructions being accurate
    there only), then become `sin.approx.ftz.f32` / `cos.approx.ftz.f32` of
    `2 pi t`, or `rocdl.sin` / `rocdl.cos` of the turns `t`. Fixed-size 1-D
    vectors of f32 are lowered element by element.
    Upstream conversions would call libdevice or ocml instead; the project
    does not depend on ocml (Debian's device libraries stop at gfx940), and
    attention only needs the native precision.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::ROCDL::ROCDLDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def GPUKernelArgsToAMDGPUBuffers
    : Pass<"gpu-kernel-args-to-amdgpu-buffers", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Access kernel memref arguments through AMD buffer descriptors";
  let description = [{
    At the entry of every `gpu.func` kernel, casts each memref argument in
    the global (default) address space to the
    `#amdgpu.address_space<fat_raw_buffer>` memory space with
    `amdgpu.fat_raw_buffer_cast` and redirects all its uses, so the AMDGPU
    backend emits `buffer_load`/`buffer_store` with a bounds-checked
    descriptor instead of flat or global accesses: scalar base and offset
    registers, and out-of-range reads that return zero. Strided arguments
    (dynamic strides included: the descriptor's extent is computed from the
    sizes and strides at run time) qualify; arguments with a non-strided
    layout or another address space are left alone. `memref.subview`s of a
    cast argument (a ragged batch's per-request rows) move to the same
    memory space, so they read through its descriptor.
  }];
  let dependentDialects = ["::mlir::amdgpu::AMDGPUDialect"];
}

def GPUBarriersToAMDGPULDSBarriers
    : Pass<"gpu-barriers-to-amdgpu-lds-barriers", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Turn kernel barriers that only order LDS into amdgpu.lds_barrier";
  let description = [{
    Rewrites a `gpu.barrier` in a `gpu.func` kernel to `amdgpu.lds_barrier`
    when no work item can rely on it to order accesses to memory outside
    the workgroup (LDS). `gpu.barrier` lowers to `rocdl.barrier`, whose
    workgroup-scope fences cover every address space; `amdgpu.lds_barrier`
    lowers to fences tagged with the local address space only, so the
    backend never has to wait for outstanding global loads and stores
    (`vmcnt`) at it. On gfx942 and gfx950 that wait is emitted in
    threadgroup-split mode (`+tgsplit`), where the waves of a workgroup may
    run on different CUs; otherwise both barriers become the same
    `s_waitcnt lgkmcnt(0)` + `s_barrier`.

    The criterion: a barrier is rewritten when no operation that may write
    non-workgroup memory can run between it and a neighbouring barrier, on
    any control-flow path from the previous `gpu.barrier` (or the kernel
    entry) to it, and from it to the next `gpu.barrier` (or a `gpu.return`).
    Reads never prevent it. Why this is enough: take two accesses of
    different work items to the same global location, at least one a
    write, with barriers between them. If the first is the write, the first
    barrier after it is reachable from it without crossing another barrier,
    so that barrier is kept; if the second is the write, the same holds for
    the last barrier before it. Either way a `gpu.barrier` stands between
    them. The accesses of one work item are ordered by program order.

    May write non-workgroup memory: a write or free effect on a memref
    outside the workgroup and private address spaces, on an LLVM pointer
    outside address spaces 3 and 5, or on no value at all, and any operation
    whose effects are unknown (calls, inline assembly, operations without a
    memory effect interface). Control flow is followed through blocks and
    through operations implementing `RegionBranchOpInterface` (`scf.for`,
    `scf.if`, `scf.while`, ...). Every `gpu.barrier` of the kernel bounds
    the search, including the ones rewritten; an `amdgpu.lds_barrier`
    already in the input does not.

    Left alone: barriers in non-kernel functions, barriers nested in
    operations whose control flow no interface describes, all barriers of a
    kernel with a terminator whose successors are unknown, and barriers that
    carry an attribute. MLIR 22's `gpu.barrier` has no memory-fence list
    (newer MLIR adds `memfence [...]`), so an attribute is information the
    pass cannot interpret.
  }];
  let dependentDialects = ["::mlir::amdgpu::AMDGPUDialect"];
}

#endif // FLASHINFER_CONVERSION_PASSES_TD
