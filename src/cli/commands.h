// The commands of the `lakeflow` CLI, independent of command-line parsing (see cli_app.cc).
// Each command writes its result to `out` only once it has all of it (except `read`, which
// streams), so a failed command leaves stdout empty. Errors are thrown as lakeflow::Error.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "columnar/record_converter.h"
#include "lakeflow/connector.h"
#include "lakeflow/options.h"
#include "ui/server.h"

namespace lakeflow::cli {

// Which connector to create and with which options, as given on the command line.
struct SourceArgs {
  std::string connector;
  std::string table;
  std::vector<std::string> options;  // KEY=VALUE, override `options_file`
  std::string options_file;          // a JSON object; empty for none
  std::vector<std::string> table_options;
  std::string table_options_file;

  // The file's options with every --option applied on top. Throws ConfigError.
  Options connector_options() const;
  Options merged_table_options() const;
};

enum class SchemaFormat { kJson, kDdl, kTree };

struct ReadArgs {
  SourceArgs source;
  std::optional<std::string> offset;  // JSON; `{}` when absent
  std::optional<std::uint64_t> limit;
  bool typed = false;
  bool deletes = false;
  bool once = false;
  BadRecordMode on_bad_record = BadRecordMode::kFail;
};

// Thrown when `out` stops accepting writes; the caller decides whether that is an error.
class OutputError : public std::runtime_error {
 public:
  OutputError() : std::runtime_error("cannot write to standard output") {}
};

// Creates the connector named by `source` with its options, after registering the values of the
// options named like secrets with the process's Redactor.
std::unique_ptr<LakeflowConnect> make_connector(const SourceArgs& source);

// Loads the plugins of $LAKEFLOW_PLUGIN_PATH, then `files` (--plugin), into the connector registry.
// Throws PluginError (exit status 2) naming the file that cannot be used.
void load_plugins(const std::vector<std::string>& files);

// Each connector's name, origin ("built in", or the plugin file) and description; as JSON,
// objects {name, description, origin} with origin "builtin" or the plugin file.
void list_connectors(bool json, std::ostream& out);
void list_tables(const SourceArgs& source, bool json, std::ostream& out);
void print_schema(const SourceArgs& source, SchemaFormat format, std::ostream& out);
void print_metadata(const SourceArgs& source, std::ostream& out);
// Records go to `out` as NDJSON; progress (bad records, the end offset, counts) goes to `err`.
void read_records(const ReadArgs& args, std::ostream& out, std::ostream& err);

// `lakeflow run`: runs a pipeline spec (see src/pipeline/runner.h).
struct RunArgs {
  std::string spec;
  std::optional<std::string> connections;
  std::optional<std::string> destination;  // over the spec's destination_root
  std::vector<std::string> tables;
  bool full_refresh = false;
  bool json = false;
  std::size_t parallelism = 0;  // 0: one per core
  BadRecordMode on_bad_record = BadRecordMode::kFail;
};

// Runs the pipeline, logging to `err` and printing the summary (a table, or JSON) to `out`. When
// `err` is standard error on a terminal, progress is a live line per table redrawn in place;
// otherwise plain log lines.
// Throws lakeflow::Error with the first failed table's code when any table failed (after the
// summary is printed).
void run_pipeline_command(const RunArgs& args, std::ostream& out, std::ostream& err);
// `lakeflow show`: the rows of the Delta table at `path` as NDJSON, at most `limit`; a note on
// `err` says when rows were left out.
void show_table(const std::string& path, std::uint64_t limit, std::ostream& out, std::ostream& err);

// `lakeflow ui`: serves the dashboard of the tables under `root` (src/ui/server.h) until the
// process is stopped, after printing `serving at URL` to `out`.
void serve_ui(const std::string& root, const ui::ServerOptions& options, std::ostream& out,
              std::ostream& err);

// Writes `text` to `out` and flushes; throws OutputError if `out` fails.
void write_out(std::ostream& out, std::string_view text);

}  // namespace lakeflow::cli
