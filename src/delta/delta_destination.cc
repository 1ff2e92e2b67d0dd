#include "delta/delta_destination.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <system_error>
#include <utility>
#include <variant>

#include "delta/clustering.h"
#include "delta/data_file.h"
#include "delta/delta_actions.h"
#include "delta/delta_log.h"
#include "delta/file_stats.h"
#include "delta/table_features.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_schema.h"
#include "util/text.h"

namespace lakeflow::delta {
namespace {

namespace fs = std::filesystem;
using destination::Commit;
using destination::TableTarget;

// Delta data skipping collects statistics for the first 32 statistics columns (the table property
// delta.dataSkippingNumIndexedCols, whose default lakeflow's data files follow).
constexpr std::size_t kIndexedStatsColumns = 32;

class DeltaFileWriter;

// The field `path` names in `schema` (through structs), or nullptr.
const StructField* field_at(const StructType& schema, const FieldPath& path) {
  const DataType* level = &schema;
  const StructField* field = nullptr;
  for (const std::string& part : path) {
    if (level == nullptr || level->id() != TypeId::kStruct) return nullptr;
    const std::vector<StructField>& fields = level->fields();
    const auto it = std::find_if(fields.begin(), fields.end(),
                                 [&](const StructField& f) { return f.name == part; });
    if (it == fields.end()) return nullptr;
    field = &*it;
    level = &field->type;
  }
  return field;
}

class DeltaTable final : public destination::Table {
 public:
  explicit DeltaTable(const TableTarget& target)
      : location_(target.location),
        app_id_(target.app_id),
        layout_(target.layout),
        log_(location_.string()) {
    if (log_.exists()) {
      snapshot_ = log_.snapshot();
    } else {
      snapshot_ = new_table_snapshot(target.schema);
      snapshot_.table_path = location_.string();
    }
    snapshot_.require_writable();
    schema_ = exists() ? snapshot_.metadata.schema() : target.schema;
    committed_protocol_ = snapshot_.protocol;
    committed_metadata_ = snapshot_.metadata;
    clustering_actions_ = set_clustering_columns(snapshot_, layout_.clustering);
    // The protocol the clustering columns need becomes the table's; one protocol action per
    // commit carries it with whatever else the run's features need (update_protocol).
    for (auto it = clustering_actions_.begin(); it != clustering_actions_.end();) {
      if (const auto* protocol = std::get_if<ProtocolAction>(&*it)) {
        snapshot_.protocol = *protocol;
        it = clustering_actions_.erase(it);
      } else {
        ++it;
      }
    }
    update_protocol();
    index_files();
    // Strings statistics are cut to this many characters (the table property, or Delta's default
    // 32); a smaller value set now counts for files written before it too.
    if (const std::string* prefix =
            snapshot_.metadata.config("delta.dataSkippingStringPrefixLength")) {
      const auto parsed = text::parse_integer(*prefix, 0, std::numeric_limits<std::int64_t>::max());
      string_prefix_ = parsed.ok() ? std::min<std::size_t>(string_prefix_, parsed.value) : 0;
    }
  }

  bool exists() const override { return snapshot_.version >= 0; }
  StructType schema() const override { return schema_; }
  std::optional<Offset> offset() const override { return snapshot_.offset(); }
  std::optional<Offset> deletes_offset() const override { return snapshot_.deletes_offset(); }
  std::int64_t batch() const override { return snapshot_.txn_version(app_id_).value_or(0); }
  // Properties are metadata domains named by their key (a commit changes only the domains whose
  // value changed, never the schema); tables written before keep them in the configuration until
  // their next commit moves them (migrate_properties).
  std::optional<std::string> property(std::string_view key) const override {
    if (auto it = staged_domains_.find(key); it != staged_domains_.end()) {
      if (it->second.removed) return std::nullopt;
      return it->second.configuration;
    }
    if (auto it = snapshot_.domains.find(key); it != snapshot_.domains.end()) {
      return it->second.configuration;
    }
    const std::string* value = snapshot_.metadata.config(key);
    if (value == nullptr) return std::nullopt;
    return *value;
  }
  std::size_t file_count() const override { return files_.size(); }
  std::string file_name(std::size_t index) const override { return files_.at(index)->path; }
  ColumnBatch read_file(std::size_t index, const StructType& schema) const override {
    const parquet::ParquetReader reader((location_ / decode_path(files_.at(index)->path)).string());
    return reader.read(schema);
  }
  // From the add's statistics (file_stats.h), which lakeflow writes for the first 32 columns.
  destination::ColumnRange column_range(std::size_t index, const FieldPath& column) const override {
    const AddFile& add = *files_.at(index);
    const StructField* field = field_at(schema_, column);
    if (!add.stats || field == nullptr) return {};
    return stats_column_range(*add.stats, column, field->type, string_prefix_);
  }

