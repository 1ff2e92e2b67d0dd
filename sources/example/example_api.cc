#include "example_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/instant.h"
#include "lakeflow/json.h"

namespace lakeflow::example {
namespace {

constexpr std::int64_t kDefaultPageSize = 100;

// ----- Seed data: fixed, so every run (and every reset) starts from the same store. -------------
// Ties in the cursor fields are deliberate: users 3/4/5, 1/7/8 and 10/11, orders 2/3, 5/6 and 9/10,
// events 3/4/5, 11/12 and 19/20 share a timestamp, as rows written by one batch job do.

constexpr std::string_view
    kSeedUsers
        [] =
            {
                R"json({"id":1,"email":"ada@example.com","full_name":"Ada Lovelace","address":{"street":"12 St James's Square","city":"London","postal_code":"SW1Y 4JH","country_code":"GB"},"tags":["vip","early-adopter"],"is_active":true,"email_verified":true,"birth_date":"1990-12-10","login_count":42,"created_at":"2024-01-03T09:00:00.000000Z","updated_at":"2024-03-02T16:20:00.000000Z"})json",
                R"json({"id":2,"email":"alan@example.com","full_name":"Alan Turing","address":{"street":"78 High Street","city":"Cambridge","postal_code":"CB2 1TN","country_code":"GB"},"tags":["beta"],"is_active":true,"email_verified":false,"birth_date":"1992-06-23","login_count":7,"created_at":"2024-01-04T11:30:00.000000Z","updated_at":"2024-01-20T08:45:00.000000Z"})json",
                R"json({"id":3,"email":"grace@example.com","full_name":"Grace Hopper","address":{"street":"1 Navy Yard","city":"Arlington","postal_code":"22202","country_code":"US"},"tags":[],"is_active":true,"email_verified":true,"birth_date":null,"login_count":0,"created_at":"2024-01-10T14:00:00.000000Z","updated_at":"2024-02-01T12:00:00.000000Z"})json",
                R"json({"id":4,"email":"edsger@example.com","full_name":"Edsger Dijkstra","address":{"street":"Prinsengracht 263","city":"Amsterdam","postal_code":"1016 GV","country_code":"NL"},"tags":["reviewer"],"is_active":false,"email_verified":true,"birth_date":"1985-05-11","login_count":3,"created_at":"2024-01-11T08:00:00.000000Z","updated_at":"2024-02-01T12:00:00.000000Z"})json",
                R"json({"id":5,"email":"barbara@example.com","full_name":"Barbara Liskov","address":{"street":"32 Vassar Street","city":"Boston","postal_code":"02139","country_code":"US"},"tags":["vip"],"is_active":true,"email_verified":true,"birth_date":"1988-11-07","login_count":19,"created_at":"2024-01-12T17:45:00.000000Z","updated_at":"2024-02-01T12:00:00.000000Z"})json",
                R"json({"id":6,"email":"donald@example.com","full_name":"Donald Knuth","address":null,"tags":null,"is_active":true,"email_verified":false,"birth_date":"1979-01-10","login_count":1,"created_at":"2024-02-14T07:30:00.000000Z","updated_at":"2024-02-14T07:30:00.250000Z"})json",
                R"json({"id":7,"email":"frances@example.com","full_name":"Frances Allen","address":{"street":"1101 Kitchawan Road","city":"Yorktown Heights","postal_code":"10598","country_code":"US"},"tags":["beta","reviewer"],"is_active":true,"email_verified":true,"birth_date":"1994-08-04","login_count":25,"created_at":"2024-02-20T10:00:00.000000Z","updated_at":"2024-03-02T16:20:00.000000Z"})json",
                R"json({"id":8,"email":"ken@example.com","full_name":"Ken Thompson","address":{"street":"600 Mountain Avenue","city":"Murray Hill","postal_code":"07974","country_code":"US"},"tags":["early-adopter"],"is_active":true,"email_verified":true,"birth_date":"1983-02-04","login_count":58,"created_at":"2024-02-21T09:10:00.000000Z","updated_at":"2024-03-02T16:20:00.000000Z"})json",
                R"json({"id":9,"email":"radia@example.com","full_name":"Radia Perlman","address":{"street":"4 Network Way","city":"Seattle","postal_code":"98101","country_code":"US"},"tags":["vip"],"is_active":true,"email_verified":true,"birth_date":"1991-12-18","login_count":12,"created_at":"2024-03-10T12:00:00.000000Z","updated_at":"2024-03-18T09:05:00.000000Z"})json",
                R"json({"id":10,"email":"tim@example.com","full_name":"Tim Berners-Lee","address":{"street":"Esplanade des Particules 1","city":"Geneva","postal_code":"1211","country_code":"CH"},"tags":["early-adopter","beta"],"is_active":true,"email_verified":true,"birth_date":"1989-03-12","login_count":33,"created_at":"2024-03-28T15:00:00.000000Z","updated_at":"2024-04-01T00:00:00.000000Z"})json",
                R"json({"id":11,"email":"margaret@example.com","full_name":"Margaret Hamilton","address":{"street":"2101 NASA Parkway","city":"Houston","postal_code":"77058","country_code":"US"},"tags":[],"is_active":false,"email_verified":false,"birth_date":null,"login_count":0,"created_at":"2024-03-30T20:00:00.000000Z","updated_at":"2024-04-01T00:00:00.000000Z"})json",
                R"json({"id":12,"email":"zoe@example.com","full_name":"Zoë Ramírez","address":{"street":"Calle Betis 7","city":"Sevilla","postal_code":"41010","country_code":"ES"},"tags":["vip","beta"],"is_active":true,"email_verified":true,"birth_date":"1996-07-21","login_count":9,"created_at":"2024-05-01T08:00:00.000000Z","updated_at":"2024-05-06T13:45:10.500000Z"})json",
};

// Totals are computed by the store from the line items.
constexpr std::string_view kSeedOrders[] = {
    R"json({"id":1,"user_id":1,"status":"delivered","currency":"USD","line_items":[{"product_id":1,"sku":"KB-101","quantity":1,"unit_price":"89.00"},{"product_id":5,"sku":"CB-505","quantity":2,"unit_price":"12.49"}],"notes":null,"created_at":"2024-01-05T10:00:00.000000Z","updated_at":"2024-01-12T15:30:00.000000Z"})json",
    R"json({"id":2,"user_id":2,"status":"shipped","currency":"USD","line_items":[{"product_id":3,"sku":"MN-303","quantity":2,"unit_price":"279.50"}],"notes":"Leave at reception","created_at":"2024-01-21T09:00:00.000000Z","updated_at":"2024-02-01T12:00:00.000000Z"})json",
    R"json({"id":3,"user_id":3,"status":"paid","currency":"USD","line_items":[{"product_id":2,"sku":"MS-202","quantity":1,"unit_price":"24.99"},{"product_id":4,"sku":"HD-404","quantity":1,"unit_price":"39.95"}],"notes":null,"created_at":"2024-01-30T16:00:00.000000Z","updated_at":"2024-02-01T12:00:00.000000Z"})json",
    R"json({"id":4,"user_id":5,"status":"cancelled","currency":"EUR","line_items":[{"product_id":8,"sku":"HS-808","quantity":1,"unit_price":"149.00"}],"notes":"Customer changed their mind","created_at":"2024-02-18T13:00:00.000000Z","updated_at":"2024-02-20T09:15:00.000000Z"})json",
    R"json({"id":5,"user_id":7,"status":"pending","currency":"USD","line_items":[{"product_id":6,"sku":"LP-606","quantity":1,"unit_price":"45.00"},{"product_id":7,"sku":"WC-707","quantity":1,"unit_price":"59.99"},{"product_id":5,"sku":"CB-505","quantity":3,"unit_price":"12.49"}],"notes":null,"created_at":"2024-03-05T18:00:00.000000Z","updated_at":"2024-03-05T18:00:00.000000Z"})json",
    R"json({"id":6,"user_id":1,"status":"delivered","currency":"USD","line_items":[{"product_id":2,"sku":"MS-202","quantity":2,"unit_price":"24.99"}],"notes":null,"created_at":"2024-03-05T17:59:00.000000Z","updated_at":"2024-03-05T18:00:00.000000Z"})json",
    R"json({"id":7,"user_id":9,"status":"shipped","currency":"EUR","line_items":[{"product_id":1,"sku":"KB-101","quantity":1,"unit_price":"85.00"}],"notes":"Loyalty discount applied","created_at":"2024-03-22T11:11:11.111111Z","updated_at":"2024-03-22T11:11:11.111111Z"})json",
    R"json({"id":8,"user_id":10,"status":"paid","currency":"USD","line_items":[{"product_id":4,"sku":"HD-404","quantity":2,"unit_price":"39.95"}],"notes":null,"created_at":"2024-04-02T08:00:00.000000Z","updated_at":"2024-04-02T08:00:00.000000Z"})json",
    R"json({"id":9,"user_id":12,"status":"pending","currency":"EUR","line_items":[{"product_id":7,"sku":"WC-707","quantity":1,"unit_price":"59.99"}],"notes":"Gift wrap, please","created_at":"2024-05-07T10:30:00.000000Z","updated_at":"2024-05-07T10:30:00.000000Z"})json",
    R"json({"id":10,"user_id":4,"status":"delivered","currency":"USD","line_items":[{"product_id":3,"sku":"MN-303","quantity":1,"unit_price":"279.50"},{"product_id":8,"sku":"HS-808","quantity":1,"unit_price":"149.00"}],"notes":null,"created_at":"2024-05-07T10:29:00.000000Z","updated_at":"2024-05-07T10:30:00.000000Z"})json",
};

// Orders 11 and 12 existed and were deleted: what /v1/orders/deleted reports.
constexpr std::pair<std::int64_t, std::string_view> kSeedDeletedOrders[] = {
    {11, "2024-02-15T10:00:00.000000Z"},
    {12, "2024-04-20T17:45:00.000000Z"},
};

// `occurred_at` is the client's clock with its own offset (as sent); `received_at` is the store's.
constexpr std::string_view
    kSeedEvents
        [] =
            {
                R"json({"id":1,"type":"page_view","user_id":1,"occurred_at":"2024-01-15T11:59:58+01:00","received_at":"2024-01-15T11:00:01.000000Z","payload":{"path":"/","referrer":"https://search.example.org/?q=keyboards"},"amount":null,"latency_ms":120.5})json",
                R"json({"id":2,"type":"search","user_id":1,"occurred_at":"2024-01-15T12:00:30+01:00","received_at":"2024-01-15T11:00:31.000000Z","payload":{"query":"mechanical keyboard","results":14},"amount":null,"latency_ms":88.25})json",
                R"json({"id":3,"type":"add_to_cart","user_id":1,"occurred_at":"2024-01-15T12:02:10+01:00","received_at":"2024-01-15T11:05:00.000000Z","payload":{"product_id":1,"quantity":1},"amount":null,"latency_ms":45.0})json",
                R"json({"id":4,"type":"add_to_cart","user_id":1,"occurred_at":"2024-01-15T12:03:00+01:00","received_at":"2024-01-15T11:05:00.000000Z","payload":{"product_id":5,"quantity":2},"amount":null,"latency_ms":51.5})json",
                R"json({"id":5,"type":"purchase","user_id":1,"occurred_at":"2024-01-15T12:04:45+01:00","received_at":"2024-01-15T11:05:00.000000Z","payload":{"order_id":1,"items":[{"sku":"KB-101","quantity":1},{"sku":"CB-505","quantity":2}]},"amount":113.98,"latency_ms":310.75})json",
                R"json({"id":6,"type":"page_view","user_id":null,"occurred_at":"2024-02-01T08:15:00-05:00","received_at":"2024-02-01T13:15:02.000000Z","payload":{"path":"/products/monitors","referrer":null},"amount":null,"latency_ms":97.0})json",
                R"json({"id":7,"type":"signup","user_id":3,"occurred_at":"2024-01-10T15:00:00+01:00","received_at":"2024-02-01T13:20:00.000000Z","payload":{"method":"email","campaign":"winter-sale","offline":true},"amount":null,"latency_ms":1502.0})json",
                R"json({"id":8,"type":"search","user_id":null,"occurred_at":"2024-02-03T21:40:12.345+05:30","received_at":"2024-02-03T16:10:13.000000Z","payload":{"query":"usb-c hub","results":3},"amount":null,"latency_ms":76.125})json",
                R"json({"id":9,"type":"page_view","user_id":5,"occurred_at":"2024-02-20T10:14:59Z","received_at":"2024-02-20T10:15:00.000000Z","payload":{"path":"/orders/4"},"amount":null,"latency_ms":64.0})json",
                R"json({"id":10,"type":"refund","user_id":5,"occurred_at":"2024-02-20T05:16:00-05:00","received_at":"2024-02-20T10:16:01.000000Z","payload":{"order_id":4,"reason":"changed_mind"},"amount":-149.0,"latency_ms":230.0})json",
                R"json({"id":11,"type":"purchase","user_id":7,"occurred_at":"2024-03-05T13:00:00-05:00","received_at":"2024-03-05T18:00:00.500000Z","payload":{"order_id":5,"items":[{"sku":"LP-606","quantity":1},{"sku":"WC-707","quantity":1},{"sku":"CB-505","quantity":3}]},"amount":142.46,"latency_ms":288.0})json",
                R"json({"id":12,"type":"purchase","user_id":1,"occurred_at":"2024-03-05T19:00:00+01:00","received_at":"2024-03-05T18:00:00.500000Z","payload":{"order_id":6,"items":[{"sku":"MS-202","quantity":2}]},"amount":49.98,"latency_ms":301.5})json",
                R"json({"id":13,"type":"logout","user_id":1,"occurred_at":"2024-03-05T19:01:30+01:00","received_at":"2024-03-05T18:01:31.000000Z","payload":{"session_seconds":812.4},"amount":null,"latency_ms":12.0})json",
                R"json({"id":14,"type":"page_view","user_id":9,"occurred_at":"2024-03-22T12:00:00+01:00","received_at":"2024-03-22T11:00:01.000000Z","payload":{"path":"/products/keyboards","experiment":{"id":"exp-42","variant":"B"}},"amount":null,"latency_ms":110.0})json",
                R"json({"id":15,"type":"purchase","user_id":9,"occurred_at":"2024-03-22T12:11:10+01:00","received_at":"2024-03-22T11:11:11.111111Z","payload":{"order_id":7,"items":[{"sku":"KB-101","quantity":1}]},"amount":85.0,"latency_ms":275.25})json",
                R"json({"id":16,"type":"search","user_id":10,"occurred_at":"2024-04-02T09:58:00+02:00","received_at":"2024-04-02T07:58:01.000000Z","payload":{"query":"hub","results":2,"filters":["in_stock"]},"amount":null,"latency_ms":70.0})json",
                R"json({"id":17,"type":"purchase","user_id":10,"occurred_at":"2024-04-02T10:00:00+02:00","received_at":"2024-04-02T08:00:00.000000Z","payload":{"order_id":8,"items":[{"sku":"HD-404","quantity":2}]},"amount":79.9,"latency_ms":260.0})json",
                R"json({"id":18,"type":"page_view","user_id":12,"occurred_at":"2024-05-07T12:29:00+02:00","received_at":"2024-05-07T10:29:01.000000Z","payload":{"path":"/products/webcams","locale":"es-ES"},"amount":null,"latency_ms":133.0})json",
                R"json({"id":19,"type":"purchase","user_id":12,"occurred_at":"2024-05-07T12:30:00+02:00","received_at":"2024-05-07T10:30:00.000000Z","payload":{"order_id":9,"items":[{"sku":"WC-707","quantity":1}]},"amount":59.99,"latency_ms":295.0})json",
                R"json({"id":20,"type":"purchase","user_id":4,"occurred_at":"2024-05-07T12:30:00+02:00","received_at":"2024-05-07T10:30:00.000000Z","payload":{"order_id":10,"items":[{"sku":"MN-303","quantity":1},{"sku":"HS-808","quantity":1}]},"amount":428.5,"latency_ms":305.0})json",
                R"json({"id":21,"type":"logout","user_id":12,"occurred_at":"2024-05-07T12:45:00+02:00","received_at":"2024-05-07T10:45:00.250000Z","payload":{"session_seconds":960.0},"amount":null,"latency_ms":9.5})json",
};

// `thumbnail` is base64 (the first bytes of a PNG); `available_from` is the shop's local wall-clock
// time (no zone).
constexpr std::string_view kSeedProducts[] = {
    R"json({"id":1,"sku":"KB-101","name":"Mechanical Keyboard","category":"peripherals","price":89.0,"in_stock":true,"stock_quantity":34,"attributes":{"color":"black","layout":"ANSI","switch":"brown"},"thumbnail":"iVBORw0KGgoAAAANSUhEUgAAABEAAAAR","released_on":"2023-09-01","available_from":"2023-09-01T09:00:00"})json",
    R"json({"id":2,"sku":"MS-202","name":"Wireless Mouse","category":"peripherals","price":24.99,"in_stock":true,"stock_quantity":120,"attributes":{"color":"white","dpi":"1600"},"thumbnail":"iVBORw0KGgoAAAANSUhEUgAAABIAAAAS","released_on":"2023-06-15","available_from":"2023-06-15T09:00:00"})json",
    R"json({"id":3,"sku":"MN-303","name":"27-inch Monitor","category":"displays","price":279.5,"in_stock":true,"stock_quantity":8,"attributes":{"panel":"IPS","refresh_rate":"144Hz","resolution":"2560x1440"},"thumbnail":"iVBORw0KGgoAAAANSUhEUgAAABMAAAAT","released_on":"2024-01-08","available_from":"2024-01-08T08:30:00"})json",
    R"json({"id":4,"sku":"HD-404","name":"USB-C Hub","category":"accessories","price":39.95,"in_stock":false,"stock_quantity":0,"attributes":{"ports":"7"},"thumbnail":"iVBORw0KGgoAAAANSUhEUgAAABQAAAAU","released_on":"2022-11-20","available_from":null})json",
    R"json({"id":5,"sku":"CB-505","name":"Braided USB-C Cable (2 m)","category":"accessories","price":12.49,"in_stock":true,"stock_quantity":540,"attributes":{"color":"grey","length":"2 m"},"thumbnail":"iVBORw0KGgoAAAANSUhEUgAAABUAAAAV","released_on":"2022-03-01","available_from":"2022-03-01T00:00:00"})json",
    R"json({"id":6,"sku":"LP-606","name":"Laptop Stand","category":"accessories","price":45.0,"in_stock":true,"stock_quantity":17,"attributes":{},"thumbnail":null,"released_on":null,"available_from":"2023-02-14T09:00:00"})json",
    R"json({"id":7,"sku":"WC-707","name":"1080p Webcam","category":"video","price":59.99,"in_stock":true,"stock_quantity":22,"attributes":{"fps":"30","resolution":"1920x1080"},"thumbnail":"iVBORw0KGgoAAAANSUhEUgAAABcAAAAX","released_on":"2024-03-01","available_from":"2024-03-01T10:00:00.500000"})json",
    R"json({"id":8,"sku":"HS-808","name":"Noise-cancelling Headset","category":"audio","price":149.0,"in_stock":true,"stock_quantity":5,"attributes":{"anc":"yes","color":"black"},"thumbnail":"iVBORw0KGgoAAAANSUhEUgAAABgAAAAY","released_on":"2024-04-15","available_from":"2024-04-15T09:00:00"})json",
};

// ----- Small text helpers ----------------------------------------------------------------------

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// Reads exactly `n` decimal digits at `pos`.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Money as the orders API writes it: "89.00". Returns cents.
std::optional<std::int64_t> parse_cents(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos || text.size() - dot != 3) return std::nullopt;
  const auto units = parse_int(text.substr(0, dot));
  const auto cents = digits(text, dot + 1, 2);
  if (!units || !cents || *units < 0 || text[0] == '+' || *units > 1'000'000'000) {
    return std::nullopt;
  }
  return *units * 100 + *cents;
}

std::string format_cents(std::int64_t cents) {
  return fmt::format("{}.{:02}", cents / 100, cents % 100);
}

// Page tokens are opaque to clients: URL-safe base64 (no padding) of "v1|after|after_id|until".
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : bytes) {
    bits = (bits << 8) | static_cast<unsigned char>(c);
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kBase64Url[(bits >> count) & 0x3F];
    }
  }
  if (count > 0) out += kBase64Url[(bits << (6 - count)) & 0x3F];
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    const std::size_t value = kBase64Url.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

