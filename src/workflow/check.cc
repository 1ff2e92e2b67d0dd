// The check engine: the checklist's items, each with its DESIGN.md tick and its machine checks,
// then what the phase marks claim (✅ verified, in order) and the gates.
#include "workflow/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "util/text.h"
#include "workflow/checks.h"
#include "workflow/markdown.h"

namespace lakeflow::workflow {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kOk = "✅";
constexpr std::string_view kProgress = "🚧";

// The DESIGN.md item that is checklist item `item` (its line starts with one of the item's
// `matches`).
const ProgressItem* find_progress_item(const ProgressPhase& phase, const ChecklistItem& item,
                                       const std::string& name, std::vector<bool>& used) {
  for (const std::string& match : item.matches) {
    const std::string want = normalize_item(with_name(match, name));
    for (std::size_t i = 0; i < phase.items.size(); ++i) {
      if (used[i]) continue;
      if (normalize_item(phase.items[i].text).rfind(want, 0) == 0) {
        used[i] = true;
        return &phase.items[i];
      }
    }
  }
  return nullptr;
}

void mark_na_methods(const std::vector<ChecklistItem>& items, const ProgressPhase& phase,
                     const std::string& name, std::set<std::string>& methods) {
  for (const ChecklistItem& item : items) {
    std::vector<bool> used(phase.items.size(), false);
    const ProgressItem* found = find_progress_item(phase, item, name, used);
    if (found != nullptr && found->tick == Tick::kNotApplicable && !item.method.empty()) {
      methods.insert(item.method);
    }
    mark_na_methods(item.items, phase, name, methods);
  }
}

// An item as its report line names it: the connector's name filled in, no trailing ':', and in an
// out-of-tree project its files named relative to the project (not under sources/NAME/).
std::string item_text(const CheckContext& context, const ChecklistItem& item) {
  std::string text = with_name(item.text, context.name);
  if (context.out_of_tree) {
    const std::string in_tree = "sources/" + context.name + "/";
    for (std::size_t at = text.find(in_tree); at != std::string::npos;
         at = text.find(in_tree, at)) {
      text.erase(at, in_tree.size());
    }
  }
  while (!text.empty() && text.back() == ':') text.pop_back();
  return text;
}

CheckLine evaluate_item(CheckContext& context, int phase, int depth, const ChecklistItem& item,
                        const ProgressItem* found) {
  CheckLine line;
  line.phase = phase;
  line.depth = depth;
  line.item = item_text(context, item);
  if (found != nullptr && found->tick == Tick::kNotApplicable) {
    line.state = ItemState::kNotApplicable;
    line.detail = "n/a: " + found->reason;
    return line;
  }
  std::vector<std::string> details;
  std::string todo;
  bool failed = false;
  bool waiting = false;
  std::vector<std::string> seen;
  for (const std::string& id : item.checks) {
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
    seen.push_back(id);
    const Check* check = find_check(id);
    if (check == nullptr) {
      throw Error(ErrorCode::kInternal, fmt::format("checklist: no check named '{}'", id));
    }
    const CheckResult result = (*check)(context, item);
    details.push_back(result.detail);
    line.error = line.error || result.error;
    if (result.state == ItemState::kFail) {
      if (!failed) todo = result.todo;
      failed = true;
    } else if (result.state == ItemState::kPending) {
      if (!failed && !waiting) todo = result.todo;
      waiting = true;
    }
  }
  const bool ticked = found != nullptr && found->tick == Tick::kDone;
  std::string detail;
  for (const std::string& d : details) detail += (detail.empty() ? "" : "; ") + d;
  if (failed) {
    line.state = ItemState::kFail;
  } else if (waiting) {
    line.state = ItemState::kPending;
  } else if (!ticked) {
    line.state = ItemState::kPending;
    if (!detail.empty()) detail += "; ";
    detail += found == nullptr ? "not in DESIGN.md's checklist" : "not ticked in DESIGN.md";
    todo = found == nullptr
               ? "add the item back (lakeflow new shows the checklist) or mark it 'n/a: <reason>'"
               : "tick it when done, or mark it 'n/a: <reason>'";
  } else {
    line.state = ItemState::kOk;
    if (detail.empty()) detail = "ticked in DESIGN.md (not machine-checkable)";
  }
  line.detail = detail;
  line.todo = todo;
  return line;
}

void evaluate_items(CheckContext& context, int phase, int depth,
                    const std::vector<ChecklistItem>& items, std::vector<bool>& used,
                    std::vector<CheckLine>& lines) {
  const ProgressPhase& progress = context.progress[phase];
  for (const ChecklistItem& item : items) {
    const ProgressItem* found = find_progress_item(progress, item, context.name, used);
    lines.push_back(evaluate_item(context, phase, depth, item, found));
    // Sub-items of an n/a item are n/a too.
    if (found != nullptr && found->tick == Tick::kNotApplicable) {
      for (const ChecklistItem& child : item.items) {
        find_progress_item(progress, child, context.name, used);
        lines.push_back({phase, depth + 1, item_text(context, child), ItemState::kNotApplicable,
                         "n/a with its parent item", "", false});
      }
      continue;
    }
    evaluate_items(context, phase, depth + 1, item.items, used, lines);
  }
}

// Whether an item (or a sub-item) is proven by running the test binary.
bool needs_test_run(const ChecklistItem& item) {
  for (const std::string& id : item.checks) {
    if (id == "conformance_run" || id == "test_class" || id == "full_test_run") return true;
  }
  return std::any_of(item.items.begin(), item.items.end(), needs_test_run);
}

CheckLine gate_line(int phase, const ChecklistPhase& rule, const ProgressGate& gate) {
  CheckLine line{phase, 0, "🚦 GATE: " + rule.gate, ItemState::kPending, "", "", false};
  if (!gate.found) {
    line.state = ItemState::kFail;
    line.detail = "no GATE checkbox in this phase of DESIGN.md";
    line.todo = "add '- [ ] **🚦 GATE: " + rule.gate + "**' with 'Approved-by: pending' under it";
  } else if (gate.ticked) {
    if (gate.approval && approval_complete(*gate.approval)) {
      line.state = ItemState::kOk;
      line.detail = "Approved-by: " + *gate.approval;
    } else {
      line.state = ItemState::kFail;
      line.error = true;
      line.detail = "ticked without an approval";
      line.todo = "put 'Approved-by: <who>, <YYYY-MM-DD>' on the line under the gate, or untick it";
    }
  } else {
    line.detail = gate.approval ? "awaiting approval (Approved-by: " + *gate.approval + ")"
                                : "awaiting approval";
    line.todo = "a reviewer ticks it and writes 'Approved-by: <who>, <YYYY-MM-DD>' under it";
  }
  return line;
}

// A phase marked ✅ is verified, not trusted: everything of it passes (or is n/a) and every
// earlier phase is ✅ too; whatever does not hold is an error.
void verify_claim(int phase, const std::vector<ProgressPhase>& progress,
                  std::vector<CheckLine>& lines) {
  // Verified, not trusted: everything of a phase marked complete passes.
  for (CheckLine& line : lines) {
    if (line.state == ItemState::kOk || line.state == ItemState::kNotApplicable) continue;
    line.error = true;
    line.state = ItemState::kFail;
    if (line.todo.empty()) line.todo = "finish it, or mark the phase 🚧 until it is";
    line.detail += " (the phase is marked ✅)";
  }
  std::vector<std::string> open_before;
  for (int earlier = 0; earlier < phase; ++earlier) {
    if (progress[earlier].claimed != kOk) {
      open_before.push_back(fmt::format("Phase {}", earlier));
    }
  }
  if (!open_before.empty()) {
    std::string list;
    for (const std::string& p : open_before) list += (list.empty() ? "" : ", ") + p;
    lines.push_back({phase, 0, "phase order", ItemState::kFail,
                     "marked ✅ while an earlier phase is not: " + list,
                     "complete the phases in order; mark this one 🚧 until then", true});
  }
}

}  // namespace

