#include "pipeline/config_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <regex>
#include <set>

#include "lakeflow/error.h"

namespace lakeflow::pipeline {
namespace {

std::string position(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return file;
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

std::string join_keys(std::initializer_list<std::string_view> keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// YAML 1.2 core schema resolution of plain scalars
// (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
const std::regex& int_pattern() {
  static const std::regex re("[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+");
  return re;
}
const std::regex& float_pattern() {
  static const std::regex re(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.nan|\\.NaN|"
      "\\.NAN");
  return re;
}
bool is_plain(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }
bool is_bool_text(const std::string& s) {
  return s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE";
}
bool is_null_text(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

}  // namespace

std::filesystem::path resolve_config_path(std::string_view written,
                                          const std::filesystem::path& base_dir) {
  std::filesystem::path path;
  if (written == "~" || written.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') {
      throw ConfigError(
          fmt::format("cannot expand '~' in '{}': HOME is not set; write the full path", written));
    }
    path = std::filesystem::path(home) /
           std::string(written.substr(std::min<std::size_t>(2, written.size())));
  } else {
    path = std::filesystem::path(std::string(written));
  }
  if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
  return path.lexically_normal();
}

std::filesystem::path config_base_dir(std::string_view file_name) {
  return std::filesystem::path(std::string(file_name)).parent_path();
}

bool is_plain_non_string(const YAML::Node& node) {
  if (node.IsNull()) return true;
  if (!is_plain(node)) return false;
  const std::string& s = node.Scalar();
  return is_null_text(s) || is_bool_text(s) || std::regex_match(s, int_pattern()) ||
         std::regex_match(s, float_pattern());
}

std::string_view closest_key(std::string_view key,
                             std::initializer_list<std::string_view> allowed) {
  std::string_view best;
  std::size_t best_distance = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (std::string_view candidate : allowed) {
    const std::size_t d = edit_distance(key, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

YamlFile::YamlFile(std::string_view text, std::string file_name)
    : file_name_(std::move(file_name)) {
  try {
    root_ = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: invalid YAML/JSON: {}; fix the syntax there",
                                  position(file_name_, e.mark), e.msg));
  }
}

std::string YamlFile::where(const YAML::Node& node) const {
  return position(file_name_, node.Mark());
}

std::string YamlFile::where(const Entry& entry) const {
  // yaml-cpp places an empty value (`key:` then a newline) at the start of the next line.
  if (entry.value.IsNull() || entry.value.Mark().is_null()) return where(entry.key_node);
  return where(entry.value);
}

std::string YamlFile::describe(const YAML::Node& node) {
  if (node.IsNull()) return "null";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (is_plain(node)) {
    const std::string& s = node.Scalar();
    if (is_null_text(s)) return "null";
    if (is_bool_text(s)) return fmt::format("the boolean {}", s);
    if (std::regex_match(s, int_pattern()) || std::regex_match(s, float_pattern())) {
      return fmt::format("the number {}", s);
    }
  }
  return "a string";
}

std::vector<YamlFile::Entry> YamlFile::entries(
    const YAML::Node& node, std::string_view what,
    std::initializer_list<std::string_view> allowed) const {
  if (!node.IsMap()) {
    throw ConfigError(fmt::format("{}: {} must be a mapping (key: value), got {}", where(node),
                                  what, describe(node)));
  }
  std::vector<Entry> out;
  std::set<std::string, std::less<>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: yaml-cpp's iterator hands out a temporary pair.
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    if (!key_node.IsScalar()) {
      throw ConfigError(fmt::format("{}: {} has a key that is {}; keys must be names",
                                    where(key_node), what, describe(key_node)));
    }
    std::string key = key_node.Scalar();
    if (!seen.insert(key).second) {
      throw ConfigError(
          fmt::format("{}: duplicate key '{}' in {}; keep only one", where(key_node), key, what));
    }
    if (allowed.size() != 0 &&
        std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      const std::string_view suggestion = closest_key(key, allowed);
      throw ConfigError(fmt::format(
          "{}: unknown key '{}' in {}{}; allowed keys: {}", where(key_node), key, what,
          suggestion.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", suggestion),
          join_keys(allowed)));
    }
    out.push_back({std::move(key), key_node, value});
  }
  return out;
}

std::string YamlFile::string_value(const Entry& entry, std::string_view what,
                                   bool allow_blank) const {
  const YAML::Node& value = entry.value;
  if (!value.IsScalar() || is_plain_non_string(value)) {
    throw ConfigError(fmt::format("{}: {} must be a string, got {}{}", where(entry), what,
                                  describe(value),
                                  value.IsScalar() ? "; quote it to use it as a string" : ""));
  }
  std::string s = value.Scalar();
  if (!allow_blank && s.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw ConfigError(fmt::format("{}: {} must not be blank", where(entry), what));
  }
  return s;
}

bool YamlFile::option_value(const Entry& entry, std::string_view what, std::string& out) const {
  const YAML::Node& value = entry.value;
  if (value.IsNull() || (is_plain(value) && is_null_text(value.Scalar()))) return false;
  if (value.IsScalar()) {
    out = value.Scalar();
  } else {
    out = to_json(value, what).dump();
  }
  return true;
}

JsonValue YamlFile::to_json(const YAML::Node& node, std::string_view what) const {
  return to_json(node, what, 0);
}

// `depth`: the lists and mappings `node` is inside.
JsonValue YamlFile::to_json(const YAML::Node& node, std::string_view what, int depth) const {
  if ((node.IsSequence() || node.IsMap()) && depth >= kMaxValueDepth) {
    throw ConfigError(fmt::format(
        "{}: {}: the value nests lists and mappings deeper than {} levels (or a YAML alias names "
        "a value it is part of); flatten it",
        where(node), what, kMaxValueDepth));
  }
  if (value_nodes_left_ == 0) {
    throw ConfigError(fmt::format(
        "{}: {}: the file's values expand to more than {} items (a YAML alias repeats all it "
        "names); make them smaller",
        where(node), what, kMaxValueNodes));
  }
  --value_nodes_left_;
  if (node.IsNull()) return JsonValue();
  if (node.IsSequence()) {
    JsonValue::Array array;
    std::size_t i = 0;
    for (const YAML::Node& item : node) {
      array.push_back(to_json(item, fmt::format("{}[{}]", what, i++), depth + 1));
    }
    return JsonValue(std::move(array));
  }
  if (node.IsMap()) {
    JsonValue::Object object;
    for (const Entry& entry : entries(node, what)) {
      object[entry.key] = to_json(entry.value, fmt::format("{}.{}", what, entry.key), depth + 1);
    }
    return JsonValue(std::move(object));
  }
  const std::string& s = node.Scalar();
  if (!is_plain(node)) return JsonValue(s);
  if (is_null_text(s)) return JsonValue();
  if (is_bool_text(s)) return JsonValue(s[0] == 't' || s[0] == 'T');
  if (std::regex_match(s, int_pattern())) {
    std::int64_t v = 0;
    std::string_view digits = s;
    int base = 10;
    if (digits.starts_with("0o")) {
      digits.remove_prefix(2);
      base = 8;
    } else if (digits.starts_with("0x")) {
      digits.remove_prefix(2);
      base = 16;
    } else if (digits.starts_with('+')) {
      digits.remove_prefix(1);
    }
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (ec == std::errc() && ptr == digits.data() + digits.size()) return JsonValue(v);
    throw ConfigError(
        fmt::format("{}: {}: an integer does not fit in 64 bits; quote it", where(node), what));
  }
  if (std::regex_match(s, float_pattern())) {
    if (s.find_first_of("nN") != std::string::npos || s.find_first_of("iI") != std::string::npos) {
      throw ConfigError(
          fmt::format("{}: {}: .inf and .nan have no JSON form; quote them to pass them as strings",
                      where(node), what));
    }
    // std::stod would throw std::out_of_range; a denormal result is kept.
    errno = 0;
    const double value = std::strtod(s.c_str(), nullptr);
    if (errno == ERANGE && (std::isinf(value) || value == 0)) {
      throw ConfigError(fmt::format(
          "{}: {}: a number is beyond the range of a 64-bit float; quote it", where(node), what));
    }
    return JsonValue(value);
  }
  return JsonValue(s);
}

}  // namespace lakeflow::pipeline
