// The plugin loader (src/core/plugin_loader.cc) against shared-object fixtures built by
// tests/plugin/CMakeLists.txt, and `lakeflow` loading plugins from --plugin and
// LAKEFLOW_PLUGIN_PATH.
#include "lakeflow/plugin.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/plugin_loader.h"
#include "lakeflow/registry.h"
#include "support/subprocess.h"

namespace lakeflow {
namespace {

namespace fs = std::filesystem;
using test_support::ProcessOptions;
using test_support::ProcessResult;
using test_support::run_process;
using test_support::TempDir;

// The loader's refusal for `file`, or a failed expectation when it loads.
PluginError refusal(const std::string& file, ConnectorRegistry& registry) {
  try {
    load_plugin(file, registry);
  } catch (const PluginError& e) {
    return e;
  }
  ADD_FAILURE() << file << " was loaded";
  return PluginError(file, PluginError::Reason::kFailed, "");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(LoadPlugin, RegistersItsConnectorsWithTheFileAsOrigin) {
  ConnectorRegistry registry;
  load_plugin(FIXTURE_GOOD, registry);
  const ConnectorInfo* info = registry.find("plugin_fixture");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->origin, fs::path(FIXTURE_GOOD).lexically_normal().string());
  EXPECT_EQ(info->description, "Plugin fixture: two fixed records");
  EXPECT_EQ(registry.create("plugin_fixture", {})->list_tables(),
            std::vector<std::string>{"items"});
  // Nothing reached the process's registry: only the entry point registers, into `registry`.
  EXPECT_EQ(ConnectorRegistry::instance().find("plugin_fixture"), nullptr);
}

TEST(LoadPlugin, RefusesAFileThatIsNotASharedObject) {
  ConnectorRegistry registry;
  const PluginError error = refusal(FIXTURE_NOT_A_SHARED_OBJECT, registry);
  EXPECT_EQ(error.reason(), PluginError::Reason::kNotLoadable);
  EXPECT_EQ(error.code(), ErrorCode::kConfig);
  EXPECT_TRUE(contains(error.what(), FIXTURE_NOT_A_SHARED_OBJECT)) << error.what();
  EXPECT_TRUE(contains(error.what(), "lakeflow_add_connector")) << error.what();
}

TEST(LoadPlugin, RefusesASharedObjectWithoutTheEntryPoint) {
  ConnectorRegistry registry;
  const PluginError error = refusal(FIXTURE_NO_ENTRY_POINT, registry);
  EXPECT_EQ(error.reason(), PluginError::Reason::kNoEntryPoint);
  EXPECT_TRUE(contains(error.what(), std::string("'") + FIXTURE_NO_ENTRY_POINT +
                                         "' is not a lakeflow plugin: it has no entry point "
                                         "lakeflow_plugin_v2"))
      << error.what();
}

TEST(LoadPlugin, RefusesAPluginBuiltAgainstAnotherSdkMajorVersion) {
  ConnectorRegistry registry;
  const PluginError error = refusal(FIXTURE_OTHER_SDK_MAJOR, registry);
  EXPECT_EQ(error.reason(), PluginError::Reason::kIncompatible);
  const std::string expected = std::string("was built against lakeflow SDK ") +
                               std::to_string(LAKEFLOW_SDK_VERSION_MAJOR + 1) + ".0.0";
  EXPECT_TRUE(contains(error.what(), expected)) << error.what();
  EXPECT_TRUE(contains(error.what(), "rebuild it against this SDK")) << error.what();
  EXPECT_TRUE(registry.list().empty());
}

TEST(LoadPlugin, RefusesAPluginOfANewerPluginAbi) {
  ConnectorRegistry registry;
  const PluginError error = refusal(FIXTURE_NEWER_PLUGIN_ABI, registry);
  EXPECT_EQ(error.reason(), PluginError::Reason::kIncompatible);
  EXPECT_TRUE(contains(error.what(), "uses plugin ABI v3")) << error.what();
}

TEST(LoadPlugin, RefusesAPluginOfAnOlderPluginAbi) {
  ConnectorRegistry registry;
  const PluginError error = refusal(FIXTURE_OLDER_PLUGIN_ABI, registry);
  EXPECT_EQ(error.reason(), PluginError::Reason::kIncompatible);
  EXPECT_TRUE(contains(error.what(), "uses plugin ABI v1, older than this lakeflow"))
      << error.what();
  EXPECT_TRUE(contains(error.what(), "rebuild it against this SDK")) << error.what();
}

TEST(LoadPlugin, RefusesAPluginThatRegistersWhileLoading) {
  ConnectorRegistry registry;
  const PluginError error = refusal(FIXTURE_REGISTERS_WHILE_LOADING, registry);
  EXPECT_EQ(error.reason(), PluginError::Reason::kFailed);
  EXPECT_TRUE(contains(error.what(), "LAKEFLOW_PLUGIN_BUILD")) << error.what();
}

TEST(LoadPlugin, RefusesAConnectorNameAnotherPluginRegisters) {
  TempDir dir("lakeflow_plugin");
  const std::string copy = dir.file("copy.so");
  fs::copy_file(FIXTURE_GOOD, copy);
  ConnectorRegistry registry;
  load_plugin(FIXTURE_GOOD, registry);
  const PluginError error = refusal(copy, registry);
  EXPECT_EQ(error.reason(), PluginError::Reason::kDuplicate);
  EXPECT_TRUE(contains(error.what(), "registers connector 'plugin_fixture'")) << error.what();
  EXPECT_TRUE(contains(error.what(), FIXTURE_GOOD)) << error.what();
}

TEST(LoadPlugin, RefusesAMissingFile) {
  ConnectorRegistry registry;
  EXPECT_EQ(refusal("/nonexistent/plugin.so", registry).reason(), PluginError::Reason::kNotFound);
}

TEST(PluginFiles, DirectoriesStandForTheirSharedObjectsAndEmptyEntriesAreSkipped) {
  const std::vector<fs::path> files =
      plugin_files(std::string("::") + FIXTURE_GOOD_DIR + ":" + FIXTURE_NO_ENTRY_POINT + ":", "X");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].lexically_normal(), fs::path(FIXTURE_GOOD).lexically_normal());
  EXPECT_EQ(files[1], fs::path(FIXTURE_NO_ENTRY_POINT));
}

