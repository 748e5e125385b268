//===- AttnBase.td - attn dialect definition ---------------*- tablegen -*-===//
//
// The `attn` dialect: LLM-serving attention (FlashInfer's surface) as ops.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHINFER_DIALECT_ATTN_IR_ATTNBASE_TD
#define FLASHINFER_DIALECT_ATTN_IR_ATTNBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Attention for LLM serving: ragged and paged, with variants";
  let description = [{
    The `attn` dialect expresses the attention computations of an LLM serving
    engine at the level FlashInfer exposes them: batched prefill and decode over
    ragged (contiguous) or paged key/value storage, the attention variants
    (causal, sliding window, logits soft-cap, ALiBi, RoPE, custom masks,
    attention sinks, user-defined score and mask functions), merging of
    attention states (cascade attention, split-KV), RoPE application and
    appending to a paged KV cache.

    All ops have tensor semantics in destination-passing style. Dimensions may
    be dynamic. `convert-attn-to-linalg` gives every op its reference meaning
    in upstream dialects; faster lowerings must agree with it.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
  // Facts the GPU stages pass to each other on the kernels they build.
  let discardableAttrs = (ins
    "::mlir::attn::MatrixInstructionAttr":$matrix_instruction
  );
  let hasOperationAttrVerify = 1;
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Attn_PosEncodingNone : I32EnumAttrCase<"none", 0>;
def Attn_PosEncodingRopeLlama : I32EnumAttrCase<"rope_llama", 1>;
def Attn_PosEncodingAlibi : I32EnumAttrCase<"alibi", 2>;
def Attn_PosEncoding : I32EnumAttr<"PosEncoding",
    "positional encoding applied inside attention",
    [Attn_PosEncodingNone, Attn_PosEncodingRopeLlama, Attn_PosEncodingAlibi]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}
def Attn_PosEncodingAttr : EnumAttr<Attn_Dialect, Attn_PosEncoding,
                                    "pos_encoding"> {
  let assemblyFormat = "`<` $value `>`";
}

def Attn_KVLayoutNHD : I32EnumAttrCase<"nhd", 0>;
def Attn_KVLayoutHND : I32EnumAttrCase<"hnd", 1>;
def Attn_KVLayout : I32EnumAttr<"KVLayout",
    "layout of one page of the paged KV cache",
    [Attn_KVLayoutNHD, Attn_KVLayoutHND]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}
def Attn_KVLayoutAttr : EnumAttr<Attn_Dialect, Attn_KVLayout, "kv_layout"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Attributes of ops
//===----------------------------------------------------------------------===//

def Attn_F32Parameter : AttrOrTypeParameter<"::llvm::APFloat", "an f32 value"> {
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(static_cast<float>(value));
  }() }];
  let printer = [{ $_printer.printFloat($_self) }];
}

def Attn_Llama31ScalingAttr : AttrDef<Attn_Dialect, "Llama31Scaling"> {
  let mnemonic = "llama31_scaling";
  let summary = "Llama 3.1's RoPE frequency scaling";
  let description = [{
    Rescales each rotary frequency `f = rope_theta^(-2i/rotary_dim)` by how
    its wavelength compares with the pre-training context: with
    `s = clamp(f * old_context_len / (2 pi (high_freq_factor -
    low_freq_factor)) - low_freq_factor / (high_freq_factor -
    low_freq_factor), 0, 1)`, the frequency is
    `(1 - s) * f / rope_scale + s * f`. High frequencies (`s = 1`) are
    kept, low ones (`s = 0`) divided by `rope_scale`, and those between
    interpolated (Meta's Llama 3.1, FlashInfer's `apply_llama31_rope`).

    ```mlir
    #attn.llama31_scaling<low_freq_factor = 1.0, high_freq_factor = 4.0,
                          old_context_len = 8192.0>
    ```
  }];
  let parameters = (ins Attn_F32Parameter:$low_freq_factor,
                        Attn_F32Parameter:$high_freq_factor,
                        Attn_F32Parameter:$old_context_len);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The parameters as floats.
    float getLowFreq() const { return getLowFreqFactor().convertToFloat(); }
    float getHighFreq() const { return getHighFreqFactor().convertToFloat(); }
    float getOldContext() const { return getOldContextLen().convertToFloat(); }
    /// `s = clamp(f * slope + offset, 0, 1)` for frequency `f`.
    float getSmoothSlope() const;
    float getSmoothOffset() const;
    /// Builds the rescaled frequency `(1 - s) * scaled + s * freq` of the
    /// f32 (scalar or vector) frequencies `freq`, `scaled` being
    /// `freq / rope_scale`: the one formula the reference lowering and the
    /// GPU kernel both emit.
    ::mlir::Value buildFrequency(::mlir::OpBuilder &builder,
                                 ::mlir::Location loc, ::mlir::Value freq,
                                 ::mlir::Value scaled) const;
  }];
}

