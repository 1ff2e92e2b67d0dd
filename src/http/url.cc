#include "lakeflow/http/url.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <memory>

#include "lakeflow/error.h"
#include "lakeflow/http/encoding.h"

namespace lakeflow::http {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

// URLs in messages lose their query, which may carry credentials.
std::string shown(std::string_view url) {
  const std::size_t query = url.find_first_of("?#");
  if (query == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, query)) + "?...";
}

UrlHandle parse(std::string_view url) {
  UrlHandle handle(curl_url());
  if (!handle) throw std::bad_alloc();
  const std::string text(url);
  const CURLUcode code = curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), 0);
  if (code != CURLUE_OK) {
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
  UrlHandle handle = parse(url);
  std::string host = get_part(handle.get(), CURLUPART_HOST);
  for (char& c : host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return host + ":" + get_part(handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
}

}  // namespace lakeflow::http
