// Bad records through the runner: --on-bad-record fail stops a table without committing the batch
// that held the record; quarantine lands the good rows and sets the bad ones aside in
// <table>__quarantine, exactly once with the batches they came in.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "delta/delta_log.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "pipeline/quarantine.h"
#include "pipeline/row.h"
#include "pipeline/runner.h"
#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

namespace fs = std::filesystem;

// Records the tests change between runs, read two per call with offset {"seq": N} (N = records
// read so far). Table option `mode`: "append" (default), "cdc" (key id, cursor seq) or
// "snapshot" (key id; every record in one call).
std::vector<std::string>& source() {
  static std::vector<std::string> records;
  return records;
}

const ConnectorSpec& embedded_connector_spec() {
  static const ConnectorSpec spec("bad_records_test_source", {}, {"mode", "max_records_per_batch"});
  return spec;
}

class BadRecordSource : public LakeflowConnect {
 public:
  explicit BadRecordSource(Options options) : LakeflowConnect(embedded_connector_spec(), options) {}
  std::vector<std::string> do_list_tables() override { return {"items"}; }
  StructType do_get_table_schema(const TableContext& /*context*/) override {
    return StructType({StructField("id", DataType::Long()), StructField("value", DataType::Long()),
                       StructField("seq", DataType::Long())});
  }
  TableMetadata do_read_table_metadata(const TableContext& context) override {
    const std::string mode = context.table_options.get_string("mode", "append");
    if (mode == "cdc") return {{"id"}, std::string("seq"), IngestionType::kCdc};
    if (mode == "snapshot") return {{"id"}, std::nullopt, IngestionType::kSnapshot};
    return {{}, std::nullopt, IngestionType::kAppend};
  }
  ReadResult do_read_table(const ReadContext& context) override {
    if (context.table_options.get_string("mode", "append") == "snapshot") {
      return {RecordStream::of(source()), Offset::null()};
    }
    const JsonValue* at = context.start.find("seq");
    const std::size_t from = at == nullptr ? 0 : static_cast<std::size_t>(at->as_int());
    std::vector<std::string> rows;
    std::size_t next = from;
    while (next < source().size() && rows.size() < 2) rows.push_back(source()[next++]);
    if (rows.empty()) return {RecordStream(), context.start};
    return {RecordStream::of(std::move(rows)),
            Offset(JsonValue::Object{{"seq", JsonValue(static_cast<std::int64_t>(next))}})};
  }
};

const ConnectorRegistrar kRegistrar("bad_records_test_source", "test source",
                                    &embedded_connector_spec, [](const Options& o) {
                                      return std::make_unique<BadRecordSource>(o);
                                    });

std::string good(int id) {
  return fmt::format(R"({{"id":{},"value":{},"seq":{}}})", id, id * 10, id);
}

class BadRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source().clear();
    root_ = unique_temp_path("lakeflow_bad_records_test");
    fs::remove_all(root_);
    use_mode("append");
    connection_.name = "src";
    connection_.connector = "bad_records_test_source";
  }
  void TearDown() override { fs::remove_all(root_); }

  void use_mode(const std::string& mode) {
    spec_ = parse_pipeline_spec(fmt::format(R"(connection_name: src
destination_root: "{}"
objects:
  - table:
      source_table: items
      table_configuration: {{mode: {}}}
)",
                                            root_.string(), mode),
                                "bad_records.yaml");
  }

  TableResult run(BadRecordMode mode, bool full_refresh = false) {
    RunOptions options;
    options.on_bad_record = mode;
    options.full_refresh = full_refresh;
    options.log = [this](std::string_view line) { log_ += std::string(line) + "\n"; };
    return run_pipeline(spec_, connection_, test_destination(), options).at(0);
  }

  fs::path table() const { return root_ / "main" / "default" / "items"; }
  fs::path side() const { return QuarantineTable::path_for(table()); }

  std::set<std::string> rows(const fs::path& path) const {
    std::set<std::string> out;
    for (const std::string& row : read_table_rows(path)) out.insert(row);
    return out;
  }
  std::set<std::string> ids(const fs::path& path) const {
    std::set<std::string> out;
    for (const std::string& row : read_table_rows(path))
      out.insert(std::string(*Row(row).field("id")));
    return out;
  }
  // The quarantine table's rows as (record, offset) pairs, in any order.
  std::multiset<std::pair<std::string, std::string>> quarantined() const {
    std::multiset<std::pair<std::string, std::string>> out;
    for (const std::string& json : read_table_rows(side())) {
      const JsonValue row = JsonValue::parse(json);
      EXPECT_EQ(row.find("source_table")->as_string(), "items");
      EXPECT_FALSE(row.find("reason")->as_string().empty());
      EXPECT_TRUE(row.find("quarantined_at")->is_string());
      out.emplace(row.find("record")->as_string(), row.find("offset")->as_string());
    }
    return out;
  }

  fs::path root_;
  PipelineSpec spec_;
  Connection connection_;
  std::string log_;
};

