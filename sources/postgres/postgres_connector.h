// The `postgres` connector: reads the tables and views of a PostgreSQL database (10 or newer;
// tested against 15) with libpq.
//
// Connection options (connector_spec.yaml, README.md): host, port, database, user, password,
// sslmode and the libpq TLS files, connect_timeout, application_name, schemas (default public),
// include_tables / exclude_tables (glob patterns over `schema.table`), slot_name (the prefix of
// the connector's replication slots, default lakeflow), publication_name (default lakeflow).
// Table options: max_records_per_batch (default 10000), primary_keys (for relations without one),
// snapshot_partitions (see below).
//
// Tables are named `schema.table`. A table with a primary key (or a replica identity index) is a
// cdc_with_deletes table: the first read takes a consistent snapshot at the exported snapshot of
// the table's replication slot, then reads the slot's changes (pgoutput) from exactly where the
// snapshot stands. Its schema is the table's columns plus `_lakeflow_lsn` (bigint, the cursor):
// the WAL position of each change, 0 for rows of the snapshot. Views, materialized views and
// tables without a key are snapshot tables, read whole on every run; they report no primary key
// unless the table option primary_keys names one (a pipeline names it with
// table_configuration.primary_keys).
//
// Offsets (DESIGN.md, "Offsets"):
//   {"phase":"snapshot","slot":S,"lsn":L,"after":[k1,...]}  a snapshot read in part: rows with
//                                                           keys after `after` remain
//   {"slot":S,"lsn":L}                 changes of transactions committed at or before L are read
//   {"slot":S,"lsn":L,"in_txn":n}      ... and the first n changes of the transaction committed at
//   L
// Deletes offsets have the last two shapes.
//
// Partitioned snapshot (PartitionedReads): from `{}`, a table's snapshot is read in steps of
// about max_records_per_batch rows of pages (estimated from pg_class), each step planned as
// snapshot_partitions (default 4) ctid page ranges, each read on a connection of its own that
// imports the snapshot (SET TRANSACTION SNAPSHOT): the slot's exported snapshot, which the
// planning instance holds open while the steps go on (a commit notification of a later offset
// releases it). The last step ends at the slot's consistent point, as the batched snapshot does.
// A process that starts from a step's offset reads the remaining pages at a new exported snapshot
// and the change stream replays from the first one's point, so the table converges.
// Partition: {"snapshot": id, "slot": S, "from_page": a, "to_page": b} (the first and last bounds
// absent). Offset between steps: {"phase":"snapshot_pages","slot":S,"lsn":L,"snapshot":id,
// "from_page":p}.
//
// The slot of a table is advanced (its WAL released) only to positions the pipeline committed:
// on the commit notification (CommitListener), to the lesser of the committed upserts and deletes
// positions; and, for callers that do not notify, when read_table_deletes is called with a start
// offset, to the lesser of that start and the start of this connector's last read_table of the
// table, both of which the pipeline committed before calling.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"
#include "pg_catalog.h"
#include "pg_client.h"
#include "pg_values.h"

namespace lakeflow::postgres {

class PostgresConnector : public LakeflowConnect, public PartitionedReads, public CommitListener {
 public:
  // Connects, checking every option. Throws ConfigError naming a bad option, SourceError (access
  // coded when the credentials are refused) when the server cannot be reached.
  explicit PostgresConnector(const Options& options);
  ~PostgresConnector() override;

  // The name of the column holding each change's WAL position.
  static constexpr std::string_view kLsnColumn = "_lakeflow_lsn";

 protected:
  std::vector<std::string> do_list_tables() override;
  StructType do_get_table_schema(const TableContext& context) override;
  TableMetadata do_read_table_metadata(const TableContext& context) override;
  ReadResult do_read_table(const ReadContext& context) override;
  ReadResult do_read_table_deletes(const ReadContext& context) override;
  // The initial snapshot of a cdc_with_deletes table (start `{}`), in ctid page ranges read at
  // the slot's exported snapshot; nullopt for every other read (read_table reads it).
  std::optional<PartitionPlan> do_plan_partitions(const ReadContext& context) override;
  RecordStream do_read_partition(const PartitionContext& context) override;
  // Releases the table's planned snapshot and advances its slot to the committed positions.
  void do_committed(const CommitContext& context) override;

