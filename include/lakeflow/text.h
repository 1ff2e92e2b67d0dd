// Small text helpers for connector code: what parsing a source's text (configuration values,
// line-oriented files, error messages of a client library) keeps needing.
// Header-only; part of the SDK (lakeflow/*.h).
#pragma once

#include <string_view>

namespace lakeflow::text {

// Whether `c` is ASCII whitespace: space, \t, \n, \r, \f or \v.
constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// `s` without the ASCII whitespace at both ends (a view into `s`).
constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace lakeflow::text
