// Pipeline specs written for upstream run unchanged: `lakeflow run SPEC --connections FILE
// --destination DIR` against the local FHIR server (tools/fhir-server, with HL7's R4 examples and
// one UK Core patient), with every key upstream's pipeline spec reference documents, in JSON and
// YAML, and upstream's HealthLake test spec (sources/fhir/test/healthlake_fhir_pipeline_spec.json).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lakeflow/json.h"
#include "support/fhir_server.h"
#include "support/subprocess.h"

namespace {

using lakeflow::JsonValue;
using lakeflow::test_support::FhirServer;
using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_process;
using lakeflow::test_support::TempDir;

namespace fs = std::filesystem;

// A Patient with the UK Core identifier and extensions upstream's uk_core profile extracts.
constexpr const char* kUkPatient =
    R"({"resourceType":"Patient","id":"uk-core-1","meta":{"lastUpdated":"2024-03-01T10:00:00.000Z"},)"
    R"("identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],)"
    R"("extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",)"
    R"("valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategory",)"
    R"("code":"A","display":"British, Mixed British"}]}},)"
    R"({"url":"http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired","valueBoolean":false}],)"
    R"("name":[{"family":"Smith","given":["Jo"]}],"gender":"female"})";

class UpstreamSpecE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = std::make_unique<TempDir>("lakeflow_upstream_spec_data");
    const std::string patients = data_->write("uk_patient.ndjson", std::string(kUkPatient) + "\n");
    server_ =
        std::make_unique<FhirServer>(FhirServer::start({"--load-examples", "--load", patients}));
  }
  static void TearDownTestSuite() {
    server_.reset();
    data_.reset();
  }

  // A connections file with `name` pointing at the server.
  std::string connections(const std::string& file, const std::string& name) {
    return dir_.write(file, name + ":\n  connector: fhir\n  options:\n    base_url: " +
                                server_->base_url() + "\n");
  }

  ProcessResult lakeflow(std::vector<std::string> args) const {
    args.insert(args.begin(), LAKEFLOW_BIN);
    ProcessOptions options;
    options.drop_prefixes = {"FHIR_", "LAKEFLOW_"};
    options.timeout = std::chrono::seconds(300);
    return run_process(args, options);
  }

  // The rows of the Delta table at `path`, as `lakeflow show` prints them.
  std::vector<JsonValue> rows(const fs::path& path) const {
    const ProcessResult show = lakeflow({"show", path.string(), "--limit", "100000"});
    EXPECT_EQ(show.status, 0) << show.err;
    std::vector<JsonValue> result;
    std::size_t start = 0;
    while (start < show.out.size()) {
      const std::size_t end = show.out.find('\n', start);
      result.push_back(JsonValue::parse(show.out.substr(start, end - start), "row"));
      start = end == std::string::npos ? show.out.size() : end + 1;
    }
    return result;
  }

  static inline std::unique_ptr<TempDir> data_;
  static inline std::unique_ptr<FhirServer> server_;
  TempDir dir_{"lakeflow_upstream_spec_e2e"};
};

// Every key of upstream's pipeline spec reference (connection_name, objects[].table.source_table,
// destination_catalog, destination_schema, destination_table, table_configuration.scd_type,
// primary_keys, sequence_by, cluster_by) and every FHIR table option upstream documents
// (page_size, max_records_per_batch, page_delay, profile, resource_types), plus options Spark adds
// when it calls a connector.
constexpr const char* kEveryKeyJson = R"({
  "connection_name": "upstream_fhir",
  "objects": [
    {"table": {
      "source_table": "Patient",
      "destination_catalog": "hospital",
      "destination_schema": "fhir",
      "destination_table": "patients",
      "table_configuration": {
        "scd_type": "SCD_TYPE_2",
        "primary_keys": ["id"],
        "sequence_by": "last_updated",
        "cluster_by": ["id"],
        "page_size": 5,
        "max_records_per_batch": 20,
        "page_delay": "0.01",
        "profile": "uk_core",
        "resource_types": "Patient,Observation"}}},
    {"table": {
      "source_table": "Observation",
      "table_configuration": {"scd_type": "APPEND_ONLY", "page_size": "50", "profile": "base_r4"}}},
    {"table": {
      "source_table": "Encounter",
      "destination_schema": "fhir",
      "table_configuration": {
        "scd_type": "SCD_TYPE_1", "primary_keys": "[\"id\"]", "cluster_by": "id",
        "tableName": "Encounter", "isDeleteFlow": "false"}}}
  ]
})";

