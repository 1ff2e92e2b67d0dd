// Command-line wiring and printing of `lakeflow new`, `check`, `status` and `connection`.
#include "cli/workflow_cli.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ostream>
#include <string>

#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "pipeline/connections.h"
#include "workflow/check.h"
#include "workflow/checklist.h"

namespace lakeflow::cli {
namespace {

using workflow::CheckLine;
using workflow::ConnectorReport;
using workflow::ItemState;

std::string_view symbol(ItemState state) {
  switch (state) {
    case ItemState::kOk:
    case ItemState::kNotApplicable:
      return "✅";
    case ItemState::kFail:
      return "❌";
    case ItemState::kPending:
      break;
  }
  return "⏳";
}

std::string_view state_name(ItemState state) {
  switch (state) {
    case ItemState::kOk:
      return "ok";
    case ItemState::kFail:
      return "fail";
    case ItemState::kNotApplicable:
      return "n/a";
    case ItemState::kPending:
      break;
  }
  return "pending";
}

void add_root(CLI::App& command, std::string& root) {
  command.add_option("--root", root, "Repository root (default: found from the current directory)")
      ->type_name("DIR");
}

void add_build(CLI::App& command, std::string& build) {
  command
      .add_option("--build", build,
                  "Build directory holding the connectors' test binaries (default: ROOT/build)")
      ->type_name("DIR");
}

workflow::CheckOptions check_options(const std::string& root, const std::string& build,
                                     bool run_tests) {
  workflow::CheckOptions options;
  options.root = workflow::workflow_root(root);
  options.build_dir = build.empty() ? options.root / "build" : std::filesystem::path(build);
  options.run_tests = run_tests;
  return options;
}

std::string report_text(const ConnectorReport& report) {
  std::string text = report.name + "\n";
  for (const workflow::PhaseStatus& phase : report.phases) {
    text +=
        fmt::format("  Phase {}: {} (DESIGN.md: {})\n", phase.number, phase.title, phase.claimed);
    for (const CheckLine& line : report.lines) {
      if (line.phase != phase.number) continue;
      text += fmt::format("    {}{} {}: {}", std::string(2 * line.depth, ' '), symbol(line.state),
                          line.item, line.detail);
      if (line.state == ItemState::kFail && !line.todo.empty()) text += " → " + line.todo;
      text += line.error ? "  [ERROR]\n" : "\n";
    }
  }
  text += report.error_count() == 0
              ? fmt::format("  {}: no errors\n", report.name)
              : fmt::format("  {}: {} error(s)\n", report.name, report.error_count());
  return text;
}

JsonValue report_json(const ConnectorReport& report) {
  JsonValue::Array phases;
  for (const workflow::PhaseStatus& phase : report.phases) {
    JsonValue::Array items;
    for (const CheckLine& line : report.lines) {
      if (line.phase != phase.number) continue;
      JsonValue::Object item;
      item["item"] = JsonValue(line.item);
      item["depth"] = JsonValue(line.depth);
      item["state"] = JsonValue(state_name(line.state));
      item["symbol"] = JsonValue(symbol(line.state));
      item["detail"] = JsonValue(line.detail);
      item["todo"] = JsonValue(line.todo);
      item["error"] = JsonValue(line.error);
      items.emplace_back(std::move(item));
    }
    JsonValue::Object p;
    p["phase"] = JsonValue(phase.number);
    p["title"] = JsonValue(phase.title);
    p["claimed"] = JsonValue(phase.claimed);
    p["items"] = JsonValue(std::move(items));
    phases.emplace_back(std::move(p));
  }
  JsonValue::Object connector;
  connector["name"] = JsonValue(report.name);
  connector["errors"] = JsonValue(report.error_count());
  connector["phases"] = JsonValue(std::move(phases));
  return JsonValue(std::move(connector));
}

// Terminal cells of `s`: each emoji counts as two.
std::size_t width(const std::string& s) {
  std::size_t cells = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++cells;
    } else if (c >= 0xF0 || c == 0xE2) {
      cells += 2;
    }
  }
  return cells;
}

std::vector<std::string> split_tables(const std::string& tables) {
  std::vector<std::string> result;
  std::string rest = tables;
  while (!rest.empty()) {
    const std::string::size_type comma = rest.find(',');
    const std::string table = rest.substr(0, comma);
    if (table.empty() || (comma != std::string::npos && comma + 1 == rest.size())) {
      throw ConfigError("--tables expects comma-separated names (e.g. --tables users,orders)");
    }
    result.push_back(table);
    if (comma == std::string::npos) break;
    rest.erase(0, comma + 1);
  }
  return result;
}

