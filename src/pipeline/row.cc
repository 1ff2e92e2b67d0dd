#include "pipeline/row.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "lakeflow/error.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/json.h"
#include "util/text.h"

namespace lakeflow::pipeline {
namespace {

constexpr int kMaxDepth = 512;

std::string excerpt(std::string_view json) {
  constexpr std::size_t kMax = 60;
  if (json.size() <= kMax) return std::string(json);
  return std::string(json.substr(0, kMax)) + "...";
}

// A minimal validating scanner for JSON text: finds value boundaries without building anything.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  [[noreturn]] void fail(std::string_view reason) const {
    throw Error(ErrorCode::kData, fmt::format("row is not a JSON object ({} at byte {}): {}",
                                              reason, pos_, excerpt(text_)));
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  std::size_t pos() const { return pos_; }
  void expect(char c) {
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++pos_;
  }

  // Skips a string starting at the quote; returns whether it held an escape.
  bool skip_string() {
    expect('"');
    bool escaped = false;
    while (!at_end()) {
      const char c = text_[pos_++];
      if (c == '"') return escaped;
      if (c == '\\') {
        if (at_end()) break;
        escaped = true;
        ++pos_;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        fail("control character in a string");
      }
    }
    fail("unterminated string");
  }

  void skip_value(int depth) {
    if (depth > kMaxDepth) fail("nested too deeply");
    skip_space();
    const char c = peek();
    if (c == '"') {
      skip_string();
    } else if (c == '{') {
      ++pos_;
      skip_space();
      if (peek() == '}') {
        ++pos_;
        return;
      }
      while (true) {
        skip_space();
        skip_string();
        skip_space();
        expect(':');
        skip_value(depth + 1);
        skip_space();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect('}');
        return;
      }
    } else if (c == '[') {
      ++pos_;
      skip_space();
      if (peek() == ']') {
        ++pos_;
        return;
      }
      while (true) {
        skip_value(depth + 1);
        skip_space();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        expect(']');
        return;
      }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const std::size_t start = pos_;
      while (!at_end() &&
             std::string_view("+-.eE0123456789").find(text_[pos_]) != std::string_view::npos) {
        ++pos_;
      }
      if (pos_ == start) fail("bad number");
    } else if (text_.substr(pos_, 4) == "true" || text_.substr(pos_, 4) == "null") {
      pos_ += 4;
    } else if (text_.substr(pos_, 5) == "false") {
      pos_ += 5;
    } else {
      fail("unexpected character");
    }
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

struct Span {
  std::string name;
  std::size_t name_begin, name_end, value_begin, value_end;
};

std::string unescape_name(std::string_view quoted, bool escaped) {
  if (!escaped) return std::string(quoted.substr(1, quoted.size() - 2));
  try {
    return JsonValue::parse(quoted, "field name").as_string();
  } catch (const Error& e) {
    throw Error(ErrorCode::kData, fmt::format("row has a bad field name {}: {}", quoted, e.what()));
  }
}

// The fields of the JSON object `text` (which must be exactly one object, with optional space).
std::vector<Span> scan_object(std::string_view text) {
  Scanner scanner(text);
  std::vector<Span> fields;
  scanner.skip_space();
  scanner.expect('{');
  scanner.skip_space();
  if (scanner.peek() == '}') {
    scanner.expect('}');
  } else {
    while (true) {
      scanner.skip_space();
      const std::size_t name_begin = scanner.pos();
      const bool escaped = scanner.skip_string();
      const std::size_t name_end = scanner.pos();
      scanner.skip_space();
      scanner.expect(':');
      scanner.skip_space();
      const std::size_t value_begin = scanner.pos();
      scanner.skip_value(1);
      const std::size_t value_end = scanner.pos();
      fields.push_back({unescape_name(text.substr(name_begin, name_end - name_begin), escaped),
                        name_begin, name_end, value_begin, value_end});
      scanner.skip_space();
      if (scanner.peek() == ',') {
        scanner.expect(',');
        continue;
      }
      scanner.expect('}');
      break;
    }
  }
  scanner.skip_space();
  if (!scanner.at_end()) scanner.fail("text after the object");
  return fields;
}

bool contains(std::initializer_list<std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

[[noreturn]] void bad_value(std::string_view json, const DataType& type, std::string_view reason) {
  throw Error(ErrorCode::kData,
              fmt::format("value {} is not a {}: {}", excerpt(json), type.simple_string(), reason));
}

// The content of a JSON string token, or nullopt when `json` is not a string.
std::optional<std::string> string_content(std::string_view json, const DataType& type) {
  if (json.empty() || json.front() != '"') return std::nullopt;
  try {
    return JsonValue::parse(json, "value").as_string();
  } catch (const Error& e) {
    bad_value(json, type, e.what());
  }
}

// A number's text, or a numeric string's content.
std::string number_text(std::string_view json, const DataType& type) {
  if (auto s = string_content(json, type)) return *s;
  if (json.empty() || !(json.front() == '-' || (json.front() >= '0' && json.front() <= '9'))) {
    bad_value(json, type, "expected a number");
  }
  return std::string(json);
}

__extension__ typedef unsigned __int128 UInt128;

void append_int128(std::string& out, Int128 v) {
  // Negate through unsigned arithmetic so the minimum value does not overflow.
  UInt128 u = static_cast<UInt128>(v);
  if (v < 0) {
    out += '-';
    u = -u;
  }
  char digits[40];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  } while (u != 0);
  while (n > 0) out += digits[--n];
}

}  // namespace

// ---- Row ---------------------------------------------------------------------------------------

Row::Row(std::string json) : json_(std::move(json)) {
  for (Span& span : scan_object(json_)) {
    fields_.push_back(
        {std::move(span.name), span.name_begin, span.name_end, span.value_begin, span.value_end});
  }
}

const Row::Field* Row::find(std::string_view name) const {
  for (auto it = fields_.rbegin(); it != fields_.rend(); ++it) {
    if (it->name == name) return &*it;
  }
  return nullptr;
}

std::optional<std::string_view> Row::field(std::string_view name) const {
  const Field* f = find(name);
  if (f == nullptr) return std::nullopt;
  return value_text(*f);
}

std::optional<std::string_view> Row::find_path(std::string_view dotted_path) const {
  if (auto direct = field(dotted_path)) return direct;
  std::size_t dot = dotted_path.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::optional<std::string_view> current = field(dotted_path.substr(0, dot));
  std::string_view rest = dotted_path.substr(dot + 1);
  while (current) {
    if (current->empty() || current->front() != '{') return std::nullopt;
    const std::vector<Span> spans = scan_object(*current);
    dot = rest.find('.');
    const std::string_view step = rest.substr(0, dot);
    std::optional<std::string_view> next;
    for (const Span& span : spans) {
      if (span.name == step) {
        next = current->substr(span.value_begin, span.value_end - span.value_begin);
      }
    }
    if (dot == std::string_view::npos || !next) return next;
    current = next;
    rest = rest.substr(dot + 1);
  }
  return std::nullopt;
}

std::string Row::rebuild(
    std::initializer_list<std::string_view> excluded,
    std::initializer_list<std::pair<std::string_view, std::string_view>> extra) const {
  std::string out = "{";
  for (const Field& f : fields_) {
    if (contains(excluded, f.name)) continue;
    if (out.size() > 1) out += ',';
    out += name_text(f);
    out += ':';
    out += value_text(f);
  }
  for (const auto& [name, value] : extra) {
    if (out.size() > 1) out += ',';
    append_json_string(out, name, false);
    out += ':';
    out += value;
  }
  out += '}';
  return out;
}

bool Row::same_fields(const Row& other, std::initializer_list<std::string_view> excluded) const {
  auto covered_by = [&excluded](const Row& a, const Row& b) {
    for (const Field& f : a.fields_) {
      if (contains(excluded, f.name)) continue;
      if (a.find(f.name) != &f) continue;  // a repeated name: only the last counts
      const std::string_view value = a.value_text(f);
      const std::optional<std::string_view> theirs = b.field(f.name);
      if (theirs ? *theirs != value : value != "null") return false;
    }
    return true;
  };
  return covered_by(*this, other) && covered_by(other, *this);
}

// ---- TypedValue --------------------------------------------------------------------------------

bool TypedValue::supports(const DataType& type) {
  return !type.is_nested() && type.id() != TypeId::kVariant;
}

TypedValue TypedValue::read(std::string_view json, const DataType& type,
                            std::optional<std::int32_t> zone_less_offset) {
  json = text::trim(json);
  TypedValue out;
  if (json == "null") return out;
  switch (type.id()) {
    case TypeId::kLong:
    case TypeId::kInteger:
    case TypeId::kShort:
    case TypeId::kByte: {
      const auto parsed =
          text::parse_integer(number_text(json, type), std::numeric_limits<std::int64_t>::min(),
                              std::numeric_limits<std::int64_t>::max());
      if (!parsed.ok()) bad_value(json, type, parsed.error);
      out.value_ = parsed.value;
      return out;
    }
    case TypeId::kDouble:
    case TypeId::kFloat: {
      const auto parsed = text::parse_double(number_text(json, type));
      if (!parsed.ok()) bad_value(json, type, parsed.error);
      double v = parsed.value;
      if (v == 0.0) v = 0.0;  // -0.0 == 0.0
      out.value_ = v;
      return out;
    }
    case TypeId::kDecimal: {
      const auto parsed =
          text::parse_decimal(number_text(json, type), type.precision(), type.scale());
      if (!parsed.ok()) bad_value(json, type, parsed.error);
      out.value_ = parsed.value;
      return out;
    }
    case TypeId::kBoolean:
      if (json == "true" || json == "false") {
        out.value_ = (json == "true");
        return out;
      }
      bad_value(json, type, "expected true or false");
    case TypeId::kString:
    case TypeId::kBinary:
      if (auto s = string_content(json, type)) {
        out.value_ = std::move(*s);
      } else if (type.id() == TypeId::kString && json.front() != '{' && json.front() != '[') {
        out.value_ = std::string(json);  // numbers and booleans as their JSON text
      } else {
        bad_value(json, type, "expected a string");
      }
      return out;
    case TypeId::kDate: {
      const auto s = string_content(json, type);
      if (!s) bad_value(json, type, "expected a date string");
      const auto parsed = text::parse_date(*s);
      if (!parsed.ok()) bad_value(json, type, parsed.error);
      out.value_ = static_cast<std::int64_t>(parsed.value);
      return out;
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz: {
      const bool instant = type.id() == TypeId::kTimestamp;
      if (auto s = string_content(json, type)) {
        const auto parsed = text::parse_timestamp(*s, instant, zone_less_offset);
        if (!parsed.ok()) bad_value(json, type, parsed.error);
        out.value_ = parsed.value;
        return out;
      }
      // Seconds since the epoch, as the converter reads numbers.
      const auto seconds = text::parse_double(number_text(json, type));
      if (!seconds.ok() || !std::isfinite(seconds.value) || std::abs(seconds.value) > 9.2e12) {
        bad_value(json, type, "expected a timestamp string or epoch seconds");
      }
      out.value_ = static_cast<std::int64_t>(std::llround(seconds.value * 1e6));
      return out;
    }
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
    case TypeId::kVariant:
      break;
  }
  throw Error(ErrorCode::kInternal,
              fmt::format("a {} column cannot be a key or sequence column", type.simple_string()));
}

TypedValue TypedValue::of(const Column& column, std::size_t row) {
  TypedValue out;
  switch (column.type().id()) {
    case TypeId::kLong:
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz:
      out.value_ = column.values<std::int64_t>()[row];
      return out;
    case TypeId::kInteger:
    case TypeId::kDate:
      out.value_ = std::int64_t{column.values<std::int32_t>()[row]};
      return out;
    case TypeId::kShort:
      out.value_ = std::int64_t{column.values<std::int16_t>()[row]};
      return out;
    case TypeId::kByte:
      out.value_ = std::int64_t{column.values<std::int8_t>()[row]};
      return out;
    case TypeId::kDouble:
    case TypeId::kFloat: {
      // row_json prints a float widened to double, which read() parses back exactly.
      double v = column.type().id() == TypeId::kDouble
                     ? column.values<double>()[row]
                     : static_cast<double>(column.values<float>()[row]);
      if (v == 0.0) v = 0.0;  // -0.0 == 0.0, as read()
      out.value_ = v;
      return out;
    }
    case TypeId::kDecimal:
      out.value_ = column.values<Int128>()[row];  // unscaled at the column's scale, as read()
      return out;
    case TypeId::kBoolean:
      out.value_ = column.bool_value(row);
      return out;
    case TypeId::kString:
      out.value_ = std::string(column.string_value(row));
      return out;
    case TypeId::kBinary:  // read() keeps the base64 text row_json writes (padded, `+/`)
      out.value_ = http::base64_encode(column.string_value(row));
      return out;
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
    case TypeId::kVariant:
      break;
  }
  throw Error(ErrorCode::kInternal, fmt::format("TypedValue::of: a {} column is not supported",
                                                column.type().simple_string()));
}

std::strong_ordering operator<=>(const TypedValue& a, const TypedValue& b) {
  if (a.value_.index() != b.value_.index()) return a.value_.index() <=> b.value_.index();
  return std::visit(
      [&b](const auto& x) -> std::strong_ordering {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return std::strong_ordering::equal;
        } else if constexpr (std::is_same_v<T, double>) {
          const double y = std::get<double>(b.value_);
          const bool x_nan = std::isnan(x);
          const bool y_nan = std::isnan(y);
          if (x_nan || y_nan) return x_nan <=> y_nan;
          if (x < y) return std::strong_ordering::less;
          return x > y ? std::strong_ordering::greater : std::strong_ordering::equal;
        } else if constexpr (std::is_same_v<T, Int128>) {
          const Int128 y = std::get<Int128>(b.value_);
          if (x < y) return std::strong_ordering::less;
          return x > y ? std::strong_ordering::greater : std::strong_ordering::equal;
        } else if constexpr (std::is_same_v<T, std::string>) {
          const int c = x.compare(std::get<std::string>(b.value_));
          return c <=> 0;
        } else {
          return x <=> std::get<T>(b.value_);
        }
      },
      a.value_);
}

void TypedValue::append_key(std::string& out) const {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += 'n';
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "b1" : "b0";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out += 'i';
          out += std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          out += 'd';
          out +=
              std::isnan(x) ? std::string("nan") : std::to_string(std::bit_cast<std::uint64_t>(x));
        } else if constexpr (std::is_same_v<T, Int128>) {
          out += 'm';
          append_int128(out, x);
        } else {
          out += 's';
          out += std::to_string(x.size());
          out += ':';
          out += x;
        }
        out += ';';
      },
      value_);
}

}  // namespace lakeflow::pipeline