// ----- Responses -------------------------------------------------------------------------------

ApiResponse error_response(int status, std::string_view code, std::string message) {
  JsonValue::Object error{{"code", JsonValue(code)}, {"message", JsonValue(std::move(message))}};
  return {status, JsonValue(JsonValue::Object{{"error", JsonValue(std::move(error))}}).dump()};
}

ApiResponse invalid_parameter(std::string message) {
  return error_response(400, "invalid_parameter", std::move(message));
}

ApiResponse invalid_record(std::string message) {
  return error_response(422, "invalid_record", std::move(message));
}

std::int64_t wall_clock_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ----- The store -------------------------------------------------------------------------------

struct Row {
  std::int64_t id;
  std::int64_t cursor_us;  // the collection's cursor field as microseconds (products: 0)
  JsonValue record;
};

// Where a cursor listing resumes: strictly after (after_us, after_id); at most until_us.
struct ListPosition {
  std::optional<std::int64_t> after_us;
  std::int64_t after_id = std::numeric_limits<std::int64_t>::max();
  std::optional<std::int64_t> until_us;
};

std::string encode_page_token(const ListPosition& position) {
  return base64url_encode(
      fmt::format("v1|{}|{}|{}", position.after_us.value_or(-1), position.after_id,
                  position.until_us ? fmt::format("{}", *position.until_us) : std::string("-")));
}