std::filesystem::path connections_file(const std::string& flag) {
  return pipeline::connections_path(
      flag.empty() ? std::nullopt : std::optional<std::filesystem::path>(flag), std::nullopt);
}

}  // namespace

WorkflowCommands::WorkflowCommands(CLI::App& app) {
  add_new(app);
  add_check(app);
  add_status(app);
  add_connection(app);
}

void WorkflowCommands::add_new(CLI::App& app) {
  new_ = app.add_subcommand(
      "new",
      "Create sources/NAME/ from templates/connector/: DESIGN.md with the development checklist,\n"
      "the API doc and README templates, a connector whose methods throw NotImplementedError,\n"
      "its conformance test and configs/dev_config.json (git-ignored, `{}`). Refuses to\n"
      "overwrite an existing connector. Needs only the `lakeflow` binary (make cli).");
  new_->add_option("name", new_args_.name, "Connector name: [a-z][a-z0-9_]*")
      ->required()
      ->type_name("NAME");
  new_->add_option("--tables", tables_, "Comma-separated table names the connector will serve")
      ->type_name("A,B");
  new_->add_option("--out-of-tree", new_args_.out_of_tree,
                   "Create a standalone plugin project in DIR instead (built with the installed "
                   "SDK: find_package(Lakeflow), lakeflow_add_connector)")
      ->type_name("DIR");
  add_root(*new_, new_args_.root);
}

void WorkflowCommands::add_check(CLI::App& app) {
  check_ = app.add_subcommand(
      "check",
      "Evaluate a connector against the development checklist: one line per item, ✅ passes,\n"
      "❌ fails (with what to do), ⏳ open. A phase DESIGN.md marks ✅ is verified: every item\n"
      "passes or is marked 'n/a: reason', its gate has an Approved-by line, every earlier phase\n"
      "is ✅, and Phases 3 and 5 run the connector's test binary. Errors (exit 1): such a claim\n"
      "that does not hold, a gate ticked without approval, a credential in any file of the\n"
      "folder, a test config git does not ignore.");
  check_->add_option("names", check_names_, "Connector names")->type_name("NAME");
  check_->add_flag("--all", check_all_, "Check every connector under sources/");
  check_
      ->add_option("--project", project_,
                   "Check the out-of-tree connector project in DIR (`lakeflow new NAME "
                   "--out-of-tree DIR`) instead: its documents, connector_spec.yaml, configs, "
                   "its plugin and test binary as built in DIR/build (or --build)")
      ->type_name("DIR");
  check_->add_flag("--json", json_, "Print the report as JSON (for CI)");
  check_->add_flag("--run-tests", run_tests_,
                   "Run the conformance test binary even when no phase marked ✅ needs it");
  add_root(*check_, root_);
  add_build(*check_, build_);
}

void WorkflowCommands::add_status(CLI::App& app) {
  status_ = app.add_subcommand(
      "status",
      "Print the tracking table (Connector | Phase 0 ... Phase 5 | Status) from each\n"
      "connector's DESIGN.md, verified as `lakeflow check` does (a failing phase shows ❌).");
  status_->add_flag("--markdown", markdown_, "Print a Markdown table");
  add_root(*status_, root_);
  add_build(*status_, build_);
}

void WorkflowCommands::add_connection(CLI::App& app) {
  connection_ = app.add_subcommand(
      "connection",
      "Manage named connections in the connections file (default: $LAKEFLOW_CONNECTIONS, else\n"
      "$XDG_CONFIG_HOME/lakeflow/connections.yaml, else ~/.config/lakeflow/connections.yaml).");
  connection_->require_subcommand(1);
  add_connection_create(*connection_);
  add_connection_list(*connection_);
  add_connection_test(*connection_);
}

