#include "postgres_write_back.h"

#include <fmt/format.h>

#include <stdexcept>

#include "pg_client.h"

namespace lakeflow::postgres::testing {

std::vector<std::string> PostgresWriteBack::run(const std::string& sql) {
  PgConnection conn(ConnectionSettings::from_options(options_));
  const PgResult result = conn.query("write-back", sql);
  std::vector<std::string> values;
  for (int row = 0; row < result.rows(); ++row) values.push_back(result.text(row, 0));
  return values;
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
  for (const std::string& id : run(fmt::format(
           "INSERT INTO public.items (id, name, price) SELECT (SELECT max(id) FROM public.items) "
           "+ i, 'inserted ' || i, 1.5 FROM generate_series(1, {}) AS i RETURNING id",
           n))) {
    rows.push_back(
        JsonValue::Object{{"id", JsonValue(static_cast<std::int64_t>(std::stoll(id)))},
                          {"name", JsonValue("inserted " + std::to_string(rows.size() + 1))}});
  }
  return rows;
}

std::vector<JsonValue> PostgresWriteBack::update_rows(std::string_view table, int n) {
  std::vector<JsonValue> rows;
  if (table == "public.items") {
    for (const std::string& id :
         run(fmt::format("UPDATE public.items SET name = 'updated ' || id WHERE id IN (SELECT id "
                         "FROM public.items ORDER BY id LIMIT {}) RETURNING id",
                         n))) {
      rows.push_back(JsonValue::Object{{"id", JsonValue(static_cast<std::int64_t>(std::stoll(id)))},
                                       {"name", JsonValue("updated " + id)}});
    }
  } else {
    for (const std::string& key :
         run(fmt::format("UPDATE public.orders SET note = 'updated' WHERE (region, order_no) IN "
                         "(SELECT region, order_no FROM public.orders ORDER BY order_no LIMIT {}) "
                         "RETURNING region || '/' || order_no",
                         n))) {
      const std::size_t slash = key.find('/');
      rows.push_back(JsonValue::Object{
          {"region", JsonValue(key.substr(0, slash))},
          {"order_no", JsonValue(static_cast<std::int64_t>(std::stoll(key.substr(slash + 1))))},
          {"note", JsonValue("updated")}});
    }
  }
  return rows;
}

std::vector<JsonValue> PostgresWriteBack::delete_rows(std::string_view table, int n) {
  std::vector<JsonValue> rows;
  if (table == "public.items") {
    for (const std::string& id : run(fmt::format(
             "DELETE FROM public.items WHERE id IN (SELECT id FROM public.items ORDER BY id DESC "
             "LIMIT {}) RETURNING id",
             n))) {
      rows.push_back(
          JsonValue::Object{{"id", JsonValue(static_cast<std::int64_t>(std::stoll(id)))}});
    }
  } else {
    for (const std::string& key :
         run(fmt::format("DELETE FROM public.orders WHERE (region, order_no) IN (SELECT region, "
                         "order_no FROM public.orders ORDER BY order_no DESC LIMIT {}) RETURNING "
                         "region || '/' || order_no",
                         n))) {
      const std::size_t slash = key.find('/');
      rows.push_back(JsonValue::Object{
          {"region", JsonValue(key.substr(0, slash))},
          {"order_no", JsonValue(static_cast<std::int64_t>(std::stoll(key.substr(slash + 1))))}});
    }
  }
  return rows;
}

}  // namespace lakeflow::postgres::testing
