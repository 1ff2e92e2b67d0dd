// The built-in connectors and their connector_spec.yaml files agree: what the build compiled in,
// what the folder holds, what the framework accepts, and what each README documents.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "lakeflow/connector_spec.h"
#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/options.h"
#include "lakeflow/registry.h"

namespace lakeflow {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string read_text(const fs::path& path) { return files::read_file(path); }

// The built-in connectors that have a folder under sources/.
std::vector<const ConnectorInfo*> in_tree_connectors() {
  std::vector<const ConnectorInfo*> found;
  for (const ConnectorInfo* info : ConnectorRegistry::instance().list()) {
    if (fs::exists(fs::path(LAKEFLOW_REPO_DIR) / "sources" / info->name / "connector_spec.yaml")) {
      found.push_back(info);
    }
  }
  return found;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}

TEST(ConnectorSpecs, EveryBuiltInConnectorHasOne) {
  const auto connectors = in_tree_connectors();
  std::vector<std::string> names;
  for (const ConnectorInfo* info : connectors) names.push_back(info->name);
  EXPECT_THAT(names, ::testing::IsSupersetOf({"example", "fhir", "ndjson"}));
}

TEST(ConnectorSpecs, TheCompiledSpecIsTheFileInTheConnectorFolder) {
  for (const ConnectorInfo* info : in_tree_connectors()) {
    SCOPED_TRACE(info->name);
    const fs::path file =
        fs::path(LAKEFLOW_REPO_DIR) / "sources" / info->name / "connector_spec.yaml";
    const ConnectorSpec on_disk = ConnectorSpec::parse(info->name, read_text(file), file.string());
    const ConnectorSpec& compiled = info->spec();
    EXPECT_EQ(compiled.connector(), info->name);
    ASSERT_EQ(compiled.parameters().size(), on_disk.parameters().size());
    for (std::size_t i = 0; i < compiled.parameters().size(); ++i) {
      EXPECT_EQ(compiled.parameters()[i].name, on_disk.parameters()[i].name);
      EXPECT_EQ(compiled.parameters()[i].secret, on_disk.parameters()[i].secret);
      EXPECT_EQ(compiled.parameters()[i].required, on_disk.parameters()[i].required);
    }
    EXPECT_EQ(compiled.table_options(), on_disk.table_options());
  }
}

// One list of secrets, the spec's: it decides for its connector, where the name rule would both
// miss (a `password`-less credential) and over-reach (`token_url`, `private_key_algorithm`).
TEST(ConnectorSpecs, TheSpecsSecretsAreTheConnectionsSecrets) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"example", {"password"}},
      {"fhir", {"token", "client_secret", "private_key_pem"}},
      {"ndjson", {}}};
  for (const auto& [connector, secrets] : expected) {
    const ConnectorInfo* info = ConnectorRegistry::instance().find(connector);
    ASSERT_NE(info, nullptr) << connector;
    EXPECT_EQ(info->spec().secret_names(), secrets) << connector;
    for (const ConnectorSpec::Parameter& parameter : info->spec().parameters()) {
      EXPECT_EQ(is_secret_connection_option(connector, parameter.name), parameter.secret)
          << connector << ": " << parameter.name;
    }
  }
  EXPECT_FALSE(is_secret_connection_option("fhir", "token_url"));
}

TEST(ConnectorSpecs, EveryConnectorTakesTheBatchLimit) {
  for (const ConnectorInfo* info : in_tree_connectors()) {
    EXPECT_THAT(info->spec().table_options(), ::testing::Contains("max_records_per_batch"))
        << info->name;
  }
}

// The framework checks connection options before the connector runs: no source is contacted.
TEST(ConnectorSpecs, AnUnknownConnectionOptionIsRefusedForEveryConnector) {
  for (const ConnectorInfo* info : in_tree_connectors()) {
    Options options;
    for (const ConnectorSpec::Parameter& parameter : info->spec().parameters()) {
      if (parameter.required) options.set(parameter.name, "x");
    }
    options.set("no_such_option", "hunter22");
    options.set("tableName", "t");  // what Spark adds is accepted
    try {
      ConnectorRegistry::instance().create(info->name, options);
      ADD_FAILURE() << info->name << " accepted an unknown option";
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr(info->name + ": unknown connection option 'no_such_option'"));
      EXPECT_THAT(e.what(), HasSubstr(info->spec().parameters().front().name));
      EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("hunter22")));
    }
  }
}

// The README tells users which externalOptionsAllowList to set: the spec's list.
TEST(ConnectorSpecs, TheReadmeGivesTheSpecsAllowList) {
  for (const ConnectorInfo* info : in_tree_connectors()) {
    const std::string readme =
        read_text(fs::path(LAKEFLOW_REPO_DIR) / "sources" / info->name / "README.md");
    EXPECT_THAT(readme, HasSubstr("`" + joined(info->spec().table_options()) + "`")) << info->name;
  }
}

}  // namespace
}  // namespace lakeflow
