#include "delta/delta_log.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "delta/delta_checkpoint.h"
#include "delta/table_features.h"
#include "lakeflow/files.h"
#include "lakeflow/testing/temp_dir.h"
#include "parquet/parquet_format.h"
#include "parquet/parquet_test_util.h"

namespace lakeflow::delta {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using files::read_file;
using files::TempDir;

void write_text(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<std::string> log_names(const DeltaLog& log) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(log.log_path())) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

StructType test_schema() {
  return StructType{{"id", DataType::Long(), false},
                    {"name", DataType::String()},
                    {"tags", DataType::Array(DataType::String())}};
}

AddFile add_file(std::string path, std::int64_t records = 1) {
  AddFile add;
  add.path = std::move(path);
  add.size = 1000 + records;
  add.modification_time = now_millis();
  add.stats = fmt::format(R"({{"numRecords":{},"minValues":{{"id":1}},"maxValues":{{"id":{}}},)"
                          R"("nullCount":{{"id":0,"name":0}}}})",
                          records, records);
  return add;
}

RemoveFile remove_file(const AddFile& add) {
  return RemoveFile{add.path, now_millis(), true, true, {}, add.size};
}

// Creates the table (version 0) and returns its log.
DeltaLog create_table(const std::string& path, DeltaLogOptions options = {}) {
  DeltaLog log(path, options);
  log.commit(-1, create_table_actions(test_schema()));
  return log;
}

// Two snapshots describe the same table state.
void expect_same_state(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.protocol, b.protocol);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.files, b.files);
  EXPECT_EQ(a.tombstones, b.tombstones);
  EXPECT_EQ(a.transactions, b.transactions);
  EXPECT_EQ(a.domains, b.domains);
}

// ---- Create, commit, replay ---------------------------------------------------------------------

TEST(DeltaLog, CreatesATableAndReadsItBack) {
  TempDir dir;
  DeltaLog log(dir.file("a/b/events"));
  EXPECT_FALSE(log.exists());
  EXPECT_EQ(log.latest_version(), std::nullopt);
  EXPECT_TRUE(log.commit_versions().empty());
  EXPECT_EQ(log.commit(-1, create_table_actions(test_schema(), {{"k", "v"}})), 0);
  EXPECT_TRUE(log.exists());
  EXPECT_EQ(log.latest_version(), 0);
  EXPECT_EQ(log.commit_versions(), std::vector<std::int64_t>{0});

  const Snapshot snapshot = log.snapshot();
  EXPECT_EQ(snapshot.version, 0);
  EXPECT_EQ(snapshot.protocol.min_reader_version, 1);
  EXPECT_EQ(snapshot.protocol.min_writer_version, 2);
  EXPECT_EQ(snapshot.metadata.schema(), test_schema());
  EXPECT_EQ(snapshot.metadata.schema_string, test_schema().json());
  EXPECT_EQ(snapshot.metadata.format_provider, "parquet");
  EXPECT_EQ(snapshot.metadata.id.size(), 36u);
  EXPECT_TRUE(snapshot.metadata.created_time.has_value());
  EXPECT_EQ(*snapshot.metadata.config("k"), "v");
  EXPECT_TRUE(snapshot.files.empty());
  EXPECT_EQ(snapshot.checkpoint_version, std::nullopt);
  EXPECT_EQ(log_names(log), std::vector<std::string>{"00000000000000000000.json"});
}

TEST(DeltaLog, WritesOneJsonActionPerLineWithCommitInfoLast) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"));
  CommitInfo info;
  info.operation = "MERGE";
  info.operation_parameters = {{"mode", "upsert"}};
  log.commit(0, {info, add_file("part-1.parquet"), add_file("part-2.parquet")});

  const std::string text = read_file(log.commit_path(1));
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::vector<JsonValue> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(JsonValue::parse(line));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("add"), nullptr);
  EXPECT_NE(lines[1].find("add"), nullptr);
  const JsonValue* commit_info = lines[2].find("commitInfo");
  ASSERT_NE(commit_info, nullptr);
  EXPECT_EQ(commit_info->find("operation")->as_string(), "MERGE");
  EXPECT_EQ(commit_info->find("readVersion")->as_int(), 0);
  EXPECT_EQ(commit_info->find("engineInfo")->as_string(), "lakeflow-cpp/" LAKEFLOW_VERSION);
  EXPECT_GT(commit_info->find("timestamp")->as_int(), 1600000000000);
  EXPECT_EQ(commit_info->find("operationParameters")->find("mode")->as_string(), "upsert");
  // The line count that tells a whole commit from one cut short.
  EXPECT_EQ(commit_info->find("lakeflowCommitLines")->as_int(), 3);

  // Version 0: protocol, metaData, commitInfo (a default WRITE).
  const std::string first = read_file(log.commit_path(0));
  EXPECT_EQ(first.find(R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})"), 0u);
  EXPECT_THAT(first, HasSubstr(R"({"metaData":{)"));
  const std::size_t last_line = first.rfind('\n', first.size() - 2) + 1;
  EXPECT_EQ(first.find(R"({"commitInfo":)"), last_line);
  EXPECT_THAT(first, HasSubstr(R"("operation":"WRITE")"));
  EXPECT_THAT(first, Not(HasSubstr("readVersion")));
}

