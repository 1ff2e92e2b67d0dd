#include "pg_catalog.h"

#include <string>

#include "pg_client.h"

namespace lakeflow::postgres {
namespace {

// `{a,b}` as a text[] parameter.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

std::vector<std::string> list_relations(PgConnection& connection,
                                        const std::vector<std::string>& schemas) {
  const PgResult result = connection.query(
      "listing the tables of the configured schemas",
      "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm') "
      "AND NOT c.relispartition ORDER BY 1, 2",
      {text_array(schemas)});
  std::vector<std::string> names;
  for (int row = 0; row < result.rows(); ++row) {
    names.push_back(result.text(row, 0) + "." + result.text(row, 1));
  }
  return names;
}

RelationInfo describe_relation(PgConnection& connection, TypeMapper& types,
                               const std::string& schema, const std::string& name) {
  RelationInfo relation;
  relation.schema = schema;
  relation.name = name;
  const PgResult found = connection.query(
      "reading the catalog",
      "SELECT c.oid, c.relkind, c.relreplident FROM pg_class c "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
      {schema, name});
  if (found.rows() != 1) return relation;
  relation.oid = static_cast<std::uint32_t>(std::stoul(found.text(0, 0)));
  relation.kind = found.value(0, 1)[0];
  relation.replica_identity = found.value(0, 2)[0];
  const std::string oid = found.text(0, 0);

  const PgResult columns = connection.query(
      "reading the columns of " + relation.qualified(),
      "SELECT attname, atttypid, atttypmod, attnotnull, format_type(atttypid, atttypmod) FROM "
      "pg_attribute "
      "WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
      {oid});
  for (int row = 0; row < columns.rows(); ++row) {
    ColumnInfo column;
    column.name = columns.text(row, 0);
    column.type_oid = static_cast<std::uint32_t>(std::stoul(columns.text(row, 1)));
    column.typmod = std::stoi(columns.text(row, 2));
    column.not_null = columns.value(row, 3) == "t";
    column.type_sql = columns.text(row, 4);
    column.codec = types.codec(column.type_oid, column.typmod);
    relation.columns.push_back(std::move(column));
  }

  // The primary key first; without one, the replica identity index.
  const PgResult keys = connection.query(
      "reading the keys of " + relation.qualified(),
      "SELECT a.attname FROM pg_index i "
      "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) "
      "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
      "WHERE i.indrelid = $1::oid AND i.indexrelid = (SELECT indexrelid FROM pg_index "
      "WHERE indrelid = $1::oid AND (indisprimary OR indisreplident) "
      "ORDER BY indisprimary DESC LIMIT 1) ORDER BY k.position",
      {oid});
  for (int row = 0; row < keys.rows(); ++row) relation.keys.push_back(keys.text(row, 0));
  return relation;
}

}  // namespace lakeflow::postgres