constexpr const char* kEveryKeyYaml = R"(connection_name: upstream_fhir
objects:
  - table:
      source_table: Patient
      destination_catalog: hospital
      destination_schema: fhir
      destination_table: patients
      table_configuration:
        scd_type: SCD_TYPE_2
        primary_keys:
          - id
        sequence_by: last_updated
        cluster_by:
          - id
        page_size: 5
        max_records_per_batch: 20
        page_delay: 0.01
        profile: uk_core
        resource_types: Patient,Observation
  - table:
      source_table: Observation
      table_configuration:
        scd_type: APPEND_ONLY
        page_size: "50"
        profile: base_r4
  - table:
      source_table: Encounter
      destination_schema: fhir
      table_configuration:
        scd_type: SCD_TYPE_1
        primary_keys: '["id"]'
        cluster_by: id
        tableName: Encounter
        isDeleteFlow: "false"
)";

class EveryDocumentedKey : public UpstreamSpecE2e,
                           public ::testing::WithParamInterface<const char*> {};

TEST_P(EveryDocumentedKey, LandsEveryTableWhereTheSpecSays) {
  const bool json = std::string(GetParam()) == "json";
  const std::string spec =
      dir_.write(json ? "spec.json" : "spec.yaml", json ? kEveryKeyJson : kEveryKeyYaml);
  const std::string conns = connections("conns.yaml", "upstream_fhir");
  const fs::path out = fs::path(dir_.path()) / "out";
  const ProcessResult run =
      lakeflow({"run", spec, "--connections", conns, "--destination", out.string(), "--json"});
  ASSERT_EQ(run.status, 0) << run.err << run.out;
  EXPECT_EQ(run.err.find("unknown"), std::string::npos) << run.err;

  const JsonValue summary = JsonValue::parse(run.out, "summary");
  std::set<std::string> landed;
  for (const JsonValue& table : summary.as_array()) {
    landed.insert(table.find("table")->as_string());
    EXPECT_TRUE(table.find("error")->is_null()) << run.out;
    EXPECT_GT(table.find("records")->as_int(), 0) << run.out;
  }
  EXPECT_EQ(landed, (std::set<std::string>{"hospital.fhir.patients", "main.default.Observation",
                                           "main.fhir.Encounter"}));
  for (const char* path :
       {"hospital/fhir/patients", "main/default/Observation", "main/fhir/Encounter"}) {
    EXPECT_TRUE(fs::exists(out / path / "_delta_log" / "00000000000000000000.json")) << path;
  }

  // SCD type 2 with the UK Core columns: the UK patient's NHS number and extensions landed.
  bool found = false;
  for (const JsonValue& row : rows(out / "hospital/fhir/patients")) {
    ASSERT_NE(row.find("__START_AT"), nullptr) << row.dump();
    ASSERT_NE(row.find("nhs_number"), nullptr) << row.dump();
    if (row.find("id")->as_string() != "uk-core-1") {
      EXPECT_TRUE(row.find("nhs_number")->is_null()) << row.dump();
      continue;
    }
    found = true;
    EXPECT_EQ(row.find("nhs_number")->as_string(), "9000000009");
    EXPECT_EQ(row.find("ethnic_category")->dump(),
              R"({"coding":[{"code":"A","display":"British, Mixed British","system":)"
              R"("https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategory"}],"text":null})");
    EXPECT_FALSE(row.find("interpreter_required")->as_bool());
    EXPECT_TRUE(row.find("birth_sex")->is_null());
  }
  EXPECT_TRUE(found) << "the UK Core patient did not land";
  // base_r4 (and every type but Patient under uk_core): no profile columns.
  for (const JsonValue& row : rows(out / "main/default/Observation")) {
    EXPECT_EQ(row.find("nhs_number"), nullptr) << row.dump();
    break;
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, EveryDocumentedKey, ::testing::Values("json", "yaml"));

// The flags win over what a spec of ours says: connections_file and destination_root name places
// that do not exist.
TEST_F(UpstreamSpecE2e, FlagsOverrideTheSpecsConnectionsFileAndDestinationRoot) {
  const std::string spec =
      dir_.write("ours.yaml",
                 "connection_name: ours\nconnections_file: missing/connections.yaml\n"
                 "destination_root: not-here\nobjects:\n  - table:\n      source_table: Patient\n");
  const std::string conns = connections("flag_conns.yaml", "ours");
  const fs::path out = fs::path(dir_.path()) / "flag_out";
  const ProcessResult run =
      lakeflow({"run", spec, "--connections", conns, "--destination", out.string()});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(fs::exists(out / "main/default/Patient/_delta_log"));
  EXPECT_FALSE(fs::exists(fs::path(dir_.path()) / "not-here"));

  // Without the flags the spec's own places apply.
  const ProcessResult without = lakeflow({"run", spec});
  EXPECT_EQ(without.status, 2) << without.err;
  EXPECT_NE(without.err.find("missing/connections.yaml"), std::string::npos) << without.err;
}

// Out-of-range or unknown values of upstream's options stop the run before any table lands.
TEST_F(UpstreamSpecE2e, BadUpstreamOptionValuesAreFoundBeforeAnyTableLands) {
  const std::string conns = connections("bad_conns.yaml", "upstream_fhir");
  const fs::path out = fs::path(dir_.path()) / "bad_out";
  const std::string spec = dir_.write("bad.json",
                                      R"({"connection_name": "upstream_fhir", "objects": [
        {"table": {"source_table": "Patient", "table_configuration": {"page_delay": "2m"}}},
        {"table": {"source_table": "Observation", "table_configuration": {"profile": "us_core"}}},
        {"table": {"source_table": "Encounter",
                   "table_configuration": {"resource_types": "Patient"}}}]})");
  const ProcessResult run =
      lakeflow({"run", spec, "--connections", conns, "--destination", out.string()});
  EXPECT_EQ(run.status, 2) << run.err;
  for (const char* part : {"3 of 3 tables cannot run", "option 'page_delay': expected at most 60s",
                           "got '2m'", "option 'profile': expected base_r4", "got 'us_core'",
                           "option 'resource_types' (Patient) does not include the table"}) {
    EXPECT_NE(run.err.find(part), std::string::npos) << part << "\n" << run.err;
  }
  EXPECT_FALSE(fs::exists(out));
}