std::optional<ListPosition> decode_page_token(std::string_view token) {
  const auto text = base64url_decode(token);
  if (!text || !text->starts_with("v1|")) return std::nullopt;
  std::vector<std::string_view> parts;
  std::string_view rest = std::string_view(*text).substr(3);
  for (std::size_t bar = rest.find('|'); bar != std::string_view::npos; bar = rest.find('|')) {
    parts.push_back(rest.substr(0, bar));
    rest.remove_prefix(bar + 1);
  }
  parts.push_back(rest);
  if (parts.size() != 3) return std::nullopt;
  const auto after = parse_int(parts[0]);
  const auto after_id = parse_int(parts[1]);
  if (!after || !after_id) return std::nullopt;
  ListPosition position;
  position.after_us = *after;
  position.after_id = *after_id;
  if (parts[2] != "-") {
    const auto until = parse_int(parts[2]);
    if (!until) return std::nullopt;
    position.until_us = *until;
  }
  return position;
}

class Store {
 public:
  static Store& instance() {
    static Store store;
    return store;
  }

  void reset() {
    const std::lock_guard lock(mu_);
    seed();
  }

  ApiResponse handle(std::string_view method, std::string_view path, const Query& query,
                     std::string_view body, bool authenticated) {
    const std::lock_guard lock(mu_);
    if (!authenticated) {
      return error_response(401, "unauthorized",
                            "missing credentials: send a non-empty username and password");
    }
    std::vector<std::string_view> segments;
    if (path.starts_with("/v1/")) {
      std::string_view rest = path.substr(4);
      for (std::size_t slash = rest.find('/'); slash != std::string_view::npos;
           slash = rest.find('/')) {
        segments.push_back(rest.substr(0, slash));
        rest.remove_prefix(slash + 1);
      }
      segments.push_back(rest);  // empty after a trailing slash: rejected below
    }
    if (segments.empty() || std::find(segments.begin(), segments.end(), "") != segments.end()) {
      return not_found(path);
    }
    if (segments.size() == 1 && segments[0] == "time") {
      if (method != "GET") return method_not_allowed(method, path, "GET");
      if (auto bad = unknown_parameter(query, {})) return *bad;
      return {200, JsonValue(JsonValue::Object{{"now", format_timestamp(tick())}}).dump()};
    }
    Collection* collection = find_collection(segments[0]);
    if (collection == nullptr) return not_found(path);

    if (segments.size() == 1) {
      if (method == "GET") {
        return collection->name == "products" ? list_pages(*collection, query)
                                              : list_after(collection->rows, query);
      }
      if (method == "POST") return create(*collection, body);
      return method_not_allowed(method, path, "GET, POST");
    }
    if (segments.size() == 2 && collection->name == "orders" && segments[1] == "deleted") {
      if (method != "GET") return method_not_allowed(method, path, "GET");
      return list_after(deleted_orders_, query);
    }
    if (segments.size() != 2) return not_found(path);
    const auto id = parse_int(segments[1]);
    Row* row = nullptr;
    if (id) {
      for (Row& candidate : collection->rows) {
        if (candidate.id == *id) row = &candidate;
      }
    }
    const bool append_only = collection->name == "events";
    const bool deletable = collection->name == "orders";
    const std::string allowed =
        fmt::format("GET{}{}", append_only ? "" : ", PATCH", deletable ? ", DELETE" : "");
    if (method != "GET" && !(method == "PATCH" && !append_only) &&
        !(method == "DELETE" && deletable)) {
      return method_not_allowed(method, path, allowed);
    }
    if (row == nullptr) {
      return error_response(
          404, "not_found",
          fmt::format("no {} record with id '{}'", collection->name, segments[1]));
    }
    if (method == "GET") return {200, row->record.dump()};
    if (method == "PATCH") return update(*collection, *row, body);
    return remove_order(*collection, *row);
  }

