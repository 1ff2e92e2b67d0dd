#include "lakeflow/options.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <system_error>

#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "util/text.h"

namespace lakeflow {
namespace {

// Values longer than this are cut in error messages so one bad option cannot flood a log.
constexpr std::size_t kMaxShownValue = 80;

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

using text::trim;

// A key names a secret when it mentions a secret, password, token, credential or private value, or
// a key in the sense of api_key / private_key / apiKey. A plural "keys" (primary_keys, sort_keys)
// lists column names and is not a secret, unless it lists API or access keys. Erring towards
// redaction is harmless: only the value in an error message is hidden.
bool is_secret_key_impl(std::string_view key) {
  std::string k;
  for (char c : key) {
    if (c != '_' && c != '-' && c != '.') k.push_back(to_lower(c));
  }
  for (std::string_view word :
       {"secret", "password", "passwd", "token", "credential", "private", "apikey", "accesskey"}) {
    if (k.find(word) != std::string::npos) return true;
  }
  for (std::size_t pos = k.find("key"); pos != std::string::npos; pos = k.find("key", pos + 1)) {
    if (pos + 3 >= k.size() || k[pos + 3] != 's') return true;
  }
  return false;
}

// The value as an error message shows it: quoted, shortened, or "<redacted>" for secrets.
std::string shown_value(std::string_view key, std::string_view value) {
  if (is_secret_key_impl(key)) return "<redacted>";
  if (value.size() > kMaxShownValue) {
    return fmt::format("'{}...' ({} bytes)", value.substr(0, kMaxShownValue), value.size());
  }
  return fmt::format("'{}'", value);
}

[[noreturn]] void throw_invalid(std::string_view key, std::string_view expected,
                                std::string_view value) {
  throw ConfigError(
      fmt::format("option '{}': expected {}, got {}", key, expected, shown_value(key, value)));
}

std::string describe_int_range(std::int64_t min, std::int64_t max) {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (min == kMin && max == kMax) return "an integer";
  if (max == kMax) return fmt::format("an integer >= {}", min);
  if (min == kMin) return fmt::format("an integer <= {}", max);
  return fmt::format("an integer in [{}, {}]", min, max);
}

std::int64_t parse_int(std::string_view key, std::string_view value, std::int64_t min,
                       std::int64_t max) {
  std::string_view text = trim(value);
  // std::from_chars accepts a leading '-' but not '+'.
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  std::int64_t result = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, result);
  if (text.empty() || ec != std::errc() || ptr != end || result < min || result > max) {
    throw_invalid(key, describe_int_range(min, max), value);
  }
  return result;
}

bool parse_bool(std::string_view key, std::string_view value) {
  const std::string v = lowercase(trim(value));
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  throw_invalid(key, "a boolean (true/false, yes/no, on/off, 1/0)", value);
}

std::chrono::milliseconds parse_duration(std::string_view key, std::string_view value) {
  constexpr std::string_view kExpected =
      "a non-negative duration such as 250ms, 1.5s, 30s, 5m, 2h or 1d (a bare number is seconds)";
  const std::string_view text = trim(value);
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) throw_invalid(key, kExpected, value);
  // An optional fraction: `1.5s`, `0.25` (upstream's float seconds).
  std::size_t end = digits;
  std::string_view fraction;
  if (end < text.size() && text[end] == '.') {
    std::size_t last = end + 1;
    while (last < text.size() && text[last] >= '0' && text[last] <= '9') ++last;
    fraction = text.substr(end + 1, last - end - 1);
    if (fraction.empty()) throw_invalid(key, kExpected, value);
    end = last;
  }

  const std::string unit = lowercase(trim(text.substr(end)));
  std::int64_t unit_ms = 0;
  if (unit.empty() || unit == "s") {
    unit_ms = 1000;
  } else if (unit == "ms") {
    unit_ms = 1;
  } else if (unit == "m") {
    unit_ms = 60 * 1000;
  } else if (unit == "h") {
    unit_ms = 60 * 60 * 1000;
  } else if (unit == "d") {
    unit_ms = 24 * 60 * 60 * 1000;
  } else {
    throw_invalid(key, kExpected, value);
  }

  std::int64_t count = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, count);
  if (ec != std::errc() || ptr != text.data() + digits ||
      count > std::numeric_limits<std::int64_t>::max() / unit_ms) {
    throw ConfigError(
        fmt::format("option '{}': duration {} is too large", key, shown_value(key, value)));
  }
  // The fraction in milliseconds: exact, or the value is finer than a millisecond.
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  std::int64_t fraction_ms = 0;
  if (!fraction.empty()) {
    // unit_ms * 0.<fraction> = unit_ms * numerator / denominator.
    std::int64_t numerator = 0;
    std::int64_t denominator = 1;
    for (const char digit : fraction) {
      if (denominator > std::numeric_limits<std::int64_t>::max() / 10 / unit_ms) {
        throw_invalid(key, "a duration in whole milliseconds", value);
      }
      numerator = numerator * 10 + (digit - '0');
      denominator *= 10;
    }
    if ((numerator * unit_ms) % denominator != 0) {
      throw_invalid(key, "a duration in whole milliseconds", value);
    }
    fraction_ms = numerator * unit_ms / denominator;
  }
  if (count * unit_ms > std::numeric_limits<std::int64_t>::max() - fraction_ms) {
    throw ConfigError(
        fmt::format("option '{}': duration {} is too large", key, shown_value(key, value)));
  }
  return std::chrono::milliseconds(count * unit_ms + fraction_ms);
}