def Attn_RotaryAttr : AttrDef<Attn_Dialect, "Rotary"> {
  let mnemonic = "rotary";
  let summary = "rotate-half RoPE of rows at their positions";
  let description = [{
    The rotation of `pos_encoding = rope_llama` as the GPU stages carry it
    from the attention op to the code that applies it: feature `i` of a
    `D`-wide row at position `pos` is paired with feature `i + D/2` (for
    `i < D/2`), and the pair `(x, y)` is turned by the angle
    `pos * theta^(-2i/D) / scale` to `(x cos - y sin, y cos + x sin)`.

    ```mlir
    #attn.rotary<theta = 10000.0, scale = 1.0>
    ```
  }];
  let parameters = (ins Attn_F32Parameter:$theta, Attn_F32Parameter:$scale);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Builds the angles `pos * theta^(-2 i / dim) / scale` of the f32
    /// (scalar or vector) pair indices `pairs` at the f32 positions `pos`
    /// (of the same type): the one formula every GPU stage that rotates
    /// emits (the reference lowering's emitRope computes the same angle).
    /// `theta` / `scale` (f32 scalars known at launch), when given, replace
    /// the attribute's.
    ::mlir::Value buildAngles(::mlir::OpBuilder &builder, ::mlir::Location loc,
                              ::mlir::Value pairs, ::mlir::Value pos,
                              int64_t dim, ::mlir::Value theta = {},
                              ::mlir::Value scale = {}) const;
    /// Turns the f32 pairs `(x, y)` by `angle`: `(x cos - y sin, y cos + x
    /// sin)`.
    static std::pair<::mlir::Value, ::mlir::Value>
    buildRotation(::mlir::OpBuilder &builder, ::mlir::Location loc,
                  ::mlir::Value x, ::mlir::Value y, ::mlir::Value angle);
    /// The same with the cosine and sine given.
    static std::pair<::mlir::Value, ::mlir::Value>
    rotatePair(::mlir::OpBuilder &builder, ::mlir::Location loc,
               ::mlir::Value x, ::mlir::Value y, ::mlir::Value cos,
               ::mlir::Value sin);
  }];
}

//===----------------------------------------------------------------------===//
// Attributes the GPU stages pass between them
//===----------------------------------------------------------------------===//

def Attn_MatrixInstructionAttr : AttrDef<Attn_Dialect, "MatrixInstruction"> {
  let mnemonic = "matrix_instruction";
  let summary = "the matrix instruction a GPU kernel's tiles are sized for";
  let description = [{
    Names an entry of the per-target instruction table
    (`flashinfer/Target/MatrixInstructions.h`): its shape, lane layouts,
    tile loads and chip limits. `convert-attn-to-gpu` records it on each
    kernel (`gpu.func`) it tiles, as the discardable attribute
    `attn.matrix_instruction`; workgroup-memory promotion reads it for the
    staging rule, and `attn-distribute-to-matrix-instructions` lays the
    tiles onto that instruction and removes it. A name the table does not
    hold is rejected when the attribute is built or parsed.

    ```mlir
    gpu.func @k() kernel attributes {
        attn.matrix_instruction = #attn.matrix_instruction<"mma.sync.m16n8k16.f32.f16">}
    ```
  }];
  let parameters = (ins StringRefParameter<"name in the instruction table">:$name);
  let assemblyFormat = "`<` $name `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The table entry (present: the attribute is verified).
    ::mlir::attn::MatrixInstr getInstr() const;
  }];
}

