// Pages through a FHIR query whose results come in lastUpdated order (a search sorted by
// _lastUpdated, or a type history listed oldest first) from a TiePosition on, keyset style.
//
// Every page is a fresh query from the position: `_lastUpdated=ge` (or `_since`) at the position's
// instant, with `_count` enlarged by the ids already delivered at that instant so that a page still
// holds `page_size` new results. Resources that change or disappear while a read goes on therefore
// cannot shift a later page, as they do when a server pages by offset (`_offset`, or next links
// built from one): an updated resource moves past the read cap and the next sync reads it, a
// deleted one is a delete.
//
// Only a group of results sharing one instant that is larger than the largest page is paged by the
// query's own next links, since a search cannot start inside an instant. On a server whose next
// links are offsets, a member of such a group that changes during the read can shift the group's
// later pages by one; the read reports when it paged this way (`tie_pages`) so the run can say so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "fhir_bundle.h"
#include "fhir_position.h"
#include "lakeflow/http/client.h"
#include "lakeflow/http/pagination.h"

namespace lakeflow::fhir {

// Where a read that stopped inside a large tie group continues: the page it stopped in.
struct TiePage {
  std::string url;
  std::int64_t group = 0;  // the group's instant
  std::optional<std::int64_t> query_lower;
};

// What the caller's page visitor found on one page. Results are counted in page order.
struct PageScan {
  std::size_t results = 0;    // results seen on the page, delivered or not
  std::size_t delivered = 0;  // results the position did not cover, now delivered
  bool stopped = false;       // the batch filled: the rest of the page is left for the next read
  bool past_cap = false;      // a result after the read cap: the query is done for this read
  bool shifted = false;       // (resumed page only) its first result was not delivered before
  std::optional<std::int64_t> last;  // the instant of the page's last result
};

struct PageContext {
  const http::Response& page;
  // The position's instant when the page's query was made: a result whose lastUpdated range ends
  // before it cannot match the query (results at it can: a server may match instants coarser
  // than the bound asked for).
  std::optional<std::int64_t> query_lower;
  bool resumed;  // the page a previous read stopped in: check its first result, deliver nothing
                 // from it (shifted) when that result was not delivered before
};

struct KeysetQuery {
  // The URL of a fresh query from `position` (`search_from()`) asking for `count` results.
  std::function<std::string(const TiePosition& position, std::int64_t count)> url;
  std::int64_t page_size = 0;
  std::int64_t max_page_size = 0;  // the largest `_count` the query may ask for
  std::int64_t min_page_size = 1;
  // Fetches the reader's next page (PageReader::next); the caller may pace requests here. Unset:
  // the page is fetched at once.
  std::function<std::optional<http::Response>(http::PageReader& pages)> fetch;
};

struct KeysetOutcome {
  bool exhausted = false;         // nothing more up to the read cap
  std::optional<TiePage> resume;  // stopped inside a tie group paged by next links
  std::size_t requests = 0;
  std::size_t tie_pages = 0;  // pages fetched by a next link
};

// Reads pages until `visit` reports the batch full, a result past the cap, or the query has no more
// pages. Pages are requested, checked and followed through `pages`, where `visit` finds their
// entries. `visit` advances `position` for what it delivers. `resume` continues inside a tie group
// where a previous read stopped.
KeysetOutcome read_in_order(http::HttpClient& client, const http::Headers& headers,
                            BundlePages& pages, TiePosition& position, const KeysetQuery& query,
                            const std::optional<TiePage>& resume,
                            const std::function<PageScan(const PageContext&)>& visit);

}  // namespace lakeflow::fhir
