// How Spark SQL types map to Parquet schemas (the writer's side; the reader matches files against
// a Spark schema in parquet_reader.cc).
//
//   long INT64 · integer INT32 · short INT32 + INTEGER(16, signed) · byte INT32 + INTEGER(8,
//   signed) double DOUBLE · float FLOAT · boolean BOOLEAN decimal(p,s): INT32 when p <= 9, INT64
//   when p <= 18, else FIXED_LEN_BYTE_ARRAY of the fewest
//     bytes that hold p digits (big-endian two's complement); DECIMAL(s, p) logical type
//   string BYTE_ARRAY + STRING · binary BYTE_ARRAY
//   variant BYTE_ARRAY + JSON: lakeflow keeps variant values as compact JSON text (ColumnBatch's
//     layout), and writes that text, not Parquet's binary VARIANT encoding; readers see a JSON
//     string column.
//   date INT32 + DATE · timestamp INT64 + TIMESTAMP(isAdjustedToUTC=true, MICROS)
//   timestamp_ntz INT64 + TIMESTAMP(isAdjustedToUTC=false, MICROS)
//   struct: a group of its fields
//   array: <name> (LIST) { repeated group list { element } }   (the spec's three-level list)
//   map: <name> (MAP) { repeated group key_value { required key; value } }
// A nullable field, array element or map value is OPTIONAL; the others are REQUIRED. The root
// group is named `spark_schema`, as Spark names it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lakeflow/types.h"
#include "parquet/parquet_format.h"

namespace lakeflow::parquet {

// One step from a top-level column down to a leaf, as the ColumnBatch nests columns.
struct LeafStep {
  enum class Kind : std::uint8_t {
    kLeaf,    // the primitive column itself
    kStruct,  // descend into child `child` at the same row
    kList,    // array or map: descend into child 0 (elements or the map's entries struct)
  };
  Kind kind = Kind::kLeaf;
  bool optional = false;       // may be null
  std::int16_t def_level = 0;  // definition level when present (not null)
  std::int16_t rep_level = 0;  // kList: repetition level of the second and later elements
  std::uint32_t child = 0;     // kStruct: the child to descend into
};

// A leaf (primitive) column of the Parquet schema.
struct LeafDescriptor {
  std::vector<std::string> path_in_schema;  // Parquet path, e.g. {"tags", "list", "element"}
  std::string display_path;                 // Spark path for messages, e.g. `tags[].name`
  DataType type;                            // the Spark primitive type
  PhysicalType physical = PhysicalType::kInt32;
  std::int32_t type_length = 0;  // FIXED_LEN_BYTE_ARRAY width
  std::int16_t max_def = 0;
  std::int16_t max_rep = 0;
  std::size_t top_field = 0;    // index of its top-level column
  std::vector<LeafStep> steps;  // steps[0] is the top-level column
  // Reached from the top level through structs only: the writer reports file statistics for it
  // (ColumnStatistics), and `field_path` names it (Spark field names).
  bool stats_eligible = false;
  std::vector<std::string> field_path;
};

// A field reached through structs only whose type is an array or map: the writer reports its null
// count in the file statistics.
struct NestedStatsField {
  std::vector<std::string> field_path;
  DataType type;
  std::size_t top_field = 0;
  std::vector<std::uint32_t> struct_children;  // child indexes from the top-level column
  std::vector<bool> optional;                  // per level: top column, then each child
};

struct WriterSchema {
  std::vector<SchemaElement> elements;  // depth first, root first
  std::vector<LeafDescriptor> leaves;   // in schema order (the order of column chunks)
  // Every statistics column in schema order: a leaf (index into `leaves`) or a nested field.
  struct StatsColumn {
    bool is_leaf = true;
    std::size_t index = 0;  // into leaves or nested_fields
  };
  std::vector<StatsColumn> stats_columns;
  std::vector<NestedStatsField> nested_fields;
};

// Builds the Parquet schema for a Spark schema.
WriterSchema build_writer_schema(const StructType& schema);

// Bytes of the FIXED_LEN_BYTE_ARRAY that holds any decimal of `precision` digits.
std::int32_t decimal_byte_width(int precision);

}  // namespace lakeflow::parquet
