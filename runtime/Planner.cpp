//===- Planner.cpp - batch planning (plan once, run many) -----------------===//
//
// The C API's planners. Decode (fimlir_plan_kv_chunk,
// fimlir_plan_paged_decode): pick the split size from the batch's lengths
// and the device's compute units, and lay the work items out as the split
// kernel's schedule. Prefill (fimlir_plan_paged_prefill,
// fimlir_plan_ragged_prefill): validate the tables and lay the query tiles
// out, longest first.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <vector>

using namespace fimlir;

namespace {

constexpr int64_t kDefaultWorkgroupsPerComputeUnit = 4;

fimlir_status invalid(const char *function, const std::string &message) {
  return setError(FIMLIR_ERROR_INVALID_VALUE,
                  std::string(function) + ": " + message);
}

int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/// A batch and a schedule whose indices fit the kernels' i32 tables.
fimlir_status checkBatchAndRows(const char *fn, int64_t batch_size,
                                int64_t schedule_rows) {
  if (batch_size < 0 || batch_size > std::numeric_limits<int32_t>::max() - 1)
    return invalid(fn, "batch_size must be in [0, 2^31 - 1), got " +
                           std::to_string(batch_size));
  if (schedule_rows < 1 || schedule_rows > std::numeric_limits<int32_t>::max())
    return invalid(fn, "schedule_rows must be in [1, 2^31), got " +
                           std::to_string(schedule_rows));
  return FIMLIR_SUCCESS;
}

/// Sizes `v` to `n` elements; FIMLIR_ERROR_OUT_OF_MEMORY (from `fn`) when
/// the host has no room, instead of an exception through the C API.
template <typename T>
fimlir_status allocate(const char *fn, std::vector<T> &v, int64_t n) {
  try {
    v.resize(static_cast<size_t>(n));
  } catch (const std::bad_alloc &) {
    return setError(FIMLIR_ERROR_OUT_OF_MEMORY,
                    std::string(fn) + ": out of host memory");
  }
  return FIMLIR_SUCCESS;
}

/// Work items of requests `lens` split into chunks of `chunk` keys.
int64_t countItems(const int64_t *lens, int64_t n, int64_t chunk) {
  int64_t items = 0;
  for (int64_t b = 0; b < n; ++b)
    items += ceilDiv(lens[b], chunk);
  return items;
}

fimlir_status checkParams(const char *function,
                          const fimlir_split_kv_params *p) {
  if (!p)
    return invalid(function, "params is NULL");
  if (p->num_kv_heads < 1)
    return invalid(function, "num_kv_heads must be >= 1, got " +
                                 std::to_string(p->num_kv_heads));
  if (p->num_compute_units < 1)
    return invalid(function, "num_compute_units must be >= 1, got " +
                                 std::to_string(p->num_compute_units));
  if (p->workgroups_per_compute_unit < 0)
    return invalid(function,
                   "workgroups_per_compute_unit must be >= 0, got " +
                       std::to_string(p->workgroups_per_compute_unit));
  if (p->kv_chunk_multiple < 1 || p->kv_chunk_multiple > (int64_t(1) << 30))
    return invalid(function, "kv_chunk_multiple must be in [1, 2^30], got " +
                                 std::to_string(p->kv_chunk_multiple));
  if (p->max_work_items < 0)
    return invalid(function, "max_work_items must be >= 0, got " +
                                 std::to_string(p->max_work_items));
  if (p->fixed_kv_chunk < 0)
    return invalid(function, "fixed_kv_chunk must be >= 0, got " +
                                 std::to_string(p->fixed_kv_chunk));
  return FIMLIR_SUCCESS;
}

/// The planner proper, on validated parameters and lengths.
fimlir_status chooseChunk(const char *function, const fimlir_split_kv_params *p,
                          const int64_t *lens, int64_t n, int64_t maxItems,
                          int64_t &chunkOut, int64_t &itemsOut) {
  const int64_t m = p->kv_chunk_multiple;
  int64_t maxLen = 0, nonEmpty = 0;
  for (int64_t b = 0; b < n; ++b) {
    maxLen = std::max(maxLen, lens[b]);
    nonEmpty += lens[b] > 0;
  }
  // The chunk that leaves every request whole: the longest, rounded up.
  int64_t wholeTiles = std::max<int64_t>(1, ceilDiv(maxLen, m));
  int64_t tiles; // the chunk in units of m
  if (p->disable_split_kv) {
    tiles = wholeTiles;
  } else if (p->fixed_kv_chunk > 0) {
    tiles = std::min(ceilDiv(p->fixed_kv_chunk, m), wholeTiles);
  } else {
    int64_t perUnit = p->workgroups_per_compute_unit > 0
                          ? p->workgroups_per_compute_unit
                          : kDefaultWorkgroupsPerComputeUnit;
    int64_t wanted = std::max<int64_t>(
        nonEmpty,
        ceilDiv(int64_t(p->num_compute_units) * perUnit, p->num_kv_heads));
    if (maxItems > 0)
      wanted = std::min(wanted, maxItems);
    // Smallest chunk with at most `wanted` items (the count only falls as
    // the chunk grows).
    int64_t lo = 1, hi = wholeTiles;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (countItems(lens, n, mid * m) <= wanted)
        hi = mid;
      else
        lo = mid + 1;
    }
    tiles = lo;
  }
  int64_t chunk = tiles * m;
  int64_t items = countItems(lens, n, chunk);
  if (maxItems > 0 && items > maxItems)
    return invalid(function,
                   "the batch needs " + std::to_string(items) +
                       " work items with kv_chunk = " + std::to_string(chunk) +
                       " but the schedule holds " + std::to_string(maxItems) +
                       (p->disable_split_kv || p->fixed_kv_chunk > 0
                            ? ""
                            : " (at least one per non-empty request)"));
  chunkOut = chunk;
  itemsOut = items;
  return FIMLIR_SUCCESS;
}

