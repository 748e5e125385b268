/*===- runtime.h - FlashInfer-MLIR launch runtime C API -----------*- C -*-===//
//
// Loads a GPU code object (CUDA cubin or AMDGPU code object) described by a
// JSON manifest and launches its kernels. The CUDA driver (libcuda.so.1) or
// HIP (libamdhip64) is opened with dlopen on first use, so neither SDK is
// needed to build or to link against this library.
//
// Every function returns a fimlir_status; on failure a message describing
// the cause is available from fimlir_last_error() on the calling thread.
//
//===----------------------------------------------------------------------===*/

#ifndef FLASHINFER_RUNTIME_RUNTIME_H
#define FLASHINFER_RUNTIME_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define FIMLIR_API
#else
#define FIMLIR_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define FIMLIR_MAX_RANK 8

/* fimlir_module_load reads the manifest and the code object only if they are
 * regular files of at most this many bytes (1 GiB); anything else (a
 * directory, a device such as /dev/zero, a FIFO, a larger file) fails with
 * FIMLIR_ERROR_IO before it is read. */
#define FIMLIR_MAX_FILE_SIZE (UINT64_C(1) << 30)

typedef enum fimlir_status {
  FIMLIR_SUCCESS = 0,
  /* A null handle or pointer, or an out-of-range value, was passed to the
   * API. */
  FIMLIR_ERROR_INVALID_VALUE = 1,
  /* The manifest is not valid JSON or does not follow the format. */
  FIMLIR_ERROR_MANIFEST = 2,
  /* A file could not be read. */
  FIMLIR_ERROR_IO = 3,
  /* The image is not a CUDA cubin or AMDGPU code object, or it does not
   * match the manifest target. */
  FIMLIR_ERROR_BINARY = 4,
  /* libcuda.so.1 / libamdhip64 could not be loaded or lacks a symbol. */
  FIMLIR_ERROR_DRIVER_NOT_FOUND = 5,
  /* The driver reports no device, or the device index is out of range. */
  FIMLIR_ERROR_NO_DEVICE = 6,
  /* The code object was built for another GPU architecture. */
  FIMLIR_ERROR_TARGET_MISMATCH = 7,
  /* No kernel of that name in the manifest. */
  FIMLIR_ERROR_NOT_FOUND = 8,
  /* Launch arguments do not match the manifest. */
  FIMLIR_ERROR_ARGUMENT = 9,
  /* A driver call failed; the message has the driver's error name. */
  FIMLIR_ERROR_DRIVER = 10,
  /* Out of host memory. */
  FIMLIR_ERROR_OUT_OF_MEMORY = 11,
} fimlir_status;

typedef enum fimlir_backend {
  FIMLIR_BACKEND_AUTO = 0, /* chosen by the first module loaded */
  FIMLIR_BACKEND_CUDA = 1,
  FIMLIR_BACKEND_HIP = 2,
} fimlir_backend;

/* Element types; the manifest spells them as MLIR does ("f16", "bf16",
 * "f8E4M3FN", "i32", "ui8", ...). */
typedef enum fimlir_dtype {
  FIMLIR_DTYPE_INVALID = 0,
  FIMLIR_DTYPE_F16 = 1,
  FIMLIR_DTYPE_BF16 = 2,
  FIMLIR_DTYPE_F32 = 3,
  FIMLIR_DTYPE_F64 = 4,
  FIMLIR_DTYPE_F8E4M3FN = 5,
  FIMLIR_DTYPE_F8E5M2 = 6,
  FIMLIR_DTYPE_I1 = 7,
  FIMLIR_DTYPE_I8 = 8,
  FIMLIR_DTYPE_I16 = 9,
  FIMLIR_DTYPE_I32 = 10,
  FIMLIR_DTYPE_I64 = 11,
  FIMLIR_DTYPE_UI8 = 12,
  FIMLIR_DTYPE_F8E4M3FNUZ = 13, /* gfx942's e4m3 */
} fimlir_dtype;

typedef enum fimlir_arg_kind {
  FIMLIR_ARG_TENSOR = 1,
  FIMLIR_ARG_SCALAR = 2,
} fimlir_arg_kind;

/* A strided view of device memory. Sizes and strides count elements. */
typedef struct fimlir_tensor {
  void *data;
  int32_t rank;
  int32_t dtype; /* fimlir_dtype */
  int64_t sizes[FIMLIR_MAX_RANK];
  int64_t strides[FIMLIR_MAX_RANK];
} fimlir_tensor;

