#include "lakeflow/http/client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <mutex>

#include "lakeflow/http/auth.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/http/url.h"
#include "lakeflow/options.h"
#include "lakeflow/records.h"

#ifndef LAKEFLOW_VERSION
#define LAKEFLOW_VERSION "0.0.0"
#endif

namespace lakeflow::http {
namespace {

using std::chrono::milliseconds;

void ensure_curl_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw Error(ErrorCode::kInternal, "libcurl failed to initialise (curl_global_init)");
    }
  });
}

std::string format_duration(milliseconds d) {
  const auto ms = d.count();
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 120000) return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000);
  return fmt::format("{:.1f} min", static_cast<double>(ms) / 60000);
}

std::string status_text(int status) {
  const std::string_view reason = status_reason(status);
  return reason.empty() ? fmt::format("HTTP {}", status)
                        : fmt::format("HTTP {} {}", status, reason);
}

std::string option_duration(milliseconds d) {
  if (d.count() % 60000 == 0 && d.count() > 0) return fmt::format("{}m", d.count() / 60000);
  if (d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
  return fmt::format("{}ms", d.count());
}

double get_double(const Options& options, std::string_view key, double default_value, double min,
                  double max) {
  const auto value = options.find(key);
  if (!value) return default_value;
  double number = 0;
  const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), number);
  if (error != std::errc() || end != value->data() + value->size() || !std::isfinite(number) ||
      number < min || number > max) {
    throw ConfigError(
        fmt::format("option '{}': expected a number in [{}, {}], got '{}'", key, min, max, *value));
  }
  return number;
}

// The receiving side of one transfer.
struct Transfer {
  CURL* curl = nullptr;
  std::int64_t max_bytes = 0;
  int status = 0;
  Headers headers;
  std::string body;
  bool sized = false;  // body capacity set from Content-Length
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  std::string& body = transfer->body;
  if (!transfer->sized) {
    transfer->sized = true;
    curl_off_t length = -1;
    if (curl_easy_getinfo(transfer->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) ==
            CURLE_OK &&
        length > 0 && length <= transfer->max_bytes) {
      body.reserve(static_cast<std::size_t>(length) + RecordBatch::kPadding);
    }
  }
  if (static_cast<std::int64_t>(body.size() + bytes) > transfer->max_bytes) {
    transfer->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  // Keep room for RecordBatch::kPadding so that adopting the body never reallocates it.
  const std::size_t needed = body.size() + bytes + RecordBatch::kPadding;
  if (needed > body.capacity()) body.reserve(std::max(needed, body.capacity() * 2));
  body.append(data, bytes);
  return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (after a redirect or a 100 Continue): forget the previous one's headers.
    transfer->headers.clear();
    transfer->sized = false;
    return bytes;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return bytes;
  std::string name(line.substr(0, colon));
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  transfer->headers.emplace_back(std::move(name), std::string(value));
  return bytes;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  void add(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) throw std::bad_alloc();
    list = next;
  }
};

// The redirect statuses the client follows (RFC 9110 §15.4); 300, 304 and 305 are answers.
bool is_followed_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

constexpr int kMaxRedirects = 10;

// Why the redirect from `from` to `location` (the `redirects`th in a row) is not followed; empty
// when it is.
std::string redirect_refusal(const Origin& from, const std::string& location, int redirects) {
  if (redirects > kMaxRedirects) return fmt::format("more than {} redirects", kMaxRedirects);
  std::optional<Origin> to;
  try {
    to = origin_of(location);
  } catch (const ConfigError&) {
    return "it leads to a URL that is not http:// or https://";
  }
  if (from.scheme == "https" && to->scheme == "http") {
    return fmt::format(
        "it leads from https to plain http ({}), and what started encrypted does not go on in "
        "the clear",
        to->to_string());
  }
  return {};
}

