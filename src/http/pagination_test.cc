#include "lakeflow/http/pagination.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lakeflow/error.h"
#include "lakeflow/http/url.h"

namespace lakeflow::http {
namespace {

using ::testing::HasSubstr;

Response page(std::string body, Headers headers = {}) {
  Response response;
  response.status = 200;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

constexpr std::string_view kBundle = R"({
  "resourceType": "Bundle",
  "link": [{"relation": "self", "url": "https://fhir/Patient?_count=2"},
           {"relation": "next", "url": "https://fhir/Patient?_count=2&_page_token=abc"}],
  "entry": [{"resource": {"id": "1"}}, {"resource": {"id": "2"}}],
  "meta": {"cursor": 42, "empty": "", "none": null}
})";

TEST(JsonPath, ParsesMembersIndexesAndMatches) {
  const JsonPath path("link[relation=next].url");
  ASSERT_EQ(path.steps().size(), 3u);
  EXPECT_EQ(path.steps()[0].kind, JsonPath::Step::Kind::kMember);
  EXPECT_EQ(path.steps()[1].kind, JsonPath::Step::Kind::kMatch);
  EXPECT_EQ(path.steps()[1].name, "relation");
  EXPECT_EQ(path.steps()[1].value, "next");
  EXPECT_EQ(JsonPath("entry[1].resource.id").steps()[1].index, 1u);
}

TEST(JsonPath, RejectsMalformedPaths) {
  for (const char* bad : {"", ".a", "a.", "a..b", "a[", "a[x]", "a[=v]"}) {
    EXPECT_THROW(JsonPath{bad}, ConfigError) << bad;
  }
}

TEST(Json, FindsStringsNumbersAndArraySizes) {
  EXPECT_EQ(json_string_at(kBundle, JsonPath("link[relation=next].url")),
            "https://fhir/Patient?_count=2&_page_token=abc");
  EXPECT_EQ(json_string_at(kBundle, JsonPath("entry[1].resource.id")), "2");
  EXPECT_EQ(json_string_at(kBundle, JsonPath("meta.cursor")), "42");
  EXPECT_EQ(json_string_at(kBundle, JsonPath("meta.empty")), std::nullopt);
  EXPECT_EQ(json_string_at(kBundle, JsonPath("meta.none")), std::nullopt);
  EXPECT_EQ(json_string_at(kBundle, JsonPath("link[relation=prev].url")), std::nullopt);
  EXPECT_EQ(json_string_at(kBundle, JsonPath("entry[9].resource")), std::nullopt);
  EXPECT_THROW(json_string_at(kBundle, JsonPath("meta")), SourceError);
  EXPECT_EQ(json_array_size_at(kBundle, JsonPath("entry")), 2u);
  EXPECT_EQ(json_array_size_at(kBundle, JsonPath("missing")), 0u);
  EXPECT_THROW(json_array_size_at(kBundle, JsonPath("meta")), SourceError);
}

TEST(Json, ReportsBodiesThatAreNotJson) {
  EXPECT_EQ(json_problem(kBundle), std::nullopt);
  EXPECT_THAT(json_problem(R"({"entry": [)").value_or(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(json_problem("").value_or(""), HasSubstr("not valid JSON"));
  EXPECT_TRUE(require_json_body()(page("<html/>")).has_value());
  EXPECT_THROW(json_string_at("{oops", JsonPath("a")), SourceError);
}

// A page holding values simdjson cannot represent is still valid JSON: not a failure to retry, and
// its next link is found.
TEST(Json, ValidJsonBeyondSimdjsonIsNotAProblem) {
  const std::string deep = std::string(3000, '[') + std::string(3000, ']');
  const std::string page_text =
      R"({"resourceType":"Bundle","entry":[{"resource":{"v":18446744073709551616,"w":1e309,)"
      R"("s":"\ud800","d":)" +
      deep + R"(}}],"link":[{"relation":"self","url":"s"},{"relation":"next","url":"n?p=2"}]})";
  EXPECT_EQ(json_problem(page_text), std::nullopt);
  EXPECT_EQ(json_string_at(page_text, JsonPath("link[relation=next].url")), "n?p=2");
  EXPECT_EQ(json_string_at(page_text, JsonPath("entry[0].resource.v")), "18446744073709551616");
  EXPECT_EQ(json_array_size_at(page_text, JsonPath("entry")), 1u);
  EXPECT_THAT(json_problem(page_text.substr(0, page_text.size() - 1)).value_or(""),
              HasSubstr("not valid JSON"));
}

TEST(LinkHeader, FindsRelNextAmongOthers) {
  EXPECT_EQ(
      link_header_next(R"(<https://api/x?page=1>; rel="prev", <https://api/x?page=3>; rel="next")",
                       "https://api/x?page=2"),
      "https://api/x?page=3");
  EXPECT_EQ(link_header_next(R"(</items?after=9>; rel=next)", "https://api/items"),
            "https://api/items?after=9");
  EXPECT_EQ(link_header_next(R"(<https://a/b?c=1,2>; title="a, b"; rel="last next")", "https://a"),
            "https://a/b?c=1,2");
  EXPECT_EQ(link_header_next(R"(<https://a/b>; rel="nextish")", "https://a"), std::nullopt);
  EXPECT_EQ(link_header_next("", "https://a"), std::nullopt);
}

TEST(Paginators, NextUrlInBodyResolvesAgainstThePage) {
  const NextUrlInBody next("next");
  EXPECT_EQ(next.next_url("https://api/v1/items?page=1", page(R"({"next":"?page=2"})")),
            "https://api/v1/items?page=2");
  EXPECT_EQ(next.next_url("https://api/v1/items", page(R"({"next":null})")), std::nullopt);
  const NextUrlInBody fhir("link[relation=next].url");
  EXPECT_EQ(fhir.next_url("https://fhir/Patient", page(std::string(kBundle))),
            "https://fhir/Patient?_count=2&_page_token=abc");
}

TEST(Paginators, LinkHeaderNextReadsAnyLinkHeader) {
  const LinkHeaderNext next;
  EXPECT_EQ(
      next.next_url("https://api/x", page("[]", {{"link", R"(<https://api/x?p=2>; rel="next")"}})),
      "https://api/x?p=2");
  EXPECT_EQ(
      next.next_url("https://api/x", page("[]", {{"Link", R"(<https://api/x>; rel="prev")"}})),
      std::nullopt);
}

TEST(Paginators, CursorParamCarriesTheCursorForward) {
  const CursorParam cursor("meta.next_cursor", "cursor");
  EXPECT_EQ(
      cursor.next_url("https://api/x?limit=5&cursor=a", page(R"({"meta":{"next_cursor":"b c"}})")),
      "https://api/x?limit=5&cursor=b%20c");
  EXPECT_EQ(cursor.next_url("https://api/x", page(R"({"meta":{"next_cursor":""}})")), std::nullopt);
}

TEST(Paginators, OffsetLimitTrustsTheReturnedPageSize) {
  const OffsetLimit paginator({.records_path = "data",
                               .offset_param = "offset",
                               .limit_param = "limit",
                               .limit = 100,
                               .start = 0,
                               .total_path = ""});
  const std::string first = paginator.first_url("https://api/items?q=x");
  EXPECT_EQ(first, "https://api/items?q=x&offset=0&limit=100");
  // The server capped the page at 3 records: the next offset is 3, not 100.
  EXPECT_EQ(paginator.next_url(first, page(R"({"data":[1,2,3]})")),
            "https://api/items?q=x&limit=100&offset=3");
  EXPECT_EQ(paginator.next_url("https://api/items?offset=3", page(R"({"data":[]})")), std::nullopt);
}

TEST(Paginators, OffsetLimitStopsAtTheTotal) {
  const OffsetLimit paginator({.records_path = "data",
                               .offset_param = "skip",
                               .limit_param = "",
                               .limit = 0,
                               .start = 0,
                               .total_path = "total"});
  EXPECT_EQ(paginator.first_url("https://api/items"), "https://api/items?skip=0");
  EXPECT_EQ(paginator.next_url("https://api/items?skip=0", page(R"({"data":[1,2],"total":5})")),
            "https://api/items?skip=2");
  EXPECT_EQ(paginator.next_url("https://api/items?skip=3", page(R"({"data":[1,2],"total":5})")),
            std::nullopt);
  EXPECT_THROW(paginator.next_url("https://api/items?skip=x", page(R"({"data":[1]})")),
               SourceError);
}

TEST(Paginators, PageNumberCountsPagesUntilEmptyOrTheLast) {
  const PageNumber paginator({.records_path = "results",
                              .page_param = "page",
                              .first_page = 1,
                              .size_param = "per_page",
                              .page_size = 50,
                              .page_count_path = "total_pages"});
  EXPECT_EQ(paginator.first_url("https://api/r"), "https://api/r?page=1&per_page=50");
  EXPECT_EQ(paginator.next_url("https://api/r?page=1&per_page=50",
                               page(R"({"results":[1],"total_pages":3})")),
            "https://api/r?per_page=50&page=2");
  EXPECT_EQ(paginator.next_url("https://api/r?page=3", page(R"({"results":[1],"total_pages":3})")),
            std::nullopt);
  EXPECT_EQ(paginator.next_url("https://api/r?page=2", page(R"({"results":[]})")), std::nullopt);
}

// --- Keyset: a (cursor, id) position as query parameters -------------------------------------

Keyset items_keyset() {
  return Keyset({.cursor_field = "updated_at", .cursor_param = "since", .id_param = "since_id"});
}

TEST(Keyset, ThePositionOfARecordBecomesTheNextPagesParameters) {
  const Keyset keyset = items_keyset();
  const KeysetPosition position =
      keyset.position_of(R"({"id":7,"name":"x","updated_at":"2024-03-02T16:20:00Z"})");
  EXPECT_EQ(position.cursor, JsonValue("2024-03-02T16:20:00Z"));
  EXPECT_EQ(position.id, JsonValue(7));
  const std::string next = keyset.after("https://api/items?limit=2&since=old&since_id=1", position);
  EXPECT_TRUE(next.starts_with("https://api/items?limit=2&since=")) << next;
  EXPECT_EQ(query_param(next, "since"), "2024-03-02T16:20:00Z");
  EXPECT_EQ(query_param(next, "since_id"), "7");
  EXPECT_EQ(next.find("old"), std::string::npos) << next;
  // String ids and numeric cursors are sent as their text.
  EXPECT_EQ(keyset.after("https://api/items", {JsonValue(1700000000), JsonValue("a b")}),
            "https://api/items?since=1700000000&since_id=a%20b");
}

TEST(Keyset, ARecordWithoutAScalarCursorOrIdIsASourceError) {
  const Keyset keyset = items_keyset();
  EXPECT_THROW(keyset.position_of(R"({"id":7})"), SourceError);
  EXPECT_THROW(keyset.position_of(R"({"id":{"n":7},"updated_at":"t"})"), SourceError);
  EXPECT_THROW(keyset.position_of(R"({"id":null,"updated_at":"t"})"), SourceError);
  try {
    keyset.position_of(R"({"id":7,"updated_at":[1]})");
    ADD_FAILURE() << "no error";
  } catch (const SourceError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'updated_at'"));
  }
  EXPECT_THROW(Keyset({.cursor_field = "updated_at", .cursor_param = "since"}), ConfigError);
}

// A connector that sends the position its own way (a POST body, a filter expression) needs no
// query parameters: position_of works without them; after and next_url say what they lack.
TEST(Keyset, WithoutQueryParametersPositionOfStillServes) {
  const Keyset keyset({.cursor_field = "updated_at"});
  const KeysetPosition position =
      keyset.position_of(R"({"id":"a-1","updated_at":"2024-03-02T16:20:00Z"})");
  EXPECT_EQ(position.cursor, JsonValue("2024-03-02T16:20:00Z"));
  EXPECT_EQ(position.id, JsonValue("a-1"));
  try {
    keyset.after("https://api/items", position);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("set cursor_param and id_param"));
  }
  EXPECT_THROW(keyset.next_url("https://api/items", page(R"({"data":[]})")), ConfigError);
  // One parameter without the other is a mistake either way round; the fields stay required.
  EXPECT_THROW(Keyset({.cursor_field = "updated_at", .id_param = "since_id"}), ConfigError);
  EXPECT_THROW(Keyset({.cursor_field = "updated_at", .id_field = ""}), ConfigError);
  EXPECT_THROW(Keyset({}), ConfigError);
}

TEST(Keyset, AsAPaginatorAFullPageLeadsAfterItsLastRecordAndAShortPageEnds) {
  const Keyset keyset = items_keyset();
  const std::string full =
      R"({"data":[{"id":3,"updated_at":"t1"},{"id":4,"updated_at":"t2"}],"has_more":true})";
  EXPECT_EQ(keyset.next_url("https://api/items?limit=2", page(full)),
            "https://api/items?limit=2&since=t2&since_id=4");
  EXPECT_EQ(keyset.next_url("https://api/items?limit=3", page(full)), std::nullopt);
  EXPECT_EQ(keyset.next_url("https://api/items?limit=2", page(R"({"data":[]})")), std::nullopt);
  EXPECT_EQ(keyset.next_url("https://api/items?limit=2", page(R"({"data":null})")), std::nullopt);
  // Without a limit parameter, only an empty page ends the read.
  EXPECT_EQ(keyset.next_url("https://api/items", page(full)),
            "https://api/items?since=t2&since_id=4");
  EXPECT_THROW(keyset.next_url("https://api/items", page(R"({"data":{"id":1}})")), SourceError);
  EXPECT_THROW(keyset.next_url("https://api/items", page(R"({"data":[1]})")), SourceError);
}

}  // namespace
}  // namespace lakeflow::http
