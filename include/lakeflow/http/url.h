// URL manipulation for pagination and rate limiting. URLs are absolute http(s) URLs; functions that
// parse one throw ConfigError naming the URL when it is not.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lakeflow::http {

// `reference` (absolute, or relative like `?page=2` or `/v1/items`) resolved against `base`
// (RFC 3986 §5).
std::string resolve_url(std::string_view base, std::string_view reference);

// The decoded value of query parameter `name` (the first, if repeated), or nullopt.
std::optional<std::string> query_param(std::string_view url, std::string_view name);

// `url` with query parameter `name` set to `value` (percent-encoded): every existing `name`
// parameter is removed and one is appended. Other parameters keep their order and encoding.
std::string with_query_param(std::string_view url, std::string_view name, std::string_view value);

// `host:port` (port defaulted from the scheme), lower-cased; the key rate limits are kept under.
std::string host_key(std::string_view url);

}  // namespace lakeflow::http
