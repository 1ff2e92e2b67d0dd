// Merges skip data files whose key statistics rule out every changed key (key_filter.h). Each test
// lands batches whose keys fall in separate files, then changes keys and checks the table: had a
// file holding a changed key been skipped, its old row would stay beside the new one (SCD 1 would
// hold two rows for the key, SCD 2 two current versions), which these tests look for.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "delta/delta_log.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "pipeline/row.h"
#include "pipeline/runner.h"
#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

namespace fs = std::filesystem;

// The source's read calls: each call returns the next batch (offset {"call": N}).
std::vector<std::vector<std::string>>& batches() {
  static std::vector<std::vector<std::string>> calls;
  return calls;
}

const ConnectorSpec& pruning_spec() {
  static const ConnectorSpec spec("merge_pruning_test_source", {}, {"key"});
  return spec;
}

// Table option `key`: the key column's type: "long" (default), "string", "timestamp", "composite"
// (tenant long, name string) or "late" (a long key after 40 other columns, beyond the 32 columns
// Delta keeps statistics for).
class PruningSource : public LakeflowConnect {
 public:
  explicit PruningSource(Options options) : LakeflowConnect(pruning_spec(), options) {}
  std::vector<std::string> do_list_tables() override { return {"items"}; }
  StructType do_get_table_schema(const TableContext& context) override {
    const std::string key = context.table_options.get_string("key", "long");
    std::vector<StructField> fields;
    if (key == "late") {
      for (int i = 0; i < 40; ++i) fields.emplace_back(fmt::format("c{}", i), DataType::Long());
    }
    if (key == "string") {
      fields.emplace_back("id", DataType::String());
    } else if (key == "timestamp") {
      fields.emplace_back("id", DataType::Timestamp());
    } else if (key == "composite") {
      fields.emplace_back("tenant", DataType::Long());
      fields.emplace_back("id", DataType::String());
    } else {
      fields.emplace_back("id", DataType::Long());
    }
    fields.emplace_back("value", DataType::Long());
    fields.emplace_back("seq", DataType::Long());
    return StructType(std::move(fields));
  }
  TableMetadata do_read_table_metadata(const TableContext& context) override {
    if (context.table_options.get_string("key", "long") == "composite") {
      return {{"tenant", "id"}, std::string("seq"), IngestionType::kCdc};
    }
    return {{"id"}, std::string("seq"), IngestionType::kCdc};
  }
  ReadResult do_read_table(const ReadContext& context) override {
    const JsonValue* at = context.start.find("call");
    const auto call = static_cast<std::size_t>(at == nullptr ? 0 : at->as_int());
    if (call >= batches().size()) return {RecordStream(), context.start};
    return {RecordStream::of(batches()[call]),
            Offset(JsonValue::Object{{"call", JsonValue(static_cast<std::int64_t>(call + 1))}})};
  }
};

const ConnectorRegistrar kRegistrar("merge_pruning_test_source", "test source", &pruning_spec,
                                    [](const Options& o) {
                                      return std::make_unique<PruningSource>(o);
                                    });

class MergePruningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    batches().clear();
    root_ = unique_temp_path("lakeflow_merge_pruning_test");
    fs::remove_all(root_);
    connection_.name = "src";
    connection_.connector = "merge_pruning_test_source";
  }
  void TearDown() override { fs::remove_all(root_); }

  TableResult run(const std::string& key, const std::string& scd = "SCD_TYPE_1") {
    const PipelineSpec spec = parse_pipeline_spec(fmt::format(R"(connection_name: src
destination_root: "{}"
objects:
  - table:
      source_table: items
      table_configuration: {{key: {}, scd_type: {}}}
)",
                                                              root_.string(), key, scd),
                                                  "pruning.yaml");
    TableResult result = run_pipeline(spec, connection_, test_destination(), {}).at(0);
    EXPECT_FALSE(result.error) << *result.error;
    return result;
  }

  fs::path table() const { return root_ / "main" / "default" / "items"; }

  // The table's rows by their `key` field's JSON text (composite keys: tenant/id).
  std::map<std::string, std::vector<Row>> rows_by_key() const {
    std::map<std::string, std::vector<Row>> out;
    for (const std::string& json : read_table_rows(table())) {
      Row row(json);
      std::string key(*row.field("id"));
      if (const auto tenant = row.field("tenant")) key = std::string(*tenant) + "/" + key;
      out[key].push_back(std::move(row));
    }
    return out;
  }

  // The table's files now.
  std::size_t file_count() const {
    return delta::DeltaLog(table().string()).snapshot().files.size();
  }

  fs::path root_;
  Connection connection_;
};

