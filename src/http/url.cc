#include "lakeflow/http/url.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <charconv>
#include <memory>

#include "lakeflow/error.h"
#include "lakeflow/http/encoding.h"

namespace lakeflow::http {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

// URLs in messages lose their query and user info, which may carry credentials.
std::string shown(std::string_view url) {
  const std::size_t query = url.find_first_of("?#");
  std::string out(url.substr(0, query));
  if (query != std::string_view::npos) out += "?...";
  if (const std::size_t scheme = out.find("://"); scheme != std::string::npos) {
    const std::size_t authority = scheme + 3;
    const std::size_t at = out.substr(0, out.find('/', authority)).rfind('@');
    if (at != std::string::npos && at >= authority) out.replace(authority, at - authority, "...");
  }
  return out;
}

// `url` parsed, or null with `code` saying why not.
UrlHandle try_parse(std::string_view url, CURLUcode& code) {
  UrlHandle handle(curl_url());
  if (!handle) throw std::bad_alloc();
  const std::string text(url);
  code = curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), 0);
  if (code != CURLUE_OK) handle.reset();
  return handle;
}

UrlHandle parse(std::string_view url) {
  CURLUcode code = CURLUE_OK;
  UrlHandle handle = try_parse(url, code);
  if (!handle) {
    throw ConfigError(
        fmt::format("'{}' is not a valid absolute URL ({}); give a full "
                    "http:// or https:// URL",
                    shown(url), curl_url_strerror(code)));
  }
  return handle;
}

std::string get_part(CURLU* handle, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(handle, part, &value, flags) != CURLUE_OK || value == nullptr) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

void set_part(CURLU* handle, CURLUPart part, const std::string& value, std::string_view url) {
  const CURLUcode code = curl_url_set(handle, part, value.empty() ? nullptr : value.c_str(), 0);
  if (code != CURLUE_OK) {
    throw ConfigError(
        fmt::format("cannot update URL '{}' ({})", shown(url), curl_url_strerror(code)));
  }
}

void lower_case(std::string& text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

// The scheme and host (lower-cased) and port (defaulted from the scheme) of a parsed URL.
Origin origin_parts(CURLU* handle) {
  Origin origin;
  origin.scheme = get_part(handle, CURLUPART_SCHEME);
  lower_case(origin.scheme);
  origin.host = get_part(handle, CURLUPART_HOST);
  lower_case(origin.host);
  const std::string port = get_part(handle, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  std::from_chars(port.data(), port.data() + port.size(), origin.port);
  return origin;
}

bool is_http(const Origin& origin) { return origin.scheme == "http" || origin.scheme == "https"; }

}  // namespace

std::string resolve_url(std::string_view base, std::string_view reference) {
  UrlHandle handle = parse(base);
  const std::string ref(reference);
  const CURLUcode code = curl_url_set(handle.get(), CURLUPART_URL, ref.c_str(), 0);
  if (code != CURLUE_OK) {
    throw SourceError(fmt::format("cannot resolve '{}' against '{}' ({})", shown(reference),
                                  shown(base), curl_url_strerror(code)));
  }
  return get_part(handle.get(), CURLUPART_URL);
}

std::optional<std::string> query_param(std::string_view url, std::string_view name) {
  UrlHandle handle = parse(url);
  const std::string query = get_part(handle.get(), CURLUPART_QUERY);
  std::string_view rest = query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const std::size_t eq = item.find('=');
    if (percent_decode(item.substr(0, eq), true) != name) continue;
    return eq == std::string_view::npos ? std::string() : percent_decode(item.substr(eq + 1), true);
  }
  return std::nullopt;
}

std::string with_query_param(std::string_view url, std::string_view name, std::string_view value) {
  UrlHandle handle = parse(url);
  const std::string query = get_part(handle.get(), CURLUPART_QUERY);
  std::string out;
  std::string_view rest = query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (item.empty() || percent_decode(item.substr(0, item.find('=')), true) == name) continue;
    if (!out.empty()) out += '&';
    out += item;
  }
  if (!out.empty()) out += '&';
  out += percent_encode(name);
  out += '=';
  out += percent_encode(value);
  set_part(handle.get(), CURLUPART_QUERY, out, url);
  return get_part(handle.get(), CURLUPART_URL);
}

std::string host_key(std::string_view url) {
  const Origin origin = origin_parts(parse(url).get());
  return fmt::format("{}:{}", origin.host, origin.port);
}

std::string Origin::to_string() const {
  const int default_port = scheme == "https" ? 443 : scheme == "http" ? 80 : 0;
  return port == default_port ? fmt::format("{}://{}", scheme, host)
                              : fmt::format("{}://{}:{}", scheme, host, port);
}

Origin origin_of(std::string_view url) {
  Origin origin = origin_parts(parse(url).get());
  if (!is_http(origin)) {
    throw ConfigError(fmt::format("'{}' is not an http:// or https:// URL", shown(url)));
  }
  return origin;
}

Origin parse_origin(std::string_view text, std::string_view option) {
  const auto not_an_origin = [&](std::string_view why) {
    return ConfigError(
        fmt::format("option '{}': '{}' is not an origin ({}); write scheme://host[:port] and "
                    "nothing more, e.g. https://api.example.org or http://10.0.0.5:8080",
                    option, shown(text), why));
  };
  CURLUcode code = CURLUE_OK;
  const UrlHandle handle = try_parse(text, code);
  if (!handle) throw not_an_origin(curl_url_strerror(code));
  Origin origin = origin_parts(handle.get());
  if (!is_http(origin)) throw not_an_origin("the scheme is neither http nor https");
  if (!get_part(handle.get(), CURLUPART_USER).empty()) throw not_an_origin("it has a user name");
  const std::string path = get_part(handle.get(), CURLUPART_PATH);
  if (!path.empty() && path != "/") throw not_an_origin("it has a path");
  if (!get_part(handle.get(), CURLUPART_QUERY).empty() ||
      !get_part(handle.get(), CURLUPART_FRAGMENT).empty()) {
    throw not_an_origin("it has a query or fragment");
  }
  return origin;
}

}  // namespace lakeflow::http
