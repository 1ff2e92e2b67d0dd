#include "postgres_connector.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <string>
#include <utility>

#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow_connector_spec.h"
#include "pgoutput.h"

namespace lakeflow::postgres {
namespace {

// The table option snapshot_partitions: its limit and default (partitions per step of a
// snapshot read in page ranges).
constexpr std::int64_t kMaxSnapshotPartitions = 1024;
constexpr std::int64_t kDefaultStepPartitions = 4;
// The phase of an offset inside a snapshot read in page-range steps.
constexpr std::string_view kPagesPhase = "snapshot_pages";
// Rows per batch of a stream that reads a relation whole (a snapshot table, a partition).
constexpr std::size_t kStreamBatchRows = 1000;

bool valid_name(std::string_view name, std::size_t max) {
  if (name.empty() || name.size() > max) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& name) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
  });
}

// Appends `"name":` to a record being built.
void append_key(std::string& record, std::string_view name) {
  if (record.size() > 1) record += ',';
  append_json_string(record, name, false);
  record += ':';
}

}  // namespace

// A change-stream position: transactions committed at or before `lsn` are read, and of the one
// committed at `lsn`, `in_txn` changes more when set.
struct PostgresConnector::Position {
  std::string slot;
  std::uint64_t lsn = 0;
  std::optional<std::int64_t> in_txn;

  Offset offset() const {
    Offset offset;
    offset.set("slot", slot);
    offset.set("lsn", format_lsn(lsn));
    if (in_txn) offset.set("in_txn", *in_txn);
    return offset;
  }
};

// A snapshot being read: a connection inside a REPEATABLE READ transaction holding a cursor over
// the table in key order.
struct PostgresConnector::SnapshotSession {
  std::unique_ptr<PgConnection> conn;
  std::string slot;
  std::uint64_t lsn = 0;
  JsonValue::Array after;  // keys of the last row returned (text), empty before the first
  Offset offset() const {
    Offset offset;
    offset.set("phase", "snapshot");
    offset.set("slot", slot);
    offset.set("lsn", format_lsn(lsn));
    offset.set("after", after);
    return offset;
  }
};

PostgresConnector::PostgresConnector(const Options& options)
    : LakeflowConnect(embedded_connector_spec(), options) {
  connection_ = ConnectionSettings::from_options(options);
  schemas_ = options.get_list("schemas", {"public"});
  if (schemas_.empty()) throw ConfigError("postgres: option 'schemas' names no schema");
  include_ = options.get_list("include_tables", {"*"});
  exclude_ = options.get_list("exclude_tables", {});
  slot_prefix_ = options.get_string("slot_name", "lakeflow");
  publication_ = options.get_string("publication_name", "lakeflow");
  if (!valid_name(slot_prefix_, 50)) {
    throw ConfigError(fmt::format(
        "postgres: option 'slot_name': expected 1-50 lower-case letters, digits and underscores "
        "(the prefix of each table's replication slot), got '{}'",
        slot_prefix_));
  }
  if (!valid_name(publication_, 63)) {
    throw ConfigError(fmt::format(
        "postgres: option 'publication_name': expected 1-63 lower-case letters, digits and "
        "underscores, got '{}'",
        publication_));
  }
  conn_ = std::make_unique<PgConnection>(connection_);
  types_ = std::make_unique<TypeMapper>(*conn_);
  // Reads stop at what was committed (and flushed, so decodable) when the connector was made, so
  // that they terminate.
  const PgResult now =
      conn_->query("reading the current WAL position",
                   "SELECT pg_current_wal_flush_lsn()::text, current_setting('wal_level')");
  cap_lsn_ = parse_lsn(now.value(0, 0), "pg_current_wal_flush_lsn()");
  wal_level_logical_ = now.value(0, 1) == "logical";
}

PostgresConnector::~PostgresConnector() = default;

std::vector<std::string> PostgresConnector::do_list_tables() {
  if (!tables_) {
    std::vector<std::string> tables;
    for (std::string& name : list_relations(*conn_, schemas_)) {
      if (matches_any(include_, name) && !matches_any(exclude_, name)) {
        tables.push_back(std::move(name));
      }
    }
    tables_ = std::move(tables);
  }
  return *tables_;
}