  void set_schema(const StructType& schema, bool widened) override {
    if (widened) snapshot_.enable_type_widening();
    snapshot_.metadata.schema_string = schema.json();
    schema_ = schema;
    writer_plan_.reset();
    update_protocol();
  }
  void set_property(std::string_view key, std::optional<std::string> value) override {
    const std::string name(key);
    if (name.starts_with("delta.") || name == kOffsetsDomain) {
      throw Error(ErrorCode::kInternal,
                  fmt::format("table property `{}` is reserved (this is a bug in lakeflow)", key));
    }
    snapshot_.metadata.configuration.erase(name);
    const auto committed = snapshot_.domains.find(key);
    if (value) {
      staged_domains_.insert_or_assign(name, DomainMetadataAction{name, std::move(*value), false});
    } else if (committed != snapshot_.domains.end()) {
      // A removed domain keeps the configuration it had (the protocol asks for its pre-image).
      staged_domains_.insert_or_assign(
          name,
          DomainMetadataAction{committed->second.domain, committed->second.configuration, true});
    } else {
      staged_domains_.erase(name);
    }
  }
  bool layout_change_pending() const override { return !clustering_actions_.empty(); }
  void remove_file(std::size_t index) override {
    removes_.emplace_back(removal_of(*files_.at(index)));
  }
  void remove_all_files() override {
    for (const AddFile* add : files_) removes_.emplace_back(removal_of(*add));
  }
  std::unique_ptr<destination::FileWriter> write_files() override;

  void commit(const Commit& commit) override {
    std::vector<Action> actions;
    CommitInfo info;
    info.operation = commit.operation;
    info.operation_parameters.insert(commit.parameters.begin(), commit.parameters.end());
    info.operation_metrics.insert(commit.metrics.begin(), commit.metrics.end());
    actions.emplace_back(std::move(info));
    if (protocol_changed_ && exists()) actions.emplace_back(snapshot_.protocol);
    migrate_properties();
    const BatchProgress progress{app_id_, commit.batch, commit.offset, commit.deletes_offset};
    for (Action& action : progress_actions(snapshot_, progress, &committed_metadata_)) {
      actions.push_back(std::move(action));
    }
    for (auto& [name, domain] : std::exchange(staged_domains_, {})) {
      actions.emplace_back(std::move(domain));
    }
    for (Action& action : std::exchange(clustering_actions_, {})) {
      actions.push_back(std::move(action));
    }
    for (const RemoveFile& remove : removes_) actions.emplace_back(remove);
    for (const AddFile& add : adds_) actions.emplace_back(add);
    const std::int64_t version = log_.commit(snapshot_.version, actions);
    snapshot_.apply(version, actions);
    committed_metadata_ = snapshot_.metadata;
    protocol_changed_ = false;
    removes_.clear();
    adds_.clear();
    index_files();
  }

  std::size_t discard_uncommitted() override {
    const std::size_t removed =
        delta::discard_uncommitted(log_, snapshot_.version + 1, std::exchange(adds_, {}));
    removes_.clear();
    return removed;
  }

  int undo_batches_after(std::int64_t committed_batch, std::string_view reason) override {
    if (!exists() || batch() <= committed_batch) return 0;
    // The newest version that holds only batches up to `committed_batch` (none: the empty table).
    std::optional<Snapshot> good;
    int undone = 0;
    for (std::int64_t version = snapshot_.version; version >= 0; --version) {
      Snapshot at = log_.snapshot_at(version);
      if (at.txn_version(app_id_).value_or(0) <= committed_batch) {
        good = std::move(at);
        break;
      }
      ++undone;
    }
    std::vector<Action> actions;
    CommitInfo info;
    info.operation = "RESTORE";
    info.operation_parameters["reason"] = std::string(reason);
    actions.emplace_back(std::move(info));
    BatchProgress progress{app_id_, committed_batch, Offset(), std::nullopt};
    if (good) progress.offset = good->offset().value_or(Offset());
    for (Action& action : progress_actions(snapshot_, progress)) {
      actions.push_back(std::move(action));
    }
    for (const auto& [file, add] : snapshot_.files) {
      if (!good || good->files.count(file) == 0) actions.emplace_back(removal_of(add));
    }
    if (good) {
      for (const auto& [file, add] : good->files) {
        if (snapshot_.files.count(file) == 0) actions.emplace_back(add);
      }
    }
    const std::int64_t version = log_.commit(snapshot_.version, actions);
    snapshot_.apply(version, actions);
    committed_metadata_ = snapshot_.metadata;
    index_files();
    return undone;
  }

