#include "pipeline/pipeline_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// upstream's pipeline-spec/example_ingest.py, in YAML.
constexpr const char* kUpstreamExample = R"(connection_name: my_conn
objects:
  - table:
      source_table: users
  - table:
      source_table: orders
      destination_catalog: cat
      destination_schema: sch
      destination_table: orders_raw
      table_configuration:
        scd_type: SCD_TYPE_2
        primary_keys: ["id"]
        page_size: 50
)";

std::string spec_error(const std::string& text) {
  return error_message<ConfigError>([&] { parse_pipeline_spec(text, "spec.yaml"); });
}

// A spec with one table whose entry is `table_body` (indented 6 spaces).
std::string one_table(const std::string& table_body) {
  return "connection_name: c\nobjects:\n  - table:\n" + table_body;
}

TEST(PipelineSpec, ParsesUpstreamsExampleWithDefaults) {
  const PipelineSpec spec = parse_pipeline_spec(kUpstreamExample, "spec.yaml");
  EXPECT_EQ(spec.connection_name, "my_conn");
  EXPECT_EQ(spec.file_name, "spec.yaml");
  ASSERT_EQ(spec.tables.size(), 2u);

  const TableSpec& users = spec.tables[0];
  EXPECT_EQ(users.source_table, "users");
  EXPECT_EQ(users.destination_catalog, "main");
  EXPECT_EQ(users.destination_schema, "default");
  EXPECT_EQ(users.destination_table, "users");
  EXPECT_EQ(users.destination_name(), "main.default.users");
  EXPECT_EQ(users.scd_type, std::nullopt);
  EXPECT_THAT(users.primary_keys, IsEmpty());
  EXPECT_EQ(users.sequence_by, std::nullopt);
  EXPECT_TRUE(users.table_options.empty());
  EXPECT_EQ(users.location, "spec.yaml:4:7");

  const TableSpec& orders = spec.tables[1];
  EXPECT_EQ(orders.destination_name(), "cat.sch.orders_raw");
  EXPECT_EQ(orders.scd_type, ScdSetting::kType2);
  EXPECT_THAT(orders.primary_keys, ElementsAre("id"));
  EXPECT_EQ(orders.table_options, (Options{{"page_size", "50"}}));
}

TEST(PipelineSpec, JsonGivesTheSameSpecAsYaml) {
  const PipelineSpec yaml = parse_pipeline_spec(kUpstreamExample, "spec.yaml");
  const PipelineSpec json = parse_pipeline_spec(R"({
    "connection_name": "my_conn",
    "objects": [
      {"table": {"source_table": "users"}},
      {"table": {"source_table": "orders", "destination_catalog": "cat",
                 "destination_schema": "sch", "destination_table": "orders_raw",
                 "table_configuration": {"scd_type": "SCD_TYPE_2", "primary_keys": ["id"],
                                         "page_size": 50}}}
    ]
  })",
                                                "spec.json");
  ASSERT_EQ(json.tables.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(json.tables[i].destination_name(), yaml.tables[i].destination_name());
    EXPECT_EQ(json.tables[i].scd_type, yaml.tables[i].scd_type);
    EXPECT_EQ(json.tables[i].primary_keys, yaml.tables[i].primary_keys);
    EXPECT_EQ(json.tables[i].table_options, yaml.tables[i].table_options);
  }
  EXPECT_EQ(json.connection_name, "my_conn");
}

TEST(PipelineSpec, TablesLandUnderRootCatalogSchemaTable) {
  const PipelineSpec spec = parse_pipeline_spec(kUpstreamExample, "spec.yaml");
  EXPECT_EQ(spec.destination_root, "lakeflow-data");
  EXPECT_EQ(spec.table_path(spec.tables[0]), "lakeflow-data/main/default/users");
  EXPECT_EQ(spec.table_path(spec.tables[1]), "lakeflow-data/cat/sch/orders_raw");
}

TEST(PipelineSpec, RelativePathsAreRelativeToTheSpecFile) {
  const std::string text =
      std::string("destination_root: out\nconnections_file: conn.yaml\n") + kUpstreamExample;
  const PipelineSpec spec = parse_pipeline_spec(text, "/srv/pipelines/spec.yaml");
  EXPECT_EQ(spec.destination_root, "/srv/pipelines/out");
  EXPECT_EQ(spec.connections_file, std::filesystem::path("/srv/pipelines/conn.yaml"));
  EXPECT_EQ(spec.table_path(spec.tables[0]), "/srv/pipelines/out/main/default/users");

  const PipelineSpec absolute = parse_pipeline_spec(
      std::string("destination_root: /data/lake\n") + kUpstreamExample, "/srv/spec.yaml");
  EXPECT_EQ(absolute.destination_root, "/data/lake");
  EXPECT_EQ(absolute.connections_file, std::nullopt);
}

