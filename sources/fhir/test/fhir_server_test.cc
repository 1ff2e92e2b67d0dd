// The connector against the local FHIR server (tools/fhir-server): exact incremental reads at
// ties, deletes from type history, the read cap, detection of a server that ignores _lastUpdated,
// and every auth type against the server's token endpoint.
#include "support/fhir_server.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "columnar/record_converter.h"
#include "fhir_connector.h"
#include "http/loopback_server_test_util.h"
#include "lakeflow/error.h"
#include "lakeflow/http/client.h"
#include "lakeflow/instant.h"
#include "lakeflow/json.h"
#include "schema/fhir_schema.h"
#include "support/subprocess.h"

namespace lakeflow::fhir {
namespace {

using test_support::FhirServer;
using ::testing::HasSubstr;
using ::testing::Not;

struct Record {
  std::string id;
  JsonValue json;
  std::string source;  // the record's source text: the resource as the server sent it
};

struct Read {
  std::vector<Record> records;
  std::vector<Offset> offsets;  // the end offset of every call, the last one repeated at the end
};

std::vector<Record> drain(ReadResult& result) {
  std::vector<Record> records;
  RecordBatch batch;
  while (result.records.next(batch)) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      JsonValue json = JsonValue::parse(batch[i], "record");
      records.push_back(
          {json.find("id")->as_string(), std::move(json), std::string(batch.source(i))});
    }
  }
  return records;
}

// Reads `table` from `start` until the offset stops changing, with a fresh connector per call
// when `restart` is set (as a pipeline resuming after every batch would).
Read read_all(const Options& options, const std::string& table, const Options& table_options,
              bool restart, bool deletes = false, Offset start = Offset(),
              std::shared_ptr<FhirConnector> connector = nullptr) {
  Read read;
  if (!connector) connector = std::make_shared<FhirConnector>(options);
  for (int call = 0; call < 10000; ++call) {
    if (restart) connector = std::make_shared<FhirConnector>(options);
    ReadResult result = deletes ? connector->read_table_deletes(table, start, table_options)
                                : connector->read_table(table, start, table_options);
    std::vector<Record> records = drain(result);
    read.records.insert(read.records.end(), records.begin(), records.end());
    read.offsets.push_back(result.end);
    if (result.end == start) return read;
    start = result.end;
  }
  ADD_FAILURE() << "the read did not converge";
  return read;
}

std::set<std::string> ids_of(const std::vector<Record>& records) {
  std::set<std::string> ids;
  for (const Record& record : records) ids.insert(record.id);
  return ids;
}

// Writes through the server's REST API.
class Client {
 public:
  explicit Client(std::string base_url)
      : base_url_(std::move(base_url)),
        http_(http::HttpClient::from_options(Options{{"http.max_attempts", "1"}})) {}

  JsonValue send(http::Method method, const std::string& path, const std::string& body = {}) {
    http::Request request;
    request.method = method;
    request.url = base_url_ + "/" + path;
    request.headers = {{"Accept", "application/fhir+json"}};
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", "application/fhir+json");
      request.body = body;
    }
    const http::Response response = http_->send(std::move(request));
    return response.body.empty() ? JsonValue() : JsonValue::parse(response.body, "response");
  }

  std::string create_patient(const std::string& family, const std::string& last_updated = {}) {
    JsonValue patient =
        JsonValue::Object{{"resourceType", "Patient"},
                          {"name", JsonValue::Array{JsonValue::Object{{"family", family}}}}};
    if (!last_updated.empty()) {
      patient["meta"] = JsonValue::Object{{"lastUpdated", last_updated}};
    }
    return send(http::Method::kPost, "Patient", patient.dump()).find("id")->as_string();
  }

 private:
  std::string base_url_;
  std::shared_ptr<http::HttpClient> http_;
};

TEST(FhirServer, ReadsEveryExamplePatientOnceInSmallBatchesAcrossRestarts) {
  const FhirServer server = FhirServer::start({"--load-examples"});
  const Options options{{"base_url", server.base_url()}};
  const Read whole = read_all(options, "Patient", {}, /*restart=*/false);
  const Read batched =
      read_all(options, "Patient", {{"max_records_per_batch", "3"}, {"page_size", "2"}},
               /*restart=*/true);
  EXPECT_GT(whole.records.size(), 10u);
  EXPECT_EQ(batched.records.size(), whole.records.size());
  EXPECT_EQ(ids_of(batched.records), ids_of(whole.records));
  EXPECT_EQ(ids_of(whole.records).size(), whole.records.size()) << "an id arrived twice";
  // Every record is its resource as sent (its source text, for the raw_json column) plus the
  // cursor column.
  for (const Record& record : whole.records) {
    const JsonValue original = JsonValue::parse(record.source, "source");
    EXPECT_EQ(original.find("id")->as_string(), record.id);
    EXPECT_EQ(record.json.find(std::string(kRawJsonColumn)), nullptr);
    EXPECT_EQ(record.json.find(kLastUpdatedColumn)->as_string(),
              original.find("meta")->find("lastUpdated")->as_string());
  }
}

