// The hl7v2 connector's gcp source against a simulated Cloud Healthcare API HL7v2 store
// (test/simulator/endpoints.yaml, the sample messages as its corpus: test/hl7v2_gcp_corpus.h): the
// same tables as from files, malformed messages set aside with their reason, paging by pageToken,
// batch limits inside messages and at shared send times, messages added between reads, the read
// cap, the store's refusals as typed errors that name what to check and never the token.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "columnar/record_converter.h"
#include "hl7v2_gcp_corpus.h"
#include "lakeflow/error.h"
#include "lakeflow/http/client.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/http/transport.h"
#include "lakeflow/instant.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow/testing/temp_dir.h"

namespace lakeflow::hl7v2 {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// The stand-in access token of the simulated store's options.
const std::string& stand_in_token() {
  static const std::string value = test::store_options().get_string("access_token");
  return value;
}

// Routes the HTTP clients made while it lives to `transport`.
class UseTransport {
 public:
  explicit UseTransport(std::shared_ptr<http::Transport> transport) {
    http::set_process_transport(std::move(transport));
  }
  ~UseTransport() { http::set_process_transport(nullptr); }
  UseTransport(const UseTransport&) = delete;
  UseTransport& operator=(const UseTransport&) = delete;
};

struct Read {
  std::vector<JsonValue> records;
  std::vector<Offset> ends;
  Offset final;
  int calls = 0;
};

// Reads `table` from `start` until the offset stops changing; every record converts to the schema
// and no call returns more than the batch limit.
Read read_all(LakeflowConnect& connector, const std::string& table, Offset start = {},
              const Options& options = {}) {
  Read out;
  RecordConverter converter(connector.get_table_schema(table, options), table);
  const auto limit = options.find("max_records_per_batch");
  for (int call = 0; call < 10000; ++call) {
    ReadResult result = connector.read_table(table, start, options);
    ++out.calls;
    RecordBatch batch;
    std::size_t in_call = 0;
    while (result.records.next(batch)) {
      ColumnBatch columns = converter.make_batch();
      converter.convert(batch, columns);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        out.records.push_back(JsonValue::parse(batch[i]));
      }
      in_call += batch.size();
    }
    if (limit) {
      EXPECT_LE(in_call, std::stoul(std::string(*limit))) << table;
    }
    if (result.end == start) break;
    out.ends.push_back(result.end);
    start = result.end;
  }
  out.final = start;
  return out;
}

std::vector<std::string> strings(const std::vector<JsonValue>& records, std::string_view key) {
  std::vector<std::string> out;
  for (const JsonValue& record : records) {
    const JsonValue* value = record.find(key);
    out.push_back(value == nullptr     ? "<null>"
                  : value->is_string() ? value->as_string()
                                       : value->dump());
  }
  return out;
}

std::unique_ptr<LakeflowConnect> connect(Options options = test::store_options()) {
  return ConnectorRegistry::instance().create("hl7v2", options);
}

// The calls the simulated store answered.
std::int64_t store_calls(const http::SimulatedSource& store) {
  std::int64_t calls = 0;
  const JsonValue report = store.coverage_report();
  for (const JsonValue& endpoint : report.find("endpoints")->as_array()) {
    calls += endpoint.find("calls")->as_int();
  }
  return calls;
}