TEST(PipelineSpec, ReservedKeysAreTakenOutOfTheTableOptions) {
  const PipelineSpec spec = parse_pipeline_spec(one_table(R"(      source_table: t
      table_configuration:
        scd_type: scd_type_1
        primary_keys: id
        sequence_by: " updated_at "
        cluster_by: [region, day]
        max_records_per_batch: 500
        include_deleted: true
        filters: {status: [open, closed]}
        unset_option: ~
)"),
                                                "spec.yaml");
  const TableSpec& t = spec.tables[0];
  EXPECT_EQ(t.scd_type, ScdSetting::kType1);
  EXPECT_THAT(t.primary_keys, ElementsAre("id"));
  EXPECT_EQ(t.sequence_by, "updated_at");
  EXPECT_THAT(t.cluster_by, ElementsAre("region", "day"));
  EXPECT_EQ(t.table_options, (Options{{"max_records_per_batch", "500"},
                                      {"include_deleted", "true"},
                                      {"filters", R"({"status":["open","closed"]})"}}));
}

TEST(PipelineSpec, TimestampZoneIsATableSettingNotAConnectorOption) {
  const PipelineSpec spec = parse_pipeline_spec(one_table(R"(      source_table: t
      table_configuration:
        timestamp_zone: "-05:00"
        page_size: 5
)"),
                                                "spec.yaml");
  EXPECT_EQ(spec.tables[0].timestamp_zone, -5 * 3600);
  EXPECT_EQ(spec.tables[0].table_options, (Options{{"page_size", "5"}}));
  EXPECT_FALSE(parse_pipeline_spec(one_table("      source_table: t\n"), "spec.yaml")
                   .tables[0]
                   .timestamp_zone.has_value());
  const std::string error = spec_error(one_table(R"(      source_table: t
      table_configuration:
        timestamp_zone: Europe/Berlin
)"));
  EXPECT_THAT(error, HasSubstr("timestamp_zone 'Europe/Berlin'"));
  EXPECT_THAT(error, HasSubstr("UTC, Z or ±HH:MM"));
}

TEST(PipelineSpec, ScdTypeIsCaseInsensitiveAndAcceptsOneAndTwo) {
  const std::pair<const char*, ScdSetting> cases[] = {{"SCD_TYPE_1", ScdSetting::kType1},
                                                      {"scd_type_2", ScdSetting::kType2},
                                                      {"'1'", ScdSetting::kType1},
                                                      {"2", ScdSetting::kType2},
                                                      {"Append_Only", ScdSetting::kAppendOnly}};
  for (const auto& [text, expected] : cases) {
    const PipelineSpec spec = parse_pipeline_spec(
        one_table(std::string("      source_table: t\n      table_configuration:\n        "
                              "scd_type: ") +
                  text + "\n"),
        "spec.yaml");
    EXPECT_EQ(spec.tables[0].scd_type, expected) << text;
  }
  EXPECT_EQ(to_string(ScdSetting::kAppendOnly), "APPEND_ONLY");
}

TEST(PipelineSpec, BadScdTypeNamesTheValueAndLine) {
  const std::string message = spec_error(one_table(
      "      source_table: t\n      table_configuration:\n        scd_type: SCD_TYPE_3\n"));
  EXPECT_THAT(message, HasSubstr("spec.yaml:6:19: objects[0].table.table_configuration.scd_type "
                                 "'SCD_TYPE_3' is not supported; use SCD_TYPE_1, SCD_TYPE_2 or "
                                 "APPEND_ONLY"));
  EXPECT_THAT(spec_error(one_table("      source_table: t\n      table_configuration:\n"
                                   "        scd_type: [SCD_TYPE_1]\n")),
              HasSubstr("scd_type must be SCD_TYPE_1, SCD_TYPE_2 or APPEND_ONLY, got a list"));
}

TEST(PipelineSpec, PrimaryKeysAcceptListJsonArrayCommaListOrOneName) {
  const std::pair<const char*, std::vector<std::string>> cases[] = {
      {"[a, b]", {"a", "b"}},
      {"\"[\\\"a\\\", \\\"b\\\"]\"", {"a", "b"}},  // upstream's json.dumps form
      {"a, b", {"a", "b"}},
      {"meta.id", {"meta.id"}},
      {"[]", {}},
      {"~", {}},
  };
  for (const auto& [text, expected] : cases) {
    const PipelineSpec spec = parse_pipeline_spec(
        one_table(std::string("      source_table: t\n      table_configuration:\n        "
                              "primary_keys: ") +
                  text + "\n"),
        "spec.yaml");
    EXPECT_EQ(spec.tables[0].primary_keys, expected) << text;
  }
}

TEST(PipelineSpec, BadPrimaryKeysAreErrors) {
  auto with_keys = [](const std::string& keys) {
    return spec_error(
        one_table("      source_table: t\n      table_configuration:\n        "
                  "primary_keys: " +
                  keys + "\n"));
  };
  EXPECT_THAT(with_keys("[a, '']"), HasSubstr("primary_keys has a blank column name"));
  EXPECT_THAT(with_keys("'a,,b'"), HasSubstr("primary_keys has a blank column name"));
  EXPECT_THAT(with_keys("[[a]]"), HasSubstr("primary_keys must list column names, found a list"));
  EXPECT_THAT(with_keys("{a: 1}"), HasSubstr("must be a list of column names, got a mapping"));
  EXPECT_THAT(with_keys("'[1, 2]'"), HasSubstr("must be a JSON array of column names, found 1"));
  EXPECT_THAT(with_keys("'[\"a\"'"), HasSubstr("spec.yaml:6:23:"));
}

TEST(PipelineSpec, SequenceByMustBeANonBlankString) {
  EXPECT_THAT(spec_error(one_table("      source_table: t\n      table_configuration:\n"
                                   "        sequence_by: [a]\n")),
              HasSubstr("sequence_by must be a string, got a list"));
  EXPECT_THAT(spec_error(one_table("      source_table: t\n      table_configuration:\n"
                                   "        sequence_by: ''\n")),
              HasSubstr("sequence_by must not be blank"));
}

TEST(PipelineSpec, UnknownTopLevelKeyNamesItsLine) {
  const std::string message = spec_error(std::string(kUpstreamExample) + "destination_rot: x\n");
  EXPECT_THAT(message, HasSubstr("spec.yaml:14:1: unknown key 'destination_rot' in the pipeline "
                                 "spec (did you mean 'destination_root'?)"));
}

TEST(PipelineSpec, UnknownTableKeyNamesItsLineAndTheClosestKey) {
  const std::string message =
      spec_error(one_table("      source_table: t\n      destination_tabel: x\n"));
  EXPECT_THAT(message, HasSubstr("spec.yaml:5:7: unknown key 'destination_tabel' in "
                                 "objects[0].table (did you mean 'destination_table'?)"));
}

TEST(PipelineSpec, OnlyTableObjectsAreSupported) {
  EXPECT_THAT(spec_error("connection_name: c\nobjects:\n  - schema:\n      source_schema: s\n"),
              HasSubstr("spec.yaml:3:5: unknown key 'schema' in objects[0]; allowed keys: table"));
  EXPECT_THAT(spec_error("connection_name: c\nobjects:\n  - users\n"),
              HasSubstr("spec.yaml:3:5: objects[0] must be a mapping (key: value), got a string"));
  EXPECT_THAT(spec_error("connection_name: c\nobjects:\n  - {}\n"),
              HasSubstr("objects[0] is empty"));
  EXPECT_THAT(spec_error("connection_name: c\nobjects:\n  - table:\n"),
              HasSubstr("spec.yaml:3:5: objects[0].table is empty"));
}

TEST(PipelineSpec, RequiredFieldsAreNamed) {
  EXPECT_THAT(spec_error("objects:\n  - table: {source_table: t}\n"),
              HasSubstr("spec.yaml:1:1: the pipeline spec has no 'connection_name'"));
  EXPECT_THAT(spec_error("connection_name: '  '\nobjects:\n  - table: {source_table: t}\n"),
              HasSubstr("spec.yaml:1:18: connection_name must not be blank"));
  EXPECT_THAT(spec_error("connection_name: c\n"), HasSubstr("has no 'objects'"));
  EXPECT_THAT(spec_error("connection_name: c\nobjects: []\n"),
              HasSubstr("spec.yaml:2:10: objects must be a non-empty list"));
  EXPECT_THAT(spec_error("connection_name: c\nobjects: {table: x}\n"),
              HasSubstr("objects must be a non-empty list of '- table: {source_table: ...}' "
                        "entries, got a mapping"));
  EXPECT_THAT(spec_error(one_table("      destination_table: x\n")),
              HasSubstr("spec.yaml:4:7: objects[0].table has no 'source_table'"));
}

TEST(PipelineSpec, StringFieldsRejectUnquotedNumbersAsUpstreamDoes) {
  EXPECT_THAT(spec_error(one_table("      source_table: 2024\n")),
              HasSubstr("spec.yaml:4:21: objects[0].table.source_table must be a string, got the "
                        "number 2024; quote it"));
  EXPECT_THAT(spec_error("connection_name: true\nobjects:\n  - table: {source_table: t}\n"),
              HasSubstr("connection_name must be a string, got the boolean true"));
  const PipelineSpec quoted = parse_pipeline_spec(one_table("      source_table: '2024'\n"), "s");
  EXPECT_EQ(quoted.tables[0].destination_table, "2024");
}

TEST(PipelineSpec, DestinationNamesMustBeSingleDirectoryNames) {
  EXPECT_THAT(spec_error(one_table("      source_table: t\n      destination_schema: a/b\n")),
              HasSubstr("spec.yaml:5:27: objects[0].table.destination_schema 'a/b' cannot be a "
                        "directory name"));
  EXPECT_THAT(spec_error(one_table("      source_table: t\n      destination_table: ..\n")),
              HasSubstr("destination_table '..' cannot be a directory name"));
  EXPECT_THAT(spec_error(one_table("      source_table: a/b\n")),
              HasSubstr("source_table 'a/b' cannot be used as a directory name; set "
                        "destination_table"));
  const PipelineSpec renamed = parse_pipeline_spec(
      one_table("      source_table: a/b\n      destination_table: ab\n"), "spec.yaml");
  EXPECT_EQ(renamed.tables[0].destination_name(), "main.default.ab");
}

TEST(PipelineSpec, TwoObjectsLandingInOneDestinationAreAnError) {
  const std::string message = spec_error(R"(connection_name: c
objects:
  - table: {source_table: users}
  - table:
      source_table: customers
      destination_table: users
)");
  EXPECT_THAT(message, HasSubstr("spec.yaml:5:7: destination main.default.users is already "
                                 "written by the object at spec.yaml:3:12"));
}

TEST(PipelineSpec, OneSourceTableMayLandInSeveralDestinations) {
  const PipelineSpec spec = parse_pipeline_spec(R"(connection_name: c
objects:
  - table: {source_table: users}
  - table: {source_table: users, destination_table: users_history,
            table_configuration: {scd_type: SCD_TYPE_2}}
  - table: {source_table: orders}
)",
                                                "spec.yaml");
  const auto found = spec.find_source_table("users");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0]->destination_table, "users");
  EXPECT_EQ(found[1]->destination_table, "users_history");
  EXPECT_THAT(spec.find_source_table("nope"), IsEmpty());
}