std::string change(const std::string& id_json, int value, int seq) {
  return fmt::format(R"({{"id":{},"value":{},"seq":{}}})", id_json, value, seq);
}

TEST_F(MergePruningTest, AnUpdateReadsOnlyTheFileThatHoldsItsKey) {
  std::vector<std::string> first, second;
  for (int id = 1; id <= 10; ++id) first.push_back(change(std::to_string(id), id, 1));
  for (int id = 11; id <= 20; ++id) second.push_back(change(std::to_string(id), id, 1));
  batches() = {first, second};
  const TableResult landed = run("long");
  EXPECT_EQ(landed.files_read, 0u);  // the second batch's keys are all outside the first file
  EXPECT_EQ(landed.files_skipped, 1u);
  ASSERT_EQ(file_count(), 2u);

  // The second file's least, middle and greatest keys: bounds are inclusive.
  batches().push_back({change("11", 110, 2), change("15", 150, 2), change("20", 200, 2)});
  const TableResult updated = run("long");
  EXPECT_EQ(updated.updated, 3u);
  EXPECT_EQ(updated.files_read, 1u);
  EXPECT_EQ(updated.files_skipped, 1u);
  const auto rows = rows_by_key();
  ASSERT_EQ(rows.size(), 20u);
  for (const auto& [key, versions] : rows) ASSERT_EQ(versions.size(), 1u) << "key " << key;
  EXPECT_EQ(*rows.at("15").front().field("value"), "150");
  EXPECT_EQ(*rows.at("20").front().field("value"), "200");
  EXPECT_EQ(*rows.at("5").front().field("value"), "5");

  // A file's greatest key alone: bounds are inclusive.
  batches().push_back({change("10", 100, 2)});
  const TableResult edge = run("long");
  EXPECT_EQ(edge.updated, 1u);
  EXPECT_EQ(edge.files_read, 1u);
  EXPECT_EQ(rows_by_key().at("10").size(), 1u);

  // The commit says so too, in Delta's MERGE metric names.
  const delta::DeltaLog log(table().string());
  std::map<std::string, std::string> metrics;
  for (const delta::Action& action : log.read_commit(*log.latest_version())) {
    if (const auto* info = std::get_if<delta::CommitInfo>(&action)) {
      metrics.insert(info->operation_metrics.begin(), info->operation_metrics.end());
    }
  }
  EXPECT_EQ(metrics["numTargetFilesBeforeSkipping"], "2");
  EXPECT_EQ(metrics["numTargetFilesAfterSkipping"], "1");
}

// One run of several merges whose key ranges overlap, so no file is skipped by its statistics: a
// merge finds the files holding its keys by their key columns (remembered across the run's
// merges by file), rewrites only those, and writes inserts alone as a file of their own.
TEST_F(MergePruningTest, MergesOfOneRunFindTheFilesThatHoldTheirKeys) {
  std::vector<std::string> odd, even;
  for (int id = 1; id <= 19; id += 2) odd.push_back(change(std::to_string(id), id, 1));
  for (int id = 2; id <= 20; id += 2) even.push_back(change(std::to_string(id), id, 1));
  batches() = {odd,
               even,
               {change("3", 30, 2), change("21", 21, 1)},
               {change("4", 40, 2), change("3", 300, 3), change("5", 5, 1)},
               {change("4", 400, 1), change("22", 22, 1)}};
  const TableResult result = run("long");
  EXPECT_EQ(result.inserted, 22U);
  EXPECT_EQ(result.updated, 3U);  // 3 twice, 4 once; the replayed 5 and the late 4 change nothing
  // Files at each merge: none, odd, odd + even, even + (odd with 3 and 21), one file.
  EXPECT_EQ(result.files_skipped + result.files_read, 0U + 1U + 2U + 2U + 1U);
  const auto rows = rows_by_key();
  ASSERT_EQ(rows.size(), 22U);
  for (const auto& [key, versions] : rows) ASSERT_EQ(versions.size(), 1U) << "key " << key;
  EXPECT_EQ(*rows.at("3").front().field("value"), "300");
  EXPECT_EQ(*rows.at("4").front().field("value"), "40");
  EXPECT_EQ(*rows.at("5").front().field("value"), "5");
  EXPECT_EQ(*rows.at("20").front().field("value"), "20");
  EXPECT_EQ(*rows.at("22").front().field("value"), "22");
}

