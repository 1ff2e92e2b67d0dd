#include "pipeline/connections.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "lakeflow/testing/temp_dir.h"
#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

using files::TempDir;

// The error parsing `text` and then using each of its connections gives.
std::string connections_error(const std::string& text, const EnvLookup& env = fake_env({})) {
  return error_message<ConfigError>([&] {
    const Connections connections = parse_connections(text, "conn.yaml", env);
    for (const auto& [name, connection] : connections.all()) connections.get(name);
  });
}

TEST(Connections, AnUnusableConnectionDoesNotStopTheOthers) {
  const Connections connections = parse_connections(
      "broken:\n  connector: x\n  options:\n    token: ${env:UNSET_TOKEN}\n"
      "fine:\n  connector: y\n  options:\n    base_url: http://h\n",
      "conn.yaml", fake_env({}));
  EXPECT_EQ(connections.get("fine").options.find("base_url"), "http://h");
  const std::string error = error_message<ConfigError>([&] { connections.get("broken"); });
  EXPECT_NE(error.find("UNSET_TOKEN"), std::string::npos) << error;
  EXPECT_NE(error.find("conn.yaml"), std::string::npos) << error;
}

TEST(Connections, ParsesConnectorAndOptions) {
  const Connections connections = parse_connections(R"(shop:
  connector: example
  options:
    username: demo
    page_size: 100
    flags: [a, b]
    unset: ~
other:
  connector: fhir
)",
                                                    "conn.yaml", fake_env({}));
  const Connection& shop = connections.get("shop");
  EXPECT_EQ(shop.name, "shop");
  EXPECT_EQ(shop.connector, "example");
  EXPECT_EQ(shop.options,
            (Options{{"username", "demo"}, {"page_size", "100"}, {"flags", R"(["a","b"])"}}));
  EXPECT_EQ(shop.location, "conn.yaml:1:1");
  EXPECT_THAT(shop.secret_values, IsEmpty());
  EXPECT_TRUE(connections.get("other").options.empty());
  EXPECT_EQ(connections.all().size(), 2u);
  EXPECT_EQ(connections.find("nope"), nullptr);
  EXPECT_EQ(connections.file_name(), "conn.yaml");
}

TEST(Connections, EnvReferencesResolveAndBecomeSecrets) {
  const Connections connections = parse_connections(
      R"(shop:
  connector: example
  options:
    username: ${env:SHOP_USER}
    password: "${env:SHOP_PASSWORD}"
    authorization: Bearer ${env:SHOP_TOKEN}!
)",
      "conn.yaml",
      fake_env({{"SHOP_USER", "alice"}, {"SHOP_PASSWORD", "hunter22"}, {"SHOP_TOKEN", "tok-123"}}));
  const Connection& shop = connections.get("shop");
  EXPECT_EQ(shop.options.get_string("username"), "alice");
  EXPECT_EQ(shop.options.get_string("password"), "hunter22");
  EXPECT_EQ(shop.options.get_string("authorization"), "Bearer tok-123!");
  EXPECT_THAT(shop.secret_values,
              UnorderedElementsAre("alice", "hunter22", "tok-123", "Bearer tok-123!"));
  EXPECT_THAT(connections.secret_values(),
              UnorderedElementsAre("alice", "hunter22", "tok-123", "Bearer tok-123!"));
}

TEST(Connections, LiteralValuesOfOptionsTheSpecMarksSecretAreSecrets) {
  const Connection shop = parse_connections(R"(shop:
  options:
    username: demo-user
    password: pass-1234
  connector: example
)",
                                            "conn.yaml", fake_env({}))
                              .get("shop");
  EXPECT_THAT(shop.secret_values, UnorderedElementsAre("pass-1234"));
}

// A connector that is not registered (a plugin not loaded) has no spec to ask.
TEST(Connections, WithoutASpecOptionsNamedLikeSecretsAreSecrets) {
  const Connection shop = parse_connections(R"(shop:
  connector: not_registered_here
  options:
    username: demo
    client_secret: s3cr3t-value
    apiKey: k-1
    primary_keys: id
)",
                                            "conn.yaml", fake_env({}))
                              .get("shop");
  EXPECT_THAT(shop.secret_values, UnorderedElementsAre("s3cr3t-value", "k-1"));
}

