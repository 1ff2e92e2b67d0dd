#include "pipeline/data_file.h"

#include <fmt/format.h>

#include <string>

namespace lakeflow::pipeline {

DataFileWriter::DataFileWriter(const std::filesystem::path& table_dir, const StructType& schema,
                               std::size_t sequence)
    : name_(fmt::format("part-{:05}-{}-c000.zstd.parquet", sequence, delta::random_uuid())) {
  std::filesystem::create_directories(table_dir);
  writer_ = std::make_unique<parquet::ParquetWriter>((table_dir / name_).string(), schema);
}

void DataFileWriter::write(const ColumnBatch& batch) { writer_->write(batch); }

delta::AddFile DataFileWriter::close() {
  const parquet::ParquetFileStats stats = writer_->close();
  delta::AddFile add;
  add.path = delta::encode_path(name_);
  add.size = static_cast<std::int64_t>(stats.size_bytes);
  add.modification_time = delta::now_millis();
  add.data_change = true;
  add.stats = stats.delta_stats_json();
  return add;
}

}  // namespace lakeflow::pipeline
