#include "pipeline/merge.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "util/text.h"

namespace lakeflow::pipeline {
namespace {

std::string column_names(const StructType& schema) {
  std::string out;
  for (const StructField& field : schema.fields()) {
    if (!out.empty()) out += ", ";
    out += field.name;
  }
  return out;
}

// Prefixes an Error(kData) raised while reading a value with where the value is.
template <typename F>
auto with_context(const std::string& context, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kData) throw;
    throw Error(ErrorCode::kData, fmt::format("{}: {}", context, e.what()));
  }
}

}  // namespace

std::string_view to_string(TargetFlow flow) {
  switch (flow) {
    case TargetFlow::kApplyChanges:
      return "apply_changes";
    case TargetFlow::kApplyChangesFromSnapshot:
      return "apply_changes_from_snapshot";
    case TargetFlow::kAppend:
      return "append";
  }
  return "?";
}

// A stored SCD 2 version: a target row with its typed bounds.
struct MergeEngine::Version {
  const Row* row;
  TypedValue start;
  std::string_view start_json;
  std::optional<TypedValue> end;  // nullopt: current
  std::string_view end_json;
};

// The stored versions of one key, sorted by start; at most the last is current.
struct MergeEngine::History {
  std::vector<Version> versions;
  bool has_current() const { return !versions.empty() && !versions.back().end; }
};

std::optional<std::string> key_column_problem(const StructType& schema, std::string_view path,
                                              bool sequence) {
  const StructField* field = schema.find_path(path);
  if (field == nullptr) {
    return fmt::format("is not a column of the table (columns: {})", column_names(schema));
  }
  if (!TypedValue::supports(field->type) || (sequence && field->type.id() == TypeId::kBinary)) {
    return fmt::format(
        "is a {} column; it must be a number, string, boolean, date or timestamp "
        "column{}",
        field->type.simple_string(), sequence ? "" : " (or binary)");
  }
  return std::nullopt;
}

MergeEngine::MergeEngine(MergeSpec spec) : spec_(std::move(spec)) {
  const std::string& table = spec_.table;
  auto resolve = [&](const std::string& path, std::string_view role, bool sequence) {
    if (auto problem = key_column_problem(spec_.schema, path, sequence)) {
      throw ConfigError(fmt::format("table '{}': {} '{}' {}", table, role, path, *problem));
    }
    return Column{path, spec_.schema.find_path(path)->type};
  };
  target_schema_ = spec_.schema;
  version_type_ = DataType::Timestamp();
  if (spec_.flow == TargetFlow::kAppend) return;

  if (spec_.primary_keys.empty()) {
    throw ConfigError(
        fmt::format("table '{}': {} needs primary keys; set table_configuration.primary_keys",
                    table, to_string(spec_.flow)));
  }
  for (const std::string& key : spec_.primary_keys) {
    if (std::any_of(keys_.begin(), keys_.end(), [&](const Column& c) { return c.path == key; })) {
      throw ConfigError(fmt::format("table '{}': primary key '{}' is listed twice", table, key));
    }
    keys_.push_back(resolve(key, "primary key", false));
  }
  if (spec_.flow == TargetFlow::kApplyChanges) {
    if (!spec_.sequence_by || spec_.sequence_by->empty()) {
      throw ConfigError(fmt::format(
          "table '{}': apply_changes needs a sequence column; set table_configuration.sequence_by "
          "(the connector reports no cursor field)",
          table));
    }
    sequence_ = resolve(*spec_.sequence_by, "sequence_by column", true);
    version_type_ = sequence_->type;
  }
  if (spec_.scd_type == ScdType::kType2) {
    std::vector<StructField> fields = spec_.schema.fields();
    for (std::string_view name : {kStartAtColumn, kEndAtColumn}) {
      if (spec_.schema.index_of(name)) {
        throw ConfigError(fmt::format(
            "table '{}': the source already has a column '{}', which SCD type 2 adds; use "
            "SCD_TYPE_1 or rename the column",
            table, name));
      }
      fields.emplace_back(std::string(name), version_type_, true);
    }
    target_schema_ = StructType(std::move(fields));
  }
}

