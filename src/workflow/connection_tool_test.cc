#include "workflow/connection_tool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>

#include "lakeflow/error.h"
#include "pipeline/connections.h"
#include "support/subprocess.h"

namespace lakeflow::workflow {
namespace {

using test_support::slurp;
using test_support::TempDir;
using ::testing::HasSubstr;

constexpr const char* kSpec = R"(connection:
  parameters:
    - {name: base_url, type: string, required: true}
    - {name: token, type: string, required: true, secret: true}
    - {name: page_delay, type: string}
external_options_allowlist: "page_size"
)";

class ConnectionTool : public ::testing::Test {
 protected:
  CreateConnectionArgs args(const std::string& name, const std::string& options) const {
    CreateConnectionArgs a;
    a.name = name;
    a.connector = "shop";
    a.options_json = options;
    a.connections = dir_.file("conf/connections.yaml");
    a.spec = dir_.write("shop_spec.yaml", kSpec);
    return a;
  }
  CreatedConnection create(const CreateConnectionArgs& a) {
    return create_connection(a, [this](std::string_view name) -> std::optional<std::string> {
      const auto it = env_.find(std::string(name));
      if (it == env_.end()) return std::nullopt;
      return it->second;
    });
  }
  std::string error_of(const CreateConnectionArgs& a) {
    try {
      create(a);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

  TempDir dir_{"lakeflow_connection_tool"};
  std::map<std::string, std::string> env_ = {{"SHOP_TOKEN", "t0ken-secret-value"}};
};

TEST_F(ConnectionTool, WritesANewFileOwnerOnlyWithTheSecretAsAReference) {
  const CreatedConnection created =
      create(args("shop", R"({"base_url": "https://s.example", "token": "${env:SHOP_TOKEN}"})"));
  EXPECT_FALSE(created.replaced);
  EXPECT_TRUE(created.notes.empty());
  const std::string file = dir_.file("conf/connections.yaml");
  EXPECT_EQ(slurp(file),
            "shop:\n  connector: \"shop\"\n  options:\n    base_url: \"https://s.example\"\n"
            "    token: \"${env:SHOP_TOKEN}\"\n");
  struct stat info {};
  ASSERT_EQ(stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  // It reads back as a connections file, the reference resolved.
  const pipeline::Connections parsed = pipeline::parse_connections(
      slurp(file), file, [](std::string_view) { return std::optional<std::string>("v"); });
  EXPECT_EQ(parsed.get("shop").options.find("token"), "v");
}

TEST_F(ConnectionTool, ReplacesAnEntryAndKeepsEverythingElseAsWritten) {
  const std::string original =
      "# mine\nfirst:\n  connector: x\n  options: {a: 1}\n\n# the shop\nshop:\n  connector: old\n"
      "\n# last one\nlast:\n  connector: y\n";
  dir_.write("conf/connections.yaml", original);
  const CreatedConnection created =
      create(args("shop", R"({"base_url": "u", "token": "${file:~/token}"})"));
  EXPECT_TRUE(created.replaced);
  EXPECT_EQ(slurp(dir_.file("conf/connections.yaml")),
            "# mine\nfirst:\n  connector: x\n  options: {a: 1}\n\n# the shop\nshop:\n  connector: "
            "\"shop\"\n  options:\n    base_url: \"u\"\n    token: \"${file:~/token}\"\n\n# last "
            "one\nlast:\n  connector: y\n");
}

TEST_F(ConnectionTool, RewritesAJsonFileAsJson) {
  dir_.write("conf/connections.yaml", R"({"a": {"connector": "x", "options": {"n": 1}}})");
  create(args("shop", R"({"base_url": "u", "token": "${env:T}"})"));
  EXPECT_EQ(
      slurp(dir_.file("conf/connections.yaml")),
      "{\n  \"a\": {\"connector\":\"x\",\"options\":{\"n\":\"1\"}},\n  \"shop\": "
      "{\"connector\":\"shop\",\"options\":{\"base_url\":\"u\",\"token\":\"${env:T}\"}}\n}\n");
}

TEST_F(ConnectionTool, BadInputNamesTheParameterAndLeavesTheFileUntouched) {
  const std::string original = "# keep\nother:\n  connector: x\n";
  dir_.write("conf/connections.yaml", original);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"base_url": "u", "token": "t0ken-secret-value"})",
       "parameter 'token' of connector 'shop' is a secret"},
      {R"({"token": "${env:T}"})", "missing required parameter 'base_url' of connector 'shop'"},
      {R"({"base_url": "u", "token": "${env:T}", "pagedelay": "1"})",
       "unknown parameter 'pagedelay' for connector 'shop'"},
      {R"({"base_url": ["u"], "token": "${env:T}"})", "parameter 'base_url': give a text value"},
      {R"({"base_url": "u", "token": "${env:T}", "externalOptionsAllowList": "page_size,x"})",
       "'x' is not a table option"},
      {R"(["u"])", "-o must be a JSON object"},
  };
  for (const auto& [options, message] : cases) {
    EXPECT_THAT(error_of(args("shop", options)), HasSubstr(message)) << options;
    EXPECT_EQ(slurp(dir_.file("conf/connections.yaml")), original) << options;
  }
  EXPECT_THAT(error_of(args("bad name", "{}")), HasSubstr("invalid connection name 'bad name'"));
  // Nothing of the secret appears in any message.
  EXPECT_EQ(error_of(args("shop", R"({"base_url": "u", "token": "t0ken-secret-value"})"))
                .find("t0ken-secret-value"),
            std::string::npos);
}

TEST_F(ConnectionTool, FromEnvWritesSecretsAsReferencesAndOtherValuesAsThey) {
  env_["SHOP_BASE_URL"] = "https://s.example";
  CreateConnectionArgs a = args("shop", "{}");
  a.from_env = true;
  const CreatedConnection created = create(a);
  EXPECT_EQ(created.options.at("token"), "${env:SHOP_TOKEN}");
  EXPECT_EQ(created.options.at("base_url"), "https://s.example");
  EXPECT_EQ(slurp(a.connections).find("t0ken-secret-value"), std::string::npos);
}

TEST_F(ConnectionTool, AReferenceThatDoesNotResolveHereIsANote) {
  const CreatedConnection created =
      create(args("shop", R"({"base_url": "u", "token": "${env:NOT_SET_HERE}"})"));
  ASSERT_EQ(created.notes.size(), 1u);
  EXPECT_THAT(created.notes[0], HasSubstr("NOT_SET_HERE"));
}

TEST_F(ConnectionTool, ListShowsReferencesAndHidesLiteralSecrets) {
  dir_.write("conf/connections.yaml",
             "a:\n  connector: shop\n  options:\n    password: lit3ral-pass\n    token: "
             "${env:T}\n    base_url: u\n");
  const std::vector<ListedConnection> listed = list_connections(dir_.file("conf/connections.yaml"));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].connector, "shop");
  EXPECT_EQ(listed[0].options.at("password"), "***");
  EXPECT_EQ(listed[0].options.at("token"), "${env:T}");
  EXPECT_EQ(listed[0].options.at("base_url"), "u");
  EXPECT_THAT(listed[0].location, HasSubstr("connections.yaml:1"));
}

