// Writes ColumnBatches to one Parquet file (Apache Parquet format specification), the data files
// of lakeflow's Delta tables.
//
// The Spark type of each column maps to Parquet as parquet_schema.h describes (variant values are
// written as JSON text). Pages are v1 data pages with RLE-encoded definition and repetition
// levels; values are PLAIN, except string/binary/variant columns, which are dictionary-encoded
// (RLE_DICTIONARY, PLAIN dictionary page) until the dictionary stops paying off: when the first
// page of a column chunk is no smaller dictionary-encoded, or when the dictionary outgrows
// `dictionary_page_bytes`, the column switches to PLAIN for the rest of the file. Column chunks
// carry statistics (min, max, null count; NaN count for floats) and the footer declares the
// TYPE_ORDER column order, so readers can use them.
//
// A row group is closed when its buffered, compressed pages reach `row_group_bytes`; until then
// its pages stay in memory (a column chunk must be contiguous in the file), so a writer holds
// about `row_group_bytes` plus one page per column.
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
#include <vector>

#include "columnar/column_batch.h"
#include "lakeflow/types.h"

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
  // Flush the file to stable storage before renaming it into place (what a Delta commit that
  // names the file needs).
  bool sync = true;
  // Delta statistics keep at most this many characters of a string (min: the prefix; max: the
  // prefix with its last character incremented, still an upper bound).
  std::size_t stats_string_prefix = 32;
};

// Statistics of one column for Delta's `add.stats`: leaf columns reached from the top level
// through structs only (min, max, null count) and array/map columns reached the same way (null
// count only). A value is null for the count when it or any enclosing struct is null.
struct ColumnStatistics {
  std::vector<std::string> field_path;  // Spark field names from the top level
  DataType type;
  std::int64_t null_count = 0;
  // Bounds as JSON text in Delta's forms: numbers (decimals with their scale, exact), strings
  // (truncated as ParquetWriterOptions says), dates "YYYY-MM-DD", timestamps
  // "YYYY-MM-DDTHH:MM:SS.mmmZ" (timestamp_ntz without the Z) with the minimum rounded down and
  // the maximum rounded up to the millisecond. Absent for boolean, binary, variant, arrays, maps,
  // columns without non-null values, and float/double bounds that are NaN or infinite.
  std::optional<std::string> min_json;
  std::optional<std::string> max_json;
};

// What close() reports about the file it wrote.
struct ParquetFileStats {
  std::string path;
  std::uint64_t size_bytes = 0;
  std::int64_t num_records = 0;
  std::size_t num_row_groups = 0;
  std::vector<ColumnStatistics> columns;  // schema order

  // Delta's `stats` JSON for an `add` action:
  // {"numRecords":N,"minValues":{...},"maxValues":{...},"nullCount":{...}}, nested by struct,
  // for the first `num_indexed_columns` statistics columns (Delta's
  // dataSkippingNumIndexedCols, default 32).
  std::string delta_stats_json(std::size_t num_indexed_columns = 32) const;
};

class ParquetWriter {
 public:
  // Creates the temporary file. Throws ConfigError when the directory of `path` cannot be
  // written, SchemaError when `schema` cannot be written to Parquet (a field with an empty name).
  ParquetWriter(std::string path, StructType schema, ParquetWriterOptions options = {});
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
