// The simulated source (see lakeflow/http/simulator.h): answers requests from the spec and corpus.
#include "lakeflow/http/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <vector>

#include "http/simulator_internal.h"
#include "lakeflow/files.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/http/test_mode.h"
#include "lakeflow/http/url.h"
#include "lakeflow/instant.h"

namespace lakeflow::http {
namespace {

using simulator_internal::get_field;
using simulator_internal::load_corpus;
using simulator_internal::path_of;
using simulator_internal::set_field;

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

// A filter expression (param role filter_expression): comparisons `name op value` (ops = != < <=
// > >=, the value quoted or bare) combined with AND, OR (which binds tighter, as in Google's
// AIP-160 filters) and NOT, grouped with parentheses. Names map to record fields through the
// param's options; a name not there is an error, as a server answers 400 to a field it cannot
// filter on.
class FilterExpression {
 public:
  // Returns the problem with `text`, or nullopt with the expression parsed.
  std::optional<std::string> parse(std::string_view text,
                                   const std::map<std::string, std::string>& fields) {
    text_ = text;
    fields_ = &fields;
    pos_ = 0;
    try {
      root_ = conjunction();
      skip_space();
      if (pos_ != text_.size()) fail("unexpected text");
    } catch (const std::invalid_argument& problem) {
      return std::string(problem.what());
    }
    return std::nullopt;
  }

  bool matches(const JsonValue& record) const { return evaluate(root_, record); }

 private:
  struct Node {
    enum class Kind : std::uint8_t { kCompare, kAnd, kOr, kNot } kind = Kind::kCompare;
    std::string field;
    std::string op;
    std::string value;
    std::vector<Node> children;
  };

  [[noreturn]] void fail(std::string_view what) const {
    throw std::invalid_argument(fmt::format("{} at character {} of '{}'", what, pos_ + 1, text_));
  }
  void skip_space() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }
  bool keyword(std::string_view word) {
    skip_space();
    if (text_.substr(pos_, word.size()) != word) return false;
    const std::size_t end = pos_ + word.size();
    if (end < text_.size() && text_[end] != ' ' && text_[end] != '(') return false;
    pos_ = end;
    return true;
  }
  Node conjunction() {
    Node node{Node::Kind::kAnd, {}, {}, {}, {}};
    node.children.push_back(disjunction());
    while (keyword("AND")) node.children.push_back(disjunction());
    return node;
  }
  Node disjunction() {
    Node node{Node::Kind::kOr, {}, {}, {}, {}};
    node.children.push_back(term());
    while (keyword("OR")) node.children.push_back(term());
    return node;
  }
  Node term() {
    if (keyword("NOT")) {
      Node node{Node::Kind::kNot, {}, {}, {}, {}};
      node.children.push_back(term());
      return node;
    }
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      ++pos_;
      Node inner = conjunction();
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ')') fail("missing ')'");
      ++pos_;
      return inner;
    }
    const std::size_t name_at = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0 ||
                                   text_[pos_] == '_' || text_[pos_] == '.')) {
      ++pos_;
    }
    if (pos_ == name_at) fail("expected a field name");
    const std::string name(text_.substr(name_at, pos_ - name_at));
    const auto field = fields_->find(name);
    if (field == fields_->end()) {
      pos_ = name_at;
      fail(fmt::format("'{}' is not a field this endpoint filters on", name));
    }
    skip_space();
    Node node{Node::Kind::kCompare, field->second, {}, {}, {}};
    for (const std::string_view op : {"<=", ">=", "!=", "=", "<", ">"}) {
      if (text_.substr(pos_, op.size()) == op) {
        node.op = std::string(op);
        pos_ += op.size();
        break;
      }
    }
    if (node.op.empty()) fail("expected one of = != < <= > >=");
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      const std::size_t close = text_.find('"', pos_ + 1);
      if (close == std::string_view::npos) fail("unterminated string");
      node.value = std::string(text_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
    } else {
      const std::size_t value_at = pos_;
      while (pos_ < text_.size() && text_[pos_] != ' ' && text_[pos_] != ')') ++pos_;
      if (pos_ == value_at) fail("expected a value");
      node.value = std::string(text_.substr(value_at, pos_ - value_at));
    }
    return node;
  }

  static bool evaluate(const Node& node, const JsonValue& record) {
    switch (node.kind) {
      case Node::Kind::kAnd:
        return std::all_of(node.children.begin(), node.children.end(),
                           [&](const Node& child) { return evaluate(child, record); });
      case Node::Kind::kOr:
        return std::any_of(node.children.begin(), node.children.end(),
                           [&](const Node& child) { return evaluate(child, record); });
      case Node::Kind::kNot:
        return !evaluate(node.children.front(), record);
      case Node::Kind::kCompare:
        break;
    }
    const JsonValue* value = get_field(record, node.field);
    if (value == nullptr || value->is_null()) return false;
    const std::optional<int> c = compare(*value, node.value);
    if (!c) return false;
    if (node.op == "=") return *c == 0;
    if (node.op == "!=") return *c != 0;
    if (node.op == "<") return *c < 0;
    if (node.op == "<=") return *c <= 0;
    if (node.op == ">") return *c > 0;
    return *c >= 0;
  }

  std::string_view text_;
  const std::map<std::string, std::string>* fields_ = nullptr;
  std::size_t pos_ = 0;
  Node root_;
};

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

}  // namespace

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
    const std::string& field = endpoint.future_records->first;
    const int count = endpoint.future_records->second;
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
  std::vector<FilterExpression> expressions;
  for (const EndpointParam& param : endpoint.params) {
    if (param.role != "filter_expression") continue;
    const auto value = query.find(param.name);
    if (value == query.end() || value->second.empty()) continue;
    if (const auto problem = expressions.emplace_back().parse(value->second, param.options)) {
      return error_answer(400, fmt::format("invalid {}: {}", param.name, *problem));
    }
  }
  std::vector<const JsonValue*> selected;
  for (const JsonValue& record : records) {
    bool keep = std::all_of(expressions.begin(), expressions.end(),
                            [&](const FilterExpression& e) { return e.matches(record); });
    for (const EndpointParam& param : endpoint.params) {
      if (!keep || param.role != "filter") continue;
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
    const std::string& field = sort->first;
    const bool descending = sort->second;
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