TEST(DeltaLog, ActiveFilesAreAddsMinusLaterRemoves) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"));
  const AddFile a = add_file("a.parquet", 1);
  const AddFile b = add_file("b.parquet", 2);
  const AddFile c = add_file("c.parquet", 3);
  log.commit(0, {a, b});
  log.commit(1, {remove_file(a), c});
  AddFile b2 = add_file("b.parquet", 20);  // re-added with new stats: the latest wins
  log.commit(2, {b2});

  const Snapshot snapshot = log.snapshot();
  EXPECT_EQ(snapshot.version, 3);
  ASSERT_EQ(snapshot.files.size(), 2u);
  EXPECT_EQ(snapshot.files.at("b.parquet"), b2);
  EXPECT_EQ(snapshot.files.at("c.parquet"), c);
  ASSERT_EQ(snapshot.tombstones.size(), 1u);
  EXPECT_EQ(snapshot.tombstones.at("a.parquet").size, a.size);

  // A removed file added again is active again, and no longer a tombstone.
  log.commit(3, {a});
  const Snapshot again = log.snapshot();
  EXPECT_EQ(again.files.size(), 3u);
  EXPECT_TRUE(again.tombstones.empty());
}

TEST(DeltaLog, KeepsTheLatestTxnVersionPerAppId) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"));
  log.commit(0, {TxnAction{"app-a", 1, now_millis()}, TxnAction{"app-b", 10, std::nullopt}});
  log.commit(1, {TxnAction{"app-a", 2, now_millis()}});
  const Snapshot snapshot = log.snapshot();
  EXPECT_EQ(snapshot.txn_version("app-a"), 2);
  EXPECT_EQ(snapshot.txn_version("app-b"), 10);
  EXPECT_EQ(snapshot.txn_version("app-c"), std::nullopt);
}

TEST(DeltaLog, CommitsOffsetsWithTheDataInMetadataConfiguration) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"));
  Snapshot snapshot = log.snapshot();
  EXPECT_EQ(snapshot.offset(), std::nullopt);
  EXPECT_EQ(snapshot.deletes_offset(), std::nullopt);

  const Offset first = Offset::parse(R"({"page":1,"cursor":"2024-01-01T00:00:00Z"})");
  std::vector<Action> actions =
      progress_actions(snapshot, BatchProgress{"lakeflow:p:t", 1, first, std::nullopt});
  actions.emplace_back(add_file("part-1.parquet"));
  snapshot.apply(log.commit(snapshot.version, actions), actions);

  Snapshot read = log.snapshot();
  EXPECT_EQ(read.offset(), first);
  EXPECT_EQ(*read.metadata.config(kOffsetKey), R"({"cursor":"2024-01-01T00:00:00Z","page":1})");
  EXPECT_EQ(read.deletes_offset(), std::nullopt);
  EXPECT_EQ(read.txn_version("lakeflow:p:t"), 1);
  EXPECT_EQ(read.metadata.id, snapshot.metadata.id);  // the table keeps its identity
  EXPECT_EQ(read.metadata.schema_string, snapshot.metadata.schema_string);
  expect_same_state(read, snapshot);  // apply() kept the writer's snapshot current

  const Offset second = Offset::parse(R"({"page":2})");
  const Offset deletes = Offset::parse(R"({"since":"x"})");
  actions = progress_actions(read, BatchProgress{"lakeflow:p:t", 2, second, deletes});
  log.commit(read.version, actions);
  read = log.snapshot();
  EXPECT_EQ(read.offset(), second);
  EXPECT_EQ(read.deletes_offset(), deletes);
  EXPECT_EQ(read.txn_version("lakeflow:p:t"), 2);
  EXPECT_EQ(read.files.size(), 1u);
}

TEST(DeltaLog, TheFirstBatchCreatesTheTableWithItsOffset) {
  TempDir dir;
  DeltaLog log(dir.file("t"));
  ASSERT_FALSE(log.exists());
  Snapshot snapshot = new_table_snapshot(test_schema());
  EXPECT_EQ(snapshot.version, -1);
  EXPECT_EQ(snapshot.offset(), std::nullopt);
  EXPECT_NO_THROW(snapshot.require_writable());
  const Offset offset = Offset::parse(R"({"page":1})");
  std::vector<Action> actions =
      progress_actions(snapshot, BatchProgress{"app", 1, offset, std::nullopt});
  ASSERT_EQ(actions.size(), 3u);  // protocol, metaData, txn
  EXPECT_TRUE(std::holds_alternative<ProtocolAction>(actions[0]));
  actions.emplace_back(add_file("part-1.parquet"));
  snapshot.apply(log.commit(snapshot.version, actions), actions);
  EXPECT_EQ(snapshot.version, 0);

  const Snapshot read = log.snapshot();
  expect_same_state(read, snapshot);
  EXPECT_EQ(read.offset(), offset);
  EXPECT_EQ(read.txn_version("app"), 1);
  EXPECT_EQ(read.files.size(), 1u);
  EXPECT_EQ(read.metadata.schema(), test_schema());
  // Later batches do not repeat the protocol.
  EXPECT_EQ(progress_actions(read, BatchProgress{"app", 2, offset, std::nullopt}).size(), 2u);
}

TEST(DeltaLog, AStoredOffsetThatDoesNotParseIsReported) {
  TempDir dir;
  DeltaLog log(dir.file("t"));
  log.commit(-1, create_table_actions(test_schema(), {{std::string(kOffsetKey), "[1,2]"}}));
  try {
    (void)log.snapshot().offset();
    FAIL() << "expected DeltaLogError";
  } catch (const DeltaLogError& e) {
    EXPECT_THAT(e.what(), HasSubstr("lakeflow.offset"));
    EXPECT_THAT(e.what(), HasSubstr(dir.file("t")));
    EXPECT_THAT(e.what(), HasSubstr("--full-refresh"));
  }
}

TEST(DeltaLog, TimeTravelReadsAnEarlierVersion) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"));
  log.commit(0, {add_file("a.parquet")});
  log.commit(1, {add_file("b.parquet")});
  EXPECT_EQ(log.snapshot_at(1).files.size(), 1u);
  EXPECT_EQ(log.snapshot_at(2).files.size(), 2u);
  EXPECT_EQ(log.snapshot_at(0).files.size(), 0u);
  EXPECT_THROW(log.snapshot_at(3), DeltaLogError);
  EXPECT_THROW(log.snapshot_at(-1), DeltaLogError);
}