std::string MergeEngine::describe_key(const Row& row) const {
  std::string out;
  for (const Column& key : keys_) {
    if (!out.empty()) out += ", ";
    const auto value = row.find_path(key.path);
    out += fmt::format("{}={}", key.path, value ? *value : "(missing)");
  }
  return out;
}

RowKey MergeEngine::key_of(const Row& row) const { return key_of(row, "a row"); }

RowKey MergeEngine::key_of(const Row& row, std::string_view what) const {
  RowKey out;
  for (const TypedValue& value : key_values(row, what)) value.append_key(out);
  return out;
}

std::vector<TypedValue> MergeEngine::key_values(const Row& row) const {
  return key_values(row, "a row");
}

std::vector<TypedValue> MergeEngine::key_values(const Row& row, std::string_view what) const {
  std::vector<TypedValue> out;
  out.reserve(keys_.size());
  for (const Column& key : keys_) {
    const auto value = row.find_path(key.path);
    if (!value || *value == "null") {
      throw Error(ErrorCode::kData,
                  fmt::format("table '{}': {} has no value for primary key '{}': {}", spec_.table,
                              what, key.path, row.json().substr(0, 80)));
    }
    out.push_back(with_context(
        fmt::format("table '{}': {}, primary key '{}'", spec_.table, what, key.path),
        [&] { return TypedValue::read(*value, key.type, spec_.timestamp_zone_offset); }));
  }
  return out;
}

std::string MergeEngine::key_json(const Row& row) const {
  std::string out = "{";
  for (const Column& key : keys_) {
    if (out.size() > 1) out += ',';
    append_json_string(out, key.path, false);
    out += ':';
    const auto value = row.find_path(key.path);
    out += value ? *value : "null";
  }
  out += '}';
  return out;
}

TypedValue MergeEngine::sequence_of(const Row& row, std::string_view what) const {
  const auto value = row.find_path(sequence_->path);
  if (!value || *value == "null") {
    throw Error(ErrorCode::kData,
                fmt::format("table '{}': {} (key {}) has no value for sequence_by column '{}'",
                            spec_.table, what, describe_key(row), sequence_->path));
  }
  return with_context(
      fmt::format("table '{}': {} (key {}), sequence_by column '{}'", spec_.table, what,
                  describe_key(row), sequence_->path),
      [&] { return TypedValue::read(*value, sequence_->type, spec_.timestamp_zone_offset); });
}

TypedValue MergeEngine::version_of(std::string_view json, const std::string& context) const {
  return with_context(
      context, [&] { return TypedValue::read(json, version_type_, spec_.timestamp_zone_offset); });
}

MergeEngine::History MergeEngine::history_of(const std::vector<const Row*>& rows) const {
  History history;
  for (const Row* row : rows) {
    const std::string context =
        fmt::format("table '{}': target row with key {}", spec_.table, describe_key(*row));
    const auto start_json = row->field(kStartAtColumn);
    if (!start_json || *start_json == "null") {
      throw Error(ErrorCode::kInternal,
                  fmt::format("{} has no {}; the table is not an SCD type 2 table", context,
                              kStartAtColumn));
    }
    Version version{row, version_of(*start_json, context), *start_json, std::nullopt, {}};
    if (const auto end_json = row->field(kEndAtColumn); end_json && *end_json != "null") {
      version.end = version_of(*end_json, context);
      version.end_json = *end_json;
    }
    history.versions.push_back(version);
  }
  std::stable_sort(history.versions.begin(), history.versions.end(),
                   [](const Version& a, const Version& b) { return a.start < b.start; });
  for (std::size_t i = 0; i + 1 < history.versions.size(); ++i) {
    const Version& v = history.versions[i];
    const Version& next = history.versions[i + 1];
    if (!v.end || *v.end > next.start || next.start == v.start) {
      throw Error(ErrorCode::kInternal,
                  fmt::format("table '{}': the history of key {} has overlapping versions (one "
                              "starting at {} and one at {}); the table was changed outside "
                              "lakeflow — run with --full-refresh to rebuild it",
                              spec_.table, describe_key(*v.row), v.start_json, next.start_json));
    }
  }
  return history;
}

