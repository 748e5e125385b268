// attn-write-code-objects writes each gpu.binary's object as
// <dir>/<binary>.<ext>, the extension chosen by target and format, and the
// manifest <dir>/<binary>.json from the attn.kernel_manifest that refers to
// the binary.

// RUN: rm -rf %t && flashinfer-opt %s --attn-write-code-objects="o-dir=%t/out" | FileCheck %s --check-prefix=IR
// RUN: ls %t/out | FileCheck %s --check-prefix=FILES
// RUN: cat %t/out/nv_bin.cubin %t/out/nv_isa.ptx %t/out/amd_bin.hsaco %t/out/amd_isa.s | FileCheck %s --check-prefix=OBJECTS
// RUN: FileCheck %s --check-prefix=NV-BIN < %t/out/nv_bin.json
// RUN: FileCheck %s --check-prefix=NV-ISA < %t/out/nv_isa.json
// RUN: FileCheck %s --check-prefix=AMD-BIN < %t/out/amd_bin.json
// RUN: FileCheck %s --check-prefix=AMD-ISA < %t/out/amd_isa.json

// The IR passes through unchanged.
// IR: gpu.binary @nv_bin
// IR: gpu.binary @amd_isa

// FILES: amd_bin.hsaco
// FILES-NEXT: amd_bin.json
// FILES-NEXT: amd_isa.json
// FILES-NEXT: amd_isa.s
// FILES-NEXT: nv_bin.cubin
// FILES-NEXT: nv_bin.json
// FILES-NEXT: nv_isa.json
// FILES-NEXT: nv_isa.ptx
// FILES-NOT: {{.}}

// The object bytes are written verbatim.
// OBJECTS: CUBIN-BYTES
// OBJECTS-NEXT: .version 8.0
// OBJECTS-NEXT: HSACO-BYTES
// OBJECTS-NEXT: .amdgcn_target "amdgcn-amd-amdhsa--gfx950"

// The manifest: version 1, the chip of the object's target, the file
// written beside it, its format and the recorded kernels as JSON (integers,
// floats, booleans, strings, arrays and objects).
// NV-BIN:      {
// NV-BIN-NEXT:   "binary": "nv_bin.cubin",
// NV-BIN-NEXT:   "format": "binary",
// NV-BIN-NEXT:   "kernels": [
// NV-BIN-NEXT:     {
// NV-BIN-NEXT:       "args": [
// NV-BIN-NEXT:         {
// NV-BIN-NEXT:           "dtype": "f16",
// NV-BIN-NEXT:           "kind": "memref",
// NV-BIN-NEXT:           "name": "q",
// NV-BIN-NEXT:           "rank": 3
// NV-BIN-NEXT:         }
// NV-BIN-NEXT:       ],
// NV-BIN-NEXT:       "block": [
// NV-BIN-NEXT:         128,
// NV-BIN-NEXT:         1,
// NV-BIN-NEXT:         1
// NV-BIN-NEXT:       ],
// NV-BIN-NEXT:       "dynamic_shared_memory": 0,
// NV-BIN-NEXT:       "grid": [
// NV-BIN-NEXT:         {
// NV-BIN-NEXT:           "ceil_div": [
// NV-BIN-NEXT:             "q",
// NV-BIN-NEXT:             0,
// NV-BIN-NEXT:             64
// NV-BIN-NEXT:           ]
// NV-BIN-NEXT:         },
// NV-BIN-NEXT:         8,
// NV-BIN-NEXT:         1
// NV-BIN-NEXT:       ],
// NV-BIN-NEXT:       "name": "attn_fwd",
// NV-BIN-NEXT:       "op": "attn.attention",
// NV-BIN-NEXT:       "params": {
// NV-BIN-NEXT:         "causal": true,
// NV-BIN-NEXT:         "lse_base": "2",
// NV-BIN-NEXT:         "sm_scale": 0.125
// NV-BIN-NEXT:       },
// NV-BIN-NEXT:       "static_shared_memory": 4096
// NV-BIN-NEXT:     }
// NV-BIN-NEXT:   ],
// The launch sequence: its arguments, each launch's picks from them, and
// the workspace buffers among them.
// NV-BIN-NEXT:   "sequence": {
// NV-BIN-NEXT:     "args": [
// NV-BIN-NEXT:       "q"
// NV-BIN-NEXT:     ],
// NV-BIN-NEXT:     "launches": [
// NV-BIN-NEXT:       {
// NV-BIN-NEXT:         "args": [
// NV-BIN-NEXT:           0
// NV-BIN-NEXT:         ],
// NV-BIN-NEXT:         "kernel": "attn_fwd"
// NV-BIN-NEXT:       }
// NV-BIN-NEXT:     ],
// NV-BIN-NEXT:     "workspace": []
// NV-BIN-NEXT:   },
// NV-BIN-NEXT:   "target": "sm_90a",
// NV-BIN-NEXT:   "version": 1
// NV-BIN-NEXT: }

// NV-ISA: "binary": "nv_isa.ptx",
// NV-ISA-NEXT: "format": "assembly",
// NV-ISA: "name": "ptx_kernel"
// NV-ISA: "target": "sm_80",

// AMD-BIN: "binary": "amd_bin.hsaco",
// AMD-BIN-NEXT: "format": "binary",
// AMD-BIN: "name": "a0"
// AMD-BIN: "name": "a1"
// AMD-BIN: "target": "gfx942",

// AMD-ISA: "binary": "amd_isa.s",
// AMD-ISA-NEXT: "format": "assembly",
// AMD-ISA: "target": "gfx950",

module {
  attn.kernel_manifest @nv_bin {arguments = ["q"], kernels = [
      #attn.kernel<args = [{name = "q", kind = "memref", dtype = "f16", rank = 3}],
                   block = [128, 1, 1], grid = [{ceil_div = ["q", 0, 64]}, 8, 1],
                   name = "attn_fwd", op = "attn.attention",
                   params = {causal = true, sm_scale = 0.125 : f64, lse_base = "2"},
                   static_shared_memory = 4096>],
      launches = [#attn.launch<kernel = "attn_fwd", arguments = [0]>], target = "sm_90a"}
  attn.kernel_manifest @nv_isa {arguments = [], kernels = [#attn.kernel<args = [], block = [1, 1, 1], grid = [1, 1, 1], name = "ptx_kernel", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [], target = "sm_80"}
  attn.kernel_manifest @amd_bin {arguments = [], kernels = [#attn.kernel<args = [], block = [1, 1, 1], grid = [1, 1, 1], name = "a0", op = "attn.attention", params = {}, static_shared_memory = 0>, #attn.kernel<args = [], block = [1, 1, 1], grid = [1, 1, 1], name = "a1", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [], target = "gfx942"}
  attn.kernel_manifest @amd_isa {arguments = [], kernels = [#attn.kernel<args = [], block = [1, 1, 1], grid = [1, 1, 1], name = "s_kernel", op = "attn.attention", params = {}, static_shared_memory = 0>], launches = [], target = "gfx950"}
  gpu.binary @nv_bin [#gpu.object<#nvvm.target<chip = "sm_90a">, bin = "CUBIN-BYTES\0A">]
  gpu.binary @nv_isa [#gpu.object<#nvvm.target<chip = "sm_80">, assembly = ".version 8.0\0A">]
  gpu.binary @amd_bin [#gpu.object<#rocdl.target<chip = "gfx942">, bin = "HSACO-BYTES\0A">]
  gpu.binary @amd_isa [#gpu.object<#rocdl.target<chip = "gfx950">, assembly = ".amdgcn_target \22amdgcn-amd-amdhsa--gfx950\22\0A">]
}
