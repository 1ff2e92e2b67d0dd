// The transaction log of one local Delta Lake table (PROTOCOL.md of the Delta Lake project): a
// table directory holding Parquet data files and `_delta_log/`, whose commits
// `<version, 20 digits>.json` (one action per line) define the table's versions.
//
// Commits are atomic and put-if-absent. `commit` writes the whole commit to a hidden temporary
// file in `_delta_log`, syncs it, then hard-links it to its final name: link(2) fails with EEXIST
// when another writer already made that version, which is reported as ConcurrentCommitError and
// never overwrites anything. The temporary name is then unlinked and the directory synced (the
// table directory is synced before the link, so data files renamed into it are durable before a
// commit names them). A crash
// at any point leaves either the complete commit or no commit plus, at worst, a hidden temporary
// file, which readers ignore (their names do not match `<20 digits>.json`) and later commits
// remove.
//
// Checkpoints. After committing version v with v > 0 and v % checkpoint_interval == 0 (default
// 10), `commit` writes the classic checkpoint `<v>.checkpoint.parquet` (see delta_checkpoint.h)
// and then `_last_checkpoint` ({"version":v,"size":actions,...}) by temp file + rename. A failed
// checkpoint never fails the commit: the JSON commits stay authoritative (lakeflow never deletes
// them) and the failure is kept in `last_checkpoint_error()`.
//
// Reading (`snapshot`) lists `_delta_log`, starts from the newest readable checkpoint (the one
// `_last_checkpoint` names when that is the newest) and replays the later JSON commits: the latest
// protocol and metaData win, active files are adds minus later removes by path, txn versions are
// the latest per appId, metadata domains the latest per domain (minus removed ones). A checkpoint
// that cannot be read is skipped in favour of an older one or of the JSON commits from version 0.
//
// Damaged logs. A commit that lost its end must not read as a smaller, valid commit (the table
// would silently miss the lost files, and the next run would continue from the commit's offset).
// lakeflow writes its commitInfo as the last line of each commit, holding the commit's line count
// (`lakeflowCommitLines`). Replay throws DeltaLogError, naming the file, for a commit
//   * with a line that is not a JSON object (cut inside a line), or without any action;
//   * whose lakeflow commitInfo is not its last line, or whose line count differs from it;
//   * without any commitInfo in a table that holds lakeflow's offsets (kOffsetsDomain, or
//     kOffsetKey in its configuration): a commit of lakeflow's that was cut at a line boundary.
// Commits of other engines are read as the protocol allows (commitInfo anywhere, or none); the
// one exception is the last rule: an engine that writes no commitInfo at all (Spark with
// spark.databricks.delta.commitInfo.enabled=false) cannot write to a table lakeflow lands.
//
// Exactly-once progress (how the pipeline uses this log). The end offset of each batch of source
// records is committed in the same commit as the batch's data files:
//   * the metadata domain `lakeflow.offsets` (kOffsetsDomain; a domainMetadata action, Delta's
//     writer feature domainMetadata) holds {"offset": <the table's read offset>, "deletesOffset":
//     <its deletes offset>} (the latter for cdc_with_deletes only); each batch's commit carries
//     the domain with the new offsets (progress_actions);
//   * a txn action {appId: the caller's id, version: an increasing batch number} goes with it.
// A domain rather than commitInfo, because a checkpoint keeps the live domains and the latest txn
// but drops commitInfo, so a restart finds its offset in `snapshot()` however old the table is; a
// domain rather than metaData.configuration (where tables written before kept it, kOffsetKey and
// kDeletesOffsetKey), because a metaData action holds the whole schema: a commit of a wide table
// (thousands of columns) would rewrite 150-600 KB of schema to move an offset. A batch's commit
// now holds a metaData action only when the schema or a table property changed, and its size does
// not depend on the schema's width. The offset is exactly as durable as the data it describes: a
// rerun that died before its commit linked resumes from the previous offset; one that died after
// finds the new offset, so no batch is lost or written twice, and offsets never go backwards.
// Migration: `offset()` reads a table whose offsets are still in its configuration; the next
// progress_actions removes them from there (one metaData action) and writes the domain, upgrading
// the protocol to writer 7 with domainMetadata as the protocol requires. Readers ignore domains
// (the feature is writer-only), so nothing changes for them.
// Domains and configuration values are visible to anyone who reads the table; offsets hold
// positions, never credentials.
//
// A DeltaLog is not thread-safe; several processes (or several DeltaLog objects) may read one table
// while one writes it, and concurrent writers are detected as described above.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delta/delta_actions.h"
#include "lakeflow/offset.h"
#include "lakeflow/types.h"

