#include "fhir_keyset.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace lakeflow::fhir {

KeysetOutcome read_in_order(http::HttpClient& client, const http::Headers& headers,
                            BundlePages& bundle_pages, TiePosition& position,
                            const KeysetQuery& query, const std::optional<TiePage>& resume,
                            const std::function<PageScan(const PageContext&)>& visit) {
  KeysetOutcome outcome;
  std::optional<http::PageReader> pages;
  std::optional<std::int64_t> lower;
  bool via_link = false;  // following the current query's next links (inside a tie group)
  bool resumed = false;   // the page is the one a previous read stopped in
  std::int64_t group = std::numeric_limits<std::int64_t>::min();
  const auto start_fresh = [&] {
    // Ask for the results already delivered at the position's instant on top of a page: they
    // come first in the answer and are skipped.
    const std::int64_t count =
        std::clamp(query.page_size + static_cast<std::int64_t>(position.ties().size()),
                   query.min_page_size, query.max_page_size);
    lower = position.order();
    via_link = false;
    resumed = false;
    pages.emplace(client, bundle_pages.request(query.url(position, count), headers),
                  bundle_pages.next_link());
  };
  if (resume) {
    pages.emplace(client, bundle_pages.request(resume->url, headers), bundle_pages.next_link());
    lower = resume->query_lower;
    group = resume->group;
    via_link = true;
    resumed = true;
  } else {
    start_fresh();
  }

  for (;;) {
    const std::string url = pages->next_url();
    std::optional<http::Response> page;
    try {
      page = query.fetch ? query.fetch(*pages) : pages->next();
    } catch (const http::HttpError&) {
      if (!resumed) throw;
      start_fresh();  // the page link expired or was refused: start over from the position
      continue;
    }
    ++outcome.requests;
    if (via_link) ++outcome.tie_pages;
    if (!page) {
      outcome.exhausted = true;
      return outcome;
    }
    const PageScan scan = visit(PageContext{*page, lower, resumed});
    if (scan.shifted) {
      start_fresh();
      continue;
    }
    resumed = false;
    if (scan.stopped) {
      if (via_link) outcome.resume = TiePage{url, group, lower};
      return outcome;
    }
    if (scan.past_cap || pages->next_url().empty()) {
      outcome.exhausted = true;
      return outcome;
    }
    if (!via_link && scan.delivered == 0) {
      // A full page of results delivered before: a group at one instant larger than a page.
      // Only the query's next links lead further into it.
      via_link = true;
      group = position.order().value_or(group);
      continue;
    }
    if (via_link && (!scan.last || *scan.last <= group)) continue;  // still inside the group
    start_fresh();
  }
}

}  // namespace lakeflow::fhir
