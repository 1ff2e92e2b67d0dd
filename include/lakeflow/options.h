// Connector and table options: string keys to string values, as in a Unity Catalog connection.
//
// Typed getters parse and validate on read. Every error is a ConfigError that names the option,
// what was given and what is accepted, e.g.
//   option 'max_records_per_batch': expected an integer in [1, 100000], got 'lots'
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lakeflow {

// True when an option named `key` holds a secret: it mentions a secret, password, token,
// credential or private value, or a key in the sense of api_key / private_key / apiKey. A plural
// "keys" (primary_keys, sort_keys) lists column names and is not a secret. Errors never show the
// values of such options; logs and checkpoints redact them.
bool is_secret_option(std::string_view key);

class Options {
 public:
  using Map = std::map<std::string, std::string, std::less<>>;

  Options() = default;
  Options(std::initializer_list<std::pair<const std::string, std::string>> values)
      : values_(values) {}
  explicit Options(Map values) : values_(std::move(values)) {}

  // Reads a flat JSON object of options (`{"base_url": "...", "page_size": 100}`); numbers and
  // booleans become their JSON text. Throws ConfigError naming `what` (e.g. the file name).
  static Options from_json(std::string_view json, std::string_view what = "options");

  bool contains(std::string_view key) const { return values_.find(key) != values_.end(); }
  std::optional<std::string_view> find(std::string_view key) const;
  void set(std::string key, std::string value) { values_[std::move(key)] = std::move(value); }
  bool erase(std::string_view key);
  const Map& values() const { return values_; }
  bool empty() const { return values_.empty(); }
  std::size_t size() const { return values_.size(); }

  // These options with every key of `overrides` replaced.
  Options merged_with(const Options& overrides) const;

  // Required string: throws if absent or empty.
  std::string get_string(std::string_view key) const;
  std::string get_string(std::string_view key, std::string_view default_value) const;

  // Integers in [min, max] (decimal, optional sign).
  std::int64_t get_int(std::string_view key,
                       std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) const;
  std::int64_t get_int(std::string_view key, std::int64_t default_value, std::int64_t min,
                       std::int64_t max) const;

  // Booleans: true/false, yes/no, on/off, 1/0 (case-insensitive).
  bool get_bool(std::string_view key) const;
  bool get_bool(std::string_view key, bool default_value) const;

  // Durations: `250ms`, `1.5s`, `30s`, `5m`, `2h`, `1d` (whole ms); a bare number is seconds.
  std::chrono::milliseconds get_duration(std::string_view key) const;
  std::chrono::milliseconds get_duration(std::string_view key,
                                         std::chrono::milliseconds default_value) const;

  // One of `allowed` (exact, case-sensitive).
  std::string get_enum(std::string_view key, std::initializer_list<std::string_view> allowed) const;
  std::string get_enum(std::string_view key, std::initializer_list<std::string_view> allowed,
                       std::string_view default_value) const;

  // Comma-separated list, items trimmed, empty items dropped. A value starting with `[` is read as
  // a JSON array of strings.
  std::vector<std::string> get_list(std::string_view key) const;
  std::vector<std::string> get_list(std::string_view key,
                                    std::vector<std::string> default_value) const;

  friend bool operator==(const Options& a, const Options& b) { return a.values_ == b.values_; }

 private:
  std::string_view required(std::string_view key) const;
  Map values_;
};

}  // namespace lakeflow
