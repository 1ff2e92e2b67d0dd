// When and how long to wait before sending a failed request again.
//
// A request is retried when it failed in a way that is likely transient and sending it again is
// safe:
//   * network errors (connection refused or reset, DNS failure, TLS handshake error), timeouts and
//     truncated bodies (fewer bytes than Content-Length), for idempotent requests; a request that
//     is not idempotent is retried only when it cannot have reached the server (connect failures);
//   * HTTP 408, 429, 500, 502, 503 and 504 for idempotent requests, and 429 for any request (the
//     server says it did not process it);
//   * a 2xx response whose body a Request::check_body rejected, for idempotent requests.
// The wait is the server's `Retry-After` (seconds or HTTP-date), capped at `max_retry_after`, when
// it sent one; otherwise exponential backoff with full jitter: uniform in
// [0, min(max_backoff, initial_backoff * 2^(retry - 1))]. Retries stop after `max_attempts`
// requests, or when the next wait would take the whole operation past `max_elapsed`.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>

namespace lakeflow::http {

struct RetryConfig {
  int max_attempts = 5;                                                // http.max_attempts
  std::chrono::milliseconds max_elapsed{std::chrono::minutes(5)};      // http.max_elapsed
  std::chrono::milliseconds initial_backoff{1000};                     // http.backoff_initial
  std::chrono::milliseconds max_backoff{60000};                        // http.backoff_max
  std::chrono::milliseconds max_retry_after{std::chrono::minutes(5)};  // http.retry_after_max
};

// Whether a response status is worth retrying (see above).
bool is_retriable_status(int status, bool idempotent);

// The wait a `Retry-After` value asks for: delay-seconds (`120`) or an HTTP-date
// (`Wed, 21 Oct 2015 07:28:00 GMT`, also the obsolete RFC 850 and asctime forms) relative to
// `now`. A date in the past means no wait. nullopt when the value is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// Backoff with full jitter. Thread-safe.
class RetryPolicy {
 public:
  // `seed` 0 seeds the jitter from std::random_device.
  explicit RetryPolicy(RetryConfig config = {}, std::uint64_t seed = 0);

  const RetryConfig& config() const { return config_; }

  // The jittered backoff before retry number `retry` (1 for the first retry).
  std::chrono::milliseconds backoff(int retry);
  // The wait before retry number `retry`: `retry_after` capped at max_retry_after when the server
  // sent one, else backoff(retry).
  std::chrono::milliseconds delay(int retry, std::optional<std::chrono::milliseconds> retry_after);

 private:
  RetryConfig config_;
  std::mutex mutex_;
  std::mt19937_64 random_;
};

}  // namespace lakeflow::http
