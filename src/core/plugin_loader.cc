#include "core/plugin_loader.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <set>
#include <system_error>

#include "lakeflow/plugin.h"
#include "lakeflow/version.h"

namespace lakeflow {
namespace fs = std::filesystem;
namespace {

constexpr const char* kEntryPoint = "lakeflow_plugin_v2";

std::string sdk_version() { return LAKEFLOW_SDK_VERSION_STRING; }

std::string rebuild_hint() {
  return fmt::format(
      "rebuild it against this SDK (lakeflow {}): cmake -DCMAKE_PREFIX_PATH=<the prefix lakeflow "
      "is installed in>",
      sdk_version());
}

// The files loaded into the process's registry so far.
std::mutex& loaded_mutex() {
  static std::mutex mutex;
  return mutex;
}
std::set<std::string>& loaded() {
  static std::set<std::string> files;
  return files;
}

// A plugin of another calling convention exports lakeflow_plugin_v1, v3...: name it.
int other_abi(void* handle) {
  for (int version = 1; version <= 9; ++version) {
    if (version == LAKEFLOW_PLUGIN_ABI_VERSION) continue;
    if (dlsym(handle, fmt::format("lakeflow_plugin_v{}", version).c_str()) != nullptr) {
      return version;
    }
  }
  return 0;
}

void* open_plugin(const std::string& path) {
  const std::size_t before = ConnectorRegistry::instance().list().size();
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    const std::string why = reason == nullptr ? "unknown reason" : reason;
    if (why.find("liblakeflow") != std::string::npos) {
      throw PluginError(path, PluginError::Reason::kIncompatible,
                        fmt::format("cannot load plugin '{}': {}; it was built against another "
                                    "lakeflow SDK: {}",
                                    path, why, rebuild_hint()));
    }
    throw PluginError(
        path, PluginError::Reason::kNotLoadable,
        fmt::format("cannot load plugin '{}': {}; a plugin is a shared object built with "
                    "lakeflow_add_connector() against the installed SDK: check the path, and that "
                    "the libraries it needs are found (ldd '{}')",
                    path, why, path));
  }
  // Registering from static initializers bypasses the version check: the connector's sources were
  // compiled without LAKEFLOW_PLUGIN_BUILD. (The shared object stays loaded: see plugin.h.)
  if (ConnectorRegistry::instance().list().size() != before) {
    throw PluginError(path, PluginError::Reason::kFailed,
                      fmt::format("plugin '{}' registered connectors while loading, before its "
                                  "entry point was called: compile its sources with "
                                  "LAKEFLOW_PLUGIN_BUILD defined (lakeflow_add_connector() does)",
                                  path));
  }
  return handle;
}

}  // namespace

PluginError::PluginError(std::string file, Reason reason, std::string message)
    : ConfigError(std::move(message)), file_(std::move(file)), reason_(reason) {}

