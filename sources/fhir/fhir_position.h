// Where an incremental read over `meta.lastUpdated` stands, exactly.
//
// Many resources can share one lastUpdated (a bulk load gives thousands the same instant), and a
// FHIR search can only filter on the instant (`_lastUpdated=ge...`), not on a (lastUpdated, id)
// pair. So the position is the greatest lastUpdated delivered plus the ids of every resource
// delivered with exactly that lastUpdated: a resumed read asks for `ge` that instant and skips
// those ids. Nothing at the boundary is skipped (as a strict `gt` would) or delivered twice,
// whatever order the server returns ties in. The id list only holds the ties of the last instant.
//
// A tie group is complete once a read has gone past it, or when a read ran out of results and the
// group's instant lies wholly before that read's cap (the time the connector started: nothing
// changed later can be stamped with an earlier instant). A complete position keeps no ids, and the
// next read searches strictly after the instant, so a sync with nothing new reads nothing.
//
// Offset forms (lakeflow/cursor.h): {"cursor": "<lastUpdated as the server sent it>", "ids": ["a",
// "b"]} (ids sorted), {"cursor": "<lastUpdated>", "complete": true}.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "lakeflow/cursor.h"
#include "lakeflow/offset.h"

namespace lakeflow::fhir {

// The position: the SDK's cursor with ties over lastUpdated (microseconds), keys the resource ids.
using TiePosition = ::lakeflow::TieCursor;

// Reads an offset TiePosition::to_offset() wrote ({} is the start). Throws ConfigError naming
// `what` (e.g. "offset of table 'Patient'") when the offset is not one.
TiePosition position_from_offset(const Offset& offset, std::string_view what);

// Where the next search starts (its `ge` bound): the cursor's instant while its tie group is
// open, the end of the cursor's precision range once it is complete; nullopt before the first
// resource.
std::optional<std::int64_t> search_from(const TiePosition& position);
// Marks the cursor's tie group complete if its whole precision range lies before `cap_micros`
// (see above); returns whether it is.
bool complete_before(TiePosition& position, std::int64_t cap_micros);

// How long the instant `text` stands for: FHIR compares a date-time as the range its precision
// covers, so `...:00Z` matches a search for `ge ...:00.500Z`. 1 s without fractional digits, 1 ms
// with three, down to 1 µs.
std::int64_t precision_micros(std::string_view text);

}  // namespace lakeflow::fhir
