// End-to-end tests of `lakeflow new`, `check`, `status` and `connection`: the real CLI runs in
// temporary trees holding a copy of templates/ and the workflow guide.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/subprocess.h"

namespace {

namespace fs = std::filesystem;
using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_process;
using lakeflow::test_support::slurp;
using lakeflow::test_support::TempDir;

ProcessResult lakeflow_cli(std::vector<std::string> args) {
  args.insert(args.begin(), LAKEFLOW_CLI);
  return run_process(args);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("not in the text: " + from);
  return text.replace(at, from.size(), to);
}

// A tree with sources/, a copy of the repository's templates/ and the workflow guide.
class WorkflowTree : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(fs::path(tree_.path()) / "sources");
    fs::copy(fs::path(LAKEFLOW_REPO_DIR) / "templates", fs::path(tree_.path()) / "templates",
             fs::copy_options::recursive);
    tree_.write("docs/workflow.md", slurp(std::string(LAKEFLOW_REPO_DIR) + "/docs/workflow.md"));
  }
  std::string root() const { return tree_.path(); }
  std::string source(const std::string& relative) const {
    return tree_.file("sources/" + relative);
  }
  // A build directory whose test binary for `name` is the conformance fixture, passing or failing.
  std::string fixture_build(const std::string& name, const std::string& outcome) const {
    tree_.write("build/lakeflow_connectors/" + name + ".json",
                std::string("{\"tests\": \"") + LAKEFLOW_CONFORMANCE_FIXTURE +
                    "\", \"working_directory\": \"" + tree_.path().string() +
                    "\", \"environment\": {\"WORKFLOW_FIXTURE_OUTCOME\": \"" + outcome + "\"}}");
    return tree_.file("build");
  }
  void edit_design(const std::string& name,
                   const std::vector<std::pair<std::string, std::string>>& edits) const {
    std::string design = slurp(source(name + "/DESIGN.md"));
    for (const auto& [from, to] : edits) design = replaced(design, from, to);
    tree_.write("sources/" + name + "/DESIGN.md", design);
  }
  ProcessResult check(const std::string& name, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"check", name, "--root", root()};
    args.insert(args.end(), extra.begin(), extra.end());
    return lakeflow_cli(args);
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
  EXPECT_NE(result.out.find("configs/dev_config.json (git-ignored) holds the connection options"),
            std::string::npos)
      << result.out;
  const std::string design = slurp(source("my_shop/DESIGN.md"));
  for (const char* text :
       {"### Phase 0: Planning Session ⏳", "### Phase 5: Finalize ⏳", "**🚦 GATE: Docs approved**",
        "Approved-by: pending", "> Guide: `docs/workflow.md`", "- [ ] Implement `do_list_tables()`",
        "- [ ] Create `my_shop_api_doc.md` with all sections:\n  - [ ] Authorization documented"}) {
    EXPECT_NE(design.find(text), std::string::npos) << text;
  }
  // C++ words only, and no reference to a file that does not exist.
  for (const std::string file : {"DESIGN.md", "my_shop_connector.h", "my_shop_connector.cc"}) {
    const std::string text = slurp(source("my_shop/" + file));
    for (const char* python : {"__init__", "pytest", "lakeflow_connect.py", "skills/", "{{"}) {
      EXPECT_EQ(text.find(python), std::string::npos) << file << ": " << python;
    }
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
  const ProcessResult result = check("fresh");
  EXPECT_EQ(result.status, 0) << result.out;
  for (const char* text : {
           "❌ Create this DESIGN.md with all sections: DESIGN.md: unfilled section(s)",
           "the guide(s) it refers to exist: docs/workflow.md",
           "❌ Implement `do_read_table(context)`: do_read_table() still throws the scaffold's "
           "NotImplementedError → implement it",
           "⏳ 🚦 GATE: Human approval to proceed: awaiting approval",
           "⏳ Run tests: `lakeflow check fresh --run-tests`",
           "⏳ Verify `.gitignore` excludes configs: configs/dev_config.json git-ignored",
           "⏳ Table name validation in each method: the framework checks the table name before "
           "each do_* hook (non-virtual interface); not run",
           "fresh: no errors",
       }) {
    EXPECT_NE(result.out.find(text), std::string::npos) << text << "\n" << result.out;
  }
}