void WorkflowCommands::add_connection_create(CLI::App& connection) {
  create_ = connection.add_subcommand(
      "create",
      "Add or replace connection NAME: options validated against the connector's\n"
      "connector_spec.yaml (parameters, required ones, the auth method they select, the\n"
      "external options allowlist); secrets only as ${env:VAR} or ${file:PATH} references.");
  create_->add_option("name", create_args_.name, "Connection name")->required()->type_name("NAME");
  create_->add_option("-c,--connector", create_args_.connector, "Connector name")
      ->required()
      ->type_name("CONNECTOR");
  create_
      ->add_option("-o,--options", create_args_.options_json,
                   "Parameter values as a JSON object, e.g. '{\"base_url\": \"https://...\", "
                   "\"token\": \"${env:FHIR_TOKEN}\"}'")
      ->type_name("JSON");
  create_->add_flag("--from-env", create_args_.from_env,
                    "Take parameters not in -o from variables NAME_PARAMETER (upper case; "
                    "secrets written as ${env:NAME_PARAMETER})");
  create_->add_option("--connections", connections_, "The connections file to write")
      ->type_name("FILE");
  create_
      ->add_option("--spec", spec_,
                   "The connector's connector_spec.yaml (default: "
                   "ROOT/sources/CONNECTOR/connector_spec.yaml in a repository, else the spec "
                   "built into the connector)")
      ->type_name("FILE");
  add_root(*create_, root_);
}

void WorkflowCommands::add_connection_list(CLI::App& connection) {
  list_ = connection.add_subcommand("list", "List the connections of the connections file");
  list_->add_option("--connections", connections_, "The connections file")->type_name("FILE");
  list_->add_flag("--json", json_, "Print a JSON array");
}

void WorkflowCommands::add_connection_test(CLI::App& connection) {
  test_ = connection.add_subcommand(
      "test",
      "Build connection NAME's connector and make its cheapest calls: list_tables, then the\n"
      "first batch of the first table's read.");
  test_->add_option("name", connection_name_, "Connection name")->required()->type_name("NAME");
  test_->add_option("--connections", connections_, "The connections file")->type_name("FILE");
}

bool WorkflowCommands::parsed() const {
  return new_->parsed() || check_->parsed() || status_->parsed() || connection_->parsed();
}

// `connection create` without --spec may take the spec built into a connector, a plugin's too.
bool WorkflowCommands::needs_connectors() const {
  return test_->parsed() || (create_->parsed() && spec_.empty());
}

int WorkflowCommands::run(std::ostream& out, std::ostream& err) const {
  if (new_->parsed()) {
    workflow::NewArgs args = new_args_;
    args.tables = split_tables(tables_);
    workflow::new_connector(args, out);
    return 0;
  }
  if (check_->parsed()) return run_check(out);
  if (status_->parsed()) {
    run_status(out);
    return 0;
  }
  return run_connection(out, err);
}

int WorkflowCommands::run_check(std::ostream& out) const {
  if (check_all_ && !check_names_.empty()) {
    throw ConfigError("give connector names or --all, not both");
  }
  workflow::CheckOptions options;
  std::vector<std::string> names = check_names_;
  if (!project_.empty()) {
    if (check_all_ || !check_names_.empty()) {
      throw ConfigError("--project checks the project's connector: give no names and no --all");
    }
    options.project = project_;
    // ROOT only resolves the guide DESIGN.md refers to (also found in the project or the
    // installed SDK).
    options.root = workflow::workflow_root(root_);
    options.build_dir = build_.empty() ? options.project / "build" : std::filesystem::path(build_);
    options.run_tests = run_tests_;
    names = {workflow::project_connector_name(options.project)};
  } else {
    options = check_options(root_, build_, run_tests_);
  }
  if (check_all_) {
    names = workflow::connector_names(options.root);
    if (names.empty()) {
      throw ConfigError(fmt::format("no connectors under '{}'; pass --root to the repository",
                                    (options.root / "sources").string()));
    }
  }
  if (names.empty()) throw ConfigError("name a connector (lakeflow check NAME) or pass --all");
  int errors = 0;
  JsonValue::Array reports;
  std::string text;
  for (const std::string& name : names) {
    const ConnectorReport report = workflow::check_connector(options, name);
    errors += report.error_count();
    if (json_) {
      reports.push_back(report_json(report));
    } else {
      text += report_text(report);
    }
  }
  if (json_) {
    JsonValue::Object all;
    all["connectors"] = JsonValue(std::move(reports));
    all["errors"] = JsonValue(errors);
    text = JsonValue(std::move(all)).dump() + "\n";
  }
  out << text;
  return errors == 0 ? 0 : 1;
}

