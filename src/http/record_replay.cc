// Test modes, recording and replay (see lakeflow/http/test_mode.h).
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "lakeflow/http/redactor.h"
#include "lakeflow/http/test_mode.h"

namespace lakeflow::http {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Request headers whose value is a credential whatever it looks like.
bool is_credential_header(std::string_view name) {
  static constexpr std::string_view kNames[] = {"authorization", "proxy-authorization", "cookie",
                                                "x-api-key",     "x-api-token",         "api-key",
                                                "x-auth-token"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

// Response headers upstream's recorder scrubs: session cookies and token metadata.
bool is_scrubbed_response_header(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "set-cookie", "x-oauth-scopes", "x-accepted-oauth-scopes",
      "github-authentication-token-expiration", "x-github-token"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

// A body redacted so that JSON stays JSON.
std::string redact_body(const Redactor& redactor, std::string_view body) {
  const std::size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (body[first] == '{' || body[first] == '[')) {
    return redactor.redact_json(body);
  }
  return redactor.redact(body);
}

std::string describe(const std::string& method, const std::string& url,
                     const std::vector<std::pair<std::string, std::string>>& query) {
  std::string text = method + " " + url;
  char separator = '?';
  for (const auto& [name, value] : query) {
    text += fmt::format("{}{}={}", separator, name, value);
    separator = '&';
  }
  return text;
}

}  // namespace

std::string_view to_string(TestMode mode) {
  switch (mode) {
    case TestMode::kLive:
      return "live";
    case TestMode::kRecord:
      return "record";
    case TestMode::kReplay:
      return "replay";
    case TestMode::kSimulate:
      return "simulate";
  }
  return "live";
}

TestMode test_mode_from_environment(TestMode fallback) {
  for (const char* variable : {"LAKEFLOW_TEST_MODE", "CONNECTOR_TEST_MODE"}) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    const std::string mode = lower(value);
    if (mode == "live") return TestMode::kLive;
    if (mode == "record") return TestMode::kRecord;
    if (mode == "replay") return TestMode::kReplay;
    if (mode == "simulate") return TestMode::kSimulate;
    throw ConfigError(fmt::format(
        "{}='{}' is not a test mode; use live, record, replay or simulate", variable, value));
  }
  return fallback;
}

// ----- Recording
// ----------------------------------------------------------------------------------

RecordingTransport::RecordingTransport(Settings settings) : settings_(std::move(settings)) {
  cassette_.source = settings_.source;
}

void RecordingTransport::set_origins(std::string live_origin, std::string stand_in_origin) {
  std::lock_guard lock(mutex_);
  settings_.live_origin = std::move(live_origin);
  settings_.stand_in_origin = std::move(stand_in_origin);
}

// Called with mutex_ held.
std::string RecordingTransport::rewrite(std::string text) const {
  const std::string& from = settings_.live_origin;
  if (from.empty() || settings_.stand_in_origin.empty()) return text;
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + settings_.stand_in_origin.size())) {
    text.replace(at, from.size(), settings_.stand_in_origin);
  }
  return text;
}

std::optional<WireResponse> RecordingTransport::exchange(const Request& wire,
                                                         const Redactor& redactor,
                                                         const LiveExchange& live) {
  std::optional<WireResponse> response = live(wire);
  if (!response) return response;
  std::lock_guard lock(mutex_);
  Interaction interaction;
  RecordedRequest& request = interaction.request;
  const std::string url = rewrite(redactor.redact(wire.url));
  SplitUrl split = split_url(url);
  request.method = std::string(to_string(wire.method));
  request.url = std::move(split.base);
  request.query = std::move(split.query);
  for (const auto& [name, value] : wire.headers) {
    std::string key = lower(name);
    request.headers.emplace_back(
        key, is_credential_header(key) ? std::string(Redactor::kMask) : redactor.redact(value));
  }
  if (!wire.body.empty()) {
    std::string body = rewrite(redact_body(redactor, wire.body));
    request.body_sha256 = sha256_hex(body);
    request.body_text = std::move(body);
  }
  RecordedResponse& recorded = interaction.response;
  recorded.status_code = response->status;
  for (const auto& [name, value] : response->headers) {
    recorded.headers.emplace_back(name, is_scrubbed_response_header(name)
                                            ? std::string(Redactor::kMask)
                                            : rewrite(redactor.redact(value)));
  }
  recorded.body = rewrite(redact_body(redactor, response->body));
  recorded.url = url;
  cassette_.interactions.push_back(std::move(interaction));
  return response;
}

Cassette RecordingTransport::cassette() const {
  std::lock_guard lock(mutex_);
  return cassette_;
}