// The reported case: a fresh scaffold, every method a stub, Phase 3 marked ✅ with an approval.
TEST_F(WorkflowTree, CheckRunsTheTestsOfAPhaseMarkedCompleteAndChecksPhaseOrder) {
  ASSERT_EQ(lakeflow_cli({"new", "probe", "--root", root()}).status, 0);
  edit_design("probe",
              {{"### Phase 3: Test Connector ⏳", "### Phase 3: Test Connector ✅"},
               {"- [ ] **🚦 GATE: All tests green**\n  Approved-by: pending",
                "- [x] **🚦 GATE: All tests green**\n  Approved-by: Jane Doe, 2026-11-20"}});
  const ProcessResult result = check("probe", {"--build", fixture_build("probe", "fail")});
  EXPECT_EQ(result.status, 1) << result.out;
  for (const char* text : {
           "✅ 🚦 GATE: All tests green: Approved-by: Jane Doe, 2026-11-20",
           "❌ phase order: marked ✅ while an earlier phase is not: Phase 0, Phase 1, Phase 2",
           "❌ Run tests: `lakeflow check probe --run-tests` (runs the conformance test binary and "
           "reads its results): 7 test(s), 1 failed (exit status 1): TestReadTable.ReturnsRecords",
           "❌ TestReadTable: 1 of 2 failed: TestReadTable.ReturnsRecords",
           "❌ TestListTables: 1 passed; not ticked in DESIGN.md (the phase is marked ✅)",
           "❌ TestReadTableDeletes (if applicable): no TestReadTableDeletes test ran (1 skipped)",
       }) {
    EXPECT_NE(result.out.find(text), std::string::npos) << text << "\n" << result.out;
  }
  // Not ticked items of a phase marked complete are errors too.
  EXPECT_NE(result.out.find("not ticked in DESIGN.md (the phase is marked ✅)"), std::string::npos)
      << result.out;
}

TEST_F(WorkflowTree, CheckAcceptsNotApplicableItemsAndPassingTests) {
  ASSERT_EQ(lakeflow_cli({"new", "probe", "--root", root()}).status, 0);
  edit_design("probe",
              {{"  - [ ] TestReadTableDeletes (if applicable)",
                "  - [ ] TestReadTableDeletes (if applicable) — n/a: the source has no deletes"},
               {"- [ ] Implement `do_read_table_deletes(context)` if cdc_with_deletes",
                "- [ ] Implement `do_read_table_deletes(context)` if cdc_with_deletes n/a: every "
                "table is append only"}});
  const ProcessResult result =
      check("probe", {"--run-tests", "--build", fixture_build("probe", "pass")});
  EXPECT_EQ(result.status, 0) << result.out;
  for (const char* text : {
           "✅ TestReadTableDeletes (if applicable): n/a: the source has no deletes",
           "✅ Implement `do_read_table_deletes(context)` if cdc_with_deletes: n/a: every table "
           "is append only",
           "⏳ TestReadTable: 2 passed; not ticked in DESIGN.md",
           "⏳ Run full test suite one more time: all 7 test(s) of the connector's test binary "
           "pass; not ticked",
       }) {
    EXPECT_NE(result.out.find(text), std::string::npos) << text << "\n" << result.out;
  }
}

TEST_F(WorkflowTree, CheckSaysHowToBuildTheTestsWhenThereAreNone) {
  ASSERT_EQ(lakeflow_cli({"new", "probe", "--root", root()}).status, 0);
  const ProcessResult result = check("probe", {"--run-tests", "--build", tree_.file("nobuild")});
  EXPECT_NE(result.out.find("❌ Run tests: `lakeflow check probe --run-tests` (runs the "
                            "conformance test binary and reads its results): the test binary did "
                            "not run: no test build of 'probe'"),
            std::string::npos)
      << result.out;
}

