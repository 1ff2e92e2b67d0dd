// The conformance suite against a real Orthanc PACS with its DICOMweb plugin, started by this test
// on a free port (tests/support/orthanc_server.h) and loaded with the sample files of test/dicom
// (three studies: CT with a report, MR, an undated CR) and 30 generated studies. The table options
// of configs/dev_table_config.json make every table's first read take several calls of small
// pages, so the resume checks start from offsets inside pages. Write-back stores new studies
// dated today, which the next sync (a new pass from the previous pass's date minus
// lookback_days) reads.
#include <memory>
#include <string>
#include <vector>

#include "lakeflow/json.h"
#include "lakeflow/testing/conformance.h"
#include "support/dicom_files.h"

namespace {

using lakeflow::test_support::OrthancServer;
using lakeflow::test_support::dicom::generated_instance_uid;
using lakeflow::test_support::dicom::generated_series_uid;
using lakeflow::test_support::dicom::generated_study;
using lakeflow::test_support::dicom::generated_study_uid;

const OrthancServer& server() {
  static const OrthancServer orthanc = [] {
    OrthancServer started = OrthancServer::start();
    lakeflow::test_support::dicom::store_samples(started);
    for (int n = 1; n <= 30; ++n) {
      started.store(generated_study(n, n % 2 == 0 ? "20240601" : "20231231"));
    }
    return started;
  }();
  return orthanc;
}

class StoreStudies : public lakeflow::testing::WriteBackUtils {
 public:
  std::vector<std::string> insertable_tables() override {
    return {"studies", "series", "instances", "instance_metadata"};
  }
  std::vector<std::string> updatable_tables() override { return {}; }
  std::vector<std::string> deletable_tables() override { return {}; }

  std::vector<lakeflow::JsonValue> insert_rows(std::string_view table, int n) override {
    std::vector<lakeflow::JsonValue> rows;
    for (int i = 0; i < n; ++i) {
      const int number = next_++;
      server().store(generated_study(number, lakeflow::test_support::dicom::today()));
      if (table == "studies") {
        rows.emplace_back(lakeflow::JsonValue::Object{
            {"study_instance_uid", lakeflow::JsonValue(generated_study_uid(number))}});
      } else if (table == "series") {
        rows.emplace_back(lakeflow::JsonValue::Object{
            {"series_instance_uid", lakeflow::JsonValue(generated_series_uid(number))}});
      } else {
        rows.emplace_back(lakeflow::JsonValue::Object{
            {"sop_instance_uid", lakeflow::JsonValue(generated_instance_uid(number))}});
      }
    }
    return rows;
  }
  std::vector<lakeflow::JsonValue> update_rows(std::string_view, int) override { return {}; }
  std::vector<lakeflow::JsonValue> delete_rows(std::string_view, int) override { return {}; }

 private:
  int next_ = 5000;
};

}  // namespace

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "dicomweb",
    .connector_options =
        [] {
          lakeflow::Options options;
          options.set("base_url", server().dicomweb_url());
          options.set("connection_name", "orthanc-test");
          return options;
        },
    .write_back =
        [](const lakeflow::Options&) -> std::unique_ptr<lakeflow::testing::WriteBackUtils> {
      return std::make_unique<StoreStudies>();
    },
});
