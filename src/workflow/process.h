// Running a program and collecting what it printed: the workflow runs git (which files it tracks
// or ignores) and a connector's test binary (what proves Phase 3).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lakeflow::workflow {

struct ProcessOutput {
  int status = -1;    // the exit status; 128 + N when killed by signal N; -1 when it did not start
  std::string out;    // standard output
  std::string error;  // why it did not start (empty when it did)
};

// Runs `argv` (argv[0] looked up in PATH) in `directory` (empty: the current one) with the
// environment of this process plus `environment` (NAME, VALUE pairs, replacing same names).
// Standard output is captured; standard error is discarded unless `keep_stderr`. Never throws for
// a failure of the program itself.
ProcessOutput run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& directory = {},
                          const std::vector<std::pair<std::string, std::string>>& environment = {},
                          bool keep_stderr = false);

}  // namespace lakeflow::workflow
