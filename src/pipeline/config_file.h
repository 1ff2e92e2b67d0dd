// Reading configuration files (the pipeline spec and the connections file): strict YAML (and JSON,
// which yaml-cpp reads as YAML) and paths written in them. Internal to src/pipeline.
//
// Every error is a ConfigError that starts with `file:line:column:` (1-based) and names the key.
// Values are never quoted in errors: a connections file holds secrets.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/json.h"

namespace lakeflow::pipeline {

class YamlFile {
 public:
  // One key of a mapping, in file order.
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };

  // Parses `text`; a syntax error is a ConfigError naming the file, line and column.
  YamlFile(std::string_view text, std::string file_name);

  const YAML::Node& root() const { return root_; }
  const std::string& file_name() const { return file_name_; }

  // `file:line:column` of `node`, or just `file` when the node has no position.
  std::string where(const YAML::Node& node) const;
  // Where the entry's value is; for an empty value (`key:`), where its key is.
  std::string where(const Entry& entry) const;

  // The entries of the mapping `node`, in file order. `what` names the mapping in errors
  // (`objects[2].table`). Throws for a non-mapping, a duplicate key, or (when `allowed` is not
  // empty) a key not in `allowed`, suggesting the closest allowed key.
  std::vector<Entry> entries(const YAML::Node& node, std::string_view what,
                             std::initializer_list<std::string_view> allowed = {}) const;

  // A string value. As in upstream's pydantic StrictStr, a plain (unquoted) scalar that YAML reads
  // as a number, boolean or null is rejected with a hint to quote it. Throws when blank and
  // `allow_blank` is false.
  std::string string_value(const Entry& entry, std::string_view what,
                           bool allow_blank = false) const;

  // An option value as text, the way upstream normalizes `table_configuration`: scalars as written
  // (`5` → "5", `true` → "true"), sequences and mappings as compact JSON. Null returns false
  // ("not set", as Options::from_json treats null).
  bool option_value(const Entry& entry, std::string_view what, std::string& out) const;

  // The node as a JSON value: plain scalars typed by the YAML 1.2 core schema (null, booleans,
  // integers, floats), everything else a string. Throws when the value nests deeper than
  // kMaxValueDepth (an alias inside what it names nests without end), or when the values
  // converted from this file grow beyond kMaxValueNodes nodes in all (aliases repeat what they
  // name: a few lines can name billions of nodes).
  JsonValue to_json(const YAML::Node& node, std::string_view what) const;
  static constexpr int kMaxValueDepth = 64;
  static constexpr std::size_t kMaxValueNodes = 100000;

  // "the number 5", "the boolean true", "null", "a list", "a mapping", "a string" — for errors.
  static std::string describe(const YAML::Node& node);

 private:
  JsonValue to_json(const YAML::Node& node, std::string_view what, int depth) const;

  std::string file_name_;
  YAML::Node root_;
  mutable std::size_t value_nodes_left_ = kMaxValueNodes;  // what to_json may still convert
};

// True when `node` is a plain (unquoted, untagged) scalar YAML 1.2's core schema reads as something
// other than a string: null, true/false, an integer or a float.
bool is_plain_non_string(const YAML::Node& node);

// A path written in a config file: `~/x` is under $HOME, a relative path is relative to
// `base_dir` (the config file's directory; empty for the current directory).
std::filesystem::path resolve_config_path(std::string_view written,
                                          const std::filesystem::path& base_dir);

// The directory relative paths in the file `file_name` are relative to.
std::filesystem::path config_base_dir(std::string_view file_name);

// The allowed key closest to `key` by edit distance, or empty when none is close.
std::string_view closest_key(std::string_view key, std::initializer_list<std::string_view> allowed);

}  // namespace lakeflow::pipeline