/// The kv_len of each request of a paged batch, from host copies of its
/// page table, which it validates.
fimlir_status pagedKvLens(const char *fn, int32_t page_size,
                          const int32_t *kv_indptr,
                          const int32_t *kv_last_page_len, int64_t batch_size,
                          int64_t num_kv_indices, std::vector<int64_t> &lens) {
  if (kv_indptr[0] != 0)
    return invalid(fn, "kv_indptr[0] must be 0, got " +
                           std::to_string(kv_indptr[0]));
  if (fimlir_status st = allocate(fn, lens, batch_size))
    return st;
  for (int64_t b = 0; b < batch_size; ++b) {
    std::string at = std::to_string(b);
    int64_t pages = int64_t(kv_indptr[b + 1]) - kv_indptr[b];
    if (pages < 0)
      return invalid(fn, "kv_indptr must be non-decreasing: kv_indptr[" +
                             std::to_string(b + 1) +
                             "] = " + std::to_string(kv_indptr[b + 1]) +
                             " < kv_indptr[" + at +
                             "] = " + std::to_string(kv_indptr[b]));
    if (pages == 0) {
      lens[b] = 0;
      continue;
    }
    int32_t last = kv_last_page_len[b];
    if (last < 1 || last > page_size)
      return invalid(fn, "kv_last_page_len[" + at + "] = " +
                             std::to_string(last) + " must be in [1, " +
                             std::to_string(page_size) + "] (request " + at +
                             " has " + std::to_string(pages) + " pages)");
    lens[b] = (pages - 1) * page_size + last;
    if (lens[b] > std::numeric_limits<int32_t>::max())
      return invalid(fn, "request " + at + " has " + std::to_string(lens[b]) +
                             " keys, more than 2^31 - 1");
  }
  if (num_kv_indices >= 0 && kv_indptr[batch_size] != num_kv_indices)
    return invalid(fn, "kv_indptr[" + std::to_string(batch_size) +
                           "] = " + std::to_string(kv_indptr[batch_size]) +
                           " must equal the length of kv_indices (" +
                           std::to_string(num_kv_indices) + ")");
  return FIMLIR_SUCCESS;
}

