// Partitioned reads through the runner (PartitionedReads, lakeflow/connector.h): a plan's
// partitions are read at once by connectors of their own and the step is committed once with the
// plan's end offset; a failed partition commits nothing; the connector hears of every commit
// (CommitListener) with the offsets it made durable.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "pipeline/row.h"
#include "pipeline/runner.h"
#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

namespace fs = std::filesystem;

// The source: records {"id", "value"}; offsets {"seq": N} (N records read). Partitions are ranges
// of three records ({"from", "to"}). Table options: `mode` append (default), cdc (key id, cursor
// value) or snapshot (key id; the plan reads the whole table, a null end); `fail_partition`: the
// `from` of a partition whose read throws.
struct Source {
  std::mutex mutex;
  std::vector<std::string> records;
  std::vector<std::string> committed;  // each notification: offset JSON (+ " deletes ...")
  std::atomic<int> instances{0};
  // Partitions 0 and 1 of a plan wait for each other (up to a minute), proving they are read at
  // once; `met` says whether they did.
  std::condition_variable arrived;
  int waiting = 0;
  bool met = false;
};

Source& source() {
  static Source instance;
  return instance;
}

const ConnectorSpec& embedded_connector_spec() {
  static const ConnectorSpec spec("partitioned_test_source", {},
                                  {"mode", "fail_partition", "max_records_per_batch"});
  return spec;
}

class PartitionedSource : public LakeflowConnect, public PartitionedReads, public CommitListener {
 public:
  explicit PartitionedSource(const Options& options)
      : LakeflowConnect(embedded_connector_spec(), options) {
    ++source().instances;
  }
  std::vector<std::string> do_list_tables() override { return {"items"}; }
  StructType do_get_table_schema(const TableContext& /*context*/) override {
    return StructType(
        {StructField("id", DataType::Long()), StructField("value", DataType::Long())});
  }
  TableMetadata do_read_table_metadata(const TableContext& context) override {
    const std::string mode = context.table_options.get_string("mode", "append");
    if (mode == "cdc") return {{"id"}, std::string("value"), IngestionType::kCdc};
    if (mode == "snapshot") return {{"id"}, std::nullopt, IngestionType::kSnapshot};
    return {{}, std::nullopt, IngestionType::kAppend};
  }
  ReadResult do_read_table(const ReadContext& context) override {
    ADD_FAILURE() << "read_table called from " << context.start.to_json()
                  << ": every read of this source is planned";
    return {RecordStream(), context.start};
  }
  std::optional<PartitionPlan> do_plan_partitions(const ReadContext& context) override {
    const JsonValue* at = context.start.find("seq");
    const std::int64_t from = at == nullptr ? 0 : at->as_int();
    const auto size = static_cast<std::int64_t>(records().size());
    const bool snapshot = context.table_options.get_string("mode", "append") == "snapshot";
    PartitionPlan plan;
    for (std::int64_t i = from; i < size; i += 3) {
      plan.partitions.emplace_back(
          JsonValue::Object{{"from", JsonValue(i)}, {"to", JsonValue(std::min(size, i + 3))}});
    }
    plan.end = snapshot ? Offset::null() : Offset(JsonValue::Object{{"seq", JsonValue(size)}});
    return plan;
  }
  RecordStream do_read_partition(const PartitionContext& context) override {
    const std::int64_t from = context.partition.find("from")->as_int();
    const std::int64_t to = context.partition.find("to")->as_int();
    const std::optional<std::string_view> fail = context.table_options.find("fail_partition");
    if (fail && std::to_string(from) == *fail) {
      throw SourceError(fmt::format("partition {} failed", context.partition.to_json()));
    }
    if (from <= 3) meet();
    const std::vector<std::string> all = records();
    return RecordStream::of(std::vector<std::string>(all.begin() + from, all.begin() + to));
  }
  void do_committed(const CommitContext& context) override {
    const std::lock_guard<std::mutex> lock(source().mutex);
    source().committed.push_back(
        context.offset.to_json() +
        (context.deletes_offset ? " deletes " + context.deletes_offset->to_json() : ""));
  }

 private:
  static std::vector<std::string> records() {
    const std::lock_guard<std::mutex> lock(source().mutex);
    return source().records;
  }
  // The first two partitions wait for each other.
  static void meet() {
    Source& s = source();
    std::unique_lock<std::mutex> lock(s.mutex);
    if (++s.waiting == 2) {
      s.met = true;
      s.arrived.notify_all();
      return;
    }
    s.arrived.wait_for(lock, std::chrono::minutes(1), [&] { return s.waiting >= 2; });
  }
};

const ConnectorRegistrar kRegistrar("partitioned_test_source", "test source",
                                    &embedded_connector_spec, [](const Options& o) {
                                      return std::make_unique<PartitionedSource>(o);
                                    });

std::string record(int id, int value) {
  return fmt::format(R"({{"id":{},"value":{}}})", id, value);
}

class PartitionedReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Source& s = source();
    s.records.clear();
    s.committed.clear();
    s.instances = 0;
    s.waiting = 0;
    s.met = false;
    for (int id = 1; id <= 10; ++id) s.records.push_back(record(id, id * 10));
    root_ = unique_temp_path("lakeflow_partitioned_read_test");
    fs::remove_all(root_);
    connection_.name = "src";
    connection_.connector = "partitioned_test_source";
    use("append");
  }
  void TearDown() override { fs::remove_all(root_); }

  void use(const std::string& mode, const std::string& more = "") {
    spec_ = parse_pipeline_spec(fmt::format(R"(connection_name: src
destination_root: "{}"
objects:
  - table:
      source_table: items
      table_configuration: {{mode: {}{}}}
)",
                                            root_.string(), mode, more),
                                "partitioned.yaml");
  }

  TableResult run(std::size_t parallelism = 3) {
    source().waiting = 0;
    RunOptions options;
    options.parallelism = parallelism;
    options.log = [this](std::string_view line) { log_ += std::string(line) + "\n"; };
    return run_pipeline(spec_, connection_, test_destination(), options).at(0);
  }

  std::multiset<std::string> values() const {
    std::multiset<std::string> out;
    for (const std::string& row : read_table_rows(root_ / "main" / "default" / "items")) {
      out.insert(std::string(*Row(row).field("id")) + "=" + std::string(*Row(row).field("value")));
    }
    return out;
  }

  static std::multiset<std::string> expected(int ids, int times = 10) {
    std::multiset<std::string> out;
    for (int id = 1; id <= ids; ++id) out.insert(fmt::format("{}={}", id, id * times));
    return out;
  }

  fs::path root_;
  PipelineSpec spec_;
  Connection connection_;
  std::string log_;
};

TEST_F(PartitionedReadTest, PartitionsAreReadAtOnceAndTheTableIsCommittedOnceWithThePlansEnd) {
  const TableResult result = run();
  ASSERT_FALSE(result.error) << *result.error << log_;
  EXPECT_TRUE(source().met) << "the first two partitions were not read at the same time";
  EXPECT_GE(source().instances.load(), 2) << "partitions were read by one connector";
  EXPECT_EQ(values(), expected(10));
  EXPECT_EQ(result.commits, 1u);
  EXPECT_EQ(result.records, 10u);
  EXPECT_EQ(result.offset, R"({"seq":10})");
  EXPECT_NE(log_.find("reading 4 partition(s)"), std::string::npos) << log_;
  // The next run reads what was added, from the committed offset.
  source().records.push_back(record(11, 110));
  source().records.push_back(record(12, 120));
  const TableResult again = run();
  ASSERT_FALSE(again.error) << *again.error;
  EXPECT_EQ(values(), expected(12));
  EXPECT_EQ(again.commits, 1u);
  EXPECT_EQ(again.offset, R"({"seq":12})");
  EXPECT_EQ(source().committed, (std::vector<std::string>{R"({"seq":10})", R"({"seq":12})"}));
}

TEST_F(PartitionedReadTest, MergeFlowsMergeEveryPartitionInOneCommit) {
  use("cdc");
  const TableResult first = run(2);
  ASSERT_FALSE(first.error) << *first.error << log_;
  EXPECT_EQ(values(), expected(10));
  EXPECT_EQ(first.commits, 1u);
  EXPECT_EQ(first.inserted, 10u);
  source().records.push_back(record(11, 110));
  const TableResult second = run(2);
  ASSERT_FALSE(second.error) << *second.error;
  EXPECT_EQ(values(), expected(11));
  EXPECT_EQ(second.commits, 1u);

  fs::remove_all(root_);
  use("snapshot");
  const TableResult snapshot = run(2);
  ASSERT_FALSE(snapshot.error) << *snapshot.error << log_;
  EXPECT_EQ(values(), expected(11));
  for (std::string& r : source().records) {
    const int id = std::stoi(std::string(*Row(r).field("id")));
    r = record(id, id * 100);
  }
  const TableResult changed = run(2);
  ASSERT_FALSE(changed.error) << *changed.error << log_;
  EXPECT_EQ(values(), expected(11, 100));
  EXPECT_EQ(changed.commits, 1u);
  EXPECT_EQ(changed.updated, 11u);
}

TEST_F(PartitionedReadTest, AFailedPartitionCommitsNothingOfTheStep) {
  use("append", ", fail_partition: 6");
  const TableResult failed = run();
  ASSERT_TRUE(failed.error);
  EXPECT_NE(failed.error->find(R"(partition {"from":6,"to":9} failed)"), std::string::npos)
      << *failed.error;
  EXPECT_EQ(failed.commits, 0u);
  EXPECT_FALSE(failed.offset);
  EXPECT_TRUE(source().committed.empty());
  use("append");
  const TableResult rerun = run();
  ASSERT_FALSE(rerun.error) << *rerun.error;
  EXPECT_EQ(values(), expected(10));  // each record once: nothing of the failed run landed
  EXPECT_EQ(source().committed, (std::vector<std::string>{R"({"seq":10})"}));
}

TEST_F(PartitionedReadTest, ABadRecordNamesItsPartition) {
  source().records[7] = R"({"id":8,"value":"eight"})";
  const TableResult failed = run();
  ASSERT_TRUE(failed.error);
  EXPECT_NE(
      failed.error->find(R"(partition {"from":6,"to":9} of the read that started at offset {})"),
      std::string::npos)
      << *failed.error;
  EXPECT_EQ(failed.commits, 0u);
}

}  // namespace
}  // namespace lakeflow::pipeline
