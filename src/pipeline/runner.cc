#include "pipeline/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <utility>

#include "delta/delta_actions.h"
#include "delta/delta_log.h"
#include "delta/parquet_reader.h"
#include "delta/parquet_writer.h"
#include "lakeflow/column_batch.h"
#include "lakeflow/json.h"
#include "lakeflow/offset.h"
#include "lakeflow/record_converter.h"
#include "lakeflow/records.h"
#include "lakeflow/registry.h"
#include "pipeline/row.h"
#include "pipeline/table_plan.h"

namespace lakeflow::pipeline {
namespace {

using delta::Action;
using delta::AddFile;
using delta::DeltaLog;
using delta::RemoveFile;
using delta::Snapshot;

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string scd_name(ScdType type) { return type == ScdType::kType2 ? "SCD_TYPE_2" : "SCD_TYPE_1"; }

// One table's run: the connector, the plan, the table's log and snapshot, and the counts.
class TableRun {
 public:
  TableRun(const PipelineSpec& spec, const TableSpec& table, const Connection& connection,
           const RunOptions& options)
      : table_(table), options_(options), path_(spec.table_path(table)), log_(path_.string()) {
    result_.source_table = table.source_table;
    result_.destination = table.destination_name();
    result_.path = path_;
    connector_ = ConnectorRegistry::instance().create(connection.connector, connection.options);
    const TableMetadata metadata =
        connector_->read_table_metadata(table.source_table, table.table_options);
    const StructType schema = connector_->get_table_schema(table.source_table, table.table_options);
    plan_ = plan_table(table, metadata, schema);
    result_.ingestion_type = std::string(to_string(plan_.ingestion_type));
    result_.flow = std::string(to_string(plan_.flow));
    if (plan_.flow != TargetFlow::kAppend) result_.scd_type = scd_name(plan_.scd_type);
    app_id_ = "lakeflow:" + result_.destination;
  }

  TableResult run() {
    const auto started = std::chrono::steady_clock::now();
    for (const std::string& note : plan_.notes) say(fmt::format("note: {}", note));
    if (log_.exists()) {
      snapshot_ = log_.snapshot();
    } else {
      snapshot_ = delta::new_table_snapshot(plan_.target_schema);
      snapshot_.table_path = path_.string();
    }
    snapshot_.require_writable();
    replace_all_ = options_.full_refresh && snapshot_.version >= 0;
    if (!options_.full_refresh && plan_.incremental) {
      offset_ = snapshot_.offset().value_or(Offset());
      deletes_offset_ = snapshot_.deletes_offset();
    }
    say(fmt::format("start: {} -> {} ({}, {}), offset {}", table_.source_table, result_.destination,
                    result_.ingestion_type, result_.flow, offset_.to_json()));

    if (plan_.flow == TargetFlow::kApplyChangesFromSnapshot) {
      run_snapshot();
    } else {
      run_reads(/*deletes=*/false);
      if (plan_.read_deletes) run_reads(/*deletes=*/true);
    }
    if (snapshot_.version < 0) commit({}, "CREATE TABLE");  // an empty source still lands
    result_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    say(fmt::format("done: {} records, +{} ~{} -{} rows, {} files, {} commits, {:.2f}s",
                    result_.records, result_.inserted, result_.updated, result_.deleted,
                    result_.files, result_.commits, result_.seconds));
    return result_;
  }

 private:
  void say(const std::string& line) const {
    if (options_.log) options_.log(fmt::format("[{}] {}", result_.destination, line));
  }

  // Reads (or, with `deletes`, reads deletes) until the offset stops changing; one commit per call.
  void run_reads(bool deletes) {
    Offset start = deletes ? deletes_offset_.value_or(Offset()) : offset_;
    for (;;) {
      ReadResult read =
          deletes ? connector_->read_table_deletes(table_.source_table, start, table_.table_options)
                  : connector_->read_table(table_.source_table, start, table_.table_options);
      std::vector<std::string> raw = drain(read.records);
      Offset end = std::move(read.end);
      if (end.is_null()) end = start;
      const bool moved = !(end == start);
      if (!raw.empty() || moved) {
        if (deletes) {
          deletes_offset_ = end;
        } else {
          offset_ = end;
        }
        if (plan_.flow == TargetFlow::kAppend) {
          write_append(raw);
        } else {
          write_changes(raw, deletes);
        }
      }
      if (!moved) break;
      start = std::move(end);
    }
  }

