// The files of a connector folder and what git does with each (tracked, untracked, ignored), and
// the credential scan over them.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow::workflow {

enum class GitState { kTracked, kUntracked, kIgnored };

struct FolderFile {
  std::string path;  // relative to the folder, '/'-separated
  GitState state = GitState::kUntracked;
};

struct FolderFiles {
  // Whether git answered; when not (no git, or not a work tree) the states come from the
  // .gitignore files inside the folder: a file matching one of their patterns is kIgnored,
  // every other file kUntracked.
  bool git = false;
  std::vector<FolderFile> files;  // every regular file under the folder, sorted

  const FolderFile* find(std::string_view path) const;
  // Whether git ignores `path` (relative to the folder), whether or not the file exists.
  bool ignores(const std::string& path) const;

  std::filesystem::path folder;
  std::map<std::string, std::vector<std::string>> gitignores;  // directory -> patterns
};

FolderFiles list_folder_files(const std::filesystem::path& folder);

// A credential-looking string in `text`: "line N: <kind>", never the value.
std::optional<std::string> find_credential(std::string_view text);

}  // namespace lakeflow::workflow