/// The lengths [indptr[b], indptr[b + 1]) of an indptr that must start at
/// 0 and not decrease; `what` names it in errors.
fimlir_status indptrLens(const char *fn, const char *what,
                         const int32_t *indptr, int64_t batch_size,
                         std::vector<int64_t> &lens) {
  if (indptr[0] != 0)
    return invalid(fn, std::string(what) + "[0] must be 0, got " +
                           std::to_string(indptr[0]));
  if (fimlir_status st = allocate(fn, lens, batch_size))
    return st;
  for (int64_t b = 0; b < batch_size; ++b) {
    lens[b] = int64_t(indptr[b + 1]) - indptr[b];
    if (lens[b] < 0)
      return invalid(
          fn, std::string(what) + " must be non-decreasing: " + what + "[" +
                  std::to_string(b + 1) +
                  "] = " + std::to_string(indptr[b + 1]) + " < " + what + "[" +
                  std::to_string(b) + "] = " + std::to_string(indptr[b]));
  }
  return FIMLIR_SUCCESS;
}

fimlir_status checkPrefillArgs(const char *fn, const fimlir_prefill_params *p,
                               const int32_t *qo_indptr, int64_t batch_size,
                               const int32_t *schedule, int64_t schedule_rows,
                               const fimlir_prefill_plan *plan) {
  if (!p)
    return invalid(fn, "params is NULL");
  if (p->block_m < 1 || p->block_m > (int64_t(1) << 20))
    return invalid(fn, "block_m must be in [1, 2^20], got " +
                           std::to_string(p->block_m));
  if (p->window_left < -1)
    return invalid(fn, "window_left must be >= -1, got " +
                           std::to_string(p->window_left));
  if (fimlir_status st = checkBatchAndRows(fn, batch_size, schedule_rows))
    return st;
  if (!qo_indptr || !schedule || !plan)
    return invalid(fn, "qo_indptr, schedule and plan must not be NULL");
  return FIMLIR_SUCCESS;
}

/// Lays out the query tiles of requests with `qoLens` queries and `kvLens`
/// keys as schedule rows (request, q_begin), the tiles that see the most
/// keys first: workgroups start in grid order, so the long ones do not
/// trail at the end (longest processing time first).
fimlir_status scheduleQueryTiles(const char *fn, const fimlir_prefill_params *p,
                                 const std::vector<int64_t> &qoLens,
                                 const std::vector<int64_t> &kvLens,
                                 int32_t *schedule, int64_t scheduleRows,
                                 fimlir_prefill_plan *plan) {
  struct Tile {
    int64_t keys;
    int32_t request, qBegin;
  };
  const int64_t m = p->block_m;
  int64_t items = 0, total = 0, maxQo = 0, maxKv = 0;
  for (size_t b = 0; b < qoLens.size(); ++b) {
    items += ceilDiv(qoLens[b], m);
    total += qoLens[b];
    maxQo = std::max(maxQo, qoLens[b]);
    maxKv = std::max(maxKv, kvLens[b]);
  }
  if (items > scheduleRows)
    return invalid(fn, "the batch needs " + std::to_string(items) +
                           " work items of block_m = " + std::to_string(m) +
                           " query rows but the schedule holds " +
                           std::to_string(scheduleRows));
  std::vector<Tile> tiles;
  if (fimlir_status st = allocate(fn, tiles, items))
    return st;
  tiles.clear();
  for (size_t b = 0; b < qoLens.size(); ++b) {
    int64_t qo = qoLens[b], kv = kvLens[b];
    for (int64_t begin = 0; begin < qo; begin += m) {
      // Keys the tile's rows see, positions aligned to the end of the keys.
      int64_t firstPos = kv - qo + begin;
      int64_t lastPos = kv - qo + std::min(qo, begin + m) - 1;
      int64_t hi = p->causal ? std::min(kv, lastPos + 1) : kv;
      int64_t lo = p->window_left >= 0 ? firstPos - p->window_left : 0;
      int64_t keys = std::max<int64_t>(0, hi - std::max<int64_t>(0, lo));
      tiles.push_back(
          {keys, static_cast<int32_t>(b), static_cast<int32_t>(begin)});
    }
  }
  std::stable_sort(
      tiles.begin(), tiles.end(),
      [](const Tile &a, const Tile &b) { return a.keys > b.keys; });
  int64_t row = 0;
  for (const Tile &t : tiles) {
    schedule[2 * row] = t.request;
    schedule[2 * row + 1] = t.qBegin;
    ++row;
  }
  for (; row < scheduleRows; ++row) {
    schedule[2 * row] = -1;
    schedule[2 * row + 1] = 0;
  }
  plan->num_work_items = items;
  plan->total_qo_len = total;
  plan->max_qo_len = maxQo;
  plan->max_kv_len = maxKv;
  return FIMLIR_SUCCESS;
}

} // namespace

