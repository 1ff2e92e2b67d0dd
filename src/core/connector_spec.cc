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

// The parameters of `list` (a YAML list at `where`) in their order.
std::vector<ConnectorSpec::Parameter> read_parameters(const YAML::Node& list, std::string_view file,
                                                      std::string_view where) {
  std::vector<ConnectorSpec::Parameter> parameters;
  if (!list || list.IsNull()) return parameters;
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
    if (const YAML::Node description = item["description"]; description && description.IsScalar()) {
      parameter.description = description.Scalar();
    }
    parameters.push_back(std::move(parameter));
  }
  return parameters;
}

// Adds `parameters` to the union `out`: a name in several places counts once, secret when any of
// them says so.
void add_parameters(const std::vector<ConnectorSpec::Parameter>& parameters,
                    std::vector<ConnectorSpec::Parameter>& out) {
  for (const ConnectorSpec::Parameter& parameter : parameters) {
    const auto same = std::find_if(out.begin(), out.end(),
                                   [&](const auto& p) { return p.name == parameter.name; });
    if (same == out.end()) {
      out.push_back(parameter);
    } else {
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
      table_options_(std::move(table_options)),
      shared_parameters_(parameters_) {}

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
  std::vector<Parameter> shared;
  std::vector<AuthMethod> methods;
  if (const YAML::Node connection = root["connection"]; connection && !connection.IsNull()) {
    if (!connection.IsMap())
      throw ConfigError(fmt::format("{}: 'connection' must be a mapping", file));
    shared = read_parameters(connection["parameters"], file, "connection.parameters");
    if (const YAML::Node list = connection["auth_methods"]; list && !list.IsNull()) {
      if (!list.IsSequence()) {
        throw ConfigError(fmt::format("{}: connection.auth_methods must be a list", file));
      }
      for (std::size_t i = 0; i < list.size(); ++i) {
        const YAML::Node method = list[i];
        const std::string at = fmt::format("connection.auth_methods[{}]", i);
        if (!method.IsMap() || !method["name"] || !method["name"].IsScalar() ||
            method["name"].Scalar().empty()) {
          throw ConfigError(fmt::format("{}: {} needs a 'name'", file, at));
        }
        AuthMethod auth{method["name"].Scalar(), "",
                        read_parameters(method["parameters"], file, at + ".parameters")};
        if (const YAML::Node description = method["description"];
            description && description.IsScalar()) {
          auth.description = description.Scalar();
        }
        methods.push_back(std::move(auth));
      }
    }
  }
  std::vector<Parameter> parameters;
  add_parameters(shared, parameters);
  for (const AuthMethod& method : methods) add_parameters(method.parameters, parameters);
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
  ConnectorSpec spec(std::move(connector), std::move(parameters), std::move(table_options));
  spec.shared_parameters_ = std::move(shared);
  spec.auth_methods_ = std::move(methods);
  if (const YAML::Node name = root["display_name"]; name && name.IsScalar()) {
    spec.display_name_ = name.Scalar();
  }
  return spec;
}

const ConnectorSpec::Parameter* ConnectorSpec::find(std::string_view name) const {
  const auto it = std::find_if(parameters_.begin(), parameters_.end(),
                               [&](const Parameter& p) { return p.name == name; });
  return it == parameters_.end() ? nullptr : &*it;
}

ConnectorSpec ConnectorSpec::accepting_any_option(std::string connector) {
  ConnectorSpec spec(std::move(connector), {}, {});
  spec.accepts_any_option_ = true;
  return spec;
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
    const bool known = accepts_any_option_ ||
                       std::any_of(parameters_.begin(), parameters_.end(),
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
  for (const Parameter& p : shared_parameters_) {
    if (!p.required) continue;
    if (const auto value = checked.find(p.name); value && !value->empty()) continue;
    const std::string_view about = text::trim(p.description);
    throw MissingOptionError(
        connector_, p.name,
        fmt::format("{}: missing required connection option '{}'{}; give it in the connection's "
                    "options (connections file: `lakeflow connection create`) or as --option "
                    "{}=VALUE",
                    connector_, p.name, about.empty() ? "" : fmt::format(" ({})", about), p.name));
  }
  return checked;
}

Options ConnectorSpec::checked_table_options(std::string_view table,
                                             const Options& table_options) const {
  Options checked;
  for (const auto& [key, value] : table_options.values()) {
    if (is_framework_option(key)) continue;
    if (!accepts_any_option_ &&
        std::find(table_options_.begin(), table_options_.end(), key) == table_options_.end()) {
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
