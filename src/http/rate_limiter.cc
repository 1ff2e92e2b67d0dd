#include "lakeflow/http/rate_limiter.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace lakeflow::http {
namespace {

using std::chrono::milliseconds;
using Seconds = std::chrono::duration<double>;

// A reset larger than this is a Unix time (GitHub's X-RateLimit-Reset), not a number of seconds.
constexpr double kEpochThreshold = 1e9;

// The leading number of a header value such as `100`, `100, 100;w=60` or `30.5`.
std::optional<double> leading_number(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  double number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (error != std::errc() || end == value.data() || !std::isfinite(number) || number < 0) {
    return std::nullopt;
  }
  return number;
}

struct RateLimitState {
  std::optional<double> limit;
  std::optional<double> remaining;
  std::optional<double> reset;  // seconds, as sent
};

// The structured `RateLimit` header: `limit=100, remaining=5, reset=30` (draft 7) or
// `"policy";r=5;t=30` (draft 8 and later).
void parse_structured(std::string_view value, RateLimitState& state) {
  while (!value.empty()) {
    const std::size_t sep = value.find_first_of(",;");
    std::string_view item = value.substr(0, sep);
    value = sep == std::string_view::npos ? std::string_view() : value.substr(sep + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = item.substr(0, eq);
    const std::optional<double> number = leading_number(item.substr(eq + 1));
    if (!number) continue;
    if (key == "limit") state.limit = number;
    if (key == "remaining" || key == "r") state.remaining = number;
    if (key == "reset" || key == "t") state.reset = number;
  }
}

std::optional<double> header_number(const Headers& headers, std::string_view name) {
  if (auto value = find_header(headers, name)) return leading_number(*value);
  if (auto value = find_header(headers, fmt::format("x-{}", name))) return leading_number(*value);
  return std::nullopt;
}

milliseconds to_millis(double seconds) {
  return milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000)));
}

}  // namespace

TokenBucket::TokenBucket(double requests_per_second, double burst,
                         std::chrono::steady_clock::time_point now)
    : rate_(requests_per_second), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {}

milliseconds TokenBucket::take(std::chrono::steady_clock::time_point now) {
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + rate_ * Seconds(now - last_).count());
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0 || rate_ <= 0) return milliseconds(0);
  return to_millis(-tokens_ / rate_);
}

RateLimiter::RateLimiter(RateLimitConfig config, std::shared_ptr<Clock> clock, Logger logger)
    : config_(config), clock_(std::move(clock)), logger_(std::move(logger)) {}

RateLimiter::HostState& RateLimiter::state(std::string_view host) {
  auto it = hosts_.find(host);
  if (it == hosts_.end()) {
    it = hosts_.emplace(std::string(host), HostState{}).first;
    if (config_.requests_per_second > 0) {
      const double burst =
          config_.burst > 0 ? config_.burst : std::max(1.0, std::ceil(config_.requests_per_second));
      it->second.bucket.emplace(config_.requests_per_second, burst, clock_->now());
    }
  }
  return it->second;
}

milliseconds RateLimiter::reserve(std::string_view host) {
  std::lock_guard lock(mutex_);
  HostState& host_state = state(host);
  const auto now = clock_->now();
  milliseconds wait(0);
  if (host_state.bucket) wait = host_state.bucket->take(now);
  if (host_state.blocked_until > now) {
    wait = std::max(wait, std::chrono::ceil<milliseconds>(host_state.blocked_until - now));
  }
  if (host_state.paced_until > now) {
    const auto send_at = std::max(now + wait, host_state.next_paced);
    wait = std::chrono::ceil<milliseconds>(send_at - now);
    host_state.next_paced = send_at + host_state.pace;
  }
  return std::min(wait, config_.max_wait);
}

void RateLimiter::acquire(std::string_view host) {
  const milliseconds wait = reserve(host);
  if (wait.count() > 0) {
    logger_.debug(
        fmt::format("rate limit: waiting {} ms before the next request to {}", wait.count(), host));
    clock_->sleep_for(wait);
  }
}

void RateLimiter::observe(std::string_view host, const Headers& headers) {
  if (!config_.adaptive) return;
  RateLimitState rate;
  if (auto structured = find_header(headers, "ratelimit")) parse_structured(*structured, rate);
  if (!rate.limit) rate.limit = header_number(headers, "ratelimit-limit");
  if (!rate.remaining) rate.remaining = header_number(headers, "ratelimit-remaining");
  if (!rate.reset) rate.reset = header_number(headers, "ratelimit-reset");
  if (!rate.remaining) return;

  double reset = rate.reset.value_or(0);
  if (reset > kEpochThreshold) {
    const double wall_now =
        std::chrono::duration<double>(clock_->wall_now().time_since_epoch()).count();
    reset = std::max(0.0, reset - wall_now);
  }
  const milliseconds reset_in = std::min(to_millis(reset), config_.max_wait);

  std::lock_guard lock(mutex_);
  HostState& host_state = state(host);
  const auto now = clock_->now();
  const double remaining = *rate.remaining;
  if (remaining < 1) {
    if (reset_in.count() > 0) {
      if (host_state.blocked_until <= now) {
        logger_.info(
            fmt::format("rate limit of {} is used up; holding requests for {} ms until it "
                        "resets",
                        host, reset_in.count()));
      }
      host_state.blocked_until = now + reset_in;
    }
    return;
  }
  const bool low = rate.limit ? remaining < *rate.limit / 10 : remaining < 10;
  if (!low || reset_in.count() <= 0) {
    host_state.paced_until = {};
    return;
  }
  const milliseconds pace = to_millis(reset / remaining);
  if (host_state.paced_until <= now) {
    logger_.info(
        fmt::format("rate limit of {} is running low ({} requests left for {} ms); "
                    "spacing requests {} ms apart",
                    host, remaining, reset_in.count(), pace.count()));
    host_state.next_paced = now;
  }
  host_state.pace = std::min(pace, config_.max_wait);
  host_state.paced_until = now + reset_in;
}

}  // namespace lakeflow::http
