#include "pipeline/quarantine.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>
#include <utility>

#include "columnar/column_batch.h"
#include "pipeline/data_file.h"

namespace lakeflow::pipeline {
namespace {

using delta::Action;

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

QuarantineTable::QuarantineTable(std::filesystem::path path, std::string app_id)
    : path_(std::move(path)), app_id_(std::move(app_id)), log_(path_.string()) {
  if (log_.exists()) {
    snapshot_ = log_.snapshot();
    snapshot_.require_writable();
  } else {
    snapshot_ = delta::new_table_snapshot(schema());
    snapshot_.table_path = path_.string();
  }
}

std::int64_t QuarantineTable::batch() const { return snapshot_.txn_version(app_id_).value_or(0); }

int QuarantineTable::reconcile(std::int64_t committed_batch) {
  if (!exists() || batch() <= committed_batch) return 0;
  // The newest version that holds only batches the target committed (none: the empty table).
  std::optional<delta::Snapshot> good;
  int undone = 0;
  for (std::int64_t version = snapshot_.version; version >= 0; --version) {
    delta::Snapshot at = log_.snapshot_at(version);
    if (at.txn_version(app_id_).value_or(0) <= committed_batch) {
      good = std::move(at);
      break;
    }
    ++undone;
  }
  std::vector<Action> actions;
  delta::CommitInfo info;
  info.operation = "RESTORE";
  info.operation_parameters["reason"] = fmt::format(
      "undo quarantine batches after {} that the target table never committed", committed_batch);
  actions.emplace_back(std::move(info));
  delta::BatchProgress progress{app_id_, committed_batch, Offset(), std::nullopt};
  if (good) progress.offset = good->offset().value_or(Offset());
  for (Action& action : delta::progress_actions(snapshot_, progress)) {
    actions.push_back(std::move(action));
  }
  for (const auto& [file, add] : snapshot_.files) {
    if (!good || good->files.count(file) == 0) actions.emplace_back(delta::removal_of(add));
  }
  if (good) {
    for (const auto& [file, add] : good->files) {
      if (snapshot_.files.count(file) == 0) actions.emplace_back(add);
    }
  }
  const std::int64_t version = log_.commit(snapshot_.version, actions);
  snapshot_.apply(version, actions);
  return undone;
}

void QuarantineTable::commit(std::int64_t batch, const Offset& end, std::string_view source_table,
                             const std::vector<BadRecord>& records, bool clear) {
  if (records.empty() && !(clear && has_files())) return;
  std::vector<Action> actions;
  delta::CommitInfo info;
  info.operation = "WRITE";
  info.operation_parameters["mode"] = "Append";
  info.operation_metrics["numOutputRows"] = std::to_string(records.size());
  actions.emplace_back(std::move(info));
  for (Action& action : delta::progress_actions(snapshot_, {app_id_, batch, end, std::nullopt})) {
    actions.push_back(std::move(action));
  }
  if (clear) {
    for (const auto& [file, add] : snapshot_.files) actions.emplace_back(delta::removal_of(add));
  }
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
    DataFileWriter writer(path_, table_schema, files_written_++, snapshot_.version + 1);
    writer.write(rows);
    actions.emplace_back(writer.close());
  }
  std::int64_t version = 0;
  try {
    version = log_.commit(snapshot_.version, actions);
  } catch (const std::exception&) {
    if (const auto* add = std::get_if<delta::AddFile>(&actions.back())) {
      discard_uncommitted(log_, snapshot_.version + 1, {*add});
    }
    throw;
  }
  snapshot_.apply(version, actions);
}

}  // namespace lakeflow::pipeline
