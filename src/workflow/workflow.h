// The connector development workflow as commands (the seed checklist of DESIGN.md made
// machine-checked): `lakeflow new` scaffolds sources/NAME/ from templates/, `lakeflow check`
// evaluates every checklist item a machine can check, `lakeflow status` prints the tracking table.
// Errors are thrown as lakeflow::Error; `check` reports failed items in its output instead.
#pragma once

#include <array>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace lakeflow::cli {

// The repository root: `root` when given, else the nearest directory at or above the current one
// holding sources/ and CMakeLists.txt (the current directory when there is none).
std::filesystem::path workflow_root(const std::string& root);

struct NewArgs {
  std::string name;                 // [a-z][a-z0-9_]*
  std::vector<std::string> tables;  // optional, each [a-z][a-z0-9_]*
  std::string root;                 // empty: workflow_root("")
  std::string out_of_tree;          // a directory: scaffold a standalone project there
};

// Writes sources/NAME/ from ROOT/templates/connector/, replacing {{name}}, {{Name}},
// {{tables_cpp}} and {{tables_md}} in file names and contents; prints the files written.
// With `out_of_tree`, writes a standalone plugin project to that directory instead: the same
// files, with templates/out-of-tree/ laid over them (a CMakeLists.txt using the installed SDK),
// from the templates installed beside the `lakeflow` executable (<prefix>/share/lakeflow) or
// else those of the repository.
// Throws ConfigError for a bad name, an existing connector or directory, or missing templates.
void new_connector(const NewArgs& args, std::ostream& out);

enum class ItemState { kOk, kFail, kPending };

struct CheckItem {
  int phase = 0;
  std::string item;
  ItemState state = ItemState::kPending;
  std::string reason;
  bool error = false;  // makes `check` exit nonzero
};

struct ConnectorReport {
  std::string name;
  // Each phase's status as DESIGN.md marks it: one of ✅ ⏳ 🚧 ❌, or "?" when unmarked.
  std::array<std::string, 6> claimed;
  std::vector<CheckItem> items;

  int error_count() const;
  bool phase_has_error(int phase) const;
};

// Every folder under ROOT/sources/ holding a CMakeLists.txt or DESIGN.md, sorted.
std::vector<std::string> connector_names(const std::filesystem::path& root);

// Evaluates the checklist of sources/NAME/. Throws ConfigError when the folder does not exist.
ConnectorReport check_connector(const std::filesystem::path& root, const std::string& name);

struct CheckArgs {
  std::vector<std::string> names;
  bool all = false;
  bool json = false;
  std::string root;
};

// Prints the reports; returns the exit status (0 when no connector has an error, else 1).
int run_check(const CheckArgs& args, std::ostream& out);

// The tracking table (Connector | Phase 0 ... Phase 5 | Status) of every connector.
void print_status(const std::string& root, bool markdown, std::ostream& out);

}  // namespace lakeflow::cli
