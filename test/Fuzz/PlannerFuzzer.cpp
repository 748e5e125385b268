//===- PlannerFuzzer.cpp - libFuzzer target for the batch planners --------===//
//
// Fuzzes the C API's planners with host tables an engine could pass:
// fimlir_plan_paged_decode, fimlir_plan_paged_prefill and
// fimlir_plan_ragged_prefill on parameters, indptrs and page-length lists
// drawn from the input (mostly plausible, sometimes extreme). A plan that
// succeeds must be one the kernels can run: every schedule row names a
// request of the batch and a range inside it, each unit of work appears
// once, and the rows past the work are padding. A refusal must carry a
// message. Any sanitizer report or violated invariant (trap) is a crash.
// Built with -DFLASHINFER_FUZZ=ON (clang); see scripts/fuzz-runtime.sh.
//
//===----------------------------------------------------------------------===//

#include "FuzzInput.h"
#include "flashinfer-runtime/runtime.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

namespace {

// The input, with the values the tables are drawn as.
class Bytes : public fimlir::fuzz::FuzzInput {
public:
  using FuzzInput::FuzzInput;
  int32_t i32() { return little<int32_t>(); }
  /// A schedule's rows: mostly 1 .. most, sometimes 0 or negative (which
  /// the planners must refuse before writing).
  int64_t rows(int64_t most) {
    if (u8() < 0xF8)
      return 1 + (u8() | (u8() << 8)) % most;
    return -static_cast<int64_t>(u8() % 3);
  }
  /// A last page length: mostly in [1, pageSize], sometimes arbitrary.
  int32_t lastLen(int32_t pageSize) {
    if (u8() < 0xF0)
      return 1 + u8() % (pageSize > 0 ? pageSize : 1);
    return i32();
  }
  // Mostly small non-negative values, sometimes an arbitrary one.
  int32_t small(int32_t mod) {
    uint8_t sel = u8();
    if (sel < 0xF0)
      return static_cast<int32_t>(u8() | (u8() << 8)) % mod;
    return i32();
  }
};

void checkRefusal(fimlir_status status) {
  FUZZ_CHECK(status == FIMLIR_ERROR_INVALID_VALUE ||
             status == FIMLIR_ERROR_OUT_OF_MEMORY);
  const char *message = fimlir_last_error();
  FUZZ_CHECK(message && message[0] != '\0' && std::strlen(message) < 4096);
}

/// An indptr over `batch` requests whose steps come from the input: mostly
/// non-decreasing from 0, sometimes not.
std::vector<int32_t> indptr(Bytes &in, int64_t batch, int32_t step) {
  std::vector<int32_t> v(batch + 1);
  v[0] = in.u8() < 0xF8 ? 0 : in.i32();
  for (int64_t b = 0; b < batch; ++b) {
    int64_t next = int64_t(v[b]) + in.small(step);
    v[b + 1] = in.u8() < 0xF8 ? static_cast<int32_t>(std::clamp<int64_t>(
                                    next, INT32_MIN, INT32_MAX))
                              : in.i32();
  }
  return v;
}

/// The lengths a validated table gives (decode's and paged prefill's kv).
std::vector<int64_t> pagedLens(const std::vector<int32_t> &kvIndptr,
                               const std::vector<int32_t> &last,
                               int32_t pageSize) {
  std::vector<int64_t> lens(last.size());
  for (size_t b = 0; b < last.size(); ++b) {
    int64_t pages = int64_t(kvIndptr[b + 1]) - kvIndptr[b];
    lens[b] = pages > 0 ? (pages - 1) * pageSize + last[b] : 0;
  }
  return lens;
}

void fuzzDecode(Bytes &in, int64_t batch) {
  fimlir_split_kv_params p = {};
  p.num_kv_heads = in.small(16);
  p.num_compute_units = in.small(256);
  p.workgroups_per_compute_unit = in.small(32);
  p.kv_chunk_multiple = in.small(512);
  p.fixed_kv_chunk = in.u8() < 0xC0 ? 0 : in.small(1 << 16);
  p.disable_split_kv = in.u8() & 1;
  int32_t pageSize = in.small(128);
  std::vector<int32_t> kv = indptr(in, batch, 64), last(batch);
  for (int32_t &l : last)
    l = in.lastLen(pageSize);
  int64_t rows = in.rows(1024);
  std::vector<int32_t> schedule(3 * std::max<int64_t>(rows, 1), 7),
      merge(batch + 1, 7);
  fimlir_paged_decode_plan plan = {};
  fimlir_status s = fimlir_plan_paged_decode(
      &p, pageSize, kv.data(), last.data(), batch, kv[batch], schedule.data(),
      rows, merge.data(), &plan);
  if (s != FIMLIR_SUCCESS)
    return checkRefusal(s);
  std::vector<int64_t> lens = pagedLens(kv, last, pageSize);
  FUZZ_CHECK(plan.num_work_items >= 0 && plan.num_work_items <= rows);
  FUZZ_CHECK(merge[0] == 0 && merge[batch] == plan.num_work_items);
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t *row = &schedule[3 * r];
    if (r >= plan.num_work_items) {
      FUZZ_CHECK(row[0] == -1);
      continue;
    }
    FUZZ_CHECK(row[0] >= 0 && row[0] < batch);
    // Request b's rows are merge_indptr[b] .. merge_indptr[b + 1].
    FUZZ_CHECK(merge[row[0]] <= r && r < merge[row[0] + 1]);
    FUZZ_CHECK(0 <= row[1] && row[1] < row[2] && row[2] <= lens[row[0]]);
    FUZZ_CHECK(row[1] % plan.kv_chunk == 0);
  }
  // The ranges of a request cover its keys exactly.
  for (int64_t b = 0; b < batch; ++b) {
    int64_t next = 0;
    for (int32_t r = merge[b]; r < merge[b + 1]; ++r) {
      FUZZ_CHECK(schedule[3 * r + 1] == next);
      next = schedule[3 * r + 2];
    }
    FUZZ_CHECK(next == lens[b]);
  }
}

