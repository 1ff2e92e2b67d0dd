// endpoints.yaml, read (see lakeflow/http/simulator.h for every key).
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>

#include "http/simulator_internal.h"
#include "lakeflow/files.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/http/simulator.h"
#include "lakeflow/http/test_mode.h"

namespace lakeflow::http {
namespace simulator_internal {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    segments.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return segments;
}

std::string path_of(std::string_view url) {
  const std::string base = split_url(url).base;
  const std::size_t scheme = base.find("://");
  if (scheme == std::string::npos) return base;
  const std::size_t slash = base.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : base.substr(slash);
}

const JsonValue* get_field(const JsonValue& record, std::string_view path) {
  const JsonValue* value = &record;
  while (!path.empty()) {
    const std::size_t dot = path.find('.');
    if (!value->is_object()) return nullptr;
    value = value->find(path.substr(0, dot));
    if (value == nullptr) return nullptr;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return value;
}

void set_field(JsonValue& record, std::string_view path, JsonValue value) {
  JsonValue* target = &record;
  while (true) {
    if (!target->is_object()) *target = JsonValue(JsonValue::Object{});
    const std::size_t dot = path.find('.');
    JsonValue& child = (*target)[path.substr(0, dot)];
    if (dot == std::string_view::npos) {
      child = std::move(value);
      return;
    }
    target = &child;
    path = path.substr(dot + 1);
  }
}

// The records of a response body: the array at `records_key`, a top-level array, or the object
// itself for a single entity.
std::vector<const JsonValue*> records_of(const JsonValue& body, const Endpoint& endpoint) {
  std::vector<const JsonValue*> records;
  const JsonValue* list =
      endpoint.records_key.empty() ? &body : get_field(body, endpoint.records_key);
  if (list != nullptr && list->is_array()) {
    for (const JsonValue& record : list->as_array()) records.push_back(&record);
  } else if (body.is_object() && (endpoint.single_entity || !endpoint.lookup.empty())) {
    records.push_back(&body);
  }
  return records;
}

std::map<std::string, JsonValue, std::less<>> load_corpus(const std::filesystem::path& dir) {
  std::map<std::string, JsonValue, std::less<>> corpus;
  if (!std::filesystem::is_directory(dir)) return corpus;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    corpus.emplace(
        entry.path().stem().string(),
        JsonValue::parse(files::read_file(entry.path(), "corpus file"), entry.path().string()));
  }
  return corpus;
}

}  // namespace simulator_internal

namespace {

using simulator_internal::split_path;

constexpr std::string_view kRoles[] = {"filter",  "filter_expression",
                                       "sort_by", "sort_order",
                                       "page",    "per_page",
                                       "offset",  "limit",
                                       "cursor",  "ignore"};
constexpr std::string_view kOps[] = {"eq", "ne", "gt", "gte", "lt", "lte", "in"};
constexpr std::string_view kStyles[] = {
    "none", "page_number", "page_number_with_link_header", "offset_limit", "cursor", "next_link"};

template <std::size_t N>
bool one_of(std::string_view value, const std::string_view (&values)[N]) {
  return std::find(std::begin(values), std::end(values), value) != std::end(values);
}

JsonValue yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      JsonValue::Object object;
      for (const auto& item : node)
        object.emplace(item.first.as<std::string>(), yaml_to_json(item.second));
      return JsonValue(std::move(object));
    }
    case YAML::NodeType::Sequence: {
      JsonValue::Array array;
      for (const auto& item : node) array.push_back(yaml_to_json(item));
      return JsonValue(std::move(array));
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() == "!") return JsonValue(text);  // quoted
      if (text == "null" || text == "~") return JsonValue();
      if (text == "true") return JsonValue(true);
      if (text == "false") return JsonValue(false);
      std::int64_t integer = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), integer);
      if (error == std::errc() && end == text.data() + text.size()) return JsonValue(integer);
      return JsonValue(text);
    }
    default:
      return JsonValue();
  }
}

