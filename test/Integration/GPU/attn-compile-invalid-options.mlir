// Bad attn-compile options are reported and fail the tool (exit 1), not abort it.
// RUN: not flashinfer-opt %s --attn-compile="chip=gfx1100 o-dir=%t" -o /dev/null 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not flashinfer-opt %s --attn-compile="chip=sm_90a format=elf o-dir=%t" -o /dev/null 2>&1 | FileCheck %s --check-prefix=FORMAT

// CHIP: attn-compile: unsupported chip 'gfx1100' (expected an sm_8x/sm_90[a] or gfx94x/gfx950 name)
// CHIP-NOT: LLVM ERROR
// FORMAT: attn-compile: format must be 'bin' or 'isa', got 'elf'
// FORMAT-NOT: Stack dump

func.func @f(%q: tensor<?x8x64xf16>, %k: tensor<?x8x64xf16>, %v: tensor<?x8x64xf16>, %o: tensor<?x8x64xf16>) -> tensor<?x8x64xf16> {
  %r = attn.attention q(%q : tensor<?x8x64xf16>) k(%k : tensor<?x8x64xf16>) v(%v : tensor<?x8x64xf16>) outs(%o : tensor<?x8x64xf16>) -> tensor<?x8x64xf16>
  return %r : tensor<?x8x64xf16>
}
