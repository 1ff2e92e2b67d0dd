// Plugins: connectors built outside this repository, loaded by `lakeflow` at run time.
//
// A plugin is a shared object holding one or more connectors and one C entry point,
//
//   extern "C" int lakeflow_plugin_v2(LakeflowPluginV2* call);
//
// Connector authors write neither: lakeflow_add_connector() (the installed CMake package) compiles
// the connector's sources with LAKEFLOW_PLUGIN_BUILD defined, which turns each
// LAKEFLOW_REGISTER_CONNECTOR into a deferred registration, and adds one generated source holding
// LAKEFLOW_PLUGIN_ENTRY_POINT(). Other build systems do the same: `-DLAKEFLOW_PLUGIN_BUILD` on
// every source, LAKEFLOW_PLUGIN_ENTRY_POINT() in one of them, linked `-shared` against
// liblakeflow.so
// (`pkg-config --cflags --libs lakeflow`).
//
// Loading (what a host such as `lakeflow` does, in this order)
// ------------------------------------------------------------
// 1. dlopen(file, RTLD_NOW | RTLD_LOCAL). Every symbol resolves at once, against the SDK library
//    the plugin links (liblakeflow.so.MAJOR), so a plugin for another SDK major version either does
//    not load (that library is missing) or loads beside its own copy; either way it is refused
//    below. Loading registers nothing: a plugin's static initializers only record its connectors
//    in a list private to the shared object.
// 2. The host looks up `lakeflow_plugin_v2`. The "v2" is the version of this calling convention
//    (the struct below) and of the C++ objects it hands over (ConnectorInfo, the LakeflowConnect
//    vtable); a new convention gets a new symbol, so an old host never calls a new plugin wrongly,
//    and a plugin of an older convention (v1: public virtual LakeflowConnect methods) is refused
//    with the advice to rebuild it.
// 3. The host fills the `host_*` fields and calls the entry point once. The plugin reports the SDK
//    version it was built against (`plugin_*`) and, only when that is compatible (same MAJOR, and
//    the host's MINOR at least the plugin's; before 1.0, the same MINOR), registers its connectors
//    into `registry`. It returns one of the LAKEFLOW_PLUGIN_* statuses below.
// 4. The host checks the reported version too, and adds the connectors to its registry marked with
//    the plugin's file (`ConnectorInfo::origin`), all or none: a connector name that is already
//    registered (built in, or by another plugin) refuses the whole plugin.
//
// Any refusal is a lakeflow::PluginError (a ConfigError: `lakeflow` exits with status 2) naming
// the file, what is wrong and what to do: not a loadable shared object (with the loader's reason),
// no entry point, another SDK major version or plugin ABI, a failed registration, a name clash.
//
// Ownership and lifetime
// ----------------------
// The host owns `LakeflowPluginV2` and everything it points to; the plugin uses them only during
// the call. The host's registry owns the registered ConnectorInfo entries; their factories (and the
// connectors they make) run code of the shared object, so a host never unloads a plugin: it stays
// loaded until the process exits, refused or not.
//
// Errors
// ------
// No exception crosses the entry point. A failed registration returns LAKEFLOW_PLUGIN_FAILED with
// a NUL-terminated message in `error` (truncated to `error_size`).
//
// ABI
// ---
// C++ objects cross this boundary (ConnectorRegistry, ConnectorInfo, LakeflowConnect, std::string,
// std::function), so host and plugin share the SDK's major version and its C++ ABI (GCC or Clang
// with libstdc++): the version check and the library's soname guarantee the first, the SDK's
// toolchain requirements the second. The one SDK library (not a copy linked into each plugin)
// holds the registry and every other piece of static state, so there is one of each per process.
//
// Threading: hosts load plugins from one thread, before creating connectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "lakeflow/registry.h"
#include "lakeflow/version.h"

// The version of the calling convention: the number in the entry point's name.
#define LAKEFLOW_PLUGIN_ABI_VERSION 2

// Statuses the entry point returns.
#define LAKEFLOW_PLUGIN_OK 0
// Built against an incompatible SDK version: nothing was registered.
#define LAKEFLOW_PLUGIN_INCOMPATIBLE 1
// Registration failed (e.g. a factory-less connector): `error` says why; nothing was registered.
#define LAKEFLOW_PLUGIN_FAILED 2

