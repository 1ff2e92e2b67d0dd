#include "pipeline/table_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

StructType schema() {
  return StructType{{"id", DataType::Long(), false},
                    {"org", DataType::String()},
                    {"updated_at", DataType::Timestamp()},
                    {"modified", DataType::Timestamp()},
                    {"version", DataType::Long()},
                    {"tags", DataType::Array(DataType::String())},
                    {"meta", StructType{{"rev", DataType::Long()}}}};
}

TableMetadata metadata(IngestionType type, std::vector<std::string> keys = {"id"},
                       std::optional<std::string> cursor = "updated_at") {
  TableMetadata m;
  m.ingestion_type = type;
  m.primary_keys = std::move(keys);
  m.cursor_field = std::move(cursor);
  return m;
}

// The table entry of a one-table spec whose table_configuration is `config` (YAML flow mapping).
TableSpec table_spec(const std::string& config = "{}") {
  const PipelineSpec spec = parse_pipeline_spec(
      "connection_name: c\nobjects:\n  - table:\n      source_table: items\n"
      "      table_configuration: " +
          config + "\n",
      "spec.yaml");
  return spec.tables[0];
}

TablePlan plan(const std::string& config, const TableMetadata& m) {
  return plan_table(table_spec(config), m, schema(), test_destination());
}

std::string plan_error(const std::string& config, const TableMetadata& m) {
  return error_message<ConfigError>([&] { plan(config, m); });
}

TEST(PlanTable, CdcDefaultsToScd1ApplyChangesWithTheConnectorsKeysAndCursor) {
  const TablePlan p = plan("{}", metadata(IngestionType::kCdc));
  EXPECT_EQ(p.source_table, "items");
  EXPECT_EQ(p.destination, "main.default.items");
  EXPECT_EQ(p.ingestion_type, IngestionType::kCdc);
  EXPECT_EQ(p.flow, TargetFlow::kApplyChanges);
  EXPECT_EQ(p.scd_type, ScdType::kType1);
  EXPECT_THAT(p.primary_keys, ElementsAre("id"));
  EXPECT_EQ(p.sequence_by, "updated_at");
  EXPECT_TRUE(p.incremental);
  EXPECT_FALSE(p.read_deletes);
  EXPECT_EQ(p.target_schema, schema());
  EXPECT_THAT(p.notes, IsEmpty());
}

TEST(PlanTable, Scd2AddsVersionColumnsOfTheSequenceType) {
  const TablePlan p = plan("{scd_type: SCD_TYPE_2}", metadata(IngestionType::kCdc));
  EXPECT_EQ(p.scd_type, ScdType::kType2);
  ASSERT_EQ(p.target_schema.size(), schema().size() + 2);
  EXPECT_EQ(p.target_schema.fields()[7].name, "__START_AT");
  EXPECT_EQ(p.target_schema.fields()[7].type, DataType::Timestamp());
  const TablePlan by_version =
      plan("{scd_type: '2', sequence_by: version}", metadata(IngestionType::kCdc));
  EXPECT_EQ(by_version.target_schema.fields()[8].type, DataType::Long());
}

TEST(PlanTable, SpecKeysAndSequenceOverrideTheConnectors) {
  const TablePlan p =
      plan("{primary_keys: [org, id], sequence_by: modified}", metadata(IngestionType::kCdc));
  EXPECT_THAT(p.primary_keys, ElementsAre("org", "id"));
  EXPECT_EQ(p.sequence_by, "modified");
  const MergeSpec merge = p.merge_spec();
  EXPECT_EQ(merge.table, "main.default.items");
  EXPECT_EQ(merge.primary_keys, p.primary_keys);
  EXPECT_EQ(merge.sequence_by, p.sequence_by);
  EXPECT_EQ(merge.flow, TargetFlow::kApplyChanges);
}

TEST(PlanTable, SequenceFallsBackToTheCursorFieldAndMayBeNested) {
  EXPECT_EQ(plan("{}", metadata(IngestionType::kCdc, {"id"}, "meta.rev")).sequence_by, "meta.rev");
}

TEST(PlanTable, CdcWithDeletesAlsoReadsDeletes) {
  const TablePlan p = plan("{}", metadata(IngestionType::kCdcWithDeletes));
  EXPECT_EQ(p.flow, TargetFlow::kApplyChanges);
  EXPECT_TRUE(p.read_deletes);
}