TEST(Hl7v2Gcp, ReadsTheStoreIntoTheSameRowsAsFiles) {
  const std::vector<test::StoreMessage> messages = test::sample_store_messages();
  UseTransport store(test::simulated_store(messages));
  auto connector = connect();
  const Read read = read_all(*connector, "messages");
  EXPECT_EQ(strings(read.records, "message_control_id"),
            (std::vector<std::string>{
                "MSG00001", "01052901", "CNTRL-3456", "HLA-B27", "GEN-R01-0002", "GEN-A08-0001",
                "GEN-V04-0003", "GEN-P03-0004", "GEN-S12-0005", "GEN-T02-0006", "GEN-A40-0007",
                "EDGE-1", "EDGE-2", "EDGE-3", "EDGE-4", "EDGE-5"}));
  // In send-time order (msg-0006 was sent before msg-0005); source_file is the message's ID in the
  // store, message_position its offset in the data.
  EXPECT_EQ(strings(read.records, "source_file")[0], "msg-0001");
  EXPECT_EQ(strings(read.records, "message_position")[0], "0");
  EXPECT_EQ(strings(read.records, "message_timestamp")[1], "2006-05-29T09:01:31-05:00");

  // Every segment row is the row the same message gives from a file, but for where it came from.
  files::TempDir dir("lakeflow_hl7v2_gcp_files");
  for (const test::StoreMessage& message : messages) {
    if (!message.base64) continue;
    std::ofstream(dir.path() / (message.id + ".hl7"), std::ios::binary) << message.text;
  }
  auto files = ConnectorRegistry::instance().create(
      "hl7v2", Options{{"path", dir.path().string()}, {"segments", "ZPD"}});
  auto store_z = connect(test::store_options().merged_with(Options{{"segments", "ZPD"}}));
  for (const char* table : {"msh", "pid", "obx", "nte", "zpd"}) {
    // In send-time order from the store, in file-name order from files: compare by message.
    const auto by_message = [](std::vector<JsonValue> rows) {
      std::stable_sort(rows.begin(), rows.end(), [](const JsonValue& a, const JsonValue& b) {
        return a.find("source_file")->as_string() < b.find("source_file")->as_string();
      });
      return rows;
    };
    std::vector<JsonValue> from_store = by_message(read_all(*store_z, table).records);
    std::vector<JsonValue> from_files = by_message(read_all(*files, table).records);
    ASSERT_EQ(from_store.size(), from_files.size()) << table;
    ASSERT_FALSE(from_store.empty()) << table;
    for (std::size_t i = 0; i < from_store.size(); ++i) {
      EXPECT_EQ(from_store[i].find("source_file")->as_string() + ".hl7",
                from_files[i].find("source_file")->as_string());
      for (JsonValue* record : {&from_store[i], &from_files[i]}) {
        record->as_object().erase("source_file");
      }
      EXPECT_EQ(from_store[i].dump(), from_files[i].dump()) << table << " row " << i;
    }
  }
}

TEST(Hl7v2Gcp, MalformedMessagesAreSetAsideWithTheirReason) {
  UseTransport store(test::simulated_store(test::sample_store_messages()));
  auto connector = connect();
  const Read malformed = read_all(*connector, "malformed_messages");
  const std::vector<std::string> reasons = strings(malformed.records, "reason");
  ASSERT_EQ(reasons.size(), 4u);
  EXPECT_THAT(reasons[0], HasSubstr("outside any message"));
  EXPECT_THAT(reasons[1], HasSubstr("MSH-2"));
  EXPECT_THAT(reasons[2], HasSubstr("MSH-10"));
  EXPECT_THAT(reasons[3], HasSubstr("not base64"));
  EXPECT_EQ(strings(malformed.records, "raw_message")[3], "MSH|^~\\&|not base64 at all");
  EXPECT_EQ(strings(malformed.records, "source_file")[3], "msg-0020");
  // The other tables read past them.
  EXPECT_EQ(read_all(*connector, "messages").records.size(), 16u);
}

TEST(Hl7v2Gcp, PagesByPageTokenAcrossSeveralPages) {
  auto store = test::simulated_store(test::sample_store_messages());
  UseTransport use(store);
  auto connector = connect();
  const Read whole = read_all(*connector, "messages");
  const std::int64_t calls_whole = store_calls(*store);
  const Read paged = read_all(*connector, "messages", {}, Options{{"page_size", "2"}});
  EXPECT_EQ(paged.records, whole.records);
  EXPECT_EQ(paged.final, whole.final);
  // 20 messages, 2 a page: 10 pages in the first call; the call that finds nothing new reads the
  // boundary send time again (1 page).
  EXPECT_EQ(paged.calls, 2);
  EXPECT_EQ(store_calls(*store) - calls_whole, 11);
  const JsonValue report = store->coverage_report();
  EXPECT_THAT(report.dump(), HasSubstr("pageToken"));
}

TEST(Hl7v2Gcp, AnyBatchLimitAndPageSizeDeliverEveryRecordOnce) {
  UseTransport store(test::simulated_store(test::sample_store_messages()));
  auto connector = connect(test::store_options().merged_with(Options{{"segments", "ZPD"}}));
  for (const char* table : {"messages", "obx", "pid", "zpd", "malformed_messages"}) {
    const Read whole = read_all(*connector, table);
    ASSERT_FALSE(whole.records.empty()) << table;
    for (const int limit : {1, 2, 3, 5}) {
      for (const int page : {1, 2, 7}) {
        const Read small = read_all(*connector, table, {},
                                    Options{{"max_records_per_batch", std::to_string(limit)},
                                            {"page_size", std::to_string(page)}});
        EXPECT_EQ(small.records, whole.records) << table << " limit " << limit << " page " << page;
        EXPECT_EQ(small.final, whole.final) << table << " limit " << limit << " page " << page;
      }
    }
  }
}

