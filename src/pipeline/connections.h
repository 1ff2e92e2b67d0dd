// Connections: the named connector + options a pipeline spec's `connection_name` refers to. They
// live outside the spec, in a YAML or JSON file, so secrets never sit in a spec:
//
//   my_example:                          # the connection name
//     connector: example                 # a registered connector
//     options:                           # connector options (values become strings)
//       username: demo
//       password: ${env:EXAMPLE_PASSWORD}
//       private_key: ${file:~/keys/example.pem}
//
// A value may hold references, whole or inside text (`Bearer ${env:TOKEN}`):
//   * `${env:NAME}` — the environment variable NAME;
//   * `${file:PATH}` — the contents of PATH with trailing newlines trimmed (`~/` is $HOME; a
//     relative path is relative to the connections file's directory);
//   * `$${` — a literal `${`.
// A missing variable or unreadable file is a ConfigError naming the connection, the option and the
// variable or path, never a value.
//
// Secrets in output, one rule: every value resolved from a reference, the whole option value that
// holds one, and the value of every option the connector's connector_spec.yaml marks secret (or,
// for a connector that is not registered, every option named like a secret:
// lakeflow::is_secret_connection_option) are the connection's `secret_values`. `lakeflow run`
// registers them with the process's one Redactor (http::process_redactor(),
// lakeflow/http/redactor.h), through which every log line, progress line, error and summary of the
// run passes, the HTTP toolkit's retry warnings and errors included: they show as `***` everywhere.
// So a base URL read from `${env:...}` shows as `GET ***/Patient?...` in messages; write it in the
// file itself to see it. A value shorter than 4 characters is hidden only where the Redactor
// recognises a secret by its place (headers, key=value, JSON members, URL passwords), not as plain
// text.
//
// Which file: `--connections FILE` on the command line, else the spec's `connections_file`, else
// $LAKEFLOW_CONNECTIONS, else $XDG_CONFIG_HOME/lakeflow/connections.yaml, else
// ~/.config/lakeflow/connections.yaml (see `connections_path`).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/options.h"

namespace lakeflow::pipeline {

struct Connection {
  std::string name;
  std::string connector;
  Options options;  // references resolved
  // Every value that came from `${env:...}` / `${file:...}` (the referenced text, and the whole
  // option value it is part of) and the value of every option named like a secret (password,
  // token, secret, credential, api/private/access key, ...). Hand them to the log redactor
  // (http::Redactor::add_secret) before anything is logged.
  std::vector<std::string> secret_values;
  std::string location;  // `file:line:column` of the entry
  // Why the entry cannot be used (an unset variable, a missing file, no connector...); get()
  // throws it. Kept rather than thrown while parsing, so that one pipeline does not need the
  // variables and files of the file's other connections.
  std::string problem;
};

class Connections {
 public:
  Connections() = default;
  Connections(std::string file_name, std::map<std::string, Connection, std::less<>> connections)
      : file_name_(std::move(file_name)), connections_(std::move(connections)) {}

  // Throws ConfigError naming the file and the connections it does define, or the problem of the
  // named connection.
  const Connection& get(std::string_view name) const;
  const Connection* find(std::string_view name) const;
  const std::map<std::string, Connection, std::less<>>& all() const { return connections_; }
  const std::string& file_name() const { return file_name_; }
  // The secret values of every connection.
  std::vector<std::string> secret_values() const;

 private:
  std::string file_name_;
  std::map<std::string, Connection, std::less<>> connections_;
};

// Looks up an environment variable; nullopt when unset. The default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
std::optional<std::string> process_env(std::string_view name);

// Parses a connections file's `text`. `file_name` prefixes errors and anchors `${file:}` paths.
// Throws ConfigError (with file:line:column) for a syntax error, a non-mapping, an entry without a
// `connector`, an unknown key (allowed: connector, options), a bad or unresolvable reference.
Connections parse_connections(std::string_view text, std::string_view file_name,
                              const EnvLookup& env = process_env);

// Reads and parses the connections file at `path`. A missing file is a ConfigError that says where
// connections are looked for and how to choose another file.
Connections load_connections(const std::filesystem::path& path, const EnvLookup& env = process_env);

// The connections file to read: `flag` (the --connections option) when given, else `spec_file` (the
// spec's `connections_file`), else $LAKEFLOW_CONNECTIONS, else $XDG_CONFIG_HOME/lakeflow/
// connections.yaml, else $HOME/.config/lakeflow/connections.yaml.
std::filesystem::path connections_path(const std::optional<std::filesystem::path>& flag,
                                       const std::optional<std::filesystem::path>& spec_file,
                                       const EnvLookup& env = process_env);

// Whether an option name looks like a secret's: lakeflow::is_secret_option
// (include/lakeflow/options.h); the spec decides for registered connectors.
using ::lakeflow::is_secret_option;

}  // namespace lakeflow::pipeline
