// End-to-end tests of `lakeflow new`, `lakeflow check` and `lakeflow status`: the real CLI runs in
// temporary trees holding a copy of templates/.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/subprocess.h"

namespace {

namespace fs = std::filesystem;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_process;
using lakeflow::test_support::slurp;
using lakeflow::test_support::TempDir;

ProcessResult lakeflow_cli(std::vector<std::string> args) {
  args.insert(args.begin(), LAKEFLOW_CLI);
  return run_process(args);
}

// A tree with sources/ and a copy of the repository's templates/.
class WorkflowTree : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(fs::path(tree_.path()) / "sources");
    fs::copy(fs::path(LAKEFLOW_REPO_DIR) / "templates", fs::path(tree_.path()) / "templates",
             fs::copy_options::recursive);
  }
  std::string root() const { return tree_.path(); }
  std::string source(const std::string& relative) const {
    return tree_.file("sources/" + relative);
  }

  TempDir tree_{"lakeflow_workflow"};
};

TEST_F(WorkflowTree, NewCreatesEveryFileWithNamesSubstituted) {
  const ProcessResult result =
      lakeflow_cli({"new", "my_shop", "--tables", "users,orders", "--root", root()});
  ASSERT_EQ(result.status, 0) << result.err;
  for (const char* file : {"DESIGN.md", "README.md", "my_shop_api_doc.md", "my_shop_connector.h",
                           "my_shop_connector.cc", "test/my_shop_conformance_test.cc",
                           "connector_spec.yaml", "configs/.gitignore", "CMakeLists.txt"}) {
    EXPECT_TRUE(fs::exists(source(std::string("my_shop/") + file))) << file;
  }
  const std::string header = slurp(source("my_shop/my_shop_connector.h"));
  EXPECT_NE(header.find("class MyShopConnector : public LakeflowConnect"), std::string::npos);
  EXPECT_NE(header.find("namespace lakeflow::my_shop"), std::string::npos);
  const std::string code = slurp(source("my_shop/my_shop_connector.cc"));
  EXPECT_NE(code.find("\"users\", \"orders\""), std::string::npos);
  EXPECT_NE(code.find("LAKEFLOW_REGISTER_CONNECTOR(\"my_shop\""), std::string::npos);
  EXPECT_EQ(code.find("{{"), std::string::npos);
  EXPECT_NE(
      slurp(source("my_shop/test/my_shop_conformance_test.cc")).find("LAKEFLOW_CONFORMANCE_SUITE"),
      std::string::npos);
  EXPECT_NE(slurp(source("my_shop/configs/.gitignore")).find("dev_config.json"), std::string::npos);
  // Git-ignored, so that the suite runs at once and fails on the unimplemented methods.
  EXPECT_EQ(slurp(source("my_shop/configs/dev_config.json")), "{}\n");
  const std::string design = slurp(source("my_shop/DESIGN.md"));
  for (const char* text : {"### Phase 0: Planning Session ⏳", "### Phase 5: Finalize ⏳",
                           "**🚦 GATE: Docs approved**", "Approved-by: pending"}) {
    EXPECT_NE(design.find(text), std::string::npos) << text;
  }
}

