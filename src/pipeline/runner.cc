#include "pipeline/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "columnar/column_batch.h"
#include "columnar/column_sort.h"
#include "columnar/record_converter.h"
#include "lakeflow/http/redactor.h"
#include "lakeflow/json.h"
#include "lakeflow/offset.h"
#include "lakeflow/records.h"
#include "lakeflow/registry.h"
#include "pipeline/batch_merge.h"
#include "pipeline/key_filter.h"
#include "pipeline/parallel.h"
#include "pipeline/preflight.h"
#include "pipeline/quarantine.h"
#include "pipeline/row.h"
#include "pipeline/run_record.h"
#include "pipeline/table_plan.h"

namespace lakeflow::pipeline {
namespace {

using destination::Destination;
using destination::FileWriter;

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string scd_name(ScdType type) { return type == ScdType::kType2 ? "SCD_TYPE_2" : "SCD_TYPE_1"; }

// Where the records being converted came from, for error messages: a read call from `start`, or
// one partition of the partitioned read from `start`.
struct ReadSource {
  const Offset& start;
  const Offset* partition = nullptr;

  std::string describe() const {
    if (partition == nullptr) {
      return fmt::format("the read call that started at offset {}", start.to_json());
    }
    return fmt::format("partition {} of the read that started at offset {}", partition->to_json(),
                       start.to_json());
  }
};

// `e`, raised for a record of `source`, with that read's offset and what to do in its message.
ConversionError with_read_context(const ConversionError& e, const ReadSource& source) {
  return ConversionError(
      e.table(), e.record_index(), e.field_path(), e.expected_type(), e.excerpt(),
      fmt::format("{}{}(record {} of {}; nothing of that {} was committed: fix the record, or "
                  "rerun with --on-bad-record quarantine to set bad records aside)",
                  e.reason(), e.reason().empty() ? "" : " ", e.record_index(), source.describe(),
                  source.partition == nullptr ? "call" : "read"));
}

// The records of one or more read calls, kept in the batches the connector returned (so each
// keeps its source text for a raw record column, RecordBatch::source), with a view of each
// record's text in order. The views stay valid when the batches move: a batch's bytes live in
// buffers it holds by pointer.
struct ReadRecords {
  std::vector<RecordBatch> batches;
  std::vector<std::string_view> texts;

  std::size_t size() const { return texts.size(); }
  bool empty() const { return texts.empty(); }
  std::string_view operator[](std::size_t i) const { return texts[i]; }
  void add(RecordBatch batch) {
    for (std::size_t i = 0; i < batch.size(); ++i) texts.push_back(batch[i]);
    batches.push_back(std::move(batch));
  }
  void add(ReadRecords more) {
    for (RecordBatch& batch : more.batches) add(std::move(batch));
  }
};

// One table's run: the connector, the plan, the table's log and snapshot, and the counts.
class TableRun {
 public:
  // `plan` is the table's plan from check_tables (preflight.h).
  // `connector`, when given, is a connector of `connection` to read with (else one is made).
  TableRun(const PipelineSpec& spec, const TableSpec& table, const Connection& connection,
           const Destination& destination, TablePlan plan, const RunOptions& options,
           std::unique_ptr<LakeflowConnect> connector = nullptr)
      : table_(table),
        connection_(connection),
        destination_(destination),
        options_(options),
        path_(spec.table_path(table)),
        started_(std::chrono::steady_clock::now()),
        plan_(std::move(plan)),
        connector_(std::move(connector)) {
    result_.source_table = table.source_table;
    result_.destination = table.destination_name();
    result_.path = path_;
    result_.ingestion_type = std::string(to_string(plan_.ingestion_type));
    result_.flow = std::string(to_string(plan_.flow));
    if (plan_.flow != TargetFlow::kAppend) result_.scd_type = scd_name(plan_.scd_type);
    app_id_ = "lakeflow:" + result_.destination;
    quarantining_ = options.on_bad_record == BadRecordMode::kQuarantine;
  }

  TableResult run() {
    for (const std::string& note : plan_.notes) say(fmt::format("note: {}", note));
    target_ = destination_.open_table({path_, plan_.target_schema, app_id_, file_layout()});
    note_committed_offsets();
    replace_all_ = options_.full_refresh && target_->exists();
    if (target_->exists()) follow_source_schema();
    if (!options_.full_refresh && plan_.incremental) {
      offset_ = target_->offset().value_or(Offset());
      deletes_offset_ = target_->deletes_offset();
    }
    open_quarantine();
    current_offset_ = offset_.to_json();
    say(fmt::format("start: {} -> {} ({}, {}), offset {}{}", table_.source_table,
                    result_.destination, result_.ingestion_type, result_.flow, current_offset_,
                    plan_.read_deletes
                        ? ", deletes offset " + deletes_offset_.value_or(Offset()).to_json()
                        : ""));
    report(TableProgress::Stage::kReading);
    if (!connector_) {
      connector_ = ConnectorRegistry::instance().create(connection_.connector, connection_.options);
    }
    partitioned_ = connector_->reads_partitions();

    if (plan_.flow == TargetFlow::kApplyChangesFromSnapshot) {
      run_snapshot();
    } else {
      run_reads(/*deletes=*/false);
      if (plan_.read_deletes) run_reads(/*deletes=*/true);
    }
    if (replace_all_) {  // a full refresh that read nothing
      target_->remove_all_files();
      commit("WRITE");
    }
    if (!target_->exists()) commit("CREATE TABLE");              // an empty source still lands
    if (target_->layout_change_pending()) commit("CLUSTER BY");  // cluster_by changed, no data
    result_.seconds = elapsed();
    say(
        fmt::format("done: {} records, +{} ~{} -{} rows, {} quarantined, {} files, {} commits, "
                    "{:.2f}s",
                    result_.records, result_.inserted, result_.updated, result_.deleted,
                    result_.quarantined, result_.files, result_.commits, result_.seconds));
    report(TableProgress::Stage::kDone);
    return result_;
  }

