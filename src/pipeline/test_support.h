// Helpers shared by the pipeline tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

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

// A path in the temporary directory no other process uses: `<tmp>/<stem>_<pid>`.
inline std::filesystem::path unique_temp_path(std::string_view stem) {
  return std::filesystem::temp_directory_path() /
         (std::string(stem) + "_" + std::to_string(::getpid()));
}

}  // namespace lakeflow::pipeline
