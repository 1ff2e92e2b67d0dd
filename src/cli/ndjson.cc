#include "cli/ndjson.h"

#include <simdjson.h>

namespace lakeflow::cli {
namespace {

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

void append_escaping_line_breaks(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
}

}  // namespace

void append_ndjson_line(std::string& out, std::string_view record) {
  if (!has_line_break(record)) {
    out.append(record);
    out += '\n';
    return;
  }
  const std::size_t start = out.size();
  // simdjson writes whole blocks; give it room beyond the input length.
  out.resize(start + record.size() + simdjson::SIMDJSON_PADDING);
  std::size_t length = 0;
  const simdjson::error_code error =
      simdjson::minify(record.data(), record.size(), out.data() + start, length);
  if (error != simdjson::SUCCESS) {
    // Not JSON simdjson can minify (an unterminated string): keep the text, escape its breaks.
    out.resize(start);
    append_escaping_line_breaks(out, record);
  } else {
    out.resize(start + length);
    if (has_line_break(std::string_view(out).substr(start))) {
      // Raw line breaks inside a string (invalid JSON): escaping them makes the string valid.
      const std::string minified = out.substr(start);
      out.resize(start);
      append_escaping_line_breaks(out, minified);
    }
  }
  out += '\n';
}

std::string single_line(std::string_view message) {
  std::string line(message);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace lakeflow::cli
