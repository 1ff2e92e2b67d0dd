// Delta's per-file statistics (PROTOCOL.md, "Per-file Statistics"): the `stats` JSON of an `add`
// action, built from the column statistics the Parquet writer reports for the file.
#pragma once

#include <cstddef>
#include <string>

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

}  // namespace lakeflow::delta
