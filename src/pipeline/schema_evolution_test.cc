#include "pipeline/schema_evolution.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// {"id": long not null, "name": struct<first: string>, "tags": array<struct<k: string>>,
//  "attrs": map<string, struct<v: int>>, "score": int}
const StructType kTable{
    StructField("id", DataType::Long(), false),
    StructField("name", StructType{StructField("first", DataType::String())}),
    StructField("tags", DataType::Array(StructType{StructField("k", DataType::String())})),
    StructField("attrs", DataType::Map(DataType::String(),
                                       StructType{StructField("v", DataType::Integer())})),
    StructField("score", DataType::Integer())};

std::string error_of(const StructType& source, SchemaEvolution mode,
                     std::vector<std::string> keep = {}) {
  try {
    evolve_schema(kTable, source, mode, keep, "main.default.t", "t");
  } catch (const ConfigError& error) {
    return error.what();
  }
  ADD_FAILURE() << "the change was accepted";
  return "";
}

TEST(SchemaEvolution, AnUnchangedSchemaStaysAsItIs) {
  const EvolvedSchema evolved =
      evolve_schema(kTable, kTable, SchemaEvolution::kNone, {}, "main.default.t", "t");
  EXPECT_EQ(evolved.schema, kTable);
  EXPECT_TRUE(evolved.changes.empty());
  EXPECT_FALSE(evolved.widened);
}

TEST(SchemaEvolution, AddsColumnsAndFieldsAtAnyDepthAsNullable) {
  const StructType source{
      StructField("id", DataType::Long(), false),
      StructField("name", StructType{StructField("first", DataType::String()),
                                     StructField("last", DataType::String(), false)}),
      StructField("tags", DataType::Array(StructType{StructField("k", DataType::String()),
                                                     StructField("v", DataType::Long())})),
      StructField("attrs", DataType::Map(DataType::String(),
                                         StructType{StructField("v", DataType::Integer()),
                                                    StructField("w", DataType::Double())})),
      StructField("score", DataType::Integer()),
      StructField("note", DataType::String(), false)};
  const EvolvedSchema evolved =
      evolve_schema(kTable, source, SchemaEvolution::kAdditive, {}, "main.default.t", "t");
  EXPECT_THAT(evolved.changes,
              ElementsAre("added column name.last (string)", "added column tags.v (bigint)",
                          "added column attrs.w (double)", "added column note (string)"));
  const StructType expected{
      StructField("id", DataType::Long(), false),
      StructField("name", StructType{StructField("first", DataType::String()),
                                     StructField("last", DataType::String(), true)}),
      StructField("tags", DataType::Array(StructType{StructField("k", DataType::String()),
                                                     StructField("v", DataType::Long())})),
      StructField("attrs", DataType::Map(DataType::String(),
                                         StructType{StructField("v", DataType::Integer()),
                                                    StructField("w", DataType::Double())})),
      StructField("score", DataType::Integer()),
      StructField("note", DataType::String(), true)};
  EXPECT_EQ(evolved.schema, expected);
}

TEST(SchemaEvolution, RelaxesNullabilityAndKeepsColumnsTheSourceDropped) {
  const StructType source{
      StructField("id", DataType::Long(), true),
      StructField("name", StructType{StructField("first", DataType::String())}),
      StructField("tags", DataType::Array(StructType{StructField("k", DataType::String())}))};
  const EvolvedSchema evolved =
      evolve_schema(kTable, source, SchemaEvolution::kAdditive, {}, "main.default.t", "t");
  EXPECT_THAT(evolved.changes, ElementsAre("column id is nullable now"));
  EXPECT_TRUE(evolved.schema.fields()[0].nullable);
  EXPECT_EQ(evolved.schema.size(), 5u);  // attrs and score stay, holding null from now on
}

TEST(SchemaEvolution, WidensOnlyWhenAskedAndRecordsTheChange) {
  const StructType source{
      StructField("id", DataType::Long(), false),
      StructField("name", StructType{StructField("first", DataType::String())}),
      StructField("tags", DataType::Array(StructType{StructField("k", DataType::String())})),
      StructField("attrs", DataType::Map(DataType::String(),
                                         StructType{StructField("v", DataType::Long())})),
      StructField("score", DataType::Long())};
  EXPECT_THAT(error_of(source, SchemaEvolution::kAdditive),
              HasSubstr("score widens from int to bigint, and schema_evolution is not widen"));
  const EvolvedSchema evolved =
      evolve_schema(kTable, source, SchemaEvolution::kWiden, {}, "main.default.t", "t");
  EXPECT_TRUE(evolved.widened);
  EXPECT_THAT(evolved.changes, ElementsAre("widened column attrs.v from int to bigint",
                                           "widened column score from int to bigint"));
  EXPECT_EQ(evolved.schema.fields()[4].metadata_json,
            R"({"delta.typeChanges":[{"fromType":"integer","toType":"long"}]})");
  EXPECT_EQ(evolved.schema.fields()[3].type.value_type().fields()[0].metadata_json,
            R"({"delta.typeChanges":[{"fromType":"integer","toType":"long"}]})");
}