// One step of a key's timeline: an upsert (with the row holding its data) or a delete.
struct MergeEngine::Event {
  TypedValue seq;
  std::string_view seq_json;
  const Row* row = nullptr;  // null for a delete
  bool from_batch = false;
  std::size_t order = 0;  // position in its input
  bool is_delete() const { return row == nullptr; }

  // Sequence order; at one sequence value what is stored comes first, then upserts before deletes
  // (so a delete wins), then input order (so the later change wins).
  friend bool operator<(const Event& a, const Event& b) {
    if (a.seq != b.seq) return a.seq < b.seq;
    if (a.from_batch != b.from_batch) return !a.from_batch;
    if (a.is_delete() != b.is_delete()) return !a.is_delete();
    return a.order < b.order;
  }
};

// Everything apply_changes knows about one changed key.
struct MergeEngine::KeyChanges {
  const RowKey* key = nullptr;
  std::string key_json;          // from its first change
  std::vector<Event> batch;      // the batch's changes of the key, in sequence order
  std::vector<const Row*> rows;  // its target rows
  KeyTombstones tombstones;      // its stored tombstones
};

void MergeEngine::collect_tombstones(
    const std::vector<Tombstone>& tombstones,
    const std::function<KeyTombstones*(const RowKey&)>& place) const {
  for (const Tombstone& tombstone : tombstones) {
    const std::string context =
        fmt::format("table '{}': tombstone {}", spec_.table, tombstone.key_json);
    const Row key_row = with_context(context, [&] { return Row(tombstone.key_json); });
    KeyTombstones* const kt = place(key_of(key_row, "a tombstone"));
    if (kt == nullptr) continue;
    const TypedValue seq = version_of(tombstone.sequence_json, context);
    const auto pos = std::lower_bound(kt->values.begin(), kt->values.end(), seq);
    if (pos != kt->values.end() && *pos == seq) continue;
    kt->json.insert(kt->json.begin() + (pos - kt->values.begin()), tombstone.sequence_json);
    kt->values.insert(pos, seq);
  }
}

MergeResult MergeEngine::apply_changes(const std::vector<Change>& changes,
                                       const std::vector<Row>& current,
                                       const std::vector<Tombstone>& tombstones) const {
  if (spec_.flow != TargetFlow::kApplyChanges) {
    throw Error(ErrorCode::kInternal, fmt::format("table '{}': apply_changes on a {} table",
                                                  spec_.table, to_string(spec_.flow)));
  }
  std::unordered_map<RowKey, KeyChanges> by_key;
  std::vector<KeyChanges*> order;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const Change& change = changes[i];
    const bool is_delete = change.kind == Change::Kind::kDelete;
    const std::string what = fmt::format("{} {}", is_delete ? "delete" : "change", i);
    RowKey key = key_of(change.row, what);
    Event event{sequence_of(change.row, what), *change.row.find_path(sequence_->path),
                is_delete ? nullptr : &change.row, true, i};
    auto [it, inserted] = by_key.try_emplace(std::move(key));
    if (inserted) {
      it->second.key = &it->first;
      it->second.key_json = key_json(change.row);
      order.push_back(&it->second);
    }
    it->second.batch.push_back(std::move(event));
  }
  for (const Row& row : current) {
    const auto it = by_key.find(key_of(row, "a target row"));
    if (it != by_key.end()) it->second.rows.push_back(&row);
  }
  collect_tombstones(tombstones, [&by_key](const RowKey& key) -> KeyTombstones* {
    const auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : &it->second.tombstones;
  });

  MergeResult result;
  for (KeyChanges* kc : order) {
    std::stable_sort(kc->batch.begin(), kc->batch.end());
    if (spec_.scd_type == ScdType::kType1) {
      apply_type1(*kc, result);
    } else {
      apply_type2(*kc, result);
    }
  }
  return result;
}

