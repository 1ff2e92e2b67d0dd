#include "workflow/folder_files.h"

#include <gtest/gtest.h>

#include "support/subprocess.h"
#include "workflow/process.h"

namespace lakeflow::workflow {
namespace {

using test_support::TempDir;

TEST(FolderFiles, WithoutGitTheFoldersGitignoresDecide) {
  TempDir dir("lakeflow_folder_files");
  dir.write("configs/.gitignore", "dev_config.json\n");
  dir.write("configs/dev_config.json", "{}");
  dir.write("a.cc", "");
  const FolderFiles files = list_folder_files(dir.path());
  ASSERT_FALSE(files.git);
  ASSERT_EQ(files.files.size(), 3u);
  EXPECT_EQ(files.find("configs/dev_config.json")->state, GitState::kIgnored);
  EXPECT_EQ(files.find("a.cc")->state, GitState::kUntracked);
  EXPECT_TRUE(files.ignores("configs/dev_config.json"));
  EXPECT_FALSE(files.ignores("configs/other.json"));
}

TEST(FolderFiles, InAGitWorkTreeGitDecides) {
  TempDir dir("lakeflow_folder_files");
  if (run_process({"git", "init", "-q", dir.path()}).status != 0) GTEST_SKIP() << "no git";
  dir.write(".gitignore", "dev_config.json\n");
  dir.write("tracked.cc", "");
  dir.write("untracked.cc", "");
  dir.write("configs/dev_config.json", "{}");
  ASSERT_EQ(run_process({"git", "-C", dir.path(), "add", "tracked.cc"}).status, 0);
  const FolderFiles files = list_folder_files(dir.path());
  ASSERT_TRUE(files.git);
  EXPECT_EQ(files.find("tracked.cc")->state, GitState::kTracked);
  EXPECT_EQ(files.find("untracked.cc")->state, GitState::kUntracked);
  EXPECT_EQ(files.find("configs/dev_config.json")->state, GitState::kIgnored);
  EXPECT_TRUE(files.ignores("configs/dev_config.json"));
  EXPECT_FALSE(files.ignores("configs/dev_table_config.json"));
}

TEST(FindCredential, NamesTheLineAndKindNeverTheValue) {
  EXPECT_EQ(find_credential("x\n\"api_key\": \"abcd1234efgh5678\"\n"), "line 2: secret assignment");
  EXPECT_EQ(find_credential("-----BEGIN RSA PRIVATE KEY-----"), "line 1: private key");
  EXPECT_FALSE(find_credential("password: ${env:PASSWORD}"));
  EXPECT_FALSE(find_credential("\"token\": \"a sentence only\""));
}

}  // namespace
}  // namespace lakeflow::workflow