// ---- Errors -------------------------------------------------------------------------------------

TEST(DeltaLog, ReadingAMissingTableNamesItsPath) {
  TempDir dir;
  const DeltaLog log(dir.file("nothing-here"));
  try {
    (void)log.snapshot();
    FAIL() << "expected DeltaLogError";
  } catch (const DeltaLogError& e) {
    EXPECT_THAT(e.what(), HasSubstr(dir.file("nothing-here")));
    EXPECT_THAT(e.what(), HasSubstr("no Delta table"));
  }
}

TEST(DeltaLog, RejectsActionListsTheProtocolForbidsAndCommitsNothing) {
  TempDir dir;
  DeltaLog log(dir.file("t"));
  MetadataAction metadata = std::get<MetadataAction>(create_table_actions(test_schema())[1]);
  // Version 0 without a protocol action.
  EXPECT_THROW(log.commit(-1, {metadata}), DeltaLogError);
  EXPECT_FALSE(log.exists());
  log.commit(-1, create_table_actions(test_schema()));

  const auto expect_rejected = [&](std::vector<Action> actions, std::string_view why) {
    try {
      log.commit(0, std::move(actions));
      ADD_FAILURE() << "expected DeltaLogError for " << why;
    } catch (const DeltaLogError& e) {
      EXPECT_THAT(e.what(), HasSubstr(std::string(why)));
      EXPECT_THAT(e.what(), HasSubstr(log.table_path()));
    }
    EXPECT_EQ(log.latest_version(), 0);
  };
  expect_rejected({metadata, metadata}, "more than one metaData");
  expect_rejected({ProtocolAction{}, ProtocolAction{}}, "more than one protocol");
  expect_rejected({add_file("x"), add_file("x")}, "added twice");
  expect_rejected({remove_file(add_file("x")), remove_file(add_file("x"))}, "removed twice");
  expect_rejected({add_file("x"), remove_file(add_file("x"))}, "both added and removed");
  expect_rejected({TxnAction{"a", 1, {}}, TxnAction{"a", 2, {}}}, "two txn actions");
  expect_rejected({ProtocolAction{3, 7, {"deletionVectors"}, {"deletionVectors"}}},
                  "table features lakeflow does not implement: deletionVectors");
  expect_rejected({ProtocolAction{1, 4, {}, {}}}, "checkConstraints");
  expect_rejected({DomainMetadataAction{"d", "1"}, DomainMetadataAction{"d", "2"}},
                  "two domainMetadata actions of d");
  expect_rejected({CommitInfo{}, CommitInfo{}}, "more than one commitInfo");
  MetadataAction partitioned = metadata;
  partitioned.partition_columns = {"name"};
  expect_rejected({partitioned}, "partitioned");

  MetadataAction bad_schema = metadata;
  bad_schema.schema_string = "{";
  EXPECT_THROW(log.commit(0, {bad_schema}), SchemaError);

  // A read version that does not exist would leave a gap in the log.
  try {
    log.commit(5, {add_file("x")});
    FAIL() << "expected DeltaLogError";
  } catch (const DeltaLogError& e) {
    EXPECT_THAT(e.what(), HasSubstr("version 5, which does not exist"));
  }
  EXPECT_EQ(log.latest_version(), 0);
  EXPECT_EQ(log_names(log), std::vector<std::string>{"00000000000000000000.json"});
}

TEST(DeltaLog, AMalformedCommitLineIsReportedWithItsFileAndLine) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"));
  write_text(log.commit_path(1), "{\"commitInfo\":{}}\n{\"add\":{\"path\":\n");
  try {
    (void)log.snapshot();
    FAIL() << "expected DeltaLogError";
  } catch (const DeltaLogError& e) {
    EXPECT_THAT(e.what(), HasSubstr("00000000000000000001.json line 2"));
    EXPECT_THAT(e.what(), HasSubstr("not valid JSON"));
  }
}

// ---- Damaged logs -------------------------------------------------------------------------------

// A table as the pipeline writes it: each commit records the batch's offset with two files.
DeltaLog pipeline_table(const std::string& path, int batches) {
  DeltaLog log(path);
  Snapshot snapshot = new_table_snapshot(test_schema());
  for (int batch = 1; batch <= batches; ++batch) {
    const Offset offset = Offset::parse(fmt::format(R"({{"page":{}}})", batch));
    std::vector<Action> actions =
        progress_actions(snapshot, BatchProgress{"lakeflow:t", batch, offset, std::nullopt});
    actions.emplace_back(add_file(fmt::format("part-{}-a.parquet", batch)));
    actions.emplace_back(add_file(fmt::format("part-{}-b.parquet", batch)));
    actions.emplace_back(CommitInfo{});
    snapshot.apply(log.commit(snapshot.version, actions), actions);
  }
  return log;
}

// Drops the last `count` lines of the file at `path`, cutting at a line boundary.
void cut_lines(const std::string& path, int count) {
  std::string text = read_file(path);
  for (int i = 0; i < count; ++i) {
    const std::size_t end = text.size() < 2 ? std::string::npos : text.rfind('\n', text.size() - 2);
    text.resize(end == std::string::npos ? 0 : end + 1);
  }
  write_text(path, text);
}

// The message of the DeltaLogError snapshot() throws, or "" when it reads.
std::string snapshot_error(const DeltaLog& log) {
  try {
    (void)log.snapshot();
  } catch (const DeltaLogError& e) {
    return e.what();
  }
  return "";
}

