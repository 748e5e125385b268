//===- Json.cpp - Minimal JSON reader for manifests -----------------------===//

#include "Json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_set>

namespace fimlir {

const JsonValue *JsonValue::get(std::string_view key) const {
  if (kind != Kind::Object)
    return nullptr;
  for (const auto &member : object)
    if (member.first == key)
      return &member.second;
  return nullptr;
}

const char *jsonKindName(JsonValue::Kind kind) {
  switch (kind) {
  case JsonValue::Kind::Null:
    return "null";
  case JsonValue::Kind::Bool:
    return "boolean";
  case JsonValue::Kind::Int:
    return "integer";
  case JsonValue::Kind::Double:
    return "number";
  case JsonValue::Kind::String:
    return "string";
  case JsonValue::Kind::Array:
    return "array";
  case JsonValue::Kind::Object:
    return "object";
  }
  return "value";
}

static void serializeString(const std::string &s, std::string &out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  out += '"';
}

static void serializeInto(const JsonValue &v, std::string &out) {
  switch (v.kind) {
  case JsonValue::Kind::Null:
    out += "null";
    return;
  case JsonValue::Kind::Bool:
    out += v.boolean ? "true" : "false";
    return;
  case JsonValue::Kind::Int:
    out += std::to_string(v.integer);
    return;
  case JsonValue::Kind::Double: {
    char buf[32];
    // Shortest text that reads back as the same double.
    auto res = std::to_chars(buf, buf + sizeof(buf), v.number);
    std::string text(buf, res.ptr);
    if (text.find_first_of(".eE") == std::string::npos &&
        text.find_first_of("ni") == std::string::npos)
      text += ".0";
    out += text;
    return;
  }
  case JsonValue::Kind::String:
    serializeString(v.string, out);
    return;
  case JsonValue::Kind::Array:
    out += '[';
    for (size_t i = 0; i < v.array.size(); ++i) {
      if (i)
        out += ',';
      serializeInto(v.array[i], out);
    }
    out += ']';
    return;
  case JsonValue::Kind::Object:
    out += '{';
    for (size_t i = 0; i < v.object.size(); ++i) {
      if (i)
        out += ',';
      serializeString(v.object[i].first, out);
      out += ':';
      serializeInto(v.object[i].second, out);
    }
    out += '}';
    return;
  }
}

std::string abbreviate(std::string_view value, size_t max) {
  bool cut = value.size() > max;
  if (cut) {
    size_t end = max;
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80)
      --end;
    value = value.substr(0, end);
  }
  std::string out;
  out.reserve(value.size() + 3);
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (cut)
    out += "...";
  return out;
}

std::string JsonValue::serialize() const {
  std::string out;
  serializeInto(*this, out);
  return out;
}

namespace {

class Parser {
public:
  explicit Parser(std::string_view text) : text(text) {}

  bool parseDocument(JsonValue &out, std::string &error) {
    skipWhitespace();
    if (!parseValue(out, 0)) {
      error = message;
      return false;
    }
    skipWhitespace();
    if (pos != text.size()) {
      fail("unexpected content after the JSON value");
      error = message;
      return false;
    }
    return true;
  }

private:
  static constexpr unsigned kMaxDepth = 128;
  static constexpr size_t kLinearKeyScan = 16;

  std::string_view text;
  size_t pos = 0;
  unsigned line = 1;
  size_t lineStart = 0;
  std::string message;

  unsigned column() const { return static_cast<unsigned>(pos - lineStart) + 1; }

  bool fail(const std::string &what) {
    message =
        std::to_string(line) + ":" + std::to_string(column()) + ": " + what;
    return false;
  }

  bool atEnd() const { return pos >= text.size(); }

  std::string describeCurrent() const {
    if (atEnd())
      return "end of input";
    unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c >= 0x20 && c < 0x7f)
      return std::string("'") + static_cast<char>(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof(buf), "byte 0x%02x", c);
    return buf;
  }

