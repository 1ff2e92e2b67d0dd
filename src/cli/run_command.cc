// `lakeflow run`: runs a pipeline spec into local Delta tables and prints a summary: a row per
// table, then for each failed table where it stopped (the offset committed with it, where a rerun
// continues) and its error.
// `lakeflow show`: prints the rows of a Delta table's active files.
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "delta/delta_destination.h"
#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "pipeline/connections.h"
#include "pipeline/pipeline_spec.h"
#include "pipeline/progress.h"
#include "pipeline/runner.h"

namespace lakeflow::cli {
namespace {

using pipeline::TableProgress;

// Progress on a terminal: one line per table (in the order tables start), redrawn in place at
// most ten times a second; log lines scroll above them. Called under the runner's lock.
class LiveProgress {
 public:
  explicit LiveProgress(std::ostream& err) : err_(err) {}

  void update(const TableProgress& progress) {
    auto it = index_.find(progress.destination);
    const bool first = it == index_.end();
    if (first) {
      it = index_.emplace(progress.destination, tables_.size()).first;
      tables_.push_back(progress);
    }
    TableProgress& kept = tables_[it->second];
    if (progress.stage == TableProgress::Stage::kFailed) {
      kept.stage = progress.stage;
      kept.error = progress.error;
    } else {
      kept = progress;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool finished = progress.stage == TableProgress::Stage::kDone ||
                          progress.stage == TableProgress::Stage::kFailed;
    if (first || finished || now - drawn_at_ >= std::chrono::milliseconds(100)) draw(now);
  }

  void log(std::string_view line) {
    std::string text = erase();
    text += line;
    text += "\n";
    err_ << text;
    draw(std::chrono::steady_clock::now());
  }

 private:
  // Moves the cursor to the first table line and clears to the end of the screen.
  std::string erase() {
    std::string text;
    if (drawn_ > 0) text = fmt::format("\x1b[{}A\r\x1b[J", drawn_);
    drawn_ = 0;
    return text;
  }

  void draw(std::chrono::steady_clock::time_point now) {
    std::size_t width = 80;
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 1) width = size.ws_col;
    std::string text = erase();
    for (const TableProgress& table : tables_) {
      // One column short of the width, so that no terminal wraps the line.
      text += pipeline::live_progress_line(table, width - 1);
      text += "\x1b[K\n";
    }
    drawn_ = tables_.size();
    err_ << text;
    err_.flush();
    drawn_at_ = now;
  }

  std::ostream& err_;
  std::vector<TableProgress> tables_;
  std::map<std::string, std::size_t> index_;
  std::size_t drawn_ = 0;
  std::chrono::steady_clock::time_point drawn_at_{};
};

// Progress that is not a terminal: a log line for a table's first commit and then at most one
// every kLogInterval (the runner's start, done and failed lines come on top).
class PlainProgress {
 public:
  explicit PlainProgress(std::ostream& err) : err_(err) {}

  void update(const TableProgress& progress) {
    if (progress.stage != TableProgress::Stage::kCommitted) return;
    const auto now = std::chrono::steady_clock::now();
    const auto [it, first] = logged_at_.try_emplace(progress.destination, now);
    if (!first && now - it->second < kLogInterval) return;
    it->second = now;
    err_ << pipeline::progress_log_line(progress) << "\n";
    err_.flush();
  }

