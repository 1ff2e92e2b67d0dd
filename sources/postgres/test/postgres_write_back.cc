#include "postgres_write_back.h"

#include <fmt/format.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "lakeflow/json.h"
#include "pg_client.h"

namespace lakeflow::postgres::testing {

namespace {

// A table the updates and deletes change: its key, the order rows are picked in, and the column
// an update sets (to an SQL value).
struct ChangedTable {
  struct KeyColumn {
    std::string_view name;
    bool integer;
  };
  std::string_view name;
  std::vector<KeyColumn> key;
  std::string_view order_by;
  std::string_view updated_column;
  std::string_view updated_value;

  std::string key_list() const {
    std::string list;
    for (const KeyColumn& column : key) {
      if (!list.empty()) list += ", ";
      list += column.name;
    }
    return list;
  }
  // "(key) IN (the first n keys)", picked in `direction` ("ASC" or "DESC") of `order_by`.
  std::string first_rows(std::string_view direction, int n) const {
    const std::string keys = key_list();
    return fmt::format("({}) IN (SELECT {} FROM {} ORDER BY {} {} LIMIT {})", keys, keys, name,
                       order_by, direction, n);
  }
  // The record fields of the key a statement returned first in `row`.
  JsonValue::Object key_fields(const std::vector<std::string>& row) const {
    JsonValue::Object fields;
    for (std::size_t i = 0; i < key.size(); ++i) {
      fields.emplace(key[i].name, key[i].integer
                                      ? JsonValue(static_cast<std::int64_t>(std::stoll(row[i])))
                                      : JsonValue(row[i]));
    }
    return fields;
  }
};

const ChangedTable& changed_table(std::string_view table) {
  static const ChangedTable items{"public.items", {{"id", true}}, "id", "name", "'updated ' || id"};
  static const ChangedTable orders{
      "public.orders", {{"region", false}, {"order_no", true}}, "order_no", "note", "'updated'"};
  if (table == items.name) return items;
  if (table == orders.name) return orders;
  throw std::invalid_argument("not changed here");
}

}  // namespace

std::vector<std::vector<std::string>> PostgresWriteBack::run(const std::string& sql) {
  PgConnection conn(ConnectionSettings::from_options(options_));
  const PgResult result = conn.query("write-back", sql);
  std::vector<std::vector<std::string>> rows;
  for (int row = 0; row < result.rows(); ++row) {
    std::vector<std::string>& values = rows.emplace_back();
    for (int column = 0; column < result.columns(); ++column) {
      values.push_back(result.text(row, column));
    }
  }
  return rows;
}

std::vector<std::string> PostgresWriteBack::insertable_tables() { return {"public.items"}; }
std::vector<std::string> PostgresWriteBack::updatable_tables() {
  return {"public.items", "public.orders"};
}
std::vector<std::string> PostgresWriteBack::deletable_tables() {
  return {"public.items", "public.orders"};
}

std::vector<JsonValue> PostgresWriteBack::insert_rows(std::string_view table, int n) {
  if (table != "public.items") throw std::invalid_argument("not insertable here");
  std::vector<JsonValue> rows;
  for (const std::vector<std::string>& row : run(fmt::format(
           "INSERT INTO public.items (id, name, price) SELECT (SELECT max(id) FROM public.items) "
           "+ i, 'inserted ' || i, 1.5 FROM generate_series(1, {}) AS i RETURNING id",
           n))) {
    rows.push_back(
        JsonValue::Object{{"id", JsonValue(static_cast<std::int64_t>(std::stoll(row[0])))},
                          {"name", JsonValue("inserted " + std::to_string(rows.size() + 1))}});
  }
  return rows;
}

std::vector<JsonValue> PostgresWriteBack::update_rows(std::string_view table, int n) {
  const ChangedTable& changed = changed_table(table);
  std::vector<JsonValue> rows;
  for (const std::vector<std::string>& row :
       run(fmt::format("UPDATE {} SET {} = {} WHERE {} RETURNING {}, {}", changed.name,
                       changed.updated_column, changed.updated_value, changed.first_rows("ASC", n),
                       changed.key_list(), changed.updated_column))) {
    JsonValue::Object fields = changed.key_fields(row);
    fields.emplace(changed.updated_column, JsonValue(row.back()));
    rows.push_back(std::move(fields));
  }
  return rows;
}

std::vector<JsonValue> PostgresWriteBack::delete_rows(std::string_view table, int n) {
  const ChangedTable& changed = changed_table(table);
  std::vector<JsonValue> rows;
  for (const std::vector<std::string>& row :
       run(fmt::format("DELETE FROM {} WHERE {} RETURNING {}", changed.name,
                       changed.first_rows("DESC", n), changed.key_list()))) {
    rows.push_back(changed.key_fields(row));
  }
  return rows;
}

}  // namespace lakeflow::postgres::testing
