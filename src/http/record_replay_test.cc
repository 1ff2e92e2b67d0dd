// Record and replay (lakeflow/http/test_mode.h): a real loopback source is recorded through the
// ordinary client, the cassette is checked for secrets, and replay serves the same answers with
// the source gone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "http/loopback_server_test_util.h"
#include "lakeflow/files.h"
#include "lakeflow/http/client.h"
#include "lakeflow/http/test_mode.h"
#include "lakeflow/options.h"
#include "lakeflow/testing/temp_dir.h"

namespace lakeflow::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kToken = "ghp_live-token-0123456789abcdef";
constexpr std::string_view kApiKey = "key-9f8e7d6c5b4a";
constexpr std::string_view kSecretOption = "webhook-secret-5555";

ClientContext quiet_context(std::shared_ptr<Transport> transport) {
  ClientContext context;
  context.redactor = std::make_shared<Redactor>();
  context.log_sink = [](LogLevel, std::string_view) {};
  context.transport = std::move(transport);
  return context;
}

// A source that echoes secrets back in every place a careless recorder would keep them.
void serve_leaky_source(httplib::Server& server) {
  server.Get("/items", [](const httplib::Request& request, httplib::Response& response) {
    const std::string page = request.has_param("page") ? request.get_param_value("page") : "1";
    response.set_header("Set-Cookie", "session=" + std::string(kToken));
    response.set_header("X-Echo-Authorization", request.get_header_value("Authorization"));
    response.set_content(
        fmt::format(R"({{"page": {}, "items": [{{"id": {}}}], "access_token": "{}", )"
                    R"("note": "the hook secret is {}", "auth": "{}"}})",
                    page, page, kToken, kSecretOption, request.get_header_value("Authorization")),
        "application/json");
  });
  server.Post("/token", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(fmt::format(R"({{"access_token": "{}", "expires_in": 3600}})", kToken),
                         "application/json");
  });
}

Options live_options(const test_util::Loopback& server) {
  return Options{{"base_url", server.url("")},
                 {"auth.type", "bearer"},
                 {"auth.token", std::string(kToken)},
                 {"hook_secret", std::string(kSecretOption)}};
}

TEST(RecordReplay, NoSecretReachesTheCassette) {
  test_util::Loopback server;
  serve_leaky_source(*server);
  auto recorder = std::make_shared<RecordingTransport>(
      RecordingTransport::Settings{.source = "leaky", .live_origin = "", .stand_in_origin = ""});
  auto client =
      HttpClient::from_options(live_options(server), {"hook_secret"}, quiet_context(recorder));
  const Response first = client->get(server.url("/items?page=1"));
  EXPECT_THAT(first.body, HasSubstr(std::string(kToken)));  // the live run sees the real data
  client->get(server.url(fmt::format("/items?page=2&api_key={}", kApiKey)));
  Request post;
  post.method = Method::kPost;
  post.url = server.url("/token");
  post.body = fmt::format("grant_type=client_credentials&client_secret={}", kSecretOption);
  post.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  client->send(post);

  files::TempDir dir("cassette");
  const std::string path = (dir.path() / "Leaky.json").string();
  recorder->save(path);
  const std::string text = files::read_file(path);
  EXPECT_THAT(text, Not(HasSubstr(std::string(kToken))));
  EXPECT_THAT(text, Not(HasSubstr(std::string(kApiKey))));
  EXPECT_THAT(text, Not(HasSubstr(std::string(kSecretOption))));
  EXPECT_THAT(text, HasSubstr("\"version\": 1"));
  EXPECT_THAT(text, HasSubstr("\"interactions\""));
  const Cassette cassette = Cassette::load(path);
  ASSERT_EQ(cassette.interactions.size(), 3U);
  EXPECT_EQ(cassette.interactions[0].request.url, server.url("/items"));
  EXPECT_EQ(cassette.interactions[2].request.method, "POST");
  EXPECT_TRUE(cassette.interactions[2].request.body_sha256.has_value());
}

TEST(RecordReplay, ReplayServesRecordedAnswersWithoutTheSource) {
  files::TempDir dir("cassette");
  const std::string path = (dir.path() / "Items.json").string();
  std::string base;
  {
    test_util::Loopback server;
    serve_leaky_source(*server);
    base = server.url("");
    auto recorder = std::make_shared<RecordingTransport>(RecordingTransport::Settings{
        .source = "items", .live_origin = server.url(""), .stand_in_origin = "https://items.test"});
    auto client =
        HttpClient::from_options(live_options(server), {"hook_secret"}, quiet_context(recorder));
    client->get(server.url("/items?page=1"));
    client->get(server.url("/items?page=2"));
    recorder->save(path);
  }  // the source is gone
  auto replay = std::make_shared<ReplayTransport>(
      Cassette::load(path), std::set<std::string, std::less<>>{}, "Items.json");
  Options stand_in{{"base_url", "https://items.test"},
                   {"auth.type", "bearer"},
                   {"auth.token", "stand-in-token"}};
  auto client = HttpClient::from_options(stand_in, {}, quiet_context(replay));
  const Response page2 = client->get("https://items.test/items?page=2");
  EXPECT_EQ(page2.status, 200);
  EXPECT_THAT(page2.body, HasSubstr(R"("page": 2)"));
  EXPECT_THAT(page2.body, Not(HasSubstr(base)));
  EXPECT_EQ(replay->served(), 1U);
}

