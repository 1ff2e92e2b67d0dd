#include "workflow/connection_tool.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>

#include "lakeflow/connector_spec.h"
#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/http/redactor.h"
#include "lakeflow/json.h"
#include "lakeflow/offset.h"
#include "lakeflow/options.h"
#include "lakeflow/registry.h"
#include "pipeline/connections.h"
#include "util/text.h"
#include "workflow/markdown.h"

namespace lakeflow::workflow {
namespace fs = std::filesystem;
namespace {

bool plain_key(std::string_view key) {
  if (key.empty() || !(std::isalnum(static_cast<unsigned char>(key[0])) || key[0] == '_')) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::string yaml_key(std::string_view key) {
  if (plain_key(key) && key != "true" && key != "false" && key != "null" && key != "yes" &&
      key != "no" && key != "on" && key != "off") {
    return std::string(key);
  }
  std::string quoted;
  append_json_string(quoted, key, false);
  return quoted;
}

std::string json_quoted(std::string_view value) {
  std::string quoted;
  append_json_string(quoted, value, false);
  return quoted;
}

// The block-YAML entry of a connection.
std::string render_entry(const std::string& name, const std::string& connector,
                         const std::map<std::string, std::string>& options) {
  std::string out = yaml_key(name) + ":\n  connector: " + json_quoted(connector) + "\n";
  if (options.empty()) return out + "  options: {}\n";
  out += "  options:\n";
  for (const auto& [key, value] : options) {
    out += "    " + yaml_key(key) + ": " + json_quoted(value) + "\n";
  }
  return out;
}

// A value holds a ${env:NAME} or ${file:PATH} reference.
bool has_reference(std::string_view value) {
  for (std::size_t i = value.find("${"); i != std::string_view::npos; i = value.find("${", i + 2)) {
    if (i > 0 && value[i - 1] == '$') continue;  // $${ is a literal
    if (value.substr(i + 2, 4) == "env:" || value.substr(i + 2, 5) == "file:") return true;
  }
  return false;
}

std::string env_name(const std::string& connection, const std::string& parameter) {
  std::string out;
  for (char c : connection + "_" + parameter) {
    out += std::isalnum(static_cast<unsigned char>(c))
               ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
               : '_';
  }
  return out;
}

std::string read_text(const fs::path& path) { return files::read_file(path, "connections file"); }

// JSON for a YAML node: mappings and sequences as such, every scalar as a string.
JsonValue to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    JsonValue::Object object;
    for (const auto& entry : node) object[entry.first.as<std::string>()] = to_json(entry.second);
    return JsonValue(std::move(object));
  }
  if (node.IsSequence()) {
    JsonValue::Array array;
    for (const YAML::Node& item : node) array.push_back(to_json(item));
    return JsonValue(std::move(array));
  }
  if (node.IsScalar()) return JsonValue(node.as<std::string>());
  return JsonValue();
}

// `text` (a connections file) with the entry `name` replaced by `entry`, or `entry` appended.
// A block-style YAML file is edited in place, so its comments and other entries stay as written;
// a JSON (or flow-style) file is written again as JSON.
std::string with_entry(const std::string& text, const std::string& file, const std::string& name,
                       const std::string& connector,
                       const std::map<std::string, std::string>& options, bool& replaced) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: {}; fix the file first (it was not changed)", file,
                                  e.mark.line + 1, e.msg));
  }
  if (!root.IsNull() && !root.IsMap()) {
    throw ConfigError(fmt::format(
        "{}: a connections file is a mapping of connection names; fix the file first (it was not "
        "changed)",
        file));
  }
  replaced = root.IsMap() && root[name];
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  const bool json_like = root.IsMap() && (root.Style() == YAML::EmitterStyle::Flow ||
                                          (first != std::string::npos && text[first] == '{'));
  if (json_like) {
    JsonValue all = to_json(root);
    JsonValue::Object entry;
    entry["connector"] = JsonValue(connector);
    JsonValue::Object values;
    for (const auto& [key, value] : options) values[key] = JsonValue(value);
    entry["options"] = JsonValue(std::move(values));
    all.as_object()[name] = JsonValue(std::move(entry));
    // One connection per line keeps the file readable.
    std::string out = "{\n";
    bool first_entry = true;
    for (const auto& [key, value] : all.as_object()) {
      out += first_entry ? "  " : ",\n  ";
      first_entry = false;
      append_json_string(out, key, false);
      out += ": " + value.dump();
    }
    return out + "\n}\n";
  }
  const std::string entry = render_entry(name, connector, options);
  std::vector<std::string> lines = text_lines(text);
  if (!replaced) {
    std::string out = text;
    if (!out.empty() && out.back() != '\n') out += '\n';
    if (!out.empty()) out += '\n';
    return out + entry;
  }
  // The entry's lines: from its key to the next top-level key, less the blank and comment
  // lines before that key (they belong to it).
  std::vector<int> key_lines;
  int start = -1;
  for (const auto& pair : root) {
    key_lines.push_back(pair.first.Mark().line);
    if (pair.first.as<std::string>() == name) start = pair.first.Mark().line;
  }
  std::sort(key_lines.begin(), key_lines.end());
  int end = static_cast<int>(lines.size());
  for (int line : key_lines) {
    if (line > start) {
      end = line;
      break;
    }
  }
  while (end - 1 > start) {
    const std::string_view t = std::string_view(lines[end - 1]);
    const std::size_t c = t.find_first_not_of(" \t");
    if (c != std::string_view::npos && t[c] != '#') break;
    --end;
  }
  std::string out;
  for (int i = 0; i < start; ++i) out += lines[i] + "\n";
  out += entry;
  for (int i = end; i < static_cast<int>(lines.size()); ++i) out += lines[i] + "\n";
  return out;
}

