#include "pipeline/quarantine.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>
#include <utility>

#include "columnar/column_batch.h"

namespace lakeflow::pipeline {
namespace {

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD, so that a record
// quarantined for its encoding still lands in a string column every reader accepts.
std::string valid_utf8(std::string_view text) {
  if (simdjson::validate_utf8(text.data(), text.size())) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (n > 0 && i + n <= text.size() && simdjson::validate_utf8(text.data() + i, n)) {
      out.append(text, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

StructType QuarantineTable::schema() {
  return StructType(
      {StructField("source_table", DataType::String()), StructField("record", DataType::String()),
       StructField("reason", DataType::String()), StructField("offset", DataType::String()),
       StructField("quarantined_at", DataType::Timestamp())});
}

std::filesystem::path QuarantineTable::path_for(const std::filesystem::path& target_path) {
  std::filesystem::path path = target_path;
  path += kQuarantineSuffix;
  return path;
}

QuarantineTable::QuarantineTable(const destination::Destination& destination,
                                 std::filesystem::path path, std::string app_id)
    : path_(std::move(path)),
      table_(destination.open_table({path_, schema(), std::move(app_id), {}})) {}

int QuarantineTable::reconcile(std::int64_t committed_batch) {
  return table_->undo_batches_after(
      committed_batch,
      fmt::format("undo quarantine batches after {} that the target table never committed",
                  committed_batch));
}

void QuarantineTable::commit(std::int64_t batch, const Offset& end, std::string_view source_table,
                             const std::vector<BadRecord>& records, bool clear) {
  if (records.empty() && !(clear && has_files())) return;
  destination::Commit commit;
  commit.operation = "WRITE";
  commit.parameters["mode"] = "Append";
  commit.metrics["numOutputRows"] = std::to_string(records.size());
  commit.batch = batch;
  commit.offset = end;
  if (clear) table_->remove_all_files();
  if (!records.empty()) {
    const StructType table_schema = schema();
    ColumnBatch rows(table_schema);
    Column& root = rows.root();
    const std::string offset = end.to_json();
    const std::int64_t at = now_micros();
    for (const BadRecord& bad : records) {
      root.child(0).append_bytes(source_table);
      root.child(1).append_bytes(valid_utf8(bad.record));
      root.child(2).append_bytes(valid_utf8(bad.reason));
      root.child(3).append_bytes(offset);
      root.child(4).append_value<std::int64_t>(at);
      root.append_valid();
    }
    const std::unique_ptr<destination::FileWriter> writer = table_->write_files();
    writer->write(rows);
    writer->close();
  }
  try {
    table_->commit(commit);
  } catch (const std::exception&) {
    table_->discard_uncommitted();
    throw;
  }
}

}  // namespace lakeflow::pipeline
