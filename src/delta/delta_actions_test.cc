#include "delta/delta_actions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace lakeflow::delta {
namespace {

using ::testing::HasSubstr;

Action parse_line(std::string_view line) {
  std::optional<Action> action = action_from_json(JsonValue::parse(line), "test.json line 1");
  EXPECT_TRUE(action.has_value()) << line;
  return action.value_or(Action{});
}

TEST(DeltaActions, EveryActionRoundTripsThroughItsJsonLine) {
  MetadataAction metadata;
  metadata.id = "af23c9d7-fff1-4a5a-a2c8-55c59bd782aa";
  metadata.name = "events";
  metadata.schema_string = StructType{{"id", DataType::Long(), false}}.json();
  metadata.configuration = {{"lakeflow.offset", R"({"cursor":"x"})"}, {"appendOnly", "false"}};
  metadata.created_time = 1700000000000;
  AddFile add{"part-0001.parquet",
              {},
              1234,
              1700000000001,
              true,
              R"({"numRecords":3,"minValues":{"id":1},"maxValues":{"id":3},"nullCount":{"id":0}})",
              {{"tag", "v"}}};
  RemoveFile remove{"part-0000.parquet", 1700000000002, true, true, {}, 99};
  RemoveFile bare_remove{"old.parquet", std::nullopt, false, false, {}, std::nullopt};
  TxnAction txn{"lakeflow:p:t", 7, 1700000000003};
  CommitInfo info;
  info.timestamp = 1700000000004;
  info.operation = "MERGE";
  info.operation_parameters = {{"predicate", "[\"id\"]"}};
  info.operation_metrics = {{"numOutputRows", "3"}};
  info.read_version = 4;
  info.is_blind_append = false;
  info.engine_info = engine_info();
  const DomainMetadataAction domain{"delta.clustering", R"({"clusteringColumns":[["id"]]})", false};
  const DomainMetadataAction removed_domain{"com.example", "", true};
  const ProtocolAction features{1, 7, {}, {"domainMetadata", "clustering"}};
  const std::vector<Action> actions = {ProtocolAction{}, metadata, add,  remove,
                                       bare_remove,      txn,      info, domain,
                                       removed_domain,   features};
  for (const Action& action : actions) {
    const std::string line = action_to_line(action);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(parse_line(line), action) << line;
  }
}

TEST(DeltaActions, WritesTheProtocolsFieldNames) {
  EXPECT_EQ(action_to_line(ProtocolAction{}),
            R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})");
  AddFile add{"a%20b.parquet", {}, 10, 20, true, R"({"numRecords":0})", {}};
  EXPECT_EQ(action_to_line(add),
            R"({"add":{"dataChange":true,"modificationTime":20,"partitionValues":{},)"
            R"("path":"a%20b.parquet","size":10,"stats":"{\"numRecords\":0}"}})");
  TxnAction txn{"app", 3, std::nullopt};
  EXPECT_EQ(action_to_line(txn), R"({"txn":{"appId":"app","version":3}})");
  MetadataAction metadata;
  metadata.id = "id";
  metadata.schema_string = R"({"fields":[],"type":"struct"})";
  EXPECT_EQ(
      action_to_line(metadata),
      R"({"metaData":{"configuration":{},"format":{"options":{},"provider":"parquet"},)"
      R"("id":"id","partitionColumns":[],"schemaString":"{\"fields\":[],\"type\":\"struct\"}"}})");
}

TEST(DeltaActions, RemoveDescribesTheFileOnlyWhenItsSizeIsKnown) {
  RemoveFile extended{"f.parquet", 5, true, true, {}, 42};
  EXPECT_EQ(action_to_line(extended),
            R"({"remove":{"dataChange":true,"deletionTimestamp":5,"extendedFileMetadata":true,)"
            R"("partitionValues":{},"path":"f.parquet","size":42}})");
  RemoveFile bare{"f.parquet", 5, true, false, {}, std::nullopt};
  EXPECT_EQ(action_to_line(bare),
            R"({"remove":{"dataChange":true,"deletionTimestamp":5,"extendedFileMetadata":false,)"
            R"("path":"f.parquet"}})");
}

TEST(DeltaActions, CommitInfoHoldsOnlyWhatTheCallerGave) {
  CommitInfo info;
  info.timestamp = 1;
  info.engine_info = "lakeflow-cpp/1";
  EXPECT_EQ(action_to_line(info),
            R"({"commitInfo":{"engineInfo":"lakeflow-cpp/1","operation":"WRITE",)"
            R"("operationParameters":{},"timestamp":1}})");
}

TEST(DeltaActions, ReadsCommitInfoOfOtherEnginesLeniently) {
  const Action action = parse_line(
      R"({"commitInfo":{"timestamp":5,"userId":"100","operation":"WRITE",)"
      R"("operationParameters":{"mode":"Append","partitionBy":"[]"},"notebook":{"id":"1"},)"
      R"("isolationLevel":"Serializable","isBlindAppend":true,"readVersion":"not a number"}})");
  const auto& info = std::get<CommitInfo>(action);
  EXPECT_EQ(info.timestamp, 5);
  EXPECT_EQ(info.operation, "WRITE");
  EXPECT_EQ(info.operation_parameters.at("mode"), "Append");
  EXPECT_EQ(info.is_blind_append, true);
  EXPECT_FALSE(info.read_version.has_value());
}