void MergeEngine::apply_type1(KeyChanges& kc, MergeResult& result) const {
  if (kc.rows.size() > 1) {
    throw Error(ErrorCode::kInternal,
                fmt::format("table '{}' holds {} rows for key {}; an SCD type 1 table holds one "
                            "per key — run with --full-refresh to rebuild it",
                            spec_.table, kc.rows.size(), describe_key(*kc.rows.front())));
  }
  const Row* const before = kc.rows.empty() ? nullptr : kc.rows.front();
  const Row* row = before;
  std::optional<TypedValue> row_seq;
  if (row != nullptr) {
    const auto value = row->find_path(sequence_->path);
    if (value && *value != "null") row_seq = sequence_of(*row, "target row");
  }
  // Only the latest stored tombstone matters here.
  std::optional<TypedValue> tomb;
  std::string_view tomb_json;
  if (!kc.tombstones.values.empty()) {
    tomb = kc.tombstones.values.back();
    tomb_json = kc.tombstones.json.back();
  }
  const std::optional<TypedValue> tomb_before = tomb;

  for (const Event& e : kc.batch) {
    if (!e.is_delete()) {
      const bool stale = (row_seq && e.seq < *row_seq) || (tomb && e.seq <= *tomb);
      const bool duplicate =
          row != nullptr && row_seq && e.seq == *row_seq && row->same_fields(*e.row);
      if (stale || duplicate) {
        ++result.counts.ignored;
        continue;
      }
      row = e.row;
      row_seq = e.seq;
      tomb.reset();
    } else {
      const bool stale = row != nullptr ? (row_seq && e.seq < *row_seq) : (tomb && e.seq <= *tomb);
      if (stale) {
        ++result.counts.ignored;
        continue;
      }
      row = nullptr;
      row_seq.reset();
      tomb = e.seq;
      tomb_json = e.seq_json;
    }
  }

  if (before == nullptr && row != nullptr) {
    ++result.counts.inserted;
    result.rows.push_back(row->json());
  } else if (before != nullptr && row == nullptr) {
    ++result.counts.deleted;
    result.replaced_keys.insert(*kc.key);
  } else if (before != nullptr && row != before && !row->same_fields(*before)) {
    ++result.counts.updated;
    result.replaced_keys.insert(*kc.key);
    result.rows.push_back(row->json());
  }
  if (tomb && (kc.tombstones.values.size() != 1 || *tomb != *tomb_before)) {
    result.tombstones_set.push_back({kc.key_json, std::string(tomb_json)});
  } else if (!tomb && !kc.tombstones.values.empty()) {
    result.tombstones_cleared.push_back(*kc.key);
  }
}