  // For DeltaFileWriter: files it finished for the next commit.
  void stage(std::vector<AddFile> adds) {
    files_written_ += adds.size();
    for (AddFile& add : adds) adds_.push_back(std::move(add));
  }

 private:
  // The protocol the table's features need (domainMetadata for the offsets and properties,
  // clustering, widened types, timestamp_ntz columns); the next commit of an existing table carries
  // it when it differs from the committed one (a new table's first commit carries it anyway).
  void update_protocol() {
    std::vector<std::string_view> features = features_for_schema(schema_);
    features.push_back(kDomainMetadataFeature);
    snapshot_.protocol = protocol_with_features(snapshot_.protocol, features);
    protocol_changed_ = exists() && !(snapshot_.protocol == committed_protocol_);
  }

  // Properties a table written before keeps in its configuration (`lakeflow.*` keys other than
  // the offsets, which progress_actions moves) become domains in the next commit.
  void migrate_properties() {
    StringMap& configuration = snapshot_.metadata.configuration;
    for (auto it = configuration.begin(); it != configuration.end();) {
      const bool legacy = it->first.starts_with("lakeflow.") && it->first != kOffsetKey &&
                          it->first != kDeletesOffsetKey;
      if (!legacy) {
        ++it;
        continue;
      }
      if (!staged_domains_.contains(it->first) && !snapshot_.domains.contains(it->first)) {
        staged_domains_.emplace(it->first, DomainMetadataAction{it->first, it->second, false});
      }
      it = configuration.erase(it);
    }
  }

  void index_files() {
    files_.clear();
    for (const auto& [path, add] : snapshot_.files) files_.push_back(&add);
  }

  friend class DeltaFileWriter;

  // The Parquet plan of schema_, made for the first file written and kept for the table's others.
  const std::shared_ptr<const parquet::ParquetWriterPlan>& writer_plan() {
    if (!writer_plan_) writer_plan_ = std::make_shared<const parquet::ParquetWriterPlan>(schema_);
    return writer_plan_;
  }

  fs::path location_;
  std::string app_id_;
  destination::FileLayout layout_;
  DeltaLog log_;
  Snapshot snapshot_;
  StructType schema_;  // the schema of snapshot_.metadata (and of new files)
  std::shared_ptr<const parquet::ParquetWriterPlan> writer_plan_;  // see writer_plan()
  ProtocolAction committed_protocol_;
  MetadataAction committed_metadata_;
  // Property changes for the next commit, by domain name.
  std::map<std::string, DomainMetadataAction, std::less<>> staged_domains_;
  std::vector<Action> clustering_actions_;  // for the next commit (the layout changed)
  bool protocol_changed_ = false;           // the next commit carries snapshot_.protocol
  std::vector<const AddFile*> files_;       // the active files, numbered for read_file
  std::vector<RemoveFile> removes_;         // staged
  std::vector<AddFile> adds_;               // staged
  std::size_t string_prefix_ = 32;          // see the constructor
  std::size_t files_written_ = 0;           // by this object: names part-<n> from here on
};

class DeltaFileWriter final : public destination::FileWriter {
 public:
  explicit DeltaFileWriter(DeltaTable& table)
      : table_(table),
        writer_(table.location_, table.writer_plan(), table.layout_, table.files_written_,
                table.snapshot_.version + 1) {}

  void write(const ColumnBatch& batch) override { writer_.write(batch); }
  std::vector<std::string> close() override {
    std::vector<AddFile> adds = writer_.close();
    std::vector<std::string> names;
    names.reserve(adds.size());
    for (const AddFile& add : adds) names.push_back(add.path);
    table_.stage(std::move(adds));
    return names;
  }