  // Sets the result's offsets to those the table's log holds now (incremental tables only).
  void note_committed_offsets() {
    if (!plan_.incremental) return;
    if (std::optional<Offset> offset = target_->offset()) result_.offset = offset->to_json();
    if (!plan_.read_deletes) return;
    if (std::optional<Offset> offset = target_->deletes_offset()) {
      result_.deletes_offset = offset->to_json();
    }
  }

  // What the table's run did so far (all of it once run() returned).
  TableResult result() const {
    TableResult result = result_;
    result.seconds = elapsed();
    return result;
  }

  // Removes the data files of this table and of its quarantine table that no commit will ever
  // name: left by runs that stopped between writing and committing them.
  void remove_orphans() const {
    for (const std::filesystem::path& table : {path_, QuarantineTable::path_for(path_)}) {
      try {
        const std::vector<std::string> removed = destination_.remove_orphans(table);
        if (!removed.empty()) {
          say(
              fmt::format("note: removed {} data file(s) of {} that no commit names (left by a run "
                          "that stopped before committing them): {}",
                          removed.size(), table.filename().string(), fmt::join(removed, ", ")));
        }
      } catch (const std::exception& e) {
        say(fmt::format("note: could not look for data files no commit names in {}: {}",
                        table.string(), e.what()));
      }
    }
  }

 private:
  // Evolves the table's schema to the source's (schema_evolution.h) before anything is read: the
  // first commit of the run carries it (Table::set_schema). A full refresh rewrites the table with
  // the source's schema as it is.
  void follow_source_schema() {
    const StructType table_schema = target_->schema();
    StructType schema = plan_.target_schema;
    bool widened = false;
    if (!replace_all_) {
      EvolvedSchema evolved =
          evolve_schema(table_schema, plan_.target_schema, plan_.schema_evolution,
                        plan_.keep_columns, result_.destination, table_.source_table);
      for (const std::string& change : evolved.changes) say("schema: " + change);
      widened = evolved.widened;
      schema = std::move(evolved.schema);
    }
    plan_.target_schema = schema;
    target_->set_schema(schema, widened);
  }

  // A connector's notes about its reads go to the log and the table's result, each once.
  void keep_notes(const ReadResult& read) {
    for (const std::string& note : read.notes) {
      const std::string text = http::process_redactor()->redact(note);
      if (std::find(result_.notes.begin(), result_.notes.end(), text) != result_.notes.end()) {
        continue;
      }
      result_.notes.push_back(text);
      say("note: " + text);
    }
  }

  void say(const std::string& line) const {
    if (options_.log) options_.log(fmt::format("[{}] {}", result_.destination, line));
  }

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

  void report(TableProgress::Stage stage) const {
    if (!options_.progress) return;
    TableProgress progress;
    progress.stage = stage;
    progress.destination = result_.destination;
    progress.ingestion_type = result_.ingestion_type;
    progress.records = result_.records;
    progress.bytes = result_.bytes;
    progress.quarantined = result_.quarantined + pending_bad_.size();
    progress.inserted = result_.inserted;
    progress.updated = result_.updated;
    progress.deleted = result_.deleted;
    progress.commits = result_.commits;
    progress.seconds = elapsed();
    progress.offset = current_offset_;
    options_.progress(progress);
  }

  // Opens the quarantine table when records may go there or one exists (it is kept in step with
  // the target whatever the mode): undoes commits of batches the target never committed, and
  // with --full-refresh arranges for its rows to be cleared with the first commit.
  void open_quarantine() {
    const std::filesystem::path side = QuarantineTable::path_for(path_);
    if (!quarantining_ && !destination_.table_exists(side)) return;
    quarantine_.emplace(destination_, side, app_id_);
    if (const int undone = quarantine_->reconcile(target_->batch())) {
      say(fmt::format(
          "note: undid {} commit(s) of {}{} for batches this table never committed (an earlier "
          "run stopped between the two commits); those records are read again",
          undone, result_.destination, kQuarantineSuffix));
    }
    if (quarantine_->exists()) result_.quarantine_path = side;
    clear_quarantine_ = options_.full_refresh && quarantine_->has_files();
  }

  // Reads (or, with `deletes`, reads deletes) until the offset stops changing; one commit per call.
  void run_reads(bool deletes) {
    Offset start = deletes ? deletes_offset_.value_or(Offset()) : offset_;
    const bool append = plan_.flow == TargetFlow::kAppend && !deletes;
    for (;;) {
      ReadStep step = read_step(start, deletes, append);
      AppendedFile appended = step.appended;
      ReadRecords raw = std::move(step.raw);
      const bool any = append ? appended.records > 0 : !raw.empty();
      Offset end = std::move(step.end);
      if (end.is_null()) end = start;
      const bool moved = !(end == start);
      if (any || moved) {
        if (deletes) {
          deletes_offset_ = end;
        } else {
          offset_ = end;
        }
        batch_end_ = end;
        if (append) {
          commit_append(std::move(appended));
        } else {
          write_changes(raw, deletes, ReadSource{start});
        }
      }
      if (!moved) break;
      start = std::move(end);
    }
  }

