// Runs a pipeline: every table of a spec, read from its connector with the offset protocol,
// converted, and landed through a Destination (destination/destination.h; Delta Lake tables,
// delta/delta_destination.h) at <root>/<catalog>/<schema>/<table>.
//
// Before any table: every selected table is checked and planned (check_tables, preflight.h): its
// name, table options, schema and metadata, its destination's permissions, and the connection's
// connector and options. When one fails, the run fails with nothing written.
// Per table:
//   * a connector of its own is created from the connection (ConnectorRegistry);
//   * the read resumes from the offset the table's last commit recorded, or `{}` for a
//     new table, a snapshot table, or --full-refresh;
//   * read_table is called until the end offset equals the start (or is null);
//   * append flow: each read call's records are converted and written as one Parquet file, and the
//     file is committed together with the call's end offset: one commit per read call, so data
//     and offset are exactly as durable as each other;
//   * apply_changes (cdc, cdc_with_deletes): each read call's changes are merged (merge.h) with
//     the rows of the files that hold the changed keys. Copy-on-write: only files holding a key
//     the merge replaced are removed; one new file holds their other rows plus the merge's rows.
//     Files whose key column statistics rule out every changed key are not read (key_filter.h);
//     the others are read to find the keys. Removes, the new add and the offset go in one commit.
//     cdc_with_deletes then drains read_table_deletes from the committed deletes offset the same
//     way;
//   * apply_changes_from_snapshot: every read call is gathered, then merged as one snapshot and
//     committed once (nothing is committed when the snapshot changes nothing), rewriting the files
//     that hold changed or deleted keys.
//   * --full-refresh: the first commit of the run removes every existing file and the read starts
//     from `{}` (a source with nothing to read leaves the table empty).
//   * bad records (RunOptions::on_bad_record): kFail stops the table at the first record that does
//     not convert with a ConversionError naming the table, the record (its index in the read call
//     that started at the offset the message gives) and the field; that read call commits nothing
//     (calls before it stay committed, so a rerun resumes there). kQuarantine sets such records
//     aside, with records of cdc and snapshot tables that lack a primary key or sequence value,
//     and commits them to the table's quarantine table (quarantine.h) exactly once with the batch
//     they came in. Note that a snapshot row quarantined is missing from that snapshot, so its key
//     is deleted from the target.
//   * cluster_by: the table records its clustering columns (the destination's layout) in the run's
//   first
//     commit when they are new or changed (a run that reads nothing commits them alone, operation
//     CLUSTER BY); every write's rows (a read call, a merge's rewrite) are held, sorted by them and
//     cut into files of about RunOptions::clustered_file_bytes (the destination's FileWriter).
//   * partitioned reads: when the connector implements PartitionedReads and plans a read
//     (plan_partitions), the plan's partitions are read at once by up to RunOptions::parallelism
//     threads, each with a connector of its own (made from the connection), and the step (every
//     partition) is committed once with the plan's end offset, as one read call would be: append
//     partitions are converted and written by their threads; for merges the step's records are
//     gathered and merged as one read call's.
//   * after each commit the connector is told the offsets committed (LakeflowConnect::committed).
// Unclustered append tables are converted and written while their records stream in (one Parquet
// file per read call, row groups flushed as they fill), so memory stays flat however large a read
// call is; a clustered one holds a read call's rows to sort them (up to
// destination::FileLayout::sort_buffer_bytes, then it writes them in parts).
// Secrets: the connection's secret values (connections.h: everything resolved from `${env:}` and
// `${file:}`, and the values of options named like secrets) are registered with the process's
// Redactor (http::process_redactor(), which the connectors' HTTP clients use too), and every log
// line, progress report and error of the run passes through it.
// The merge engine's delete tombstones (merge.h) are stored as the table property
// "lakeflow.tombstones" (Table::property; a metadata domain in Delta), committed with the batch, so
// a late change older than a delete cannot bring the row back in a later run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/record_converter.h"
#include "destination/destination.h"
#include "lakeflow/connector.h"
#include "lakeflow/error.h"
#include "pipeline/connections.h"
#include "pipeline/merge.h"
#include "pipeline/pipeline_spec.h"