TEST(PlanTable, SnapshotAppliesChangesFromSnapshotAndIsReadWhole) {
  const TablePlan p =
      plan("{scd_type: SCD_TYPE_2}", metadata(IngestionType::kSnapshot, {"id"}, std::nullopt));
  EXPECT_EQ(p.flow, TargetFlow::kApplyChangesFromSnapshot);
  EXPECT_FALSE(p.incremental);
  EXPECT_FALSE(p.read_deletes);
  EXPECT_EQ(p.sequence_by, std::nullopt);
  EXPECT_EQ(p.target_schema.fields().back().type, DataType::Timestamp());
  const TablePlan ignored =
      plan("{sequence_by: version}", metadata(IngestionType::kSnapshot, {"id"}, std::nullopt));
  EXPECT_THAT(ignored.notes, ElementsAre(HasSubstr("sequence_by is ignored for a snapshot table")));
}

TEST(PlanTable, AppendFromTheConnectorNeedsNoKeys) {
  const TablePlan p = plan("{}", metadata(IngestionType::kAppend, {}, std::nullopt));
  EXPECT_EQ(p.flow, TargetFlow::kAppend);
  EXPECT_THAT(p.primary_keys, IsEmpty());
  EXPECT_EQ(p.sequence_by, std::nullopt);
  EXPECT_EQ(p.target_schema, schema());
  EXPECT_THAT(p.notes, IsEmpty());
}

TEST(PlanTable, AppendOnlyForcesAppend) {
  const TablePlan p = plan("{scd_type: APPEND_ONLY}", metadata(IngestionType::kCdcWithDeletes));
  EXPECT_EQ(p.source_ingestion_type, IngestionType::kCdcWithDeletes);
  EXPECT_EQ(p.ingestion_type, IngestionType::kAppend);
  EXPECT_EQ(p.flow, TargetFlow::kAppend);
  EXPECT_FALSE(p.read_deletes);
  EXPECT_TRUE(p.incremental);
  const TablePlan snapshot =
      plan("{scd_type: append_only}", metadata(IngestionType::kSnapshot, {"id"}, std::nullopt));
  EXPECT_FALSE(snapshot.incremental);
  EXPECT_THAT(snapshot.notes, ElementsAre(HasSubstr("appends the whole table on every run")));
}

TEST(PlanTable, SettingsThatDoNotApplyToAppendAreNoted) {
  const TablePlan p = plan("{scd_type: SCD_TYPE_2, primary_keys: [id]}",
                           metadata(IngestionType::kAppend, {}, std::nullopt));
  EXPECT_THAT(p.notes, ElementsAre(HasSubstr("scd_type SCD_TYPE_2 is ignored: the connector reads "
                                             "it as append"),
                                   HasSubstr("primary_keys and sequence_by are ignored")));
}

TEST(PlanTable, TableOptionsAndClusterByPassThrough) {
  const TablePlan p =
      plan("{max_records_per_batch: 10, cluster_by: org}", metadata(IngestionType::kCdc));
  EXPECT_EQ(p.table_options, (Options{{"max_records_per_batch", "10"}}));
  EXPECT_THAT(p.cluster_by, ElementsAre("org"));
}

TEST(PlanTable, MissingKeysNameTheTableAndWhereToSetThem) {
  const std::string message = plan_error("{}", metadata(IngestionType::kCdc, {}));
  EXPECT_THAT(message, HasSubstr("spec.yaml:4:7: table 'items' (apply_changes): needs primary "
                                 "keys; the connector reports none, set "
                                 "table_configuration.primary_keys"));
  EXPECT_THAT(plan_error("{}", metadata(IngestionType::kSnapshot, {}, std::nullopt)),
              HasSubstr("table 'items' (apply_changes_from_snapshot): needs primary keys"));
}

TEST(PlanTable, MissingSequenceNamesTheTable) {
  EXPECT_THAT(plan_error("{}", metadata(IngestionType::kCdc, {"id"}, std::nullopt)),
              HasSubstr("spec.yaml:4:7: table 'items' (apply_changes): needs a sequence column; "
                        "the connector reports no cursor field, set "
                        "table_configuration.sequence_by"));
}

TEST(PlanTable, BadColumnsSayWhetherTheSpecOrTheConnectorChoseThem) {
  EXPECT_THAT(plan_error("{primary_keys: [idd]}", metadata(IngestionType::kCdc)),
              HasSubstr("table 'items' (apply_changes): primary key 'idd' is not a column of the "
                        "table (columns: id, org, updated_at, modified, version, tags, meta) [set "
                        "by table_configuration.primary_keys]"));
  EXPECT_THAT(plan_error("{}", metadata(IngestionType::kCdc, {"ID"})),
              HasSubstr("primary key 'ID' is not a column of the table (columns: id, org, "
                        "updated_at, modified, version, tags, meta) [reported by the connector; "
                        "override with table_configuration.primary_keys]"));
  EXPECT_THAT(plan_error("{sequence_by: tags}", metadata(IngestionType::kCdc)),
              HasSubstr("sequence_by column 'tags' is a array<string> column; it must be a "
                        "number, string, boolean, date or timestamp column [set by "
                        "table_configuration.sequence_by]"));
  EXPECT_THAT(plan_error("{}", metadata(IngestionType::kCdc, {"id"}, "meta")),
              HasSubstr("sequence_by column 'meta' is a struct<rev:bigint> column; it must be a "
                        "number, string, boolean, date or timestamp column [the connector's "
                        "cursor field; override with table_configuration.sequence_by]"));
  EXPECT_THAT(plan_error("{cluster_by: [nope]}", metadata(IngestionType::kCdc)),
              HasSubstr("table 'items': cluster_by column 'nope' is not a column of the table"));
}

