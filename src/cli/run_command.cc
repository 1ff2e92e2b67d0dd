// `lakeflow run`: runs a pipeline spec into local Delta tables and prints a summary.
// `lakeflow show`: prints the rows of a Delta table's active files.
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "pipeline/connections.h"
#include "pipeline/pipeline_spec.h"
#include "pipeline/runner.h"

namespace lakeflow::cli {
namespace {

std::string summary_table(const std::vector<pipeline::TableResult>& results) {
  std::vector<std::vector<std::string>> rows = {{"table", "ingestion", "flow", "records",
                                                 "inserted", "updated", "deleted", "files", "time",
                                                 "status"}};
  for (const pipeline::TableResult& r : results) {
    std::string type = r.ingestion_type;
    if (!r.scd_type.empty()) type += " " + r.scd_type;
    rows.push_back({r.destination, type, r.flow, std::to_string(r.records),
                    std::to_string(r.inserted), std::to_string(r.updated),
                    std::to_string(r.deleted), std::to_string(r.files),
                    fmt::format("{:.2f}s", r.seconds), r.error ? "FAILED" : "ok"});
  }
  std::vector<std::size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string text;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      // Text columns left-aligned, counts right-aligned.
      const bool numeric = i >= 3 && i <= 8;
      line += numeric ? fmt::format("{:>{}}", row[i], widths[i])
                      : fmt::format("{:<{}}", row[i], widths[i]);
      if (i + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    text += line + "\n";
  }
  return text;
}

std::string summary_json(const std::vector<pipeline::TableResult>& results) {
  JsonValue::Array tables;
  for (const pipeline::TableResult& r : results) {
    JsonValue::Object table;
    table["table"] = r.destination;
    table["source_table"] = r.source_table;
    table["path"] = r.path.string();
    table["ingestion_type"] = r.ingestion_type;
    table["flow"] = r.flow;
    table["scd_type"] = r.scd_type.empty() ? JsonValue() : JsonValue(r.scd_type);
    table["records"] = static_cast<std::int64_t>(r.records);
    table["inserted"] = static_cast<std::int64_t>(r.inserted);
    table["updated"] = static_cast<std::int64_t>(r.updated);
    table["deleted"] = static_cast<std::int64_t>(r.deleted);
    table["files"] = static_cast<std::int64_t>(r.files);
    table["commits"] = static_cast<std::int64_t>(r.commits);
    table["seconds"] = r.seconds;
    table["error"] = r.error ? JsonValue(*r.error) : JsonValue();
    tables.emplace_back(std::move(table));
  }
  return JsonValue(std::move(tables)).dump() + "\n";
}

}  // namespace

void run_pipeline_command(const RunArgs& args, std::ostream& out, std::ostream& err) {
  const pipeline::PipelineSpec spec = pipeline::load_pipeline_spec(args.spec);
  std::optional<std::filesystem::path> flag;
  if (args.connections) flag = *args.connections;
  const pipeline::Connections connections =
      pipeline::load_connections(pipeline::connections_path(flag, spec.connections_file));
  const pipeline::Connection& connection = connections.get(spec.connection_name);

  pipeline::RunOptions options;
  options.full_refresh = args.full_refresh;
  options.parallelism = args.parallelism;
  options.tables = args.tables;
  options.log = [&err](std::string_view line) {
    err << line << "\n";
    err.flush();
  };
  const std::vector<pipeline::TableResult> results =
      pipeline::run_pipeline(spec, connection, options);
  write_out(out, args.json ? summary_json(results) : summary_table(results));

  std::size_t failed = 0;
  std::optional<ErrorCode> code;
  std::string first;
  for (const pipeline::TableResult& r : results) {
    if (!r.error) continue;
    ++failed;
    if (!code) {
      code = r.error_code;
      first = fmt::format("{}: {}", r.destination, *r.error);
    }
  }
  if (code) {
    throw Error(*code,
                fmt::format("{} of {} tables failed; first: {}", failed, results.size(), first));
  }
}

void show_table(const std::string& path, std::optional<std::uint64_t> limit, std::ostream& out) {
  std::optional<std::size_t> max;
  if (limit) max = static_cast<std::size_t>(*limit);
  std::string text;
  for (const std::string& row : pipeline::read_table_rows(path, max)) text += row + "\n";
  write_out(out, text);
}

}  // namespace lakeflow::cli
