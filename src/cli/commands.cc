// The inspection commands: connectors, tables, schema, metadata.
#include "cli/commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>

#include "core/plugin_loader.h"
#include "lakeflow/connector.h"
#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/http/redactor.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"

namespace lakeflow::cli {
namespace {

// Options from a JSON file (if any) with KEY=VALUE arguments applied on top.
Options parse_options(const std::string& file, const std::vector<std::string>& args,
                      std::string_view file_flag, std::string_view flag) {
  Options options;
  if (!file.empty()) {
    options = Options::from_json(files::read_file(file, file_flag), file);
  }
  for (const std::string& arg : args) {
    const std::size_t eq = arg.find('=');
    // The argument is not echoed: it may hold a secret.
    if (eq == std::string::npos) {
      throw ConfigError(fmt::format(
          "{} expects KEY=VALUE (e.g. {} page_size=100); got an argument without '='", flag, flag));
    }
    if (eq == 0) {
      throw ConfigError(fmt::format("{} expects KEY=VALUE; got an empty KEY", flag));
    }
    options.set(arg.substr(0, eq), arg.substr(eq + 1));
  }
  return options;
}

}  // namespace

Options SourceArgs::connector_options() const {
  return parse_options(options_file, options, "--options-file", "--option");
}

Options SourceArgs::merged_table_options() const {
  return parse_options(table_options_file, table_options, "--table-options-file", "--table-option");
}

std::unique_ptr<LakeflowConnect> make_connector(const SourceArgs& source) {
  const Options options = source.connector_options();
  for (const auto& [key, value] : options.values()) {
    if (is_secret_connection_option(source.connector, key)) {
      http::process_redactor()->add_secret(value);
    }
  }
  return ConnectorRegistry::instance().create(source.connector, options);
}

void write_out(std::ostream& out, std::string_view text) {
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.flush();
  if (!out) throw OutputError();
}

void load_plugins(const std::vector<std::string>& files) {
  std::vector<std::filesystem::path> paths;
  if (const char* search_path = std::getenv("LAKEFLOW_PLUGIN_PATH")) {
    paths = plugin_files(search_path, "LAKEFLOW_PLUGIN_PATH");
  }
  paths.insert(paths.end(), files.begin(), files.end());
  for (const std::filesystem::path& path : paths) {
    load_plugin(path, ConnectorRegistry::instance());
  }
}

void list_connectors(bool json, std::ostream& out) {
  const std::vector<const ConnectorInfo*> connectors = ConnectorRegistry::instance().list();
  std::string text;
  if (json) {
    JsonValue::Array array;
    for (const ConnectorInfo* info : connectors) {
      JsonValue::Object entry;
      entry["name"] = info->name;
      entry["description"] = info->description;
      // "builtin", or the path of the plugin file.
      entry["origin"] = info->origin.empty() ? std::string("builtin") : info->origin;
      array.emplace_back(std::move(entry));
    }
    text = JsonValue(std::move(array)).dump() + "\n";
  } else {
    // name, origin ("built in" or the plugin file), description: the free text goes last.
    const auto origin = [](const ConnectorInfo* info) {
      return info->origin.empty() ? std::string("built in") : info->origin;
    };
    std::size_t name_width = 0;
    std::size_t origin_width = 0;
    for (const ConnectorInfo* info : connectors) {
      name_width = std::max(name_width, info->name.size());
      origin_width = std::max(origin_width, origin(info).size());
    }
    for (const ConnectorInfo* info : connectors) {
      text += fmt::format("{:<{}}  {:<{}}  {}\n", info->name, name_width, origin(info),
                          origin_width, info->description);
    }
  }
  write_out(out, text);
}

void list_tables(const SourceArgs& source, bool json, std::ostream& out) {
  const std::vector<std::string> tables = make_connector(source)->list_tables();
  std::string text;
  if (json) {
    JsonValue::Array array(tables.begin(), tables.end());
    text = JsonValue(std::move(array)).dump() + "\n";
  } else {
    for (const std::string& table : tables) text += table + "\n";
  }
  write_out(out, text);
}

void print_schema(const SourceArgs& source, SchemaFormat format, std::ostream& out) {
  const StructType schema =
      make_connector(source)->get_table_schema(source.table, source.merged_table_options());
  std::string text;
  switch (format) {
    case SchemaFormat::kJson:
      text = schema.json();
      break;
    case SchemaFormat::kDdl:
      text = schema.ddl();
      break;
    case SchemaFormat::kTree:
      text = schema.tree_string();
      break;
  }
  if (text.empty() || text.back() != '\n') text += '\n';
  write_out(out, text);
}

void print_metadata(const SourceArgs& source, std::ostream& out) {
  const std::unique_ptr<LakeflowConnect> connector = make_connector(source);
  const Options table_options = source.merged_table_options();
  const StructType schema = connector->get_table_schema(source.table, table_options);
  const TableMetadata metadata = connector->read_table_metadata(source.table, table_options);
  validate_table_metadata(source.table, metadata, schema);

  JsonValue::Object object;
  object["cursor_field"] = metadata.cursor_field ? JsonValue(*metadata.cursor_field) : JsonValue();
  object["ingestion_type"] = to_string(metadata.ingestion_type);
  object["primary_keys"] =
      JsonValue::Array(metadata.primary_keys.begin(), metadata.primary_keys.end());
  write_out(out, JsonValue(std::move(object)).dump() + "\n");
}

}  // namespace lakeflow::cli