 private:
  struct Collection {
    std::string name;
    std::string cursor_field;  // empty for products
    std::vector<Row> rows;     // in id order
    std::int64_t next_id = 1;
  };

  Store() { seed(); }

  // The store's clock: wall-clock microseconds, but never the same value twice.
  std::int64_t tick() {
    last_tick_us_ = std::max(wall_clock_micros(), last_tick_us_ + 1);
    return last_tick_us_;
  }

  Collection* find_collection(std::string_view name) {
    for (Collection& collection : collections_) {
      if (collection.name == name) return &collection;
    }
    return nullptr;
  }

  static ApiResponse not_found(std::string_view path) {
    return error_response(404, "not_found",
                          fmt::format("no endpoint '{}'; endpoints: /v1/time, /v1/users, "
                                      "/v1/orders, /v1/orders/deleted, /v1/events, /v1/products",
                                      path));
  }

  static ApiResponse method_not_allowed(std::string_view method, std::string_view path,
                                        std::string_view allowed) {
    return error_response(
        405, "method_not_allowed",
        fmt::format("{} is not allowed on '{}'; allowed: {}", method, path, allowed));
  }

  static std::optional<ApiResponse> unknown_parameter(
      const Query& query, std::initializer_list<std::string_view> accepted) {
    for (const auto& [key, value] : query) {
      if (std::find(accepted.begin(), accepted.end(), key) == accepted.end()) {
        return invalid_parameter(fmt::format("unknown query parameter '{}'; accepted: {}", key,
                                             accepted.size() == 0
                                                 ? std::string("none")
                                                 : fmt::format("{}", fmt::join(accepted, ", "))));
      }
    }
    return std::nullopt;
  }