const std::string kBadValue = R"({"id":3,"value":"three","seq":3})";
const std::string kBadJson = R"({"id":6,"value":)";

TEST_F(BadRecordsTest, FailStopsTheTableWithoutCommittingTheBatchOfTheBadRecord) {
  source() = {good(1), good(2), good(4), kBadValue, good(5)};
  const TableResult result = run(BadRecordMode::kFail);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error_code, ErrorCode::kData);
  const std::string& message = *result.error;
  for (const char* part : {"table 'main.default.items', record 1, field 'value': expected bigint",
                           "record 1 of the read call that started at offset {\"seq\":2}",
                           "nothing of that call was committed", "--on-bad-record quarantine"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << "\n" << message;
  }
  // The first call (records 1 and 2) was committed; the failing one left nothing.
  EXPECT_EQ(ids(table()), (std::set<std::string>{"1", "2"}));
  const delta::Snapshot snapshot = delta::DeltaLog(table().string()).snapshot();
  EXPECT_EQ(snapshot.offset()->to_json(), R"({"seq":2})");
  EXPECT_EQ(snapshot.files.size(), 1U);
  EXPECT_FALSE(fs::exists(side()));
  for (const auto& entry : fs::directory_iterator(table())) {
    EXPECT_EQ(entry.path().filename().string().rfind(".part-", 0), std::string::npos)
        << "a temporary data file was left: " << entry.path();
  }
}

