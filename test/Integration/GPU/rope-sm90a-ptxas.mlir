// REQUIRES: ptxas
// attn.rope for sm_90a (the IR of rope-gfx942.mlir, plus angles from a
// cos/sin cache): ptxas accepts it, with 16-byte global loads and stores,
// the angles reduced to one period (cvt.rni) before sin.approx / cos.approx,
// and no stack.

// RUN: rm -rf %t && flashinfer-opt %s --attn-compile="chip=sm_90a format=isa o-dir=%t" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX < %t/rope_qk_kernels.ptx
// RUN: ptxas -arch=sm_90a -v %t/rope_qk_kernels.ptx -o %t/rope.cubin 2>&1 | FileCheck %s

// PTX: .entry rope_qk_0
// PTX: ld.global.v4.b32
// PTX: cvt.rni.f32.f32
// PTX: cos.approx.ftz.f32
// PTX: sin.approx.ftz.f32
// PTX: st.global.v4.b32
// PTX: .entry rope_qk_2
// PTX-NOT: sin.approx
// PTX: st.global.v4.b32

// CHECK-DAG: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// CHECK-NOT: bytes stack frame, {{[1-9]}}

func.func @rope_qk(%q: tensor<?x32x128xf16>, %pos: tensor<?xi32>, %qo: tensor<?x32x128xf16>,
                   %k: tensor<?x8x128xbf16>, %ip: tensor<?xi32>, %off: tensor<?xi32>, %ko: tensor<?x8x128xbf16>,
                   %c: tensor<?x64xf32>, %k2: tensor<?x8x128xf16>, %ko2: tensor<?x8x128xf16>)
    -> (tensor<?x32x128xf16>, tensor<?x8x128xbf16>, tensor<?x8x128xf16>) {
  %a = attn.rope %q pos_ids(%pos : tensor<?xi32>) outs(%qo : tensor<?x32x128xf16>) : tensor<?x32x128xf16> -> tensor<?x32x128xf16>
  %b = attn.rope %k indptr(%ip : tensor<?xi32>) offsets(%off : tensor<?xi32>) outs(%ko : tensor<?x8x128xbf16>)
     {interleave, rope_scale = 8.0 : f32, rope_theta = 500000.0 : f32, llama31_scaling = #attn.llama31_scaling<low_freq_factor = 1.0, high_freq_factor = 4.0, old_context_len = 8192.0>} : tensor<?x8x128xbf16> -> tensor<?x8x128xbf16>
  %d = attn.rope %k2 pos_ids(%pos : tensor<?xi32>) cos_sin_cache(%c : tensor<?x64xf32>) outs(%ko2 : tensor<?x8x128xf16>) : tensor<?x8x128xf16> -> tensor<?x8x128xf16>
  return %a, %b, %d : tensor<?x32x128xf16>, tensor<?x8x128xbf16>, tensor<?x8x128xf16>
}
