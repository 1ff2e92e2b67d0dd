// A connector's spec: the connection parameters it takes and the table options it accepts, read
// from the connector's `connector_spec.yaml` (upstream's format, see templates/connector/) and
// compiled into the connector.
//
//   connection:
//     parameters:
//       - {name: base_url, type: string, required: true, description: ...}
//       - {name: token, type: string, required: false, secret: true, description: ...}
//     auth_methods:                       # optional: parameters of each way to authenticate
//       - {name: oauth, parameters: [...]}
//   external_options_allowlist: "page_size,max_records_per_batch"
//
// The build embeds the file: lakeflow_connector() (in tree) and lakeflow_add_connector() (the
// installed SDK) generate `lakeflow_connector_spec.h` beside the connector's sources, which
// defines `embedded_connector_spec()`; the connector passes it to the LakeflowConnect constructor
// and LAKEFLOW_REGISTER_CONNECTOR records it with the registration. So the file is the one place
// that says which options a connector takes and which of them are secrets:
//   * a connection option not among the parameters is a ConfigError naming the connector, the
//     option and the accepted ones, and a `required: true` parameter of connection.parameters
//     that is absent or empty a MissingOptionError naming both (checked when a connector is
//     constructed: a pipeline fails before it lands anything);
//   * a table option not in external_options_allowlist is a ConfigError likewise (checked by every
//     LakeflowConnect method that takes table options);
//   * the values of `secret: true` parameters are registered with the redactor wherever the
//     framework reads connection options (connections file, --option), and never printed.
// Options that Spark and Databricks add when they call a connector (kFrameworkOptions) are accepted
// for every connector and removed before the connector sees them.
//
// Thread-safety: a ConnectorSpec is immutable after construction.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/options.h"

namespace lakeflow {

// Options the caller of a connector may add on top of the connector's own (upstream's Spark data
// source and pipeline: the table being read, the delete flow, the Unity Catalog connection and
// the table-list options of its metadata tables). Accepted in connection and table options of
// every connector, and removed before the connector sees them.
inline constexpr std::string_view kFrameworkOptions[] = {
    "tableName",       "tableNameList", "tableConfigs",          "isDeleteFlow",
    "namespacePrefix", "namespace",     "databricks.connection", "externalOptionsAllowList"};

// True for a name in kFrameworkOptions.
bool is_framework_option(std::string_view key);

class ConnectorSpec {
 public:
  struct Parameter {
    std::string name;
    bool required = false;
    bool secret = false;
    std::string description{};
  };
  // One way to authenticate (an entry of connection.auth_methods): the parameters it takes beside
  // the shared ones.
  struct AuthMethod {
    std::string name;
    std::string description;
    std::vector<Parameter> parameters;
  };

  // A spec written in code (test fixtures, connectors without a YAML file): `parameters` are its
  // shared parameters, and it has no auth methods.
  ConnectorSpec(std::string connector, std::vector<Parameter> parameters,
                std::vector<std::string> table_options);

  // Reads `yaml`, the text of `file` (named in errors). Throws ConfigError naming the file and
  // what is wrong: not a mapping, a parameter or an auth method without a name, a flag that is not
  // true or false, an allowlist that is not one comma-separated string.
  static ConnectorSpec parse(std::string connector, std::string_view yaml, std::string_view file);
  // A spec without parameters that accepts every connection and table option (removing only
  // kFrameworkOptions): for a connector that checks its options itself, as a Python connector
  // without a connector_spec.yaml beside its module does.
  static ConnectorSpec accepting_any_option(std::string connector);

  const std::string& connector() const { return connector_; }
  // Every connection parameter: connection.parameters, then those of each auth method (a name in
  // several places counts once; secret when any place marks it so).
  const std::vector<Parameter>& parameters() const { return parameters_; }
  // external_options_allowlist, in its order.
  const std::vector<std::string>& table_options() const { return table_options_; }
  // The spec as written, for tools that create connections (`lakeflow connection create`):
  // display_name, connection.parameters (needed whatever the auth method) and auth_methods.
  const std::string& display_name() const { return display_name_; }
  const std::vector<Parameter>& shared_parameters() const { return shared_parameters_; }
  const std::vector<AuthMethod>& auth_methods() const { return auth_methods_; }
  // The connection parameter `name` (of parameters()), or nullptr.
  const Parameter* find(std::string_view name) const;

  // Whether the spec marks the connection parameter `key` secret.
  bool is_secret(std::string_view key) const;
  // The names of the secret parameters.
  std::vector<std::string> secret_names() const;

  // `options` without kFrameworkOptions. Throws ConfigError for any other option that is not a
  // parameter, naming the connector, the option and the accepted options; MissingOptionError
  // (lakeflow/error.h) for a `required: true` parameter of connection.parameters that is absent
  // or empty. (Parameters of auth_methods are not checked here: which method applies is the
  // connector's to decide.)
  Options checked_connection_options(const Options& options) const;
  // `table_options` of `table` without kFrameworkOptions. Throws ConfigError for any other option
  // not in external_options_allowlist, naming the connector, the table, the option and the
  // accepted ones.
  Options checked_table_options(std::string_view table, const Options& table_options) const;

 private:
  std::string connector_;
  std::vector<Parameter> parameters_;
  std::vector<std::string> table_options_;
  std::string display_name_;
  std::vector<Parameter> shared_parameters_;
  std::vector<AuthMethod> auth_methods_;
  bool accepts_any_option_ = false;
};

}  // namespace lakeflow