class SpecReader {
 public:
  SpecReader(std::string_view what, std::size_t index, std::string path)
      : what_(what), index_(index), path_(std::move(path)) {}
  [[noreturn]] void fail(std::string_view message) const {
    throw ConfigError(fmt::format("{}: endpoint #{} ({}): {}", what_, index_, path_, message));
  }
  void known(const YAML::Node& node, std::initializer_list<std::string_view> keys,
             std::string_view where) const {
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>();
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        fail(fmt::format("unknown key '{}' in {} (known: {})", key, where, fmt::join(keys, ", ")));
      }
    }
  }
  std::int64_t integer(const YAML::Node& node, std::string_view key) const {
    try {
      return node.as<std::int64_t>();
    } catch (const YAML::Exception&) {
      fail(fmt::format("'{}' must be an integer", key));
    }
  }

 private:
  std::string_view what_;
  std::size_t index_;
  std::string path_;
};

std::vector<std::string> string_list(const YAML::Node& node) {
  std::vector<std::string> out;
  if (!node) return out;
  if (node.IsSequence()) {
    for (const auto& item : node) out.push_back(item.as<std::string>());
  } else if (node.IsScalar()) {
    out.push_back(node.as<std::string>());
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> string_map(const YAML::Node& node) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!node || !node.IsMap()) return out;
  for (const auto& item : node)
    out.emplace_back(item.first.as<std::string>(), item.second.as<std::string>());
  return out;
}

