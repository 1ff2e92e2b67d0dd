// Bounds of string statistics: statistics are kept short by storing a prefix
// of a long minimum and a short string above a long maximum.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace lakeflow::parquet {

struct StringBounds {
  std::optional<std::string> min;  // <= every value; absent when there is no such short string
  std::optional<std::string> max;  // >= every value (bytewise); absent likewise
  bool min_truncated = false;
  bool max_truncated = false;
};

// Bounds of at most `max_chars` UTF-8 characters for the range [min, max] (bytewise order, which
// is code point order for UTF-8). A longer `min` becomes its prefix; a longer `max` becomes its
// prefix with the last character incremented (a prefix of U+10FFFF characters has no such
// successor, so `max` is then absent, as it is when `max` is not valid UTF-8).
StringBounds string_bounds(std::string_view min, std::string_view max, std::size_t max_chars);

}  // namespace lakeflow::parquet
