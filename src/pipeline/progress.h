// Text forms of the runner's progress reports (runner.h, TableProgress): the live line a terminal
// redraws in place for each table, and the plain log line written instead when the output is not
// a terminal. Pure functions of the report, so what a user sees is tested without a terminal.
// Sizes are decimal (1 MB = 10^6 bytes), rates are bytes of source JSON per second of the table's
// run.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "pipeline/runner.h"

namespace lakeflow::pipeline {

// "0 B", "950 B", "12.3 kB", "210.4 MB", "3.2 GB".
std::string format_bytes(std::size_t bytes);
// "1,234,567".
std::string format_count(std::size_t count);

// At most `width` columns of `text` (counted as UTF-8 code points); a cut ends with "…".
std::string fit_width(std::string_view text, std::size_t width);

// One table's live line, at most `width` columns, e.g.
//   main.default.obs  append  1,234,567 records  210.4 MB  85.2 MB/s  3 commits  at {"file":...}
// (with `12 quarantined` before the commits when there are any); done:
//   main.default.obs  append  done  1,234,567 records  210.4 MB  2.47s  +1,234,567 ~0 -0  3 commits
// failed: `main.default.obs  FAILED: <error>`.
std::string live_progress_line(const TableProgress& progress, std::size_t width);

// The log line of a commit, for output that is not a terminal, e.g.
//   [main.default.obs] committed 3 batches: 1,234,567 records, 210.4 MB (85.2 MB/s), +1,234,567 ~0
//   -0 rows, 0 quarantined, offset {"file":"obs.ndjson","position":210400000}
// (one line; an offset longer than 200 characters is cut).
std::string progress_log_line(const TableProgress& progress);

}  // namespace lakeflow::pipeline
