#include "pipeline/pipeline_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/json.h"
#include "pipeline/config_file.h"
#include "util/text.h"

namespace lakeflow::pipeline {
namespace {

using Entry = YamlFile::Entry;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

ScdSetting parse_scd_type(const YamlFile& file, const Entry& entry, std::string_view what) {
  std::string value;
  if (!file.option_value(entry, what, value) || !entry.value.IsScalar()) {
    throw ConfigError(fmt::format("{}: {} must be SCD_TYPE_1, SCD_TYPE_2 or APPEND_ONLY, got {}",
                                  file.where(entry), what, YamlFile::describe(entry.value)));
  }
  const std::string name = upper(text::trim(value));
  if (name == "SCD_TYPE_1" || name == "1") return ScdSetting::kType1;
  if (name == "SCD_TYPE_2" || name == "2") return ScdSetting::kType2;
  if (name == "APPEND_ONLY") return ScdSetting::kAppendOnly;
  throw ConfigError(
      fmt::format("{}: {} '{}' is not supported; use SCD_TYPE_1, SCD_TYPE_2 or "
                  "APPEND_ONLY",
                  file.where(entry), what, value));
}

// Column lists (`primary_keys`, `cluster_by`): a YAML list, a JSON array in a string
// (`'["a", "b"]'`, as upstream writes them), or a comma-separated string.
std::vector<std::string> parse_column_list(const YamlFile& file, const Entry& entry,
                                           std::string_view what) {
  std::vector<std::string> columns;
  auto add = [&](std::string_view column) {
    const std::string_view name = text::trim(column);
    if (name.empty()) {
      throw ConfigError(fmt::format("{}: {} has a blank column name", file.where(entry), what));
    }
    columns.emplace_back(name);
  };
  const YAML::Node& value = entry.value;
  if (value.IsNull()) return columns;
  if (value.IsSequence()) {
    for (const YAML::Node& item : value) {
      if (!item.IsScalar() || item.IsNull()) {
        throw ConfigError(fmt::format("{}: {} must list column names, found {}", file.where(item),
                                      what, YamlFile::describe(item)));
      }
      add(item.Scalar());
    }
    return columns;
  }
  if (!value.IsScalar()) {
    throw ConfigError(fmt::format("{}: {} must be a list of column names, got {}",
                                  file.where(entry), what, YamlFile::describe(value)));
  }
  const std::string_view raw = text::trim(value.Scalar());
  if (raw.starts_with('[')) {
    JsonValue parsed;
    try {
      parsed = JsonValue::parse(raw, what);
    } catch (const Error& e) {
      throw ConfigError(fmt::format("{}: {}", file.where(entry), e.what()));
    }
    if (!parsed.is_array()) {
      throw ConfigError(
          fmt::format("{}: {} must be a JSON array of column names", file.where(entry), what));
    }
    for (const JsonValue& item : parsed.as_array()) {
      if (!item.is_string()) {
        throw ConfigError(fmt::format("{}: {} must be a JSON array of column names, found {}",
                                      file.where(entry), what, item.dump()));
      }
      add(item.as_string());
    }
    return columns;
  }
  std::size_t start = 0;
  while (start <= raw.size() && !raw.empty()) {
    const std::size_t comma = raw.find(',', start);
    add(raw.substr(start,
                   comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return columns;
}

// A destination name becomes one directory: it must be a single, ordinary path component.
bool is_directory_name(std::string_view name) {
  return name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
}

std::string destination_component(const YamlFile& file, const Entry& entry, std::string_view what) {
  std::string name = file.string_value(entry, what);
  if (!is_directory_name(name)) {
    throw ConfigError(fmt::format(
        "{}: {} '{}' cannot be a directory name (no '/', '\\', '.' or '..'); choose another name",
        file.where(entry), what, name));
  }
  return name;
}

void parse_table_configuration(const YamlFile& file, const Entry& config, std::string_view what,
                               TableSpec& table) {
  if (config.value.IsNull()) return;
  for (const Entry& entry : file.entries(config.value, what)) {
    const std::string key_what = fmt::format("{}.{}", what, entry.key);
    if (entry.key == "scd_type") {
      if (!entry.value.IsNull()) table.scd_type = parse_scd_type(file, entry, key_what);
    } else if (entry.key == "primary_keys") {
      table.primary_keys = parse_column_list(file, entry, key_what);
    } else if (entry.key == "sequence_by") {
      if (!entry.value.IsNull()) {
        table.sequence_by = std::string(text::trim(file.string_value(entry, key_what)));
      }
    } else if (entry.key == "cluster_by") {
      table.cluster_by = parse_column_list(file, entry, key_what);
    } else if (entry.key == "schema_evolution") {
      if (entry.value.IsNull()) continue;
      const std::string mode(text::trim(file.string_value(entry, key_what)));
      try {
        table.schema_evolution = parse_schema_evolution(mode);
      } catch (const ConfigError& error) {
        throw ConfigError(fmt::format("{}: {}: {}", file.where(entry), key_what, error.what()));
      }
    } else if (entry.key == "keep_columns") {
      table.keep_columns = parse_column_list(file, entry, key_what);
    } else if (entry.key == "timestamp_zone") {
      if (entry.value.IsNull()) continue;
      const std::string zone(text::trim(file.string_value(entry, key_what)));
      const text::Parsed<std::int32_t> offset = text::parse_utc_offset(zone);
      if (!offset.ok()) {
        throw ConfigError(fmt::format(
            "{}: {} '{}' {}; it is the zone a date-time without an offset is read in, e.g. UTC "
            "or +01:00",
            file.where(entry), key_what, zone, offset.error));
      }
      table.timestamp_zone = offset.value;
    } else {
      std::string value;
      if (file.option_value(entry, key_what, value)) {
        table.table_options.set(entry.key, std::move(value));
      }
    }
  }
}

TableSpec parse_table(const YamlFile& file, const Entry& object, std::size_t index) {
  const std::string object_what = fmt::format("objects[{}]", index);
  const std::vector<Entry> object_entries = file.entries(object.value, object_what, {"table"});
  if (object_entries.empty()) {
    throw ConfigError(fmt::format("{}: {} is empty; it needs a 'table' with a 'source_table'",
                                  file.where(object.value), object_what));
  }
  const Entry& table_entry = object_entries.front();
  const std::string what = object_what + ".table";
  TableSpec table;
  table.location =
      file.where(table_entry.value.IsNull() ? table_entry.key_node : table_entry.value);
  if (table_entry.value.IsNull()) {
    throw ConfigError(
        fmt::format("{}: {} is empty; it needs a 'source_table'", file.where(table_entry), what));
  }
  bool has_source = false;
  for (const Entry& entry :
       file.entries(table_entry.value, what,
                    {"source_table", "destination_catalog", "destination_schema",
                     "destination_table", "table_configuration"})) {
    const std::string key_what = fmt::format("{}.{}", what, entry.key);
    if (entry.key == "source_table") {
      table.source_table = file.string_value(entry, key_what);
      has_source = true;
    } else if (entry.key == "destination_catalog") {
      table.destination_catalog = destination_component(file, entry, key_what);
    } else if (entry.key == "destination_schema") {
      table.destination_schema = destination_component(file, entry, key_what);
    } else if (entry.key == "destination_table") {
      table.destination_table = destination_component(file, entry, key_what);
    } else {
      parse_table_configuration(file, entry, key_what, table);
    }
  }
  if (!has_source) {
    throw ConfigError(fmt::format(
        "{}: {} has no 'source_table'; name the connector's table to read", table.location, what));
  }
  if (table.destination_catalog.empty()) table.destination_catalog = kDefaultCatalog;
  if (table.destination_schema.empty()) table.destination_schema = kDefaultSchema;
  if (table.destination_table.empty()) {
    if (!is_directory_name(table.source_table)) {
      throw ConfigError(fmt::format(
          "{}: source_table '{}' cannot be used as a directory name; set destination_table",
          table.location, table.source_table));
    }
    table.destination_table = table.source_table;
  }
  return table;
}

}  // namespace

std::string_view to_string(ScdSetting setting) {
  switch (setting) {
    case ScdSetting::kType1:
      return "SCD_TYPE_1";
    case ScdSetting::kType2:
      return "SCD_TYPE_2";
    case ScdSetting::kAppendOnly:
      return "APPEND_ONLY";
  }
  return "?";
}

std::string TableSpec::destination_name() const {
  return fmt::format("{}.{}.{}", destination_catalog, destination_schema, destination_table);
}

std::filesystem::path PipelineSpec::table_path(const TableSpec& table) const {
  return destination_root / table.destination_catalog / table.destination_schema /
         table.destination_table;
}

std::vector<const TableSpec*> PipelineSpec::find_source_table(std::string_view source_table) const {
  std::vector<const TableSpec*> found;
  for (const TableSpec& table : tables) {
    if (table.source_table == source_table) found.push_back(&table);
  }
  return found;
}

PipelineSpec parse_pipeline_spec(std::string_view text, std::string_view file_name) {
  const YamlFile file(text, std::string(file_name));
  const std::filesystem::path base_dir = config_base_dir(file_name);
  PipelineSpec spec;
  spec.file_name = file_name;
  if (file.root().IsNull()) {
    throw ConfigError(fmt::format(
        "{}: the pipeline spec is empty; it needs 'connection_name' and 'objects'", file_name));
  }
  bool has_connection = false;
  bool has_objects = false;
  for (const Entry& entry :
       file.entries(file.root(), "the pipeline spec",
                    {"connection_name", "objects", "destination_root", "connections_file"})) {
    if (entry.key == "connection_name") {
      spec.connection_name = file.string_value(entry, "connection_name");
      has_connection = true;
    } else if (entry.key == "destination_root") {
      spec.destination_root =
          resolve_config_path(file.string_value(entry, "destination_root"), base_dir);
    } else if (entry.key == "connections_file") {
      spec.connections_file =
          resolve_config_path(file.string_value(entry, "connections_file"), base_dir);
    } else {
      has_objects = true;
      if (!entry.value.IsSequence() || entry.value.size() == 0) {
        throw ConfigError(fmt::format(
            "{}: objects must be a non-empty list of '- table: {{source_table: ...}}' entries, "
            "got {}",
            file.where(entry),
            entry.value.IsSequence() ? "an empty list" : YamlFile::describe(entry.value)));
      }
      std::size_t index = 0;
      for (const YAML::Node& item : entry.value) {
        spec.tables.push_back(parse_table(file, Entry{"", item, item}, index++));
      }
    }
  }
  if (!has_connection) {
    throw ConfigError(fmt::format(
        "{}: the pipeline spec has no 'connection_name'; name a connection of the connections file",
        file.where(file.root())));
  }
  if (!has_objects) {
    throw ConfigError(
        fmt::format("{}: the pipeline spec has no 'objects'; list the tables to ingest",
                    file.where(file.root())));
  }
  if (spec.destination_root.empty()) spec.destination_root = kDefaultDestinationRoot;

  std::map<std::string, const TableSpec*> destinations;
  for (const TableSpec& table : spec.tables) {
    const auto [it, inserted] = destinations.emplace(table.destination_name(), &table);
    if (!inserted) {
      throw ConfigError(fmt::format(
          "{}: destination {} is already written by the object at {}; set destination_table to "
          "tell them apart",
          table.location, table.destination_name(), it->second->location));
    }
  }
  return spec;
}

PipelineSpec load_pipeline_spec(const std::filesystem::path& path) {
  return parse_pipeline_spec(files::read_file(path, "pipeline spec"), path.string());
}

}  // namespace lakeflow::pipeline
