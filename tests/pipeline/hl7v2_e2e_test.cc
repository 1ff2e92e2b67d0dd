// `lakeflow run examples/hl7v2_pipeline.yaml` as a user runs it: the HL7 v2 sample messages of
// sources/hl7v2/test/messages land in Delta tables that DuckDB reads as `lakeflow show` prints
// them, nested structs and arrays included; a second run reads nothing; a message appended later
// is read by the run after it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "lakeflow/json.h"
#include "support/node.h"
#include "support/subprocess.h"

namespace {

using lakeflow::test_support::duckdb_unavailable;
using lakeflow::test_support::find_node;
using lakeflow::test_support::kReadDelta;
using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_process;
using lakeflow::test_support::slurp;
using lakeflow::test_support::TempDir;

namespace fs = std::filesystem;

const std::vector<std::string> kTables = {
    "messages", "malformed_messages", "msh", "pid", "pv1", "obr", "obx", "zpd"};

std::multiset<std::string> lines(const std::string& text) {
  std::multiset<std::string> out;
  std::size_t at = 0;
  for (std::size_t end = text.find('\n'); end != std::string::npos;
       at = end + 1, end = text.find('\n', at)) {
    out.insert(text.substr(at, end - at));
  }
  return out;
}

class Hl7v2PipelineE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path examples = fs::path(LAKEFLOW_REPO_DIR) / "examples";
    dir_.write("connections.yaml", slurp((examples / "connections.yaml").string()));
    spec_ = dir_.write("pipeline.yaml", "destination_root: data\n" +
                                            slurp((examples / "hl7v2_pipeline.yaml").string()));
    const fs::path messages =
        fs::path(LAKEFLOW_REPO_DIR) / "sources" / "hl7v2" / "test" / "messages";
    fs::create_directories(inbound_);
    for (const auto& entry : fs::directory_iterator(messages)) {
      fs::copy_file(entry.path(), inbound_ / entry.path().filename());
    }
  }

  ProcessResult lakeflow(std::vector<std::string> args) const {
    args.insert(args.begin(), LAKEFLOW_BIN);
    ProcessOptions options;
    options.drop_prefixes = {"HL7_", "LAKEFLOW_"};
    options.set = {"HL7_PATH=" + inbound_.string()};
    return run_process(args, options);
  }

  std::string table(const std::string& name) const { return dir_.file("data/main/hl7/" + name); }

  TempDir dir_{"lakeflow_hl7v2_e2e"};
  std::string spec_;
  fs::path inbound_ = fs::path(dir_.file("inbound"));
};

TEST_F(Hl7v2PipelineE2e, DuckDbReadsEveryTableAsShowPrintsIt) {
  const ProcessResult run = lakeflow({"run", spec_});
  ASSERT_EQ(run.status, 0) << run.err << run.out;
  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  for (const std::string& name : kTables) {
    const ProcessResult show = lakeflow({"show", table(name), "--limit", "1000000"});
    ASSERT_EQ(show.status, 0) << name << ": " << show.err;
    const ProcessResult duck = run_process({find_node(), kReadDelta, table(name)});
    ASSERT_EQ(duck.status, 0) << name << ": " << duck.err;
    EXPECT_FALSE(lines(duck.out).empty()) << name;
    EXPECT_EQ(lines(duck.out), lines(show.out)) << name << "\nDuckDB:\n"
                                                << duck.out << "\nshow:\n"
                                                << show.out;
  }
}

TEST_F(Hl7v2PipelineE2e, ARerunReadsOnlyMessagesAddedSince) {
  ASSERT_EQ(lakeflow({"run", spec_}).status, 0);
  const ProcessResult again = lakeflow({"run", spec_, "--json"});
  ASSERT_EQ(again.status, 0) << again.err;
  const lakeflow::JsonValue summary = lakeflow::JsonValue::parse(again.out);
  ASSERT_EQ(summary.as_array().size(), kTables.size());
  for (const lakeflow::JsonValue& entry : summary.as_array()) {
    EXPECT_EQ(entry.find("inserted")->as_int(), 0) << again.out;
  }
  std::ofstream(inbound_ / "zz_later.hl7", std::ios::binary)
      << "MSH|^~\\&|ADT1|MCM|||20240201120000+0000||ADT^A01|LATER-1|P|2.5\r"
         "PID|1||L-1^^^MCM^MR||LATER^PAT\r";
  const ProcessResult later = lakeflow({"run", spec_, "--tables", "pid"});
  ASSERT_EQ(later.status, 0) << later.err;
  const ProcessResult show = lakeflow({"show", table("pid"), "--limit", "1000000"});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_NE(show.out.find("LATER-1"), std::string::npos) << show.out;
  const std::size_t rows = lines(show.out).size();
  const ProcessResult once_more = lakeflow({"run", spec_, "--tables", "pid"});
  ASSERT_EQ(once_more.status, 0) << once_more.err;
  EXPECT_EQ(lines(lakeflow({"show", table("pid"), "--limit", "1000000"}).out).size(), rows);
}

}  // namespace
