// Delta Lake as the pipeline's destination (destination/destination.h): each table is a Delta
// table in its directory, Parquet data files beside `_delta_log/`.
//
// How the Destination contract maps onto the Delta log (delta_log.h):
//   * a Commit is one Delta commit: commitInfo (the operation, its parameters and metrics), the
//     protocol when the run's features changed it, a metaData action only when the schema or a
//     Delta table property changed, the `lakeflow.offsets` domain with the offsets, a txn action
//     {appId, version = batch}, a domain per table property changed (Table::set_property: named
//     by the property's key), the clustering domain when the layout changed, then the staged
//     removes and adds; so a batch's commit does not grow with the schema's width;
//   * tables written before kept offsets and properties in metaData.configuration; they are read
//     from there, and the next commit moves them to domains (delta_log.h, "Migration");
//   * new files are named for the commit version they are written for (data_file.h), so a run
//     that stopped before committing them leaves files remove_orphans() can recognise;
//   * the protocol follows the table's features (table_features.h): domainMetadata always,
//     clustering, widened types (typeWidening) and timestamp_ntz columns;
//   * Table::column_range reads the add's statistics (file_stats.h, stats_column_range), so merges
//     skip files that cannot hold a changed key;
//   * statistics of every added file are Delta's `stats` JSON (file_stats.h), which data skipping
//     and clustering rely on.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "destination/destination.h"

namespace lakeflow::delta {

class DeltaDestination final : public destination::Destination {
 public:
  // The table's directory when it exists (and its `_delta_log`), else the nearest existing
  // directory above it, must be a writable directory.
  std::optional<destination::LocationProblem> check_location(
      const std::filesystem::path& location) const override;
  // Delta clusters by columns it keeps min/max statistics for: numbers, decimals, strings, dates
  // and timestamps, among the first 32 statistics columns (dataSkippingNumIndexedCols).
  std::optional<std::string> clustering_problem(const StructType& schema,
                                                const FieldPath& column) const override;
  bool table_exists(const std::filesystem::path& location) const override;
  std::unique_ptr<destination::Table> open_table(
      const destination::TableTarget& target) const override;
  std::vector<std::string> remove_orphans(const std::filesystem::path& location) const override;
  // The rows of the table's active files, in log order. Throws DeltaLogError when there is no
  // table at `location`.
  std::vector<std::string> read_rows(const std::filesystem::path& location,
                                     std::optional<std::size_t> limit) const override;
};

}  // namespace lakeflow::delta
