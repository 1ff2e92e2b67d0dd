// JsonValue: parsing with simdjson's DOM parser and Python-compatible canonical serialization.
#include "lakeflow/json.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

JsonValue from_element(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      return JsonValue();
    case simdjson::dom::element_type::BOOL:
      return JsonValue(element.get_bool().value_unsafe());
    case simdjson::dom::element_type::INT64:
      return JsonValue(element.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      // Only integers above INT64_MAX are reported as UINT64; they do not fit an int64.
      return JsonValue(static_cast<double>(element.get_uint64().value_unsafe()));
    case simdjson::dom::element_type::DOUBLE:
      return JsonValue(element.get_double().value_unsafe());
    case simdjson::dom::element_type::STRING:
      return JsonValue(element.get_string().value_unsafe());
    case simdjson::dom::element_type::ARRAY: {
      JsonValue::Array array;
      // Keep the array by value: value_unsafe() of a temporary result would dangle in the loop.
      const simdjson::dom::array items = element.get_array().value_unsafe();
      for (simdjson::dom::element item : items) {
        array.push_back(from_element(item));
      }
      return JsonValue(std::move(array));
    }
    case simdjson::dom::element_type::OBJECT: {
      JsonValue::Object object;
      // Like Python's json.loads, a repeated key keeps its last value.
      const simdjson::dom::object members = element.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair member : members) {
        object.insert_or_assign(std::string(member.key), from_element(member.value));
      }
      return JsonValue(std::move(object));
    }
  }
  throw Error(ErrorCode::kInternal, "simdjson returned an unknown element type");
}

const char* type_name(const JsonValue& v) {
  if (v.is_null()) return "null";
  if (v.is_bool()) return "boolean";
  if (v.is_int()) return "integer";
  if (v.is_double()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

[[noreturn]] void throw_wrong_type(const JsonValue& v, std::string_view expected) {
  throw ConfigError(fmt::format("expected a JSON {} but got {} {}", expected, type_name(v),
                                v.dump().substr(0, 60)));
}

void append_hex4(std::string& out, unsigned unit) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  out += kHex[(unit >> 12) & 0xf];
  out += kHex[(unit >> 8) & 0xf];
  out += kHex[(unit >> 4) & 0xf];
  out += kHex[unit & 0xf];
}

// Decodes one UTF-8 sequence starting at s[i]. Returns the code point and sets `length`; invalid
// or truncated sequences, overlong forms and surrogates decode as U+FFFD with length 1.
char32_t decode_utf8(std::string_view s, std::size_t i, std::size_t& length) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  std::size_t n = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2, cp = lead & 0x1f, min = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3, cp = lead & 0x0f, min = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4, cp = lead & 0x07, min = 0x10000;
  }
  length = 1;
  if (n == 0 || i + n > s.size()) return 0xfffd;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0xfffd;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0xfffd;
  length = n;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
  }
  out += static_cast<char>(0x80 | (cp & 0x3f));
}

}  // namespace

JsonValue JsonValue::parse(std::string_view text, std::string_view what) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (auto error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    throw ConfigError(fmt::format("invalid {}: {}", what, simdjson::error_message(error)));
  }
  return from_element(root);
}

bool JsonValue::as_bool() const {
  if (!is_bool()) throw_wrong_type(*this, "boolean");
  return std::get<bool>(value_);
}

std::int64_t JsonValue::as_int() const {
  if (!is_int()) throw_wrong_type(*this, "integer");
  return std::get<std::int64_t>(value_);
}

double JsonValue::as_double() const {
  if (is_int()) return static_cast<double>(std::get<std::int64_t>(value_));
  if (!is_double()) throw_wrong_type(*this, "number");
  return std::get<double>(value_);
}

const std::string& JsonValue::as_string() const {
  if (!is_string()) throw_wrong_type(*this, "string");
  return std::get<std::string>(value_);
}

const JsonValue::Array& JsonValue::as_array() const {
  if (!is_array()) throw_wrong_type(*this, "array");
  return std::get<Array>(value_);
}

JsonValue::Array& JsonValue::as_array() {
  if (!is_array()) throw_wrong_type(*this, "array");
  return std::get<Array>(value_);
}

const JsonValue::Object& JsonValue::as_object() const {
  if (!is_object()) throw_wrong_type(*this, "object");
  return std::get<Object>(value_);
}

JsonValue::Object& JsonValue::as_object() {
  if (!is_object()) throw_wrong_type(*this, "object");
  return std::get<Object>(value_);
}

const JsonValue* JsonValue::find(std::string_view key) const {
  const auto* object = std::get_if<Object>(&value_);
  if (object == nullptr) return nullptr;
  auto it = object->find(key);
  return it == object->end() ? nullptr : &it->second;
}

JsonValue& JsonValue::operator[](std::string_view key) {
  if (is_null()) value_ = Object{};
  Object& object = as_object();
  auto it = object.find(key);
  if (it == object.end()) it = object.emplace(std::string(key), JsonValue()).first;
  return it->second;
}

