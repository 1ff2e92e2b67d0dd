// Record and replay as a proof on a real server: every table is read from the local FHIR server
// while the exchanges are recorded, the server is stopped, and the same reads replayed from the
// cassette must deliver identical records in identical calls. The one expected difference is
// what the Redactor hides before anything reaches a cassette: HL7's Subscription examples carry an
// `Authorization: Bearer ...` header value, which the cassette holds as `Authorization: ***`.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lakeflow/connector.h"
#include "lakeflow/http/test_mode.h"
#include "lakeflow/http/url.h"
#include "lakeflow/registry.h"
#include "lakeflow/testing/temp_dir.h"
#include "support/fhir_server.h"

namespace lakeflow::fhir {
namespace {

// Every call's records of a read from {} until the offset repeats.
std::vector<std::vector<std::string>> read_table_calls(LakeflowConnect& connector,
                                                       const std::string& table) {
  std::vector<std::vector<std::string>> calls;
  Offset start;
  for (int i = 0; i < 200; ++i) {
    ReadResult result = connector.read_table(table, start, Options());
    std::vector<std::string> records;
    RecordBatch batch;
    while (result.records.next(batch)) {
      for (std::size_t r = 0; r < batch.size(); ++r) records.emplace_back(batch[r]);
    }
    calls.push_back(std::move(records));
    if (result.end == start) return calls;
    start = std::move(result.end);
  }
  ADD_FAILURE() << table << " did not converge";
  return calls;
}

// `record` with the token of every `Authorization: Bearer <token>` as the Redactor writes it.
std::string hide_bearer_tokens(std::string record) {
  constexpr std::string_view kBearer = "Authorization: Bearer ";
  for (std::size_t at = record.find(kBearer); at != std::string::npos;
       at = record.find(kBearer, at + 1)) {
    std::size_t end = at + kBearer.size();
    while (end < record.size() && record[end] != '\\' && record[end] != '"') ++end;
    record.replace(at, end - at, "Authorization: ***");
  }
  return record;
}

// Resets the process transport however the test ends.
struct TransportGuard {
  explicit TransportGuard(std::shared_ptr<http::Transport> transport) {
    http::set_process_transport(std::move(transport));
  }
  ~TransportGuard() { http::set_process_transport(nullptr); }
  TransportGuard(const TransportGuard&) = delete;
  TransportGuard& operator=(const TransportGuard&) = delete;
};

TEST(FhirRecordReplay, ReplayedTablesAreIdenticalToTheRecordedServersTables) {
  constexpr std::string_view kStandIn = "http://fhir.stand-in.test";
  files::TempDir dir("fhir_cassette");
  const std::string cassette = (dir.path() / "FhirRecordReplay.json").string();
  std::vector<std::string> tables;
  std::map<std::string, std::vector<std::vector<std::string>>> live;
  std::size_t live_records = 0;
  {
    const auto server = test_support::FhirServer::start({"--load-examples"});
    auto recorder = std::make_shared<http::RecordingTransport>(http::RecordingTransport::Settings{
        .source = "fhir",
        .live_origin = http::origin_of(server.base_url()).to_string(),
        .stand_in_origin = std::string(kStandIn)});
    TransportGuard guard(recorder);
    auto connector =
        ConnectorRegistry::instance().create("fhir", Options{{"base_url", server.base_url()}});
    tables = connector->list_tables();
    for (const std::string& table : tables) {
      live[table] = read_table_calls(*connector, table);
      for (const auto& call : live[table]) live_records += call.size();
    }
    recorder->save(cassette);
  }  // the server stops here
  ASSERT_GT(live_records, 100U);

  auto replay = std::make_shared<http::ReplayTransport>(
      http::Cassette::load(cassette), std::set<std::string, std::less<>>{"_lastUpdated"}, cassette);
  TransportGuard guard(replay);
  auto connector = ConnectorRegistry::instance().create(
      "fhir", Options{{"base_url", std::string(kStandIn) + "/fhir"}});
  EXPECT_EQ(connector->list_tables(), tables);
  std::size_t replayed_records = 0;
  std::size_t redacted_records = 0;
  for (const std::string& table : tables) {
    const auto calls = read_table_calls(*connector, table);
    for (const auto& call : calls) replayed_records += call.size();
    auto expected = live[table];
    for (auto& call : expected) {
      for (std::string& record : call) {
        std::string hidden = hide_bearer_tokens(record);
        if (hidden != record) ++redacted_records;
        record = std::move(hidden);
      }
    }
    EXPECT_EQ(calls, expected) << "table " << table;
  }
  EXPECT_LE(redacted_records, 2U);  // the two Subscription examples
  EXPECT_EQ(replayed_records, live_records);
  std::cout << "[fhir record/replay] " << tables.size() << " tables, " << live_records
            << " records recorded and replayed identically (" << redacted_records
            << " with a credential redacted) from "
            << http::Cassette::load(cassette).interactions.size() << " interactions\n";
}

}  // namespace
}  // namespace lakeflow::fhir
