// The simulated source, endpoint specs, coverage and drift (see lakeflow/http/simulator.h).
#include "lakeflow/http/simulator.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>

#include "lakeflow/http/encoding.h"
#include "lakeflow/http/test_mode.h"
#include "lakeflow/http/url.h"
#include "lakeflow/instant.h"
#include "util/files.h"

namespace lakeflow::http {
namespace {

constexpr std::string_view kRoles[] = {"filter", "sort_by", "sort_order", "page",  "per_page",
                                       "offset", "limit",   "cursor",     "ignore"};
constexpr std::string_view kOps[] = {"eq", "ne", "gt", "gte", "lt", "lte", "in"};
constexpr std::string_view kStyles[] = {
    "none", "page_number", "page_number_with_link_header", "offset_limit", "cursor", "next_link"};

template <std::size_t N>
bool one_of(std::string_view value, const std::string_view (&values)[N]) {
  return std::find(std::begin(values), std::end(values), value) != std::end(values);
}

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

std::optional<std::int64_t> to_int(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// -1, 0, 1 comparing a record's value with a query's text coerced to its type; nullopt when
// they cannot be compared.
std::optional<int> compare(const JsonValue& value, std::string_view text) {
  if (value.is_bool()) {
    const bool wanted = text == "true" || text == "1" || text == "yes";
    return value.as_bool() == wanted ? 0 : (value.as_bool() ? 1 : -1);
  }
  if (value.is_int()) {
    const auto wanted = to_int(text);
    if (!wanted) return std::nullopt;
    return value.as_int() < *wanted ? -1 : value.as_int() > *wanted ? 1 : 0;
  }
  if (value.is_double()) {
    char* end = nullptr;
    const std::string copy(text);
    const double wanted = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size()) return std::nullopt;
    return value.as_double() < wanted ? -1 : value.as_double() > wanted ? 1 : 0;
  }
  if (value.is_string()) {
    // Timestamps compare as instants (`...:51.123Z` is after `...:51Z`), other text as text.
    const std::optional<std::int64_t> a = parse_instant(value.as_string());
    const std::optional<std::int64_t> b = a ? parse_instant(text) : std::nullopt;
    if (a && b) return *a < *b ? -1 : *a > *b ? 1 : 0;
    const int c = value.as_string().compare(text);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return std::nullopt;
}

bool matches(const JsonValue* value, const EndpointParam& param, std::string_view text) {
  if (value == nullptr || value->is_null()) return param.op == "ne";
  if (param.op == "in") {
    const std::string wanted = value->is_string() ? value->as_string() : value->dump();
    std::string_view rest = text;
    while (true) {
      const std::size_t comma = rest.find(',');
      if (rest.substr(0, comma) == wanted) return true;
      if (comma == std::string_view::npos) return false;
      rest.remove_prefix(comma + 1);
    }
  }
  const std::optional<int> c = compare(*value, text);
  if (!c) return false;
  if (param.op == "eq") return *c == 0;
  if (param.op == "ne") return *c != 0;
  if (param.op == "gt") return *c > 0;
  if (param.op == "gte") return *c >= 0;
  if (param.op == "lt") return *c < 0;
  return *c <= 0;  // lte
}

// Records sort by value with missing values last (ascending).
bool less_value(const JsonValue* a, const JsonValue* b) {
  const bool a_missing = a == nullptr || a->is_null();
  const bool b_missing = b == nullptr || b->is_null();
  if (a_missing || b_missing) return !a_missing && b_missing;
  if (a->is_number() && b->is_number()) return a->as_double() < b->as_double();
  if (a->is_string() && b->is_string()) {
    const std::optional<std::int64_t> x = parse_instant(a->as_string());
    const std::optional<std::int64_t> y = x ? parse_instant(b->as_string()) : std::nullopt;
    if (x && y) return *x < *y;
    return a->as_string() < b->as_string();
  }
  return a->dump() < b->dump();
}

std::string now_iso(std::int64_t plus_seconds = 0, int fraction_digits = 0) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  std::int64_t micros = now.time_since_epoch().count() + plus_seconds * 1000000;
  if (fraction_digits == 0) micros -= micros % 1000000;
  if (fraction_digits == 3) micros -= micros % 1000;
  return format_instant(micros, fraction_digits);
}

std::string cursor_token(std::int64_t offset) {
  return base64url_encode(fmt::format("offset:{}", offset));
}

std::optional<std::int64_t> cursor_offset(std::string_view token) {
  const std::optional<std::string> text = base64url_decode(token);
  if (!text || !text->starts_with("offset:")) return std::nullopt;
  return to_int(std::string_view(*text).substr(7));
}

WireResponse json_answer(int status, const JsonValue& body) {
  return WireResponse{status, {{"content-type", "application/json"}}, body.dump()};
}

WireResponse error_answer(int status, std::string message) {
  return json_answer(status, JsonValue(JsonValue::Object{{"message", JsonValue(std::move(message))},
                                                         {"status", JsonValue(status)}}));
}

std::string json_type(const JsonValue& value) {
  if (value.is_null()) return "null";
  if (value.is_bool()) return "boolean";
  if (value.is_int()) return "integer";
  if (value.is_double()) return "number";
  if (value.is_string()) return "string";
  if (value.is_array()) return "array";
  return "object";
}

void collect_fields(const JsonValue& value, const std::string& path,
                    std::map<std::string, std::set<std::string>>& out) {
  if (!path.empty()) out[path].insert(json_type(value));
  if (value.is_object()) {
    for (const auto& [key, child] : value.as_object()) {
      collect_fields(child, path.empty() ? key : path + "." + key, out);
    }
  } else if (value.is_array()) {
    for (const JsonValue& child : value.as_array()) collect_fields(child, path + "[]", out);
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

// ----- Coverage and drift
// -------------------------------------------------------------------------

std::optional<std::size_t> CoverageTracker::observe(std::string_view method, std::string_view url) {
  const std::optional<std::size_t> index = spec_->match(method, path_of(url));
  std::lock_guard lock(mutex_);
  if (!index) {
    ++unmatched_[fmt::format("{} {}", method, split_url(url).base)];
    return index;
  }
  ++calls_[*index];
  std::set<std::string> names;
  for (const auto& [name, value] : split_url(url).query) names.insert(name);
  std::set<std::string>& shapes = shapes_[*index];
  if (shapes.size() < 5) shapes.insert(fmt::format("{}", fmt::join(names, ",")));
  return index;
}

JsonValue CoverageTracker::report() const {
  std::lock_guard lock(mutex_);
  JsonValue::Array endpoints;
  JsonValue::Array not_exercised;
  for (std::size_t i = 0; i < spec_->endpoints().size(); ++i) {
    const Endpoint& endpoint = spec_->endpoints()[i];
    const auto calls = calls_.find(i);
    if (calls == calls_.end()) {
      not_exercised.emplace_back(fmt::format("{} {}", endpoint.method, endpoint.path));
      continue;
    }
    JsonValue::Array shapes;
    if (const auto it = shapes_.find(i); it != shapes_.end()) {
      for (const std::string& shape : it->second) shapes.emplace_back(shape);
    }
    endpoints.emplace_back(JsonValue::Object{{"method", JsonValue(endpoint.method)},
                                             {"path", JsonValue(endpoint.path)},
                                             {"calls", JsonValue(calls->second)},
                                             {"query_shapes", JsonValue(std::move(shapes))}});
  }
  JsonValue::Array no_endpoint;
  for (const auto& [request, calls] : unmatched_) {
    no_endpoint.emplace_back(
        JsonValue::Object{{"request", JsonValue(request)}, {"calls", JsonValue(calls)}});
  }
  return JsonValue(JsonValue::Object{{"version", JsonValue(1)},
                                     {"endpoints", JsonValue(std::move(endpoints))},
                                     {"not_exercised", JsonValue(std::move(not_exercised))},
                                     {"no_endpoint", JsonValue(std::move(no_endpoint))}});
}

DriftTracker::DriftTracker(std::shared_ptr<const EndpointSpec> spec, const std::string& corpus_dir)
    : spec_(std::move(spec)) {
  for (const auto& [name, value] : load_corpus(corpus_dir)) {
    auto& fields = corpus_fields_[name];
    if (value.is_array()) {
      for (const JsonValue& record : value.as_array()) collect_fields(record, "", fields);
    } else {
      collect_fields(value, "", fields);
    }
  }
}

void DriftTracker::observe(std::string_view method, std::string_view url, int status,
                           std::string_view body) {
  if (status < 200 || status >= 300) return;
  const std::optional<std::size_t> index = spec_->match(method, path_of(url));
  if (!index || spec_->endpoints()[*index].corpus.empty()) return;
  JsonValue parsed;
  try {
    parsed = JsonValue::parse(body, "response");
  } catch (const Error&) {
    return;
  }
  std::map<std::string, std::set<std::string>> fields;
  for (const JsonValue* record : records_of(parsed, spec_->endpoints()[*index])) {
    collect_fields(*record, "", fields);
  }
  std::lock_guard lock(mutex_);
  ++responses_[*index];
  auto& live = live_fields_[*index];
  for (auto& [field, types] : fields) live[field].insert(types.begin(), types.end());
}

JsonValue DriftTracker::report() const {
  std::lock_guard lock(mutex_);
  JsonValue::Array endpoints;
  for (const auto& [index, live] : live_fields_) {
    const Endpoint& endpoint = spec_->endpoints()[index];
    const auto corpus = corpus_fields_.find(endpoint.corpus);
    static const std::map<std::string, std::set<std::string>> kNone;
    const auto& known = corpus == corpus_fields_.end() ? kNone : corpus->second;
    JsonValue::Array missing;
    JsonValue::Array mismatched;
    for (const auto& [field, types] : live) {
      const auto it = known.find(field);
      std::set<std::string> live_types = types;
      live_types.erase("null");
      if (it == known.end()) {
        missing.emplace_back(
            JsonValue::Object{{"field", JsonValue(field)},
                              {"type", JsonValue(fmt::format("{}", fmt::join(types, "|")))}});
        continue;
      }
      std::set<std::string> corpus_types = it->second;
      corpus_types.erase("null");
      if (!live_types.empty() && !corpus_types.empty() && live_types != corpus_types) {
        mismatched.emplace_back(JsonValue::Object{
            {"field", JsonValue(field)},
            {"live", JsonValue(fmt::format("{}", fmt::join(live_types, "|")))},
            {"corpus", JsonValue(fmt::format("{}", fmt::join(corpus_types, "|")))}});
      }
    }
    endpoints.emplace_back(
        JsonValue::Object{{"method", JsonValue(endpoint.method)},
                          {"path", JsonValue(endpoint.path)},
                          {"corpus", JsonValue(endpoint.corpus)},
                          {"responses", JsonValue(responses_.at(index))},
                          {"missing_fields", JsonValue(std::move(missing))},
                          {"type_mismatches", JsonValue(std::move(mismatched))}});
  }
  return JsonValue(
      JsonValue::Object{{"version", JsonValue(1)}, {"endpoints", JsonValue(std::move(endpoints))}});
}

ObservingTransport::ObservingTransport(std::shared_ptr<Transport> inner,
                                       std::shared_ptr<CoverageTracker> coverage,
                                       std::shared_ptr<DriftTracker> drift)
    : inner_(std::move(inner)), coverage_(std::move(coverage)), drift_(std::move(drift)) {}

std::optional<WireResponse> ObservingTransport::exchange(const Request& wire,
                                                         const Redactor& redactor,
                                                         const LiveExchange& live) {
  const std::string method(to_string(wire.method));
  if (coverage_) coverage_->observe(method, wire.url);
  std::optional<WireResponse> response =
      inner_ ? inner_->exchange(wire, redactor, live) : live(wire);
  if (response && drift_) drift_->observe(method, wire.url, response->status, response->body);
  return response;
}

// ----- The simulated source
// -----------------------------------------------------------------------

std::shared_ptr<SimulatedSource> SimulatedSource::load(const std::string& dir) {
  const std::filesystem::path root(dir);
  const std::filesystem::path spec_path = root / "endpoints.yaml";
  if (!std::filesystem::is_regular_file(spec_path)) {
    throw ConfigError(fmt::format(
        "simulator folder '{}' has no endpoints.yaml; write one (see lakeflow/http/simulator.h) "
        "with a corpus/ folder of records beside it",
        dir));
  }
  EndpointSpec spec = EndpointSpec::load(spec_path.string());
  auto corpus = load_corpus(root / "corpus");
  for (const Endpoint& endpoint : spec.endpoints()) {
    if (!endpoint.corpus.empty() && !corpus.contains(endpoint.corpus)) {
      if (endpoint.writes || !endpoint.lookup.empty()) {
        corpus.emplace(endpoint.corpus, JsonValue(JsonValue::Array{}));
        continue;
      }
      throw ConfigError(fmt::format("{}: endpoint {} {} names corpus '{}', but {} does not exist",
                                    spec_path.string(), endpoint.method, endpoint.path,
                                    endpoint.corpus,
                                    (root / "corpus" / (endpoint.corpus + ".json")).string()));
    }
  }
  return std::make_shared<SimulatedSource>(std::move(spec), std::move(corpus));
}

SimulatedSource::SimulatedSource(EndpointSpec spec,
                                 std::map<std::string, JsonValue, std::less<>> corpus)
    : spec_(std::make_shared<const EndpointSpec>(std::move(spec))),
      coverage_(std::make_shared<CoverageTracker>(spec_)),
      corpus_(std::move(corpus)) {
  // Future records (see synthesize_future_records): clones of the last record, later than now.
  for (const Endpoint& endpoint : spec_->endpoints()) {
    if (!endpoint.future_records) continue;
    auto it = corpus_.find(endpoint.corpus);
    if (it == corpus_.end() || !it->second.is_array() || it->second.as_array().empty()) continue;
    JsonValue::Array& records = it->second.as_array();
    const auto& [field, count] = *endpoint.future_records;
    const JsonValue last = records.back();
    const auto future = [&](const JsonValue& record) {
      const JsonValue* value = get_field(record, field);
      return value != nullptr && value->is_string() && value->as_string() > now_iso();
    };
    if (std::any_of(records.begin(), records.end(), future)) continue;  // once per corpus
    for (int i = 0; i < count; ++i) {
      JsonValue clone = last;
      set_field(clone, field, JsonValue(now_iso(3600LL * (i + 1))));
      records.push_back(std::move(clone));
    }
  }
}

JsonValue SimulatedSource::corpus(std::string_view name) const {
  std::lock_guard lock(mutex_);
  const auto it = corpus_.find(name);
  return it == corpus_.end() ? JsonValue() : it->second;
}

std::optional<WireResponse> SimulatedSource::exchange(const Request& wire, const Redactor&,
                                                      const LiveExchange&) {
  return answer(to_string(wire.method), wire.url, wire.body);
}

WireResponse SimulatedSource::answer(std::string_view method, std::string_view url,
                                     std::string_view body) {
  std::map<std::string, std::string> captures;
  const std::string path = path_of(url);
  const std::optional<std::size_t> index = spec_->match(method, path, &captures);
  coverage_->observe(method, url);
  if (!index) {
    throw SimulatorError(fmt::format(
        "simulator: no endpoint in endpoints.yaml answers {} {} (every request a connector makes "
        "must be in the spec: add an endpoint for it)",
        method, path));
  }
  const Endpoint& endpoint = spec_->endpoints()[*index];
  std::lock_guard lock(mutex_);
  const std::int64_t call = ++calls_[*index];
  ++total_calls_;
  WireResponse response;
  bool injected = false;
  for (const InjectedAnswer& inject : endpoint.inject) {
    if (!inject.on_calls.contains(call)) continue;
    response.status = inject.status;
    response.headers.emplace_back("content-type", "application/json");
    for (const auto& [name, value] : inject.headers) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers.emplace_back(lower, value);
    }
    response.body =
        inject.body.empty() ? error_answer(inject.status, "injected").body : inject.body;
    injected = true;
    break;
  }
  if (!injected) response = serve(endpoint, *index, url, captures, body);
  if (endpoint.rate_limit) {
    const auto [limit, window] = *endpoint.rate_limit;
    const std::int64_t used = std::min(total_calls_, limit);
    // After the limit's last call, nothing remains until the reset.
    const auto reset = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() +
                       window;
    response.headers.emplace_back("x-ratelimit-limit", std::to_string(limit));
    response.headers.emplace_back("x-ratelimit-remaining", std::to_string(limit - used));
    response.headers.emplace_back("x-ratelimit-used", std::to_string(used));
    response.headers.emplace_back("x-ratelimit-reset", std::to_string(reset));
    if (total_calls_ > limit) {
      // GitHub's primary limit: 403, nothing remaining until the reset; the window then starts
      // again (at once: a simulation has no reason to make a test wait).
      response.status = 403;
      response.headers.emplace_back("retry-after", "0");
      response.body = error_answer(403, "API rate limit exceeded (simulated)").body;
      for (auto& [name, value] : response.headers) {
        if (name == "x-ratelimit-reset") value = std::to_string(reset - window);
      }
      total_calls_ = 0;
    }
  }
  for (const auto& [name, value] : endpoint.headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    response.headers.emplace_back(lower, value);
  }
  return response;
}

WireResponse SimulatedSource::serve(const Endpoint& endpoint, std::size_t /*index*/,
                                    std::string_view url,
                                    const std::map<std::string, std::string>& captures,
                                    std::string_view body) {
  const SplitUrl split = split_url(url);
  std::map<std::string, std::string> query;
  for (const auto& [name, value] : split.query) query.emplace(name, value);
  if (endpoint.strict_params) {
    for (const auto& [name, value] : query) {
      if (endpoint.param(name) == nullptr) {
        return error_answer(400, fmt::format("unknown query parameter '{}'", name));
      }
    }
  }
  JsonValue* corpus = nullptr;
  if (!endpoint.corpus.empty()) {
    const auto it = corpus_.find(endpoint.corpus);
    if (it != corpus_.end()) corpus = &it->second;
  }
  if (corpus == nullptr) return json_answer(endpoint.status, JsonValue(JsonValue::Object{}));
  if (endpoint.single_entity) return json_answer(endpoint.status, *corpus);
  if (!corpus->is_array())
    return error_answer(500, fmt::format("corpus '{}' is not an array", endpoint.corpus));
  JsonValue::Array& records = corpus->as_array();

  // One record addressed by the path.
  if (!endpoint.lookup.empty()) {
    const auto found = std::find_if(records.begin(), records.end(), [&](const JsonValue& record) {
      for (const auto& [placeholder, field] : endpoint.lookup) {
        const JsonValue* value = get_field(record, field);
        const auto wanted = captures.find(placeholder);
        if (value == nullptr || wanted == captures.end()) return false;
        const std::optional<int> c = compare(*value, wanted->second);
        if (!c || *c != 0) return false;
      }
      return true;
    });
    if (found == records.end()) return error_answer(404, "Not Found");
    if (endpoint.method == "DELETE") {
      records.erase(found);
      return WireResponse{204, {}, ""};
    }
    if (endpoint.method == "PATCH" || endpoint.method == "PUT") {
      const JsonValue changes = JsonValue::parse(body.empty() ? "{}" : body, "request body");
      if (!changes.is_object()) return error_answer(422, "the body must be a JSON object");
      for (const auto& [key, value] : changes.as_object()) (*found)[key] = value;
      for (const std::string& field : endpoint.timestamp_fields)
        set_field(*found, field, JsonValue(now_iso(0, endpoint.timestamp_digits)));
    }
    return json_answer(endpoint.status, *found);
  }

  // A create.
  if (endpoint.method == "POST" && endpoint.writes) {
    JsonValue record = JsonValue::parse(body.empty() ? "{}" : body, "request body");
    if (!record.is_object()) return error_answer(422, "the body must be a JSON object");
    if (endpoint.defaults.is_object()) {
      for (const auto& [key, value] : endpoint.defaults.as_object()) {
        if (record.find(key) == nullptr) record[key] = value;
      }
    }
    for (const std::string& field : endpoint.id_fields) {
      std::int64_t largest = 0;
      for (const JsonValue& other : records) {
        const JsonValue* value = get_field(other, field);
        if (value != nullptr && value->is_int()) largest = std::max(largest, value->as_int());
      }
      set_field(record, field, JsonValue(largest + 1));
    }
    for (const std::string& field : endpoint.timestamp_fields)
      set_field(record, field, JsonValue(now_iso(0, endpoint.timestamp_digits)));
    records.push_back(record);
    return json_answer(endpoint.status == 200 ? 201 : endpoint.status, record);
  }

  // A collection read: filter, sort, paginate, wrap.
  std::vector<const JsonValue*> selected;
  for (const JsonValue& record : records) {
    bool keep = true;
    for (const EndpointParam& param : endpoint.params) {
      if (param.role != "filter") continue;
      const auto value = query.find(param.name);
      if (value == query.end()) continue;
      if (!matches(get_field(record, param.field), param, value->second)) {
        keep = false;
        break;
      }
    }
    if (keep) selected.push_back(&record);
  }
  std::optional<std::pair<std::string, bool>> sort = endpoint.default_sort;
  if (const EndpointParam* by = endpoint.param_with_role("sort_by")) {
    if (const auto value = query.find(by->name); value != query.end()) {
      const auto option = by->options.find(value->second);
      if (by->options.empty()) {
        sort = std::pair(value->second, sort ? sort->second : false);
      } else if (option != by->options.end()) {
        sort = std::pair(option->second, sort ? sort->second : false);
      }
    }
  }
  if (const EndpointParam* order = endpoint.param_with_role("sort_order")) {
    if (const auto value = query.find(order->name); value != query.end() && sort) {
      if (value->second == "asc" || value->second == "desc") sort->second = value->second == "desc";
    }
  }
  if (sort) {
    const auto& [field, descending] = *sort;
    std::stable_sort(selected.begin(), selected.end(), [&](const JsonValue* a, const JsonValue* b) {
      const JsonValue* x = get_field(*a, field);
      const JsonValue* y = get_field(*b, field);
      return descending ? less_value(y, x) : less_value(x, y);
    });
  }

  const std::string& style = endpoint.pagination_style;
  const auto int_param = [&](const EndpointParam* param, std::int64_t fallback) -> std::int64_t {
    if (param == nullptr) return fallback;
    const auto value = query.find(param->name);
    std::int64_t result = param->default_value.value_or(fallback);
    if (value != query.end()) {
      if (const auto parsed = to_int(value->second)) result = *parsed;
    }
    return result;
  };
  const auto total = static_cast<std::int64_t>(selected.size());
  std::int64_t offset = 0;
  std::int64_t limit = total;
  if (style == "page_number" || style == "page_number_with_link_header" || style == "cursor" ||
      style == "next_link") {
    const EndpointParam* size = endpoint.param_with_role("per_page");
    if (size == nullptr) size = endpoint.param_with_role("limit");
    limit = std::clamp<std::int64_t>(int_param(size, 30), 1,
                                     size != nullptr && size->max ? *size->max : 1000000);
    if (style == "cursor" || style == "next_link") {
      const EndpointParam* cursor = endpoint.param_with_role("cursor");
      if (const auto value = query.find(cursor->name);
          value != query.end() && !value->second.empty()) {
        const std::optional<std::int64_t> at = cursor_offset(value->second);
        if (!at) return error_answer(400, fmt::format("invalid cursor '{}'", value->second));
        offset = *at;
      }
    } else {
      offset =
          (std::max<std::int64_t>(int_param(endpoint.param_with_role("page"), 1), 1) - 1) * limit;
    }
  } else if (style == "offset_limit") {
    const EndpointParam* size = endpoint.param_with_role("limit");
    limit = std::clamp<std::int64_t>(int_param(size, 30), 1,
                                     size != nullptr && size->max ? *size->max : 1000000);
    offset = std::max<std::int64_t>(int_param(endpoint.param_with_role("offset"), 0), 0);
  }
  JsonValue::Array page;
  for (std::int64_t i = offset; i < std::min(total, offset + limit); ++i)
    page.push_back(*selected[static_cast<std::size_t>(i)]);
  const bool more = offset + limit < total;

  WireResponse response = json_answer(endpoint.status, JsonValue());
  JsonValue result(std::move(page));
  if (!endpoint.records_key.empty() || !endpoint.next_cursor_key.empty() ||
      !endpoint.next_link_key.empty()) {
    JsonValue wrapped =
        endpoint.extras.is_object() ? endpoint.extras : JsonValue(JsonValue::Object{});
    set_field(wrapped, endpoint.records_key.empty() ? "items" : endpoint.records_key,
              std::move(result));
    if (style == "cursor") {
      set_field(wrapped, endpoint.next_cursor_key,
                more ? JsonValue(cursor_token(offset + limit)) : JsonValue());
    } else if (style == "next_link") {
      const EndpointParam* cursor = endpoint.param_with_role("cursor");
      set_field(wrapped, endpoint.next_link_key,
                more ? JsonValue(with_query_param(url, cursor->name, cursor_token(offset + limit)))
                     : JsonValue());
    }
    result = std::move(wrapped);
  }
  if (style == "page_number_with_link_header") {
    const EndpointParam* page_param = endpoint.param_with_role("page");
    const std::string page_name = page_param != nullptr ? page_param->name : "page";
    const std::int64_t current = offset / limit + 1;
    const std::int64_t last = std::max<std::int64_t>((total + limit - 1) / limit, 1);
    std::vector<std::string> links;
    const auto link = [&](std::int64_t number, std::string_view rel) {
      links.push_back(fmt::format("<{}>; rel=\"{}\"",
                                  with_query_param(url, page_name, std::to_string(number)), rel));
    };
    if (current > 1) {
      link(current - 1, "prev");
      link(1, "first");
    }
    if (more) {
      link(current + 1, "next");
      link(last, "last");
    }
    if (!links.empty())
      response.headers.emplace_back("link", fmt::format("{}", fmt::join(links, ", ")));
  }
  response.body = result.dump();
  return response;
}

}  // namespace lakeflow::http