 private:
  DeltaTable& table_;
  FileSetWriter writer_;
};

std::unique_ptr<destination::FileWriter> DeltaTable::write_files() {
  return std::make_unique<DeltaFileWriter>(*this);
}

}  // namespace

std::optional<destination::LocationProblem> DeltaDestination::check_location(
    const fs::path& location) const {
  std::error_code ignored;
  fs::path dir = location;
  while (!dir.empty() && !fs::exists(dir, ignored)) dir = dir.parent_path();
  if (dir.empty()) dir = ".";
  std::vector<fs::path> dirs = {dir};
  if (dir == location && fs::exists(location / "_delta_log", ignored)) {
    dirs.push_back(location / "_delta_log");
  }
  for (const fs::path& each : dirs) {
    if (!fs::is_directory(each, ignored)) {
      return destination::LocationProblem{
          ErrorCode::kConfig, fmt::format("the destination {} is not a directory; move it away or "
                                          "choose another destination_root",
                                          each.string())};
    }
    if (::access(each.c_str(), W_OK | X_OK) != 0) {
      const int error = errno;
      return destination::LocationProblem{
          file_error_code(error, ErrorCode::kConfig),
          fmt::format("cannot write to {}: {}; give destination_root a directory you may write "
                      "to, or change that directory's permissions",
                      each.string(), std::strerror(error))};
    }
  }
  return std::nullopt;
}

std::optional<std::string> DeltaDestination::clustering_problem(const StructType& schema,
                                                                const FieldPath& column) const {
  std::string dotted;
  for (const std::string& part : column) dotted += (dotted.empty() ? "" : ".") + part;
  const StructField* field = schema.find_path(dotted);
  if (field == nullptr) return "is not a column of the table (a field of a struct is `a.b`)";
  switch (field->type.id()) {
    case TypeId::kLong:
    case TypeId::kInteger:
    case TypeId::kShort:
    case TypeId::kByte:
    case TypeId::kDouble:
    case TypeId::kFloat:
    case TypeId::kDecimal:
    case TypeId::kString:
    case TypeId::kDate:
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz:
      break;
    default:
      return fmt::format(
          "is a {} column; clustering columns must be numbers, strings, dates or timestamps, the "
          "types Delta keeps min/max statistics for",
          field->type.simple_string());
  }
  const parquet::WriterSchema writer = parquet::build_writer_schema(schema);
  const std::size_t indexed = std::min(kIndexedStatsColumns, writer.stats_columns.size());
  for (std::size_t i = 0; i < indexed; ++i) {
    const auto& c = writer.stats_columns[i];
    if (c.is_leaf && writer.leaves[c.index].field_path == column) return std::nullopt;
  }
  return fmt::format(
      "is not among the first {} columns Delta collects statistics for (counting every field of "
      "a struct); clustering needs them: cluster by an earlier column",
      kIndexedStatsColumns);
}

bool DeltaDestination::table_exists(const fs::path& location) const {
  return DeltaLog(location.string()).exists();
}

std::unique_ptr<destination::Table> DeltaDestination::open_table(const TableTarget& target) const {
  return std::make_unique<DeltaTable>(target);
}

std::vector<std::string> DeltaDestination::remove_orphans(const fs::path& location) const {
  const DeltaLog log(location.string());
  const std::optional<std::int64_t> latest = log.latest_version();
  if (!latest) return {};
  return remove_orphan_files(log, *latest);
}

std::vector<std::string> DeltaDestination::read_rows(const fs::path& location,
                                                     std::optional<std::size_t> limit) const {
  const DeltaLog log(location.string());
  if (!log.exists()) {
    throw DeltaLogError(fmt::format(
        "{}: not a Delta table (no _delta_log commits); give the directory of a table that "
        "'lakeflow run' wrote",
        location.string()));
  }
  const Snapshot snapshot = log.snapshot();
  const StructType schema = snapshot.metadata.schema();
  std::vector<std::string> rows;
  for (const auto& [file_path, add] : snapshot.files) {
    if (limit && rows.size() >= *limit) break;
    const parquet::ParquetReader reader((location / decode_path(file_path)).string());
    const ColumnBatch batch = reader.read(schema);
    for (std::size_t i = 0; i < batch.num_rows(); ++i) {
      if (limit && rows.size() >= *limit) break;
      rows.push_back(batch.row_json(i));
    }
  }
  return rows;
}

}  // namespace lakeflow::delta