// The local server searches Binary but not by _lastUpdated: a snapshot table, read whole.
TEST(FhirServer, ATypeWithoutLastUpdatedSearchIsASnapshotTable) {
  const FhirServer server = FhirServer::start({"--load-examples"});
  FhirConnector connector({{"base_url", server.base_url()}});
  const std::vector<std::string> tables = connector.list_tables();
  ASSERT_NE(std::find(tables.begin(), tables.end(), "Binary"), tables.end());
  const TableMetadata metadata = connector.read_table_metadata("Binary", {});
  EXPECT_EQ(metadata.ingestion_type, IngestionType::kSnapshot);
  EXPECT_EQ(metadata.primary_keys, std::vector<std::string>{"id"});
  EXPECT_FALSE(metadata.cursor_field.has_value());
  ReadResult result = connector.read_table("Binary", Offset(), {{"page_size", "1"}});
  EXPECT_TRUE(result.end.is_null());
  const std::vector<Record> records = drain(result);
  EXPECT_EQ(records.size(), 3u);
  EXPECT_EQ(ids_of(records).size(), 3u);
  for (const Record& record : records) {
    EXPECT_EQ(record.json.find("resourceType")->as_string(), "Binary");
    EXPECT_EQ(JsonValue::parse(record.source, "source").find("resourceType")->as_string(),
              "Binary");
  }
  EXPECT_THROW(connector.read_table_deletes("Binary", Offset(), {}), NotImplementedError);
}

