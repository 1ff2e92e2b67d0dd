// The HTTP client every connector uses: libcurl underneath, with retries, rate limiting, auth and
// secret redaction in one place.
//
//   auto client = http::HttpClient::from_options(options);      // http.* and auth.* options
//   http::Response page = client->get(url);                     // retried, rate limited, authed
//   std::string_view text = batch.adopt(std::move(page.body));  // no copy
//
// Options (all optional; durations are `250ms`, `30s`, `5m`, ...):
//   http.max_attempts          requests per call, retries included (default 5, 1..100)
//   http.max_elapsed           retry budget per call: no retry whose wait would end past it (5m)
//   http.backoff_initial       backoff before the first retry, before jitter (1s)
//   http.backoff_max           largest backoff, before jitter (60s)
//   http.retry_after_max       cap on a server's Retry-After and on rate-limit waits (5m)
//   http.connect_timeout       TCP + TLS connect timeout per attempt (10s)
//   http.timeout               total time per attempt, body included (5m)
//   http.low_speed_time        abort an attempt slower than http.low_speed_limit for this long
//                              (30s; whole seconds; 0 turns it off)
//   http.low_speed_limit       bytes per second (default 1, i.e. a stalled transfer)
//   http.rate_limit_per_second requests per second per host (default 0: no limit; decimals ok)
//   http.rate_limit_burst      requests allowed at once before the rate applies (default the rate,
//                              rounded up)
//   http.adaptive_rate_limit   slow down on RateLimit-* / X-RateLimit-* headers (true)
//   http.ca_bundle             PEM file of CA certificates to trust instead of the system's
//   http.insecure_skip_tls_verify  true turns TLS certificate and host verification off (false;
//                              logged as a warning on every client created with it)
//   http.proxy                 proxy URL; without it libcurl honours http_proxy, https_proxy,
//                              no_proxy (and upper-case forms but HTTP_PROXY)
//   http.max_response_bytes    largest decoded body accepted (default 1 GiB)
//   http.allowed_origins       origins besides base_url's that get credentials and whose
//                              next-page links are followed: a comma-separated list of
//                              scheme://host[:port], e.g. `https://files.example.org` (none)
// Auth options (auth.type and friends) are documented in lakeflow/http/auth.h. The option
// `base_url`, when set, names the source's origin (see Credentials).
//
// Credentials: a client sends its credentials (whatever its AuthProvider adds: an Authorization
// header, an API key in a header or in the query) only to its credential origins: the origin
// (scheme, host, port; see Origin in url.h) of option base_url and those in http.allowed_origins.
// A client configured with neither takes the origin of its first request as its only one.
//   - A request the caller sends to another origin goes out without credentials: the caller named
//     that URL (a pre-signed download, a public document). The debug log says so, and a 401 or 403
//     from there names http.allowed_origins.
//   - A PageReader refuses a page on another origin (OriginRefusedError): next links come from
//     responses, and an internal address named by a gateway, a plain-http link on an https API or
//     a hostile link would otherwise take the read, and the credentials, there. A downgrade from
//     https to http on the same host is another origin too.
//   - Token requests are the caller's own: the client credentials a token request carries go to
//     the token endpoint, whatever its origin.
//
// Redirects: the client follows them itself (301, 302, 303, 307, 308; up to 10), so every hop
// obeys the rule above: credentials are added afresh for a hop on a credential origin and left off
// the others, and an Authorization or Cookie header the caller set goes along only while the hops
// stay on the request's own origin. A redirect from https to http is not followed: the request
// fails, naming it. 303, and 301/302 after a POST, continue as a GET without the body. (libcurl's
// own following drops Authorization on another origin but passes every other header, an API key
// included.)
//
// Connections: each client keeps a pool of libcurl easy handles, one per concurrent call, and each
// handle keeps its connections alive between calls. Responses are decoded from every encoding
// libcurl supports (gzip and deflate always; brotli when built with it).
//
// Errors: a call that cannot succeed throws HttpError (a SourceError; code kAccess for 401 and 403)
// once its retries are spent, naming the method, the URL (secrets redacted), the status or network
// error, the attempts made and what to try. Bad options throw ConfigError. Nothing a client logs or
// throws contains a secret the Redactor knows of (see redactor.h).
//
// Thread-safety: an HttpClient may be used from several threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/http/clock.h"
#include "lakeflow/http/log.h"
#include "lakeflow/http/message.h"
#include "lakeflow/http/rate_limiter.h"
#include "lakeflow/http/redactor.h"
#include "lakeflow/http/retry.h"
#include "lakeflow/http/transport.h"
#include "lakeflow/http/url.h"

namespace lakeflow {
class Options;
}

