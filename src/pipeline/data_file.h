// New data files of a Delta table: Parquet files written into the table's directory and the `add`
// actions that make them part of the table once committed. Until then the files are invisible to
// readers (nothing in the log names them); a writer destroyed before close() removes its file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "columnar/column_sort.h"
#include "delta/delta_actions.h"
#include "delta/parquet_writer.h"
#include "lakeflow/column_batch.h"
#include "lakeflow/types.h"

namespace lakeflow::pipeline {

// One data file.
class DataFileWriter {
 public:
  // Creates `<table_dir>/part-<sequence, 5 digits>-<uuid>-c000.zstd.parquet` (the directory too).
  DataFileWriter(const std::filesystem::path& table_dir, const StructType& schema,
                 std::size_t sequence);

  // Appends the rows of `batch` (of the writer's schema).
  void write(const ColumnBatch& batch);
  std::int64_t rows() const { return writer_->rows_written(); }

  // Finishes the file and returns its add action (path relative to the table, size, stats).
  delta::AddFile close();

 private:
  std::string name_;
  std::unique_ptr<parquet::ParquetWriter> writer_;
};

// How a table's new data files are laid out.
struct FileLayout {
  // The clustering columns (cluster_by). Empty: rows are written in the order they come.
  std::vector<FieldPath> clustering;
  // Clustered tables: a write's sorted rows are cut into files of about this many bytes of column
  // data (held in memory, before encoding and compression; a file is smaller on disk).
  std::size_t target_file_bytes = std::size_t{128} << 20;
  // Clustered tables: the rows of a write are held in memory to be sorted. A write holding more
  // column data than this is sorted and written in parts of about this size (files of different
  // parts overlap in key range).
  std::size_t sort_buffer_bytes = std::size_t{512} << 20;
};

// The data files of one write to a table (an append read call, the rewrite of a merge), laid out as
// FileLayout says. Unclustered: rows stream into one file as they come, so memory stays flat.
// Clustered: rows are held, sorted by the clustering columns (RowOrder: nulls first) and cut into
// files of about target_file_bytes, never between rows of equal keys: each file is sorted and
// holds one key range that no other file of the write overlaps, so readers can skip files by their
// min/max statistics.
class FileSetWriter {
 public:
  // File names are numbered from `first_sequence` (see DataFileWriter).
  FileSetWriter(std::filesystem::path table_dir, StructType schema, FileLayout layout,
                std::size_t first_sequence);

  // Appends the rows of `batch` (of the writer's schema).
  void write(const ColumnBatch& batch);

  // Writes what is held and returns the add actions of every file written, in key order for a
  // clustered layout; none when no row was written.
  std::vector<delta::AddFile> close();

 private:
  void write_held();

  std::filesystem::path table_dir_;
  StructType schema_;
  FileLayout layout_;
  std::size_t next_sequence_;
  std::optional<DataFileWriter> streaming_;  // unclustered
  ColumnBatch held_;                         // clustered: rows not written yet
  std::vector<delta::AddFile> adds_;
};

}  // namespace lakeflow::pipeline
