// The table option `page_delay`: a pause between the page requests of one table, for servers that
// ask clients to go slowly (shared public test servers, rate-limited gateways).
//
// Before a page request of a table, the pacer waits until `delay` has passed since the previous
// page of that table arrived (or failed); the first page request of a table in a connector's life
// does not wait. Tables are paced independently (they may be read in parallel), and every page
// request of a table counts, whichever read (data, deletes, snapshot) makes it. This is upstream's
// rule (a sleep of page_delay before each next-page request) applied across read calls too, since
// a read here may stop after one page and the next read continues with the following one.
//
// Thread-safe: tables may be read on different threads.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace lakeflow::fhir {

class PagePacer {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;
  using Sleep = std::function<void(Clock::duration)>;

  PagePacer();  // the steady clock and std::this_thread::sleep_for
  PagePacer(Now now, Sleep sleep);

  // Waits as the rule above says for `table` with `delay`, calls `request`, notes when it returned
  // or threw, and returns its result.
  template <typename Request>
  auto fetch(std::string_view table, std::chrono::milliseconds delay, Request&& request)
      -> decltype(request()) {
    wait(table, delay);
    struct Arrived {
      PagePacer& pacer;
      std::string_view table;
      ~Arrived() { pacer.arrived(table); }
    } arrived{*this, table};
    return std::forward<Request>(request)();
  }

 private:
  void wait(std::string_view table, std::chrono::milliseconds delay);
  void arrived(std::string_view table);

  Now now_;
  Sleep sleep_;
  std::mutex mutex_;
  std::map<std::string, Clock::time_point, std::less<>> last_arrival_;
};

}  // namespace lakeflow::fhir
