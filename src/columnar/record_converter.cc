#include "columnar/record_converter.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "lakeflow/error.h"
#include "util/text.h"

namespace lakeflow {

namespace od = simdjson::ondemand;

namespace {

#define LAKEFLOW_STRINGIFY_IMPL(x) #x
#define LAKEFLOW_STRINGIFY(x) LAKEFLOW_STRINGIFY_IMPL(x)

constexpr std::size_t kExcerptLength = 60;
static_assert(RecordBatch::kPadding >= simdjson::SIMDJSON_PADDING,
              "records must be followed by simdjson's padding");

// A conversion failure on its way up to the record loop. Each level it passes adds its path
// segment (field name or array index); the record loop turns it into a ConversionError.
struct Failure {
  std::string reason;
  std::string excerpt;
  const DataType* expected;       // null when the JSON itself is broken
  std::vector<std::string> path;  // innermost first
};

std::string excerpt_of(std::string_view text) {
  text = text::trim(text);
  if (text.size() <= kExcerptLength) return std::string(text);
  return std::string(text.substr(0, kExcerptLength)) + "...";
}

[[noreturn]] void fail(const DataType& expected, std::string_view excerpt, std::string reason) {
  throw Failure{std::move(reason), excerpt_of(excerpt), &expected, {}};
}

// The JSON itself is broken: no type was expected yet (Failure::expected is null).
[[noreturn]] void fail_json(simdjson::error_code error) {
  if (error == simdjson::STRING_ERROR) {
    // Valid JSON (RFC 8259 allows any \uXXXX escape) that no UTF-8 string can hold.
    throw Failure{
        "a string escape that is not text: a lone UTF-16 surrogate such as \\ud800, which UTF-8 "
        "cannot hold (or a malformed escape)",
        "",
        nullptr,
        {}};
  }
  throw Failure{std::string("invalid JSON: ") + simdjson::error_message(error), "", nullptr, {}};
}

template <typename T>
T check(simdjson::simdjson_result<T> result) {
  T value;
  if (auto error = std::move(result).get(value)) fail_json(error);
  return value;
}

// The value of an iteration step, in place: copying simdjson's small iterator structs out of
// their result costs a store-to-load forwarding stall per field on the hot path.
template <typename T>
T& checked(simdjson::simdjson_result<T>& result) {
  if (auto error = result.error()) fail_json(error);
  return result.value_unsafe();
}

// The `n` (at most 16) bytes at `p` as two words, read with fixed-size (overlapping) loads inside
// them; strings of equal length are equal exactly when their words are.
struct ShortBytes {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
};
ShortBytes short_bytes(const char* p, std::size_t n) {
  ShortBytes w;
  if (n >= 8) {
    std::memcpy(&w.a, p, 8);
    std::memcpy(&w.b, p + n - 8, 8);
  } else if (n >= 4) {
    std::uint32_t x;
    std::uint32_t y;
    std::memcpy(&x, p, 4);
    std::memcpy(&y, p + n - 4, 4);
    w.a = (static_cast<std::uint64_t>(x) << 32) | y;
  } else if (n > 0) {
    w.a = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(p[0])) << 16) |
          (static_cast<std::uint64_t>(static_cast<std::uint8_t>(p[n >> 1])) << 8) |
          static_cast<std::uint8_t>(p[n - 1]);
  }
  return w;
}

// A struct field's name as the key matching reads it: its size and, for names up to 16 bytes,
// its bytes as two words, next to the field most recently seen after it. Matching a key then
// reads one small entry and the key itself, not the name's string elsewhere in memory.
struct KeyName {
  static constexpr std::size_t kShort = 16;
  ShortBytes words;
  std::uint32_t size = 0;
  // Records of one source repeat their key orders, which need not be the schema's: the field
  // whose key followed this one last time, tried first.
  std::uint32_t next = 0;