void remove_header(Headers& headers, std::string_view name) {
  std::erase_if(headers, [name](const auto& header) {
    return header.first.size() == name.size() &&
           std::equal(name.begin(), name.end(), header.first.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  });
}

enum class FailureKind : std::uint8_t {
  kConnect,    // the request never left: always safe to retry
  kTransient,  // network error, timeout, truncated or unusable body: retry if idempotent
  kStatus,     // an HTTP status
  kFinal,      // not worth retrying
};

struct Failure {
  FailureKind kind;
  std::string reason;
  std::string advice;
};

}  // namespace

std::string_view user_agent() {
  static const std::string agent = fmt::format("lakeflow-cpp/{}", LAKEFLOW_VERSION);
  return agent;
}

ClientConfig ClientConfig::from_options(const Options& options) {
  using std::chrono::duration_cast;
  ClientConfig config;
  RetryConfig& retry = config.retry;
  retry.max_attempts = static_cast<int>(options.get_int("http.max_attempts", 5, 1, 100));
  retry.max_elapsed = options.get_duration("http.max_elapsed", retry.max_elapsed);
  retry.initial_backoff = options.get_duration("http.backoff_initial", retry.initial_backoff);
  retry.max_backoff = options.get_duration("http.backoff_max", retry.max_backoff);
  retry.max_retry_after = options.get_duration("http.retry_after_max", retry.max_retry_after);
  if (retry.max_backoff < retry.initial_backoff) {
    throw ConfigError(
        fmt::format("option 'http.backoff_max' ({}) is smaller than "
                    "'http.backoff_initial' ({}); make it at least as large",
                    option_duration(retry.max_backoff), option_duration(retry.initial_backoff)));
  }
  config.connect_timeout = options.get_duration("http.connect_timeout", config.connect_timeout);
  config.timeout = options.get_duration("http.timeout", config.timeout);
  if (config.connect_timeout.count() <= 0 || config.timeout.count() <= 0) {
    throw ConfigError(
        "options 'http.connect_timeout' and 'http.timeout' must be positive "
        "durations such as 10s or 500ms");
  }
  config.low_speed_time = duration_cast<std::chrono::seconds>(
      options.get_duration("http.low_speed_time", config.low_speed_time));
  config.low_speed_limit = options.get_int("http.low_speed_limit", 1, 1, std::int64_t{1} << 40);
  config.rate_limit.requests_per_second =
      get_double(options, "http.rate_limit_per_second", 0, 0, 1e6);
  config.rate_limit.burst =
      static_cast<int>(options.get_int("http.rate_limit_burst", 0, 0, 1000000));
  config.rate_limit.adaptive = options.get_bool("http.adaptive_rate_limit", true);
  config.rate_limit.max_wait = retry.max_retry_after;
  config.ca_bundle = options.get_string("http.ca_bundle", "");
  config.insecure_skip_tls_verify = options.get_bool("http.insecure_skip_tls_verify", false);
  config.proxy = options.get_string("http.proxy", "");
  config.max_response_bytes = options.get_int("http.max_response_bytes", config.max_response_bytes,
                                              1, std::int64_t{1} << 40);
  if (const auto base_url = options.find("base_url"); base_url && !base_url->empty()) {
    try {
      config.credential_origins.push_back(origin_of(*base_url));
    } catch (const ConfigError& error) {
      throw ConfigError(fmt::format("option 'base_url': {}", error.what()));
    }
  }
  for (const std::string& item : options.get_list("http.allowed_origins", {})) {
    const Origin origin = parse_origin(item, "http.allowed_origins");
    if (std::find(config.credential_origins.begin(), config.credential_origins.end(), origin) ==
        config.credential_origins.end()) {
      config.credential_origins.push_back(origin);
    }
  }
  return config;
}