def Attn_KernelAttr : AttrDef<Attn_Dialect, "Kernel"> {
  let mnemonic = "kernel";
  let summary = "one kernel of a launch sequence, as the runtime launches it";
  let description = [{
    What `convert-attn-to-gpu` decides about one kernel it builds and the
    runtime needs to launch it: the `gpu.func`'s `name`, the attn `op` it
    implements, the block size, the grid and the size relations of the
    arguments, and the static workgroup memory. `params` holds the problem
    (head counts and dims, variant, tiling, schedule kind) for callers that
    pick and plan kernels. It is recorded in an `attn.kernel_manifest`, and
    `attn-write-code-objects` writes it as one entry of the JSON manifest's
    `kernels` (docs/runtime.md gives the format).

    `grid` entries and argument shape entries are integers or size
    expressions over the arguments: `{dim = ["q", 0]}`,
    `{ceil_div = ["k", 0, 64]}`, `{add = [e, 1]}`, `{mul = [e, e]}`,
    `{min = [e, e]}`. Each entry of `args` describes one kernel argument:
    `name`, `kind` (`memref` or `scalar`), `dtype`, and for memrefs `rank`,
    `shape` (-1 where free), `layout` (`contiguous` or `strided`) and
    `align`; scalars may carry `multiple_of`.

    ```mlir
    #attn.kernel<args = [...], block = [128, 1, 1], grid = [32, 1, 1],
                 name = "decode_merge", op = "attn.merge_states",
                 params = {...}, static_shared_memory = 0>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"the gpu.func's name">:$name,
    StringRefParameter<"the attn op the kernel implements">:$op,
    "::mlir::DictionaryAttr":$params,
    ArrayRefParameter<"int64_t", "block size">:$block,
    "::mlir::ArrayAttr":$grid,
    "int64_t":$static_shared_memory,
    "::mlir::ArrayAttr":$args);
  // Keys in alphabetical order, as the JSON manifest prints them.
  let assemblyFormat = [{
    `<` `args` `=` $args `,` `block` `=` custom<IntList>($block) `,` `grid` `=` $grid `,`
    `name` `=` $name `,` `op` `=` $op `,` `params` `=` $params `,`
    `static_shared_memory` `=` $static_shared_memory `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Argument i's name.
    ::llvm::StringRef getArgName(unsigned i) const;
  }];
}

def Attn_KernelLaunchAttr : AttrDef<Attn_Dialect, "KernelLaunch"> {
  let mnemonic = "launch";
  let summary = "one launch of a launch sequence: a kernel and its arguments";
  let description = [{
    Launch `kernel` (a `#attn.kernel`'s name in the same manifest) with, for
    each of its arguments in order, the sequence argument at that index of
    `arguments` (`attn.kernel_manifest`'s `arguments`).

    ```mlir
    #attn.launch<kernel = "serve_1", arguments = [7, 1, 2, 5, 6, 8, 9]>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"kernel name">:$kernel,
    ArrayRefParameter<"int64_t", "sequence argument of each kernel argument">:$arguments);
  let assemblyFormat = [{
    `<` `kernel` `=` $kernel `,` `arguments` `=` custom<IntList>($arguments) `>`
  }];
}

#endif // FLASHINFER_DIALECT_ATTN_IR_ATTNBASE_TD
