// Checkpoint files: actions → JSON → RecordConverter → ColumnBatch → Parquet, and back through
// ParquetReader and ColumnBatch::row_json. Going through each action's JSON keeps one definition
// of every action's fields (delta_actions.cc) for commits and checkpoints alike.
#include "delta/delta_checkpoint.h"

#include <fmt/format.h>

#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"
#include "columnar/record_converter.h"
#include "lakeflow/records.h"

namespace lakeflow::delta {

namespace {

// Actions converted per ColumnBatch: bounds memory for tables with very many files.
constexpr std::size_t kActionsPerBatch = 4096;

StructType make_checkpoint_schema() {
  const DataType string = DataType::String();
  const DataType string_map = DataType::Map(DataType::String(), DataType::String(), true);
  const DataType strings = DataType::Array(DataType::String(), true);
  const StructType txn{
      {"appId", string},
      {"version", DataType::Long()},
      {"lastUpdated", DataType::Long()},
  };
  const StructType add{
      {"path", string},
      {"partitionValues", string_map},
      {"size", DataType::Long()},
      {"modificationTime", DataType::Long()},
      {"dataChange", DataType::Boolean()},
      {"stats", string},
      {"tags", string_map},
  };
  const StructType remove{
      {"path", string},
      {"deletionTimestamp", DataType::Long()},
      {"dataChange", DataType::Boolean()},
      {"extendedFileMetadata", DataType::Boolean()},
      {"partitionValues", string_map},
      {"size", DataType::Long()},
  };
  const StructType format{
      {"provider", string},
      {"options", string_map},
  };
  const StructType metadata{
      {"id", string},
      {"name", string},
      {"description", string},
      {"format", format},
      {"schemaString", string},
      {"partitionColumns", strings},
      {"configuration", string_map},
      {"createdTime", DataType::Long()},
  };
  const StructType protocol{
      {"minReaderVersion", DataType::Integer()},
      {"minWriterVersion", DataType::Integer()},
      {"readerFeatures", strings},
      {"writerFeatures", strings},
  };
  const StructType domain_metadata{
      {"domain", string},
      {"configuration", string},
      {"removed", DataType::Boolean()},
  };
  return StructType{
      {"txn", txn},           {"add", add},           {"remove", remove},
      {"metaData", metadata}, {"protocol", protocol}, {"domainMetadata", domain_metadata},
  };
}

}  // namespace

const StructType& checkpoint_schema() {
  static const StructType schema = make_checkpoint_schema();
  return schema;
}

CheckpointFileInfo write_checkpoint_file(const std::string& path,
                                         const std::vector<Action>& actions) {
  CheckpointFileInfo info;
  RecordConverter converter(checkpoint_schema(), path);
  ColumnBatch batch = converter.make_batch();
  RecordBatch records;
  parquet::ParquetWriterOptions options;
  // Snappy is what every Delta reader supports for checkpoints, old ones included.
  options.compression = parquet::Compression::kSnappy;
  parquet::ParquetWriter writer(path, checkpoint_schema(), options);
  auto flush = [&] {
    if (records.empty()) return;
    converter.convert(records, batch);
    writer.write(batch);
    batch.clear();
    records.clear();
  };
  for (const Action& action : actions) {
    if (std::holds_alternative<CommitInfo>(action)) {
      throw Error(ErrorCode::kInternal,
                  fmt::format("checkpoint {}: commitInfo actions do not belong in a checkpoint "
                              "(this is a bug in lakeflow)",
                              path));
    }
    if (std::holds_alternative<AddFile>(action)) ++info.num_add_files;
    records.append(action_to_line(action));
    ++info.num_actions;
    if (records.size() >= kActionsPerBatch) flush();
  }
  flush();
  const parquet::ParquetFileStats stats = writer.close();
  info.size_bytes = static_cast<std::int64_t>(stats.size_bytes);
  return info;
}

std::vector<Action> read_checkpoint_file(const std::string& path) {
  const parquet::ParquetReader reader(path);
  // Not reserved from the footer's row count: a damaged footer may claim any number.
  std::vector<Action> actions;
  for (std::size_t group = 0; group < reader.num_row_groups(); ++group) {
    const ColumnBatch batch = reader.read_row_group(group, checkpoint_schema());
    for (std::size_t row = 0; row < batch.num_rows(); ++row) {
      const JsonValue json = JsonValue::parse(batch.row_json(row), "checkpoint row");
      std::optional<Action> action =
          action_from_json(json, fmt::format("checkpoint {} (row {})", path, row));
      if (action && !std::holds_alternative<CommitInfo>(*action)) {
        actions.push_back(std::move(*action));
      }
    }
  }
  return actions;
}

}  // namespace lakeflow::delta