/* A scalar. dtype says which member holds the value: I1/I8/I16/I32/I64 use
 * `i`, F32/F64 use `f`. It is converted to the manifest's scalar type with a
 * range check (an integer may become a float, not the reverse). */
typedef struct fimlir_scalar {
  int32_t dtype; /* fimlir_dtype */
  int32_t reserved;
  union {
    int64_t i;
    double f;
  } value;
} fimlir_scalar;

typedef struct fimlir_arg {
  int32_t kind; /* fimlir_arg_kind */
  int32_t reserved;
  union {
    fimlir_tensor tensor;
    fimlir_scalar scalar;
  } u;
} fimlir_arg;

typedef struct fimlir_launch_info {
  uint32_t grid[3];
  uint32_t block[3];
  uint32_t dynamic_shared_memory; /* bytes */
} fimlir_launch_info;

typedef struct fimlir_context fimlir_context;
typedef struct fimlir_module fimlir_module;
typedef struct fimlir_kernel fimlir_kernel;

/* Message of the last failure on this thread ("" if none). The pointer is
 * valid until the next runtime call on this thread. */
FIMLIR_API const char *fimlir_last_error(void);
FIMLIR_API const char *fimlir_status_string(fimlir_status status);
FIMLIR_API const char *fimlir_dtype_name(fimlir_dtype dtype);

/* Contexts. A context binds one device; with FIMLIR_BACKEND_AUTO the backend
 * is picked by the first module loaded, otherwise the driver is initialized
 * at once. Modules keep their context alive after fimlir_context_destroy. */
FIMLIR_API fimlir_status fimlir_context_create(int device,
                                               fimlir_context **out);
FIMLIR_API fimlir_status fimlir_context_create_with_backend(
    int device, fimlir_backend backend, fimlir_context **out);
FIMLIR_API fimlir_backend fimlir_context_get_backend(const fimlir_context *ctx);
FIMLIR_API void fimlir_context_destroy(fimlir_context *ctx);

/* Modules. fimlir_module_load reads the manifest and the code object named by
 * its "binary" field (relative to the manifest's directory).
 * fimlir_module_load_data takes both from memory ("binary" is then ignored);
 * the image is copied. Every kernel of the manifest is resolved at load. */
FIMLIR_API fimlir_status fimlir_module_load(fimlir_context *ctx,
                                            const char *manifest_path,
                                            fimlir_module **out);
FIMLIR_API fimlir_status fimlir_module_load_data(fimlir_context *ctx,
                                                 const void *image, size_t size,
                                                 const char *manifest_json,
                                                 fimlir_module **out);
FIMLIR_API void fimlir_module_destroy(fimlir_module *module);
FIMLIR_API const char *fimlir_module_target(const fimlir_module *module);
FIMLIR_API int fimlir_module_num_kernels(const fimlir_module *module);
FIMLIR_API const char *fimlir_module_kernel_name(const fimlir_module *module,
                                                 int index);

/* Kernels are owned by their module. */
FIMLIR_API fimlir_status fimlir_module_get_kernel(fimlir_module *module,
                                                  const char *name,
                                                  fimlir_kernel **out);
FIMLIR_API const char *fimlir_kernel_name(const fimlir_kernel *kernel);
FIMLIR_API int fimlir_kernel_num_args(const fimlir_kernel *kernel);
/* Manifest name of argument `index` (NULL if out of range). */
FIMLIR_API const char *fimlir_kernel_arg_name(const fimlir_kernel *kernel,
                                              int index);
/* Manifest "params" of the kernel, re-serialized as compact JSON. */
FIMLIR_API const char *fimlir_kernel_params_json(const fimlir_kernel *kernel);

/* Validates the arguments and computes the launch shape from the manifest. */
FIMLIR_API fimlir_status fimlir_kernel_info(const fimlir_kernel *kernel,
                                            const fimlir_arg *args, int nargs,
                                            fimlir_launch_info *out);
/* Validates the arguments and launches on `stream` (CUstream / hipStream_t;
 * NULL is the default stream). Asynchronous. A grid with a zero dimension
 * (empty input) launches nothing and succeeds. */
FIMLIR_API fimlir_status fimlir_kernel_launch(fimlir_kernel *kernel,
                                              const fimlir_arg *args, int nargs,
                                              void *stream);