  static std::optional<ApiResponse> page_size(const Query& query, std::string_view key,
                                              std::int64_t& out) {
    const auto it = query.find(key);
    if (it == query.end()) return std::nullopt;
    const auto value = parse_int(it->second);
    if (!value || *value < 1 || *value > ExampleApi::kMaxPageSize) {
      return invalid_parameter(
          fmt::format("parameter '{}': expected an integer in [1, {}], got '{}'", key,
                      ExampleApi::kMaxPageSize, it->second));
    }
    out = *value;
    return std::nullopt;
  }

  static std::optional<ApiResponse> timestamp_parameter(const Query& query, std::string_view key,
                                                        std::optional<std::int64_t>& out) {
    const auto it = query.find(key);
    if (it == query.end()) return std::nullopt;
    out = parse_timestamp(it->second);
    if (!out) {
      return invalid_parameter(
          fmt::format("parameter '{}': expected an ISO-8601 timestamp with offset, like "
                      "2024-03-02T16:20:00.000000Z, got '{}'",
                      key, it->second));
    }
    return std::nullopt;
  }

  // GET /v1/users, /v1/orders, /v1/events, /v1/orders/deleted.
  static ApiResponse list_after(const std::vector<Row>& rows, const Query& query) {
    if (auto bad = unknown_parameter(query, {"after", "after_id", "until", "limit", "cursor"})) {
      return *bad;
    }
    std::int64_t limit = kDefaultPageSize;
    if (auto bad = page_size(query, "limit", limit)) return *bad;

    ListPosition position;
    if (const auto token = query.find("cursor"); token != query.end()) {
      if (query.contains("after") || query.contains("after_id") || query.contains("until")) {
        return invalid_parameter(
            "parameter 'cursor' continues a listing and cannot be combined with 'after', "
            "'after_id' or 'until'; send only 'cursor' (and optionally 'limit')");
      }
      const auto decoded = decode_page_token(token->second);
      if (!decoded) {
        return invalid_parameter(fmt::format(
            "parameter 'cursor': '{}' is not a cursor this API issued; pass the 'next_cursor' "
            "of the previous page unchanged",
            token->second));
      }
      position = *decoded;
    } else {
      if (auto bad = timestamp_parameter(query, "after", position.after_us)) return *bad;
      if (auto bad = timestamp_parameter(query, "until", position.until_us)) return *bad;
      if (const auto after_id = query.find("after_id"); after_id != query.end()) {
        const auto value = parse_int(after_id->second);
        if (!value) {
          return invalid_parameter(
              fmt::format("parameter 'after_id': expected an integer, got '{}'", after_id->second));
        }
        if (!position.after_us) {
          return invalid_parameter(
              "parameter 'after_id' needs 'after' (the timestamp it ties with)");
        }
        position.after_id = *value;
      }
    }

    std::vector<const Row*> selected;
    for (const Row& row : rows) {
      if (position.after_us &&
          std::tie(row.cursor_us, row.id) <= std::tie(*position.after_us, position.after_id)) {
        continue;
      }
      if (position.until_us && row.cursor_us > *position.until_us) continue;
      selected.push_back(&row);
    }
    std::sort(selected.begin(), selected.end(), [](const Row* a, const Row* b) {
      return std::tie(a->cursor_us, a->id) < std::tie(b->cursor_us, b->id);
    });
    const bool has_more = selected.size() > static_cast<std::size_t>(limit);
    if (has_more) selected.resize(static_cast<std::size_t>(limit));

    std::string body = R"({"data":[)";
    for (std::size_t i = 0; i < selected.size(); ++i) {
      if (i > 0) body += ',';
      selected[i]->record.dump_to(body);
    }
    body += fmt::format(R"(],"has_more":{},"next_cursor":)", has_more);
    if (has_more) {
      const ListPosition next{selected.back()->cursor_us, selected.back()->id, position.until_us};
      append_json_string(body, encode_page_token(next));
    } else {
      body += "null";
    }
    body += '}';
    return {200, std::move(body)};
  }

