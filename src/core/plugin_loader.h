// The host side of lakeflow/plugin.h: finds plugin files and loads them into a registry.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/registry.h"

namespace lakeflow {

// A plugin that cannot be used. A ConfigError (exit status 2): the file is what the user gave.
class PluginError : public ConfigError {
 public:
  enum class Reason {
    kNotFound,      // the path names nothing
    kNotLoadable,   // dlopen failed: not a shared object, a missing library, an undefined symbol
    kNoEntryPoint,  // a shared object without lakeflow_plugin_v2
    kIncompatible,  // built against another SDK major version (or plugin ABI)
    kFailed,        // the entry point failed, or registered nothing
    kDuplicate,     // a connector name that is already registered
  };
  PluginError(std::string file, Reason reason, std::string message);
  const std::string& file() const { return file_; }
  Reason reason() const { return reason_; }

 private:
  std::string file_;
  Reason reason_;
};

// Loads the plugin `file` and adds its connectors to `registry`, each with `origin` set to the
// file's absolute path; all of them or none. The shared object stays loaded until the process
// exits. Loading the same file into the process's registry (ConnectorRegistry::instance()) twice
// adds nothing the second time. Throws PluginError.
void load_plugin(const std::filesystem::path& file, ConnectorRegistry& registry);

// The plugin files of a LAKEFLOW_PLUGIN_PATH-style list: colon-separated files or directories,
// a directory standing for every `*.so` file in it (sorted by name; subdirectories are not
// searched). Empty entries are skipped. `variable` names the list in messages. Throws PluginError
// (kNotFound) for an entry that does not exist.
std::vector<std::filesystem::path> plugin_files(std::string_view search_path,
                                                std::string_view variable);

}  // namespace lakeflow
