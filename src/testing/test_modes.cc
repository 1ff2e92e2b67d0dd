#include "test_modes.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>

#include "lakeflow/http/simulator.h"
#include "lakeflow/http/url.h"
#include "lakeflow/testing/conformance.h"

namespace lakeflow::testing {
namespace modes {
namespace {

constexpr std::string_view kClasses[] = {
    "TestListTables",      "TestGetTableSchema",   "TestReadTableMetadata", "TestReadTable",
    "TestIncrementalRead", "TestReadTableDeletes", "TestInvalidTableName",  "TestWriteBack"};

struct State {
  std::mutex mutex;
  std::uint64_t generation = 0;
  std::string problem;
  std::string suite;
  std::shared_ptr<http::RecordingTransport> recorder;
  std::shared_ptr<http::CoverageTracker> coverage;
  std::shared_ptr<http::DriftTracker> drift;
  std::shared_ptr<http::SimulatedSource> simulator;
};

State& state() {
  static State instance;
  return instance;
}

std::filesystem::path source_dir() {
  if (!suite_options().source_dir.empty()) return suite_options().source_dir;
  const char* dir = std::getenv("LAKEFLOW_SOURCE_DIR");
  return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::path();
}

std::filesystem::path cassette_dir() {
  if (const char* dir = std::getenv("LAKEFLOW_CASSETTE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  const std::string& dir = suite_options().cassette_dir;
  return dir.empty() ? source_dir() / "test" / "cassettes" : std::filesystem::path(dir);
}

std::filesystem::path simulator_dir() {
  const std::string& dir = suite_options().simulator_dir;
  return dir.empty() ? source_dir() / "test" / "simulator" : std::filesystem::path(dir);
}

void write_json(const std::filesystem::path& path, const JsonValue& value) {
  std::filesystem::create_directories(path.parent_path().empty() ? "." : path.parent_path());
  std::ofstream(path) << value.dump() << "\n";
}

std::string class_of(std::string_view suite) {
  const std::size_t dot = suite.rfind('.');
  return std::string(dot == std::string_view::npos ? suite : suite.substr(dot + 1));
}

void print_coverage(const std::string& suite, const JsonValue& report) {
  std::size_t exercised = report.find("endpoints")->as_array().size();
  const auto& missing = report.find("not_exercised")->as_array();
  const auto& unmatched = report.find("no_endpoint")->as_array();
  std::string text = fmt::format("[{} coverage] {}: {} of {} spec endpoints exercised",
                                 to_string(mode()), suite, exercised, exercised + missing.size());
  if (!unmatched.empty())
    text += fmt::format("; {} request(s) without an endpoint", unmatched.size());
  std::cout << text << "\n";
}

class ModeListener : public ::testing::EmptyTestEventListener {
 public:
  void OnTestSuiteStart(const ::testing::TestSuite& suite) override {
    const std::string name = class_of(suite.name());
    if (std::find(std::begin(kClasses), std::end(kClasses), name) == std::end(kClasses)) return;
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.problem.clear();
    s.suite = name;
    s.recorder.reset();
    s.coverage.reset();
    s.drift.reset();
    s.simulator.reset();
    http::TestMode current = http::TestMode::kLive;
    try {
      current = mode();
    } catch (const Error& error) {
      s.problem = error.what();
      return;
    }
    if (current == http::TestMode::kLive) return;
    ++s.generation;
    const std::filesystem::path spec = simulator_dir() / "endpoints.yaml";
    try {
      std::shared_ptr<http::Transport> transport;
      std::shared_ptr<const http::EndpointSpec> endpoints;
      if (current != http::TestMode::kSimulate && std::filesystem::is_regular_file(spec)) {
        endpoints =
            std::make_shared<const http::EndpointSpec>(http::EndpointSpec::load(spec.string()));
        s.coverage = std::make_shared<http::CoverageTracker>(endpoints);
      }
      if (current == http::TestMode::kRecord) {
        s.recorder = std::make_shared<http::RecordingTransport>(http::RecordingTransport::Settings{
            .source = suite_options().connector, .live_origin = "", .stand_in_origin = ""});
        if (endpoints) {
          s.drift = std::make_shared<http::DriftTracker>(endpoints,
                                                         (simulator_dir() / "corpus").string());
        }
        transport = std::make_shared<http::ObservingTransport>(s.recorder, s.coverage, s.drift);
      } else if (current == http::TestMode::kReplay) {
        const std::filesystem::path cassette = cassette_dir() / (name + ".json");
        if (!std::filesystem::is_regular_file(cassette)) {
          s.problem = fmt::format(
              "replay: no cassette {} for connector '{}'; record it once against the source "
              "with LAKEFLOW_TEST_MODE=record",
              cassette.string(), suite_options().connector);
          return;
        }
        const auto& ignored = suite_options().ignore_query_params;
        auto replay = std::make_shared<http::ReplayTransport>(
            http::Cassette::load(cassette.string()),
            std::set<std::string, std::less<>>(ignored.begin(), ignored.end()), cassette.string());
        transport = std::make_shared<http::ObservingTransport>(replay, s.coverage);
      } else {
        if (!std::filesystem::is_regular_file(spec)) {
          s.problem = fmt::format(
              "simulate: connector '{}' has no simulator at {}; write endpoints.yaml and a "
              "corpus/ folder there (see lakeflow/http/simulator.h)",
              suite_options().connector, simulator_dir().string());
          return;
        }
        s.simulator = http::SimulatedSource::load(simulator_dir().string());
        transport = s.simulator;
      }
      http::set_process_transport(std::move(transport));
    } catch (const Error& error) {
      s.problem = error.what();
    }
  }

  void OnTestSuiteEnd(const ::testing::TestSuite& suite) override {
    const std::string name = class_of(suite.name());
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (name != s.suite) return;
    http::set_process_transport(nullptr);
    s.suite.clear();
    try {
      const std::string prefix = fmt::format("{}.{}", suite_options().connector, name);
      if (s.recorder) {
        s.recorder->save((cassette_dir() / (name + ".json")).string());
        if (s.coverage)
          write_json(cassette_dir() / (name + ".coverage.json"), s.coverage->report());
        if (s.drift) write_json(cassette_dir() / (name + ".drift.json"), s.drift->report());
      }
      JsonValue report;
      if (s.simulator) report = s.simulator->coverage_report();
      if (s.coverage && !s.recorder) report = s.coverage->report();
      if (!report.is_null()) {
        write_json(std::filesystem::current_path() / (prefix + ".coverage.json"), report);
        print_coverage(name, report);
      }
    } catch (const std::exception& error) {
      std::cerr << "test mode: could not write the reports of " << name << ": " << error.what()
                << "\n";
    }
  }
};

}  // namespace

void install() {
  static const bool installed = [] {
    ::testing::UnitTest::GetInstance()->listeners().Append(new ModeListener);
    return true;
  }();
  (void)installed;
}

http::TestMode mode() {
  const std::string& fallback = suite_options().default_mode;
  http::TestMode default_mode = http::TestMode::kLive;
  if (fallback == "record") default_mode = http::TestMode::kRecord;
  if (fallback == "replay") default_mode = http::TestMode::kReplay;
  if (fallback == "simulate") default_mode = http::TestMode::kSimulate;
  return http::test_mode_from_environment(default_mode);
}

std::uint64_t generation() {
  std::lock_guard lock(state().mutex);
  return state().generation;
}

std::string problem() {
  std::lock_guard lock(state().mutex);
  return state().problem;
}

void note_live_options(const Options& options) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  if (!s.recorder) return;
  const auto live = options.find("base_url");
  const auto stand_in = suite_options().stand_in_options.find("base_url");
  if (!live || !stand_in) return;
  try {
    s.recorder->set_origins(http::origin_of(*live).to_string(),
                            http::origin_of(*stand_in).to_string());
  } catch (const Error&) {
  }
}

}  // namespace modes

std::string_view test_mode_name() { return http::to_string(modes::mode()); }

}  // namespace lakeflow::testing