TEST(FhirServer, HundredsOfResourcesSharingOneLastUpdatedArriveExactlyOnce) {
  const FhirServer server = FhirServer::start({});
  Client client(server.base_url());
  std::set<std::string> created;
  created.insert(client.create_patient("Before", "2023-12-31T23:59:59.999Z"));
  for (int i = 0; i < 300; ++i) {
    created.insert(client.create_patient("Tie" + std::to_string(i), "2024-01-01T00:00:00.000Z"));
  }
  created.insert(client.create_patient("After", "2024-01-01T00:00:00.001Z"));
  const Options options{{"base_url", server.base_url()}};
  const Read read =
      read_all(options, "Patient", {{"max_records_per_batch", "7"}, {"page_size", "10"}},
               /*restart=*/true);
  EXPECT_EQ(read.records.size(), created.size());
  EXPECT_EQ(ids_of(read.records), created);
  // Offsets only move forward, and inside the tie they carry the ids delivered so far.
  std::int64_t previous = 0;
  for (const Offset& offset : read.offsets) {
    const std::int64_t at = *parse_instant(offset.find("cursor")->as_string());
    EXPECT_GE(at, previous);
    previous = at;
  }
  EXPECT_EQ(read.offsets[20].find("cursor")->as_string(), "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(read.offsets[20].find("ids")->as_array().size(), 21u * 7 - 1);
}

// Within one connector, the next batch continues from the page the previous one stopped in
// instead of paging through the tie again: a few hundred requests become a few dozen.
TEST(FhirServer, ConsecutiveBatchesContinueInsideATie) {
  FhirServer server = FhirServer::start({"--verbose"});
  Client client(server.base_url());
  std::set<std::string> created;
  for (int i = 0; i < 300; ++i) {
    created.insert(client.create_patient("Tie" + std::to_string(i), "2024-01-01T00:00:00.000Z"));
  }
  const auto searches = [&server] {
    std::size_t count = 0;
    const std::string& log = server.output();
    for (std::size_t at = log.find("GET /fhir/Patient?"); at != std::string::npos;
         at = log.find("GET /fhir/Patient?", at + 1)) {
      ++count;
    }
    return count;
  };
  const std::size_t before = searches();
  const Read read = read_all({{"base_url", server.base_url()}}, "Patient",
                             {{"max_records_per_batch", "7"}, {"page_size", "10"}},
                             /*restart=*/false);
  EXPECT_EQ(ids_of(read.records), created);
  EXPECT_EQ(read.records.size(), created.size());
  // 44 calls over 30 pages: each call re-reads the page it continues in, and the last finds
  // nothing new. Paging through the tie again on every call would take over 600.
  EXPECT_LE(searches() - before, 100u) << "requests: " << searches() - before;
}

// Requests and resources the server answered, from its --verbose log.
struct Served {
  std::size_t searches = 0;  // GET [base]/Patient?...
  std::size_t history = 0;   // GET [base]/Patient/_history?...
  std::size_t entries = 0;   // Bundle entries in those answers
  std::set<std::string> urls;
  std::size_t repeated = 0;  // requests for a URL asked for before
};

Served served_since(FhirServer& server, std::size_t from, const std::string& type) {
  Served served;
  const std::string& log = server.settled_output();
  std::size_t at = from;
  while ((at = log.find("GET /fhir/" + type, at)) != std::string::npos) {
    const std::size_t end = log.find('\n', at);
    const std::string line = log.substr(at, end - at);
    at = end;
    const std::string path = line.substr(4, line.find(' ', 4) - 4);
    if (path.starts_with("/fhir/" + type + "?")) {
      ++served.searches;
    } else if (path.starts_with("/fhir/" + type + "/_history?")) {
      ++served.history;
    } else {
      continue;
    }
    if (!served.urls.insert(path).second) ++served.repeated;
    const std::size_t open = line.find(" [");
    if (open != std::string::npos) served.entries += std::stoul(line.substr(open + 2));
  }
  return served;
}

// A sync as the pipeline runs it: upserts, then deletes, each until the offset stops changing,
// with one connector.
struct Sync {
  Read upserts;
  Read deletes;
};

Sync sync(const Options& options, const Options& table_options, const Offset& upserts_from,
          const Offset& deletes_from) {
  const auto connector = std::make_shared<FhirConnector>(options);
  Sync done;
  done.upserts = read_all(options, "Patient", table_options, false, false, upserts_from, connector);
  done.deletes = read_all(options, "Patient", table_options, false, true, deletes_from, connector);
  return done;
}

// After a bulk load of many resources sharing one lastUpdated, a sync that finds nothing new asks
// one search and one history page, and the server sends no resource; the offset keeps no ids.
TEST(FhirServer, ASyncWithNothingNewIsOneSearchAndReadsNothing) {
  FhirServer server = FhirServer::start({"--verbose"});
  Client client(server.base_url());
  client.create_patient("Before", "2023-12-31T23:59:59.999Z");
  for (int i = 0; i < 320; ++i) {
    client.create_patient("Tie" + std::to_string(i), "2024-01-01T00:00:00.000Z");
  }
  const Options options{{"base_url", server.base_url()}};
  const Sync first = sync(options, {}, Offset(), Offset());
  EXPECT_EQ(ids_of(first.upserts.records).size(), 321u);
  const Offset& upserts = first.upserts.offsets.back();
  EXPECT_EQ(upserts.to_json(), R"({"complete":true,"cursor":"2024-01-01T00:00:00.000Z"})");

  for (int round = 0; round < 2; ++round) {
    const std::size_t mark = server.settled_output().size();
    const Sync again = sync(options, {}, upserts, first.deletes.offsets.back());
    const Served served = served_since(server, mark, "Patient");
    EXPECT_TRUE(again.upserts.records.empty());
    EXPECT_TRUE(again.deletes.records.empty());
    EXPECT_EQ(served.searches, 1u) << "round " << round;
    EXPECT_EQ(served.history, 1u) << "round " << round;
    EXPECT_EQ(served.entries, 0u) << "round " << round;
  }
}

// An offset written before tie groups were marked complete still resumes exactly, and the next
// sync completes the group.
TEST(FhirServer, AnOffsetListingTheIdsOfItsInstantStillResumes) {
  const FhirServer server = FhirServer::start({});
  Client client(server.base_url());
  const std::string a = client.create_patient("A", "2024-01-01T00:00:00.000Z");
  const std::string b = client.create_patient("B", "2024-01-01T00:00:00.000Z");
  const std::string c = client.create_patient("C", "2024-01-01T00:00:01.000Z");
  const Offset old(JsonValue::Object{{"cursor", "2024-01-01T00:00:00.000Z"},
                                     {"ids", JsonValue::Array{JsonValue(a)}}});
  const Read read = read_all({{"base_url", server.base_url()}}, "Patient", {}, false, false, old);
  EXPECT_EQ(ids_of(read.records), (std::set<std::string>{b, c}));
  EXPECT_EQ(read.records.size(), 2u);
  EXPECT_EQ(read.offsets.back().to_json(),
            R"({"complete":true,"cursor":"2024-01-01T00:00:01.000Z"})");
}

// Creates, updates and deletes land at random moments while syncs page through the table in small
// pages; after a final sync the table (upserts applied, deletions removed) equals the server's
// data: nothing missing, nothing extra, no version delivered twice.
TEST(FhirServer, WritesDuringPagedReadsLoseNothing) {
  const FhirServer server = FhirServer::start({});
  Client client(server.base_url());
  std::vector<std::string> live;
  for (int i = 0; i < 200; ++i) {
    live.push_back(client.create_patient(
        fmt::format("P{:03}", i),
        format_instant(*parse_instant("2024-01-01T00:00:00Z") + std::int64_t{i} * 1000000)));
  }
  const Options options{{"base_url", server.base_url()},
                        {"http.rate_limit_per_second", "100"},
                        {"http.rate_limit_burst", "1"}};
  const Options table_options{{"page_size", "5"}, {"max_records_per_batch", "20"}};

  std::map<std::string, std::string> table;  // id -> lastUpdated, as the pipeline would hold it
  std::set<std::pair<std::string, std::string>> delivered;
  std::size_t duplicates = 0;
  const auto apply = [&](const Sync& done) {
    for (const Record& record : done.upserts.records) {
      const std::string at = record.json.find(kLastUpdatedColumn)->as_string();
      if (!delivered.insert({record.id, at}).second) ++duplicates;
      std::string& held = table[record.id];
      if (held.empty() || *parse_instant(held) <= *parse_instant(at)) held = at;
    }
    for (const Record& record : done.deletes.records) {
      const auto found = table.find(record.id);
      const std::string at = record.json.find(kLastUpdatedColumn)->as_string();
      if (found != table.end() && *parse_instant(found->second) <= *parse_instant(at)) {
        table.erase(found);
      }
    }
  };

  std::mt19937 random(20261201);
  Offset upserts;
  Offset deletes;
  std::size_t writes = 0;
  for (int round = 0; round < 6; ++round) {
    std::atomic<bool> reading{true};
    std::vector<std::string> writer_live = live;
    std::thread writer([&] {
      Client writer_client(server.base_url());
      std::mt19937 own(random());
      while (reading.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(own() % 20));
        if (!reading.load() || writer_live.empty()) break;
        const std::size_t pick = own() % writer_live.size();
        switch (own() % 3) {
          case 0:
            writer_client.send(http::Method::kDelete, "Patient/" + writer_live[pick]);
            writer_live.erase(writer_live.begin() + static_cast<std::ptrdiff_t>(pick));
            break;
          case 1:
            writer_client.send(http::Method::kPut, "Patient/" + writer_live[pick],
                               JsonValue(JsonValue::Object{{"resourceType", "Patient"},
                                                           {"id", writer_live[pick]},
                                                           {"active", own() % 2 == 0}})
                                   .dump());
            break;
          default:
            writer_live.push_back(writer_client.create_patient("New"));
        }
        ++writes;
      }
    });
    struct StopWriter {
      std::atomic<bool>& reading;
      std::thread& writer;
      ~StopWriter() {
        reading = false;
        writer.join();
      }
    };
    std::optional<Sync> done;
    {
      const StopWriter stop{reading, writer};
      done = sync(options, table_options, upserts, deletes);
    }
    live = writer_live;
    apply(*done);
    upserts = done->upserts.offsets.back();
    deletes = done->deletes.offsets.back();
  }
  apply(sync(options, table_options, upserts, deletes));  // nothing changes during this one

  std::map<std::string, std::string> server_state;
  JsonValue page = client.send(http::Method::kGet, "Patient?_count=1000");
  ASSERT_LT(page.find("total")->as_int(), 1000);
  for (const JsonValue& entry : page.find("entry")->as_array()) {
    const JsonValue& resource = *entry.find("resource");
    server_state[resource.find("id")->as_string()] =
        resource.find("meta")->find("lastUpdated")->as_string();
  }
  std::vector<std::string> missing;
  std::vector<std::string> extra;
  for (const auto& [id, at] : server_state) {
    const auto found = table.find(id);
    if (found == table.end() || found->second != at) missing.push_back(id + "@" + at);
  }
  for (const auto& [id, at] : table) {
    if (!server_state.contains(id)) extra.push_back(id);
  }
  EXPECT_GT(writes, 30u);
  EXPECT_THAT(missing, ::testing::IsEmpty()) << writes << " writes";
  EXPECT_THAT(extra, ::testing::IsEmpty()) << writes << " writes";
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(table.size(), server_state.size());
}

