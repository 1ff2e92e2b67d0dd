// Byte encodings HTTP APIs need: base64 (RFC 4648 §4), base64url without padding (§5, as JWS
// uses), percent-encoding (RFC 3986) and application/x-www-form-urlencoded bodies.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lakeflow::http {

std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);  // no `=` padding
// Accepts base64url with or without padding; nullopt on any other character or a bad length.
std::optional<std::string> base64url_decode(std::string_view text);
// Accepts base64 in either alphabet (`+/` or `-_`), with or without `=` padding, as protobuf's
// JSON mapping writes `bytes` fields; nullopt on any other character or a bad length.
std::optional<std::string> base64_decode(std::string_view text);

// Percent-encodes every byte except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string percent_encode(std::string_view text);
// Decodes %XX escapes (and `+` as a space when `plus_is_space`); malformed escapes are kept as is.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

// The WHATWG application/x-www-form-urlencoded serialisation of one name or value: space becomes
// `+`, `*-._` and alphanumerics stay, every other byte is %XX.
std::string form_urlencode(std::string_view text);
// `a=1&b=two+words` from name/value pairs, in order.
std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace lakeflow::http