Endpoint read_endpoint(const YAML::Node& node, std::size_t index, std::string_view what) {
  Endpoint endpoint;
  if (!node.IsMap() || !node["path"]) {
    throw ConfigError(fmt::format("{}: endpoint #{} needs a 'path'", what, index));
  }
  endpoint.path = node["path"].as<std::string>();
  const SpecReader reader(what, index, endpoint.path);
  reader.known(node,
               {"path", "method", "corpus", "handler", "strict_params", "response", "params",
                "synthesize_future_records", "lookup", "write", "inject", "rate_limit"},
               "the endpoint");
  if (node["handler"]) {
    reader.fail(
        "'handler' (a Python function) is not supported; describe the answer with response, "
        "lookup, write and inject");
  }
  endpoint.segments = split_path(endpoint.path);
  if (node["method"]) {
    endpoint.method = node["method"].as<std::string>();
    for (char& c : endpoint.method)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (node["corpus"]) endpoint.corpus = node["corpus"].as<std::string>();
  if (node["strict_params"]) endpoint.strict_params = node["strict_params"].as<bool>();
  for (const auto& [placeholder, field] : string_map(node["lookup"])) {
    if (std::find(endpoint.segments.begin(), endpoint.segments.end(), "{" + placeholder + "}") ==
        endpoint.segments.end()) {
      reader.fail(
          fmt::format("lookup names '{}', which is not a placeholder of the path", placeholder));
    }
    endpoint.lookup.emplace(placeholder, field);
  }
  if (const YAML::Node write = node["write"]) {
    reader.known(write, {"id_fields", "timestamp_fields", "timestamp_precision", "defaults"},
                 "write");
    endpoint.writes = true;
    endpoint.id_fields = string_list(write["id_fields"]);
    endpoint.timestamp_fields = string_list(write["timestamp_fields"]);
    if (write["defaults"]) endpoint.defaults = yaml_to_json(write["defaults"]);
    if (write["timestamp_precision"]) {
      const std::string precision = write["timestamp_precision"].as<std::string>();
      if (precision != "seconds" && precision != "milliseconds") {
        reader.fail("write.timestamp_precision must be seconds or milliseconds");
      }
      endpoint.timestamp_digits = precision == "milliseconds" ? 3 : 0;
    }
  }
  if (const YAML::Node response = node["response"]) {
    reader.known(response,
                 {"pagination_style", "default_sort", "single_entity", "wrapper", "next_cursor_key",
                  "next_link_key", "status", "headers", "expected_status_codes"},
                 "response");
    if (response["pagination_style"]) {
      endpoint.pagination_style = response["pagination_style"].as<std::string>();
      if (!one_of(endpoint.pagination_style, kStyles)) {
        reader.fail(fmt::format("pagination_style '{}' is not one of {}", endpoint.pagination_style,
                                fmt::join(kStyles, ", ")));
      }
    }
    if (response["default_sort"]) {
      const std::string sort = response["default_sort"].as<std::string>();
      const std::size_t space = sort.find(' ');
      const std::string order = space == std::string::npos ? "asc" : sort.substr(space + 1);
      if (order != "asc" && order != "desc") reader.fail("default_sort must be 'field [asc|desc]'");
      endpoint.default_sort = std::pair(sort.substr(0, space), order == "desc");
    }
    if (response["single_entity"]) endpoint.single_entity = response["single_entity"].as<bool>();
    if (const YAML::Node wrapper = response["wrapper"]) {
      reader.known(wrapper, {"records_key", "extras", "ignore_extra_keys"}, "wrapper");
      if (wrapper["records_key"]) endpoint.records_key = wrapper["records_key"].as<std::string>();
      if (wrapper["extras"]) endpoint.extras = yaml_to_json(wrapper["extras"]);
    }
    if (response["next_cursor_key"])
      endpoint.next_cursor_key = response["next_cursor_key"].as<std::string>();
    if (response["next_link_key"])
      endpoint.next_link_key = response["next_link_key"].as<std::string>();
    if (response["status"])
      endpoint.status = static_cast<int>(reader.integer(response["status"], "status"));
    endpoint.headers = string_map(response["headers"]);
  }
  if (const YAML::Node params = node["params"]) {
    for (const auto& item : params) {
      EndpointParam param;
      param.name = item.first.as<std::string>();
      const YAML::Node spec = item.second;
      reader.known(spec, {"role", "field", "op", "default", "max", "options"},
                   fmt::format("param '{}'", param.name));
      param.role = spec["role"] ? spec["role"].as<std::string>() : "";
      if (!one_of(param.role, kRoles)) {
        reader.fail(fmt::format("param '{}': role '{}' is not one of {}", param.name, param.role,
                                fmt::join(kRoles, ", ")));
      }
      if (param.role != "filter" && param.role != "ignore") {
        for (const EndpointParam& other : endpoint.params) {
          if (other.role == param.role) {
            reader.fail(fmt::format("params '{}' and '{}' both have role '{}'; one is allowed",
                                    other.name, param.name, param.role));
          }
        }
      }
      if (param.role == "filter") {
        if (!spec["field"])
          reader.fail(fmt::format("filter param '{}' needs a 'field'", param.name));
        param.field = spec["field"].as<std::string>();
        param.op = spec["op"] ? spec["op"].as<std::string>() : "eq";
        if (!one_of(param.op, kOps)) {
          reader.fail(fmt::format("param '{}': op '{}' is not one of {}", param.name, param.op,
                                  fmt::join(kOps, ", ")));
        }
      }
      if (param.role == "filter_expression" && !spec["options"]) {
        reader.fail(fmt::format(
            "filter_expression param '{}' needs 'options': the names an expression may use, each "
            "mapped to a record field",
            param.name));
      }
      if (spec["default"]) param.default_value = reader.integer(spec["default"], "default");
      if (spec["max"]) param.max = reader.integer(spec["max"], "max");
      if (const YAML::Node options = spec["options"]) {
        if (options.IsMap()) {
          for (const auto& [k, v] : string_map(options)) param.options.emplace(k, v);
        } else {
          for (const std::string& v : string_list(options)) param.options.emplace(v, v);
        }
      }
      endpoint.params.push_back(std::move(param));
    }
  }
  if (const YAML::Node future = node["synthesize_future_records"]) {
    reader.known(future, {"cursor_field", "count"}, "synthesize_future_records");
    endpoint.future_records = std::pair(future["cursor_field"].as<std::string>(),
                                        static_cast<int>(reader.integer(future["count"], "count")));
  }
  if (const YAML::Node inject = node["inject"]) {
    for (const auto& item : inject) {
      reader.known(item, {"on_calls", "status", "headers", "body"}, "inject");
      InjectedAnswer answer;
      if (item["on_calls"])
        for (const auto& call : item["on_calls"])
          answer.on_calls.insert(reader.integer(call, "on_calls"));
      if (item["status"])
        answer.status = static_cast<int>(reader.integer(item["status"], "status"));
      answer.headers = string_map(item["headers"]);
      if (item["body"]) answer.body = yaml_to_json(item["body"]).dump();
      endpoint.inject.push_back(std::move(answer));
    }
  }
  if (const YAML::Node limit = node["rate_limit"]) {
    reader.known(limit, {"limit", "window_seconds"}, "rate_limit");
    endpoint.rate_limit = std::pair(
        reader.integer(limit["limit"], "limit"),
        limit["window_seconds"] ? reader.integer(limit["window_seconds"], "window_seconds") : 3600);
  }
  const bool pages = endpoint.pagination_style != "none";
  if (pages &&
      (endpoint.pagination_style == "cursor" || endpoint.pagination_style == "next_link") &&
      endpoint.param_with_role("cursor") == nullptr) {
    reader.fail(fmt::format("pagination_style {} needs a param with role cursor",
                            endpoint.pagination_style));
  }
  if (endpoint.pagination_style == "cursor" && endpoint.next_cursor_key.empty()) {
    reader.fail("pagination_style cursor needs response.next_cursor_key");
  }
  if (endpoint.pagination_style == "next_link" && endpoint.next_link_key.empty()) {
    reader.fail("pagination_style next_link needs response.next_link_key");
  }
  return endpoint;
}

// The value at a dotted path, or null.
}  // namespace