// A spec with shared parameters and two ways to authenticate.
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

std::string validation_error(const std::map<std::string, std::string>& options) {
  const ConnectorSpec spec = ConnectorSpec::parse("shop", kMultiAuth, "shop.yaml");
  try {
    validate_connection_options(spec, "shop.yaml", options);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ConnectionOptions, DetectTheCompleteAuthMethodSharingMostParameters) {
  const ConnectorSpec spec = ConnectorSpec::parse("shop", kMultiAuth, "shop.yaml");
  EXPECT_EQ(
      validate_connection_options(spec, "shop.yaml", {{"base_url", "u"}, {"api_key", "${env:K}"}}),
      "api_key");
  EXPECT_EQ(validate_connection_options(
                spec, "shop.yaml", {{"base_url", "u"}, {"client_id", "i"}, {"client_secret", "s"}}),
            "oauth");
  EXPECT_THAT(validation_error({{"base_url", "u"}, {"client_id", "i"}}),
              HasSubstr("no authentication method of connector 'shop' is complete: give every "
                        "required parameter of one of api_key (missing api_key); oauth (missing "
                        "client_secret)"));
}

TEST(ConnectionOptions, NameTheParameterOfEachMistake) {
  EXPECT_THAT(validation_error({{"api_key", "k"}}),
              HasSubstr("missing required parameter 'base_url' of connector 'shop'"));
  EXPECT_THAT(validation_error({{"base_url", ""}, {"api_key", "k"}}),
              HasSubstr("missing required parameter 'base_url'"));
  EXPECT_THAT(validation_error({{"base_url", "u"}, {"api_key", "k"}, {"apikey", "k"}}),
              HasSubstr("unknown parameter 'apikey' for connector 'shop'; its parameters are "
                        "base_url, api_key, client_id, client_secret, scope (shop.yaml)"));
  EXPECT_THAT(validation_error({{"base_url", "u"},
                                {"api_key", "k"},
                                {"externalOptionsAllowList", "page_size,tableName,limit"}}),
              HasSubstr("parameter 'externalOptionsAllowList': 'limit' is not a table option "
                        "connector 'shop' accepts through a connection; allowed: page_size, since, "
                        "tableName, tableNameList, tableConfigs, isDeleteFlow"));
  EXPECT_EQ(validation_error({{"base_url", "u"},
                              {"api_key", "k"},
                              {"externalOptionsAllowList", "page_size, isDeleteFlow"}}),
            "");
}

TEST_F(ConnectionTool, AParameterNamedLikeASecretIsOneWhateverTheSpecSays) {
  CreateConnectionArgs a = args("shop", R"({"base_url": "u", "client_secret": "s3cret"})");
  a.spec = dir_.write("shop_spec.yaml", kMultiAuth);
  EXPECT_THAT(error_of(a), HasSubstr("parameter 'client_secret' of connector 'shop' is a secret"));
}

}  // namespace
}  // namespace lakeflow::workflow
