#include "ui/lakehouse.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "columnar/column_batch.h"
#include "delta/delta_actions.h"
#include "delta/delta_log.h"
#include "lakeflow/error.h"
#include "lakeflow/types.h"
#include "parquet/parquet_reader.h"
#include "pipeline/quarantine.h"
#include "pipeline/run_record.h"
#include "util/text.h"

namespace lakeflow::ui {

namespace fs = std::filesystem;
using delta::AddFile;
using delta::DeltaLog;
using delta::Snapshot;

struct Lakehouse::CommitSummary {
  std::int64_t version = 0;
  std::optional<std::int64_t> timestamp;  // ms since the epoch (commitInfo)
  std::string operation;
  delta::StringMap parameters;
  delta::StringMap metrics;
  std::int64_t files_added = 0;
  std::int64_t files_removed = 0;
  std::int64_t bytes_added = 0;
  std::vector<std::pair<std::string, std::optional<std::int64_t>>> added;  // path, numRecords
  std::vector<std::string> removed;
  // When the commit holds a metaData action: its schemaString, interned (equal texts share one
  // string, so a wide schema repeated by every commit is held once and compared by pointer).
  std::shared_ptr<const std::string> schema_string;
  std::optional<std::string> offset;  // the offset the commit recorded (lakeflow.offsets domain)
  std::optional<std::string> error;   // the commit could not be read
};

namespace {

constexpr std::size_t kMaxDepth = 8;
constexpr std::size_t kMaxPageSize = 1000;
// How many commits back the ingestion type is looked for (commits of other engines between).
constexpr std::size_t kParameterLookback = 50;

JsonValue optional_int(const std::optional<std::int64_t>& value) {
  return value ? JsonValue(*value) : JsonValue();
}

JsonValue size_value(std::size_t n) { return JsonValue(static_cast<std::int64_t>(n)); }

// `YYYY-MM-DDTHH:MM:SS.mmmZ` of ms since the epoch.
std::string iso_time(std::int64_t millis) {
  std::string out;
  text::append_timestamp(out, millis * 1000, true);
  // append_timestamp writes microseconds; milliseconds are what commits hold.
  if (const std::size_t dot = out.find('.'); dot != std::string::npos && out.size() > dot + 4) {
    out.erase(dot + 4, out.size() - dot - 5);
  }
  return out;
}

std::optional<std::int64_t> num_records(const std::optional<std::string>& stats) {
  if (!stats) return std::nullopt;
  try {
    const JsonValue json = JsonValue::parse(*stats, "stats");
    const JsonValue* n = json.find("numRecords");
    if (n != nullptr && n->is_int()) return n->as_int();
  } catch (const Error&) {
  }
  return std::nullopt;
}

std::optional<std::int64_t> metric(const delta::StringMap& metrics,
                                   std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    auto it = metrics.find(name);
    if (it == metrics.end()) continue;
    const text::Parsed<std::int64_t> parsed =
        text::parse_integer(it->second, 0, std::numeric_limits<std::int64_t>::max());
    if (parsed.ok()) return parsed.value;
  }
  return std::nullopt;
}

bool is_directory(const fs::directory_entry& entry) {
  std::error_code ec;
  return !entry.is_symlink(ec) && entry.is_directory(ec);
}

bool is_real_directory(const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(path, ec);
  return !ec && fs::is_directory(status);
}

void find_tables(const fs::path& root, const fs::path& dir, std::size_t depth,
                 std::vector<TableRef>& out) {
  const bool has_log = is_real_directory(dir / "_delta_log");
  std::error_code ec;
  if (depth > 0 && (has_log || fs::is_regular_file(pipeline::run_record_path(dir), ec))) {
    out.push_back({dir.lexically_relative(root).generic_string(), dir});
    if (has_log) return;
  }
  if (depth >= kMaxDepth) return;
  fs::directory_iterator it(dir, ec);
  if (ec) return;
  std::vector<fs::path> children;
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '_' || name[0] == '.') continue;
    if (is_directory(entry)) children.push_back(entry.path());
  }
  std::sort(children.begin(), children.end());
  for (const fs::path& child : children) find_tables(root, child, depth + 1, out);
}