// page_delay holds each page request of a table back until the delay has passed since the previous
// page arrived: with one resource per page, a read of N resources takes at least N-1 delays. (A
// lower bound only: nothing here depends on how fast the machine is.)
TEST_F(UpstreamSpecE2e, PageDelaySpacesThePageRequestsOfATable) {
  const auto started = std::chrono::steady_clock::now();
  const ProcessResult read =
      lakeflow({"read", "-c", "fhir", "--option", "base_url=" + server_->base_url(), "-t",
                "Patient", "--table-option", "page_size=1", "--table-option", "page_delay=0.1"});
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(read.status, 0) << read.err;
  const auto records = static_cast<int>(std::count(read.out.begin(), read.out.end(), '\n'));
  ASSERT_GT(records, 5) << read.out;
  EXPECT_GE(elapsed, (records - 1) * std::chrono::milliseconds(100)) << records << " records";
}

// Upstream's FHIR test spec, in the form its documentation gives: 14 types, profile uk_core.
TEST_F(UpstreamSpecE2e, UpstreamsHealthLakeSpecRunsUnchanged) {
  const std::string spec =
      std::string(LAKEFLOW_REPO_DIR) + "/sources/fhir/test/healthlake_fhir_pipeline_spec.json";
  const std::string conns = connections("healthlake.yaml", "healthlake_fhir_conn");
  const fs::path out = fs::path(dir_.path()) / "lakehouse";
  const ProcessResult run =
      lakeflow({"run", spec, "--connections", conns, "--destination", out.string(), "--json"});
  ASSERT_EQ(run.status, 0) << run.err << run.out;
  EXPECT_EQ(run.err.find("unknown table option"), std::string::npos) << run.err;
  const JsonValue summary = JsonValue::parse(run.out, "summary");
  ASSERT_EQ(summary.as_array().size(), 14u) << run.out;
  for (const JsonValue& table : summary.as_array()) {
    EXPECT_TRUE(table.find("error")->is_null()) << run.out;
  }
  EXPECT_TRUE(fs::exists(out / "main/default/Patient/_delta_log"));
  bool nhs = false;
  for (const JsonValue& row : rows(out / "main/default/Patient")) {
    nhs = nhs || (row.find("nhs_number") && !row.find("nhs_number")->is_null());
  }
  EXPECT_TRUE(nhs) << "no Patient row has an nhs_number";
}

}  // namespace
