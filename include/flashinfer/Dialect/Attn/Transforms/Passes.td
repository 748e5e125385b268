//===- Passes.td - attn dialect transformation passes ------*- tablegen -*-===//

#ifndef FLASHINFER_DIALECT_ATTN_TRANSFORMS_PASSES_TD
#define FLASHINFER_DIALECT_ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnRaiseBuiltinVariants : Pass<"attn-raise-builtin-variants"> {
  let summary = "Turn score_mod/mask_mod regions that spell builtins into attributes";
  let description = [{
    Recognizes `mask_mod` regions that compute the causal mask
    (`kv_idx <= q_idx`) or a causal sliding window
    (`kv_idx <= q_idx && q_idx - kv_idx <= W`), and `score_mod` regions that
    compute a logits soft-cap (`cap * tanh(s / cap)`), and replaces them with
    the equivalent `causal`, `window_left` and `logits_soft_cap` attributes.
    Later stages know the attributes' structure and can skip whole tiles,
    which an opaque region forbids. Regions that are not recognized are left
    alone.
  }];
  let dependentDialects = ["::mlir::attn::AttnDialect"];
}

def AttnDecomposeOnlineAttention : Pass<"attn-decompose-online-attention"> {
  let summary = "Expand attn.online_attention_step into the online softmax on vector tiles";
  let description = [{
    Stage 2 of the GPU lowering. Each `attn.online_attention_step` becomes
    FlashAttention-2's recurrence on whole workgroup tiles: the key and value
    tiles are read with `attn.load_kv_tile` from the step's KV source
    (contiguous or paged; zero past `kv_len` in masked tiles), `S = Q K^T` and `O += P V` are
    `vector.contract`s accumulating in f32, the score is scaled to log2
    units, masked tiles select `-inf` where `vector.step` key indices fail
    the bounds, causal or window test, the running max and sum are
    `vector.multi_reduction`s along the keys, and `math.exp2` computes the
    probabilities and the rescale factor of the previous state. The result
    is target-independent; `attn-distribute-to-matrix-instructions` later
    maps it onto lanes.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def AttnPromoteToWorkgroupMemory
    : Pass<"attn-promote-to-workgroup-memory", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Stage the tiles a whole workgroup reads in workgroup memory";
  let description = [{
    Stage 3 of the GPU lowering, and the lowering of `attn.load_kv_tile`.
    In each loop of a `gpu.func` kernel, an `attn.load_kv_tile` from global
    memory whose only use is the right-hand side of a `vector.contract` (the
    K and V tiles: every query row of the workgroup reads them, while the
    left-hand side's rows belong to one wave) is staged: all threads of the
    workgroup copy the tile into a buffer in workgroup memory with 16-byte
    loads along its rows, between two `gpu.barrier`s placed before the
    loop's first staged tile, and the contraction reads the buffer instead.
    Each copy forms its row's address from the KV source: `[token, head, d]`
    when contiguous; for a paged cache the page id is read from the page
    list (and clamped to the cache's pages, so that a bad id cannot read out
    of bounds) and the slot is the token modulo the page size. Tiles that
    are not staged are read row by row where they are.

    The buffer stores the tile with the contraction's reduction dim
    innermost, so that matrix-instruction operands (which hold runs of
    consecutive k in every lane on all supported targets) read contiguous
    elements: K keeps its `[key][d]` order and V is stored transposed as
    `[dv][key]`. Rows are padded by 16 bytes to spread fragment reads over
    the banks. Rows at or past `kv_len` (unless the load is `in_bounds`) are
    clamped to the last token and filled with zeros. Loops of
    one kernel share buffers of the same source and shape.

    On targets with 16-byte asynchronous copies and a transposing tile load
    (the kernel's `attn.matrix_instruction` names one; on NVIDIA `cp.async`
    and `ldmatrix.trans`), a loop with two or more staged tiles and zero
    padding stages them with `nvgpu.device_async_copy` instead, keeping
    their memory layout (V as `[key][dv]`), and overlaps each copy with the
    work before the tile's use: the loop's first tile is copied before the
    loop; before each use a wait for the thread's copies and a barrier
    publish the tile, and right after them the copy of the next tile starts
    (after the last use's barrier, the first tile of the next iteration,
    guarded by the loop bound). Rows past the end copy nothing and are zero
    filled. A barrier before a use also orders all earlier uses of the
    buffer that the copy after it overwrites.

    Fused RoPE: a staged tile whose load carries `rotary` (the K tile under
    `pos_encoding = rope_llama`) is rotated in the buffer once its copy is
    published (after the wait and barrier before its use, or after the
    synchronous copy's second barrier): each thread turns 16-byte runs of
    the pairs `(d, d + D/2)` of one row at the row's position, in f32, and a
    further barrier publishes the result. A rotated tile that cannot be
    staged is an error, since the product must read the turned rows.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

#endif // FLASHINFER_DIALECT_ATTN_TRANSFORMS_PASSES_TD