TEST(DeltaLog, ACommitCutAtALineBoundaryIsDamaged) {
  for (int cut = 1; cut <= 2; ++cut) {  // the commitInfo alone, or with the last add
    TempDir dir;
    const DeltaLog log = pipeline_table(dir.file("t"), 2);
    ASSERT_EQ(log.snapshot().files.size(), 4u);
    cut_lines(log.commit_path(1), cut);
    const std::string error = snapshot_error(log);
    EXPECT_THAT(error, HasSubstr(log.commit_path(1) + " has no commitInfo action")) << cut;
    EXPECT_THAT(error, HasSubstr("cut short"));
    EXPECT_THAT(error, HasSubstr("Restore the file from a backup"));
    EXPECT_THAT(error, HasSubstr("move the table directory away and rerun"));
    // The versions before the damage still read.
    EXPECT_EQ(log.snapshot_at(0).files.size(), 2u);
  }
  // Version 0, cut down to its protocol, metaData, txn and first add.
  TempDir dir;
  const DeltaLog log = pipeline_table(dir.file("t"), 1);
  cut_lines(log.commit_path(0), 2);
  EXPECT_THAT(snapshot_error(log), HasSubstr(log.commit_path(0) + " has no commitInfo action"));
}

TEST(DeltaLog, ACommitCutInsideALineOrEmptiedIsDamaged) {
  TempDir dir;
  const DeltaLog log = pipeline_table(dir.file("t"), 2);
  const std::string whole = read_file(log.commit_path(1));
  write_text(log.commit_path(1), whole.substr(0, whole.size() - 10));
  EXPECT_THAT(snapshot_error(log), HasSubstr("00000000000000000001.json line 5: not valid JSON"));
  write_text(log.commit_path(1), "");
  EXPECT_THAT(snapshot_error(log), HasSubstr(log.commit_path(1) + " holds no action"));
  write_text(log.commit_path(1), "\n \n");
  EXPECT_THAT(snapshot_error(log), HasSubstr(log.commit_path(1) + " holds no action"));
}

TEST(DeltaLog, ALakeflowCommitWithLinesMovedOrLostIsDamaged) {
  TempDir dir;
  const DeltaLog log = pipeline_table(dir.file("t"), 2);
  const std::string whole = read_file(log.commit_path(1));
  std::vector<std::string> lines;
  std::istringstream in(whole);
  for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
  ASSERT_EQ(lines.size(), 5u);  // metaData, txn, add, add, commitInfo

  // Another line after lakeflow's commitInfo.
  write_text(log.commit_path(1), whole + lines[2]);
  EXPECT_THAT(
      snapshot_error(log),
      HasSubstr("has lines after its commitInfo (line 5 of 6), which lakeflow writes last"));
  // The commitInfo moved first.
  write_text(log.commit_path(1), lines[4] + lines[0] + lines[1] + lines[2] + lines[3]);
  EXPECT_THAT(snapshot_error(log), HasSubstr("(line 1 of 5)"));
  // A line lost from the middle.
  write_text(log.commit_path(1), lines[0] + lines[1] + lines[3] + lines[4]);
  EXPECT_THAT(snapshot_error(log),
              HasSubstr(log.commit_path(1) + " holds 4 actions where its commitInfo records 5"));
  // Blank lines are not actions.
  write_text(log.commit_path(1),
             "\n" + lines[0] + lines[1] + "\n" + lines[2] + lines[3] + lines[4]);
  EXPECT_EQ(log.snapshot().files.size(), 4u);
}

TEST(DeltaLog, CommitsOfOtherEnginesMayHoldCommitInfoAnywhereOrNone) {
  TempDir dir;
  const DeltaLog log = pipeline_table(dir.file("t"), 1);
  // Another engine's commit with its commitInfo first, as Spark writes it (and as lakeflow did
  // before it wrote commitInfo last), holding no line count.
  write_text(log.commit_path(1),
             R"({"commitInfo":{"timestamp":1,"operation":"WRITE","engineInfo":"Apache-Spark/3.5.0 )"
             R"(Delta-Lake/3.1.0"}})"
             "\n" +
                 action_to_line(add_file("spark.parquet")) + "\n");
  write_text(
      log.commit_path(2),
      R"({"commitInfo":{"timestamp":2,"operation":"WRITE","engineInfo":"lakeflow-cpp/0.1.0"}})"
      "\n" +
          action_to_line(add_file("old.parquet")) + "\n");
  EXPECT_EQ(log.snapshot().files.size(), 4u);

  // A commit without commitInfo in a table lakeflow does not land (no lakeflow offset).
  TempDir other;
  const DeltaLog plain = create_table(other.file("t"));
  write_text(plain.commit_path(1), action_to_line(add_file("a.parquet")) + "\n");
  EXPECT_EQ(plain.snapshot().files.size(), 1u);
}

TEST(DeltaLog, AMissingCommitIsReported) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"));
  log.commit(0, {add_file("a")});
  log.commit(1, {add_file("b")});
  fs::remove(log.commit_path(1));
  try {
    (void)log.snapshot();
    FAIL() << "expected DeltaLogError";
  } catch (const DeltaLogError& e) {
    EXPECT_THAT(e.what(), HasSubstr("commit 1 is missing"));
  }
}

TEST(DeltaLog, ATableNeedingANewerReaderIsRejected) {
  TempDir dir;
  DeltaLog log(dir.file("t"));
  fs::create_directories(log.log_path());
  MetadataAction metadata = std::get<MetadataAction>(create_table_actions(test_schema())[1]);
  write_text(log.commit_path(0),
             R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,)"
             R"("readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}})"
             "\n" +
                 action_to_line(metadata) + "\n");
  try {
    (void)log.snapshot();
    FAIL() << "expected DeltaLogError";
  } catch (const DeltaLogError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("reader features lakeflow does not implement: deletionVectors"));
    EXPECT_THAT(e.what(), HasSubstr(log.table_path()));
  }
}

