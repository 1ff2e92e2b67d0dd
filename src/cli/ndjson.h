// Line-oriented output: every record and every message is exactly one line.
#pragma once

#include <string>
#include <string_view>

namespace lakeflow::cli {

// Appends the JSON text `record` to `out` as one NDJSON line (ending in '\n'). Text without line
// breaks is copied as it is; text with line breaks between tokens is minified. Raw line breaks
// inside strings (invalid JSON) are written as the escapes `\n` and `\r`.
void append_ndjson_line(std::string& out, std::string_view record);

// `message` with every line break replaced by a space, for one-line diagnostics.
std::string single_line(std::string_view message);

}  // namespace lakeflow::cli