void write_replacing(const fs::path& path, const std::string& text) {
  std::error_code ec;
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path(), ec);
  mode_t mode = S_IRUSR | S_IWUSR;
  struct stat info {};
  if (stat(path.c_str(), &info) == 0) mode = info.st_mode & 07777;
  const fs::path temporary = path.string() + fmt::format(".tmp{}", getpid());
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
      fs::remove(temporary, ec);
      throw Error(
          ErrorCode::kAccess,
          fmt::format("cannot write '{}': check the directory's permissions", temporary.string()));
    }
  }
  chmod(temporary.c_str(), mode);
  fs::rename(temporary, path, ec);
  if (ec) {
    fs::remove(temporary, ec);
    throw Error(ErrorCode::kAccess,
                fmt::format("cannot replace '{}': {}", path.string(), ec.message()));
  }
}

// Table options Spark and the Databricks connection always pass, whatever the connector
// (upstream's community-connector CLI adds them to every connection's allowlist).
constexpr std::string_view kFixedExternalOptions[] = {"tableName", "tableNameList", "tableConfigs",
                                                      "isDeleteFlow"};

// The option that carries the allowlist on a Databricks connection.
constexpr std::string_view kExternalOptionsKey = "externalOptionsAllowList";

// A parameter's value is secret when the spec says so or its name looks like a secret's.
bool is_secret(const ConnectorSpec::Parameter& parameter) {
  return parameter.secret || is_secret_option(parameter.name);
}

std::string list(const std::vector<std::string>& names) {
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

// The spec's allowlist with the fixed option names after it, without repeats.
std::vector<std::string> allowed_external_options(const ConnectorSpec& spec) {
  std::vector<std::string> names = spec.table_options();
  for (std::string_view fixed : kFixedExternalOptions) {
    if (std::find(names.begin(), names.end(), fixed) == names.end()) names.emplace_back(fixed);
  }
  return names;
}

std::vector<std::string> parameter_names(const ConnectorSpec& spec) {
  std::vector<std::string> names;
  for (const ConnectorSpec::Parameter& p : spec.parameters()) names.push_back(p.name);
  return names;
}

ConnectorSpec load_spec(const std::string& connector, const fs::path& path) {
  return ConnectorSpec::parse(connector, files::read_file(path, "connector spec"), path.string());
}

}  // namespace