TEST_F(WorkflowTree, NewConnectorCompiles) {
  ASSERT_EQ(lakeflow_cli({"new", "compiled", "--tables", "items", "--root", root()}).status, 0);
  // What lakeflow_embed_connector_spec() generates from connector_spec.yaml in a build.
  tree_.write("generated/lakeflow_connector_spec.h", R"(#pragma once
#include "lakeflow/connector_spec.h"
namespace {
[[maybe_unused]] const ::lakeflow::ConnectorSpec& embedded_connector_spec() {
  static const ::lakeflow::ConnectorSpec spec("compiled", {}, {});
  return spec;
}
}  // namespace
)");
  for (const char* file : {"compiled_connector.cc", "test/compiled_conformance_test.cc"}) {
    std::vector<std::string> command = {LAKEFLOW_CXX,
                                        "-std=c++20",
                                        "-fsyntax-only",
                                        "-Wall",
                                        "-Wextra",
                                        "-Werror",
                                        "-Wpedantic",
                                        "-I" + source("compiled"),
                                        "-I" + tree_.file("generated"),
                                        std::string("-I") + LAKEFLOW_REPO_DIR + "/include",
                                        std::string("-I") + LAKEFLOW_GENERATED_INCLUDE_DIR,
                                        "-DLAKEFLOW_SOURCE_DIR=\"x\""};
    // The SDK's CPU baseline, as Lakeflow::sdk gives it to connectors (lakeflow/version.h checks).
    std::istringstream cpu_flags(LAKEFLOW_CPU_FLAGS);
    for (std::string flag; cpu_flags >> flag;) command.push_back(flag);
    command.push_back(source(std::string("compiled/") + file));
    const ProcessResult result = run_process(command);
    EXPECT_EQ(result.status, 0) << file << "\n" << result.err;
  }
}

TEST_F(WorkflowTree, NewOutOfTreeWritesAStandalonePluginProject) {
  const std::string dir = tree_.file("elsewhere/my_plugin");
  const ProcessResult result = lakeflow_cli(
      {"new", "my_plugin", "--tables", "items", "--out-of-tree", dir, "--root", root()});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("cmake -S " + dir + " -B " + dir + "/build -DCMAKE_PREFIX_PATH="),
            std::string::npos)
      << result.out;
  const std::string cmake = slurp(dir + "/CMakeLists.txt");
  for (const char* text : {"find_package(Lakeflow", "lakeflow_add_connector(my_plugin",
                           "test/my_plugin_conformance_test.cc", "project(my_plugin"}) {
    EXPECT_NE(cmake.find(text), std::string::npos) << text << "\n" << cmake;
  }
  for (const char* file :
       {"DESIGN.md", "README.md", "my_plugin_api_doc.md", "my_plugin_connector.h",
        "my_plugin_connector.cc", "test/my_plugin_conformance_test.cc", "connector_spec.yaml",
        "configs/.gitignore", "configs/dev_config.json", ".gitignore"}) {
    EXPECT_TRUE(fs::exists(fs::path(dir) / file)) << file;
  }
  EXPECT_TRUE(fs::is_empty(fs::path(root()) / "sources"));

  const ProcessResult again = lakeflow_cli({"new", "my_plugin", "--out-of-tree", dir});
  EXPECT_EQ(again.status, 2);
  EXPECT_NE(again.err.find("refusing to overwrite"), std::string::npos) << again.err;
}

TEST_F(WorkflowTree, NewRefusesToOverwrite) {
  ASSERT_EQ(lakeflow_cli({"new", "twice", "--root", root()}).status, 0);
  fs::remove(source("twice/README.md"));
  const ProcessResult again = lakeflow_cli({"new", "twice", "--root", root()});
  EXPECT_EQ(again.status, 2);
  EXPECT_NE(again.err.find("refusing to overwrite"), std::string::npos) << again.err;
  EXPECT_FALSE(fs::exists(source("twice/README.md")));
}

TEST_F(WorkflowTree, NewRejectsBadNames) {
  for (const char* name : {"9lives", "Upper", "has-dash", "_x", "a/b"}) {
    const ProcessResult result = lakeflow_cli({"new", name, "--root", root()});
    EXPECT_EQ(result.status, 2) << name;
    EXPECT_NE(result.err.find("invalid connector name"), std::string::npos) << result.err;
  }
  const ProcessResult table = lakeflow_cli({"new", "ok", "--tables", "a,B", "--root", root()});
  EXPECT_EQ(table.status, 2);
  EXPECT_NE(table.err.find("invalid table name 'B'"), std::string::npos) << table.err;
  EXPECT_TRUE(fs::is_empty(fs::path(root()) / "sources"));
}

