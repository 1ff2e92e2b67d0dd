// Pagination helpers: small pieces a connector combines to walk a paged API.
//
// A Paginator says where the next page is, given the page just read and the URL it came from.
// Paginators keep no state between pages (the position lives in the URL), so a connector can store
// the next page's URL as its offset and resume from it. A PageReader drives one: it fetches pages
// through an HttpClient, refuses a URL it already fetched (a pagination loop) and a URL outside
// the client's credential origins (see client.h: a next link cannot take the read, or the
// credentials, anywhere else), and by default rejects (and so retries) a page whose body is not
// valid JSON.
//
//   http::LinkHeaderNext next;
//   http::PageReader pages(client, http::Request::get(base + "/items?per_page=100"), next);
//   while (auto page = pages.next()) { ... page->body ... }
//
// JSON paths name a value inside a response body: member names separated by `.`, `[n]` for an
// array index and `[name=value]` for the first array element whose member `name` is the string
// `value`. Examples: `next`, `links.next`, `meta.cursor`, `link[relation=next].url` (a FHIR
// Bundle).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "lakeflow/http/message.h"
#include "lakeflow/json.h"

namespace lakeflow::http {

class HttpClient;

// A parsed JSON path (syntax above). Throws ConfigError for a malformed path.
class JsonPath {
 public:
  struct Step {
    enum class Kind : std::uint8_t { kMember, kIndex, kMatch } kind;
    std::string name;   // member name; for kMatch the member compared
    std::string value;  // kMatch: the string it must equal
    std::size_t index = 0;
  };

  explicit JsonPath(std::string_view path);
  const std::vector<Step>& steps() const { return steps_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<Step> steps_;
};

// Why `body` is not valid JSON, or nullopt when it is; a BodyCheck for JSON APIs.
std::optional<std::string> json_problem(std::string_view body);
BodyCheck require_json_body();

// The string (or number, as its JSON text) at `path` in the JSON document `body`; nullopt when the
// path leads nowhere or to null / an empty string. Throws SourceError when `body` is not JSON.
std::optional<std::string> json_string_at(std::string_view body, const JsonPath& path);
// The length of the array at `path`; 0 when the path leads nowhere or to null. Throws SourceError
// when `body` is not JSON or the value is not an array.
std::size_t json_array_size_at(std::string_view body, const JsonPath& path);

// The `rel="next"` target of an RFC 8288 Link header, resolved against `base_url`.
std::optional<std::string> link_header_next(std::string_view link_header,
                                            std::string_view base_url);

class Paginator {
 public:
  virtual ~Paginator() = default;
  // The URL of the first page: `url` plus whatever parameters this paginator sets.
  virtual std::string first_url(std::string_view url) const { return std::string(url); }
  // The URL of the page after `page`, fetched from `page_url`; nullopt when `page` is the last.
  virtual std::optional<std::string> next_url(std::string_view page_url,
                                              const Response& page) const = 0;
};

// The next page's URL is a value in the body (absolute or relative to the page's URL), e.g.
// `link[relation=next].url` in a FHIR Bundle. No value, null or "" ends the read.
class NextUrlInBody : public Paginator {
 public:
  explicit NextUrlInBody(std::string_view json_path) : path_(json_path) {}
  std::optional<std::string> next_url(std::string_view page_url,
                                      const Response& page) const override;

 private:
  JsonPath path_;
};

// The next page is the `Link: <...>; rel="next"` target (GitHub, many REST APIs).
class LinkHeaderNext : public Paginator {
 public:
  std::optional<std::string> next_url(std::string_view page_url,
                                      const Response& page) const override;
};

// The body carries an opaque cursor (at `cursor_path`) that the next request sends back as query
// parameter `param`. No cursor, null or "" ends the read.
class CursorParam : public Paginator {
 public:
  CursorParam(std::string_view cursor_path, std::string param)
      : path_(cursor_path), param_(std::move(param)) {}
  std::optional<std::string> next_url(std::string_view page_url,
                                      const Response& page) const override;

 private:
  JsonPath path_;
  std::string param_;
};

// `offset`/`limit` parameters. The next offset is this page's offset plus the number of records
// the page actually holds (the array at `records_path`), not the limit asked for: servers cap
// page sizes. An empty page ends the read, as does reaching the total at `total_path` when given.
class OffsetLimit : public Paginator {
 public:
  struct Config {
    std::string records_path;  // e.g. `data` or `results`
    std::string offset_param = "offset";
    std::string limit_param = "limit";  // empty: send no limit
    std::int64_t limit = 100;
    std::int64_t start = 0;  // offset of the first page
    std::string total_path;  // optional, e.g. `meta.total`
  };
  explicit OffsetLimit(Config config);
  std::string first_url(std::string_view url) const override;
  std::optional<std::string> next_url(std::string_view page_url,
                                      const Response& page) const override;