fs::path repository_root() {
  std::error_code ec;
  const fs::path dir = fs::current_path(ec);
  for (fs::path candidate = dir; !candidate.empty(); candidate = candidate.parent_path()) {
    if (fs::is_directory(candidate / "sources", ec) &&
        fs::exists(candidate / "CMakeLists.txt", ec)) {
      return candidate;
    }
    if (candidate == candidate.parent_path()) break;
  }
  return {};
}

fs::path workflow_root(const std::string& root) {
  if (!root.empty()) return fs::path(root);
  const fs::path found = repository_root();
  if (!found.empty()) return found;
  std::error_code ec;
  return fs::current_path(ec);
}

std::string project_connector_name(const fs::path& project) {
  std::error_code ec;
  if (!fs::is_directory(project, ec)) {
    throw ConfigError(fmt::format(
        "no connector project at '{}': give the directory `lakeflow new NAME --out-of-tree DIR` "
        "created",
        project.string()));
  }
  const fs::path cmake = project / "CMakeLists.txt";
  const std::optional<std::string> text = files::read_file_if_exists(cmake);
  if (!text) {
    throw ConfigError(
        fmt::format("'{}' is not a connector project: it has no CMakeLists.txt (`lakeflow new NAME "
                    "--out-of-tree DIR` creates one)",
                    project.string()));
  }
  // The first call outside a comment that names a connector.
  constexpr std::string_view kCall = "lakeflow_add_connector(";
  for (const std::string& line : text_lines(*text)) {
    const std::string_view code = std::string_view(line).substr(0, line.find('#'));
    for (std::size_t at = code.find(kCall); at != std::string_view::npos;
         at = code.find(kCall, at + 1)) {
      const std::string_view rest = text::trim(code.substr(at + kCall.size()));
      std::size_t end = 0;
      while (end < rest.size() &&
             (std::islower(static_cast<unsigned char>(rest[end])) ||
              std::isdigit(static_cast<unsigned char>(rest[end])) || rest[end] == '_')) {
        ++end;
      }
      if (end > 0) return std::string(rest.substr(0, end));
    }
  }
  throw ConfigError(fmt::format(
      "'{}' names no connector: a connector project builds it with lakeflow_add_connector(NAME "
      "SOURCES ... TESTS ...)",
      cmake.string()));
}