void WorkflowCommands::run_status(std::ostream& out) const {
  const std::vector<workflow::StatusRow> rows =
      workflow::tracking_table(check_options(root_, build_, false));
  std::vector<std::string> header = {"Connector"};
  for (const workflow::ChecklistPhase& phase : workflow::Checklist::standard().phases) {
    header.push_back(fmt::format("Phase {}", phase.number));
  }
  header.push_back("Status");
  std::vector<std::vector<std::string>> table;
  for (const workflow::StatusRow& row : rows) {
    std::vector<std::string> cells = {row.name};
    cells.insert(cells.end(), row.phases.begin(), row.phases.end());
    cells.push_back(row.status);
    table.push_back(std::move(cells));
  }
  std::string text;
  if (markdown_) {
    auto line = [](const std::vector<std::string>& cells) {
      std::string l = "|";
      for (const std::string& cell : cells) l += " " + cell + " |";
      return l + "\n";
    };
    text += line(header);
    text += "|";
    for (const std::string& cell : header) text += std::string(cell.size() + 2, '-') + "|";
    text += "\n";
    for (const auto& cells : table) text += line(cells);
    text += "\nLegend: ✅ Complete | ⏳ Pending | 🚧 In Progress | ❌ Blocked\n";
  } else {
    std::vector<std::size_t> widths(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) {
      widths[c] = width(header[c]);
      for (const auto& cells : table) widths[c] = std::max(widths[c], width(cells[c]));
    }
    auto line = [&](const std::vector<std::string>& cells) {
      std::string l;
      for (std::size_t c = 0; c < cells.size(); ++c) {
        l += cells[c];
        if (c + 1 < cells.size()) l += std::string(widths[c] - width(cells[c]) + 2, ' ');
      }
      return l + "\n";
    };
    text += line(header);
    for (const auto& cells : table) text += line(cells);
    if (table.empty()) text += "(no connectors under sources/)\n";
  }
  out << text;
}

int WorkflowCommands::run_connection(std::ostream& out, std::ostream& err) const {
  const std::filesystem::path file = connections_file(connections_);
  if (create_->parsed()) {
    workflow::CreateConnectionArgs args = create_args_;
    args.connections = file;
    args.spec = spec_.empty() ? workflow::find_connector_spec(root_, workflow::repository_root(),
                                                              args.connector)
                              : std::filesystem::path(spec_);
    const workflow::CreatedConnection created =
        workflow::create_connection(args, pipeline::process_env);
    out << fmt::format("{} connection '{}' (connector {}{}) in {}\n",
                       created.replaced ? "replaced" : "created", args.name, args.connector,
                       created.auth_method.empty() ? "" : ", auth method " + created.auth_method,
                       file.string());
    for (const auto& [key, value] : created.options) out << "  " << key << ": " << value << "\n";
    for (const std::string& note : created.notes) err << "note: " << note << "\n";
    out << fmt::format("Next: lakeflow connection test {}{}\n", args.name,
                       connections_.empty() ? "" : " --connections " + connections_);
    return 0;
  }
  if (list_->parsed()) {
    const std::vector<workflow::ListedConnection> listed = workflow::list_connections(file);
    if (json_) {
      JsonValue::Array array;
      for (const workflow::ListedConnection& c : listed) {
        JsonValue::Object entry;
        entry["name"] = JsonValue(c.name);
        entry["connector"] = JsonValue(c.connector);
        entry["location"] = JsonValue(c.location);
        JsonValue::Object options;
        for (const auto& [key, value] : c.options) options[key] = JsonValue(value);
        entry["options"] = JsonValue(std::move(options));
        entry["problem"] = JsonValue(c.problem);
        array.emplace_back(std::move(entry));
      }
      out << JsonValue(std::move(array)).dump() << "\n";
      return 0;
    }
    if (listed.empty()) out << fmt::format("(no connections in {})\n", file.string());
    for (const workflow::ListedConnection& c : listed) {
      out << fmt::format("{}  connector {}  ({})\n", c.name, c.connector, c.location);
      for (const auto& [key, value] : c.options) out << "  " << key << ": " << value << "\n";
      if (!c.problem.empty()) out << "  ❌ " << c.problem << "\n";
    }
    return 0;
  }
  const workflow::ConnectionTestResult result = workflow::test_connection(file, connection_name_);
  out << fmt::format("✅ connection '{}' works: connector {} lists {} table(s)", connection_name_,
                     result.connector, result.tables);
  if (!result.table.empty()) {
    out << fmt::format("; the first read of {} returned {} record(s)", result.table,
                       result.records);
  }
  out << "\n";
  return 0;
}

}  // namespace lakeflow::cli