void RecordingTransport::save(const std::string& path) const {
  const Cassette cassette = this->cassette();
  if (!cassette.interactions.empty()) cassette.save(path);
}

// ----- Replay
// -------------------------------------------------------------------------------------

ReplayTransport::ReplayTransport(Cassette cassette,
                                 std::set<std::string, std::less<>> ignore_query_params,
                                 std::string cassette_name)
    : cassette_(std::move(cassette)),
      ignored_(std::move(ignore_query_params)),
      name_(std::move(cassette_name)) {
  for (std::size_t i = 0; i < cassette_.interactions.size(); ++i) {
    const RecordedRequest& request = cassette_.interactions[i].request;
    by_key_[key_of(request.method, request.url, request.query, request.body_sha256)].push_back(i);
  }
}

ReplayTransport::Key ReplayTransport::key_of(std::string method, std::string url,
                                             std::vector<std::pair<std::string, std::string>> query,
                                             std::optional<std::string> body_sha256) const {
  std::erase_if(query, [this](const auto& param) { return ignored_.contains(param.first); });
  std::sort(query.begin(), query.end());
  return Key{std::move(method), std::move(url), std::move(query), std::move(body_sha256)};
}

std::string ReplayTransport::nearest(const Key& wanted) const {
  const Key* best = nullptr;
  std::vector<std::string> best_differences;
  std::size_t best_score = 0;
  for (const auto& [key, indexes] : by_key_) {
    std::vector<std::string> differences;
    std::size_t score = 0;
    if (key.method != wanted.method) {
      differences.push_back(fmt::format("method {} recorded", key.method));
      score += 1000;
    }
    if (key.url != wanted.url) {
      differences.push_back(fmt::format("URL {} recorded", key.url));
      score += 100;
    }
    std::map<std::string, std::vector<std::string>> here;
    std::map<std::string, std::vector<std::string>> there;
    for (const auto& [name, value] : wanted.query) here[name].push_back(value);
    for (const auto& [name, value] : key.query) there[name].push_back(value);
    for (const auto& [name, values] : here) {
      const auto it = there.find(name);
      if (it == there.end()) {
        differences.push_back(fmt::format("query parameter '{}' not recorded", name));
        score += 10;
      } else if (it->second != values) {
        differences.push_back(fmt::format("query parameter '{}' is '{}', recorded '{}'", name,
                                          fmt::join(values, ","), fmt::join(it->second, ",")));
        score += 1;
      }
    }
    for (const auto& [name, values] : there) {
      if (!here.contains(name)) {
        differences.push_back(
            fmt::format("recorded with query parameter '{}={}'", name, fmt::join(values, ",")));
        score += 10;
      }
    }
    if (key.body_sha256 != wanted.body_sha256) {
      differences.push_back("the body differs");
      score += 5;
    }
    if (best == nullptr || score < best_score) {
      best = &key;
      best_score = score;
      best_differences = std::move(differences);
    }
  }
  if (best == nullptr) return "the cassette holds no interactions";
  return fmt::format("nearest recorded: {} ({})", describe(best->method, best->url, best->query),
                     fmt::join(best_differences, "; "));
}

std::optional<WireResponse> ReplayTransport::exchange(const Request& wire, const Redactor& redactor,
                                                      const LiveExchange& /*live*/) {
  SplitUrl split = split_url(redactor.redact(wire.url));
  std::optional<std::string> body_sha256;
  if (!wire.body.empty()) body_sha256 = sha256_hex(redact_body(redactor, wire.body));
  const std::string method(to_string(wire.method));
  Key key = key_of(method, split.base, split.query, std::move(body_sha256));
  std::lock_guard lock(mutex_);
  const auto found = by_key_.find(key);
  if (found == by_key_.end()) {
    throw ReplayMismatchError(fmt::format(
        "replay{}: no recorded interaction matches {}; {}. Record the cassette again "
        "(LAKEFLOW_TEST_MODE=record against the source), or ignore a query parameter whose "
        "value changes between runs (SuiteOptions::ignore_query_params)",
        name_.empty() ? "" : fmt::format(" from '{}'", name_),
        describe(method, split.base, split.query), nearest(key)));
  }
  std::size_t& next = next_[key];
  const RecordedResponse& recorded =
      cassette_.interactions[found->second[next % found->second.size()]].response;
  ++next;
  ++served_;
  return WireResponse{recorded.status_code, recorded.headers, recorded.body};
}

std::size_t ReplayTransport::served() const {
  std::lock_guard lock(mutex_);
  return served_;
}

}  // namespace lakeflow::http
