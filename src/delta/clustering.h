// Clustered tables (PROTOCOL.md, "Clustered Table"): a table whose protocol lists the writer
// feature `clustering` (which requires `domainMetadata`) records its clustering columns in the
// metadata domain `delta.clustering`, whose configuration is JSON text:
//
//   {"clusteringColumns":[["id"],["address","city"]]}
//
// each column as its field path from the top level. The protocol asks for physical names when
// column mapping is on; lakeflow writes no column mapping, so they are the schema's names. (The
// protocol's example shows one string per column; Delta's Spark and Kernel writers, whose readers
// define what is accepted, write a list of path parts per column, as here. Both forms are read.)
//
// Clustering binds writers only: readers ignore the domain. Writers keep new files laid out by the
// columns (lakeflow sorts each data file by them, see data_file.h), give every file
// min/max statistics for them, and never partition the table. lakeflow leaves `add`'s
// clusteringProvider unset: its files are sorted but not clustered by Delta's liquid clustering,
// so Databricks' OPTIMIZE still reclusters them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delta/delta_actions.h"
#include "delta/delta_log.h"

namespace lakeflow::delta {

inline constexpr std::string_view kClusteringDomain = "delta.clustering";

// The clustering columns the table's `delta.clustering` domain records, or nullopt when it has
// none (the table was never clustered). An empty list: clustering was turned off (what Spark's
// `CLUSTER BY NONE` records). Throws DeltaLogError when the configuration is malformed.
std::optional<std::vector<std::vector<std::string>>> clustering_columns(const Snapshot& snapshot);

// Makes the next commit on `snapshot` record `columns` (field paths) as the table's clustering
// columns, and returns the actions that commit must carry for it; none when the table records
// them already, or when `columns` is empty and the table was never clustered:
//   * the protocol upgraded to support `clustering`, when the table does not yet. For a table
//     about to be created (version -1) `snapshot.protocol` is upgraded instead, as progress_actions
//     commits it with the table's first commit;
//   * the `delta.clustering` domain holding `columns`. Turning clustering off writes an empty list
//     (the feature stays in the protocol, as the protocol requires of supported features).
std::vector<Action> set_clustering_columns(Snapshot& snapshot,
                                           const std::vector<std::vector<std::string>>& columns);

}  // namespace lakeflow::delta
