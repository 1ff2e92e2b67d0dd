// The quarantine table of a destination table: records that did not convert (or lacked a key or
// sequence value), with their reason, in a Delta table beside the target,
// `<root>/<catalog>/<schema>/<table>__quarantine`, with the columns
//   source_table string, record string (the raw JSON text), reason string,
//   offset string (the end offset of the batch they came with), quarantined_at timestamp.
//
// Exactly once with the target. Two Delta tables cannot share one atomic commit, so the runner
// commits a batch's quarantined records to this table first and the batch's data and offset to the
// target second, and both carry the same `txn` (appId = the target's, version = the target's
// batch number). A run that dies between the two leaves this table one batch ahead of the target.
// The next run starts with `reconcile`: when this table's txn version is above the target's, the
// commits of batches the target never committed are undone (their files removed, files they
// removed added back) in one commit, and then the batch is read again from the target's offset
// and quarantined again. So the quarantine table always holds exactly the bad records of the
// batches the target committed: none lost, none twice, even when the source returns a different
// batch the second time. (Skipping the write when the txn is already there would be simpler but
// would keep the first attempt's records if the re-read differs.)
//
// A full refresh clears the table in the commit that precedes the target's first commit of the
// run (so a refresh that dies before its first target commit is undone by `reconcile` too).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delta/delta_log.h"
#include "lakeflow/offset.h"
#include "columnar/record_converter.h"
#include "lakeflow/types.h"

namespace lakeflow::pipeline {

// Appended to the target directory's name to name the quarantine table.
inline constexpr std::string_view kQuarantineSuffix = "__quarantine";

class QuarantineTable {
 public:
  // The table's schema (see the header comment).
  static StructType schema();
  // `<target_path>__quarantine`.
  static std::filesystem::path path_for(const std::filesystem::path& target_path);

  // `app_id` is the target's txn appId. Reads the log when the table exists.
  QuarantineTable(std::filesystem::path path, std::string app_id);

  const std::filesystem::path& path() const { return path_; }
  bool exists() const { return snapshot_.version >= 0; }
  bool has_files() const { return !snapshot_.files.empty(); }
  // The table's txn version for the target's appId (0 when none).
  std::int64_t batch() const;

  // Undoes the commits of batches after `committed_batch` (the target's txn version, 0 for none);
  // returns how many commits were undone (0 when the tables agree).
  int reconcile(std::int64_t committed_batch);

  // Commits `records` (from `source_table`, read in the batch ending at `end`) as target batch
  // `batch`; with `clear`, every earlier row is removed in the same commit. Writes nothing when
  // `records` is empty and there is nothing to clear.
  void commit(std::int64_t batch, const Offset& end, std::string_view source_table,
              const std::vector<BadRecord>& records, bool clear);

 private:
  std::filesystem::path path_;
  std::string app_id_;
  delta::DeltaLog log_;
  delta::Snapshot snapshot_;
  std::size_t files_written_ = 0;
};

}  // namespace lakeflow::pipeline
