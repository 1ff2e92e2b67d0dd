// A new data file of a Delta table: a Parquet file written into the table's directory and the
// `add` action that makes it part of the table once committed. Until then the file is invisible to
// readers (nothing in the log names it); a writer destroyed before close() removes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "delta/delta_actions.h"
#include "delta/parquet_writer.h"
#include "lakeflow/column_batch.h"
#include "lakeflow/types.h"

namespace lakeflow::pipeline {

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

}  // namespace lakeflow::pipeline