TEST(PlanTable, ClusterByTakesUpToFourColumnsOrStructFieldsWithStatistics) {
  const TablePlan p =
      plan("{cluster_by: [org, meta.rev, updated_at, id]}", metadata(IngestionType::kCdc));
  EXPECT_EQ(p.clustering_columns(),
            (std::vector<FieldPath>{{"org"}, {"meta", "rev"}, {"updated_at"}, {"id"}}));
  // SCD type 2's version columns are columns of the table too.
  EXPECT_NO_THROW(
      plan("{scd_type: SCD_TYPE_2, cluster_by: __START_AT}", metadata(IngestionType::kCdc)));
}

TEST(PlanTable, BadClusterByColumnsSayWhatIsWrongAndWhatIsAccepted) {
  const TableMetadata cdc = metadata(IngestionType::kCdc);
  EXPECT_THAT(plan_error("{cluster_by: meta}", cdc),
              HasSubstr("spec.yaml:4:7: table 'items': cluster_by column 'meta' is a "
                        "struct<rev:bigint> column; clustering columns must be numbers, strings, "
                        "dates or timestamps, the types Delta keeps min/max statistics for"));
  EXPECT_THAT(plan_error("{cluster_by: tags}", cdc),
              HasSubstr("cluster_by column 'tags' is a array<string> column"));
  EXPECT_THAT(plan_error("{cluster_by: tags.x}", cdc),
              HasSubstr("cluster_by column 'tags.x' is not a column of the table"));
  EXPECT_THAT(plan_error("{cluster_by: [id, org, version, modified, updated_at]}", cdc),
              HasSubstr("cluster_by names 5 columns (id, org, version, modified, updated_at); "
                        "Delta clustering takes at most 4"));
  EXPECT_THAT(plan_error("{cluster_by: [org, org]}", cdc),
              HasSubstr("cluster_by column 'org' is listed twice"));
  for (const DataType& type : {DataType::Boolean(), DataType::Binary(), DataType::Variant(),
                               DataType::Map(DataType::String(), DataType::Long())}) {
    const StructType with{
        {"id", DataType::Long()}, {"updated_at", DataType::Timestamp()}, {"c", type}};
    EXPECT_THAT(error_message<ConfigError>([&] {
                  plan_table(table_spec("{cluster_by: c}"), cdc, with, test_destination());
                }),
                HasSubstr("cluster_by column 'c' is a " + type.simple_string() + " column"));
  }
  // Delta collects statistics for the first 32 columns (struct fields counted one by one).
  std::vector<StructField> fields{{"id", DataType::Long()}, {"updated_at", DataType::Timestamp()}};
  std::vector<StructField> wide;
  for (int i = 0; i < 30; ++i) wide.emplace_back("f" + std::to_string(i), DataType::Long());
  fields.emplace_back("wide", StructType(wide));
  fields.emplace_back("late", DataType::Long());
  const StructType many(fields);
  EXPECT_NO_THROW(plan_table(table_spec("{cluster_by: wide.f29}"), cdc, many, test_destination()));
  EXPECT_THAT(error_message<ConfigError>([&] {
                plan_table(table_spec("{cluster_by: late}"), cdc, many, test_destination());
              }),
              HasSubstr("cluster_by column 'late' is not among the first 32 columns Delta "
                        "collects statistics for"));
}

TEST(PlanTable, Scd2OverASourceWithVersionColumnsIsAnError) {
  const StructType with_start{{"id", DataType::Long()},
                              {"updated_at", DataType::Timestamp()},
                              {"__START_AT", DataType::Timestamp()}};
  EXPECT_THAT(error_message<ConfigError>([&] {
                plan_table(table_spec("{scd_type: SCD_TYPE_2}"), metadata(IngestionType::kCdc),
                           with_start, test_destination());
              }),
              HasSubstr("spec.yaml:4:7: table 'main.default.items': the source already has a "
                        "column '__START_AT'"));
  // SCD type 1 keeps such a column as it is.
  EXPECT_THAT(
      plan_table(table_spec(), metadata(IngestionType::kCdc), with_start, test_destination())
          .target_schema.fields(),
      SizeIs(3));
}

}  // namespace
}  // namespace lakeflow::pipeline
