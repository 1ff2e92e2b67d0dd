// Connectors register themselves by name; the CLI and the pipeline create them by that name.
//
//   LAKEFLOW_REGISTER_CONNECTOR("example", ExampleConnector, "In-process REST-like demo source");
//
// in the connector's .cc file registers `ExampleConnector(Options)` at static-initialization time,
// with the connector's spec: the .cc file includes the generated "lakeflow_connector_spec.h"
// (lakeflow/connector_spec.h), whose embedded_connector_spec() the registration records.
// In a plugin (a connector built out of tree, compiled with LAKEFLOW_PLUGIN_BUILD defined, see
// lakeflow/plugin.h) the same line defers the registration to the plugin's entry point, which the
// host calls after checking the SDK version the plugin was built against.
// Registration is thread-safe; lookups after main() starts (and after plugins are loaded, which
// hosts do before creating connectors) are read-only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"

namespace lakeflow {

using ConnectorFactory = std::function<std::unique_ptr<LakeflowConnect>(const Options&)>;
// The connector's spec (a static of the connector's code: valid while it is loaded).
using ConnectorSpecSource = const ConnectorSpec& (*)();

struct ConnectorInfo {
  std::string name;
  std::string description;
  ConnectorFactory create;
  // The spec the connector checks its options against (lakeflow/connector_spec.h).
  ConnectorSpecSource spec = nullptr;
  // Where the connector comes from: empty when built into the program, else the path of the plugin
  // file that registered it (set by the plugin loader).
  std::string origin{};
};

// Makes connectors that are named rather than registered: `<scheme>:<target>`, e.g.
// `python:package.module:ClassName` (a Python connector, src/python_bridge/). Gets `target` and
// the connection options.
using ConnectorSchemeFactory =
    std::function<std::unique_ptr<LakeflowConnect>(std::string_view target, const Options&)>;

class ConnectorRegistry {
 public:
  static ConnectorRegistry& instance();

  // Makes `create("<scheme>:<target>", ...)` call `factory(target, ...)` for a name no connector
  // is registered under. A scheme added again replaces the earlier factory.
  void add_scheme(std::string scheme, ConnectorSchemeFactory factory);

  // Throws Error(kInternal) on a duplicate name or a registration without a factory or a spec.
  void add(ConnectorInfo info);
  // Throws ConfigError naming the registered connectors when `name` is unknown (and is not
  // `<scheme>:<target>` of an added scheme).
  std::unique_ptr<LakeflowConnect> create(std::string_view name, const Options& options) const;
  const ConnectorInfo* find(std::string_view name) const;
  // Whether create(name, ...) can make the connector: it is registered, or named
  // `<scheme>:<target>` with an added scheme (whether the target exists shows only then).
  bool can_create(std::string_view name) const;
  // Sorted by name.
  std::vector<const ConnectorInfo*> list() const;

 private:
  std::vector<ConnectorInfo> connectors_;
  std::map<std::string, ConnectorSchemeFactory, std::less<>> schemes_;
};

// Whether the connection option `key` of connector `connector` holds a secret: what the
// connector's connector_spec.yaml says (`secret: true`). For a connector not registered (a plugin
// not loaded) no spec is known, and a name that looks like a secret counts (is_secret_option).
bool is_secret_connection_option(std::string_view connector, std::string_view key);

struct ConnectorRegistrar {
  ConnectorRegistrar(std::string name, std::string description, ConnectorSpecSource spec,
                     ConnectorFactory create) {
    ConnectorRegistry::instance().add(
        {std::move(name), std::move(description), std::move(create), spec});
  }
};

}  // namespace lakeflow

#ifdef LAKEFLOW_PLUGIN_BUILD
#include "lakeflow/plugin.h"  // lakeflow::plugin_detail::StagedConnector
#define LAKEFLOW_CONNECTOR_REGISTRAR_ ::lakeflow::plugin_detail::StagedConnector
#else
#define LAKEFLOW_CONNECTOR_REGISTRAR_ ::lakeflow::ConnectorRegistrar
#endif

#define LAKEFLOW_REGISTER_CONNECTOR(name, Class, description)                                  \
  static const LAKEFLOW_CONNECTOR_REGISTRAR_ lakeflow_registrar_##Class(                       \
      name, description, &embedded_connector_spec, [](const ::lakeflow::Options& options) {    \
        return std::unique_ptr<::lakeflow::LakeflowConnect>(std::make_unique<Class>(options)); \
      })
