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

#endif // FLASHINFER_DIALECT_ATTN_IR_ATTNBASE_TD
