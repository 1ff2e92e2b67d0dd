// The conformance suite against the local FHIR server (tools/fhir-server) loaded with HL7's R4
// examples, write-back included. Each test process starts its own server on first use, so tests
// that write never disturb tests that read, and tests outside the suite start none.
//
// LAKEFLOW_TEST_MODE=record writes each class's exchanges with the server to test/cassettes/,
// naming the stand-in origin below instead of the server's port; LAKEFLOW_TEST_MODE=replay then
// runs the suite from those cassettes with no server at all.
#include <memory>

#include "fhir_write_back.h"
#include "lakeflow/testing/conformance.h"
#include "support/fhir_server.h"

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "fhir",
    .source_dir = LAKEFLOW_SOURCE_DIR,
    .allowed_null_columns =
        {{"*:*",
          "schemas are generated from the R4 StructureDefinitions and hold every element of a "
          "resource type; HL7's examples fill only some of them"}},
    .allowed_empty_tables =
        {{"*", "the server holds HL7's R4 examples, and some resource types have none"}},
    .connector_options =
        [] {
          static const lakeflow::test_support::FhirServer server =
              lakeflow::test_support::FhirServer::start({"--load-examples"});
          return lakeflow::Options{{"base_url", server.base_url()}};
        },
    .write_back =
        [](const lakeflow::Options& options) -> std::unique_ptr<lakeflow::testing::WriteBackUtils> {
      return std::make_unique<lakeflow::fhir::FhirWriteBack>(options);
    },
    .stand_in_options = {{"base_url", "http://fhir.stand-in.test/fhir"}},
    // The connector caps every read at its construction time (_lastUpdated=le<now>), a value
    // no recording can know; replay serves the recorded exchanges of a query in order.
    .ignore_query_params = {"_lastUpdated"}});
