#include "fhir_page_pacer.h"

#include <thread>

namespace lakeflow::fhir {

PagePacer::PagePacer()
    : PagePacer([] { return Clock::now(); },
                [](Clock::duration duration) { std::this_thread::sleep_for(duration); }) {}

PagePacer::PagePacer(Now now, Sleep sleep) : now_(std::move(now)), sleep_(std::move(sleep)) {}

void PagePacer::wait(std::string_view table, std::chrono::milliseconds delay) {
  if (delay <= std::chrono::milliseconds::zero()) return;
  Clock::time_point ready;
  {
    const std::lock_guard lock(mutex_);
    const auto found = last_arrival_.find(table);
    if (found == last_arrival_.end()) return;
    ready = found->second + delay;
  }
  // Sleeps until the time is reached: a sleep may end early on some clocks.
  for (Clock::time_point now = now_(); now < ready; now = now_()) sleep_(ready - now);
}

void PagePacer::arrived(std::string_view table) {
  const Clock::time_point now = now_();
  const std::lock_guard lock(mutex_);
  last_arrival_.insert_or_assign(std::string(table), now);
}

}  // namespace lakeflow::fhir
