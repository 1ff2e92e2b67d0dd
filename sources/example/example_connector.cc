#include "example_connector.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "example_server.h"
#include "lakeflow/cursor.h"
#include "lakeflow/error.h"
#include "lakeflow/http/pagination.h"
#include "lakeflow/http/url.h"
#include "lakeflow/instant.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow_connector_spec.h"

namespace lakeflow::example {
namespace {

constexpr std::int64_t kDefaultPageSize = 100;
constexpr std::int64_t kMaxPageSize = 500;  // the API's largest `limit` / `per_page`

struct TableInfo {
  std::string_view name;
  std::string_view path;
  IngestionType type;
  std::string_view cursor_field;  // empty for the snapshot table
};

constexpr TableInfo kTables[] = {
    {"users", "/v1/users", IngestionType::kCdc, "updated_at"},
    {"orders", "/v1/orders", IngestionType::kCdcWithDeletes, "updated_at"},
    {"events", "/v1/events", IngestionType::kAppend, "received_at"},
    {"products", "/v1/products", IngestionType::kSnapshot, ""},
};

// Only called with a table the framework checked (one of kTables).
const TableInfo& table_info(std::string_view table) {
  return *std::find_if(std::begin(kTables), std::end(kTables),
                       [&](const TableInfo& info) { return info.name == table; });
}

StructType users_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"email", DataType::String()},
      {"full_name", DataType::String()},
      {"address", StructType{{"street", DataType::String()},
                             {"city", DataType::String()},
                             {"postal_code", DataType::String()},
                             {"country_code", DataType::String()}}},
      {"tags", DataType::Array(DataType::String())},
      {"is_active", DataType::Boolean()},
      {"email_verified", DataType::Boolean()},
      {"birth_date", DataType::Date()},
      {"login_count", DataType::Long()},
      {"created_at", DataType::Timestamp()},
      {"updated_at", DataType::Timestamp(), false},
  };
}

StructType orders_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"user_id", DataType::Long()},
      {"status", DataType::String()},
      {"currency", DataType::String()},
      {"line_items", DataType::Array(StructType{{"product_id", DataType::Long()},
                                                {"sku", DataType::String()},
                                                {"quantity", DataType::Long()},
                                                {"unit_price", DataType::Decimal(10, 2)}})},
      {"total", DataType::Decimal(12, 2)},
      {"notes", DataType::String()},
      {"created_at", DataType::Timestamp()},
      {"updated_at", DataType::Timestamp(), false},
  };
}

StructType events_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"type", DataType::String()},
      {"user_id", DataType::Long()},
      {"occurred_at", DataType::Timestamp()},
      {"received_at", DataType::Timestamp(), false},
      {"payload", DataType::Variant()},
      {"amount", DataType::Double()},
      {"latency_ms", DataType::Double()},
  };
}

StructType products_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"sku", DataType::String()},
      {"name", DataType::String()},
      {"category", DataType::String()},
      {"price", DataType::Decimal(10, 2)},
      {"in_stock", DataType::Boolean()},
      {"stock_quantity", DataType::Long()},
      // Seller-defined keys that differ from product to product: a map, not a struct.
      {"attributes", DataType::Map(DataType::String(), DataType::String())},
      {"thumbnail", DataType::Binary()},
      {"released_on", DataType::Date()},
      {"available_from", DataType::TimestampNtz()},
  };
}

// The page size of `table`: the table option page_size, checked. Every hook that takes table
// options reads it, so a pipeline finds a bad one when it asks for the schema, before it reads any
// table.
std::int64_t page_size_of(const TableContext& context) {
  try {
    return context.table_options.get_int("page_size", kDefaultPageSize, 1, kMaxPageSize);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("example: table '{}': {}", context.table, e.what()));
  }
}

// The position `start` stands for: the SDK's cursor with ties, or the single (cursor, id) pair of
// earlier versions' offsets. Throws ConfigError for an offset of another shape.
TieCursor position_from(const ReadContext& context) {
  const Offset& start = context.start;
  const std::string what = fmt::format("example: table '{}': the offset", context.table);
  const JsonValue* id = start.find("id");
  const JsonValue* cursor = start.find("cursor");
  if (id != nullptr && cursor != nullptr && id->is_int() && cursor->is_string() &&
      start.value().as_object().size() == 2) {
    TieCursor position;
    if (const auto micros = parse_instant(cursor->as_string())) {
      position.advance(cursor->as_string(), *micros, std::to_string(id->as_int()));
      return position;
    }
  }
  TieCursor position = TieCursor::from_offset(start, what, parse_instant);
  if (position.started() && position.ties().empty()) {
    throw ConfigError(
        fmt::format("{} {} is not an offset this connector wrote: it lists no \"ids\"; "
                    "start from {{}}",
                    what, start.to_json()));
  }
  for (const std::string& tie : position.ties()) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(tie.data(), tie.data() + tie.size(), value);
    if (ec != std::errc() || end != tie.data() + tie.size()) {
      throw ConfigError(
          fmt::format("{} {} is not an offset this connector wrote: id '{}' is not "
                      "an integer; start from {{}}",
                      what, start.to_json(), tie));
    }
  }
  return position;
}

