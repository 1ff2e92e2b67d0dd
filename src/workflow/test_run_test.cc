#include "workflow/test_run.h"

#include <gtest/gtest.h>

#include "lakeflow/error.h"

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

}  // namespace
}  // namespace lakeflow::workflow