extern "C" {

FIMLIR_API fimlir_status fimlir_plan_kv_chunk(
    const fimlir_split_kv_params *params, const int64_t *kv_lens,
    int64_t batch_size, int64_t *kv_chunk, int64_t *num_work_items) {
  const char *fn = "fimlir_plan_kv_chunk";
  if (fimlir_status s = checkParams(fn, params))
    return s;
  if (batch_size < 0 || (batch_size > 0 && !kv_lens))
    return invalid(fn, "batch_size must be >= 0 with kv_lens for each, got " +
                           std::to_string(batch_size));
  if (!kv_chunk || !num_work_items)
    return invalid(fn, "kv_chunk and num_work_items must not be NULL");
  for (int64_t b = 0; b < batch_size; ++b)
    if (kv_lens[b] < 0 || kv_lens[b] > std::numeric_limits<int32_t>::max())
      return invalid(fn, "kv_lens[" + std::to_string(b) +
                             "] must be in [0, 2^31), got " +
                             std::to_string(kv_lens[b]));
  return chooseChunk(fn, params, kv_lens, batch_size, params->max_work_items,
                     *kv_chunk, *num_work_items);
}

FIMLIR_API fimlir_status fimlir_plan_paged_decode(
    const fimlir_split_kv_params *params, int32_t page_size,
    const int32_t *kv_indptr, const int32_t *kv_last_page_len,
    int64_t batch_size, int64_t num_kv_indices, int32_t *schedule,
    int64_t schedule_rows, int32_t *merge_indptr,
    fimlir_paged_decode_plan *plan) {
  const char *fn = "fimlir_plan_paged_decode";
  if (fimlir_status s = checkParams(fn, params))
    return s;
  if (page_size < 1)
    return invalid(fn,
                   "page_size must be >= 1, got " + std::to_string(page_size));
  if (fimlir_status st = checkBatchAndRows(fn, batch_size, schedule_rows))
    return st;
  if (!kv_indptr || (batch_size > 0 && !kv_last_page_len) || !schedule ||
      !merge_indptr || !plan)
    return invalid(fn, "kv_indptr, kv_last_page_len, schedule, "
                       "merge_indptr and plan must not be NULL");
  std::vector<int64_t> lens;
  if (fimlir_status st = pagedKvLens(fn, page_size, kv_indptr, kv_last_page_len,
                                     batch_size, num_kv_indices, lens))
    return st;
  int64_t chunk = 0, items = 0;
  if (fimlir_status s = chooseChunk(fn, params, lens.data(), batch_size,
                                    schedule_rows, chunk, items))
    return s;
  int64_t row = 0, maxLen = 0;
  for (int64_t b = 0; b < batch_size; ++b) {
    merge_indptr[b] = static_cast<int32_t>(row);
    maxLen = std::max(maxLen, lens[b]);
    for (int64_t begin = 0; begin < lens[b]; begin += chunk, ++row) {
      schedule[3 * row] = static_cast<int32_t>(b);
      schedule[3 * row + 1] = static_cast<int32_t>(begin);
      schedule[3 * row + 2] =
          static_cast<int32_t>(std::min(lens[b], begin + chunk));
    }
  }
  merge_indptr[batch_size] = static_cast<int32_t>(row);
  for (; row < schedule_rows; ++row) {
    schedule[3 * row] = -1;
    schedule[3 * row + 1] = 0;
    schedule[3 * row + 2] = 0;
  }
  plan->kv_chunk = chunk;
  plan->num_work_items = items;
  plan->max_kv_len = maxLen;
  return FIMLIR_SUCCESS;
}

FIMLIR_API fimlir_status fimlir_plan_paged_prefill(
    const fimlir_prefill_params *params, int32_t page_size,
    const int32_t *qo_indptr, const int32_t *kv_indptr,
    const int32_t *kv_last_page_len, int64_t batch_size, int64_t num_kv_indices,
    int32_t *schedule, int64_t schedule_rows, fimlir_prefill_plan *plan) {
  const char *fn = "fimlir_plan_paged_prefill";
  if (fimlir_status s = checkPrefillArgs(fn, params, qo_indptr, batch_size,
                                         schedule, schedule_rows, plan))
    return s;
  if (page_size < 1)
    return invalid(fn,
                   "page_size must be >= 1, got " + std::to_string(page_size));
  if (!kv_indptr || (batch_size > 0 && !kv_last_page_len))
    return invalid(fn, "kv_indptr and kv_last_page_len must not be NULL");
  std::vector<int64_t> qoLens, kvLens;
  if (fimlir_status s =
          indptrLens(fn, "qo_indptr", qo_indptr, batch_size, qoLens))
    return s;
  if (fimlir_status s = pagedKvLens(fn, page_size, kv_indptr, kv_last_page_len,
                                    batch_size, num_kv_indices, kvLens))
    return s;
  if (fimlir_status s = scheduleQueryTiles(fn, params, qoLens, kvLens, schedule,
                                           schedule_rows, plan))
    return s;
  plan->total_kv_len = -1;
  return FIMLIR_SUCCESS;
}

FIMLIR_API fimlir_status fimlir_plan_ragged_prefill(
    const fimlir_prefill_params *params, const int32_t *qo_indptr,
    const int32_t *kv_indptr, int64_t batch_size, int32_t *schedule,
    int64_t schedule_rows, fimlir_prefill_plan *plan) {
  const char *fn = "fimlir_plan_ragged_prefill";
  if (fimlir_status s = checkPrefillArgs(fn, params, qo_indptr, batch_size,
                                         schedule, schedule_rows, plan))
    return s;
  if (!kv_indptr)
    return invalid(fn, "kv_indptr must not be NULL");
  std::vector<int64_t> qoLens, kvLens;
  if (fimlir_status s =
          indptrLens(fn, "qo_indptr", qo_indptr, batch_size, qoLens))
    return s;
  if (fimlir_status s =
          indptrLens(fn, "kv_indptr", kv_indptr, batch_size, kvLens))
    return s;
  if (fimlir_status s = scheduleQueryTiles(fn, params, qoLens, kvLens, schedule,
                                           schedule_rows, plan))
    return s;
  plan->total_kv_len = kv_indptr[batch_size];
  return FIMLIR_SUCCESS;
}

FIMLIR_API fimlir_status fimlir_check_page_indices(const int32_t *kv_indices,
                                                   int64_t num_indices,
                                                   int64_t num_pages) {
  const char *fn = "fimlir_check_page_indices";
  if (num_indices < 0 || (num_indices > 0 && !kv_indices))
    return invalid(fn, "num_indices must be >= 0 with kv_indices for each, "
                       "got " +
                           std::to_string(num_indices));
  if (num_pages < 0)
    return invalid(fn,
                   "num_pages must be >= 0, got " + std::to_string(num_pages));
  for (int64_t i = 0; i < num_indices; ++i)
    if (kv_indices[i] < 0 || kv_indices[i] >= num_pages)
      return invalid(fn, "kv_indices[" + std::to_string(i) +
                             "] = " + std::to_string(kv_indices[i]) +
                             " is not a page of the cache (it has " +
                             std::to_string(num_pages) + " pages)");
  return FIMLIR_SUCCESS;
}

} // extern "C"