namespace lakeflow::delta {

// The metadata domain of lakeflow's committed offsets (see the header comment).
inline constexpr std::string_view kOffsetsDomain = "lakeflow.offsets";
// Keys of metaData.configuration where tables written before the offsets domain keep their
// offsets (canonical offset JSON) until their next commit.
inline constexpr std::string_view kOffsetKey = "lakeflow.offset";
inline constexpr std::string_view kDeletesOffsetKey = "lakeflow.deletesOffset";

// The offsets recorded in a table (either may be unset).
struct CommittedOffsets {
  std::optional<Offset> offset;
  std::optional<Offset> deletes_offset;
};

// The configuration of the kOffsetsDomain domain that records `offsets`.
std::string offsets_domain_configuration(const CommittedOffsets& offsets);
// The offsets that configuration holds. Throws DeltaLogError naming `table_path` when it is not
// what offsets_domain_configuration writes.
CommittedOffsets parse_offsets_domain(std::string_view configuration, std::string_view table_path);

// The state of a table at one version.
struct Snapshot {
  std::string table_path;     // for error messages; set by DeltaLog
  std::int64_t version = -1;  // -1: no version yet (a table about to be created)
  ProtocolAction protocol;
  MetadataAction metadata;
  std::map<std::string, AddFile, std::less<>> files;           // active files by path
  std::map<std::string, RemoveFile, std::less<>> tombstones;   // removed files by path
  std::map<std::string, TxnAction, std::less<>> transactions;  // latest txn by appId
  // Live metadata domains by name (a domain whose latest action is `removed` is not here).
  std::map<std::string, DomainMetadataAction, std::less<>> domains;
  // The checkpoint this snapshot was read from, if any (informational).
  std::optional<std::int64_t> checkpoint_version;

  // The latest txn version of `app_id`, or nullopt.
  std::optional<std::int64_t> txn_version(std::string_view app_id) const;
  // The committed offsets: the kOffsetsDomain domain's, else (a table not migrated yet) those of
  // kOffsetKey / kDeletesOffsetKey in the configuration; nullopt when none was committed. Throws
  // DeltaLogError when the stored text is not an offset.
  std::optional<Offset> offset() const;
  std::optional<Offset> deletes_offset() const;

  // Applies the actions of commit `version` (which must be `this->version + 1`) as log replay
  // does. Lets a writer keep its snapshot current after its own commit without re-reading.
  void apply(std::int64_t version, const std::vector<Action>& actions);

  // Throws DeltaLogError when lakeflow may not write this table (a protocol version or table
  // feature it does not implement, see table_features.h; partition columns; a data format other
  // than Parquet).
  void require_writable() const;

