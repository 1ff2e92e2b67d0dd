// Shared by the end-to-end tests that run an examples/*_pipeline.yaml as a user runs it and check
// that DuckDB reads every landed table as `lakeflow show` prints it.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "support/node.h"
#include "support/subprocess.h"

namespace lakeflow::test_support {

// The lines of `text` (each ended by '\n') as a multiset: a table's rows in any order.
inline std::multiset<std::string> lines(const std::string& text) {
  std::multiset<std::string> out;
  std::size_t at = 0;
  for (std::size_t end = text.find('\n'); end != std::string::npos;
       at = end + 1, end = text.find('\n', at)) {
    out.insert(text.substr(at, end - at));
  }
  return out;
}

// Copies examples/connections.yaml and examples/`pipeline_file` into `dir` (the pipeline landing
// under `dir`/data) and returns the pipeline spec's path.
inline std::string copy_example_pipeline(const TempDir& dir, const std::string& pipeline_file) {
  const std::filesystem::path examples = std::filesystem::path(LAKEFLOW_REPO_DIR) / "examples";
  dir.write("connections.yaml", slurp((examples / "connections.yaml").string()));
  return dir.write("pipeline.yaml",
                   "destination_root: data\n" + slurp((examples / pipeline_file).string()));
}

// The rows DuckDB reads from the Delta table at `table`, after checking they are the rows
// `lakeflow show` prints (`lakeflow` runs the CLI with the test's environment). Empty, with a test
// failure recorded, when either command fails.
inline std::multiset<std::string> expect_duckdb_reads_as_shown(
    const std::function<ProcessResult(std::vector<std::string>)>& lakeflow,
    const std::string& table) {
  const ProcessResult show = lakeflow({"show", table, "--limit", "1000000"});
  EXPECT_EQ(show.status, 0) << table << ": " << show.err;
  const ProcessResult duck = run_process({find_node(), kReadDelta, table});
  EXPECT_EQ(duck.status, 0) << table << ": " << duck.err;
  if (show.status != 0 || duck.status != 0) return {};
  EXPECT_EQ(lines(duck.out), lines(show.out)) << table << "\nDuckDB:\n"
                                              << duck.out << "\nshow:\n"
                                              << show.out;
  return lines(duck.out);
}

}  // namespace lakeflow::test_support
