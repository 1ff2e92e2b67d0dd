#include "lakeflow/http/pagination.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cctype>
#include <charconv>
#include <functional>
#include <optional>

#include "core/json_grammar.h"
#include "lakeflow/error.h"
#include "lakeflow/http/client.h"
#include "lakeflow/http/url.h"

namespace lakeflow::http {
namespace {

simdjson::dom::parser& parser() {
  thread_local simdjson::dom::parser instance;
  return instance;
}

namespace od = simdjson::ondemand;

[[noreturn]] void throw_not_json(simdjson::error_code error) {
  throw SourceError(
      fmt::format("the response body is not valid JSON ({}); the source sent a broken or non-JSON "
                  "page",
                  simdjson::error_message(error)));
}

template <typename T>
T checked(simdjson::simdjson_result<T> result) {
  T value;
  if (const auto error = std::move(result).get(value)) throw_not_json(error);
  return value;
}

// Calls `use` with the value `path` leads to in `body` and returns true, or returns false when the
// path leads nowhere. simdjson's on-demand API reads only what the path passes through, so values
// elsewhere on the page that simdjson cannot represent (integers beyond 64 bits, 1e309, lone
// surrogate escapes, deep nesting) do not matter. A path ending in [name=value] leads to an object.
bool visit_path(std::string_view body, const JsonPath& path,
                const std::function<void(od::value&)>& use_value,
                const std::function<void(od::object&)>& use_object) {
  thread_local od::parser parser;
  const simdjson::padded_string padded(body);
  od::document document = checked(parser.iterate(padded));
  const od::json_type root_type = checked(document.type());
  if (root_type != od::json_type::object && root_type != od::json_type::array) return false;
  od::value value = checked(document.get_value());
  std::optional<od::object> matched;  // set when the last step was [name=value]
  for (const JsonPath::Step& step : path.steps()) {
    if (step.kind == JsonPath::Step::Kind::kMember) {
      od::object object;
      if (matched) {
        object = *matched;
        matched.reset();
      } else if (checked(value.type()) != od::json_type::object) {
        return false;
      } else {
        object = checked(value.get_object());
      }
      if (const auto error = object.find_field_unordered(step.name).get(value)) {
        if (error == simdjson::NO_SUCH_FIELD) return false;
        throw_not_json(error);
      }
      continue;
    }
    if (matched || checked(value.type()) != od::json_type::array) return false;
    od::array array = checked(value.get_array());
    bool found = false;
    std::size_t index = 0;
    for (auto element_result : array) {
      od::value element = checked(std::move(element_result));
      if (step.kind == JsonPath::Step::Kind::kIndex) {
        if (index++ != step.index) continue;
        value = element;
        found = true;
        break;
      }
      if (checked(element.type()) != od::json_type::object) continue;
      od::object object = checked(element.get_object());
      od::value member;
      std::string_view text;
      if (const auto error = object.find_field_unordered(step.name).get(member)) {
        if (error == simdjson::NO_SUCH_FIELD) continue;
        throw_not_json(error);
      }
      if (member.get_string().get(text) == simdjson::SUCCESS && text == step.value) {
        matched = object;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  if (matched) {
    use_object(*matched);
  } else {
    use_value(value);
  }
  return true;
}

[[noreturn]] void throw_not_text(const JsonPath& path, std::string_view json) {
  throw SourceError(fmt::format("'{}' in the response is {}, not a string or number", path.text(),
                                json.substr(0, 80)));
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::int64_t position_in(std::string_view url, const std::string& param, std::int64_t fallback) {
  const std::optional<std::string> value = query_param(url, param);
  if (!value) return fallback;
  const std::optional<std::int64_t> number = parse_int(*value);
  if (!number) {
    throw SourceError(
        fmt::format("query parameter '{}' of the page URL is '{}', not an integer", param, *value));
  }
  return *number;
}

std::optional<std::int64_t> int_at(std::string_view body, const std::optional<JsonPath>& path) {
  if (!path) return std::nullopt;
  const std::optional<std::string> text = json_string_at(body, *path);
  if (!text) return std::nullopt;
  const std::optional<std::int64_t> number = parse_int(*text);
  if (!number) {
    throw SourceError(
        fmt::format("'{}' in the response is '{}', not an integer", path->text(), *text));
  }
  return number;
}

}  // namespace

JsonPath::JsonPath(std::string_view path) : text_(path) {
  auto malformed = [&](std::string_view why) {
    return ConfigError(
        fmt::format("JSON path '{}' is malformed: {}; write member names separated "
                    "by '.', with [n] or [name=value] for arrays",
                    path, why));
  };
  std::size_t i = 0;
  bool expect_name = true;
  while (i < path.size()) {
    if (path[i] == '[') {
      const std::size_t close = path.find(']', i);
      if (close == std::string_view::npos) throw malformed("'[' without ']'");
      const std::string_view inside = path.substr(i + 1, close - i - 1);
      Step step{Step::Kind::kIndex, {}, {}, 0};
      if (const std::size_t eq = inside.find('='); eq != std::string_view::npos) {
        step.kind = Step::Kind::kMatch;
        step.name = std::string(inside.substr(0, eq));
        step.value = std::string(inside.substr(eq + 1));
        if (step.name.empty()) throw malformed("empty member name in [name=value]");
      } else {
        std::size_t index = 0;
        const auto [end, error] =
            std::from_chars(inside.data(), inside.data() + inside.size(), index);
        if (inside.empty() || error != std::errc() || end != inside.data() + inside.size()) {
          throw malformed(fmt::format("'[{}]' is neither an index nor name=value", inside));
        }
        step.index = index;
      }
      steps_.push_back(std::move(step));
      i = close + 1;
      expect_name = false;
    } else if (path[i] == '.') {
      if (expect_name) throw malformed("empty member name");
      ++i;
      expect_name = true;
    } else {
      const std::size_t end = path.find_first_of(".[", i);
      const std::string_view name = path.substr(i, end == std::string_view::npos ? end : end - i);
      steps_.push_back(Step{Step::Kind::kMember, std::string(name), {}, 0});
      i = end == std::string_view::npos ? path.size() : end;
      expect_name = false;
    }
  }
  if (steps_.empty() || expect_name) throw malformed("it names nothing");
}

std::optional<std::string> json_problem(std::string_view body) {
  simdjson::dom::element root;
  const auto error = parser().parse(body.data(), body.size()).get(root);
  if (error == simdjson::SUCCESS) return std::nullopt;
  // simdjson also refuses valid JSON it cannot represent (see core/json_grammar.h).
  if (is_json_text(body)) return std::nullopt;
  return fmt::format("the body is not valid JSON ({})", simdjson::error_message(error));
}

BodyCheck require_json_body() {
  return [](const Response& response) { return json_problem(response.body); };
}

std::optional<std::string> json_string_at(std::string_view body, const JsonPath& path) {
  std::optional<std::string> out;
  visit_path(
      body, path,
      [&](od::value& value) {
        switch (checked(value.type())) {
          case od::json_type::null:
            return;
          case od::json_type::string: {
            const std::string_view text = checked(value.get_string());
            if (!text.empty()) out = std::string(text);
            return;
          }
          case od::json_type::number:
            out = std::string(value.raw_json_token());
            while (!out->empty() && std::isspace(static_cast<unsigned char>(out->back()))) {
              out->pop_back();
            }
            return;
          case od::json_type::object: {
            od::object object = checked(value.get_object());
            throw_not_text(path, checked(object.raw_json()));
          }
          case od::json_type::array: {
            od::array array = checked(value.get_array());
            throw_not_text(path, checked(array.raw_json()));
          }
          case od::json_type::boolean:
            throw_not_text(path, value.raw_json_token());
        }
      },
      [&](od::object& object) { throw_not_text(path, checked(object.raw_json())); });
  return out;
}

std::size_t json_array_size_at(std::string_view body, const JsonPath& path) {
  std::size_t size = 0;
  const auto not_array = [&] {
    throw SourceError(fmt::format("'{}' in the response is not an array", path.text()));
  };
  visit_path(
      body, path,
      [&](od::value& value) {
        const od::json_type type = checked(value.type());
        if (type == od::json_type::null) return;
        if (type != od::json_type::array) not_array();
        od::array array = checked(value.get_array());
        size = checked(array.count_elements());
      },
      [&](od::object&) { not_array(); });
  return size;
}

std::optional<std::string> link_header_next(std::string_view header, std::string_view base_url) {
  std::size_t i = 0;
  while (i < header.size()) {
    const std::size_t open = header.find('<', i);
    if (open == std::string_view::npos) return std::nullopt;
    const std::size_t close = header.find('>', open);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view target = header.substr(open + 1, close - open - 1);
    // Parameters run to the next ',' outside quotes.
    std::size_t j = close + 1;
    bool quoted = false;
    std::size_t end = j;
    while (end < header.size() && (quoted || header[end] != ',')) {
      if (header[end] == '"') quoted = !quoted;
      ++end;
    }
    std::string_view params = header.substr(j, end - j);
    while (!params.empty()) {
      const std::size_t semi = params.find(';');
      std::string_view param = params.substr(0, semi);
      params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
      while (!param.empty() && (param.front() == ' ' || param.front() == '\t'))
        param.remove_prefix(1);
      const std::size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view name = param.substr(0, eq);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      if (name.size() != 3 || std::tolower(static_cast<unsigned char>(name[0])) != 'r' ||
          std::tolower(static_cast<unsigned char>(name[1])) != 'e' ||
          std::tolower(static_cast<unsigned char>(name[2])) != 'l') {
        continue;
      }
      std::string_view value = param.substr(eq + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      // rel may hold several space-separated relation types.
      while (!value.empty()) {
        const std::size_t space = value.find(' ');
        const std::string_view rel = value.substr(0, space);
        value = space == std::string_view::npos ? std::string_view() : value.substr(space + 1);
        if (rel.size() == 4 && std::tolower(static_cast<unsigned char>(rel[0])) == 'n' &&
            std::tolower(static_cast<unsigned char>(rel[1])) == 'e' &&
            std::tolower(static_cast<unsigned char>(rel[2])) == 'x' &&
            std::tolower(static_cast<unsigned char>(rel[3])) == 't') {
          return resolve_url(base_url, target);
        }
      }
    }
    i = end + 1;
  }
  return std::nullopt;
}

std::optional<std::string> NextUrlInBody::next_url(std::string_view page_url,
                                                   const Response& page) const {
  const std::optional<std::string> next = json_string_at(page.body, path_);
  if (!next) return std::nullopt;
  return resolve_url(page_url, *next);
}

std::optional<std::string> LinkHeaderNext::next_url(std::string_view page_url,
                                                    const Response& page) const {
  for (const auto& [name, value] : page.headers) {
    if (name.size() != 4 || std::tolower(static_cast<unsigned char>(name[0])) != 'l' ||
        std::tolower(static_cast<unsigned char>(name[1])) != 'i' ||
        std::tolower(static_cast<unsigned char>(name[2])) != 'n' ||
        std::tolower(static_cast<unsigned char>(name[3])) != 'k') {
      continue;
    }
    if (auto next = link_header_next(value, page_url)) return next;
  }
  return std::nullopt;
}

std::optional<std::string> CursorParam::next_url(std::string_view page_url,
                                                 const Response& page) const {
  const std::optional<std::string> cursor = json_string_at(page.body, path_);
  if (!cursor) return std::nullopt;
  return with_query_param(page_url, param_, *cursor);
}

OffsetLimit::OffsetLimit(Config config)
    : config_(std::move(config)), records_(config_.records_path) {
  if (!config_.total_path.empty()) total_.emplace(config_.total_path);
  if (config_.offset_param.empty()) throw ConfigError("OffsetLimit needs an offset parameter name");
  if (config_.limit < 1 && !config_.limit_param.empty()) {
    throw ConfigError(
        fmt::format("OffsetLimit: the page size must be at least 1, got {}", config_.limit));
  }
}

std::string OffsetLimit::first_url(std::string_view url) const {
  std::string first = with_query_param(url, config_.offset_param, std::to_string(config_.start));
  if (!config_.limit_param.empty()) {
    first = with_query_param(first, config_.limit_param, std::to_string(config_.limit));
  }
  return first;
}

std::optional<std::string> OffsetLimit::next_url(std::string_view page_url,
                                                 const Response& page) const {
  const std::size_t count = json_array_size_at(page.body, records_);
  if (count == 0) return std::nullopt;
  // Trust what the server returned, not the limit asked for: servers cap page sizes.
  const std::int64_t next =
      position_in(page_url, config_.offset_param, config_.start) + static_cast<std::int64_t>(count);
  if (const auto total = int_at(page.body, total_); total && next >= *total) return std::nullopt;
  return with_query_param(page_url, config_.offset_param, std::to_string(next));
}

PageNumber::PageNumber(Config config) : config_(std::move(config)), records_(config_.records_path) {
  if (!config_.page_count_path.empty()) page_count_.emplace(config_.page_count_path);
  if (config_.page_param.empty()) throw ConfigError("PageNumber needs a page parameter name");
}

std::string PageNumber::first_url(std::string_view url) const {
  std::string first = with_query_param(url, config_.page_param, std::to_string(config_.first_page));
  if (!config_.size_param.empty() && config_.page_size > 0) {
    first = with_query_param(first, config_.size_param, std::to_string(config_.page_size));
  }
  return first;
}

std::optional<std::string> PageNumber::next_url(std::string_view page_url,
                                                const Response& page) const {
  if (json_array_size_at(page.body, records_) == 0) return std::nullopt;
  const std::int64_t current = position_in(page_url, config_.page_param, config_.first_page);
  if (const auto count = int_at(page.body, page_count_);
      count && current - config_.first_page + 1 >= *count) {
    return std::nullopt;
  }
  return with_query_param(page_url, config_.page_param, std::to_string(current + 1));
}

Keyset::Keyset(Config config) : config_(std::move(config)), records_(config_.records_path) {
  for (const auto& [name, value] :
       {std::pair<std::string_view, const std::string&>{"cursor_field", config_.cursor_field},
        {"id_field", config_.id_field}}) {
    if (value.empty()) throw ConfigError(fmt::format("Keyset needs a non-empty {}", name));
  }
  if (config_.cursor_param.empty() != config_.id_param.empty()) {
    throw ConfigError(fmt::format(
        "Keyset has {} but no {}: give both query parameters the API takes the position in, or "
        "neither (and only use position_of)",
        config_.cursor_param.empty() ? "an id_param" : "a cursor_param",
        config_.cursor_param.empty() ? "cursor_param" : "id_param"));
  }
}

KeysetPosition Keyset::position_of(std::string_view record) const {
  const JsonValue object = JsonValue::parse(record, "record");
  const auto field = [&](const std::string& name) {
    const JsonValue* value = object.is_object() ? object.find(name) : nullptr;
    if (value == nullptr || !(value->is_string() || value->is_number())) {
      throw SourceError(fmt::format(
          "a record has {} '{}', which a keyset position is made of; expected a string or number "
          "(record: {})",
          value == nullptr ? "no" : "a non-scalar", name,
          record.size() <= 80 ? record : record.substr(0, 80)));
    }
    return *value;
  };
  return {field(config_.cursor_field), field(config_.id_field)};
}

void Keyset::require_query_params() const {
  if (config_.cursor_param.empty()) {
    throw ConfigError(
        "Keyset::after and Keyset::next_url put the position in query parameters: set "
        "cursor_param and id_param in Keyset::Config (or send position_of's values yourself)");
  }
}

std::string Keyset::after(std::string_view url, const KeysetPosition& position) const {
  require_query_params();
  const auto text = [](const JsonValue& value) {
    return value.is_string() ? value.as_string() : value.dump();
  };
  return with_query_param(with_query_param(url, config_.cursor_param, text(position.cursor)),
                          config_.id_param, text(position.id));
}

std::optional<std::string> Keyset::next_url(std::string_view page_url, const Response& page) const {
  require_query_params();
  std::string last;
  std::size_t count = 0;
  visit_path(
      page.body, records_,
      [&](od::value& value) {
        if (checked(value.type()) == od::json_type::null) return;
        if (checked(value.type()) != od::json_type::array) {
          throw SourceError(
              fmt::format("'{}' in the response is not an array", config_.records_path));
        }
        for (auto element : checked(value.get_array())) {
          od::value record = checked(std::move(element));
          if (checked(record.type()) != od::json_type::object) {
            throw SourceError(fmt::format("an element of '{}' in the response is not an object",
                                          config_.records_path));
          }
          last = std::string(checked(checked(record.get_object()).raw_json()));
          ++count;
        }
      },
      [&](od::object&) {
        throw SourceError(
            fmt::format("'{}' in the response is not an array", config_.records_path));
      });
  if (count == 0) return std::nullopt;
  const std::int64_t limit = position_in(page_url, config_.limit_param, 0);
  if (static_cast<std::int64_t>(count) < limit) return std::nullopt;
  return after(page_url, position_of(last));
}

PageReader::PageReader(HttpClient& client, Request first, const Paginator& paginator, Limits limits)
    : client_(client), paginator_(paginator), limits_(limits), request_(std::move(first)) {
  request_.url = paginator_.first_url(request_.url);
  if (limits_.require_json && !request_.check_body) request_.check_body = require_json_body();
}

void PageReader::require_credential_origin(const std::string& url) {
  const Origin origin = origin_of(url);
  if (client_.is_credential_origin(origin)) return;
  const std::vector<Origin> allowed = client_.credential_origins();
  std::vector<std::string> names;
  bool downgrade = false;
  for (const Origin& known : allowed) {
    names.push_back(known.to_string());
    downgrade = downgrade ||
                (origin.scheme == "http" && known.scheme == "https" && known.host == origin.host);
  }
  const std::string what =
      pages_read_ == 0
          ? fmt::format("refusing to read from {}", origin.to_string())
          : fmt::format("refusing to follow the next-page link of page {} ({}) to {}", pages_read_,
                        client_.logger().redactor().redact(request_.url), origin.to_string());
  std::string message = fmt::format(
      "{}{}: this connection sends credentials to, and reads pages from, {} only. ", what,
      downgrade ? ", a downgrade from https to plain http" : "", fmt::join(names, ", "));
  message += downgrade
                 ? "The source (or a gateway before it) names plain-http links: ask its "
                   "operators to fix its base address. Only if credentials may cross the network "
                   "unencrypted, add the origin to option http.allowed_origins."
                 : fmt::format(
                       "If {} belongs to the source, add it to option "
                       "http.allowed_origins (a comma-separated list of origins).",
                       origin.to_string());
  throw OriginRefusedError(client_.logger().redactor().redact(message), origin);
}

std::optional<Response> PageReader::next() {
  if (done_) return std::nullopt;
  if (limits_.max_pages > 0 && pages_read_ >= limits_.max_pages) {
    done_ = true;
    request_.url.clear();
    return std::nullopt;
  }
  if (pages_read_ == 0) require_credential_origin(request_.url);
  if (!seen_.insert(request_.url).second) {
    throw SourceError(client_.logger().redactor().redact(fmt::format(
        "pagination loop: after {} pages the source pointed back to {}, a page already read; its "
        "paging is broken, or the paginator does not fit this API",
        pages_read_, request_.url)));
  }
  Response page = client_.send(request_);
  ++pages_read_;
  std::optional<std::string> next =
      paginator_.next_url(page.url.empty() ? std::string_view(request_.url) : page.url, page);
  if (next) {
    // Checked before next_url() names it, so that no offset ever stores a refused link.
    require_credential_origin(*next);
    request_.url = std::move(*next);
    // Later pages are plain GETs of the next URL (a first page may be a search POST).
    request_.method = Method::kGet;
    request_.body.clear();
    request_.idempotent.reset();
  } else {
    done_ = true;
    request_.url.clear();
  }
  return page;
}

}  // namespace lakeflow::http