  // Whether the raw (still escaped) key at `raw`, just past its opening quote, is `name` (this
  // entry's field name): the answer of raw_json_string::unsafe_is_equal (the name's bytes, then
  // the closing quote). A record is followed by kPadding readable bytes, so reading size + 1
  // bytes from `raw` stays inside them whatever the key's length.
  bool matches(const char* raw, const std::string& name) const {
    if (size > kShort) {
      return od::raw_json_string(reinterpret_cast<const std::uint8_t*>(raw)).unsafe_is_equal(name);
    }
    if (raw[size] != '"') return false;
    const ShortBytes k = short_bytes(raw, size);
    return ((k.a ^ words.a) | (k.b ^ words.b)) == 0;
  }
};

// The schema compiled into a tree parallel to the Column tree, with per-node scratch state.
struct Plan {
  const DataType* type = nullptr;
  TypeId id = TypeId::kString;
  // struct
  struct Field {
    std::string name;
    bool nullable;
    std::unique_ptr<Plan> plan;
  };
  std::vector<Field> fields;
  std::vector<std::uint64_t> seen;  // visit stamp per field
  // Per field, its name for key matching; one more entry whose `next` is the field of the first
  // key last time.
  std::vector<KeyName> keys;
  // Root only: the raw record column (ConversionOptions::raw_record_column), or none.
  std::size_t raw_field = std::numeric_limits<std::size_t>::max();
  // array element / map key and value
  std::unique_ptr<Plan> element;
  std::unique_ptr<Plan> key;
  std::unique_ptr<Plan> value;
  bool element_nullable = true;
  // integer range
  std::int64_t min = 0;
  std::int64_t max = 0;

  explicit Plan(const DataType& t) : type(&t), id(t.id()) {
    switch (id) {
      case TypeId::kStruct:
        for (const StructField& f : t.fields()) {
          fields.push_back({f.name, f.nullable, std::make_unique<Plan>(f.type)});
        }
        seen.assign(fields.size(), 0);
        keys.resize(fields.size() + 1);
        for (std::size_t i = 0; i < fields.size(); ++i) {
          const std::string& name = fields[i].name;
          keys[i].size = static_cast<std::uint32_t>(name.size());
          if (name.size() <= KeyName::kShort) keys[i].words = short_bytes(name.data(), name.size());
        }
        break;
      case TypeId::kArray:
        element = std::make_unique<Plan>(t.element_type());
        element_nullable = t.contains_null();
        break;
      case TypeId::kMap:
        key = std::make_unique<Plan>(t.key_type());
        value = std::make_unique<Plan>(t.value_type());
        element_nullable = t.value_contains_null();
        break;
      case TypeId::kLong:
        min = std::numeric_limits<std::int64_t>::min();
        max = std::numeric_limits<std::int64_t>::max();
        break;
      case TypeId::kInteger:
        min = std::numeric_limits<std::int32_t>::min();
        max = std::numeric_limits<std::int32_t>::max();
        break;
      case TypeId::kShort:
        min = std::numeric_limits<std::int16_t>::min();
        max = std::numeric_limits<std::int16_t>::max();
        break;
      case TypeId::kByte:
        min = std::numeric_limits<std::int8_t>::min();
        max = std::numeric_limits<std::int8_t>::max();
        break;
      default:
        break;
    }
  }
};

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  return c == '+' ? 62 : 63;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict base64 (alphabet, length a multiple of 4, at most two '=' at the end).
bool decode_base64(std::string_view s, AlignedBuffer& out) {
  if (s.empty() || s.size() % 4 != 0) return false;
  std::size_t pad = 0;
  if (s.back() == '=') ++pad;
  if (s.size() >= 2 && s[s.size() - 2] == '=') ++pad;
  for (std::size_t i = 0; i < s.size() - pad; ++i) {
    if (!is_base64_char(s[i])) return false;
  }
  std::size_t start = out.size();
  for (std::size_t i = 0; i < s.size(); i += 4) {
    std::uint32_t n = 0;
    int chars = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      if (s[i + j] == '=') break;
      n |= static_cast<std::uint32_t>(base64_value(s[i + j])) << (18 - 6 * j);
      ++chars;
    }
    std::uint8_t bytes[3] = {static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
                             static_cast<std::uint8_t>(n)};
    out.append(bytes, static_cast<std::size_t>(chars - 1));
  }
  (void)start;
  return true;
}

