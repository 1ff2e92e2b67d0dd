// Rows as the merge engine sees them: JSON object text, as `ColumnBatch::row_json` writes it
// (timestamps as ISO-8601 UTC text, dates as YYYY-MM-DD, decimals as strings with their scale,
// binary as base64), and the typed reading of key and sequence values.
//
// JSON text is the exchange format between the Delta table (rows read back from the files that
// hold affected keys), the engine and the writer (rows converted back with RecordConverter): it
// round-trips every Spark type exactly, and the engine never has to know a column's layout. Merges
// the runner can decide from columns skip this form (batch_merge.h); the engine stays their
// reference.
#pragma once

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "columnar/column_batch.h"
#include "lakeflow/types.h"

namespace lakeflow::pipeline {

// One row: JSON object text with its top-level fields located once. Field names and values keep
// their exact bytes; nothing is re-serialized.
class Row {
 public:
  // Throws Error(kData) when `json` is not one well-formed JSON object.
  explicit Row(std::string json);

  const std::string& json() const { return json_; }
  std::size_t size() const { return fields_.size(); }

  // The JSON text of a top-level field's value, or nullopt when the field is absent. A repeated
  // name: the last one (as JSON parsers and the converter read it).
  std::optional<std::string_view> field(std::string_view name) const;
  // The JSON text at a dotted path through nested objects (`meta.lastUpdated`; a top-level field
  // whose name contains the dot wins). nullopt when a step is absent, null or not an object.
  std::optional<std::string_view> find_path(std::string_view dotted_path) const;

  // Compact JSON object text: this row's fields except `excluded`, then `extra` (name, JSON text of
  // the value) in order.
  std::string rebuild(
      std::initializer_list<std::string_view> excluded,
      std::initializer_list<std::pair<std::string_view, std::string_view>> extra = {}) const;

  // True when both rows hold the same fields with the same JSON text, in any order, ignoring
  // `excluded`. A missing field equals null.
  bool same_fields(const Row& other, std::initializer_list<std::string_view> excluded = {}) const;

 private:
  struct Field {
    std::string name;                    // unescaped
    std::size_t name_begin, name_end;    // the quoted name in json_
    std::size_t value_begin, value_end;  // the value's text in json_
  };
  std::string_view name_text(const Field& f) const {
    return std::string_view(json_).substr(f.name_begin, f.name_end - f.name_begin);
  }
  std::string_view value_text(const Field& f) const {
    return std::string_view(json_).substr(f.value_begin, f.value_end - f.value_begin);
  }
  const Field* find(std::string_view name) const;

  std::string json_;
  std::vector<Field> fields_;
};

// A primitive value read by its Spark SQL type: how keys are compared and sequence values ordered.
// Timestamps compare as instants (microseconds since the epoch, whatever offset the text had),
// dates by day, integers and decimals numerically (decimals exactly), doubles as Spark orders them
// (NaN above every number, -0.0 == 0.0), strings and binary by their bytes. Null sorts first.
class TypedValue {
 public:
  TypedValue() = default;  // null

  // Types a key or sequence column may have: every primitive type except variant.
  static bool supports(const DataType& type);

  // Reads `json` (the JSON text of one value) as `type`. Accepts what the converter writes and the
  // forms it reads (numbers and numeric strings for numbers; epoch seconds for timestamps). Throws
  // Error(kData) with the reason when the value is not of that type.
  // `zone_less_offset` is the zone a timestamp without an offset is read in (none: an error).
  static TypedValue read(std::string_view json, const DataType& type,
                         std::optional<std::int32_t> zone_less_offset = std::nullopt);
  // The value at `row` of a column of a supported type, read from its typed buffers: equal to
  // what read() gives for the value's text in ColumnBatch::row_json (binary: its base64 text).
  // The value must not be null (Column::is_valid).
  static TypedValue of(const Column& column, std::size_t row);

  bool is_null() const { return std::holds_alternative<std::monostate>(value_); }
  // The bytes of a string value (binary: its base64 text); nullptr for other values.
  const std::string* string_value() const { return std::get_if<std::string>(&value_); }

  // Values of one type compare; comparing values read as different types is unspecified.
  friend std::strong_ordering operator<=>(const TypedValue& a, const TypedValue& b);
  friend bool operator==(const TypedValue& a, const TypedValue& b) {
    return (a <=> b) == std::strong_ordering::equal;
  }

  // Appends bytes that are equal for equal values and differ otherwise (a hash-map key part).
  void append_key(std::string& out) const;

 private:
  // int64 for integers, dates (days) and timestamps (µs); string for strings and binary (base64).
  std::variant<std::monostate, bool, std::int64_t, double, Int128, std::string> value_;
};

}  // namespace lakeflow::pipeline
