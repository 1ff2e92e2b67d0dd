// `lakeflow new`: scaffolds a connector from templates/connector/.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/workflow.h"
#include "lakeflow/error.h"

namespace lakeflow::cli {
namespace fs = std::filesystem;
namespace {

bool valid_identifier(const std::string& name) {
  static const std::regex pattern("[a-z][a-z0-9_]*");
  return std::regex_match(name, pattern);
}

// my_source -> MySource
std::string camel_case(const std::string& name) {
  std::string result;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    result += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return result;
}

std::string substitute(std::string text,
                       const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [key, value] : vars) {
    std::string::size_type pos = 0;
    while ((pos = text.find(key, pos)) != std::string::npos) {
      text.replace(pos, key.size(), value);
      pos += value.size();
    }
  }
  return text;
}

std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw ConfigError(fmt::format("cannot read template '{}'", path.string()));
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

fs::path workflow_root(const std::string& root) {
  if (!root.empty()) return fs::path(root);
  std::error_code ec;
  fs::path dir = fs::current_path(ec);
  for (fs::path candidate = dir; !candidate.empty(); candidate = candidate.parent_path()) {
    if (fs::is_directory(candidate / "sources", ec) &&
        fs::exists(candidate / "CMakeLists.txt", ec)) {
      return candidate;
    }
    if (candidate == candidate.parent_path()) break;
  }
  return dir;
}

void new_connector(const NewArgs& args, std::ostream& out) {
  if (!valid_identifier(args.name)) {
    throw ConfigError(fmt::format(
        "invalid connector name '{}': use a lowercase letter followed by lowercase letters, digits "
        "or '_' (e.g. my_source)",
        args.name));
  }
  std::vector<std::string> tables;
  for (const std::string& table : args.tables) {
    if (!valid_identifier(table)) {
      throw ConfigError(fmt::format(
          "invalid table name '{}' in --tables: use lowercase letters, digits and '_', starting "
          "with a letter",
          table));
    }
    if (std::find(tables.begin(), tables.end(), table) != tables.end()) {
      throw ConfigError(fmt::format("table '{}' is given twice in --tables", table));
    }
    tables.push_back(table);
  }
  const fs::path root = workflow_root(args.root);
  const fs::path templates = root / "templates" / "connector";
  const fs::path target = root / "sources" / args.name;
  std::error_code ec;
  if (!fs::is_directory(templates, ec)) {
    throw ConfigError(
        fmt::format("no connector templates at '{}': run from the repository or pass --root",
                    templates.string()));
  }
  if (fs::exists(target, ec)) {
    throw ConfigError(fmt::format(
        "'{}' already exists: refusing to overwrite connector '{}'; choose another name or remove "
        "the folder",
        target.string(), args.name));
  }

  std::string tables_cpp;
  std::string tables_md;
  for (const std::string& table : tables) {
    tables_cpp += (tables_cpp.empty() ? "\"" : ", \"") + table + "\"";
    tables_md += (tables_md.empty() ? "`" : ", `") + table + "`";
  }
  if (tables_md.empty()) tables_md = "TODO: the tables, in priority order";
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"{{name}}", args.name},
      {"{{Name}}", camel_case(args.name)},
      {"{{tables_cpp}}", tables_cpp},
      {"{{tables_md}}", tables_md},
  };

  // Gather every file first so that a missing template leaves nothing half written.
  std::vector<std::pair<fs::path, std::string>> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(templates)) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = fs::relative(entry.path(), templates).generic_string();
    files.emplace_back(fs::path(substitute(relative, vars)),
                       substitute(read_file(entry.path()), vars));
  }
  std::sort(files.begin(), files.end());
  for (const auto& [relative, text] : files) {
    const fs::path path = target / relative;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream file(path, std::ios::binary);
    file << text;
    if (!file) {
      throw ConfigError(fmt::format("cannot write '{}': check permissions", path.string()));
    }
  }
  // The tests' connection options (git-ignored): `{}` so that the suite runs at once and fails
  // on the methods not implemented yet, not on a missing configuration.
  {
    fs::create_directories(target / "configs", ec);
    std::ofstream config(target / "configs" / "dev_config.json", std::ios::binary);
    config << "{}\n";
    if (!config) {
      throw ConfigError(fmt::format("cannot write '{}': check permissions",
                                    (target / "configs" / "dev_config.json").string()));
    }
  }
  files.emplace_back(fs::path("configs/dev_config.json"), "{}\n");
  std::sort(files.begin(), files.end());
  std::string report = fmt::format("created {}/\n", (fs::path("sources") / args.name).string());
  for (const auto& [relative, text] : files) {
    report += fmt::format("  {}\n", relative.generic_string());
  }
  report += fmt::format(
      "Next: fill in DESIGN.md (Phase 0), rebuild (the build picks the folder up), and watch "
      "`lakeflow_source_{}_tests` fail until each method is written; `lakeflow check {}` shows "
      "what is left.\n",
      args.name, args.name);
  out << report;
}

}  // namespace lakeflow::cli
