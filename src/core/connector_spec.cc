#include "lakeflow/connector_spec.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "lakeflow/error.h"
#include "util/text.h"

namespace lakeflow {
namespace {

// "a, b and c" (or "none").
std::string spoken_list(const std::vector<std::string_view>& names) {
  if (names.empty()) return "none";
  if (names.size() == 1) return std::string(names.front());
  return fmt::format("{} and {}", fmt::join(names.begin(), names.end() - 1, ", "), names.back());
}

bool yaml_flag(const YAML::Node& node, std::string_view key, std::string_view file,
               std::string_view where) {
  const YAML::Node value = node[std::string(key)];
  if (!value) return false;
  bool flag = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, flag)) {
    throw ConfigError(fmt::format("{}: {}: '{}' must be true or false", file, where, key));
  }
  return flag;
}

void add_parameters(const YAML::Node& list, std::string_view file, std::string_view where,
                    std::vector<ConnectorSpec::Parameter>& out) {
  if (!list || list.IsNull()) return;
  if (!list.IsSequence()) {
    throw ConfigError(fmt::format("{}: {} must be a list of parameters", file, where));
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string at = fmt::format("{}[{}]", where, i);
    if (!item.IsMap() || !item["name"] || !item["name"].IsScalar() ||
        item["name"].Scalar().empty()) {
      throw ConfigError(fmt::format("{}: {} needs a 'name'", file, at));
    }
    ConnectorSpec::Parameter parameter{item["name"].Scalar(), yaml_flag(item, "required", file, at),
                                       yaml_flag(item, "secret", file, at)};
    const auto same = std::find_if(out.begin(), out.end(),
                                   [&](const auto& p) { return p.name == parameter.name; });
    if (same == out.end()) {
      out.push_back(std::move(parameter));
    } else {
      // Auth methods may share a parameter; it is secret when any of them says so.
      same->secret = same->secret || parameter.secret;
    }
  }
}

}  // namespace

bool is_framework_option(std::string_view key) {
  return std::find(std::begin(kFrameworkOptions), std::end(kFrameworkOptions), key) !=
         std::end(kFrameworkOptions);
}

ConnectorSpec::ConnectorSpec(std::string connector, std::vector<Parameter> parameters,
                             std::vector<std::string> table_options)
    : connector_(std::move(connector)),
      parameters_(std::move(parameters)),
      table_options_(std::move(table_options)) {}

ConnectorSpec ConnectorSpec::parse(std::string connector, std::string_view yaml,
                                   std::string_view file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: not valid YAML: {}", file, e.what()));
  }
  if (!root.IsMap()) {
    throw ConfigError(fmt::format(
        "{}: expected a mapping with 'connection' and 'external_options_allowlist'", file));
  }
  std::vector<Parameter> parameters;
  if (const YAML::Node connection = root["connection"]; connection && !connection.IsNull()) {
    if (!connection.IsMap())
      throw ConfigError(fmt::format("{}: 'connection' must be a mapping", file));
    add_parameters(connection["parameters"], file, "connection.parameters", parameters);
    if (const YAML::Node methods = connection["auth_methods"]; methods && !methods.IsNull()) {
      if (!methods.IsSequence()) {
        throw ConfigError(fmt::format("{}: connection.auth_methods must be a list", file));
      }
      for (std::size_t i = 0; i < methods.size(); ++i) {
        add_parameters(methods[i]["parameters"], file,
                       fmt::format("connection.auth_methods[{}].parameters", i), parameters);
      }
    }
  }
  std::vector<std::string> table_options;
  if (const YAML::Node allow = root["external_options_allowlist"]; allow && !allow.IsNull()) {
    if (!allow.IsScalar()) {
      throw ConfigError(
          fmt::format("{}: external_options_allowlist must be one comma-separated string", file));
    }
    std::string_view rest = allow.Scalar();
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = text::trim(rest.substr(0, comma));
      if (!item.empty() &&
          std::find(table_options.begin(), table_options.end(), item) == table_options.end()) {
        table_options.emplace_back(item);
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return ConnectorSpec(std::move(connector), std::move(parameters), std::move(table_options));
}

bool ConnectorSpec::is_secret(std::string_view key) const {
  return std::any_of(parameters_.begin(), parameters_.end(),
                     [&](const Parameter& p) { return p.secret && p.name == key; });
}

std::vector<std::string> ConnectorSpec::secret_names() const {
  std::vector<std::string> names;
  for (const Parameter& p : parameters_) {
    if (p.secret) names.push_back(p.name);
  }
  return names;
}

Options ConnectorSpec::checked_connection_options(const Options& options) const {
  Options checked;
  for (const auto& [key, value] : options.values()) {
    if (is_framework_option(key)) continue;
    const bool known = std::any_of(parameters_.begin(), parameters_.end(),
                                   [&name = key](const Parameter& p) { return p.name == name; });
    if (!known) {
      std::vector<std::string_view> names;
      for (const Parameter& p : parameters_) names.push_back(p.name);
      throw ConfigError(fmt::format(
          "{}: unknown connection option '{}'; the connection options are {} (connector_spec.yaml "
          "of the connector)",
          connector_, key, spoken_list(names)));
    }
    checked.set(key, value);
  }
  return checked;
}

Options ConnectorSpec::checked_table_options(std::string_view table,
                                             const Options& table_options) const {
  Options checked;
  for (const auto& [key, value] : table_options.values()) {
    if (is_framework_option(key)) continue;
    if (std::find(table_options_.begin(), table_options_.end(), key) == table_options_.end()) {
      const std::vector<std::string_view> names(table_options_.begin(), table_options_.end());
      throw ConfigError(
          fmt::format("{}: unknown table option '{}' for table '{}'; the table options are {} "
                      "(external_options_allowlist of the connector's connector_spec.yaml)",
                      connector_, key, table, spoken_list(names)));
    }
    checked.set(key, value);
  }
  return checked;
}

}  // namespace lakeflow