void MergeEngine::apply_type2(KeyChanges& kc, MergeResult& result) const {
  // Rebuild the key's timeline from its stored versions, its tombstones and the batch.
  const History history = history_of(kc.rows);
  std::vector<Event> events;
  for (std::size_t i = 0; i < history.versions.size(); ++i) {
    const Version& v = history.versions[i];
    events.push_back({v.start, v.start_json, v.row, false, i});
    const bool last = i + 1 == history.versions.size();
    if (v.end && (last || *v.end < history.versions[i + 1].start)) {
      events.push_back({*v.end, v.end_json, nullptr, false, i});
    }
  }
  for (std::size_t i = 0; i < kc.tombstones.values.size(); ++i) {
    events.push_back({kc.tombstones.values[i], kc.tombstones.json[i], nullptr, false, i});
  }
  events.insert(events.end(), kc.batch.begin(), kc.batch.end());
  std::stable_sort(events.begin(), events.end());

  // At one sequence value a delete wins (a stored one before the batch's), otherwise the last
  // upsert (the batch's after what is stored).
  std::vector<Event> timeline;
  for (std::size_t i = 0; i < events.size();) {
    std::size_t end = i;
    std::optional<std::size_t> first_delete;
    while (end < events.size() && events[end].seq == events[i].seq) {
      if (events[end].is_delete() && !first_delete) first_delete = end;
      ++end;
    }
    std::size_t survivor = first_delete ? *first_delete : end - 1;
    if (!first_delete && events[survivor].from_batch) {
      // A replayed change: keep the stored version it repeats (and count the replay as ignored).
      for (std::size_t k = i; k < end && !events[k].from_batch; ++k) {
        if (events[k].row->same_fields(*events[survivor].row, {kStartAtColumn, kEndAtColumn})) {
          survivor = k;
        }
      }
    }
    for (std::size_t k = i; k < end; ++k) {
      if (k != survivor && events[k].from_batch) ++result.counts.ignored;
    }
    timeline.push_back(events[survivor]);
    i = end;
  }

  struct Out {
    const Row* data;
    TypedValue start;
    std::string_view start_json;
    std::optional<TypedValue> end;
    std::string_view end_json;
  };
  std::vector<Out> out;
  std::vector<const Event*> unclosing;  // deletes with no version to close: the tombstones
  bool open = false;
  for (const Event& e : timeline) {
    if (!e.is_delete()) {
      if (open && out.back().data->same_fields(*e.row, {kStartAtColumn, kEndAtColumn})) {
        if (e.from_batch) ++result.counts.ignored;  // a duplicate of the version it would replace
        continue;
      }
      if (open) {
        out.back().end = e.seq;
        out.back().end_json = e.seq_json;
      }
      out.push_back({e.row, e.seq, e.seq_json, std::nullopt, {}});
      open = true;
    } else if (open) {
      out.back().end = e.seq;
      out.back().end_json = e.seq_json;
      open = false;
    } else {
      unclosing.push_back(&e);
    }
  }

  bool changed = out.size() != history.versions.size();
  for (std::size_t i = 0; !changed && i < out.size(); ++i) {
    const Version& v = history.versions[i];
    changed =
        out[i].start != v.start || out[i].end != v.end ||
        (out[i].data != v.row && !out[i].data->same_fields(*v.row, {kStartAtColumn, kEndAtColumn}));
  }
  if (changed) {
    const bool had_current = history.has_current();
    const bool has_current = open;
    if ((!had_current && has_current) || history.versions.empty()) {
      ++result.counts.inserted;
    } else if (had_current && !has_current) {
      ++result.counts.deleted;
    } else {
      ++result.counts.updated;
    }
    if (!history.versions.empty()) result.replaced_keys.insert(*kc.key);
    for (const Out& v : out) {
      result.rows.push_back(v.data->rebuild(
          {kStartAtColumn, kEndAtColumn},
          {{kStartAtColumn, v.start_json}, {kEndAtColumn, v.end ? v.end_json : "null"}}));
    }
  }

  bool tombstones_changed = unclosing.size() != kc.tombstones.values.size();
  for (std::size_t i = 0; !tombstones_changed && i < unclosing.size(); ++i) {
    tombstones_changed = unclosing[i]->seq != kc.tombstones.values[i];
  }
  if (tombstones_changed) {
    if (unclosing.empty()) {
      result.tombstones_cleared.push_back(*kc.key);
    } else {
      for (const Event* e : unclosing) {
        result.tombstones_set.push_back({kc.key_json, std::string(e->seq_json)});
      }
    }
  }
}

