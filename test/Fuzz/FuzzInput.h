//===- FuzzInput.h - reading a fuzzer's input bytes as values -*- C++ -*-===//
//
// Shared by the libFuzzer targets: values drawn from the input in order,
// little-endian, 0 once the bytes are exhausted; and the trap that marks a
// broken invariant as a crash.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHINFER_TEST_FUZZ_FUZZINPUT_H
#define FLASHINFER_TEST_FUZZ_FUZZINPUT_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace fimlir::fuzz {

class FuzzInput {
public:
  FuzzInput(const uint8_t *data, size_t size) : data(data), size(size) {}

  uint8_t u8() { return pos < size ? data[pos++] : 0; }

  /// An integer of T's width from the next sizeof(T) bytes, little-endian.
  template <typename T> T little() {
    static_assert(std::is_integral_v<T>);
    std::make_unsigned_t<T> v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v |= static_cast<std::make_unsigned_t<T>>(u8()) << (8 * i);
    T out;
    std::memcpy(&out, &v, sizeof(out));
    return out;
  }

  const uint8_t *rest() const { return data + pos; }
  size_t restSize() const { return size - pos; }

private:
  const uint8_t *data;
  size_t size;
  size_t pos = 0;
};

} // namespace fimlir::fuzz

#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond))                                                               \
      __builtin_trap();                                                        \
  } while (0)

#endif // FLASHINFER_TEST_FUZZ_FUZZINPUT_H
