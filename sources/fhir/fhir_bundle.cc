#include "fhir_bundle.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstring>
#include <utility>

#include "lakeflow/error.h"
#include "lakeflow/http/url.h"

namespace lakeflow::fhir {
namespace {

namespace od = simdjson::ondemand;

SourceError not_a_bundle(std::string_view url, std::string_view problem) {
  return SourceError(fmt::format(
      "fhir: the response to GET {} is not a FHIR Bundle ({}); check base_url and that the "
      "server speaks FHIR R4 JSON",
      url, problem));
}

std::string_view string_or_empty(od::value value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return {};
  return text;
}

// --- The one-pass page scan --------------------------------------------------------------------
//
// simdjson's first stage checks the whole body: UTF-8, strings closed and free of control
// characters, and where every token starts. Walking every value with the on-demand API then checks
// the structure (brackets, commas, colons, keys that are strings, nothing after the root); what
// the walk does not parse, it checks itself: each number and literal by RFC 8259's grammar on its
// token (so 1e309 and 2^64 are as valid as they are in JSON), the escapes of each string or key
// holding a backslash. Whatever the walk cannot settle exactly (a value beyond kMaxDepth, a page
// that is not a Bundle, a key with escapes where the connector looks), it leaves to the reference
// readers above and to http::json_problem.

// Containers deeper than this end the walk (JSON allows any depth; http::json_problem decides).
constexpr int kMaxDepth = 256;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A scalar's token as simdjson gives it runs on to the next token: the whitespace is cut off.
std::string_view trim_end(std::string_view token) {
  while (!token.empty() && is_space(token.back())) token.remove_suffix(1);
  return token;
}

// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, of any magnitude, and nothing else.
bool is_number(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  const auto digits = [&] {
    if (i == n || !is_digit(text[i])) return false;
    while (i < n && is_digit(text[i])) ++i;
    return true;
  };
  if (i < n && text[i] == '-') ++i;
  if (i < n && text[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n && text[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

// Whether every escape in `content` (a string's text between its quotes, which the first stage
// found closed, valid UTF-8 and free of control characters) is RFC 8259's: any \uXXXX counts, a
// lone surrogate too.
bool escapes_valid(std::string_view content) {
  const char* at = content.data();
  const char* const end = at + content.size();
  while ((at = static_cast<const char*>(
              std::memchr(at, '\\', static_cast<std::size_t>(end - at)))) != nullptr) {
    if (end - at < 2) return false;
    const char escape = at[1];
    if (escape == 'u') {
      if (end - at < 6 || !is_hex(at[2]) || !is_hex(at[3]) || !is_hex(at[4]) || !is_hex(at[5])) {
        return false;
      }
      at += 6;
    } else if (escape == '"' || escape == '\\' || escape == '/' || escape == 'b' || escape == 'f' ||
               escape == 'n' || escape == 'r' || escape == 't') {
      at += 2;
    } else {
      return false;
    }
  }
  return true;
}

bool has_backslash(std::string_view text) {
  return std::memchr(text.data(), '\\', text.size()) != nullptr;
}

struct Key {
  std::string_view text;  // between the quotes, as written
  bool escaped = false;
};

class PageWalk {
 public:
  explicit PageWalk(BundleScan& scan) : scan_(scan) {}

  // Walks a Bundle page; false when the page is not valid JSON or not one this walk reads exactly.
  bool bundle(od::document& document) {
    od::object root;
    if (document.get_object().get(root) != simdjson::SUCCESS) return false;
    bool is_bundle = false;
    bool link_seen = false;
    const bool read = plain_members(root, [&](std::string_view key, od::value& value) {
      if (key == "resourceType") {
        std::string_view type;
        // Anything but "Bundle": the reference reader says what the page is.
        if (!string_or_empty(value, type, 1) || type != "Bundle") return false;
        is_bundle = true;
      } else if (key == "entry") {
        od::array entries;
        if (value.get_array().get(entries) != simdjson::SUCCESS) return false;
        for (auto item : entries) {
          od::value entry_value;
          if (std::move(item).get(entry_value) != simdjson::SUCCESS || !entry(entry_value, 2)) {
            return false;
          }
        }
      } else if (key == "link" && !link_seen) {
        link_seen = true;  // NextUrlInBody follows the first `link`
        return links(value, 1);
      } else {
        return any(value, 1);
      }
      return true;
    });
    // Nothing may follow the root: past the last token there is no location.
    const char* trailing = nullptr;
    return read && is_bundle &&
           document.current_location().get(trailing) == simdjson::OUT_OF_BOUNDS;
  }

 private:
  // Checks `value` and everything in it.
  bool any(od::value& value, int depth) {
    od::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return false;
    switch (type) {
      case od::json_type::object: {
        od::object object;
        return value.get_object().get(object) == simdjson::SUCCESS && members(object, depth + 1);
      }
      case od::json_type::array: {
        od::array array;
        return value.get_array().get(array) == simdjson::SUCCESS && elements(array, depth + 1);
      }
      case od::json_type::string: {
        const std::string_view token = trim_end(value.raw_json_token());
        if (token.size() < 2 || token.back() != '"') return false;
        const std::string_view content = token.substr(1, token.size() - 2);
        return (!has_backslash(content) || escapes_valid(content)) && consume_string(value);
      }
      case od::json_type::number:
        return is_number(trim_end(value.raw_json_token()));
      case od::json_type::boolean: {
        const std::string_view token = trim_end(value.raw_json_token());
        return token == "true" || token == "false";
      }
      case od::json_type::null:
        return trim_end(value.raw_json_token()) == "null";
    }
    return false;
  }

  bool members(od::object& object, int depth) {
    if (depth > kMaxDepth) return false;
    for (auto result : object) {
      od::field field;
      Key key;
      if (std::move(result).get(field) != simdjson::SUCCESS || !read_key(field, key) ||
          !any(field.value(), depth)) {
        return false;
      }
    }
    return true;
  }

  bool elements(od::array& array, int depth) {
    if (depth > kMaxDepth) return false;
    for (auto result : array) {
      od::value element;
      if (std::move(result).get(element) != simdjson::SUCCESS || !any(element, depth)) {
        return false;
      }
    }
    return true;
  }

  // Moves past a string. Left unread, the parent's skip would take a string followed by `:` for a
  // key and pass over `["a":1]`; numbers and literals are skipped as one token.
  static bool consume_string(od::value& value) {
    od::raw_json_string raw;
    return value.get_raw_json_string().get(raw) == simdjson::SUCCESS;
  }

  // The key of `field`, checked. The key's text ends at the quote before the `:` that precedes the
  // field's value.
  static bool read_key(od::field& field, Key& key) {
    const char* const begin = field.key().raw();
    const char* at = field.value().raw_json_token().data();
    do --at;
    while (at > begin && is_space(*at));
    if (*at != ':') return false;
    do --at;
    while (at > begin && is_space(*at));
    if (at < begin || *at != '"') return false;
    key.text = std::string_view(begin, static_cast<std::size_t>(at - begin));
    key.escaped = has_backslash(key.text);
    return !key.escaped || escapes_valid(key.text);
  }

  // Calls visit(key, value) for each member of `object`, whose keys the connector compares as
  // written; false when a member does not read, its key holds an escape (the reference reader
  // decides what it names), or visit returns false.
  template <typename Visit>
  static bool plain_members(od::object& object, Visit&& visit) {
    for (auto result : object) {
      od::field field;
      Key key;
      if (std::move(result).get(field) != simdjson::SUCCESS || !read_key(field, key) ||
          key.escaped || !visit(key.text, field.value())) {
        return false;
      }
    }
    return true;
  }

  // A string's text, unescaped (kept in the scan when it had escapes); false when the value is
  // not a string the walk can read.
  bool string(od::value& value, std::string_view& out) {
    const std::string_view token = trim_end(value.raw_json_token());
    if (token.size() < 2 || token.front() != '"' || token.back() != '"') return false;
    const std::string_view content = token.substr(1, token.size() - 2);
    if (!has_backslash(content)) {
      out = content;
      return consume_string(value);
    }
    std::string_view text;
    // A lone surrogate escape is valid JSON that simdjson cannot unescape: the reference decides.
    if (!escapes_valid(content) || value.get_string().get(text) != simdjson::SUCCESS) return false;
    out = scan_.unescaped.emplace_back(text);
    return true;
  }

  // As the reference's string_or_empty: the string, or empty for any other value (checked too).
  bool string_or_empty(od::value& value, std::string_view& out, int depth) {
    if (*value.raw_json_token().data() == '"') return string(value, out);
    out = {};
    return any(value, depth);
  }

  // An object whose members `names` are strings to read into `targets`; the reference reader
  // requires an object here.
  template <std::size_t N>
  bool parts(od::value& value, int depth, const std::string_view (&names)[N],
             std::string_view* const (&targets)[N]) {
    od::object object;
    if (depth > kMaxDepth || value.get_object().get(object) != simdjson::SUCCESS) return false;
    return plain_members(object, [&](std::string_view key, od::value& member) {
      std::size_t i = 0;
      while (i < N && key != names[i]) ++i;
      return i < N ? string_or_empty(member, *targets[i], depth + 1) : any(member, depth + 1);
    });
  }

  bool entry(od::value& value, int depth) {
    od::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) return false;
    BundleEntry entry;
    const bool read = plain_members(object, [&](std::string_view key, od::value& member) {
      if (key == "resource") return resource(member, entry, depth + 1);
      if (key == "fullUrl") return string_or_empty(member, entry.full_url, depth + 1);
      if (key == "search") return parts(member, depth + 1, {"mode"}, {&entry.search_mode});
      if (key == "request") {
        return parts(member, depth + 1, {"method", "url"},
                     {&entry.request_method, &entry.request_url});
      }
      if (key == "response") {
        return parts(member, depth + 1, {"lastModified"}, {&entry.response_last_modified});
      }
      return any(member, depth + 1);
    });
    if (!read) return false;
    scan_.entries.push_back(entry);
    return true;
  }

  // Bundle.entry.resource: its text (as the reference's raw_json(), up to the next token) and its
  // header (as read_resource_header).
  bool resource(od::value& value, BundleEntry& entry, int depth) {
    const char* const start = value.raw_json_token().data();
    od::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) return false;
    BundleEntry::Header header;
    const bool read = plain_members(object, [&](std::string_view key, od::value& member) {
      if (key == "resourceType") return string_or_empty(member, header.resource_type, depth + 1);
      if (key == "id") return string_or_empty(member, header.id, depth + 1);
      if (key == "meta" && *member.raw_json_token().data() == '{') {
        return parts(member, depth + 1, {"lastUpdated"}, {&header.last_updated});
      }
      return any(member, depth + 1);
    });
    if (!read) return false;
    const char* end = nullptr;
    if (value.current_location().get(end) != simdjson::SUCCESS) return false;
    entry.resource = std::string_view(start, static_cast<std::size_t>(end - start));
    entry.header = header;
    return true;
  }

  // The first `link` member: where NextUrlInBody's `link[relation=next].url` leads. Its search
  // takes the first element that is an object whose first `relation` member is the string "next",
  // and there the first `url` member after that `relation`, else the first before it (keys compared
  // as written).
  bool links(od::value& value, int depth) {
    if (*value.raw_json_token().data() != '[') return any(value, depth);
    od::array array;
    if (depth + 1 > kMaxDepth || value.get_array().get(array) != simdjson::SUCCESS) return false;
    bool matched = false;
    for (auto result : array) {
      od::value element;
      if (std::move(result).get(element) != simdjson::SUCCESS) return false;
      if (matched || *element.raw_json_token().data() != '{') {
        if (!any(element, depth + 1)) return false;
        continue;
      }
      od::object object;
      if (element.get_object().get(object) != simdjson::SUCCESS) return false;
      bool relation_seen = false;
      bool is_next = false;
      // The first `url` before and after `relation`: its first byte, and its text if a string.
      struct Url {
        char first = 0;
        std::string_view text;
      };
      std::optional<Url> before;
      std::optional<Url> after;
      for (auto member : object) {
        od::field field;
        Key key;
        if (std::move(member).get(field) != simdjson::SUCCESS || !read_key(field, key)) {
          return false;
        }
        od::value& item = field.value();
        const char first = *item.raw_json_token().data();
        bool ok = true;
        if (key.text == "relation" && !relation_seen) {
          relation_seen = true;
          std::string_view relation;
          if (first == '"') {
            ok = string(item, relation);
            is_next = relation == "next";
          } else {
            ok = any(item, depth + 2);
          }
        } else if (std::optional<Url>& url = relation_seen ? after : before;
                   key.text == "url" && !url) {
          url.emplace(Url{first, {}});
          ok = first == '"' ? string(item, url->text) : any(item, depth + 2);
        } else {
          ok = any(item, depth + 2);
        }
        if (!ok) return false;
      }
      if (!is_next) continue;
      matched = true;
      const std::optional<Url>& url = after ? after : before;
      if (!url || url->first == 'n') continue;  // no url, or null: no next page
      // A number or a non-scalar there: the reference says what to make of it.
      if (url->first != '"') return false;
      if (!url->text.empty()) scan_.next_link = url->text;
    }
    return true;
  }

  BundleScan& scan_;
};

}  // namespace

void for_each_bundle_entry(const std::string& body, std::string_view url,
                           const std::function<void(const BundleEntry&)>& on_entry) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    throw Error(ErrorCode::kInternal, "fhir: a Bundle body without simdjson padding");
  }
  od::parser parser;
  try {
    od::document document = parser.iterate(body.data(), body.size(), body.capacity());
    bool is_bundle = false;
    for (od::field field : document.get_object()) {
      const std::string_view key = field.unescaped_key();
      if (key == "resourceType") {
        const std::string_view type = string_or_empty(field.value());
        if (type != "Bundle") {
          throw not_a_bundle(url, fmt::format("resourceType is '{}'", type));
        }
        is_bundle = true;
      } else if (key == "entry") {
        for (od::value item : field.value().get_array()) {
          BundleEntry entry;
          for (od::field member : item.get_object()) {
            const std::string_view name = member.unescaped_key();
            if (name == "resource") {
              od::object resource = member.value().get_object();
              entry.resource = resource.raw_json();
            } else if (name == "fullUrl") {
              entry.full_url = string_or_empty(member.value());
            } else if (name == "search") {
              for (od::field part : member.value().get_object()) {
                const std::string_view part_name = part.unescaped_key();
                if (part_name == "mode") entry.search_mode = string_or_empty(part.value());
              }
            } else if (name == "request") {
              for (od::field part : member.value().get_object()) {
                const std::string_view part_name = part.unescaped_key();
                if (part_name == "method") entry.request_method = string_or_empty(part.value());
                if (part_name == "url") entry.request_url = string_or_empty(part.value());
              }
            } else if (name == "response") {
              for (od::field part : member.value().get_object()) {
                const std::string_view part_name = part.unescaped_key();
                if (part_name == "lastModified") {
                  entry.response_last_modified = string_or_empty(part.value());
                }
              }
            }
          }
          on_entry(entry);
        }
      }
    }
    if (!is_bundle) throw not_a_bundle(url, "no resourceType");
  } catch (const simdjson::simdjson_error& error) {
    throw not_a_bundle(url, error.what());
  }
}

ResourceHeader read_resource_header(std::string_view resource, const char* readable_end,
                                    std::string_view url) {
  ResourceHeader header;
  thread_local od::parser parser;
  try {
    od::document document = parser.iterate(
        resource.data(), resource.size(), static_cast<std::size_t>(readable_end - resource.data()));
    for (od::field field : document.get_object()) {
      const std::string_view key = field.unescaped_key();
      if (key == "resourceType") {
        header.resource_type = std::string(string_or_empty(field.value()));
      } else if (key == "id") {
        header.id = std::string(string_or_empty(field.value()));
      } else if (key == "meta") {
        od::object meta;
        if (field.value().get_object().get(meta) != simdjson::SUCCESS) continue;
        for (od::field part : meta) {
          const std::string_view part_name = part.unescaped_key();
          if (part_name == "lastUpdated") {
            header.last_updated = std::string(string_or_empty(part.value()));
          }
        }
      }
    }
  } catch (const simdjson::simdjson_error& error) {
    throw SourceError(
        fmt::format("fhir: a resource in the response to GET {} is not a JSON "
                    "object ({})",
                    url, error.what()));
  }
  return header;
}

BundleScan scan_bundle_page(const std::string& body) {
  BundleScan scan;
  if (body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING) {
    // One parser per thread, reused: its buffers grow to the largest page and stay.
    thread_local od::parser parser;
    od::document document;
    if (parser.iterate(body.data(), body.size(), body.capacity()).get(document) ==
        simdjson::SUCCESS) {
      scan.exact = PageWalk(scan).bundle(document);
    }
  }
  if (!scan.exact) {
    scan.entries.clear();
    scan.next_link.reset();
    scan.unescaped.clear();
    scan.problem = http::json_problem(body);
  }
  return scan;
}

http::Request BundlePages::request(std::string url, const http::Headers& headers) {
  http::Request request = http::Request::get(std::move(url), headers);
  request.check_body = [this](const http::Response& response) {
    return scan_of(response.body).problem;
  };
  return request;
}

const BundleScan& BundlePages::scan_of(const std::string& body) {
  if (kept_ && body.size() == scanned_.size() &&
      std::memcmp(body.data(), scanned_.data(), body.size()) == 0) {
    return scan_;
  }
  kept_ = false;
  scan_ = scan_bundle_page(body);
  scanned_.assign(body);
  scanned_at_ = reinterpret_cast<std::uintptr_t>(body.data());
  kept_ = true;
  return scan_;
}

std::string_view BundlePages::on(std::string_view text, const std::string& body) const {
  const auto at = reinterpret_cast<std::uintptr_t>(text.data());
  // Text the scan unescaped lies outside the scanned bytes and stays where it is.
  if (text.empty() || at < scanned_at_ || at >= scanned_at_ + scanned_.size()) return text;
  return std::string_view(body.data() + (at - scanned_at_), text.size());
}

void BundlePages::for_each_entry(const http::Response& page,
                                 const std::function<void(const BundleEntry&)>& on_entry) {
  const BundleScan& scan = scan_of(page.body);
  if (!scan.exact) {
    for_each_bundle_entry(page.body, page.url, on_entry);
    return;
  }
  for (const BundleEntry& scanned : scan.entries) {
    BundleEntry entry;
    entry.resource = on(scanned.resource, page.body);
    entry.search_mode = on(scanned.search_mode, page.body);
    entry.request_method = on(scanned.request_method, page.body);
    entry.request_url = on(scanned.request_url, page.body);
    entry.response_last_modified = on(scanned.response_last_modified, page.body);
    entry.full_url = on(scanned.full_url, page.body);
    if (scanned.header) {
      entry.header = BundleEntry::Header{on(scanned.header->resource_type, page.body),
                                         on(scanned.header->id, page.body),
                                         on(scanned.header->last_updated, page.body)};
    }
    on_entry(entry);
  }
}

std::optional<std::string> BundlePages::NextLink::next_url(std::string_view page_url,
                                                           const http::Response& page) const {
  const BundleScan& scan = pages_.scan_of(page.body);
  if (!scan.exact) return reference_.next_url(page_url, page);
  if (!scan.next_link) return std::nullopt;
  // The scan's view is into the bytes it scanned, which may be gone (the body the check passed
  // can be another buffer than `page`'s): read the link from `page`.
  return http::resolve_url(page_url, pages_.on(*scan.next_link, page.body));
}

}  // namespace lakeflow::fhir
