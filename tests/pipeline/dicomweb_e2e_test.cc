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
#include "pipeline/example_pipeline_e2e.h"
#include "support/dicom_files.h"
#include "support/node.h"
#include "support/orthanc_server.h"
#include "support/subprocess.h"

namespace {

using lakeflow::test_support::copy_example_pipeline;
using lakeflow::test_support::duckdb_unavailable;
using lakeflow::test_support::expect_duckdb_reads_as_shown;
using lakeflow::test_support::lines;
using lakeflow::test_support::OrthancServer;
using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_process;
using lakeflow::test_support::TempDir;
namespace dicom = lakeflow::test_support::dicom;

namespace fs = std::filesystem;

const std::vector<std::string> kTables = {"studies", "series", "instances", "instance_metadata"};

class DicomwebPipelineE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = copy_example_pipeline(dir_, "dicomweb_pipeline.yaml");
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
  const ProcessResult landed = lakeflow({"run", spec_});
  ASSERT_EQ(landed.status, 0) << landed.err << landed.out;
  const auto run = [this](std::vector<std::string> args) { return lakeflow(std::move(args)); };
  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  for (const std::string& name : kTables) {
    EXPECT_EQ(expect_duckdb_reads_as_shown(run, table(name)).size(), name == "studies"  ? 3u
                                                                     : name == "series" ? 4u
                                                                                        : 5u)
        << name;
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
  // A named value: a range-for over a temporary's as_array() would read a destroyed array.
  const lakeflow::JsonValue later_summary = lakeflow::JsonValue::parse(later.out);
  for (const lakeflow::JsonValue& entry : later_summary.as_array()) {
    EXPECT_EQ(entry.find("inserted")->as_int(), 1) << later.out;
  }
  const ProcessResult show = lakeflow({"show", table("studies"), "--limit", "1000000"});
  EXPECT_NE(show.out.find(dicom::generated_study_uid(7)), std::string::npos) << show.out;
  EXPECT_EQ(lines(show.out).size(), 4u);
}

}  // namespace