// Flattened leaves of a schema: path -> type (`bigint`, `string not null`); arrays and maps add
// `[]`, `{key}`, `{value}` steps.
void flatten(const DataType& type, const std::string& path, bool nullable,
             std::map<std::string, std::string>& out) {
  switch (type.id()) {
    case TypeId::kStruct:
      if (!path.empty()) out[path] = nullable ? "struct" : "struct not null";
      for (const StructField& field : type.fields()) {
        flatten(field.type, path.empty() ? field.name : path + "." + field.name, field.nullable,
                out);
      }
      return;
    case TypeId::kArray:
      out[path] = nullable ? "array" : "array not null";
      flatten(type.element_type(), path + "[]", type.contains_null(), out);
      return;
    case TypeId::kMap:
      out[path] = nullable ? "map" : "map not null";
      flatten(type.key_type(), path + "{key}", false, out);
      flatten(type.value_type(), path + "{value}", type.value_contains_null(), out);
      return;
    default:
      out[path] = type.simple_string() + (nullable ? "" : " not null");
  }
}

std::map<std::string, std::string> leaves(const std::string& schema_string) {
  std::map<std::string, std::string> out;
  flatten(parse_struct_type(schema_string), "", true, out);
  return out;
}

bool contains_ignoring_case(std::string_view text, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it != text.end();
}

std::size_t page_limit(Page page) { return std::min(page.limit, kMaxPageSize); }

}  // namespace

Lakehouse::Lakehouse(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  real_root_ = fs::canonical(root_, ec);
  if (ec || !fs::is_directory(real_root_, ec)) {
    throw ConfigError(fmt::format(
        "{}: not a readable directory; give the directory 'lakeflow run' lands tables in (the "
        "spec's destination root, e.g. ./lakehouse)",
        root_.string()));
  }
}

Lakehouse::~Lakehouse() = default;

std::vector<TableRef> Lakehouse::tables() const {
  std::vector<TableRef> out;
  find_tables(root_, root_, 0, out);
  return out;
}

std::optional<TableRef> Lakehouse::find(std::string_view name) const {
  for (TableRef& table : tables()) {
    if (table.name == name) return std::move(table);
  }
  return std::nullopt;
}

fs::path Lakehouse::data_file(const TableRef& table, std::string_view uri_path) const {
  const std::string relative = delta::decode_path(uri_path);
  const fs::path path = fs::path(relative);
  bool outside = path.is_absolute() || relative.find(':') != std::string::npos;
  for (const fs::path& part : path) outside = outside || part == "..";
  std::error_code ec;
  const fs::path real = outside ? fs::path() : fs::canonical(table.path / path, ec);
  const std::string prefix = real_root_.string() + "/";
  if (outside || ec || !real.string().starts_with(prefix)) {
    throw Error(ErrorCode::kData,
                fmt::format("table {}: data file '{}' is not inside the lakehouse directory; "
                            "lakeflow ui reads only files under {}",
                            table.name, relative, root_.string()));
  }
  return real;
}

std::shared_ptr<const std::string> Lakehouse::intern_schema(const std::string& text) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = schemas_.find(text); it != schemas_.end()) return it->second;
  auto interned = std::make_shared<const std::string>(text);
  schemas_.emplace(std::string_view(*interned), interned);
  return interned;
}