  void skipWhitespace() {
    while (!atEnd()) {
      char c = text[pos];
      if (c == '\n') {
        ++pos;
        ++line;
        lineStart = pos;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos;
      } else {
        break;
      }
    }
  }

  bool parseLiteral(std::string_view word) {
    if (text.substr(pos, word.size()) != word)
      return fail("invalid literal, expected '" + std::string(word) + "'");
    pos += word.size();
    return true;
  }

  bool parseValue(JsonValue &out, unsigned depth) {
    out.line = line;
    out.column = column();
    if (atEnd())
      return fail("expected a JSON value, got end of input");
    char c = text[pos];
    switch (c) {
    case '{':
      return parseObject(out, depth);
    case '[':
      return parseArray(out, depth);
    case '"':
      out.kind = JsonValue::Kind::String;
      return parseString(out.string);
    case 't':
      out.kind = JsonValue::Kind::Bool;
      out.boolean = true;
      return parseLiteral("true");
    case 'f':
      out.kind = JsonValue::Kind::Bool;
      out.boolean = false;
      return parseLiteral("false");
    case 'n':
      out.kind = JsonValue::Kind::Null;
      return parseLiteral("null");
    default:
      if (c == '-' || (c >= '0' && c <= '9'))
        return parseNumber(out);
      return fail("expected a JSON value, got " + describeCurrent());
    }
  }

  bool parseObject(JsonValue &out, unsigned depth) {
    if (depth >= kMaxDepth)
      return fail("nesting deeper than " + std::to_string(kMaxDepth));
    out.kind = JsonValue::Kind::Object;
    std::unordered_set<std::string> keys; // filled once the object is large
    ++pos;                                // '{'
    skipWhitespace();
    if (!atEnd() && text[pos] == '}') {
      ++pos;
      return true;
    }
    while (true) {
      if (atEnd() || text[pos] != '"')
        return fail("expected a string key, got " + describeCurrent());
      unsigned keyLine = line, keyColumn = column();
      std::string key;
      if (!parseString(key))
        return false;
      // Small objects are scanned; large ones (e.g. "params" with many
      // members) use a hash set so that reading stays linear.
      bool duplicate = false;
      if (out.object.size() < kLinearKeyScan) {
        for (const auto &member : out.object)
          duplicate |= member.first == key;
      } else {
        if (keys.empty())
          for (const auto &member : out.object)
            keys.insert(member.first);
        duplicate = !keys.insert(key).second;
      }
      if (duplicate) {
        line = keyLine;
        pos = lineStart + keyColumn - 1;
        return fail("duplicate key \"" + abbreviate(key) + "\"");
      }
      skipWhitespace();
      if (atEnd() || text[pos] != ':')
        return fail("expected ':' after object key, got " + describeCurrent());
      ++pos;
      skipWhitespace();
      out.object.emplace_back(std::move(key), JsonValue());
      if (!parseValue(out.object.back().second, depth + 1))
        return false;
      skipWhitespace();
      if (atEnd())
        return fail("expected ',' or '}' in object, got end of input");
      if (text[pos] == ',') {
        ++pos;
        skipWhitespace();
        continue;
      }
      if (text[pos] == '}') {
        ++pos;
        return true;
      }
      return fail("expected ',' or '}' in object, got " + describeCurrent());
    }
  }

  bool parseArray(JsonValue &out, unsigned depth) {
    if (depth >= kMaxDepth)
      return fail("nesting deeper than " + std::to_string(kMaxDepth));
    out.kind = JsonValue::Kind::Array;
    ++pos; // '['
    skipWhitespace();
    if (!atEnd() && text[pos] == ']') {
      ++pos;
      return true;
    }
    while (true) {
      out.array.emplace_back();
      if (!parseValue(out.array.back(), depth + 1))
        return false;
      skipWhitespace();
      if (atEnd())
        return fail("expected ',' or ']' in array, got end of input");
      if (text[pos] == ',') {
        ++pos;
        skipWhitespace();
        continue;
      }
      if (text[pos] == ']') {
        ++pos;
        return true;
      }
      return fail("expected ',' or ']' in array, got " + describeCurrent());
    }
  }

