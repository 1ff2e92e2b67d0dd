// `lakeflow connection create | list | test`: named connections in the connections file
// (src/pipeline/connections.h for its format), written from options validated against the
// connector's connector_spec.yaml, with secrets kept as ${env:}/${file:} references.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector_spec.h"

namespace lakeflow::workflow {

struct CreateConnectionArgs {
  std::string name;                   // the connection's name: [A-Za-z0-9_.-]+
  std::string connector;              // a connector name
  std::string options_json = "{}";    // -o: a JSON object of parameter values
  std::filesystem::path connections;  // the file to write
  // The connector's connector_spec.yaml; empty: the spec built into the registered connector
  // (find_connector_spec says which).
  std::filesystem::path spec;
  // Fill parameters not in options_json from environment variables named
  // <NAME>_<PARAMETER> (upper case, every other character '_'): a secret as a ${env:} reference
  // to that variable, any other parameter as its value.
  bool from_env = false;
};

struct CreatedConnection {
  bool replaced = false;    // an entry of that name was replaced
  std::string auth_method;  // the auth method the options select ("" without auth methods)
  std::map<std::string, std::string> options;  // as written (secrets as references)
  std::vector<std::string> notes;  // e.g. a reference that does not resolve here and now
};

// Where the spec of `connector` comes from when no --spec is given: the path of
// ROOT/sources/<connector>/connector_spec.yaml when that file exists, where ROOT is `root` (--root)
// or else the repository found from the current directory (`repository`, empty when none was);
// otherwise an empty path when the connector is registered (built into lakeflow, or a loaded
// plugin), whose build embedded its spec. Throws ConfigError naming what it looked for and exactly
// what to pass (--spec FILE, --root DIR, LAKEFLOW_PLUGIN_PATH) when neither is there, or when the
// `root` given explicitly has no such file.
std::filesystem::path find_connector_spec(const std::filesystem::path& root,
                                          const std::filesystem::path& repository,
                                          const std::string& connector);

// Validates connection options against `spec` (read from `file`, named in messages): every
// option is a parameter of the spec (or externalOptionsAllowList, whose entries must be table
// options of the spec or ones Spark always passes), every required shared parameter is given (an
// empty value counts as absent), and, when the spec has auth methods, one of them is complete; of
// those, the one sharing most parameters with the options is chosen. Returns its name ("" for a
// spec without auth methods). Throws ConfigError naming the parameter and what to do.
std::string validate_connection_options(const ConnectorSpec& spec, std::string_view file,
                                        const std::map<std::string, std::string>& options);

// Validates and writes (adds or replaces) the entry. Every error is a ConfigError naming the
// parameter, and leaves the file as it was; the file is replaced in one rename, keeping its
// permissions (a new file is created readable by its owner only). `environment` looks variables
// up for --from-env.
CreatedConnection create_connection(
    const CreateConnectionArgs& args,
    const std::function<std::optional<std::string>(std::string_view)>& environment);

struct ListedConnection {
  std::string name;
  std::string connector;
  std::string location;                        // file:line
  std::map<std::string, std::string> options;  // as written; literal secrets shown as ***
  std::string problem;                         // why it cannot be used here and now
};

// The connections of `file`, as written in it (references unresolved).
std::vector<ListedConnection> list_connections(const std::filesystem::path& file);

struct ConnectionTestResult {
  std::string connector;
  std::size_t tables = 0;
  std::string table;        // the table read ("" when the connector serves none)
  std::size_t records = 0;  // in the first batch of that read
};

// Builds the connector of connection `name` of `file` and makes its cheapest calls: list_tables,
// then the first batch of the first table's read (at most 1 record per batch when the spec
// allows max_records_per_batch). Secret values are registered with the process's redactor first.
// Throws the connector's typed errors (credentials rejected, source down, a required parameter
// missing, ...).
ConnectionTestResult test_connection(const std::filesystem::path& file, const std::string& name);

}  // namespace lakeflow::workflow
