#include "example_write_back.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow::example {
namespace {

// Process-wide, like the store: values stay unique across ExampleWriteBack instances.
std::atomic<int> sequence{0};

void require_listed(std::string_view table, const std::vector<std::string>& tables,
                    std::string_view what) {
  if (std::find(tables.begin(), tables.end(), table) != tables.end()) return;
  throw ConfigError(fmt::format("example write-back: cannot {} rows of table '{}'; tables: {}",
                                what, table, fmt::join(tables, ", ")));
}

JsonValue new_row(std::string_view table, int seq) {
  if (table == "users") {
    return JsonValue::parse(fmt::format(
        R"({{"email":"writeback-{0}@example.com","full_name":"Write Back {0}",)"
        R"("address":{{"street":"{0} Test Lane","city":"Testville","postal_code":"00000",)"
        R"("country_code":"US"}},"tags":["write-back"],"is_active":true,)"
        R"("email_verified":false,"birth_date":"2000-01-01","login_count":0}})",
        seq));
  }
  if (table == "orders") {
    return JsonValue::parse(
        fmt::format(R"({{"user_id":1,"status":"pending","currency":"USD","line_items":[)"
                    R"({{"product_id":5,"sku":"CB-505","quantity":{0},"unit_price":"12.49"}}],)"
                    R"("notes":"write-back order {0}"}})",
                    seq));
  }
  if (table == "events") {
    return JsonValue::parse(fmt::format(
        R"({{"type":"write_back","user_id":1,"occurred_at":"2024-06-01T12:00:00+02:00",)"
        R"("payload":{{"sequence":{0},"source":"write-back"}},"amount":1.5,"latency_ms":12.25}})",
        seq));
  }
  return JsonValue::parse(fmt::format(
      R"({{"sku":"WB-{0}","name":"Write-back product {0}","category":"test","price":9.99,)"
      R"("in_stock":true,"stock_quantity":1,"attributes":{{"origin":"write-back"}},)"
      R"("thumbnail":"iVBORw0KGgoAAAANSUhEUgAAABkAAAAZ","released_on":"2024-06-01",)"
      R"("available_from":"2024-06-01T09:00:00"}})",
      seq));
}

// The field (besides id) each table's writes are recognised by.
std::string_view marker_field(std::string_view table, bool update) {
  if (table == "users") return update ? "full_name" : "email";
  if (table == "orders") return "notes";
  if (table == "events") return "type";
  return update ? "name" : "sku";
}

std::string collection_path(std::string_view table) { return fmt::format("/v1/{}", table); }

}  // namespace

ExampleWriteBack::ExampleWriteBack(const Options& options) : api_(options) {}

std::vector<std::string> ExampleWriteBack::insertable_tables() {
  return {"users", "orders", "events", "products"};
}

std::vector<std::string> ExampleWriteBack::updatable_tables() {
  return {"users", "orders", "products"};
}

std::vector<std::string> ExampleWriteBack::deletable_tables() { return {"orders"}; }

std::vector<JsonValue> ExampleWriteBack::insert_rows(std::string_view table, int n) {
  require_listed(table, insertable_tables(), "insert");
  std::vector<JsonValue> written;
  for (int i = 0; i < n; ++i) {
    const JsonValue created = send("POST", collection_path(table), {}, new_row(table, ++sequence));
    const std::string_view marker = marker_field(table, false);
    written.emplace_back(JsonValue::Object{{"id", *created.find("id")},
                                           {std::string(marker), *created.find(marker)}});
  }
  return written;
}

std::vector<JsonValue> ExampleWriteBack::update_rows(std::string_view table, int n) {
  require_listed(table, updatable_tables(), "update");
  const std::vector<std::int64_t> ids = existing_ids(table);
  if (ids.size() < static_cast<std::size_t>(n)) {
    throw ConfigError(fmt::format("example write-back: table '{}' has {} rows, cannot update {}",
                                  table, ids.size(), n));
  }
  const std::string_view marker = marker_field(table, true);
  std::vector<JsonValue> written;
  for (int i = 0; i < n; ++i) {
    const std::int64_t id = ids[static_cast<std::size_t>(i)];
    const JsonValue value(fmt::format("updated by write-back {}", ++sequence));
    JsonValue::Object change{{std::string(marker), value}};
    if (table == "orders") change.emplace("status", "shipped");
    send("PATCH", fmt::format("{}/{}", collection_path(table), id), {}, JsonValue(change));
    written.emplace_back(JsonValue::Object{{"id", id}, {std::string(marker), value}});
  }
  return written;
}

std::vector<JsonValue> ExampleWriteBack::delete_rows(std::string_view table, int n) {
  require_listed(table, deletable_tables(), "delete");
  std::vector<std::int64_t> ids = existing_ids(table);
  if (ids.size() < static_cast<std::size_t>(n)) {
    throw ConfigError(fmt::format("example write-back: table '{}' has {} rows, cannot delete {}",
                                  table, ids.size(), n));
  }
  // The newest rows first: usually the ones the suite itself inserted.
  std::sort(ids.rbegin(), ids.rend());
  std::vector<JsonValue> written;
  for (int i = 0; i < n; ++i) {
    const std::int64_t id = ids[static_cast<std::size_t>(i)];
    send("DELETE", fmt::format("{}/{}", collection_path(table), id), {}, JsonValue());
    written.emplace_back(JsonValue::Object{{"id", id}});
  }
  return written;
}

JsonValue ExampleWriteBack::send(std::string_view method, std::string_view path, const Query& query,
                                 const JsonValue& body) {
  const ApiResponse response =
      api_.request(method, path, query, body.is_null() ? std::string() : body.dump());
  if (!response.ok()) {
    throw SourceError(fmt::format("example write-back: {} {} failed with HTTP {}: {}", method, path,
                                  response.status, response.body));
  }
  if (response.body.empty()) return JsonValue();
  return JsonValue::parse(response.body, fmt::format("{} {} response", method, path));
}

std::vector<std::int64_t> ExampleWriteBack::existing_ids(std::string_view table) {
  const std::string limit = std::to_string(ExampleApi::kMaxPageSize);
  const JsonValue page = table == "products"
                             ? send("GET", "/v1/products", {{"per_page", limit}}, JsonValue())
                             : send("GET", collection_path(table), {{"limit", limit}}, JsonValue());
  std::vector<std::int64_t> ids;
  for (const JsonValue& row : page.find("data")->as_array())
    ids.push_back(row.find("id")->as_int());
  return ids;
}

}  // namespace lakeflow::example
