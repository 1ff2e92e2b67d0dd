#include "lakeflow/connector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// A connector serving two fixed tables; it overrides nothing optional.
class TwoTableConnector : public LakeflowConnect {
 public:
  using LakeflowConnect::LakeflowConnect;
  using LakeflowConnect::require_table;

  std::vector<std::string> list_tables() override { return {"users", "orders"}; }
  StructType get_table_schema(std::string_view table, const Options&) override {
    require_table(table);
    return StructType{{"id", DataType::Long(), false}};
  }
  TableMetadata read_table_metadata(std::string_view table, const Options&) override {
    require_table(table);
    return {{"id"}, std::nullopt, IngestionType::kSnapshot};
  }
  ReadResult read_table(std::string_view table, const Offset&, const Options&) override {
    require_table(table);
    return {RecordStream::of(std::vector<std::string>{R"({"id":1})"}), Offset::null()};
  }
};

StructType users_schema() {
  return StructType{
      {"id", DataType::Long(), false},
      {"name", DataType::String()},
      {"meta",
       StructType{{"lastUpdated", DataType::Timestamp()}, {"versionId", DataType::String()}}},
  };
}

// Runs `f`, expects a SchemaError and returns its message.
template <typename F>
std::string schema_error(F&& f) {
  try {
    f();
  } catch (const SchemaError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kSchema);
    return e.what();
  }
  ADD_FAILURE() << "expected a SchemaError";
  return "";
}

TEST(IngestionType, RoundTripsThroughItsName) {
  for (IngestionType type : {IngestionType::kSnapshot, IngestionType::kCdc,
                             IngestionType::kCdcWithDeletes, IngestionType::kAppend}) {
    EXPECT_EQ(parse_ingestion_type(to_string(type)), type);
  }
  EXPECT_EQ(to_string(IngestionType::kSnapshot), "snapshot");
  EXPECT_EQ(to_string(IngestionType::kCdc), "cdc");
  EXPECT_EQ(to_string(IngestionType::kCdcWithDeletes), "cdc_with_deletes");
  EXPECT_EQ(to_string(IngestionType::kAppend), "append");
}

TEST(IngestionType, ParseRejectsUnknownNamesListingAccepted) {
  EXPECT_EQ(
      schema_error([] { parse_ingestion_type("CDC"); }),
      "unknown ingestion type 'CDC'; expected one of snapshot, cdc, cdc_with_deletes, append");
  EXPECT_THAT(schema_error([] { parse_ingestion_type(""); }),
              HasSubstr("unknown ingestion type ''"));
}

TEST(ValidateTableMetadata, AcceptsCompleteMetadata) {
  const StructType schema = users_schema();
  EXPECT_NO_THROW(validate_table_metadata(
      "users", {{"id"}, "meta.lastUpdated", IngestionType::kCdcWithDeletes}, schema));
  EXPECT_NO_THROW(validate_table_metadata(
      "users", {{"id", "name"}, "meta.lastUpdated", IngestionType::kCdc}, schema));
  EXPECT_NO_THROW(
      validate_table_metadata("users", {{"id"}, std::nullopt, IngestionType::kSnapshot}, schema));
  EXPECT_NO_THROW(validate_table_metadata(
      "users", {{"meta.versionId"}, "name", IngestionType::kSnapshot}, schema));
}

TEST(ValidateTableMetadata, AppendNeedsNothing) {
  EXPECT_NO_THROW(validate_table_metadata("events", {{}, std::nullopt, IngestionType::kAppend},
                                          users_schema()));
  EXPECT_NO_THROW(validate_table_metadata(
      "events", {{"id"}, "meta.lastUpdated", IngestionType::kAppend}, users_schema()));
}

