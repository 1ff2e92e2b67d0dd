// Coverage and drift of a run against an endpoint spec (see lakeflow/http/simulator.h).
#include <fmt/format.h>

#include "http/simulator_internal.h"
#include "lakeflow/http/simulator.h"
#include "lakeflow/http/test_mode.h"

namespace lakeflow::http {
namespace {

using simulator_internal::load_corpus;
using simulator_internal::path_of;
using simulator_internal::records_of;

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

}  // namespace

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

}  // namespace lakeflow::http