const RelationInfo& PostgresConnector::checked(std::string_view table, const Options& table_options,
                                               TableSettings& settings) {
  settings.primary_keys = table_options.get_list("primary_keys", {});
  if (table_options.find("snapshot_partitions")) {
    try {
      settings.snapshot_partitions =
          table_options.get_int("snapshot_partitions", 0, 0, kMaxSnapshotPartitions);
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("postgres: table '{}': {}", table, e.what()));
    }
  }
  auto found = relations_.find(table);
  if (found == relations_.end()) {
    // list_tables() named it as `schema.name`; the schema is the part before the first dot of
    // those configured (schema names may not hold dots here).
    const std::size_t dot = table.find('.');
    RelationInfo relation = describe_relation(*conn_, *types_, std::string(table.substr(0, dot)),
                                              std::string(table.substr(dot + 1)));
    if (relation.oid == 0) {
      throw SourceError(fmt::format(
          "postgres: table '{}' was dropped after it was listed; run again to list the tables "
          "as they are now",
          table));
    }
    found = relations_.emplace(std::string(table), std::move(relation)).first;
  }
  const RelationInfo& relation = found->second;
  for (const std::string& key : settings.primary_keys) {
    const bool known = std::any_of(relation.columns.begin(), relation.columns.end(),
                                   [&](const ColumnInfo& column) { return column.name == key; });
    if (!known) {
      throw ConfigError(fmt::format(
          "postgres: table option 'primary_keys' of table '{}' names '{}', which is not one of "
          "its columns",
          table, key));
    }
  }
  return relation;
}

std::vector<std::string> PostgresConnector::keys_of(const RelationInfo& relation,
                                                    const TableSettings& settings) const {
  if (relation.replicable()) return relation.keys;
  if (!settings.primary_keys.empty()) return settings.primary_keys;
  // A view or a table without a key: none to report. A pipeline names the key with
  // table_configuration.primary_keys (and says so when it is missing).
  return relation.keys;
}

std::string PostgresConnector::slot_for(const RelationInfo& relation) const {
  return fmt::format("{}_{}", slot_prefix_, relation.oid);
}

StructType PostgresConnector::do_get_table_schema(const TableContext& context) {
  TableSettings settings;
  const RelationInfo& relation = checked(context.table, context.table_options, settings);
  std::vector<StructField> fields;
  for (const ColumnInfo& column : relation.columns) {
    fields.emplace_back(column.name, column.codec->type, !column.not_null);
  }
  if (relation.replicable()) fields.emplace_back(std::string(kLsnColumn), DataType::Long(), false);
  return StructType(std::move(fields));
}

TableMetadata PostgresConnector::do_read_table_metadata(const TableContext& context) {
  TableSettings settings;
  const RelationInfo& relation = checked(context.table, context.table_options, settings);
  TableMetadata metadata;
  metadata.primary_keys = keys_of(relation, settings);
  if (relation.replicable()) {
    metadata.cursor_field = std::string(kLsnColumn);
    metadata.ingestion_type = IngestionType::kCdcWithDeletes;
  } else {
    metadata.ingestion_type = IngestionType::kSnapshot;
  }
  return metadata;
}

ReadResult PostgresConnector::do_read_table(const ReadContext& context) {
  const std::string_view table = context.table;
  const Offset& start = context.start;
  TableSettings settings;
  settings.max_records = context.max_records();
  const RelationInfo& relation = checked(table, context.table_options, settings);
  held_snapshots_.erase(relation.qualified());
  if (!relation.replicable()) return read_whole(relation);
  if (!wal_level_logical_) {
    throw SourceError(fmt::format(
        "postgres: table '{}' is read through logical replication, which needs the server "
        "setting wal_level=logical (it is not): set it in postgresql.conf and restart the server",
        table));
  }
  if (start.empty()) return start_snapshot(relation, settings);
  if (const JsonValue* phase = start.find("phase"); phase != nullptr) {
    if (phase->is_string() && phase->as_string() == kPagesPhase) {
      throw ConfigError(fmt::format(
          "postgres: the offset of table '{}' is a step of a snapshot read in partitions; go on "
          "with plan_partitions (as `lakeflow run` does), or read the table again from {{}}",
          table));
    }
    return continue_snapshot(relation, start, settings);
  }
  const Position from = parse_position(relation, start);
  upserts_committed_[relation.qualified()] = from.lsn;
  check_slot(relation, from.slot, from.lsn);
  return read_changes(relation, from, Stream::kUpserts, settings);
}

ReadResult PostgresConnector::do_read_table_deletes(const ReadContext& context) {
  const std::string_view table = context.table;
  const Offset& start = context.start;
  TableSettings settings;
  settings.max_records = context.max_records();
  const RelationInfo& relation = checked(table, context.table_options, settings);
  if (!relation.replicable()) {
    throw NotImplementedError(fmt::format(
        "postgres: '{}' is a snapshot table (no key to replicate deletes by); its deletes are "
        "found by comparing snapshots, not read",
        table));
  }
  Position from;
  if (start.empty()) {
    // The change stream from the slot's position: made now when no read made it yet.
    from.slot = slot_for(relation);
    const PgResult exists = conn_->query(
        "looking up the replication slot",
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
        {from.slot});
    if (exists.rows() == 0) {
      ensure_publication(relation);
      const PgResult created = conn_->query(
          "creating the replication slot " + from.slot,
          "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", {from.slot});
      from.lsn = parse_lsn(created.value(0, 0), "the new slot's position");
    } else {
      from.lsn = check_slot(relation, from.slot, std::nullopt);
    }
    return read_changes(relation, from, Stream::kDeletes, settings);
  }
  from = parse_position(relation, start);
  const std::uint64_t confirmed = check_slot(relation, from.slot, from.lsn);
  // Both streams' starts are committed: the slot may release WAL up to the lesser.
  if (auto upserts = upserts_committed_.find(relation.qualified());
      upserts != upserts_committed_.end()) {
    const std::uint64_t safe = std::min(upserts->second, from.lsn);
    if (safe > confirmed) {
      conn_->query("advancing the replication slot " + from.slot,
                   "SELECT pg_replication_slot_advance($1, $2::pg_lsn)",
                   {from.slot, format_lsn(safe)});
    }
  }
  return read_changes(relation, from, Stream::kDeletes, settings);
}

