#include "core/json_grammar.h"

#include <simdjson.h>

#include <cstddef>
#include <vector>

namespace lakeflow {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool value() {
    // Containers are tracked on an explicit stack: `open_` holds '{' or '[' per level.
    for (;;) {
      skip_space();
      if (at_end()) return false;
      const char c = text_[pos_];
      if (c == '{' || c == '[') {
        ++pos_;
        skip_space();
        if (!at_end() && text_[pos_] == (c == '{' ? '}' : ']')) {
          ++pos_;  // empty container: a complete value
        } else {
          open_.push_back(c);
          if (c == '{' && !member_name()) return false;
          continue;  // the first element or member value
        }
      } else if (!scalar()) {
        return false;
      }
      // After a complete value: close containers or move to the next element.
      for (;;) {
        if (open_.empty()) return true;
        skip_space();
        if (at_end()) return false;
        const char next = text_[pos_++];
        if (next == ',') {
          if (open_.back() == '{' && !member_name()) return false;
          break;
        }
        if (next != (open_.back() == '{' ? '}' : ']')) return false;
        open_.pop_back();
      }
    }
  }

  bool done() {
    skip_space();
    return at_end();
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  void skip_space() {
    while (!at_end() && is_space(text_[pos_])) ++pos_;
  }

  // `"name" :` before a member value.
  bool member_name() {
    skip_space();
    if (at_end() || text_[pos_] != '"' || !string()) return false;
    skip_space();
    if (at_end() || text_[pos_] != ':') return false;
    ++pos_;
    return true;
  }

  bool scalar() {
    const char c = text_[pos_];
    if (c == '"') return string();
    if (c == '-' || is_digit(c)) return number();
    for (std::string_view literal : {"true", "false", "null"}) {
      if (text_.substr(pos_, literal.size()) == literal) {
        pos_ += literal.size();
        return true;
      }
    }
    return false;
  }

  // Any \uXXXX escape is grammatical, a lone surrogate too; control characters must be escaped.
  bool string() {
    ++pos_;  // the opening quote
    while (!at_end()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') continue;
      if (at_end()) return false;
      const char escape = text_[pos_++];
      if (escape == 'u') {
        for (int i = 0; i < 4; ++i) {
          if (at_end() || !is_hex(text_[pos_++])) return false;
        }
      } else if (std::string_view("\"\\/bfnrt").find(escape) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, of any magnitude.
  bool number() {
    if (text_[pos_] == '-') ++pos_;
    if (at_end() || !is_digit(text_[pos_])) return false;
    if (text_[pos_] == '0') {
      ++pos_;
    } else {
      while (!at_end() && is_digit(text_[pos_])) ++pos_;
    }
    if (!at_end() && text_[pos_] == '.') {
      ++pos_;
      if (at_end() || !is_digit(text_[pos_])) return false;
      while (!at_end() && is_digit(text_[pos_])) ++pos_;
    }
    if (!at_end() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (!at_end() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (at_end() || !is_digit(text_[pos_])) return false;
      while (!at_end() && is_digit(text_[pos_])) ++pos_;
    }
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::vector<char> open_;
};

}  // namespace

bool is_json_text(std::string_view text) {
  if (!simdjson::validate_utf8(text.data(), text.size())) return false;
  Scanner scanner(text);
  return scanner.value() && scanner.done();
}

}  // namespace lakeflow