void fuzzPrefill(Bytes &in, int64_t batch, bool paged) {
  fimlir_prefill_params p = {};
  p.block_m = in.small(300);
  p.causal = in.u8() & 1;
  p.window_left = in.u8() < 0xC0 ? -1 : in.small(4096);
  std::vector<int32_t> qo = indptr(in, batch, 600);
  std::vector<int32_t> kv = indptr(in, batch, paged ? 64 : 2000);
  int32_t pageSize = in.small(128);
  std::vector<int32_t> last(batch);
  for (int32_t &l : last)
    l = in.lastLen(pageSize);
  int64_t rows = in.rows(2048);
  std::vector<int32_t> schedule(2 * std::max<int64_t>(rows, 1), 7);
  fimlir_prefill_plan plan = {};
  fimlir_status s =
      paged ? fimlir_plan_paged_prefill(&p, pageSize, qo.data(), kv.data(),
                                        last.data(), batch, kv[batch],
                                        schedule.data(), rows, &plan)
            : fimlir_plan_ragged_prefill(&p, qo.data(), kv.data(), batch,
                                         schedule.data(), rows, &plan);
  if (s != FIMLIR_SUCCESS)
    return checkRefusal(s);
  FUZZ_CHECK(plan.num_work_items >= 0 && plan.num_work_items <= rows);
  FUZZ_CHECK(plan.total_qo_len == qo[batch]);
  FUZZ_CHECK(plan.total_kv_len == (paged ? -1 : kv[batch]));
  int64_t expected = 0;
  for (int64_t b = 0; b < batch; ++b)
    expected += (int64_t(qo[b + 1]) - qo[b] + p.block_m - 1) / p.block_m;
  FUZZ_CHECK(plan.num_work_items == expected);
  std::set<std::pair<int32_t, int32_t>> seen;
  for (int64_t r = 0; r < rows; ++r) {
    int32_t request = schedule[2 * r], begin = schedule[2 * r + 1];
    if (r >= plan.num_work_items) {
      FUZZ_CHECK(request == -1 && begin == 0);
      continue;
    }
    FUZZ_CHECK(request >= 0 && request < batch);
    FUZZ_CHECK(begin >= 0 && begin % p.block_m == 0 &&
               begin < qo[request + 1] - qo[request]);
    FUZZ_CHECK(seen.insert({request, begin}).second);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Bytes in(data, size);
  uint8_t which = in.u8() % 3;
  int64_t batch = in.u8() < 0xF0 ? in.u8() % 40 : -1 - in.u8();
  if (batch < 0) {
    // A negative batch must be refused before any table is read.
    int32_t zero = 0;
    fimlir_prefill_params p = {64, 1, -1};
    fimlir_prefill_plan plan;
    int32_t schedule[2];
    checkRefusal(fimlir_plan_ragged_prefill(&p, &zero, &zero, batch, schedule,
                                            1, &plan));
    return 0;
  }
  if (which == 0)
    fuzzDecode(in, batch);
  else
    fuzzPrefill(in, batch, which == 1);
  return 0;
}
