// `lakeflow check` and `lakeflow status`: a connector evaluated against the development
// checklist (checklist.h). Every checklist item becomes one line: the machine checks that prove
// it (checks.cc) and its tick in DESIGN.md. A phase DESIGN.md marks ✅ is verified, not trusted:
// every item of it must pass or be marked "n/a: reason", its gate must carry an approval, every
// earlier phase must be ✅ too, and the phases whose proof is a test run (3 and 5) run the
// connector's test binary.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace lakeflow::workflow {

// The nearest directory at or above the current one holding sources/ and CMakeLists.txt (a
// lakeflow repository); empty when there is none.
std::filesystem::path repository_root();

// The repository root: `root` when given, else the nearest directory at or above the current one
// holding sources/ and CMakeLists.txt (the current directory when there is none).
std::filesystem::path workflow_root(const std::string& root);

// The connector an out-of-tree project builds (`lakeflow new NAME --out-of-tree DIR`): the NAME of
// `lakeflow_add_connector(NAME ...)` in DIR/CMakeLists.txt. Throws ConfigError when DIR is not
// such a project.
std::string project_connector_name(const std::filesystem::path& project);

// Every folder under ROOT/sources/ holding a CMakeLists.txt or DESIGN.md, sorted.
std::vector<std::string> connector_names(const std::filesystem::path& root);

enum class ItemState { kOk, kFail, kPending, kNotApplicable };

struct CheckLine {
  int phase = 0;
  int depth = 0;     // 0 for an item, 1 for a sub-item
  std::string item;  // the checklist item (or "🚦 GATE: ...", or a phase-level finding)
  ItemState state = ItemState::kPending;
  std::string detail;  // what was found
  std::string todo;    // for kFail and kPending: what to do
  bool error = false;  // makes `check` exit nonzero
};

struct PhaseStatus {
  int number = 0;
  std::string title;
  std::string claimed = "?";  // ✅ ⏳ 🚧 ❌ as DESIGN.md marks it, "?" when unmarked
  bool gate_pending = false;  // the gate awaits its approval
};

struct ConnectorReport {
  std::string name;
  std::vector<PhaseStatus> phases;
  std::vector<CheckLine> lines;  // by phase, in checklist order

  int error_count() const;
  bool phase_has_error(int phase) const;
};

struct CheckOptions {
  std::filesystem::path root;
  std::filesystem::path build_dir;  // where the connector's test binary is built
  // An out-of-tree connector project to check instead of a folder under ROOT/sources: the
  // project's directory holds the connector's files, and build_dir is the project's build (its
  // plugin lakeflow_NAME.so, loaded to run the connector, and its test binary).
  std::filesystem::path project;
  // Run the test binary even when no phase marked ✅ needs it.
  bool run_tests = false;
};

// Evaluates sources/NAME, or with options.project that project (NAME being its connector). Throws
// ConfigError when the folder does not exist.
ConnectorReport check_connector(const CheckOptions& options, const std::string& name);

struct StatusRow {
  std::string name;
  std::vector<std::string> phases;  // one mark per phase: DESIGN.md's, ❌ when that phase fails
  std::string status;               // "Phase 2 next; 3 gate(s) await approval", ...
};

// The tracking table of every connector under ROOT/sources: each checked as `check` does
// (running a test binary where a phase marked ✅ needs one).
std::vector<StatusRow> tracking_table(const CheckOptions& options);

}  // namespace lakeflow::workflow