  void run_snapshot() {
    Offset start;
    ReadRecords raw;
    for (;;) {
      ReadStep step = read_step(start, /*deletes=*/false, /*append=*/false);
      raw.add(std::move(step.raw));
      if (step.end.is_null() || step.end == start) break;
      start = std::move(step.end);
    }
    batch_end_ = start;
    MergeEngine engine(plan_.merge_spec());
    const SourceRows converted = convert_source(raw, ReadSource{Offset()});
    const std::vector<FileRows> files = load_files(engine, nullptr);
    // Merged by row index (batch_merge.h) unless the engine must decide.
    std::optional<BatchMergeResult> by_index;
    if (options_.merge_by_index && engine.target_schema() == plan_.target_schema) {
      by_index = apply_snapshot_rows(engine, converted.batch, target_rows(files), now_micros());
    }
    MergeResult merged;
    if (by_index) {
      merged = std::move(by_index->merge);
    } else {
      std::vector<Row> snapshot_rows;
      for (std::size_t i = 0; i < converted.batch.num_rows(); ++i) {
        const std::size_t index = converted.indexes[i];
        if (auto row = admit(engine, converted.batch.row_json(i), raw[index], index)) {
          snapshot_rows.push_back(std::move(*row));
        }
      }
      merged = engine.apply_snapshot(snapshot_rows, rows_of(files), now_micros());
    }
    if (merged.replaced_keys.empty() && merged.rows.empty() && !replace_all_ &&
        pending_bad_.empty() && (!by_index || by_index->rows.empty())) {
      return;
    }
    if (by_index) {
      rewrite(engine, files, merged, "MERGE",
              by_index->versions ? &*by_index->versions : &converted.batch, by_index->rows);
      return;
    }
    rewrite(engine, files, merged, "MERGE");
  }

  // Counts a batch of source records as read (under `read_mutex_`: partitions count from
  // several threads).
  void count_read(const RecordBatch& batch) {
    const std::lock_guard<std::mutex> lock(read_mutex_);
    result_.records += batch.size();
    result_.bytes += batch.byte_size();
    report(TableProgress::Stage::kReading);
  }

  ReadRecords drain(RecordStream& stream) {
    ReadRecords out;
    RecordBatch batch;
    while (stream.next(batch)) {
      count_read(batch);
      out.add(std::move(batch));
      batch = RecordBatch();
    }
    return out;
  }

  // Converts `records` (those in [begin, end) when given) into `out`. Bad records throw (kFail,
  // with the read call's offset in the message) or go to pending_bad_ (kQuarantine); returns their
  // record indexes.
  std::vector<std::size_t> convert(RecordConverter& converter, const RecordBatch& records,
                                   ColumnBatch& out, const ReadSource& source,
                                   std::size_t begin = 0,
                                   std::size_t end = std::numeric_limits<std::size_t>::max()) {
    try {
      converter.convert(records, begin, std::min(end, records.size()), out);
    } catch (const ConversionError& e) {
      throw with_read_context(e, source);
    }
    std::vector<std::size_t> indexes;
    const std::lock_guard<std::mutex> lock(read_mutex_);
    for (const BadRecord& bad : converter.bad_records()) {
      indexes.push_back(bad.record_index);
      pending_bad_.push_back(bad);
    }
    converter.clear_bad_records();
    return indexes;
  }

  // Source records converted with the source schema: a row per good record, and each row's
  // record index in the read.
  struct SourceRows {
    const ColumnBatch& batch;  // source_batch_, until the next convert_source
    std::vector<std::size_t> indexes;
  };

  // Converts source records (read from `start`) with the source schema.
  SourceRows convert_source(const ReadRecords& raw, const ReadSource& source) {
    if (!source_converter_) {
      source_converter_.emplace(plan_.source_schema, result_.destination, options_.on_bad_record,
                                plan_.conversion);
    }
    RecordConverter& converter = *source_converter_;
    converter.restart_record_count();
    if (source_batch_) {
      source_batch_->clear();
    } else {
      source_batch_.emplace(converter.make_batch());
    }
    ColumnBatch& batch = *source_batch_;
    SourceRows out{batch, {}};
    std::vector<std::size_t> bad;
    for (const RecordBatch& records : raw.batches) {
      const std::vector<std::size_t> more = convert(converter, records, batch, source);
      bad.insert(bad.end(), more.begin(), more.end());
    }
    out.indexes.reserve(out.batch.num_rows());
    std::size_t index = 0;
    auto next_bad = bad.begin();
    for (std::size_t i = 0; i < out.batch.num_rows(); ++i, ++index) {
      while (next_bad != bad.end() && *next_bad == index) ++next_bad, ++index;
      out.indexes.push_back(index);
    }
    return out;
  }

  // The row of a change or snapshot record, or nullopt when quarantine mode sets it aside: its
  // primary key (or, for apply_changes, its sequence value) is missing or unreadable, which would
  // otherwise fail the whole batch in the merge engine. Without quarantine, returns the row.
  std::optional<Row> admit(const MergeEngine& engine, std::string json, std::string_view raw,
                           std::size_t index) {
    if (!quarantining_) return Row(std::move(json));
    try {
      Row row(std::move(json));
      engine.key_of(row);
      if (plan_.flow == TargetFlow::kApplyChanges && plan_.sequence_by) {
        const std::string& column = *plan_.sequence_by;
        const auto value = row.find_path(column);
        if (!value || *value == "null") {
          throw Error(ErrorCode::kData,
                      fmt::format("table '{}': the record has no value for sequence_by column '{}'",
                                  result_.destination, column));
        }
        TypedValue::read(*value, plan_.source_schema.find_path(column)->type,
                         plan_.conversion.timestamp_zone_offset);
      }
      return row;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kData) throw;
      pending_bad_.push_back({index, "", e.what(), std::string(raw)});
      return std::nullopt;
    }
  }

  // The merge engine's delete tombstones live in a table property
  // (kTombstonesKey: a JSON array of [key, sequence] pairs), so they are committed atomically with
  // the data and offsets they belong to.
  static constexpr std::string_view kTombstonesKey = "lakeflow.tombstones";

  std::vector<Tombstone> load_tombstones() const {
    std::vector<Tombstone> out;
    const std::optional<std::string> text = target_->property(kTombstonesKey);
    if (!text || replace_all_) return out;
    const JsonValue pairs = JsonValue::parse(*text, kTombstonesKey);
    for (const JsonValue& pair : pairs.as_array()) {
      out.push_back({pair.as_array().at(0).dump(), pair.as_array().at(1).dump()});
    }
    return out;
  }