struct HttpClient::Handle {
  CURL* curl = nullptr;
  Handle() : curl(curl_easy_init()) {
    if (curl == nullptr) throw Error(ErrorCode::kInternal, "libcurl could not create a handle");
  }
  ~Handle() { curl_easy_cleanup(curl); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

// One request and the redirects it was sent on; the fields describe the last hop.
struct HttpClient::Attempt {
  CURLcode code = CURLE_OK;
  std::string error;  // libcurl's description of `code`
  bool too_large = false;
  int status = 0;
  Headers headers;
  std::string body;
  std::string redirect_url;  // the Location of a redirect, resolved
  milliseconds duration{0};
  std::string url;           // the hop's URL as the caller would see it: without credentials
  Request sent;              // the hop as sent, credentials included
  bool credentials = false;  // the auth provider's credentials went with the hop
  bool withheld = false;     // ... and would have, had the hop's origin been a credential origin
  Origin origin;             // the hop's
  std::string refused;       // why a redirect was not followed; empty when none was refused
};

HttpClient::HttpClient(ClientConfig config, std::shared_ptr<AuthProvider> auth,
                       ClientContext context)
    : config_(std::move(config)),
      auth_(std::move(auth)),
      context_(std::move(context)),
      logger_(context_.logger()),
      retry_(config_.retry, context_.jitter_seed) {
  ensure_curl_initialized();
  // NoAuth adds nothing: without a provider, no request counts as sent without credentials.
  if (dynamic_cast<const NoAuth*>(auth_.get()) != nullptr) auth_.reset();
  credential_origins_ = config_.credential_origins;
  if (!context_.clock) context_.clock = Clock::system();
  if (!context_.redactor) context_.redactor = std::make_shared<Redactor>();
  logger_ = context_.logger();
  rate_limiter_ = context_.rate_limiter;
  if (!rate_limiter_) {
    rate_limiter_ = std::make_shared<RateLimiter>(config_.rate_limit, context_.clock, logger_);
  }
  if (config_.insecure_skip_tls_verify) {
    logger_.warning(
        "TLS certificate and host name verification is OFF (http.insecure_skip_tls_verify=true): "
        "anyone on the network path can read and alter this connector's traffic, credentials "
        "included. Use it only against a test server; prefer http.ca_bundle.");
  }
}

HttpClient::~HttpClient() = default;

std::shared_ptr<HttpClient> HttpClient::from_options(const Options& options,
                                                     const std::vector<std::string>& secret_keys,
                                                     ClientContext context) {
  ClientConfig config = ClientConfig::from_options(options);
  if (!context.redactor) context.redactor = std::make_shared<Redactor>();
  if (!context.clock) context.clock = Clock::system();
  context.redactor->add_secret_options(options, secret_keys);
  if (!context.rate_limiter) {
    context.rate_limiter =
        std::make_shared<RateLimiter>(config.rate_limit, context.clock, context.logger());
  }
  auto token_client = std::make_shared<HttpClient>(config, nullptr, context);
  auto auth = make_auth_provider(options, token_client, *context.redactor);
  return std::make_shared<HttpClient>(std::move(config), std::move(auth), std::move(context));
}

std::unique_ptr<HttpClient::Handle> HttpClient::take_handle() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_handles_.empty()) {
      std::unique_ptr<Handle> handle = std::move(idle_handles_.back());
      idle_handles_.pop_back();
      return handle;
    }
  }
  return std::make_unique<Handle>();
}

void HttpClient::return_handle(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(pool_mutex_);
  idle_handles_.push_back(std::move(handle));
}

bool HttpClient::is_credential_origin(const Origin& origin) {
  {
    std::lock_guard lock(origins_mutex_);
    if (!credential_origins_.empty()) {
      return std::find(credential_origins_.begin(), credential_origins_.end(), origin) !=
             credential_origins_.end();
    }
    credential_origins_.push_back(origin);
  }
  logger_.debug(fmt::format(
      "credentials go to {} only, the origin of this client's first request (neither base_url "
      "nor http.allowed_origins names one)",
      origin.to_string()));
  return true;
}

std::vector<Origin> HttpClient::credential_origins() const {
  std::lock_guard lock(origins_mutex_);
  return credential_origins_;
}