TEST(Hl7v2Gcp, ABatchLimitCanEndInsideAMessageAndResumesThere) {
  UseTransport store(test::simulated_store(test::sample_store_messages()));
  auto connector = connect();
  const Read small = read_all(*connector, "obx", {}, Options{{"max_records_per_batch", "1"}});
  bool inside = false;
  for (const Offset& end : small.ends) {
    if (const JsonValue* partial = end.find("partial")) {
      inside = true;
      EXPECT_GT(partial->find("segment")->as_int(), 0) << end.to_json();
    }
  }
  EXPECT_TRUE(inside);
  EXPECT_EQ(small.final.find("partial"), nullptr);
  // The offset names message IDs and send times, never the token.
  for (const Offset& end : small.ends) EXPECT_THAT(end.to_json(), Not(HasSubstr(stand_in_token())));
}

TEST(Hl7v2Gcp, MessagesAddedBetweenReadsAreReadOnceEvenAtTheBoundarySendTime) {
  std::vector<test::StoreMessage> messages = test::sample_store_messages();
  Offset after_first;
  {
    UseTransport store(test::simulated_store(messages));
    const Read first = read_all(*connect(), "messages");
    ASSERT_EQ(first.records.size(), 16u);
    after_first = first.final;
  }
  const std::string boundary = after_first.find("cursor")->as_string();
  EXPECT_EQ(boundary, messages.back().send_time);
  // New messages reach the store: one sent at the boundary instant (it arrived while the first
  // read ran), one later, one earlier than the boundary (past the contract: not read).
  const auto adt = [](const std::string& id) {
    return "MSH|^~\\&|LIVE|FAC|||20240301120000+0000||ADT^A01^ADT_A01|" + id + "|P|2.5.1\rPID|1||" +
           id + "^^^FAC^MR||LIVE^PATIENT\r";
  };
  messages.push_back({"new-at-boundary", adt("LIVE-1"), boundary, true});
  messages.push_back({"new-later", adt("LIVE-2"), "2024-03-02T09:00:00Z", true});
  messages.push_back({"new-too-late", adt("LIVE-0"), "2024-02-01T00:00:00Z", true});
  UseTransport store(test::simulated_store(messages));
  auto connector = connect();
  const Read next = read_all(*connector, "messages", after_first);
  EXPECT_EQ(strings(next.records, "message_control_id"),
            (std::vector<std::string>{"LIVE-1", "LIVE-2"}));
  const Read pid = read_all(*connector, "pid", after_first);
  EXPECT_EQ(strings(pid.records, "message_control_id"),
            (std::vector<std::string>{"LIVE-1", "LIVE-2"}));
  // Read again from where that ended: nothing new, the offset stays.
  const Read again = read_all(*connector, "messages", next.final);
  EXPECT_TRUE(again.records.empty());
  EXPECT_EQ(again.final, next.final);
  EXPECT_EQ(again.calls, 1);
}

TEST(Hl7v2Gcp, MessagesSentWithinTheArrivalDelayWaitForTheNextRun) {
  std::vector<test::StoreMessage> messages = test::sample_store_messages();
  const auto now_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  messages.push_back({"recent", "MSH|^~\\&|A|F|||20240301||ADT^A01|RECENT-1|P|2.5\rPID|1||R-1\r",
                      format_instant(now_micros - 60'000'000, 0), true});
  // The simulator adds copies of the last message sent 1 and 2 hours from now: never read.
  UseTransport store(test::simulated_store(messages));
  const Read waiting = read_all(*connect(), "messages");
  EXPECT_EQ(waiting.records.size(), 16u);
  const Read sooner =
      read_all(*connect(test::store_options().merged_with(Options{{"max_arrival_delay", "0s"}})),
               "messages", waiting.final);
  EXPECT_EQ(strings(sooner.records, "message_control_id"), std::vector<std::string>{"RECENT-1"});
}

TEST(Hl7v2Gcp, TheOptionFilterNarrowsTheListing) {
  auto store = test::simulated_store(test::sample_store_messages());
  UseTransport use(store);
  auto connector =
      connect(test::store_options().merged_with(Options{{"filter", "messageType = \"ORU\""}}));
  EXPECT_EQ(strings(read_all(*connector, "messages").records, "message_control_id"),
            (std::vector<std::string>{"CNTRL-3456", "GEN-R01-0002", "EDGE-2"}));
  auto bad = connect(test::store_options().merged_with(Options{{"filter", "color = \"red\""}}));
  try {
    read_all(*bad, "messages");
    FAIL() << "a filter the store refuses was accepted";
  } catch (const http::HttpError& error) {
    EXPECT_EQ(error.status(), 400);
    EXPECT_THAT(error.what(), HasSubstr("check the option 'filter'"));
  }
}

