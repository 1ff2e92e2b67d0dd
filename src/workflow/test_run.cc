#include "workflow/test_run.h"

#include <fmt/format.h>
#include <unistd.h>

#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/json.h"
#include "workflow/process.h"

namespace lakeflow::workflow {
namespace fs = std::filesystem;
namespace {

std::string class_of(std::string_view suite) {
  const std::size_t dot = suite.find_last_of("./");
  return std::string(dot == std::string_view::npos ? suite : suite.substr(dot + 1));
}

std::string slurp(const fs::path& path) { return files::read_file_if_exists(path).value_or(""); }

}  // namespace

int TestRun::failed() const {
  int n = 0;
  for (const auto& [name, result] : classes) n += result.failed;
  return n;
}

int TestRun::total() const {
  int n = 0;
  for (const auto& [name, result] : classes) n += result.passed + result.failed + result.skipped;
  return n;
}

std::map<std::string, TestClassResult, std::less<>> parse_gtest_report(std::string_view json) {
  const JsonValue report = JsonValue::parse(json, "gtest report");
  const JsonValue* suites = report.find("testsuites");
  if (suites == nullptr || !suites->is_array()) {
    throw ConfigError("the gtest report has no 'testsuites' list");
  }
  std::map<std::string, TestClassResult, std::less<>> classes;
  for (const JsonValue& suite : suites->as_array()) {
    const JsonValue* name = suite.find("name");
    const JsonValue* tests = suite.find("testsuite");
    if (name == nullptr || !name->is_string() || tests == nullptr || !tests->is_array()) continue;
    TestClassResult& result = classes[class_of(name->as_string())];
    for (const JsonValue& test : tests->as_array()) {
      const JsonValue* status = test.find("status");
      const JsonValue* outcome = test.find("result");
      const JsonValue* failures = test.find("failures");
      const JsonValue* test_name = test.find("name");
      if (status != nullptr && status->is_string() && status->as_string() == "NOTRUN") continue;
      if (failures != nullptr && failures->is_array() && !failures->as_array().empty()) {
        ++result.failed;
        result.failures.push_back(name->as_string() + "." +
                                  (test_name != nullptr && test_name->is_string()
                                       ? test_name->as_string()
                                       : std::string("?")));
      } else if (outcome != nullptr && outcome->is_string() && outcome->as_string() == "SKIPPED") {
        ++result.skipped;
      } else {
        ++result.passed;
      }
    }
  }
  return classes;
}

TestRun run_connector_tests(const fs::path& build_dir, const std::string& name,
                            const TestBuild& how) {
  TestRun run;
  const fs::path manifest_path = build_dir / "lakeflow_connectors" / (name + ".json");
  std::error_code ec;
  if (!fs::exists(manifest_path, ec)) {
    run.problem = fmt::format(
        "no test build of '{}' in '{}' (no {}): configure and build it ({} && {}), or pass "
        "--build DIR",
        name, build_dir.string(), manifest_path.string(), how.configure, how.build);
    return run;
  }
  JsonValue manifest;
  try {
    manifest = JsonValue::parse(slurp(manifest_path), manifest_path.string());
  } catch (const Error& e) {
    run.problem = e.what();
    return run;
  }
  const JsonValue* binary = manifest.find("tests");
  if (binary == nullptr || !binary->is_string() || !fs::exists(binary->as_string(), ec)) {
    run.problem = fmt::format("the test binary of '{}' is not built: {}", name, how.build);
    return run;
  }
  std::vector<std::pair<std::string, std::string>> environment;
  if (const JsonValue* env = manifest.find("environment"); env != nullptr && env->is_object()) {
    for (const auto& [key, value] : env->as_object()) {
      if (value.is_string()) environment.emplace_back(key, value.as_string());
    }
  }
  fs::path directory;
  if (const JsonValue* dir = manifest.find("working_directory");
      dir != nullptr && dir->is_string()) {
    directory = dir->as_string();
  }
  const fs::path report =
      fs::temp_directory_path() / fmt::format("lakeflow_check_{}_{}.json", getpid(), name);
  fs::remove(report, ec);
  const ProcessOutput result = run_process(
      {binary->as_string(), "--gtest_output=json:" + report.string()}, directory, environment);
  if (!result.error.empty()) {
    run.problem = result.error;
    return run;
  }
  run.exit_status = result.status;
  const std::string text = slurp(report);
  fs::remove(report, ec);
  if (text.empty()) {
    run.problem =
        fmt::format("{} exited with status {} and wrote no test report: run it by hand to see why",
                    binary->as_string(), result.status);
    return run;
  }
  try {
    run.classes = parse_gtest_report(text);
  } catch (const Error& e) {
    run.problem = e.what();
    return run;
  }
  run.ran = true;
  return run;
}

}  // namespace lakeflow::workflow
