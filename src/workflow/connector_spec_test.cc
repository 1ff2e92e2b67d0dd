#include "workflow/connector_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lakeflow/error.h"

namespace lakeflow::workflow {
namespace {

using ::testing::HasSubstr;

constexpr const char* kMultiAuth = R"(display_name: Shop
connection:
  parameters:
    - name: base_url
      type: string
      required: true
  auth_methods:
    - name: api_key
      parameters:
        - {name: api_key, type: string, required: true, secret: true}
    - name: oauth
      parameters:
        - {name: client_id, type: string, required: true}
        - {name: client_secret, type: string, required: true}
        - {name: scope, type: string, required: false}
external_options_allowlist: "page_size, since"
)";

std::string error_of(const ConnectorSpec& spec, const std::map<std::string, std::string>& options) {
  try {
    validate_connection_options(spec, "shop", options);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConnectorSpec, ReadsSharedParametersAuthMethodsAndTheAllowlist) {
  const ConnectorSpec spec = ConnectorSpec::parse(kMultiAuth, "shop.yaml");
  EXPECT_EQ(spec.display_name, "Shop");
  EXPECT_THAT(spec.parameter_names(),
              ::testing::ElementsAre("base_url", "api_key", "client_id", "client_secret", "scope"));
  EXPECT_TRUE(spec.find("api_key")->secret);
  EXPECT_TRUE(spec.find("client_secret")->secret) << "secret by its name";
  EXPECT_FALSE(spec.find("client_id")->secret);
  EXPECT_THAT(spec.allowed_external_options(),
              ::testing::ElementsAre("page_size", "since", "tableName", "tableNameList",
                                     "tableConfigs", "isDeleteFlow"));
}

TEST(ConnectorSpec, DetectsTheCompleteAuthMethodSharingMostParameters) {
  const ConnectorSpec spec = ConnectorSpec::parse(kMultiAuth, "shop.yaml");
  EXPECT_EQ(validate_connection_options(spec, "shop", {{"base_url", "u"}, {"api_key", "${env:K}"}}),
            "api_key");
  EXPECT_EQ(validate_connection_options(
                spec, "shop", {{"base_url", "u"}, {"client_id", "i"}, {"client_secret", "s"}}),
            "oauth");
  EXPECT_THAT(error_of(spec, {{"base_url", "u"}, {"client_id", "i"}}),
              HasSubstr("no authentication method of connector 'shop' is complete: give every "
                        "required parameter of one of api_key (missing api_key); oauth (missing "
                        "client_secret)"));
}

TEST(ConnectorSpec, NamesTheParameterOfEachMistake) {
  const ConnectorSpec spec = ConnectorSpec::parse(kMultiAuth, "shop.yaml");
  EXPECT_THAT(error_of(spec, {{"api_key", "k"}}),
              HasSubstr("missing required parameter 'base_url' of connector 'shop'"));
  EXPECT_THAT(error_of(spec, {{"base_url", ""}, {"api_key", "k"}}),
              HasSubstr("missing required parameter 'base_url'"));
  EXPECT_THAT(error_of(spec, {{"base_url", "u"}, {"api_key", "k"}, {"apikey", "k"}}),
              HasSubstr("unknown parameter 'apikey' for connector 'shop'; its parameters are "
                        "base_url, api_key, client_id, client_secret, scope"));
  EXPECT_THAT(error_of(spec, {{"base_url", "u"},
                              {"api_key", "k"},
                              {"externalOptionsAllowList", "page_size,tableName,limit"}}),
              HasSubstr("parameter 'externalOptionsAllowList': 'limit' is not a table option"));
  EXPECT_EQ(error_of(spec, {{"base_url", "u"},
                            {"api_key", "k"},
                            {"externalOptionsAllowList", "page_size, isDeleteFlow"}}),
            "");
}

TEST(ConnectorSpec, MalformedSpecIsAConfigErrorNamingTheFile) {
  EXPECT_THROW(ConnectorSpec::parse("connection: [1]", "x.yaml"), ConfigError);
  try {
    ConnectorSpec::parse("connection:\n  parameters:\n    - type: string\n", "x.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("x.yaml:3: each of connection.parameters needs a 'name'"));
  }
}

}  // namespace
}  // namespace lakeflow::workflow