TEST(PipelineSpec, EmptyOrNonMappingSpecIsAnError) {
  EXPECT_THAT(spec_error(""), HasSubstr("spec.yaml: the pipeline spec is empty"));
  EXPECT_THAT(spec_error("# only a comment\n"), HasSubstr("the pipeline spec is empty"));
  EXPECT_THAT(spec_error("- a\n"), HasSubstr("the pipeline spec must be a mapping"));
  EXPECT_THAT(spec_error("{\"connection_name\": \"c\",\n \"objects\": [}"),
              HasSubstr("spec.yaml:2:"));
}

TEST(PipelineSpec, TableConfigurationMustBeAMapping) {
  EXPECT_THAT(spec_error(one_table("      source_table: t\n      table_configuration: [a]\n")),
              HasSubstr("spec.yaml:5:28: objects[0].table.table_configuration must be a mapping"));
  const PipelineSpec empty = parse_pipeline_spec(
      one_table("      source_table: t\n      table_configuration:\n"), "spec.yaml");
  EXPECT_TRUE(empty.tables[0].table_options.empty());
}

TEST(PipelineSpec, LoadReadsTheFileAndNamesItInErrors) {
  const auto dir = unique_temp_path("lakeflow_pipeline_spec_test");
  std::filesystem::create_directories(dir);
  const auto path = dir / "spec.yaml";
  {
    std::ofstream out(path);
    out << kUpstreamExample << "bogus: 1\n";
  }
  EXPECT_THAT(error_message<ConfigError>([&] { load_pipeline_spec(path); }),
              HasSubstr(path.string() + ":14:1: unknown key 'bogus'"));
  {
    std::ofstream out(path);
    out << "destination_root: lake\n" << kUpstreamExample;
  }
  EXPECT_EQ(load_pipeline_spec(path).destination_root, dir / "lake");
  std::filesystem::remove_all(dir);
  EXPECT_THAT(error_message<ConfigError>([&] { load_pipeline_spec(path); }),
              HasSubstr("cannot read pipeline spec '" + path.string() + "'"));
}

}  // namespace
}  // namespace lakeflow::pipeline
