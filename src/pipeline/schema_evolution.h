// How a table's schema follows its connector's schema from run to run.
//
// At the start of every table run the schema the connector reports now (the plan's target schema)
// is compared with the schema the Delta table holds:
//   * additive changes evolve (mode `additive`, the default, and `widen`): a new column or struct
//     field at any depth (inside arrays and maps too) is added, always nullable, after the existing
//     ones; a field the source marks nullable that the table holds as non-nullable is relaxed; a
//     column the source no longer sends stays in the table (nullable columns; new rows hold null);
//   * type widening (mode `widen` only), as Delta's typeWidening table feature allows: byte → short
//     → int → long, float → double, decimal(p,s) → decimal(p+k1, s+k2) with k1 >= k2 >= 0, date →
//     timestamp_ntz. The field records the change in its `delta.typeChanges` metadata and the table
//     needs the feature (reader 3 / writer 7), so readers that do not know it refuse the table
//     instead of misreading old files;
//   * anything else (a narrowing, string → long, struct ↔ scalar, a dropped non-nullable column)
//     stops the table before anything is written, naming every such column, its old and new type
//     and the two ways forward: `--full-refresh --tables T`, or the table setting `keep_columns`,
//     which keeps those columns as the table has them (values still have to convert to the table's
//     type; a dropped non-nullable column becomes nullable).
// Mode `none` turns every change, additive ones included, into such an error.
//
// The evolved schema goes into the table's log as a new metaData action in the same commit as the
// first data written with it (the runner sets it before its first commit; a commit carries a
// metaData action only when the schema or a table property changed). Old files read as the
// new schema: an added field as null, a widened value as its wider type (parquet_reader.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/types.h"

namespace lakeflow::pipeline {

enum class SchemaEvolution : std::uint8_t { kNone, kAdditive, kWiden };

// `none`, `additive` or `widen` (the table setting `schema_evolution`); ConfigError otherwise.
SchemaEvolution parse_schema_evolution(std::string_view text);

struct EvolvedSchema {
  StructType schema;                 // the table's schema from now on
  std::vector<std::string> changes;  // one line per change, for the run's log; empty: unchanged
  bool widened = false;              // a type was widened now or before (delta.typeChanges)
};

// The schema the table has from now on, given the table's `table_schema` and the source's
// `source_schema`. Throws ConfigError (naming `table_name`, every incompatible column path with
// its old and new type, and the ways forward for `source_table`) when the change is not allowed
// by `mode`.
// `keep_columns` are dotted column paths whose table type (and presence) is kept.
EvolvedSchema evolve_schema(const StructType& table_schema, const StructType& source_schema,
                            SchemaEvolution mode, const std::vector<std::string>& keep_columns,
                            std::string_view table_name, std::string_view source_table);

}  // namespace lakeflow::pipeline