// A group sharing one lastUpdated larger than the largest page is paged by the server's next
// links, continued across the batches of a run, and the read says so.
TEST(FhirServer, ATieLargerThanTheLargestPageIsPagedByLinksAndSaysSo) {
  FhirServer server = FhirServer::start({"--verbose"});
  Client client(server.base_url());
  std::set<std::string> created;
  for (int i = 0; i < 1100; ++i) {
    created.insert(client.create_patient("Tie" + std::to_string(i), "2024-01-01T00:00:00.000Z"));
  }
  created.insert(client.create_patient("After", "2024-01-01T00:00:00.001Z"));
  const std::size_t mark = server.settled_output().size();
  FhirConnector connector({{"base_url", server.base_url()}});
  const Options table_options{{"page_size", "100"}, {"max_records_per_batch", "50"}};
  std::vector<Record> records;
  std::set<std::string> notes;
  Offset start;
  for (int call = 0; call < 1000; ++call) {
    ReadResult result = connector.read_table("Patient", start, table_options);
    for (Record& record : drain(result)) records.push_back(std::move(record));
    notes.insert(result.notes.begin(), result.notes.end());
    if (result.end == start) break;
    start = result.end;
  }
  EXPECT_EQ(records.size(), created.size());
  EXPECT_EQ(ids_of(records), created);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(*notes.begin(), HasSubstr("Patient: more resources shared one instant"));
  // 23 batches of 50: a fresh search for each while the group fits a page, then the next links
  // from where the previous batch stopped.
  const Served served = served_since(server, mark, "Patient");
  EXPECT_LE(served.searches, 40u);
}

// Deletes are read in bounded batches from the type history: a batch never holds more than the
// limit, and within a run no history page is asked for twice. A server listing its history newest
// first is read once per run and gives the same deletions.
class FhirDeletes : public ::testing::TestWithParam<bool> {};

