// Delta's per-file statistics (PROTOCOL.md, "Per-file Statistics"): the `stats` JSON of an `add`
// action, built from the column statistics the Parquet writer reports for the file.
#pragma once

#include <cstddef>
#include <string>

#include "destination/destination.h"
#include "parquet/parquet_writer.h"

namespace lakeflow::delta {

struct FileStatsOptions {
  // Statistics cover the first this many statistics columns (the table property
  // delta.dataSkippingNumIndexedCols, whose default lakeflow's tables keep).
  std::size_t num_indexed_columns = 32;
  // Bounds of a string keep at most this many characters: the minimum its prefix, the maximum its
  // prefix with the last character incremented (still an upper bound; none when no such string).
  std::size_t string_prefix = 32;
};

// `{"numRecords":N,"minValues":{...},"maxValues":{...},"nullCount":{...}}`, nested by struct, in
// the column order of `file.columns`. Bounds are in Delta's JSON forms: numbers (decimals exact,
// with their scale), strings (truncated as FileStatsOptions says), dates "YYYY-MM-DD", timestamps
// "YYYY-MM-DDTHH:MM:SS.mmmZ" (timestamp_ntz without the Z) with the minimum rounded down and the
// maximum rounded up to the millisecond. Boolean, binary, variant, array and map columns have null
// counts only, as do float and double columns whose bound is NaN or infinite.
std::string file_stats_json(const parquet::ParquetFileStats& file, FileStatsOptions options = {});

// What an add's `stats` JSON (written by lakeflow or another engine) says of `column`, whose type
// in the table's schema now is `type`, as the guaranteed bounds destination::ColumnRange
// describes. Only where the statistics' order is the column's exact order and the bound is exact
// or errs outward:
//   * integer columns: JSON integers (a file written before int was widened to long holds the
//     narrower values, which compare the same);
//   * strings: the bounds as written; a maximum of at least `string_prefix` characters is marked
//     `max_cut` (engines cut strings longer than the table's delta.dataSkippingStringPrefixLength,
//     32 by default, to that prefix: lakeflow increments its last character, others may not, or
//     append a character), a shorter one is exact;
//   * dates; timestamps and timestamp_ntz: the minimum as written (engines truncate it to the
//     millisecond, downwards), the maximum plus 999 µs (engines truncate it to the millisecond,
//     some downwards).
// Nothing for other types (decimals and doubles are read as JSON doubles, which are not exact),
// for a column the statistics leave out (past the first 32 columns, or all null), or for text that
// does not parse as JSON or as the column's type.
destination::ColumnRange stats_column_range(std::string_view stats_json,
                                            const std::vector<std::string>& column,
                                            const DataType& type, std::size_t string_prefix = 32);

}  // namespace lakeflow::delta
