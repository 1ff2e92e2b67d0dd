// A simulated source for offline connector tests (test mode `simulate`, test_mode.h): a Transport
// that answers a connector's requests from an endpoint spec and a corpus of records, as a
// stand-in for a SaaS API that has no local server. The connector and the HTTP client run
// unchanged; only the transport differs.
//
// A simulator folder holds `endpoints.yaml` and `corpus/<name>.json` (a JSON array of records, or
// an object for a single-entity endpoint). The spec follows upstream's format
// (source_simulator/endpoint_spec.py); keys marked (ext) are lakeflow additions. Every key:
//
//   endpoints:
//     - path: "/repos/{owner}/{repo}/issues"  # path only (the host is ignored); `{name}` matches
//                                             # one segment; the first matching endpoint wins
//       method: GET                           # GET (default), POST, PATCH, PUT, DELETE
//       corpus: issues                        # corpus/issues.json
//       strict_params: false                  # true: an undeclared query parameter gets HTTP 400
//       lookup: {number: number}              # (ext) path placeholder -> record field: the
//                                             # endpoint addresses one record (GET serves it, 404
//                                             # when absent; PATCH/PUT update it; DELETE removes
//                                             it)
//       write:                                # (ext) POST creates a record in the corpus
//         id_fields: [id, number]             # set to the largest value + 1
//         timestamp_fields: [created_at, updated_at]  # set to now (also on update)
//         timestamp_precision: seconds        # or milliseconds: two writes in one second then
//                                             # carry different stamps
//         defaults: {state: open}             # fields a created record gets unless given
//       response:
//         pagination_style: page_number_with_link_header
//             # none            the whole result, no paging
//             # page_number     `page` (1-based) and `per_page` params
//             # page_number_with_link_header  as page_number, plus an RFC 8288 Link header with
//             #                 rel="next"/"last" (and "first"/"prev" after page 1)
//             # offset_limit    `offset` (0-based) and `limit` params
//             # cursor          (ext) an opaque `cursor` param; the next cursor is written at
//             #                 response.next_cursor_key (null on the last page)
//             # next_link       (ext) the next page's full URL is written at
//             #                 response.next_link_key (null on the last page)
//         default_sort: "updated_at desc"     # field (dotted path) and asc|desc
//         single_entity: false                # true: serve the corpus object as is
//         wrapper: {records_key: data.items, extras: {total: null}}  # wrap the page's records
//         next_cursor_key: meta.next_cursor   # (ext) for pagination_style cursor
//         next_link_key: links.next           # (ext) for pagination_style next_link
//         status: 200                         # (ext) the success status (201 suits a create)
//         headers: {Cache-Control: no-cache}  # (ext) headers every answer carries
//       params:                               # query parameters by role:
//         since:     {role: filter, field: updated_at, op: gte}  # ops: eq ne gt gte lt lte in;
//                                             # the value is coerced to the record's type, ISO
//                                             # timestamps compare as text
//         filter:    {role: filter_expression, options: {sendTime: sendTime, send_time: sendTime}}
//                                             # (ext) one expression over several fields, as
//                                             # Google APIs filter (AIP-160): `name op value`
//                                             # (= != < <= > >=; value quoted or bare) joined by
//                                             # AND, OR (binding tighter) and NOT, parentheses
//                                             # group; options map each name an expression may
//                                             # use to a record field; another name, or text
//                                             # that does not parse, is answered with HTTP 400
//         sort:      {role: sort_by, options: {updated: updated_at, created: created_at}}
//                                             # options: a list of field names, or (ext) a map
//                                             # from the parameter's value to the field
//         direction: {role: sort_order, options: [asc, desc]}
//         page:      {role: page}
//         per_page:  {role: per_page, default: 30, max: 100}
//         offset:    {role: offset}
//         limit:     {role: limit, default: 30, max: 100}
//         cursor:    {role: cursor}           # (ext) for the cursor and next_link styles
//         expand:    {role: ignore}
//       synthesize_future_records: {cursor_field: updated_at, count: 3}
//                                             # clones of the last record dated 1, 2, 3 hours
//                                             # from now: a connector that does not cap its reads
//                                             # at its start time never converges
//       inject:                               # (ext) errors and rate limits, by call number
//         - {on_calls: [2], status: 429, headers: {Retry-After: "0"}, body: {message: slow down}}
//       rate_limit: {limit: 5000, window_seconds: 3600}
//                                             # (ext) X-RateLimit-Limit/-Remaining/-Used/-Reset
//                                             # on every answer, remaining counting down; at 0
//                                             # the answer is 403 with Retry-After
//
// Requests run: match endpoint -> injected error? -> strict params -> lookup/write -> filter ->
// sort -> paginate -> wrap. A request no endpoint matches throws SimulatorError naming it (the
// coverage contract: every HTTP call a connector makes is in the spec). Bodies are JSON.
//
// Coverage: every request is counted against its endpoint; coverage_report() lists each
// endpoint's calls and query shapes, the endpoints never called and the requests without one.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/http/transport.h"
#include "lakeflow/json.h"