// A store that answers every list request with `status` and Google's error body.
std::shared_ptr<http::SimulatedSource> refusing_store(int status, std::string_view google_status,
                                                      std::string_view message) {
  const std::string spec = fmt::format(R"(
endpoints:
  - path: "/v1/projects/{{project}}/locations/{{location}}/datasets/{{dataset}}/hl7V2Stores/{{store}}/messages"
    corpus: messages
    inject:
      - {{on_calls: [1, 2, 3, 4, 5, 6], status: {},
         body: {{error: {{code: {}, message: "{}", status: {}}}}}}}
)",
                                       status, status, message, google_status);
  return std::make_shared<http::SimulatedSource>(
      http::EndpointSpec::parse(spec, "refusing store"),
      std::map<std::string, JsonValue, std::less<>>{{"messages", JsonValue(JsonValue::Array{})}});
}

TEST(Hl7v2Gcp, AnEmptyStoreAnswersWithoutListsOrTokensAndConverges) {
  // Google leaves hl7V2Messages and nextPageToken out of an empty answer.
  UseTransport store(std::make_shared<http::SimulatedSource>(
      http::EndpointSpec::parse(R"(
endpoints:
  - path: "/v1/projects/{project}/locations/{location}/datasets/{dataset}/hl7V2Stores/{store}/messages"
    corpus: messages
    response: {single_entity: true}
)",
                                "empty store"),
      std::map<std::string, JsonValue, std::less<>>{{"messages", JsonValue(JsonValue::Object{})}}));
  auto connector = connect();
  const Read read = read_all(*connector, "messages");
  EXPECT_TRUE(read.records.empty());
  EXPECT_EQ(read.final, Offset());
  EXPECT_EQ(read.calls, 1);
}

TEST(Hl7v2Gcp, RefusalsAreTypedErrorsThatSayWhatToCheckAndNeverShowTheToken) {
  struct Case {
    int status;
    std::string_view google_status;
    std::string_view hint;
    ErrorCode code;
  };
  for (const Case& c :
       {Case{401, "UNAUTHENTICATED", "give a fresh 'access_token'", ErrorCode::kAccess},
        Case{403, "PERMISSION_DENIED", "healthcare.hl7V2Messages.list", ErrorCode::kAccess},
        Case{404, "NOT_FOUND", "check project_id, location, dataset_id", ErrorCode::kSource}}) {
    UseTransport store(refusing_store(c.status, c.google_status, "the store said no"));
    auto connector = connect();
    try {
      connector->read_table("messages", Offset(), Options{});
      ADD_FAILURE() << c.status << " was not an error";
    } catch (const http::HttpError& error) {
      EXPECT_EQ(error.status(), c.status);
      EXPECT_EQ(error.code(), c.code) << c.status;
      EXPECT_THAT(error.what(), HasSubstr(c.hint));
      EXPECT_THAT(error.what(), HasSubstr("the store said no"));
      EXPECT_THAT(error.what(), Not(HasSubstr(stand_in_token())));
      EXPECT_THAT(error.url(), Not(HasSubstr(stand_in_token())));
    }
  }
}

// Forwards to the simulated store and keeps the token requests it sees.
class TokenRequestLog : public http::Transport {
 public:
  explicit TokenRequestLog(std::shared_ptr<http::Transport> inner) : inner_(std::move(inner)) {}
  std::optional<http::WireResponse> exchange(const http::Request& wire,
                                             const http::Redactor& redactor,
                                             const http::LiveExchange& live) override {
    if (wire.method == http::Method::kPost) bodies.push_back(wire.body);
    return inner_->exchange(wire, redactor, live);
  }
  std::vector<std::string> bodies;

 private:
  std::shared_ptr<http::Transport> inner_;
};

std::string rsa_private_key_pem() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

