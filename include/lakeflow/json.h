// A small JSON value for configuration-sized data: offsets, field metadata, option files.
//
// Not for records: records stay raw JSON text inside a `RecordBatch` and are parsed once, by the
// converter. Objects keep their keys sorted, so `dump()` is canonical: two equal values always
// serialize to the same bytes. `dump()` writes what Python's
// `json.dumps(v, sort_keys=True, separators=(",", ":"))` writes (ASCII only, `\uXXXX` escapes,
// Python's float repr), which is what PySpark uses for schema JSON.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace lakeflow {

class JsonValue {
 public:
  using Array = std::vector<JsonValue>;
  using Object = std::map<std::string, JsonValue, std::less<>>;

  JsonValue() = default;  // null
  JsonValue(std::nullptr_t) {}
  JsonValue(bool v) : value_(v) {}
  JsonValue(int v) : value_(static_cast<std::int64_t>(v)) {}
  JsonValue(std::int64_t v) : value_(v) {}
  JsonValue(double v) : value_(v) {}
  JsonValue(const char* v) : value_(std::string(v)) {}
  JsonValue(std::string v) : value_(std::move(v)) {}
  JsonValue(std::string_view v) : value_(std::string(v)) {}
  JsonValue(Array v) : value_(std::move(v)) {}
  JsonValue(Object v) : value_(std::move(v)) {}

  // Parses JSON text. Throws ConfigError naming `what` (e.g. "offset") on invalid JSON.
  static JsonValue parse(std::string_view text, std::string_view what = "JSON");

  bool is_null() const { return std::holds_alternative<std::monostate>(value_); }
  bool is_bool() const { return std::holds_alternative<bool>(value_); }
  bool is_int() const { return std::holds_alternative<std::int64_t>(value_); }
  bool is_double() const { return std::holds_alternative<double>(value_); }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_array() const { return std::holds_alternative<Array>(value_); }
  bool is_object() const { return std::holds_alternative<Object>(value_); }

  // Typed access; throws ConfigError when the value has another type.
  bool as_bool() const;
  std::int64_t as_int() const;
  double as_double() const;  // ints convert
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // Object member or nullptr (also nullptr when this is not an object).
  const JsonValue* find(std::string_view key) const;
  // Object member, inserting null; turns a null value into an empty object first.
  JsonValue& operator[](std::string_view key);

  std::string dump() const;  // canonical compact JSON
  void dump_to(std::string& out) const;

  friend bool operator==(const JsonValue& a, const JsonValue& b) { return a.value_ == b.value_; }

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Array, Object> value_;
};

// Appends `s` as a JSON string literal (with quotes). `ascii_only` escapes non-ASCII as \uXXXX
// (UTF-16 surrogate pairs for characters above U+FFFF) the way Python's json module does.
void append_json_string(std::string& out, std::string_view s, bool ascii_only = true);

// Appends a double the way Python's repr() prints a float (shortest round-trip digits, `1e+16`,
// `1.5`, `100.0`). NaN and infinities are written as Python does (`NaN`, `Infinity`, `-Infinity`).
void append_python_float(std::string& out, double v);

}  // namespace lakeflow