  // Applies the merge's tombstone changes to `stored` and stages them as the table property the
  // next commit carries.
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
    target_->set_property(kTombstonesKey, pairs.empty() ? std::nullopt
                                                        : std::optional<std::string>(
                                                              JsonValue(std::move(pairs)).dump()));
  }

  // One data file's rows (of the target schema) and their keys.
  struct FileRows {
    std::size_t file;  // its number in target_
    ColumnBatch rows;
    std::vector<RowKey> keys;
  };

  // `files` as batch_merge.h takes them.
  static std::vector<TargetRows> target_rows(const std::vector<FileRows>& files) {
    std::vector<TargetRows> out;
    out.reserve(files.size());
    for (const FileRows& file : files) out.push_back({&file.rows, &file.keys});
    return out;
  }

  // The rows of `files` as the merge engine reads them (JSON text).
  static std::vector<Row> rows_of(const std::vector<FileRows>& files) {
    std::vector<Row> out;
    for (const FileRows& file : files) {
      for (std::size_t i = 0; i < file.rows.num_rows(); ++i)
        out.emplace_back(file.rows.row_json(i));
    }
    return out;
  }

  // The key of each row of `batch` (target rows): read from the key columns, or where they cannot
  // be (a null key), by the engine from the row's JSON, which names the problem.
  static std::vector<RowKey> keys_of(const MergeEngine& engine, const ColumnBatch& batch) {
    const BatchKeys columns(engine, batch);
    std::vector<RowKey> keys;
    keys.reserve(batch.num_rows());
    for (std::size_t i = 0; i < batch.num_rows(); ++i) {
      std::optional<RowKey> key = columns.usable() ? columns.key(i) : std::nullopt;
      keys.push_back(key ? std::move(*key) : engine.key_of(Row(batch.row_json(i))));
    }
    return keys;
  }

  // The active files, with their rows: every file without `keys`; with them, only the files that
  // hold one of them, and of those only the ones `filter` does not rule out by their key column
  // ranges are read (the others are counted as skipped).
  std::vector<FileRows> load_files(const MergeEngine& engine,
                                   const std::unordered_set<RowKey>* keys,
                                   const KeyFilter* filter = nullptr) {
    std::vector<FileRows> files;
    if (replace_all_) return files;
    std::vector<FieldPath> used;
    if (filter != nullptr) {
      for (std::size_t column : filter->used_columns()) {
        used.push_back(field_path(engine.key_columns()[column].path));
      }
    }
    std::vector<destination::ColumnRange> ranges(used.size());
    const std::vector<StructField> key_fields =
        keys != nullptr ? this->key_fields(engine) : std::vector<StructField>();
    std::unordered_set<std::uint64_t> changed_hashes;
    if (keys != nullptr) {
      for (const RowKey& key : *keys) changed_hashes.insert(std::hash<RowKey>()(key));
    }
    for (std::size_t index = 0; index < target_->file_count(); ++index) {
      if (filter != nullptr && !used.empty()) {
        for (std::size_t i = 0; i < used.size(); ++i) {
          ranges[i] = target_->column_range(index, used[i]);
        }
        if (!filter->may_hold(ranges)) {
          ++result_.files_skipped;
          continue;
        }
      }
      ++result_.files_read;
      auto holds_key = [keys](const std::vector<RowKey>& file_keys) {
        return std::any_of(file_keys.begin(), file_keys.end(),
                           [keys](const RowKey& key) { return keys->count(key) > 0; });
      };
      if (keys != nullptr && !key_fields.empty()) {
        // Its key hashes (from its key columns, read once per run) first: most files a batch's
        // key ranges overlap hold none of its keys.
        const std::vector<std::uint64_t>* hashes = key_hashes(engine, index, key_fields);
        if (hashes != nullptr &&
            std::none_of(hashes->begin(), hashes->end(),
                         [&](std::uint64_t hash) { return changed_hashes.contains(hash); })) {
          continue;
        }
      }
      FileRows file{index, target_->read_file(index, plan_.target_schema), {}};
      file.keys = keys_of(engine, file.rows);
      if (keys == nullptr || holds_key(file.keys)) files.push_back(std::move(file));
    }
    return files;
  }

  // The hashes of the keys of data file `index`, read from its key columns (`key_fields`) the
  // first time a merge of this run asks and kept by the file's name (its rows never change);
  // nullptr when a key is null (the engine reads the whole row and reports it).
  const std::vector<std::uint64_t>* key_hashes(const MergeEngine& engine, std::size_t index,
                                               const std::vector<StructField>& key_fields) {
    const std::string name = target_->file_name(index);
    if (const auto it = key_hashes_.find(name); it != key_hashes_.end()) return &it->second;
    std::optional<std::vector<std::uint64_t>> hashes =
        hashes_of_keys(engine, target_->read_file(index, StructType(key_fields)));
    if (!hashes) return nullptr;
    return &key_hashes_.emplace(name, std::move(*hashes)).first->second;
  }

  // The hash of the key of each row of `rows` (read from its key columns), or nullopt when a key
  // is null or the key columns cannot be read (the engine reads the whole row then).
  static std::optional<std::vector<std::uint64_t>> hashes_of_keys(const MergeEngine& engine,
                                                                  const ColumnBatch& rows) {
    const BatchKeys columns(engine, rows);
    if (!columns.usable()) return std::nullopt;
    std::vector<std::uint64_t> hashes;
    hashes.reserve(rows.num_rows());
    for (std::size_t i = 0; i < rows.num_rows(); ++i) {
      const std::optional<RowKey> key = columns.key(i);
      if (!key) return std::nullopt;
      hashes.push_back(std::hash<RowKey>()(*key));
    }
    return hashes;
  }