  // GET /v1/products: page-number pagination in id order.
  static ApiResponse list_pages(const Collection& collection, const Query& query) {
    if (auto bad = unknown_parameter(query, {"page", "per_page"})) return *bad;
    std::int64_t per_page = kDefaultPageSize;
    if (auto bad = page_size(query, "per_page", per_page)) return *bad;
    std::int64_t page = 1;
    if (const auto it = query.find("page"); it != query.end()) {
      const auto value = parse_int(it->second);
      if (!value || *value < 1) {
        return invalid_parameter(
            fmt::format("parameter 'page': expected an integer >= 1, got '{}'", it->second));
      }
      page = *value;
    }
    const auto total = static_cast<std::int64_t>(collection.rows.size());
    // Pages past the end are empty; the division guards against overflow of page * per_page.
    const std::int64_t first = page - 1 > total / per_page ? total : (page - 1) * per_page;
    const std::int64_t last = std::min(total, first + per_page);
    std::string body = R"({"data":[)";
    for (std::int64_t i = first; i < last; ++i) {
      if (i > first) body += ',';
      collection.rows[static_cast<std::size_t>(i)].record.dump_to(body);
    }
    body += fmt::format(R"(],"page":{},"per_page":{},"total":{},"next_page":{}}})", page, per_page,
                        total, last < total ? fmt::format("{}", page + 1) : std::string("null"));
    return {200, std::move(body)};
  }

