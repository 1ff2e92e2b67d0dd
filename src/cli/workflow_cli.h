// Registers the workflow commands (`new`, `check`, `status`; see workflow.h) on the CLI.
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>

#include "workflow/workflow.h"

namespace lakeflow::cli {

class WorkflowCommands {
 public:
  // Adds the subcommands to `app`; keep this object alive (and in place) while `app` parses.
  explicit WorkflowCommands(CLI::App& app);
  WorkflowCommands(const WorkflowCommands&) = delete;
  WorkflowCommands& operator=(const WorkflowCommands&) = delete;

  // Whether one of the workflow commands was parsed.
  bool parsed() const;
  // Runs the parsed command; returns its exit status. Throws lakeflow::Error.
  int run(std::ostream& out) const;

 private:
  CLI::App* new_ = nullptr;
  CLI::App* check_ = nullptr;
  CLI::App* status_ = nullptr;
  NewArgs new_args_;
  std::string tables_;
  CheckArgs check_args_;
  std::string status_root_;
  bool markdown_ = false;
};

}  // namespace lakeflow::cli
