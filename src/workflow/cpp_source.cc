#include "workflow/cpp_source.h"

#include <cctype>

#include "util/text.h"

namespace lakeflow::workflow {
namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// The end of the identifier starting at `i`.
std::size_t ident_end(std::string_view s, std::size_t i) {
  while (i < s.size() && ident_char(s[i])) ++i;
  return i;
}

// From an opening bracket at `i`, the index after its matching closing one (or npos).
std::size_t matching(std::string_view s, std::size_t i, char open, char close) {
  int depth = 0;
  for (; i < s.size(); ++i) {
    if (s[i] == open) ++depth;
    if (s[i] == close && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

}  // namespace

bool contains_word(std::string_view text, std::string_view word) {
  if (word.empty()) return false;
  for (std::size_t pos = text.find(word); pos != std::string_view::npos;
       pos = text.find(word, pos + 1)) {
    const bool start = pos == 0 || !ident_char(text[pos - 1]);
    const bool end = pos + word.size() >= text.size() || !ident_char(text[pos + word.size()]);
    if (start && end) return true;
  }
  return false;
}

CppSource::CppSource(std::string_view text) : code_(text) {
  std::string& c = code_;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c[i] == '\n') {
      line_start = i + 1;
      continue;
    }
    if (c.compare(i, 2, "//") == 0) {
      while (i < c.size() && c[i] != '\n') c[i++] = ' ';
      --i;
      continue;
    }
    if (c.compare(i, 2, "/*") == 0) {
      const std::size_t end = c.find("*/", i + 2);
      const std::size_t stop = end == std::string::npos ? c.size() : end + 2;
      for (; i < stop; ++i) {
        if (c[i] != '\n') c[i] = ' ';
      }
      --i;
      continue;
    }
    if (c[i] == '#' && text::trim(std::string_view(c).substr(line_start, i - line_start)).empty()) {
      // A preprocessor line: record #include targets, keep the rest.
      std::size_t j = skip_space(c, i + 1);
      if (c.compare(j, 7, "include") == 0) {
        j = skip_space(c, j + 7);
        if (j < c.size() && (c[j] == '"' || c[j] == '<')) {
          const char close = c[j] == '"' ? '"' : '>';
          const std::size_t end = c.find(close, j + 1);
          if (end != std::string::npos) includes_.push_back(c.substr(j + 1, end - j - 1));
        }
      }
      while (i < c.size() && c[i] != '\n') ++i;
      --i;
      continue;
    }
    if (c[i] == 'R' && i + 1 < c.size() && c[i + 1] == '"' && (i == 0 || !ident_char(c[i - 1]))) {
      const std::size_t paren = c.find('(', i + 2);
      if (paren == std::string::npos) continue;
      const std::string terminator = ")" + c.substr(i + 2, paren - i - 2) + "\"";
      const std::size_t end = c.find(terminator, paren);
      const std::size_t stop = end == std::string::npos ? c.size() : end + terminator.size() - 1;
      for (std::size_t k = i + 2; k < stop; ++k) {
        if (c[k] != '\n') c[k] = ' ';
      }
      i = stop;
      continue;
    }
    if (c[i] == '"' ||
        (c[i] == '\'' && (i == 0 || !std::isxdigit(static_cast<unsigned char>(c[i - 1]))))) {
      const char quote = c[i];
      std::size_t k = i + 1;
      for (; k < c.size() && c[k] != quote && c[k] != '\n'; ++k) {
        if (c[k] == '\\' && k + 1 < c.size()) c[k++] = ' ';
        c[k] = ' ';
      }
      i = k;
    }
  }
}

std::vector<std::string> CppSource::definitions(std::string_view name) const {
  std::vector<std::string> bodies;
  const std::string_view c = code_;
  for (std::size_t pos = c.find(name); pos != std::string_view::npos; pos = c.find(name, pos + 1)) {
    if (pos > 0 && ident_char(c[pos - 1])) continue;
    if (pos < 2 || c.substr(pos - 2, 2) != "::") continue;
    std::size_t i = skip_space(c, pos + name.size());
    if (i >= c.size() || c[i] != '(') continue;
    i = matching(c, i, '(', ')');
    if (i == std::string_view::npos) continue;
    // Qualifiers, a trailing return type or a member initializer list may come before the body;
    // a `;` first means a declaration or a call.
    std::size_t brace = i;
    while (brace < c.size() && c[brace] != '{' && c[brace] != ';') {
      if (c[brace] == '(') {
        brace = matching(c, brace, '(', ')');
        if (brace == std::string_view::npos) break;
        continue;
      }
      ++brace;
    }
    if (brace == std::string_view::npos || brace >= c.size() || c[brace] != '{') continue;
    // Member initializers use braces too (`x_{y}`): take the last `{` group before a newline
    // followed by code at column 0 is overkill; the body is the first brace group that is not
    // directly after an identifier.
    while (brace > 0 && ident_char(c[brace - 1])) {
      brace = matching(c, brace, '{', '}');
      if (brace == std::string_view::npos) break;
      while (brace < c.size() && c[brace] != '{') ++brace;
      if (brace >= c.size()) break;
    }
    if (brace == std::string_view::npos || brace >= c.size()) continue;
    const std::size_t end = matching(c, brace, '{', '}');
    if (end == std::string_view::npos) continue;
    bodies.emplace_back(c.substr(brace, end - brace));
  }
  return bodies;
}

bool CppSource::uses(std::string_view identifier) const { return contains_word(code_, identifier); }

std::vector<std::string> CppSource::class_names() const {
  std::vector<std::string> names;
  for (const auto& [name, bases] : this->bases()) names.push_back(name);
  return names;
}

std::vector<std::pair<std::string, std::vector<std::string>>> CppSource::bases() const {
  std::vector<std::pair<std::string, std::vector<std::string>>> result;
  const std::string_view c = code_;
  for (std::string_view keyword : {std::string_view("class"), std::string_view("struct")}) {
    for (std::size_t pos = c.find(keyword); pos != std::string_view::npos;
         pos = c.find(keyword, pos + 1)) {
      if ((pos > 0 && ident_char(c[pos - 1])) || ident_char(c[pos + keyword.size()])) continue;
      std::size_t i = skip_space(c, pos + keyword.size());
      // `enum class`, attributes and macros before the name are not handled; a name it is.
      const std::size_t end = ident_end(c, i);
      if (end == i) continue;
      std::string name(c.substr(i, end - i));
      i = skip_space(c, end);
      if (c.substr(i, 5) == "final") i = skip_space(c, i + 5);
      std::vector<std::string> bases;
      if (i < c.size() && c[i] == ':' && (i + 1 >= c.size() || c[i + 1] != ':')) {
        ++i;
        while (i < c.size() && c[i] != '{' && c[i] != ';') {
          i = skip_space(c, i);
          std::size_t e = i;
          while (e < c.size() && (ident_char(c[e]) || c[e] == ':')) ++e;
          std::string_view token = c.substr(i, e - i);
          if (token == "public" || token == "protected" || token == "private" ||
              token == "virtual") {
            i = e;
            continue;
          }
          if (!token.empty()) {
            const std::size_t last = token.rfind("::");
            bases.emplace_back(last == std::string_view::npos ? token : token.substr(last + 2));
            i = e;
          } else {
            ++i;
          }
        }
      }
      if (i < c.size() && (c[i] == '{' || c[i] == ';' || !bases.empty())) {
        result.emplace_back(std::move(name), std::move(bases));
      }
    }
  }
  return result;
}

}  // namespace lakeflow::workflow