namespace lakeflow::http {

class AuthProvider;

// `lakeflow-cpp/<version>`.
std::string_view user_agent();

struct ClientConfig {
  RetryConfig retry;
  RateLimitConfig rate_limit;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  std::chrono::seconds low_speed_time{30};
  std::int64_t low_speed_limit = 1;
  std::string ca_bundle;
  bool insecure_skip_tls_verify = false;
  std::string proxy;
  std::int64_t max_response_bytes = std::int64_t{1} << 30;
  // Appended to the user agent after a space, e.g. the connector's name.
  std::string user_agent_suffix;
  // Where credentials go (see Credentials above): base_url's origin, then http.allowed_origins.
  // Empty: the origin of the client's first request.
  std::vector<Origin> credential_origins;

  // Reads the http.* options above and base_url; throws ConfigError naming the option.
  static ClientConfig from_options(const Options& options);
};

// What a client shares with the rest of the process; tests inject a ManualClock and a capturing
// log sink here.
struct ClientContext {
  std::shared_ptr<Clock> clock = Clock::system();
  std::shared_ptr<Redactor> redactor = process_redactor();
  LogSink log_sink = stderr_log_sink();
  LogLevel log_level = LogLevel::kInfo;
  // Seeds the backoff jitter; 0 seeds from std::random_device.
  std::uint64_t jitter_seed = 0;
  // Shared between clients that call the same hosts; null makes one from the client's config.
  std::shared_ptr<RateLimiter> rate_limiter;
  // Where requests go: null is the network; a test mode's recorder, replayer or simulator
  // otherwise (see transport.h and test_mode.h).
  std::shared_ptr<Transport> transport = process_transport();

  Logger logger() const { return Logger(log_sink, log_level, redactor); }
};

// A request that failed for good: a non-2xx final response, or a network failure after retries.
// Its code is kAccess for 401 and 403 (the credentials or their permissions must change before a
// rerun can succeed), kSource otherwise.
class HttpError : public SourceError {
 public:
  HttpError(std::string message, int status, std::string url, int attempts,
            std::string body_excerpt = {})
      : SourceError(status == 401 || status == 403 ? ErrorCode::kAccess : ErrorCode::kSource,
                    std::move(message)),
        status_(status),
        url_(std::move(url)),
        attempts_(attempts),
        body_excerpt_(std::move(body_excerpt)) {}

  int status() const { return status_; }           // 0 when no response arrived
  const std::string& url() const { return url_; }  // secrets redacted
  int attempts() const { return attempts_; }
  // The start of the final response's body, secrets redacted; empty without a response.
  const std::string& body_excerpt() const { return body_excerpt_; }

 private:
  int status_;
  std::string url_;
  int attempts_;
  std::string body_excerpt_;
};

// A URL a response named (a next-page link) leads outside the client's credential origins, so it
// is not followed. The message names the link's origin and the option that would allow it; never
// the rest of the link.
class OriginRefusedError : public SourceError {
 public:
  OriginRefusedError(std::string message, Origin origin)
      : SourceError(std::move(message)), origin_(std::move(origin)) {}
  const Origin& origin() const { return origin_; }

 private:
  Origin origin_;
};

class HttpClient {
 public:
  // `auth` may be null (no credentials). Credentials go only to config.credential_origins.
  explicit HttpClient(ClientConfig config, std::shared_ptr<AuthProvider> auth = nullptr,
                      ClientContext context = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // A client configured by `options`: http.* options, the auth provider auth.type names (its
  // token requests go through a second client with the same settings and no auth), and every
  // auth.* secret plus the values of `secret_keys` registered with the context's redactor.
  static std::shared_ptr<HttpClient> from_options(const Options& options,
                                                  const std::vector<std::string>& secret_keys = {},
                                                  ClientContext context = {});

  // Sends `request` with credentials, rate limiting and retries. Returns the 2xx response;
  // throws HttpError for anything else once retries are spent (see retry.h for what is retried),
  // and ConfigError for a malformed URL.
  Response send(Request request);

  Response get(std::string url, Headers headers = {});
  // POSTs an application/x-www-form-urlencoded body.
  Response post_form(std::string url, const std::vector<std::pair<std::string, std::string>>& form,
                     Headers headers = {}, bool idempotent = false);

  // Whether `origin` is one of the credential origins (see Credentials above). A client without
  // configured ones adopts `origin` when this is the first origin it meets.
  bool is_credential_origin(const Origin& origin);
  // The credential origins, for messages; empty before a client without configured ones has
  // sent anything.
  std::vector<Origin> credential_origins() const;

  const ClientConfig& config() const { return config_; }
  const ClientContext& context() const { return context_; }
  const Logger& logger() const { return logger_; }

 private:
  struct Handle;
  struct Attempt;
  Attempt exchange(const Request& request, int attempt_number);
  Attempt perform(const Request& request);
  Attempt perform_through(Transport& transport, const Request& request);
  std::unique_ptr<Handle> take_handle();
  void return_handle(std::unique_ptr<Handle> handle);

  ClientConfig config_;
  std::shared_ptr<AuthProvider> auth_;
  ClientContext context_;
  Logger logger_;
  RetryPolicy retry_;
  std::shared_ptr<RateLimiter> rate_limiter_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Handle>> idle_handles_;
  mutable std::mutex origins_mutex_;
  std::vector<Origin> credential_origins_;
};

}  // namespace lakeflow::http
