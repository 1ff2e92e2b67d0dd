#include "workflow/test_run.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lakeflow/error.h"
#include "lakeflow/testing/temp_dir.h"

namespace lakeflow::workflow {
namespace {

TEST(ParseGtestReport, CountsByClassWithoutConnectorPrefix) {
  const auto classes = parse_gtest_report(R"({"testsuites": [
    {"name": "probe.TestReadTable", "testsuite": [
      {"name": "A", "status": "RUN", "result": "COMPLETED"},
      {"name": "B", "status": "RUN", "result": "COMPLETED", "failures": [{"failure": "x"}]},
      {"name": "C", "status": "RUN", "result": "SKIPPED"},
      {"name": "D", "status": "NOTRUN", "result": "SUPPRESSED"}]},
    {"name": "TestListTables", "testsuite": [
      {"name": "E", "status": "RUN", "result": "COMPLETED"}]}]})");
  ASSERT_EQ(classes.size(), 2u);
  const TestClassResult& read = classes.at("TestReadTable");
  EXPECT_EQ(read.passed, 1);
  EXPECT_EQ(read.failed, 1);
  EXPECT_EQ(read.skipped, 1);
  ASSERT_EQ(read.failures.size(), 1u);
  EXPECT_EQ(read.failures[0], "probe.TestReadTable.B");
  EXPECT_EQ(classes.at("TestListTables").passed, 1);
  EXPECT_THROW(parse_gtest_report("{}"), ConfigError);
}

TEST(RunConnectorTests, SaysHowToBuildWhenThereIsNoTestBuild) {
  const TestRun run =
      run_connector_tests("/nonexistent-build", "probe",
                          {"cmake -S . -B build", "make -C build lakeflow_source_probe_tests"});
  EXPECT_FALSE(run.ran);
  EXPECT_NE(run.problem.find("no test build of 'probe' in '/nonexistent-build'"), std::string::npos)
      << run.problem;
  EXPECT_NE(run.problem.find("(cmake -S . -B build && make -C build lakeflow_source_probe_tests)"),
            std::string::npos)
      << run.problem;
}

TEST(ChooseTestMode, StandInsServeWhenNoCredentialsAreConfigured) {
  files::TempDir dir("test_mode");
  const std::filesystem::path folder = dir.path();
  std::filesystem::create_directories(folder / "configs");
  std::ofstream(folder / "configs" / "dev_config.json") << "{}\n";
  EXPECT_EQ(choose_test_mode(folder, {}).first, "live");  // nothing stands in
  std::filesystem::create_directories(folder / "test" / "cassettes");
  std::ofstream(folder / "test" / "cassettes" / "TestReadTable.json") << "{}";
  EXPECT_EQ(choose_test_mode(folder, {}).first, "replay");
  std::filesystem::create_directories(folder / "test" / "simulator");
  std::ofstream(folder / "test" / "simulator" / "endpoints.yaml") << "endpoints: []\n";
  const auto [mode, reason] = choose_test_mode(folder, {});
  EXPECT_EQ(mode, "simulate");
  EXPECT_THAT(reason, ::testing::HasSubstr("no live credentials"));
  EXPECT_EQ(choose_test_mode(folder, {{"LAKEFLOW_TEST_CONFIG_JSON", "{\"token\": \"x\"}"}}).first,
            "live");
  EXPECT_EQ(choose_test_mode(folder, {{"LAKEFLOW_TEST_MODE", "replay"}}).first, "replay");
  std::ofstream(folder / "configs" / "dev_config.json") << "{\"token\": \"x\"}\n";
  EXPECT_EQ(choose_test_mode(folder, {}).first, "live");
}

}  // namespace
}  // namespace lakeflow::workflow