  // Checks a record as it will be stored; returns the problem, if any.
  std::optional<std::string> invalid_fields(const Collection& collection,
                                            const JsonValue& record) const {
    const auto require = [&](std::string_view field, bool ok,
                             std::string_view expected) -> std::optional<std::string> {
      if (ok) return std::nullopt;
      return fmt::format("{} field '{}' must be {}", collection.name, field, expected);
    };
    const auto is = [&](std::string_view field, auto predicate) {
      const JsonValue* value = record.find(field);
      return value != nullptr && predicate(*value);
    };
    const auto is_string = [](const JsonValue& v) {
      return v.is_string() && !v.as_string().empty();
    };
    if (collection.name == "users") {
      return require("email", is("email", is_string), "a non-empty string");
    }
    if (collection.name == "events") {
      if (auto bad = require("type", is("type", is_string), "a non-empty string")) return bad;
      if (const JsonValue* occurred = record.find("occurred_at");
          occurred != nullptr && !occurred->is_null() &&
          (!occurred->is_string() || !parse_timestamp(occurred->as_string()))) {
        return fmt::format(
            "events field 'occurred_at' must be a timestamp with offset, like "
            "2024-03-02T17:20:00+01:00");
      }
      return std::nullopt;
    }
    if (collection.name == "products") {
      if (auto bad = require("sku", is("sku", is_string), "a non-empty string")) return bad;
      if (auto bad = require("name", is("name", is_string), "a non-empty string")) return bad;
      return require("price", is("price", [](const JsonValue& v) { return v.is_number(); }),
                     "a number");
    }
    // orders
    if (auto bad = require("user_id", is("user_id", [](const JsonValue& v) { return v.is_int(); }),
                           "an integer")) {
      return bad;
    }
    const std::int64_t user_id = record.find("user_id")->as_int();
    const Collection& users = collections_[0];
    if (std::none_of(users.rows.begin(), users.rows.end(),
                     [&](const Row& row) { return row.id == user_id; })) {
      return fmt::format("orders field 'user_id': no user with id {}", user_id);
    }
    const JsonValue* items = record.find("line_items");
    if (items == nullptr || !items->is_array() || items->as_array().empty()) {
      return std::string("orders field 'line_items' must be a non-empty array");
    }
    for (std::size_t i = 0; i < items->as_array().size(); ++i) {
      const JsonValue& item = items->as_array()[i];
      const JsonValue* quantity = item.find("quantity");
      const JsonValue* price = item.find("unit_price");
      if (quantity == nullptr || !quantity->is_int() || quantity->as_int() < 1 ||
          quantity->as_int() > 100000) {
        return fmt::format(
            "orders field 'line_items[{}].quantity' must be an integer in [1, 100000]", i);
      }
      if (price == nullptr || !price->is_string() || !parse_cents(price->as_string())) {
        return fmt::format(
            "orders field 'line_items[{}].unit_price' must be a money string like \"12.49\"", i);
      }
    }
    return std::nullopt;
  }

  static void set_order_total(JsonValue& order) {
    std::int64_t cents = 0;
    for (const JsonValue& item : order.find("line_items")->as_array()) {
      cents += item.find("quantity")->as_int() * *parse_cents(item.find("unit_price")->as_string());
    }
    order["total"] = format_cents(cents);
  }

  // Fields only the store writes.
  static std::vector<std::string_view> assigned_fields(const Collection& collection) {
    if (collection.name == "events") return {"id", "received_at"};
    if (collection.name == "products") return {"id"};
    if (collection.name == "orders") return {"id", "created_at", "updated_at", "total"};
    return {"id", "created_at", "updated_at"};
  }

  // Parses a write's body: a JSON object without store-assigned fields.
  static std::variant<JsonValue, ApiResponse> parse_body(const Collection& collection,
                                                         std::string_view body) {
    JsonValue value;
    try {
      value = JsonValue::parse(body, "request body");
    } catch (const Error& e) {
      return error_response(400, "invalid_json", e.what());
    }
    if (!value.is_object()) return invalid_record("the request body must be a JSON object");
    for (const std::string_view field : assigned_fields(collection)) {
      if (value.find(field) != nullptr) {
        return invalid_record(
            fmt::format("{} field '{}' is assigned by the store; leave it out of the request",
                        collection.name, field));
      }
    }
    return value;
  }

  // POST /v1/<collection>.
  ApiResponse create(Collection& collection, std::string_view body) {
    auto parsed = parse_body(collection, body);
    if (auto* error = std::get_if<ApiResponse>(&parsed)) return std::move(*error);
    JsonValue record = std::move(std::get<JsonValue>(parsed));
    if (auto bad = invalid_fields(collection, record)) return invalid_record(std::move(*bad));

    const std::int64_t now = tick();
    const std::string stamp = format_timestamp(now);
    record["id"] = collection.next_id;
    if (collection.name == "events") {
      record["received_at"] = stamp;
      if (const JsonValue* occurred = record.find("occurred_at");
          occurred == nullptr || occurred->is_null()) {
        record["occurred_at"] = stamp;
      }
    } else if (collection.name != "products") {
      record["created_at"] = stamp;
      record["updated_at"] = stamp;
    }
    if (collection.name == "orders") set_order_total(record);
    collection.rows.push_back(
        {collection.next_id++, collection.cursor_field.empty() ? 0 : now, std::move(record)});
    return {201, collection.rows.back().record.dump()};
  }

