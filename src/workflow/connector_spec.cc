#include "workflow/connector_spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "lakeflow/error.h"
#include "lakeflow/options.h"
#include "util/text.h"

namespace lakeflow::workflow {
namespace {

std::vector<SpecParameter> parse_parameters(const YAML::Node& node, const std::string& where,
                                            std::string_view file) {
  std::vector<SpecParameter> parameters;
  if (!node || node.IsNull()) return parameters;
  if (!node.IsSequence()) {
    throw ConfigError(fmt::format("{}:{}: {} must be a list", file, node.Mark().line + 1, where));
  }
  for (const YAML::Node& entry : node) {
    const YAML::Node name = entry["name"];
    if (!entry.IsMap() || !name || !name.IsScalar() || name.as<std::string>().empty()) {
      throw ConfigError(
          fmt::format("{}:{}: each of {} needs a 'name'", file, entry.Mark().line + 1, where));
    }
    SpecParameter parameter;
    parameter.name = name.as<std::string>();
    try {
      parameter.required = entry["required"] && entry["required"].as<bool>();
      parameter.secret =
          (entry["secret"] && entry["secret"].as<bool>()) || is_secret_option(parameter.name);
    } catch (const YAML::Exception&) {
      throw ConfigError(
          fmt::format("{}:{}: 'required' and 'secret' of parameter '{}' are true or "
                      "false",
                      file, entry.Mark().line + 1, parameter.name));
    }
    if (entry["description"] && entry["description"].IsScalar()) {
      parameter.description = entry["description"].as<std::string>();
    }
    parameters.push_back(std::move(parameter));
  }
  return parameters;
}

std::string list(const std::vector<std::string>& names) {
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

ConnectorSpec ConnectorSpec::parse(std::string_view yaml, std::string_view file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: {}", file, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) throw ConfigError(fmt::format("{}: the spec must be a mapping", file));
  ConnectorSpec spec;
  spec.file = std::string(file);
  if (root["display_name"] && root["display_name"].IsScalar()) {
    spec.display_name = root["display_name"].as<std::string>();
  }
  const YAML::Node connection = root["connection"];
  if (connection && !connection.IsNull()) {
    if (!connection.IsMap())
      throw ConfigError(fmt::format("{}: 'connection' must be a mapping", file));
    spec.parameters = parse_parameters(connection["parameters"], "connection.parameters", file);
    if (const YAML::Node methods = connection["auth_methods"]; methods && !methods.IsNull()) {
      if (!methods.IsSequence()) {
        throw ConfigError(fmt::format("{}: connection.auth_methods must be a list", file));
      }
      for (const YAML::Node& method : methods) {
        SpecAuthMethod auth;
        if (!method.IsMap() || !method["name"] || !method["name"].IsScalar()) {
          throw ConfigError(
              fmt::format("{}:{}: each auth method needs a 'name'", file, method.Mark().line + 1));
        }
        auth.name = method["name"].as<std::string>();
        if (method["description"] && method["description"].IsScalar()) {
          auth.description = method["description"].as<std::string>();
        }
        auth.parameters = parse_parameters(method["parameters"],
                                           "the parameters of auth method " + auth.name, file);
        spec.auth_methods.push_back(std::move(auth));
      }
    }
  }
  if (const YAML::Node allow = root["external_options_allowlist"]; allow && !allow.IsNull()) {
    if (!allow.IsScalar()) {
      throw ConfigError(
          fmt::format("{}: external_options_allowlist is a comma-separated text", file));
    }
    const std::string text = allow.as<std::string>();
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      const std::string entry(text::trim(std::string_view(text).substr(start, comma - start)));
      if (!entry.empty()) spec.external_options.push_back(entry);
      start = comma + 1;
    }
  }
  return spec;
}

ConnectorSpec ConnectorSpec::load(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw ConfigError(fmt::format("cannot read connector spec '{}'", path.string()));
  }
  std::ostringstream text;
  text << file.rdbuf();
  return parse(text.str(), path.string());
}

const SpecParameter* ConnectorSpec::find(std::string_view name) const {
  for (const SpecParameter& p : parameters) {
    if (p.name == name) return &p;
  }
  for (const SpecAuthMethod& method : auth_methods) {
    for (const SpecParameter& p : method.parameters) {
      if (p.name == name) return &p;
    }
  }
  return nullptr;
}

std::vector<std::string> ConnectorSpec::parameter_names() const {
  std::vector<std::string> names;
  auto add = [&](const std::vector<SpecParameter>& list) {
    for (const SpecParameter& p : list) {
      if (std::find(names.begin(), names.end(), p.name) == names.end()) names.push_back(p.name);
    }
  };
  add(parameters);
  for (const SpecAuthMethod& method : auth_methods) add(method.parameters);
  return names;
}

std::vector<std::string> ConnectorSpec::allowed_external_options() const {
  std::vector<std::string> names = external_options;
  for (std::string_view fixed : kFixedExternalOptions) {
    if (std::find(names.begin(), names.end(), fixed) == names.end()) names.emplace_back(fixed);
  }
  return names;
}

std::string validate_connection_options(const ConnectorSpec& spec, std::string_view connector,
                                        const std::map<std::string, std::string>& options) {
  auto given = [&](const std::string& name) {
    const auto it = options.find(name);
    return it != options.end() && !it->second.empty();
  };
  for (const auto& [key, value] : options) {
    if (key == kExternalOptionsKey) {
      const std::vector<std::string> allowed = spec.allowed_external_options();
      std::size_t start = 0;
      while (start <= value.size()) {
        std::size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        const std::string entry(text::trim(std::string_view(value).substr(start, comma - start)));
        if (!entry.empty() && std::find(allowed.begin(), allowed.end(), entry) == allowed.end()) {
          throw ConfigError(fmt::format(
              "parameter '{}': '{}' is not a table option connector '{}' accepts through a "
              "connection; allowed: {} ({})",
              kExternalOptionsKey, entry, connector, list(allowed), spec.file));
        }
        start = comma + 1;
      }
      continue;
    }
    if (spec.find(key) == nullptr) {
      throw ConfigError(
          fmt::format("unknown parameter '{}' for connector '{}'; its parameters are {} ({})", key,
                      connector, list(spec.parameter_names()), spec.file));
    }
  }
  for (const SpecParameter& p : spec.parameters) {
    if (p.required && !given(p.name)) {
      throw ConfigError(fmt::format(
          "missing required parameter '{}' of connector '{}'{}", p.name, connector,
          p.description.empty() ? std::string() : ": " + std::string(text::trim(p.description))));
    }
  }
  if (spec.auth_methods.empty()) return {};
  const SpecAuthMethod* best = nullptr;
  int best_overlap = -1;
  for (const SpecAuthMethod& method : spec.auth_methods) {
    bool complete = true;
    int overlap = 0;
    for (const SpecParameter& p : method.parameters) {
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
  for (const SpecAuthMethod& method : spec.auth_methods) {
    std::vector<std::string> missing;
    for (const SpecParameter& p : method.parameters) {
      if (p.required && !given(p.name)) missing.push_back(p.name);
    }
    choices.push_back(fmt::format("{} (missing {})", method.name, list(missing)));
  }
  throw ConfigError(fmt::format(
      "no authentication method of connector '{}' is complete: give every required parameter of "
      "one of {}",
      connector, fmt::join(choices, "; ")));
}

}  // namespace lakeflow::workflow
