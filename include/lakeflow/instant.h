// Instants as text, for connectors whose cursors are timestamps sent by a source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lakeflow {

// Microseconds since the epoch of an ISO-8601 date-time (`2024-05-01T10:00:00.123+02:00`; `Z` or
// a ±HH:MM offset; without an offset the text is read as UTC; up to 9 fractional digits, truncated
// to microseconds; a leap second `23:59:60` reads as `23:59:59.999999`). nullopt when `text` is
// not such a date-time.
std::optional<std::int64_t> parse_instant(std::string_view text);

// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
std::string format_instant(std::int64_t micros_since_epoch);

}  // namespace lakeflow
