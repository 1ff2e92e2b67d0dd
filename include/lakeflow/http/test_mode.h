// Test modes: the same connector code run against the real source, a recording of it, or a
// simulation of it. The HTTP toolkit routes requests (transport.h); connectors do not change.
//
//   LAKEFLOW_TEST_MODE (or upstream's CONNECTOR_TEST_MODE) =
//     live      requests go to the source (the default)
//     record    requests go to the source and every exchange is written to a cassette
//     replay    requests are answered from a cassette; nothing reaches the network
//     simulate  requests are answered by a simulated source (simulator.h)
//
// Cassettes use upstream's JSON layout (version 1), one file per test class:
//
//   {"version": 1, "source": "github", "interactions": [
//     {"request":  {"method": "GET", "url": "https://api.github.com/repos/o/r/issues",
//                   "query": {"page": "2"}, "body_sha256": null,
//                   "headers": {"accept": "application/json"}, "body_text": null},
//      "response": {"status_code": 200, "headers": {"link": "<...>; rel=\"next\""},
//                   "body_text": "[...]", "body_b64": null, "encoding": "utf-8",
//                   "url": "https://api.github.com/repos/o/r/issues?page=2"}}]}
//
// `request.url` is scheme, host and path; `query` maps each parameter to its value (an array of
// values when the parameter repeats). `body_sha256` is the SHA-256 (hex) of the request body
// after redaction, null without a body. `request.headers` and `request.body_text` are additions
// upstream ignores (redacted; the Authorization header is always `***`). `body_b64` replaces
// `body_text` for a body that is not UTF-8.
//
// Secrets never reach a cassette: every URL, header value and body (request and response) passes
// through the client's Redactor (redactor.h: registered secret options, auth headers, tokens in
// queries and JSON bodies, JWTs), and the response headers upstream scrubs (set-cookie,
// x-oauth-scopes, x-accepted-oauth-scopes, github-authentication-token-expiration, x-github-token)
// are written as `***`. Because the body hash is taken after redaction, a token request recorded
// with real credentials matches the same request made with stand-in ones on replay.
//
// Matching on replay: method, scheme + host + path, the query (order-insensitive, minus ignored
// parameters) and the body hash. Several interactions with one key are served in recorded order,
// then round-robin. A request with no match throws ReplayMismatchError naming the request and the
// nearest recorded one with how it differs.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/http/message.h"
#include "lakeflow/http/transport.h"

namespace lakeflow::http {

enum class TestMode : std::uint8_t { kLive, kRecord, kReplay, kSimulate };

std::string_view to_string(TestMode mode);
// Reads LAKEFLOW_TEST_MODE, else CONNECTOR_TEST_MODE; `fallback` when neither is set. Throws
// ConfigError naming the variable for another value.
TestMode test_mode_from_environment(TestMode fallback = TestMode::kLive);

// A request the cassette has no recording of: the message names it and the nearest recorded one.
class ReplayMismatchError : public Error {
 public:
  explicit ReplayMismatchError(std::string message)
      : Error(ErrorCode::kConfig, std::move(message)) {}
};

// A URL split the way cassettes store it.
struct SplitUrl {
  std::string base;                                        // scheme://host[:port]/path
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
};
SplitUrl split_url(std::string_view url);

struct RecordedRequest {
  std::string method;
  std::string url;                                         // scheme, host, path
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::optional<std::string> body_sha256;
  Headers headers;
  std::optional<std::string> body_text;
};

struct RecordedResponse {
  int status_code = 0;
  Headers headers;
  std::string body;
  std::string url;
};

struct Interaction {
  RecordedRequest request;
  RecordedResponse response;
};

struct Cassette {
  std::string source;
  std::vector<Interaction> interactions;

  // Throws ConfigError naming the file for a missing file, bad JSON or another version.
  static Cassette load(const std::string& path);
  // Writes indented JSON through a temporary file and a rename; creates the directory.
  void save(const std::string& path) const;
};

// The hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

// Records every exchange the client sends to the source (record mode). Thread-safe.
class RecordingTransport : public Transport {
 public:
  struct Settings {
    std::string source;  // the cassette's `source`
    // URLs and text naming `live_origin` (e.g. `http://127.0.0.1:41234`) are written with
    // `stand_in_origin` instead, so a source on a changing address replays at a fixed one.
    std::string live_origin;
    std::string stand_in_origin;
  };
  explicit RecordingTransport(Settings settings);
  // Sets Settings::live_origin and stand_in_origin for the exchanges recorded from now on.
  void set_origins(std::string live_origin, std::string stand_in_origin);
  std::optional<WireResponse> exchange(const Request& wire, const Redactor& redactor,
                                       const LiveExchange& live) override;
  Cassette cassette() const;
  // Writes what was recorded (nothing when no request was made).
  void save(const std::string& path) const;

 private:
  std::string rewrite(std::string text) const;
  Settings settings_;
  mutable std::mutex mutex_;
  Cassette cassette_;
};

// Answers requests from a cassette (replay mode). Thread-safe.
class ReplayTransport : public Transport {
 public:
  // `ignore_query_params` are left out of matching on both sides (values a connector computes
  // from the clock, for instance).
  explicit ReplayTransport(Cassette cassette,
                           std::set<std::string, std::less<>> ignore_query_params = {},
                           std::string cassette_name = {});
  std::optional<WireResponse> exchange(const Request& wire, const Redactor& redactor,
                                       const LiveExchange& live) override;
  // Requests answered so far.
  std::size_t served() const;

 private:
  struct Key {
    std::string method;
    std::string url;
    std::vector<std::pair<std::string, std::string>> query;  // sorted, ignored ones removed
    std::optional<std::string> body_sha256;
    auto operator<=>(const Key&) const = default;
  };
  Key key_of(std::string method, std::string url,
             std::vector<std::pair<std::string, std::string>> query,
             std::optional<std::string> body_sha256) const;
  std::string nearest(const Key& wanted) const;

  Cassette cassette_;
  std::set<std::string, std::less<>> ignored_;
  std::string name_;
  std::map<Key, std::vector<std::size_t>> by_key_;
  mutable std::mutex mutex_;
  std::map<Key, std::size_t> next_;
  std::size_t served_ = 0;
};

}  // namespace lakeflow::http
