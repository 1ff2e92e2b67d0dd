#include "workflow/checklist.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "lakeflow/error.h"

namespace lakeflow::workflow {

extern const char* const kChecklistYaml;

namespace {

std::string scalar(const YAML::Node& node, std::string_view key, std::string_view where,
                   bool required) {
  const YAML::Node value = node[std::string(key)];
  if (!value) {
    if (required) throw ConfigError(fmt::format("checklist: {} has no '{}'", where, key));
    return {};
  }
  if (!value.IsScalar()) {
    throw ConfigError(fmt::format("checklist: '{}' of {} must be text", key, where));
  }
  return value.as<std::string>();
}

std::vector<std::string> strings(const YAML::Node& node, std::string_view where) {
  std::vector<std::string> values;
  if (!node) return values;
  if (!node.IsSequence()) throw ConfigError(fmt::format("checklist: {} must be a list", where));
  for (const YAML::Node& value : node) {
    if (!value.IsScalar()) {
      throw ConfigError(fmt::format("checklist: {} must be a list of text", where));
    }
    values.push_back(value.as<std::string>());
  }
  return values;
}

ChecklistItem parse_item(const YAML::Node& node, const std::string& where) {
  if (!node.IsMap()) throw ConfigError(fmt::format("checklist: {} must be a mapping", where));
  ChecklistItem item;
  item.text = scalar(node, "text", where, true);
  if (const YAML::Node match = node["match"]; match && match.IsSequence()) {
    item.matches = strings(match, where + " match");
  } else if (std::string one = scalar(node, "match", where, false); !one.empty()) {
    item.matches.push_back(std::move(one));
  }
  if (item.matches.empty()) item.matches.push_back(item.text);
  item.method = scalar(node, "method", where, false);
  item.test_class = scalar(node, "test_class", where, false);
  item.checks = strings(node["checks"], where + " checks");
  if (const YAML::Node children = node["items"]) {
    if (!children.IsSequence()) throw ConfigError("checklist: items of " + where + " not a list");
    for (const YAML::Node& child : children) {
      item.items.push_back(parse_item(child, "an item under '" + item.text + "'"));
    }
  }
  return item;
}

void render_items(const std::vector<ChecklistItem>& items, const std::string& name,
                  const std::string& indent, std::string& out) {
  for (const ChecklistItem& item : items) {
    out += indent + "- [ ] " + with_name(item.text, name) + "\n";
    render_items(item.items, name, indent + "  ", out);
  }
}

}  // namespace

std::string with_name(std::string text, std::string_view name) {
  static constexpr std::string_view kKey = "{name}";
  for (std::size_t pos = 0; (pos = text.find(kKey, pos)) != std::string::npos;) {
    text.replace(pos, kKey.size(), name);
    pos += name.size();
  }
  return text;
}

Checklist Checklist::parse(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("checklist: {}", e.what()));
  }
  if (!root.IsMap()) throw ConfigError("checklist: the document must be a mapping");
  Checklist checklist;
  checklist.guide = scalar(root, "guide", "the checklist", true);
  const YAML::Node phases = root["phases"];
  if (!phases || !phases.IsSequence() || phases.size() == 0) {
    throw ConfigError("checklist: 'phases' must be a non-empty list");
  }
  for (const YAML::Node& node : phases) {
    ChecklistPhase phase;
    phase.number = static_cast<int>(checklist.phases.size());
    const std::string where = fmt::format("phase {}", phase.number);
    phase.title = scalar(node, "title", where, true);
    phase.anchor = scalar(node, "anchor", where, true);
    phase.gate = scalar(node, "gate", where, true);
    const YAML::Node items = node["items"];
    if (!items || !items.IsSequence()) {
      throw ConfigError(fmt::format("checklist: {} needs a list of items", where));
    }
    for (const YAML::Node& item : items)
      phase.items.push_back(parse_item(item, "an item of " + where));
    checklist.phases.push_back(std::move(phase));
  }
  const YAML::Node documents = root["documents"];
  if (!documents || !documents.IsMap())
    throw ConfigError("checklist: 'documents' must be a mapping");
  for (const auto& entry : documents) {
    const std::string key = entry.first.as<std::string>();
    DocumentRule rule;
    rule.file = scalar(entry.second, "file", "document " + key, true);
    const YAML::Node sections = entry.second["sections"];
    if (!sections || !sections.IsSequence()) {
      throw ConfigError(fmt::format("checklist: document {} needs a list of sections", key));
    }
    for (const YAML::Node& section : sections) {
      rule.sections.push_back(strings(section, "a section of document " + key));
      if (rule.sections.back().empty()) {
        throw ConfigError(fmt::format("checklist: an empty section in document {}", key));
      }
    }
    checklist.documents.emplace(key, std::move(rule));
  }
  for (const char* key : {"design", "api_doc", "readme"}) checklist.document(key);
  checklist.ignored_configs = strings(root["ignored_configs"], "ignored_configs");
  checklist.table_methods = strings(root["table_methods"], "table_methods");
  return checklist;
}

const Checklist& Checklist::standard() {
  static const Checklist checklist = parse(kChecklistYaml);
  return checklist;
}

const DocumentRule& Checklist::document(std::string_view key) const {
  const auto it = documents.find(key);
  if (it == documents.end()) {
    throw ConfigError(fmt::format("checklist: no document '{}' under 'documents'", key));
  }
  return it->second;
}

std::string Checklist::render_progress(const std::string& name) const {
  std::string out;
  for (const ChecklistPhase& phase : phases) {
    out += fmt::format("\n### Phase {}: {} ⏳\n", phase.number, phase.title);
    out += fmt::format("> Guide: `{}` (\"Phase {}: {}\")\n\n", guide, phase.number, phase.title);
    render_items(phase.items, name, "", out);
    out += fmt::format("- [ ] **🚦 GATE: {}**\n  Approved-by: pending\n", phase.gate);
  }
  return out;
}

}  // namespace lakeflow::workflow
