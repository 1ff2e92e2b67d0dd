// The quarantine table of a destination table: records that did not convert (or lacked a key or
// sequence value), with their reason, in a table of the same destination beside the target,
// `<root>/<catalog>/<schema>/<table>__quarantine`, with the columns
//   source_table string, record string (the raw JSON text), reason string,
//   offset string (the end offset of the batch they came with), quarantined_at timestamp.
//
// Exactly once with the target. Two tables cannot share one atomic commit, so the runner
// commits a batch's quarantined records to this table first and the batch's data and offset to the
// target second, and both record the same batch number (under the target's app id). A run that dies
// between the two leaves this table one batch ahead of the target. The next run starts with
// `reconcile`: when this table's batch number is above the target's, the commits of batches the
// target never committed are undone (their files removed, files they removed added back) in one
// commit, and then the batch is read again from the target's offset and quarantined again. So the
// quarantine table always holds exactly the bad records of the batches the target committed: none
// lost, none twice, even when the source returns a different batch the second time. (Skipping the
// write when the txn is already there would be simpler but would keep the first attempt's records
// if the re-read differs.)
//
// A full refresh clears the table in the commit that precedes the target's first commit of the
// run (so a refresh that dies before its first target commit is undone by `reconcile` too).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/record_converter.h"
#include "destination/destination.h"
#include "lakeflow/offset.h"
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

  // Opens the table at `path` in `destination`; `app_id` is the target's.
  QuarantineTable(const destination::Destination& destination, std::filesystem::path path,
                  std::string app_id);

  const std::filesystem::path& path() const { return path_; }
  bool exists() const { return table_->exists(); }
  bool has_files() const { return table_->file_count() > 0; }
  // The table's batch number for the target's app id (0 when none).
  std::int64_t batch() const { return table_->batch(); }

  // Undoes the commits of batches after `committed_batch` (the target's batch number, 0 for none);
  // returns how many commits were undone (0 when the tables agree).
  int reconcile(std::int64_t committed_batch);

  // Commits `records` (from `source_table`, read in the batch ending at `end`) as target batch
  // `batch`; with `clear`, every earlier row is removed in the same commit. Writes nothing when
  // `records` is empty and there is nothing to clear.
  void commit(std::int64_t batch, const Offset& end, std::string_view source_table,
              const std::vector<BadRecord>& records, bool clear);

 private:
  std::filesystem::path path_;
  std::unique_ptr<destination::Table> table_;
};

}  // namespace lakeflow::pipeline
