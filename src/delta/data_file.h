// New data files of a Delta table: Parquet files written into the table's directory and the `add`
// actions that make them part of the table once committed. Until then the files are invisible to
// readers (nothing in the log names them); a writer destroyed before close() removes its file.
//
// Files no commit will ever name. A run can stop between writing a file and committing it (a
// crash, a kill, a failed commit), leaving a file in the table's directory that no reader sees
// but that takes space. Such files are recognised safely by their names:
//   * a file is named for the commit version it is written for:
//     `part-<sequence, 5 digits>-<uuid>-v<version>-c000.zstd.parquet`, and a writer adds a new
//     file only in that commit (the version after the snapshot it read before writing the file;
//     it never retries that commit as a later version with the same file);
//   * so once commit <version> exists and does not name the file, nothing can ever add it: the
//     writer that made it failed, or lost the version to another writer.
// Files of other writers (other names) are never touched, nor files named for a version not yet
// committed (their writer may still be at work).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/column_batch.h"
#include "delta/delta_actions.h"
#include "delta/delta_log.h"
#include "delta/file_stats.h"
#include "destination/destination.h"
#include "lakeflow/types.h"
#include "parquet/parquet_writer.h"

namespace lakeflow::delta {

// One data file.
class DataFileWriter {
 public:
  // Creates `<table_dir>/part-<sequence>-<uuid>-v<version>-c000.zstd.parquet` (the directory too)
  // for commit `version` of the table, with the schema of `plan`.
  DataFileWriter(const std::filesystem::path& table_dir,
                 std::shared_ptr<const parquet::ParquetWriterPlan> plan, std::size_t sequence,
                 std::int64_t version);

  // Appends the rows of `batch` (of the writer's schema).
  void write(const ColumnBatch& batch);
  std::int64_t rows() const { return writer_->rows_written(); }

  // Finishes the file and returns its add action (path relative to the table, size, stats).
  AddFile close();

 private:
  std::string name_;
  std::unique_ptr<parquet::ParquetWriter> writer_;
};

// What a file name says when DataFileWriter made it: the commit version it was written for, and
// whether it is the hidden temporary the Parquet writer renames on close. nullopt for other names.
struct DataFileName {
  std::int64_t version = 0;
  bool temporary = false;
};
std::optional<DataFileName> parse_data_file_name(std::string_view name);

// After commit `version` of `log` failed: removes the files of `adds` named for that commit,
// unless commit `version` exists and names them (a commit that was written before the failure).
// Best effort; returns how many were removed.
std::size_t discard_uncommitted(const DeltaLog& log, std::int64_t version,
                                const std::vector<AddFile>& adds);

// Removes the data files in the table directory of `log` that no commit will ever name (see the
// header comment) — for versions up to `latest_version`, the table's latest commit. A temporary
// is removed only once it is an hour old (its writer may still be writing it). Best effort;
// returns the names of the files removed.
std::vector<std::string> remove_orphan_files(const DeltaLog& log, std::int64_t latest_version);

using destination::FileLayout;

// The data files of one write to a table (an append read call, the rewrite of a merge), laid out as
// FileLayout says. Unclustered: rows stream into one file as they come, so memory stays flat.
// Clustered: rows are held, sorted by the clustering columns (RowOrder: nulls first) and cut into
// files of about target_file_bytes, never between rows of equal keys: each file is sorted and
// holds one key range that no other file of the write overlaps, so readers can skip files by their
// min/max statistics.
class FileSetWriter {
 public:
  // Files are written for commit `version` (see DataFileWriter), named from `first_sequence` on,
  // with the schema of `plan` (shared by the writes of a table: planning a wide schema's Parquet
  // columns costs more than writing a small batch).
  FileSetWriter(std::filesystem::path table_dir,
                std::shared_ptr<const parquet::ParquetWriterPlan> plan, FileLayout layout,
                std::size_t first_sequence, std::int64_t version);
  FileSetWriter(std::filesystem::path table_dir, StructType schema, FileLayout layout,
                std::size_t first_sequence, std::int64_t version);

  // Appends the rows of `batch` (of the writer's schema).
  void write(const ColumnBatch& batch);

  // Writes what is held and returns the add actions of every file written, in key order for a
  // clustered layout; none when no row was written.
  std::vector<AddFile> close();

 private:
  void write_held();

  std::filesystem::path table_dir_;
  std::shared_ptr<const parquet::ParquetWriterPlan> plan_;
  FileLayout layout_;
  std::size_t next_sequence_;
  std::int64_t version_;
  std::optional<DataFileWriter> streaming_;  // unclustered
  std::optional<ColumnBatch> held_;          // clustered: rows not written yet
  std::vector<AddFile> adds_;
};

}  // namespace lakeflow::delta
