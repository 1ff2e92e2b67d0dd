// Client-side rate limiting, so a sync uses a source's request budget without tripping it.
//
// Each host (`host:port`) gets a token bucket: `requests_per_second` tokens refill continuously up
// to `burst`, and every request takes one, waiting (through the Clock) when none is left. A rate
// of 0 turns the bucket off.
//
// Adaptive slowing reads the rate-limit headers servers send — `RateLimit-Limit`,
// `RateLimit-Remaining`, `RateLimit-Reset` (IETF draft, reset in seconds), the structured
// `RateLimit: limit=100, remaining=5, reset=30`, and the `X-RateLimit-*` forms (a reset larger than
// 10^9 is read as a Unix time, as GitHub sends it):
//   * remaining = 0: requests to that host wait until the reset;
//   * remaining below 10% of the limit (or below 10 when no limit is sent): requests to that host
//     are spaced `reset / remaining` apart until the reset, spreading what is left over the window.
// Waits it imposes are capped at `max_wait`.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "lakeflow/http/clock.h"
#include "lakeflow/http/log.h"
#include "lakeflow/http/message.h"

namespace lakeflow::http {

struct RateLimitConfig {
  double requests_per_second = 0;  // http.rate_limit_per_second; 0 = no limit
  int burst = 0;                   // http.rate_limit_burst; 0 = max(1, ceil(requests_per_second))
  bool adaptive = true;            // http.adaptive_rate_limit
  std::chrono::milliseconds max_wait{std::chrono::minutes(5)};  // http.retry_after_max
};

// A token bucket. Not thread-safe on its own; RateLimiter locks around it.
class TokenBucket {
 public:
  TokenBucket(double requests_per_second, double burst, std::chrono::steady_clock::time_point now);
  // Takes a token, returning how long the caller must wait before sending (zero when one was
  // available). Tokens taken ahead of time are owed, so concurrent callers queue up fairly.
  std::chrono::milliseconds take(std::chrono::steady_clock::time_point now);

 private:
  double rate_;
  double burst_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

// Per-host token buckets plus adaptive slowing. Thread-safe; share one between clients that call
// the same source.
class RateLimiter {
 public:
  RateLimiter(RateLimitConfig config, std::shared_ptr<Clock> clock, Logger logger = {});

  // Waits until a request to `host` may be sent.
  void acquire(std::string_view host);
  // The wait acquire() imposes, taking the token without sleeping.
  std::chrono::milliseconds reserve(std::string_view host);
  // Adapts to the rate-limit headers of a response from `host`.
  void observe(std::string_view host, const Headers& headers);

 private:
  struct HostState {
    std::optional<TokenBucket> bucket;
    std::chrono::steady_clock::time_point blocked_until{};  // remaining = 0
    std::chrono::steady_clock::time_point paced_until{};    // low remaining
    std::chrono::milliseconds pace{0};
    std::chrono::steady_clock::time_point next_paced{};
  };
  HostState& state(std::string_view host);

  RateLimitConfig config_;
  std::shared_ptr<Clock> clock_;
  Logger logger_;
  std::mutex mutex_;
  std::map<std::string, HostState, std::less<>> hosts_;
};

}  // namespace lakeflow::http