  void run_snapshot() {
    Offset start;
    std::vector<std::string> rows;
    for (;;) {
      ReadResult read = connector_->read_table(table_.source_table, start, table_.table_options);
      std::vector<std::string> raw = drain(read.records);
      rows.insert(rows.end(), std::make_move_iterator(raw.begin()),
                  std::make_move_iterator(raw.end()));
      if (read.end.is_null() || read.end == start) break;
      start = std::move(read.end);
    }
    std::vector<Row> snapshot_rows;
    for (const std::string& json : normalize(rows, plan_.source_schema)) {
      snapshot_rows.emplace_back(json);
    }
    MergeEngine engine(plan_.merge_spec());
    const std::vector<FileRows> files = load_files(engine, nullptr);
    std::vector<Row> current;
    for (const FileRows& file : files)
      current.insert(current.end(), file.rows.begin(), file.rows.end());
    MergeResult merged = engine.apply_snapshot(snapshot_rows, current, now_micros());
    if (merged.replaced_keys.empty() && merged.rows.empty() && !replace_all_) return;
    rewrite(files, merged, "MERGE");
  }

  std::vector<std::string> drain(RecordStream& stream) {
    std::vector<std::string> out;
    RecordBatch batch;
    while (stream.next(batch)) {
      for (std::size_t i = 0; i < batch.size(); ++i) out.emplace_back(batch[i]);
    }
    result_.records += out.size();
    return out;
  }

  // Converts raw records with `schema` and returns each row as row_json (the merge engine's form).
  std::vector<std::string> normalize(const std::vector<std::string>& raw,
                                     const StructType& schema) {
    ColumnBatch batch = to_batch(raw, schema);
    std::vector<std::string> rows;
    rows.reserve(batch.num_rows());
    for (std::size_t i = 0; i < batch.num_rows(); ++i) rows.push_back(batch.row_json(i));
    return rows;
  }

  ColumnBatch to_batch(const std::vector<std::string>& rows, const StructType& schema) {
    RecordConverter converter(schema, result_.destination);
    ColumnBatch batch = converter.make_batch();
    RecordBatch records;
    for (const std::string& row : rows) records.append(row);
    converter.convert(records, batch);
    return batch;
  }

  // The merge engine's delete tombstones live in the table's metaData configuration
  // (kTombstonesKey: a JSON array of [key, sequence] pairs), so they are committed atomically with
  // the data and offsets they belong to.
  static constexpr std::string_view kTombstonesKey = "lakeflow.tombstones";

  std::vector<Tombstone> load_tombstones() const {
    std::vector<Tombstone> out;
    const std::string* text = snapshot_.metadata.config(kTombstonesKey);
    if (text == nullptr || replace_all_) return out;
    const JsonValue pairs = JsonValue::parse(*text, kTombstonesKey);
    for (const JsonValue& pair : pairs.as_array()) {
      out.push_back({pair.as_array().at(0).dump(), pair.as_array().at(1).dump()});
    }
    return out;
  }

  // Applies the merge's tombstone changes to `stored` and sets them in the snapshot's metaData,
  // which the next commit's progress actions carry.
  void store_tombstones(const MergeEngine& engine, std::vector<Tombstone> stored,
                        const MergeResult& merged) {
    if (merged.tombstones_set.empty() && merged.tombstones_cleared.empty()) return;
    std::unordered_set<RowKey> dropped(merged.tombstones_cleared.begin(),
                                       merged.tombstones_cleared.end());
    for (const Tombstone& tombstone : merged.tombstones_set) {
      dropped.insert(engine.key_of(Row(tombstone.key_json)));
    }
    JsonValue::Array pairs;
    auto add = [&pairs](const Tombstone& tombstone) {
      pairs.emplace_back(JsonValue::Array{JsonValue::parse(tombstone.key_json),
                                          JsonValue::parse(tombstone.sequence_json)});
    };
    for (const Tombstone& tombstone : stored) {
      if (dropped.count(engine.key_of(Row(tombstone.key_json))) == 0) add(tombstone);
    }
    for (const Tombstone& tombstone : merged.tombstones_set) add(tombstone);
    if (pairs.empty()) {
      snapshot_.metadata.configuration.erase(std::string(kTombstonesKey));
    } else {
      snapshot_.metadata.configuration[std::string(kTombstonesKey)] =
          JsonValue(std::move(pairs)).dump();
    }
  }

  // One active data file's rows (target-schema JSON) and their keys.
  struct FileRows {
    const AddFile* add;
    std::vector<Row> rows;
    std::vector<RowKey> keys;
  };

  // The active files, with their rows; only those holding one of `keys` when given. (Every file
  // is read: the files to rewrite are found by their rows, not yet by their key statistics.)
  std::vector<FileRows> load_files(const MergeEngine& engine,
                                   const std::unordered_set<RowKey>* keys) const {
    std::vector<FileRows> files;
    if (replace_all_) return files;
    for (const auto& [file_path, add] : snapshot_.files) {
      const parquet::ParquetReader reader((path_ / delta::decode_path(file_path)).string());
      const ColumnBatch batch = reader.read(plan_.target_schema);
      FileRows file{&add, {}, {}};
      bool hit = keys == nullptr;
      for (std::size_t i = 0; i < batch.num_rows(); ++i) {
        file.rows.emplace_back(batch.row_json(i));
        file.keys.push_back(engine.key_of(file.rows.back()));
        hit = hit || keys->count(file.keys.back()) > 0;
      }
      if (hit) files.push_back(std::move(file));
    }
    return files;
  }

