// The Example source: a web shop with a small paginated REST API, living in the process.
//
// This is the source itself, not a stand-in for another system: one process-wide store holds four
// collections (users, orders, events, products) seeded with fixed 2024 data. `handle_request` is
// its API; example_server.h serves it over HTTP on 127.0.0.1, which is how the `example` connector
// reaches it (through the HTTP toolkit, as any REST source), and `ExampleApi` calls it directly,
// for the tests that set up or inspect the store. Every request returns a status and a JSON text
// body, exactly what a connector gets from a real REST API.
//
// Endpoints (all bodies are JSON; see example_api_doc.md for fields and examples):
//   GET    /v1/time                     {"now": "<timestamp>"}: the store's clock
//   GET    /v1/users | /v1/orders | /v1/events | /v1/orders/deleted
//          ?after=<timestamp>&after_id=<id>&until=<timestamp>&limit=<1..500>&cursor=<token>
//          {"data": [...], "has_more": bool, "next_cursor": "<token>" | null}
//          Records sorted by (cursor field, id) ascending, strictly after the position
//          (after, after_id) (after_id absent: strictly after `after`), cursor field <= until.
//          `cursor` continues a listing from its previous page and cannot be combined with
//          after/after_id/until. Cursor fields: users and orders `updated_at`, events
//          `received_at`, deleted orders `deleted_at`.
//   GET    /v1/products?page=<n>&per_page=<1..500>
//          {"data": [...], "page": n, "per_page": m, "total": t, "next_page": n + 1 | null}
//   POST   /v1/users | /v1/orders | /v1/events | /v1/products     body: the new record → 201
//   PATCH  /v1/users/<id> | /v1/orders/<id> | /v1/products/<id>   body: fields to change → 200
//   DELETE /v1/orders/<id>                                        → 204, leaves a tombstone
// The store assigns `id`, stamps `created_at`/`updated_at` (events: `received_at`) with its clock,
// and computes order totals. Errors are 4xx with {"error": {"code": "...", "message": "..."}}:
// 400 invalid_parameter / invalid_json, 401 unauthorized, 404 not_found,
// 405 method_not_allowed, 422 invalid_record.
//
// Timestamps the store writes are fixed-width UTC with microseconds
// (`2024-03-02T16:20:00.000000Z`), so equal instants are equal strings and text order is time
// order. The clock never repeats: every write (and every read of /v1/time) gets a strictly later
// microsecond than the one before, even when writes arrive within one microsecond.
//
// Thread-safe: the store serializes requests.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lakeflow/options.h"

namespace lakeflow::example {

struct ApiResponse {
  int status = 0;
  std::string body;

  bool ok() const { return status >= 200 && status < 300; }
};

// Query parameters of a request.
using Query = std::map<std::string, std::string, std::less<>>;

class ExampleApi {
 public:
  // Largest `limit` / `per_page` the API accepts.
  static constexpr std::int64_t kMaxPageSize = 500;

  // Reads the connection options `username` and `password` (both required; any non-empty values
  // are accepted). Throws ConfigError naming the missing option.
  explicit ExampleApi(const Options& options);

  // One request; never throws for anything the store rejects (that is a 4xx response).
  ApiResponse request(std::string_view method, std::string_view path, const Query& query,
                      std::string_view body) const;
  ApiResponse get(std::string_view path, const Query& query = {}) const {
    return request("GET", path, query, {});
  }
  ApiResponse post(std::string_view path, std::string_view body) const {
    return request("POST", path, {}, body);
  }
  ApiResponse patch(std::string_view path, std::string_view body) const {
    return request("PATCH", path, {}, body);
  }
  ApiResponse del(std::string_view path) const { return request("DELETE", path, {}, {}); }

  // Restores the seeded data (rows, tombstones, next ids). The clock keeps running, so stamps stay
  // strictly increasing across resets. For tests that need the seeded state.
  static void reset_store();

 private:
  std::string username_;
  std::string password_;
};

// The source's side of one request, as its HTTP front (example_server.h) and ExampleApi call it.
// `path` is the request path without the query; `authenticated` says the request carried a
// non-empty user name and password (401 otherwise). Never throws for anything the store rejects.
ApiResponse handle_request(std::string_view method, std::string_view path, const Query& query,
                           std::string_view body, bool authenticated);

// `2024-03-02T16:20:00.000000Z` for microseconds since the Unix epoch.
std::string format_timestamp(std::int64_t unix_micros);
// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` (fraction up to 9 digits, truncated to
// microseconds) as microseconds since the epoch; nullopt when `text` is not of that form.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

}  // namespace lakeflow::example
