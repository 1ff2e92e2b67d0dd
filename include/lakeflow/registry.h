// Connectors register themselves by name; the CLI and the pipeline create them by that name.
//
//   LAKEFLOW_REGISTER_CONNECTOR("example", ExampleConnector, "In-process REST-like demo source");
//
// in the connector's .cc file registers `ExampleConnector(Options)` at static-initialization time.
// Registration is thread-safe; lookups after main() starts are read-only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"

namespace lakeflow {

struct ConnectorInfo {
  std::string name;
  std::string description;
  std::function<std::unique_ptr<LakeflowConnect>(const Options&)> create;
};

class ConnectorRegistry {
 public:
  static ConnectorRegistry& instance();

  // Throws Error(kInternal) on a duplicate name.
  void add(ConnectorInfo info);
  // Throws ConfigError naming the registered connectors when `name` is unknown.
  std::unique_ptr<LakeflowConnect> create(std::string_view name, const Options& options) const;
  const ConnectorInfo* find(std::string_view name) const;
  // Sorted by name.
  std::vector<const ConnectorInfo*> list() const;

 private:
  std::vector<ConnectorInfo> connectors_;
};

struct ConnectorRegistrar {
  ConnectorRegistrar(std::string name, std::string description,
                     std::function<std::unique_ptr<LakeflowConnect>(const Options&)> create) {
    ConnectorRegistry::instance().add({std::move(name), std::move(description), std::move(create)});
  }
};

}  // namespace lakeflow

#define LAKEFLOW_REGISTER_CONNECTOR(name, Class, description)                                  \
  static const ::lakeflow::ConnectorRegistrar lakeflow_registrar_##Class(                      \
      name, description, [](const ::lakeflow::Options& options) {                              \
        return std::unique_ptr<::lakeflow::LakeflowConnect>(std::make_unique<Class>(options)); \
      })
