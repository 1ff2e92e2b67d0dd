#include "lakeflow/http/retry.h"

#include <gtest/gtest.h>

#include <set>

#include "lakeflow/error.h"
#include "lakeflow/http/client.h"
#include "lakeflow/options.h"

namespace lakeflow::http {
namespace {

using namespace std::chrono_literals;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1704067200));

TEST(Retry, RetriableStatusesDependOnIdempotency) {
  for (int status : {408, 429, 500, 502, 503, 504}) {
    EXPECT_TRUE(is_retriable_status(status, true)) << status;
  }
  for (int status : {200, 400, 401, 403, 404, 501}) {
    EXPECT_FALSE(is_retriable_status(status, true)) << status;
  }
  EXPECT_TRUE(is_retriable_status(429, false));
  EXPECT_FALSE(is_retriable_status(503, false));
}

TEST(Retry, ParsesRetryAfterSecondsAndDates) {
  EXPECT_EQ(parse_retry_after("120", kNow), 120000ms);
  EXPECT_EQ(parse_retry_after(" 0 ", kNow), 0ms);
  EXPECT_EQ(parse_retry_after("Mon, 01 Jan 2024 00:01:00 GMT", kNow), 60000ms);
  EXPECT_EQ(parse_retry_after("Monday, 01-Jan-24 00:00:30 GMT", kNow), 30000ms);  // RFC 850
  EXPECT_EQ(parse_retry_after("Mon Jan  1 00:00:05 2024", kNow), 5000ms);         // asctime
  EXPECT_EQ(parse_retry_after("Sun, 31 Dec 2023 23:00:00 GMT", kNow), 0ms);       // past
  EXPECT_EQ(parse_retry_after("99999999999999999999", kNow), 365LL * 24 * 3600 * 1000ms);
  EXPECT_EQ(parse_retry_after("soon", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("", kNow), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", kNow), std::nullopt);
}

TEST(Retry, BackoffIsFullJitterUnderAnExponentialCap) {
  RetryPolicy policy(RetryConfig{10, 1h, 100ms, 1000ms, 1h}, 7);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const auto first = policy.backoff(1);
    const auto third = policy.backoff(3);
    const auto tenth = policy.backoff(10);
    EXPECT_GE(first, 0ms);
    EXPECT_LE(first, 100ms);
    EXPECT_LE(third, 400ms);
    EXPECT_LE(tenth, 1000ms);
    seen.insert(tenth.count());
  }
  EXPECT_GT(seen.size(), 50u);  // really random, not a constant
}

TEST(Retry, SameSeedSameDelays) {
  RetryPolicy a(RetryConfig{}, 99);
  RetryPolicy b(RetryConfig{}, 99);
  for (int retry = 1; retry < 6; ++retry) EXPECT_EQ(a.backoff(retry), b.backoff(retry));
}

TEST(Retry, DelayPrefersRetryAfterCappedAtTheMaximum) {
  RetryPolicy policy(RetryConfig{5, 1h, 1s, 60s, 30s}, 1);
  EXPECT_EQ(policy.delay(1, 12s), 12000ms);
  EXPECT_EQ(policy.delay(1, 1h), 30000ms);
  EXPECT_EQ(policy.delay(1, 0ms), 0ms);
  EXPECT_LE(policy.delay(1, std::nullopt), 1000ms);
}

TEST(ClientConfig, ReadsEveryHttpOption) {
  const Options options{{"http.max_attempts", "7"},
                        {"http.max_elapsed", "2m"},
                        {"http.backoff_initial", "250ms"},
                        {"http.backoff_max", "10s"},
                        {"http.retry_after_max", "90s"},
                        {"http.connect_timeout", "3s"},
                        {"http.timeout", "45s"},
                        {"http.low_speed_time", "20s"},
                        {"http.low_speed_limit", "10"},
                        {"http.rate_limit_per_second", "2.5"},
                        {"http.rate_limit_burst", "4"},
                        {"http.adaptive_rate_limit", "false"},
                        {"http.ca_bundle", "/etc/ca.pem"},
                        {"http.insecure_skip_tls_verify", "no"},
                        {"http.proxy", "http://proxy:3128"},
                        {"http.max_response_bytes", "1000000"}};
  const ClientConfig config = ClientConfig::from_options(options);
  EXPECT_EQ(config.retry.max_attempts, 7);
  EXPECT_EQ(config.retry.max_elapsed, 120s);
  EXPECT_EQ(config.retry.initial_backoff, 250ms);
  EXPECT_EQ(config.retry.max_backoff, 10s);
  EXPECT_EQ(config.retry.max_retry_after, 90s);
  EXPECT_EQ(config.connect_timeout, 3s);
  EXPECT_EQ(config.timeout, 45s);
  EXPECT_EQ(config.low_speed_time, 20s);
  EXPECT_EQ(config.low_speed_limit, 10);
  EXPECT_DOUBLE_EQ(config.rate_limit.requests_per_second, 2.5);
  EXPECT_EQ(config.rate_limit.burst, 4);
  EXPECT_FALSE(config.rate_limit.adaptive);
  EXPECT_EQ(config.rate_limit.max_wait, 90s);
  EXPECT_EQ(config.ca_bundle, "/etc/ca.pem");
  EXPECT_FALSE(config.insecure_skip_tls_verify);
  EXPECT_EQ(config.proxy, "http://proxy:3128");
  EXPECT_EQ(config.max_response_bytes, 1000000);
}

TEST(ClientConfig, DefaultsWithoutOptions) {
  const ClientConfig config = ClientConfig::from_options(Options{});
  EXPECT_EQ(config.retry.max_attempts, 5);
  EXPECT_EQ(config.retry.max_elapsed, 5min);
  EXPECT_EQ(config.rate_limit.requests_per_second, 0);
  EXPECT_TRUE(config.rate_limit.adaptive);
  EXPECT_FALSE(config.insecure_skip_tls_verify);
}

TEST(ClientConfig, BadOptionsAreConfigErrorsNamingTheOption) {
  auto message = [](Options options) -> std::string {
    try {
      ClientConfig::from_options(options);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(message({{"http.max_attempts", "0"}}).find("http.max_attempts"), std::string::npos);
  EXPECT_NE(message({{"http.rate_limit_per_second", "fast"}}).find("http.rate_limit_per_second"),
            std::string::npos);
  EXPECT_NE(message({{"http.rate_limit_per_second", "-1"}}).find("expected a number"),
            std::string::npos);
  EXPECT_NE(message({{"http.timeout", "0s"}}).find("http.timeout"), std::string::npos);
  EXPECT_NE(message({{"http.backoff_initial", "10s"}, {"http.backoff_max", "1s"}})
                .find("http.backoff_max"),
            std::string::npos);
  EXPECT_NE(
      message({{"http.insecure_skip_tls_verify", "maybe"}}).find("http.insecure_skip_tls_verify"),
      std::string::npos);
}

}  // namespace
}  // namespace lakeflow::http