/* Launch sequences. convert-attn-to-gpu turns one function holding attn ops
 * (for example attn.append_paged_kv then attn.paged_attention) into one
 * module whose manifest "sequence" lists the function's launches in order:
 * a split-KV decode's split and merge kernels, each op's kernels in program
 * order. The sequence's arguments are the function's operands (named after
 * the kernel argument that first reads them), then each op's planner
 * buffers and workspace ("schedule", "merge_indptr", "o_part", ...; a name
 * taken already gets the op's index as a suffix). fimlir_module_launch_sequence
 * checks every launch's arguments first and launches nothing if one is
 * wrong (the error names the launch and the argument), then launches them
 * all on `stream`, asynchronously. Modules whose manifest has no sequence
 * report -1 arguments and FIMLIR_ERROR_NOT_FOUND on launch. */
FIMLIR_API int fimlir_module_sequence_num_args(const fimlir_module *module);
/* Name of sequence argument `index` (NULL if out of range). */
FIMLIR_API const char *
fimlir_module_sequence_arg_name(const fimlir_module *module, int index);
/* Nonzero if sequence argument `index` is a workspace buffer. */
FIMLIR_API int
fimlir_module_sequence_arg_is_workspace(const fimlir_module *module, int index);
FIMLIR_API int fimlir_module_sequence_num_launches(const fimlir_module *module);
FIMLIR_API fimlir_status fimlir_module_launch_sequence(fimlir_module *module,
                                                       const fimlir_arg *args,
                                                       int nargs, void *stream);

/* Planning split-KV decode (FlashInfer's plan(): plan once, run many).
 *
 * A split-KV decode kernel (manifest params "stage": "split_kv") reads keys
 * in chunks of `kv_chunk` keys, a positive multiple of its
 * "kv_chunk_multiple"; each (request, chunk) is a work item, run by
 * num_kv_heads workgroups (grid.y) and written to its own partial row,
 * which the merge kernel combines. The planner picks the smallest chunk
 * whose work items fill the device: about
 * num_compute_units * workgroups_per_compute_unit split workgroups, and
 * never fewer work items than non-empty requests (a request is never left
 * unsplit for balance: long requests get many chunks, short ones one). */
typedef struct fimlir_split_kv_params {
  int32_t num_kv_heads;                /* >= 1 */
  int32_t num_compute_units;           /* SMs / CUs, >= 1 */
  int32_t workgroups_per_compute_unit; /* 0: 4 */
  int64_t kv_chunk_multiple;           /* the kernel's, >= 1 */
  /* > 0: the most work items allowed (the schedule's rows); 0: no bound. */
  int64_t max_work_items;
  /* > 0: use this chunk (rounded up to the multiple) instead of choosing;
   * with disable_split_kv nonzero, one chunk per request. */
  int64_t fixed_kv_chunk;
  int32_t disable_split_kv;
} fimlir_split_kv_params;

/* The chunk for requests of `kv_lens[0 .. batch_size)` keys and the number
 * of work items it makes. FIMLIR_ERROR_INVALID_VALUE for bad parameters or
 * lengths, or when max_work_items cannot hold one item per request. */
FIMLIR_API fimlir_status fimlir_plan_kv_chunk(
    const fimlir_split_kv_params *params, const int64_t *kv_lens,
    int64_t batch_size, int64_t *kv_chunk, int64_t *num_work_items);

typedef struct fimlir_paged_decode_plan {
  int64_t kv_chunk;       /* the kernel's kv_chunk argument */
  int64_t num_work_items; /* schedule rows used; the rest are padding */
  int64_t max_kv_len;     /* longest request, in keys */
} fimlir_paged_decode_plan;

/* Plans batch decode over a paged cache from the host copies of the page
 * table (as FlashInfer's plan() takes them): request b owns pages
 * kv_indptr[b] .. kv_indptr[b + 1] of kv_indices, the last holding
 * kv_last_page_len[b] tokens, so kv_len = (pages - 1) * page_size +
 * kv_last_page_len[b] (0 without pages). Validates the table: kv_indptr[0]
 * = 0, non-decreasing, kv_indptr[batch] = num_kv_indices (when >= 0),
 * kv_last_page_len in [1, page_size] for requests with pages. Writes
 * `schedule` ([schedule_rows][3] int32: (request, kv_begin, kv_end) per work
 * item, request-major, kv_begin a multiple of kv_chunk; unused rows (-1, 0,
 * 0)) and `merge_indptr` (batch + 1
 * entries: request b's partial rows are merge_indptr[b] ..
 * merge_indptr[b + 1]); params->max_work_items is ignored (schedule_rows
 * bounds the items). Copy both to the kernels' device buffers. */
