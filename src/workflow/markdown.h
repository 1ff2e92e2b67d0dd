// What the workflow reads from Markdown documents: their sections, what the templates left
// unfilled, and DESIGN.md's "Development Progress" (phase marks, ticked / open / n/a items, gates
// and their Approved-by lines). Line-based: headings, list items and code fences are all it needs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow::workflow {

struct Section {
  std::string heading;  // lowercase, without the #s
  int level = 0;
  std::string body;  // up to the next heading of the same or a higher level
};

// The sections of a Markdown document (headings inside ``` code fences are not headings).
std::vector<Section> markdown_sections(std::string_view text);

// A `{{placeholder}}` or a TODO word left from the templates, or nullopt.
std::optional<std::string> unfilled_marker(std::string_view text);

// Lines of `text` without their line ends.
std::vector<std::string> text_lines(std::string_view text);

enum class Tick { kOpen, kDone, kNotApplicable };

struct ProgressItem {
  std::string text;  // the item's text, continuation lines joined
  Tick tick = Tick::kOpen;
  std::string reason;  // for kNotApplicable: the text after "n/a:"
  int line = 0;        // 1-based
};

struct ProgressGate {
  bool found = false;
  bool ticked = false;
  std::optional<std::string> approval;  // the text after `Approved-by:` on the next line
};

struct ProgressPhase {
  bool found = false;
  std::string claimed = "?";  // ✅ ⏳ 🚧 ❌ from the heading, "?" when unmarked
  std::vector<ProgressItem> items;
  ProgressGate gate;
};

// DESIGN.md's phases (`### Phase N: ...` headings, N < phase_count) and their checklist items. An
// item is n/a when its text holds "n/a:" followed by a reason.
std::vector<ProgressPhase> parse_progress(std::string_view design, std::size_t phase_count);

// The form items are compared in: lowercase, no `**`, single spaces, no trailing ":".
std::string normalize_item(std::string_view text);

// An approval names who and when: not "pending", a YYYY-MM-DD date and a name beside it.
bool approval_complete(std::string_view approval);

}  // namespace lakeflow::workflow
