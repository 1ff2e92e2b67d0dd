#include "pipeline/connections.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/registry.h"
#include "pipeline/config_file.h"

namespace lakeflow::pipeline {
namespace {

using Entry = YamlFile::Entry;

void add_secret(std::vector<std::string>& secrets, std::string value) {
  if (value.empty()) return;
  if (std::find(secrets.begin(), secrets.end(), value) == secrets.end()) {
    secrets.push_back(std::move(value));
  }
}

// Resolves the references of one option value. `context` is "file:line:col: connection 'x' option
// 'y'" and starts every error; values are never part of a message.
std::string resolve_references(std::string_view raw, const std::string& context,
                               const std::filesystem::path& base_dir, const EnvLookup& env,
                               std::vector<std::string>& secrets) {
  std::string out;
  bool referenced = false;
  std::size_t i = 0;
  while (i < raw.size()) {
    if (raw.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (raw.compare(i, 2, "${") != 0) {
      out += raw[i++];
      continue;
    }
    const std::size_t close = raw.find('}', i + 2);
    if (close == std::string_view::npos) {
      throw ConfigError(fmt::format(
          "{}: a '${{' reference has no closing '}}'; write ${{env:NAME}} or ${{file:PATH}} (or "
          "$${{ for a literal '${{')",
          context));
    }
    const std::string_view reference = raw.substr(i + 2, close - i - 2);
    const std::size_t colon = reference.find(':');
    const std::string_view scheme = reference.substr(0, colon);
    const std::string_view target =
        colon == std::string_view::npos ? std::string_view() : reference.substr(colon + 1);
    std::string value;
    if (scheme == "env" && colon != std::string_view::npos && !target.empty()) {
      std::optional<std::string> found = env(target);
      if (!found) {
        throw ConfigError(fmt::format(
            "{}: environment variable {} is not set; export it before running", context, target));
      }
      value = std::move(*found);
    } else if (scheme == "file" && colon != std::string_view::npos && !target.empty()) {
      const std::filesystem::path path = resolve_config_path(target, base_dir);
      try {
        value = files::read_file(path, "secret file");
      } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("{}: {}", context, e.what()));
      }
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    } else {
      throw ConfigError(fmt::format(
          "{}: unsupported reference '${{{}:...}}'; use ${{env:NAME}} or ${{file:PATH}}", context,
          scheme.substr(0, 20)));
    }
    add_secret(secrets, value);
    out += value;
    referenced = true;
    i = close + 1;
  }
  if (referenced) add_secret(secrets, out);
  return out;
}

Connection parse_connection(const YamlFile& file, const Entry& entry, const EnvLookup& env) {
  Connection connection;
  connection.name = entry.key;
  connection.location = file.where(entry.key_node);
  const std::string what = fmt::format("connection '{}'", entry.key);
  if (entry.value.IsNull()) {
    throw ConfigError(fmt::format("{}: {} is empty; it needs a 'connector' and its 'options'",
                                  file.where(entry), what));
  }
  const std::filesystem::path base_dir = config_base_dir(file.file_name());
  bool has_connector = false;
  for (const Entry& field : file.entries(entry.value, what, {"connector", "options"})) {
    if (field.key == "connector") {
      connection.connector = file.string_value(field, what + " connector");
      has_connector = true;
      continue;
    }
    if (field.value.IsNull()) continue;
    for (const Entry& option : file.entries(field.value, what + " options")) {
      const std::string context =
          fmt::format("{}: {} option '{}'", file.where(option), what, option.key);
      std::string raw;
      if (!file.option_value(option, "option", raw)) continue;
      if (!option.value.IsScalar() && raw.find("${") != std::string::npos) {
        throw ConfigError(fmt::format(
            "{}: ${{env:...}} and ${{file:...}} work in plain values only, not inside lists or "
            "mappings",
            context));
      }
      std::string value = resolve_references(raw, context, base_dir, env, connection.secret_values);
      connection.options.set(option.key, std::move(value));
    }
  }
  // The connector's spec says which options are secrets (known only once 'connector' is read).
  for (const auto& [key, value] : connection.options.values()) {
    if (is_secret_connection_option(connection.connector, key)) {
      add_secret(connection.secret_values, value);
    }
  }
  if (!has_connector) {
    throw ConfigError(fmt::format(
        "{}: {} has no 'connector'; name the connector it uses (see `lakeflow connectors`)",
        connection.location, what));
  }
  return connection;
}

}  // namespace

std::optional<std::string> process_env(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

const Connection* Connections::find(std::string_view name) const {
  const auto it = connections_.find(name);
  return it == connections_.end() ? nullptr : &it->second;
}

const Connection& Connections::get(std::string_view name) const {
  if (const Connection* connection = find(name)) {
    if (!connection->problem.empty()) throw ConfigError(connection->problem);
    return *connection;
  }
  std::string defined;
  for (const auto& [key, value] : connections_) {
    if (!defined.empty()) defined += ", ";
    defined += key;
  }
  throw ConfigError(fmt::format(
      "connection '{}' is not defined in {} ({}); add it there or choose another connections file "
      "with --connections",
      name, file_name_, defined.empty() ? "it defines none" : "it defines " + defined));
}

std::vector<std::string> Connections::secret_values() const {
  std::vector<std::string> all;
  for (const auto& [name, connection] : connections_) {
    for (const std::string& value : connection.secret_values) add_secret(all, value);
  }
  return all;
}

Connections parse_connections(std::string_view text, std::string_view file_name,
                              const EnvLookup& env) {
  const YamlFile file(text, std::string(file_name));
  std::map<std::string, Connection, std::less<>> connections;
  if (file.root().IsNull()) return Connections(std::string(file_name), std::move(connections));
  for (const Entry& entry : file.entries(file.root(), "the connections file")) {
    try {
      connections.emplace(entry.key, parse_connection(file, entry, env));
    } catch (const ConfigError& error) {
      Connection broken;
      broken.name = entry.key;
      broken.location = file.where(entry.key_node);
      broken.problem = error.what();
      connections.emplace(entry.key, std::move(broken));
    }
  }
  return Connections(std::string(file_name), std::move(connections));
}

Connections load_connections(const std::filesystem::path& path, const EnvLookup& env) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw ConfigError(fmt::format(
        "connections file '{}' does not exist; create it (see examples/connections.yaml), or "
        "choose another with --connections FILE, the spec's connections_file or "
        "$LAKEFLOW_CONNECTIONS",
        path.string()));
  }
  return parse_connections(files::read_file(path, "connections file"), path.string(), env);
}

std::filesystem::path connections_path(const std::optional<std::filesystem::path>& flag,
                                       const std::optional<std::filesystem::path>& spec_file,
                                       const EnvLookup& env) {
  if (flag) return *flag;
  if (spec_file) return *spec_file;
  if (auto path = env("LAKEFLOW_CONNECTIONS"); path && !path->empty()) return *path;
  if (auto xdg = env("XDG_CONFIG_HOME"); xdg && !xdg->empty()) {
    return std::filesystem::path(*xdg) / "lakeflow" / "connections.yaml";
  }
  if (auto home = env("HOME"); home && !home->empty()) {
    return std::filesystem::path(*home) / ".config" / "lakeflow" / "connections.yaml";
  }
  throw ConfigError(
      "cannot find the connections file: HOME is not set; pass --connections FILE or set "
      "LAKEFLOW_CONNECTIONS");
}

}  // namespace lakeflow::pipeline
