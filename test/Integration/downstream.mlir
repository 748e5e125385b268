// Builds test/downstream, an out-of-tree compiler, against this project's
// FlashInferMLIR CMake package and runs it on this file: first from the build
// tree (no install), then from an install prefix.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %cmake -G "%cmake_generator" -S %flashinfer_src/test/downstream \
// RUN:   -B %t/from-build -DCMAKE_BUILD_TYPE=Release \
// RUN:   -DCMAKE_CXX_COMPILER=%cxx_compiler %downstream_flags \
// RUN:   -DFlashInferMLIR_DIR=%flashinfer_obj/lib/cmake/FlashInferMLIR > %t/log
// RUN: %cmake --build %t/from-build >> %t/log
// RUN: %t/from-build/flashinfer-downstream %s attn-raise-builtin-variants \
// RUN:   | FileCheck %s
// RUN: not %t/from-build/flashinfer-downstream %s no-such-pass 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BADPASS
//
// RUN: %cmake --install %flashinfer_obj --prefix %t/prefix \
// RUN:   --component flashinfer-cmake-package >> %t/log
// RUN: %cmake -G "%cmake_generator" -S %flashinfer_src/test/downstream \
// RUN:   -B %t/from-install -DCMAKE_BUILD_TYPE=Release \
// RUN:   -DCMAKE_CXX_COMPILER=%cxx_compiler %downstream_flags \
// RUN:   -DFlashInferMLIR_DIR=%t/prefix/lib/cmake/FlashInferMLIR >> %t/log
// RUN: %cmake --build %t/from-install >> %t/log
// RUN: %t/from-install/flashinfer-downstream %s attn-raise-builtin-variants \
// RUN:   | FileCheck %s

// The causal mask_mod region is raised to the `causal` attribute.
// CHECK-LABEL: func.func @causal
// CHECK: attn.attention
// CHECK-SAME: attributes {causal} -> tensor<?x4x64xf16>
// CHECK-NOT: mask_mod
// CHECK: return

// BADPASS: 'no-such-pass' does not refer to a registered pass or pass pipeline
func.func @causal(%q: tensor<?x4x64xf16>, %k: tensor<?x4x64xf16>,
                  %v: tensor<?x4x64xf16>, %o: tensor<?x4x64xf16>)
    -> tensor<?x4x64xf16> {
  %r = attn.attention q(%q : tensor<?x4x64xf16>) k(%k : tensor<?x4x64xf16>)
         v(%v : tensor<?x4x64xf16>) outs(%o : tensor<?x4x64xf16>)
         mask_mod {
         ^bb0(%b: index, %h: index, %qi: index, %ki: index):
           %m = arith.cmpi sle, %ki, %qi : index
           attn.yield %m : i1
         } -> tensor<?x4x64xf16>
  return %r : tensor<?x4x64xf16>
}
