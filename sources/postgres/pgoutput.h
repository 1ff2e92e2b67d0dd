// Decodes the messages of PostgreSQL's built-in logical decoding plugin, pgoutput (protocol
// version 1: PostgreSQL's "Logical Replication Message Formats"), as
// pg_logical_slot_peek_binary_changes returns them, one message per row.
//
// Only what the connector needs is kept: transaction boundaries (with the commit LSN a BEGIN
// announces), relation descriptions, and the tuples of INSERT, UPDATE, DELETE and TRUNCATE.
// Values stay in PostgreSQL's text form (pgoutput sends text unless asked for binary).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow::postgres {

// One column value of a tuple.
struct TupleValue {
  enum class Kind : std::uint8_t { kNull, kUnchangedToast, kText };
  Kind kind = Kind::kNull;
  std::string_view text;  // kText: a view into the message
};

struct RelationColumn {
  bool key = false;  // part of the replica identity
  std::string name;
  std::uint32_t type_oid = 0;
  int typmod = -1;
};

struct PgOutputMessage {
  enum class MessageType : std::uint8_t {
    kBegin,
    kCommit,
    kRelation,
    kInsert,
    kUpdate,
    kDelete,
    kTruncate,
    kOther,  // origin, type, logical message: nothing the connector uses
  };
  MessageType type = MessageType::kOther;
  std::uint64_t lsn = 0;       // kBegin: the commit's LSN (final_lsn); kCommit: the commit's LSN
  std::uint32_t relation = 0;  // kRelation, kInsert, kUpdate, kDelete: the relation's OID
  // kRelation:
  std::string schema;
  std::string name;
  char replica_identity = 'd';
  std::vector<RelationColumn> columns;
  // kInsert, kUpdate: the new tuple. kUpdate, kDelete: the old tuple's key ('K') or the whole old
  // row ('O', replica identity full), empty when the update did not change the key.
  std::vector<TupleValue> new_tuple;
  std::vector<TupleValue> old_tuple;
  char old_kind = 0;  // 'K', 'O' or 0
  // kTruncate:
  std::vector<std::uint32_t> truncated;
};

// Decodes one message. Throws SourceError naming what is malformed.
PgOutputMessage decode_pgoutput(std::string_view data);

}  // namespace lakeflow::postgres
