// Helpers shared by the pipeline tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delta/delta_destination.h"
#include "destination/destination.h"
#include "lakeflow/error.h"

namespace lakeflow::pipeline {

// Runs `f`, expects it to throw an `E` (a lakeflow::Error subclass) with `code`, and returns the
// message ("" after recording a failure when nothing or something else is thrown).
template <typename E = Error, typename F>
std::string error_message(F&& f, ErrorCode code = ErrorCode::kConfig) {
  try {
    f();
  } catch (const E& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return "";
}

// The destination the pipeline tests land tables in: Delta, as the CLI's.
inline const destination::Destination& test_destination() {
  static const delta::DeltaDestination destination;
  return destination;
}

// The rows of the table at `path` (Destination::read_rows).
inline std::vector<std::string> read_table_rows(const std::filesystem::path& path,
                                                std::optional<std::size_t> limit = std::nullopt) {
  return test_destination().read_rows(path, limit);
}

// A path in the temporary directory no other process uses: `<tmp>/<stem>_<pid>`.
inline std::filesystem::path unique_temp_path(std::string_view stem) {
  return std::filesystem::temp_directory_path() /
         (std::string(stem) + "_" + std::to_string(::getpid()));
}

}  // namespace lakeflow::pipeline
