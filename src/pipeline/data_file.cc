#include "pipeline/data_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <span>
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

FileSetWriter::FileSetWriter(std::filesystem::path table_dir, StructType schema, FileLayout layout,
                             std::size_t first_sequence)
    : table_dir_(std::move(table_dir)),
      schema_(std::move(schema)),
      layout_(std::move(layout)),
      next_sequence_(first_sequence),
      held_(schema_) {}

void FileSetWriter::write(const ColumnBatch& batch) {
  if (batch.num_rows() == 0) return;
  if (layout_.clustering.empty()) {
    if (!streaming_) streaming_.emplace(table_dir_, schema_, next_sequence_++);
    streaming_->write(batch);
    return;
  }
  std::vector<std::uint32_t> all(batch.num_rows());
  std::iota(all.begin(), all.end(), std::uint32_t{0});
  append_rows(batch, all, held_);
  if (held_.byte_size() >= layout_.sort_buffer_bytes) write_held();
}

void FileSetWriter::write_held() {
  const std::size_t rows = held_.num_rows();
  if (rows == 0) return;
  const RowOrder order(held_, layout_.clustering);
  const std::vector<std::uint32_t> sorted = order.sorted();
  const std::size_t target = std::max<std::size_t>(layout_.target_file_bytes, 1);
  const std::size_t files = std::max<std::size_t>((held_.byte_size() + target - 1) / target, 1);
  const std::size_t rows_per_file = (rows + files - 1) / files;
  ColumnBatch part(schema_);
  for (std::size_t begin = 0; begin < rows;) {
    std::size_t end = std::min(rows, begin + rows_per_file);
    while (end < rows && order.compare(sorted[end - 1], sorted[end]) == 0) ++end;
    part.clear();
    append_rows(held_, std::span(sorted).subspan(begin, end - begin), part);
    DataFileWriter file(table_dir_, schema_, next_sequence_++);
    file.write(part);
    adds_.push_back(file.close());
    begin = end;
  }
  held_.clear();
}

std::vector<delta::AddFile> FileSetWriter::close() {
  if (streaming_) {
    adds_.push_back(streaming_->close());
    streaming_.reset();
  }
  write_held();
  return std::move(adds_);
}

}  // namespace lakeflow::pipeline