TEST(ValidateTableMetadata, AppendKeysAndCursorMustStillResolve) {
  EXPECT_THAT(schema_error([] {
                validate_table_metadata("events", {{"nope"}, "gone", IngestionType::kAppend},
                                        users_schema());
              }),
              AllOf(HasSubstr("primary key 'nope' is not a field of the schema"),
                    HasSubstr("cursor field 'gone' is not a field of the schema")));
}

TEST(ValidateTableMetadata, CollectsEveryProblemIntoOneError) {
  EXPECT_EQ(
      schema_error([] {
        validate_table_metadata("users", {{}, "updated", IngestionType::kCdc}, users_schema());
      }),
      "table 'users': metadata does not match the schema: ingestion type cdc needs primary "
      "keys; cursor field 'updated' is not a field of the schema (fields: id, name, meta)");
}

TEST(ValidateTableMetadata, NonAppendTypesNeedPrimaryKeys) {
  for (IngestionType type :
       {IngestionType::kSnapshot, IngestionType::kCdc, IngestionType::kCdcWithDeletes}) {
    EXPECT_THAT(schema_error([&] {
                  validate_table_metadata("users", {{}, "name", type}, users_schema());
                }),
                HasSubstr(std::string("ingestion type ") + std::string(to_string(type)) +
                          " needs primary keys"));
  }
}

TEST(ValidateTableMetadata, CdcTypesNeedACursor) {
  for (IngestionType type : {IngestionType::kCdc, IngestionType::kCdcWithDeletes}) {
    for (std::optional<std::string> cursor :
         {std::optional<std::string>(), std::optional<std::string>("")}) {
      const std::string message = schema_error([&] {
        validate_table_metadata("users", {{"id"}, cursor, type}, users_schema());
      });
      EXPECT_THAT(message, HasSubstr(std::string("ingestion type ") + std::string(to_string(type)) +
                                     " needs a cursor field"));
      EXPECT_THAT(message, Not(HasSubstr("primary keys")));
    }
  }
}

TEST(ValidateTableMetadata, SnapshotNeedsNoCursor) {
  EXPECT_NO_THROW(validate_table_metadata("users", {{"id"}, std::nullopt, IngestionType::kSnapshot},
                                          users_schema()));
}

TEST(ValidateTableMetadata, UnresolvedNestedPathListsTheFieldsOfTheStructItReached) {
  EXPECT_THAT(schema_error([] {
                validate_table_metadata("users", {{"id"}, "meta.updated", IngestionType::kCdc},
                                        users_schema());
              }),
              HasSubstr("cursor field 'meta.updated' is not a field of the schema (fields of "
                        "'meta': lastUpdated, versionId)"));
}

TEST(ValidateTableMetadata, PathThroughANonStructSaysSo) {
  EXPECT_THAT(schema_error([] {
                validate_table_metadata("users",
                                        {{"name.first"}, "meta.lastUpdated", IngestionType::kCdc},
                                        users_schema());
              }),
              HasSubstr("primary key 'name.first' is not a field of the schema ('name' is "
                        "string, not a struct)"));
}

TEST(ValidateTableMetadata, UnresolvedPrimaryKeysAreEachReported) {
  const std::string message = schema_error([] {
    validate_table_metadata("users",
                            {{"id", "tenant", "region"}, std::nullopt, IngestionType::kSnapshot},
                            users_schema());
  });
  EXPECT_THAT(message, HasSubstr("primary key 'tenant' is not a field of the schema"));
  EXPECT_THAT(message, HasSubstr("; primary key 'region' is not a field of the schema"));
  EXPECT_THAT(message, Not(HasSubstr("'id'")));
}

TEST(ValidateTableMetadata, DuplicatePrimaryKeysAreReported) {
  EXPECT_THAT(schema_error([] {
                validate_table_metadata("users",
                                        {{"id", "id"}, std::nullopt, IngestionType::kSnapshot},
                                        users_schema());
              }),
              HasSubstr("primary key 'id' is listed more than once"));
}