TEST_P(FhirDeletes, AreReadInBoundedBatchesWithNoPageReadTwice) {
  const bool newest_first = GetParam();
  std::vector<std::string> args = {"--verbose"};
  if (newest_first) args.push_back("--history-newest-first");
  FhirServer server = FhirServer::start(args);
  Client client(server.base_url());
  const Options options{{"base_url", server.base_url()}};
  const Options table_options{{"page_size", "10"}, {"max_records_per_batch", "10"}};
  const Read first = read_all(options, "Patient", table_options, false, /*deletes=*/true);
  std::set<std::string> deleted;
  for (int i = 0; i < 300; ++i) {
    const std::string id = client.create_patient("P" + std::to_string(i));
    if (i % 6 == 0) {
      client.send(http::Method::kDelete, "Patient/" + id);
      deleted.insert(id);
    }
  }
  const std::size_t mark = server.settled_output().size();
  const Read read = read_all(options, "Patient", table_options, false, true, first.offsets.back());
  const Served served = served_since(server, mark, "Patient");
  EXPECT_EQ(ids_of(read.records), deleted);
  EXPECT_EQ(read.records.size(), deleted.size());
  EXPECT_EQ(served.repeated, 0u);
  // 350 history entries in pages of 10 (11 with the entry at the position): about 35 requests.
  EXPECT_LE(served.history, 45u);
  EXPECT_GE(read.offsets.size(), deleted.size() / 10);
  if (!newest_first) {
    // Bounded: every call read at most one batch of entries.
    EXPECT_GE(read.offsets.size(), 35u);
  }
}

INSTANTIATE_TEST_SUITE_P(HistoryOrder, FhirDeletes, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "NewestFirst" : "OldestFirst";
                         });

// FHIR instants may name a leap second. The local server stores one and the record lands, the
// second read as its last microsecond.
TEST(FhirServer, ALeapSecondLandsAsTheLastMicrosecondOfItsMinute) {
  const FhirServer server = FhirServer::start({});
  Client client(server.base_url());
  client.send(http::Method::kPost, "Observation",
              R"({"resourceType":"Observation","status":"final","code":{"text":"leap"},)"
              R"("issued":"2016-12-31T23:59:60Z"})");
  FhirConnector connector({{"base_url", server.base_url()}});
  ReadResult result = connector.read_table("Observation", Offset(), {});
  RecordConverter converter(connector.get_table_schema("Observation", {}), "Observation");
  ColumnBatch columns = converter.make_batch();
  RecordBatch batch;
  while (result.records.next(batch)) converter.convert(batch, columns);
  ASSERT_EQ(columns.num_rows(), 1u);
  EXPECT_THAT(columns.row_json(0), HasSubstr(R"("issued":"2016-12-31T23:59:59.999999Z")"));
}

// FHIR matches a date-time as the range its precision covers: `...:00Z` also matches
// `_lastUpdated=ge...:00.500Z`. That is a match, not a server ignoring the parameter.
TEST(FhirServer, LastUpdatedOfMixedPrecisionArrivesExactlyOnce) {
  const FhirServer server = FhirServer::start({});
  Client client(server.base_url());
  const std::set<std::string> created = {
      client.create_patient("Second", "2024-01-01T00:00:00Z"),
      client.create_patient("Millis", "2024-01-01T00:00:00.500Z"),
      client.create_patient("Next", "2024-01-01T00:00:01.000Z"),
      client.create_patient("Offset", "2024-01-01T01:00:01+01:00")};
  const Read read = read_all({{"base_url", server.base_url()}}, "Patient",
                             {{"max_records_per_batch", "1"}}, /*restart=*/true);
  EXPECT_EQ(read.records.size(), created.size());
  EXPECT_EQ(ids_of(read.records), created);
}

TEST(FhirServer, DeletesComeFromTypeHistory) {
  const FhirServer server = FhirServer::start({});
  Client client(server.base_url());
  const std::string kept = client.create_patient("Kept");
  const std::string gone1 = client.create_patient("Gone1");
  const std::string gone2 = client.create_patient("Gone2");
  const Options options{{"base_url", server.base_url()}};
  FhirConnector first(options);
  EXPECT_EQ(first.read_table_metadata("Patient", {}).ingestion_type,
            IngestionType::kCdcWithDeletes);
  const Read before = read_all(options, "Patient", {}, false, /*deletes=*/true);
  EXPECT_TRUE(before.records.empty());
  client.send(http::Method::kDelete, "Patient/" + gone1);
  client.send(http::Method::kDelete, "Patient/" + gone2);
  const Read after = read_all(options, "Patient", {{"max_records_per_batch", "1"}}, true,
                              /*deletes=*/true, before.offsets.back());
  EXPECT_EQ(ids_of(after.records), (std::set<std::string>{gone1, gone2}));
  ASSERT_EQ(after.records.size(), 2u);
  for (const Record& record : after.records) {
    EXPECT_EQ(record.json.find("resourceType")->as_string(), "Patient");
    EXPECT_TRUE(parse_instant(record.json.find(kLastUpdatedColumn)->as_string()).has_value());
  }
  // The records read no longer hold the deleted ones.
  EXPECT_EQ(ids_of(read_all(options, "Patient", {}, false).records), std::set<std::string>{kept});
}

TEST(FhirServer, WithoutTypeHistoryTablesAreCdc) {
  const FhirServer server = FhirServer::start({"--no-type-history"});
  FhirConnector connector({{"base_url", server.base_url()}});
  EXPECT_EQ(connector.read_table_metadata("Patient", {}).ingestion_type, IngestionType::kCdc);
  EXPECT_THROW(connector.read_table_deletes("Patient", Offset(), {}), NotImplementedError);
}