TEST(DeltaLog, RequireWritableRejectsTablesLakeflowCannotWrite) {
  Snapshot snapshot;
  snapshot.table_path = "/t";
  snapshot.metadata.id = "x";
  EXPECT_NO_THROW(snapshot.require_writable());
  snapshot.protocol.min_writer_version = 4;
  EXPECT_THROW(snapshot.require_writable(), DeltaLogError);
  snapshot.protocol = ProtocolAction{1, 7, {}, {"domainMetadata", "clustering", "invariants"}};
  EXPECT_NO_THROW(snapshot.require_writable());
  snapshot.protocol.writer_features.emplace_back("rowTracking");
  try {
    snapshot.require_writable();
    FAIL() << "expected DeltaLogError";
  } catch (const DeltaLogError& e) {
    EXPECT_THAT(e.what(), HasSubstr("features lakeflow does not implement: rowTracking"));
  }
  snapshot.protocol = ProtocolAction{};
  snapshot.metadata.partition_columns = {"d"};
  EXPECT_THROW(snapshot.require_writable(), DeltaLogError);
  snapshot.metadata.partition_columns.clear();
  snapshot.metadata.format_provider = "orc";
  try {
    snapshot.require_writable();
    FAIL() << "expected DeltaLogError";
  } catch (const DeltaLogError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/t stores its data as `orc`"));
  }
}

TEST(DeltaLog, ApplyRejectsAVersionThatDoesNotFollow) {
  Snapshot snapshot;
  EXPECT_THROW(snapshot.apply(1, {}), Error);
  snapshot.apply(0, {ProtocolAction{}});
  EXPECT_EQ(snapshot.version, 0);
}

// ---- Concurrency and crashes --------------------------------------------------------------------

TEST(DeltaLog, ASecondWriterOfTheSameVersionGetsConcurrentCommitError) {
  TempDir dir;
  create_table(dir.file("t"));
  DeltaLog writer_a(dir.file("t"));
  DeltaLog writer_b(dir.file("t"));
  const std::int64_t read_a = writer_a.snapshot().version;
  const std::int64_t read_b = writer_b.snapshot().version;
  EXPECT_EQ(writer_a.commit(read_a, {add_file("from-a.parquet")}), 1);
  const std::string committed = read_file(writer_a.commit_path(1));
  try {
    writer_b.commit(read_b, {add_file("from-b.parquet")});
    FAIL() << "expected ConcurrentCommitError";
  } catch (const ConcurrentCommitError& e) {
    EXPECT_EQ(e.version(), 1);
    EXPECT_EQ(e.table_path(), dir.file("t"));
    EXPECT_THAT(e.what(), HasSubstr(dir.file("t")));
  }
  // A's commit is intact, B left nothing behind, and the table reads A's file only.
  EXPECT_EQ(read_file(writer_a.commit_path(1)), committed);
  EXPECT_EQ(log_names(writer_a),
            (std::vector<std::string>{"00000000000000000000.json", "00000000000000000001.json"}));
  const Snapshot snapshot = writer_b.snapshot();
  EXPECT_EQ(snapshot.version, 1);
  EXPECT_EQ(snapshot.files.count("from-a.parquet"), 1u);
  EXPECT_EQ(snapshot.files.count("from-b.parquet"), 0u);
}

TEST(DeltaLog, RacingWritersCommitExactlyOnce) {
  TempDir dir;
  create_table(dir.file("t"));
  constexpr int kWriters = 8;
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> committed{0};
    std::atomic<int> conflicts{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        DeltaLog log(dir.file("t"));
        const std::int64_t read = round;
        while (!go.load()) std::this_thread::yield();
        try {
          log.commit(read, {add_file(fmt::format("r{}-w{}.parquet", round, w))});
          ++committed;
        } catch (const ConcurrentCommitError&) {
          ++conflicts;
        }
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(committed.load(), 1) << "round " << round;
    EXPECT_EQ(conflicts.load(), kWriters - 1) << "round " << round;
  }
  const DeltaLog log(dir.file("t"));
  const Snapshot snapshot = log.snapshot();
  EXPECT_EQ(snapshot.version, 5);
  EXPECT_EQ(snapshot.files.size(), 5u);
  for (const std::string& name : log_names(log)) {
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
  }
}

TEST(DeltaLog, WritersInSeparateProcessesCommitExactlyOnce) {
  TempDir dir;
  create_table(dir.file("t"));
  constexpr int kWriters = 4;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int status = 2;
      try {
        DeltaLog log(dir.file("t"));
        log.commit(0, {add_file(fmt::format("w{}.parquet", w))});
        status = 0;
      } catch (const ConcurrentCommitError&) {
        status = 1;
      } catch (...) {
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }
  int winners = 0;
  int losers = 0;
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0) ++winners;
    if (WEXITSTATUS(status) == 1) ++losers;
  }
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(losers, kWriters - 1);
  EXPECT_EQ(DeltaLog(dir.file("t")).snapshot().files.size(), 1u);
}

TEST(DeltaLog, LeftoversOfACrashBeforeTheLinkAreIgnoredAndCleanedUp) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"));
  log.commit(0, {add_file("a.parquet")});
  // A writer died after writing (part of) its temporary commit file for version 2.
  const fs::path leftover = fs::path(log.log_path()) /
                            ".00000000000000000002.json.0b9f3c1e-dead-4bee-8f00-1c0ffee00000.tmp";
  write_text(leftover, "{\"commitInfo\":{}}\n{\"add\":{\"path\":\"half");
  // Another engine's hidden temporary and unrelated names are ignored too.
  write_text(fs::path(log.log_path()) / ".00000000000000000002.json.crc", "x");
  write_text(fs::path(log.log_path()) / "00000000000000000002.json.tmp", "x");
  write_text(fs::path(log.log_path()) / "0000000000000000002.json", "x");

  Snapshot snapshot = log.snapshot();
  EXPECT_EQ(snapshot.version, 1);
  EXPECT_EQ(snapshot.files.size(), 1u);

  // The rerun commits version 2 normally; the leftover can never be linked now and goes away
  // with the next commit.
  EXPECT_EQ(log.commit(1, {add_file("b.parquet")}), 2);
  EXPECT_TRUE(fs::exists(leftover));
  EXPECT_EQ(log.commit(2, {add_file("c.parquet")}), 3);
  EXPECT_FALSE(fs::exists(leftover));
  snapshot = log.snapshot();
  EXPECT_EQ(snapshot.version, 3);
  EXPECT_EQ(snapshot.files.size(), 3u);
}

