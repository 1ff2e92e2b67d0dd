#include "lakeflow/http/clock.h"

#include <thread>

namespace lakeflow::http {
namespace {

class SystemClock : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point wall_now() const override {
    return std::chrono::system_clock::now();
  }
  void sleep_for(std::chrono::milliseconds duration) override {
    if (duration.count() > 0) std::this_thread::sleep_for(duration);
  }
};

}  // namespace

std::shared_ptr<Clock> Clock::system() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

ManualClock::ManualClock(std::chrono::system_clock::time_point wall_start)
    : wall_start_(wall_start) {}

std::chrono::steady_clock::time_point ManualClock::now() const {
  std::lock_guard lock(mutex_);
  // A fixed, arbitrary origin: only differences of steady times mean anything.
  return std::chrono::steady_clock::time_point(std::chrono::hours(1000)) + elapsed_;
}

std::chrono::system_clock::time_point ManualClock::wall_now() const {
  std::lock_guard lock(mutex_);
  return wall_start_ + elapsed_;
}

void ManualClock::sleep_for(std::chrono::milliseconds duration) {
  std::lock_guard lock(mutex_);
  sleeps_.push_back(duration);
  if (duration.count() > 0) elapsed_ += duration;
}

void ManualClock::advance(std::chrono::milliseconds duration) {
  std::lock_guard lock(mutex_);
  elapsed_ += duration;
}

std::vector<std::chrono::milliseconds> ManualClock::sleeps() const {
  std::lock_guard lock(mutex_);
  return sleeps_;
}

std::chrono::milliseconds ManualClock::total_slept() const {
  std::lock_guard lock(mutex_);
  std::chrono::milliseconds total{0};
  for (auto s : sleeps_) total += s;
  return total;
}

}  // namespace lakeflow::http