std::string validate_connection_options(const ConnectorSpec& spec, std::string_view file,
                                        const std::map<std::string, std::string>& options) {
  const std::string& connector = spec.connector();
  auto given = [&](const std::string& name) {
    const auto it = options.find(name);
    return it != options.end() && !it->second.empty();
  };
  for (const auto& [key, value] : options) {
    if (key == kExternalOptionsKey) {
      const std::vector<std::string> allowed = allowed_external_options(spec);
      std::size_t start = 0;
      while (start <= value.size()) {
        std::size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        const std::string entry(text::trim(std::string_view(value).substr(start, comma - start)));
        if (!entry.empty() && std::find(allowed.begin(), allowed.end(), entry) == allowed.end()) {
          throw ConfigError(fmt::format(
              "parameter '{}': '{}' is not a table option connector '{}' accepts through a "
              "connection; allowed: {} ({})",
              kExternalOptionsKey, entry, connector, list(allowed), file));
        }
        start = comma + 1;
      }
      continue;
    }
    if (spec.find(key) == nullptr) {
      throw ConfigError(
          fmt::format("unknown parameter '{}' for connector '{}'; its parameters are {} ({})", key,
                      connector, list(parameter_names(spec)), file));
    }
  }
  for (const ConnectorSpec::Parameter& p : spec.shared_parameters()) {
    if (p.required && !given(p.name)) {
      throw ConfigError(fmt::format(
          "missing required parameter '{}' of connector '{}'{}", p.name, connector,
          p.description.empty() ? std::string() : ": " + std::string(text::trim(p.description))));
    }
  }
  if (spec.auth_methods().empty()) return {};
  const ConnectorSpec::AuthMethod* best = nullptr;
  int best_overlap = -1;
  for (const ConnectorSpec::AuthMethod& method : spec.auth_methods()) {
    bool complete = true;
    int overlap = 0;
    for (const ConnectorSpec::Parameter& p : method.parameters) {
      if (given(p.name)) ++overlap;
      if (p.required && !given(p.name)) complete = false;
    }
    if (complete && overlap > best_overlap) {
      best = &method;
      best_overlap = overlap;
    }
  }
  if (best != nullptr) return best->name;
  // Name the method the options come closest to, and what it still needs.
  std::vector<std::string> choices;
  for (const ConnectorSpec::AuthMethod& method : spec.auth_methods()) {
    std::vector<std::string> missing;
    for (const ConnectorSpec::Parameter& p : method.parameters) {
      if (p.required && !given(p.name)) missing.push_back(p.name);
    }
    choices.push_back(fmt::format("{} (missing {})", method.name, list(missing)));
  }
  throw ConfigError(fmt::format(
      "no authentication method of connector '{}' is complete: give every required parameter of "
      "one of {}",
      connector, fmt::join(choices, "; ")));
}

fs::path find_connector_spec(const fs::path& root, const fs::path& repository,
                             const std::string& connector) {
  const fs::path base = root.empty() ? repository : root;
  std::error_code ec;
  if (!base.empty()) {
    const fs::path path = base / "sources" / connector / "connector_spec.yaml";
    if (fs::exists(path, ec)) return path;
    if (!root.empty()) {
      throw ConfigError(fmt::format(
          "no connector_spec.yaml for connector '{}' at '{}': check the connector name (lakeflow "
          "connectors) and --root (the repository holding sources/{}/), or give the spec with "
          "--spec FILE",
          connector, path.string(), connector));
    }
  }
  if (ConnectorRegistry::instance().find(connector) != nullptr) return {};
  throw ConfigError(fmt::format(
      "no connector_spec.yaml for connector '{}': it is not a connector of this lakeflow (lakeflow "
      "connectors lists them; a plugin's directory goes in LAKEFLOW_PLUGIN_PATH){}; give the "
      "connector's spec with --spec PATH/connector_spec.yaml, or the repository holding "
      "sources/{}/ with --root DIR",
      connector,
      base.empty() ? fmt::format(", and '{}' is not inside a lakeflow repository",
                                 fs::current_path(ec).string())
                   : fmt::format(", and '{}' has no sources/{}/connector_spec.yaml", base.string(),
                                 connector),
      connector));
}