// The greatest id delivered at the position's cursor value (ids are integers, in id order).
std::optional<std::int64_t> last_id(const TieCursor& position) {
  std::optional<std::int64_t> last;
  for (const std::string& tie : position.ties()) {
    std::int64_t value = 0;
    std::from_chars(tie.data(), tie.data() + tie.size(), value);
    if (!last || value > *last) last = value;
  }
  return last;
}

std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 80;
  if (text.size() <= kMax) return std::string(text);
  return fmt::format("{}... ({} bytes)", text.substr(0, kMax), text.size());
}

// The HTTP client: Basic auth with the connection's credentials, for base_url's origin only.
std::shared_ptr<http::HttpClient> make_client(const std::string& base_url, std::string username,
                                              std::string password) {
  Options client_options;
  client_options.set("base_url", base_url);
  client_options.set("auth.type", "basic");
  client_options.set("auth.username", std::move(username));
  client_options.set("auth.password", std::move(password));
  return http::HttpClient::from_options(client_options);
}

}  // namespace

ExampleConnector::ExampleConnector(const Options& options)
    : LakeflowConnect(embedded_connector_spec(), options) {
  // username and password are `required: true` in connector_spec.yaml: the framework has refused
  // a connection without them (MissingOptionError) before this body runs.
  std::string username = this->options().get_string("username");
  std::string password = this->options().get_string("password");
  const auto base_url = this->options().find("base_url");
  base_url_ = base_url && !base_url->empty() ? std::string(*base_url)
                                             : ExampleServer::embedded().base_url();
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  client_ = make_client(base_url_, std::move(username), std::move(password));
  const http::Response response = fetch(base_url_ + "/v1/time");
  try {
    set_read_cap(JsonValue::parse(response.body, "/v1/time response").find("now")->as_string());
  } catch (const std::exception& e) {
    throw SourceError(fmt::format(
        "example: GET /v1/time answered {} instead of {{\"now\": \"<timestamp>\"}} ({})",
        excerpt(response.body), e.what()));
  }
}

std::vector<std::string> ExampleConnector::do_list_tables() {
  std::vector<std::string> names;
  for (const TableInfo& info : kTables) names.emplace_back(info.name);
  return names;
}

StructType ExampleConnector::do_get_table_schema(const TableContext& context) {
  page_size_of(context);
  if (context.table == "users") return users_schema();
  if (context.table == "orders") return orders_schema();
  if (context.table == "events") return events_schema();
  return products_schema();
}

TableMetadata ExampleConnector::do_read_table_metadata(const TableContext& context) {
  page_size_of(context);
  const TableInfo& info = table_info(context.table);
  TableMetadata metadata;
  metadata.primary_keys = {"id"};
  metadata.ingestion_type = info.type;
  if (!info.cursor_field.empty()) metadata.cursor_field = std::string(info.cursor_field);
  return metadata;
}

ReadResult ExampleConnector::do_read_table(const ReadContext& context) {
  const TableInfo& info = table_info(context.table);
  if (info.type == IngestionType::kSnapshot) return read_snapshot(context);
  return read_after(context, info.path, info.cursor_field);
}

ReadResult ExampleConnector::do_read_table_deletes(const ReadContext& context) {
  const TableInfo& info = table_info(context.table);
  if (info.type != IngestionType::kCdcWithDeletes) {
    throw NotImplementedError(
        fmt::format("example: table '{}' is {}: it has no deleted rows to read (only 'orders', "
                    "cdc_with_deletes, does)",
                    context.table, to_string(info.type)));
  }
  return read_after(context, "/v1/orders/deleted", "deleted_at");
}

