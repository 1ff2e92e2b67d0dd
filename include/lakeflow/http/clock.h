// Time as the HTTP toolkit sees it: a monotonic clock for budgets and rate limits, a wall clock for
// `Retry-After` dates and JWT claims, and sleeping. Everything that waits (backoff, rate limiting)
// goes through a Clock, so tests inject a ManualClock and never really sleep.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace lakeflow::http {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() const = 0;
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
  // Blocks the calling thread for `duration` (a ManualClock only records it). Thread-safe.
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;

  // The process-wide real clock.
  static std::shared_ptr<Clock> system();
};

// A clock that moves only when told to: `sleep_for` records the requested duration and advances
// both clocks by it, without blocking. Thread-safe.
class ManualClock : public Clock {
 public:
  // Starts at wall time `wall_start` (default 2024-01-01T00:00:00Z).
  explicit ManualClock(std::chrono::system_clock::time_point wall_start =
                           std::chrono::system_clock::time_point(std::chrono::seconds(1704067200)));

  std::chrono::steady_clock::time_point now() const override;
  std::chrono::system_clock::time_point wall_now() const override;
  void sleep_for(std::chrono::milliseconds duration) override;

  // Moves time forward without recording a sleep.
  void advance(std::chrono::milliseconds duration);
  // Every duration passed to sleep_for, in order.
  std::vector<std::chrono::milliseconds> sleeps() const;
  std::chrono::milliseconds total_slept() const;

 private:
  mutable std::mutex mutex_;
  std::chrono::milliseconds elapsed_{0};
  std::chrono::system_clock::time_point wall_start_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

}  // namespace lakeflow::http
