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
#include "pipeline/example_pipeline_e2e.h"
#include "support/node.h"
#include "support/subprocess.h"

namespace {

using lakeflow::test_support::copy_example_pipeline;
using lakeflow::test_support::duckdb_unavailable;
using lakeflow::test_support::expect_duckdb_reads_as_shown;
using lakeflow::test_support::lines;
using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_process;
using lakeflow::test_support::TempDir;

namespace fs = std::filesystem;

const std::vector<std::string> kTables = {
    "messages", "malformed_messages", "msh", "pid", "pv1", "obr", "obx", "zpd"};

class Hl7v2PipelineE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = copy_example_pipeline(dir_, "hl7v2_pipeline.yaml");
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
  const ProcessResult landed = lakeflow({"run", spec_});
  ASSERT_EQ(landed.status, 0) << landed.err << landed.out;
  const auto run = [this](std::vector<std::string> args) { return lakeflow(std::move(args)); };
  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  for (const std::string& name : kTables) {
    EXPECT_FALSE(expect_duckdb_reads_as_shown(run, table(name)).empty()) << name;
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