TEST(DeltaLog, OldTemporariesOfInterruptedCheckpointsAreCleanedUp) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"));
  const fs::path logs = log.log_path();
  const fs::path old_checkpoint = logs / ".00000000000000000010.checkpoint.parquet.tmp-123-0";
  const fs::path old_last = logs / "._last_checkpoint.0b9f3c1e.tmp";
  const fs::path fresh_checkpoint = logs / ".00000000000000000020.checkpoint.parquet.tmp-456-0";
  for (const auto& path : {old_checkpoint, old_last, fresh_checkpoint}) write_text(path, "x");
  const auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(old_checkpoint, two_hours_ago);
  fs::last_write_time(old_last, two_hours_ago);

  log.commit(0, {add_file("a.parquet")});
  EXPECT_FALSE(fs::exists(old_checkpoint));
  EXPECT_FALSE(fs::exists(old_last));
  EXPECT_TRUE(fs::exists(fresh_checkpoint));  // may belong to a checkpoint being written now
  EXPECT_EQ(log.snapshot().version, 1);
}

// ---- Checkpoints --------------------------------------------------------------------------------

// Builds a table of 25 commits mixing adds, removes, txn and offset updates.
DeltaLog build_history(const std::string& path, int commits = 25) {
  DeltaLog log = create_table(path);
  Snapshot snapshot = log.snapshot();
  for (int i = 1; i <= commits - 1; ++i) {
    std::vector<Action> actions = progress_actions(
        snapshot, BatchProgress{"lakeflow:p:t", i,
                                Offset::parse(fmt::format(R"({{"page":{}}})", i)), std::nullopt});
    actions.emplace_back(add_file(fmt::format("part-{:03}.parquet", i), i));
    if (i % 3 == 0) actions.emplace_back(remove_file(snapshot.files.begin()->second));
    if (i % 7 == 0) actions.emplace_back(TxnAction{fmt::format("other-{}", i), i * 100, {}});
    // Metadata domains: set, replaced, removed; the checkpoint at 20 keeps the live ones.
    if (i == 1) {
      actions.emplace_back(protocol_with_features(snapshot.protocol, {kDomainMetadataFeature}));
    }
    if (i == 4) actions.emplace_back(DomainMetadataAction{"com.example.a", "1"});
    if (i == 8) actions.emplace_back(DomainMetadataAction{"com.example.b", "2"});
    if (i == 13) actions.emplace_back(DomainMetadataAction{"com.example.a", "1", true});
    if (i == 16) actions.emplace_back(DomainMetadataAction{"com.example.b", "3"});
    CommitInfo info;
    info.operation = i % 3 == 0 ? "MERGE" : "WRITE";
    actions.emplace_back(info);
    const std::int64_t version = log.commit(snapshot.version, actions);
    EXPECT_EQ(log.last_checkpoint_error(), std::nullopt) << "version " << version;
    snapshot.apply(version, actions);
  }
  return log;
}

TEST(DeltaLog, WritesACheckpointEveryTenCommits) {
  TempDir dir;
  const DeltaLog log = build_history(dir.file("t"));
  const std::vector<std::string> names = log_names(log);
  std::vector<std::string> checkpoints;
  for (const auto& name : names) {
    if (name.find("checkpoint") != std::string::npos) checkpoints.push_back(name);
  }
  EXPECT_EQ(checkpoints, (std::vector<std::string>{"00000000000000000010.checkpoint.parquet",
                                                   "00000000000000000020.checkpoint.parquet",
                                                   "_last_checkpoint"}));
  for (const auto& name : names) EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;

  const JsonValue last = JsonValue::parse(read_file(fs::path(log.log_path()) / "_last_checkpoint"));
  EXPECT_EQ(last.find("version")->as_int(), 20);
  const Snapshot at20 = log.snapshot_at(20);
  // protocol + metaData + txns + live domains + active files + tombstones, one row each.
  ASSERT_EQ(at20.domains.size(), 1U);
  EXPECT_EQ(at20.domains.at("com.example.b").configuration, "3");
  const auto expected_size =
      static_cast<std::int64_t>(2 + at20.transactions.size() + at20.domains.size() +
                                at20.files.size() + at20.tombstones.size());
  EXPECT_EQ(last.find("size")->as_int(), expected_size);
  EXPECT_EQ(last.find("numOfAddFiles")->as_int(), static_cast<std::int64_t>(at20.files.size()));
  EXPECT_EQ(last.find("sizeInBytes")->as_int(),
            static_cast<std::int64_t>(fs::file_size(log.checkpoint_path(20))));
  EXPECT_EQ(read_checkpoint_file(log.checkpoint_path(20)).size(),
            static_cast<std::size_t>(expected_size));
}

