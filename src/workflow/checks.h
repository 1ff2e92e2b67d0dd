// The machine checks the checklist names (checklist.yaml, `checks:`), and what they read: one
// CheckContext per connector, loaded once and shared by every check.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector_spec.h"
#include "workflow/check.h"
#include "workflow/checklist.h"
#include "workflow/cpp_source.h"
#include "workflow/folder_files.h"
#include "workflow/markdown.h"
#include "workflow/test_run.h"

namespace lakeflow::workflow {

struct SourceFile {
  std::string path;  // relative to the connector folder
  CppSource source;
};

struct CheckContext {
  CheckContext(const Checklist& checklist, const CheckOptions& options, std::string name);

  const Checklist& checklist;
  CheckOptions options;
  std::string name;
  std::filesystem::path folder;  // ROOT/sources/NAME, or the out-of-tree project
  std::string where;             // the folder in messages: "sources/NAME/" or the project's path
  bool out_of_tree = false;      // an out-of-tree project (options.project)
  std::optional<std::string> design, api_doc, readme;
  std::vector<ProgressPhase> progress;
  std::vector<SourceFile> sources;  // the connector's .h/.cc files outside test/
  std::vector<SourceFile> tests;    // the .h/.cc files under test/
  std::optional<ConnectorSpec> spec;
  std::string spec_problem;
  std::set<std::string> na_methods;  // methods whose checklist item is marked n/a
  bool run_tests = false;            // whether the test binary runs (options, or a ✅ claim)

  const FolderFiles& files();  // listed on first use
  const TestRun& test_run();   // run on first use (only when run_tests)

 private:
  std::optional<FolderFiles> files_;
  std::optional<TestRun> test_run_;
};

struct CheckResult {
  ItemState state = ItemState::kPending;
  std::string detail;
  std::string todo;
  bool error = false;  // an error whatever the phase's mark (a leaked credential, ...)
};

using Check = std::function<CheckResult(CheckContext&, const ChecklistItem&)>;

// The check named `id`, or nullptr.
const Check* find_check(std::string_view id);

}  // namespace lakeflow::workflow