  RemoveFile remove_of(const std::string& file_path, const AddFile& add) const {
    RemoveFile remove;
    remove.path = file_path;
    remove.deletion_timestamp = delta::now_millis();
    remove.data_change = true;
    remove.extended_file_metadata = true;
    remove.partition_values = add.partition_values;
    remove.size = add.size;
    return remove;
  }

  // Writes `batch` as a new data file; returns its add action.
  AddFile write_file(const ColumnBatch& batch) {
    const std::string name =
        fmt::format("part-{:05}-{}-c000.zstd.parquet", result_.files, delta::random_uuid());
    std::filesystem::create_directories(path_);
    parquet::ParquetWriter writer((path_ / name).string(), plan_.target_schema);
    writer.write(batch);
    const parquet::ParquetFileStats stats = writer.close();
    ++result_.files;
    AddFile add;
    add.path = delta::encode_path(name);
    add.size = static_cast<std::int64_t>(stats.size_bytes);
    add.modification_time = delta::now_millis();
    add.data_change = true;
    add.stats = stats.delta_stats_json();
    return add;
  }

  std::vector<Action> remove_all() const {
    std::vector<Action> actions;
    for (const auto& [file_path, add] : snapshot_.files) {
      actions.emplace_back(remove_of(file_path, add));
    }
    return actions;
  }

  void write_append(const std::vector<std::string>& raw) {
    std::vector<Action> actions;
    if (replace_all_) actions = remove_all();
    if (!raw.empty()) {
      const ColumnBatch batch = to_batch(raw, plan_.target_schema);
      actions.emplace_back(write_file(batch));
      result_.inserted += batch.num_rows();
    }
    commit(std::move(actions), "WRITE");
  }

  void write_changes(const std::vector<std::string>& raw, bool deletes) {
    MergeEngine engine(plan_.merge_spec());
    std::vector<Change> changes;
    changes.reserve(raw.size());
    if (deletes) {
      // Delete records carry the key and the cursor; other fields may be missing.
      for (const std::string& json : raw) changes.push_back(Change::remove(json));
    } else {
      for (std::string& json : normalize(raw, plan_.source_schema)) {
        changes.push_back(Change::upsert(std::move(json)));
      }
    }
    std::unordered_set<RowKey> changed;
    for (const Change& change : changes) changed.insert(engine.key_of(change.row));
    const std::vector<FileRows> files = load_files(engine, &changed);
    std::vector<Row> current;
    for (const FileRows& file : files)
      current.insert(current.end(), file.rows.begin(), file.rows.end());
    std::vector<Tombstone> stored = load_tombstones();
    MergeResult merged = engine.apply_changes(changes, current, stored);
    store_tombstones(engine, std::move(stored), merged);
    rewrite(files, merged, "MERGE");
  }

  // Commits the merge (copy-on-write): every file of `files` that holds a replaced key is removed,
  // and one new file holds its rows of other keys plus the merge's rows. Other files stay.
  void rewrite(const std::vector<FileRows>& files, const MergeResult& merged,
               std::string_view operation) {
    result_.inserted += merged.counts.inserted;
    result_.updated += merged.counts.updated;
    result_.deleted += merged.counts.deleted;
    std::vector<Action> actions;
    const bool changed = !merged.replaced_keys.empty() || !merged.rows.empty() || replace_all_;
    if (changed) {
      std::vector<std::string> rows;
      if (replace_all_) actions = remove_all();
      for (const FileRows& file : files) {
        const bool hit = std::any_of(file.keys.begin(), file.keys.end(), [&](const RowKey& key) {
          return merged.replaced_keys.count(key) > 0;
        });
        if (!hit) continue;
        actions.emplace_back(remove_of(file.add->path, *file.add));
        for (std::size_t i = 0; i < file.rows.size(); ++i) {
          if (merged.replaced_keys.count(file.keys[i]) == 0) rows.push_back(file.rows[i].json());
        }
      }
      rows.insert(rows.end(), merged.rows.begin(), merged.rows.end());
      if (!rows.empty()) actions.emplace_back(write_file(to_batch(rows, plan_.target_schema)));
    }
    commit(std::move(actions), operation);
  }

