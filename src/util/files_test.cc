#include "lakeflow/files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "lakeflow/error.h"
#include "lakeflow/testing/temp_dir.h"

namespace lakeflow::files {
namespace {

using ::testing::HasSubstr;

TEST(ReadFile, ReadsTheBytesAndNamesWhatCannotBeRead) {
  const TempDir dir("lakeflow_files_test");
  const std::string path = dir.write("a.txt", std::string("line 1\r\nline 2\0x", 16));
  EXPECT_EQ(read_file(path, "test file"), std::string("line 1\r\nline 2\0x", 16));
  EXPECT_EQ(read_file_if_exists(path), std::string("line 1\r\nline 2\0x", 16));

  const std::string missing = dir.file("missing.txt");
  try {
    read_file(missing, "test file");
    ADD_FAILURE() << "no ConfigError for a missing file";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot read test file '" + missing + "'"));
    EXPECT_THAT(error.what(), HasSubstr("No such file"));
  }
  EXPECT_FALSE(read_file_if_exists(missing));
  EXPECT_FALSE(read_file_if_exists(dir.path()));
  EXPECT_THROW(read_file(dir.path()), ConfigError);
}

TEST(TempDir, IsRemovedWithItsContents) {
  std::filesystem::path kept;
  {
    const TempDir dir("lakeflow_files_test");
    kept = dir.path();
    EXPECT_TRUE(std::filesystem::is_directory(kept));
    EXPECT_TRUE(kept.filename().string().starts_with("lakeflow_files_test_"));
    dir.write("nested/deeper/b.txt", "b");
    EXPECT_EQ(read_file(dir.file("nested/deeper/b.txt")), "b");
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"nested"});
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

}  // namespace
}  // namespace lakeflow::files
