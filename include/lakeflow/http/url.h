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

// The origin of a URL (RFC 6454): the scheme, host and port that credentials are scoped to. Two
// URLs share an origin when all three are equal; the host compares case-insensitively and a port
// left out stands for the scheme's default, so `https://API.example.org:443/a` and
// `https://api.example.org/b` share one, while `http://api.example.org` (a downgrade) and
// `https://api.example.org:8443` do not.
struct Origin {
  std::string scheme;  // `http` or `https`
  std::string host;    // lower case; an IPv6 address keeps its brackets
  int port = 0;        // the scheme's default when the URL names none

  bool operator==(const Origin&) const = default;
  // `https://api.example.org`, `http://127.0.0.1:8080`: the port only when it is not the default.
  std::string to_string() const;
};

// The origin of the absolute http(s) URL `url`. Throws ConfigError for a malformed URL or another
// scheme.
Origin origin_of(std::string_view url);

// An origin written on its own, as in option `option`: `scheme://host[:port]`, a trailing `/`
// allowed, nothing else (no path, query, fragment or user name). Throws ConfigError naming the
// option and the accepted form.
Origin parse_origin(std::string_view text, std::string_view option);

}  // namespace lakeflow::http