TEST(FhirServer, AReadStopsAtTheTimeTheConnectorStarted) {
  const FhirServer server = FhirServer::start({});
  Client client(server.base_url());
  const std::string early = client.create_patient("Early");
  const Options options{{"base_url", server.base_url()}};
  FhirConnector connector(options);
  const std::string late = client.create_patient("Late");
  ReadResult result = connector.read_table("Patient", Offset(), {});
  EXPECT_EQ(ids_of(drain(result)), std::set<std::string>{early});
  EXPECT_EQ(ids_of(read_all(options, "Patient", {}, false, false, result.end).records),
            std::set<std::string>{late});
}

TEST(FhirServer, ResourceTypesOptionChoosesAndChecksTheTables) {
  const FhirServer server = FhirServer::start({});
  FhirConnector two({{"base_url", server.base_url()}, {"resource_types", "Patient, Observation"}});
  EXPECT_EQ(two.list_tables(), (std::vector<std::string>{"Patient", "Observation"}));
  FhirConnector all({{"base_url", server.base_url()}});
  EXPECT_GT(all.list_tables().size(), 100u);
  try {
    FhirConnector bad({{"base_url", server.base_url()}, {"resource_types", "patient"}});
    ADD_FAILURE() << "accepted 'patient'";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.what(), HasSubstr("'patient'"));
    EXPECT_THAT(error.what(), HasSubstr("case-sensitive"));
  }
  EXPECT_THROW(two.read_table("Encounter", Offset(), {}), UnknownTableError);
  EXPECT_THROW(two.read_table("Patient", Offset(), {{"pagesize", "5"}}), ConfigError);
}

// A FHIR server that answers the n-th Patient search (from 0) with `page(n)`, whatever the search
// says.
void serve_patient_pages(http::test_util::Loopback& loopback,
                         std::function<std::string(int search)> page) {
  loopback->Get("/metadata", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(
        R"({"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","rest":[{"mode":"server",
            "resource":[{"type":"Patient","interaction":[{"code":"search-type"}]}]}]})",
        "application/fhir+json");
  });
  auto searches = std::make_shared<std::atomic<int>>(0);
  loopback->Get("/Patient", [page = std::move(page), searches](const httplib::Request&,
                                                               httplib::Response& response) {
    response.set_content(page((*searches)++), "application/fhir+json");
  });
}

// A FHIR server that answers every Patient search with `page`.
void serve_fixed_patient_page(http::test_util::Loopback& loopback, std::string page) {
  serve_patient_pages(loopback, [page = std::move(page)](int) { return page; });
}

// A page cut short, or with a byte garbled on the way, is not JSON: the page's check fails and the
// search is sent again (HttpClient's retry), so the read gets the whole page and every resource
// once; a page broken every time fails the read with the reason.
TEST(FhirServerFaults, ACutOrGarbledPageIsFetchedAgain) {
  const std::string page = R"({"resourceType":"Bundle","type":"searchset","entry":[
    {"resource":{"resourceType":"Patient","id":"a","meta":{"lastUpdated":"2020-01-01T00:00:00Z"}}},
    {"resource":{"resourceType":"Patient","id":"b","meta":{"lastUpdated":"2020-01-02T00:00:00Z"},
      "name":[{"family":"Nguyen"}]}}]})";
  std::string garbled = page;
  garbled[garbled.find("Nguyen")] = '\x01';  // a control character inside a string
  std::string bad_escape = page;
  bad_escape.replace(bad_escape.find("Nguyen"), 1, "\\x");
  std::vector<std::string> broken = {page.substr(0, page.size() / 2), garbled, bad_escape,
                                     page.substr(0, page.size() - 1)};
  std::mutex mutex;
  std::vector<int> searches;
  http::test_util::Loopback loopback;
  serve_patient_pages(loopback, [&](int search) {
    const std::lock_guard lock(mutex);
    searches.push_back(search);
    return search < static_cast<int>(broken.size()) ? broken[static_cast<std::size_t>(search)]
                                                    : page;
  });
  const Options options{
      {"base_url", loopback.url("")}, {"http.backoff_initial", "1ms"}, {"http.backoff_max", "5ms"}};
  ReadResult result = FhirConnector(options).read_table("Patient", Offset(), {});
  const std::vector<Record> records = drain(result);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].id, "b");
  EXPECT_EQ(records[1].source.substr(0, 42), R"({"resourceType":"Patient","id":"b","meta":)");
  EXPECT_EQ(searches.size(), broken.size() + 1);

  http::test_util::Loopback always_cut;
  serve_fixed_patient_page(always_cut, page.substr(0, page.size() / 2));
  try {
    FhirConnector({{"base_url", always_cut.url("")},
                   {"http.max_attempts", "2"},
                   {"http.backoff_initial", "1ms"}})
        .read_table("Patient", Offset(), {});
    ADD_FAILURE() << "a page cut every time was accepted";
  } catch (const http::HttpError& error) {
    EXPECT_THAT(error.what(), HasSubstr("not valid JSON"));
    EXPECT_THAT(error.what(), HasSubstr("after 2 attempts"));
  }
}

