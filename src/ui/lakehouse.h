// A read-only view of a lakehouse directory (the `destination_root` of pipeline specs): the Delta
// tables under it, each as what its log and files say, in the JSON form that `lakeflow ui` serves
// at /api/... and renders as pages (pages.h). Nothing here writes, and nothing is cached but what
// cannot change (a JSON commit, once its version exists), so every answer is the tables' state at
// the time of the request: right for tables written by any run, a killed one included.
//
// Sources of each value:
//   * rows, files, size, source offsets, schema: the table's snapshot (delta_log.h; rows are the
//     sum of the active files' `numRecords` statistics);
//   * history: one entry per JSON commit: time, operation and the counts lakeflow records in its
//     commitInfo (operationMetrics: rows inserted / updated / deleted, records quarantined, source
//     records, execution time; runner.h), files and rows added and removed (from the add / remove
//     actions and the added files' statistics), and whether the schema or the offset changed;
//   * ingestion type, flow and SCD type: the operationParameters of lakeflow's latest commit;
//   * rows: the active Parquet files (parquet_reader.h), paged;
//   * quarantine: the side table `<table>__quarantine` (quarantine.h), filtered and paged;
//   * the last run, its failure and where it stopped: `_lakeflow/last_run.json` (run_record.h).
//
// Safety. Only tables found by walking the directory are ever opened: a name from a request is
// looked up among them, never joined onto a path. The walk does not follow symbolic links, and a
// data file is read only when its real path (symbolic links resolved) is inside the lakehouse, so
// a log naming `../../etc/x` or an absolute path is refused. Values are returned as they are (the
// pages escape them); nothing holds secrets (offsets hold positions, run records are redacted by
// the runner).
//
// Thread-safe: the server calls it from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lakeflow/json.h"

namespace lakeflow::ui {

// One table of the lakehouse.
struct TableRef {
  std::string name;            // its path under the root, `/`-separated (`main/fhir/Patient`)
  std::filesystem::path path;  // root / name
};

// A page of a long list: `offset` entries skipped, at most `limit` returned.
struct Page {
  std::size_t offset = 0;
  std::size_t limit = 100;
};

class Lakehouse {
 public:
  // Throws ConfigError when `root` is not a readable directory.
  explicit Lakehouse(std::filesystem::path root);
  ~Lakehouse();

  const std::filesystem::path& root() const { return root_; }

  // Every table under the root, by name: a directory holding `_delta_log` (not looked into
  // further), or only a run record (a table whose first run failed before its first commit).
  // Directories whose names start with `_` or `.` and symbolic links are skipped.
  std::vector<TableRef> tables() const;
  // The table called `name`, or nullopt.
  std::optional<TableRef> find(std::string_view name) const;

  // /api/tables: {"root", "tables": [summary...]} (summary: see table()).
  JsonValue tables_json() const;
  // /api/tables/NAME: name, display name, version, rows, files, bytes, last commit time and age,
  // offsets, ingestion type, flow, SCD type, quarantine table and its rows, the last run; "error"
  // when the log cannot be read.
  JsonValue table_json(const TableRef& table) const;
  // /api/tables/NAME/history: {"commits": [...newest first, paged], "total", "chart": [per commit
  // oldest first: version, inserted, updated, deleted, quarantined]}.
  JsonValue history_json(const TableRef& table, Page page) const;
  // /api/tables/NAME/schema: {"version", "schema" (Spark's schema JSON), "tree" (printSchema's
  // text), "changes": [{version, timestamp, added, removed, changed}...]}.
  JsonValue schema_json(const TableRef& table) const;
  // /api/tables/NAME/rows: {"columns", "rows" (objects), "offset", "limit", "total"}.
  JsonValue rows_json(const TableRef& table, Page page) const;
  // /api/tables/NAME/quarantine: the quarantine table's rows whose reason or record contains
  // `filter` (ignoring ASCII case), paged: {"table", "filter", "rows", "matched", "total", ...}.
  JsonValue quarantine_json(const TableRef& table, std::string_view filter, Page page) const;
  // /api/tables/NAME/run: the last run record (run_record.h), or null.
  JsonValue run_json(const TableRef& table) const;

  // A commit file's summary (see history_json), cached by file identity.
  struct CommitSummary;

 private:
  std::shared_ptr<const CommitSummary> commit_summary(const TableRef& table,
                                                      std::int64_t version) const;
  std::vector<std::shared_ptr<const CommitSummary>> commits(const TableRef& table) const;
  std::shared_ptr<const std::string> intern_schema(const std::string& text) const;
  // The real path of data file `uri_path` of `table`; throws DataError when it is outside the
  // lakehouse or cannot be resolved.
  std::filesystem::path data_file(const TableRef& table, std::string_view uri_path) const;

  std::filesystem::path root_;
  std::filesystem::path real_root_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, std::shared_ptr<const CommitSummary>> cache_;
  // Schema texts of cached commits, each once (keys view the values).
  mutable std::unordered_map<std::string_view, std::shared_ptr<const std::string>> schemas_;
};

}  // namespace lakeflow::ui
