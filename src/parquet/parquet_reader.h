// Reads Parquet files back into ColumnBatches: the files ParquetWriter makes (used by tests,
// `lakeflow show` and merges), and other writers' files that use the same subset of the format.
//
// Reads v1 and v2 data pages, PLAIN and dictionary (RLE_DICTIONARY / PLAIN_DICTIONARY) values,
// RLE levels, and uncompressed, snappy and zstd pages; three-level LIST and MAP groups; the
// physical and logical types parquet_schema.h lists, plus INT96 and millisecond / nanosecond
// timestamps. Anything else throws lakeflow::Error (kData) naming the file and column.
//
// The file is opened in the constructor and read with positioned reads; an instance is not
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "columnar/column_batch.h"
#include "lakeflow/types.h"
#include "parquet/parquet_format.h"

namespace lakeflow::parquet {

class ParquetReader {
 public:
  // Opens `path` and reads its footer. Throws ConfigError when the file cannot be opened and
  // lakeflow::Error (kData) when it is not a valid Parquet file.
  explicit ParquetReader(std::string path);
  ~ParquetReader();
  ParquetReader(const ParquetReader&) = delete;
  ParquetReader& operator=(const ParquetReader&) = delete;

  const std::string& path() const;
  const FileMetaData& metadata() const;
  std::int64_t num_rows() const;
  std::size_t num_row_groups() const;

  // The Spark schema of the file: the inverse of the writer's mapping (JSON byte arrays read as
  // variant, other annotated byte arrays as string, unannotated ones as binary).
  StructType schema() const;

  // Reads every row (or one row group) as columns of `schema`. Fields are matched by name at
  // every level; a nullable field the file lacks reads as null (a table's schema may have grown
  // since the file was written), and a value reads as a wider type when that is exact
  // (byte/short/int as long, float as double, a decimal at a larger precision and scale, a date as
  // the timestamp_ntz of its midnight). Throws lakeflow::Error (kData) when a
  // field's type in the file does not read as the requested type, or a non-nullable field is
  // missing.
  ColumnBatch read(const StructType& schema) const;
  ColumnBatch read_row_group(std::size_t index, const StructType& schema) const;
  // read(schema()).
  ColumnBatch read() const;

  // Level entries this reader's reads have stepped through one leaf at a time, summed over every
  // read: the assembly's work, which follows the values present. A null struct costs one step per
  // row, not one per leaf under it (tests hold the reader to that).
  std::uint64_t level_steps() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakeflow::parquet
