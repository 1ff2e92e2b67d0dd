// A temporary directory for tests: made unique under the system's temporary directory, removed
// with everything in it when the object goes away (a connector's tests over files it reads).
// Header-only; part of the SDK's testing headers.
#pragma once

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace lakeflow::files {

class TempDir {
 public:
  // `prefix` starts the directory's name (`<tmp>/<prefix>_XXXXXX`).
  explicit TempDir(std::string_view prefix = "lakeflow_test") {
    std::string pattern =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "_XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot make a temporary directory " + pattern);
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The path of `name` inside the directory.
  std::string file(std::string_view name) const { return (path_ / name).string(); }
  // Writes `text` to `name` (creating parent directories) and returns its path.
  std::string write(std::string_view name, std::string_view text) const {
    const std::filesystem::path target = path_ / name;
    std::filesystem::create_directories(target.parent_path());
    std::ofstream(target, std::ios::binary) << text;
    return target.string();
  }
  // The names of the directory's entries, in no particular order.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace lakeflow::files
