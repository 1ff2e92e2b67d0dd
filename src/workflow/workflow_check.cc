// `lakeflow check` and `lakeflow status`: the DESIGN.md checklist evaluated by machine.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "lakeflow/offset.h"
#include "lakeflow/options.h"
#include "lakeflow/registry.h"
#include "workflow/workflow.h"

namespace lakeflow::cli {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kOk = "✅";
constexpr std::string_view kPending = "⏳";
constexpr std::string_view kProgress = "🚧";
constexpr std::string_view kFailed = "❌";

constexpr std::array<std::string_view, 6> kPhaseTitles = {
    "Planning Session", "Understand Source",    "Implement Connector",
    "Test Connector",   "Create Documentation", "Finalize"};

std::string_view symbol(ItemState state) {
  switch (state) {
    case ItemState::kOk:
      return kOk;
    case ItemState::kFail:
      return kFailed;
    case ItemState::kPending:
      break;
  }
  return kPending;
}

std::string_view state_name(ItemState state) {
  switch (state) {
    case ItemState::kOk:
      return "ok";
    case ItemState::kFail:
      return "fail";
    case ItemState::kPending:
      break;
  }
  return "pending";
}

std::optional<std::string> read_optional(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(" \t");
  return std::string(s.substr(begin, end - begin + 1));
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// `{{placeholder}}` or a TODO marker left from the templates.
std::optional<std::string> unfilled_marker(const std::string& text) {
  static const std::regex placeholder(R"(\{\{[A-Za-z_]+\}\})");
  static const std::regex todo(R"(\bTODO\b)");
  std::smatch match;
  if (std::regex_search(text, match, placeholder)) return match.str();
  if (std::regex_search(text, todo)) return std::string("TODO");
  return std::nullopt;
}

// The sections of a Markdown document: heading text (lowercase, without #s) -> body up to the
// next heading of the same or a higher level.
struct Section {
  std::string heading;
  int level = 0;
  std::string body;
};

std::vector<Section> sections(const std::string& text) {
  std::vector<Section> result;
  const std::vector<std::string> lines = split_lines(text);
  bool in_code = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("```", 0) == 0) in_code = !in_code;
    if (in_code || line.empty() || line[0] != '#') continue;
    const std::size_t level = line.find_first_not_of('#');
    if (level == std::string::npos || line[level] != ' ') continue;
    Section section{lower(trim(std::string_view(line).substr(level))), static_cast<int>(level), ""};
    bool code = false;
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
      if (lines[j].rfind("```", 0) == 0) code = !code;
      if (!code && !lines[j].empty() && lines[j][0] == '#') {
        const std::size_t l = lines[j].find_first_not_of('#');
        if (l != std::string::npos && lines[j][l] == ' ' && static_cast<int>(l) <= section.level) {
          break;
        }
      }
      section.body += lines[j] + "\n";
    }
    result.push_back(std::move(section));
  }
  return result;
}

// Checks that `doc` has a filled section for each `required` (a substring of its heading, any of
// the '|'-separated alternatives).
CheckItem sections_item(int phase, std::string item, const std::string& doc,
                        const std::vector<std::string_view>& required) {
  const std::vector<Section> all = sections(doc);
  std::vector<std::string> missing;
  std::vector<std::string> unfilled;
  for (std::string_view want : required) {
    std::vector<std::string> alternatives;
    std::string rest(want);
    for (std::size_t bar; (bar = rest.find('|')) != std::string::npos; rest.erase(0, bar + 1)) {
      alternatives.push_back(rest.substr(0, bar));
    }
    alternatives.push_back(rest);
    const Section* found = nullptr;
    for (const Section& section : all) {
      for (const std::string& alternative : alternatives) {
        if (section.heading.find(alternative) != std::string::npos) found = &section;
      }
      if (found != nullptr) break;
    }
    const std::string label = alternatives.front();
    if (found == nullptr) {
      missing.push_back(label);
    } else if (trim(found->body).empty() || unfilled_marker(found->body)) {
      unfilled.push_back(label);
    }
  }
  CheckItem result{phase, std::move(item), ItemState::kOk, "", false};
  if (missing.empty() && unfilled.empty()) {
    result.reason = fmt::format("all {} sections present and filled", required.size());
    return result;
  }
  result.state = ItemState::kFail;
  std::vector<std::string> parts;
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "'" : ", '") + m + "'";
    parts.push_back("missing section(s) " + list);
  }
  if (!unfilled.empty()) {
    std::string list;
    for (const std::string& u : unfilled) list += (list.empty() ? "'" : ", '") + u + "'";
    parts.push_back("unfilled section(s) (empty, TODO or {{placeholder}}) " + list);
  }
  for (const std::string& part : parts) {
    result.reason += (result.reason.empty() ? "" : "; ") + part;
  }
  return result;
}