  // The fields of the table's schema that lead to a key column, holding nothing else: the
  // columns a file is read with to find out whether it holds one of a batch's keys.
  std::vector<StructField> key_fields(const MergeEngine& engine) const {
    std::vector<FieldPath> paths;
    for (const MergeEngine::Column& key : engine.key_columns()) {
      paths.push_back(field_path(key.path));
    }
    return fields_on(plan_.target_schema.fields(), paths, 0);
  }
  static std::vector<StructField> fields_on(const std::vector<StructField>& fields,
                                            const std::vector<FieldPath>& paths,
                                            std::size_t depth) {
    std::vector<StructField> out;
    for (const StructField& field : fields) {
      bool whole = false;
      std::vector<FieldPath> below;
      for (const FieldPath& path : paths) {
        if (path.size() <= depth || path[depth] != field.name) continue;
        if (path.size() == depth + 1) {
          whole = true;
        } else {
          below.push_back(path);
        }
      }
      if (whole) {
        out.push_back(field);
      } else if (!below.empty() && field.type.id() == TypeId::kStruct) {
        StructField pruned = field;
        pruned.type = StructType(fields_on(field.type.fields(), below, depth + 1));
        out.push_back(std::move(pruned));
      }
    }
    return out;
  }

  // A key column's dotted path as the destination names fields: a top-level field whose name
  // holds the dot is that field (as Row::find_path reads it), otherwise the dots separate structs.
  FieldPath field_path(const std::string& dotted) const {
    if (plan_.target_schema.index_of(dotted)) return {dotted};
    FieldPath out;
    std::size_t start = 0;
    for (std::size_t dot = dotted.find('.'); dot != std::string::npos;
         start = dot + 1, dot = dotted.find('.', start)) {
      out.push_back(dotted.substr(start, dot - start));
    }
    out.push_back(dotted.substr(start));
    return out;
  }

  destination::FileLayout file_layout() const {
    destination::FileLayout layout;
    layout.clustering = plan_.clustering_columns();
    layout.target_file_bytes = options_.clustered_file_bytes;
    return layout;
  }

  // The files one append read call wrote (not committed yet).
  struct AppendedFile {
    std::size_t records = 0;  // read (bad ones included)
    std::size_t rows = 0;     // written (staged in target_ for the next commit)
  };

  // Converts and writes a read call's (or a partition's) records as they stream in, one batch at
  // a time, into new data files (opened at the first good row; one unless the table is
  // clustered). Partitions write at once: the writers are made and closed under read_mutex_
  // (target_ is one thread's at a time), and write on their own (destination.h).
  AppendedFile write_append(RecordStream& stream, const ReadSource& source) {
    AppendedFile out;
    RecordConverter converter(plan_.target_schema, result_.destination, options_.on_bad_record,
                              plan_.conversion);
    ColumnBatch columns = converter.make_batch();
    std::unique_ptr<FileWriter> writer;
    RecordBatch batch;
    while (stream.next(batch)) {
      out.records += batch.size();
      count_read(batch);
      // A large batch converts in slices of about options_.append_slice_bytes of record text,
      // each written out before the next: the converted columns stay small whatever the
      // connector's batch size.
      for (std::size_t begin = 0; begin < batch.size();) {
        std::size_t end = begin;
        for (std::size_t bytes = 0;
             end < batch.size() && (end == begin || bytes < options_.append_slice_bytes); ++end) {
          bytes += batch[end].size();
        }
        convert(converter, batch, columns, source, begin, end);
        begin = end;
        if (columns.num_rows() == 0) continue;
        if (!writer) {
          const std::lock_guard<std::mutex> lock(read_mutex_);
          writer = target_->write_files();
        }
        writer->write(columns);
        out.rows += columns.num_rows();
        columns.clear();
      }
    }
    if (writer) {
      const std::lock_guard<std::mutex> lock(read_mutex_);
      result_.files += writer->close().size();
    }
    return out;
  }

  // What one step of a read delivered: a read call's records, or those of every partition of a
  // plan (PartitionedReads), and the end offset.
  struct ReadStep {
    AppendedFile appended;  // append flow: written and staged for the next commit
    ReadRecords raw;        // other flows: the records, in partition order
    Offset end;
  };

  // One step from `start`: the partitions of the connector's plan when it plans this read, else
  // one read_table (or, with `deletes`, read_table_deletes) call. Append records are written as
  // they stream in (staged for the next commit); others are returned as JSON text.
  ReadStep read_step(const Offset& start, bool deletes, bool append) {
    current_offset_ = start.to_json();
    ReadStep step;
    if (!deletes && partitioned_) {
      std::optional<PartitionPlan> plan =
          connector_->plan_partitions(table_.source_table, start, table_.table_options);
      if (plan) {
        read_plan(*plan, start, append, step);
        step.end = std::move(plan->end);
        return step;
      }
    }
    ReadResult read =
        deletes ? connector_->read_table_deletes(table_.source_table, start, table_.table_options)
                : connector_->read_table(table_.source_table, start, table_.table_options);
    keep_notes(read);
    if (append) {
      step.appended = write_append(read.records, ReadSource{start});
    } else {
      step.raw = drain(read.records);
    }
    step.end = std::move(read.end);
    return step;
  }

  // Reads every partition of `plan` (the read from `start`) into `step`, with up to
  // RunOptions::parallelism threads, each with a connector of its own (the first uses
  // connector_). The step is committed once, by the caller, with the plan's end offset.
  void read_plan(const PartitionPlan& plan, const Offset& start, bool append, ReadStep& step) {
    const std::size_t count = plan.partitions.size();
    if (count == 0) return;
    std::size_t threads = options_.parallelism;
    if (threads == 0) threads = std::max(1U, std::thread::hardware_concurrency());
    threads = std::min(threads, count);
    say(fmt::format("reading {} partition(s) from offset {} with {} thread(s)", count,
                    start.to_json(), threads));
    if (worker_connectors_.size() < threads - 1) worker_connectors_.resize(threads - 1);
    std::vector<ReadRecords> raws(count);
    std::vector<AppendedFile> appended(count);
    for_each_parallel(count, threads, [&](std::size_t item, std::size_t worker) {
      const Offset& partition = plan.partitions[item];
      RecordStream records = worker_connector(worker).read_partition(table_.source_table, partition,
                                                                     table_.table_options);
      if (append) {
        appended[item] = write_append(records, ReadSource{start, &partition});
      } else {
        raws[item] = drain(records);
      }
    });
    for (std::size_t item = 0; item < count; ++item) {
      step.appended.records += appended[item].records;
      step.appended.rows += appended[item].rows;
      step.raw.add(std::move(raws[item]));
    }
  }

