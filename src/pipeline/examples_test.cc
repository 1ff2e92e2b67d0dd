// The pipeline specs in examples/ parse and plan as their comments say.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "pipeline/connections.h"
#include "pipeline/pipeline_spec.h"
#include "pipeline/table_plan.h"
#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const std::filesystem::path kExamples = std::filesystem::path(LAKEFLOW_REPO_DIR) / "examples";

// What the example connector (sources/example) reports for its tables.
TableMetadata example_metadata(const std::string& table) {
  TableMetadata m;
  m.primary_keys = {"id"};
  if (table == "users") {
    m.ingestion_type = IngestionType::kCdc;
    m.cursor_field = "updated_at";
  } else if (table == "orders") {
    m.ingestion_type = IngestionType::kCdcWithDeletes;
    m.cursor_field = "updated_at";
  } else if (table == "events") {
    m.ingestion_type = IngestionType::kAppend;
    m.cursor_field = "received_at";
  } else {
    m.ingestion_type = IngestionType::kSnapshot;
  }
  return m;
}

StructType example_schema() {
  return StructType{{"id", DataType::Long(), false},
                    {"name", DataType::String()},
                    {"updated_at", DataType::Timestamp()},
                    {"received_at", DataType::Timestamp()}};
}

TEST(Examples, ExamplePipelineIngestsTheFourExampleTables) {
  const PipelineSpec spec = load_pipeline_spec(kExamples / "example_pipeline.yaml");
  EXPECT_EQ(spec.connection_name, "example_shop");
  EXPECT_EQ(spec.connections_file, (kExamples / "connections.yaml").lexically_normal());
  EXPECT_EQ(spec.destination_root, "lakeflow-data");
  ASSERT_EQ(spec.tables.size(), 4u);

  std::vector<std::string> flows;
  for (const TableSpec& table : spec.tables) {
    EXPECT_EQ(table.destination_catalog, "main");
    EXPECT_EQ(table.destination_schema, "shop");
    const TablePlan plan = plan_table(table, example_metadata(table.source_table), example_schema(),
                                      test_destination());
    EXPECT_THAT(plan.notes, ::testing::IsEmpty()) << table.source_table;
    flows.push_back(fmt::format("{} {} {}{}", plan.destination, to_string(plan.flow),
                                plan.scd_type == ScdType::kType2 ? "scd2" : "scd1",
                                plan.read_deletes ? " +deletes" : ""));
  }
  EXPECT_THAT(flows, ElementsAre("main.shop.users apply_changes scd1",
                                 "main.shop.orders apply_changes scd2 +deletes",
                                 "main.shop.events append scd1",
                                 "main.shop.products apply_changes_from_snapshot scd1"));
  EXPECT_EQ(spec.table_path(spec.tables[1]), "lakeflow-data/main/shop/orders");
  EXPECT_EQ(spec.tables[1].table_options, (Options{{"max_records_per_batch", "5"}}));
  EXPECT_EQ(spec.tables[3].table_options, (Options{{"page_size", "4"}}));
}

TEST(Examples, FhirPipelineLandsElevenResourceTypesInTheLakehouse) {
  const PipelineSpec spec = load_pipeline_spec(kExamples / "fhir_pipeline.yaml");
  EXPECT_EQ(spec.connection_name, "local_fhir");
  const std::filesystem::path root = (kExamples / ".." / "lakehouse").lexically_normal();
  EXPECT_EQ(spec.destination_root, root);
  ASSERT_EQ(spec.tables.size(), 11u);
  EXPECT_EQ(spec.table_path(spec.tables[0]), root / "main" / "fhir" / "Patient");
  EXPECT_EQ(spec.tables[1].source_table, "Observation");
  EXPECT_EQ(spec.tables[1].scd_type, ScdSetting::kType2);
  EXPECT_EQ(spec.tables[1].table_options,
            (Options{{"page_size", "50"}, {"max_records_per_batch", "100"}}));
}