TEST(RecordReplay, UnmatchedRequestNamesTheNearestRecordedOne) {
  Cassette cassette;
  cassette.source = "items";
  for (const std::string page : {"1", "2"}) {
    Interaction interaction;
    interaction.request = RecordedRequest{.method = "GET",
                                          .url = "https://items.test/items",
                                          .query = {{"page", page}, {"per_page", "50"}},
                                          .body_sha256 = std::nullopt,
                                          .headers = {},
                                          .body_text = std::nullopt};
    interaction.response.status_code = 200;
    interaction.response.body = "[]";
    cassette.interactions.push_back(interaction);
  }
  auto replay = std::make_shared<ReplayTransport>(cassette, std::set<std::string, std::less<>>{},
                                                  "Items.json");
  auto client = HttpClient::from_options(Options{{"base_url", "https://items.test"}}, {},
                                         quiet_context(replay));
  try {
    client->get("https://items.test/items?page=3&per_page=50");
    FAIL() << "an unmatched request was served";
  } catch (const ReplayMismatchError& error) {
    const std::string message = error.what();
    EXPECT_THAT(message, HasSubstr("GET https://items.test/items?page=3&per_page=50"));
    EXPECT_THAT(message, HasSubstr("nearest recorded: GET https://items.test/items?page="));
    EXPECT_THAT(message, HasSubstr("query parameter 'page' is '3'"));
  }
}

TEST(RecordReplay, IgnoredQueryParametersAndRepeatsReplayInOrder) {
  Cassette cassette;
  for (const std::string body : {"first", "second"}) {
    Interaction interaction;
    interaction.request.method = "GET";
    interaction.request.url = "https://items.test/items";
    interaction.request.query = {{"until", body == "first" ? "2024-01-01" : "2024-01-02"}};
    interaction.response.status_code = 200;
    interaction.response.body = body;
    cassette.interactions.push_back(interaction);
  }
  auto replay =
      std::make_shared<ReplayTransport>(cassette, std::set<std::string, std::less<>>{"until"});
  auto client = HttpClient::from_options(Options{{"base_url", "https://items.test"}}, {},
                                         quiet_context(replay));
  EXPECT_EQ(client->get("https://items.test/items?until=2030-01-01").body, "first");
  EXPECT_EQ(client->get("https://items.test/items?until=2031-01-01").body, "second");
  EXPECT_EQ(client->get("https://items.test/items").body, "first");  // round-robin
}

TEST(RecordReplay, CassetteRoundTripsRepeatedParametersAndBinaryBodies) {
  Cassette cassette;
  cassette.source = "bin";
  Interaction interaction;
  interaction.request.method = "GET";
  interaction.request.url = "https://bin.test/blob";
  interaction.request.query = {{"id", "1"}, {"id", "2"}};
  interaction.response.status_code = 200;
  interaction.response.body = std::string("\xff\x00\x01", 3);
  interaction.response.headers = {{"content-type", "application/octet-stream"}};
  cassette.interactions.push_back(interaction);
  files::TempDir dir("cassette");
  const std::string path = (dir.path() / "sub" / "Bin.json").string();
  cassette.save(path);
  const Cassette loaded = Cassette::load(path);
  ASSERT_EQ(loaded.interactions.size(), 1U);
  EXPECT_EQ(loaded.interactions[0].request.query, interaction.request.query);
  EXPECT_EQ(loaded.interactions[0].response.body, interaction.response.body);
  EXPECT_EQ(loaded.source, "bin");
}

TEST(RecordReplay, ModeComesFromEitherVariable) {
  unsetenv("LAKEFLOW_TEST_MODE");
  setenv("CONNECTOR_TEST_MODE", "replay", 1);
  EXPECT_EQ(test_mode_from_environment(), TestMode::kReplay);
  setenv("LAKEFLOW_TEST_MODE", "simulate", 1);
  EXPECT_EQ(test_mode_from_environment(), TestMode::kSimulate);
  setenv("LAKEFLOW_TEST_MODE", "offline", 1);
  EXPECT_THROW(test_mode_from_environment(), ConfigError);
  unsetenv("LAKEFLOW_TEST_MODE");
  unsetenv("CONNECTOR_TEST_MODE");
  EXPECT_EQ(test_mode_from_environment(TestMode::kSimulate), TestMode::kSimulate);
}

}  // namespace
}  // namespace lakeflow::http
