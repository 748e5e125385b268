// A function of several attn ops becomes one gpu.module and one launch
// sequence: each op's kernels in program order (append, then the paged
// decode's split and merge kernels), named <func>_<op index>. The sequence's
// arguments are the function's operands, named after the first kernel
// argument that reads them (the decode reads the caches the append wrote:
// its k_cache is the append's result, so the function's %kc), then the
// decode's planner buffers and workspace. Each launch picks its arguments.
// RUN: flashinfer-opt %s --convert-attn-to-gpu="chip=sm_90a" --split-input-file | FileCheck %s
// RUN: flashinfer-opt %s --attn-compile="chip=sm_90a o-dir=%t/sm_90a format=isa" --split-input-file -o /dev/null
// RUN: FileCheck %s --check-prefix=JSON < %t/sm_90a/serve_kernels.json
// RUN: FileCheck %s --check-prefix=PTX < %t/sm_90a/serve_kernels.ptx
// RUN: flashinfer-opt %s --attn-compile="chip=gfx942 o-dir=%t/gfx942 format=isa" --split-input-file -o /dev/null
// RUN: FileCheck %s --check-prefix=GFX942 < %t/gfx942/serve_kernels.s

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NEXT: attn.kernel_manifest @serve_kernels {arguments = ["k", "v", "batch_indices", "positions", "kv_indices", "kv_indptr", "k_cache", "v_cache", "q", "kv_last_page_len", "schedule", "o_part", "lse_part", "merge_indptr", "o"]
// CHECK-SAME: name = "serve_0", op = "attn.append_paged_kv"
// CHECK-SAME: name = "serve_1", op = "attn.paged_attention"
// CHECK-SAME: name = "serve_1_merge", op = "attn.merge_states"
// CHECK-SAME: launches = [#attn.launch<kernel = "serve_0", arguments = [0, 1, 2, 3, 4, 5, 6, 7]>, #attn.launch<kernel = "serve_1", arguments = [8, 6, 7, 5, 4, 9, 10, 11, 12]>, #attn.launch<kernel = "serve_1_merge", arguments = [11, 12, 13, 14]>]
// CHECK-SAME: target = "sm_90a"
// CHECK-SAME: workspace = [{dtype = "f32", name = "o_part", shape = [{dim = ["schedule", 0]}, 32, 128]}, {dtype = "f32", name = "lse_part", shape = [{dim = ["schedule", 0]}, 32]}]}
// CHECK-NEXT: gpu.module @serve_kernels {
// CHECK: gpu.func @serve_0(
// CHECK: gpu.func @serve_1(
// CHECK: gpu.func @serve_1_merge(
// CHECK-NOT: func.func

// JSON: "sequence": {
// JSON-NEXT: "args": [
// JSON-NEXT: "k",
// JSON: "launches": [
// JSON: "kernel": "serve_0"
// JSON: "kernel": "serve_1"
// JSON: "kernel": "serve_1_merge"
// JSON: "workspace": [

// PTX-DAG: .entry serve_0(
// PTX-DAG: .entry serve_1(
// PTX-DAG: .entry serve_1_merge(
// GFX942-DAG: serve_0:
// GFX942-DAG: serve_1:
// GFX942-DAG: serve_1_merge:
// GFX942-NOT: scratch_

func.func @serve(%k: tensor<?x8x128xbf16>, %v: tensor<?x8x128xbf16>, %b: tensor<?xi32>, %p: tensor<?xi32>, %idx: tensor<?xi32>, %ip: tensor<?xi32>, %kc: tensor<?x16x8x128xbf16>, %vc: tensor<?x16x8x128xbf16>, %q: tensor<?x32x128xbf16>, %last: tensor<?xi32>, %o: tensor<?x32x128xbf16>) -> tensor<?x32x128xbf16> {
  %kc2, %vc2 = attn.append_paged_kv k(%k : tensor<?x8x128xbf16>) v(%v : tensor<?x8x128xbf16>) batch_indices(%b : tensor<?xi32>) positions(%p : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_indptr(%ip : tensor<?xi32>) outs(%kc, %vc : tensor<?x16x8x128xbf16>, tensor<?x16x8x128xbf16>) -> tensor<?x16x8x128xbf16>, tensor<?x16x8x128xbf16>
  %r = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc2 : tensor<?x16x8x128xbf16>) v_cache(%vc2 : tensor<?x16x8x128xbf16>) kv_indptr(%ip : tensor<?xi32>) kv_indices(%idx : tensor<?xi32>) kv_last_page_len(%last : tensor<?xi32>) outs(%o : tensor<?x32x128xbf16>) -> tensor<?x32x128xbf16>
  return %r : tensor<?x32x128xbf16>
}

// -----

// Two decodes in one function (cascade's shared prefix and unique suffix,
// then their merge): the second op's planner buffers and workspace take its
// index as a suffix, and its workspace shape names its own schedule. The
// merge_states of the two outputs reads what both wrote.
// CHECK-LABEL: attn.kernel_manifest @cascade_kernels
// CHECK-SAME: arguments = ["q", "k_cache", "v_cache", "kv_indptr", "kv_indices", "kv_last_page_len", "schedule", "o_part", "lse_part", "merge_indptr", "o", "lse", "kv_indptr_1", "kv_indices_1", "kv_last_page_len_1", "schedule_1", "o_part_1", "lse_part_1", "merge_indptr_1", "o_1", "lse_1", "o_2", "lse_2"]
// CHECK-SAME: #attn.launch<kernel = "cascade_2", arguments = [10, 19, 11, 20, 21, 22]>
// CHECK-SAME: workspace = [{dtype = "f32", name = "o_part", shape = [{dim = ["schedule", 0]}, 32, 128]}, {dtype = "f32", name = "lse_part", shape = [{dim = ["schedule", 0]}, 32]}, {dtype = "f32", name = "o_part_1", shape = [{dim = ["schedule_1", 0]}, 32, 128]}, {dtype = "f32", name = "lse_part_1", shape = [{dim = ["schedule_1", 0]}, 32]}]}

func.func @cascade(%q: tensor<?x32x128xbf16>, %kc: tensor<?x16x8x128xbf16>, %vc: tensor<?x16x8x128xbf16>, %ip0: tensor<?xi32>, %idx0: tensor<?xi32>, %last0: tensor<?xi32>, %ip1: tensor<?xi32>, %idx1: tensor<?xi32>, %last1: tensor<?xi32>, %o0: tensor<?x32x128xbf16>, %l0: tensor<?x32xf32>, %o1: tensor<?x32x128xbf16>, %l1: tensor<?x32xf32>, %o: tensor<?x32x128xbf16>, %l: tensor<?x32xf32>) -> (tensor<?x32x128xbf16>, tensor<?x32xf32>) {
  %a:2 = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x16x8x128xbf16>) v_cache(%vc : tensor<?x16x8x128xbf16>) kv_indptr(%ip0 : tensor<?xi32>) kv_indices(%idx0 : tensor<?xi32>) kv_last_page_len(%last0 : tensor<?xi32>) outs(%o0, %l0 : tensor<?x32x128xbf16>, tensor<?x32xf32>) -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  %b:2 = attn.paged_attention q(%q : tensor<?x32x128xbf16>) k_cache(%kc : tensor<?x16x8x128xbf16>) v_cache(%vc : tensor<?x16x8x128xbf16>) kv_indptr(%ip1 : tensor<?xi32>) kv_indices(%idx1 : tensor<?xi32>) kv_last_page_len(%last1 : tensor<?xi32>) outs(%o1, %l1 : tensor<?x32x128xbf16>, tensor<?x32xf32>) -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  %m:2 = attn.merge_states values(%a#0, %b#0 : tensor<?x32x128xbf16>, tensor<?x32x128xbf16>) lse(%a#1, %b#1 : tensor<?x32xf32>, tensor<?x32xf32>) outs(%o, %l : tensor<?x32x128xbf16>, tensor<?x32xf32>) -> tensor<?x32x128xbf16>, tensor<?x32xf32>
  return %m#0, %m#1 : tensor<?x32x128xbf16>, tensor<?x32xf32>
}