TEST(Examples, PostgresPipelineReadsTablesAndAViewOfTheLocalDatabase) {
  const PipelineSpec spec = load_pipeline_spec(kExamples / "postgres_pipeline.yaml");
  EXPECT_EQ(spec.connection_name, "local_postgres");
  ASSERT_EQ(spec.tables.size(), 3u);
  EXPECT_EQ(spec.tables[0].source_table, "public.items");
  EXPECT_EQ(spec.tables[1].scd_type, ScdSetting::kType2);
  EXPECT_EQ(spec.tables[2].primary_keys, std::vector<std::string>{"id"});
  const EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    return "value-of-" + std::string(name);
  };
  const Connections connections = load_connections(kExamples / "connections.yaml", env);
  const Connection& postgres = connections.get("local_postgres");
  EXPECT_EQ(postgres.connector, "postgres");
  EXPECT_EQ(postgres.options.find("password"), "value-of-PG_PASSWORD");
}

TEST(Examples, DicomwebPipelinePlansItsFourTablesAsUpserts) {
  const PipelineSpec spec = load_pipeline_spec(kExamples / "dicomweb_pipeline.yaml");
  EXPECT_EQ(spec.connection_name, "pacs");
  ASSERT_EQ(spec.tables.size(), 4u);
  // What the dicomweb connector reports: cdc by UID, ordered by study_date.
  const StructType schema{{"study_instance_uid", DataType::String(), false},
                          {"series_instance_uid", DataType::String()},
                          {"sop_instance_uid", DataType::String()},
                          {"study_date", DataType::String()}};
  std::vector<std::string> flows;
  for (const TableSpec& table : spec.tables) {
    EXPECT_EQ(table.destination_schema, "imaging");
    TableMetadata metadata;
    metadata.ingestion_type = IngestionType::kCdc;
    metadata.cursor_field = "study_date";
    metadata.primary_keys = {table.source_table == "studies"  ? "study_instance_uid"
                             : table.source_table == "series" ? "series_instance_uid"
                                                              : "sop_instance_uid"};
    const TablePlan plan = plan_table(table, metadata, schema, test_destination());
    flows.push_back(fmt::format("{} {}", plan.destination, to_string(plan.flow)));
  }
  EXPECT_THAT(flows,
              ElementsAre("main.imaging.studies apply_changes", "main.imaging.series apply_changes",
                          "main.imaging.instances apply_changes",
                          "main.imaging.instance_metadata apply_changes"));
  EXPECT_EQ(spec.tables[2].table_options, (Options{{"page_size", "500"}, {"lookback_days", "2"}}));
  const EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "DICOMWEB_BASE_URL") return "http://127.0.0.1:8042/dicom-web";
    return std::nullopt;
  };
  const Connections connections = load_connections(kExamples / "connections.yaml", env);
  const Connection& pacs = connections.get("pacs");
  EXPECT_EQ(pacs.connector, "dicomweb");
  EXPECT_EQ(pacs.options, (Options{{"base_url", "http://127.0.0.1:8042/dicom-web"},
                                   {"connection_name", "pacs"}}));
}

TEST(Examples, ExampleConnectionTakesCredentialsFromTheEnvironment) {
  const auto path = kExamples / "connections.yaml";
  const EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "EXAMPLE_USERNAME") return "demo-user";
    if (name == "EXAMPLE_PASSWORD") return "demo-password";
    return std::nullopt;
  };
  const Connections connections = load_connections(path, env);
  const Connection& connection = connections.get("example_shop");
  EXPECT_EQ(connection.connector, "example");
  EXPECT_EQ(connection.options,
            (Options{{"username", "demo-user"}, {"password", "demo-password"}}));
  EXPECT_THAT(connection.secret_values, UnorderedElementsAre("demo-user", "demo-password"));

  const std::string message = error_message<ConfigError>([&] {
    load_connections(path, [](std::string_view) { return std::nullopt; }).get("example_shop");
  });
  EXPECT_THAT(message, HasSubstr("connection 'example_shop' option 'username': environment "
                                 "variable EXAMPLE_USERNAME is not set"));

  const EnvLookup fhir_env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "FHIR_BASE_URL") return "http://127.0.0.1:8080/fhir";
    return std::nullopt;
  };
  const Connections with_fhir = load_connections(path, fhir_env);
  const Connection& fhir = with_fhir.get("local_fhir");
  EXPECT_EQ(fhir.connector, "fhir");
  EXPECT_EQ(fhir.options, (Options{{"base_url", "http://127.0.0.1:8080/fhir"}}));
}

}  // namespace
}  // namespace lakeflow::pipeline
