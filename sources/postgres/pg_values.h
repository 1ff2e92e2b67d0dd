// PostgreSQL types → Spark types, and PostgreSQL's text form of a value → the JSON value a record
// carries. The table of the mapping is in README.md ("Types"); the rules:
//
// * Values stay exact: integers and numerics are written as the digits the server sent; a numeric
//   whose declared precision and scale fit DecimalType(38) is a decimal column, any other numeric
//   a string column holding the server's text. Floats keep the server's shortest exact digits.
// * Values with no exact Spark counterpart are strings in PostgreSQL's text form (time, interval,
//   uuid, json/jsonb, enums, ranges, geometric and network types...): a string never loses
//   anything.
// * A value a column cannot hold (NaN in a numeric(10,2), 'infinity' in a date) is passed on as
//   text so that the framework's converter rejects the record, naming the table and field: never
//   a silent substitute.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lakeflow/types.h"

namespace lakeflow::postgres {

class PgConnection;

// How a value of one PostgreSQL type is written as JSON.
struct ValueCodec {
  enum class Kind : std::uint8_t {
    kNumber,        // integers, numeric(p,s) that fit: the text as a JSON number
    kFloat,         // float4/8: a JSON number; NaN and infinities as "NaN", "inf", "-inf"
    kBoolean,       // t/f
    kString,        // any text form, as a JSON string
    kBytes,         // bytea (hex text) → base64 string
    kDate,          // as text ('infinity' and BC dates are rejected by the converter)
    kTimestamp,     // timestamptz in UTC: "2024-01-02 03:04:05.5+00" → "2024-01-02T03:04:05.5Z"
    kTimestampNtz,  // timestamp: "2024-01-02 03:04:05" → "2024-01-02T03:04:05"
    kArray,         // {a,b,...} of `element`
  };
  Kind kind = Kind::kString;
  DataType type = DataType::String();
  std::shared_ptr<const ValueCodec> element;  // kArray only

  // Appends the JSON for `text` (PostgreSQL's text output of the value) to `out`.
  void append_json(std::string& out, std::string_view text) const;
};

// Looks PostgreSQL types up in the catalog (once per type) and chooses their codecs: domains
// resolve to their base type (with the domain's typmod), arrays to their element's codec.
class TypeMapper {
 public:
  explicit TypeMapper(PgConnection& connection) : connection_(connection) {}
  // The codec of type `oid` with modifier `typmod` (-1 when none).
  std::shared_ptr<const ValueCodec> codec(std::uint32_t oid, int typmod);

 private:
  struct TypeRow {
    std::string name;
    char type = 'b';  // typtype: b base, d domain, e enum, c composite, r range, m multirange
    char category = 'U';
    std::uint32_t base = 0;  // domains
    int base_typmod = -1;
    std::uint32_t element = 0;  // arrays (typcategory 'A')
  };
  const TypeRow& lookup(std::uint32_t oid);

  PgConnection& connection_;
  std::map<std::uint32_t, TypeRow> types_;
  std::map<std::pair<std::uint32_t, int>, std::shared_ptr<const ValueCodec>> codecs_;
};

// DecimalType for numeric(precision, scale) when every value of it fits one (precision ≤ 38 after
// accounting for negative scales and scales above the precision), else nullopt.
std::optional<DataType> decimal_for_numeric(int typmod);

// Appends `text` (PostgreSQL's array text form, e.g. `{1,NULL,"a b"}`) as a JSON array whose
// elements are written with `element`. Returns false when `text` is not a well-formed array.
bool append_array_json(std::string& out, std::string_view text, const ValueCodec& element);

}  // namespace lakeflow::postgres
