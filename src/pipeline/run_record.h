// The record of a table's last run, kept beside the table at `<table>/_lakeflow/last_run.json`,
// so that what the run summary said (a failed table's error, where it stopped) outlives the
// terminal it was printed on. `lakeflow ui` shows it.
//
// The Delta log already holds everything a run committed (data, offsets, each commit's counts in
// commitInfo); this record adds only what no commit can hold: that a run started, and how it
// ended. It is written when a table's run starts (state "running", with the process id) and
// replaced when it ends ("succeeded" or "failed", with the TableResult's counts, committed offsets
// and error, secrets redacted as in the summary). A run that was killed leaves "running" behind;
// readers tell it from a live one by its process id. The file is written to a temporary name and
// renamed, so readers see a whole record or the previous one. Delta readers ignore it (`_`
// directories are not part of a table's data). Writing it is best effort: a failure to write it
// never fails the run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "lakeflow/json.h"
#include "pipeline/runner.h"

namespace lakeflow::pipeline {

// `<table_path>/_lakeflow/last_run.json`.
std::filesystem::path run_record_path(const std::filesystem::path& table_path);

// Records that the run of `table` (destination name) started now, in this process.
// Returns false when the record could not be written.
bool record_run_started(const std::filesystem::path& table_path, const std::string& table);

// Records how the run ended: `result` as the summary has it (error set: "failed").
bool record_run_ended(const std::filesystem::path& table_path, const TableResult& result,
                      std::int64_t started_ms);

// The record as written (a JSON object), or nullopt when there is none or it is not JSON. Adds
// `"alive": false` to a "running" record whose process is gone (a killed run).
std::optional<JsonValue> read_run_record(const std::filesystem::path& table_path);

}  // namespace lakeflow::pipeline