TEST(PluginFiles, RefusesAMissingEntryNamingTheVariable) {
  try {
    plugin_files("/nonexistent/dir", "LAKEFLOW_PLUGIN_PATH");
    FAIL() << "a missing entry was accepted";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.reason(), PluginError::Reason::kNotFound);
    EXPECT_TRUE(contains(e.what(), "'/nonexistent/dir' in LAKEFLOW_PLUGIN_PATH")) << e.what();
  }
}

// ---- the CLI ---------------------------------------------------------------------------------

ProcessResult lakeflow(std::vector<std::string> args, std::vector<std::string> environment = {}) {
  args.insert(args.begin(), LAKEFLOW_CLI);
  ProcessOptions options;
  options.drop_prefixes = {"LAKEFLOW_PLUGIN_PATH="};
  options.set = std::move(environment);
  return run_process(args, options);
}

TEST(CliPlugins, ConnectorsShowsAPluginConnectorWithItsFile) {
  const ProcessResult text = lakeflow({"--plugin", FIXTURE_GOOD, "connectors"});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_TRUE(contains(text.out, std::string("plugin_fixture  ") + FIXTURE_GOOD +
                                     "  Plugin fixture: two fixed records\n"))
      << text.out;
  EXPECT_TRUE(contains(text.out, "built in")) << text.out;

  // --plugin after the command, as a global option.
  const ProcessResult json = lakeflow({"connectors", "--json", "--plugin", FIXTURE_GOOD});
  ASSERT_EQ(json.status, 0) << json.err;
  EXPECT_TRUE(
      contains(json.out, std::string(R"({"description":"Plugin fixture: two fixed records",)") +
                             R"("name":"plugin_fixture","origin":")" + FIXTURE_GOOD + "\"}"))
      << json.out;
  EXPECT_TRUE(contains(json.out, R"("origin":"builtin")")) << json.out;
}

TEST(CliPlugins, LoadsEverySharedObjectOfADirectoryInThePluginPath) {
  const ProcessResult result = lakeflow(
      {"tables", "-c", "plugin_fixture"},
      {std::string("LAKEFLOW_PLUGIN_PATH=/nonexistent-is-not-listed-here:") + FIXTURE_GOOD_DIR});
  EXPECT_EQ(result.status, 2);
  EXPECT_TRUE(contains(result.err, "'/nonexistent-is-not-listed-here' in LAKEFLOW_PLUGIN_PATH"))
      << result.err;

  const ProcessResult ok = lakeflow({"tables", "-c", "plugin_fixture"},
                                    {std::string("LAKEFLOW_PLUGIN_PATH=") + FIXTURE_GOOD_DIR});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.out, "items\n");
}

TEST(CliPlugins, RefusesABadPluginWithStatus2NamingTheFile) {
  for (const char* file :
       {FIXTURE_NOT_A_SHARED_OBJECT, FIXTURE_NO_ENTRY_POINT, FIXTURE_OTHER_SDK_MAJOR}) {
    const ProcessResult result = lakeflow({"--plugin", file, "connectors"});
    EXPECT_EQ(result.status, 2) << file;
    EXPECT_EQ(result.out, "") << file;
    EXPECT_TRUE(contains(result.err, std::string("error: ")) && contains(result.err, file))
        << result.err;
  }
}

TEST(CliPlugins, CommandsWithoutConnectorsIgnoreThePluginPath) {
  const ProcessResult result =
      lakeflow({"show", "/nonexistent/table"}, {"LAKEFLOW_PLUGIN_PATH=/nonexistent"});
  EXPECT_FALSE(contains(result.err, "LAKEFLOW_PLUGIN_PATH")) << result.err;
}

}  // namespace
}  // namespace lakeflow

TEST(PluginVersions, BeforeOneZeroEveryMinorReleaseIsItsOwnAbi) {
  using lakeflow::plugin_detail::sdk_compatible;
  EXPECT_TRUE(sdk_compatible(0, 2, 0, 2));
  EXPECT_FALSE(sdk_compatible(0, 2, 0, 1));  // an older 0.x plugin: objects' layouts changed
  EXPECT_FALSE(sdk_compatible(0, 1, 0, 2));
  EXPECT_TRUE(sdk_compatible(1, 3, 1, 2));  // from 1.0: a newer host loads older plugins
  EXPECT_FALSE(sdk_compatible(1, 2, 1, 3));
  EXPECT_FALSE(sdk_compatible(2, 0, 1, 9));
}