std::vector<std::string> connector_names(const fs::path& root) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / "sources", ec)) {
    if (!entry.is_directory()) continue;
    if (fs::exists(entry.path() / "CMakeLists.txt") || fs::exists(entry.path() / "DESIGN.md")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

int ConnectorReport::error_count() const {
  return static_cast<int>(
      std::count_if(lines.begin(), lines.end(), [](const CheckLine& l) { return l.error; }));
}

bool ConnectorReport::phase_has_error(int phase) const {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const CheckLine& l) { return l.phase == phase && l.error; });
}

ConnectorReport check_connector(const CheckOptions& options, const std::string& name) {
  const fs::path folder = options.root / "sources" / name;
  std::error_code ec;
  if (options.project.empty() && (name.empty() || name.find('/') != std::string::npos ||
                                  name == "." || name == ".." || !fs::is_directory(folder, ec))) {
    std::string known;
    for (const std::string& n : connector_names(options.root))
      known += (known.empty() ? "" : ", ") + n;
    throw ConfigError(
        fmt::format("no connector '{}' under '{}' (connectors: {}); check the name or pass --root",
                    name, (options.root / "sources").string(), known.empty() ? "none" : known));
  }
  const Checklist& checklist = Checklist::standard();
  CheckContext context(checklist, options, name);
  ConnectorReport report;
  report.name = name;
  const int phases = static_cast<int>(checklist.phases.size());
  // The phases whose proof is a test run: Phase 3 (conformance) and the final run of Phase 5.
  context.run_tests = options.run_tests;
  for (int phase = 0; phase < phases; ++phase) {
    const ChecklistPhase& rule = checklist.phases[phase];
    mark_na_methods(rule.items, context.progress[phase], name, context.na_methods);
    if (context.progress[phase].claimed != kOk) continue;
    for (const ChecklistItem& item : rule.items) {
      const bool needs_run = needs_test_run(item);
      context.run_tests = context.run_tests || needs_run;
    }
  }

  for (int phase = 0; phase < phases; ++phase) {
    const ChecklistPhase& rule = checklist.phases[phase];
    const ProgressPhase& progress = context.progress[phase];
    PhaseStatus status{phase, rule.title, progress.claimed,
                       progress.gate.found && !progress.gate.ticked};
    report.phases.push_back(status);
    std::vector<CheckLine> lines;
    std::vector<bool> used(progress.items.size(), false);
    evaluate_items(context, phase, 0, rule.items, used, lines);
    // The author's own items: open ones are work left.
    for (std::size_t i = 0; i < progress.items.size(); ++i) {
      if (used[i] || progress.items[i].tick != Tick::kOpen) continue;
      lines.push_back({phase, 0, progress.items[i].text, ItemState::kPending,
                       fmt::format("open (DESIGN.md line {})", progress.items[i].line),
                       "tick it when done, or mark it 'n/a: <reason>'", false});
    }
    lines.push_back(gate_line(phase, rule, progress.gate));
    if (!context.design) {
      lines.back() = {phase,
                      0,
                      "🚦 GATE: " + rule.gate,
                      ItemState::kPending,
                      "no DESIGN.md",
                      "create it with lakeflow new",
                      false};
    }
    if (progress.claimed == kOk) verify_claim(phase, context.progress, lines);
    report.lines.insert(report.lines.end(), lines.begin(), lines.end());
  }
  return report;
}

std::vector<StatusRow> tracking_table(const CheckOptions& options) {
  std::vector<StatusRow> rows;
  for (const std::string& name : connector_names(options.root)) {
    const ConnectorReport report = check_connector(options, name);
    StatusRow row;
    row.name = name;
    int first_open = -1;
    int pending_gates = 0;
    for (const PhaseStatus& phase : report.phases) {
      std::string cell = phase.claimed == "?" ? std::string("⏳") : phase.claimed;
      if (report.phase_has_error(phase.number)) cell = "❌";
      if (first_open < 0 && cell != kOk) first_open = phase.number;
      if (phase.gate_pending) ++pending_gates;
      row.phases.push_back(cell);
    }
    if (report.error_count() > 0) {
      row.status = fmt::format("{} error(s): run `lakeflow check {}`", report.error_count(), name);
    } else if (first_open < 0) {
      row.status = "complete";
    } else {
      row.status = fmt::format("Phase {} {}", first_open,
                               row.phases[first_open] == kProgress ? "in progress" : "next");
      if (pending_gates > 0)
        row.status += fmt::format("; {} gate(s) await approval", pending_gates);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace lakeflow::workflow
