#include "pipeline/table_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "lakeflow/error.h"

namespace lakeflow::pipeline {

namespace {

FieldPath split_path(std::string_view dotted) {
  FieldPath path;
  for (std::size_t start = 0;;) {
    const std::size_t dot = dotted.find('.', start);
    path.emplace_back(dotted.substr(start, dot - start));
    if (dot == std::string_view::npos) return path;
    start = dot + 1;
  }
}

}  // namespace

std::vector<FieldPath> TablePlan::clustering_columns() const {
  std::vector<FieldPath> out;
  for (const std::string& column : cluster_by) out.push_back(split_path(column));
  return out;
}

MergeSpec TablePlan::merge_spec() const {
  return MergeSpec{destination,
                   flow,
                   scd_type,
                   source_schema,
                   primary_keys,
                   sequence_by,
                   conversion.timestamp_zone_offset};
}

TablePlan plan_table(const TableSpec& table, const TableMetadata& metadata,
                     const StructType& schema, const destination::Destination& destination) {
  TablePlan plan;
  plan.source_table = table.source_table;
  plan.destination = table.destination_name();
  plan.source_ingestion_type = metadata.ingestion_type;
  plan.ingestion_type = metadata.ingestion_type;
  plan.table_options = table.table_options;
  plan.cluster_by = table.cluster_by;
  plan.conversion.timestamp_zone_offset = table.timestamp_zone;
  plan.conversion.raw_record_column = metadata.raw_record_column;
  plan.schema_evolution = table.schema_evolution;
  plan.keep_columns = table.keep_columns;
  plan.source_schema = schema;
  plan.incremental = metadata.ingestion_type != IngestionType::kSnapshot;
  const std::string name = fmt::format("table '{}'", table.source_table);

  if (table.scd_type == ScdSetting::kAppendOnly) plan.ingestion_type = IngestionType::kAppend;
  plan.scd_type = table.scd_type == ScdSetting::kType2 ? ScdType::kType2 : ScdType::kType1;
  switch (plan.ingestion_type) {
    case IngestionType::kCdc:
    case IngestionType::kCdcWithDeletes:
      plan.flow = TargetFlow::kApplyChanges;
      break;
    case IngestionType::kSnapshot:
      plan.flow = TargetFlow::kApplyChangesFromSnapshot;
      break;
    case IngestionType::kAppend:
      plan.flow = TargetFlow::kAppend;
      break;
  }
  plan.read_deletes = plan.ingestion_type == IngestionType::kCdcWithDeletes;

  const bool keys_from_spec = !table.primary_keys.empty();
  const bool sequence_from_spec = table.sequence_by.has_value();
  if (plan.flow == TargetFlow::kAppend) {
    if (table.scd_type && *table.scd_type != ScdSetting::kAppendOnly) {
      plan.notes.push_back(fmt::format("{}: scd_type {} is ignored: the connector reads it as {}",
                                       name, to_string(*table.scd_type),
                                       to_string(metadata.ingestion_type)));
    }
    if (keys_from_spec || sequence_from_spec) {
      plan.notes.push_back(
          fmt::format("{}: primary_keys and sequence_by are ignored: rows are appended", name));
    }
    if (!plan.incremental) {
      plan.notes.push_back(fmt::format(
          "{}: a snapshot table read as APPEND_ONLY appends the whole table on every run", name));
    }
  } else {
    plan.primary_keys = keys_from_spec ? table.primary_keys : metadata.primary_keys;
    if (plan.flow == TargetFlow::kApplyChanges) {
      plan.sequence_by = sequence_from_spec ? table.sequence_by : metadata.cursor_field;
    } else if (sequence_from_spec) {
      plan.notes.push_back(fmt::format(
          "{}: sequence_by is ignored for a snapshot table: versions are the time of each snapshot",
          name));
    }
  }

  // Check the columns here, where it is known whether the spec or the connector chose them.
  const std::string where = fmt::format("{}: {} ({})", table.location, name, to_string(plan.flow));
  if (plan.flow != TargetFlow::kAppend) {
    const char* keys_origin = keys_from_spec ? "set by table_configuration.primary_keys"
                                             : "reported by the connector; override with "
                                               "table_configuration.primary_keys";
    if (plan.primary_keys.empty()) {
      throw ConfigError(
          fmt::format("{}: needs primary keys; the connector reports none, set "
                      "table_configuration.primary_keys",
                      where));
    }
    for (const std::string& key : plan.primary_keys) {
      if (auto problem = key_column_problem(schema, key, false)) {
        throw ConfigError(
            fmt::format("{}: primary key '{}' {} [{}]", where, key, *problem, keys_origin));
      }
    }
  }
  if (plan.flow == TargetFlow::kApplyChanges) {
    if (!plan.sequence_by || plan.sequence_by->empty()) {
      throw ConfigError(
          fmt::format("{}: needs a sequence column; the connector reports no cursor field, set "
                      "table_configuration.sequence_by",
                      where));
    }
    if (auto problem = key_column_problem(schema, *plan.sequence_by, true)) {
      throw ConfigError(
          fmt::format("{}: sequence_by column '{}' {} [{}]", where, *plan.sequence_by, *problem,
                      sequence_from_spec ? "set by table_configuration.sequence_by"
                                         : "the connector's cursor field; override with "
                                           "table_configuration.sequence_by"));
    }
  }
  try {
    plan.target_schema = MergeEngine(plan.merge_spec()).target_schema();
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", table.location, e.what()));
  }
  if (plan.cluster_by.size() > kMaxClusteringColumns) {
    throw ConfigError(fmt::format(
        "{}: {}: cluster_by names {} columns ({}); Delta clustering takes at most {}: keep the "
        "ones queries filter on most",
        table.location, name, plan.cluster_by.size(), fmt::join(plan.cluster_by, ", "),
        kMaxClusteringColumns));
  }
  for (auto it = plan.cluster_by.begin(); it != plan.cluster_by.end(); ++it) {
    if (std::find(plan.cluster_by.begin(), it, *it) != it) {
      throw ConfigError(
          fmt::format("{}: {}: cluster_by column '{}' is listed twice", table.location, name, *it));
    }
    if (auto problem = destination.clustering_problem(plan.target_schema, split_path(*it))) {
      throw ConfigError(
          fmt::format("{}: {}: cluster_by column '{}' {}", table.location, name, *it, *problem));
    }
  }
  return plan;
}

}  // namespace lakeflow::pipeline