  static void appendUtf8(uint32_t cp, std::string &out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool parseHex4(uint32_t &value) {
    value = 0;
    for (int i = 0; i < 4; ++i) {
      if (atEnd())
        return fail("truncated \\u escape");
      char c = text[pos];
      uint32_t digit;
      if (c >= '0' && c <= '9')
        digit = c - '0';
      else if (c >= 'a' && c <= 'f')
        digit = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        digit = c - 'A' + 10;
      else
        return fail("invalid hex digit in \\u escape");
      value = value * 16 + digit;
      ++pos;
    }
    return true;
  }

  bool parseString(std::string &out) {
    ++pos; // opening quote
    while (true) {
      if (atEnd())
        return fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(text[pos]);
      if (c == '"') {
        ++pos;
        return true;
      }
      if (c < 0x20)
        return fail(c == '\n' ? "unterminated string (newline in string)"
                              : "control character in string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos;
        continue;
      }
      ++pos;
      if (atEnd())
        return fail("unterminated string");
      char e = text[pos++];
      switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!parseHex4(cp))
          return false;
        // Names and paths reach C APIs (dlopen'd drivers, open()) that stop
        // at a NUL, so "k.cubin\u0000.evil" would silently mean "k.cubin".
        if (cp == 0) {
          pos -= 6; // point at the backslash
          return fail("NUL character (\\u0000) is not allowed in strings");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (text.substr(pos, 2) != "\\u")
            return fail("unpaired UTF-16 surrogate in \\u escape");
          pos += 2;
          uint32_t low;
          if (!parseHex4(low))
            return false;
          if (low < 0xDC00 || low > 0xDFFF)
            return fail("unpaired UTF-16 surrogate in \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return fail("unpaired UTF-16 surrogate in \\u escape");
        }
        appendUtf8(cp, out);
        break;
      }
      default:
        pos -= 2; // point at the backslash
        return fail(std::string("invalid escape '\\") + e + "' in string");
      }
    }
  }

  bool parseNumber(JsonValue &out) {
    size_t start = pos;
    bool isInteger = true;
    if (text[pos] == '-')
      ++pos;
    auto isDigit = [&](size_t i) {
      return i < text.size() && text[i] >= '0' && text[i] <= '9';
    };
    if (!isDigit(pos))
      return fail("invalid number: expected a digit");
    if (text[pos] == '0') {
      ++pos;
      if (isDigit(pos))
        return fail("invalid number: leading zero");
    } else {
      while (isDigit(pos))
        ++pos;
    }
    if (pos < text.size() && text[pos] == '.') {
      isInteger = false;
      ++pos;
      if (!isDigit(pos))
        return fail("invalid number: expected a digit after '.'");
      while (isDigit(pos))
        ++pos;
    }
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
      isInteger = false;
      ++pos;
      if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
        ++pos;
      if (!isDigit(pos))
        return fail("invalid number: expected a digit in the exponent");
      while (isDigit(pos))
        ++pos;
    }
    const char *first = text.data() + start;
    const char *last = text.data() + pos;
    if (isInteger) {
      int64_t value = 0;
      auto res = std::from_chars(first, last, value);
      if (res.ec == std::errc() && res.ptr == last) {
        out.kind = JsonValue::Kind::Int;
        out.integer = value;
        out.number = static_cast<double>(value);
        return true;
      }
      // Too large for int64: keep it as a double.
    }
    double value = 0;
    auto res = std::from_chars(first, last, value);
    if (res.ec != std::errc() || res.ptr != last || !std::isfinite(value)) {
      pos = start;
      return fail("number out of range");
    }
    out.kind = JsonValue::Kind::Double;
    out.number = value;
    return true;
  }
};

} // namespace

bool parseJson(std::string_view text, JsonValue &out, std::string &error) {
  out = JsonValue();
  Parser parser(text);
  return parser.parseDocument(out, error);
}

} // namespace fimlir