CheckItem file_item(int phase, const std::string& name, const std::optional<std::string>& text) {
  if (text) return {phase, name + " exists", ItemState::kOk, "found", false};
  return {phase, name + " exists", ItemState::kFail,
          "missing: create it (see templates/connector/)", false};
}

CheckItem no_marker_item(int phase, const std::string& name, const std::string& text) {
  if (const auto marker = unfilled_marker(text)) {
    return {phase, name + " has no placeholders", ItemState::kFail,
            fmt::format("still contains '{}' from the template", *marker), false};
  }
  return {phase, name + " has no placeholders", ItemState::kOk, "no TODO or {{placeholder}} left",
          false};
}

// The result of a command (its stdout), or nullopt when it fails.
std::optional<std::string> capture(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  if (pclose(pipe) != 0) return std::nullopt;
  return output;
}

std::string shell_quote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// Files of sources/NAME tracked by git (paths relative to the folder), or every file when ROOT is
// not a git work tree (`git_tree` tells which).
std::vector<std::string> tracked_files(const fs::path& root, const std::string& name,
                                       bool& git_tree) {
  const fs::path folder = root / "sources" / name;
  std::vector<std::string> files;
  const std::optional<std::string> inside = capture("git -C " + shell_quote(root.string()) +
                                                    " rev-parse --is-inside-work-tree 2>/dev/null");
  if (inside && trim(*inside).rfind("true", 0) == 0) {
    const std::optional<std::string> listed =
        capture("git -C " + shell_quote(folder.string()) + " ls-files -z -- . 2>/dev/null");
    if (listed) {
      git_tree = true;
      std::string current;
      for (char c : *listed) {
        if (c == '\0') {
          if (!current.empty()) files.push_back(current);
          current.clear();
        } else {
          current += c;
        }
      }
      return files;
    }
  }
  // Not a git work tree: every file counts, except those configs/.gitignore names exactly.
  git_tree = false;
  std::set<std::string> ignored;
  if (const auto gitignore = read_optional(folder / "configs" / ".gitignore")) {
    for (const std::string& line : split_lines(*gitignore)) {
      std::string entry = trim(line);
      if (!entry.empty() && entry[0] == '/') entry.erase(0, 1);
      if (!entry.empty() && entry[0] != '#') ignored.insert("configs/" + entry);
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(folder, ec)) {
    if (!entry.is_regular_file()) continue;
    std::string relative = fs::relative(entry.path(), folder).generic_string();
    if (!ignored.count(relative)) files.push_back(std::move(relative));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A credential-looking string in `text`: the first line number and kind, never the value.
std::optional<std::string> credential_in(const std::string& text) {
  static const std::vector<std::pair<std::regex, std::string_view>> patterns = {
      {std::regex(R"(-----BEGIN [A-Z ]*PRIVATE KEY-----)"), "private key"},
      {std::regex(R"(\bAKIA[0-9A-Z]{16}\b)"), "AWS access key id"},
      {std::regex(R"(\bgh[pousr]_[A-Za-z0-9]{30,})"), "GitHub token"},
      {std::regex(R"(\bxox[abprs]-[A-Za-z0-9-]{10,})"), "Slack token"},
      {std::regex(R"(\bdapi[0-9a-f]{32}\b)"), "Databricks token"},
      {std::regex(R"(\b[Bb]earer [A-Za-z0-9._~+/=-]{24,})"), "bearer token"},
      {std::regex(
           R"((password|passwd|secret|token|api_?key|access_?key|client_secret)["']?\s*[:=]\s*["']([^"'\s<>${}]{12,})["'])",
           std::regex::icase),
       "secret assignment"},
  };
  const std::vector<std::string> lines = split_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    for (const auto& [pattern, kind] : patterns) {
      std::smatch match;
      if (!std::regex_search(lines[i], match, pattern)) continue;
      if (kind == "secret assignment") {
        // A literal value with letters and digits; names and sentences are not secrets.
        const std::string value = match[2].str();
        const bool letters = std::any_of(value.begin(), value.end(), ::isalpha);
        const bool digits = std::any_of(value.begin(), value.end(), ::isdigit);
        if (!letters || !digits) continue;
      }
      return fmt::format("line {}: {}", i + 1, kind);
    }
  }
  return std::nullopt;
}

// Connection parameter names of connector_spec.yaml (`connection: parameters: - name: X`).
std::vector<std::string> spec_parameters(const std::string& spec) {
  std::vector<std::string> names;
  static const std::regex name_line(R"(^\s*-\s*name:\s*["']?([A-Za-z0-9_.-]+)["']?\s*$)");
  bool in_connection = false;
  bool in_parameters = false;
  for (const std::string& line : split_lines(spec)) {
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (line[0] != ' ' && line[0] != '\t') {
      in_connection = t.rfind("connection:", 0) == 0;
      in_parameters = false;
      continue;
    }
    if (in_connection && t.rfind("parameters:", 0) == 0) {
      in_parameters = true;
      continue;
    }
    std::smatch match;
    if (in_parameters && std::regex_match(line, match, name_line)) names.push_back(match[1].str());
  }
  return names;
}

bool contains_word(const std::string& text, const std::string& word) {
  std::string::size_type pos = 0;
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while ((pos = text.find(word, pos)) != std::string::npos) {
    const bool start = pos == 0 || !is_word(text[pos - 1]);
    const bool end = pos + word.size() >= text.size() || !is_word(text[pos + word.size()]);
    if (start && end) return true;
    pos += word.size();
  }
  return false;
}

// Class and function names declared in the connector's headers (the interface methods excepted:
// they are the protocol users read about).
std::set<std::string> internal_identifiers(const std::vector<std::string>& headers) {
  static const std::set<std::string> kInterface = {
      "list_tables",        "get_table_schema",     "read_table_metadata", "read_table",
      "read_table_deletes", "do_list_tables",       "do_get_table_schema", "do_read_table_metadata",
      "do_read_table",      "do_read_table_deletes"};
  static const std::regex type_decl(
      R"(\b(?:class|struct|enum class|enum)\s+([A-Za-z_]\w*)\s*[:{;])");
  static const std::regex function_decl(R"(\b([a-z][a-z0-9]*_[a-z0-9_]*)\s*\()");
  std::set<std::string> names;
  for (const std::string& header : headers) {
    for (const std::string& line : split_lines(header)) {
      const std::string t = trim(line);
      if (t.rfind("//", 0) == 0 || t.rfind("#", 0) == 0) continue;
      for (const std::regex* pattern : {&type_decl, &function_decl}) {
        for (auto it = std::sregex_iterator(line.begin(), line.end(), *pattern);
             it != std::sregex_iterator(); ++it) {
          const std::string name = (*it)[1].str();
          if (!kInterface.count(name)) names.insert(name);
        }
      }
    }
  }
  return names;
}

int count_tbd(const std::string& text) {
  int count = 0;
  for (std::string::size_type pos = 0; (pos = text.find("TBD:", pos)) != std::string::npos;
       pos += 4) {
    if (pos == 0 || text[pos - 1] != '`') ++count;
  }
  return count;
}

// The body of the definition of `Class::method(` in `source`, up to the first `}` in column 0.
std::optional<std::string> method_body(const std::string& source, const std::string& method) {
  const std::regex definition("::" + method + R"(\s*\()");
  std::smatch match;
  if (!std::regex_search(source, match, definition)) return std::nullopt;
  const auto begin = static_cast<std::size_t>(match.position(0));
  const std::size_t end = source.find("\n}", begin);
  return source.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

struct Gate {
  bool found = false;
  bool ticked = false;
  std::optional<std::string> approval;  // the text after `Approved-by:`
};

struct DesignDoc {
  std::array<std::string, 6> claimed{"?", "?", "?", "?", "?", "?"};
  std::array<Gate, 6> gates;
  std::array<int, 6> open_items{};
};

DesignDoc parse_design(const std::string& text) {
  DesignDoc doc;
  static const std::regex phase_heading(R"(^###\s+Phase\s+([0-5])\b.*$)");
  const std::vector<std::string> lines = split_lines(text);
  int phase = -1;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    std::smatch match;
    if (std::regex_match(line, match, phase_heading)) {
      phase = match[1].str()[0] - '0';
      for (std::string_view emoji : {kOk, kPending, kProgress, kFailed}) {
        if (line.find(emoji) != std::string::npos) doc.claimed[phase] = std::string(emoji);
      }
      continue;
    }
    if (line.rfind("## ", 0) == 0 || line.rfind("# ", 0) == 0) phase = -1;
    if (phase < 0) continue;
    const std::string t = trim(line);
    const bool ticked = t.rfind("- [x]", 0) == 0 || t.rfind("- [X]", 0) == 0;
    const bool open = t.rfind("- [ ]", 0) == 0;
    if (!ticked && !open) continue;
    if (t.find("GATE") != std::string::npos) {
      Gate& gate = doc.gates[phase];
      gate.found = true;
      gate.ticked = ticked;
      for (std::size_t j = i + 1; j < lines.size(); ++j) {
        const std::string next = trim(lines[j]);
        if (next.empty()) continue;
        if (next.rfind("Approved-by:", 0) == 0) gate.approval = trim(next.substr(12));
        break;
      }
    } else if (open) {
      ++doc.open_items[phase];
    }
  }
  return doc;
}

// An approval names who and when: not `pending`, a YYYY-MM-DD date and a name beside it.
bool approval_complete(const std::string& approval) {
  static const std::regex date(R"(\b\d{4}-\d{2}-\d{2}\b)");
  if (lower(approval).rfind("pending", 0) == 0) return false;
  if (!std::regex_search(approval, date)) return false;
  const std::string rest = std::regex_replace(approval, date, "");
  return std::any_of(rest.begin(), rest.end(), ::isalpha);
}

std::vector<std::string> files_with_extension(const fs::path& folder, std::string_view ext,
                                              bool recursive) {
  std::vector<std::string> paths;
  std::error_code ec;
  auto add = [&](const fs::directory_entry& entry) {
    if (entry.is_regular_file() && entry.path().extension() == ext) {
      paths.push_back(entry.path().string());
    }
  };
  if (recursive) {
    for (const auto& entry : fs::recursive_directory_iterator(folder, ec)) add(entry);
  } else {
    for (const auto& entry : fs::directory_iterator(folder, ec)) add(entry);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string single_line_text(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text.size() > 200 ? text.substr(0, 200) + "..." : text;
}

std::string join_names(const std::vector<std::string>& names, std::size_t limit = 8) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) {
    out += (i == 0 ? "" : ", ") + names[i];
  }
  if (names.size() > limit) out += fmt::format(", ... ({} in all)", names.size());
  return out;
}

// Runs every table method of the registered connector `name` with a table it does not serve:
// each must throw UnknownTableError. The connection options come from configs/dev_config.json,
// else the LAKEFLOW_TEST_CONFIG_JSON of CMakeLists.txt, else `{}`.
CheckItem unknown_table_item(const fs::path& folder, const std::string& name) {
  const std::string item = "every method rejects an unknown table (run)";
  if (ConnectorRegistry::instance().find(name) == nullptr) {
    return {2, item, ItemState::kPending,
            "not run: the connector is not linked into this lakeflow binary (rebuild it)", false};
  }
  std::string config = "{}";
  if (const auto dev = read_optional(folder / "configs" / "dev_config.json")) {
    config = *dev;
  } else if (const auto cmake = read_optional(folder / "CMakeLists.txt")) {
    static const std::regex test_config(R"(LAKEFLOW_TEST_CONFIG_JSON=(\{[^\n]*\}))");
    std::smatch match;
    if (std::regex_search(*cmake, match, test_config)) config = match[1].str();
  }
  std::unique_ptr<LakeflowConnect> connector;
  try {
    connector = ConnectorRegistry::instance().create(name, Options::from_json(config));
  } catch (const std::exception& e) {
    return {2, item, ItemState::kPending,
            "not run: cannot construct the connector (" + single_line_text(e.what()) + ")", false};
  }
  constexpr std::string_view kTable = "lakeflow_check_no_such_table";
  std::vector<std::string> wrong;
  auto expect_unknown = [&](const char* method, const std::function<void()>& call) {
    try {
      call();
      wrong.push_back(std::string(method) + " returned normally");
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kUnknownTable) {
        wrong.push_back(fmt::format("{} threw {}", method, to_string(e.code())));
      }
    } catch (const std::exception& e) {
      wrong.push_back(fmt::format("{} threw '{}'", method, single_line_text(e.what())));
    }
  };
  const Options none;
  expect_unknown("get_table_schema", [&] { connector->get_table_schema(kTable, none); });
  expect_unknown("read_table_metadata", [&] { connector->read_table_metadata(kTable, none); });
  expect_unknown("read_table", [&] { connector->read_table(kTable, Offset(), none); });
  expect_unknown("read_table_deletes",
                 [&] { connector->read_table_deletes(kTable, Offset(), none); });
  if (wrong.empty()) {
    return {2, item, ItemState::kOk, "each of the 4 table methods throws UnknownTableError", false};
  }
  return {2, item, ItemState::kFail, "expected UnknownTableError: " + join_names(wrong), false};
}

}  // namespace

