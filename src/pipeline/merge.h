// Target semantics: how a batch read from a connector changes a destination table, as Databricks'
// `apply_changes` (cdc), `apply_changes_from_snapshot` (snapshot) and append flows do. Pure: rows
// in, rows out; the runner reads the affected rows from the Delta table and writes the result back.
//
// Rows are JSON object text (see row.h). Keys are the primary key columns (dotted paths allowed),
// compared by their typed values; sequence values order by their type (timestamps as instants,
// numbers numerically, strings by bytes).
//
// apply_changes, SCD type 1 (one row per key):
//   * An upsert replaces the key's row when its sequence is >= the row's; an older upsert arriving
//     late is ignored. An upsert identical to the row (same fields, same sequence) is ignored.
//   * A delete removes the key's row when its sequence is >= the row's (a delete older than the
//     row is ignored) and leaves a tombstone (key + sequence): an upsert with a sequence <= the
//     tombstone's, arriving later, is ignored instead of bringing the row back. At equal sequence a
//     delete wins over an upsert. Tombstones are state the runner keeps beside the table (see
//     MergeResult); without them a late upsert older than a delete re-creates the row.
//   * Within a batch, a key's changes apply in sequence order, so the batch's order does not
//   matter.
// apply_changes, SCD type 2 (history):
//   * Target rows are the source columns plus `__START_AT` and `__END_AT`, both of the sequence
//     column's type. The current version has `__END_AT` null.
//   * An upsert closes the current version (`__END_AT` = the upsert's sequence) and opens a new one
//     (`__START_AT` = that sequence); one identical to the version it would replace (every column,
//     the sequence column included) is a duplicate and is ignored. A delete closes the current
//     version and opens none.
//   * Out of order, as apply_changes does: the key's history is rebuilt from its versions, its
//     tombstone and the batch, in sequence order. A late upsert lands in history at its place: the
//     version covering its sequence is cut there and the late version runs until the next change.
//     A late delete cuts the version covering it (the key was gone from then until its next
//     version). A late change older than the first version opens history earlier. At equal
//     sequence a delete wins, otherwise the batch's last upsert.
//   * A delete that closes nothing (no current version) is kept as a tombstone, so a later, older
//     upsert ends at it rather than staying current. With the tombstones kept, applying changes in
//     several batches gives the same history as applying them all at once, whatever their order.
// apply_changes_from_snapshot (`apply_snapshot`): the snapshot replaces the table by key. New keys
//   are inserted, changed rows updated, keys missing from the snapshot deleted. SCD type 2 closes
//   and opens versions at the snapshot's time (`__START_AT` / `__END_AT` are timestamps). Duplicate
//   keys in a snapshot are an error.
// append: rows are appended unchanged.
//
// Counts are per changed key: inserted (the key has a current row now and had none, or had no rows
// at all before), deleted (it had a current row and has none now), updated (any other change: the
// current row or, for SCD 2, its history). `ignored` counts changes that had no effect: SCD 1
// changes older than the key's latest, replays of a row or version already stored, and changes
// that lost a tie of sequence values.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "lakeflow/types.h"
#include "pipeline/row.h"

namespace lakeflow::pipeline {

enum class ScdType : std::uint8_t { kType1, kType2 };

enum class TargetFlow : std::uint8_t {
  kApplyChanges,              // cdc, cdc_with_deletes
  kApplyChangesFromSnapshot,  // snapshot
  kAppend,                    // append, and every table with scd_type APPEND_ONLY
};
// "apply_changes", "apply_changes_from_snapshot", "append".
std::string_view to_string(TargetFlow flow);

inline constexpr std::string_view kStartAtColumn = "__START_AT";
inline constexpr std::string_view kEndAtColumn = "__END_AT";

struct MergeSpec {
  std::string table;  // the destination's name, for messages
  TargetFlow flow = TargetFlow::kApplyChanges;
  ScdType scd_type = ScdType::kType1;
  StructType schema;  // of the source rows
  std::vector<std::string> primary_keys;
  std::optional<std::string> sequence_by;  // required by kApplyChanges
  // The zone a date-time without an offset is read in (seconds east of UTC; table option
  // timestamp_zone); unset: such a key or sequence value is an error.
  std::optional<std::int32_t> timestamp_zone_offset = std::nullopt;
};

// One change for apply_changes. A delete's row needs only the key and sequence columns.
struct Change {
  enum class Kind : std::uint8_t { kUpsert, kDelete };
  Kind kind;
  Row row;

