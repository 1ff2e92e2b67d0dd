// The simulated source (lakeflow/http/simulator.h), driven through the ordinary HttpClient.
#include "lakeflow/http/simulator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "lakeflow/http/client.h"
#include "lakeflow/http/pagination.h"
#include "lakeflow/options.h"

namespace lakeflow::http {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kSpec = R"(
endpoints:
  - path: "/repos/{owner}/{repo}/issues"
    method: GET
    corpus: issues
    response:
      pagination_style: page_number_with_link_header
      default_sort: "updated_at desc"
    params:
      since:     {role: filter, field: updated_at, op: gte}
      state:     {role: filter, field: state, op: eq}
      sort:      {role: sort_by, options: {updated: updated_at, created: created_at}}
      direction: {role: sort_order, options: [asc, desc]}
      page:      {role: page}
      per_page:  {role: per_page, default: 2, max: 100}
    rate_limit: {limit: 100}
  - path: "/repos/{owner}/{repo}/issues"
    method: POST
    corpus: issues
    write:
      id_fields: [id, number]
      timestamp_fields: [created_at, updated_at]
      defaults: {state: open}
  - path: "/repos/{owner}/{repo}/issues/{number}"
    method: GET
    corpus: issues
    lookup: {number: number}
  - path: "/events"
    corpus: issues
    response:
      pagination_style: cursor
      wrapper: {records_key: data}
      next_cursor_key: meta.next
    params:
      cursor: {role: cursor}
      limit:  {role: limit, default: 2}
  - path: "/stores/{store}/messages"
    corpus: issues
    strict_params: true
    response:
      pagination_style: cursor
      wrapper: {records_key: items}
      next_cursor_key: nextPageToken
    params:
      filter:    {role: filter_expression, options: {updated: updated_at, state: state, id: id}}
      orderBy:   {role: sort_by, options: {updated: updated_at}}
      pageToken: {role: cursor}
      pageSize:  {role: per_page, default: 100, max: 1000}
  - path: "/flaky"
    corpus: issues
    inject:
      - {on_calls: [1], status: 429, headers: {Retry-After: "0"}, body: {message: slow down}}
  - path: "/never"
    corpus: issues
  - path: "/limited"
    corpus: issues
    rate_limit: {limit: 1}
)";

JsonValue corpus() {
  return JsonValue::parse(R"([
    {"id": 1, "number": 1, "state": "open", "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-05T00:00:00Z"},
    {"id": 2, "number": 2, "state": "closed", "created_at": "2024-01-02T00:00:00Z", "updated_at": "2024-01-03T00:00:00Z"},
    {"id": 3, "number": 3, "state": "open", "created_at": "2024-01-03T00:00:00Z", "updated_at": "2024-01-04T00:00:00Z"},
    {"id": 4, "number": 4, "state": "open", "created_at": "2024-01-04T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"},
    {"id": 5, "number": 5, "state": "open", "created_at": "2024-01-05T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z"}
  ])");
}

struct Simulated {
  std::shared_ptr<SimulatedSource> source = std::make_shared<SimulatedSource>(
      EndpointSpec::parse(kSpec, "test spec"),
      std::map<std::string, JsonValue, std::less<>>{{"issues", corpus()}});
  std::shared_ptr<HttpClient> client = [this] {
    ClientContext context;
    context.log_sink = [](LogLevel, std::string_view) {};
    context.transport = source;
    context.redactor = std::make_shared<Redactor>();
    return HttpClient::from_options(
        Options{{"base_url", "https://api.test"}, {"http.adaptive_rate_limit", "false"}}, {},
        context);
  }();
};

std::vector<std::int64_t> ids(const std::string& body, std::string_view key = "") {
  JsonValue parsed = JsonValue::parse(body);
  const JsonValue& list = key.empty() ? parsed : *parsed.find(key);
  std::vector<std::int64_t> out;
  for (const JsonValue& record : list.as_array()) out.push_back(record.find("id")->as_int());
  return out;
}

TEST(Simulator, LinkHeaderPagesWalkTheSortedFilteredCorpus) {
  Simulated sim;
  std::vector<std::int64_t> seen;
  std::string url = "https://api.test/repos/o/r/issues?state=open&sort=updated&direction=asc";
  int pages = 0;
  while (!url.empty()) {
    const Response page = sim.client->get(url);
    for (std::int64_t id : ids(page.body)) seen.push_back(id);
    ++pages;
    const std::string current = url;
    url.clear();
    if (auto link = page.header("link")) {
      if (auto next = link_header_next(*link, current)) url = *next;
    }
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{4, 5, 3, 1}));
  const Response since =
      sim.client->get("https://api.test/repos/o/r/issues?since=2024-01-04T00:00:00Z");
  EXPECT_EQ(ids(since.body), (std::vector<std::int64_t>{1, 3}));  // default sort: updated_at desc
  EXPECT_EQ(since.header("x-ratelimit-limit"), "100");
}

TEST(Simulator, CursorPagesEndWithANullCursor) {
  Simulated sim;
  std::vector<std::int64_t> seen;
  std::string url = "https://api.test/events";
  for (int i = 0; i < 10 && !url.empty(); ++i) {
    const JsonValue body = JsonValue::parse(sim.client->get(url).body);
    for (std::int64_t id : ids(body.dump(), "data")) seen.push_back(id);
    const JsonValue* next = body.find("meta")->find("next");
    url = next->is_null()
              ? ""
              : with_query_param("https://api.test/events", "cursor", next->as_string());
  }
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
}