TEST(SchemaEvolution, WideningsFollowDeltasTable) {
  const auto widens = [](DataType from, DataType to) {
    try {
      evolve_schema(StructType{StructField("c", from)}, StructType{StructField("c", to)},
                    SchemaEvolution::kWiden, {}, "t", "t");
      return true;
    } catch (const ConfigError&) {
      return false;
    }
  };
  EXPECT_TRUE(widens(DataType::Byte(), DataType::Short()));
  EXPECT_TRUE(widens(DataType::Short(), DataType::Long()));
  EXPECT_TRUE(widens(DataType::Float(), DataType::Double()));
  EXPECT_TRUE(widens(DataType::Date(), DataType::TimestampNtz()));
  EXPECT_TRUE(widens(DataType::Decimal(10, 1), DataType::Decimal(12, 3)));
  EXPECT_TRUE(widens(DataType::Decimal(10, 2), DataType::Decimal(12, 2)));
  EXPECT_FALSE(widens(DataType::Decimal(10, 1), DataType::Decimal(11, 3)));  // fewer int digits
  EXPECT_FALSE(widens(DataType::Long(), DataType::Integer()));
  EXPECT_FALSE(widens(DataType::Integer(), DataType::Double()));
  EXPECT_FALSE(widens(DataType::Date(), DataType::Timestamp()));
  EXPECT_FALSE(widens(DataType::String(), DataType::Long()));
  // Inside an array, the change names its place in the field.
  const EvolvedSchema evolved =
      evolve_schema(StructType{StructField("a", DataType::Array(DataType::Integer()))},
                    StructType{StructField("a", DataType::Array(DataType::Long()))},
                    SchemaEvolution::kWiden, {}, "t", "t");
  EXPECT_EQ(
      evolved.schema.fields()[0].metadata_json,
      R"({"delta.typeChanges":[{"fieldPath":"element","fromType":"integer","toType":"long"}]})");
}

TEST(SchemaEvolution, IncompatibleChangesNameEveryColumnAndTheWaysForward) {
  const StructType source{
      StructField("name", DataType::String()),
      StructField("tags", DataType::Array(StructType{StructField("k", DataType::Long())})),
      StructField("attrs", DataType::Map(DataType::String(),
                                         StructType{StructField("v", DataType::Integer())})),
      StructField("score", DataType::Short())};
  const std::string error = error_of(source, SchemaEvolution::kWiden);
  for (const char* part :
       {"table 'main.default.t'",
        "id is no longer in the source's schema and the table holds it "
        "as non-nullable (bigint NOT NULL)",
        "name changed from struct<first:string> to string", "tags.k changed from string to bigint",
        "score changed from int to smallint", "Nothing was written", "--full-refresh --tables t",
        "keep_columns: [id, name, tags.k, score]"}) {
    EXPECT_THAT(error, HasSubstr(part));
  }
}

TEST(SchemaEvolution, KeepColumnsKeepsTheTablesColumns) {
  const StructType source{
      StructField("name", DataType::String()),
      StructField("tags", DataType::Array(StructType{StructField("k", DataType::String())})),
      StructField("attrs", DataType::Map(DataType::String(),
                                         StructType{StructField("v", DataType::Integer())})),
      StructField("score", DataType::Long())};
  const EvolvedSchema evolved = evolve_schema(kTable, source, SchemaEvolution::kAdditive,
                                              {"id", "name", "score"}, "main.default.t", "t");
  EXPECT_THAT(evolved.changes,
              ElementsAre("kept column id that the source no longer sends, now nullable",
                          "kept column name as struct<first:string> (the source now sends string)",
                          "kept column score as int (the source now sends bigint)"));
  EXPECT_EQ(evolved.schema.fields()[1], kTable.fields()[1]);
  EXPECT_EQ(evolved.schema.fields()[4], kTable.fields()[4]);
  EXPECT_FALSE(evolved.widened);
}

TEST(SchemaEvolution, NoneRefusesEvenAdditiveChanges) {
  std::vector<StructField> fields = kTable.fields();
  fields.emplace_back("note", DataType::String());
  EXPECT_THAT(
      error_of(StructType(fields), SchemaEvolution::kNone),
      HasSubstr("note (string) is new in the source's schema and schema_evolution is none"));
  EXPECT_EQ(parse_schema_evolution("widen"), SchemaEvolution::kWiden);
  EXPECT_THROW(parse_schema_evolution("merge"), ConfigError);
}

}  // namespace
}  // namespace lakeflow::pipeline
