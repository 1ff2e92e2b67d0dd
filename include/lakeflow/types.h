// Spark SQL data types, as a connector declares a table's schema.
//
// The types mirror PySpark's: `DataType::json()` produces byte for byte what PySpark's
// `DataType.json()` produces (compact, keys sorted), and `parse_data_type` reads it back, so
// schemas move between C++, Python and Spark unchanged. `StructType::ddl()` renders Spark SQL DDL.
//
// Values are immutable and cheap to copy (children are shared).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow {

enum class TypeId : std::uint8_t {
  kStruct,
  kArray,
  kMap,
  kLong,
  kInteger,
  kShort,
  kByte,
  kDouble,
  kFloat,
  kDecimal,
  kString,
  kBoolean,
  kDate,
  kTimestamp,     // an instant, stored as microseconds since the epoch in UTC
  kTimestampNtz,  // a wall-clock date-time without time zone, microseconds
  kBinary,
  kVariant,
};

struct StructField;
class StructType;

class DataType {
 public:
  // Primitive types.
  static DataType Long();
  static DataType Integer();
  static DataType Short();
  static DataType Byte();
  static DataType Double();
  static DataType Float();
  static DataType Decimal(int precision = 10,
                          int scale = 0);  // 1 <= precision <= 38, 0 <= scale <= precision
  static DataType String();
  static DataType Boolean();
  static DataType Date();
  static DataType Timestamp();
  static DataType TimestampNtz();
  static DataType Binary();
  static DataType Variant();
  // Nested types.
  static DataType Array(DataType element, bool contains_null = true);
  static DataType Map(DataType key, DataType value, bool value_contains_null = true);

  DataType();  // StringType: a default-constructed field is a string

  TypeId id() const { return id_; }
  bool is_nested() const {
    return id_ == TypeId::kStruct || id_ == TypeId::kArray || id_ == TypeId::kMap;
  }

  // Decimal only.
  int precision() const { return precision_; }
  int scale() const { return scale_; }
  // Array only.
  const DataType& element_type() const;
  bool contains_null() const { return contains_null_; }
  // Map only.
  const DataType& key_type() const;
  const DataType& value_type() const;
  bool value_contains_null() const { return contains_null_; }
  // Struct only (empty for other types).
  const std::vector<StructField>& fields() const;
  // This type as a struct; throws SchemaError if it is not one.
  StructType as_struct() const;

  // PySpark's `DataType.json()`, e.g. `"long"`, `"decimal(10,2)"`, `{"containsNull":true,...}`.
  std::string json() const;
  // Spark's `simpleString`: `bigint`, `array<string>`, `struct<id:bigint,name:string>`.
  std::string simple_string() const;
  // Spark's `sql`: `BIGINT`, `ARRAY<STRING>`, `STRUCT<`id`: BIGINT NOT NULL>`.
  std::string sql() const;
  // PySpark's typeName for printSchema trees: `long`, `array`, `struct`, `decimal(10,2)`.
  std::string tree_name() const;

  friend bool operator==(const DataType& a, const DataType& b);

 protected:
  struct Children;
  TypeId id_;
  std::uint8_t precision_ = 0;
  std::uint8_t scale_ = 0;
  bool contains_null_ = true;  // array containsNull / map valueContainsNull
  std::shared_ptr<const Children> children_;
};

struct StructField {
  StructField() = default;
  StructField(std::string name_, DataType type_, bool nullable_ = true,
              std::string metadata_json_ = "{}");

  std::string name;
  DataType type;
  bool nullable = true;
  // Field metadata as canonical JSON object text (see JsonValue::dump); `{}` when none.
  // The key "comment" becomes the DDL COMMENT.
  std::string metadata_json = "{}";

  friend bool operator==(const StructField& a, const StructField& b);
};

class StructType : public DataType {
 public:
  StructType();  // no fields
  explicit StructType(std::vector<StructField> fields);
  StructType(std::initializer_list<StructField> fields);

  std::size_t size() const { return fields().size(); }
  // Index of the top-level field named `name`, or nullopt.
  std::optional<std::size_t> index_of(std::string_view name) const;
  // Resolves a dotted path through nested structs (`meta.lastUpdated`); nullptr if any step is
  // missing or is not a struct.
  const StructField* find_path(std::string_view dotted_path) const;

  // Spark's `StructType.toDDL`: "`id` BIGINT NOT NULL,`name` STRING COMMENT 'x'".
  std::string ddl() const;
  // PySpark's `printTreeString()` (`root\n |-- id: long (nullable = false)\n...`).
  std::string tree_string() const;
};

// Reads PySpark's JSON for any data type (`"long"`, `{"type":"struct",...}`). Throws SchemaError
// naming the JSON path of the problem.
DataType parse_data_type(std::string_view json);
// Reads PySpark's JSON for a struct type. Throws SchemaError if it is not a struct.
StructType parse_struct_type(std::string_view json);

}  // namespace lakeflow
