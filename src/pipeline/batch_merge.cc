#include "pipeline/batch_merge.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>
#include <unordered_map>

#include "columnar/column_sort.h"
#include "columnar/record_converter.h"
#include "lakeflow/error.h"
#include "lakeflow/records.h"

namespace lakeflow::pipeline {
namespace {

// Floating point values print the same row_json text when their bits are equal, or both are NaN
// (printed as NaN whatever the payload); -0.0 prints apart from 0.0.
template <typename Bits, typename F>
bool same_float(F p, F q) {
  if (std::isnan(p) || std::isnan(q)) return std::isnan(p) && std::isnan(q);
  return std::bit_cast<Bits>(p) == std::bit_cast<Bits>(q);
}

bool same_value(const Column& x, std::size_t a, const Column& y, std::size_t b) {
  const bool valid = x.is_valid(a);
  if (valid != y.is_valid(b)) return false;
  if (!valid) return true;
  switch (x.type().id()) {
    case TypeId::kLong:
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz:
      return x.values<std::int64_t>()[a] == y.values<std::int64_t>()[b];
    case TypeId::kInteger:
    case TypeId::kDate:
      return x.values<std::int32_t>()[a] == y.values<std::int32_t>()[b];
    case TypeId::kShort:
      return x.values<std::int16_t>()[a] == y.values<std::int16_t>()[b];
    case TypeId::kByte:
      return x.values<std::int8_t>()[a] == y.values<std::int8_t>()[b];
    case TypeId::kDouble:
      return same_float<std::uint64_t>(x.values<double>()[a], y.values<double>()[b]);
    case TypeId::kFloat:
      return same_float<std::uint32_t>(x.values<float>()[a], y.values<float>()[b]);
    case TypeId::kDecimal:
      return x.values<Int128>()[a] == y.values<Int128>()[b];
    case TypeId::kBoolean:
      return x.bool_value(a) == y.bool_value(b);
    case TypeId::kString:
    case TypeId::kBinary:
    case TypeId::kVariant:
      return x.string_value(a) == y.string_value(b);
    case TypeId::kStruct:
      for (std::size_t f = 0; f < x.num_children(); ++f) {
        if (!same_value(x.child(f), a, y.child(f), b)) return false;
      }
      return true;
    case TypeId::kArray:
    case TypeId::kMap: {
      // A map's elements are the rows of its `entries` struct column, written in order.
      const auto x_begin = static_cast<std::size_t>(x.offsets()[a]);
      const auto x_end = static_cast<std::size_t>(x.offsets()[a + 1]);
      const auto y_begin = static_cast<std::size_t>(y.offsets()[b]);
      const auto y_end = static_cast<std::size_t>(y.offsets()[b + 1]);
      if (x_end - x_begin != y_end - y_begin) return false;
      for (std::size_t e = 0; e < x_end - x_begin; ++e) {
        if (!same_value(x.child(0), x_begin + e, y.child(0), y_begin + e)) return false;
      }
      return true;
    }
  }
  return false;
}

bool readable(const DataType& type) { return TypedValue::supports(type); }

}  // namespace

// ---- BatchKeys ---------------------------------------------------------------------------------

BatchKeys::BatchKeys(const MergeEngine& engine, const ColumnBatch& batch) {
  for (const MergeEngine::Column& key : engine.key_columns()) {
    std::optional<Path> path = locate(batch, key.path);
    if (!path) {
      usable_ = false;
      return;
    }
    keys_.push_back(std::move(*path));
  }
  if (const auto& sequence = engine.sequence_column()) sequence_ = locate(batch, sequence->path);
}

// As Row::find_path reads a dotted path: a top-level field of that name, else struct fields.
std::optional<BatchKeys::Path> BatchKeys::locate(const ColumnBatch& batch,
                                                 const std::string& dotted) const {
  Path path;
  if (const auto index = batch.schema().index_of(dotted)) {
    path.push_back(&batch.column(*index));
  } else {
    const Column* column = &batch.root();
    std::size_t start = 0;
    while (true) {
      const std::size_t dot = dotted.find('.', start);
      const std::string_view name = std::string_view(dotted).substr(start, dot - start);
      if (column->type().id() != TypeId::kStruct) return std::nullopt;
      const std::vector<StructField>& fields = column->type().fields();
      const auto it = std::find_if(fields.begin(), fields.end(),
                                   [&](const StructField& f) { return f.name == name; });
      if (it == fields.end()) return std::nullopt;
      column = &column->child(static_cast<std::size_t>(it - fields.begin()));
      path.push_back(column);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }
  if (!readable(path.back()->type())) return std::nullopt;
  return path;
}

const Column* BatchKeys::value_at(const Path& path, std::size_t row) {
  for (const Column* column : path) {
    if (!column->is_valid(row)) return nullptr;
  }
  return path.back();
}

std::optional<RowKey> BatchKeys::key(std::size_t row) const {
  RowKey out;
  for (const Path& path : keys_) {
    const Column* column = value_at(path, row);
    if (column == nullptr) return std::nullopt;
    TypedValue::of(*column, row).append_key(out);
  }
  return out;
}

std::optional<std::vector<TypedValue>> BatchKeys::key_values(std::size_t row) const {
  std::vector<TypedValue> out;
  out.reserve(keys_.size());
  for (const Path& path : keys_) {
    const Column* column = value_at(path, row);
    if (column == nullptr) return std::nullopt;
    out.push_back(TypedValue::of(*column, row));
  }
  return out;
}

std::optional<TypedValue> BatchKeys::sequence(std::size_t row) const {
  const Column* column = sequence_column(row);
  if (column == nullptr) return std::nullopt;
  return TypedValue::of(*column, row);
}

const Column* BatchKeys::sequence_column(std::size_t row) const {
  return sequence_ ? value_at(*sequence_, row) : nullptr;
}

bool same_row(const ColumnBatch& x, std::size_t a, const ColumnBatch& y, std::size_t b) {
  return same_value(x.root(), a, y.root(), b);
}

// ---- apply_changes_by_index --------------------------------------------------------------------

namespace {

// A value on a key's timeline (a change's sequence value, a version's bound): typed, to order it,
// and where it is, to write it: a column's value at a row, or JSON text.
struct Bound {
  TypedValue value;
  const Column* column = nullptr;  // holds the value at `row`, or
  std::size_t row = 0;
  std::string_view json;  // its JSON text (a delete's sequence, a stored tombstone's)
};

// A row's data columns: row `row` of `batch` (the upserts or a target file); no batch: none.
struct DataRef {
  const ColumnBatch* batch = nullptr;
  std::uint32_t row = 0;
  explicit operator bool() const { return batch != nullptr; }
  friend bool operator==(const DataRef&, const DataRef&) = default;
};

// One step of a key's timeline, as the engine's: an upsert (with its data) or a delete.
struct Event {
  Bound seq;
  DataRef data;  // none for a delete
  bool from_batch = false;
  std::size_t order = 0;  // position in its input
  bool is_delete() const { return !data; }

  // The engine's order: by sequence; at one value what is stored first, then upserts before
  // deletes, then input order.
  friend bool operator<(const Event& a, const Event& b) {
    if (a.seq.value != b.seq.value) return a.seq.value < b.seq.value;
    if (a.from_batch != b.from_batch) return !a.from_batch;
    if (a.is_delete() != b.is_delete()) return !a.is_delete();
    return a.order < b.order;
  }
};

// A stored SCD 2 version, or one to write.
struct Version {
  DataRef data;
  Bound start;
  std::optional<Bound> end;  // nullopt: current
};

// Everything known about one changed key.
struct KeyChanges {
  const RowKey* key = nullptr;
  std::size_t first = 0;             // the input position of its first change
  std::vector<Event> batch;          // its changes, in sequence order
  std::vector<std::size_t> targets;  // its target rows: which TargetRows, which row (pairs)
  MergeEngine::KeyTombstones tombstones;
};

// The JSON text row_json writes for the value of `column` at `row`.
std::string value_json(const Column& column, std::size_t row) {
  ColumnBatch one(StructType{{"v", column.type()}});
  append_row(column, row, one.root().child(0));
  one.root().append_valid();
  const std::string text = one.row_json(0);
  constexpr std::string_view kPrefix = R"({"v":)";
  return text.substr(kPrefix.size(), text.size() - kPrefix.size() - 1);
}

// The stored versions of one key (`rows`, target rows whose first `data_fields` columns are the
// source's, then `__START_AT` and `__END_AT`) sorted by start, as MergeEngine::history_of reads
// them; nullopt for a history the engine refuses (a version without a start, overlapping
// versions).
std::optional<std::vector<Version>> history_of(const std::vector<DataRef>& rows,
                                               std::size_t data_fields) {
  std::vector<Version> versions;
  for (const DataRef& row : rows) {
    const Column& start = row.batch->column(data_fields);
    const Column& end = row.batch->column(data_fields + 1);
    if (!start.is_valid(row.row)) return std::nullopt;
    Version version{row, {TypedValue::of(start, row.row), &start, row.row, {}}, std::nullopt};
    if (end.is_valid(row.row)) {
      version.end = Bound{TypedValue::of(end, row.row), &end, row.row, {}};
    }
    versions.push_back(std::move(version));
  }
  std::stable_sort(versions.begin(), versions.end(), [](const Version& a, const Version& b) {
    return a.start.value < b.start.value;
  });
  for (std::size_t i = 0; i + 1 < versions.size(); ++i) {
    const Version& v = versions[i];
    const Version& next = versions[i + 1];
    if (!v.end || v.end->value > next.start.value || next.start.value == v.start.value) {
      return std::nullopt;
    }
  }
  return versions;
}

// `versions` as rows of the target schema (result.versions, listed in result.rows): each
// version's data columns, then its bounds. A bound known by its JSON text (a delete's or a
// tombstone's sequence) is converted as the engine's rows are, with the table's timestamp zone.
void write_versions(const MergeEngine& engine, const std::vector<Version>& versions,
                    BatchMergeResult& result) {
  const StructType& schema = engine.target_schema();
  const std::size_t data_fields = engine.spec().schema.fields().size();
  const DataType& bound_type = schema.fields()[data_fields].type;
  RecordBatch texts;
  auto note = [&texts](const Bound& bound) {
    if (bound.column == nullptr) texts.append(fmt::format(R"({{"v":{}}})", bound.json));
  };
  for (const Version& v : versions) {
    note(v.start);
    if (v.end) note(*v.end);
  }
  ConversionOptions options;
  options.timestamp_zone_offset = engine.spec().timestamp_zone_offset;
  RecordConverter converter(StructType{{"v", bound_type}}, engine.spec().table,
                            BadRecordMode::kFail, options);
  ColumnBatch converted = converter.make_batch();
  converter.convert(texts, converted);
  std::size_t next_text = 0;
  ColumnBatch& out = result.versions.emplace(schema);
  Column& root = out.root();
  auto bound = [&](const Bound& b, Column& column) {
    if (b.column != nullptr) {
      append_row(*b.column, b.row, column);
    } else {
      append_row(converted.column(0), next_text++, column);
    }
  };
  for (const Version& v : versions) {
    for (std::size_t c = 0; c < data_fields; ++c) {
      append_row(v.data.batch->column(c), v.data.row, root.child(c));
    }
    bound(v.start, root.child(data_fields));
    if (v.end) {
      bound(*v.end, root.child(data_fields + 1));
    } else {
      root.child(data_fields + 1).append_null();
    }
    root.append_valid();
    result.rows.push_back(static_cast<std::uint32_t>(result.rows.size()));
  }
}

// Whether two rows hold the same values in their first `fields` columns (SCD 2: the data columns,
// the version bounds aside).
bool same_data(const DataRef& a, const DataRef& b, std::size_t fields) {
  for (std::size_t c = 0; c < fields; ++c) {
    if (!same_value(a.batch->column(c), a.row, b.batch->column(c), b.row)) return false;
  }
  return true;
}

// apply_changes_by_index, one batch.
class ChangesByIndex {
 public:
  ChangesByIndex(const MergeEngine& engine, const BatchChanges& changes,
                 std::span<const TargetRows> target)
      : engine_(engine),
        spec_(engine.spec()),
        changes_(changes),
        target_(target),
        upserts_(changes.upserts != nullptr ? changes.upserts->num_rows() : 0),
        data_fields_(spec_.schema.fields().size()) {}

  std::optional<BatchMergeResult> run(const std::vector<Tombstone>& tombstones) {
    if (!collect_changes() || !collect_targets()) return std::nullopt;
    engine_.collect_tombstones(tombstones,
                               [this](const RowKey& key) -> MergeEngine::KeyTombstones* {
                                 const auto it = by_key_.find(key);
                                 return it == by_key_.end() ? nullptr : &it->second.tombstones;
                               });
    for (KeyChanges* kc : order_) {
      std::stable_sort(kc->batch.begin(), kc->batch.end());
      const bool merged = spec_.scd_type == ScdType::kType1 ? type1(*kc) : type2(*kc);
      if (!merged) return std::nullopt;
    }
    if (spec_.scd_type == ScdType::kType2) write_versions(engine_, written_, result_);
    return std::move(result_);
  }

 private:
  // Files the changes under their keys; false when a key or sequence value is missing, null or
  // unreadable.
  bool collect_changes() {
    if (changes_.upserts != nullptr) {
      if (!(changes_.upserts->schema() == spec_.schema)) return false;
      const BatchKeys keys(engine_, *changes_.upserts);
      if (!keys.usable() || !keys.has_sequence()) return false;
      for (std::size_t i = 0; i < upserts_; ++i) {
        std::optional<RowKey> key = keys.key(i);
        const Column* seq = keys.sequence_column(i);
        if (!key || seq == nullptr) return false;
        const auto row = static_cast<std::uint32_t>(i);
        add(std::move(*key),
            {{TypedValue::of(*seq, i), seq, i, {}}, {changes_.upserts, row}, true, i});
      }
    }
    const DataType& seq_type = engine_.sequence_column()->type;
    const std::string& seq_path = engine_.sequence_column()->path;
    for (std::size_t d = 0; d < changes_.deletes.size(); ++d) {
      const Row& row = changes_.deletes[d];
      try {
        RowKey key = engine_.key_of(row);
        const auto seq = row.find_path(seq_path);
        if (!seq || *seq == "null") return false;
        add(std::move(key),
            {{TypedValue::read(*seq, seq_type, spec_.timestamp_zone_offset), nullptr, 0, *seq},
             {},
             true,
             upserts_ + d});
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kData) throw;
        return false;  // the engine reports it, naming the delete
      }
    }
    return true;
  }

  void add(RowKey key, Event event) {
    auto [it, inserted] = by_key_.try_emplace(std::move(key));
    if (inserted) {
      it->second.key = &it->first;
      it->second.first = event.order;
      order_.push_back(&it->second);
    }
    it->second.batch.push_back(std::move(event));
  }

  // Finds the changed keys' target rows and the columns read from them; false when those cannot
  // be read as the engine reads them.
  bool collect_targets() {
    target_keys_.reserve(target_.size());
    for (std::size_t t = 0; t < target_.size(); ++t) {
      const ColumnBatch& batch = *target_[t].batch;
      if (!(batch.schema() == engine_.target_schema())) return false;
      target_keys_.emplace_back(engine_, batch);
      if (!target_keys_.back().usable()) return false;
      if (spec_.scd_type == ScdType::kType1 && !target_keys_.back().has_sequence()) return false;
      const std::vector<RowKey>& row_keys = *target_[t].keys;
      for (std::size_t r = 0; r < row_keys.size(); ++r) {
        const auto it = by_key_.find(row_keys[r]);
        if (it == by_key_.end()) continue;
        it->second.targets.push_back(t);
        it->second.targets.push_back(r);
      }
    }
    return true;
  }

  DataRef target_row(const KeyChanges& kc, std::size_t i) const {
    return {target_[kc.targets[2 * i]].batch, static_cast<std::uint32_t>(kc.targets[2 * i + 1])};
  }

  // The engine's key_json: from the key's first change.
  std::string key_json(const KeyChanges& kc) const {
    if (kc.first < upserts_) return engine_.key_json(Row(changes_.upserts->row_json(kc.first)));
    return engine_.key_json(changes_.deletes[kc.first - upserts_]);
  }

  // Whether two rows hold the same data (SCD 2: the version bounds aside).
  bool same_data(const DataRef& a, const DataRef& b) const {
    return pipeline::same_data(a, b, data_fields_);
  }

  // MergeEngine::apply_type1.
  bool type1(KeyChanges& kc) {
    const std::size_t target_rows = kc.targets.size() / 2;
    if (target_rows > 1) return false;  // the engine names the key in its error
    const DataRef before = target_rows == 1 ? target_row(kc, 0) : DataRef{};
    DataRef row = before;
    std::optional<TypedValue> row_seq;
    if (before) row_seq = target_keys_[kc.targets[0]].sequence(before.row);
    // Only the latest stored tombstone matters here.
    std::optional<TypedValue> tomb;
    std::string_view tomb_json;
    if (!kc.tombstones.values.empty()) {
      tomb = kc.tombstones.values.back();
      tomb_json = kc.tombstones.json.back();
    }
    const std::optional<TypedValue> tomb_before = tomb;
    MergeResult& merge = result_.merge;

    for (const Event& e : kc.batch) {
      const TypedValue& seq = e.seq.value;
      if (!e.is_delete()) {
        const bool stale = (row_seq && seq < *row_seq) || (tomb && seq <= *tomb);
        const bool duplicate = row && row_seq && seq == *row_seq && same_data(row, e.data);
        if (stale || duplicate) {
          ++merge.counts.ignored;
          continue;
        }
        row = e.data;
        row_seq = seq;
        tomb.reset();
      } else {
        const bool stale = row ? (row_seq && seq < *row_seq) : (tomb && seq <= *tomb);
        if (stale) {
          ++merge.counts.ignored;
          continue;
        }
        row = {};
        row_seq.reset();
        tomb = seq;
        tomb_json = e.seq.json;
      }
    }

    if (!before && row) {
      ++merge.counts.inserted;
      result_.rows.push_back(row.row);
    } else if (before && !row) {
      ++merge.counts.deleted;
      merge.replaced_keys.insert(*kc.key);
    } else if (before && row != before && !same_data(row, before)) {
      ++merge.counts.updated;
      merge.replaced_keys.insert(*kc.key);
      result_.rows.push_back(row.row);
    }
    if (tomb && (kc.tombstones.values.size() != 1 || *tomb != *tomb_before)) {
      merge.tombstones_set.push_back({key_json(kc), std::string(tomb_json)});
    } else if (!tomb && !kc.tombstones.values.empty()) {
      merge.tombstones_cleared.push_back(*kc.key);
    }
    return true;
  }

  std::optional<std::vector<Version>> history(const KeyChanges& kc) const {
    std::vector<DataRef> rows;
    for (std::size_t i = 0; i < kc.targets.size() / 2; ++i) rows.push_back(target_row(kc, i));
    return history_of(rows, data_fields_);
  }

  // MergeEngine::apply_type2.
  bool type2(KeyChanges& kc) {
    const std::optional<std::vector<Version>> stored = history(kc);
    if (!stored) return false;
    const std::vector<Version>& versions = *stored;
    MergeResult& merge = result_.merge;
    // The key's timeline: its stored versions, its tombstones and the batch.
    std::vector<Event> events;
    for (std::size_t i = 0; i < versions.size(); ++i) {
      const Version& v = versions[i];
      events.push_back({v.start, v.data, false, i});
      const bool last = i + 1 == versions.size();
      if (v.end && (last || v.end->value < versions[i + 1].start.value)) {
        events.push_back({*v.end, {}, false, i});
      }
    }
    for (std::size_t i = 0; i < kc.tombstones.values.size(); ++i) {
      events.push_back(
          {{kc.tombstones.values[i], nullptr, 0, kc.tombstones.json[i]}, {}, false, i});
    }
    events.insert(events.end(), kc.batch.begin(), kc.batch.end());
    std::stable_sort(events.begin(), events.end());

    // At one sequence value a delete wins (a stored one before the batch's), otherwise the last
    // upsert, or the stored version a replayed upsert repeats.
    std::vector<const Event*> timeline;
    for (std::size_t i = 0; i < events.size();) {
      std::size_t end = i;
      std::optional<std::size_t> first_delete;
      while (end < events.size() && events[end].seq.value == events[i].seq.value) {
        if (events[end].is_delete() && !first_delete) first_delete = end;
        ++end;
      }
      std::size_t survivor = first_delete ? *first_delete : end - 1;
      if (!first_delete && events[survivor].from_batch) {
        for (std::size_t k = i; k < end && !events[k].from_batch; ++k) {
          if (same_data(events[k].data, events[survivor].data)) survivor = k;
        }
      }
      for (std::size_t k = i; k < end; ++k) {
        if (k != survivor && events[k].from_batch) ++merge.counts.ignored;
      }
      timeline.push_back(&events[survivor]);
      i = end;
    }

    std::vector<Version> out;
    std::vector<const Event*> unclosing;  // deletes with no version to close: the tombstones
    bool open = false;
    for (const Event* e : timeline) {
      if (!e->is_delete()) {
        if (open && same_data(out.back().data, e->data)) {
          if (e->from_batch) ++merge.counts.ignored;  // a duplicate of the version it replaces
          continue;
        }
        if (open) out.back().end = e->seq;
        out.push_back({e->data, e->seq, std::nullopt});
        open = true;
      } else if (open) {
        out.back().end = e->seq;
        open = false;
      } else {
        unclosing.push_back(e);
      }
    }

    bool changed = out.size() != versions.size();
    for (std::size_t i = 0; !changed && i < out.size(); ++i) {
      const Version& v = versions[i];
      const std::optional<TypedValue> out_end =
          out[i].end ? std::optional<TypedValue>(out[i].end->value) : std::nullopt;
      const std::optional<TypedValue> v_end =
          v.end ? std::optional<TypedValue>(v.end->value) : std::nullopt;
      changed = out[i].start.value != v.start.value || out_end != v_end ||
                (out[i].data != v.data && !same_data(out[i].data, v.data));
    }
    if (changed) {
      const bool had_current = !versions.empty() && !versions.back().end;
      const bool has_current = open;
      if ((!had_current && has_current) || versions.empty()) {
        ++merge.counts.inserted;
      } else if (had_current && !has_current) {
        ++merge.counts.deleted;
      } else {
        ++merge.counts.updated;
      }
      if (!versions.empty()) merge.replaced_keys.insert(*kc.key);
      for (Version& v : out) written_.push_back(std::move(v));
    }

    bool tombstones_changed = unclosing.size() != kc.tombstones.values.size();
    for (std::size_t i = 0; !tombstones_changed && i < unclosing.size(); ++i) {
      tombstones_changed = unclosing[i]->seq.value != kc.tombstones.values[i];
    }
    if (tombstones_changed) {
      if (unclosing.empty()) {
        merge.tombstones_cleared.push_back(*kc.key);
      } else {
        const std::string json = key_json(kc);
        for (const Event* e : unclosing) {
          // A stored version's end has no JSON text at hand: the text row_json gives it.
          std::string seq_json = e->seq.column != nullptr ? value_json(*e->seq.column, e->seq.row)
                                                          : std::string(e->seq.json);
          merge.tombstones_set.push_back({json, std::move(seq_json)});
        }
      }
    }
    return true;
  }

  const MergeEngine& engine_;
  const MergeSpec& spec_;
  const BatchChanges& changes_;
  std::span<const TargetRows> target_;
  std::size_t upserts_;
  std::size_t data_fields_;  // the source's columns, leading the target schema
  std::unordered_map<RowKey, KeyChanges> by_key_;
  std::vector<KeyChanges*> order_;
  std::vector<BatchKeys> target_keys_;
  std::vector<Version> written_;  // SCD 2
  BatchMergeResult result_;
};

}  // namespace

std::optional<BatchMergeResult> apply_changes_by_index(const MergeEngine& engine,
                                                       const BatchChanges& changes,
                                                       std::span<const TargetRows> target,
                                                       const std::vector<Tombstone>& tombstones) {
  const MergeSpec& spec = engine.spec();
  if (spec.flow != TargetFlow::kApplyChanges) {
    throw Error(ErrorCode::kInternal,
                fmt::format("table '{}': apply_changes_by_index on a {} table", spec.table,
                            to_string(spec.flow)));
  }
  return ChangesByIndex(engine, changes, target).run(tombstones);
}

// ---- apply_snapshot_rows -----------------------------------------------------------------------

namespace {

// apply_snapshot_rows for an SCD type 2 table, once the snapshot's keys are known (unique).
std::optional<BatchMergeResult> snapshot_type2(
    const MergeEngine& engine, const ColumnBatch& snapshot,
    const std::vector<RowKey>& snapshot_keys,
    const std::unordered_map<std::string_view, std::size_t>& snapshot_index,
    std::span<const TargetRows> target, std::int64_t snapshot_time_micros) {
  const std::size_t data_fields = engine.spec().schema.fields().size();
  // Each key's target rows, and the keys in the order the table holds them.
  std::unordered_map<std::string_view, std::vector<DataRef>> current;
  std::vector<const RowKey*> current_keys;
  for (const TargetRows& rows : target) {
    if (!(rows.batch->schema() == engine.target_schema())) return std::nullopt;
    const std::vector<RowKey>& row_keys = *rows.keys;
    for (std::size_t r = 0; r < row_keys.size(); ++r) {
      auto [it, inserted] = current.try_emplace(row_keys[r]);
      if (inserted) current_keys.push_back(&row_keys[r]);
      it->second.push_back({rows.batch, static_cast<std::uint32_t>(r)});
    }
  }
  // The snapshot's time, a bound every version it opens or closes takes.
  Column time(engine.target_schema().fields()[data_fields].type);
  time.append_value(snapshot_time_micros);
  const Bound at{TypedValue::of(time, 0), &time, 0, {}};

  BatchMergeResult result;
  MergeResult& merge = result.merge;
  std::vector<Version> written;
  // False when the snapshot is not after the key's latest version (the engine's error).
  auto write = [&](std::vector<Version> history, std::optional<DataRef> opened) {
    if (!history.empty()) {
      const Version& last = history.back();
      if (!((last.end ? last.end->value : last.start.value) < at.value)) return false;
    }
    for (Version& v : history) {
      if (!v.end) v.end = at;
      written.push_back(std::move(v));
    }
    if (opened) written.push_back({*opened, at, std::nullopt});
    return true;
  };
  for (std::size_t i = 0; i < snapshot.num_rows(); ++i) {
    const DataRef row{&snapshot, static_cast<std::uint32_t>(i)};
    std::vector<Version> history;
    if (const auto it = current.find(snapshot_keys[i]); it != current.end()) {
      std::optional<std::vector<Version>> stored = history_of(it->second, data_fields);
      if (!stored) return std::nullopt;
      history = std::move(*stored);
    }
    const bool has_current = !history.empty() && !history.back().end;
    if (has_current && same_data(history.back().data, row, data_fields)) continue;
    if (!history.empty()) merge.replaced_keys.insert(snapshot_keys[i]);
    if (has_current) {
      ++merge.counts.updated;
    } else {
      ++merge.counts.inserted;
    }
    if (!write(std::move(history), row)) return std::nullopt;
  }
  for (const RowKey* key : current_keys) {
    if (snapshot_index.contains(*key)) continue;
    std::optional<std::vector<Version>> history = history_of(current.at(*key), data_fields);
    if (!history) return std::nullopt;
    if (history->empty() || history->back().end) continue;
    ++merge.counts.deleted;
    merge.replaced_keys.insert(*key);
    if (!write(std::move(*history), std::nullopt)) return std::nullopt;
  }
  write_versions(engine, written, result);
  return result;
}

}  // namespace

std::optional<BatchMergeResult> apply_snapshot_rows(const MergeEngine& engine,
                                                    const ColumnBatch& snapshot,
                                                    std::span<const TargetRows> target,
                                                    std::int64_t snapshot_time_micros) {
  const MergeSpec& spec = engine.spec();
  if (spec.flow != TargetFlow::kApplyChangesFromSnapshot) {
    throw Error(ErrorCode::kInternal, fmt::format("table '{}': apply_snapshot_rows on a {} table",
                                                  spec.table, to_string(spec.flow)));
  }
  if (!(snapshot.schema() == spec.schema)) return std::nullopt;
  const BatchKeys keys(engine, snapshot);
  if (!keys.usable()) return std::nullopt;
  std::vector<RowKey> snapshot_keys;
  snapshot_keys.reserve(snapshot.num_rows());
  std::unordered_map<std::string_view, std::size_t> snapshot_index;
  snapshot_index.reserve(snapshot.num_rows());
  for (std::size_t i = 0; i < snapshot.num_rows(); ++i) {
    std::optional<RowKey> key = keys.key(i);
    if (!key) return std::nullopt;
    snapshot_keys.push_back(std::move(*key));
  }
  for (std::size_t i = 0; i < snapshot_keys.size(); ++i) {
    if (!snapshot_index.emplace(snapshot_keys[i], i).second) return std::nullopt;
  }
  if (spec.scd_type == ScdType::kType2) {
    return snapshot_type2(engine, snapshot, snapshot_keys, snapshot_index, target,
                          snapshot_time_micros);
  }
  // Each key's target row, and the keys in the order the table holds them.
  struct Current {
    const TargetRows* rows;
    std::size_t row;
  };
  std::unordered_map<std::string_view, Current> current;
  std::vector<const RowKey*> current_keys;
  for (const TargetRows& rows : target) {
    const std::vector<RowKey>& row_keys = *rows.keys;
    for (std::size_t r = 0; r < row_keys.size(); ++r) {
      if (!current.emplace(row_keys[r], Current{&rows, r}).second) return std::nullopt;
      current_keys.push_back(&row_keys[r]);
    }
  }

  BatchMergeResult result;
  MergeResult& merge = result.merge;
  for (std::size_t i = 0; i < snapshot.num_rows(); ++i) {
    const auto it = current.find(snapshot_keys[i]);
    if (it == current.end()) {
      ++merge.counts.inserted;
      result.rows.push_back(static_cast<std::uint32_t>(i));
    } else if (!same_row(*it->second.rows->batch, it->second.row, snapshot, i)) {
      ++merge.counts.updated;
      merge.replaced_keys.insert(snapshot_keys[i]);
      result.rows.push_back(static_cast<std::uint32_t>(i));
    }
  }
  for (const RowKey* key : current_keys) {
    if (!snapshot_index.contains(*key)) {
      ++merge.counts.deleted;
      merge.replaced_keys.insert(*key);
    }
  }
  return result;
}

}  // namespace lakeflow::pipeline