 private:
  static constexpr std::chrono::seconds kLogInterval{5};
  std::ostream& err_;
  std::map<std::string, std::chrono::steady_clock::time_point> logged_at_;
};

// Where a failed table stopped and what a rerun does, then the error: one line.
std::string failure_line(const pipeline::TableResult& r) {
  std::string where;
  if (r.offset) {
    where = fmt::format("stopped at committed offset {}{}; a rerun continues from there", *r.offset,
                        r.deletes_offset ? ", deletes offset " + *r.deletes_offset : "");
  } else if (r.flow == "apply_changes_from_snapshot") {
    where = "stopped; a rerun reads the snapshot table whole again";
  } else {
    where = "stopped with no offset committed; a rerun starts from the beginning";
  }
  return fmt::format("FAILED {} after {} commit{}: {}. Error: {}", r.destination, r.commits,
                     r.commits == 1 ? "" : "s", where, *r.error);
}

// An offset as the summary's JSON: the object, or the text when redaction left no valid JSON.
JsonValue offset_json(const std::optional<std::string>& offset) {
  if (!offset) return JsonValue();
  try {
    return JsonValue::parse(*offset, "offset");
  } catch (const Error&) {
    return JsonValue(*offset);
  }
}

std::string summary_table(const std::vector<pipeline::TableResult>& results) {
  std::vector<std::vector<std::string>> rows = {{"table", "ingestion", "flow", "records",
                                                 "inserted", "updated", "deleted", "quarantined",
                                                 "files", "time", "status"}};
  for (const pipeline::TableResult& r : results) {
    std::string type = r.ingestion_type;
    if (!r.scd_type.empty()) type += " " + r.scd_type;
    rows.push_back(
        {r.destination, type, r.flow, std::to_string(r.records), std::to_string(r.inserted),
         std::to_string(r.updated), std::to_string(r.deleted), std::to_string(r.quarantined),
         std::to_string(r.files), fmt::format("{:.2f}s", r.seconds), r.error ? "FAILED" : "ok"});
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
      const bool numeric = i >= 3 && i <= 9;
      line += numeric ? fmt::format("{:>{}}", row[i], widths[i])
                      : fmt::format("{:<{}}", row[i], widths[i]);
      if (i + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    text += line + "\n";
  }
  for (const pipeline::TableResult& r : results) {
    if (r.error) text += "\n" + failure_line(r) + "\n";
  }
  // What connectors said about their reads, e.g. that the source offered only offset paging.
  for (const pipeline::TableResult& r : results) {
    for (const std::string& note : r.notes) text += "\nnote: " + note + "\n";
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
    table["bytes"] = static_cast<std::int64_t>(r.bytes);
    table["inserted"] = static_cast<std::int64_t>(r.inserted);
    table["updated"] = static_cast<std::int64_t>(r.updated);
    table["deleted"] = static_cast<std::int64_t>(r.deleted);
    table["quarantined"] = static_cast<std::int64_t>(r.quarantined);
    table["quarantine_path"] =
        r.quarantine_path.empty() ? JsonValue() : JsonValue(r.quarantine_path.string());
    table["files"] = static_cast<std::int64_t>(r.files);
    table["commits"] = static_cast<std::int64_t>(r.commits);
    table["seconds"] = r.seconds;
    table["offset"] = offset_json(r.offset);
    table["deletes_offset"] = offset_json(r.deletes_offset);
    table["error"] = r.error ? JsonValue(*r.error) : JsonValue();
    table["notes"] = JsonValue::Array(r.notes.begin(), r.notes.end());
    tables.emplace_back(std::move(table));
  }
  return JsonValue(std::move(tables)).dump() + "\n";
}

}  // namespace

void run_pipeline_command(const RunArgs& args, std::ostream& out, std::ostream& err) {
  pipeline::PipelineSpec spec = pipeline::load_pipeline_spec(args.spec);
  // A spec in upstream's form names no destination: the flag supplies it (relative to the current
  // directory, as every command-line path).
  if (args.destination) spec.destination_root = *args.destination;
  std::optional<std::filesystem::path> flag;
  if (args.connections) flag = *args.connections;
  const pipeline::Connections connections =
      pipeline::load_connections(pipeline::connections_path(flag, spec.connections_file));
  const pipeline::Connection& connection = connections.get(spec.connection_name);

  pipeline::RunOptions options;
  options.full_refresh = args.full_refresh;
  options.parallelism = args.parallelism;
  options.tables = args.tables;
  options.on_bad_record = args.on_bad_record;
  std::optional<LiveProgress> live;
  std::optional<PlainProgress> plain;
  if (&err == &std::cerr && ::isatty(STDERR_FILENO) == 1) {
    live.emplace(err);
    options.log = [&live](std::string_view line) { live->log(line); };
    options.progress = [&live](const TableProgress& progress) { live->update(progress); };
  } else {
    plain.emplace(err);
    options.log = [&err](std::string_view line) {
      err << line << "\n";
      err.flush();
    };
    options.progress = [&plain](const TableProgress& progress) { plain->update(progress); };
  }
  const std::vector<pipeline::TableResult> results =
      pipeline::run_pipeline(spec, connection, delta::DeltaDestination(), options);
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

void show_table(const std::string& path, std::uint64_t limit, std::ostream& out,
                std::ostream& err) {
  // One row more than shown tells whether there are more.
  std::vector<std::string> rows =
      delta::DeltaDestination().read_rows(path, limit == UINT64_MAX ? limit : limit + 1);
  const bool truncated = rows.size() > limit;
  if (truncated) rows.resize(static_cast<std::size_t>(limit));
  std::string text;
  for (const std::string& row : rows) text += row + "\n";
  write_out(out, text);
  if (truncated) {
    err << fmt::format(
        "note: showing the first {} rows; the table has more (--limit N shows more)\n", limit);
  }
}

}  // namespace lakeflow::cli