TEST(Hl7v2Gcp, AServiceAccountKeyIsExchangedForTheStoresToken) {
  const std::string pem = rsa_private_key_pem();
  const std::string key_json =
      JsonValue(JsonValue::Object{
                    {"type", JsonValue("service_account")},
                    {"project_id", JsonValue("sim-project")},
                    {"private_key_id", JsonValue("key-1")},
                    {"private_key", JsonValue(pem)},
                    {"client_email", JsonValue("reader@sim-project.iam.gserviceaccount.com")},
                    {"token_uri", JsonValue("https://oauth2.googleapis.com/token")}})
          .dump();
  Options options = test::store_options();
  options.erase("access_token");
  options.set("service_account_json", key_json);
  auto log =
      std::make_shared<TokenRequestLog>(test::simulated_store(test::sample_store_messages()));
  UseTransport store(log);
  auto connector = connect(options);
  EXPECT_EQ(read_all(*connector, "messages").records.size(), 16u);
  EXPECT_EQ(read_all(*connector, "pid").records.size(), 13u);
  // One token for every read of the connector: it is cached until shortly before it expires.
  ASSERT_EQ(log->bodies.size(), 1u);
  const std::string& body = log->bodies[0];
  EXPECT_THAT(body, HasSubstr("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"));
  const std::size_t at = body.find("assertion=");
  ASSERT_NE(at, std::string::npos);
  const std::string jwt = http::percent_decode(body.substr(at + 10), true);
  const std::size_t dot = jwt.find('.');
  const JsonValue claims = JsonValue::parse(
      *http::base64url_decode(jwt.substr(dot + 1, jwt.find('.', dot + 1) - dot - 1)));
  EXPECT_EQ(claims.find("iss")->as_string(), "reader@sim-project.iam.gserviceaccount.com");
  EXPECT_EQ(claims.find("aud")->as_string(), "https://oauth2.googleapis.com/token");
  EXPECT_EQ(claims.find("scope")->as_string(), "https://www.googleapis.com/auth/cloud-platform");
  EXPECT_EQ(claims.find("exp")->as_int() - claims.find("iat")->as_int(), 3600);
  // The key file's base64 (as some connection forms deliver files) is read as the file.
  Options encoded = options;
  encoded.set("service_account_json", http::base64_encode(key_json));
  EXPECT_EQ(read_all(*connect(encoded), "messages").records.size(), 16u);
  EXPECT_EQ(log->bodies.size(), 2u);
  // The key never shows in an error.
  Options bad = options;
  bad.set("service_account_json", key_json.substr(0, key_json.size() - 1));
  try {
    connect(bad);
    ADD_FAILURE() << "a truncated key was accepted";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.what(), HasSubstr("is not a service account key"));
    EXPECT_THAT(error.what(), Not(HasSubstr("PRIVATE KEY")));
  }
}

TEST(Hl7v2Gcp, BadOptionsAndOffsetsAreConfigErrors) {
  const auto fails = [](const Options& options, std::string_view expected) {
    try {
      connect(options);
      ADD_FAILURE() << "accepted: " << expected;
    } catch (const ConfigError& error) {
      EXPECT_THAT(error.what(), HasSubstr(expected));
      EXPECT_THAT(error.what(), Not(HasSubstr(stand_in_token())));
    }
  };
  Options without_store = test::store_options();
  without_store.erase("hl7v2_store_id");
  fails(without_store, "option 'hl7v2_store_id' is required with source_type gcp");
  Options without_token = test::store_options();
  without_token.erase("access_token");
  fails(without_token, "option 'access_token' is required");
  fails(test::store_options().merged_with(Options{{"path", "/tmp"}}),
        "option 'path' does not apply to source_type 'gcp'");
  fails(Options{{"path", "/tmp"}, {"project_id", "p"}},
        "option 'project_id' does not apply to source_type 'volume'");
  fails(test::store_options().merged_with(Options{{"dataset_id", "a/b"}}), "give the ID alone");
  fails(test::store_options().merged_with(Options{{"service_account_json", "{}"}}),
        "options 'access_token' and 'service_account_json' are both set");
  Options with_bad_key = test::store_options();
  with_bad_key.erase("access_token");
  fails(with_bad_key.merged_with(Options{{"service_account_json", "{}"}}),
        "the service account key has no \"type\"");
  fails(test::store_options().merged_with(Options{{"max_arrival_delay", "soon"}}),
        "max_arrival_delay");
  fails(Options{{"source_type", "s3"}}, "give 'files' (or upstream's 'volume')");

  UseTransport store(test::simulated_store(test::sample_store_messages()));
  auto connector = connect();
  for (const char* offset :
       {R"({"file": "a", "position": 0})", R"({"cursor": "yesterday", "ids": []})",
        R"({"cursor": "2024-03-01T08:00:00Z", "ids": [], "partial": {"id": "x"}})"}) {
    EXPECT_THROW(connector->read_table("messages", Offset::parse(offset), Options{}), ConfigError)
        << offset;
  }
  EXPECT_THROW(connector->read_table("messages", Offset(), Options{{"page_size", "1001"}}),
               ConfigError);
}

}  // namespace
}  // namespace lakeflow::hl7v2
