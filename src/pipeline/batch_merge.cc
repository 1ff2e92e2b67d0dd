#include "pipeline/batch_merge.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>
#include <unordered_map>

#include "lakeflow/error.h"

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

bool readable(const DataType& type) {
  return TypedValue::supports(type) && type.id() != TypeId::kBinary;
}

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
  if (!sequence_) return std::nullopt;
  const Column* column = value_at(*sequence_, row);
  if (column == nullptr) return std::nullopt;
  return TypedValue::of(*column, row);
}

bool same_row(const ColumnBatch& x, std::size_t a, const ColumnBatch& y, std::size_t b) {
  return same_value(x.root(), a, y.root(), b);
}

// ---- apply_upserts -----------------------------------------------------------------------------

std::optional<BatchMergeResult> apply_upserts(const MergeEngine& engine, const ColumnBatch& changes,
                                              std::span<const TargetRows> target,
                                              const std::vector<Tombstone>& tombstones) {
  const MergeSpec& spec = engine.spec();
  if (spec.flow != TargetFlow::kApplyChanges || spec.scd_type != ScdType::kType1) {
    throw Error(ErrorCode::kInternal,
                fmt::format("table '{}': apply_upserts on a {} table that is not SCD type 1",
                            spec.table, to_string(spec.flow)));
  }
  const BatchKeys keys(engine, changes);
  if (!keys.usable() || !keys.has_sequence()) return std::nullopt;

  // Everything known about one changed key (MergeEngine's KeyChanges, by row index).
  struct KeyChanges {
    const RowKey* key = nullptr;
    std::uint32_t first = 0;                                  // its first change
    std::vector<std::pair<TypedValue, std::uint32_t>> batch;  // sequence, change row
    std::size_t target_rows = 0;
    std::size_t target = 0;  // the target row (when target_rows == 1): its TargetRows, its row
    std::size_t target_row = 0;
    MergeEngine::KeyTombstones tombstones;
  };
  std::unordered_map<RowKey, KeyChanges> by_key;
  by_key.reserve(changes.num_rows());
  std::vector<KeyChanges*> order;
  for (std::size_t i = 0; i < changes.num_rows(); ++i) {
    std::optional<RowKey> key = keys.key(i);
    std::optional<TypedValue> seq = keys.sequence(i);
    if (!key || !seq) return std::nullopt;
    const auto row = static_cast<std::uint32_t>(i);
    auto [it, inserted] = by_key.try_emplace(std::move(*key));
    if (inserted) {
      it->second.key = &it->first;
      it->second.first = row;
      order.push_back(&it->second);
    }
    it->second.batch.emplace_back(std::move(*seq), row);
  }
  std::vector<BatchKeys> target_keys;
  target_keys.reserve(target.size());
  for (std::size_t t = 0; t < target.size(); ++t) {
    target_keys.emplace_back(engine, *target[t].batch);
    if (!target_keys.back().usable() || !target_keys.back().has_sequence()) return std::nullopt;
    const std::vector<RowKey>& row_keys = *target[t].keys;
    for (std::size_t r = 0; r < row_keys.size(); ++r) {
      const auto it = by_key.find(row_keys[r]);
      if (it == by_key.end()) continue;
      if (it->second.target_rows++ == 0) {
        it->second.target = t;
        it->second.target_row = r;
      }
    }
  }
  engine.collect_tombstones(tombstones, [&by_key](const RowKey& key) {
    const auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : &it->second.tombstones;
  });

  BatchMergeResult result;
  MergeResult& merge = result.merge;
  for (KeyChanges* kc : order) {
    if (kc->target_rows > 1) return std::nullopt;  // the engine names the key in its error
    std::stable_sort(kc->batch.begin(), kc->batch.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    // The key's row: none, the target row (`before`) or a change (`changed`).
    const bool before = kc->target_rows == 1;
    const ColumnBatch* row_batch = before ? target[kc->target].batch : nullptr;
    std::size_t row = before ? kc->target_row : 0;
    bool changed = false;
    std::optional<TypedValue> row_seq;
    if (before) row_seq = target_keys[kc->target].sequence(row);
    // Only the latest stored tombstone matters here.
    std::optional<TypedValue> tomb;
    std::string_view tomb_json;
    if (!kc->tombstones.values.empty()) {
      tomb = kc->tombstones.values.back();
      tomb_json = kc->tombstones.json.back();
    }
    const std::optional<TypedValue> tomb_before = tomb;

    for (const auto& [seq, change] : kc->batch) {
      const bool stale = (row_seq && seq < *row_seq) || (tomb && seq <= *tomb);
      const bool duplicate = row_batch != nullptr && row_seq && seq == *row_seq &&
                             same_row(*row_batch, row, changes, change);
      if (stale || duplicate) {
        ++merge.counts.ignored;
        continue;
      }
      row_batch = &changes;
      row = change;
      changed = true;
      row_seq = seq;
      tomb.reset();
    }

    if (!before && changed) {
      ++merge.counts.inserted;
      result.rows.push_back(static_cast<std::uint32_t>(row));
    } else if (before && changed &&
               !same_row(changes, row, *target[kc->target].batch, kc->target_row)) {
      ++merge.counts.updated;
      merge.replaced_keys.insert(*kc->key);
      result.rows.push_back(static_cast<std::uint32_t>(row));
    }
    if (tomb && (kc->tombstones.values.size() != 1 || *tomb != *tomb_before)) {
      const std::string key_json = engine.key_json(Row(changes.row_json(kc->first)));
      merge.tombstones_set.push_back({key_json, std::string(tomb_json)});
    } else if (!tomb && !kc->tombstones.values.empty()) {
      merge.tombstones_cleared.push_back(*kc->key);
    }
  }
  return result;
}

// ---- apply_snapshot_rows -----------------------------------------------------------------------

std::optional<BatchMergeResult> apply_snapshot_rows(const MergeEngine& engine,
                                                    const ColumnBatch& snapshot,
                                                    std::span<const TargetRows> target) {
  const MergeSpec& spec = engine.spec();
  if (spec.flow != TargetFlow::kApplyChangesFromSnapshot || spec.scd_type != ScdType::kType1) {
    throw Error(ErrorCode::kInternal,
                fmt::format("table '{}': apply_snapshot_rows on a {} table that is not SCD type 1",
                            spec.table, to_string(spec.flow)));
  }
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
