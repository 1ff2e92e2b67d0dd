// `lakeflow run examples/dicomweb_pipeline.yaml` as a user runs it, against a real Orthanc PACS
// (tests/support/orthanc_server.h) holding the DICOMweb sample files: studies, series, instances
// and instance metadata land in Delta tables that DuckDB reads as `lakeflow show` prints them
// (structs and arrays included); a rerun reads no old study again, and a study stored later is read
// by the run after it.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "lakeflow/json.h"
#include "support/dicom_files.h"
#include "support/node.h"
#include "support/orthanc_server.h"
#include "support/subprocess.h"

namespace {

using lakeflow::test_support::duckdb_unavailable;
using lakeflow::test_support::find_node;
using lakeflow::test_support::kReadDelta;
using lakeflow::test_support::OrthancServer;
using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_process;
using lakeflow::test_support::slurp;
using lakeflow::test_support::TempDir;
namespace dicom = lakeflow::test_support::dicom;

namespace fs = std::filesystem;

const std::vector<std::string> kTables = {"studies", "series", "instances", "instance_metadata"};

std::multiset<std::string> lines(const std::string& text) {
  std::multiset<std::string> out;
  std::size_t at = 0;
  for (std::size_t end = text.find('\n'); end != std::string::npos;
       at = end + 1, end = text.find('\n', at)) {
    out.insert(text.substr(at, end - at));
  }
  return out;
}

class DicomwebPipelineE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path examples = fs::path(LAKEFLOW_REPO_DIR) / "examples";
    dir_.write("connections.yaml", slurp((examples / "connections.yaml").string()));
    spec_ = dir_.write("pipeline.yaml", "destination_root: data\n" +
                                            slurp((examples / "dicomweb_pipeline.yaml").string()));
    dicom::store_samples(server_);
  }

  ProcessResult lakeflow(std::vector<std::string> args) const {
    args.insert(args.begin(), LAKEFLOW_BIN);
    ProcessOptions options;
    options.drop_prefixes = {"DICOMWEB_", "LAKEFLOW_"};
    options.set = {"DICOMWEB_BASE_URL=" + server_.dicomweb_url()};
    return run_process(args, options);
  }

  std::string table(const std::string& name) const {
    return dir_.file("data/main/imaging/" + name);
  }

  OrthancServer server_ = OrthancServer::start();
  TempDir dir_{"lakeflow_dicomweb_e2e"};
  std::string spec_;
};

TEST_F(DicomwebPipelineE2e, DuckDbReadsEveryTableAsShowPrintsIt) {
  const ProcessResult run = lakeflow({"run", spec_});
  ASSERT_EQ(run.status, 0) << run.err << run.out;
  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  for (const std::string& name : kTables) {
    const ProcessResult show = lakeflow({"show", table(name), "--limit", "1000000"});
    ASSERT_EQ(show.status, 0) << name << ": " << show.err;
    const ProcessResult duck = run_process({find_node(), kReadDelta, table(name)});
    ASSERT_EQ(duck.status, 0) << name << ": " << duck.err;
    EXPECT_EQ(lines(duck.out).size(), name == "studies"  ? 3u
                                      : name == "series" ? 4u
                                                         : 5u)
        << duck.out;
    EXPECT_EQ(lines(duck.out), lines(show.out)) << name << "\nDuckDB:\n"
                                                << duck.out << "\nshow:\n"
                                                << show.out;
  }
}

TEST_F(DicomwebPipelineE2e, ARerunReadsOnlyRecentStudies) {
  ASSERT_EQ(lakeflow({"run", spec_}).status, 0);
  const ProcessResult again = lakeflow({"run", spec_, "--json"});
  ASSERT_EQ(again.status, 0) << again.err;
  const lakeflow::JsonValue summary = lakeflow::JsonValue::parse(again.out);
  ASSERT_EQ(summary.as_array().size(), kTables.size());
  for (const lakeflow::JsonValue& entry : summary.as_array()) {
    EXPECT_EQ(entry.find("inserted")->as_int(), 0) << again.out;
    EXPECT_EQ(entry.find("updated")->as_int(), 0) << again.out;
  }
  server_.store(dicom::generated_study(7, dicom::today()));
  const ProcessResult later = lakeflow({"run", spec_, "--json"});
  ASSERT_EQ(later.status, 0) << later.err;
  for (const lakeflow::JsonValue& entry : lakeflow::JsonValue::parse(later.out).as_array()) {
    EXPECT_EQ(entry.find("inserted")->as_int(), 1) << later.out;
  }
  const ProcessResult show = lakeflow({"show", table("studies"), "--limit", "1000000"});
  EXPECT_NE(show.out.find(dicom::generated_study_uid(7)), std::string::npos) << show.out;
  EXPECT_EQ(lines(show.out).size(), 4u);
}

}  // namespace