HttpClient::Attempt HttpClient::exchange(const Request& request, int attempt_number) {
  const std::string_view method = to_string(request.method);
  Request hop = request;  // as the caller wrote it: no credentials
  const Origin first = origin_of(request.url);
  for (int redirects = 0;; ++redirects) {
    Origin origin = origin_of(hop.url);
    if (origin != first) {
      // The caller set these for the request's own origin (as libcurl keeps them there).
      remove_header(hop.headers, "Authorization");
      remove_header(hop.headers, "Cookie");
    }
    Request wire = hop;
    const bool credentials = auth_ && is_credential_origin(origin);
    if (credentials) auth_->apply(wire);
    const std::string host = host_key(hop.url);
    rate_limiter_->acquire(host);
    if (logger_.enabled(LogLevel::kDebug)) {
      std::string lines;
      for (const auto& [name, value] : wire.headers)
        lines += fmt::format("\n  {}: {}", name, value);
      logger_.debug(fmt::format("{} {} (attempt {}{}){}{}", method, wire.url, attempt_number,
                                redirects > 0 ? fmt::format(", redirect {}", redirects) : "",
                                auth_ && !credentials
                                    ? fmt::format(" without credentials: {} is not a credential "
                                                  "origin",
                                                  origin.to_string())
                                    : "",
                                lines));
    }
    Attempt attempt =
        context_.transport ? perform_through(*context_.transport, wire) : perform(wire);
    if (attempt.code == CURLE_OK) {
      rate_limiter_->observe(host, attempt.headers);
      logger_.debug(fmt::format("{} {} -> {}: {} bytes in {}", method, wire.url,
                                status_text(attempt.status), attempt.body.size(),
                                format_duration(attempt.duration)));
    }
    attempt.url = hop.url;
    attempt.sent = std::move(wire);
    attempt.credentials = credentials;
    attempt.withheld = auth_ && !credentials;
    attempt.origin = std::move(origin);
    if (attempt.code != CURLE_OK || !is_followed_redirect(attempt.status) ||
        attempt.redirect_url.empty()) {
      return attempt;
    }
    attempt.refused = redirect_refusal(attempt.origin, attempt.redirect_url, redirects + 1);
    if (!attempt.refused.empty()) return attempt;
    // RFC 9110 §15.4: 303 continues as a GET, and so do 301 and 302 after a POST (as libcurl and
    // browsers do); 307 and 308 repeat the request.
    if ((attempt.status == 303 && hop.method != Method::kHead) ||
        ((attempt.status == 301 || attempt.status == 302) && hop.method == Method::kPost)) {
      hop.method = Method::kGet;
      hop.body.clear();
      remove_header(hop.headers, "Content-Type");
    }
    hop.url = std::move(attempt.redirect_url);
  }
}

HttpClient::Attempt HttpClient::perform(const Request& request) {
  std::unique_ptr<Handle> handle = take_handle();
  CURL* curl = handle->curl;
  // Resetting options keeps the handle's live connections, DNS and TLS session caches.
  curl_easy_reset(curl);

  Transfer transfer;
  transfer.curl = curl;
  transfer.max_bytes = config_.max_response_bytes;
  char error[CURL_ERROR_SIZE] = {};
  HeaderList headers;
  for (const auto& [name, value] : request.headers) headers.add(name + ": " + value);

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);   // exchange() follows, hop by hop
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl can decode
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT,
                   config_.user_agent_suffix.empty()
                       ? std::string(user_agent()).c_str()
                       : fmt::format("{} {}", user_agent(), config_.user_agent_suffix).c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  if (config_.low_speed_time.count() > 0) {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(config_.low_speed_time.count()));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(config_.low_speed_limit));
  }
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, config_.insecure_skip_tls_verify ? 0L : 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, config_.insecure_skip_tls_verify ? 0L : 2L);
  if (!config_.ca_bundle.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_bundle.c_str());
  if (!config_.proxy.empty()) curl_easy_setopt(curl, CURLOPT_PROXY, config_.proxy.c_str());

  switch (request.method) {
    case Method::kGet:
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
      break;
    case Method::kHead:
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
      break;
    case Method::kPost:
    case Method::kPut:
    case Method::kPatch:
    case Method::kDelete:
      if (request.method != Method::kPost) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST,
                         std::string(to_string(request.method)).c_str());
      }
      if (request.method != Method::kDelete || !request.body.empty()) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        headers.add("Expect:");  // no 100-continue round trip
      }
      break;
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);

  Attempt attempt;
  attempt.code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  char* redirect = nullptr;
  curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &redirect);
  curl_off_t micros = 0;
  curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &micros);
  attempt.status = static_cast<int>(status);
  if (redirect != nullptr) attempt.redirect_url = redirect;
  attempt.duration = milliseconds(micros / 1000);
  attempt.error = error[0] != '\0' ? error : curl_easy_strerror(attempt.code);
  attempt.too_large = transfer.too_large;
  attempt.headers = std::move(transfer.headers);
  attempt.body = std::move(transfer.body);
  // Unset the options that point into this frame before the handle goes back to the pool.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  return_handle(std::move(handle));
  return attempt;
}

