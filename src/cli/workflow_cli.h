// The workflow commands on the CLI: `new`, `check` (of connectors under sources/, or of an
// out-of-tree project with --project DIR), `status` and `connection create|list|test`.
// Arguments are parsed here and the results printed; the rules live in src/workflow/.
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>
#include <vector>

#include "workflow/connection_tool.h"
#include "workflow/scaffold.h"

namespace lakeflow::cli {

class WorkflowCommands {
 public:
  // Adds the subcommands to `app`; keep this object alive (and in place) while `app` parses.
  explicit WorkflowCommands(CLI::App& app);
  WorkflowCommands(const WorkflowCommands&) = delete;
  WorkflowCommands& operator=(const WorkflowCommands&) = delete;

  // Whether one of the workflow commands was parsed.
  bool parsed() const;
  // Whether the parsed command builds connectors (plugins must be loaded first).
  bool needs_connectors() const;
  // Runs the parsed command; returns its exit status. Throws lakeflow::Error.
  int run(std::ostream& out, std::ostream& err) const;

 private:
  // One function per subcommand: its options, bound to the fields below.
  void add_new(CLI::App& app);
  void add_check(CLI::App& app);
  void add_status(CLI::App& app);
  void add_connection(CLI::App& app);
  void add_connection_create(CLI::App& connection);
  void add_connection_list(CLI::App& connection);
  void add_connection_test(CLI::App& connection);

  int run_check(std::ostream& out) const;
  void run_status(std::ostream& out) const;
  int run_connection(std::ostream& out, std::ostream& err) const;

  CLI::App* new_ = nullptr;
  CLI::App* check_ = nullptr;
  CLI::App* status_ = nullptr;
  CLI::App* connection_ = nullptr;
  CLI::App* create_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* test_ = nullptr;
  workflow::NewArgs new_args_;
  std::string tables_;
  std::vector<std::string> check_names_;
  bool check_all_ = false;
  std::string project_;
  bool json_ = false;
  bool run_tests_ = false;
  bool markdown_ = false;
  std::string root_;
  std::string build_;
  workflow::CreateConnectionArgs create_args_;
  std::string connections_;
  std::string spec_;
  std::string connection_name_;
};

}  // namespace lakeflow::cli
