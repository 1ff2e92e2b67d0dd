// What a Delta table's directory holds beside its log, read from the log's JSON commits directly
// (not through lakeflow's DeltaLog), for end-to-end tests of files left behind.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "lakeflow/json.h"
#include "support/subprocess.h"

namespace lakeflow::test_support {

// The files in `table` (not in subdirectories) that no commit of its `_delta_log` adds, by name;
// hidden ones (writers' temporaries) only with `hidden`.
inline std::set<std::string> unreferenced_files(const std::filesystem::path& table, bool hidden) {
  namespace fs = std::filesystem;
  std::set<std::string> added;
  for (const auto& entry : fs::directory_iterator(table / "_delta_log")) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 25 || !name.ends_with(".json")) continue;
    const std::string text = slurp(entry.path().string());
    std::size_t at = 0;
    for (std::size_t end = text.find('\n'); end != std::string::npos;
         at = end + 1, end = text.find('\n', at)) {
      const JsonValue action = JsonValue::parse(text.substr(at, end - at));
      if (const JsonValue* add = action.find("add")) added.insert(add->find("path")->as_string());
    }
  }
  std::set<std::string> out;
  for (const auto& entry : fs::directory_iterator(table)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || (!hidden && name.starts_with('.'))) continue;
    if (added.count(name) == 0) out.insert(name);
  }
  return out;
}

}  // namespace lakeflow::test_support