// ----- Spec
// ---------------------------------------------------------------------------------------

const EndpointParam* Endpoint::param_with_role(std::string_view role) const {
  for (const EndpointParam& p : params) {
    if (p.role == role) return &p;
  }
  return nullptr;
}

const EndpointParam* Endpoint::param(std::string_view name) const {
  for (const EndpointParam& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

EndpointSpec EndpointSpec::load(const std::string& path) {
  return parse(files::read_file(path, "endpoint spec"), path);
}

EndpointSpec EndpointSpec::parse(std::string_view yaml, std::string_view what) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& error) {
    throw ConfigError(fmt::format("{}: not valid YAML: {}", what, error.what()));
  }
  if (!root.IsMap() || !root["endpoints"] || !root["endpoints"].IsSequence()) {
    throw ConfigError(fmt::format("{}: expected a mapping with an 'endpoints' list", what));
  }
  EndpointSpec spec;
  std::size_t index = 0;
  try {
    for (const auto& node : root["endpoints"])
      spec.endpoints_.push_back(read_endpoint(node, index++, what));
  } catch (const YAML::Exception& error) {
    throw ConfigError(fmt::format("{}: endpoint #{}: {}", what, index - 1, error.what()));
  }
  return spec;
}

std::optional<std::size_t> EndpointSpec::match(std::string_view method, std::string_view path,
                                               std::map<std::string, std::string>* captures) const {
  const std::vector<std::string> segments = split_path(path);
  for (std::size_t i = 0; i < endpoints_.size(); ++i) {
    const Endpoint& endpoint = endpoints_[i];
    if (endpoint.method != method || endpoint.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> found;
    bool ok = true;
    for (std::size_t s = 0; s < segments.size() && ok; ++s) {
      const std::string& pattern = endpoint.segments[s];
      if (pattern.size() > 2 && pattern.front() == '{' && pattern.back() == '}') {
        found[pattern.substr(1, pattern.size() - 2)] = percent_decode(segments[s]);
      } else {
        ok = pattern == segments[s];
      }
    }
    if (!ok) continue;
    if (captures != nullptr) *captures = std::move(found);
    return i;
  }
  return std::nullopt;
}

}  // namespace lakeflow::http