ReadResult ExampleConnector::read_after(const ReadContext& context, std::string_view path,
                                        std::string_view cursor_field) {
  const std::int64_t page_size = page_size_of(context);
  TieCursor position = position_from(context);
  // The API lists records in (cursor field, id) order after the position `after`, `after_id`:
  // keyset pagination over the same pair the offset keeps (with the ids of its ties).
  const http::Keyset keyset(
      {.cursor_field = std::string(cursor_field), .cursor_param = "after", .id_param = "after_id"});
  std::string url =
      http::with_query_param(base_url_ + std::string(path), "until", context.read_cap.text);
  if (position.started()) {
    if (const auto id = last_id(position)) {
      url = keyset.after(url, {JsonValue(position.cursor()), JsonValue(*id)});
    }
  }

  // Fetch pages until the batch is full or the listing ends. Each request asks for at most what
  // the batch still has room for, so no page is ever cut and the end offset is a record boundary.
  std::vector<RecordBatch> pages;
  std::int64_t remaining = context.max_records();
  while (remaining > 0) {
    const std::int64_t limit = std::min(page_size, remaining);
    url = http::with_query_param(url, "limit", std::to_string(limit));
    RecordBatch page = page_of(fetch(url));
    const auto records = static_cast<std::int64_t>(page.size());
    if (records == 0) break;
    url = keyset.after(url, keyset.position_of(page[page.size() - 1]));
    remaining -= records;
    pages.push_back(std::move(page));
    if (records < limit) break;  // a short page is the last one
  }
  if (pages.empty()) return {RecordStream(), context.start};

  // The records at the last cursor value, last first: the ties the end offset keeps.
  std::vector<http::KeysetPosition> tail;
  for (auto page = pages.rbegin(); page != pages.rend(); ++page) {
    std::size_t taken = 0;
    for (std::size_t i = page->size(); i-- > 0; ++taken) {
      http::KeysetPosition at = keyset.position_of((*page)[i]);
      if (!tail.empty() && !(at.cursor == tail.front().cursor)) break;
      tail.push_back(std::move(at));
    }
    if (taken < page->size()) break;
  }
  const std::string cursor = tail.front().cursor.as_string();
  const std::optional<std::int64_t> micros = parse_instant(cursor);
  if (!micros) {
    throw SourceError(fmt::format("example: GET {}: '{}' of a record is '{}', not a timestamp",
                                  path, cursor_field, cursor));
  }
  for (auto at = tail.rbegin(); at != tail.rend(); ++at) {
    position.advance(cursor, *micros, std::to_string(at->id.as_int()));
  }
  return {RecordStream::of(std::move(pages)), position.to_offset()};
}

ReadResult ExampleConnector::read_snapshot(const ReadContext& context) {
  const std::int64_t page_size = page_size_of(context);
  // Numbered pages; each names the next one in `next_page` (null on the last).
  const http::CursorParam next_page("next_page", "page");
  http::PageReader reader(
      *client_,
      http::Request::get(http::with_query_param(base_url_ + "/v1/products?page=1", "per_page",
                                                std::to_string(page_size))),
      next_page);
  std::vector<RecordBatch> pages;
  while (std::optional<http::Response> response = reader.next()) {
    RecordBatch page = page_of(std::move(*response));
    if (page.empty()) break;
    pages.push_back(std::move(page));
  }
  // The whole table was read: returning the start offset ends the read after this one call.
  return {RecordStream::of(std::move(pages)), context.start};
}

http::Response ExampleConnector::fetch(std::string url) {
  http::Request request = http::Request::get(std::move(url));
  request.check_body = http::require_json_body();
  try {
    return client_->send(std::move(request));
  } catch (const http::HttpError& error) {
    // The toolkit's message names the request, the status and the API's error body; add what to
    // change in this connector's terms.
    std::string_view hint;
    if (error.status() == 401 || error.status() == 403) {
      hint = " Check the connection options 'username' and 'password'.";
    } else if (error.status() == 400) {
      hint = " Check the table options, and the stored offset if this read resumed from one.";
    }
    if (hint.empty()) throw;
    throw http::HttpError(fmt::format("example: {}{}", error.what(), hint), error.status(),
                          error.url(), error.attempts(), error.body_excerpt());
  }
}

RecordBatch ExampleConnector::page_of(http::Response response) {
  RecordBatch page;
  try {
    page.append_json_array(page.adopt(std::move(response.body)), "data");
  } catch (const SourceError& e) {
    throw SourceError(
        fmt::format("example: GET {} answered a page of records that cannot be read: {}",
                    response.url, e.what()));
  }
  return page;
}

LAKEFLOW_REGISTER_CONNECTOR("example", ExampleConnector,
                            "Example web shop (users, orders, events, products): the reference "
                            "connector, over an in-process paginated REST-like source");

}  // namespace lakeflow::example
