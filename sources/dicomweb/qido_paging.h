// Paging through a QIDO-RS result list with `limit` and `offset`, made safe against a list that
// changes while it is read.
//
// QIDO-RS has no sort parameter and no keyset search: a server pages by counting (`offset`) in an
// order of its own (Orthanc's is neither insertion nor UID order). A study stored or deleted
// before the read's position while the read goes on shifts every later result by one, so plain
// offset paging delivers a result twice or, worse, skips one. The position here is anchored by
// content as the FHIR connector's keyset position is (sources/fhir/fhir_keyset.h): besides the
// count of results consumed it keeps the identities (UIDs) of the last results delivered, and each
// page asks for those again in front of the new ones (`offset` = consumed - anchors, `limit` =
// page size + anchors). The page then shows where the read really stands: the new results are
// those after the last anchor found in it, whichever way the list shifted (by up to the number of
// anchors). When no anchor is in the page (the list moved further, or every anchor was deleted),
// the list is read again from its start; the caller skips what it delivered in the same read call
// and counts such restarts.
//
// The one assumption: a server lists the results that do not change in the same relative order on
// every request (true of every server that pages by offset at all).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow::dicomweb {

// Anchors kept: a shift by up to this many results between two pages is followed exactly.
inline constexpr std::size_t kAnchors = 8;

struct ListPosition {
  std::int64_t consumed = 0;         // results of the list before the position
  std::vector<std::string> anchors;  // the last results delivered, oldest first (<= kAnchors)

  friend bool operator==(const ListPosition&, const ListPosition&) = default;
};

struct PageRequest {
  std::int64_t offset = 0;
  std::int64_t limit = 0;
};

// The page to ask for next: the anchors again, then `page_size` results.
PageRequest next_request(const ListPosition& position, std::int64_t page_size);

// Where the undelivered results of a page answered for next_request(position) begin: the index
// after the last anchor found in `keys` (the page's identities in order), 0 at the list's start;
// nullopt when the page holds none of the anchors (the list moved further than they cover).
std::optional<std::size_t> first_new(const ListPosition& position,
                                     std::span<const std::string_view> keys);

// Whether `key` is one of the position's anchors (a result delivered just before the position).
bool is_anchor(const ListPosition& position, std::string_view key);

// The position after delivering the result at `index` of a page asked for with `request`.
void advance(ListPosition& position, const PageRequest& request, std::size_t index,
             std::string_view key);

}  // namespace lakeflow::dicomweb
