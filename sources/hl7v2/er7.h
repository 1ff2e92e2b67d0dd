// HL7 v2 ER7 ("pipe and hat") encoding: cutting a file into messages and a message into segments,
// fields, repetitions, components and subcomponents, and resolving escape sequences. Everything
// here works on views into the caller's buffer; nothing is copied until a value is decoded.
//
// The rules (HL7 v2.3-v2.8, chapter 2 "Control", message construction rules):
//   * A message starts with an MSH segment. Its 4th byte is the field separator (MSH-1); the
//     bytes up to the next field separator are the encoding characters (MSH-2): component,
//     repetition, escape, subcomponent and (v2.7+) truncation, in that order. A character MSH-2
//     leaves out is not used by the message (no escape character: no escape sequences). Nothing
//     is assumed: `|^~\&` is only what most senders write.
//   * Segments end with CR; files written by hand or by tools on other systems use LF or CRLF,
//     so any of the three ends a segment, and blank lines are skipped.
//   * A segment's first three characters are its ID (uppercase letters and digits; Z-segments are
//     kept like any other).
//   * Files hold one message, several messages one after another, batches (FHS/BHS ... BTS/FTS
//     around the messages) or MLLP frames (0x0B message 0x1C 0x0D) as interface engines log them.
//     Batch envelope segments are not messages; they are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow::hl7v2 {

// The delimiters a message declares in MSH-1 and MSH-2. '\0' marks a delimiter the message does
// not use.
struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

// A piece of a file: a message, an envelope segment run (FHS/BHS/BTS/FTS) or text that belongs
// to no message.
struct FileUnit {
  enum class Kind : std::uint8_t { kMessage, kEnvelope, kStray };
  Kind kind = Kind::kMessage;
  std::size_t begin = 0;  // byte offset of the unit in the buffer (its first byte)
  std::size_t end = 0;    // one past its last byte, terminators and framing included
  std::string_view text;  // the message's segments (framing and surrounding blank lines removed)
  std::string problem;    // for kStray: what is wrong
  bool unclosed_frame = false;  // kStray: an MLLP frame that reaches the end of the file unclosed
};

// Cuts a buffer holding the bytes of a file from some message boundary on into units. `at_eof`
// says whether the buffer reaches the end of the file: only then may the last unit end at the
// buffer's end.
class MessageSplitter {
 public:
  MessageSplitter(std::string_view buffer, bool at_eof) : buffer_(buffer), at_eof_(at_eof) {}

  enum class Status : std::uint8_t {
    kUnit,      // `unit` holds the next unit
    kDone,      // nothing but blank lines is left
    kNeedMore,  // the next unit may continue past the buffer: read more of the file
  };
  Status next(FileUnit& unit);
  // Where the next unit starts (after the last one returned).
  std::size_t position() const { return pos_; }

 private:
  std::string_view buffer_;
  bool at_eof_;
  std::size_t pos_ = 0;
};

// One segment of a parsed message. `fields[0]` is field 1 (for MSH: MSH-1, the field separator,
// and MSH-2, the encoding characters as written).
struct Segment {
  std::string_view id;          // "PID", "ZPD"
  std::string_view text;        // the whole segment as written, without its terminator
  std::size_t first_field = 0;  // index into Message::fields
  std::size_t field_count = 0;
};

struct Message {
  Delimiters delimiters;
  std::vector<Segment> segments;
  std::vector<std::string_view> fields;  // every segment's fields, segment after segment

  // Field `n` (1-based, as HL7 numbers them) of `segment`; empty when the segment has fewer.
  std::string_view field(const Segment& segment, std::size_t n) const {
    return n >= 1 && n <= segment.field_count ? fields[segment.first_field + n - 1]
                                              : std::string_view();
  }
};

// Parses the text of one message (a unit's text). Returns the reason it is malformed, or nullopt
// with `message` filled. A malformed message is one whose structure cannot be read: no MSH first,
// invalid encoding characters, a line that is not a segment. Field contents are never judged.
std::optional<std::string> parse_message(std::string_view text, Message& message);

// Splits `text` at every `separator` ('\0': no split) into `out` (cleared first). A delimiter
// inside data is always escaped (\F\, \S\...), so every separator byte separates.
void split(std::string_view text, char separator, std::vector<std::string_view>& out);

// The first piece of `text` before `separator` (all of it for '\0').
std::string_view first_piece(std::string_view text, char separator);

// Appends `raw` to `out` with escape sequences resolved: \F\ \S\ \T\ \R\ \E\ become the
// delimiters they name, \Xhh...\ the bytes it spells. Any other sequence (\H\, \N\, \.br\,
// \Cxxyy\, \Mxxyyzz\, \Zxx\, an \X..\ with odd or non-hex digits) and an escape character
// without its closing partner are kept as written: they carry formatting or character-set
// switches this decoder does not interpret, and nothing is lost by keeping them.
void append_unescaped(std::string_view raw, const Delimiters& delimiters, std::string& out);

// How a message's bytes become Unicode text.
enum class Charset : std::uint8_t {
  kUtf8,    // the default: UTF-8 (ASCII included); invalid bytes become U+FFFD
  kLatin1,  // MSH-18 names ISO 8859-1 ("8859/1"): every byte is its code point
};
// The charset MSH-18's first repetition names (UTF-8 unless it names 8859/1).
Charset charset_of(std::string_view msh18);

// Appends `text` as a JSON string literal (quotes included), as valid UTF-8 per `charset`.
void append_json_text(std::string& out, std::string_view text, Charset charset);

}  // namespace lakeflow::hl7v2
