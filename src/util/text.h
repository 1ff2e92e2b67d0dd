// Text forms of values shared by the converter (parsing) and ColumnBatch::row_json (printing):
// calendar dates, timestamps, decimals, integers. Internal to lakeflow; not part of the SDK, whose
// text helpers (trim) are lakeflow/text.h, included here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lakeflow/text.h"
#include "util/int128.h"

namespace lakeflow::text {

// Days since 1970-01-01 for a proleptic Gregorian date; nullopt when the date does not exist.
std::optional<std::int32_t> days_from_civil(std::int64_t year, unsigned month, unsigned day);

// Result of a parse: a value or the reason it failed (a short phrase for error messages).
template <typename T>
struct Parsed {
  T value{};
  const char* error = nullptr;  // nullptr on success
  bool ok() const { return error == nullptr; }
};

// Dates: YYYY-MM-DD, MM/DD/YYYY, DD-MM-YYYY, YYYY/MM/DD (month and day may have one digit), or an
// ISO-8601 date-time whose date part is taken as written.
Parsed<std::int32_t> parse_date(std::string_view s);

// Timestamps: ISO-8601 date or date-time (`T`, `t` or space; fractional seconds with `.` or `,`,
// up to 9 digits, truncated to microseconds; `Z` or ±HH[:MM[:SS]] / ±HHMM offset) or
// `YYYY/MM/DD HH:MM:SS`. Returns microseconds since the epoch. A leap second (`23:59:60`, seconds
// 60 at minute 59 of any offset) reads as the last microsecond of the second before it
// (`23:59:59.999999`): it stays in its minute and day and sorts after every earlier instant.
// With `allow_offset` false (timestamp_ntz) an offset is an error and the wall-clock value is
// returned. With it true (an instant) a value without an offset is read at `zone_less_offset`
// (seconds east of UTC) when given, and is an error otherwise.
Parsed<std::int64_t> parse_timestamp(std::string_view s, bool allow_offset,
                                     std::optional<std::int32_t> zone_less_offset = std::nullopt);

// A UTC offset as a table option gives it: `UTC`, `Z` or ±HH:MM; seconds east of UTC.
Parsed<std::int32_t> parse_utc_offset(std::string_view s);

// A decimal number (`-12.340`, `1E+3`, `.5`) as an unscaled 128-bit integer at `scale`, failing
// when it has more than `precision` digits or non-zero digits beyond `scale`.
Parsed<Int128> parse_decimal(std::string_view s, int precision, int scale);

// A whole number written as a JSON number or decimal text (`42`, `-7`, `1e3`, `4.0`); a fractional
// part that is not zero is an error, as is a value outside [min, max]: nothing is truncated.
Parsed<std::int64_t> parse_integer(std::string_view s, std::int64_t min, std::int64_t max);

// A float as Python's float() reads a string (`1.5e-3`, `inf`, `-Infinity`, `nan`).
Parsed<double> parse_double(std::string_view s);

void append_date(std::string& out, std::int32_t days);  // YYYY-MM-DD
// YYYY-MM-DDTHH:MM:SS.ffffff, followed by `Z` when `utc`.
void append_timestamp(std::string& out, std::int64_t micros, bool utc);
void append_decimal(std::string& out, Int128 unscaled, int scale);  // `-12.340`

}  // namespace lakeflow::text