TEST_F(WorkflowTree, CheckOfFreshScaffoldReportsUnfilledItemsWithoutErrors) {
  ASSERT_EQ(lakeflow_cli({"new", "fresh", "--root", root()}).status, 0);
  const ProcessResult result = lakeflow_cli({"check", "fresh", "--root", root()});
  EXPECT_EQ(result.status, 0) << result.out;
  EXPECT_NE(result.out.find("❌ DESIGN.md has no placeholders"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("❌ every method implemented"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("⏳ 🚦 gate"), std::string::npos);
  EXPECT_NE(result.out.find("✅ no configs/dev_config.json"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("⏳ every method rejects an unknown table (run): not run"),
            std::string::npos)
      << result.out;
}

// A connector with one planted defect per check.
void write_defective_connector(const TempDir& tree) {
  tree.write("sources/broken/DESIGN.md", R"(# Broken

## 1. Data source and use cases
A REST API.
## 2. Existing connectors
None.
## 3. Is Lakeflow Connect the right pattern?
Yes.
## 4. Scope for v1
Two tables.

## Development Progress

### Phase 0: Planning Session ✅
- [x] Define the data source and use cases
- [x] **🚦 GATE: Human approval to proceed**
  Approved-by: Jane Doe, 2026-11-20

### Phase 1: Understand Source 🚧
- [x] **🚦 GATE: API doc reviewed and complete**

### Phase 2: Implement Connector 🚧
- [x] **🚦 GATE: Code review complete**
  Approved-by: pending

### Phase 3: Test Connector ⏳
- [ ] **🚦 GATE: All tests green**
  Approved-by: pending

### Phase 4: Create Documentation ⏳
- [ ] **🚦 GATE: Docs approved**
  Approved-by: pending

### Phase 5: Finalize ⏳
- [ ] **🚦 GATE: Ready to merge/deploy**
  Approved-by: pending
)");
  tree.write("sources/broken/broken_api_doc.md", R"(# Broken API
## Authorization
Token header. TBD: scopes.
## Object list
items
## Object schemas
TBD: types
## Primary keys
id
## Ingestion types
cdc
## Read API
GET /items
## Field type mapping
string -> StringType
)");
  tree.write("sources/broken/broken_connector.h", R"(#pragma once
namespace lakeflow::broken {
class BrokenConnector : public LakeflowConnect {
  std::string fetch_page(int n);
};
}  // namespace lakeflow::broken
)");
  tree.write("sources/broken/broken_connector.cc", R"(#include "broken_connector.h"
StructType BrokenConnector::get_table_schema(std::string_view table, const Options&) {
  return StructType{{"tags", DataType::Map(DataType::String(), DataType::String())}};
}
)");
  tree.write("sources/broken/test/broken_test.cc", "// no suite here\n");
  tree.write("sources/broken/CMakeLists.txt",
             "lakeflow_connector(broken SOURCES broken_connector.cc)\n");
  tree.write("sources/broken/connector_spec.yaml", R"(display_name: Broken
connection:
  parameters:
    - name: base_url
      type: string
    - name: api_token
      type: string
      secret: true
external_options_allowlist: ""
)");
  tree.write("sources/broken/README.md", R"(# Broken
## Prerequisites
An account.
## Setup
### Connection parameters
`base_url`: where the API lives.
### Authentication
Ask for a token.
## Create a Unity Catalog connection
Use the UI.
## Supported objects
items
## Pipeline configuration
See below. The BrokenConnector calls fetch_page for each page.
)");
  tree.write("sources/broken/configs/dev_config.json",
             R"({"base_url": "https://api.example.com", "api_token": "abcd1234efgh5678ijkl"})");
}

TEST_F(WorkflowTree, CheckReportsEveryPlantedDefect) {
  write_defective_connector(tree_);
  const ProcessResult result = lakeflow_cli({"check", "broken", "--root", root()});
  EXPECT_EQ(result.status, 1) << result.out << result.err;
  const std::vector<std::string> expected = {
      "❌ DESIGN.md planning sections filled: missing section(s) 'risk'",
      "✅ 🚦 gate: Approved-by: Jane Doe, 2026-11-20",
      "❌ phase marked ✅: DESIGN.md marks the phase complete but these checks do not pass: "
      "DESIGN.md planning sections filled",
      "gate ticked without an 'Approved-by: <who>, <YYYY-MM-DD>' line under it  [ERROR]",
      "missing section(s) 'research log'",
      "❌ research log with URLs: the research log cites no http(s) URL",
      "⏳ TBD: markers: 2 open TBD: marker(s)",
      "❌ LongType/StructType preferred: IntegerType or MapType used without a reason",
      "❌ test file instantiates the conformance suite",
      "❌ tests wired into the build",
      "missing section(s) 'troubleshooting'",
      "❌ every connection parameter documented: README does not mention: api_token",
      "❌ no internal identifiers: README names code identifiers: BrokenConnector, fetch_page",
      "❌ no configs/dev_config.json: configs/dev_config.json is present",
      "❌ .gitignore covers configs",
      "❌ no credential-looking strings: remove and rotate: configs/dev_config.json line 1: "
      "secret assignment",
  };
  for (const std::string& text : expected) {
    EXPECT_NE(result.out.find(text), std::string::npos) << "missing: " << text << "\n"
                                                        << result.out;
  }
  // Phase 1 and Phase 2 gates (ticked without approval), the Phase 0 claim and its failing item,
  // the tracked dev_config.json and the credential.
  EXPECT_NE(result.out.find("broken: 6 error(s)"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("abcd1234efgh5678ijkl"), std::string::npos) << "echoed the secret";

  const ProcessResult json = lakeflow_cli({"check", "--all", "--json", "--root", root()});
  EXPECT_EQ(json.status, 1);
  EXPECT_EQ(json.out.rfind("{\"connectors\":[{\"name\":\"broken\",\"errors\":6,", 0), 0u)
      << json.out;
  EXPECT_NE(json.out.find("\"state\":\"fail\""), std::string::npos);
  EXPECT_NE(json.out.find("],\"errors\":6}\n"), std::string::npos) << json.out;
}

TEST_F(WorkflowTree, CheckRejectsUnknownConnector) {
  const ProcessResult result = lakeflow_cli({"check", "nope", "--root", root()});
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("no connector 'nope'"), std::string::npos) << result.err;
}

TEST_F(WorkflowTree, StatusPrintsTrackingTable) {
  ASSERT_EQ(lakeflow_cli({"new", "alpha", "--root", root()}).status, 0);
  write_defective_connector(tree_);
  const ProcessResult result = lakeflow_cli({"status", "--markdown", "--root", root()});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("| Connector | Phase 0 | Phase 1 | Phase 2 | Phase 3 | Phase 4 | "
                            "Phase 5 | Status |\n|-----------|"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("| alpha | ⏳ | ⏳ | ⏳ | ⏳ | ⏳ | ⏳ | Phase 0 next; 6 gate(s) await "
                            "approval |"),
            std::string::npos)
      << result.out;
  // The claimed ✅ of Phase 0 fails its checks, so it shows ❌.
  EXPECT_NE(result.out.find("| broken | ❌ | ❌ | ❌ | ⏳ | ⏳ | ❌ | 6 error(s)"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("Legend: ✅ Complete | ⏳ Pending | 🚧 In Progress | ❌ Blocked"),
            std::string::npos);
  const ProcessResult plain = lakeflow_cli({"status", "--root", root()});
  EXPECT_EQ(plain.status, 0);
  EXPECT_EQ(plain.out.rfind("Connector", 0), 0u) << plain.out;
}

TEST(WorkflowRepo, CheckExamplePasses) {
  const ProcessResult result = lakeflow_cli({"check", "example", "--root", LAKEFLOW_REPO_DIR});
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("example: no errors"), std::string::npos) << result.out;
  // The example connector is linked into the CLI, so its methods are run.
  EXPECT_NE(result.out.find("✅ every method rejects an unknown table (run)"), std::string::npos)
      << result.out;
}

}  // namespace