TEST_F(WorkflowTree, CheckScansUntrackedFilesAndRequiresTestConfigsToBeIgnored) {
  if (run_process({"/usr/bin/env", "git", "init", "-q", root()}).status != 0)
    GTEST_SKIP() << "no git";
  ASSERT_EQ(lakeflow_cli({"new", "probe", "--root", root()}).status, 0);
  // Credentials in the git-ignored test configuration are expected; elsewhere they are leaks,
  // tracked or not.
  tree_.write("sources/probe/configs/dev_config.json", R"({"api_key": "abcd1234efgh5678ijkl"})");
  tree_.write("sources/probe/notes.txt", "api_key = \"zyxw9876vuts5432rq\"\n");
  ProcessResult result = check("probe");
  EXPECT_EQ(result.status, 1) << result.out;
  EXPECT_NE(result.out.find("❌ No credentials in any file of the connector folder, tracked or "
                            "not: credential-looking text in notes.txt line 1: secret assignment"),
            std::string::npos)
      << result.out;
  EXPECT_EQ(result.out.find("zyxw9876vuts5432rq"), std::string::npos) << "echoed the secret";
  fs::remove(source("probe/notes.txt"));
  result = check("probe");
  EXPECT_EQ(result.status, 0) << result.out;
  EXPECT_NE(result.out.find("git-ignored, not scanned: configs/dev_config.json"), std::string::npos)
      << result.out;

  // The test configuration stops being ignored.
  fs::remove(source("probe/configs/.gitignore"));
  result = check("probe");
  EXPECT_EQ(result.status, 1) << result.out;
  EXPECT_NE(result.out.find("❌ Verify `.gitignore` excludes configs: configs/dev_config.json would "
                            "not be git-ignored → list it in configs/.gitignore  [ERROR]"),
            std::string::npos)
      << result.out;
  EXPECT_EQ(result.out.find("abcd1234efgh5678ijkl"), std::string::npos) << "echoed the secret";
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
> Skill: `skills/planning-session.md`

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
#include "columnar/record_converter.h"
StructType BrokenConnector::get_table_schema(std::string_view table, const Options&) {
  return StructType{{"tags", DataType::Map(DataType::String(), DataType::String())}};
}
ReadResult BrokenConnector::read_table(std::string_view table, const Offset&, const Options& o) {
  require_table(table);
  const StructType schema = get_table_schema(table, o);
  return {};
}
)");
  tree.write("sources/broken/test/broken_test.cc", R"(#include <gmock/gmock.h>
class FakeBroken : public lakeflow::broken::BrokenConnector {
  MOCK_METHOD(std::string, fetch_page, (int));
};
)");
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
  const ProcessResult result = check("broken");
  EXPECT_EQ(result.status, 1) << result.out << result.err;
  const std::vector<std::string> expected = {
      "❌ Create this DESIGN.md with all sections: DESIGN.md: missing section(s) 'risk'; DESIGN.md "
      "refers to missing file(s): skills/planning-session.md",
      "✅ 🚦 GATE: Human approval to proceed: Approved-by: Jane Doe, 2026-11-20",
      "❌ Check if connector already exists (Databricks managed, community, third-party): not in "
      "DESIGN.md's checklist (the phase is marked ✅)",
      "❌ 🚦 GATE: API doc reviewed and complete: ticked without an approval → put 'Approved-by: "
      "<who>, <YYYY-MM-DD>' on the line under the gate, or untick it  [ERROR]",
      "missing section(s) 'research log'",
      "❌ Research log with URLs: the API doc has no research log section",
      "⏳ No unverified claims: every gap marked `TBD:` and resolved or accepted: 2 open TBD: "
      "marker(s) in the API doc",
      "❌ StructType preferred over MapType: IntegerType or MapType used without a reason",
      "❌ Implement `do_list_tables()`: no definition of do_list_tables() in sources/broken/",
      "❌ Table name validation in each method: does not call require_table first: "
      "get_table_schema",
      "❌ No mock objects: test doubles: test/broken_test.cc uses MOCK_METHOD, "
      "test/broken_test.cc: class FakeBroken derives from BrokenConnector",
      "❌ No schema conversion in `do_read_table()`: schema work in the read path: "
      "broken_connector.cc "
      "includes columnar/record_converter.h, read_table() uses get_table_schema, read_table() "
      "uses StructType",
      "❌ Create `sources/broken/test/broken_conformance_test.cc`: no test/*.cc calls "
      "LAKEFLOW_CONFORMANCE_SUITE(...)",
      "CMakeLists.txt lacks lakeflow_connector(NAME SOURCES ... TESTS ...)",
      "missing section(s) 'troubleshooting'",
      "❌ Every connection parameter of connector_spec.yaml documented: README does not mention: "
      "api_token",
      "❌ No internal implementation terms: README names code identifiers: BrokenConnector, "
      "fetch_page",
      "❌ Remove `configs/dev_config.json`: configs/dev_config.json is present and not git-ignored",
      "❌ No credentials in any file of the connector folder, tracked or not: credential-looking "
      "text in configs/dev_config.json line 1: secret assignment",
  };
  for (const std::string& text : expected) {
    EXPECT_NE(result.out.find(text), std::string::npos) << "missing: " << text << "\n"
                                                        << result.out;
  }
  EXPECT_EQ(result.out.find("abcd1234efgh5678ijkl"), std::string::npos) << "echoed the secret";
  const std::size_t count_at = result.out.find("broken: ");
  ASSERT_NE(count_at, std::string::npos);
  const std::string errors =
      result.out.substr(count_at + 8, result.out.find(' ', count_at + 8) - count_at - 8);

  const ProcessResult json =
      lakeflow_cli({"check", "--all", "--json", "--root", root(), "--build", tree_.file("b")});
  EXPECT_EQ(json.status, 1);
  EXPECT_EQ(json.out.rfind("{\"connectors\":[{\"errors\":" + errors + ",\"name\":\"broken\",", 0),
            0u)
      << json.out;
  EXPECT_NE(json.out.find("\"state\":\"fail\""), std::string::npos);
  EXPECT_NE(json.out.find("\"todo\":\"list it in configs/.gitignore\""), std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find("],\"errors\":" + errors + "}\n"), std::string::npos) << json.out;
}

