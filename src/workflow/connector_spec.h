// A connector's connector_spec.yaml (upstream's format, templates/connector_spec_template.yaml):
// its connection parameters, either one list (a single auth method) or `auth_methods` each with
// its own parameters beside the shared `parameters`, and the external options allowlist. Read with
// yaml-cpp; used by `lakeflow connection create` and `lakeflow check`.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow::workflow {

struct SpecParameter {
  std::string name;
  bool required = false;
  bool secret = false;  // `secret: true` in the spec, or a name lakeflow treats as a secret
  std::string description;
};

struct SpecAuthMethod {
  std::string name;
  std::string description;
  std::vector<SpecParameter> parameters;
};

// Table options Spark and the Databricks connection always pass, whatever the connector
// (upstream's community-connector CLI adds them to every connection's allowlist).
inline constexpr std::string_view kFixedExternalOptions[] = {"tableName", "tableNameList",
                                                             "tableConfigs", "isDeleteFlow"};

struct ConnectorSpec {
  std::string file;  // where it was read from, for messages
  std::string display_name;
  std::vector<SpecParameter> parameters;  // shared by every auth method
  std::vector<SpecAuthMethod> auth_methods;
  std::vector<std::string> external_options;  // the allowlist, in spec order

  // Throws ConfigError naming the file and what is malformed.
  static ConnectorSpec parse(std::string_view yaml, std::string_view file);
  static ConnectorSpec load(const std::filesystem::path& path);

  // The parameter `name`, shared or of any auth method; nullptr when the spec has none.
  const SpecParameter* find(std::string_view name) const;
  // Every parameter name, shared ones first, without repeats.
  std::vector<std::string> parameter_names() const;
  // The allowlist with the fixed option names after it, without repeats.
  std::vector<std::string> allowed_external_options() const;
};

// The option that carries the allowlist on a Databricks connection.
inline constexpr std::string_view kExternalOptionsKey = "externalOptionsAllowList";

// Validates connection options for `connector` against its spec: every option is a parameter of
// the spec (or kExternalOptionsKey, whose entries must be allowed external options), every
// required shared parameter is given (an empty value counts as absent), and, when the spec has
// auth methods, one of them is complete; of those, the one sharing most parameters with the
// options is chosen. Returns its name ("" for a spec without auth methods). Throws ConfigError
// naming the parameter and what to do.
std::string validate_connection_options(const ConnectorSpec& spec, std::string_view connector,
                                        const std::map<std::string, std::string>& options);

}  // namespace lakeflow::workflow
