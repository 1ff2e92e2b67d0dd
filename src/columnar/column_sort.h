// Reordering the rows of a ColumnBatch: sorting by key columns and gathering rows in a given order
// (Arrow's "sort_indices" and "take"). A writer of clustered data files sorts a batch with these
// before handing it to the Parquet writer, which stays unaware of any order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "columnar/column_batch.h"
#include "lakeflow/types.h"

namespace lakeflow {

// A column reached from the top level of a schema through struct fields: {"address", "city"}.
using FieldPath = std::vector<std::string>;

// Whether rows can be ordered by a column of `type`: every primitive type except variant (numbers,
// decimals, strings, binary, booleans, dates, timestamps).
bool is_sortable(const DataType& type);

// The order of a batch's rows by key columns: by the first key, ties by the second, and so on,
// each ascending. Nulls (a null value or a null enclosing struct) come first. Values compare as
// Delta's and Parquet's min/max statistics do: numbers and decimals by value (floating point: -0.0
// equals 0.0, NaN after +infinity, NaNs equal), strings and binary bytewise (unsigned; for UTF-8
// that is code point order), false before true, dates and timestamps by time.
//
// Keeps pointers into `batch`, which must outlive it and not change.
class RowOrder {
 public:
  // Throws Error(kInternal) when a key path does not lead to a sortable column of `batch` through
  // structs (callers validate their keys first).
  RowOrder(const ColumnBatch& batch, const std::vector<FieldPath>& keys);

  // Negative, zero or positive as row `a` sorts before, equal to, or after row `b`.
  int compare(std::size_t a, std::size_t b) const;

  // Every row index of the batch, sorted; rows with equal keys keep their original order.
  std::vector<std::uint32_t> sorted() const;

 private:
  struct Key {
    const Column* column;
    std::vector<bool> null;  // per row: the value or an enclosing struct is null
  };
  std::vector<Key> keys_;
  std::size_t rows_ = 0;
};

// Appends the value (or null) of `source` at `row` to `destination`, a column of the same type.
void append_row(const Column& source, std::size_t row, Column& destination);

// Appends the rows of `source` at `rows`, in that order, to `destination` (a batch of the same
// schema). Values are copied; `source` is unchanged.
void append_rows(const ColumnBatch& source, std::span<const std::uint32_t> rows,
                 ColumnBatch& destination);

}  // namespace lakeflow