std::string JsonValue::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

void JsonValue::dump_to(std::string& out) const {
  switch (value_.index()) {
    case 0:
      out += "null";
      break;
    case 1:
      out += std::get<bool>(value_) ? "true" : "false";
      break;
    case 2: {
      char buf[24];
      auto result = std::to_chars(buf, buf + sizeof buf, std::get<std::int64_t>(value_));
      out.append(buf, result.ptr);
      break;
    }
    case 3:
      append_python_float(out, std::get<double>(value_));
      break;
    case 4:
      append_json_string(out, std::get<std::string>(value_));
      break;
    case 5: {
      out += '[';
      bool first = true;
      for (const JsonValue& item : std::get<Array>(value_)) {
        if (!first) out += ',';
        first = false;
        item.dump_to(out);
      }
      out += ']';
      break;
    }
    case 6: {
      // std::map orders keys by bytes; for UTF-8 that is code point order, as Python's sort_keys.
      out += '{';
      bool first = true;
      for (const auto& [key, item] : std::get<Object>(value_)) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, key);
        out += ':';
        item.dump_to(out);
      }
      out += '}';
      break;
    }
  }
}

namespace {

// Whether a byte of `w` (eight bytes of text) may need more than a copy into a JSON string: a
// control character, '"', '\\', DEL, or a byte of a multi-byte UTF-8 sequence.
bool may_need_escaping(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const auto has_zero_byte = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;
  return ((w & kHighs) | below_space | has_zero_byte(w ^ (kOnes * '"')) |
          has_zero_byte(w ^ (kOnes * '\\')) | has_zero_byte(w ^ (kOnes * 0x7f))) != 0;
}

bool is_plain_json_char(unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

}  // namespace

// Python escapes `"`, `\` and the five short control escapes; other control characters (and, with
// ensure_ascii, DEL and everything non-ASCII) become \uXXXX. Invalid UTF-8 cannot occur in a
// Python string; here each invalid byte is written as U+FFFD, as most JSON encoders do.
void append_json_string(std::string& out, std::string_view s, bool ascii_only) {
  // At least the text and its quotes; grown geometrically, so that many small appends stay linear.
  if (const std::size_t needed = out.size() + s.size() + 2; needed > out.capacity()) {
    out.reserve(std::max(needed, 2 * out.capacity()));
  }
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    // Printable ASCII other than '"' and '\\' is copied as it is, eight bytes at a time.
    std::size_t plain = i;
    while (plain + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + plain, 8);
      if (may_need_escaping(w)) break;
      plain += 8;
    }
    while (plain < s.size() && is_plain_json_char(static_cast<unsigned char>(s[plain]))) ++plain;
    if (plain != i) {
      out.append(s.data() + i, plain - i);
      i = plain;
      if (i == s.size()) break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
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
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20 || (c == 0x7f && ascii_only)) {
            append_hex4(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    std::size_t length = 0;
    const char32_t cp = decode_utf8(s, i, length);
    if (!ascii_only) {
      if (cp == 0xfffd && length == 1) {
        append_utf8(out, cp);
      } else {
        out.append(s.substr(i, length));
      }
    } else if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      append_hex4(out, 0xd800 + (v >> 10));
      append_hex4(out, 0xdc00 + (v & 0x3ff));
    } else {
      append_hex4(out, cp);
    }
    i += length;
  }
  out += '"';
}

// Python's float repr: the shortest digits that round-trip, in fixed notation when the decimal
// exponent is in [-4, 16) (always with a fractional part, `100.0`) and in scientific notation
// otherwise (`1e+16`, `1.5e-05`: no `.0`, a signed exponent of at least two digits).
void append_python_float(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v < 0 ? "-Infinity" : "Infinity";
    return;
  }
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string_view text(buf, static_cast<std::size_t>(result.ptr - buf));
  // `text` is `[-]d[.ddd]e(+|-)dd[d]`.
  std::size_t pos = 0;
  if (text[0] == '-') {
    out += '-';
    pos = 1;
  }
  const std::size_t e_pos = text.find('e');
  std::string digits;
  for (std::size_t i = pos; i < e_pos; ++i) {
    if (text[i] != '.') digits += text[i];
  }
  const int exponent = std::atoi(std::string(text.substr(e_pos + 1)).c_str());

  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += exponent < 0 ? "e-" : "e+";
    const int magnitude = std::abs(exponent);
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
    return;
  }
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exponent - 1), '0');
    out += digits;
    return;
  }
  const auto integer_digits = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) {
    out += digits;
    out.append(integer_digits - digits.size(), '0');
    out += ".0";
  } else {
    out.append(digits, 0, integer_digits);
    out += '.';
    out.append(digits, integer_digits);
  }
}

}  // namespace lakeflow
