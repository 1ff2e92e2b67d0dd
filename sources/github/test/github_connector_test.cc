// What is specific to the GitHub connector, against the simulated GitHub (test/simulator/): pull
// requests kept out of issues, Link-header pages, rate limits waited out, oldest-first delivery
// of newest-first listings, GitHub App authentication. GithubLive reads the real API when
// GITHUB_TOKEN is set.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lakeflow/connector.h"
#include "lakeflow/http/simulator.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"

namespace lakeflow::github {
namespace {

using ::testing::HasSubstr;

const Options kStandIn{{"owner", "octocat"},
                       {"repo", "hello-world"},
                       {"token", "ghp_stand-in-token-0000"},
                       {"base_url", "https://api.github.com"}};

// A fresh simulated GitHub as the process transport for the test's lifetime.
class Simulated {
 public:
  Simulated()
      : source_(http::SimulatedSource::load(std::string(LAKEFLOW_SOURCE_DIR) + "/test/simulator")) {
    http::set_process_transport(source_);
  }
  ~Simulated() { http::set_process_transport(nullptr); }
  Simulated(const Simulated&) = delete;
  Simulated& operator=(const Simulated&) = delete;
  http::SimulatedSource& source() { return *source_; }

 private:
  std::shared_ptr<http::SimulatedSource> source_;
};

struct Read {
  std::vector<JsonValue> records;
  int calls = 0;
};

Read read_all(LakeflowConnect& connector, std::string_view table,
              const Options& table_options = {}) {
  Read read;
  Offset start;
  for (; read.calls < 100;) {
    ReadResult result = connector.read_table(table, start, table_options);
    ++read.calls;
    RecordBatch batch;
    while (result.records.next(batch)) {
      for (std::size_t i = 0; i < batch.size(); ++i)
        read.records.push_back(JsonValue::parse(batch[i]));
    }
    if (result.end == start) break;
    start = std::move(result.end);
  }
  return read;
}

std::vector<std::string> keys(const Read& read, std::string_view field) {
  std::vector<std::string> out;
  for (const JsonValue& record : read.records) {
    const JsonValue* value = record.find(field);
    out.push_back(value->is_string() ? value->as_string() : value->dump());
  }
  return out;
}

std::unique_ptr<LakeflowConnect> connector(const Options& options = kStandIn) {
  return ConnectorRegistry::instance().create("github", options);
}

TEST(GithubIssues, PullRequestsAreNotIssues) {
  Simulated github;
  const Read read = read_all(*connector(), "issues");
  for (const JsonValue& record : read.records) EXPECT_EQ(record.find("pull_request"), nullptr);
  // Oldest update first, ties by id; issues 3 and 6 are pull requests; the corpus's two records
  // dated after the connector started are left for the next run.
  EXPECT_EQ(keys(read, "number"), (std::vector<std::string>{"1", "2", "4", "5", "7", "8"}));
}

TEST(GithubIssues, SmallPagesFollowTheLinkHeaderAndBatchesResumeInsideTies) {
  Simulated github;
  const Read read =
      read_all(*connector(), "issues", Options{{"page_size", "2"}, {"max_records_per_batch", "1"}});
  EXPECT_EQ(keys(read, "number"), (std::vector<std::string>{"1", "2", "4", "5", "7", "8"}));
  EXPECT_GE(read.calls, 7);
  const std::string coverage = github.source().coverage_report().dump();
  EXPECT_THAT(coverage, HasSubstr("direction,page,per_page,since,sort,state"));
}

TEST(GithubIssues, SecondaryRateLimitIsWaitedOut) {
  Simulated github;  // the issues listing answers its second call with 403 and Retry-After
  auto github_connector = connector();
  EXPECT_EQ(read_all(*github_connector, "issues").records.size(), 6U);
  EXPECT_EQ(read_all(*github_connector, "issues").records.size(), 6U);
}

TEST(GithubPullRequestsAndCommits, NewestFirstListingsAreDeliveredOldestFirst) {
  Simulated github;
  auto github_connector = connector();
  const Read pulls =
      read_all(*github_connector, "pull_requests", Options{{"max_records_per_batch", "2"}});
  EXPECT_EQ(keys(pulls, "number"), (std::vector<std::string>{"3", "6", "9", "10"}));
  const Read commits =
      read_all(*github_connector, "commits", Options{{"max_records_per_batch", "1"}});
  ASSERT_EQ(commits.records.size(), 6U);
  EXPECT_EQ(commits.records.front().find("commit")->find("message")->as_string(), "Initial commit");
  EXPECT_EQ(commits.records.back().find("commit")->find("message")->as_string(), "Document GHES");
}

TEST(GithubSnapshots, ReadInOneCall) {
  Simulated github;
  auto github_connector = connector();
  for (const auto& [table, count] : std::vector<std::pair<std::string, std::size_t>>{
           {"repositories", 3}, {"releases", 2}, {"contributors", 3}}) {
    const Read read = read_all(*github_connector, table);
    EXPECT_EQ(read.records.size(), count) << table;
    EXPECT_EQ(read.calls, 1) << table;
  }
}

std::string rsa_private_key_pem() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

TEST(GithubAuth, AppInstallationTokenIsFetchedWithASignedJwt) {
  Simulated github;
  Options options{{"owner", "octocat"},
                  {"repo", "hello-world"},
                  {"app_id", "123456"},
                  {"installation_id", "789"},
                  {"app_private_key", rsa_private_key_pem()},
                  {"base_url", "https://api.github.com"}};
  EXPECT_EQ(read_all(*connector(options), "releases").records.size(), 2U);
  EXPECT_THAT(
      github.source().coverage_report().dump(),
      HasSubstr(
          R"("calls":1,"method":"POST","path":"/app/installations/{installation_id}/access_tokens")"));
}

TEST(GithubAuth, WithoutCredentialsTheConnectorSaysWhatToGive) {
  EXPECT_THAT(
      [] {
        connector(Options{{"owner", "octocat"}, {"repo", "hello-world"}});
      },
      ::testing::ThrowsMessage<ConfigError>(HasSubstr("give either 'token'")));
}

// The real API, when a token is configured.
TEST(GithubLive, ReadsAPublicRepository) {
  const char* token = std::getenv("GITHUB_TOKEN");
  if (token == nullptr || *token == '\0') {
    GTEST_SKIP() << "GITHUB_TOKEN is not set: the live test reads octocat/Hello-World from "
                    "api.github.com with it (the simulate-mode tests cover the rest)";
  }
  auto live = connector(Options{{"owner", "octocat"}, {"repo", "Hello-World"}, {"token", token}});
  const Read repositories = read_all(*live, "repositories");
  EXPECT_FALSE(repositories.records.empty());
  const Read issues = read_all(*live, "issues", Options{{"max_records_per_batch", "50"}});
  for (const JsonValue& record : issues.records) EXPECT_EQ(record.find("pull_request"), nullptr);
}

}  // namespace
}  // namespace lakeflow::github
