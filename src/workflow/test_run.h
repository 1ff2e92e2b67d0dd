// Running a connector's test binary and reading its results: what proves Phase 3 (the
// conformance classes pass against the configured source) and Phase 5 (the whole binary passes).
//
// The build describes each connector's test binary in <build>/lakeflow_connectors/<name>.json
// (lakeflow_connector_tests() in cmake/LakeflowConnectorTests.cmake, so in tree and in an
// out-of-tree project's build alike): {"tests": the binary, "working_directory", "environment":
// {NAME: VALUE}} — the same environment ctest gives it.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lakeflow::workflow {

struct TestClassResult {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  std::vector<std::string> failures;  // names of the failed tests
};

struct TestRun {
  bool ran = false;
  std::string problem;  // why it did not run or gave no results, with what to do
  int exit_status = 0;
  // By test class: the suite name without a connector prefix (`fhir.TestReadTable` and
  // `TestReadTable` are both TestReadTable).
  std::map<std::string, TestClassResult, std::less<>> classes;

  int failed() const;
  int total() const;
};

// How the user makes the test binary, for the problem a missing one reports.
struct TestBuild {
  std::string configure;  // e.g. "cmake -S . -B build"
  std::string build;      // e.g. "make -C build lakeflow_source_NAME_tests"
};

// Runs the test binary of connector `name` built in `build_dir` and reads its gtest JSON report.
TestRun run_connector_tests(const std::filesystem::path& build_dir, const std::string& name,
                            const TestBuild& how);

// Parses a gtest JSON report (--gtest_output=json). Throws ConfigError when it is not one.
std::map<std::string, TestClassResult, std::less<>> parse_gtest_report(std::string_view json);

}  // namespace lakeflow::workflow