int ConnectorReport::error_count() const {
  return static_cast<int>(
      std::count_if(items.begin(), items.end(), [](const CheckItem& i) { return i.error; }));
}

bool ConnectorReport::phase_has_error(int phase) const {
  return std::any_of(items.begin(), items.end(),
                     [&](const CheckItem& i) { return i.phase == phase && i.error; });
}

std::vector<std::string> connector_names(const fs::path& root) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / "sources", ec)) {
    if (!entry.is_directory()) continue;
    if (fs::exists(entry.path() / "CMakeLists.txt") || fs::exists(entry.path() / "DESIGN.md")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

ConnectorReport check_connector(const fs::path& root, const std::string& name) {
  const fs::path folder = root / "sources" / name;
  std::error_code ec;
  if (name.empty() || name.find('/') != std::string::npos || !fs::is_directory(folder, ec)) {
    std::string known = join_names(connector_names(root), 100);
    throw ConfigError(
        fmt::format("no connector '{}' under '{}' (connectors: {}); check the name "
                    "or pass --root",
                    name, (root / "sources").string(), known.empty() ? "none" : known));
  }
  ConnectorReport report;
  report.name = name;
  std::vector<CheckItem>& items = report.items;

  // --- Phase 0: DESIGN.md and its planning sections.
  const auto design = read_optional(folder / "DESIGN.md");
  items.push_back(file_item(0, "DESIGN.md", design));
  DesignDoc doc;
  if (design) {
    doc = parse_design(*design);
    items.push_back(
        sections_item(0, "DESIGN.md planning sections filled", *design,
                      {"data source", "existing connector", "right pattern", "scope", "risk"}));
    items.push_back(no_marker_item(0, "DESIGN.md", *design));
  }
  report.claimed = doc.claimed;

  // --- Phase 1: the API doc.
  const std::string api_doc_name = name + "_api_doc.md";
  const auto api_doc = read_optional(folder / api_doc_name);
  items.push_back(file_item(1, api_doc_name, api_doc));
  if (api_doc) {
    items.push_back(sections_item(
        1, api_doc_name + " has every required section", *api_doc,
        {"authorization|authentication", "object list", "object schema", "primary key",
         "ingestion type", "read api", "field type mapping|type mapping", "research log"}));
    const std::vector<Section> all = sections(*api_doc);
    const auto log = std::find_if(all.begin(), all.end(), [](const Section& s) {
      return s.heading.find("research log") != std::string::npos;
    });
    static const std::regex url(R"(https?://[A-Za-z0-9-]+\.[A-Za-z0-9.-]*[A-Za-z])");
    const auto urls =
        log == all.end()
            ? 0
            : std::distance(std::sregex_iterator(log->body.begin(), log->body.end(), url),
                            std::sregex_iterator());
    items.push_back(urls > 0 ? CheckItem{1, "research log with URLs", ItemState::kOk,
                                         fmt::format("{} URL(s) cited", urls), false}
                             : CheckItem{1, "research log with URLs", ItemState::kFail,
                                         "the research log cites no http(s) URL", false});
    const int tbd = count_tbd(*api_doc);
    items.push_back(tbd == 0 ? CheckItem{1, "TBD: markers", ItemState::kOk, "none open", false}
                             : CheckItem{1, "TBD: markers", ItemState::kPending,
                                         fmt::format("{} open TBD: marker(s)", tbd), false});
  }

  // --- Phase 2: the connector code.
  std::vector<std::string> headers;
  std::string sources_text;
  const std::vector<std::string> header_paths = files_with_extension(folder, ".h", false);
  const std::vector<std::string> source_paths = files_with_extension(folder, ".cc", false);
  for (const std::string& path : header_paths) headers.push_back(read_optional(path).value_or(""));
  for (const std::string& path : source_paths) sources_text += read_optional(path).value_or("");
  if (header_paths.empty() || source_paths.empty()) {
    items.push_back({2, "connector sources (.h and .cc)", ItemState::kFail,
                     fmt::format("sources/{}/ needs a header and a source file", name), false});
  } else {
    items.push_back(
        {2, "connector sources (.h and .cc)", ItemState::kOk,
         fmt::format("{} header(s), {} source file(s)", header_paths.size(), source_paths.size()),
         false});
    std::vector<std::string> stubs;
    // The connector's hooks (lakeflow/connector.h); the framework checks table names before them.
    for (const char* method :
         {"get_table_schema", "read_table_metadata", "read_table", "read_table_deletes"}) {
      const auto body = method_body(sources_text, std::string("do_") + method);
      if (!body) continue;  // not overridden (read_table_deletes has a default)
      if (body->find("not_implemented(") != std::string::npos) stubs.push_back(method);
    }
    if (sources_text.find("not_implemented(\"list_tables\")") != std::string::npos &&
        method_body(sources_text, "do_list_tables")) {
      stubs.insert(stubs.begin(), "list_tables");
    }
    items.push_back(
        stubs.empty()
            ? CheckItem{2, "every method implemented", ItemState::kOk, "no scaffold stub left",
                        false}
            : CheckItem{2, "every method implemented", ItemState::kFail,
                        "still the scaffold's NotImplementedError: " + join_names(stubs), false});
    static const std::regex loose_type(
        R"(DataType::(Integer|Map)\s*\(|\b(IntegerType|MapType)\s*[({])");
    std::string tests_text;
    for (const std::string& path : files_with_extension(folder / "test", ".cc", true)) {
      tests_text += read_optional(path).value_or("");
    }
    const bool uses_loose = std::regex_search(sources_text, loose_type);
    const bool reasoned = tests_text.find("allowed_integer_or_map_fields") != std::string::npos;
    items.push_back(
        !uses_loose || reasoned
            ? CheckItem{2, "LongType/StructType preferred", ItemState::kOk,
                        uses_loose ? "IntegerType/MapType used, each with a written reason in the "
                                     "suite options"
                                   : "no IntegerType or MapType",
                        false}
            : CheckItem{2, "LongType/StructType preferred", ItemState::kFail,
                        "IntegerType or MapType used without a reason in "
                        "SuiteOptions::allowed_integer_or_map_fields",
                        false});
  }

  items.push_back(unknown_table_item(folder, name));

  // --- Phase 3: the conformance suite.
  std::vector<std::string> suite_files;
  for (const std::string& path : files_with_extension(folder / "test", ".cc", true)) {
    if (read_optional(path).value_or("").find("LAKEFLOW_CONFORMANCE_SUITE(") != std::string::npos) {
      suite_files.push_back(fs::relative(path, folder).generic_string());
    }
  }
  items.push_back(suite_files.empty()
                      ? CheckItem{3, "test file instantiates the conformance suite",
                                  ItemState::kFail,
                                  "no test/*.cc calls LAKEFLOW_CONFORMANCE_SUITE(...)", false}
                      : CheckItem{3, "test file instantiates the conformance suite", ItemState::kOk,
                                  join_names(suite_files) +
                                      " (registers every test class; write-back when given)",
                                  false});
  const std::string cmake = read_optional(folder / "CMakeLists.txt").value_or("");
  items.push_back(cmake.find("lakeflow_connector(") != std::string::npos &&
                          cmake.find("TESTS") != std::string::npos
                      ? CheckItem{3, "tests wired into the build", ItemState::kOk,
                                  "CMakeLists.txt declares lakeflow_connector(... TESTS ...)",
                                  false}
                      : CheckItem{3, "tests wired into the build", ItemState::kFail,
                                  "CMakeLists.txt lacks lakeflow_connector(NAME SOURCES ... TESTS "
                                  "...)",
                                  false});

  // --- Phase 4: the README.
  const auto readme = read_optional(folder / "README.md");
  items.push_back(file_item(4, "README.md", readme));
  if (readme) {
    items.push_back(sections_item(
        4, "README has every required section", *readme,
        {"prerequisite", "connection parameter|setup", "authentication", "unity catalog",
         "supported object", "pipeline configuration", "troubleshooting"}));
    const auto spec = read_optional(folder / "connector_spec.yaml");
    if (!spec) {
      items.push_back({4, "every connection parameter documented", ItemState::kFail,
                       "connector_spec.yaml is missing", false});
    } else {
      const std::vector<std::string> params = spec_parameters(*spec);
      std::vector<std::string> undocumented;
      for (const std::string& p : params) {
        if (!contains_word(*readme, p)) undocumented.push_back(p);
      }
      items.push_back(
          undocumented.empty()
              ? CheckItem{4, "every connection parameter documented",
                          params.empty() ? ItemState::kPending : ItemState::kOk,
                          params.empty() ? "connector_spec.yaml lists no connection parameter yet"
                                         : fmt::format("{} parameter(s): {}", params.size(),
                                                       join_names(params)),
                          false}
              : CheckItem{4, "every connection parameter documented", ItemState::kFail,
                          "README does not mention: " + join_names(undocumented), false});
    }
    std::vector<std::string> leaked;
    for (const std::string& identifier : internal_identifiers(headers)) {
      if (contains_word(*readme, identifier)) leaked.push_back(identifier);
    }
    items.push_back(leaked.empty()
                        ? CheckItem{4, "no internal identifiers", ItemState::kOk,
                                    "no class or function name from the headers", false}
                        : CheckItem{4, "no internal identifiers", ItemState::kFail,
                                    "README names code identifiers: " + join_names(leaked), false});
    items.push_back(no_marker_item(4, "README.md", *readme));
  }

  // --- Phase 5: credentials.
  bool git_tree = false;
  const std::vector<std::string> tracked = tracked_files(root, name, git_tree);
  const std::string scope =
      git_tree ? "tracked" : "present and not git-ignored (not a git work tree)";
  const bool dev_config =
      std::find(tracked.begin(), tracked.end(), "configs/dev_config.json") != tracked.end();
  items.push_back(dev_config ? CheckItem{5, "no configs/dev_config.json", ItemState::kFail,
                                         fmt::format("configs/dev_config.json is {}: remove it "
                                                     "from the repository (git rm --cached)",
                                                     scope),
                                         true}
                             : CheckItem{5, "no configs/dev_config.json", ItemState::kOk,
                                         "not " + scope.substr(0, scope.find(' ')), false});
  const std::string gitignore = read_optional(folder / "configs" / ".gitignore").value_or("");
  bool ignored = false;
  for (const std::string& line : split_lines(gitignore)) {
    const std::string t = trim(line);
    if (t == "dev_config.json" || t == "/dev_config.json" || t == "*" || t == "*.json" ||
        t == "dev_config*" || t == "dev_config.*") {
      ignored = true;
    }
  }
  items.push_back(ignored ? CheckItem{5, ".gitignore covers configs", ItemState::kOk,
                                      "configs/.gitignore excludes dev_config.json", false}
                          : CheckItem{5, ".gitignore covers configs", ItemState::kFail,
                                      "configs/.gitignore must list dev_config.json", false});
  std::vector<std::string> leaks;
  for (const std::string& file : tracked) {
    std::error_code size_ec;
    if (fs::file_size(folder / file, size_ec) > (4u << 20)) continue;
    const auto text = read_optional(folder / file);
    if (!text) continue;
    if (const auto found = credential_in(*text)) leaks.push_back(file + " " + *found);
  }
  items.push_back(leaks.empty() ? CheckItem{5, "no credential-looking strings", ItemState::kOk,
                                            fmt::format("{} {} file(s) scanned", tracked.size(),
                                                        scope.substr(0, scope.find(' '))),
                                            false}
                                : CheckItem{5, "no credential-looking strings", ItemState::kFail,
                                            "remove and rotate: " + join_names(leaks), true});

  // --- Gates and claims.
  for (int phase = 0; phase < 6; ++phase) {
    if (!design) break;
    const Gate& gate = doc.gates[phase];
    CheckItem item{phase, "🚦 gate", ItemState::kPending, "", false};
    if (!gate.found) {
      item.state = ItemState::kFail;
      item.reason = "no GATE checkbox in this phase of DESIGN.md (copy it from the template)";
    } else if (gate.ticked) {
      if (gate.approval && approval_complete(*gate.approval)) {
        item.state = ItemState::kOk;
        item.reason = "Approved-by: " + *gate.approval;
      } else {
        item.state = ItemState::kFail;
        item.error = true;
        item.reason = "gate ticked without an 'Approved-by: <who>, <YYYY-MM-DD>' line under it";
      }
    } else {
      item.reason = gate.approval ? "awaiting approval (Approved-by: " + *gate.approval + ")"
                                  : "awaiting approval; add 'Approved-by: pending' under the gate";
    }
    items.push_back(item);
    if (doc.open_items[phase] > 0) {
      items.push_back({phase, "checklist items ticked", ItemState::kPending,
                       fmt::format("{} open item(s)", doc.open_items[phase]), false});
    } else {
      items.push_back({phase, "checklist items ticked", ItemState::kOk, "all ticked", false});
    }
  }
  // A phase marked complete must pass every check of its own.
  for (int phase = 0; phase < 6; ++phase) {
    if (doc.claimed[phase] != kOk) continue;
    std::vector<std::string> failing;
    for (CheckItem& item : items) {
      if (item.phase == phase && item.state != ItemState::kOk) {
        item.error = true;
        failing.push_back(item.item);
      }
    }
    if (!failing.empty()) {
      items.push_back({phase, "phase marked ✅", ItemState::kFail,
                       "DESIGN.md marks the phase complete but these checks do not pass: " +
                           join_names(failing),
                       true});
    }
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const CheckItem& a, const CheckItem& b) { return a.phase < b.phase; });
  return report;
}

int run_check(const CheckArgs& args, std::ostream& out) {
  const fs::path root = workflow_root(args.root);
  std::vector<std::string> names = args.names;
  if (args.all) {
    names = connector_names(root);
    if (names.empty()) {
      throw ConfigError(fmt::format("no connectors under '{}'; pass --root to the repository",
                                    (root / "sources").string()));
    }
  }
  if (names.empty()) {
    throw ConfigError("name a connector (lakeflow check NAME) or pass --all");
  }
  std::vector<ConnectorReport> reports;
  for (const std::string& name : names) reports.push_back(check_connector(root, name));

  int errors = 0;
  std::string text;
  if (args.json) {
    text = "{\"connectors\":[";
    for (std::size_t r = 0; r < reports.size(); ++r) {
      const ConnectorReport& report = reports[r];
      errors += report.error_count();
      text += r == 0 ? "{\"name\":" : ",{\"name\":";
      append_json_string(text, report.name, false);
      text += fmt::format(",\"errors\":{},\"phases\":[", report.error_count());
      for (int phase = 0; phase < 6; ++phase) {
        text += fmt::format("{}{{\"phase\":{},\"title\":", phase == 0 ? "" : ",", phase);
        append_json_string(text, kPhaseTitles[phase], false);
        text += ",\"claimed\":";
        append_json_string(text, report.claimed[phase], false);
        text += ",\"items\":[";
        bool first = true;
        for (const CheckItem& item : report.items) {
          if (item.phase != phase) continue;
          text += first ? "{\"item\":" : ",{\"item\":";
          first = false;
          append_json_string(text, item.item, false);
          text += ",\"state\":";
          append_json_string(text, state_name(item.state), false);
          text += ",\"symbol\":";
          append_json_string(text, symbol(item.state), false);
          text += ",\"reason\":";
          append_json_string(text, item.reason, false);
          text += fmt::format(",\"error\":{}}}", item.error ? "true" : "false");
        }
        text += "]}";
      }
      text += "]}";
    }
    text += fmt::format("],\"errors\":{}}}\n", errors);
  } else {
    for (const ConnectorReport& report : reports) {
      errors += report.error_count();
      text += fmt::format("{}\n", report.name);
      for (int phase = 0; phase < 6; ++phase) {
        text += fmt::format("  Phase {}: {} (DESIGN.md: {})\n", phase, kPhaseTitles[phase],
                            report.claimed[phase]);
        for (const CheckItem& item : report.items) {
          if (item.phase != phase) continue;
          text += fmt::format("    {} {}: {}{}\n", symbol(item.state), item.item, item.reason,
                              item.error ? "  [ERROR]" : "");
        }
      }
      text += report.error_count() == 0
                  ? fmt::format("  {}: no errors\n", report.name)
                  : fmt::format("  {}: {} error(s)\n", report.name, report.error_count());
    }
  }
  out << text;
  return errors == 0 ? 0 : 1;
}

void print_status(const std::string& root_arg, bool markdown, std::ostream& out) {
  const fs::path root = workflow_root(root_arg);
  const std::vector<std::string> names = connector_names(root);
  std::vector<std::array<std::string, 8>> rows;
  for (const std::string& name : names) {
    const ConnectorReport report = check_connector(root, name);
    std::array<std::string, 8> row;
    row[0] = name;
    int first_open = -1;
    int pending_gates = 0;
    for (int phase = 0; phase < 6; ++phase) {
      std::string cell =
          report.claimed[phase] == "?" ? std::string(kPending) : report.claimed[phase];
      if (report.phase_has_error(phase)) cell = std::string(kFailed);
      row[phase + 1] = cell;
      if (first_open < 0 && cell != kOk) first_open = phase;
      for (const CheckItem& item : report.items) {
        if (item.phase == phase && item.item == "🚦 gate" && item.state == ItemState::kPending) {
          ++pending_gates;
        }
      }
    }
    if (report.error_count() > 0) {
      row[7] = fmt::format("{} error(s): run `lakeflow check {}`", report.error_count(), name);
    } else if (first_open < 0) {
      row[7] = "complete";
    } else {
      row[7] = fmt::format("Phase {} {}", first_open,
                           row[first_open + 1] == kProgress ? "in progress" : "next");
      if (pending_gates > 0) row[7] += fmt::format("; {} gate(s) await approval", pending_gates);
    }
    rows.push_back(row);
  }
  const std::array<std::string, 8> header = {"Connector", "Phase 0", "Phase 1", "Phase 2",
                                             "Phase 3",   "Phase 4", "Phase 5", "Status"};
  std::string text;
  if (markdown) {
    text += "| Connector | Phase 0 | Phase 1 | Phase 2 | Phase 3 | Phase 4 | Phase 5 | Status |\n";
    text += "|-----------|---------|---------|---------|---------|---------|---------|--------|\n";
    for (const auto& row : rows) {
      text += "|";
      for (const std::string& cell : row) text += " " + cell + " |";
      text += "\n";
    }
    text += "\nLegend: ✅ Complete | ⏳ Pending | 🚧 In Progress | ❌ Blocked\n";
  } else {
    // Column widths count each emoji as two terminal cells.
    auto width = [](const std::string& s) {
      std::size_t cells = 0;
      for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
          ++cells;
        } else if (c >= 0xF0 || c == 0xE2) {
          cells += 2;
        }
      }
      return cells;
    };
    std::array<std::size_t, 8> widths{};
    for (std::size_t c = 0; c < 8; ++c) {
      widths[c] = width(header[c]);
      for (const auto& row : rows) widths[c] = std::max(widths[c], width(row[c]));
    }
    auto line = [&](const std::array<std::string, 8>& row) {
      std::string l;
      for (std::size_t c = 0; c < 8; ++c) {
        l += row[c];
        if (c + 1 < 8) l += std::string(widths[c] - width(row[c]) + 2, ' ');
      }
      return l + "\n";
    };
    text += line(header);
    for (const auto& row : rows) text += line(row);
    if (rows.empty()) text += "(no connectors under sources/)\n";
  }
  out << text;
}

}  // namespace lakeflow::cli
