// Command-line wiring of `lakeflow new`, `lakeflow check` and `lakeflow status`.
#include "cli/workflow_cli.h"

#include <ostream>
#include <string>

#include "workflow/workflow.h"
#include "lakeflow/error.h"

namespace lakeflow::cli {

WorkflowCommands::WorkflowCommands(CLI::App& app) {
  new_ = app.add_subcommand(
      "new",
      "Create sources/NAME/ from templates/connector/: the DESIGN.md checklist, API doc and\n"
      "README templates, a connector whose methods throw NotImplementedError, and its\n"
      "conformance test. Refuses to overwrite an existing connector.");
  new_->add_option("name", new_args_.name, "Connector name: [a-z][a-z0-9_]*")
      ->required()
      ->type_name("NAME");
  new_->add_option("--tables", tables_, "Comma-separated table names the connector will serve")
      ->type_name("A,B");
  new_->add_option("--out-of-tree", new_args_.out_of_tree,
                   "Create a standalone plugin project in DIR instead (built with the installed "
                   "SDK: find_package(Lakeflow), lakeflow_add_connector)")
      ->type_name("DIR");
  new_->add_option("--root", new_args_.root,
                   "Repository root (default: found from the current "
                   "directory)")
      ->type_name("DIR");

  check_ = app.add_subcommand(
      "check",
      "Evaluate every machine-checkable item of a connector's DESIGN.md checklist, per phase\n"
      "(✅ passes, ❌ fails, ⏳ pending). Errors: a gate ticked without an Approved-by line, a\n"
      "phase marked ✅ whose checks fail, a tracked dev_config.json or credential. Exit 1 on\n"
      "any error.");
  check_->add_option("names", check_args_.names, "Connector names")->type_name("NAME");
  check_->add_flag("--all", check_args_.all, "Check every connector under sources/");
  check_->add_flag("--json", check_args_.json, "Print the report as JSON");
  check_
      ->add_option("--root", check_args_.root,
                   "Repository root (default: found from the "
                   "current directory)")
      ->type_name("DIR");

  status_ = app.add_subcommand(
      "status",
      "Print the tracking table (Connector | Phase 0 ... Phase 5 | Status) from each\n"
      "connector's DESIGN.md, cross-checked with `lakeflow check` (a failing phase shows ❌).");
  status_->add_flag("--markdown", markdown_, "Print a Markdown table");
  status_
      ->add_option("--root", status_root_,
                   "Repository root (default: found from the "
                   "current directory)")
      ->type_name("DIR");
}

bool WorkflowCommands::parsed() const {
  return new_->parsed() || check_->parsed() || status_->parsed();
}

int WorkflowCommands::run(std::ostream& out) const {
  if (new_->parsed()) {
    NewArgs args = new_args_;
    std::string rest = tables_;
    while (!rest.empty()) {
      const std::string::size_type comma = rest.find(',');
      const std::string table = rest.substr(0, comma);
      if (table.empty()) {
        throw ConfigError("--tables expects comma-separated names (e.g. --tables users,orders)");
      }
      args.tables.push_back(table);
      if (comma == std::string::npos) break;
      rest.erase(0, comma + 1);
      if (rest.empty()) {
        throw ConfigError("--tables expects comma-separated names (e.g. --tables users,orders)");
      }
    }
    new_connector(args, out);
    return 0;
  }
  if (check_->parsed()) {
    if (check_args_.all && !check_args_.names.empty()) {
      throw ConfigError("give connector names or --all, not both");
    }
    return run_check(check_args_, out);
  }
  print_status(status_root_, markdown_, out);
  return 0;
}

}  // namespace lakeflow::cli