TEST(DeltaLog, ReplayFromACheckpointEqualsReplayOfEveryCommit) {
  TempDir dir;
  const DeltaLog log = build_history(dir.file("t"));
  const Snapshot with_checkpoint = log.snapshot();
  EXPECT_EQ(with_checkpoint.version, 24);
  EXPECT_EQ(with_checkpoint.checkpoint_version, 20);
  EXPECT_EQ(with_checkpoint.offset(), Offset::parse(R"({"page":24})"));
  EXPECT_EQ(with_checkpoint.txn_version("lakeflow:p:t"), 24);
  EXPECT_EQ(with_checkpoint.txn_version("other-14"), 1400);
  EXPECT_FALSE(with_checkpoint.tombstones.empty());
  const Snapshot at15 = log.snapshot_at(15);
  EXPECT_EQ(at15.checkpoint_version, 10);

  fs::remove(log.checkpoint_path(10));
  fs::remove(log.checkpoint_path(20));
  fs::remove(fs::path(log.log_path()) / "_last_checkpoint");
  const Snapshot without = log.snapshot();
  EXPECT_EQ(without.checkpoint_version, std::nullopt);
  expect_same_state(with_checkpoint, without);
  expect_same_state(at15, log.snapshot_at(15));
}

TEST(DeltaLog, ADamagedCheckpointFallsBackToAnOlderOneOrTheCommits) {
  TempDir dir;
  const DeltaLog log = build_history(dir.file("t"));
  const Snapshot expected = log.snapshot();

  write_text(log.checkpoint_path(20), "PAR1 this is not a parquet file PAR1");
  Snapshot snapshot = log.snapshot();
  EXPECT_EQ(snapshot.checkpoint_version, 10);
  expect_same_state(snapshot, expected);

  fs::remove(log.checkpoint_path(10));
  snapshot = log.snapshot();
  EXPECT_EQ(snapshot.checkpoint_version, std::nullopt);
  expect_same_state(snapshot, expected);
}

TEST(DeltaLog, ACheckpointThatDisagreesWithLastCheckpointIsNotUsed) {
  TempDir dir;
  const DeltaLog log = build_history(dir.file("t"));
  const Snapshot expected = log.snapshot();
  write_text(fs::path(log.log_path()) / "_last_checkpoint", R"({"version":20,"size":3})");
  const Snapshot snapshot = log.snapshot();
  EXPECT_EQ(snapshot.checkpoint_version, 10);
  expect_same_state(snapshot, expected);
  // A damaged _last_checkpoint is only a hint: the listing still finds the newest checkpoint.
  write_text(fs::path(log.log_path()) / "_last_checkpoint", "{\"vers");
  EXPECT_EQ(log.snapshot().checkpoint_version, 20);
}

TEST(DeltaLog, AFailedCheckpointNeverFailsTheCommit) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"));
  for (int v = 1; v <= 9; ++v) log.commit(v - 1, {add_file(fmt::format("p{}.parquet", v))});
  // Something occupies the checkpoint's name: writing the checkpoint must fail.
  fs::create_directories(log.checkpoint_path(10));
  fs::create_directories(fs::path(log.checkpoint_path(10)) / "blocker");
  EXPECT_EQ(log.commit(9, {add_file("p10.parquet")}), 10);
  ASSERT_TRUE(log.last_checkpoint_error().has_value());
  EXPECT_FALSE(fs::exists(fs::path(log.log_path()) / "_last_checkpoint"));

  const Snapshot snapshot = log.snapshot();
  EXPECT_EQ(snapshot.version, 10);
  EXPECT_EQ(snapshot.files.size(), 10u);
  EXPECT_EQ(snapshot.checkpoint_version, std::nullopt);
  EXPECT_EQ(log.commit(10, {add_file("p11.parquet")}), 11);
}

TEST(DeltaLog, CheckpointIntervalIsConfigurable) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"), DeltaLogOptions{3});
  for (int v = 1; v <= 7; ++v) log.commit(v - 1, {add_file(fmt::format("p{}.parquet", v))});
  EXPECT_TRUE(fs::exists(log.checkpoint_path(3)));
  EXPECT_TRUE(fs::exists(log.checkpoint_path(6)));
  EXPECT_FALSE(fs::exists(log.checkpoint_path(7)));
  EXPECT_EQ(log.snapshot().checkpoint_version, 6);

  TempDir other;
  DeltaLog never = create_table(other.file("t"), DeltaLogOptions{0});
  for (int v = 1; v <= 10; ++v) never.commit(v - 1, {add_file(fmt::format("p{}.parquet", v))});
  EXPECT_FALSE(fs::exists(never.checkpoint_path(10)));
}

TEST(DeltaLog, LastCheckpointNeverGoesBackwards) {
  TempDir dir;
  DeltaLog log = build_history(dir.file("t"));
  log.checkpoint(10);  // an older checkpoint rewritten later (a slow concurrent checkpointer)
  const JsonValue last = JsonValue::parse(read_file(fs::path(log.log_path()) / "_last_checkpoint"));
  EXPECT_EQ(last.find("version")->as_int(), 20);
}

TEST(DeltaLog, CheckpointsDropExpiredTombstones) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"), DeltaLogOptions{2});
  const AddFile a = add_file("a.parquet");
  const AddFile b = add_file("b.parquet");
  log.commit(0, {a, b});
  RemoveFile old_remove = remove_file(a);
  old_remove.deletion_timestamp = now_millis() - std::int64_t{30} * 24 * 3600 * 1000;
  log.commit(1, {old_remove, remove_file(b)});
  const std::vector<Action> actions = read_checkpoint_file(log.checkpoint_path(2));
  std::vector<std::string> tombstones;
  for (const Action& action : actions) {
    if (const auto* r = std::get_if<RemoveFile>(&action)) tombstones.push_back(r->path);
  }
  EXPECT_EQ(tombstones, std::vector<std::string>{"b.parquet"});
}