PostgresConnector::Position PostgresConnector::parse_position(const RelationInfo& relation,
                                                              const Offset& offset) const {
  const std::string what = fmt::format("the offset of table '{}'", relation.qualified());
  const JsonValue* slot = offset.find("slot");
  const JsonValue* lsn = offset.find("lsn");
  if (slot == nullptr || !slot->is_string() || lsn == nullptr || !lsn->is_string()) {
    throw ConfigError(fmt::format(
        "postgres: {} is {}; expected {{\"slot\": ..., \"lsn\": ...}} as this connector writes",
        what, offset.to_json()));
  }
  Position position;
  position.slot = slot->as_string();
  position.lsn = parse_lsn(lsn->as_string(), what);
  if (position.slot != slot_for(relation)) {
    throw SourceError(fmt::format(
        "postgres: {} names the replication slot '{}', but the table's slot is now '{}': the "
        "table was dropped and created again (or slot_name changed), so its changes since the "
        "last run are unknown; read it again with `lakeflow run --full-refresh` (and drop the old "
        "slot: SELECT pg_drop_replication_slot('{}'))",
        what, position.slot, slot_for(relation), position.slot));
  }
  if (const JsonValue* in_txn = offset.find("in_txn")) {
    if (!in_txn->is_int() || in_txn->as_int() < 0) {
      throw ConfigError(fmt::format("postgres: {}: 'in_txn' must be a count", what));
    }
    position.in_txn = in_txn->as_int();
  }
  return position;
}

std::uint64_t PostgresConnector::check_slot(const RelationInfo& relation, const std::string& slot,
                                            std::optional<std::uint64_t> position) {
  const PgResult found =
      conn_->query("looking up the replication slot " + slot,
                   "SELECT confirmed_flush_lsn::text, coalesce(wal_status, ''), plugin FROM "
                   "pg_replication_slots WHERE slot_name = $1",
                   {slot});
  const std::string way_out = fmt::format(
      "the changes of '{}' since the last run are no longer available; read the table again "
      "from a new snapshot with `lakeflow run --full-refresh` (for this table)",
      relation.qualified());
  if (found.rows() == 0) {
    throw SourceError(
        fmt::format("postgres: the replication slot '{}' does not exist (it was "
                    "dropped); {}",
                    slot, way_out));
  }
  if (found.value(0, 1) == "lost" || found.is_null(0, 0)) {
    throw SourceError(
        fmt::format("postgres: the replication slot '{}' lost the WAL it needs (it fell behind "
                    "max_slot_wal_keep_size); {}",
                    slot, way_out));
  }
  const std::uint64_t confirmed = parse_lsn(found.value(0, 0), "the slot's position");
  if (position && confirmed > *position) {
    throw SourceError(fmt::format(
        "postgres: the replication slot '{}' was advanced to {} past this table's committed "
        "position {} (another reader consumed it, or the table was re-snapshotted elsewhere); {}",
        slot, format_lsn(confirmed), format_lsn(*position), way_out));
  }
  return confirmed;
}

void PostgresConnector::ensure_publication(const RelationInfo& relation) {
  const std::string table = quote_relation(relation.schema, relation.name);
  const PgResult publication =
      conn_->query("looking up the publication", "SELECT 1 FROM pg_publication WHERE pubname = $1",
                   {publication_});
  if (publication.rows() == 0) {
    conn_->exec("creating the publication " + publication_,
                fmt::format("CREATE PUBLICATION {} FOR TABLE {} WITH (publish_via_partition_root "
                            "= true)",
                            quote_ident(publication_), table));
    return;
  }
  const PgResult member =
      conn_->query("looking up the publication's tables",
                   "SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND "
                   "tablename = $3",
                   {publication_, relation.schema, relation.name});
  if (member.rows() == 0) {
    conn_->exec("adding " + relation.qualified() + " to the publication " + publication_,
                fmt::format("ALTER PUBLICATION {} ADD TABLE {}", quote_ident(publication_), table));
  }
}