TEST_F(MergePruningTest, ScdType2ClosesTheVersionInTheFileItDidNotSkip) {
  std::vector<std::string> first, second;
  for (int id = 1; id <= 10; ++id) first.push_back(change(std::to_string(id), id, 1));
  for (int id = 11; id <= 20; ++id) second.push_back(change(std::to_string(id), id, 1));
  batches() = {first, second, {change("3", 30, 2), change("18", 180, 2)}};
  const TableResult result = run("long", "SCD_TYPE_2");
  EXPECT_EQ(result.updated, 2u);
  const auto rows = rows_by_key();
  ASSERT_EQ(rows.size(), 20u);
  for (const auto& [key, versions] : rows) {
    int current = 0;
    for (const Row& row : versions) current += row.field("__END_AT").value_or("null") == "null";
    EXPECT_EQ(current, 1) << "key " << key;
    EXPECT_EQ(versions.size(), key == "3" || key == "18" ? 2u : 1u) << "key " << key;
  }
}

TEST_F(MergePruningTest, LongStringKeysAreFoundDespiteTheirCutStatistics) {
  // Keys share a 40-character prefix; statistics keep 32 characters.
  const std::string prefix(40, 'k');
  auto id = [&](char c) { return "\"" + prefix + c + "\""; };
  std::vector<std::string> first, second;
  for (char c = 'a'; c <= 'm'; ++c) first.push_back(change(id(c), 1, 1));
  for (char c = 'n'; c <= 'z'; ++c) second.push_back(change(id(c), 1, 1));
  batches() = {first, second, {change(id('m'), 2, 2), change(id('n'), 2, 2)}};
  const TableResult result = run("string");
  EXPECT_EQ(result.updated, 2u);
  const auto rows = rows_by_key();
  ASSERT_EQ(rows.size(), 26u);
  for (const auto& [key, versions] : rows) ASSERT_EQ(versions.size(), 1u) << "key " << key;
  EXPECT_EQ(*rows.at(id('m')).front().field("value"), "2");
  EXPECT_EQ(*rows.at(id('n')).front().field("value"), "2");
}

TEST_F(MergePruningTest, MicrosecondTimestampKeysAreFoundDespiteMillisecondStatistics) {
  // The first file's greatest key is 999 µs past a millisecond; statistics keep milliseconds.
  batches() = {
      {change("\"2024-05-01T00:00:00.000001Z\"", 1, 1),
       change("\"2024-05-01T00:00:00.000999Z\"", 1, 1)},
      {change("\"2024-05-01T00:00:00.001500Z\"", 1, 1), change("\"2024-05-01T00:00:01Z\"", 1, 1)},
      {change("\"2024-05-01T00:00:00.000999Z\"", 2, 2)}};
  const TableResult result = run("timestamp");
  EXPECT_EQ(result.updated, 1u);
  const auto rows = rows_by_key();
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& [key, versions] : rows) ASSERT_EQ(versions.size(), 1u) << "key " << key;
}

TEST_F(MergePruningTest, CompositeKeysSkipByEveryColumn) {
  auto composite = [](int tenant, const std::string& id, int value, int seq) {
    return fmt::format(R"({{"tenant":{},"id":"{}","value":{},"seq":{}}})", tenant, id, value, seq);
  };
  // Both files span tenants 1-2; their names do not overlap.
  batches() = {{composite(1, "a", 1, 1), composite(2, "b", 1, 1)},
               {composite(1, "x", 1, 1), composite(2, "y", 1, 1)}};
  run("composite");
  ASSERT_EQ(file_count(), 2u);
  batches().push_back({composite(2, "y", 2, 2)});
  const TableResult result = run("composite");
  EXPECT_EQ(result.files_read, 1u);
  EXPECT_EQ(result.files_skipped, 1u);
  const auto rows = rows_by_key();
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& [key, versions] : rows) ASSERT_EQ(versions.size(), 1u) << "key " << key;
  EXPECT_EQ(*rows.at("2/\"y\"").front().field("value"), "2");
}

TEST_F(MergePruningTest, AKeyWithoutStatisticsReadsEveryFile) {
  auto late = [](int id, int value, int seq) {
    std::string row = "{";
    for (int i = 0; i < 40; ++i) row += fmt::format(R"("c{}":{},)", i, i);
    return row + fmt::format(R"("id":{},"value":{},"seq":{}}})", id, value, seq);
  };
  batches() = {{late(1, 1, 1), late(2, 1, 1)}, {late(3, 1, 1), late(4, 1, 1)}};
  run("late");
  batches().push_back({late(4, 2, 2)});
  const TableResult result = run("late");
  EXPECT_EQ(result.files_read, 2u);
  EXPECT_EQ(result.files_skipped, 0u);
  const auto rows = rows_by_key();
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& [key, versions] : rows) ASSERT_EQ(versions.size(), 1u) << "key " << key;
  EXPECT_EQ(*rows.at("4").front().field("value"), "2");
}

}  // namespace
}  // namespace lakeflow::pipeline