bool decode_hex(std::string_view s, AlignedBuffer& out) {
  if (s.empty() || s.size() % 2 != 0) return false;
  for (char c : s) {
    if (hex_value(c) < 0) return false;
  }
  for (std::size_t i = 0; i < s.size(); i += 2) {
    out.push(static_cast<std::uint8_t>(hex_value(s[i]) * 16 + hex_value(s[i + 1])));
  }
  return true;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

const char* json_type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "a value";
}

}  // namespace

class RecordConverter::Impl {
 public:
  Impl(StructType schema, std::string table, BadRecordMode mode, ConversionOptions options)
      : schema_(std::move(schema)),
        table_(std::move(table)),
        mode_(mode),
        options_(options),
        root_plan_(schema_) {
    if (options_.raw_record_column) {
      const std::optional<std::size_t> index = schema_.index_of(*options_.raw_record_column);
      const TypeId id = index ? schema_.fields()[*index].type.id() : TypeId::kStruct;
      if (id != TypeId::kString) {
        throw SchemaError("table '" + table_ + "': the raw record column '" +
                          *options_.raw_record_column +
                          "' must be a top-level string column of the schema");
      }
      root_plan_.raw_field = *index;
    }
  }

  ColumnBatch make_batch() const { return ColumnBatch(schema_); }

  // Converts one record (made from `source`, RecordBatch::source) into a new row of `root`.
  // Throws Failure.
  void convert_record(const char* data, std::size_t size, std::size_t readable,
                      std::string_view source, Column& root) {
    source_ = source;
    od::document doc = check(parser_.iterate(data, size, readable));
    od::json_type type = check(doc.type());
    if (type != od::json_type::object) {
      fail(schema_, std::string_view(data, size),
           std::string("a record must be a JSON object, got ") + json_type_name(type));
    }
    od::object object = check(doc.get_object());
    convert_fields(object, root_plan_, root, /*empty_is_null=*/false);
    root.append_valid();
    // Text after the record's object (a second object, garbage) is an error too.
    const char* trailing;
    if (!doc.current_location().get(trailing)) {
      fail(schema_, trailing, "unexpected text after the record's JSON object");
    }
  }

  const StructType& schema() const { return schema_; }
  const std::string& table() const { return table_; }
  BadRecordMode mode() const { return mode_; }
  // The raw record column's index among the top-level fields (SIZE_MAX: none).
  std::size_t raw_field() const { return root_plan_.raw_field; }

