// Writes ColumnBatches to one Parquet file (Apache Parquet format specification).
//
// The Spark type of each column maps to Parquet as parquet_schema.h describes (variant values are
// written as JSON text). Pages are v1 data pages with RLE-encoded definition and repetition
// levels; values are PLAIN, except string/binary/variant columns, which are dictionary-encoded
// (RLE_DICTIONARY, PLAIN dictionary page) until the dictionary stops paying off: when the first
// page of the file's column (which ends after 8,192 values at most) is no smaller
// dictionary-encoded, or when the dictionary outgrows `dictionary_page_bytes`, the column
// switches to PLAIN for the rest of the file. Column chunks
// carry statistics (min, max, null count; NaN count for floats) and the footer declares the
// TYPE_ORDER column order, so readers can use them; close() reports each column's statistics over
// the whole file in their typed form (ColumnStatistics).
//
// A row group is closed when its buffered, compressed pages reach `row_group_bytes`; until then
// its pages stay in memory (a column chunk must be contiguous in the file), so a writer holds
// about `row_group_bytes` plus one page per column (and 1 MiB of writes gathered into one system
// call). Columns that are null below some struct or list for a whole row group share one encoding
// of their levels: their cost follows the rows of the columns above them, not their number.
//
// The file is written under a hidden temporary name in the destination directory and renamed to
// `path` by close(); a writer destroyed without close() (an exception, abort()) removes the
// temporary file, so `path` never holds a partial file. Not thread-safe; one writer per file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "columnar/column_batch.h"
#include "lakeflow/types.h"
#include "util/int128.h"

namespace lakeflow::parquet {

enum class Compression : std::uint8_t { kNone, kSnappy, kZstd };

struct ParquetWriterOptions {
  Compression compression = Compression::kZstd;
  int zstd_level = 3;
  std::size_t row_group_bytes = std::size_t{128} << 20;
  std::size_t page_bytes = std::size_t{1} << 20;
  // Dictionary-encode string, binary and variant columns (falling back to PLAIN as above).
  bool dictionary = true;
  std::size_t dictionary_page_bytes = std::size_t{1} << 20;
  // Flush the file to stable storage before renaming it into place (what a table log that names
  // the file once it is closed needs).
  bool sync = true;
};

struct WriterSchema;
struct LeafPaths;

// What a writer derives from its schema alone: the Parquet schema, its leaf columns and statistics
// columns. Building it costs time in proportion to the schema's width (thousands of leaves for a
// wide, sparse schema), so the writers of many files of one schema share one. Immutable once
// built; used by several threads at once freely.
class ParquetWriterPlan {
 public:
  // Throws SchemaError when `schema` cannot be written to Parquet (a field with an empty name).
  explicit ParquetWriterPlan(StructType schema);
  ~ParquetWriterPlan();
  ParquetWriterPlan(const ParquetWriterPlan&) = delete;
  ParquetWriterPlan& operator=(const ParquetWriterPlan&) = delete;

  const StructType& schema() const { return schema_; }
  const WriterSchema& writer_schema() const { return *writer_schema_; }
  // The columns the leaves' paths pass through (parquet_writer.cc).
  const LeafPaths& leaf_paths() const { return *leaf_paths_; }

 private:
  StructType schema_;
  std::unique_ptr<const WriterSchema> writer_schema_;
  std::unique_ptr<const LeafPaths> leaf_paths_;
};

// A column's statistics value in its typed form: booleans as bool; integers, dates (days since
// the epoch) and timestamps (microseconds since the epoch) as int64; float and double as double;
// decimals as their unscaled value (the column type gives the scale); strings, binary and
// variants (JSON text) as their bytes, whole (never truncated).
using StatisticsValue = std::variant<bool, std::int64_t, double, Int128, std::string>;

// Statistics of one column of a written file, for the callers that index files by their columns:
// leaf columns reached from the top level through structs only (bounds, null count) and
// array/map columns reached the same way (null count only). A value is null for the count when it
// or any enclosing struct is null.
struct ColumnStatistics {
  std::vector<std::string> field_path;  // Spark field names from the top level
  DataType type;
  std::int64_t null_count = 0;
  std::int64_t nan_count = 0;  // float and double columns
  // The least and greatest non-null value in the column type's order (bytewise for strings and
  // binary; NaN is left out of float and double bounds, -0.0 and 0.0 are equal). Absent for
  // array and map columns and when the column holds no such value.
  std::optional<StatisticsValue> min;
  std::optional<StatisticsValue> max;
};

// What close() reports about the file it wrote.
struct ParquetFileStats {
  std::string path;
  std::uint64_t size_bytes = 0;
  std::int64_t num_records = 0;
  std::size_t num_row_groups = 0;
  std::vector<ColumnStatistics> columns;  // schema order (depth first)
};

class ParquetWriter {
 public:
  // Creates the temporary file. Throws ConfigError when the directory of `path` cannot be
  // written, SchemaError when `schema` cannot be written to Parquet (a field with an empty name).
  ParquetWriter(std::string path, StructType schema, ParquetWriterOptions options = {});
  // The same for the schema of `plan`, which the writer keeps: writers of many files of one schema
  // share the work of planning it.
  ParquetWriter(std::string path, std::shared_ptr<const ParquetWriterPlan> plan,
                ParquetWriterOptions options = {});
  ~ParquetWriter();  // abort()s unless closed
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;

  // Appends the rows of `batch`, whose schema must equal the writer's. Throws lakeflow::Error
  // (kData) when a non-nullable field holds a null, and on I/O errors; the writer is then
  // unusable (abort() or destroy it).
  void write(const ColumnBatch& batch);

  // Writes the last row group and the footer, flushes, and renames the file to `path`.
  ParquetFileStats close();

  // Removes the temporary file; `path` is left untouched. Idempotent.
  void abort();

  std::int64_t rows_written() const;
  // Bytes the file will have if closed now, roughly (written + buffered compressed pages).
  std::uint64_t estimated_size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakeflow::parquet
