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

// The offsets committed with `table`, read from the JSON commits as another tool would: the
// `lakeflow.offsets` domain of the last commit that has one (or, for a table written before it,
// metaData configuration lakeflow.offset and lakeflow.deletesOffset), "" when none.
struct CommittedOffsets {
  std::string offset;
  std::string deletes_offset;
};
inline CommittedOffsets committed_offsets(const std::filesystem::path& table) {
  namespace fs = std::filesystem;
  CommittedOffsets out;
  std::set<std::string> commits;  // sorted: names are zero-padded versions
  for (const auto& entry : fs::directory_iterator(table / "_delta_log")) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 25 && name.ends_with(".json")) commits.insert(entry.path().string());
  }
  for (const std::string& commit : commits) {
    const std::string text = slurp(commit);
    std::size_t at = 0;
    for (std::size_t end = text.find('\n'); end != std::string::npos;
         at = end + 1, end = text.find('\n', at)) {
      const JsonValue action = JsonValue::parse(text.substr(at, end - at));
      if (const JsonValue* domain = action.find("domainMetadata")) {
        if (domain->find("domain")->as_string() != "lakeflow.offsets") continue;
        const JsonValue config = JsonValue::parse(domain->find("configuration")->as_string());
        const JsonValue* offset = config.find("offset");
        const JsonValue* deletes = config.find("deletesOffset");
        out.offset = offset ? offset->dump() : "";
        out.deletes_offset = deletes ? deletes->dump() : "";
        continue;
      }
      const JsonValue* metadata = action.find("metaData");
      if (metadata == nullptr) continue;
      const JsonValue* configuration = metadata->find("configuration");
      const JsonValue* offset = configuration ? configuration->find("lakeflow.offset") : nullptr;
      const JsonValue* deletes =
          configuration ? configuration->find("lakeflow.deletesOffset") : nullptr;
      if (offset == nullptr) continue;  // migrated, or a table without offsets
      out.offset = offset->as_string();
      out.deletes_offset = deletes ? deletes->as_string() : "";
    }
  }
  return out;
}

}  // namespace lakeflow::test_support
