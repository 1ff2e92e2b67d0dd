#include "workflow/markdown.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "util/text.h"

namespace lakeflow::workflow {
namespace {

constexpr std::array<std::string_view, 4> kPhaseMarks = {"✅", "⏳", "🚧", "❌"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The heading level of `line` (`## x` is 2), or 0 when it is no heading.
int heading_level(std::string_view line) {
  std::size_t level = 0;
  while (level < line.size() && line[level] == '#') ++level;
  if (level == 0 || level >= line.size() || line[level] != ' ') return 0;
  return static_cast<int>(level);
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<std::string> text_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    start = end + 1;
  }
  return lines;
}

std::vector<Section> markdown_sections(std::string_view text) {
  std::vector<Section> sections;
  const std::vector<std::string> lines = text_lines(text);
  std::vector<int> levels(lines.size(), 0);
  bool in_code = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (starts_with(lines[i], "```")) {
      in_code = !in_code;
      continue;
    }
    if (!in_code) levels[i] = heading_level(lines[i]);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (levels[i] == 0) continue;
    Section section;
    section.level = levels[i];
    section.heading = lower(text::trim(std::string_view(lines[i]).substr(levels[i])));
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      if (levels[j] != 0 && levels[j] <= section.level) break;
      section.body += lines[j] + "\n";
    }
    sections.push_back(std::move(section));
  }
  return sections;
}

std::optional<std::string> unfilled_marker(std::string_view text) {
  for (std::size_t open = text.find("{{"); open != std::string_view::npos;
       open = text.find("{{", open + 2)) {
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    const std::string_view inner = text.substr(open + 2, close - open - 2);
    if (!inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
          return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
        })) {
      return std::string(text.substr(open, close + 2 - open));
    }
  }
  for (std::size_t pos = text.find("TODO"); pos != std::string_view::npos;
       pos = text.find("TODO", pos + 4)) {
    const bool start = pos == 0 || !is_word_char(text[pos - 1]);
    const bool end = pos + 4 >= text.size() || !is_word_char(text[pos + 4]);
    if (start && end) return std::string("TODO");
  }
  return std::nullopt;
}

std::string normalize_item(std::string_view text) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 2) == "**") {
      ++i;
      continue;
    }
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  while (!out.empty() && (out.back() == ':' || out.back() == '.')) out.pop_back();
  return out;
}

std::vector<ProgressPhase> parse_progress(std::string_view design, std::size_t phase_count) {
  std::vector<ProgressPhase> phases(phase_count);
  const std::vector<std::string> lines = text_lines(design);
  int phase = -1;
  ProgressItem* last_item = nullptr;  // continuation lines join the item above
  bool in_code = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (starts_with(line, "```")) in_code = !in_code;
    if (in_code) continue;
    const int level = heading_level(line);
    if (level > 0) {
      last_item = nullptr;
      phase = -1;
      const std::string_view title = text::trim(std::string_view(line).substr(level));
      if (level == 3 && starts_with(title, "Phase ")) {
        std::size_t end = 6;
        while (end < title.size() && title[end] >= '0' && title[end] <= '9') ++end;
        const std::string_view number = title.substr(6, end - 6);
        if (digits(number) && number.size() < 3 && std::stoul(std::string(number)) < phase_count) {
          phase = std::stoi(std::string(number));
          phases[phase].found = true;
          for (std::string_view mark : kPhaseMarks) {
            if (title.find(mark) != std::string_view::npos) phases[phase].claimed = mark;
          }
        }
      }
      continue;
    }
    if (phase < 0) continue;
    const std::string_view t = text::trim(line);
    const bool done = starts_with(t, "- [x]") || starts_with(t, "- [X]");
    const bool open = starts_with(t, "- [ ]");
    if (!done && !open) {
      // An indented line that is no list item continues the item above it.
      if (last_item != nullptr && !t.empty() && !line.empty() && line[0] == ' ' &&
          !starts_with(t, "- ") && !starts_with(t, "Approved-by:") && !starts_with(t, ">")) {
        last_item->text += " " + std::string(t);
      } else {
        last_item = nullptr;
      }
      continue;
    }
    const std::string text(text::trim(t.substr(5)));
    if (text.find("GATE") != std::string::npos) {
      ProgressGate& gate = phases[phase].gate;
      gate.found = true;
      gate.ticked = done;
      for (std::size_t j = i + 1; j < lines.size(); ++j) {
        const std::string_view next = text::trim(lines[j]);
        if (next.empty()) continue;
        if (starts_with(next, "Approved-by:"))
          gate.approval = std::string(text::trim(next.substr(12)));
        break;
      }
      last_item = nullptr;
      continue;
    }
    phases[phase].items.push_back(
        {text, done ? Tick::kDone : Tick::kOpen, "", static_cast<int>(i + 1)});
    last_item = &phases[phase].items.back();
  }
  // n/a is decided once an item's continuation lines are joined.
  for (ProgressPhase& p : phases) {
    for (ProgressItem& item : p.items) {
      const std::size_t na = lower(item.text).find("n/a:");
      if (na == std::string::npos) continue;
      const std::string reason(text::trim(std::string_view(item.text).substr(na + 4)));
      if (!reason.empty()) {
        item.tick = Tick::kNotApplicable;
        item.reason = reason;
      }
    }
  }
  return phases;
}

bool approval_complete(std::string_view approval) {
  const std::string_view a = text::trim(approval);
  if (starts_with(lower(a), "pending")) return false;
  bool date = false;
  bool name = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i + 10 <= a.size() && digits(a.substr(i, 4)) && a[i + 4] == '-' &&
        digits(a.substr(i + 5, 2)) && a[i + 7] == '-' && digits(a.substr(i + 8, 2)) &&
        (i == 0 || !std::isdigit(static_cast<unsigned char>(a[i - 1]))) &&
        (i + 10 == a.size() || !std::isdigit(static_cast<unsigned char>(a[i + 10])))) {
      date = true;
      i += 9;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(a[i]))) name = true;
  }
  return date && name;
}

}  // namespace lakeflow::workflow
