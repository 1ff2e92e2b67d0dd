// HTTP requests and responses as the toolkit's client sends and returns them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lakeflow::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete };

std::string_view to_string(Method method);  // "GET", "HEAD", ...
// GET, HEAD, PUT and DELETE are idempotent (RFC 9110 §9.2.2); POST and PATCH are not.
bool is_idempotent(Method method);

// Header fields in order. Names compare case-insensitively; a Response stores them lower-cased.
using Headers = std::vector<std::pair<std::string, std::string>>;

// The first value of header `name` (case-insensitive), or nullopt.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

struct Response;

// Checks a 2xx response before the client accepts it. Returns why the body is unusable (e.g. "body
// is not valid JSON") or nullopt. An unusable body counts as a retriable failure of an idempotent
// request: a proxy or server that cut or garbled one response usually sends the next one whole.
using BodyCheck = std::function<std::optional<std::string>(const Response& response)>;

struct Request {
  Method method = Method::kGet;
  std::string url;
  Headers headers;
  std::string body;  // sent for POST, PUT, PATCH (and DELETE when not empty)
  // Overrides is_idempotent(method): e.g. true for a FHIR `_search` POST or a token request, which
  // may safely be sent again.
  std::optional<bool> idempotent;
  BodyCheck check_body;  // optional

  bool is_idempotent() const { return idempotent.value_or(http::is_idempotent(method)); }

  static Request get(std::string url, Headers headers = {}) {
    Request request;
    request.url = std::move(url);
    request.headers = std::move(headers);
    return request;
  }
};

struct Response {
  int status = 0;
  Headers headers;  // of the final response (after redirects); names lower-cased
  // The decoded (gunzipped) body. The client keeps its capacity at least RecordBatch::kPadding
  // beyond its size, so `RecordBatch::adopt(std::move(response.body))` takes the bytes without
  // copying them.
  std::string body;
  // The request's URL as the caller gave it (without query parameters an auth provider added),
  // or the final URL when the server redirected.
  std::string url;
  int attempts = 0;  // requests sent, including retries and an auth refresh

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// "Not Found" for 404 and so on; "" for codes it does not know.
std::string_view status_reason(int status);

}  // namespace lakeflow::http