// Regression (fuzz_parquet): the actions were reserved from the footer's row count, so a damaged
// count threw std::length_error or exhausted memory instead of reading the row groups.
TEST(DeltaLog, ACheckpointFooterCountingTooManyRowsDoesNotSizeTheRead) {
  TempDir dir;
  DeltaLog log = create_table(dir.file("t"), DeltaLogOptions{2});
  log.commit(0, {add_file("a.parquet")});
  log.commit(1, {add_file("b.parquet")});
  const std::vector<Action> intact = read_checkpoint_file(log.checkpoint_path(2));
  ASSERT_EQ(intact.size(), 4u);
  for (const std::int64_t rows : {std::int64_t{-1}, INT64_MAX, std::int64_t{1} << 40}) {
    parquet::testing::rewrite_footer(log.checkpoint_path(2),
                                     [&](parquet::FileMetaData& m) { m.num_rows = rows; });
    EXPECT_EQ(read_checkpoint_file(log.checkpoint_path(2)).size(), intact.size());
    EXPECT_EQ(log.snapshot().files.size(), 2u);
  }
}

// ---- Independent verification with DuckDB ------------------------------------------------------

// Runs tests/duckdb/read_parquet.mjs on `file`; nullopt when node or the npm packages are missing.
std::optional<std::vector<JsonValue>> read_with_duckdb(const std::string& file) {
  const fs::path script = fs::path(LAKEFLOW_REPO_DIR) / "tests/duckdb/read_parquet.mjs";
  const fs::path modules = fs::path(LAKEFLOW_REPO_DIR) / "tests/duckdb/node_modules/@duckdb";
  if (!fs::exists(script) || !fs::exists(modules) ||
      std::system("node --version >/dev/null 2>&1") != 0) {
    return std::nullopt;
  }
  const std::string command = fmt::format("node '{}' '{}' 2>&1", script.string(), file);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  EXPECT_EQ(status, 0) << output;
  std::vector<JsonValue> rows;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(JsonValue::parse(line, "DuckDB output"));
  }
  return rows;
}

TEST(DeltaLog, DuckDBReadsTheCheckpointAsWritten) {
  TempDir dir;
  const DeltaLog log = build_history(dir.file("t"));
  const std::optional<std::vector<JsonValue>> rows = read_with_duckdb(log.checkpoint_path(20));
  if (!rows) GTEST_SKIP() << "node or tests/duckdb/node_modules missing (scripts/install-deps)";

  const Snapshot at20 = log.snapshot_at(20);
  const JsonValue last = JsonValue::parse(read_file(fs::path(log.log_path()) / "_last_checkpoint"));
  ASSERT_EQ(static_cast<std::int64_t>(rows->size()), last.find("size")->as_int());

  std::set<std::string> add_paths;
  std::set<std::string> remove_paths;
  std::map<std::string, std::int64_t> txns;
  int metadata_rows = 0;
  int protocol_rows = 0;
  int domain_rows = 0;
  for (const JsonValue& row : *rows) {
    int set_columns = 0;
    for (const char* column : {"txn", "add", "remove", "metaData", "protocol", "domainMetadata"}) {
      const JsonValue* value = row.find(column);
      ASSERT_NE(value, nullptr) << "column " << column << " missing in " << row.dump();
      if (!value->is_null()) ++set_columns;
    }
    EXPECT_EQ(set_columns, 1) << row.dump();
    if (const JsonValue* add = row.find("add"); !add->is_null()) {
      const std::string path = add->find("path")->as_string();
      add_paths.insert(path);
      const AddFile& expected = at20.files.at(path);
      EXPECT_EQ(add->find("size")->as_int(), expected.size);
      EXPECT_EQ(add->find("modificationTime")->as_int(), expected.modification_time);
      EXPECT_EQ(add->find("stats")->as_string(), *expected.stats);
      EXPECT_TRUE(add->find("partitionValues")->as_object().empty());
    }
    if (const JsonValue* remove = row.find("remove"); !remove->is_null()) {
      remove_paths.insert(remove->find("path")->as_string());
    }
    if (const JsonValue* txn = row.find("txn"); !txn->is_null()) {
      txns[txn->find("appId")->as_string()] = txn->find("version")->as_int();
    }
    if (const JsonValue* metadata = row.find("metaData"); !metadata->is_null()) {
      ++metadata_rows;
      EXPECT_EQ(metadata->find("id")->as_string(), at20.metadata.id);
      EXPECT_EQ(metadata->find("schemaString")->as_string(), test_schema().json());
      EXPECT_EQ(metadata->find("format")->find("provider")->as_string(), "parquet");
      EXPECT_EQ(metadata->find("configuration")->find("lakeflow.offset")->as_string(),
                R"({"page":20})");
    }
    if (const JsonValue* protocol = row.find("protocol"); !protocol->is_null()) {
      ++protocol_rows;
      EXPECT_EQ(protocol->find("minReaderVersion")->as_int(), 1);
      EXPECT_EQ(protocol->find("minWriterVersion")->as_int(), 7);
      EXPECT_EQ(protocol->find("writerFeatures")->dump(),
                R"(["appendOnly","invariants","domainMetadata"])");
    }
    if (const JsonValue* domain = row.find("domainMetadata"); !domain->is_null()) {
      ++domain_rows;
      EXPECT_EQ(domain->dump(),
                R"({"configuration":"3","domain":"com.example.b","removed":false})");
    }
  }
  EXPECT_EQ(domain_rows, 1);
  EXPECT_EQ(metadata_rows, 1);
  EXPECT_EQ(protocol_rows, 1);
  std::set<std::string> expected_adds;
  for (const auto& [path, add] : at20.files) expected_adds.insert(path);
  EXPECT_EQ(add_paths, expected_adds);
  std::set<std::string> expected_removes;
  for (const auto& [path, remove] : at20.tombstones) expected_removes.insert(path);
  EXPECT_EQ(remove_paths, expected_removes);
  std::map<std::string, std::int64_t> expected_txns;
  for (const auto& [app_id, txn] : at20.transactions) expected_txns[app_id] = txn.version;
  EXPECT_EQ(txns, expected_txns);
}

}  // namespace
}  // namespace lakeflow::delta
