// The conformance suite's state and fixture: registration, configuration loading, connectors.
#include "lakeflow/testing/conformance.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "core/plugin_loader.h"
#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/registry.h"

namespace lakeflow::testing {
namespace {

struct SuiteState {
  SuiteOptions options;
  int registrations = 0;
};

SuiteState& state() {
  static SuiteState instance;  // function-local: registration runs during static initialization
  return instance;
}

// Loads a plugin once, before the first test; a failure fails every test (and the run).
class PluginEnvironment : public ::testing::Environment {
 public:
  explicit PluginEnvironment(std::string path) : path_(std::move(path)) {}
  void SetUp() override {
    try {
      load_plugin(path_, ConnectorRegistry::instance());
    } catch (const Error& e) {
      FAIL() << e.what();
    }
  }

 private:
  std::string path_;
};

std::string source_dir() {
  if (!suite_options().source_dir.empty()) return suite_options().source_dir;
  const char* dir = std::getenv("LAKEFLOW_SOURCE_DIR");
  return dir != nullptr ? std::string(dir) : std::string();
}

// The connector options, from the first of: LAKEFLOW_TEST_CONFIG_JSON, LAKEFLOW_TEST_CONFIG_PATH,
// <source_dir>/configs/dev_config.json. Throws ConfigError saying where to put them.
Options load_connector_options(const std::string& dir) {
  if (const char* json = std::getenv("LAKEFLOW_TEST_CONFIG_JSON")) {
    return Options::from_json(json, "LAKEFLOW_TEST_CONFIG_JSON");
  }
  if (const char* path = std::getenv("LAKEFLOW_TEST_CONFIG_PATH")) {
    if (!std::filesystem::is_regular_file(path)) {
      throw ConfigError(fmt::format(
          "LAKEFLOW_TEST_CONFIG_PATH names '{}', which is not a file; point it at a JSON object "
          "of connector options, or unset it",
          path));
    }
    return Options::from_json(files::read_file(path, "LAKEFLOW_TEST_CONFIG_PATH file"), path);
  }
  if (!dir.empty()) {
    const std::filesystem::path dev_config =
        std::filesystem::path(dir) / "configs" / "dev_config.json";
    if (std::filesystem::is_regular_file(dev_config)) {
      return Options::from_json(files::read_file(dev_config, "configuration file"),
                                dev_config.string());
    }
    throw ConfigError(fmt::format(
        "no configuration for connector '{}': create {} (git-ignored; a JSON object of connector "
        "options such as credentials), or set LAKEFLOW_TEST_CONFIG_JSON to that JSON object, or "
        "LAKEFLOW_TEST_CONFIG_PATH to a file holding it",
        suite_options().connector, dev_config.string()));
  }
  throw ConfigError(fmt::format(
      "no configuration for connector '{}': set LAKEFLOW_TEST_CONFIG_JSON to a JSON object of "
      "connector options, or LAKEFLOW_TEST_CONFIG_PATH to a file holding it, or set "
      "LAKEFLOW_SOURCE_DIR (or SuiteOptions::source_dir) to the connector's folder and create "
      "configs/dev_config.json there (git-ignored)",
      suite_options().connector));
}

// <source_dir>/configs/dev_table_config.json: `{"table": {"option": "value"}}`, optional.
std::map<std::string, Options, std::less<>> load_table_options(const std::string& dir) {
  std::map<std::string, Options, std::less<>> tables;
  if (dir.empty()) return tables;
  const std::filesystem::path path =
      std::filesystem::path(dir) / "configs" / "dev_table_config.json";
  if (!std::filesystem::exists(path)) return tables;
  const std::string name = path.string();
  const JsonValue parsed =
      JsonValue::parse(files::read_file(path, "table configuration file"), name);
  if (!parsed.is_object()) {
    throw ConfigError(
        fmt::format("{}: expected a JSON object mapping table names to option objects, e.g. "
                    "{{\"orders\": {{\"max_records_per_batch\": \"5\"}}}}",
                    name));
  }
  for (const auto& [table, value] : parsed.as_object()) {
    if (!value.is_object()) {
      throw ConfigError(fmt::format(
          "{}: the options of table '{}' must be a JSON object of option names to values", name,
          table));
    }
    tables.emplace(table,
                   Options::from_json(value.dump(), fmt::format("{} (table '{}')", name, table)));
  }
  return tables;
}

std::string registered_connectors() {
  std::string names;
  for (const ConnectorInfo* info : ConnectorRegistry::instance().list()) {
    if (!names.empty()) names += ", ";
    names += info->name;
  }
  return names.empty() ? "none" : names;
}

}  // namespace

void load_plugin_before_tests(std::string path) {
  // GoogleTest owns (and deletes) registered environments.
  ::testing::AddGlobalTestEnvironment(new PluginEnvironment(std::move(path)));
}

void register_suite(SuiteOptions options) {
  SuiteState& s = state();
  s.options = std::move(options);
  ++s.registrations;
}

const SuiteOptions& suite_options() { return state().options; }

void ConformanceTest::SetUp() {
  const SuiteState& s = state();
  if (s.registrations == 0) {
    FAIL() << "this test binary has no LAKEFLOW_CONFORMANCE_SUITE(...): add "
              "`LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{.connector = "
              "\"<name>\"});` to the connector's test file";
  }
  if (s.registrations > 1) {
    FAIL() << "LAKEFLOW_CONFORMANCE_SUITE is used " << s.registrations
           << " times in this test binary; use it exactly once (one connector per test binary)";
  }
  const std::string& name = s.options.connector;
  if (name.empty()) {
    FAIL() << "SuiteOptions::connector is empty; set it to the connector's registered name";
  }
  if (ConnectorRegistry::instance().find(name) == nullptr) {
    FAIL() << "connector '" << name
           << "' is not registered in this test binary (registered: " << registered_connectors()
           << "); link the connector's sources and register it with "
              "LAKEFLOW_REGISTER_CONNECTOR under that name";
  }
  const std::string dir = source_dir();
  try {
    if (s.options.connector_options) {
      static const Options made = s.options.connector_options();
      connector_options_ = made;
    } else {
      connector_options_ = load_connector_options(dir);
    }
    table_options_ = load_table_options(dir);
  } catch (const Error& error) {
    FAIL() << error.what();
  }
}

std::unique_ptr<LakeflowConnect> ConformanceTest::make_connector() const {
  return ConnectorRegistry::instance().create(suite_options().connector, connector_options_);
}

Options ConformanceTest::table_options(std::string_view table) const {
  const auto it = table_options_.find(table);
  return it == table_options_.end() ? Options() : it->second;
}

}  // namespace lakeflow::testing