  // Lets the table hold widened types (Delta's typeWidening table feature, table_features.h) and
  // sets the table property delta.enableTypeWidening=true. Returns true when the protocol changed,
  // so the next commit must carry the protocol action.
  bool enable_type_widening();
};

// A batch's progress for exactly-once delivery: see the header comment.
struct BatchProgress {
  std::string app_id;              // e.g. "lakeflow:<pipeline>:<table>"
  std::int64_t batch_version = 0;  // strictly increasing per app_id
  Offset offset;
  std::optional<Offset> deletes_offset;
};

// The actions that record `progress` on top of `base`:
//   * for a new table (base.version == -1), base's protocol (with domainMetadata) and metaData;
//   * for an existing table whose protocol lacks domainMetadata, the upgraded protocol
//     (protocol_with_features; writer 7);
//   * base's metaData when it differs from `committed` (the metaData as last committed; null: the
//     same as base's), so a schema or property change set on base first lands in the same commit,
//     or when its configuration still holds offsets (kOffsetKey, kDeletesOffsetKey), which it
//     then no longer does;
//   * the kOffsetsDomain domain with progress's offsets (a deletes offset progress leaves unset
//     keeps base's), and a txn action.
// Commit them together with the batch's add/remove actions.
std::vector<Action> progress_actions(const Snapshot& base, const BatchProgress& progress,
                                     const MetadataAction* committed = nullptr);

// The snapshot a table that does not exist yet starts from: version -1, protocol (1, 2), and
// metaData with a new UUID, `schema`, no partition columns and createdTime now. Its first commit
// (read version -1) must carry the protocol and metaData actions (progress_actions does, with the
// protocol upgraded for the offsets domain).
Snapshot new_table_snapshot(const StructType& schema, StringMap configuration = {});

// The protocol and metaData actions of version 0 of a new, empty table.
std::vector<Action> create_table_actions(const StructType& schema, StringMap configuration = {});

// How a pipeline writes one batch exactly once:
//   DeltaLog log(path);
//   Snapshot snapshot = log.exists() ? log.snapshot() : new_table_snapshot(schema);
//   snapshot.table_path = path;  // (log.snapshot() sets it)
//   snapshot.require_writable();   // then resume from snapshot.offset(), when set
//   ... write the batch's Parquet files ...
//   std::vector<Action> actions = progress_actions(snapshot, {app_id, batch, end_offset, {}});
//   actions.insert(actions.end(), adds_and_removes.begin(), adds_and_removes.end());
//   actions.push_back(CommitInfo{...});
//   snapshot.apply(log.commit(snapshot.version, actions), actions);

struct DeltaLogOptions {
  // Write a checkpoint after every commit whose version is a positive multiple of this; 0 never.
  std::int64_t checkpoint_interval = 10;
  // Tombstones older than this (by deletionTimestamp) are left out of checkpoints; Delta's
  // default deletedFileRetentionDuration is one week.
  std::int64_t tombstone_retention_millis = std::int64_t{7} * 24 * 3600 * 1000;
};

class DeltaLog {
 public:
  // `table_path` is the table's root directory; nothing is read or created until used.
  explicit DeltaLog(std::string table_path, DeltaLogOptions options = {});

  const std::string& table_path() const { return table_path_; }
  std::string log_path() const;  // <table>/_delta_log
  // Path of the commit file or checkpoint of `version`.
  std::string commit_path(std::int64_t version) const;
  std::string checkpoint_path(std::int64_t version) const;

  // The newest committed version, or nullopt when the table has no commit yet (no table).
  std::optional<std::int64_t> latest_version() const;
  bool exists() const { return latest_version().has_value(); }
  // The versions whose JSON commit files are in the log, ascending (another engine's log cleanup
  // may have removed those a checkpoint covers).
  std::vector<std::int64_t> commit_versions() const;

  // The table at its latest version. Throws DeltaLogError when there is no table, a commit is
  // missing, malformed or damaged (above), or the table needs a Delta reader newer than version 1.
  Snapshot snapshot() const;
  // The table at `version` (time travel).
  Snapshot snapshot_at(std::int64_t version) const;
  // The actions of the JSON commit of `version`, as written. Throws DeltaLogError when that commit
  // is missing or malformed.
  std::vector<Action> read_commit(std::int64_t version) const;

  // Commits `actions` as version read_version + 1, where `read_version` is the version the caller
  // read (-1 to create the table: version 0 must then hold a protocol and a metaData action).
  // A CommitInfo action, when given, is written last with its timestamp, readVersion and
  // engineInfo filled in if unset; without one, {"operation":"WRITE"} is written. Creates the
  // table directories when needed. Returns the committed version.
  // Throws ConcurrentCommitError when that version already exists, DeltaLogError for I/O errors
  // and for action lists the protocol forbids (two metaData, two protocol, two txn of one appId,
  // two domainMetadata of one domain, a path added or removed twice, a missing version 0
  // protocol/metaData, a protocol lakeflow cannot write, a read_version that does not exist).
  // Nothing is committed when it throws.
  std::int64_t commit(std::int64_t read_version, std::vector<Action> actions);

  // Writes the checkpoint of `version` and `_last_checkpoint` (unless it already names a newer
  // one). Throws on failure; commit() calls it and keeps the error instead.
  void checkpoint(std::int64_t version);
  // Why the last automatic checkpoint failed; nullopt when it succeeded or none was attempted.
  const std::optional<std::string>& last_checkpoint_error() const { return last_checkpoint_error_; }

 private:
  struct Listing;
  Listing list() const;
  Snapshot replay(const Listing& listing, std::int64_t version) const;
  void write_last_checkpoint(std::int64_t version, std::int64_t size, std::int64_t size_in_bytes,
                             std::int64_t num_add_files);

  std::string table_path_;
  DeltaLogOptions options_;
  std::optional<std::string> last_checkpoint_error_;
};

}  // namespace lakeflow::delta