TEST(FhirServerFaults, AServerIgnoringLastUpdatedIsReported) {
  http::test_util::Loopback loopback;
  serve_fixed_patient_page(loopback, R"({"resourceType":"Bundle","type":"searchset","entry":[
    {"resource":{"resourceType":"Patient","id":"a","meta":{"lastUpdated":"2020-01-01T00:00:00Z"}}},
    {"resource":{"resourceType":"Patient","id":"b","meta":{"lastUpdated":"2021-01-01T00:00:00Z"}}}]})");
  // Each read searches from its offset, and the server's answer shows it ignored the bound.
  const Options options{{"base_url", loopback.url("")}};
  ReadResult first =
      FhirConnector(options).read_table("Patient", Offset(), {{"max_records_per_batch", "1"}});
  EXPECT_EQ(drain(first).size(), 1u);
  ReadResult second = FhirConnector(options).read_table("Patient", first.end, {});
  EXPECT_EQ(drain(second).size(), 1u);
  try {
    FhirConnector(options).read_table("Patient", second.end, {});
    ADD_FAILURE() << "the third read did not notice";
  } catch (const SourceError& error) {
    EXPECT_THAT(error.what(), HasSubstr("ignore the _lastUpdated search parameter"));
  }
}

// A page of valid JSON holding values simdjson cannot represent (an integer of 2^64, 1e309, a
// lone surrogate escape, nesting 3,000 deep) is read, not retried as broken: decimals keep their
// text, and only the records with a value their column cannot hold are bad records.
TEST(FhirServerFaults, ValidJsonBeyondTheParserNeverBlocksATable) {
  http::test_util::Loopback loopback;
  const std::string deep = std::string(3000, '[') + std::string(3000, ']');
  const auto patient = [](const std::string& id, const std::string& members) {
    return R"({"resource":{"resourceType":"Patient","id":")" + id +
           R"(","meta":{"lastUpdated":"2020-01-01T00:00:0)" + id.substr(1) + R"(Z"},)" + members +
           "}}";
  };
  const std::string decimal = R"("extension":[{"url":"u","valueDecimal":)";
  serve_fixed_patient_page(
      loopback, R"({"resourceType":"Bundle","type":"searchset","entry":[)" +
                    patient("p1", decimal + "18446744073709551616}]") + "," +
                    patient("p2", decimal + "1e309}]") + "," +
                    patient("p3", R"("multipleBirthInteger":18446744073709551616)") + "," +
                    patient("p4", R"("name":[{"family":"\ud800"}])") + "," +
                    patient("p5", R"("unknownDeep":)" + deep) + "]}");
  FhirConnector connector({{"base_url", loopback.url("")}, {"http.max_attempts", "1"}});
  ReadResult result = connector.read_table("Patient", Offset(), {});
  RecordBatch batch;
  RecordConverter converter(connector.get_table_schema("Patient", {}), "Patient",
                            BadRecordMode::kQuarantine);
  ColumnBatch columns = converter.make_batch();
  std::size_t records = 0;
  while (result.records.next(batch)) {
    records += batch.size();
    converter.convert(batch, columns);
  }
  EXPECT_EQ(records, 5u);
  ASSERT_EQ(columns.num_rows(), 3u);
  EXPECT_THAT(columns.row_json(0), HasSubstr(R"("valueDecimal":"18446744073709551616")"));
  EXPECT_THAT(columns.row_json(1), HasSubstr(R"("valueDecimal":"1e309")"));
  ASSERT_EQ(converter.bad_records().size(), 2u);
  EXPECT_EQ(converter.bad_records()[0].field_path, "multipleBirthInteger");
  EXPECT_EQ(converter.bad_records()[1].field_path, "name[0].family");
}

TEST(FhirServerFaults, AServerIgnoringTheSortIsReported) {
  http::test_util::Loopback loopback;
  serve_fixed_patient_page(loopback, R"({"resourceType":"Bundle","type":"searchset","entry":[
    {"resource":{"resourceType":"Patient","id":"b","meta":{"lastUpdated":"2021-01-01T00:00:00Z"}}},
    {"resource":{"resourceType":"Patient","id":"a","meta":{"lastUpdated":"2020-01-01T00:00:00Z"}}}]})");
  FhirConnector connector({{"base_url", loopback.url("")}});
  try {
    connector.read_table("Patient", Offset(), {});
    ADD_FAILURE() << "a read in the wrong order was accepted";
  } catch (const SourceError& error) {
    EXPECT_THAT(error.what(), HasSubstr("ignore _sort=_lastUpdated"));
    EXPECT_THAT(error.what(), HasSubstr("Patient/a"));
  }
}

