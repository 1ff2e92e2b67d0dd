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

#include "lakeflow/cursor.h"
#include "lakeflow/error.h"
#include "lakeflow/instant.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow_connector_spec.h"

namespace lakeflow::example {
namespace {

namespace od = simdjson::ondemand;

constexpr std::int64_t kDefaultPageSize = 100;

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

// `table` is one of kTables: the framework checked it.
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
    return context.table_options.get_int("page_size", kDefaultPageSize, 1,
                                         ExampleApi::kMaxPageSize);
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

// Hands out pages already fetched, one RecordBatch each.
RecordStream stream_of(std::vector<RecordBatch> pages) {
  auto held = std::make_shared<std::vector<RecordBatch>>(std::move(pages));
  return RecordStream([held, next = std::size_t{0}](RecordBatch& out) mutable {
    if (next == held->size()) return false;
    out = std::move((*held)[next++]);
    return true;
  });
}

std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 80;
  if (text.size() <= kMax) return std::string(text);
  return fmt::format("{}... ({} bytes)", text.substr(0, kMax), text.size());
}

std::string_view trim_trailing_space(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

// Where an incremental read stands: the cursor value and id of the last record returned.
struct ExampleConnector::Position {
  std::string cursor;
  std::int64_t id = 0;
};

ExampleConnector::ExampleConnector(const Options& options)
    : LakeflowConnect(embedded_connector_spec(), options), api_(this->options()) {
  const ApiResponse response = fetch("/v1/time", {});
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

  Query query{{"until", context.read_cap.text}};
  if (position.started()) {
    query["after"] = position.cursor();
    if (const auto id = last_id(position)) query["after_id"] = std::to_string(*id);
  }

  // Fetch pages until the batch is full or the listing ends. Each request asks for at most what
  // the batch still has room for, so no page is ever cut and the end offset is a record boundary.
  std::vector<RecordBatch> pages;
  std::int64_t remaining = context.max_records();
  while (remaining > 0) {
    query["limit"] = std::to_string(std::min(page_size, remaining));
    ApiResponse response = fetch(path, query);
    RecordBatch page;
    const std::string_view body = page.adopt(std::move(response.body));
    const std::string next_cursor = add_page(path, body, page, "next_cursor");
    if (page.empty()) break;
    remaining -= static_cast<std::int64_t>(page.size());
    pages.push_back(std::move(page));
    if (next_cursor.empty()) break;
    query = Query{{"cursor", next_cursor}};
  }
  if (pages.empty()) return {RecordStream(), context.start};

  // The records at the last cursor value, last first: the ties the end offset keeps.
  std::vector<Position> tail;
  for (auto page = pages.rbegin(); page != pages.rend(); ++page) {
    for (std::size_t i = page->size(); i-- > 0;) {
      Position at = position_of(path, *page, i, cursor_field);
      if (!tail.empty() && at.cursor != tail.front().cursor) break;
      tail.push_back(std::move(at));
    }
    if (tail.size() < page->size()) break;
  }
  const std::optional<std::int64_t> micros = parse_instant(tail.front().cursor);
  if (!micros) {
    throw SourceError(fmt::format("example: GET {}: '{}' of a record is '{}', not a timestamp",
                                  path, cursor_field, tail.front().cursor));
  }
  for (auto at = tail.rbegin(); at != tail.rend(); ++at) {
    position.advance(at->cursor, *micros, std::to_string(at->id));
  }
  return {stream_of(std::move(pages)), position.to_offset()};
}

ReadResult ExampleConnector::read_snapshot(const ReadContext& context) {
  const std::int64_t page_size = page_size_of(context);
  std::vector<RecordBatch> pages;
  std::string page_number = "1";
  while (!page_number.empty()) {
    ApiResponse response = fetch(
        "/v1/products", Query{{"page", page_number}, {"per_page", std::to_string(page_size)}});
    RecordBatch page;
    const std::string_view body = page.adopt(std::move(response.body));
    page_number = add_page("/v1/products", body, page, "next_page");
    if (page.empty()) break;
    pages.push_back(std::move(page));
  }
  // The whole table was read: returning the start offset ends the read after this one call.
  return {stream_of(std::move(pages)), context.start};
}

ApiResponse ExampleConnector::fetch(std::string_view path, const Query& query) {
  ApiResponse response = api_.get(path, query);
  if (response.ok()) return response;

  std::string code = "no error code";
  std::string message = excerpt(response.body);
  try {
    const JsonValue body = JsonValue::parse(response.body, "error body");
    if (const JsonValue* error = body.find("error"); error != nullptr) {
      if (const JsonValue* c = error->find("code"); c != nullptr && c->is_string()) {
        code = c->as_string();
      }
      if (const JsonValue* m = error->find("message"); m != nullptr && m->is_string()) {
        message = m->as_string();
      }
    }
  } catch (const Error&) {
    // Not JSON: the excerpt of the body is the message.
  }
  std::string_view hint;
  if (response.status == 401 || response.status == 403) {
    hint = "; check the connection options 'username' and 'password'";
  } else if (response.status == 400) {
    hint = "; check the table options, and the stored offset if this read resumed from one";
  }
  throw SourceError(fmt::format("example: GET {} failed with HTTP {} ({}): {}{}", path,
                                response.status, code, message, hint));
}

std::string ExampleConnector::add_page(std::string_view path, std::string_view body,
                                       RecordBatch& batch, std::string_view continuation) {
  std::string next;
  bool saw_data = false;
  try {
    // The adopted body is followed by RecordBatch::kPadding spaces: simdjson's padding.
    od::document document = parser_.iterate(simdjson::padded_string_view(
        body.data(), body.size(), body.size() + RecordBatch::kPadding));
    od::object page = document.get_object();
    for (auto field : page) {
      const std::string_view key = field.unescaped_key();
      if (key == "data") {
        saw_data = true;
        for (auto element : field.value().get_array()) {
          od::object record = element.get_object();
          batch.append_view(trim_trailing_space(record.raw_json()));
        }
      } else if (key == continuation) {
        od::value value = field.value();
        switch (value.type()) {
          case od::json_type::null:
            break;
          case od::json_type::string:
            next = std::string(std::string_view(value.get_string()));
            break;
          case od::json_type::number:
            next = std::to_string(std::int64_t(value.get_int64()));
            break;
          default:
            throw SourceError(
                fmt::format("example: GET {}: '{}' is neither null, a string nor a "
                            "number in {}",
                            path, continuation, excerpt(body)));
        }
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw SourceError(fmt::format(
        "example: GET {} answered a body that is not a page of JSON object records ({}): {}", path,
        e.what(), excerpt(body)));
  }
  if (!saw_data) {
    throw SourceError(
        fmt::format("example: GET {} answered a page without 'data': {}", path, excerpt(body)));
  }
  return next;
}

ExampleConnector::Position ExampleConnector::position_of(std::string_view path,
                                                         const RecordBatch& batch,
                                                         std::size_t index,
                                                         std::string_view cursor_field) {
  const std::string_view record = batch[index];
  Position position;
  bool has_cursor = false;
  bool has_id = false;
  try {
    od::document document = parser_.iterate(
        simdjson::padded_string_view(record.data(), record.size(), batch.readable(index)));
    for (auto field : document.get_object()) {
      const std::string_view key = field.unescaped_key();
      if (key == "id") {
        position.id = field.value().get_int64();
        has_id = true;
      } else if (key == cursor_field) {
        position.cursor = std::string(std::string_view(field.value().get_string()));
        has_cursor = true;
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw SourceError(fmt::format("example: GET {}: cannot read 'id' and '{}' of record {} ({})",
                                  path, cursor_field, excerpt(record), e.what()));
  }
  if (!has_cursor || !has_id) {
    throw SourceError(
        fmt::format("example: GET {}: record {} lacks 'id' or '{}', which the offset is made of",
                    path, excerpt(record), cursor_field));
  }
  return position;
}

LAKEFLOW_REGISTER_CONNECTOR("example", ExampleConnector,
                            "Example web shop (users, orders, events, products): the reference "
                            "connector, over an in-process paginated REST-like source");

}  // namespace lakeflow::example