FIMLIR_API fimlir_status fimlir_plan_paged_decode(
    const fimlir_split_kv_params *params, int32_t page_size,
    const int32_t *kv_indptr, const int32_t *kv_last_page_len,
    int64_t batch_size, int64_t num_kv_indices, int32_t *schedule,
    int64_t schedule_rows, int32_t *merge_indptr,
    fimlir_paged_decode_plan *plan);

/* Planning batch prefill. A prefill kernel (manifest params "schedule":
 * "request_q_tile") runs one work item per schedule row: the query rows
 * [q_begin, q_begin + block_m) of one request, for every query head
 * (grid.y), writing o (and lse) in place. Request b owns the q rows
 * qo_indptr[b] .. qo_indptr[b + 1], its queries the last qo_len of its
 * kv_len positions (bottom-right causal alignment). */
typedef struct fimlir_prefill_params {
  int64_t block_m;     /* the kernel's "block_m", >= 1 */
  int32_t causal;      /* the kernel's "causal" (orders the tiles) */
  int64_t window_left; /* the kernel's "window_left"; -1: none */
} fimlir_prefill_params;

typedef struct fimlir_prefill_plan {
  int64_t num_work_items; /* schedule rows used; the rest are padding */
  int64_t total_qo_len;   /* qo_indptr[batch]: q's and o's token count */
  int64_t total_kv_len;   /* ragged: kv_indptr[batch] (k's tokens); paged: -1 */
  int64_t max_qo_len;
  int64_t max_kv_len;
} fimlir_prefill_plan;

/* Plans batch prefill over a paged cache. Validates qo_indptr (starts at 0,
 * non-decreasing) and the page table as fimlir_plan_paged_decode does, and
 * writes `schedule` ([schedule_rows][2] int32: (request, q_begin) per query
 * tile of block_m rows, the tiles that see the most keys first; unused rows
 * (-1, 0)). A batch needs sum_b ceil(qo_len_b / block_m) rows, at most
 * ceil(total_qo_len / block_m) + batch_size. FIMLIR_ERROR_INVALID_VALUE
 * names the first bad entry, or the rows missing. */
FIMLIR_API fimlir_status fimlir_plan_paged_prefill(
    const fimlir_prefill_params *params, int32_t page_size,
    const int32_t *qo_indptr, const int32_t *kv_indptr,
    const int32_t *kv_last_page_len, int64_t batch_size, int64_t num_kv_indices,
    int32_t *schedule, int64_t schedule_rows, fimlir_prefill_plan *plan);

/* The same over ragged K/V ([kv_tokens, Hkv, D], request b's keys the rows
 * kv_indptr[b] .. kv_indptr[b + 1]): validates both indptrs. */
FIMLIR_API fimlir_status fimlir_plan_ragged_prefill(
    const fimlir_prefill_params *params, const int32_t *qo_indptr,
    const int32_t *kv_indptr, int64_t batch_size, int32_t *schedule,
    int64_t schedule_rows, fimlir_prefill_plan *plan);

/* Checks host copies of a page list against a cache of `num_pages` pages:
 * every kv_indices[i], i < num_indices, must be in [0, num_pages).
 * FIMLIR_ERROR_INVALID_VALUE names the first entry that is not. The
 * kernels clamp page ids (a bad id reads a wrong page, never outside the
 * cache); this is the check that reports it. */
FIMLIR_API fimlir_status fimlir_check_page_indices(const int32_t *kv_indices,
                                                   int64_t num_indices,
                                                   int64_t num_pages);

/* Device memory helpers, mainly for tests. They need the context's backend
 * to be chosen (explicitly or by a loaded module). */
FIMLIR_API fimlir_status fimlir_malloc(fimlir_context *ctx, size_t bytes,
                                       void **out);
FIMLIR_API fimlir_status fimlir_free(fimlir_context *ctx, void *ptr);
FIMLIR_API fimlir_status fimlir_memcpy_h2d(fimlir_context *ctx, void *dst,
                                           const void *src, size_t bytes);
FIMLIR_API fimlir_status fimlir_memcpy_d2h(fimlir_context *ctx, void *dst,
                                           const void *src, size_t bytes);
FIMLIR_API fimlir_status fimlir_memset(fimlir_context *ctx, void *ptr,
                                       int value, size_t bytes);
FIMLIR_API fimlir_status fimlir_synchronize(fimlir_context *ctx);
FIMLIR_API fimlir_status fimlir_stream_synchronize(fimlir_context *ctx,
                                                   void *stream);

#ifdef __cplusplus
}
#endif

#endif /* FLASHINFER_RUNTIME_RUNTIME_H */