  void commit(std::vector<Action> data_actions, std::string_view operation) {
    delta::BatchProgress progress;
    progress.app_id = app_id_;
    progress.batch_version = snapshot_.txn_version(app_id_).value_or(0) + 1;
    progress.offset = plan_.incremental ? offset_ : Offset();
    if (plan_.read_deletes) progress.deletes_offset = deletes_offset_.value_or(Offset());
    std::vector<Action> actions;
    delta::CommitInfo info;
    info.operation = std::string(operation);
    info.operation_parameters["table"] = result_.destination;
    actions.emplace_back(std::move(info));
    for (Action& action : delta::progress_actions(snapshot_, progress)) {
      actions.push_back(std::move(action));
    }
    for (Action& action : data_actions) actions.push_back(std::move(action));
    const std::int64_t version = log_.commit(snapshot_.version, actions);
    snapshot_.apply(version, actions);
    replace_all_ = false;
    ++result_.commits;
  }

  const TableSpec& table_;
  const RunOptions& options_;
  std::filesystem::path path_;
  DeltaLog log_;
  std::unique_ptr<LakeflowConnect> connector_;
  TablePlan plan_;
  std::string app_id_;
  Snapshot snapshot_;
  bool replace_all_ = false;
  Offset offset_;
  std::optional<Offset> deletes_offset_;
  TableResult result_;
};

bool selected(const TableSpec& table, const std::vector<std::string>& names) {
  if (names.empty()) return true;
  return std::any_of(names.begin(), names.end(), [&](const std::string& name) {
    return name == table.source_table || name == table.destination_table ||
           name == table.destination_name();
  });
}

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

TableResult run_table(const PipelineSpec& spec, const TableSpec& table,
                      const Connection& connection, const RunOptions& options) {
  TableRun run(spec, table, connection, options);
  return run.run();
}

std::vector<TableResult> run_pipeline(const PipelineSpec& spec, const Connection& connection,
                                      const RunOptions& options) {
  for (const std::string& name : options.tables) {
    const bool known = std::any_of(spec.tables.begin(), spec.tables.end(),
                                   [&](const TableSpec& t) { return selected(t, {name}); });
    if (!known) {
      std::vector<std::string> names;
      for (const TableSpec& t : spec.tables) names.push_back(t.source_table);
      throw ConfigError(fmt::format("--tables: '{}' is not a table of {} (tables: {})", name,
                                    spec.file_name, fmt::join(names, ", ")));
    }
  }
  std::vector<const TableSpec*> tables;
  for (const TableSpec& table : spec.tables) {
    if (selected(table, options.tables)) tables.push_back(&table);
  }
  std::vector<TableResult> results(tables.size());
  std::mutex log_mutex;
  RunOptions locked = options;
  locked.log = [&](std::string_view line) {
    if (!options.log) return;
    const std::lock_guard<std::mutex> lock(log_mutex);
    options.log(redact(std::string(line), connection.secret_values));
  };
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < tables.size(); i = next++) {
      try {
        results[i] = run_table(spec, *tables[i], connection, locked);
      } catch (const std::exception& e) {
        TableResult failed;
        failed.source_table = tables[i]->source_table;
        failed.destination = tables[i]->destination_name();
        failed.path = spec.table_path(*tables[i]);
        failed.error = redact(e.what(), connection.secret_values);
        const auto* error = dynamic_cast<const Error*>(&e);
        failed.error_code = error != nullptr ? error->code() : ErrorCode::kInternal;
        locked.log(fmt::format("[{}] failed: {}", failed.destination, *failed.error));
        results[i] = std::move(failed);
      }
    }
  };
  std::size_t parallelism = options.parallelism;
  if (parallelism == 0) parallelism = std::max(1U, std::thread::hardware_concurrency());
  parallelism = std::min(parallelism, tables.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < parallelism; ++i) threads.emplace_back(worker);
  worker();
  for (std::thread& thread : threads) thread.join();
  return results;
}

std::vector<std::string> read_table_rows(const std::filesystem::path& table_path,
                                         std::optional<std::size_t> limit) {
  const DeltaLog log(table_path.string());
  if (!log.exists()) {
    throw delta::DeltaLogError(fmt::format(
        "{}: not a Delta table (no _delta_log commits); give the directory of a table that "
        "'lakeflow run' wrote",
        table_path.string()));
  }
  const Snapshot snapshot = log.snapshot();
  const StructType schema = snapshot.metadata.schema();
  std::vector<std::string> rows;
  for (const auto& [file_path, add] : snapshot.files) {
    if (limit && rows.size() >= *limit) break;
    const parquet::ParquetReader reader((table_path / delta::decode_path(file_path)).string());
    const ColumnBatch batch = reader.read(schema);
    for (std::size_t i = 0; i < batch.num_rows(); ++i) {
      if (limit && rows.size() >= *limit) break;
      rows.push_back(batch.row_json(i));
    }
  }
  return rows;
}

}  // namespace lakeflow::pipeline