  static Change upsert(std::string json) { return {Kind::kUpsert, Row(std::move(json))}; }
  static Change remove(std::string json) { return {Kind::kDelete, Row(std::move(json))}; }
};

// What a delete leaves so that older changes arriving later cannot undo it.
struct Tombstone {
  std::string key_json;       // the key columns as a JSON object, e.g. {"id":5}
  std::string sequence_json;  // the delete's sequence value as JSON, e.g. "2024-05-01T00:00:00Z"
  friend bool operator==(const Tombstone&, const Tombstone&) = default;
};

// Identifies a key: equal for rows whose key values are equal (see MergeEngine::key_of).
using RowKey = std::string;

struct MergeCounts {
  std::size_t inserted = 0;
  std::size_t updated = 0;
  std::size_t deleted = 0;
  std::size_t ignored = 0;
  friend bool operator==(const MergeCounts&, const MergeCounts&) = default;
};

struct MergeResult {
  // Rows to write, as JSON text of the target schema: for every key in `replaced_keys` (and every
  // new key) all of its rows, in the order keys were first seen.
  std::vector<std::string> rows;
  // Keys whose existing target rows are all to be removed (the rows above take their place). Keys
  // not listed keep their rows untouched.
  std::unordered_set<RowKey> replaced_keys;
  // Tombstones to store. For every key with an entry here, these entries are its whole set and
  // replace what is stored for it (SCD 1: one; SCD 2: each delete that closed no version).
  std::vector<Tombstone> tombstones_set;
  // Keys whose stored tombstones are all to be dropped (a newer upsert made them moot).
  std::vector<RowKey> tombstones_cleared;
  MergeCounts counts;
};

// Why `path` cannot be a primary key (or, with `sequence`, the sequence column) of a table with
// `schema`: "is not a column of the table (columns: ...)", "is a map<...> column; ...". nullopt
// when it can.
std::optional<std::string> key_column_problem(const StructType& schema, std::string_view path,
                                              bool sequence);

class MergeEngine {
 public:
  // A primary key (or sequence) column: its dotted path and type.
  struct Column {
    std::string path;
    DataType type;
  };

  // Resolves the key and sequence columns in the schema. Throws ConfigError naming the table when
  // a required key or sequence column is missing, not a column, or of a type that cannot be one
  // (struct, array, map, variant; binary cannot order a sequence), or when an SCD type 2 table
  // already has a `__START_AT` / `__END_AT` column.
  explicit MergeEngine(MergeSpec spec);

  const MergeSpec& spec() const { return spec_; }
  // The destination table's schema: the source schema, plus `__START_AT` / `__END_AT` for SCD 2.
  const StructType& target_schema() const { return target_schema_; }

  // The key of a row. Throws Error(kData) naming the table and column when a key value is missing,
  // null or not of its column's type.
  RowKey key_of(const Row& row) const;
  // The primary key columns, in the spec's order (none for append).
  const std::vector<Column>& key_columns() const { return keys_; }
  // The sequence column (apply_changes only).
  const std::optional<Column>& sequence_column() const { return sequence_; }
  // The typed values of a row's key columns, in key_columns() order. Throws as key_of.
  std::vector<TypedValue> key_values(const Row& row) const;
  // The key columns of `row` as a JSON object text (`{"id":5}`), e.g. for a Tombstone.
  std::string key_json(const Row& row) const;

  // Applies cdc changes. `current` holds the target rows of (at least) the changed keys; rows of
  // other keys are ignored, so the runner may pass every row of the files that hold changed keys.
  // `tombstones` are the stored tombstones of (at least) the changed keys. Throws Error(kData) for
  // a change without a key or sequence value, Error(kInternal) for target rows that break the
  // table's shape (two SCD 1 rows for a key; overlapping SCD 2 versions).
  MergeResult apply_changes(const std::vector<Change>& changes, const std::vector<Row>& current,
                            const std::vector<Tombstone>& tombstones = {}) const;

  // Applies a full snapshot. `current` must be the whole target table. `snapshot_time_micros` (the
  // time of the read, µs since the epoch) versions SCD 2 rows; it must be later than every version
  // already in the table (Error(kInternal) otherwise).
  MergeResult apply_snapshot(const std::vector<Row>& snapshot, const std::vector<Row>& current,
                             std::int64_t snapshot_time_micros) const;

  // A key's stored tombstones: their sequence values, ascending and distinct, with their JSON text
  // (views into the Tombstone they were read from).
  struct KeyTombstones {
    std::vector<TypedValue> values;
    std::vector<std::string_view> json;
  };
  // Files each of `tombstones` under its key, in the place `place` returns for the key (nullptr:
  // the key is not wanted). Throws Error(kData) naming the tombstone when its key or sequence does
  // not read as the columns' types.
  void collect_tombstones(const std::vector<Tombstone>& tombstones,
                          const std::function<KeyTombstones*(const RowKey&)>& place) const;

  // Appends rows (counted as inserted). The runner can as well write its converted batches as they
  // are; this exists so every flow has the same result shape.
  MergeResult append(std::vector<std::string> rows) const;

 private:
  struct Version;
  struct History;
  struct Event;
  struct KeyChanges;
  RowKey key_of(const Row& row, std::string_view what) const;
  std::vector<TypedValue> key_values(const Row& row, std::string_view what) const;
  TypedValue sequence_of(const Row& row, std::string_view what) const;
  TypedValue version_of(std::string_view json, const std::string& context) const;
  History history_of(const std::vector<const Row*>& rows) const;
  std::string describe_key(const Row& row) const;
  void apply_type1(KeyChanges& key, MergeResult& result) const;
  void apply_type2(KeyChanges& key, MergeResult& result) const;

  MergeSpec spec_;
  StructType target_schema_;
  std::vector<Column> keys_;
  std::optional<Column> sequence_;
  DataType version_type_;  // of __START_AT / __END_AT
};

}  // namespace lakeflow::pipeline
