#include "lakeflow/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

// Serializes registrations: static initializers of different translation units may in principle
// run concurrently (e.g. shared libraries loaded from several threads). Lookups happen after
// main() starts, when registration is over, and read without locking.
std::mutex& registration_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

// A function-local static is constructed on first use, so connectors registering from static
// initializers in any translation unit never see an unconstructed registry.
ConnectorRegistry& ConnectorRegistry::instance() {
  static ConnectorRegistry registry;
  return registry;
}

void ConnectorRegistry::add(ConnectorInfo info) {
  std::lock_guard<std::mutex> lock(registration_mutex());
  if (info.name.empty()) {
    throw Error(ErrorCode::kInternal, "cannot register a connector with an empty name");
  }
  if (!info.create) {
    throw Error(ErrorCode::kInternal,
                fmt::format("connector '{}' was registered without a factory", info.name));
  }
  if (info.spec == nullptr) {
    throw Error(ErrorCode::kInternal,
                fmt::format("connector '{}' was registered without its connector_spec.yaml: "
                            "register it with LAKEFLOW_REGISTER_CONNECTOR beside an include of "
                            "the generated lakeflow_connector_spec.h",
                            info.name));
  }
  for (const ConnectorInfo& existing : connectors_) {
    if (existing.name == info.name) {
      throw Error(ErrorCode::kInternal,
                  fmt::format("connector '{}' is registered twice; every connector needs a unique "
                              "name in LAKEFLOW_REGISTER_CONNECTOR",
                              info.name));
    }
  }
  connectors_.push_back(std::move(info));
}

std::unique_ptr<LakeflowConnect> ConnectorRegistry::create(std::string_view name,
                                                           const Options& options) const {
  const ConnectorInfo* info = find(name);
  if (info == nullptr) {
    std::vector<std::string_view> names;
    for (const ConnectorInfo* c : list()) names.push_back(c->name);
    if (names.empty()) {
      throw ConfigError(
          fmt::format("unknown connector '{}'; no connectors are registered in this build", name));
    }
    throw ConfigError(fmt::format("unknown connector '{}'; registered connectors: {}", name,
                                  fmt::join(names, ", ")));
  }
  std::unique_ptr<LakeflowConnect> connector;
  try {
    connector = info->create(options);
  } catch (const ConfigError& e) {
    // "missing required option 'base_url'" says which option, not of which connector.
    const std::string_view message = e.what();
    if (message.rfind(std::string(name) + ":", 0) == 0 ||
        message.find(fmt::format("'{}'", name)) != std::string_view::npos) {
      throw;
    }
    std::string hint;
    if (message.rfind("missing required option '", 0) == 0) {
      // Say where connection options come from: the message alone names only the key.
      hint =
          "; give it as a connection option (lakeflow: --option KEY=VALUE or --options-file FILE; "
          "a pipeline: the connection's options)";
    }
    throw ConfigError(fmt::format("connector '{}': {}{}", name, message, hint));
  }
  if (connector == nullptr) {
    throw Error(ErrorCode::kInternal,
                fmt::format("the factory of connector '{}' returned no connector", name));
  }
  return connector;
}

bool is_secret_connection_option(std::string_view connector, std::string_view key) {
  const ConnectorInfo* info = ConnectorRegistry::instance().find(connector);
  if (info == nullptr) return is_secret_option(key);
  return info->spec().is_secret(key);
}

const ConnectorInfo* ConnectorRegistry::find(std::string_view name) const {
  for (const ConnectorInfo& info : connectors_) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::vector<const ConnectorInfo*> ConnectorRegistry::list() const {
  std::vector<const ConnectorInfo*> sorted;
  sorted.reserve(connectors_.size());
  for (const ConnectorInfo& info : connectors_) sorted.push_back(&info);
  std::sort(sorted.begin(), sorted.end(),
            [](const ConnectorInfo* a, const ConnectorInfo* b) { return a->name < b->name; });
  return sorted;
}

}  // namespace lakeflow
