// What the PostgreSQL catalog says about the tables the connector serves: which relations, their
// columns and types, and their keys.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lakeflow/types.h"
#include "pg_values.h"

namespace lakeflow::postgres {

struct ColumnInfo {
  std::string name;
  std::uint32_t type_oid = 0;
  int typmod = -1;
  std::string type_sql;  // format_type(): `numeric(10,2)`, for casts
  bool not_null = false;
  std::shared_ptr<const ValueCodec> codec;
};

struct RelationInfo {
  std::string schema;
  std::string name;
  std::uint32_t oid = 0;
  char kind = 'r';  // relkind: r table, p partitioned table, v view, m materialized view
  char replica_identity = 'd';  // relreplident: d default (primary key), i index, f full, n nothing
  std::vector<ColumnInfo> columns;
  // The primary key's columns, else those of the replica identity index; empty when neither.
  std::vector<std::string> keys;

  std::string qualified() const { return schema + "." + name; }
  bool is_table() const { return kind == 'r' || kind == 'p'; }
  // Changes of the relation can be replicated with their keys: a table with a key, whose
  // replica identity names the key (default or index) or the whole row (full).
  bool replicable() const { return is_table() && !keys.empty() && replica_identity != 'n'; }
};

class PgConnection;

// The user tables and views (r, p, v, m; partitions are read through their parent) of `schemas`,
// as `schema.name`, sorted.
std::vector<std::string> list_relations(PgConnection& connection,
                                        const std::vector<std::string>& schemas);

// The relation `schema.name` with its columns (in order) and keys; nullopt-like empty oid when it
// does not exist.
RelationInfo describe_relation(PgConnection& connection, TypeMapper& types,
                               const std::string& schema, const std::string& name);

}  // namespace lakeflow::postgres