 private:
  Config config_;
  JsonPath records_;
  std::optional<JsonPath> total_;
};

// Numbered pages (`page=1`, `page=2`, ...). An empty page (no records at `records_path`) ends the
// read, as does reaching the page count at `page_count_path` when given.
class PageNumber : public Paginator {
 public:
  struct Config {
    std::string records_path;
    std::string page_param = "page";
    std::int64_t first_page = 1;
    std::string size_param;  // optional, e.g. `per_page`
    std::int64_t page_size = 0;
    std::string page_count_path;  // optional, e.g. `total_pages`
  };
  explicit PageNumber(Config config);
  std::string first_url(std::string_view url) const override;
  std::optional<std::string> next_url(std::string_view page_url,
                                      const Response& page) const override;

 private:
  Config config_;
  JsonPath records_;
  std::optional<JsonPath> page_count_;
};

// Where a keyset read stands: the cursor value and id of the last record read, as the record holds
// them (each a JSON string or number). Store it as the offset, e.g. `{"cursor": ..., "id": ...}`.
struct KeysetPosition {
  JsonValue cursor;
  JsonValue id;
  bool operator==(const KeysetPosition&) const = default;
};

// Keyset ("seek") pagination over a `(cursor, id)` position: the common shape of an incremental
// REST read. The API lists records ordered by (cursor field, id) and takes the position to continue
// strictly after as query parameters, e.g. `GET /items?since=2024-03-02T16:20:00Z&since_id=7`.
// The position of the last record of a page is both the next page's parameters and the read's end
// offset, so a read that stops inside a run of records sharing one cursor value resumes there,
// skipping and repeating none. The paging loop (see README.md, "A REST source"):
//
//   http::Keyset keyset({.cursor_field = "updated_at", .cursor_param = "since",
//                        .id_param = "since_id"});
//   std::string url = base + "/items?limit=100";
//   if (start) url = keyset.after(url, *start);              // resume after the stored position
//   for (;;) {
//     RecordBatch page;
//     const std::size_t n = page.append_json_array(page.adopt(client.get(url).body), "data");
//     if (n == 0) break;
//     position = keyset.position_of(page[n - 1]);           // the read's end offset so far
//     url = keyset.after(url, *position);
//     pages.push_back(std::move(page));
//     if (n < 100) break;                                    // a short page is the last one
//   }
//
// As a Paginator (for a PageReader), next_url does the same: no next page after a page holding
// fewer records than the URL's limit parameter asked for, or none.
class Keyset : public Paginator {
 public:
  struct Config {
    std::string cursor_field{};  // the record member ordered on, e.g. `updated_at`
    std::string id_field = "id";
    // The query parameters taking the cursor value and the id, e.g. `since` and `since_id`:
    // both or neither. Only after() and next_url() use them; a connector that sends the position
    // its own way (a request body, a filter expression) uses position_of alone and leaves them
    // empty.
    std::string cursor_param{};
    std::string id_param{};
    // For next_url only: the array of records in a page, and the parameter holding the page size.
    std::string records_path = "data";
    std::string limit_param = "limit";
  };
  // Throws ConfigError when cursor_field or id_field is empty, or only one of cursor_param and
  // id_param is given.
  explicit Keyset(Config config);

  // The position of one record (a JSON object). Throws SourceError naming the field when the
  // record lacks the cursor or id field, or holds something other than a string or number there.
  KeysetPosition position_of(std::string_view record) const;
  // `url` with the position's parameters set (any earlier ones replaced): the page after it.
  // Throws ConfigError without cursor_param and id_param (as next_url does).
  std::string after(std::string_view url, const KeysetPosition& position) const;

  std::optional<std::string> next_url(std::string_view page_url,
                                      const Response& page) const override;
  const Config& config() const { return config_; }

 private:
  // Throws ConfigError unless cursor_param and id_param are set.
  void require_query_params() const;

  Config config_;
  JsonPath records_;
};

// Fetches the pages a Paginator describes, one per next() call.
class PageReader {
 public:
  struct Limits {
    std::size_t max_pages = 0;  // 0: no limit
    bool require_json = true;   // a page that is not JSON is a (retried) failure
  };
  // `first` is the first page's request (its URL goes through paginator.first_url); later pages
  // are GETs with the same headers. `client` and `paginator` must outlive the reader.
  PageReader(HttpClient& client, Request first, const Paginator& paginator, Limits limits);
  PageReader(HttpClient& client, Request first, const Paginator& paginator)
      : PageReader(client, std::move(first), paginator, Limits{}) {}

  // The next page, or nullopt after the last one (or after max_pages). Throws HttpError when a
  // page cannot be fetched, SourceError when the source sends a URL it sent before, and
  // OriginRefusedError when the first URL, or the next link a page names, is outside the client's
  // credential origins (the page naming it is not returned). After a throw the reader is spent.
  std::optional<Response> next();

  // The URL next() fetches; empty once the read is over; never a refused link. Store it to resume
  // a read.
  const std::string& next_url() const { return request_.url; }
  std::size_t pages_read() const { return pages_read_; }

 private:
  // Throws OriginRefusedError unless `url` is on one of the client's credential origins.
  void require_credential_origin(const std::string& url);

  HttpClient& client_;
  const Paginator& paginator_;
  Limits limits_;
  Request request_;
  bool done_ = false;
  std::size_t pages_read_ = 0;
  std::unordered_set<std::string> seen_;
};

}  // namespace lakeflow::http
