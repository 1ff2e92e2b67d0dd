// The position of a read in a table, as the connector defines it.
//
// An Offset is a JSON object (e.g. `{"cursor":"2024-05-01T00:00:00Z","page":3}`) or null. The
// framework never looks inside: it stores the canonical serialization (keys sorted, compact) in its
// checkpoints and compares offsets only for equality. Null means "this table is read whole in one
// call" and is valid only for snapshot tables. The empty object `{}` is what the first call of the
// first run receives.
#pragma once

#include <string>
#include <string_view>

#include "lakeflow/json.h"

namespace lakeflow {

class Offset {
 public:
  Offset() : value_(JsonValue::Object{}) {}  // the empty offset `{}`
  explicit Offset(JsonValue::Object fields) : value_(std::move(fields)) {}
  static Offset null() { return Offset(JsonValue()); }
  // Parses `{...}` or `null`. Throws ConfigError for anything else.
  static Offset parse(std::string_view json);

  bool is_null() const { return value_.is_null(); }
  // True for `{}` (and for null): no position yet.
  bool empty() const { return is_null() || value_.as_object().empty(); }

  // Field access; nullptr when absent or when the offset is null.
  const JsonValue* find(std::string_view key) const { return value_.find(key); }
  // Sets a field (a null offset becomes an object).
  void set(std::string_view key, JsonValue value) { value_[key] = std::move(value); }
  const JsonValue& value() const { return value_; }

  // Canonical serialization: equal offsets give equal strings.
  std::string to_json() const { return value_.dump(); }

  friend bool operator==(const Offset& a, const Offset& b) { return a.value_ == b.value_; }

 private:
  explicit Offset(JsonValue value) : value_(std::move(value)) {}
  JsonValue value_;
};

}  // namespace lakeflow