// Under the non-virtual interface a connector writes protected do_* hooks; the framework checks
// table names before calling them.
TEST_F(WorkflowTree, CheckReadsConnectorsWrittenAsProtectedHooks) {
  tree_.write("sources/hooked/hooked_connector.h", "#pragma once\nclass HookedConnector;\n");
  tree_.write("sources/hooked/hooked_connector.cc", R"(#include "hooked_connector.h"
std::vector<std::string> HookedConnector::do_list_tables() { return {"a"}; }
StructType HookedConnector::do_get_table_schema(const TableContext& context) { return {}; }
ReadResult HookedConnector::do_read_table(const ReadContext& context) { not_implemented("x"); }
)");
  const ProcessResult result = check("hooked");
  for (const char* text : {
           "Implement `do_list_tables()`: do_list_tables() is defined and is no scaffold stub",
           "❌ Implement `do_read_table(context)`: do_read_table() still throws the scaffold's "
           "NotImplementedError",
           "Table name validation in each method: the framework checks the table name before each "
           "do_* hook (non-virtual interface)",
       }) {
    EXPECT_NE(result.out.find(text), std::string::npos) << text << "\n" << result.out;
  }
}

// `lakeflow check --project DIR`: an out-of-tree project is checked like a folder under sources/,
// its build tree (here a stand-in: a CMake cache and generated sources) left out of the code read.
TEST_F(WorkflowTree, CheckOfAnOutOfTreeProjectReadsItsFilesAndItsBuild) {
  const std::string dir = tree_.file("elsewhere/my_plugin");
  ASSERT_EQ(lakeflow_cli(
                {"new", "my_plugin", "--tables", "items", "--out-of-tree", dir, "--root", root()})
                .status,
            0);
  tree_.write("elsewhere/my_plugin/build/CMakeCache.txt", "# a CMake build tree\n");
  tree_.write("elsewhere/my_plugin/build/lakeflow_my_plugin_plugin_entry.cc", "int x;\n");
  tree_.write("elsewhere/my_plugin/build/lakeflow_my_plugin_spec/lakeflow_connector_spec.h", "\n");
  const ProcessResult fresh = lakeflow_cli({"check", "--project", dir, "--run-tests", "--build",
                                            tree_.file("nobuild"), "--root", root()});
  EXPECT_EQ(fresh.status, 0) << fresh.out << fresh.err;
  for (const std::string& text : {
           std::string("my_plugin\n  Phase 0: "),
           std::string("❌ Create this DESIGN.md with all sections: DESIGN.md: unfilled section(s)"),
           std::string("the guide(s) it refers to exist: docs/workflow.md"),
           std::string("1 header(s), 1 source file(s)"),
           std::string("CMakeLists.txt declares lakeflow_add_connector(... TESTS ...)"),
           std::string("connector_spec.yaml lists no connection parameter yet"),
           std::string("configs/dev_config.json git-ignored"),
           std::string("⏳ Create `README.md`: found"),
           "not run: no plugin " + tree_.file("nobuild") + "/lakeflow_my_plugin.so built yet",
           "the test binary did not run: no test build of 'my_plugin' in '" +
               tree_.file("nobuild") + "'",
           "cmake --build " + tree_.file("nobuild"),
       }) {
    EXPECT_NE(fresh.out.find(text), std::string::npos) << text << "\n" << fresh.out;
  }
  // The project's build (DIR/build by default) runs its test binary as ctest would.
  tree_.write("elsewhere/my_plugin/build/lakeflow_connectors/my_plugin.json",
              std::string("{\"tests\": \"") + LAKEFLOW_CONFORMANCE_FIXTURE +
                  "\", \"working_directory\": \"" + dir +
                  "\", \"environment\": {\"WORKFLOW_FIXTURE_OUTCOME\": \"pass\"}}");
  const ProcessResult built = lakeflow_cli({"check", "--project", dir, "--run-tests", "--json"});
  EXPECT_EQ(built.status, 0) << built.out << built.err;
  EXPECT_NE(built.out.find("ran against the configured source: 7 test(s), 0 failed"),
            std::string::npos)
      << built.out;

  const ProcessResult both = lakeflow_cli({"check", "my_plugin", "--project", dir});
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.err.find("give no names and no --all"), std::string::npos) << both.err;
  const ProcessResult not_a_project = lakeflow_cli({"check", "--project", root()});
  EXPECT_EQ(not_a_project.status, 2);
  EXPECT_NE(not_a_project.err.find("is not a connector project: it has no CMakeLists.txt"),
            std::string::npos)
      << not_a_project.err;
}