TEST(Connections, FileReferencesReadTheFileAndTrimTrailingNewlines) {
  TempDir dir;
  dir.write("password.txt", "p4ss\r\n\n");
  dir.write("key.pem", "-----BEGIN-----\nabc\n-----END-----\n");
  const std::string text =
      "shop:\n  connector: example\n  options:\n    password: ${file:password.txt}\n"
      "    private_key: ${file:" +
      (dir.path() / "key.pem").string() + "}\n";
  const auto path = dir.write("conn.yaml", text);
  const Connection shop = load_connections(path, fake_env({})).get("shop");
  EXPECT_EQ(shop.options.get_string("password"), "p4ss");
  EXPECT_EQ(shop.options.get_string("private_key"), "-----BEGIN-----\nabc\n-----END-----");
  EXPECT_THAT(shop.secret_values, Contains("p4ss"));
  EXPECT_THAT(shop.secret_values, Contains("-----BEGIN-----\nabc\n-----END-----"));
}

TEST(Connections, DoubleDollarIsALiteralReference) {
  const Connection c =
      parse_connections("c:\n  connector: x\n  options:\n    template: \"a $${env:X} b\"\n",
                        "conn.yaml", fake_env({}))
          .get("c");
  EXPECT_EQ(c.options.get_string("template"), "a ${env:X} b");
  EXPECT_THAT(c.secret_values, IsEmpty());
}

TEST(Connections, MissingEnvVariableNamesConnectionOptionAndVariable) {
  const std::string message = connections_error(
      "shop:\n  connector: example\n  options:\n    password: ${env:SHOP_PASSWORD}\n");
  EXPECT_THAT(message, HasSubstr("conn.yaml:4:15: connection 'shop' option 'password': "
                                 "environment variable SHOP_PASSWORD is not set"));
}

TEST(Connections, MissingFileNamesThePath) {
  TempDir dir;
  const auto path = dir.write(
      "conn.yaml", "shop:\n  connector: example\n  options:\n    password: ${file:nope.txt}\n");
  const std::string message =
      error_message<ConfigError>([&] { load_connections(path, fake_env({})).get("shop"); });
  EXPECT_THAT(message, HasSubstr("connection 'shop' option 'password': cannot read secret file '" +
                                 (dir.path() / "nope.txt").string() + "'"));
}

TEST(Connections, ErrorsNeverShowResolvedValues) {
  // The second option fails after the first resolved a secret; neither value may be shown.
  const std::string message = connections_error(
      "shop:\n  connector: example\n  options:\n    password: ${env:PW}\n"
      "    token: ${env:MISSING}\n",
      fake_env({{"PW", "topsecretpw"}}));
  EXPECT_THAT(message, HasSubstr("option 'token'"));
  EXPECT_THAT(message, Not(HasSubstr("topsecretpw")));
  const std::string bad_scheme = connections_error(
      "shop:\n  connector: example\n  options:\n    password: pre ${vault:path/to/secret}\n");
  EXPECT_THAT(bad_scheme, HasSubstr("unsupported reference '${vault:...}'"));
  EXPECT_THAT(bad_scheme, Not(HasSubstr("path/to/secret")));
}

TEST(Connections, MalformedReferencesAreErrors) {
  EXPECT_THAT(connections_error("c:\n  connector: x\n  options:\n    a: ${env:X\n"),
              HasSubstr("option 'a': a '${' reference has no closing '}'"));
  EXPECT_THAT(connections_error("c:\n  connector: x\n  options:\n    a: ${env:}\n"),
              HasSubstr("unsupported reference"));
  EXPECT_THAT(connections_error("c:\n  connector: x\n  options:\n    a: ${X}\n"),
              HasSubstr("unsupported reference '${X:...}'"));
  EXPECT_THAT(connections_error("c:\n  connector: x\n  options:\n    a: ['${env:X}']\n",
                                fake_env({{"X", "1"}})),
              HasSubstr("work in plain values only"));
}