std::shared_ptr<const Lakehouse::CommitSummary> Lakehouse::commit_summary(
    const TableRef& table, std::int64_t version) const {
  const DeltaLog log(table.path.string());
  const std::string path = log.commit_path(version);
  struct stat st {};
  std::string key;
  if (::stat(path.c_str(), &st) == 0) {
    key = fmt::format("{}\n{}\n{}\n{}", path, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    const std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  auto summary = std::make_shared<CommitSummary>();
  summary->version = version;
  try {
    for (const delta::Action& action : log.read_commit(version)) {
      if (const auto* info = std::get_if<delta::CommitInfo>(&action)) {
        summary->timestamp = info->timestamp;
        summary->operation = info->operation;
        summary->parameters = info->operation_parameters;
        summary->metrics = info->operation_metrics;
      } else if (const auto* add = std::get_if<AddFile>(&action)) {
        ++summary->files_added;
        summary->bytes_added += add->size;
        summary->added.emplace_back(add->path, num_records(add->stats));
      } else if (const auto* remove = std::get_if<delta::RemoveFile>(&action)) {
        ++summary->files_removed;
        summary->removed.push_back(remove->path);
      } else if (const auto* metadata = std::get_if<delta::MetadataAction>(&action)) {
        summary->schema_string = intern_schema(metadata->schema_string);
        if (const std::string* offset = metadata->config(delta::kOffsetKey)) {
          summary->offset = *offset;  // a table written before the offsets domain
        }
      } else if (const auto* domain = std::get_if<delta::DomainMetadataAction>(&action)) {
        if (domain->domain == delta::kOffsetsDomain && !domain->removed) {
          const delta::CommittedOffsets offsets =
              delta::parse_offsets_domain(domain->configuration, log.table_path());
          if (offsets.offset) summary->offset = offsets.offset->to_json();
        }
      }
    }
  } catch (const std::exception& e) {
    summary->error = e.what();
    return summary;  // not cached: the file may be mid-copy
  }
  if (!key.empty()) {
    const std::lock_guard<std::mutex> lock(mutex_);
    cache_.emplace(key, summary);
  }
  return summary;
}

std::vector<std::shared_ptr<const Lakehouse::CommitSummary>> Lakehouse::commits(
    const TableRef& table) const {
  std::vector<std::shared_ptr<const CommitSummary>> out;
  for (std::int64_t version : DeltaLog(table.path.string()).commit_versions()) {
    out.push_back(commit_summary(table, version));
  }
  return out;
}

JsonValue Lakehouse::tables_json() const {
  JsonValue::Array tables;
  for (const TableRef& table : this->tables()) tables.push_back(table_json(table));
  JsonValue out;
  out["root"] = root_.string();
  out["tables"] = JsonValue(std::move(tables));
  return out;
}

JsonValue Lakehouse::table_json(const TableRef& table) const {
  JsonValue out;
  out["name"] = table.name;
  std::vector<std::string> parts;
  for (const fs::path& part : fs::path(table.name)) parts.push_back(part.string());
  out["display_name"] = parts.size() == 3 ? fmt::format("{}", fmt::join(parts, ".")) : table.name;
  const std::string name = fs::path(table.name).filename().string();
  const bool is_quarantine = name.ends_with(pipeline::kQuarantineSuffix) &&
                             name.size() > pipeline::kQuarantineSuffix.size();
  out["is_quarantine"] = is_quarantine;
  if (is_quarantine) {
    out["quarantine_of"] =
        table.name.substr(0, table.name.size() - pipeline::kQuarantineSuffix.size());
  }
  out["last_run"] = run_json(table);
  const DeltaLog log(table.path.string());
  try {
    if (!log.exists()) {
      out["version"] = JsonValue();
      out["error"] = "no commit yet: the table's first run committed nothing";
      return out;
    }
    const Snapshot snapshot = log.snapshot();
    out["version"] = snapshot.version;
    std::int64_t bytes = 0;
    std::optional<std::int64_t> rows = 0;
    for (const auto& [path, add] : snapshot.files) {
      bytes += add.size;
      const std::optional<std::int64_t> n = num_records(add.stats);
      rows = rows && n ? std::optional<std::int64_t>(*rows + *n) : std::nullopt;
    }
    out["rows"] = optional_int(rows);
    out["files"] = size_value(snapshot.files.size());
    out["bytes"] = bytes;
    out["offset"] = snapshot.offset() ? JsonValue(snapshot.offset()->to_json()) : JsonValue();
    out["deletes_offset"] =
        snapshot.deletes_offset() ? JsonValue(snapshot.deletes_offset()->to_json()) : JsonValue();
    // The latest commit's time, and the table's kind from lakeflow's latest commit.
    const std::vector<std::int64_t> versions = log.commit_versions();
    out["last_commit"] = JsonValue();
    out["age_seconds"] = JsonValue();
    for (std::string_view key : {"ingestion_type", "flow", "scd_type"}) out[key] = JsonValue();
    for (std::size_t i = 0; i < versions.size() && i < kParameterLookback; ++i) {
      const auto summary = commit_summary(table, versions[versions.size() - 1 - i]);
      if (i == 0 && summary->timestamp) {
        out["last_commit"] = iso_time(*summary->timestamp);
        out["last_commit_ms"] = *summary->timestamp;
        out["age_seconds"] =
            std::max<std::int64_t>(0, (delta::now_millis() - *summary->timestamp) / 1000);
      }
      const auto& p = summary->parameters;
      if (auto it = p.find("ingestionType"); it != p.end()) {
        out["ingestion_type"] = it->second;
        if (auto flow = p.find("flow"); flow != p.end()) out["flow"] = flow->second;
        if (auto scd = p.find("scdType"); scd != p.end()) out["scd_type"] = scd->second;
        break;
      }
    }
    if (!is_quarantine) {
      const fs::path side = pipeline::QuarantineTable::path_for(table.path);
      const DeltaLog side_log(side.string());
      if (is_real_directory(side / "_delta_log") && side_log.exists()) {
        JsonValue quarantine;
        quarantine["name"] = table.name + std::string(pipeline::kQuarantineSuffix);
        std::optional<std::int64_t> side_rows = 0;
        for (const auto& [path, add] : side_log.snapshot().files) {
          const std::optional<std::int64_t> n = num_records(add.stats);
          side_rows = side_rows && n ? std::optional<std::int64_t>(*side_rows + *n) : std::nullopt;
        }
        quarantine["rows"] = optional_int(side_rows);
        out["quarantine"] = std::move(quarantine);
      }
    }
  } catch (const std::exception& e) {
    out["error"] = e.what();
  }
  return out;
}

JsonValue Lakehouse::history_json(const TableRef& table, Page page) const {
  const auto commits = this->commits(table);
  std::unordered_map<std::string, std::optional<std::int64_t>> rows_of_file;
  std::optional<std::int64_t> rows = 0;  // rows in the table, while every step is known
  if (commits.empty() || commits.front()->version != 0) rows = std::nullopt;
  std::shared_ptr<const std::string> schema;
  JsonValue::Array entries;
  JsonValue::Array chart;
  for (const auto& commit : commits) {
    JsonValue entry;
    entry["version"] = commit->version;
    if (commit->error) {
      entry["error"] = *commit->error;
      rows = std::nullopt;
      entries.push_back(std::move(entry));
      continue;
    }
    entry["timestamp"] = optional_int(commit->timestamp);
    entry["time"] = commit->timestamp ? JsonValue(iso_time(*commit->timestamp)) : JsonValue();
    entry["operation"] = commit->operation;
    const auto& m = commit->metrics;
    const auto inserted = metric(m, {"numTargetRowsInserted"});
    const auto updated = metric(m, {"numTargetRowsUpdated"});
    const auto deleted = metric(m, {"numTargetRowsDeleted"});
    const auto quarantined = metric(m, {"numQuarantinedRecords"});
    const bool lakeflow_metrics = inserted.has_value();
    // Another engine's plain write: its output rows are what it inserted.
    entry["inserted"] = optional_int(lakeflow_metrics ? inserted : metric(m, {"numOutputRows"}));
    entry["updated"] = optional_int(updated);
    entry["deleted"] = optional_int(deleted);
    entry["quarantined"] = optional_int(quarantined);
    entry["source_records"] = optional_int(metric(m, {"numSourceRecords"}));
    entry["duration_ms"] = optional_int(metric(m, {"executionTimeMs"}));
    entry["files_added"] = commit->files_added;
    entry["files_removed"] = commit->files_removed;
    entry["bytes_added"] = commit->bytes_added;
    std::optional<std::int64_t> added = 0;
    for (const auto& [path, n] : commit->added) {
      added = added && n ? std::optional<std::int64_t>(*added + *n) : std::nullopt;
      rows_of_file[path] = n;
    }
    std::optional<std::int64_t> removed = 0;
    for (const std::string& path : commit->removed) {
      auto it = rows_of_file.find(path);
      const std::optional<std::int64_t> n = it == rows_of_file.end() ? std::nullopt : it->second;
      removed = removed && n ? std::optional<std::int64_t>(*removed + *n) : std::nullopt;
      if (it != rows_of_file.end()) rows_of_file.erase(it);
    }
    rows = rows && added && removed ? std::optional<std::int64_t>(*rows + *added - *removed)
                                    : std::nullopt;
    entry["rows_added"] = optional_int(added);
    entry["rows_removed"] = optional_int(removed);
    entry["rows"] = optional_int(rows);
    entry["schema_changed"] = commit->schema_string && schema && commit->schema_string != schema;
    if (commit->schema_string) schema = commit->schema_string;
    entry["offset"] = commit->offset ? JsonValue(*commit->offset) : JsonValue();
    JsonValue point;
    point["version"] = commit->version;
    point["inserted"] = inserted.value_or(0);
    point["updated"] = updated.value_or(0);
    point["deleted"] = deleted.value_or(0);
    point["quarantined"] = quarantined.value_or(0);
    chart.push_back(std::move(point));
    entries.push_back(std::move(entry));
  }
  std::reverse(entries.begin(), entries.end());
  JsonValue out;
  out["table"] = table.name;
  out["total"] = size_value(entries.size());
  out["offset"] = size_value(page.offset);
  out["limit"] = size_value(page_limit(page));
  JsonValue::Array shown;
  for (std::size_t i = page.offset; i < entries.size() && shown.size() < page_limit(page); ++i) {
    shown.push_back(std::move(entries[i]));
  }
  out["commits"] = JsonValue(std::move(shown));
  out["chart"] = JsonValue(std::move(chart));
  return out;
}

JsonValue Lakehouse::schema_json(const TableRef& table) const {
  JsonValue out;
  out["table"] = table.name;
  const Snapshot snapshot = DeltaLog(table.path.string()).snapshot();
  out["version"] = snapshot.version;
  out["schema"] = JsonValue::parse(snapshot.metadata.schema_string, "schemaString");
  out["tree"] = snapshot.metadata.schema().tree_string();
  JsonValue::Array changes;
  std::shared_ptr<const std::string> previous;
  for (const auto& commit : commits(table)) {
    if (!commit->schema_string || commit->schema_string == previous) continue;
    if (previous) {
      JsonValue change;
      change["version"] = commit->version;
      change["time"] = commit->timestamp ? JsonValue(iso_time(*commit->timestamp)) : JsonValue();
      JsonValue::Array added;
      JsonValue::Array removed;
      JsonValue::Array changed;
      try {
        const auto before = leaves(*previous);
        const auto after = leaves(*commit->schema_string);
        for (const auto& [path, type] : after) {
          auto it = before.find(path);
          if (it == before.end()) {
            added.emplace_back(fmt::format("{}: {}", path, type));
          } else if (it->second != type) {
            changed.emplace_back(fmt::format("{}: {} -> {}", path, it->second, type));
          }
        }
        for (const auto& [path, type] : before) {
          if (after.count(path) == 0) removed.emplace_back(fmt::format("{}: {}", path, type));
        }
      } catch (const std::exception& e) {
        change["error"] = e.what();
      }
      change["added"] = JsonValue(std::move(added));
      change["removed"] = JsonValue(std::move(removed));
      change["changed"] = JsonValue(std::move(changed));
      changes.push_back(std::move(change));
    }
    previous = commit->schema_string;
  }
  std::reverse(changes.begin(), changes.end());
  out["changes"] = JsonValue(std::move(changes));
  return out;
}

JsonValue Lakehouse::rows_json(const TableRef& table, Page page) const {
  const Snapshot snapshot = DeltaLog(table.path.string()).snapshot();
  const StructType schema = snapshot.metadata.schema();
  JsonValue::Array columns;
  for (const StructField& field : schema.fields()) columns.emplace_back(field.name);
  const std::size_t limit = page_limit(page);
  JsonValue::Array rows;
  std::size_t skip = page.offset;
  std::optional<std::int64_t> total = 0;
  for (const auto& [path, add] : snapshot.files) {
    std::optional<std::int64_t> n = num_records(add.stats);
    const bool wanted = rows.size() < limit;
    if (n && skip >= static_cast<std::size_t>(*n)) {
      skip -= static_cast<std::size_t>(*n);
    } else if (wanted || !n) {
      const parquet::ParquetReader reader(data_file(table, path).string());
      n = reader.num_rows();
      if (wanted && skip < static_cast<std::size_t>(*n)) {
        // Only the row groups that hold rows of the page are decoded.
        const auto& groups = reader.metadata().row_groups;
        for (std::size_t g = 0; g < groups.size() && rows.size() < limit; ++g) {
          const auto group_rows = static_cast<std::size_t>(groups[g].num_rows);
          if (skip >= group_rows) {
            skip -= group_rows;
            continue;
          }
          const ColumnBatch batch = reader.read_row_group(g, schema);
          for (std::size_t i = skip; i < batch.num_rows() && rows.size() < limit; ++i) {
            rows.push_back(JsonValue::parse(batch.row_json(i), "row"));
          }
          skip = 0;
        }
        skip = 0;
      } else {
        skip -= std::min(skip, static_cast<std::size_t>(*n));
      }
    }
    total = total && n ? std::optional<std::int64_t>(*total + *n) : std::nullopt;
  }
  JsonValue out;
  out["table"] = table.name;
  out["version"] = snapshot.version;
  out["columns"] = JsonValue(std::move(columns));
  out["rows"] = JsonValue(std::move(rows));
  out["offset"] = size_value(page.offset);
  out["limit"] = size_value(limit);
  out["total"] = optional_int(total);
  return out;
}

JsonValue Lakehouse::quarantine_json(const TableRef& table, std::string_view filter,
                                     Page page) const {
  std::string side_name = table.name;
  if (!side_name.ends_with(pipeline::kQuarantineSuffix)) {
    side_name += pipeline::kQuarantineSuffix;
  }
  JsonValue out;
  out["table"] = table.name;
  out["quarantine_table"] = side_name;
  out["filter"] = filter;
  out["offset"] = size_value(page.offset);
  out["limit"] = size_value(page_limit(page));
  JsonValue::Array rows;
  std::size_t matched = 0;
  std::size_t total = 0;
  const std::optional<TableRef> side = find(side_name);
  if (side && DeltaLog(side->path.string()).exists()) {
    const Snapshot snapshot = DeltaLog(side->path.string()).snapshot();
    const StructType schema = snapshot.metadata.schema();
    for (const auto& [path, add] : snapshot.files) {
      const parquet::ParquetReader reader(data_file(*side, path).string());
      const ColumnBatch batch = reader.read(schema);
      for (std::size_t i = 0; i < batch.num_rows(); ++i) {
        ++total;
        JsonValue row = JsonValue::parse(batch.row_json(i), "row");
        const JsonValue* reason = row.find("reason");
        const JsonValue* record = row.find("record");
        const bool hit = filter.empty() ||
                         (reason != nullptr && reason->is_string() &&
                          contains_ignoring_case(reason->as_string(), filter)) ||
                         (record != nullptr && record->is_string() &&
                          contains_ignoring_case(record->as_string(), filter));
        if (!hit) continue;
        if (matched++ >= page.offset && rows.size() < page_limit(page)) {
          rows.push_back(std::move(row));
        }
      }
    }
  }
  out["exists"] = side.has_value();
  out["rows"] = JsonValue(std::move(rows));
  out["matched"] = size_value(matched);
  out["total"] = size_value(total);
  return out;
}

JsonValue Lakehouse::run_json(const TableRef& table) const {
  std::optional<JsonValue> record = pipeline::read_run_record(table.path);
  if (!record) return JsonValue();
  for (std::string_view key : {"started", "ended"}) {
    if (const JsonValue* ms = record->find(key); ms != nullptr && ms->is_int()) {
      (*record)[std::string(key) + "_time"] = iso_time(ms->as_int());
    }
  }
  return *record;
}

}  // namespace lakeflow::ui
