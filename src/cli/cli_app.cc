// Command-line parsing (CLI11) and the mapping from errors to messages and exit statuses.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/fd_output.h"
#include "cli/ndjson.h"
#include "cli/workflow_cli.h"
#include "columnar/record_converter.h"
#include "lakeflow/error.h"
#include "lakeflow/http/redactor.h"

namespace lakeflow::cli {
namespace {

constexpr const char* kFooter =
    "Exit status: 0 ok; 2 fix the configuration (usage, option, schema, unknown table, rejected\n"
    "credentials, denied permission); 3 the source failed, rerun later; 4 a record does not\n"
    "convert; 5 another writer changed a destination table; 1 anything else.";

// --limit: a whole number of at least 1 (CLI::PositiveNumber's message prints DBL_MAX in full).
std::string check_positive_count(std::string& value) {
  std::uint64_t n = 0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, n);
  if (ec != std::errc() || ptr != end || n == 0) {
    return fmt::format("expected a whole number of at least 1, got '{}'", value);
  }
  return {};
}

std::string version_string() {
  return fmt::format("lakeflow {} (simdjson kernel {}, cpu baseline {})", LAKEFLOW_VERSION,
                     RecordConverter::active_kernel(), LAKEFLOW_CPU_BASELINE);
}

void add_source_options(CLI::App& command, SourceArgs& source, bool with_table) {
  command
      .add_option("-c,--connector", source.connector, "Connector name (see `lakeflow connectors`)")
      ->required()
      ->type_name("NAME");
  if (with_table) {
    command.add_option("-t,--table", source.table, "Table name (see `lakeflow tables`)")
        ->required()
        ->type_name("TABLE");
  }
  command
      .add_option("--option", source.options,
                  "Connector option KEY=VALUE; repeatable, overrides --options-file")
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  command
      .add_option("--options-file", source.options_file,
                  "JSON object of connector options, e.g. {\"base_url\": \"...\"}")
      ->type_name("FILE");
  if (with_table) {
    command
        .add_option("--table-option", source.table_options,
                    "Table option KEY=VALUE; repeatable, overrides --table-options-file")
        ->allow_extra_args(false)
        ->type_name("KEY=VALUE");
    command
        .add_option("--table-options-file", source.table_options_file,
                    "JSON object of table options")
        ->type_name("FILE");
  }
}

// The command the user was running when parsing failed, for the hint after the message.
std::string command_name(const CLI::App& app) {
  std::string name = "lakeflow";
  for (const CLI::App* sub : app.get_subcommands()) name += " " + sub->get_name();
  return name;
}

// Prints `message` as the command's error, through the process's Redactor (redactor.h).
int report(std::ostream& err, std::string_view message, int status) {
  err << "error: " << single_line(http::process_redactor()->redact(message)) << "\n";
  err.flush();
  return status;
}

// Nonzero errno of a failed write to `out` when it is a file descriptor, else 0.
int output_errno(std::ostream& out) {
  const auto* fd = dynamic_cast<const FdStreambuf*>(out.rdbuf());
  return fd == nullptr ? 0 : fd->error();
}

int output_failure(std::ostream& out, std::ostream& err) {
  const int error = output_errno(out);
  // The reader of stdout went away (`lakeflow read ... | head -1`): that is how pipelines end.
  if (error == EPIPE) return 0;
  return report(err,
                error == 0
                    ? "cannot write to standard output"
                    : fmt::format("cannot write to standard output: {}", std::strerror(error)),
                exit_status(ErrorCode::kInternal));
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app("Inspect and read Lakeflow Connect community connectors.", "lakeflow");
  app.set_version_flag("--version", version_string);
  app.require_subcommand(1);
  app.footer(kFooter);
  // Options of `lakeflow` itself (--plugin) are accepted after the command name too.
  app.fallthrough();

  std::vector<std::string> plugins;
  app.add_option("--plugin", plugins,
                 "Load connectors from this plugin (a shared object built with "
                 "lakeflow_add_connector); repeatable, after those of $LAKEFLOW_PLUGIN_PATH "
                 "(colon-separated files, or directories of *.so)")
      ->allow_extra_args(false)
      ->type_name("FILE");

  bool json = false;
  CLI::App* connectors =
      app.add_subcommand("connectors", "List the registered connectors and where each comes from");
  connectors->add_flag("--json", json, "Print a JSON array of {name, description, origin}");

  SourceArgs tables_source;
  CLI::App* tables = app.add_subcommand("tables", "List the tables a connector serves");
  add_source_options(*tables, tables_source, /*with_table=*/false);
  tables->add_flag("--json", json, "Print a JSON array of table names");

  SourceArgs schema_source;
  std::string schema_format = "json";
  CLI::App* schema = app.add_subcommand("schema", "Print a table's Spark SQL schema");
  add_source_options(*schema, schema_source, /*with_table=*/true);
  schema
      ->add_option("--format", schema_format,
                   "json (PySpark StructType.json()), ddl (StructType.toDDL) or tree "
                   "(printSchema)")
      ->check(CLI::IsMember({"json", "ddl", "tree"}))
      ->capture_default_str();

  SourceArgs metadata_source;
  CLI::App* metadata = app.add_subcommand(
      "metadata", "Print a table's primary keys, cursor field and ingestion type as JSON");
  add_source_options(*metadata, metadata_source, /*with_table=*/true);

  ReadArgs read_args;
  std::string offset;
  std::uint64_t limit = 0;
  std::string on_bad_record = "fail";
  CLI::App* read = app.add_subcommand(
      "read",
      "Read a table through the offset protocol and print each record as one NDJSON line.\n"
      "Calls read_table from --offset, passing each end offset back as the next start, until\n"
      "the offset repeats or is null. Prints the end offset and the record count to stderr.");
  add_source_options(*read, read_args.source, /*with_table=*/true);
  CLI::Option* offset_option =
      read->add_option("--offset", offset, "Start offset as JSON (default {})")->type_name("JSON");
  CLI::Option* limit_option = read->add_option("--limit", limit, "Stop after N records")
                                  ->check(CLI::Validator(check_positive_count, ""))
                                  ->type_name("N");
  CLI::Option* typed =
      read->add_flag("--typed", read_args.typed,
                     "Convert records to the table schema and print the converted rows");
  read->add_flag("--deletes", read_args.deletes,
                 "Read deleted rows (read_table_deletes) instead of records");
  read->add_flag("--once", read_args.once, "Make a single read call");
  read->add_option("--on-bad-record", on_bad_record,
                   "With --typed: fail (exit 4) or quarantine (report on stderr and go on)")
      ->check(CLI::IsMember({"fail", "quarantine"}))
      ->needs(typed)
      ->capture_default_str();

  WorkflowCommands workflow(app);

  RunArgs run_args;
  std::string run_tables;
  CLI::App* run_command = app.add_subcommand(
      "run", "Run a pipeline spec: land every table in local Delta tables, then print a summary");
  run_command->add_option("spec", run_args.spec, "Pipeline spec (YAML or JSON)")->required();
  run_command
      ->add_option("--connections", run_args.connections,
                   "Connections file (over the spec's connections_file)")
      ->type_name("FILE");
  run_command
      ->add_option("--destination", run_args.destination,
                   "Where tables land: DIR/<catalog>/<schema>/<table> (over the spec's "
                   "destination_root; default ./lakeflow-data)")
      ->type_name("DIR");
  run_command->add_option("--tables", run_tables, "Only these tables (comma-separated)")
      ->type_name("A,B");
  run_command->add_flag("--full-refresh", run_args.full_refresh,
                        "Ignore stored offsets and replace every table's contents");
  run_command->add_flag("--json", run_args.json, "Print the summary as JSON");
  run_command->add_option("--parallelism", run_args.parallelism, "Tables run at once (0: cores)")
      ->type_name("N");
  std::string run_on_bad_record = "fail";
  run_command
      ->add_option("--on-bad-record", run_on_bad_record,
                   "fail: a record that does not convert stops its table (exit 4), nothing of "
                   "its batch is committed; quarantine: such records go with their reason to "
                   "the side table <table>__quarantine and the run goes on")
      ->check(CLI::IsMember({"fail", "quarantine"}))
      ->capture_default_str();

  std::string show_path;
  std::uint64_t show_limit = 20;
  CLI::App* show = app.add_subcommand("show", "Print the rows of a Delta table as NDJSON");
  show->add_option("table", show_path, "The table's directory")->required();
  show->add_option("--limit", show_limit, "At most N rows")->capture_default_str()->type_name("N");

  std::string ui_root;
  ui::ServerOptions ui_options;
  CLI::App* ui_command = app.add_subcommand(
      "ui", "Serve a local, read-only dashboard of the Delta tables under a directory");
  ui_command->add_option("lakehouse", ui_root, "The directory the pipelines land tables in")
      ->required();
  ui_command->add_option("--port", ui_options.port, "Port to listen on (0: a free one)")
      ->capture_default_str()
      ->type_name("N");
  ui_command
      ->add_option("--host", ui_options.host,
                   "Address to listen on; anything but a loopback address serves the tables to "
                   "the network")
      ->capture_default_str()
      ->type_name("H");

  // CLI11 reports a mistyped command as a missing one; name it and the commands instead.
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
      names.push_back(command->get_name());
    }
    if (std::find(names.begin(), names.end(), args[0]) == names.end()) {
      return report(err,
                    fmt::format("unknown command '{}'; commands: {} (see 'lakeflow --help')",
                                args[0], fmt::join(names, ", ")),
                    exit_status(ErrorCode::kUsage));
    }
  }

  std::vector<const char*> argv;
  argv.push_back("lakeflow");
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      app.exit(e, out, err);  // --help, --version
      out.flush();
      return out ? 0 : output_failure(out, err);
    }
    return report(err, fmt::format("{} (see '{} --help')", e.what(), command_name(app)),
                  exit_status(ErrorCode::kUsage));
  }

  try {
    if (workflow.parsed()) {
      if (workflow.needs_connectors()) load_plugins(plugins);
      const int status = workflow.run(out, err);
      out.flush();
      return out ? status : output_failure(out, err);
    }
    // Plugins are loaded only by the commands that use connectors, so a broken
    // LAKEFLOW_PLUGIN_PATH does not stop `show` or the workflow commands.
    if (!show->parsed() && !ui_command->parsed()) load_plugins(plugins);
    if (connectors->parsed()) {
      list_connectors(json, out);
    } else if (tables->parsed()) {
      list_tables(tables_source, json, out);
    } else if (schema->parsed()) {
      const SchemaFormat format = schema_format == "ddl"    ? SchemaFormat::kDdl
                                  : schema_format == "tree" ? SchemaFormat::kTree
                                                            : SchemaFormat::kJson;
      print_schema(schema_source, format, out);
    } else if (metadata->parsed()) {
      print_metadata(metadata_source, out);
    } else if (run_command->parsed()) {
      for (std::size_t at = 0; !run_tables.empty() && at <= run_tables.size();) {
        const std::size_t comma = std::min(run_tables.find(',', at), run_tables.size());
        if (comma > at) run_args.tables.push_back(run_tables.substr(at, comma - at));
        at = comma + 1;
      }
      run_args.on_bad_record =
          run_on_bad_record == "quarantine" ? BadRecordMode::kQuarantine : BadRecordMode::kFail;
      run_pipeline_command(run_args, out, err);
    } else if (show->parsed()) {
      show_table(show_path, show_limit, out, err);
    } else if (ui_command->parsed()) {
      serve_ui(ui_root, ui_options, out, err);
    } else if (read->parsed()) {
      if (offset_option->count() > 0) read_args.offset = offset;
      if (limit_option->count() > 0) read_args.limit = limit;
      read_args.on_bad_record =
          on_bad_record == "quarantine" ? BadRecordMode::kQuarantine : BadRecordMode::kFail;
      read_records(read_args, out, err);
    }
  } catch (const OutputError&) {
    return output_failure(out, err);
  } catch (const Error& e) {
    return report(err, e.what(), exit_status(e.code()));
  } catch (const std::exception& e) {
    return report(err, e.what(), exit_status(code_of(e)));
  }
  out.flush();
  return out ? 0 : output_failure(out, err);
}

int run(int argc, char** argv) {
  // A closed stdout shows up as EPIPE from write(), which run() handles, instead of a signal.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  FdStreambuf stdout_buffer(1);
  std::ostream out(&stdout_buffer);
  return run(args, out, std::cerr);
}

}  // namespace lakeflow::cli
