// Merges of rows held in ColumnBatches (the converted source batch, the data files read back),
// decided from the typed key and sequence columns and carried out by taking rows by index
// (append_rows), without the JSON text the MergeEngine exchanges (row.h): rendering every row of
// every file read and parsing it again cost more than the rest of a merge.
//
// The semantics are the engine's (merge.h), for the cases covered here; everything else, and every
// batch whose keys or sequence values the engine would reject, goes through the engine, which
// stays the reference: batch_merge_test.cc runs both on random batches and compares the tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "columnar/column_batch.h"
#include "pipeline/merge.h"
#include "pipeline/row.h"

namespace lakeflow::pipeline {

// A MergeEngine's key and sequence columns located in a batch whose schema holds them (the source
// or the target schema), read as typed values equal to those the engine reads from the rows'
// ColumnBatch::row_json text. Keeps pointers into `batch`, which must outlive it and not change.
class BatchKeys {
 public:
  BatchKeys(const MergeEngine& engine, const ColumnBatch& batch);

  // Whether every key column was found and is of a type read here (every type a key may have;
  // binary keys read as their base64 text, as the engine keys them).
  bool usable() const { return usable_; }
  // Whether the engine's sequence column was found (and is of a type read here).
  bool has_sequence() const { return sequence_.has_value(); }
  // The key of `row` as MergeEngine::key_of gives it for the row's JSON; nullopt when a key value
  // (or a struct holding it) is null.
  std::optional<RowKey> key(std::size_t row) const;
  // The key values, as MergeEngine::key_values gives them; nullopt as key().
  std::optional<std::vector<TypedValue>> key_values(std::size_t row) const;
  // The sequence value; nullopt when it is null (or !has_sequence()).
  std::optional<TypedValue> sequence(std::size_t row) const;
  // The column holding the sequence value of `row` (a leaf, valid at `row`); nullptr when the
  // value is null (or !has_sequence()).
  const Column* sequence_column(std::size_t row) const;

 private:
  // The columns from the top level down to a value.
  using Path = std::vector<const Column*>;
  static const Column* value_at(const Path& path, std::size_t row);
  std::optional<Path> locate(const ColumnBatch& batch, const std::string& dotted) const;

  std::vector<Path> keys_;
  std::optional<Path> sequence_;
  bool usable_ = true;
};

// Whether row `a` of `x` and row `b` of `y`, batches of one schema, have the same
// ColumnBatch::row_json text (what Row::same_fields compares), decided from their values.
bool same_row(const ColumnBatch& x, std::size_t a, const ColumnBatch& y, std::size_t b);

// The rows of one data file read back (a batch of the target schema), with the key of each row.
struct TargetRows {
  const ColumnBatch* batch;
  const std::vector<RowKey>* keys;
};

// The changes of one apply_changes batch: the upserts, then the deletes, in that order (the order
// the engine's `changes` would list them in, which decides ties).
struct BatchChanges {
  // The upserts: every row of a batch of the source schema (MergeSpec::schema); may be null.
  const ColumnBatch* upserts = nullptr;
  // The deletes: rows holding (at least) the key and sequence columns, read as the engine reads a
  // delete's row.
  std::span<const Row> deletes;
};

struct BatchMergeResult {
  MergeResult merge;  // its `rows` stay empty: the rows to write are `rows` below
  // The rows to write, in the order MergeResult::rows would list them: rows of `versions` when
  // set, else of the changes (snapshot) batch.
  std::vector<std::uint32_t> rows;
  // SCD type 2: the versions to write (target schema), each made of a row's data columns (an
  // upsert's, or a stored version's) and its bounds, taken from the sequence and version columns
  // or, for a delete's or a tombstone's sequence, converted from its JSON text.
  std::optional<ColumnBatch> versions;
};

// MergeEngine::apply_changes, SCD type 1 or 2, for `changes`. `target` holds the target rows of (at
// least) the changed keys, `tombstones` the stored tombstones. Returns nullopt for a batch the
// engine must decide, to report its problem as the engine does: a change whose key or sequence
// value is missing, null or unreadable; SCD 1: a key with more than one target row; SCD 2: a
// target row without `__START_AT`, overlapping versions; key columns BatchKeys cannot read; an
// upsert batch not of the source schema or target rows not of the target schema.
//
// Where the engine cannot merge at all this merges: rows rendered as JSON cannot hold a NaN or
// infinite floating point value (row_json writes them as text its scanner refuses), so the
// engine fails SCD 2 merges of such rows; here they merge as any other value. And a delete's
// sequence written without an offset, in a table with a timestamp zone, converts with that zone
// where it ends a version (the engine's rows convert without it and fail).
std::optional<BatchMergeResult> apply_changes_by_index(const MergeEngine& engine,
                                                       const BatchChanges& changes,
                                                       std::span<const TargetRows> target,
                                                       const std::vector<Tombstone>& tombstones);

// MergeEngine::apply_snapshot: the snapshot is the rows of `snapshot` (a batch of the source
// schema), `target` the whole table; SCD 2 versions open and close at `snapshot_time_micros`.
// Returns nullopt for a snapshot the engine must decide: a row whose key is null, two rows with
// one key, SCD 1: a key with more than one target row; SCD 2: a history the engine refuses, a
// snapshot time not after a changed key's latest version; key columns BatchKeys cannot read.
std::optional<BatchMergeResult> apply_snapshot_rows(const MergeEngine& engine,
                                                    const ColumnBatch& snapshot,
                                                    std::span<const TargetRows> target,
                                                    std::int64_t snapshot_time_micros);

}  // namespace lakeflow::pipeline