MergeResult MergeEngine::apply_snapshot(const std::vector<Row>& snapshot,
                                        const std::vector<Row>& current,
                                        std::int64_t snapshot_time_micros) const {
  if (spec_.flow != TargetFlow::kApplyChangesFromSnapshot) {
    throw Error(ErrorCode::kInternal, fmt::format("table '{}': apply_snapshot on a {} table",
                                                  spec_.table, to_string(spec_.flow)));
  }
  MergeResult result;
  std::unordered_map<RowKey, std::size_t> snapshot_index;
  std::vector<RowKey> snapshot_keys;
  for (std::size_t i = 0; i < snapshot.size(); ++i) {
    RowKey key = key_of(snapshot[i], fmt::format("snapshot row {}", i));
    const auto [it, inserted] = snapshot_index.emplace(key, i);
    if (!inserted) {
      throw Error(ErrorCode::kData,
                  fmt::format("table '{}': the snapshot has two rows with key {} (rows {} and {}); "
                              "a snapshot needs unique primary keys — check primary_keys",
                              spec_.table, describe_key(snapshot[i]), it->second, i));
    }
    snapshot_keys.push_back(std::move(key));
  }
  std::unordered_map<RowKey, std::vector<const Row*>> current_by_key;
  std::vector<RowKey> current_keys;
  for (const Row& row : current) {
    RowKey key = key_of(row, "a target row");
    auto [it, inserted] = current_by_key.try_emplace(key);
    if (inserted) current_keys.push_back(key);
    it->second.push_back(&row);
  }

  if (spec_.scd_type == ScdType::kType1) {
    for (const auto& [key, rows] : current_by_key) {
      if (rows.size() > 1) {
        throw Error(ErrorCode::kInternal,
                    fmt::format("table '{}' holds {} rows for key {}; an SCD type 1 table holds "
                                "one per key — run with --full-refresh to rebuild it",
                                spec_.table, rows.size(), describe_key(*rows.front())));
      }
    }
    for (std::size_t i = 0; i < snapshot.size(); ++i) {
      const auto it = current_by_key.find(snapshot_keys[i]);
      if (it == current_by_key.end()) {
        ++result.counts.inserted;
        result.rows.push_back(snapshot[i].json());
      } else if (!it->second.front()->same_fields(snapshot[i])) {
        ++result.counts.updated;
        result.replaced_keys.insert(snapshot_keys[i]);
        result.rows.push_back(snapshot[i].json());
      }
    }
    for (const RowKey& key : current_keys) {
      if (!snapshot_index.contains(key)) {
        ++result.counts.deleted;
        result.replaced_keys.insert(key);
      }
    }
    return result;
  }

  // SCD type 2: versions open and close at the snapshot's time.
  std::string time_json = "\"";
  text::append_timestamp(time_json, snapshot_time_micros, true);
  time_json += '"';
  const TypedValue time = TypedValue::read(time_json, version_type_);
  auto write = [&](const History& history, const Row* opened) {
    for (const Version& v : history.versions) {
      result.rows.push_back(
          v.row->rebuild({kStartAtColumn, kEndAtColumn},
                         {{kStartAtColumn, v.start_json},
                          {kEndAtColumn, v.end ? v.end_json : std::string_view(time_json)}}));
    }
    if (opened != nullptr) {
      result.rows.push_back(opened->rebuild({kStartAtColumn, kEndAtColumn},
                                            {{kStartAtColumn, time_json}, {kEndAtColumn, "null"}}));
    }
  };
  auto check_time = [&](const History& history) {
    const Version& last = history.versions.back();
    const TypedValue& latest = last.end ? *last.end : last.start;
    if (!(latest < time)) {
      throw Error(ErrorCode::kInternal,
                  fmt::format("table '{}': the snapshot's time {} is not after the latest version "
                              "in the table ({}); check the system clock",
                              spec_.table, time_json, last.end ? last.end_json : last.start_json));
    }
  };
  for (std::size_t i = 0; i < snapshot.size(); ++i) {
    const auto it = current_by_key.find(snapshot_keys[i]);
    History history;
    if (it != current_by_key.end()) history = history_of(it->second);
    if (history.has_current() &&
        history.versions.back().row->same_fields(snapshot[i], {kStartAtColumn, kEndAtColumn})) {
      continue;
    }
    if (!history.versions.empty()) {
      check_time(history);
      result.replaced_keys.insert(snapshot_keys[i]);
    }
    if (history.has_current()) {
      ++result.counts.updated;
    } else {
      ++result.counts.inserted;
    }
    write(history, &snapshot[i]);
  }
  for (const RowKey& key : current_keys) {
    if (snapshot_index.contains(key)) continue;
    const History history = history_of(current_by_key.at(key));
    if (!history.has_current()) continue;
    check_time(history);
    ++result.counts.deleted;
    result.replaced_keys.insert(key);
    write(history, nullptr);
  }
  return result;
}

MergeResult MergeEngine::append(std::vector<std::string> rows) const {
  if (spec_.flow != TargetFlow::kAppend) {
    throw Error(ErrorCode::kInternal, fmt::format("table '{}': append on a {} table", spec_.table,
                                                  to_string(spec_.flow)));
  }
  MergeResult result;
  result.counts.inserted = rows.size();
  result.rows = std::move(rows);
  return result;
}

}  // namespace lakeflow::pipeline
