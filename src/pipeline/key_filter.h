// Which data files of a table may hold one of a batch's keys, decided from each file's key column
// ranges (destination::ColumnRange: the table's statistics) without reading the file. A merge
// reads only those files; a file that is skipped cannot hold any of the keys, so skipping never
// changes a merge's result, only what it reads.
//
// A key can be in a file only when each key column's value lies in that column's range for the
// file; with a composite key every column narrows, the keys sorted by the first usable column so a
// file costs a binary search plus the keys inside its range. Columns whose statistics do not order
// values as keys compare (booleans, binary, floats, doubles, decimals) are not used, and a range
// that is missing or does not read as the column's type excludes nothing; so does a table without
// statistics. Null keys never reach a merge (MergeEngine::key_of rejects them).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "destination/destination.h"
#include "pipeline/merge.h"
#include "pipeline/row.h"

namespace lakeflow::pipeline {

class KeyFilter {
 public:
  // `columns`: the key columns; `keys`: the values of each key of the batch, in column order
  // (MergeEngine::key_values).
  KeyFilter(std::vector<MergeEngine::Column> columns, std::vector<std::vector<TypedValue>> keys);

  // The key columns whose ranges may_hold uses (indexes into `columns`), usually all of them; none
  // when no column can be used, and then every file may hold a key.
  const std::vector<std::size_t>& used_columns() const { return used_; }

  // Whether a file whose ranges of used_columns() are `ranges` (in that order) may hold one of the
  // keys.
  bool may_hold(const std::vector<destination::ColumnRange>& ranges) const;

 private:
  // A column's range, read as the column's type.
  struct Bounds {
    std::optional<TypedValue> min;
    std::optional<TypedValue> max;
    // Strings with a cut maximum: every value is below these bytes (the bound's prefix without its
    // last character, incremented).
    std::optional<std::string> below;
  };
  Bounds bounds_of(std::size_t column, const destination::ColumnRange& range) const;
  static bool within(const TypedValue& value, const Bounds& bounds);

  std::vector<MergeEngine::Column> columns_;
  std::vector<std::size_t> used_;
  std::vector<std::vector<TypedValue>> keys_;  // sorted by the first used column
};

}  // namespace lakeflow::pipeline