  // PATCH /v1/<collection>/<id>: replaces the given top-level fields.
  ApiResponse update(Collection& collection, Row& row, std::string_view body) {
    auto parsed = parse_body(collection, body);
    if (auto* error = std::get_if<ApiResponse>(&parsed)) return std::move(*error);
    JsonValue record = row.record;
    for (auto& [key, value] : std::get<JsonValue>(parsed).as_object()) record[key] = value;
    if (auto bad = invalid_fields(collection, record)) return invalid_record(std::move(*bad));

    if (!collection.cursor_field.empty()) {
      const std::int64_t now = tick();
      record[collection.cursor_field] = format_timestamp(now);
      row.cursor_us = now;
    }
    if (collection.name == "orders") set_order_total(record);
    row.record = std::move(record);
    return {200, row.record.dump()};
  }

  // DELETE /v1/orders/<id>: the order leaves a tombstone in /v1/orders/deleted.
  ApiResponse remove_order(Collection& orders, const Row& row) {
    const std::int64_t now = tick();
    const std::string stamp = format_timestamp(now);
    const std::int64_t id = row.id;
    std::erase_if(orders.rows, [id](const Row& r) { return r.id == id; });
    deleted_orders_.push_back(
        {id, now,
         JsonValue(JsonValue::Object{{"id", id}, {"updated_at", stamp}, {"deleted_at", stamp}})});
    return {204, ""};
  }

  void seed() {
    const auto load = [](std::string name, std::string cursor_field,
                         std::span<const std::string_view> records) {
      Collection collection{std::move(name), std::move(cursor_field), {}, 1};
      for (const std::string_view text : records) {
        JsonValue record = JsonValue::parse(text, "example seed record");
        const std::int64_t id = record.find("id")->as_int();
        std::int64_t cursor_us = 0;
        if (!collection.cursor_field.empty()) {
          cursor_us = *parse_timestamp(record.find(collection.cursor_field)->as_string());
        }
        if (collection.name == "orders") set_order_total(record);
        collection.rows.push_back({id, cursor_us, std::move(record)});
        collection.next_id = std::max(collection.next_id, id + 1);
      }
      return collection;
    };
    collections_.clear();
    collections_.push_back(load("users", "updated_at", kSeedUsers));
    collections_.push_back(load("orders", "updated_at", kSeedOrders));
    collections_.push_back(load("events", "received_at", kSeedEvents));
    collections_.push_back(load("products", "", kSeedProducts));
    deleted_orders_.clear();
    for (const auto& [id, deleted_at] : kSeedDeletedOrders) {
      deleted_orders_.push_back(
          {id, *parse_timestamp(deleted_at),
           JsonValue(JsonValue::Object{
               {"id", id}, {"updated_at", deleted_at}, {"deleted_at", deleted_at}})});
      Collection& orders = collections_[1];
      orders.next_id = std::max(orders.next_id, id + 1);
    }
  }

  std::mutex mu_;
  std::vector<Collection> collections_;  // users, orders, events, products
  std::vector<Row> deleted_orders_;      // tombstones, cursor deleted_at
  std::int64_t last_tick_us_ = 0;
};

}  // namespace

ExampleApi::ExampleApi(const Options& options) {
  for (const std::string_view key : {"username", "password"}) {
    const auto value = options.find(key);
    if (!value || value->empty()) {
      throw ConfigError(fmt::format(
          "example: connection option '{}' is required; the Example source accepts any non-empty "
          "username and password (e.g. --option {}=demo)",
          key, key));
    }
  }
  username_ = std::string(*options.find("username"));
  password_ = std::string(*options.find("password"));
}

ApiResponse ExampleApi::request(std::string_view method, std::string_view path, const Query& query,
                                std::string_view body) const {
  return handle_request(method, path, query, body, !username_.empty() && !password_.empty());
}

ApiResponse handle_request(std::string_view method, std::string_view path, const Query& query,
                           std::string_view body, bool authenticated) {
  return Store::instance().handle(method, path, query, body, authenticated);
}

void ExampleApi::reset_store() { Store::instance().reset(); }

std::string format_timestamp(std::int64_t unix_micros) {
  // Fixed width, so that equal instants are equal strings and text order is time order.
  return format_instant(unix_micros, /*fraction_digits=*/6);
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS
  const auto year = digits(text, 0, 4);
  const auto month = digits(text, 5, 2);
  const auto day = digits(text, 8, 2);
  const auto hour = digits(text, 11, 2);
  const auto minute = digits(text, 14, 2);
  const auto second = digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':' || *hour > 23 || *minute > 59 ||
      *second > 59) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(*month)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    std::size_t n = 0;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++n) {
      if (n < 6) micros = micros * 10 + (text[pos] - '0');
    }
    if (n == 0 || n > 9) return std::nullopt;
    for (; n < 6; ++n) micros *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const auto offset_hours = digits(text, pos + 1, 2);
    const auto offset_minutes = digits(text, pos + 4, 2);
    if (!offset_hours || !offset_minutes || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        *offset_hours > 23 || *offset_minutes > 59) {
      return std::nullopt;
    }
    offset_seconds = (*offset_hours * 3600 + *offset_minutes * 60) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const std::int64_t days_since_epoch = std::chrono::sys_days{date}.time_since_epoch().count();
  const std::int64_t seconds =
      days_since_epoch * 86400 + *hour * 3600 + *minute * 60 + *second - offset_seconds;
  return seconds * 1'000'000 + micros;
}

}  // namespace lakeflow::example
