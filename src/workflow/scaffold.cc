// `lakeflow new`: scaffolds a connector from templates/connector/ (in tree, or a standalone plugin
// project with templates/out-of-tree/ laid over it).
#include "workflow/scaffold.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "workflow/check.h"
#include "workflow/checklist.h"

namespace lakeflow::workflow {
namespace fs = std::filesystem;
namespace {

bool valid_identifier(const std::string& name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
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

// The templates of an installed lakeflow: <prefix>/share/lakeflow/templates beside <prefix>/bin.
fs::path installed_templates() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path templates = exe.parent_path().parent_path() / "share" / "lakeflow" / "templates";
  return fs::is_directory(templates / "out-of-tree", ec) ? templates : fs::path();
}

// The prefix the SDK is installed in (for the next-steps hint), or a placeholder.
std::string installed_prefix(const fs::path& templates) {
  const fs::path installed = installed_templates();
  return !installed.empty() && installed == templates
             ? installed.parent_path().parent_path().parent_path().string()
             : std::string("<the prefix lakeflow is installed in>");
}

// Every template file under `dir`, relative path -> absolute path.
void collect_templates(const fs::path& dir, std::vector<std::pair<fs::path, fs::path>>& files) {
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const fs::path relative = fs::relative(entry.path(), dir);
    const auto same = [&](const auto& file) { return file.first == relative; };
    files.erase(std::remove_if(files.begin(), files.end(), same), files.end());
    files.emplace_back(relative, entry.path());
  }
}

}  // namespace

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
  const bool out_of_tree = !args.out_of_tree.empty();
  std::error_code ec;
  fs::path templates = out_of_tree && args.root.empty() ? installed_templates() : fs::path();
  if (templates.empty()) templates = workflow_root(args.root) / "templates";
  const fs::path target =
      out_of_tree ? fs::path(args.out_of_tree) : workflow_root(args.root) / "sources" / args.name;
  // Later layers replace files of earlier ones.
  std::vector<fs::path> layers = {templates / "connector"};
  if (out_of_tree) layers.push_back(templates / "out-of-tree");
  for (const fs::path& layer : layers) {
    if (!fs::is_directory(layer, ec)) {
      throw ConfigError(
          fmt::format("no connector templates at '{}': run from the repository or pass --root",
                      layer.string()));
    }
  }
  if (fs::exists(target, ec) && !(out_of_tree && fs::is_empty(target, ec))) {
    throw ConfigError(fmt::format(
        "'{}' already exists: refusing to overwrite connector '{}'; choose another {} or remove "
        "the folder",
        target.string(), args.name, out_of_tree ? "directory" : "name"));
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
      {"{{checklist}}", Checklist::standard().render_progress(args.name)},
  };

  // Gather every file first so that a missing template leaves nothing half written.
  std::vector<std::pair<fs::path, fs::path>> sources;
  for (const fs::path& layer : layers) collect_templates(layer, sources);
  std::vector<std::pair<fs::path, std::string>> files;
  for (const auto& [relative, source] : sources) {
    files.emplace_back(fs::path(substitute(relative.generic_string(), vars)),
                       substitute(files::read_file(source, "template"), vars));
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
  std::string report = fmt::format(
      "created {}/\n", out_of_tree ? target.string() : (fs::path("sources") / args.name).string());
  for (const auto& [relative, text] : files) {
    report += fmt::format("  {}\n", relative.generic_string());
  }
  if (out_of_tree) {
    const std::string dir = target.string();
    report += fmt::format(
        "Next: fill in DESIGN.md (Phase 0); build the plugin and its conformance test with\n"
        "  cmake -S {0} -B {0}/build -DCMAKE_PREFIX_PATH={1} && cmake --build {0}/build\n"
        "watch {0}/build/lakeflow_{2}_tests fail until each method is written, and load it with\n"
        "  LAKEFLOW_PLUGIN_PATH={0}/build lakeflow connectors\n"
        "`lakeflow check --project {0} --run-tests` says what is left, one line per checklist "
        "item.\n",
        dir, installed_prefix(templates), args.name);
    out << report;
    return;
  }
  report += fmt::format(
      "configs/dev_config.json (git-ignored) holds the connection options the tests use: `{{}}` "
      "now, the real source's later.\n"
      "Next: fill in DESIGN.md (Phase 0); rebuild (`make`: the build picks the folder up, "
      "registers the connector and builds lakeflow_source_{0}_tests); watch the tests fail until "
      "each method is written (`lakeflow check {0} --run-tests` runs them and says what is "
      "left).\n",
      args.name);
  out << report;
}

}  // namespace lakeflow::workflow
