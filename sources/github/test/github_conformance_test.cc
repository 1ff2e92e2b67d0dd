// The conformance suite. By default it runs in simulate mode against test/simulator/ (GitHub's
// REST API as documented, with a corpus), so it needs no token. LAKEFLOW_TEST_MODE=live runs it
// against api.github.com with the options of configs/dev_config.json (git-ignored) or
// $LAKEFLOW_TEST_CONFIG_JSON; =record also writes test/cassettes/, which =replay runs from.
#include <memory>

#include "github_write_back.h"
#include "lakeflow/testing/conformance.h"

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "github",
    .source_dir = LAKEFLOW_SOURCE_DIR,
    .allowed_empty_tables = {{"releases", "many repositories publish no release"}},
    .write_back =
        [](const lakeflow::Options& options) -> std::unique_ptr<lakeflow::testing::WriteBackUtils> {
      return std::make_unique<lakeflow::github::GithubWriteBack>(options);
    },
    .default_mode = "simulate",
    // Stand-in credentials: the simulator and a replay accept any token.
    .stand_in_options = {{"owner", "octocat"},
                         {"repo", "hello-world"},
                         {"token", "ghp_stand-in-token-0000"},
                         {"base_url", "https://api.github.com"}},
    // commits asks `until` the connector's start time, which no recording can know.
    .ignore_query_params = {"until"}});