// A bearer-protected server whose search page names its next page on a second server (another
// port, so another origin): the token never reaches the second server unless the connection lists
// it in http.allowed_origins.
TEST(FhirServerFaults, NextLinksToAnotherOriginGetNoTokenUnlessAllowed) {
  const std::string token = "tok-PLANTED-fhir-origin";
  http::test_util::Loopback other;
  std::mutex mutex;
  std::vector<std::string> other_saw;  // the Authorization header of every request
  other->Get("/Patient", [&](const httplib::Request& request, httplib::Response& response) {
    {
      const std::lock_guard lock(mutex);
      other_saw.push_back(request.get_header_value("Authorization"));
    }
    response.set_content(R"({"resourceType":"Bundle","type":"searchset","entry":[
      {"resource":{"resourceType":"Patient","id":"b","meta":{"lastUpdated":"2021-01-01T00:00:00Z"}}}]})",
                         "application/fhir+json");
  });
  http::test_util::Loopback loopback;
  serve_fixed_patient_page(loopback, fmt::format(R"({{"resourceType":"Bundle","type":"searchset",
        "link":[{{"relation":"next","url":"{}"}}],"entry":[
        {{"resource":{{"resourceType":"Patient","id":"a","meta":{{"lastUpdated":"2020-01-01T00:00:00Z"}}}}}}]}})",
                                                 other.url("/Patient?page=2")));
  Options options{{"base_url", loopback.url("")}, {"auth_type", "bearer"}, {"token", token}};
  try {
    FhirConnector(options).read_table("Patient", Offset(), {});
    ADD_FAILURE() << "followed a next link to another origin";
  } catch (const http::OriginRefusedError& error) {
    EXPECT_THAT(error.what(), HasSubstr("to " + other.url("") + ": "));
    EXPECT_THAT(error.what(), HasSubstr("http.allowed_origins"));
    EXPECT_THAT(error.what(), Not(HasSubstr(token)));
  }
  EXPECT_TRUE(other_saw.empty());

  options.set("http.allowed_origins", other.url(""));
  ReadResult result = FhirConnector(options).read_table("Patient", Offset(), {});
  EXPECT_EQ(ids_of(drain(result)), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(other_saw, std::vector<std::string>{"Bearer " + token});
}

// ---- auth ---------------------------------------------------------------------------------------

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

KeyPair generate_key(bool ec) {
  EVP_PKEY* key = ec ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384")
                     : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  if (key == nullptr) throw std::runtime_error("key generation failed");
  auto to_pem = [&](bool is_private) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (is_private) {
      PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    } else {
      PEM_write_bio_PUBKEY(bio, key);
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return pem;
  };
  KeyPair pair{to_pem(true), to_pem(false)};
  EVP_PKEY_free(key);
  return pair;
}

std::string error_of(const Options& options) {
  try {
    FhirConnector connector(options);
    connector.read_table("Patient", Offset(), {});
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(FhirAuth, BearerToken) {
  const FhirServer server = FhirServer::start({"--auth", "bearer", "--token", "tok-123456"});
  FhirConnector connector(
      {{"base_url", server.base_url()}, {"auth_type", "bearer"}, {"token", "tok-123456"}});
  ReadResult result = connector.read_table("Patient", Offset(), {});
  EXPECT_TRUE(drain(result).empty());
  const std::string error = error_of(
      {{"base_url", server.base_url()}, {"auth_type", "bearer"}, {"token", "wrong-654321"}});
  EXPECT_THAT(error, HasSubstr("401"));
  EXPECT_THAT(error, Not(HasSubstr("wrong-654321")));
}

TEST(FhirAuth, ClientSecretWithTokenEndpointDiscovery) {
  const FhirServer server = FhirServer::start(
      {"--auth", "oauth", "--client-id", "etl", "--client-secret", "s3cret-value"});
  Client writer(server.base_url());
  const Options good{{"base_url", server.base_url()},
                     {"auth_type", "client_secret"},
                     {"client_id", "etl"},
                     {"client_secret", "s3cret-value"},
                     {"scope", "system/*.read"}};
  FhirConnector connector(good);
  ReadResult result = connector.read_table("Patient", Offset(), {});
  EXPECT_TRUE(drain(result).empty());
  Options wrong = good;
  wrong.set("client_secret", "not-the-secret");
  const std::string error = error_of(wrong);
  EXPECT_THAT(error, HasSubstr("token request"));
  EXPECT_THAT(error, HasSubstr("invalid_client"));
  EXPECT_THAT(error, Not(HasSubstr("not-the-secret")));
  EXPECT_THAT(error, Not(HasSubstr("s3cret-value")));
}

class FhirJwtAuth : public ::testing::TestWithParam<const char*> {};

TEST_P(FhirJwtAuth, SmartBackendServicesAssertion) {
  const bool ec = std::string_view(GetParam()) == "ES384";
  const KeyPair registered = generate_key(ec);
  const KeyPair other = generate_key(ec);
  test_support::TempDir dir;
  const std::string public_key = dir.write("client.pub.pem", registered.public_pem);
  const FhirServer server = FhirServer::start(
      {"--auth", "oauth", "--jwt-client-id", "backend", "--jwt-public-key", public_key});
  Options options{{"base_url", server.base_url()},
                  {"auth_type", "jwt_assertion"},
                  {"client_id", "backend"},
                  {"private_key_pem", registered.private_pem},
                  {"kid", "key-1"},
                  {"scope", "system/*.read"},
                  {"private_key_algorithm", GetParam()}};
  FhirConnector connector(options);
  ReadResult result = connector.read_table("Patient", Offset(), {});
  EXPECT_TRUE(drain(result).empty());
  options.set("private_key_pem", other.private_pem);
  const std::string error = error_of(options);
  EXPECT_THAT(error, HasSubstr("token request"));
  EXPECT_THAT(error, Not(HasSubstr("PRIVATE KEY")));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, FhirJwtAuth, ::testing::Values("RS384", "ES384"));

}  // namespace
}  // namespace lakeflow::fhir