 private:
  struct TableSettings {
    std::int64_t max_records = kDefaultMaxRecordsPerBatch;
    std::vector<std::string> primary_keys;            // the table option; empty when not given
    std::optional<std::int64_t> snapshot_partitions;  // the table option, when given
  };
  // An exported snapshot held open for the partitions of a plan: the replication connection
  // that created the slot, idle (a command on it would end the snapshot).
  struct HeldSnapshot {
    std::unique_ptr<PgConnection> replication;
    std::string name;  // the snapshot's identifier, for SET TRANSACTION SNAPSHOT
  };
  struct Position;         // a parsed change-stream offset
  struct SnapshotSession;  // an open snapshot cursor of one table
  enum class Stream : std::uint8_t { kUpserts, kDeletes };

  // The one place table options are checked beyond what the framework checks (names, batch
  // limit): throws ConfigError for a bad table option; returns the relation's catalog entry.
  const RelationInfo& checked(std::string_view table, const Options& table_options,
                              TableSettings& settings);
  std::vector<std::string> keys_of(const RelationInfo& relation,
                                   const TableSettings& settings) const;
  std::string slot_for(const RelationInfo& relation) const;

  ReadResult read_whole(const RelationInfo& relation);
  ReadResult start_snapshot(const RelationInfo& relation, const TableSettings& settings);
  ReadResult continue_snapshot(const RelationInfo& relation, const Offset& start,
                               const TableSettings& settings);
  ReadResult fetch_snapshot(const RelationInfo& relation, SnapshotSession& session,
                            const TableSettings& settings);
  ReadResult read_changes(const RelationInfo& relation, const Position& from, Stream stream,
                          const TableSettings& settings);

  void ensure_publication(const RelationInfo& relation);
  // Drops the table's old slot and creates it again, with an exported snapshot; returns the
  // replication connection holding the snapshot, its name, and the slot's consistent point.
  struct NewSlot {
    std::unique_ptr<PgConnection> replication;
    std::string snapshot;
    std::uint64_t lsn = 0;
  };
  NewSlot create_slot(const RelationInfo& relation);
  // Advances `slot` to `lsn` when it stands before it.
  void advance_slot(const std::string& slot, std::uint64_t lsn);
  // The slot's confirmed position; throws SourceError (with the way out) when it is missing or
  // its WAL was removed.
  std::uint64_t check_slot(const RelationInfo& relation, const std::string& slot,
                           std::optional<std::uint64_t> position);
  Position parse_position(const RelationInfo& relation, const Offset& offset) const;

  ConnectionSettings connection_;
  std::vector<std::string> schemas_;
  std::vector<std::string> include_;
  std::vector<std::string> exclude_;
  std::string slot_prefix_;
  std::string publication_;
  std::unique_ptr<PgConnection> conn_;
  std::unique_ptr<TypeMapper> types_;
  std::uint64_t cap_lsn_ = 0;  // reads stop at transactions committed from here on
  bool wal_level_logical_ = false;
  std::optional<std::vector<std::string>> tables_;
  std::map<std::string, RelationInfo, std::less<>> relations_;
  std::map<std::string, std::unique_ptr<SnapshotSession>, std::less<>> snapshots_;
  // The start LSN of the last read_table of each table in its change phase: committed by the
  // pipeline, so the slot may be advanced that far once deletes are committed too.
  std::map<std::string, std::uint64_t, std::less<>> upserts_committed_;
  // Snapshots held for planned partitions, by table (released at the table's next plan, read or
  // commit notification).
  std::map<std::string, HeldSnapshot, std::less<>> held_snapshots_;
};

}  // namespace lakeflow::postgres
