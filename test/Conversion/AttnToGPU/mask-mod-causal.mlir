// A mask_mod region that spells causal is compiled: attn-compile raises it to
// the `causal` attribute before convert-attn-to-gpu, so that whole tiles past
// the diagonal are skipped.

// RUN: flashinfer-opt %s --attn-raise-builtin-variants --convert-attn-to-gpu="chip=sm_90a" | FileCheck %s --check-prefix=PASSES
// PASSES: attn.kernel_manifest @prefill_kernels {{.*}}kernels = [#attn.kernel<{{.*}}params = {{{.*}}causal = true,
// PASSES: gpu.func @prefill(

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t" -o /dev/null
// RUN: FileCheck %s --check-prefix=JSON < %t/prefill_kernels.json
// RUN: FileCheck %s --check-prefix=PTX < %t/prefill_kernels.ptx
// JSON: "causal": true,
// PTX: .visible .entry prefill(

// Without the raise the region is compiled as an opaque mask function: every
// key tile is visited and masked, none skipped.
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" | FileCheck %s --check-prefix=NORAISE
// NORAISE: params = {{{.*}}causal = false,{{.*}}mask_mod = true
// NORAISE: attn.online_attention_step {{.*}} mask_mod {
// NORAISE: arith.cmpi sle
// NORAISE: {{.*}}masked

func.func @prefill(%q: tensor<?x4x64xf16>, %k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %o: tensor<?x4x64xf16>) -> tensor<?x4x64xf16> {
  %r = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x4x64xf16>) v(%v : tensor<?x4x64xf16>) outs(%o : tensor<?x4x64xf16>) mask_mod {
  ^bb0(%b: index, %h: index, %qi: index, %ki: index):
    %visible = arith.cmpi sle, %ki, %qi : index
    attn.yield %visible : i1
  } -> tensor<?x4x64xf16>
  return %r : tensor<?x4x64xf16>
}
