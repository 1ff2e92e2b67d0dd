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

// `YYYY-MM-DDTHH:MM:SS` plus `fraction_digits` (0..9) fractional digits, then `Z`: 0 gives
// `2024-05-01T08:00:00Z`, 3 `2024-05-01T08:00:00.123Z`, 9 `2024-05-01T08:00:00.123456000Z`. For a
// source that compares timestamps as text, which only works at the one width it writes. Digits
// beyond the sixth are zeros; fewer than six truncate toward the past, so the text never names a
// later instant than the one given (a `>=` filter on it includes that instant). Throws
// std::invalid_argument for a width outside 0..9.
std::string format_instant(std::int64_t micros_since_epoch, int fraction_digits);

}  // namespace lakeflow