CreatedConnection create_connection(
    const CreateConnectionArgs& args,
    const std::function<std::optional<std::string>(std::string_view)>& environment) {
  if (args.name.empty() || !plain_key(args.name)) {
    throw ConfigError(fmt::format(
        "invalid connection name '{}': use letters, digits, '_', '.' and '-'", args.name));
  }
  const ConnectorInfo* registered =
      args.spec.empty() ? ConnectorRegistry::instance().find(args.connector) : nullptr;
  if (args.spec.empty() && registered == nullptr) {
    throw ConfigError(fmt::format(
        "no connector_spec.yaml for connector '{}': give it with --spec FILE", args.connector));
  }
  const ConnectorSpec spec =
      registered != nullptr ? registered->spec() : load_spec(args.connector, args.spec);
  const std::string spec_name =
      registered != nullptr
          ? fmt::format("the connector_spec.yaml built into connector '{}'", args.connector)
          : args.spec.string();
  const JsonValue given = JsonValue::parse(args.options_json, "-o (the connection options)");
  if (!given.is_object()) {
    throw ConfigError(
        "-o must be a JSON object of parameter values, e.g. '{\"base_url\": \"...\"}'");
  }
  CreatedConnection created;
  for (const auto& [key, value] : given.as_object()) {
    if (value.is_string()) {
      created.options[key] = value.as_string();
    } else if (value.is_number() || value.is_bool()) {
      created.options[key] = value.dump();
    } else {
      throw ConfigError(fmt::format(
          "parameter '{}': give a text value (connection options are strings), not {}", key,
          value.is_null()    ? "null"
          : value.is_array() ? "a list"
                             : "an object"));
    }
  }
  if (args.from_env) {
    for (const ConnectorSpec::Parameter& p : spec.parameters()) {
      if (created.options.count(p.name)) continue;
      const std::string variable = env_name(args.name, p.name);
      const std::optional<std::string> value = environment(variable);
      if (!value || value->empty()) continue;
      created.options[p.name] = is_secret(p) ? "${env:" + variable + "}" : *value;
    }
  }
  for (const auto& [key, value] : created.options) {
    const ConnectorSpec::Parameter* p = spec.find(key);
    if (p != nullptr && is_secret(*p) && !value.empty() && !has_reference(value)) {
      throw ConfigError(fmt::format(
          "parameter '{}' of connector '{}' is a secret: give it as a reference, "
          "\"${{env:VARIABLE}}\" or \"${{file:PATH}}\", or set {} and pass --from-env; the "
          "connections file never holds a secret itself",
          key, args.connector, env_name(args.name, key)));
    }
  }
  created.auth_method = validate_connection_options(spec, spec_name, created.options);
  // The allowlist matters on Databricks, where the connection carries it; lakeflow passes a
  // spec's table options to the connector directly, so it is checked but not written.
  created.options.erase(std::string(kExternalOptionsKey));

  std::error_code ec;
  const bool exists = fs::exists(args.connections, ec);
  const std::string text = exists ? read_text(args.connections) : std::string();
  const std::string updated = with_entry(text, args.connections.string(), args.name, args.connector,
                                         created.options, created.replaced);
  // The result must read back as a connections file; a reference that does not resolve here
  // (an unset variable) is a note, since the file may be used elsewhere.
  const pipeline::Connections parsed = pipeline::parse_connections(
      updated, args.connections.string(), [&](std::string_view n) { return environment(n); });
  if (const pipeline::Connection* connection = parsed.find(args.name);
      connection != nullptr && !connection->problem.empty()) {
    created.notes.push_back(connection->problem);
  }
  write_replacing(args.connections, updated);
  return created;
}

std::vector<ListedConnection> list_connections(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    throw ConfigError(fmt::format(
        "connections file '{}' does not exist; create a connection with `lakeflow connection "
        "create`, or choose another file with --connections FILE or $LAKEFLOW_CONNECTIONS",
        file.string()));
  }
  const std::string text = read_text(file);
  const pipeline::Connections parsed = pipeline::parse_connections(text, file.string());
  const YAML::Node root = YAML::Load(text);
  std::vector<ListedConnection> listed;
  if (!root.IsMap()) return listed;
  for (const auto& entry : root) {
    ListedConnection connection;
    connection.name = entry.first.as<std::string>();
    connection.location = fmt::format("{}:{}", file.string(), entry.first.Mark().line + 1);
    if (entry.second.IsMap()) {
      if (const YAML::Node connector = entry.second["connector"];
          connector && connector.IsScalar()) {
        connection.connector = connector.as<std::string>();
      }
      if (const YAML::Node options = entry.second["options"]; options && options.IsMap()) {
        for (const auto& option : options) {
          const std::string key = option.first.as<std::string>();
          std::string value = option.second.IsScalar() ? option.second.as<std::string>()
                                                       : YAML::Dump(option.second);
          if (is_secret_option(key) && !value.empty() && !has_reference(value)) value = "***";
          connection.options[key] = value;
        }
      }
    }
    if (const pipeline::Connection* c = parsed.find(connection.name); c != nullptr) {
      connection.problem = c->problem;
    }
    listed.push_back(std::move(connection));
  }
  return listed;
}

ConnectionTestResult test_connection(const fs::path& file, const std::string& name) {
  const pipeline::Connections connections = pipeline::load_connections(file);
  const pipeline::Connection& connection = connections.get(name);
  for (const std::string& secret : connection.secret_values) {
    http::process_redactor()->add_secret(secret);
  }
  ConnectionTestResult result;
  result.connector = connection.connector;
  std::unique_ptr<LakeflowConnect> connector =
      ConnectorRegistry::instance().create(connection.connector, connection.options);
  const std::vector<std::string> tables = connector->list_tables();
  result.tables = tables.size();
  if (tables.empty()) return result;
  result.table = tables.front();
  Options table_options;
  const std::vector<std::string>& accepted = connector->spec().table_options();
  if (std::find(accepted.begin(), accepted.end(), "max_records_per_batch") != accepted.end()) {
    table_options.set("max_records_per_batch", "1");
  }
  ReadResult read = connector->read_table(result.table, Offset(), table_options);
  RecordBatch batch;
  if (read.records.next(batch)) result.records = batch.size();
  return result;
}

}  // namespace lakeflow::workflow
