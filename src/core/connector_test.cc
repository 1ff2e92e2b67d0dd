#include "lakeflow/connector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/instant.h"

namespace lakeflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

const ConnectorSpec& two_table_spec() {
  static const ConnectorSpec spec("two_tables", {{"base_url", true, false}, {"token", false, true}},
                                  {"page_size", "max_records_per_batch"});
  return spec;
}

// A connector serving two fixed tables; it overrides nothing optional and records what its hooks
// were given.
class TwoTableConnector : public LakeflowConnect {
 public:
  explicit TwoTableConnector(const Options& options) : LakeflowConnect(two_table_spec(), options) {}

  int hook_calls = 0;
  Options last_table_options;
  std::optional<std::int64_t> last_batch_option;
  std::int64_t last_max_records = 0;
  std::int64_t last_cap = 0;

  using LakeflowConnect::set_read_cap;

 protected:
  std::vector<std::string> do_list_tables() override { return {"users", "orders"}; }
  StructType do_get_table_schema(const TableContext& context) override {
    ++hook_calls;
    last_table_options = context.table_options;
    return StructType{{"id", DataType::Long(), false}};
  }
  TableMetadata do_read_table_metadata(const TableContext& context) override {
    ++hook_calls;
    last_table_options = context.table_options;
    return {{"id"}, std::nullopt, IngestionType::kSnapshot};
  }
  ReadResult do_read_table(const ReadContext& context) override {
    ++hook_calls;
    last_table_options = context.table_options;
    last_batch_option = context.max_records_per_batch;
    last_max_records = context.max_records();
    last_cap = context.read_cap.micros;
    return {RecordStream::of(std::vector<std::string>{R"({"id":1})"}), Offset::null()};
  }
};

const Options kConnection{{"base_url", "http://x"}};

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
  TwoTableConnector connector(kConnection);
  EXPECT_EQ(connector.options().get_string("base_url"), "http://x");
}

TEST(LakeflowConnect, RejectsAnUnknownConnectionOptionNamingTheAcceptedOnes) {
  try {
    TwoTableConnector connector(Options{{"base_url", "http://x"}, {"tokn", "s3cret-value"}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "two_tables: unknown connection option 'tokn'; the connection options are "
                 "base_url and token (connector_spec.yaml of the connector)");
  }
}

TEST(LakeflowConnect, RefusesToBeMadeWithoutARequiredConnectionOption) {
  // base_url is required by the spec; the connector's own code never asks for it, so only the
  // framework can refuse.
  EXPECT_THROW(TwoTableConnector(Options{{"token", "t"}}), MissingOptionError);
  EXPECT_THROW(TwoTableConnector(Options{{"base_url", ""}}), MissingOptionError);
}

TEST(LakeflowConnect, AcceptsAndDropsTheOptionsSparkAdds) {
  TwoTableConnector connector(Options{{"base_url", "http://x"},
                                      {"databricks.connection", "my_connection"},
                                      {"tableName", "users"}});
  EXPECT_EQ(connector.options(), kConnection);
  connector.get_table_schema(
      "users", Options{{"tableName", "users"}, {"isDeleteFlow", "true"}, {"page_size", "5"}});
  EXPECT_EQ(connector.last_table_options, (Options{{"page_size", "5"}}));
}

TEST(LakeflowConnect, EveryMethodRejectsAnUnknownTableBeforeItsHook) {
  TwoTableConnector connector(kConnection);
  try {
    connector.get_table_schema("Users", {});
    FAIL() << "expected UnknownTableError";
  } catch (const UnknownTableError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnknownTable);
    EXPECT_EQ(e.table(), "Users");
    EXPECT_STREQ(e.what(),
                 "unknown table 'Users'; this connector serves: users, orders (names are "
                 "case-sensitive)");
  }
  EXPECT_THROW(connector.read_table_metadata("x", {}), UnknownTableError);
  EXPECT_THROW(connector.read_table("x", Offset(), {}), UnknownTableError);
  EXPECT_THROW(connector.read_table_deletes("nope", Offset(), {}), UnknownTableError);
  EXPECT_EQ(connector.hook_calls, 0);
  EXPECT_NO_THROW(connector.get_table_schema("orders", {}));
  EXPECT_EQ(connector.hook_calls, 1);
}

TEST(LakeflowConnect, UnknownTableOfAConnectorWithoutTables) {
  class NoTables : public TwoTableConnector {
   public:
    using TwoTableConnector::TwoTableConnector;

   protected:
    std::vector<std::string> do_list_tables() override { return {}; }
  };
  NoTables connector(kConnection);
  try {
    connector.read_table("users", Offset(), {});
    FAIL() << "expected UnknownTableError";
  } catch (const UnknownTableError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown table 'users'; this connector serves no tables"));
  }
}

TEST(LakeflowConnect, RejectsATableOptionOutsideTheAllowList) {
  TwoTableConnector connector(kConnection);
  for (auto call : std::vector<std::function<void()>>{
           [&] {
             connector.get_table_schema("users", {{"colour", "red"}});
           },
           [&] {
             connector.read_table_metadata("users", {{"colour", "red"}});
           },
           [&] {
             connector.read_table("users", Offset(), {{"colour", "red"}});
           }}) {
    try {
      call();
      ADD_FAILURE() << "expected ConfigError";
    } catch (const ConfigError& e) {
      EXPECT_STREQ(e.what(),
                   "two_tables: unknown table option 'colour' for table 'users'; the table "
                   "options are page_size and max_records_per_batch "
                   "(external_options_allowlist of the connector's connector_spec.yaml)");
    }
  }
  EXPECT_EQ(connector.hook_calls, 0);
}

TEST(LakeflowConnect, TheBatchLimitIsOneRuleForEveryConnector) {
  TwoTableConnector connector(kConnection);
  connector.read_table("users", Offset(), {});
  EXPECT_EQ(connector.last_batch_option, std::nullopt);
  EXPECT_EQ(connector.last_max_records, kDefaultMaxRecordsPerBatch);
  connector.read_table("users", Offset(), {{"max_records_per_batch", ""}});
  EXPECT_EQ(connector.last_batch_option, std::nullopt);
  connector.read_table("users", Offset(), {{"max_records_per_batch", "1000000"}});
  EXPECT_EQ(connector.last_max_records, kMaxRecordsPerBatchLimit);
  for (const char* bad : {"0", "1000001", "lots"}) {
    try {
      connector.read_table_metadata("users", {{"max_records_per_batch", bad}});
      ADD_FAILURE() << "accepted " << bad;
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr("two_tables: table 'users': option 'max_records_per_batch': "
                                      "expected an integer in [1, 1000000]"));
    }
  }
}

TEST(LakeflowConnect, TheReadCapIsFixedAtConstructionUnlessTheSourceSetsIt) {
  const auto before = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  TwoTableConnector connector(kConnection);
  EXPECT_GE(connector.read_cap().micros, before);
  EXPECT_EQ(parse_instant(connector.read_cap().text), connector.read_cap().micros);
  connector.set_read_cap("2024-03-02T16:20:00.000000Z");
  EXPECT_EQ(connector.read_cap().text, "2024-03-02T16:20:00.000000Z");
  connector.read_table("users", Offset(), {});
  EXPECT_EQ(connector.last_cap, *parse_instant("2024-03-02T16:20:00Z"));
  EXPECT_THROW(connector.set_read_cap("soon"), SourceError);
}

TEST(LakeflowConnect, ReadTableDeletesDefaultIsNotImplemented) {
  TwoTableConnector connector(kConnection);
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
  TwoTableConnector connector(kConnection);
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