void load_plugin(const fs::path& file, ConnectorRegistry& registry) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(file, ec);
  const std::string path = (ec ? file : absolute).lexically_normal().string();
  if (!fs::exists(path, ec)) {
    throw PluginError(path, PluginError::Reason::kNotFound,
                      fmt::format("plugin '{}' does not exist: check the path", path));
  }
  std::lock_guard<std::mutex> lock(loaded_mutex());
  const bool process_registry = &registry == &ConnectorRegistry::instance();
  if (process_registry && loaded().contains(path)) return;

  void* handle = open_plugin(path);
  dlerror();
  auto entry = reinterpret_cast<LakeflowPluginEntryV2>(dlsym(handle, kEntryPoint));
  if (entry == nullptr) {
    if (const int version = other_abi(handle); version != 0) {
      throw PluginError(
          path, PluginError::Reason::kIncompatible,
          version > LAKEFLOW_PLUGIN_ABI_VERSION
              ? fmt::format("plugin '{}' uses plugin ABI v{}, newer than this lakeflow "
                            "(SDK {}, plugin ABI v{}): upgrade lakeflow, or {}",
                            path, version, sdk_version(), LAKEFLOW_PLUGIN_ABI_VERSION,
                            rebuild_hint())
              : fmt::format("plugin '{}' uses plugin ABI v{}, older than this lakeflow "
                            "(SDK {}, plugin ABI v{}; the connector interface changed): {}",
                            path, version, sdk_version(), LAKEFLOW_PLUGIN_ABI_VERSION,
                            rebuild_hint()));
    }
    throw PluginError(path, PluginError::Reason::kNoEntryPoint,
                      fmt::format("'{}' is not a lakeflow plugin: it has no entry point {}; build "
                                  "it with lakeflow_add_connector() (or see lakeflow/plugin.h)",
                                  path, kEntryPoint));
  }

  ConnectorRegistry staged;
  std::array<char, 1024> error{};
  LakeflowPluginV2 call{};
  call.host_sdk_major = LAKEFLOW_SDK_VERSION_MAJOR;
  call.host_sdk_minor = LAKEFLOW_SDK_VERSION_MINOR;
  call.host_sdk_patch = LAKEFLOW_SDK_VERSION_PATCH;
  call.registry = &staged;
  call.error = error.data();
  call.error_size = error.size();
  const int status = entry(&call);
  const bool compatible =
      plugin_detail::sdk_compatible(LAKEFLOW_SDK_VERSION_MAJOR, LAKEFLOW_SDK_VERSION_MINOR,
                                    call.plugin_sdk_major, call.plugin_sdk_minor);
  if (status == LAKEFLOW_PLUGIN_INCOMPATIBLE || (status == LAKEFLOW_PLUGIN_OK && !compatible)) {
    throw PluginError(
        path, PluginError::Reason::kIncompatible,
        fmt::format(
            "plugin '{}' was built against lakeflow SDK {}.{}.{}; this "
            "lakeflow (SDK {}) loads plugins built against {}: {}",
            path, call.plugin_sdk_major, call.plugin_sdk_minor, call.plugin_sdk_patch,
            sdk_version(),
            LAKEFLOW_SDK_VERSION_MAJOR == 0
                ? fmt::format("{}.{}.x", LAKEFLOW_SDK_VERSION_MAJOR, LAKEFLOW_SDK_VERSION_MINOR)
                : fmt::format("{}.x up to {}.{}", LAKEFLOW_SDK_VERSION_MAJOR,
                              LAKEFLOW_SDK_VERSION_MAJOR, LAKEFLOW_SDK_VERSION_MINOR),
            rebuild_hint()));
  }
  if (status != LAKEFLOW_PLUGIN_OK) {
    throw PluginError(
        path, PluginError::Reason::kFailed,
        fmt::format("plugin '{}' failed to register its connectors (status {}): {}", path, status,
                    error[0] == '\0' ? "no reason given" : error.data()));
  }
  const std::vector<const ConnectorInfo*> connectors = staged.list();
  if (connectors.empty()) {
    throw PluginError(path, PluginError::Reason::kFailed,
                      fmt::format("plugin '{}' registers no connectors: declare them with "
                                  "LAKEFLOW_REGISTER_CONNECTOR in its sources",
                                  path));
  }
  for (const ConnectorInfo* info : connectors) {
    if (const ConnectorInfo* existing = registry.find(info->name)) {
      throw PluginError(
          path, PluginError::Reason::kDuplicate,
          fmt::format("plugin '{}' registers connector '{}', which {}: load only one of them, or "
                      "rename one",
                      path, info->name,
                      existing->origin.empty()
                          ? std::string("is built into lakeflow")
                          : fmt::format("plugin '{}' already registers", existing->origin)));
    }
  }
  for (const ConnectorInfo* info : connectors) {
    ConnectorInfo copy = *info;
    copy.origin = path;
    registry.add(std::move(copy));
  }
  if (process_registry) loaded().insert(path);
}

std::vector<fs::path> plugin_files(std::string_view search_path, std::string_view variable) {
  std::vector<fs::path> files;
  std::size_t at = 0;
  while (at <= search_path.size()) {
    const std::size_t colon = std::min(search_path.find(':', at), search_path.size());
    const std::string entry(search_path.substr(at, colon - at));
    at = colon + 1;
    if (entry.empty()) continue;
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      std::vector<fs::path> in_directory;
      for (const fs::directory_entry& file : fs::directory_iterator(entry, ec)) {
        if (file.path().extension() == ".so" && file.is_regular_file(ec)) {
          in_directory.push_back(file.path());
        }
      }
      std::sort(in_directory.begin(), in_directory.end());
      files.insert(files.end(), in_directory.begin(), in_directory.end());
    } else if (fs::exists(entry, ec)) {
      files.emplace_back(entry);
    } else {
      throw PluginError(entry, PluginError::Reason::kNotFound,
                        fmt::format("'{}' in {} does not exist: give plugin files or directories "
                                    "holding them, separated by ':'",
                                    entry, variable));
    }
  }
  return files;
}

}  // namespace lakeflow