TEST(DeltaActions, ReadsSparkWrittenActionsWithExtraFields) {
  const Action add = parse_line(
      R"({"add":{"path":"part-00000-x.c000.snappy.parquet","partitionValues":{"d":null},)"
      R"("size":841,"modificationTime":1512909768000,"dataChange":true,"baseRowId":4071,)"
      R"("defaultRowCommitVersion":41,"stats":"{\"numRecords\":1}"}})");
  const auto& file = std::get<AddFile>(add);
  EXPECT_EQ(file.path, "part-00000-x.c000.snappy.parquet");
  EXPECT_EQ(file.partition_values.at("d"), "");  // null partition value
  EXPECT_EQ(file.size, 841);
  const Action protocol =
      parse_line(R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,)"
                 R"("readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}})");
  EXPECT_EQ(std::get<ProtocolAction>(protocol).min_reader_version, 3);
  EXPECT_EQ(std::get<ProtocolAction>(protocol).reader_features,
            std::vector<std::string>{"deletionVectors"});
}

TEST(DeltaActions, WritesDomainMetadataAsTheProtocolShowsIt) {
  EXPECT_EQ(action_to_line(DomainMetadataAction{"delta.clustering", R"({"a":1})", false}),
            R"({"domainMetadata":{"configuration":"{\"a\":1}","domain":"delta.clustering",)"
            R"("removed":false}})");
  EXPECT_EQ(action_to_line(ProtocolAction{1, 7, {}, {"domainMetadata"}}),
            R"({"protocol":{"minReaderVersion":1,"minWriterVersion":7,)"
            R"("writerFeatures":["domainMetadata"]}})");
}

TEST(DeltaActions, IgnoresActionKindsLakeflowDoesNotUse) {
  EXPECT_FALSE(action_from_json(
      JsonValue::parse(R"({"cdc":{"path":"_change_data/x.parquet","size":1}})"), "f"));
  EXPECT_FALSE(action_from_json(JsonValue::parse(R"({"checkpointMetadata":{"version":1}})"), "f"));
}

TEST(DeltaActions, DomainMetadataNeedsEveryField) {
  EXPECT_THROW(
      action_from_json(
          JsonValue::parse(R"({"domainMetadata":{"domain":"d","configuration":"{}"}})"), "f"),
      DeltaLogError);
}

TEST(DeltaActions, RejectsAMissingRequiredFieldNamingWhereAndWhich) {
  try {
    action_from_json(JsonValue::parse(R"({"add":{"path":"x","size":1,"dataChange":true}})"),
                     "/t/_delta_log/00000000000000000003.json line 2");
    FAIL() << "expected DeltaLogError";
  } catch (const DeltaLogError& e) {
    EXPECT_THAT(e.what(), HasSubstr("00000000000000000003.json line 2"));
    EXPECT_THAT(e.what(), HasSubstr("add.modificationTime"));
    EXPECT_THAT(e.what(), HasSubstr("is missing"));
  }
}

TEST(DeltaActions, RejectsAFieldOfTheWrongType) {
  EXPECT_THROW(action_from_json(JsonValue::parse(R"({"txn":{"appId":"a","version":"7"}})"), "f"),
               DeltaLogError);
  EXPECT_THROW(action_from_json(JsonValue::parse(R"({"txn":["a"]})"), "f"), DeltaLogError);
  EXPECT_THROW(action_from_json(JsonValue::parse(R"([1])"), "f"), DeltaLogError);
}

TEST(DeltaActions, RejectsFilesWithDeletionVectors) {
  try {
    action_from_json(
        JsonValue::parse(R"({"add":{"path":"x","partitionValues":{},"size":1,)"
                         R"("modificationTime":1,"dataChange":true,)"
                         R"("deletionVector":{"storageType":"u","pathOrInlineDv":"ab"}}})"),
        "f");
    FAIL() << "expected DeltaLogError";
  } catch (const DeltaLogError& e) {
    EXPECT_THAT(e.what(), HasSubstr("deletion vectors"));
  }
}

TEST(DeltaActions, MetadataParsesItsSchema) {
  MetadataAction metadata;
  const StructType schema{{"id", DataType::Long(), false}, {"name", DataType::String()}};
  metadata.schema_string = schema.json();
  EXPECT_EQ(metadata.schema(), schema);
  metadata.schema_string = "not json";
  EXPECT_THROW(metadata.schema(), SchemaError);
}

TEST(DeltaActions, RandomUuidsAreVersion4AndDistinct) {
  const std::regex form("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string uuid = random_uuid();
    EXPECT_TRUE(std::regex_match(uuid, form)) << uuid;
    seen.insert(uuid);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(DeltaActions, PathsArePercentEncodedAndDecoded) {
  EXPECT_EQ(encode_path("dir/part-0.c000.zstd.parquet"), "dir/part-0.c000.zstd.parquet");
  EXPECT_EQ(encode_path("a b%c=é"), "a%20b%25c%3D%C3%A9");
  EXPECT_EQ(decode_path("a%20b%25c%3D%C3%A9"), "a b%c=é");
  EXPECT_EQ(decode_path("a+b"), "a+b");
  EXPECT_THROW(decode_path("bad%2"), DeltaLogError);
  EXPECT_THROW(decode_path("bad%zz"), DeltaLogError);
}

TEST(DeltaActions, EngineInfoNamesLakeflowAndItsVersion) {
  EXPECT_EQ(engine_info(), "lakeflow-cpp/" LAKEFLOW_VERSION);
}

TEST(DeltaActions, ConcurrentCommitErrorNamesTableVersionAndWhatToDo) {
  const ConcurrentCommitError error("/data/main/default/events", 12);
  EXPECT_EQ(error.table_path(), "/data/main/default/events");
  EXPECT_EQ(error.version(), 12);
  EXPECT_THAT(error.what(), HasSubstr("/data/main/default/events"));
  EXPECT_THAT(error.what(), HasSubstr("version 12"));
  EXPECT_THAT(error.what(), HasSubstr("nothing was overwritten"));
  EXPECT_THAT(error.what(), HasSubstr("rerun"));
}

}  // namespace
}  // namespace lakeflow::delta
