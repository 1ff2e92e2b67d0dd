// The connector development checklist as data (src/workflow/checklist.yaml, compiled in): the
// phases, their items and gates, the machine checks that prove each item, and the sections each
// document needs. `lakeflow new` renders DESIGN.md's "Development Progress" from it and
// `lakeflow check` evaluates a connector against it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow::workflow {

struct ChecklistItem {
  std::string text;  // as DESIGN.md shows it; {name} is the connector's name
  // The starts of the DESIGN.md line that is this item: the current wording (default: text),
  // then earlier wordings still accepted.
  std::vector<std::string> matches;
  std::string method;                // a connector method the item is about, or empty
  std::string test_class;            // a conformance test class, or empty
  std::vector<std::string> checks;   // machine check ids (checks.h)
  std::vector<ChecklistItem> items;  // sub-items
};

struct ChecklistPhase {
  int number = 0;
  std::string title;   // "Planning Session"
  std::string anchor;  // the guide's section for the phase
  std::string gate;    // "Human approval to proceed"
  std::vector<ChecklistItem> items;
};

struct DocumentRule {
  std::string file;  // relative to the connector folder; {name} is the connector's name
  // Each required section: alternatives, each a part of a heading (lowercase).
  std::vector<std::vector<std::string>> sections;
};

struct Checklist {
  std::string guide;  // the workflow guide, relative to the repository root
  std::vector<ChecklistPhase> phases;
  std::map<std::string, DocumentRule, std::less<>> documents;  // design, api_doc, readme
  std::vector<std::string> ignored_configs;                    // relative to the connector folder
  std::vector<std::string> table_methods;

  // The checklist compiled into lakeflow.
  static const Checklist& standard();
  // Parses checklist YAML. Throws ConfigError naming what is malformed.
  static Checklist parse(std::string_view yaml);

  const DocumentRule& document(std::string_view key) const;
  // DESIGN.md's "Development Progress" section for connector `name`: every phase ⏳ with its
  // items unticked and each gate followed by `Approved-by: pending`.
  std::string render_progress(const std::string& name) const;
};

// `text` with every {name} replaced by `name`.
std::string with_name(std::string text, std::string_view name);

}  // namespace lakeflow::workflow