TEST(ValidateTableMetadata, LongFieldListsAreCapped) {
  std::vector<StructField> fields;
  for (int i = 0; i < 40; ++i) fields.emplace_back("f" + std::to_string(i), DataType::String());
  const std::string message = schema_error([&] {
    validate_table_metadata("wide", {{"missing"}, std::nullopt, IngestionType::kSnapshot},
                            StructType(fields));
  });
  EXPECT_THAT(message, HasSubstr("f29, ... (10 more)"));
  EXPECT_THAT(message, Not(HasSubstr("f30")));
}

TEST(LakeflowConnect, KeepsItsOptions) {
  TwoTableConnector connector(Options{{"base_url", "http://x"}});
  EXPECT_EQ(connector.options().get_string("base_url"), "http://x");
}

TEST(LakeflowConnect, RequireTableAcceptsServedTables) {
  TwoTableConnector connector(Options{});
  EXPECT_NO_THROW(connector.require_table("users"));
  EXPECT_NO_THROW(connector.require_table("orders"));
}

TEST(LakeflowConnect, RequireTableRejectsUnknownTables) {
  TwoTableConnector connector(Options{});
  try {
    connector.require_table("Users");
    FAIL() << "expected UnknownTableError";
  } catch (const UnknownTableError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnknownTable);
    EXPECT_EQ(e.table(), "Users");
    EXPECT_STREQ(e.what(),
                 "unknown table 'Users'; this connector serves: users, orders (names are "
                 "case-sensitive)");
  }
}

TEST(LakeflowConnect, RequireTableOfAConnectorWithoutTables) {
  class NoTables : public TwoTableConnector {
   public:
    using TwoTableConnector::TwoTableConnector;
    std::vector<std::string> list_tables() override { return {}; }
  };
  NoTables connector(Options{});
  try {
    connector.require_table("users");
    FAIL() << "expected UnknownTableError";
  } catch (const UnknownTableError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown table 'users'; this connector serves no tables"));
  }
}

TEST(LakeflowConnect, UnknownTableErrorSurvivesCopyAsError) {
  TwoTableConnector connector(Options{});
  try {
    connector.require_table("x");
    FAIL() << "expected UnknownTableError";
  } catch (const Error& e) {
    const Error& as_error = e;
    EXPECT_EQ(as_error.code(), ErrorCode::kUnknownTable);
    EXPECT_THAT(as_error.what(), HasSubstr("serves: users, orders"));
  }
}

TEST(LakeflowConnect, ReadTableDeletesDefaultChecksTheTableFirst) {
  TwoTableConnector connector(Options{});
  EXPECT_THROW(connector.read_table_deletes("nope", Offset(), Options{}), UnknownTableError);
}

TEST(LakeflowConnect, ReadTableDeletesDefaultIsNotImplemented) {
  TwoTableConnector connector(Options{});
  try {
    connector.read_table_deletes("users", Offset(), Options{});
    FAIL() << "expected NotImplementedError";
  } catch (const NotImplementedError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotImplemented);
    EXPECT_THAT(e.what(), AllOf(HasSubstr("table 'users'"),
                                HasSubstr("connector does not implement read_table_deletes; it is "
                                          "required for cdc_with_deletes tables")));
  }
}

TEST(LakeflowConnect, SubclassMethodsUseRequireTable) {
  TwoTableConnector connector(Options{});
  EXPECT_THROW(connector.get_table_schema("nope", Options{}), UnknownTableError);
  EXPECT_THROW(connector.read_table_metadata("nope", Options{}), UnknownTableError);
  EXPECT_THROW(connector.read_table("nope", Offset(), Options{}), UnknownTableError);
  ReadResult result = connector.read_table("users", Offset(), Options{});
  RecordBatch batch;
  ASSERT_TRUE(result.records.next(batch));
  EXPECT_EQ(batch[0], R"({"id":1})");
  EXPECT_TRUE(result.end.is_null());
}

}  // namespace
}  // namespace lakeflow