 private:
  // Fills one row of each child of a struct column from `object`; returns the number of keys seen.
  // With `empty_is_null`, an object without keys leaves the children untouched and returns 0.
  std::size_t convert_fields(od::object& object, Plan& plan, Column& column, bool empty_is_null) {
    const std::uint64_t stamp = ++stamp_;
    std::size_t keys = 0;
    const std::size_t n = plan.fields.size();
    std::size_t previous = n;  // the field of the previous key (n: none yet)
    for (auto field_result : object) {
      od::field& field = checked(field_result);
      ++keys;
      od::raw_json_string raw_key = field.key();
      std::size_t index = n;
      // The field that followed the previous one last time first, then every field from there.
      const std::size_t hint = plan.keys[previous].next;
      for (std::size_t k = 0, i = hint; k < n; ++k, i = (i + 1 == n ? 0 : i + 1)) {
        if (plan.keys[i].matches(raw_key.raw(), plan.fields[i].name)) {
          index = i;
          break;
        }
      }
      if (index == n) {
        index = match_escaped_key(field, plan);
        if (index == n) continue;  // unknown fields are ignored
      }
      plan.keys[previous].next = static_cast<std::uint32_t>(index);
      previous = index;
      Plan::Field& f = plan.fields[index];
      Column& child = column.child(index);
      if (plan.seen[index] == stamp) child.truncate(child.length() - 1);  // repeated key: last wins
      plan.seen[index] = stamp;
      try {
        od::value& value = field.value();
        convert_value(value, *f.plan, f.nullable, child);
      } catch (Failure& failure) {
        failure.path.push_back(f.name);
        throw;
      }
    }
    if (keys == 0 && empty_is_null) return 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (plan.seen[i] == stamp) continue;
      if (i == plan.raw_field) {
        column.child(i).append_bytes(source_);  // the record's own text, as the source sent it
        continue;
      }
      if (!plan.fields[i].nullable) {
        Failure failure{"required field is missing (the field is not nullable)",
                        "",
                        plan.fields[i].plan->type,
                        {plan.fields[i].name}};
        throw failure;
      }
      column.child(i).append_null();
    }
    return keys;
  }

  // A key with escape sequences (`"na\u006de"`) is compared after unescaping.
  std::size_t match_escaped_key(od::field& field, Plan& plan) {
    // raw() points just past the opening quote. A backslash before the first quote means the key
    // has escapes; otherwise that quote closes it and the key simply matched no field.
    bool escaped = false;
    for (const char* p = field.key().raw(); *p != '"'; ++p) {
      if (*p == '\\') {
        escaped = true;
        break;
      }
    }
    if (!escaped) return plan.fields.size();
    std::string_view key = check(field.unescaped_key());
    for (std::size_t i = 0; i < plan.fields.size(); ++i) {
      if (plan.fields[i].name == key) return i;
    }
    return plan.fields.size();
  }

  void convert_value(od::value& value, Plan& plan, bool nullable, Column& column) {
    od::json_type type = check(value.type());
    if (type == od::json_type::null) {
      if (!nullable) fail(*plan.type, "null", "null is not allowed here (not nullable)");
      // Consume the null token.
      bool is_null = check(value.is_null());
      (void)is_null;
      column.append_null();
      return;
    }
    switch (plan.id) {
      case TypeId::kStruct:
        return convert_struct(value, type, plan, nullable, column);
      case TypeId::kArray:
        return convert_array(value, type, plan, column);
      case TypeId::kMap:
        return convert_map(value, type, plan, column);
      case TypeId::kLong:
        return column.append_value<std::int64_t>(to_integer(value, type, plan));
      case TypeId::kInteger:
        return column.append_value<std::int32_t>(
            static_cast<std::int32_t>(to_integer(value, type, plan)));
      case TypeId::kShort:
        return column.append_value<std::int16_t>(
            static_cast<std::int16_t>(to_integer(value, type, plan)));
      case TypeId::kByte:
        return column.append_value<std::int8_t>(
            static_cast<std::int8_t>(to_integer(value, type, plan)));
      case TypeId::kDouble:
        return column.append_value<double>(to_double(value, type, plan));
      case TypeId::kFloat: {
        double d = to_double(value, type, plan);
        if (std::isfinite(d) &&
            std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max())) {
          fail(*plan.type, token(value), "value overflows float");
        }
        return column.append_value<float>(static_cast<float>(d));
      }
      case TypeId::kDecimal:
        return column.append_value<Int128>(to_decimal(value, type, plan));
      case TypeId::kString:
        return convert_string(value, type, column);
      case TypeId::kBoolean:
        return column.append_bool(to_bool(value, type, plan));
      case TypeId::kDate: {
        if (type != od::json_type::string) fail_type(value, type, plan);
        std::string_view s = check(value.get_string());
        text::Parsed<std::int32_t> d = text::parse_date(s);
        if (!d.ok()) fail(*plan.type, s, d.error);
        return column.append_value<std::int32_t>(d.value);
      }
      case TypeId::kTimestamp:
      case TypeId::kTimestampNtz:
        return column.append_value<std::int64_t>(to_timestamp(value, type, plan));
      case TypeId::kBinary:
        return convert_binary(value, type, plan, column);
      case TypeId::kVariant:
        return convert_variant(value, type, plan, column);
    }
  }

  void convert_struct(od::value& value, od::json_type type, Plan& plan, bool nullable,
                      Column& column) {
    if (type != od::json_type::object) fail_type(value, type, plan);
    od::object object = check(value.get_object());
    if (convert_fields(object, plan, column, /*empty_is_null=*/true) == 0) {
      // `{}` is an absent struct.
      if (!nullable)
        fail(*plan.type, "{}", "an empty object stands for null, which is not allowed here");
      column.append_null();
      return;
    }
    column.append_valid();
  }

  void convert_array(od::value& value, od::json_type type, Plan& plan, Column& column) {
    Column& elements = column.child(0);
    if (type != od::json_type::array) {
      // A single scalar where an array is expected is wrapped, as upstream does, only when the
      // array may contain nulls. An object is not: it is a different shape, not one element.
      if (!plan.element_nullable || type == od::json_type::object) {
        fail(*plan.type, token(value),
             std::string("expected an array, got ") + json_type_name(type));
      }
      try {
        convert_value(value, *plan.element, true, elements);
      } catch (Failure& failure) {
        failure.path.push_back("[0]");
        throw;
      }
      column.finish_list();
      return;
    }
    od::array array = check(value.get_array());
    std::size_t index = 0;
    for (auto element_result : array) {
      od::value& element = checked(element_result);
      try {
        convert_value(element, *plan.element, plan.element_nullable, elements);
      } catch (Failure& failure) {
        failure.path.push_back("[" + std::to_string(index) + "]");
        throw;
      }
      ++index;
    }
    column.finish_list();
  }

  void convert_map(od::value& value, od::json_type type, Plan& plan, Column& column) {
    if (type != od::json_type::object) fail_type(value, type, plan);
    Column& entries = column.child(0);
    Column& keys = entries.child(0);
    Column& values = entries.child(1);
    od::object object = check(value.get_object());
    for (auto field_result : object) {
      od::field& field = checked(field_result);
      std::string_view key = check(field.unescaped_key());
      try {
        append_key(key, *plan.key, keys);
        od::value& v = field.value();
        convert_value(v, *plan.value, plan.element_nullable, values);
      } catch (Failure& failure) {
        failure.path.push_back("[" + std::string(key) + "]");
        throw;
      }
      entries.append_valid();
    }
    column.finish_list();
  }

  // Map keys are JSON strings; they convert to the key type from their text.
  void append_key(std::string_view key, Plan& plan, Column& column) {
    switch (plan.id) {
      case TypeId::kString:
        return column.append_bytes(key);
      case TypeId::kLong:
      case TypeId::kInteger:
      case TypeId::kShort:
      case TypeId::kByte: {
        text::Parsed<std::int64_t> v = text::parse_integer(key, plan.min, plan.max);
        if (!v.ok()) fail(*plan.type, key, std::string("map key ") + v.error);
        if (plan.id == TypeId::kLong) return column.append_value<std::int64_t>(v.value);
        if (plan.id == TypeId::kInteger)
          return column.append_value<std::int32_t>(static_cast<std::int32_t>(v.value));
        if (plan.id == TypeId::kShort)
          return column.append_value<std::int16_t>(static_cast<std::int16_t>(v.value));
        return column.append_value<std::int8_t>(static_cast<std::int8_t>(v.value));
      }
      case TypeId::kDate: {
        text::Parsed<std::int32_t> d = text::parse_date(key);
        if (!d.ok()) fail(*plan.type, key, std::string("map key ") + d.error);
        return column.append_value<std::int32_t>(d.value);
      }
      case TypeId::kTimestamp:
      case TypeId::kTimestampNtz: {
        text::Parsed<std::int64_t> t = text::parse_timestamp(key, plan.id == TypeId::kTimestamp,
                                                             options_.timestamp_zone_offset);
        if (!t.ok()) fail(*plan.type, key, std::string("map key ") + t.error);
        return column.append_value<std::int64_t>(t.value);
      }
      default:
        fail(*plan.type, key, "map keys of this type are not supported; use string keys");
    }
  }

  // Whole numbers only: a fractional part, a boolean or text that is not a number is an error,
  // never truncated or counted (1e3 and 4.0 are whole and read exactly).
  std::int64_t to_integer(od::value& value, od::json_type type, Plan& plan) {
    std::string_view text;
    switch (type) {
      case od::json_type::number: {
        od::number_type nt;
        std::int64_t v;
        if (!value.get_number_type().get(nt) && nt == od::number_type::signed_integer &&
            !value.get_int64().get(v)) {
          if (v < plan.min || v > plan.max) {
            fail(*plan.type, token(value),
                 "value is out of range for " + plan.type->simple_string());
          }
          return v;
        }
        text = token(value);  // decimal text, an exponent, or beyond 64 bits: read exactly
        break;
      }
      case od::json_type::string:
        text = check(value.get_string());
        break;
      default:
        fail_type(value, type, plan);
    }
    text::Parsed<std::int64_t> v = text::parse_integer(text, plan.min, plan.max);
    if (!v.ok()) {
      fail(*plan.type, text,
           std::string(type == od::json_type::string ? "string " : "value ") + v.error + " (" +
               plan.type->simple_string() + ")");
    }
    return v.value;
  }

  double to_double(od::value& value, od::json_type type, Plan& plan) {
    switch (type) {
      case od::json_type::number: {
        double d;
        if (value.get_double().get(d)) fail(*plan.type, token(value), "number is out of range");
        return d;
      }
      case od::json_type::string: {
        std::string_view s = check(value.get_string());
        text::Parsed<double> v = text::parse_double(s);
        if (!v.ok()) fail(*plan.type, s, std::string("string ") + v.error);
        return v.value;
      }
      default:
        fail_type(value, type, plan);
    }
  }

  Int128 to_decimal(od::value& value, od::json_type type, Plan& plan) {
    std::string_view text;
    if (type == od::json_type::number) {
      text = token(value);
    } else if (type == od::json_type::string) {
      text = check(value.get_string());
    } else {
      fail_type(value, type, plan);
    }
    text::Parsed<Int128> d = text::parse_decimal(text, plan.type->precision(), plan.type->scale());
    if (!d.ok()) {
      fail(*plan.type, text,
           std::string("value ") + d.error + " (" + plan.type->simple_string() + ")");
    }
    return d.value;
  }

  // JSON true and false, and the strings "true" and "false" in any case (as upstream reads them).
  // Nothing else: yes, 1, t or a number would be a guess.
  bool to_bool(od::value& value, od::json_type type, Plan& plan) {
    if (type == od::json_type::boolean) return check(value.get_bool());
    if (type != od::json_type::string) fail_type(value, type, plan);
    std::string_view s = check(value.get_string());
    if (equals_ignore_case(s, "true")) return true;
    if (equals_ignore_case(s, "false")) return false;
    fail(*plan.type, s, "string is not a boolean (accepted: true, false)");
  }

  std::int64_t to_timestamp(od::value& value, od::json_type type, Plan& plan) {
    bool with_offset = plan.id == TypeId::kTimestamp;
    if (type == od::json_type::string) {
      std::string_view s = check(value.get_string());
      text::Parsed<std::int64_t> t =
          text::parse_timestamp(s, with_offset, options_.timestamp_zone_offset);
      if (!t.ok()) fail(*plan.type, s, t.error);
      return t.value;
    }
    if (type == od::json_type::number) {
      // Seconds since the epoch.
      od::number_type nt;
      if (value.get_number_type().get(nt)) fail(*plan.type, token(value), "number is out of range");
      constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1'000'000;
      if (nt == od::number_type::signed_integer) {
        std::int64_t s = check(value.get_int64());
        if (s > kMaxSeconds || s < -kMaxSeconds)
          fail(*plan.type, token(value), "epoch seconds out of range");
        return s * 1'000'000;
      }
      double d;
      if (value.get_double().get(d) || !(std::fabs(d) < static_cast<double>(kMaxSeconds))) {
        fail(*plan.type, token(value), "epoch seconds out of range");
      }
      double whole = std::trunc(d);
      return static_cast<std::int64_t>(whole) * 1'000'000 +
             static_cast<std::int64_t>(std::llround((d - whole) * 1e6));
    }
    fail_type(value, type, plan);
  }

  void convert_string(od::value& value, od::json_type type, Column& column) {
    switch (type) {
      case od::json_type::string:
        return append_unescaped(value, column);
      case od::json_type::number:
        return column.append_bytes(token(value));
      case od::json_type::boolean:
        return column.append_bytes(check(value.get_bool()) ? "true" : "false");
      default:
        // Objects and arrays become their compact JSON text.
        append_minified(raw_json(value, type), column.string_data());
        column.finish_string();
        return;
    }
  }

  // A JSON string's text, unescaped by simdjson straight into the column's data buffer: no stop
  // in the parser's string buffer and no second copy. The raw token (quotes included) bounds the
  // unescaped size; simdjson writes in whole blocks past the end, hence the padding.
  void append_unescaped(od::value& value, Column& column) {
    const std::size_t bound = value.raw_json_token().size() + simdjson::SIMDJSON_PADDING;
    od::raw_json_string raw = check(value.get_raw_json_string());
    AlignedBuffer& data = column.string_data();
    std::uint8_t* const start = data.extend(bound);
    std::uint8_t* end = start;
    if (parser_.unescape(raw, end).error()) fail_json(simdjson::STRING_ERROR);
    data.set_size(data.size() + static_cast<std::size_t>(end - start));
    column.finish_string();
  }

  void convert_binary(od::value& value, od::json_type type, Plan& plan, Column& column) {
    AlignedBuffer& data = column.string_data();
    if (type == od::json_type::string) {
      std::string_view s = check(value.get_string());
      std::size_t start = data.size();
      if (!decode_base64(s, data)) {
        data.set_size(start);
        if (!decode_hex(s, data)) {
          data.set_size(start);
          data.append(s.data(), s.size());
        }
      }
      column.finish_string();
      return;
    }
    if (type == od::json_type::array) {
      std::size_t start = data.size();
      od::array array = check(value.get_array());
      std::size_t index = 0;
      for (auto element_result : array) {
        od::value& element = checked(element_result);
        std::int64_t byte;
        if (element.get_int64().get(byte) || byte < 0 || byte > 255) {
          data.set_size(start);
          Failure failure{"binary arrays hold integers 0..255",
                          excerpt_of(token(element)),
                          plan.type,
                          {"[" + std::to_string(index) + "]"}};
          throw failure;
        }
        data.push(static_cast<std::uint8_t>(byte));
        ++index;
      }
      column.finish_string();
      return;
    }
    fail_type(value, type, plan);
  }

  void convert_variant(od::value& value, od::json_type type, Plan& plan, Column& column) {
    if (type == od::json_type::string) {
      // A string is JSON text (as upstream's VariantVal.parseJson); it must be valid JSON.
      std::string_view s = check(value.get_string());
      scratch_.assign(s.data(), s.size());
      scratch_.append(simdjson::SIMDJSON_PADDING, ' ');
      simdjson::dom::element parsed;
      if (auto error = dom_parser_.parse(scratch_.data(), s.size(), false).get(parsed)) {
        fail(*plan.type, s,
             std::string("string is not valid JSON text: ") + simdjson::error_message(error));
      }
      append_minified(s, column.string_data());
      column.finish_string();
      return;
    }
    append_minified(raw_json(value, type), column.string_data());
    column.finish_string();
  }

  // The JSON text of a value, consuming it.
  std::string_view raw_json(od::value& value, od::json_type type) {
    if (type == od::json_type::object) {
      od::object object = check(value.get_object());
      return check(object.raw_json());
    }
    if (type == od::json_type::array) {
      od::array array = check(value.get_array());
      return check(array.raw_json());
    }
    return token(value);
  }

  static std::string_view token(od::value& value) { return text::trim(value.raw_json_token()); }

  static void append_minified(std::string_view json, AlignedBuffer& out) {
    std::uint8_t* dst = out.extend(json.size() + simdjson::SIMDJSON_PADDING);
    std::size_t written = 0;
    if (simdjson::minify(json.data(), json.size(), reinterpret_cast<char*>(dst), written)) {
      std::memcpy(dst, json.data(), json.size());
      written = json.size();
    }
    out.set_size(out.size() + written);
  }

  [[noreturn]] void fail_type(od::value& value, od::json_type type, Plan& plan) {
    std::string excerpt(type == od::json_type::object || type == od::json_type::array
                            ? raw_json(value, type)
                            : token(value));
    fail(*plan.type, excerpt, std::string("got ") + json_type_name(type));
  }

  StructType schema_;
  std::string table_;
  BadRecordMode mode_;
  ConversionOptions options_;
  Plan root_plan_;
  od::parser parser_;
  simdjson::dom::parser dom_parser_;
  std::string scratch_;
  std::uint64_t stamp_ = 0;
  std::string_view source_;  // of the record being converted
};