// Merged tables convert every read call of a run with one converter: a record's index in the
// message still counts from the start of its own call.
TEST_F(BadRecordsTest, CdcFailNamesTheRecordByItsIndexInItsReadCall) {
  use_mode("cdc");
  source() = {good(1), good(2), good(4), good(5), good(6), kBadValue, good(7)};
  const TableResult result = run(BadRecordMode::kFail);
  ASSERT_TRUE(result.error);
  const std::string& message = *result.error;
  for (const char* part : {"table 'main.default.items', record 1, field 'value': expected bigint",
                           "record 1 of the read call that started at offset {\"seq\":4}"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << "\n" << message;
  }
  EXPECT_EQ(ids(table()), (std::set<std::string>{"1", "2", "4", "5"}));
}

TEST_F(BadRecordsTest, QuarantineLandsGoodRowsAndSetsBadOnesAsideOnce) {
  source() = {good(1), good(2), kBadValue, good(4), kBadJson, good(7)};
  const TableResult first = run(BadRecordMode::kQuarantine);
  ASSERT_FALSE(first.error) << *first.error;
  EXPECT_EQ(first.records, 6U);
  EXPECT_EQ(first.inserted, 4U);
  EXPECT_EQ(first.quarantined, 2U);
  EXPECT_EQ(first.quarantine_path, side());
  EXPECT_EQ(ids(table()), (std::set<std::string>{"1", "2", "4", "7"}));
  const std::multiset<std::pair<std::string, std::string>> expected = {{kBadValue, R"({"seq":4})"},
                                                                       {kBadJson, R"({"seq":6})"}};
  EXPECT_EQ(quarantined(), expected);
  const std::string reason =
      JsonValue::parse(read_table_rows(side()).at(0)).find("reason")->as_string();
  EXPECT_NE(reason.find("field 'value'"), std::string::npos) << reason;
  // Both tables carry the same batch number.
  EXPECT_EQ(delta::DeltaLog(side().string()).snapshot().txn_version("lakeflow:main.default.items"),
            std::optional<std::int64_t>(3));
  EXPECT_EQ(delta::DeltaLog(table().string()).snapshot().txn_version("lakeflow:main.default.items"),
            std::optional<std::int64_t>(3));

  // A rerun reads nothing new and quarantines nothing again; new records are added once.
  const TableResult second = run(BadRecordMode::kQuarantine);
  EXPECT_EQ(second.quarantined, 0U);
  EXPECT_EQ(quarantined(), expected);
  source().push_back(R"({"id":8,"value":[8],"seq":8})");
  const TableResult third = run(BadRecordMode::kQuarantine);
  EXPECT_EQ(third.quarantined, 1U);
  EXPECT_EQ(quarantined().size(), 3U);
  EXPECT_EQ(ids(table()).size(), 4U);
}

// A run that died after committing a batch's quarantined records but before the batch itself:
// the next run undoes that quarantine commit, reads the batch again and quarantines what it holds
// now (here the source changed meanwhile, so the stale record must not stay).
TEST_F(BadRecordsTest, ARerunUndoesQuarantineCommitsTheTargetNeverMade) {
  source() = {good(1), kBadValue};
  ASSERT_EQ(run(BadRecordMode::kQuarantine).quarantined, 1U);
  const std::string app_id = "lakeflow:main.default.items";
  const std::int64_t committed = *delta::DeltaLog(table().string()).snapshot().txn_version(app_id);
  {
    // What the runner does first for batch `committed + 1`; then it "dies".
    QuarantineTable side_table(test_destination(), side(), app_id);
    side_table.commit(committed + 1, Offset::parse(R"({"seq":4})"), "items",
                      {{0, "value", "stale reason", R"({"stale":true})"}}, false);
  }
  ASSERT_EQ(quarantined().size(), 2U);
  source().push_back(good(5));
  source().push_back(kBadJson);
  const TableResult rerun = run(BadRecordMode::kQuarantine);
  ASSERT_FALSE(rerun.error) << *rerun.error;
  EXPECT_EQ(rerun.quarantined, 1U);
  const std::multiset<std::pair<std::string, std::string>> expected = {{kBadValue, R"({"seq":2})"},
                                                                       {kBadJson, R"({"seq":4})"}};
  EXPECT_EQ(quarantined(), expected);
  EXPECT_NE(log_.find("undid 1 commit(s) of main.default.items__quarantine"), std::string::npos)
      << log_;
}

// Undoing also brings back what an unfinished full refresh cleared.
TEST_F(BadRecordsTest, AFullRefreshClearsTheQuarantineTableAndAnUnfinishedOneIsUndone) {
  source() = {good(1), kBadValue, good(4), kBadJson};
  ASSERT_EQ(run(BadRecordMode::kQuarantine).quarantined, 2U);
  const auto before = quarantined();
  {
    QuarantineTable side_table(test_destination(), side(), "lakeflow:main.default.items");
    side_table.commit(side_table.batch() + 1, Offset(), "items", {}, /*clear=*/true);
  }
  EXPECT_TRUE(read_table_rows(side()).empty());
  ASSERT_FALSE(run(BadRecordMode::kQuarantine).error);
  EXPECT_EQ(quarantined(), before) << "the cleared rows were not restored";

  const TableResult refresh = run(BadRecordMode::kQuarantine, /*full_refresh=*/true);
  EXPECT_EQ(refresh.quarantined, 2U);
  EXPECT_EQ(quarantined(), before) << "a full refresh must not duplicate quarantined rows";
  EXPECT_EQ(ids(table()), (std::set<std::string>{"1", "4"}));
  // Failing at the first batch's bad record, a full refresh changes neither table.
  const TableResult failed = run(BadRecordMode::kFail, /*full_refresh=*/true);
  EXPECT_TRUE(failed.error);
  EXPECT_EQ(quarantined(), before);
  EXPECT_EQ(ids(table()), (std::set<std::string>{"1", "4"}));
}

TEST_F(BadRecordsTest, CdcQuarantinesRecordsWithoutKeyOrSequence) {
  use_mode("cdc");
  source() = {good(1), R"({"id":null,"value":1,"seq":2})", R"({"id":3,"value":1})", kBadValue,
              good(5)};
  const TableResult result = run(BadRecordMode::kQuarantine);
  ASSERT_FALSE(result.error) << *result.error;
  EXPECT_EQ(result.inserted, 2U);
  EXPECT_EQ(result.quarantined, 3U);
  EXPECT_EQ(ids(table()), (std::set<std::string>{"1", "5"}));
  std::map<std::string, std::string> reasons;
  for (const std::string& json : read_table_rows(side())) {
    const JsonValue row = JsonValue::parse(json);
    reasons[row.find("record")->as_string()] = row.find("reason")->as_string();
  }
  ASSERT_EQ(reasons.size(), 3U);
  EXPECT_NE(reasons.at(R"({"id":null,"value":1,"seq":2})").find("primary key 'id'"),
            std::string::npos);
  EXPECT_NE(reasons.at(R"({"id":3,"value":1})").find("sequence_by column 'seq'"),
            std::string::npos);
  EXPECT_NE(reasons.at(kBadValue).find("field 'value'"), std::string::npos);

  // Without quarantine the first bad record stops the table.
  fs::remove_all(root_);
  EXPECT_TRUE(run(BadRecordMode::kFail).error);
}

TEST_F(BadRecordsTest, SnapshotQuarantineCommitsEvenWhenNothingElseChanged) {
  use_mode("snapshot");
  source() = {good(1), kBadValue};
  const TableResult first = run(BadRecordMode::kQuarantine);
  EXPECT_EQ(first.inserted, 1U);
  EXPECT_EQ(first.quarantined, 1U);
  // A snapshot is read whole every run, so its bad record is seen (and set aside) again.
  const TableResult second = run(BadRecordMode::kQuarantine);
  EXPECT_EQ(second.inserted + second.updated + second.deleted, 0U);
  EXPECT_EQ(second.quarantined, 1U);
  EXPECT_EQ(quarantined().size(), 2U);
}

TEST_F(BadRecordsTest, ProgressReportsEveryCommitAndTheEnd) {
  source() = {good(1), good(2), kBadValue, good(4)};
  std::vector<TableProgress> reports;
  RunOptions options;
  options.on_bad_record = BadRecordMode::kQuarantine;
  options.progress = [&](const TableProgress& progress) { reports.push_back(progress); };
  run_pipeline(spec_, connection_, test_destination(), options);
  std::vector<std::string> commits;
  for (const TableProgress& p : reports) {
    EXPECT_EQ(p.destination, "main.default.items");
    if (p.stage == TableProgress::Stage::kCommitted) {
      commits.push_back(
          fmt::format("{} {} {} {} {}", p.commits, p.records, p.inserted, p.quarantined, p.offset));
    }
  }
  EXPECT_EQ(commits, (std::vector<std::string>{R"(1 2 2 0 {"seq":2})", R"(2 4 3 1 {"seq":4})"}));
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().stage, TableProgress::Stage::kDone);
  EXPECT_EQ(reports.back().bytes,
            good(1).size() + good(2).size() + kBadValue.size() + good(4).size());
}

}  // namespace
}  // namespace lakeflow::pipeline
