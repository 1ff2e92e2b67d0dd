// Delta checkpoints: the whole state of a table at one version as a single Parquet file
// (PROTOCOL.md, "Checkpoints", V1 spec, classic naming `<version>.checkpoint.parquet`).
//
// One row per action, one nullable struct column per action kind (txn, add, remove, metaData,
// protocol, domainMetadata); in each row exactly one of them is set. `add.stats` is kept as its
// JSON text (Delta's writeStatsAsJson default); no stats_parsed / partitionValues_parsed columns
// are written. Readers match columns by name, so checkpoints written by Spark (which have more
// columns) read too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "delta/delta_actions.h"
#include "lakeflow/types.h"

namespace lakeflow::delta {

// The checkpoint's Spark schema (every field nullable).
const StructType& checkpoint_schema();

struct CheckpointFileInfo {
  std::int64_t size_bytes = 0;
  std::int64_t num_actions = 0;    // rows: what _last_checkpoint calls `size`
  std::int64_t num_add_files = 0;  // rows holding an `add`
};

// Writes `actions` (protocol, metaData, txn, domainMetadata, add and remove; not commitInfo) to
// `path`. The file appears under `path` complete or not at all (ParquetWriter writes a temporary
// file, syncs it and renames it into place). Throws lakeflow::Error on I/O errors, Error(kInternal)
// for a commitInfo action.
CheckpointFileInfo write_checkpoint_file(const std::string& path,
                                         const std::vector<Action>& actions);

// Reads the actions of a checkpoint file. Throws lakeflow::Error when the file cannot be read or
// is not a checkpoint (DeltaLogError for a malformed action).
std::vector<Action> read_checkpoint_file(const std::string& path);

}  // namespace lakeflow::delta