  // The connector read_plan's worker `worker` reads with: connector_ for the first, a connector
  // of its own (made on first use and kept for the table's run) for each other.
  LakeflowConnect& worker_connector(std::size_t worker) {
    if (worker == 0) return *connector_;
    std::unique_ptr<LakeflowConnect>& made =
        worker_connectors_.at(worker - 1);  // sized by read_plan
    if (!made)
      made = ConnectorRegistry::instance().create(connection_.connector, connection_.options);
    return *made;
  }

  void commit_append(const AppendedFile& appended) {
    if (replace_all_) target_->remove_all_files();
    result_.inserted += appended.rows;
    commit("WRITE");
  }

  void write_changes(const ReadRecords& raw, bool deletes, const ReadSource& source) {
    MergeEngine engine(plan_.merge_spec());
    std::vector<Change> changes;
    changes.reserve(raw.size());
    if (deletes) {
      // Delete records carry the key and the cursor; other fields may be missing.
      std::vector<Row> rows;
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (auto row = admit(engine, std::string(raw[i]), raw[i], i)) {
          rows.push_back(std::move(*row));
        }
      }
      if (merge_by_index(engine, BatchChanges{nullptr, rows})) return;
      for (Row& row : rows) changes.push_back({Change::Kind::kDelete, std::move(row)});
    } else {
      const SourceRows converted = convert_source(raw, source);
      if (merge_by_index(engine, BatchChanges{&converted.batch, {}})) return;
      for (std::size_t i = 0; i < converted.batch.num_rows(); ++i) {
        const std::size_t index = converted.indexes[i];
        if (auto row = admit(engine, converted.batch.row_json(i), raw[index], index)) {
          changes.push_back({Change::Kind::kUpsert, std::move(*row)});
        }
      }
    }
    std::unordered_set<RowKey> changed;
    std::vector<std::vector<TypedValue>> key_values;
    for (const Change& change : changes) {
      if (changed.insert(engine.key_of(change.row)).second) {
        key_values.push_back(engine.key_values(change.row));
      }
    }
    const KeyFilter filter(engine.key_columns(), std::move(key_values));
    const std::vector<FileRows> files = load_files(engine, &changed, &filter);
    merge_rows(engine, changes, files);
  }

  // Merges `changes` into the target rows of `files` through the merge engine (JSON rows), and
  // commits.
  void merge_rows(const MergeEngine& engine, const std::vector<Change>& changes,
                  const std::vector<FileRows>& files) {
    std::vector<Tombstone> stored = load_tombstones();
    MergeResult merged = engine.apply_changes(changes, rows_of(files), stored);
    store_tombstones(engine, std::move(stored), merged);
    rewrite(engine, files, merged, "MERGE");
  }

  // The merge of `changes` (upserts: the converted source batch; or deletes) by row index
  // (batch_merge.h), without rendering rows as JSON, and its commit. Returns false, having done
  // nothing, where the engine must decide: a table whose schema is not the engine's target schema,
  // keys not read from columns, a change without a key or sequence value (the engine reports or
  // quarantines it).
  bool merge_by_index(const MergeEngine& engine, const BatchChanges& changes) {
    if (!options_.merge_by_index || plan_.flow != TargetFlow::kApplyChanges ||
        !(engine.target_schema() == plan_.target_schema) ||
        (changes.upserts != nullptr && !(changes.upserts->schema() == engine.spec().schema))) {
      return false;
    }
    std::unordered_set<RowKey> changed;
    std::vector<std::vector<TypedValue>> key_values;
    if (changes.upserts != nullptr) {
      const BatchKeys keys(engine, *changes.upserts);
      if (!keys.usable() || !keys.has_sequence()) return false;
      for (std::size_t i = 0; i < changes.upserts->num_rows(); ++i) {
        std::optional<RowKey> key = keys.key(i);
        if (!key || !keys.sequence(i)) return false;
        if (changed.insert(std::move(*key)).second) key_values.push_back(*keys.key_values(i));
      }
    }
    for (const Row& row : changes.deletes) {
      // A delete without a key: the engine's error names it.
      if (changed.insert(engine.key_of(row)).second) key_values.push_back(engine.key_values(row));
    }
    const KeyFilter filter(engine.key_columns(), std::move(key_values));
    const std::vector<FileRows> files = load_files(engine, &changed, &filter);
    std::vector<Tombstone> stored = load_tombstones();
    std::optional<BatchMergeResult> merged =
        apply_changes_by_index(engine, changes, target_rows(files), stored);
    if (!merged) {
      // A problem the engine names in its error (a key with two SCD 1 rows, overlapping SCD 2
      // versions, a delete without a sequence value).
      std::vector<Change> rows;
      if (changes.upserts != nullptr) {
        for (std::size_t i = 0; i < changes.upserts->num_rows(); ++i) {
          rows.push_back(Change::upsert(changes.upserts->row_json(i)));
        }
      }
      for (const Row& row : changes.deletes) rows.push_back({Change::Kind::kDelete, row});
      merge_rows(engine, rows, files);
      return true;
    }
    store_tombstones(engine, std::move(stored), merged->merge);
    const ColumnBatch* written = merged->versions ? &*merged->versions : changes.upserts;
    rewrite(engine, files, merged->merge, "MERGE", written, merged->rows);
    return true;
  }

  // Commits the merge (copy-on-write): every file of `files` that holds a replaced key is removed,
  // and new files (one unless the table is clustered) hold its rows of other keys plus the
  // merge's rows: `merged.rows`, then the rows `taken` of `source` (a batch of the target schema).
  // Other files stay.
  void rewrite(const MergeEngine& engine, const std::vector<FileRows>& files,
               const MergeResult& merged, std::string_view operation,
               const ColumnBatch* source = nullptr, std::span<const std::uint32_t> taken = {}) {
    result_.inserted += merged.counts.inserted;
    result_.updated += merged.counts.updated;
    result_.deleted += merged.counts.deleted;
    const bool changed =
        !merged.replaced_keys.empty() || !merged.rows.empty() || !taken.empty() || replace_all_;
    if (changed) {
      if (replace_all_) target_->remove_all_files();
      // The rows of the new files, unless they are `source` as it is (then never made: a batch of
      // a wide schema costs more to make than a small one costs to write).
      std::optional<ColumnBatch> rows;
      auto batch = [&]() -> ColumnBatch& {
        if (!rows) rows.emplace(plan_.target_schema);
        return *rows;
      };
      std::vector<std::uint32_t> kept;
      for (const FileRows& file : files) {
        const bool hit = std::any_of(file.keys.begin(), file.keys.end(), [&](const RowKey& key) {
          return merged.replaced_keys.count(key) > 0;
        });
        if (!hit) continue;
        key_hashes_.erase(target_->file_name(file.file));
        target_->remove_file(file.file);
        kept.clear();
        for (std::size_t i = 0; i < file.keys.size(); ++i) {
          if (merged.replaced_keys.count(file.keys[i]) == 0) {
            kept.push_back(static_cast<std::uint32_t>(i));
          }
        }
        append_rows(file.rows, kept, batch());
      }
      if (!merged.rows.empty()) {
        RecordConverter converter(plan_.target_schema, result_.destination);
        RecordBatch records;
        for (const std::string& row : merged.rows) records.append(row);
        converter.convert(records, batch());
      }
      // Every row of `source` in order and nothing else (new keys, as in an initial load): the
      // batch is written as it is.
      bool whole_source = source != nullptr && (!rows || rows->num_rows() == 0) &&
                          taken.size() == source->num_rows();
      for (std::size_t i = 0; whole_source && i < taken.size(); ++i) whole_source = taken[i] == i;
      if (source != nullptr && !whole_source) append_rows(*source, taken, batch());
      const ColumnBatch& written = whole_source ? *source : batch();
      const std::unique_ptr<FileWriter> writer = target_->write_files();
      writer->write(written);
      const std::vector<std::string> names = writer->close();
      result_.files += names.size();
      // One file holds every row written: its key hashes are known without reading it back when a
      // later merge of the run asks (key_hashes).
      if (names.size() == 1) {
        if (auto hashes = hashes_of_keys(engine, written)) {
          key_hashes_.insert_or_assign(names.front(), std::move(*hashes));
        }
      }
    }
    commit(operation);
  }

  // Commits what is staged in target_ (see commit_batch). When that fails, the data files written
  // for the commit are removed, unless the commit was made after all.
  // Then tells the connector what the commit made durable (CommitListener).
  void commit(std::string_view operation) {
    try {
      commit_batch(operation);
    } catch (const std::exception&) {
      if (const std::size_t removed = target_->discard_uncommitted()) {
        say(fmt::format("note: removed the {} data file(s) written for the failed commit",
                        removed));
      }
      throw;
    }
    if (connector_) {
      connector_->committed(table_.source_table, table_.table_options,
                            plan_.incremental ? offset_ : Offset(),
                            plan_.read_deletes ? deletes_offset_ : std::nullopt);
    }
  }

  // The commit's provenance: what the table is (its ingestion type, flow and SCD type, in
  // operationParameters) and what the batch did since the previous commit (operationMetrics, named
  // as Spark's MERGE names them where it has a name), so that `lakeflow ui` and other readers of
  // the log see each run's counts without a second record.
  void describe(destination::Commit& commit, std::string_view operation,
                std::size_t quarantined) const {
    commit.operation = std::string(operation);
    commit.parameters["table"] = result_.destination;
    commit.parameters["ingestionType"] = result_.ingestion_type;
    commit.parameters["flow"] = result_.flow;
    if (!result_.scd_type.empty()) commit.parameters["scdType"] = result_.scd_type;
    auto metric = [&commit](std::string_view name, std::size_t now, std::size_t before) {
      commit.metrics[std::string(name)] = std::to_string(now - before);
    };
    metric("numSourceRecords", result_.records, counted_.records);
    metric("numTargetRowsInserted", result_.inserted, counted_.inserted);
    metric("numTargetRowsUpdated", result_.updated, counted_.updated);
    metric("numTargetRowsDeleted", result_.deleted, counted_.deleted);
    metric("numQuarantinedRecords", quarantined, 0);
    if (operation == "MERGE") {
      // Delta's MERGE metrics: the target's files before and after skipping by statistics.
      metric("numTargetFilesBeforeSkipping", result_.files_read + result_.files_skipped,
             counted_.files_read + counted_.files_skipped);
      metric("numTargetFilesAfterSkipping", result_.files_read, counted_.files_read);
    }
    commit.metrics["executionTimeMs"] =
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - counted_at_)
                           .count());
  }

  // Commits what is staged with the batch's offsets (and batch number) to the table; the batch's
  // quarantined records (or a full refresh's clearing) go to the quarantine table first, under the
  // same batch number (see quarantine.h).
  void commit_batch(std::string_view operation) {
    const std::int64_t batch = target_->batch() + 1;
    std::size_t quarantined = 0;
    if (quarantine_ && (!pending_bad_.empty() || clear_quarantine_)) {
      quarantine_->commit(batch, batch_end_, table_.source_table, pending_bad_, clear_quarantine_);
      quarantined = pending_bad_.size();
      if (quarantine_->exists()) result_.quarantine_path = quarantine_->path();
    }
    pending_bad_.clear();
    clear_quarantine_ = false;

    destination::Commit commit;
    describe(commit, operation, quarantined);
    commit.batch = batch;
    commit.offset = plan_.incremental ? offset_ : Offset();
    if (plan_.read_deletes) commit.deletes_offset = deletes_offset_.value_or(Offset());
    target_->commit(commit);
    counted_ = result_;
    counted_at_ = std::chrono::steady_clock::now();
    note_committed_offsets();
    replace_all_ = false;
    ++result_.commits;
    result_.quarantined += quarantined;
    current_offset_ = (plan_.incremental ? offset_ : batch_end_).to_json();
    report(TableProgress::Stage::kCommitted);
  }

  const TableSpec& table_;
  const Connection& connection_;
  const Destination& destination_;
  const RunOptions& options_;
  std::filesystem::path path_;
  std::chrono::steady_clock::time_point started_;
  TablePlan plan_;
  std::unique_ptr<LakeflowConnect> connector_;
  bool partitioned_ = false;  // connector_ implements PartitionedReads
  // The connectors of read_plan's workers after the first (made on first use, kept for the run).
  std::vector<std::unique_ptr<LakeflowConnect>> worker_connectors_;
  // Guards result_'s counts, pending_bad_ and target_ while partitions are read at once.
  std::mutex read_mutex_;
  std::string app_id_;
  std::unique_ptr<destination::Table> target_;  // the destination table
  // Converts the source records of every read of the run (convert_source): made once, as planning
  // a wide schema's conversion costs more than converting a page of records.
  std::optional<RecordConverter> source_converter_;
  // The rows it converted from the last read (emptied and filled again by each read: its columns
  // keep their buffers).
  std::optional<ColumnBatch> source_batch_;
  // Hashes of the keys of data files merges of this run read, by file name (see key_hashes).
  std::unordered_map<std::string, std::vector<std::uint64_t>> key_hashes_;
  bool replace_all_ = false;
  Offset offset_;
  std::optional<Offset> deletes_offset_;
  Offset batch_end_;            // end offset of the batch being committed
  std::string current_offset_;  // for progress reports
  bool quarantining_ = false;
  std::optional<QuarantineTable> quarantine_;
  bool clear_quarantine_ = false;
  std::vector<BadRecord> pending_bad_;  // set aside, committed with the next commit
  TableResult result_;
  // The counts of result_ at the last commit, and when it was made (the table's start before
  // the first): each commit's metrics are the differences.
  TableResult counted_;
  std::chrono::steady_clock::time_point counted_at_ = started_;
};