extern "C" {

struct LakeflowPluginV2 {
  // Set by the host.
  std::uint32_t host_sdk_major;
  std::uint32_t host_sdk_minor;
  std::uint32_t host_sdk_patch;
  // The lakeflow::ConnectorRegistry to register into; used only when the versions are compatible.
  void* registry;
  // Where the plugin writes a NUL-terminated message when it returns LAKEFLOW_PLUGIN_FAILED.
  char* error;
  std::size_t error_size;

  // Set by the plugin (pointers to static storage of the plugin).
  std::uint32_t plugin_sdk_major;
  std::uint32_t plugin_sdk_minor;
  std::uint32_t plugin_sdk_patch;
  const char* plugin_cpu_baseline;
};

using LakeflowPluginEntryV2 = int (*)(LakeflowPluginV2* call);

}  // extern "C"

// Everything in plugin_detail is private to each plugin (hidden visibility): two plugins never
// share it, and the host never sees it.
#pragma GCC visibility push(hidden)
namespace lakeflow::plugin_detail {

// Whether a plugin built against SDK `plugin_major`.`plugin_minor` may run in a host of SDK
// `host_major`.`host_minor`: the same major, and the host's minor at least the plugin's. Before
// 1.0 every minor release may change the C++ objects that cross the boundary (a RecordBatch's
// layout, a connector's vtable), so a 0.x plugin needs the host's exact minor.
constexpr bool sdk_compatible(std::uint32_t host_major, std::uint32_t host_minor,
                              std::uint32_t plugin_major, std::uint32_t plugin_minor) {
  if (host_major != plugin_major) return false;
  return host_major == 0 ? host_minor == plugin_minor : host_minor >= plugin_minor;
}

// The connectors this shared object declared, in declaration order.
inline std::vector<ConnectorInfo>& staged_connectors() {
  static std::vector<ConnectorInfo> connectors;
  return connectors;
}

// What LAKEFLOW_REGISTER_CONNECTOR expands to in a plugin build.
struct StagedConnector {
  StagedConnector(std::string name, std::string description, ConnectorSpecSource spec,
                  ConnectorFactory create) {
    staged_connectors().push_back(
        {std::move(name), std::move(description), std::move(create), spec});
  }
};

inline int fail(LakeflowPluginV2* call, const char* message) {
  if (call->error != nullptr && call->error_size > 0) {
    std::strncpy(call->error, message, call->error_size - 1);
    call->error[call->error_size - 1] = '\0';
  }
  return LAKEFLOW_PLUGIN_FAILED;
}

// The body of the entry point.
inline int enter(LakeflowPluginV2* call) noexcept {
  call->plugin_sdk_major = LAKEFLOW_SDK_VERSION_MAJOR;
  call->plugin_sdk_minor = LAKEFLOW_SDK_VERSION_MINOR;
  call->plugin_sdk_patch = LAKEFLOW_SDK_VERSION_PATCH;
  call->plugin_cpu_baseline = LAKEFLOW_SDK_CPU_BASELINE;
  if (!sdk_compatible(call->host_sdk_major, call->host_sdk_minor, LAKEFLOW_SDK_VERSION_MAJOR,
                      LAKEFLOW_SDK_VERSION_MINOR)) {
    return LAKEFLOW_PLUGIN_INCOMPATIBLE;
  }
  try {
    auto& registry = *static_cast<ConnectorRegistry*>(call->registry);
    for (const ConnectorInfo& info : staged_connectors()) registry.add(info);
    return LAKEFLOW_PLUGIN_OK;
  } catch (const std::exception& e) {
    return fail(call, e.what());
  } catch (...) {
    return fail(call, "unknown exception while registering the plugin's connectors");
  }
}

}  // namespace lakeflow::plugin_detail
#pragma GCC visibility pop

// Defines the plugin's entry point; in exactly one source of the plugin.
#define LAKEFLOW_PLUGIN_ENTRY_POINT()                                                        \
  extern "C" [[gnu::visibility("default")]] int lakeflow_plugin_v2(LakeflowPluginV2* call) { \
    return ::lakeflow::plugin_detail::enter(call);                                           \
  }
