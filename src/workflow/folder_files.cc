#include "workflow/folder_files.h"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "util/text.h"
#include "workflow/markdown.h"
#include "workflow/process.h"

namespace lakeflow::workflow {
namespace fs = std::filesystem;
namespace {

std::set<std::string> git_list(const fs::path& folder, std::vector<std::string> args, bool& ok) {
  std::vector<std::string> argv = {"git", "-C", folder.string(), "ls-files", "-z"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--");
  argv.push_back(".");
  const ProcessOutput result = run_process(argv);
  std::set<std::string> paths;
  if (result.status != 0) {
    ok = false;
    return paths;
  }
  std::string current;
  for (char c : result.out) {
    if (c == '\0') {
      if (!current.empty()) paths.insert(current);
      current.clear();
    } else {
      current += c;
    }
  }
  return paths;
}

// `path` (relative to the folder) matches a pattern of a .gitignore inside the folder: the
// patterns of a .gitignore apply to the paths below its directory, by file name or, for
// patterns with a '/', by path relative to that directory.
bool ignored_by_gitignores(const std::string& path,
                           const std::map<std::string, std::vector<std::string>>& gitignores) {
  for (const auto& [dir, patterns] : gitignores) {
    if (!dir.empty() && path.rfind(dir + "/", 0) != 0) continue;
    const std::string relative = dir.empty() ? path : path.substr(dir.size() + 1);
    const std::string name = relative.substr(relative.rfind('/') + 1);
    for (std::string pattern : patterns) {
      const bool anchored = pattern.find('/') != std::string::npos;
      if (!pattern.empty() && pattern[0] == '/') pattern.erase(0, 1);
      if (!pattern.empty() && pattern.back() == '/') {
        pattern.pop_back();
        if (relative.rfind(pattern + "/", 0) == 0) return true;
        continue;
      }
      if (fnmatch(pattern.c_str(), (anchored ? relative : name).c_str(), FNM_PATHNAME) == 0) {
        return true;
      }
      if (fnmatch((pattern + "/*").c_str(), relative.c_str(), 0) == 0) return true;
    }
  }
  return false;
}

}  // namespace

const FolderFile* FolderFiles::find(std::string_view path) const {
  for (const FolderFile& file : files) {
    if (file.path == path) return &file;
  }
  return nullptr;
}

bool FolderFiles::ignores(const std::string& path) const {
  if (const FolderFile* file = find(path); file != nullptr)
    return file->state == GitState::kIgnored;
  if (!git) return ignored_by_gitignores(path, gitignores);
  return run_process({"git", "-C", folder.string(), "check-ignore", "-q", "--no-index", "--", path})
             .status == 0;
}

FolderFiles list_folder_files(const fs::path& folder) {
  FolderFiles result;
  result.folder = folder;
  std::error_code ec;
  std::vector<std::string> all;
  std::map<std::string, std::vector<std::string>>& gitignores = result.gitignores;
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory() && it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    const std::string relative = fs::relative(it->path(), folder).generic_string();
    all.push_back(relative);
    if (it->path().filename() == ".gitignore") {
      std::ifstream file(it->path());
      std::string line;
      std::vector<std::string>& patterns =
          gitignores[fs::path(relative).parent_path().generic_string()];
      while (std::getline(file, line)) {
        const std::string entry(text::trim(line));
        if (!entry.empty() && entry[0] != '#' && entry[0] != '!') patterns.push_back(entry);
      }
    }
  }
  std::sort(all.begin(), all.end());

  bool ok = true;
  const std::set<std::string> tracked = git_list(folder, {"--cached"}, ok);
  const std::set<std::string> ignored =
      ok ? git_list(folder, {"--others", "--ignored", "--exclude-standard"}, ok)
         : std::set<std::string>();
  result.git = ok;
  for (const std::string& path : all) {
    GitState state = GitState::kUntracked;
    if (result.git) {
      if (tracked.count(path)) {
        state = GitState::kTracked;
      } else if (ignored.count(path)) {
        state = GitState::kIgnored;
      }
    } else if (ignored_by_gitignores(path, gitignores)) {
      state = GitState::kIgnored;
    }
    result.files.push_back({path, state});
  }
  return result;
}

std::optional<std::string> find_credential(std::string_view text) {
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
  const std::vector<std::string> lines = text_lines(text);
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
      return "line " + std::to_string(i + 1) + ": " + std::string(kind);
    }
  }
  return std::nullopt;
}

}  // namespace lakeflow::workflow