std::string parse_enum(std::string_view key, std::string_view value,
                       std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (value == a) return std::string(value);
  }
  throw_invalid(key, fmt::format("one of {}", fmt::join(allowed, ", ")), value);
}

std::vector<std::string> parse_json_list(std::string_view key, std::string_view value,
                                         std::string_view text) {
  constexpr std::string_view kExpected = "a JSON array of strings or a comma-separated list";
  JsonValue parsed;
  try {
    parsed = JsonValue::parse(text, "JSON");
  } catch (const ConfigError& e) {
    // The parser's message may quote the text; keep it out of messages about secrets.
    if (is_secret_key_impl(key)) throw_invalid(key, kExpected, value);
    throw ConfigError(fmt::format("option '{}': expected {}, got {} ({})", key, kExpected,
                                  shown_value(key, value), e.what()));
  }
  if (!parsed.is_array()) throw_invalid(key, kExpected, value);
  std::vector<std::string> items;
  items.reserve(parsed.as_array().size());
  for (const JsonValue& item : parsed.as_array()) {
    if (!item.is_string()) throw_invalid(key, kExpected, value);
    if (!item.as_string().empty()) items.push_back(item.as_string());
  }
  return items;
}

std::vector<std::string> parse_list(std::string_view key, std::string_view value) {
  const std::string_view text = trim(value);
  // JSON items are taken as written (they may hold commas or spaces); only empty ones are dropped.
  if (!text.empty() && text.front() == '[') return parse_json_list(key, value, text);
  std::vector<std::string> items;
  std::string_view rest = text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return items;
}

}  // namespace

Options Options::from_json(std::string_view json, std::string_view what) {
  const JsonValue parsed = JsonValue::parse(json, what);
  if (!parsed.is_object()) {
    throw ConfigError(fmt::format(
        "{}: expected a JSON object of options (e.g. {{\"base_url\": \"https://...\"}})", what));
  }
  Options options;
  for (const auto& [key, value] : parsed.as_object()) {
    if (value.is_null()) continue;  // null means "not set"
    options.set(key, value.is_string() ? value.as_string() : value.dump());
  }
  return options;
}

std::optional<std::string_view> Options::find(std::string_view key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return std::string_view(it->second);
}

bool Options::erase(std::string_view key) {
  const auto it = values_.find(key);
  if (it == values_.end()) return false;
  values_.erase(it);
  return true;
}

Options Options::merged_with(const Options& overrides) const {
  Options merged = *this;
  for (const auto& [key, value] : overrides.values_) merged.values_[key] = value;
  return merged;
}

// An option set to the empty string counts as absent everywhere: connection forms commonly submit
// blank fields for options the user left unset.
std::string_view Options::required(std::string_view key) const {
  const auto value = find(key);
  if (!value || value->empty()) {
    throw ConfigError(fmt::format("missing required option '{}'", key));
  }
  return *value;
}

std::string Options::get_string(std::string_view key) const { return std::string(required(key)); }

std::string Options::get_string(std::string_view key, std::string_view default_value) const {
  const auto value = find(key);
  return std::string(value && !value->empty() ? *value : default_value);
}

std::int64_t Options::get_int(std::string_view key, std::int64_t min, std::int64_t max) const {
  return parse_int(key, required(key), min, max);
}

std::int64_t Options::get_int(std::string_view key, std::int64_t default_value, std::int64_t min,
                              std::int64_t max) const {
  const auto value = find(key);
  if (!value || value->empty()) return default_value;
  return parse_int(key, *value, min, max);
}

bool Options::get_bool(std::string_view key) const { return parse_bool(key, required(key)); }

bool Options::get_bool(std::string_view key, bool default_value) const {
  const auto value = find(key);
  if (!value || value->empty()) return default_value;
  return parse_bool(key, *value);
}

std::chrono::milliseconds Options::get_duration(std::string_view key) const {
  return parse_duration(key, required(key));
}

std::chrono::milliseconds Options::get_duration(std::string_view key,
                                                std::chrono::milliseconds default_value) const {
  const auto value = find(key);
  if (!value || value->empty()) return default_value;
  return parse_duration(key, *value);
}

std::string Options::get_enum(std::string_view key,
                              std::initializer_list<std::string_view> allowed) const {
  return parse_enum(key, required(key), allowed);
}

std::string Options::get_enum(std::string_view key, std::initializer_list<std::string_view> allowed,
                              std::string_view default_value) const {
  const auto value = find(key);
  if (!value || value->empty()) return std::string(default_value);
  return parse_enum(key, *value, allowed);
}

std::vector<std::string> Options::get_list(std::string_view key) const {
  return parse_list(key, required(key));
}

std::vector<std::string> Options::get_list(std::string_view key,
                                           std::vector<std::string> default_value) const {
  const auto value = find(key);
  if (!value || value->empty()) return default_value;
  return parse_list(key, *value);
}

bool is_secret_option(std::string_view key) { return is_secret_key_impl(key); }

}  // namespace lakeflow
