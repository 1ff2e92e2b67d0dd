#include "lakeflow/connector_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kSpec = R"(display_name: Demo
connection:
  parameters:
    - name: base_url
      type: string
      required: true
      description: The base.
    - name: api_key
      type: string
      required: false
      secret: true
  auth_methods:
    - name: oauth
      parameters:
        - name: client_id
          type: string
          required: true
        - name: client_secret
          type: string
          required: true
          secret: true
external_options_allowlist: " page_size, max_records_per_batch,,page_size"
)";

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ConnectorSpec, ReadsParametersOfEveryAuthMethodAndTheAllowList) {
  const ConnectorSpec spec = ConnectorSpec::parse("demo", kSpec, "demo/connector_spec.yaml");
  std::vector<std::string> names;
  for (const auto& p : spec.parameters()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"base_url", "api_key", "client_id", "client_secret"}));
  EXPECT_TRUE(spec.parameters()[0].required);
  EXPECT_EQ(spec.secret_names(), (std::vector<std::string>{"api_key", "client_secret"}));
  EXPECT_TRUE(spec.is_secret("client_secret"));
  EXPECT_FALSE(spec.is_secret("client_id"));
  EXPECT_EQ(spec.table_options(), (std::vector<std::string>{"page_size", "max_records_per_batch"}));
}

TEST(ConnectorSpec, KeepsTheSpecAsWrittenForToolsThatCreateConnections) {
  const ConnectorSpec spec = ConnectorSpec::parse("demo", kSpec, "demo/connector_spec.yaml");
  EXPECT_EQ(spec.display_name(), "Demo");
  ASSERT_EQ(spec.shared_parameters().size(), 2u);
  EXPECT_EQ(spec.shared_parameters()[0].name, "base_url");
  EXPECT_EQ(spec.shared_parameters()[0].description, "The base.");
  ASSERT_EQ(spec.auth_methods().size(), 1u);
  EXPECT_EQ(spec.auth_methods()[0].name, "oauth");
  ASSERT_EQ(spec.auth_methods()[0].parameters.size(), 2u);
  EXPECT_TRUE(spec.auth_methods()[0].parameters[1].required);
  EXPECT_EQ(spec.find("client_id"), &spec.parameters()[2]);
  EXPECT_EQ(spec.find("nope"), nullptr);
  // A spec written in code: its parameters are the shared ones.
  const ConnectorSpec coded("coded", {{"host", true, false}}, {});
  ASSERT_EQ(coded.shared_parameters().size(), 1u);
  EXPECT_TRUE(coded.auth_methods().empty());
}

TEST(ConnectorSpec, UnknownOptionsNameTheConnectorTheOptionAndTheAcceptedOnes) {
  const ConnectorSpec spec = ConnectorSpec::parse("demo", kSpec, "demo/connector_spec.yaml");
  EXPECT_EQ(config_error([&] {
              spec.checked_connection_options({{"base_url", "x"}, {"apikey", "k"}});
            }),
            "demo: unknown connection option 'apikey'; the connection options are base_url, "
            "api_key, client_id and client_secret (connector_spec.yaml of the connector)");
  EXPECT_EQ(config_error([&] {
              spec.checked_table_options("t", {{"colour", "red"}});
            }),
            "demo: unknown table option 'colour' for table 't'; the table options are page_size "
            "and max_records_per_batch (external_options_allowlist of the connector's "
            "connector_spec.yaml)");
}

TEST(ConnectorSpec, ARequiredParameterAbsentOrEmptyIsAMissingOptionErrorNamingItAndTheConnector) {
  const ConnectorSpec spec = ConnectorSpec::parse("demo", kSpec, "demo/connector_spec.yaml");
  for (const Options& options : {Options{{"api_key", "k"}}, Options{{"base_url", ""}}}) {
    try {
      spec.checked_connection_options(options);
      ADD_FAILURE() << "no error";
    } catch (const MissingOptionError& e) {
      EXPECT_EQ(e.connector(), "demo");
      EXPECT_EQ(e.option(), "base_url");
      EXPECT_EQ(e.code(), ErrorCode::kConfig);
      EXPECT_EQ(std::string(e.what()),
                "demo: missing required connection option 'base_url' (The base.); give it in the "
                "connection's options (connections file: `lakeflow connection create`) or as "
                "--option base_url=VALUE");
    }
  }
  // Required parameters of an auth method are the connector's to check: which method applies is
  // its decision.
  EXPECT_EQ(spec.checked_connection_options({{"base_url", "x"}}), (Options{{"base_url", "x"}}));
  // A spec written in code: the same rule, without a description.
  const ConnectorSpec coded("coded", {{"host", true, false}}, {});
  EXPECT_EQ(config_error([&] { coded.checked_connection_options({}); }),
            "coded: missing required connection option 'host'; give it in the connection's "
            "options (connections file: `lakeflow connection create`) or as --option host=VALUE");
}

TEST(ConnectorSpec, TheOptionsSparkAddsAreAcceptedAndDropped) {
  const ConnectorSpec spec = ConnectorSpec::parse("demo", kSpec, "demo/connector_spec.yaml");
  const Options spark{{"base_url", "x"},
                      {"tableName", "t"},
                      {"tableNameList", "[\"t\"]"},
                      {"tableConfigs", "{}"},
                      {"isDeleteFlow", "true"},
                      {"databricks.connection", "conn"},
                      {"externalOptionsAllowList", "page_size"}};
  EXPECT_EQ(spec.checked_connection_options(spark), (Options{{"base_url", "x"}}));
  const Options table{{"tableName", "t"}, {"isDeleteFlow", "true"}, {"page_size", "5"}};
  EXPECT_EQ(spec.checked_table_options("t", table), (Options{{"page_size", "5"}}));
}

TEST(ConnectorSpec, BadFilesAreConfigErrorsNamingTheFile) {
  for (const char* text :
       {"[1, 2]", "connection: [1]", "connection:\n  parameters:\n    - type: x\n",
        "connection:\n  parameters:\n    - {name: a, secret: maybe}\n",
        "connection:\n  auth_methods:\n    - parameters: []\n",
        "external_options_allowlist: [a, b]\n", "{unclosed"}) {
    EXPECT_THAT(
        config_error([&] { ConnectorSpec::parse("demo", text, "demo/connector_spec.yaml"); }),
        HasSubstr("demo/connector_spec.yaml"))
        << text;
  }
  // An empty spec takes no options.
  const ConnectorSpec empty = ConnectorSpec::parse("demo", "display_name: Demo\n", "f");
  EXPECT_TRUE(empty.parameters().empty());
  EXPECT_TRUE(empty.table_options().empty());
}

}  // namespace
}  // namespace lakeflow

namespace lakeflow {
namespace {

TEST(ConnectorSpec, AcceptingAnyOptionPassesEveryOptionButSparks) {
  const ConnectorSpec spec = ConnectorSpec::accepting_any_option("python:m:C");
  const Options checked = spec.checked_connection_options({{"anything", "1"}, {"tableName", "t"}});
  EXPECT_EQ(checked, (Options{{"anything", "1"}}));
  EXPECT_EQ(spec.checked_table_options("t", {{"page_size", "3"}, {"isDeleteFlow", "true"}}),
            (Options{{"page_size", "3"}}));
  EXPECT_TRUE(spec.parameters().empty());
}

}  // namespace
}  // namespace lakeflow
