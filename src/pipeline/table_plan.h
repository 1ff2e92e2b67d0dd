// How one table of a pipeline is ingested: upstream's rules (`P/pipeline/ingestion_pipeline.py`)
// applied to the spec's table entry and the connector's metadata.
//
//   * ingestion type: the connector's; `scd_type: APPEND_ONLY` forces append.
//   * primary keys: the spec's `primary_keys` when given, else the connector's.
//   * sequence_by: the spec's when given, else the connector's cursor field.
//   * SCD type: 2 for SCD_TYPE_2, else 1.
//   * flow: cdc and cdc_with_deletes → apply_changes (cdc_with_deletes also reads
//     read_table_deletes and applies those rows as deletes); snapshot →
//     apply_changes_from_snapshot; append → append.
// apply_changes needs primary keys and a sequence column, apply_changes_from_snapshot primary
// keys; they must be primitive columns of the schema. Settings that do not apply (an scd_type or
// sequence_by on an append table, sequence_by on a snapshot table) are reported in `notes`.
//
// cluster_by (any flow) names at most kMaxClusteringColumns distinct columns of the target schema,
// top-level or struct fields (`a.b`), each one the destination can cluster by
// (Destination::clustering_problem; for Delta: a number, decimal, string, date or timestamp among
// the first 32 statistics columns).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "columnar/column_sort.h"
#include "columnar/record_converter.h"
#include "destination/destination.h"
#include "lakeflow/connector.h"
#include "lakeflow/options.h"
#include "lakeflow/types.h"
#include "pipeline/merge.h"
#include "pipeline/pipeline_spec.h"

namespace lakeflow::pipeline {

struct TablePlan {
  std::string source_table;
  std::string destination;              // catalog.schema.table
  IngestionType source_ingestion_type;  // what the connector reports
  IngestionType ingestion_type;         // after the spec's override (APPEND_ONLY → append)
  TargetFlow flow;
  ScdType scd_type = ScdType::kType1;
  // Reads resume from the offset committed with the table (cdc, cdc_with_deletes, append). A
  // snapshot source is read whole on every run, from the empty offset.
  bool incremental = true;
  // cdc_with_deletes into apply_changes: also drain read_table_deletes and apply them as deletes.
  bool read_deletes = false;
  std::vector<std::string> primary_keys;   // empty for append
  std::optional<std::string> sequence_by;  // apply_changes only
  std::vector<std::string> cluster_by;     // clustering columns, dotted paths; see plan_table
  ConversionOptions conversion;            // how the table's values read (timestamp_zone)
  SchemaEvolution schema_evolution = SchemaEvolution::kAdditive;
  std::vector<std::string> keep_columns;
  Options table_options;  // for the connector: table_configuration without the reserved keys
  StructType source_schema;
  StructType target_schema;        // source_schema, plus __START_AT/__END_AT for SCD type 2
  std::vector<std::string> notes;  // spec settings that do not apply, for the run's log

  MergeSpec merge_spec() const;
  // cluster_by as field paths.
  std::vector<FieldPath> clustering_columns() const;
};

// Databricks' limit on clustering columns (Delta's clusteredTable.numClusteringColumnsLimit).
inline constexpr std::size_t kMaxClusteringColumns = 4;

// Plans `table` from the connector's `metadata` and `schema` (as get_table_schema returned it for
// `table.table_options`). Throws ConfigError starting with the table entry's `file:line:column` and
// naming the table: missing primary keys or sequence column for the flow, a key or sequence column
// that is not a primitive column of the schema, a cluster_by that breaks the rules above, an SCD
// type 2 table whose source already has __START_AT/__END_AT. Says whether the offending setting
// came from the spec or from the connector.
TablePlan plan_table(const TableSpec& table, const TableMetadata& metadata,
                     const StructType& schema, const destination::Destination& destination);

}  // namespace lakeflow::pipeline