bool selected(const TableSpec& table, const std::vector<std::string>& names) {
  if (names.empty()) return true;
  return std::any_of(names.begin(), names.end(), [&](const std::string& name) {
    return name == table.source_table || name == table.destination_table ||
           name == table.destination_name();
  });
}

// Registers the connection's secret values with the process's Redactor, the one every HTTP client
// of its connectors redacts with too, and returns it.
const http::Redactor& redactor_for(const Connection& connection) {
  http::Redactor& redactor = *http::process_redactor();
  for (const std::string& value : connection.secret_values) redactor.add_secret(value);
  return redactor;
}

}  // namespace

std::vector<TableResult> run_pipeline(const PipelineSpec& spec, const Connection& connection,
                                      const Destination& destination, const RunOptions& options) {
  const http::Redactor& redactor = redactor_for(connection);
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
  std::vector<TablePlan> plans;
  // The connector the checks used reads the first table (each other table's run makes its own).
  std::unique_ptr<LakeflowConnect> checked;
  try {
    plans = check_tables(spec, connection, destination, tables, &checked);
  } catch (const Error& e) {
    throw Error(e.code(), redactor.redact(e.what()));
  }
  std::vector<TableResult> results(tables.size());
  std::mutex log_mutex;
  RunOptions locked = options;
  locked.log = [&](std::string_view line) {
    if (!options.log) return;
    const std::lock_guard<std::mutex> lock(log_mutex);
    options.log(redactor.redact(line));
  };
  if (options.progress) {
    locked.progress = [&](const TableProgress& progress) {
      TableProgress shown = progress;
      shown.offset = redactor.redact(progress.offset);
      shown.error = redactor.redact(progress.error);
      const std::lock_guard<std::mutex> lock(log_mutex);
      options.progress(shown);
    };
  }
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < tables.size(); i = next++) {
      const std::filesystem::path table_path = spec.table_path(*tables[i]);
      const std::int64_t started = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
      if (!record_run_started(table_path, tables[i]->destination_name())) {
        locked.log(fmt::format("[{}] note: could not write {}", tables[i]->destination_name(),
                               run_record_path(table_path).string()));
      }
      std::optional<TableRun> run;
      try {
        run.emplace(spec, *tables[i], connection, destination, std::move(plans[i]), locked,
                    i == 0 ? std::move(checked) : nullptr);
        results[i] = run->run();
        run->remove_orphans();
      } catch (const std::exception& e) {
        TableResult failed;
        if (run) {
          run->remove_orphans();
          failed = run->result();  // what it did before it failed
        } else {
          failed.source_table = tables[i]->source_table;
          failed.destination = tables[i]->destination_name();
          failed.path = spec.table_path(*tables[i]);
        }
        failed.error = redactor.redact(e.what());
        failed.error_code = code_of(e);
        locked.log(fmt::format("[{}] failed: {}", failed.destination, *failed.error));
        if (locked.progress) {
          TableProgress progress;
          progress.stage = TableProgress::Stage::kFailed;
          progress.destination = failed.destination;
          progress.error = *failed.error;
          locked.progress(progress);
        }
        results[i] = std::move(failed);
      }
      for (std::optional<std::string>* offset : {&results[i].offset, &results[i].deletes_offset}) {
        if (*offset) *offset = redactor.redact(**offset);
      }
      record_run_ended(table_path, results[i], started);
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

}  // namespace lakeflow::pipeline