namespace lakeflow::pipeline {

// Receives one log line (no trailing newline). Called from several threads, never at once.
using LogSink = std::function<void(std::string_view line)>;

// Where one table's run is, as progress reports give it.
struct TableProgress {
  enum class Stage : std::uint8_t {
    kReading,    // after each batch of records read (and, for append tables, written)
    kCommitted,  // after each commit
    kDone,       // the table finished
    kFailed,     // the table failed (`error` says why)
  };
  Stage stage = Stage::kReading;
  std::string destination;     // catalog.schema.table
  std::string ingestion_type;  // after the spec's override
  std::size_t records = 0;     // source records read so far
  std::size_t bytes = 0;       // bytes of their JSON text
  std::size_t quarantined = 0;
  std::size_t inserted = 0;
  std::size_t updated = 0;
  std::size_t deleted = 0;
  std::size_t commits = 0;
  double seconds = 0;  // since the table started
  std::string offset;  // JSON of the offset the current read started from
  std::string error;   // kFailed only
};

// Receives progress reports. Called from several threads, never at once.
using ProgressSink = std::function<void(const TableProgress& progress)>;

struct RunOptions {
  bool full_refresh = false;
  // Tables run at once, and partitions of one table read at once (a connector implementing
  // PartitionedReads, lakeflow/connector.h); 0 = hardware concurrency.
  std::size_t parallelism = 1;
  std::vector<std::string> tables;  // source or destination table names; empty = every table
  BadRecordMode on_bad_record = BadRecordMode::kFail;
  // Tables with cluster_by: each write's rows are sorted and cut into data files of about this many
  // bytes of column data (destination::FileLayout::target_file_bytes).
  std::size_t clustered_file_bytes = destination::FileLayout{}.target_file_bytes;
  // Append flows convert a connector's batch in slices of about this many bytes of record text,
  // each written out before the next, so memory stays bounded whatever the batch size (the
  // slices do not shape the files: row groups and pages are cut by bytes buffered). 2 MiB: the
  // bench's ingest peaks 1.6-5.7 MB lower than with 16 MiB, at the same instruction count.
  std::size_t append_slice_bytes = std::size_t{2} << 20;
  // Merges decided from the batch's columns, rows taken by index (batch_merge.h); false: every
  // merge goes through the merge engine's JSON rows (merge.h), its reference, for comparing the
  // two.
  bool merge_by_index = true;
  LogSink log;            // may be empty
  ProgressSink progress;  // may be empty
};

struct TableResult {
  std::string source_table;
  std::string destination;  // catalog.schema.table
  std::filesystem::path path;
  std::string ingestion_type;             // "cdc", "snapshot", ... after the spec's override
  std::string flow;                       // "append", "apply_changes", ...
  std::string scd_type;                   // "SCD_TYPE_1" / "SCD_TYPE_2" (empty for append)
  std::size_t records = 0;                // source records read (deletes included)
  std::size_t bytes = 0;                  // bytes of their JSON text
  std::size_t quarantined = 0;            // records written to the quarantine table
  std::filesystem::path quarantine_path;  // set when the quarantine table exists
  std::size_t inserted = 0;
  std::size_t updated = 0;
  std::size_t deleted = 0;
  std::size_t files = 0;  // data files written
  // Data files merges read, and those they skipped because their key statistics rule out every
  // key of the batch (apply_changes; a snapshot merge reads every file).
  std::size_t files_read = 0;
  std::size_t files_skipped = 0;
  std::size_t commits = 0;  // commits made
  double seconds = 0;
  // The offsets committed with the table when its run ended, failed or not: where a rerun resumes
  // (canonical JSON, secrets redacted). Unset for a snapshot table (read whole on every run) and
  // while nothing was committed (a rerun starts from the beginning); deletes_offset only for
  // cdc_with_deletes tables.
  std::optional<std::string> offset;
  std::optional<std::string> deletes_offset;
  std::optional<std::string> error;  // set when the table failed (message, secrets redacted)
  // What the connector said about its reads (ReadResult::notes), each once, secrets redacted.
  std::vector<std::string> notes;
  ErrorCode error_code = ErrorCode::kInternal;
};

// Checks every selected table (check_tables, preflight.h), then runs them, up to
// `options.parallelism` at once, landing them in `destination` (tables at spec.table_path). A table
// failing while it runs does not stop the others; its result carries the error. Throws ConfigError
// when `options.tables` names a table that is not in the spec, and check_tables' error when a check
// fails (nothing is written then). Results are in spec order.
std::vector<TableResult> run_pipeline(const PipelineSpec& spec, const Connection& connection,
                                      const destination::Destination& destination,
                                      const RunOptions& options);

}  // namespace lakeflow::pipeline