TEST(Simulator, FilterExpressionsCombineComparisonsAsGoogleApisDo) {
  Simulated sim;
  const auto listed = [&](std::string_view filter) {
    return ids(sim.client
                   ->get(with_query_param("https://api.test/stores/s/messages?orderBy=updated",
                                          "filter", filter))
                   .body,
               "items");
  };
  EXPECT_EQ(listed(R"(updated >= "2024-01-03T00:00:00Z" AND updated < "2024-01-05T00:00:00Z")"),
            (std::vector<std::int64_t>{2, 3}));
  // Instants compare as instants, whatever their offset.
  EXPECT_EQ(listed(R"(updated > "2024-01-03T01:00:00+02:00")"),
            (std::vector<std::int64_t>{2, 3, 1}));
  EXPECT_EQ(listed(R"(state = "open" AND (id = 1 OR id = 5))"), (std::vector<std::int64_t>{5, 1}));
  EXPECT_EQ(listed(R"(NOT state = "open")"), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(listed(R"(state = open AND id >= 4)"), (std::vector<std::int64_t>{4, 5}));
  for (const std::string_view bad :
       {R"(color = "red")", R"(updated >> "x")", R"((state = "open")", R"(state = "open)"}) {
    try {
      listed(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const HttpError& error) {
      EXPECT_EQ(error.status(), 400) << bad;
      EXPECT_THAT(error.body_excerpt(), HasSubstr("invalid filter")) << bad;
    }
  }
}

TEST(Simulator, FilterExpressionParamNeedsItsFieldNames) {
  try {
    EndpointSpec::parse(R"(
endpoints:
  - path: "/m"
    corpus: m
    params:
      filter: {role: filter_expression}
)",
                        "spec");
    FAIL() << "accepted";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.what(), HasSubstr("filter_expression param 'filter' needs 'options'"));
  }
}

TEST(Simulator, InjectedRateLimitIsRetriedByTheClient) {
  Simulated sim;
  const Response response = sim.client->get("https://api.test/flaky");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.attempts, 2);
}

TEST(Simulator, ExhaustedRateLimitIsWaitedOutByTheClient) {
  Simulated sim;
  EXPECT_EQ(sim.client->get("https://api.test/limited").attempts, 1);
  const Response second = sim.client->get("https://api.test/limited");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.attempts, 2);  // 403 with X-RateLimit-Remaining 0 and Retry-After, then 200
}

TEST(Simulator, WritesAreReadBack) {
  Simulated sim;
  Request create;
  create.method = Method::kPost;
  create.url = "https://api.test/repos/o/r/issues";
  create.body = R"({"title": "written"})";
  const Response created = sim.client->send(create);
  EXPECT_EQ(created.status, 201);
  const JsonValue record = JsonValue::parse(created.body);
  EXPECT_EQ(record.find("number")->as_int(), 6);
  EXPECT_EQ(record.find("state")->as_string(), "open");
  const Response one = sim.client->get("https://api.test/repos/o/r/issues/6");
  EXPECT_THAT(one.body, HasSubstr("written"));
  EXPECT_THROW(sim.client->get("https://api.test/repos/o/r/issues/99"), HttpError);
}

TEST(Simulator, UnknownRequestFailsAndCoverageSaysSo) {
  Simulated sim;
  sim.client->get("https://api.test/events");
  try {
    sim.client->get("https://api.test/users/octocat");
    FAIL() << "a request without an endpoint was answered";
  } catch (const SimulatorError& error) {
    EXPECT_THAT(error.what(), HasSubstr("GET /users/octocat"));
  }
  const std::string report = sim.source->coverage_report().dump();
  EXPECT_THAT(report, HasSubstr(R"("not_exercised":["GET /repos/{owner}/{repo}/issues")"));
  EXPECT_THAT(report, HasSubstr(R"("request":"GET https://api.test/users/octocat")"));
  EXPECT_THAT(report, HasSubstr("GET /never"));
}

TEST(Simulator, SpecErrorsNameTheEndpointAndKey) {
  EXPECT_THAT(
      [] { EndpointSpec::parse("endpoints:\n  - path: /a\n    pagnation: x\n", "spec.yaml"); },
      ::testing::ThrowsMessage<ConfigError>(
          HasSubstr("endpoint #0 (/a): unknown key 'pagnation'")));
  EXPECT_THAT(
      [] {
        EndpointSpec::parse("endpoints:\n  - path: /a\n    params:\n      x: {role: sideways}\n",
                            "spec.yaml");
      },
      ::testing::ThrowsMessage<ConfigError>(HasSubstr("role 'sideways'")));
}

TEST(Simulator, DriftNamesFieldsTheCorpusLacks) {
  auto spec = std::make_shared<const EndpointSpec>(EndpointSpec::parse(kSpec, "test spec"));
  DriftTracker drift(spec, "/nonexistent");  // an empty corpus: every live field is new
  drift.observe("GET", "https://api.test/repos/o/r/issues", 200,
                R"([{"id": 1, "labels": [{"name": "x"}]}])");
  const std::string report = drift.report().dump();
  EXPECT_THAT(report, HasSubstr(R"({"field":"labels[].name","type":"string"})"));
  EXPECT_THAT(report, HasSubstr(R"("responses":1)"));
}

}  // namespace
}  // namespace lakeflow::http