TEST(Connections, StructureErrorsNameTheLine) {
  EXPECT_THAT(connections_error("shop:\n  connector: example\n  option:\n    a: 1\n"),
              HasSubstr("conn.yaml:3:3: unknown key 'option' in connection 'shop' (did you mean "
                        "'options'?)"));
  EXPECT_THAT(connections_error("shop:\n  options: {a: 1}\n"),
              HasSubstr("conn.yaml:1:1: connection 'shop' has no 'connector'"));
  EXPECT_THAT(connections_error("shop:\n"), HasSubstr("connection 'shop' is empty"));
  EXPECT_THAT(connections_error("shop:\n  connector: 5\n"),
              HasSubstr("connection 'shop' connector must be a string, got the number 5"));
  EXPECT_THAT(connections_error("shop:\n  connector: x\n  options: [a]\n"),
              HasSubstr("conn.yaml:3:12: connection 'shop' options must be a mapping"));
  EXPECT_THAT(connections_error("- shop\n"), HasSubstr("the connections file must be a mapping"));
  EXPECT_THAT(connections_error("a:\n  connector: x\na:\n  connector: y\n"),
              HasSubstr("conn.yaml:3:1: duplicate key 'a'"));
}

TEST(Connections, UnknownConnectionListsTheDefinedOnes) {
  const Connections connections =
      parse_connections("b:\n  connector: x\na:\n  connector: y\n", "conn.yaml", fake_env({}));
  EXPECT_THAT(error_message<ConfigError>([&] { connections.get("shop"); }),
              HasSubstr("connection 'shop' is not defined in conn.yaml (it defines a, b)"));
  const Connections none = parse_connections("# nothing yet\n", "conn.yaml", fake_env({}));
  EXPECT_THAT(error_message<ConfigError>([&] { none.get("shop"); }),
              HasSubstr("(it defines none)"));
}

TEST(Connections, MissingFileSaysHowToChooseAnother) {
  const std::string message = error_message<ConfigError>(
      [] { load_connections("/nonexistent/lakeflow/connections.yaml", fake_env({})); });
  EXPECT_THAT(message, HasSubstr("connections file '/nonexistent/lakeflow/connections.yaml' does "
                                 "not exist"));
  EXPECT_THAT(message, HasSubstr("--connections FILE"));
}

TEST(ConnectionsPath, FlagThenSpecThenEnvironmentThenDefault) {
  const auto env = fake_env(
      {{"LAKEFLOW_CONNECTIONS", "/env/c.yaml"}, {"XDG_CONFIG_HOME", "/xdg"}, {"HOME", "/home/u"}});
  EXPECT_EQ(connections_path("/flag.yaml", "/spec.yaml", env), "/flag.yaml");
  EXPECT_EQ(connections_path(std::nullopt, "/spec.yaml", env), "/spec.yaml");
  EXPECT_EQ(connections_path(std::nullopt, std::nullopt, env), "/env/c.yaml");
  EXPECT_EQ(connections_path(std::nullopt, std::nullopt,
                             fake_env({{"XDG_CONFIG_HOME", "/xdg"}, {"HOME", "/home/u"}})),
            "/xdg/lakeflow/connections.yaml");
  EXPECT_EQ(connections_path(std::nullopt, std::nullopt, fake_env({{"HOME", "/home/u"}})),
            "/home/u/.config/lakeflow/connections.yaml");
  EXPECT_THAT(error_message<ConfigError>(
                  [] { connections_path(std::nullopt, std::nullopt, fake_env({})); }),
              HasSubstr("HOME is not set"));
}

TEST(SecretOption, NamesLikeSecretsAreSecrets) {
  for (const char* name :
       {"password", "db_passwd", "client_secret", "access_token", "apiKey", "api-key",
        "private_key", "aws_access_key_id", "credentials_json", "key", "signing.key"}) {
    EXPECT_TRUE(is_secret_option(name)) << name;
  }
  for (const char* name : {"username", "base_url", "primary_keys", "page_size", "sort_keys"}) {
    EXPECT_FALSE(is_secret_option(name)) << name;
  }
}

}  // namespace
}  // namespace lakeflow::pipeline