namespace {

std::string select_list(const RelationInfo& relation) {
  std::string columns;
  for (const ColumnInfo& column : relation.columns) {
    if (!columns.empty()) columns += ", ";
    columns += quote_ident(column.name);
  }
  return columns;
}

// One row of a query result as a JSON record (plus the LSN column when `lsn` is set).
void append_row(RecordBatch& batch, std::string& record, const RelationInfo& relation,
                const PgResult& result, int row, std::optional<std::uint64_t> lsn) {
  record.assign("{");
  for (int i = 0; i < result.columns(); ++i) {
    append_key(record, relation.columns[static_cast<std::size_t>(i)].name);
    if (result.is_null(row, i)) {
      record += "null";
    } else {
      relation.columns[static_cast<std::size_t>(i)].codec->append_json(record,
                                                                       result.value(row, i));
    }
  }
  if (lsn) {
    append_key(record, PostgresConnector::kLsnColumn);
    record += std::to_string(*lsn);
  }
  record += '}';
  batch.append(record);
}

}  // namespace

ReadResult PostgresConnector::read_whole(const RelationInfo& relation) {
  // One call, the whole relation, streamed row by row.
  auto conn = std::make_shared<PgConnection>(connection_);
  conn->start_rows("reading " + relation.qualified(),
                   fmt::format("SELECT {} FROM {}", select_list(relation),
                               quote_relation(relation.schema, relation.name)));
  auto record = std::make_shared<std::string>();
  const RelationInfo* info = &relation;
  RecordStream records([conn, record, info](RecordBatch& batch) {
    while (batch.size() < kStreamBatchRows) {
      std::optional<PgResult> row = conn->next_row();
      if (!row) break;
      append_row(batch, *record, *info, *row, 0, std::nullopt);
    }
    return !batch.empty();
  });
  return ReadResult{std::move(records), Offset::null()};
}

PostgresConnector::NewSlot PostgresConnector::create_slot(const RelationInfo& relation) {
  const std::string slot = slot_for(relation);
  ensure_publication(relation);
  // A new snapshot starts a new change stream: an old slot of this table goes.
  conn_->query("dropping the old replication slot " + slot,
               "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
               "slot_name = $1",
               {slot});
  NewSlot made;
  made.replication = std::make_unique<PgConnection>(connection_, /*replication=*/true);
  const PgResult created = made.replication->query(
      "creating the replication slot " + slot,
      fmt::format("CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT 'export')",
                  quote_ident(slot)));
  made.lsn = parse_lsn(created.value(0, 1), "the slot's consistent point");
  made.snapshot = created.text(0, 2);
  return made;
}

void PostgresConnector::advance_slot(const std::string& slot, std::uint64_t lsn) {
  const PgResult found = conn_->query(
      "looking up the replication slot " + slot,
      "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", {slot});
  if (found.rows() == 0 || found.is_null(0, 0)) return;  // the next read says what happened
  if (parse_lsn(found.value(0, 0), "the slot's position") >= lsn) return;
  conn_->query("advancing the replication slot " + slot,
               "SELECT pg_replication_slot_advance($1, $2::pg_lsn)", {slot, format_lsn(lsn)});
}