RecordConverter::RecordConverter(StructType schema, std::string table, BadRecordMode mode,
                                 ConversionOptions options)
    : impl_(std::make_unique<Impl>(std::move(schema), std::move(table), mode, options)) {}
RecordConverter::~RecordConverter() = default;
RecordConverter::RecordConverter(RecordConverter&&) noexcept = default;
RecordConverter& RecordConverter::operator=(RecordConverter&&) noexcept = default;

ColumnBatch RecordConverter::make_batch() const { return impl_->make_batch(); }

std::size_t RecordConverter::convert(const RecordBatch& records, ColumnBatch& out) {
  return convert(records, 0, records.size(), out);
}

std::size_t RecordConverter::convert(const RecordBatch& records, std::size_t begin, std::size_t end,
                                     ColumnBatch& out) {
  Column& root = out.root();
  const std::size_t rows_before = root.length();
  if (const std::size_t raw = impl_->raw_field(); raw < root.num_children()) {
    // The raw record column takes each record's text: room for all of it at once.
    std::size_t bytes = 0;
    for (std::size_t i = begin; i < end; ++i) bytes += records.source(i).size();
    root.child(raw).reserve_bytes(bytes);
  }
  std::size_t appended = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const std::size_t row = root.length();
    const std::size_t index = records_seen_++;
    std::string_view record = records[i];
    try {
      impl_->convert_record(record.data(), record.size(), records.readable(i), records.source(i),
                            root);
      ++appended;
    } catch (Failure& failure) {
      root.truncate(row);
      std::string path;
      for (auto it = failure.path.rbegin(); it != failure.path.rend(); ++it) {
        if (!path.empty() && (*it)[0] != '[') path += '.';
        path += *it;
      }
      ConversionError error(impl_->table(), index, path,
                            failure.expected ? failure.expected->simple_string() : std::string(),
                            failure.excerpt, failure.reason);
      if (impl_->mode() == BadRecordMode::kFail) {
        root.truncate(rows_before);
        throw error;
      }
      bad_records_.push_back({index, std::move(path), error.what(), std::string(record)});
    }
  }
  return appended;
}

std::string RecordConverter::active_kernel() {
  // On-demand parsing (stage 2) is compiled into this binary for the build's CPU baseline; stage 1
  // (structural indexing) runs in libsimdjson, which picks the best kernel of the running CPU.
  return std::string(LAKEFLOW_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION)) +
         " (stage 1: " + simdjson::get_active_implementation()->name() + ")";
}

}  // namespace lakeflow
