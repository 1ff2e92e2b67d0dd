// The pipeline spec: which tables of which connection land where.
//
// The format is upstream's (`P/libs/spec_parser.py`), as YAML or JSON:
//
//   connection_name: my_example           # required: a name in the connections file
//   objects:                              # required, non-empty
//     - table:
//         source_table: users             # required
//         destination_catalog: main       # optional, default "main"
//         destination_schema: shop        # optional, default "default"
//         destination_table: users_raw    # optional, default source_table
//         table_configuration:            # optional, string values
//           scd_type: SCD_TYPE_2          # SCD_TYPE_1 (default) | SCD_TYPE_2 | APPEND_ONLY
//           primary_keys: [id]            # overrides the connector's
//           sequence_by: updated_at       # overrides the connector's cursor field
//           max_records_per_batch: 500    # anything else: a table option for the connector
//
// plus a local superset at the top level:
//
//   destination_root: ./lakeflow-data     # where tables land: <root>/<catalog>/<schema>/<table>
//   connections_file: ~/secrets/conn.yaml # which connections file to read (see connections.h)
//
// Relative paths in the spec are relative to the spec file's directory. Without
// `destination_root`, tables land under `./lakeflow-data` of the current directory.
//
// A spec written for upstream has neither: `lakeflow run SPEC --connections FILE --destination
// DIR` supplies them, and the flags win over the spec's keys. Every key upstream documents has a
// local meaning, so none is ignored: the Unity Catalog three-part name becomes a directory path
// (catalog and schema are directory levels under the destination root, the table its last one).
//
// Unknown keys are errors naming the key, its line and column, and the closest allowed key. As in
// upstream, string fields reject unquoted numbers and booleans (`source_table: 2024` must be
// quoted). `table_configuration` values are normalized as upstream does: scalars become their text,
// lists and mappings compact JSON; a null value means "not set". Reserved keys (`scd_type`,
// `primary_keys`, `sequence_by`, `cluster_by`, `timestamp_zone`, `schema_evolution`,
// `keep_columns`) are taken out; the rest are passed to the connector as table options.
// `schema_evolution` (none, additive (default) or widen) and `keep_columns` (column paths) say how
// the table follows a change of the connector's schema (schema_evolution.h). `timestamp_zone`
// (`UTC`, `Z` or ±HH:MM) is the zone in which a date-time without a UTC offset reads into a
// timestamp column; without it such a value is a bad record.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/options.h"
#include "pipeline/schema_evolution.h"

namespace lakeflow::pipeline {

// `table_configuration.scd_type`, case-insensitive. "1" and "2" are accepted for SCD_TYPE_1/2.
enum class ScdSetting : std::uint8_t { kType1, kType2, kAppendOnly };
std::string_view to_string(ScdSetting setting);  // "SCD_TYPE_1", "SCD_TYPE_2", "APPEND_ONLY"

inline constexpr std::string_view kDefaultCatalog = "main";
inline constexpr std::string_view kDefaultSchema = "default";
inline constexpr std::string_view kDefaultDestinationRoot = "lakeflow-data";

// One `objects[].table` entry.
struct TableSpec {
  std::string source_table;
  std::string destination_catalog;  // defaults applied
  std::string destination_schema;
  std::string destination_table;
  std::optional<ScdSetting> scd_type;     // unset: SCD_TYPE_1 (or append for append tables)
  std::vector<std::string> primary_keys;  // empty: the connector's
  std::optional<std::string> sequence_by;
  std::vector<std::string> cluster_by;         // clustering columns (table_plan.h, data_file.h)
  std::optional<std::int32_t> timestamp_zone;  // seconds east of UTC
  SchemaEvolution schema_evolution = SchemaEvolution::kAdditive;
  std::vector<std::string> keep_columns;  // dotted paths whose table type is kept
  Options table_options;                  // table_configuration without the reserved keys
  std::string location;                   // `file:line:column` of the entry, for messages

  // `catalog.schema.table`.
  std::string destination_name() const;
};

struct PipelineSpec {
  std::string file_name;
  std::string connection_name;
  std::filesystem::path destination_root;
  std::optional<std::filesystem::path> connections_file;  // as given, resolved against the spec
  std::vector<TableSpec> tables;                          // in spec order

  // <destination_root>/<catalog>/<schema>/<table>.
  std::filesystem::path table_path(const TableSpec& table) const;
  // Entries reading `source_table`, in spec order (a source table may land in several places).
  std::vector<const TableSpec*> find_source_table(std::string_view source_table) const;
};

// Parses a spec from YAML or JSON `text`. `file_name` prefixes every error message and anchors
// relative paths (its directory; the current directory when it has none). Throws ConfigError naming
// the file, line, column and key for every problem: syntax, unknown or duplicate key, missing or
// blank required field, wrong value type, bad scd_type / primary_keys, a destination name that is
// not a single path component, two objects landing in the same destination.
PipelineSpec parse_pipeline_spec(std::string_view text, std::string_view file_name);

// Reads and parses the spec file at `path`. Throws ConfigError when it cannot be read.
PipelineSpec load_pipeline_spec(const std::filesystem::path& path);

}  // namespace lakeflow::pipeline