HttpClient::Attempt HttpClient::perform_through(Transport& transport, const Request& request) {
  Attempt attempt;
  const LiveExchange live = [&](const Request& wire) -> std::optional<WireResponse> {
    attempt = perform(wire);
    if (attempt.code != CURLE_OK) return std::nullopt;
    return WireResponse{attempt.status, attempt.headers, attempt.body};
  };
  std::optional<WireResponse> response = transport.exchange(request, logger_.redactor(), live);
  if (!response) return attempt;  // the network failure `live` met
  attempt = Attempt{};
  attempt.status = response->status;
  attempt.headers = std::move(response->headers);
  attempt.body = std::move(response->body);
  // As from the network: room for RecordBatch::kPadding, so adopting the body never copies it.
  attempt.body.reserve(attempt.body.size() + RecordBatch::kPadding);
  if (is_followed_redirect(attempt.status)) {
    if (auto location = find_header(attempt.headers, "location")) {
      attempt.redirect_url = resolve_url(request.url, *location);
    }
  }
  return attempt;
}

Response HttpClient::send(Request request) {
  const bool idempotent = request.is_idempotent();
  const std::string method(to_string(request.method));
  const auto start = context_.clock->now();
  const RetryConfig& budget = retry_.config();
  int attempts = 0;  // requests sent
  int failures = 0;  // attempts that count against max_attempts
  bool refreshed = false;

  for (;;) {
    ++attempts;
    Attempt attempt = exchange(request, attempts);

    std::optional<Failure> failure;
    std::optional<milliseconds> retry_after;
    if (attempt.code != CURLE_OK) {
      const std::string what = attempt.error;
      switch (attempt.code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
          throw ConfigError(logger_.redactor().redact(fmt::format(
              "{} {}: {}; give a full http:// or https:// URL", method, request.url, what)));
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
          failure = Failure{FailureKind::kConnect, fmt::format("could not connect ({})", what),
                            "Check that the host in the URL is right and reachable from here, and "
                            "the proxy settings (http.proxy, https_proxy, no_proxy)."};
          break;
        case CURLE_OPERATION_TIMEDOUT:
          failure = Failure{FailureKind::kTransient, fmt::format("timed out ({})", what),
                            fmt::format("The source is slow or stalled; raise http.timeout (now "
                                        "{}) or http.connect_timeout (now {}) if it is just slow.",
                                        option_duration(config_.timeout),
                                        option_duration(config_.connect_timeout))};
          break;
        case CURLE_PARTIAL_FILE:
          failure =
              Failure{FailureKind::kTransient, fmt::format("the body was cut short ({})", what),
                      "The connection dropped mid-response; check the network or proxy."};
          break;
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_BAD_CONTENT_ENCODING:
          failure = Failure{FailureKind::kTransient, fmt::format("network error ({})", what),
                            "The connection failed; check the network, the proxy and the source's "
                            "status."};
          break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
          failure = Failure{FailureKind::kFinal, fmt::format("TLS verification failed ({})", what),
                            "Set http.ca_bundle to a PEM file holding the CA that signed the "
                            "server's certificate. Only against a test server, "
                            "http.insecure_skip_tls_verify=true turns verification off."};
          break;
        case CURLE_WRITE_ERROR:
          if (attempt.too_large) {
            failure = Failure{FailureKind::kFinal,
                              fmt::format("the response is larger than http.max_response_bytes "
                                          "({} bytes)",
                                          config_.max_response_bytes),
                              "Ask for smaller pages, or raise http.max_response_bytes."};
            break;
          }
          [[fallthrough]];
        default:
          failure = Failure{FailureKind::kFinal, fmt::format("request failed ({})", what), ""};
          break;
      }
    } else if (!attempt.refused.empty()) {
      failure = Failure{
          FailureKind::kFinal,
          fmt::format("{} redirect not followed: {}", status_text(attempt.status), attempt.refused),
          "Check the URL (the source may have moved), or ask the source's "
          "operators about the redirect."};
    } else if (attempt.status == 401 && attempt.credentials && !refreshed &&
               auth_->refresh_after_rejection(attempt.sent)) {
      refreshed = true;
      logger_.info(fmt::format("{} {} -> {}: fetched new credentials; sending it once more", method,
                               request.url, status_text(attempt.status)));
      continue;
    } else if (attempt.status < 200 || attempt.status >= 300) {
      if (auto value = find_header(attempt.headers, "retry-after")) {
        retry_after = parse_retry_after(*value, context_.clock->wall_now());
      }
      // A 403 that is a rate limit (GitHub's primary limit: X-RateLimit-Remaining 0 until
      // X-RateLimit-Reset; its secondary limits: Retry-After) is waited out like a 429.
      const bool rate_limited_403 =
          attempt.status == 403 &&
          (retry_after.has_value() ||
           find_header(attempt.headers, "x-ratelimit-remaining") == std::string_view("0"));
      if (rate_limited_403 && !retry_after) {
        if (auto reset = find_header(attempt.headers, "x-ratelimit-reset")) {
          std::int64_t epoch = 0;
          const auto [end, error] =
              std::from_chars(reset->data(), reset->data() + reset->size(), epoch);
          if (error == std::errc() && end == reset->data() + reset->size()) {
            const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                context_.clock->wall_now().time_since_epoch());
            retry_after = milliseconds(std::max<std::int64_t>(epoch - now.count(), 0) * 1000);
          }
        }
      }
      std::string reason = status_text(attempt.status);
      if (!attempt.body.empty()) {
        reason += fmt::format(" (response: {})", logger_.redactor().excerpt(attempt.body));
      }
      std::string advice;
      const int status = attempt.status;
      if ((status == 401 || status == 403) && attempt.withheld) {
        advice = fmt::format(
            "The request went to {} without credentials: credentials go only to the origin of "
            "base_url and those in http.allowed_origins. If {} belongs to the source, add it to "
            "http.allowed_origins.",
            attempt.origin.to_string(), attempt.origin.to_string());
      } else if (status == 401) {
        advice = fmt::format(
            "The source rejected the credentials{} ({}); check the auth.* "
            "options.",
            refreshed ? ", even freshly fetched ones" : "",
            auth_ ? auth_->describe() : "no authentication configured");
      } else if (rate_limited_403) {
        advice = fmt::format(
            "The source's rate limit was still exhausted after {} attempts; wait for it to reset, "
            "or allow longer waits with http.retry_after_max (now {}) and http.max_elapsed.",
            attempts, option_duration(budget.max_retry_after));
      } else if (status == 403) {
        advice =
            "The credentials are valid but lack permission for this resource; check the "
            "scopes or roles granted to them.";
      } else if (status == 404 || status == 410) {
        advice = "Check the URL: the base URL option and the table's resource path.";
      } else if (status >= 400 && status < 500 && status != 408 && status != 429) {
        advice = "The source rejected the request; its response above says why.";
      } else {
        advice = fmt::format(
            "The source kept failing; it may be down or overloaded. Try again "
            "later, or allow more retries with http.max_attempts (now {}) and "
            "http.max_elapsed (now {}).",
            budget.max_attempts, option_duration(budget.max_elapsed));
      }
      // A status worth retrying only for idempotent requests is "transient": the message then
      // says why this request was not retried.
      const FailureKind kind = rate_limited_403                          ? FailureKind::kStatus
                               : is_retriable_status(status, idempotent) ? FailureKind::kStatus
                               : is_retriable_status(status, true)       ? FailureKind::kTransient
                                                                         : FailureKind::kFinal;
      failure = Failure{kind, std::move(reason), std::move(advice)};
    } else if (request.check_body) {
      Response candidate{attempt.status, std::move(attempt.headers), std::move(attempt.body),
                         attempt.url, attempts};
      if (auto problem = request.check_body(candidate)) {
        attempt.body = std::move(candidate.body);
        failure = Failure{FailureKind::kTransient, *problem,
                          "The source sent an unusable response; if it keeps doing so, report it "
                          "to the source's operators."};
      } else {
        return candidate;
      }
    } else {
      return Response{attempt.status, std::move(attempt.headers), std::move(attempt.body),
                      std::move(attempt.url), attempts};
    }

    // A failed attempt: retry it, or give up with everything the user needs to know.
    ++failures;
    const bool retriable = failure->kind == FailureKind::kConnect ||
                           failure->kind == FailureKind::kStatus ||
                           (failure->kind == FailureKind::kTransient && idempotent);
    const auto elapsed = std::chrono::ceil<milliseconds>(context_.clock->now() - start);
    std::string stop;
    milliseconds wait{0};
    if (!retriable) {
      if (failure->kind == FailureKind::kTransient) {
        stop = fmt::format(" ({} requests are not retried: they may have taken effect)", method);
      }
    } else if (failures >= budget.max_attempts) {
      stop = fmt::format(" (retry budget spent: http.max_attempts is {})", budget.max_attempts);
    } else {
      wait = retry_.delay(failures, retry_after);
      if (elapsed + wait > budget.max_elapsed) {
        stop = fmt::format(" (retry budget spent: waiting {} more would pass http.max_elapsed, {})",
                           format_duration(wait), option_duration(budget.max_elapsed));
      }
    }
    if (!retriable || !stop.empty()) {
      const std::string url = logger_.redactor().redact(request.url);
      std::string message =
          fmt::format("{} {} failed after {} {} in {}: {}{}.{}{}", method, request.url, attempts,
                      attempts == 1 ? "attempt" : "attempts", format_duration(elapsed),
                      failure->reason, stop, failure->advice.empty() ? "" : " ", failure->advice);
      const bool responded = attempt.code == CURLE_OK;
      throw HttpError(logger_.redactor().redact(message), responded ? attempt.status : 0, url,
                      attempts, responded ? logger_.redactor().excerpt(attempt.body, 1000) : "");
    }
    logger_.warning(fmt::format("{} {}: {}; retrying in {}{} (attempt {} of {} failed)", method,
                                request.url, failure->reason, format_duration(wait),
                                retry_after ? " as the server's Retry-After asks" : "", failures,
                                budget.max_attempts));
    context_.clock->sleep_for(wait);
  }
}

Response HttpClient::get(std::string url, Headers headers) {
  return send(Request::get(std::move(url), std::move(headers)));
}

Response HttpClient::post_form(std::string url,
                               const std::vector<std::pair<std::string, std::string>>& form,
                               Headers headers, bool idempotent) {
  Request request;
  request.method = Method::kPost;
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.body = form_body(form);
  request.idempotent = idempotent;
  return send(std::move(request));
}

}  // namespace lakeflow::http
