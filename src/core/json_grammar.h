// Whether text is JSON by RFC 8259's grammar, whatever its values are.
//
// simdjson refuses valid JSON whose values it cannot represent: integers of 2^64 and beyond,
// numbers such as 1e309, strings with a lone UTF-16 surrogate escape (\ud800), nesting deeper than
// its limit. A source that sends such a value sent valid JSON, and a page holding one is not a
// transport error to retry; this check tells the two apart where simdjson says no. Internal to
// lakeflow; not part of the SDK.
#pragma once

#include <string_view>

namespace lakeflow {

// True when `text` is one JSON value (RFC 8259) with optional whitespace around it, in valid UTF-8.
// Linear time, constant stack (nesting is counted, not recursed), no depth limit.
bool is_json_text(std::string_view text);

}  // namespace lakeflow