TEST_F(WorkflowTree, CheckRejectsUnknownConnector) {
  const ProcessResult result = check("nope");
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
  EXPECT_NE(result.out.find("| broken | ❌ | ❌ | ❌ | ❌ | ⏳ | ❌ |"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Legend: ✅ Complete | ⏳ Pending | 🚧 In Progress | ❌ Blocked"),
            std::string::npos);
  const ProcessResult plain = lakeflow_cli({"status", "--root", root()});
  EXPECT_EQ(plain.status, 0);
  EXPECT_EQ(plain.out.rfind("Connector", 0), 0u) << plain.out;
}

TEST(WorkflowRepo, CheckExamplePassesAndItsConformanceTestsRun) {
  const ProcessResult result = lakeflow_cli({"check", "example", "--run-tests", "--root",
                                             LAKEFLOW_REPO_DIR, "--build", LAKEFLOW_BUILD_DIR});
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  for (const char* text : {"example: no errors",
                           // The example connector is linked into the CLI, so its methods are run.
                           "ran: each of the 4 table methods throws UnknownTableError",
                           "✅ TestIncrementalRead: ", "✅ TestReadTableDeletes (if applicable): ",
                           "✅ Run tests: `lakeflow check example --run-tests` (runs the "
                           "conformance test binary and reads its results): ran against the "
                           "configured source: "}) {
    EXPECT_NE(result.out.find(text), std::string::npos) << text << "\n" << result.out;
  }
}

// `lakeflow connection` with the example connector (its spec read from this repository).
class ConnectionCli : public ::testing::Test {
 protected:
  ProcessResult lakeflow(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), LAKEFLOW_CLI);
    args.push_back("--connections");
    args.push_back(file_);
    ProcessOptions options;
    options.set = std::move(env);
    options.set.push_back(std::string("LAKEFLOW_PLUGIN_PATH="));
    options.working_directory = working_directory_;
    return run_process(args, options);
  }
  TempDir dir_{"lakeflow_connection_cli"};
  std::string working_directory_;  // empty: the test's (inside the repository's build tree)
  std::string file_ = dir_.file("connections.yaml");
};

