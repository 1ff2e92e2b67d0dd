// Unit tests of the Example source (store and API) and of what is specific to its connector:
// pagination, ties in cursor values, the construction-time cap, auth and error mapping. The generic
// protocol checks are the conformance suite's (example_conformance_test.cc).
#include "example_api.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/record_converter.h"
#include "example_server.h"
#include "lakeflow/connector.h"
#include "lakeflow/error.h"
#include "lakeflow/http/client.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"

namespace lakeflow::example {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

const Options kCredentials{{"username", "demo"}, {"password", "s3cr3t-value"}};

// Users in (updated_at, id) order: 3/4/5, 1/7/8 and 10/11 share their updated_at.
const std::vector<std::int64_t> kUsersInCursorOrder = {2, 3, 4, 5, 6, 1, 7, 8, 9, 10, 11, 12};

std::unique_ptr<LakeflowConnect> make_connector(const Options& options = kCredentials) {
  return ConnectorRegistry::instance().create("example", options);
}

JsonValue parse(std::string_view json) { return JsonValue::parse(json, "test JSON"); }

std::int64_t id_of(std::string_view record) { return parse(record).find("id")->as_int(); }

std::string error_code(const ApiResponse& response) {
  return parse(response.body).find("error")->find("code")->as_string();
}

std::string error_message(const ApiResponse& response) {
  return parse(response.body).find("error")->find("message")->as_string();
}

std::vector<std::int64_t> ids_of(const JsonValue& page) {
  std::vector<std::int64_t> ids;
  for (const JsonValue& row : page.find("data")->as_array())
    ids.push_back(row.find("id")->as_int());
  return ids;
}

struct Read {
  std::vector<std::string> records;
  std::size_t batches = 0;
  Offset end;
};

Read drain(ReadResult result) {
  Read read;
  RecordBatch batch;
  while (result.records.next(batch)) {
    ++read.batches;
    for (std::size_t i = 0; i < batch.size(); ++i) read.records.emplace_back(batch[i]);
  }
  read.end = std::move(result.end);
  return read;
}

Read read_once(LakeflowConnect& connector, std::string_view table, const Offset& start,
               const Options& table_options = {}) {
  return drain(connector.read_table(table, start, table_options));
}

// Follows the protocol from {} until the offset repeats; returns every call's read.
std::vector<Read> read_all(LakeflowConnect& connector, std::string_view table,
                           const Options& table_options, Offset start = Offset()) {
  std::vector<Read> calls;
  for (int i = 0; i < 200; ++i) {
    calls.push_back(read_once(connector, table, start, table_options));
    if (calls.back().end == start) return calls;
    start = calls.back().end;
  }
  ADD_FAILURE() << "read of " << table << " did not converge";
  return calls;
}

class ExampleApiTest : public ::testing::Test {
 protected:
  void SetUp() override { ExampleApi::reset_store(); }
  ExampleApi api_{kCredentials};
};

// ----- Timestamps -------------------------------------------------------------------------------

TEST(ExampleTimestamps, FormatIsFixedWidthUtcWithMicroseconds) {
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_timestamp(1'709'396'400'000'001), "2024-03-02T16:20:00.000001Z");
}

TEST(ExampleTimestamps, ParseHonoursOffsetsAndFractions) {
  EXPECT_EQ(parse_timestamp("2024-03-02T16:20:00.000001Z"), 1'709'396'400'000'001);
  EXPECT_EQ(parse_timestamp("2024-03-02T17:20:00+01:00"), parse_timestamp("2024-03-02T16:20:00Z"));
  EXPECT_EQ(parse_timestamp("2024-02-03T21:40:12.345+05:30"),
            parse_timestamp("2024-02-03T16:10:12.345000Z"));
  EXPECT_EQ(parse_timestamp("2024-03-02T16:20:00.123456789Z"),
            parse_timestamp("2024-03-02T16:20:00.123456Z"));
}

TEST(ExampleTimestamps, ParseRejectsMalformedText) {
  for (const std::string_view bad :
       {"", "yesterday", "2024-02-30T00:00:00Z", "2024-01-15 12:00:00Z", "2024-01-15T12:00:00",
        "2024-01-15T24:00:00Z", "2024-01-15T12:00:00.Z", "2024-01-15T12:00:00+0100",
        "2024-01-15T12:00:00Zjunk"}) {
    EXPECT_FALSE(parse_timestamp(bad).has_value()) << bad;
  }
}

// ----- The API ----------------------------------------------------------------------------------

TEST_F(ExampleApiTest, ListingPagesFollowNextCursorInCursorThenIdOrder) {
  std::vector<std::int64_t> ids;
  std::vector<std::size_t> page_sizes;
  Query query{{"limit", "5"}};
  for (int page = 0; page < 10; ++page) {
    const ApiResponse response = api_.get("/v1/users", query);
    ASSERT_EQ(response.status, 200) << response.body;
    const JsonValue body = parse(response.body);
    const std::vector<std::int64_t> page_ids = ids_of(body);
    ids.insert(ids.end(), page_ids.begin(), page_ids.end());
    page_sizes.push_back(page_ids.size());
    EXPECT_EQ(body.find("has_more")->as_bool(), !body.find("next_cursor")->is_null());
    if (body.find("next_cursor")->is_null()) break;
    query = {{"limit", "5"}, {"cursor", body.find("next_cursor")->as_string()}};
  }
  EXPECT_THAT(ids, ElementsAreArray(kUsersInCursorOrder));
  EXPECT_THAT(page_sizes, ElementsAre(5, 5, 2));
}

TEST_F(ExampleApiTest, AfterIdResumesInsideATieAndAfterAloneSkipsIt) {
  const std::string tie = "2024-02-01T12:00:00.000000Z";  // users 3, 4, 5
  ApiResponse response = api_.get("/v1/users", {{"after", tie}, {"after_id", "3"}, {"limit", "3"}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_THAT(ids_of(parse(response.body)), ElementsAre(4, 5, 6));

  response = api_.get("/v1/users", {{"after", tie}, {"limit", "1"}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_THAT(ids_of(parse(response.body)), ElementsAre(6));
}

TEST_F(ExampleApiTest, UntilCapsTheListingAcrossPages) {
  Query query{{"until", "2024-02-01T12:00:00.000000Z"}, {"limit", "3"}};
  ApiResponse response = api_.get("/v1/users", query);
  ASSERT_EQ(response.status, 200) << response.body;
  JsonValue body = parse(response.body);
  EXPECT_THAT(ids_of(body), ElementsAre(2, 3, 4));
  response = api_.get("/v1/users", {{"cursor", body.find("next_cursor")->as_string()}});
  body = parse(response.body);
  EXPECT_THAT(ids_of(body), ElementsAre(5));  // the cap travels inside the cursor
  EXPECT_TRUE(body.find("next_cursor")->is_null());
}

TEST_F(ExampleApiTest, BadParametersAre400WithAJsonErrorBody) {
  const std::vector<Query> bad_queries = {
      {{"sort", "desc"}},
      {{"limit", "0"}},
      {{"limit", "501"}},
      {{"limit", "ten"}},
      {{"after", "yesterday"}},
      {{"until", "2024-01-01"}},
      {{"after_id", "3"}},
      {{"after", "2024-01-01T00:00:00Z"}, {"after_id", "three"}},
      {{"cursor", "not-a-cursor!"}},
      {{"cursor", "djF8MXwy"}},  // base64url of "v1|1|2": too few parts
  };
  for (const Query& query : bad_queries) {
    const ApiResponse response = api_.get("/v1/users", query);
    EXPECT_EQ(response.status, 400) << query.begin()->first << "=" << query.begin()->second;
    EXPECT_EQ(error_code(response), "invalid_parameter");
  }
  const std::string next_cursor =
      parse(api_.get("/v1/users", {{"limit", "1"}}).body).find("next_cursor")->as_string();
  const ApiResponse mixed =
      api_.get("/v1/users", {{"cursor", next_cursor}, {"after", "2024-01-01T00:00:00Z"}});
  EXPECT_EQ(mixed.status, 400);
  EXPECT_THAT(error_message(mixed), HasSubstr("cannot be combined"));
  EXPECT_THAT(error_message(api_.get("/v1/users", {{"sort", "desc"}})),
              HasSubstr("unknown query parameter 'sort'"));
}

TEST_F(ExampleApiTest, WrongPathsAndMethodsAre404And405) {
  EXPECT_EQ(api_.get("/v1/customers").status, 404);
  EXPECT_EQ(api_.get("/v2/users").status, 404);
  EXPECT_EQ(api_.get("/v1/users/").status, 404);
  EXPECT_EQ(api_.get("/v1/users/999").status, 404);
  EXPECT_EQ(api_.get("/v1/users/abc").status, 404);
  EXPECT_EQ(api_.request("PUT", "/v1/users", {}, "{}").status, 405);
  EXPECT_EQ(api_.patch("/v1/events/1", R"({"type":"x"})").status, 405);
  EXPECT_EQ(api_.del("/v1/users/1").status, 405);
  EXPECT_EQ(api_.post("/v1/time", "{}").status, 405);
  EXPECT_EQ(api_.post("/v1/orders/deleted", "{}").status, 405);
  const ApiResponse response = api_.request("PUT", "/v1/users", {}, "{}");
  EXPECT_EQ(error_code(response), "method_not_allowed");
  EXPECT_THAT(error_message(response), HasSubstr("allowed: GET, POST"));
}

TEST_F(ExampleApiTest, WritesWithBadBodiesAreRejected) {
  EXPECT_EQ(error_code(api_.post("/v1/users", "{not json")), "invalid_json");
  EXPECT_EQ(api_.post("/v1/users", "[]").status, 422);
  EXPECT_EQ(api_.post("/v1/users", R"({"full_name":"No Email"})").status, 422);
  EXPECT_EQ(api_.post("/v1/users", R"({"id":99,"email":"x@example.com"})").status, 422);
  EXPECT_EQ(api_.post("/v1/orders", R"({"user_id":999,"line_items":[]})").status, 422);
  EXPECT_EQ(api_.post("/v1/orders", R"({"user_id":1,"line_items":[{"quantity":1,)"
                                    R"("unit_price":12.49}]})")
                .status,
            422);
  EXPECT_EQ(api_.post("/v1/events", R"({"type":"x","occurred_at":"noon"})").status, 422);
  EXPECT_EQ(api_.patch("/v1/orders/1", R"({"total":"0.01"})").status, 422);
}

TEST_F(ExampleApiTest, ProductsPaginateByPageNumber) {
  std::vector<std::int64_t> ids;
  std::vector<std::string> next_pages;
  for (int page = 1; page <= 3; ++page) {
    const ApiResponse response =
        api_.get("/v1/products", {{"page", std::to_string(page)}, {"per_page", "3"}});
    ASSERT_EQ(response.status, 200) << response.body;
    const JsonValue body = parse(response.body);
    EXPECT_EQ(body.find("total")->as_int(), 8);
    const std::vector<std::int64_t> page_ids = ids_of(body);
    ids.insert(ids.end(), page_ids.begin(), page_ids.end());
    next_pages.push_back(body.find("next_page")->dump());
  }
  EXPECT_THAT(ids, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
  EXPECT_THAT(next_pages, ElementsAre("2", "3", "null"));
  const JsonValue past_end = parse(api_.get("/v1/products", {{"page", "9"}}).body);
  EXPECT_TRUE(ids_of(past_end).empty());
  EXPECT_TRUE(past_end.find("next_page")->is_null());
  EXPECT_EQ(api_.get("/v1/products", {{"page", "0"}}).status, 400);
  EXPECT_EQ(api_.get("/v1/products", {{"limit", "3"}}).status, 400);
}

TEST_F(ExampleApiTest, WritesStampStrictlyIncreasingTimesFromTheStoreClock) {
  const std::string before = parse(api_.get("/v1/time").body).find("now")->as_string();
  std::vector<std::string> stamps;
  for (int i = 0; i < 20; ++i) {
    const ApiResponse response =
        api_.post("/v1/users", fmt::format(R"({{"email":"burst{}@example.com"}})", i));
    ASSERT_EQ(response.status, 201) << response.body;
    const JsonValue user = parse(response.body);
    EXPECT_EQ(user.find("id")->as_int(), 13 + i);
    EXPECT_EQ(user.find("created_at")->as_string(), user.find("updated_at")->as_string());
    stamps.push_back(user.find("updated_at")->as_string());
  }
  const std::string after = parse(api_.get("/v1/time").body).find("now")->as_string();
  EXPECT_LT(before, stamps.front());
  for (std::size_t i = 1; i < stamps.size(); ++i) EXPECT_LT(stamps[i - 1], stamps[i]);
  EXPECT_LT(stamps.back(), after);
}

TEST_F(ExampleApiTest, PatchMergesFieldsAndRestampsTheCursor) {
  const ApiResponse response =
      api_.patch("/v1/orders/5", R"({"status":"shipped","line_items":[)"
                                 R"({"quantity":3,"unit_price":"0.10"}]})");
  ASSERT_EQ(response.status, 200) << response.body;
  const JsonValue order = parse(response.body);
  EXPECT_EQ(order.find("status")->as_string(), "shipped");
  EXPECT_EQ(order.find("total")->as_string(), "0.30");
  EXPECT_EQ(order.find("created_at")->as_string(), "2024-03-05T18:00:00.000000Z");
  EXPECT_GT(order.find("updated_at")->as_string(), "2025");
  EXPECT_EQ(ids_of(parse(api_.get("/v1/orders").body)).back(), 5);  // now the latest change
}

TEST_F(ExampleApiTest, OrderTotalsAreComputedFromLineItems) {
  const JsonValue order = parse(api_.get("/v1/orders/5").body);
  EXPECT_EQ(order.find("total")->as_string(), "142.46");  // 45.00 + 59.99 + 3 × 12.49
}

TEST_F(ExampleApiTest, DeletingAnOrderLeavesATombstone) {
  ASSERT_EQ(api_.del("/v1/orders/3").status, 204);
  EXPECT_EQ(api_.get("/v1/orders/3").status, 404);
  EXPECT_EQ(api_.del("/v1/orders/3").status, 404);
  EXPECT_THAT(ids_of(parse(api_.get("/v1/orders").body)), Not(::testing::Contains(3)));
  const JsonValue deleted = parse(api_.get("/v1/orders/deleted").body);
  EXPECT_THAT(ids_of(deleted), ElementsAre(11, 12, 3));
  const JsonValue& tombstone = deleted.find("data")->as_array().back();
  EXPECT_EQ(tombstone.find("deleted_at")->as_string(), tombstone.find("updated_at")->as_string());
}

TEST_F(ExampleApiTest, ResetRestoresTheSeededData) {
  ASSERT_EQ(api_.post("/v1/users", R"({"email":"new@example.com"})").status, 201);
  ASSERT_EQ(api_.del("/v1/orders/1").status, 204);
  ExampleApi::reset_store();
  EXPECT_THAT(ids_of(parse(api_.get("/v1/users").body)), ElementsAreArray(kUsersInCursorOrder));
  EXPECT_EQ(api_.get("/v1/orders/1").status, 200);
  EXPECT_EQ(ids_of(parse(api_.get("/v1/orders/deleted").body)).size(), 2u);
}

// ----- Auth --------------------------------------------------------------------------------------

TEST(ExampleAuth, MissingCredentialsAreConfigErrorsNamingTheOption) {
  for (const auto& [options, missing] : std::vector<std::pair<Options, std::string>>{
           {Options{{"password", "s3cr3t-value"}}, "'username'"},
           {Options{{"username", "demo"}}, "'password'"},
           {Options{{"username", ""}, {"password", "s3cr3t-value"}}, "'username'"},
       }) {
    try {
      make_connector(options);
      ADD_FAILURE() << "no error for missing " << missing;
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr(missing));
      EXPECT_THAT(e.what(), Not(HasSubstr("s3cr3t-value")));
    }
    EXPECT_THROW(ExampleApi{options}, ConfigError);
  }
}

TEST(ExampleAuth, AnyNonEmptyCredentialsAreAccepted) {
  EXPECT_NO_THROW(make_connector(Options{{"username", "x"}, {"password", "y"}}));
}

// ----- Over HTTP ---------------------------------------------------------------------------------

http::HttpClient plain_client() {
  http::ClientConfig config;
  config.retry.max_attempts = 1;
  return http::HttpClient(config);
}

TEST(ExampleServer, AnswersOnlyRequestsWithANonEmptyUserNameAndPassword) {
  const std::string time_url = ExampleServer::embedded().base_url() + "/v1/time";
  http::HttpClient client = plain_client();
  const auto status_with = [&](http::Headers headers) {
    try {
      return client.get(time_url, std::move(headers)).status;
    } catch (const http::HttpError& e) {
      return e.status();
    }
  };
  EXPECT_EQ(status_with({}), 401);
  EXPECT_EQ(status_with({{"Authorization", "Basic " + http::base64_encode("demo:")}}), 401);
  EXPECT_EQ(status_with({{"Authorization", "Basic " + http::base64_encode(":pw")}}), 401);
  EXPECT_EQ(status_with({{"Authorization", "Bearer demo"}}), 401);
  EXPECT_EQ(status_with({{"Authorization", "basic " + http::base64_encode("demo:pw")}}), 200);
  const http::Response time =
      client.get(time_url, {{"Authorization", "Basic " + http::base64_encode("a:b+/c")}});
  EXPECT_EQ(time.header("content-type"), "application/json");
  EXPECT_TRUE(parse(time.body).find("now")->is_string());
}

TEST(ExampleServer, ServesTheSameStoreAsTheApiInTheProcess) {
  ExampleApi::reset_store();
  ExampleServer server;
  http::HttpClient client = plain_client();
  const http::Headers auth{{"Authorization", "Basic " + http::base64_encode("demo:pw")}};
  http::Request create;
  create.method = http::Method::kPost;
  create.url = server.base_url() + "/v1/users";
  create.headers = auth;
  create.body = R"({"email":"http@example.com"})";
  const std::int64_t id = parse(client.send(create).body).find("id")->as_int();
  const ApiResponse read = ExampleApi(kCredentials).get(fmt::format("/v1/users/{}", id));
  EXPECT_THAT(read.body, HasSubstr("http@example.com"));
  try {
    client.get(server.base_url() + "/v1/users?limit=0", auth);
    ADD_FAILURE() << "no error";
  } catch (const http::HttpError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_THAT(e.body_excerpt(), HasSubstr("invalid_parameter"));
  }
}

TEST(ExampleConnectorOverHttp, ReadsTheSourceAtTheBaseUrlItIsGiven) {
  ExampleApi::reset_store();
  ExampleServer server;  // not the embedded one: the connector goes where base_url says
  Options options = kCredentials;
  options.set("base_url", server.base_url() + "/");
  auto connector = make_connector(options);
  const Read read = read_once(*connector, "users", Offset(), {{"page_size", "5"}});
  EXPECT_EQ(read.records.size(), 12u);
  EXPECT_EQ(read.batches, 3u);  // pages of 5, 5 and 2: the short page ends the listing
}

// ----- The connector ----------------------------------------------------------------------------

class ExampleConnectorTest : public ExampleApiTest {};

TEST_F(ExampleConnectorTest, IsRegisteredWithADescription) {
  const ConnectorInfo* info = ConnectorRegistry::instance().find("example");
  ASSERT_NE(info, nullptr);
  EXPECT_FALSE(info->description.empty());
}

TEST_F(ExampleConnectorTest, EveryMethodRejectsAnUnknownTable) {
  auto connector = make_connector();
  EXPECT_THROW(connector->get_table_schema("customers", {}), UnknownTableError);
  EXPECT_THROW(connector->read_table_metadata("customers", {}), UnknownTableError);
  EXPECT_THROW(connector->read_table("customers", Offset(), {}), UnknownTableError);
  EXPECT_THROW(connector->read_table_deletes("customers", Offset(), {}), UnknownTableError);
  EXPECT_THROW(connector->read_table("Users", Offset(), {}), UnknownTableError);
}

TEST_F(ExampleConnectorTest, MetadataMatchesEachTablesIngestionType) {
  auto connector = make_connector();
  EXPECT_THAT(connector->list_tables(), ElementsAre("users", "orders", "events", "products"));
  const TableMetadata users = connector->read_table_metadata("users", {});
  EXPECT_EQ(users.ingestion_type, IngestionType::kCdc);
  EXPECT_EQ(users.cursor_field, "updated_at");
  EXPECT_EQ(connector->read_table_metadata("orders", {}).ingestion_type,
            IngestionType::kCdcWithDeletes);
  EXPECT_EQ(connector->read_table_metadata("events", {}).ingestion_type, IngestionType::kAppend);
  const TableMetadata products = connector->read_table_metadata("products", {});
  EXPECT_EQ(products.ingestion_type, IngestionType::kSnapshot);
  EXPECT_FALSE(products.cursor_field.has_value());
  for (const std::string& table : connector->list_tables()) {
    EXPECT_NO_THROW(validate_table_metadata(table, connector->read_table_metadata(table, {}),
                                            connector->get_table_schema(table, {})));
  }
}

TEST_F(ExampleConnectorTest, OneRecordPerBatchReadsTiesExactlyOnceInOrder) {
  auto connector = make_connector();
  const std::vector<Read> calls = read_all(*connector, "users", {{"max_records_per_batch", "1"}});
  ASSERT_EQ(calls.size(), kUsersInCursorOrder.size() + 1);
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i + 1 < calls.size(); ++i) {
    ASSERT_EQ(calls[i].records.size(), 1u) << "call " << i;
    ids.push_back(id_of(calls[i].records[0]));
  }
  EXPECT_THAT(ids, ElementsAreArray(kUsersInCursorOrder));
  EXPECT_TRUE(calls.back().records.empty());
  // The batch after user 3 ends inside the tie of 3/4/5: the offset carries the ids read there.
  EXPECT_EQ(calls[1].end.to_json(), R"({"cursor":"2024-02-01T12:00:00.000000Z","ids":["3"]})");
  EXPECT_EQ(calls[2].end.to_json(), R"({"cursor":"2024-02-01T12:00:00.000000Z","ids":["3","4"]})");
}

// Offsets of earlier versions, one (cursor, id) pair, resume at the same place.
TEST_F(ExampleConnectorTest, ASinglePairOffsetResumesAfterThatPair) {
  auto connector = make_connector();
  const Offset legacy(
      JsonValue::Object{{"cursor", "2024-02-01T12:00:00.000000Z"}, {"id", JsonValue(3)}});
  const Offset current = Offset::parse(R"({"cursor":"2024-02-01T12:00:00.000000Z","ids":["3"]})");
  const Read from_legacy = read_once(*connector, "users", legacy);
  const Read from_current = read_once(*connector, "users", current);
  ASSERT_FALSE(from_legacy.records.empty());
  EXPECT_EQ(from_legacy.records, from_current.records);
  EXPECT_EQ(from_legacy.end, from_current.end);
}

TEST_F(ExampleConnectorTest, ABatchSpansPagesWithoutCuttingOne) {
  auto connector = make_connector();
  const Options options{{"max_records_per_batch", "5"}, {"page_size", "2"}};
  const Read first = read_once(*connector, "users", Offset(), options);
  EXPECT_EQ(first.records.size(), 5u);
  EXPECT_EQ(first.batches, 3u);  // pages of 2, 2 and (asked for exactly what was left) 1
  EXPECT_EQ(first.end.to_json(), R"({"cursor":"2024-02-14T07:30:00.250000Z","ids":["6"]})");

  std::vector<std::int64_t> ids;
  for (const Read& call : read_all(*connector, "users", options)) {
    for (const std::string& record : call.records) ids.push_back(id_of(record));
  }
  EXPECT_THAT(ids, ElementsAreArray(kUsersInCursorOrder));
}

TEST_F(ExampleConnectorTest, NothingNewReturnsTheStartOffsetUnchanged) {
  auto connector = make_connector();
  const Read all = read_once(*connector, "users", Offset());
  EXPECT_EQ(all.records.size(), 12u);
  const Read again = read_once(*connector, "users", all.end);
  EXPECT_TRUE(again.records.empty());
  EXPECT_EQ(again.end, all.end);
}

TEST_F(ExampleConnectorTest, ReadsAreCappedAtConstructionTime) {
  auto before = make_connector();
  const Offset end = read_once(*before, "users", Offset()).end;
  ASSERT_EQ(api_.post("/v1/users", R"({"email":"late@example.com"})").status, 201);
  ASSERT_EQ(api_.patch("/v1/users/2", R"({"login_count":8})").status, 200);

  const Read stale = read_once(*before, "users", end);
  EXPECT_TRUE(stale.records.empty());
  EXPECT_EQ(stale.end, end);

  auto after = make_connector();
  std::vector<std::int64_t> ids;
  for (const std::string& record : read_once(*after, "users", end).records) {
    ids.push_back(id_of(record));
  }
  EXPECT_THAT(ids, ElementsAre(13, 2));
}

TEST_F(ExampleConnectorTest, RecordsAreTheSourcesJsonUnconverted) {
  auto connector = make_connector();
  const Read read = read_once(*connector, "users", Offset(), {{"max_records_per_batch", "1"}});
  ASSERT_EQ(read.records.size(), 1u);
  EXPECT_EQ(read.records[0], api_.get("/v1/users/2").body);
  const Read events = read_once(*connector, "events", Offset(), {{"max_records_per_batch", "1"}});
  EXPECT_THAT(events.records[0], HasSubstr(R"("occurred_at":"2024-01-15T11:59:58+01:00")"));
}

TEST_F(ExampleConnectorTest, EventsAreReadInReceiveOrder) {
  auto connector = make_connector();
  std::vector<std::int64_t> ids;
  for (const Read& call : read_all(*connector, "events", {{"max_records_per_batch", "4"}})) {
    for (const std::string& record : call.records) ids.push_back(id_of(record));
  }
  // Event 7 was received late (an offline client), after event 6.
  EXPECT_THAT(
      ids, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21));
}

TEST_F(ExampleConnectorTest, SnapshotReadsEveryPageInOneCallAndKeepsTheOffset) {
  auto connector = make_connector();
  const Read read = read_once(*connector, "products", Offset(), {{"page_size", "3"}});
  EXPECT_EQ(read.records.size(), 8u);
  EXPECT_EQ(read.batches, 3u);
  EXPECT_EQ(read.end, Offset());
  EXPECT_FALSE(read.end.is_null());
}

TEST_F(ExampleConnectorTest, DeletesAreReadFromTombstones) {
  auto connector = make_connector();
  ASSERT_EQ(api_.del("/v1/orders/4").status, 204);
  auto fresh = make_connector();
  const Read read = drain(fresh->read_table_deletes("orders", Offset(), {}));
  std::vector<std::int64_t> ids;
  for (const std::string& record : read.records) {
    ids.push_back(id_of(record));
    EXPECT_THAT(record, HasSubstr(R"("updated_at":)"));
  }
  EXPECT_THAT(ids, ElementsAre(11, 12, 4));
  EXPECT_EQ(read.end.find("cursor")->as_string(),
            parse(read.records.back()).find("deleted_at")->as_string());
  const Read again = drain(fresh->read_table_deletes("orders", read.end, {}));
  EXPECT_TRUE(again.records.empty());
  EXPECT_EQ(again.end, read.end);
  // The first connector was made before the delete: capped, it does not see it.
  EXPECT_EQ(drain(connector->read_table_deletes("orders", Offset(), {})).records.size(), 2u);
  EXPECT_THROW(connector->read_table_deletes("users", Offset(), {}), NotImplementedError);
}

TEST_F(ExampleConnectorTest, ARejectedRequestBecomesASourceError) {
  auto connector = make_connector();
  // An instant without a UTC offset, which the source does not accept.
  const Offset corrupt = Offset::parse(R"({"cursor":"2024-01-01T00:00:00","ids":["1"]})");
  try {
    read_once(*connector, "users", corrupt);
    ADD_FAILURE() << "no error";
  } catch (const SourceError& e) {
    EXPECT_THAT(e.what(), HasSubstr("HTTP 400"));
    EXPECT_THAT(e.what(), HasSubstr("invalid_parameter"));
    EXPECT_THAT(e.what(), HasSubstr("'after'"));
    EXPECT_THAT(e.what(), Not(HasSubstr("s3cr3t-value")));
  }
}

TEST_F(ExampleConnectorTest, AForeignOffsetIsAConfigError) {
  auto connector = make_connector();
  for (const Offset& offset :
       {Offset(JsonValue::Object{{"page", 3}}), Offset(JsonValue::Object{{"cursor", 3}, {"id", 1}}),
        Offset(JsonValue::Object{{"cursor", "2024-01-01T00:00:00Z"}}),
        Offset(JsonValue::Object{{"cursor", "2024-01-01T00:00:00Z"}, {"id", 1}, {"x", 1}}),
        Offset(JsonValue::Object{{"cursor", "yesterday"}, {"id", 1}}),
        Offset::parse(R"({"cursor":"2024-01-01T00:00:00Z","ids":["three"]})")}) {
    EXPECT_THROW(read_once(*connector, "users", offset), ConfigError) << offset.to_json();
  }
}

TEST_F(ExampleConnectorTest, BadTableOptionsAreConfigErrorsNamingTheOption) {
  auto connector = make_connector();
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"max_records_per_batch", "0"},
                                                        {"max_records_per_batch", "lots"},
                                                        {"page_size", "0"},
                                                        {"page_size", "501"}}) {
    try {
      read_once(*connector, "users", Offset(), {{key, value}});
      ADD_FAILURE() << key << "=" << value;
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr(key));
    }
  }
  EXPECT_THROW(read_once(*connector, "products", Offset(), {{"page_size", "0"}}), ConfigError);
}

TEST_F(ExampleConnectorTest, EverySeededRecordConvertsAndEveryColumnHasAValue) {
  auto connector = make_connector();
  for (const std::string& table : connector->list_tables()) {
    const StructType schema = connector->get_table_schema(table, {});
    RecordConverter converter(schema, table);
    ColumnBatch columns = converter.make_batch();
    ReadResult result = connector->read_table(table, Offset(), {});
    RecordBatch batch;
    while (result.records.next(batch)) converter.convert(batch, columns);
    ASSERT_GT(columns.num_rows(), 0u) << table;
    for (std::size_t i = 0; i < columns.num_columns(); ++i) {
      EXPECT_LT(columns.column(i).null_count(), columns.num_rows())
          << table << "." << schema.fields()[i].name << " is null in every record";
    }
  }
}

}  // namespace
}  // namespace lakeflow::example