ReadResult PostgresConnector::start_snapshot(const RelationInfo& relation,
                                             const TableSettings& settings) {
  auto session = std::make_unique<SnapshotSession>();
  session->slot = slot_for(relation);
  {
    const NewSlot slot = create_slot(relation);
    session->lsn = slot.lsn;
    session->conn = std::make_unique<PgConnection>(connection_);
    session->conn->exec("starting the snapshot of " + relation.qualified(),
                        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    session->conn->exec("importing the slot's snapshot",
                        "SET TRANSACTION SNAPSHOT " + quote_literal(slot.snapshot));
    // Imported: the replication connection (and its exported snapshot) may go now.
  }
  std::string order;
  for (const std::string& key : relation.keys) {
    if (!order.empty()) order += ", ";
    order += quote_ident(key);
  }
  session->conn->exec(
      "opening the snapshot of " + relation.qualified(),
      fmt::format("DECLARE lakeflow_snapshot NO SCROLL CURSOR FOR SELECT {} FROM "
                  "{} ORDER BY {}",
                  select_list(relation), quote_relation(relation.schema, relation.name), order));
  SnapshotSession& open = *session;
  snapshots_[relation.qualified()] = std::move(session);
  return fetch_snapshot(relation, open, settings);
}

ReadResult PostgresConnector::continue_snapshot(const RelationInfo& relation, const Offset& start,
                                                const TableSettings& settings) {
  auto found = snapshots_.find(relation.qualified());
  if (found != snapshots_.end() && found->second->offset() == start) {
    return fetch_snapshot(relation, *found->second, settings);
  }
  // Another process's snapshot (a run that stopped): the rows after `after` are read at a new
  // snapshot, and the change stream from the first snapshot's position brings every change made
  // since (changes to rows read here are applied again, in order: the table converges to the
  // source by the end of the run).
  const std::string what = fmt::format("the offset of table '{}'", relation.qualified());
  const JsonValue* after = start.find("after");
  const JsonValue* slot = start.find("slot");
  const JsonValue* lsn = start.find("lsn");
  if (after == nullptr || !after->is_array() || slot == nullptr || !slot->is_string() ||
      lsn == nullptr || !lsn->is_string() ||
      (!after->as_array().empty() && after->as_array().size() != relation.keys.size())) {
    throw ConfigError(
        fmt::format("postgres: {} is {}, not a snapshot position this connector "
                    "wrote for the table's current key",
                    what, start.to_json()));
  }
  const Position position = parse_position(relation, start);  // also: still the table's slot
  auto session = std::make_unique<SnapshotSession>();
  session->slot = position.slot;
  session->lsn = position.lsn;
  session->after = after->as_array();
  check_slot(relation, session->slot, session->lsn);
  session->conn = std::make_unique<PgConnection>(connection_);
  session->conn->exec("starting the snapshot of " + relation.qualified(),
                      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  std::string keys;
  std::string values;
  for (std::size_t i = 0; i < relation.keys.size(); ++i) {
    if (i > 0) {
      keys += ", ";
      values += ", ";
    }
    keys += quote_ident(relation.keys[i]);
    if (!session->after.empty()) {
      const JsonValue& value = session->after[i];
      if (!value.is_string()) throw ConfigError("postgres: " + what + ": 'after' holds text keys");
      const auto column =
          std::find_if(relation.columns.begin(), relation.columns.end(),
                       [&](const ColumnInfo& c) { return c.name == relation.keys[i]; });
      values += quote_literal(value.as_string()) + "::" + column->type_sql;
    }
  }
  const std::string where =
      session->after.empty() ? "" : fmt::format(" WHERE ({}) > ({})", keys, values);
  session->conn->exec("opening the snapshot of " + relation.qualified(),
                      fmt::format("DECLARE lakeflow_snapshot NO SCROLL CURSOR FOR SELECT {} FROM "
                                  "{}{} ORDER BY {}",
                                  select_list(relation),
                                  quote_relation(relation.schema, relation.name), where, keys));
  SnapshotSession& open = *session;
  snapshots_[relation.qualified()] = std::move(session);
  return fetch_snapshot(relation, open, settings);
}

ReadResult PostgresConnector::fetch_snapshot(const RelationInfo& relation, SnapshotSession& session,
                                             const TableSettings& settings) {
  const PgResult rows = session.conn->query(
      "reading the snapshot of " + relation.qualified(),
      fmt::format("FETCH FORWARD {} FROM lakeflow_snapshot", settings.max_records));
  RecordBatch batch;
  std::string record;
  for (int row = 0; row < rows.rows(); ++row) {
    append_row(batch, record, relation, rows, row, std::uint64_t{0});
  }
  Offset end;
  if (rows.rows() < settings.max_records) {
    // The snapshot is read: changes follow from the slot's consistent point.
    Position position;
    position.slot = session.slot;
    position.lsn = session.lsn;
    end = position.offset();
    snapshots_.erase(relation.qualified());  // ends the transaction (the connection closes)
  } else {
    JsonValue::Array after;
    for (const std::string& key : relation.keys) {
      for (int i = 0; i < rows.columns(); ++i) {
        if (relation.columns[static_cast<std::size_t>(i)].name == key) {
          after.emplace_back(rows.text(rows.rows() - 1, i));
        }
      }
    }
    session.after = std::move(after);
    end = session.offset();
  }
  return ReadResult{RecordStream::of(std::move(batch)), std::move(end)};
}

ReadResult PostgresConnector::read_changes(const RelationInfo& relation, const Position& from,
                                           Stream stream, const TableSettings& settings) {
  if (from.lsn >= cap_lsn_) return ReadResult{RecordStream(), from.offset()};
  PgConnection& conn = *conn_;
  conn.start_rows("reading the changes of " + relation.qualified(),
                  "SELECT lsn::text, data FROM pg_logical_slot_peek_binary_changes($1, $2::pg_lsn, "
                  "NULL, 'proto_version', '1', 'publication_names', $3)",
                  {from.slot, format_lsn(cap_lsn_), quote_ident(publication_)});
  struct RelationCodecs {
    std::vector<RelationColumn> columns;
    std::vector<std::shared_ptr<const ValueCodec>> codecs;
  };
  std::optional<RelationCodecs> ours;
  RecordBatch batch;
  std::string record;
  Position end = from;
  std::uint64_t txn = 0;    // the current transaction's commit LSN
  std::int64_t in_txn = 0;  // changes of this stream seen in it
  std::int64_t skip = 0;    // changes of it read before
  bool reading = false;     // the current transaction is after `from`
  bool full = false;
  bool reached_cap = true;  // every transaction committed before the cap was seen
  const auto is_key = [&](const RelationColumn& column) {
    return std::find(relation.keys.begin(), relation.keys.end(), column.name) !=
           relation.keys.end();
  };
  const auto append_tuple = [&](const std::vector<TupleValue>& tuple,
                                const std::vector<TupleValue>* old, bool keys_only,
                                std::uint64_t lsn) {
    record.assign("{");
    for (std::size_t i = 0; i < tuple.size() && i < ours->columns.size(); ++i) {
      const RelationColumn& column = ours->columns[i];
      if (keys_only && !is_key(column)) continue;
      const TupleValue* value = &tuple[i];
      if (value->kind == TupleValue::Kind::kUnchangedToast) {
        if (old != nullptr && i < old->size() && (*old)[i].kind == TupleValue::Kind::kText) {
          value = &(*old)[i];
        } else {
          conn.cancel_rows();
          throw SourceError(fmt::format(
              "postgres: an update of '{}' left the large (TOASTed) value of column '{}' "
              "unchanged, and logical replication does not send such values; run `ALTER TABLE "
              "{} REPLICA IDENTITY FULL` so that updates carry them, then read the table again "
              "with `lakeflow run --full-refresh`",
              relation.qualified(), column.name, quote_relation(relation.schema, relation.name)));
        }
      }
      append_key(record, column.name);
      if (value->kind == TupleValue::Kind::kNull) {
        record += "null";
      } else {
        ours->codecs[i]->append_json(record, value->text);
      }
    }
    append_key(record, kLsnColumn);
    record += std::to_string(lsn);
    record += '}';
    batch.append(record);
  };
  // Whether the key values of two tuples differ (an update that moved the row to another key).
  const auto key_changed = [&](const std::vector<TupleValue>& a, const std::vector<TupleValue>& b) {
    for (std::size_t i = 0; i < a.size() && i < b.size() && i < ours->columns.size(); ++i) {
      if (!is_key(ours->columns[i])) continue;
      if (a[i].kind != b[i].kind || a[i].text != b[i].text) return true;
    }
    return false;
  };

  while (std::optional<PgResult> row = conn.next_row()) {
    const std::uint64_t lsn = parse_lsn(row->value(0, 0), "a change's LSN");
    std::string_view data = row->value(0, 1);
    // bytea arrives in hex text form: decode it.
    std::string bytes;
    if (data.starts_with("\\x")) {
      bytes.reserve((data.size() - 2) / 2);
      for (std::size_t i = 2; i + 1 < data.size(); i += 2) {
        const auto nibble = [](char c) {
          return c <= '9' ? c - '0' : (c <= 'F' ? c - 'A' + 10 : c - 'a' + 10);
        };
        bytes += static_cast<char>(nibble(data[i]) * 16 + nibble(data[i + 1]));
      }
    }
    const PgOutputMessage message = decode_pgoutput(bytes);
    switch (message.type) {
      case PgOutputMessage::MessageType::kBegin:
        txn = message.lsn;
        in_txn = 0;
        if (txn >= cap_lsn_) {
          full = true;  // committed after the cap: the next connector reads it
          break;
        }
        reading = txn > from.lsn || (txn == from.lsn && from.in_txn.has_value());
        skip = txn == from.lsn && from.in_txn ? *from.in_txn : 0;
        break;
      case PgOutputMessage::MessageType::kCommit:
        if (reading) {
          end.lsn = txn;
          end.in_txn.reset();
          if (static_cast<std::int64_t>(batch.size()) >= settings.max_records) {
            full = true;
            reached_cap = false;
          }
        }
        reading = false;
        break;
      case PgOutputMessage::MessageType::kRelation:
        if (message.relation == relation.oid) {
          RelationCodecs codecs;
          codecs.columns = message.columns;
          for (const RelationColumn& column : message.columns) {
            codecs.codecs.push_back(types_->codec(column.type_oid, column.typmod));
          }
          ours = std::move(codecs);
        }
        break;
      case PgOutputMessage::MessageType::kTruncate:
        if (reading && std::find(message.truncated.begin(), message.truncated.end(),
                                 relation.oid) != message.truncated.end()) {
          conn.cancel_rows();
          throw SourceError(fmt::format(
              "postgres: '{}' was truncated (in the transaction committed at {}); a truncate "
              "names no rows, so the table is read again from a new snapshot: run `lakeflow run "
              "--full-refresh` for this table",
              relation.qualified(), format_lsn(txn)));
        }
        break;
      case PgOutputMessage::MessageType::kInsert:
      case PgOutputMessage::MessageType::kUpdate:
      case PgOutputMessage::MessageType::kDelete: {
        if (!reading || message.relation != relation.oid) break;
        if (!ours) {
          conn.cancel_rows();
          throw SourceError("postgres: a change of " + relation.qualified() +
                            " came before its relation message; this is a bug: report it");
        }
        const bool is_delete = message.type == PgOutputMessage::MessageType::kDelete;
        const bool moved_key = message.type == PgOutputMessage::MessageType::kUpdate &&
                               !message.old_tuple.empty() &&
                               key_changed(message.old_tuple, message.new_tuple);
        const bool counts = stream == Stream::kUpserts ? !is_delete : (is_delete || moved_key);
        if (!counts) break;
        ++in_txn;
        if (in_txn <= skip) break;
        if (static_cast<std::int64_t>(batch.size()) >= settings.max_records) {
          // A transaction larger than a batch continues in the next read.
          end.lsn = txn;
          end.in_txn = in_txn - 1;
          full = true;
          reached_cap = false;
          break;
        }
        if (stream == Stream::kUpserts) {
          append_tuple(message.new_tuple, message.old_kind == 'O' ? &message.old_tuple : nullptr,
                       false, lsn);
        } else {
          append_tuple(message.old_tuple, nullptr, /*keys_only=*/true, lsn);
        }
        break;
      }
      case PgOutputMessage::MessageType::kOther:
        break;
    }
    if (full) {
      conn.cancel_rows();
      break;
    }
  }
  if (reached_cap && !end.in_txn && end.lsn + 1 < cap_lsn_) {
    // Every transaction committed before the cap was seen (the cap is a flushed position, all of
    // it decodable): the position moves to the cap even when none of them touched this table, so
    // that the slot of a quiet table in a busy database still releases WAL.
    end.lsn = cap_lsn_ - 1;
  }
  return ReadResult{RecordStream::of(std::move(batch)), end.offset()};
}

std::optional<PartitionPlan> PostgresConnector::do_plan_partitions(const ReadContext& context) {
  TableSettings settings;
  settings.max_records = context.max_records();
  const RelationInfo& relation = checked(context.table, context.table_options, settings);
  const Offset& start = context.start;
  const JsonValue* phase = start.find("phase");
  const bool paging = phase != nullptr && phase->is_string() && phase->as_string() == kPagesPhase;
  // Held for the next step of this snapshot only.
  const JsonValue* held_name = start.find("snapshot");
  if (auto held = held_snapshots_.find(relation.qualified());
      held != held_snapshots_.end() && !(paging && held_name != nullptr && held_name->is_string() &&
                                         held_name->as_string() == held->second.name)) {
    held_snapshots_.erase(held);
  }
  // An ordinary table's snapshot only: ctid ranges need one heap (a partitioned table's children
  // each have their own), and later reads are the change stream. A snapshot read in pages goes
  // on in pages whatever the option says now.
  if (!paging && (!start.empty() || !relation.replicable() || relation.kind != 'r' ||
                  !wal_level_logical_ || settings.snapshot_partitions == 0)) {
    return std::nullopt;
  }
  Position position;
  std::int64_t first_page = 0;
  if (paging) {
    const JsonValue* from = start.find("from_page");
    if (from == nullptr || !from->is_int() || from->as_int() < 0) {
      throw ConfigError(fmt::format(
          "postgres: the offset of table '{}' is {}, not a snapshot position this connector wrote",
          relation.qualified(), start.to_json()));
    }
    position = parse_position(relation, start);
    check_slot(relation, position.slot, position.lsn);
    first_page = from->as_int();
  } else {
    NewSlot slot = create_slot(relation);
    position.slot = slot_for(relation);
    position.lsn = slot.lsn;
    held_snapshots_[relation.qualified()] =
        HeldSnapshot{std::move(slot.replication), slot.snapshot};
  }
  if (!held_snapshots_.count(relation.qualified())) {
    // Another process's snapshot (a run that stopped between steps): the remaining pages are read
    // at a new snapshot, and the change stream from the first snapshot's position brings every
    // change since, so the table converges by the end of the run (as for a batched snapshot).
    auto conn = std::make_unique<PgConnection>(connection_);
    conn->exec("starting a snapshot of " + relation.qualified(),
               "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const PgResult exported = conn->query("exporting the snapshot", "SELECT pg_export_snapshot()");
    held_snapshots_[relation.qualified()] = HeldSnapshot{std::move(conn), exported.text(0, 0)};
  }
  const std::string snapshot = held_snapshots_.at(relation.qualified()).name;
  // The table's pages, and about how many rows each holds: a step covers about
  // max_records_per_batch rows, so that what one commit holds stays bounded.
  const PgResult size = conn_->query(
      "measuring " + relation.qualified(),
      "SELECT pg_relation_size(c.oid) / current_setting('block_size')::bigint, c.reltuples, "
      "c.relpages FROM pg_class c WHERE c.oid = $1::oid",
      {std::to_string(relation.oid)});
  const std::int64_t pages = std::stoll(size.text(0, 0));
  double rows_per_page = 0;
  if (std::stod(size.text(0, 1)) > 0 && std::stoll(size.text(0, 2)) > 0) {
    rows_per_page = std::stod(size.text(0, 1)) / std::stod(size.text(0, 2));
  } else {
    const PgResult sample =
        conn_->query("sampling " + relation.qualified(),
                     fmt::format("SELECT count(*) FROM {} WHERE ctid < '(1,0)'::tid",
                                 quote_relation(relation.schema, relation.name)));
    rows_per_page = std::stod(sample.text(0, 0));
  }
  const std::int64_t step_pages = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(static_cast<double>(settings.max_records) /
                                   std::max(rows_per_page, 1.0)));
  const bool last = first_page + step_pages >= pages;
  const std::int64_t end_page = last ? std::max(pages, first_page + 1) : first_page + step_pages;
  const std::int64_t count = std::clamp<std::int64_t>(
      settings.snapshot_partitions.value_or(kDefaultStepPartitions), 1, end_page - first_page);
  PartitionPlan plan;
  for (std::int64_t i = 0; i < count; ++i) {
    Offset partition;
    partition.set("snapshot", snapshot);
    partition.set("slot", position.slot);
    // The first range of the first step and the last of the last are open: pages the table
    // gains after it was measured hold no row of the snapshot, but nothing is lost if they do.
    const std::int64_t from = first_page + (end_page - first_page) * i / count;
    const std::int64_t to = first_page + (end_page - first_page) * (i + 1) / count;
    if (from > 0) partition.set("from_page", from);
    if (!(last && i + 1 == count)) partition.set("to_page", to);
    plan.partitions.push_back(std::move(partition));
  }
  if (last) {
    plan.end = position.offset();
  } else {
    plan.end = position.offset();
    plan.end.set("phase", std::string(kPagesPhase));
    plan.end.set("snapshot", snapshot);
    plan.end.set("from_page", end_page);
  }
  return plan;
}

RecordStream PostgresConnector::do_read_partition(const PartitionContext& context) {
  TableSettings settings;
  const RelationInfo& relation = checked(context.table, context.table_options, settings);
  const Offset& partition = context.partition;
  const JsonValue* snapshot = partition.find("snapshot");
  const JsonValue* slot = partition.find("slot");
  const JsonValue* from_page = partition.find("from_page");
  const JsonValue* to_page = partition.find("to_page");
  const auto is_page = [](const JsonValue* page) {
    return page == nullptr || (page->is_int() && page->as_int() >= 0);
  };
  if (snapshot == nullptr || !snapshot->is_string() || slot == nullptr || !slot->is_string() ||
      slot->as_string() != slot_for(relation) || !is_page(from_page) || !is_page(to_page)) {
    throw ConfigError(fmt::format(
        "postgres: {} is not a partition this connector planned for table '{}'; plan the read "
        "again (plan_partitions)",
        partition.to_json(), relation.qualified()));
  }
  auto conn = std::make_shared<PgConnection>(connection_);
  conn->exec("starting the snapshot of " + relation.qualified(),
             "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    conn->exec("importing the slot's snapshot",
               "SET TRANSACTION SNAPSHOT " + quote_literal(snapshot->as_string()));
  } catch (const SourceError& e) {
    throw SourceError(fmt::format(
        "postgres: the snapshot of a partition of '{}' is no longer open (the connector that "
        "planned it was closed or went on to another read); plan the read again ({})",
        relation.qualified(), e.what()));
  }
  std::string where;
  if (from_page != nullptr) where = fmt::format("ctid >= '({},0)'::tid", from_page->as_int());
  if (to_page != nullptr) {
    where += fmt::format("{}ctid < '({},0)'::tid", where.empty() ? "" : " AND ", to_page->as_int());
  }
  conn->start_rows("reading a partition of " + relation.qualified(),
                   fmt::format("SELECT {} FROM {}{}{}", select_list(relation),
                               quote_relation(relation.schema, relation.name),
                               where.empty() ? "" : " WHERE ", where));
  auto record = std::make_shared<std::string>();
  const RelationInfo* info = &relation;
  return RecordStream([conn, record, info](RecordBatch& batch) {
    while (batch.size() < kStreamBatchRows) {
      std::optional<PgResult> row = conn->next_row();
      if (!row) break;
      append_row(batch, *record, *info, *row, 0, std::uint64_t{0});
    }
    return !batch.empty();
  });
}

void PostgresConnector::do_committed(const CommitContext& context) {
  TableSettings settings;
  const RelationInfo& relation = checked(context.table, context.table_options, settings);
  const JsonValue* continues = context.offset.find("snapshot");
  if (auto held = held_snapshots_.find(relation.qualified());
      held != held_snapshots_.end() && !(continues != nullptr && continues->is_string() &&
                                         continues->as_string() == held->second.name)) {
    held_snapshots_.erase(held);  // the snapshot is read: its next step will not come
  }
  if (!relation.replicable()) return;
  // Positions of the change stream only: a snapshot in progress (or none yet) holds the slot at
  // its consistent point, and an unread deletes stream (`{}`) starts from the slot's position.
  const auto position = [&](const Offset& offset) -> std::optional<Position> {
    if (offset.empty() || offset.find("phase") != nullptr) return std::nullopt;
    return parse_position(relation, offset);
  };
  std::optional<Position> safe = position(context.offset);
  if (!safe) return;
  if (context.deletes_offset) {
    const std::optional<Position> deletes = position(*context.deletes_offset);
    if (!deletes || deletes->slot != safe->slot) return;
    safe->lsn = std::min(safe->lsn, deletes->lsn);
  }
  advance_slot(safe->slot, safe->lsn);
}

LAKEFLOW_REGISTER_CONNECTOR("postgres", PostgresConnector,
                            "PostgreSQL tables: consistent snapshot, then logical-replication CDC");

}  // namespace lakeflow::postgres
