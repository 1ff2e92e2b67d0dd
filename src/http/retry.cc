#include "lakeflow/http/retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <string>

namespace lakeflow::http {

bool is_retriable_status(int status, bool idempotent) {
  if (status == 429) return true;
  if (!idempotent) return false;
  return status == 408 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // delay-seconds; anything beyond a year is as good as a year (the caller caps it anyway).
    constexpr std::int64_t kYear = 365LL * 24 * 3600;
    std::int64_t seconds = 0;
    for (char c : value) {
      seconds = std::min(kYear, seconds * 10 + (c - '0'));
    }
    return std::chrono::milliseconds(seconds * 1000);
  }
  const std::string text(value);
  const time_t date = curl_getdate(text.c_str(), nullptr);
  if (date == -1) return std::nullopt;
  const auto target = std::chrono::system_clock::from_time_t(date);
  if (target <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(target - now);
}

RetryPolicy::RetryPolicy(RetryConfig config, std::uint64_t seed)
    : config_(config), random_(seed != 0 ? seed : std::random_device{}()) {}

std::chrono::milliseconds RetryPolicy::backoff(int retry) {
  std::int64_t cap = std::max<std::int64_t>(0, config_.initial_backoff.count());
  const std::int64_t max = std::max<std::int64_t>(0, config_.max_backoff.count());
  for (int i = 1; i < retry && cap < max; ++i) cap *= 2;
  cap = std::min(cap, max);
  if (cap <= 0) return std::chrono::milliseconds(0);
  std::uniform_int_distribution<std::int64_t> uniform(0, cap);
  std::lock_guard lock(mutex_);
  return std::chrono::milliseconds(uniform(random_));
}

std::chrono::milliseconds RetryPolicy::delay(int retry,
                                             std::optional<std::chrono::milliseconds> retry_after) {
  if (retry_after) return std::min(*retry_after, config_.max_retry_after);
  return backoff(retry);
}

}  // namespace lakeflow::http
