#include "er7.h"

#include <fmt/format.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/json.h"

namespace lakeflow::hl7v2 {
namespace {

constexpr char kStartBlock = '\x0b';  // MLLP: starts a frame
constexpr char kEndBlock = '\x1c';    // MLLP: ends a frame (a CR follows)

bool is_line_end(char c) { return c == '\r' || c == '\n'; }
bool is_blank(char c) { return c == '\r' || c == '\n' || c == ' ' || c == '\t'; }
bool is_id_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// True when `line` starts segment `id` (the ID, then the end of the line or a non-alphanumeric
// field separator).
bool starts_segment(std::string_view line, std::string_view id) {
  return line.substr(0, 3) == id && (line.size() == 3 || !is_alnum(line[3]));
}

bool is_envelope(std::string_view line) {
  return starts_segment(line, "FHS") || starts_segment(line, "BHS") ||
         starts_segment(line, "BTS") || starts_segment(line, "FTS");
}

// True when a line starting this way begins a new unit (ends the message or stray text before).
bool starts_unit(std::string_view line) {
  return (!line.empty() && line[0] == kStartBlock) || starts_segment(line, "MSH") ||
         is_envelope(line);
}

std::string_view trim_lines(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

MessageSplitter::Status MessageSplitter::next(FileUnit& unit) {
  const std::size_t size = buffer_.size();
  while (pos_ < size && (is_blank(buffer_[pos_]) || buffer_[pos_] == kEndBlock)) ++pos_;
  if (pos_ == size) return Status::kDone;
  const std::size_t begin = pos_;
  unit = FileUnit();
  unit.begin = begin;

  if (buffer_[begin] == kStartBlock) {
    const void* found = std::memchr(buffer_.data() + begin + 1, kEndBlock, size - begin - 1);
    if (found == nullptr) {
      if (!at_eof_) return Status::kNeedMore;
      unit.kind = FileUnit::Kind::kStray;
      unit.unclosed_frame = true;
      unit.end = size;
      unit.text = trim_lines(buffer_.substr(begin + 1));
      unit.problem =
          "an MLLP frame (0x0B) is not closed (0x1C) before the end of the file; the message is "
          "incomplete";
      pos_ = size;
      return Status::kUnit;
    }
    const auto close = static_cast<std::size_t>(static_cast<const char*>(found) - buffer_.data());
    unit.kind = FileUnit::Kind::kMessage;
    unit.text = trim_lines(buffer_.substr(begin + 1, close - begin - 1));
    unit.end = close + 1;  // the CR after it is skipped as a blank by the next call
    pos_ = unit.end;
    return Status::kUnit;
  }

  // Line by line: a unit runs until the line that starts the next one.
  const auto line_at = [&](std::size_t at, bool& terminated) {
    std::size_t end = at;
    while (end < size && !is_line_end(buffer_[end])) ++end;
    terminated = end < size;
    return buffer_.substr(at, end - at);
  };
  // One past the line's first terminator byte (the LF of a CRLF is skipped as a blank later, so
  // a unit ends at the same byte whether or not the buffer holds what follows).
  const auto after_line = [&](std::size_t at) {
    while (at < size && !is_line_end(buffer_[at])) ++at;
    return at < size ? at + 1 : at;
  };
  bool terminated = false;
  const std::string_view first = line_at(begin, terminated);
  if (!terminated && !at_eof_) return Status::kNeedMore;
  if (is_envelope(first)) {
    unit.kind = FileUnit::Kind::kEnvelope;
    unit.text = first;
    unit.end = after_line(begin);
    pos_ = unit.end;
    return Status::kUnit;
  }
  unit.kind = starts_segment(first, "MSH") ? FileUnit::Kind::kMessage : FileUnit::Kind::kStray;
  std::size_t at = after_line(begin);
  std::size_t text_end = begin + first.size();
  while (at < size) {
    if (is_blank(buffer_[at])) {
      ++at;
      continue;
    }
    const std::string_view line = line_at(at, terminated);
    if (!terminated && !at_eof_ && line.size() < 4) return Status::kNeedMore;
    if (starts_unit(line)) break;
    if (!terminated && !at_eof_) return Status::kNeedMore;
    text_end = at + line.size();
    at = after_line(at);
  }
  if (at == size && !at_eof_) return Status::kNeedMore;  // the next line may continue this unit
  unit.text = buffer_.substr(begin, text_end - begin);
  unit.end = at;
  if (unit.kind == FileUnit::Kind::kStray) {
    unit.problem =
        "text outside any message: a message starts with an MSH segment (batch files may wrap "
        "messages in FHS/BHS ... BTS/FTS segments, MLLP logs in 0x0B ... 0x1C frames)";
  }
  pos_ = at;
  return Status::kUnit;
}

std::optional<std::string> parse_message(std::string_view text, Message& message) {
  message.segments.clear();
  message.fields.clear();
  if (!starts_segment(text, "MSH")) {
    return std::string("the message does not start with an MSH segment");
  }
  if (text.size() < 5 || is_line_end(text[3])) {
    return std::string("MSH-1 (field separator) and MSH-2 (encoding characters) are missing");
  }
  Delimiters& d = message.delimiters;
  d.field = text[3];
  if (static_cast<unsigned char>(d.field) < 0x20 || d.field == ' ') {
    return fmt::format("MSH-1 (field separator) is the control character 0x{:02x}",
                       static_cast<unsigned char>(d.field));
  }
  std::size_t enc_end = 4;
  while (enc_end < text.size() && text[enc_end] != d.field && !is_line_end(text[enc_end])) {
    ++enc_end;
  }
  const std::string_view enc = text.substr(4, enc_end - 4);
  if (enc.empty() || enc.size() > 5) {
    return fmt::format(
        "MSH-2 (encoding characters) is '{}': expected 1 to 5 characters (component, repetition, "
        "escape, subcomponent, truncation; usually ^~\\&)",
        enc);
  }
  for (std::size_t i = 0; i < enc.size(); ++i) {
    const char c = enc[i];
    if (is_alnum(c) || static_cast<unsigned char>(c) < 0x20 || c == ' ' || c == d.field ||
        enc.find(c) != i) {
      return fmt::format(
          "MSH-2 (encoding characters) is '{}': each must be a distinct punctuation character "
          "other than the field separator '{}'",
          enc, d.field);
    }
  }
  d.component = enc[0];
  d.repetition = enc.size() > 1 ? enc[1] : '\0';
  d.escape = enc.size() > 2 ? enc[2] : '\0';
  d.subcomponent = enc.size() > 3 ? enc[3] : '\0';

  std::vector<std::string_view> pieces;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = at;
    while (end < text.size() && !is_line_end(text[end])) ++end;
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (trim_lines(line).empty()) continue;
    const std::size_t number = message.segments.size() + 1;
    if (line.size() < 3 || !is_id_char(line[0]) || !is_id_char(line[1]) || !is_id_char(line[2]) ||
        (line.size() > 3 && line[3] != d.field)) {
      return fmt::format(
          "segment {} ('{}') does not start with a segment ID (three uppercase letters or "
          "digits) and the field separator '{}'",
          number, line.substr(0, 20), d.field);
    }
    Segment segment;
    segment.id = line.substr(0, 3);
    segment.text = line;
    segment.first_field = message.fields.size();
    if (segment.id == "MSH") {
      if (number != 1) return fmt::format("segment {} is a second MSH inside one message", number);
      message.fields.push_back(line.substr(3, 1));
      split(line.substr(4), d.field, pieces);
      message.fields.insert(message.fields.end(), pieces.begin(), pieces.end());
    } else if (line.size() > 3) {
      split(line.substr(4), d.field, pieces);
      message.fields.insert(message.fields.end(), pieces.begin(), pieces.end());
    }
    segment.field_count = message.fields.size() - segment.first_field;
    message.segments.push_back(segment);
  }
  const Segment& msh = message.segments.front();
  if (first_piece(message.field(msh, 9), d.component).empty()) {
    return std::string("MSH-9 (message type) is empty");
  }
  if (message.field(msh, 10).empty()) {
    return std::string(
        "MSH-10 (message control ID) is empty; every message needs one (it keys the tables)");
  }
  return std::nullopt;
}

void split(std::string_view text, char separator, std::vector<std::string_view>& out) {
  out.clear();
  if (separator == '\0') {
    out.push_back(text);
    return;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t found = text.find(separator, start);
    if (found == std::string_view::npos) {
      out.push_back(text.substr(start));
      return;
    }
    out.push_back(text.substr(start, found - start));
    start = found + 1;
  }
}

std::string_view first_piece(std::string_view text, char separator) {
  if (separator == '\0') return text;
  return text.substr(0, text.find(separator));
}

void append_unescaped(std::string_view raw, const Delimiters& d, std::string& out) {
  if (d.escape == '\0' || raw.find(d.escape) == std::string_view::npos) {
    out.append(raw);
    return;
  }
  std::size_t i = 0;
  while (i < raw.size()) {
    const char c = raw[i];
    if (c != d.escape) {
      out.push_back(c);
      ++i;
      continue;
    }
    const std::size_t close = raw.find(d.escape, i + 1);
    if (close == std::string_view::npos) {  // no closing partner: kept as written
      out.append(raw.substr(i));
      return;
    }
    const std::string_view seq = raw.substr(i + 1, close - i - 1);
    char single = '\0';
    if (seq == "F") {
      single = d.field;
    } else if (seq == "S") {
      single = d.component;
    } else if (seq == "T") {
      single = d.subcomponent;
    } else if (seq == "R") {
      single = d.repetition;
    } else if (seq == "E") {
      single = d.escape;
    }
    bool hex = seq.size() >= 3 && seq[0] == 'X' && (seq.size() - 1) % 2 == 0;
    for (std::size_t k = 1; hex && k < seq.size(); ++k) hex = hex_value(seq[k]) >= 0;
    if (single != '\0') {
      out.push_back(single);
    } else if (hex) {
      for (std::size_t k = 1; k < seq.size(); k += 2) {
        out.push_back(static_cast<char>(hex_value(seq[k]) * 16 + hex_value(seq[k + 1])));
      }
    } else {
      out.append(raw.substr(i, close - i + 1));
    }
    i = close + 1;
  }
}

Charset charset_of(std::string_view msh18) {
  while (!msh18.empty() && msh18.front() == ' ') msh18.remove_prefix(1);
  while (!msh18.empty() && msh18.back() == ' ') msh18.remove_suffix(1);
  return msh18 == "8859/1" ? Charset::kLatin1 : Charset::kUtf8;
}

void append_json_text(std::string& out, std::string_view text, Charset charset) {
  if (charset == Charset::kUtf8) {
    // Invalid UTF-8 becomes U+FFFD, one per byte.
    append_json_string(out, text, /*ascii_only=*/false);
    return;
  }
  // ISO 8859-1: every byte is the code point of the same value.
  std::string utf8;
  utf8.reserve(text.size() + text.size() / 4);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      utf8.push_back(ch);
    } else {
      utf8.push_back(static_cast<char>(0xC0 | (c >> 6)));
      utf8.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  append_json_string(out, utf8, /*ascii_only=*/false);
}

}  // namespace lakeflow::hl7v2