namespace lakeflow::http {

// A request the spec has no endpoint for, or a spec that cannot be used.
class SimulatorError : public Error {
 public:
  explicit SimulatorError(std::string message) : Error(ErrorCode::kConfig, std::move(message)) {}
};

struct EndpointParam {
  std::string name;
  std::string role;  // filter filter_expression sort_by sort_order page per_page offset limit
                     // cursor ignore
  std::string field;
  std::string op;
  std::optional<std::int64_t> default_value;
  std::optional<std::int64_t> max;
  // value -> field (sort_by), name -> field (filter_expression) or value -> value
  std::map<std::string, std::string> options;
};

struct InjectedAnswer {
  std::set<std::int64_t> on_calls;  // 1-based call numbers of the endpoint
  int status = 500;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct Endpoint {
  std::string path;
  std::vector<std::string> segments;
  std::string method = "GET";
  std::string corpus;
  bool strict_params = false;
  std::map<std::string, std::string> lookup;  // placeholder -> field
  bool writes = false;
  std::vector<std::string> id_fields;
  std::vector<std::string> timestamp_fields;
  int timestamp_digits = 0;  // fraction digits of written timestamps
  JsonValue defaults;
  std::string pagination_style = "none";
  std::optional<std::pair<std::string, bool>> default_sort;  // field, descending
  bool single_entity = false;
  std::string records_key;
  JsonValue extras;
  std::string next_cursor_key;
  std::string next_link_key;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<EndpointParam> params;
  std::optional<std::pair<std::string, int>> future_records;  // cursor field, count
  std::vector<InjectedAnswer> inject;
  std::optional<std::pair<std::int64_t, std::int64_t>> rate_limit;  // limit, window seconds

  const EndpointParam* param_with_role(std::string_view role) const;
  const EndpointParam* param(std::string_view name) const;
};

// endpoints.yaml, parsed.
class EndpointSpec {
 public:
  // Throws ConfigError naming the file, the endpoint (#index and path) and the key.
  static EndpointSpec load(const std::string& path);
  static EndpointSpec parse(std::string_view yaml, std::string_view what);
  // The first endpoint for `method` and `path` (no query), or nullopt.
  std::optional<std::size_t> match(std::string_view method, std::string_view path,
                                   std::map<std::string, std::string>* captures = nullptr) const;
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }

 private:
  std::vector<Endpoint> endpoints_;
};

// Counts requests per endpoint (see Coverage above).
class CoverageTracker {
 public:
  explicit CoverageTracker(std::shared_ptr<const EndpointSpec> spec) : spec_(std::move(spec)) {}
  // Returns the endpoint `url` matched, if any.
  std::optional<std::size_t> observe(std::string_view method, std::string_view url);
  // {"version": 1, "endpoints": [{"method", "path", "calls", "query_shapes"}],
  //  "not_exercised": ["GET /path"], "no_endpoint": [{"method", "url", "calls"}]}
  JsonValue report() const;

 private:
  std::shared_ptr<const EndpointSpec> spec_;
  mutable std::mutex mutex_;
  std::map<std::size_t, std::int64_t> calls_;
  std::map<std::size_t, std::set<std::string>> shapes_;
  std::map<std::string, std::int64_t> unmatched_;
};

// What a live source sends that the spec and corpus lack (record mode): for each endpoint with a
// corpus, the record fields (dotted paths; `[]` for array elements) seen live and missing from
// every corpus record, and fields whose JSON type differs.
class DriftTracker {
 public:
  // `corpus_dir` holds the corpus the spec's endpoints name.
  DriftTracker(std::shared_ptr<const EndpointSpec> spec, const std::string& corpus_dir);
  void observe(std::string_view method, std::string_view url, int status, std::string_view body);
  // {"version": 1, "endpoints": [{"method", "path", "corpus", "responses",
  //  "missing_fields": [{"field", "type"}], "type_mismatches": [{"field", "live", "corpus"}]}]}
  JsonValue report() const;

 private:
  std::shared_ptr<const EndpointSpec> spec_;
  std::map<std::string, std::map<std::string, std::set<std::string>>> corpus_fields_;
  mutable std::mutex mutex_;
  std::map<std::size_t, std::map<std::string, std::set<std::string>>> live_fields_;
  std::map<std::size_t, std::int64_t> responses_;
};

// A transport that forwards to `inner` (a recorder or a replayer) and keeps coverage and, when
// `drift` is set, drift.
class ObservingTransport : public Transport {
 public:
  ObservingTransport(std::shared_ptr<Transport> inner, std::shared_ptr<CoverageTracker> coverage,
                     std::shared_ptr<DriftTracker> drift = nullptr);
  std::optional<WireResponse> exchange(const Request& wire, const Redactor& redactor,
                                       const LiveExchange& live) override;

 private:
  std::shared_ptr<Transport> inner_;
  std::shared_ptr<CoverageTracker> coverage_;
  std::shared_ptr<DriftTracker> drift_;
};

class SimulatedSource : public Transport {
 public:
  // Loads <dir>/endpoints.yaml and <dir>/corpus/*.json. Throws ConfigError naming the file.
  static std::shared_ptr<SimulatedSource> load(const std::string& dir);
  SimulatedSource(EndpointSpec spec, std::map<std::string, JsonValue, std::less<>> corpus);

  std::optional<WireResponse> exchange(const Request& wire, const Redactor& redactor,
                                       const LiveExchange& live) override;
  // Answers one request (what exchange() does, without a client).
  WireResponse answer(std::string_view method, std::string_view url, std::string_view body);

  JsonValue coverage_report() const { return coverage_->report(); }
  // The corpus as it is now (writes included).
  JsonValue corpus(std::string_view name) const;

 private:
  WireResponse serve(const Endpoint& endpoint, std::size_t index, std::string_view url,
                     const std::map<std::string, std::string>& captures, std::string_view body);
  std::shared_ptr<const EndpointSpec> spec_;
  std::shared_ptr<CoverageTracker> coverage_;
  mutable std::mutex mutex_;
  std::map<std::string, JsonValue, std::less<>> corpus_;
  std::map<std::size_t, std::int64_t> calls_;
  std::int64_t total_calls_ = 0;
};

}  // namespace lakeflow::http
