// What the workflow reads from a connector's C++ files without compiling them: a token-level view
// (comments and the contents of string and character literals blanked out), the #include
// targets, function definitions and identifiers. Enough to tell a scaffold stub from an
// implementation and to find uses of a name; not a parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow::workflow {

class CppSource {
 public:
  explicit CppSource(std::string_view text);

  // The text with comments replaced by spaces and literal contents blanked (quotes kept); line
  // structure is preserved.
  const std::string& code() const { return code_; }
  // The targets of #include lines ("x.h" and <x.h> alike).
  const std::vector<std::string>& includes() const { return includes_; }
  // The bodies (from `{` to its matching `}`) of every definition `Class::name(...) ... {`, or of
  // a free function `name(...) {` at namespace level when `qualified` is false.
  std::vector<std::string> definitions(std::string_view name) const;
  // Whether `identifier` occurs as a whole token in the code.
  bool uses(std::string_view identifier) const;
  // Names that follow `class`/`struct` keywords (declarations and definitions).
  std::vector<std::string> class_names() const;
  // Classes a class derives from: for `class A : public B, C`, the pair {A, {B, C}}.
  std::vector<std::pair<std::string, std::vector<std::string>>> bases() const;

 private:
  std::string code_;
  std::vector<std::string> includes_;
};

// Whether `text` holds `word` with no identifier character on either side.
bool contains_word(std::string_view text, std::string_view word);

}  // namespace lakeflow::workflow
