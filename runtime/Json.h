//===- Json.h - Minimal JSON reader for manifests ---------------*- C++ -*-===//
//
// A small, strict JSON (RFC 8259) reader. Every value remembers the line and
// column where it starts so that manifest errors can point at the culprit.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHINFER_RUNTIME_JSON_H
#define FLASHINFER_RUNTIME_JSON_H

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fimlir {

struct JsonValue {
  enum class Kind { Null, Bool, Int, Double, String, Array, Object };

  Kind kind = Kind::Null;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0.0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;
  // 1-based position of the first character of the value.
  unsigned line = 0;
  unsigned column = 0;

  bool isInt() const { return kind == Kind::Int; }
  bool isNumber() const { return kind == Kind::Int || kind == Kind::Double; }
  bool isString() const { return kind == Kind::String; }
  bool isArray() const { return kind == Kind::Array; }
  bool isObject() const { return kind == Kind::Object; }

  // Member of an object, or null if absent (or not an object).
  const JsonValue *get(std::string_view key) const;

  // Compact serialization (object members keep their order).
  std::string serialize() const;
};

const char *jsonKindName(JsonValue::Kind kind);

// Longest user value (name, dtype, target, ...) echoed whole in a message,
// and longest path.
constexpr size_t kMaxEchoed = 64;
constexpr size_t kMaxEchoedPath = 512;

// `value` for an error message: control characters escaped as \xNN, and cut
// to `max` bytes (at a UTF-8 character boundary) followed by "..." when
// longer, so that a 10 MB string does not make a 10 MB message.
std::string abbreviate(std::string_view value, size_t max = kMaxEchoed);

// Parses `text` as one JSON document. Strings may not contain NUL (an
// escaped \u0000): every string the runtime uses is a name or path that
// ends up in a C string. On failure returns false and sets
// `error` to "LINE:COLUMN: message".
bool parseJson(std::string_view text, JsonValue &out, std::string &error);

} // namespace fimlir

#endif // FLASHINFER_RUNTIME_JSON_H