TEST_F(ConnectionCli, CreateListAndTestAConnection) {
  const ProcessResult created =
      lakeflow({"connection", "create", "shop", "-c", "example", "--root", LAKEFLOW_REPO_DIR, "-o",
                R"({"username": "demo", "password": "${env:SHOP_PASSWORD}"})"});
  ASSERT_EQ(created.status, 0) << created.err;
  EXPECT_NE(created.out.find("created connection 'shop' (connector example)"), std::string::npos)
      << created.out;
  const ProcessResult listed = lakeflow({"connection", "list"});
  ASSERT_EQ(listed.status, 0) << listed.err;
  EXPECT_NE(listed.out.find("shop  connector example"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("password: ${env:SHOP_PASSWORD}"), std::string::npos) << listed.out;

  const ProcessResult tested = lakeflow({"connection", "test", "shop"}, {"SHOP_PASSWORD=demo"});
  ASSERT_EQ(tested.status, 0) << tested.err;
  EXPECT_NE(tested.out.find("✅ connection 'shop' works: connector example lists 4 table(s); the "
                            "first read of users returned 1 record(s)"),
            std::string::npos)
      << tested.out;
  // Without the variable the connection cannot be built: exit 2, naming it.
  const ProcessResult unset = lakeflow({"connection", "test", "shop"});
  EXPECT_EQ(unset.status, 2) << unset.out << unset.err;
  EXPECT_NE(unset.err.find("SHOP_PASSWORD is not set"), std::string::npos) << unset.err;
}

TEST_F(ConnectionCli, BadInputIsAnErrorNamingTheParameterAndTheFileStaysAsItWas) {
  dir_.write("connections.yaml", "# mine\nother:\n  connector: ndjson\n");
  for (const auto& [options, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({"username": "demo", "password": "demo-literal-1"})",
            "error: parameter 'password' of connector 'example' is a secret"},
           {R"({"username": "demo"})",
            "error: missing required parameter 'password' of connector 'example'"},
           {R"({"username": "demo", "password": "${env:P}", "user": "x"})",
            "error: unknown parameter 'user' for connector 'example'"},
       }) {
    const ProcessResult result = lakeflow({"connection", "create", "shop", "-c", "example",
                                           "--root", LAKEFLOW_REPO_DIR, "-o", options});
    EXPECT_EQ(result.status, 2) << options;
    EXPECT_NE(result.err.find(message), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("demo-literal-1"), std::string::npos) << result.err;
    EXPECT_EQ(slurp(file_), "# mine\nother:\n  connector: ndjson\n");
  }
  const ProcessResult unknown = lakeflow(
      {"connection", "create", "shop", "-c", "nosuch", "--root", LAKEFLOW_REPO_DIR, "-o", "{}"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.err.find("no connector_spec.yaml for connector 'nosuch'"), std::string::npos)
      << unknown.err;
}

// Outside a repository and without --root, a connector of this lakeflow brings its spec (built
// into it); any other connector is an error saying exactly what to pass.
TEST_F(ConnectionCli, CreateOutsideTheRepositoryUsesTheSpecBuiltIntoTheConnector) {
  working_directory_ = dir_.path().string();
  const std::string options = R"({"username": "demo", "password": "${env:SHOP_PASSWORD}"})";
  const ProcessResult created =
      lakeflow({"connection", "create", "shop", "-c", "example", "-o", options});
  ASSERT_EQ(created.status, 0) << created.err;
  EXPECT_NE(created.out.find("created connection 'shop' (connector example)"), std::string::npos)
      << created.out;
  // Validated against that spec as against the file.
  const ProcessResult missing =
      lakeflow({"connection", "create", "shop", "-c", "example", "-o", R"({"username": "u"})"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("missing required parameter 'password' of connector 'example'"),
            std::string::npos)
      << missing.err;
  const ProcessResult unknown =
      lakeflow({"connection", "create", "other", "-c", "nosuch", "-o", "{}"});
  EXPECT_EQ(unknown.status, 2);
  for (const char* part :
       {"no connector_spec.yaml for connector 'nosuch': it is not a connector "
        "of this lakeflow (lakeflow connectors lists them",
        "is not inside a lakeflow repository", "--spec PATH/connector_spec.yaml", "--root DIR"}) {
    EXPECT_NE(unknown.err.find(part), std::string::npos) << part << "\n" << unknown.err;
  }
  // A --root given is where the spec must be: no quiet fallback to another.
  const ProcessResult wrong_root = lakeflow({"connection", "create", "other", "-c", "example",
                                             "--root", dir_.path().string(), "-o", options});
  EXPECT_EQ(wrong_root.status, 2);
  EXPECT_NE(wrong_root.err.find("no connector_spec.yaml for connector 'example' at '" +
                                dir_.path().string() + "/sources/example/connector_spec.yaml'"),
            std::string::npos)
      << wrong_root.err;
}

// A connection written by hand without a parameter the connector requires cannot be used:
// `connection test` exits 2 naming the parameter and the connector.
TEST_F(ConnectionCli, TestingAConnectionWithoutARequiredParameterNamesIt) {
  dir_.write("connections.yaml",
             "shop:\n  connector: example\n  options:\n    password: ${env:SHOP_PASSWORD}\n");
  const ProcessResult tested = lakeflow({"connection", "test", "shop"}, {"SHOP_PASSWORD=demo"});
  EXPECT_EQ(tested.status, 2) << tested.out << tested.err;
  EXPECT_NE(tested.err.find("example: missing required connection option 'username'"),
            std::string::npos)
      << tested.err;
}

}  // namespace
