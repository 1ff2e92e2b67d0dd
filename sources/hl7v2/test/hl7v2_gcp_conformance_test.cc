// The conformance suite against a Cloud Healthcare API HL7v2 store, in simulate mode by default:
// the store of test/simulator/endpoints.yaml holding the sample messages
// (test/hl7v2_gcp_corpus.h), written to a temporary folder at start. Small batches and pages for
// some tables make their reads take several calls and pages, resuming inside messages and at
// shared send times. No write-back: the store's messages.create is not simulated; the connector's
// own tests add messages between reads.
//
// Against a real store: LAKEFLOW_TEST_MODE=live with the connection options (source_type gcp, the
// four IDs, access_token or service_account_json) in configs/gcp_dev_config.json (git-ignored) or
// in $LAKEFLOW_TEST_CONFIG_JSON.
#include <filesystem>
#include <fstream>
#include <string>

#include "hl7v2_gcp_corpus.h"
#include "lakeflow/testing/conformance.h"
#include "lakeflow/testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;

class SimulatorFolder {
 public:
  SimulatorFolder() {
    lakeflow::hl7v2::test::write_simulator_folder((dir_ / "simulator").string());
    fs::create_directories(dir_ / "configs");
    const fs::path live = fs::path(LAKEFLOW_SOURCE_DIR) / "configs" / "gcp_dev_config.json";
    if (fs::exists(live)) fs::copy_file(live, dir_ / "configs" / "dev_config.json");
    std::ofstream(dir_ / "configs" / "dev_table_config.json")
        << R"({"messages": {"max_records_per_batch": "3", "page_size": "2"},)"
        << R"( "obx": {"max_records_per_batch": "2", "page_size": "3"},)"
        << R"( "pid": {"max_records_per_batch": "1"},)"
        << R"( "malformed_messages": {"max_records_per_batch": "1", "page_size": "4"}})";
  }
  std::string dir() const { return dir_.string(); }
  std::string simulator() const { return (dir_ / "simulator").string(); }

 private:
  lakeflow::files::TempDir temp_{"lakeflow_hl7v2_gcp_conformance"};
  const fs::path dir_ = temp_.path();
};

const SimulatorFolder& folder() {
  static const SimulatorFolder instance;
  return instance;
}

}  // namespace

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "hl7v2",
    .source_dir = folder().dir(),
    .allowed_null_columns =
        {{"*:*",
          "the segment schemas carry every field of HL7 v2.8; no sample message fills them all"}},
    .default_mode = "simulate",
    .stand_in_options = lakeflow::hl7v2::test::store_options(),
    .simulator_dir = folder().simulator(),
});
