#include "lakeflow/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Serves one table; its constructor validates an option, as real connectors do.
const ConnectorSpec& embedded_connector_spec() {
  static const ConnectorSpec spec("registry_test_one_table", {{"page_size", false, false}}, {});
  return spec;
}

class OneTableConnector : public LakeflowConnect {
 public:
  explicit OneTableConnector(const Options& options)
      : LakeflowConnect(embedded_connector_spec(), options) {
    options.get_int("page_size", 10, 1, 100);
  }
  std::vector<std::string> do_list_tables() override { return {"only"}; }
  StructType do_get_table_schema(const TableContext& /*context*/) override {
    return StructType{{"id", DataType::Long()}};
  }
  TableMetadata do_read_table_metadata(const TableContext& /*context*/) override {
    return {{"id"}, std::nullopt, IngestionType::kSnapshot};
  }
  ReadResult do_read_table(const ReadContext& /*context*/) override {
    return {RecordStream(), Offset::null()};
  }
};

ConnectorInfo info(std::string name, std::string description = "test") {
  return {std::move(name), std::move(description),
          [](const Options& options) { return std::make_unique<OneTableConnector>(options); },
          &embedded_connector_spec};
}

std::vector<std::string> names(const ConnectorRegistry& registry) {
  std::vector<std::string> out;
  for (const ConnectorInfo* c : registry.list()) out.push_back(c->name);
  return out;
}

// Registered through the macro, as a connector's .cc file does.
LAKEFLOW_REGISTER_CONNECTOR("registry_test_one_table", OneTableConnector, "one table, for tests");

TEST(ConnectorRegistry, MacroRegistersIntoTheGlobalInstance) {
  ConnectorRegistry& registry = ConnectorRegistry::instance();
  EXPECT_EQ(&registry, &ConnectorRegistry::instance());
  const ConnectorInfo* found = registry.find("registry_test_one_table");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->description, "one table, for tests");
  auto connector = registry.create("registry_test_one_table", Options{{"page_size", "5"}});
  ASSERT_NE(connector, nullptr);
  EXPECT_EQ(connector->list_tables(), std::vector<std::string>{"only"});
  EXPECT_EQ(connector->options().get_string("page_size"), "5");
}

TEST(ConnectorRegistry, ListIsSortedByName) {
  ConnectorRegistry registry;
  registry.add(info("zendesk"));
  registry.add(info("fhir"));
  registry.add(info("example"));
  EXPECT_THAT(names(registry), ElementsAre("example", "fhir", "zendesk"));
}

TEST(ConnectorRegistry, FindReturnsNullForUnknownNames) {
  ConnectorRegistry registry;
  registry.add(info("fhir", "FHIR R4"));
  ASSERT_NE(registry.find("fhir"), nullptr);
  EXPECT_EQ(registry.find("fhir")->description, "FHIR R4");
  EXPECT_EQ(registry.find("FHIR"), nullptr);
  EXPECT_EQ(registry.find(""), nullptr);
}

TEST(ConnectorRegistry, DuplicateNameIsAnInternalError) {
  ConnectorRegistry registry;
  registry.add(info("fhir"));
  try {
    registry.add(info("fhir"));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
    EXPECT_THAT(e.what(), HasSubstr("connector 'fhir' is registered twice"));
  }
  EXPECT_EQ(registry.list().size(), 1u);
}

TEST(ConnectorRegistry, RejectsEmptyNameAndMissingFactory) {
  ConnectorRegistry registry;
  EXPECT_THROW(registry.add(info("")), Error);
  EXPECT_THROW(registry.add({"nofactory", "", nullptr}), Error);
  EXPECT_TRUE(registry.list().empty());
}

TEST(ConnectorRegistry, CreateUnknownNamesTheRegisteredConnectors) {
  ConnectorRegistry registry;
  registry.add(info("b"));
  registry.add(info("a"));
  try {
    registry.create("x", Options{});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConfig);
    EXPECT_STREQ(e.what(), "unknown connector 'x'; registered connectors: a, b");
  }
}

TEST(ConnectorRegistry, CreateUnknownInAnEmptyRegistry) {
  const ConnectorRegistry registry;
  try {
    registry.create("x", Options{});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown connector 'x'; no connectors are registered"));
  }
}

TEST(ConnectorRegistry, CreatePassesOptionsAndConstructorErrorsThrough) {
  ConnectorRegistry registry;
  registry.add(info("one"));
  EXPECT_EQ(registry.create("one", Options{{"page_size", "5"}})->options().get_string("page_size"),
            "5");
  try {
    registry.create("one", Options{{"page_size", "1000"}});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("option 'page_size'"));
    // A constructor's message names the option; the registry adds which connector it belongs to.
    EXPECT_THAT(e.what(), ::testing::StartsWith("connector 'one': "));
  }
}

TEST(ConnectorRegistry, AMissingRequiredOptionNamesTheConnectorAndWhereOptionsGo) {
  ConnectorRegistry registry;
  ConnectorInfo needs_url = info("web");
  needs_url.create = [](const Options& options) -> std::unique_ptr<LakeflowConnect> {
    options.get_string("base_url");
    return std::make_unique<OneTableConnector>(options);
  };
  registry.add(needs_url);
  try {
    registry.create("web", Options{});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::StartsWith("connector 'web': missing required option "
                                                "'base_url'; give it as a connection option"));
  }
}

TEST(ConnectorRegistry, ARegistrationWithoutASpecIsAnInternalError) {
  ConnectorRegistry registry;
  ConnectorInfo without_spec = info("nospec");
  without_spec.spec = nullptr;
  EXPECT_THROW(registry.add(std::move(without_spec)), Error);
  EXPECT_TRUE(registry.list().empty());
}

TEST(ConnectorRegistry, FactoryReturningNullIsAnInternalError) {
  ConnectorRegistry registry;
  registry.add({"null", "", [](const Options&) { return std::unique_ptr<LakeflowConnect>(); },
                &embedded_connector_spec});
  try {
    registry.create("null", Options{});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
  }
}

}  // namespace
}  // namespace lakeflow
