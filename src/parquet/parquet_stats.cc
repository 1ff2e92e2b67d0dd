#include "parquet/parquet_stats.h"

#include <cstdint>

namespace lakeflow::parquet {

namespace {

// Length of the UTF-8 sequence a lead byte starts (1 for bytes that start none).
std::size_t sequence_length(std::uint8_t lead) {
  if (lead < 0xc0) return 1;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  return 4;
}

// Byte length of the first `max_chars` characters of `s` (all of it when shorter).
std::size_t prefix_bytes(std::string_view s, std::size_t max_chars) {
  std::size_t at = 0;
  for (std::size_t chars = 0; chars < max_chars && at < s.size(); ++chars) {
    at += sequence_length(static_cast<std::uint8_t>(s[at]));
  }
  return at < s.size() ? at : s.size();
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// The smallest string of at most as many characters that is greater than every string starting
// with `prefix`: the prefix with its last character incremented.
std::optional<std::string> successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    // Find the start of the last character.
    std::size_t start = s.size() - 1;
    while (start > 0 && (static_cast<std::uint8_t>(s[start]) & 0xc0) == 0x80) --start;
    auto lead = static_cast<std::uint8_t>(s[start]);
    std::size_t len = s.size() - start;
    if (sequence_length(lead) != len || (lead >= 0x80 && lead < 0xc0) || lead > 0xf4) {
      return std::nullopt;  // not valid UTF-8
    }
    std::uint32_t cp = len == 1 ? lead : lead & (0x7f >> len);
    for (std::size_t i = 1; i < len; ++i)
      cp = (cp << 6) | (static_cast<std::uint8_t>(s[start + i]) & 0x3f);
    s.resize(start);
    if (cp >= 0x10ffff) continue;  // no greater character: increment the one before
    ++cp;
    if (cp == 0xd800) cp = 0xe000;  // surrogates are no characters
    append_utf8(s, cp);
    return s;
  }
  return std::nullopt;
}

}  // namespace

StringBounds string_bounds(std::string_view min, std::string_view max, std::size_t max_chars) {
  StringBounds b;
  std::size_t min_len = prefix_bytes(min, max_chars);
  b.min = std::string(min.substr(0, min_len));
  b.min_truncated = min_len < min.size();
  std::size_t max_len = prefix_bytes(max, max_chars);
  if (max_len == max.size()) {
    b.max = std::string(max);
  } else {
    b.max = successor(max.substr(0, max_len));
    b.max_truncated = true;
  }
  return b;
}

}  // namespace lakeflow::parquet
