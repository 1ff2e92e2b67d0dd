#include "lakeflow/http/rate_limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lakeflow::http {
namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;

RateLimitConfig rate(double per_second, int burst) {
  RateLimitConfig config;
  config.requests_per_second = per_second;
  config.burst = burst;
  return config;
}

TEST(TokenBucket, AllowsABurstThenTheRate) {
  const auto start = std::chrono::steady_clock::time_point(100s);
  TokenBucket bucket(10, 3, start);
  EXPECT_EQ(bucket.take(start), 0ms);
  EXPECT_EQ(bucket.take(start), 0ms);
  EXPECT_EQ(bucket.take(start), 0ms);
  EXPECT_EQ(bucket.take(start), 100ms);     // owed: the next token arrives in 100 ms
  EXPECT_EQ(bucket.take(start), 200ms);     // queued behind it
  EXPECT_EQ(bucket.take(start + 1s), 0ms);  // refilled (up to the burst)
}

TEST(RateLimiter, KeepsOneBucketPerHost) {
  auto clock = std::make_shared<ManualClock>();
  RateLimiter limiter(rate(2, 1), clock);
  EXPECT_EQ(limiter.reserve("a:443"), 0ms);
  EXPECT_EQ(limiter.reserve("b:443"), 0ms);
  EXPECT_EQ(limiter.reserve("a:443"), 500ms);
  limiter.acquire("b:443");
  EXPECT_THAT(clock->sleeps(), ElementsAre(500ms));
}

TEST(RateLimiter, NoLimitWithoutARate) {
  auto clock = std::make_shared<ManualClock>();
  RateLimiter limiter(rate(0, 0), clock);
  for (int i = 0; i < 100; ++i) limiter.acquire("h:80");
  EXPECT_TRUE(clock->sleeps().empty());
}

TEST(RateLimiter, DefaultBurstIsTheRateRoundedUp) {
  auto clock = std::make_shared<ManualClock>();
  RateLimiter limiter(rate(2.5, 0), clock);
  EXPECT_EQ(limiter.reserve("h:80"), 0ms);
  EXPECT_EQ(limiter.reserve("h:80"), 0ms);
  EXPECT_EQ(limiter.reserve("h:80"), 0ms);
  EXPECT_EQ(limiter.reserve("h:80"), 400ms);
}

TEST(RateLimiter, WaitsForTheResetWhenNothingRemains) {
  auto clock = std::make_shared<ManualClock>();
  RateLimiter limiter(rate(0, 0), clock);
  limiter.observe("h:443", {{"ratelimit-remaining", "0"}, {"ratelimit-reset", "30"}});
  EXPECT_EQ(limiter.reserve("h:443"), 30000ms);
  EXPECT_EQ(limiter.reserve("other:443"), 0ms);
  clock->advance(30s);
  EXPECT_EQ(limiter.reserve("h:443"), 0ms);
}

TEST(RateLimiter, ReadsGithubStyleEpochResets) {
  auto clock = std::make_shared<ManualClock>();  // wall time 1704067200
  RateLimiter limiter(rate(0, 0), clock);
  limiter.observe("h:443", {{"X-RateLimit-Limit", "5000"},
                            {"X-RateLimit-Remaining", "0"},
                            {"X-RateLimit-Reset", "1704067260"}});
  EXPECT_EQ(limiter.reserve("h:443"), 60000ms);
}

TEST(RateLimiter, SpreadsTheLastRequestsOverTheWindow) {
  auto clock = std::make_shared<ManualClock>();
  RateLimiter limiter(rate(0, 0), clock);
  // Structured header (draft 7): 4 of 100 left for 20 s → one every 5 s.
  limiter.observe("h:443", {{"RateLimit", "limit=100, remaining=4, reset=20"}});
  EXPECT_EQ(limiter.reserve("h:443"), 0ms);
  EXPECT_EQ(limiter.reserve("h:443"), 5000ms);
  EXPECT_EQ(limiter.reserve("h:443"), 10000ms);
  // Plenty left: no pacing.
  limiter.observe("h:443", {{"RateLimit", "limit=100, remaining=90, reset=20"}});
  EXPECT_EQ(limiter.reserve("h:443"), 0ms);
  EXPECT_EQ(limiter.reserve("h:443"), 0ms);
}

TEST(RateLimiter, AdaptiveSlowingCanBeTurnedOffAndIsCapped) {
  auto clock = std::make_shared<ManualClock>();
  RateLimitConfig off = rate(0, 0);
  off.adaptive = false;
  RateLimiter ignoring(off, clock);
  ignoring.observe("h:443", {{"ratelimit-remaining", "0"}, {"ratelimit-reset", "30"}});
  EXPECT_EQ(ignoring.reserve("h:443"), 0ms);

  RateLimitConfig capped = rate(0, 0);
  capped.max_wait = 10s;
  RateLimiter limiter(capped, clock);
  limiter.observe("h:443", {{"ratelimit-remaining", "0"}, {"ratelimit-reset", "3600"}});
  EXPECT_EQ(limiter.reserve("h:443"), 10000ms);
}

TEST(RateLimiter, IgnoresMalformedHeaders) {
  auto clock = std::make_shared<ManualClock>();
  RateLimiter limiter(rate(0, 0), clock);
  limiter.observe("h:443", {{"ratelimit-remaining", "lots"}, {"ratelimit-reset", "-"}});
  limiter.observe("h:443", {{"ratelimit-reset", "10"}});
  EXPECT_EQ(limiter.reserve("h:443"), 0ms);
}

}  // namespace
}  // namespace lakeflow::http
