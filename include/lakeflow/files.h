// Reading whole files: a connector's configuration or schema file, a test's fixture. Errors a user
// can cause (a missing file, a directory, no permission) say which file and why.
// Header-only (tests and tools use it without linking the SDK library); part of the SDK.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "lakeflow/error.h"

namespace lakeflow::files {

// The bytes of the file at `path`, or nullopt with the reason in `reason` (errno's message).
inline std::optional<std::string> try_read_file(const std::filesystem::path& path,
                                                std::string& reason) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    reason = "it is a directory";
    return std::nullopt;
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    reason = errno != 0 ? std::strerror(errno) : "open failed";
    return std::nullopt;
  }
  try {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.bad()) return text;
  } catch (const std::ios_base::failure&) {
    // libstdc++ throws from the stream buffer on some read errors
  }
  reason = "read failed";
  return std::nullopt;
}

// The bytes of the file at `path`. Throws ConfigError "cannot read <what> '<path>': <reason>" when
// it cannot be opened or read (missing, a directory, no permission).
inline std::string read_file(const std::filesystem::path& path, std::string_view what = "file") {
  std::string reason;
  std::optional<std::string> text = try_read_file(path, reason);
  if (!text) {
    throw ConfigError(fmt::format("cannot read {} '{}': {}", what, path.string(), reason));
  }
  return std::move(*text);
}

// The bytes of the file at `path`; nullopt when it cannot be opened or read.
inline std::optional<std::string> read_file_if_exists(const std::filesystem::path& path) {
  std::string reason;
  return try_read_file(path, reason);
}

}  // namespace lakeflow::files
