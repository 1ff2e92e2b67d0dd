#include "pipeline/runner.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "delta/delta_log.h"
#include "lakeflow/http/redactor.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "pipeline/row.h"
#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

namespace fs = std::filesystem;

Connection example_connection() {
  Connection connection;
  connection.name = "example_shop";
  connection.connector = "example";
  connection.options = Options{{"username", "demo"}, {"password", "s3cret-pw"}};
  connection.secret_values = {"s3cret-pw"};
  return connection;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = unique_temp_path("lakeflow_runner_test");
    fs::remove_all(root_);
    spec_ = load_pipeline_spec(fs::path(LAKEFLOW_REPO_DIR) / "examples" / "example_pipeline.yaml");
    spec_.destination_root = root_;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::vector<TableResult> run(RunOptions options = {}) {
    options.parallelism = 2;
    options.log = [this](std::string_view line) { log_ += std::string(line) + "\n"; };
    return run_pipeline(spec_, example_connection(), test_destination(), options);
  }

  // Every record of a source table, read through the offset protocol from {}.
  static std::vector<std::string> source_records(const std::string& table, bool deletes = false) {
    const Connection connection = example_connection();
    auto connector = ConnectorRegistry::instance().create("example", connection.options);
    std::vector<std::string> out;
    Offset start;
    for (;;) {
      ReadResult read = deletes ? connector->read_table_deletes(table, start, {})
                                : connector->read_table(table, start, {});
      RecordBatch batch;
      while (read.records.next(batch)) {
        for (std::size_t i = 0; i < batch.size(); ++i) out.emplace_back(batch[i]);
      }
      if (read.end.is_null() || read.end == start) break;
      start = read.end;
    }
    return out;
  }

  static std::set<std::string> ids(const std::vector<std::string>& rows) {
    std::set<std::string> out;
    for (const std::string& json : rows) out.insert(std::string(*Row(json).field("id")));
    return out;
  }

  fs::path table(const std::string& name) const { return root_ / "main" / "shop" / name; }

  fs::path root_;
  PipelineSpec spec_;
  std::string log_;
};

TEST_F(RunnerTest, LandsEveryTableOfTheExamplePipeline) {
  const std::vector<TableResult> results = run();
  ASSERT_EQ(results.size(), 4U);
  for (const TableResult& result : results) {
    EXPECT_FALSE(result.error) << result.destination << ": " << *result.error;
    EXPECT_TRUE(delta::DeltaLog(result.path.string()).exists()) << result.destination;
    EXPECT_GT(result.records, 0U) << result.destination;
    EXPECT_GT(result.inserted, 0U) << result.destination;
  }
  EXPECT_EQ(results[0].flow, "apply_changes");
  EXPECT_EQ(results[1].scd_type, "SCD_TYPE_2");
  EXPECT_EQ(results[2].flow, "append");
  EXPECT_EQ(results[3].flow, "apply_changes_from_snapshot");
}

TEST_F(RunnerTest, TableContentsMatchTheSource) {
  run();
  // append: every event once.
  const std::vector<std::string> events = source_records("events");
  EXPECT_EQ(read_table_rows(table("events")).size(), events.size());
  // SCD 1 cdc: one row per user id.
  const std::vector<std::string> users = read_table_rows(table("users"));
  EXPECT_EQ(ids(users), ids(source_records("users")));
  EXPECT_EQ(users.size(), ids(users).size());
  // snapshot: the catalog's products, by id.
  EXPECT_EQ(ids(read_table_rows(table("products"))), ids(source_records("products")));
  // SCD 2: every order has history; deleted orders have no current version.
  const std::vector<std::string> orders = read_table_rows(table("orders"));
  EXPECT_EQ(ids(orders), ids(source_records("orders")));
  std::set<std::string> current;
  for (const std::string& json : orders) {
    const Row row(json);
    if (row.field("__END_AT").value_or("null") == "null") {
      EXPECT_TRUE(current.insert(std::string(*row.field("id"))).second) << json;
    }
  }
  for (const std::string& id : ids(source_records("orders", /*deletes=*/true))) {
    EXPECT_EQ(current.count(id), 0U) << "deleted order " << id << " is still current";
  }
}

TEST_F(RunnerTest, AppendBatchesConvertedInSlicesLandEveryRecordOnce) {
  // Slices of one record each (and of a few records): every event lands once, in source order.
  for (const std::size_t slice_bytes : {std::size_t{0}, std::size_t{1}, std::size_t{300}}) {
    fs::remove_all(root_);
    RunOptions options;
    options.tables = {"events"};
    options.append_slice_bytes = slice_bytes;
    const std::vector<TableResult> results = run(options);
    ASSERT_EQ(results.size(), 1U);
    ASSERT_FALSE(results[0].error) << *results[0].error;
    const std::vector<std::string> events = source_records("events");
    std::multiset<std::string> landed, expected;
    for (const std::string& json : read_table_rows(table("events"))) {
      landed.insert(std::string(*Row(json).field("id")));
    }
    for (const std::string& json : events) {
      expected.insert(std::string(*Row(json).field("id")));
    }
    EXPECT_EQ(landed, expected) << "slice bytes " << slice_bytes;
    EXPECT_EQ(results[0].inserted, events.size()) << "slice bytes " << slice_bytes;
  }
}

TEST_F(RunnerTest, StoresOffsetsWithTheData) {
  run();
  const delta::Snapshot users = delta::DeltaLog(table("users").string()).snapshot();
  ASSERT_TRUE(users.offset());
  EXPECT_FALSE(users.offset()->empty());
  EXPECT_TRUE(users.txn_version("lakeflow:main.shop.users"));
  const delta::Snapshot orders = delta::DeltaLog(table("orders").string()).snapshot();
  ASSERT_TRUE(orders.deletes_offset());
  EXPECT_FALSE(orders.deletes_offset()->empty());
}

TEST_F(RunnerTest, RerunWithoutSourceChangesAddsNothing) {
  run();
  std::map<std::string, std::size_t> sizes;
  for (const char* name : {"users", "orders", "events", "products"}) {
    sizes[name] = read_table_rows(table(name)).size();
  }
  for (const TableResult& result : run()) {
    EXPECT_FALSE(result.error) << *result.error;
    EXPECT_EQ(result.inserted + result.updated + result.deleted, 0U) << result.destination;
    EXPECT_EQ(result.files, 0U) << result.destination;
  }
  for (const auto& [name, size] : sizes) EXPECT_EQ(read_table_rows(table(name)).size(), size);
}

TEST_F(RunnerTest, FullRefreshRebuildsTheSameTables) {
  run();
  const std::size_t events = read_table_rows(table("events")).size();
  RunOptions options;
  options.full_refresh = true;
  for (const TableResult& result : run(options)) EXPECT_FALSE(result.error) << *result.error;
  EXPECT_EQ(read_table_rows(table("events")).size(), events);
}

TEST_F(RunnerTest, SelectsTablesAndRejectsUnknownOnes) {
  RunOptions options;
  options.tables = {"events"};
  ASSERT_EQ(run(options).size(), 1U);
  EXPECT_TRUE(fs::exists(table("events")));
  EXPECT_FALSE(fs::exists(table("users")));
  options.tables = {"nope"};
  const std::string message = error_message([&] { run(options); });
  EXPECT_NE(message.find("'nope'"), std::string::npos) << message;
}

TEST_F(RunnerTest, AConnectionThatCannotBeUsedFailsTheRunBeforeAnyTableWithoutSecrets) {
  Connection connection = example_connection();
  connection.connector = "no_such_connector";
  const std::string message =
      error_message([&] { run_pipeline(spec_, connection, test_destination(), {}); });
  EXPECT_NE(message.find("connection 'example_shop'"), std::string::npos) << message;
  EXPECT_NE(message.find("no_such_connector"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret-pw"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(root_));
}

// An unknown table, an out-of-range and an unknown table option are all found before any table
// lands (users, the first table, is fine and would have landed first), and named in one error.
TEST_F(RunnerTest, EveryTableIsCheckedBeforeAnyLands) {
  spec_.tables.at(1).table_options.set("page_size", "0");
  spec_.tables.at(2).table_options.set("colour", "red");
  TableSpec unknown = spec_.tables.at(0);
  unknown.source_table = "customers";
  unknown.destination_table = "customers";
  unknown.location = "example_pipeline.yaml:99:7";
  spec_.tables.push_back(unknown);

  const std::string message = error_message([&] { run(); }, ErrorCode::kConfig);
  for (const char* part :
       {"3 of 5 tables cannot run, so no table was run", "[table 'orders' (main.shop.orders) at ",
        "option 'page_size'", "[table 'events' (main.shop.events) at ",
        "unknown table option 'colour'",
        "[table 'customers' (main.shop.customers) at example_pipeline.yaml:99:7] connector "
        "'example' has no table 'customers'",
        "Connection 'example_shop' serves: users, orders, events, products",
        "(or leave them out with --tables) and rerun"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << "\n" << message;
  }
  EXPECT_EQ(message.find("[table 'users'"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(root_)) << "a table landed before the checks failed";

  // Only the selected tables are checked.
  RunOptions options;
  options.tables = {"users"};
  const std::vector<TableResult> results = run(options);
  ASSERT_EQ(results.size(), 1U);
  EXPECT_FALSE(results[0].error) << *results[0].error;
}

// A source the tests change between runs: items {id, value, updated_at}. Table option `mode`:
// "cdc" (cdc_with_deletes, two changes per read call, offset {"seq": N}) or "snapshot".
struct FakeSource {
  struct Event {
    std::int64_t seq;
    std::string json;
  };
  std::vector<Event> upserts;
  std::vector<Event> deletes;
  std::map<std::int64_t, std::string> state;  // id -> row
  std::int64_t seq = 0;
  std::function<void()> before_read;  // called at the start of every read_table call when set

  void upsert(std::int64_t id, const std::string& value) {
    ++seq;
    const std::string json =
        fmt::format(R"({{"id":{},"value":"{}","updated_at":{}}})", id, value, seq);
    upserts.push_back({seq, json});
    state[id] = json;
  }
  // An upsert that arrives now with an older cursor value.
  void late_upsert(std::int64_t id, const std::string& value, std::int64_t updated_at) {
    ++seq;
    upserts.push_back(
        {seq, fmt::format(R"({{"id":{},"value":"{}","updated_at":{}}})", id, value, updated_at)});
  }
  void remove(std::int64_t id) {
    ++seq;
    deletes.push_back({seq, fmt::format(R"({{"id":{},"updated_at":{}}})", id, seq)});
    state.erase(id);
  }
};
FakeSource& fake() {
  static FakeSource source;
  return source;
}

const ConnectorSpec& embedded_connector_spec() {
  static const ConnectorSpec spec("runner_test_fake", {}, {"mode", "max_records_per_batch"});
  return spec;
}

class FakeConnector : public LakeflowConnect {
 public:
  explicit FakeConnector(Options options) : LakeflowConnect(embedded_connector_spec(), options) {}
  std::vector<std::string> do_list_tables() override { return {"items"}; }
  StructType do_get_table_schema(const TableContext& /*context*/) override {
    return StructType({StructField("id", DataType::Long(), false),
                       StructField("value", DataType::String()),
                       StructField("updated_at", DataType::Long())});
  }
  TableMetadata do_read_table_metadata(const TableContext& context) override {
    const bool snapshot = context.table_options.get_string("mode", "cdc") == "snapshot";
    return {{"id"},
            std::string("updated_at"),
            snapshot ? IngestionType::kSnapshot : IngestionType::kCdcWithDeletes};
  }
  ReadResult do_read_table(const ReadContext& context) override {
    if (fake().before_read) fake().before_read();
    if (context.table_options.get_string("mode", "cdc") == "snapshot") {
      std::vector<std::string> rows;
      for (const auto& [id, json] : fake().state) rows.push_back(json);
      return {RecordStream::of(std::move(rows)), Offset::null()};
    }
    return read_events(fake().upserts, context.start);
  }
  ReadResult do_read_table_deletes(const ReadContext& context) override {
    return read_events(fake().deletes, context.start);
  }

 private:
  static ReadResult read_events(const std::vector<FakeSource::Event>& events, const Offset& start) {
    const JsonValue* at = start.find("seq");
    const std::int64_t after = at == nullptr ? 0 : at->as_int();
    std::vector<std::string> rows;
    Offset end = start;
    for (const FakeSource::Event& event : events) {
      if (event.seq <= after || rows.size() == 2) continue;
      rows.push_back(event.json);
      end = Offset(JsonValue::Object{{"seq", JsonValue(event.seq)}});
    }
    return {RecordStream::of(std::move(rows)), end};
  }
};

const ConnectorRegistrar kFakeRegistrar("runner_test_fake", "test source", &embedded_connector_spec,
                                        [](const Options& o) {
                                          return std::make_unique<FakeConnector>(o);
                                        });

class RunnerMergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake() = FakeSource();
    root_ = unique_temp_path("lakeflow_runner_merge_test");
    fs::remove_all(root_);
    spec_ = parse_pipeline_spec(fmt::format(R"(connection_name: fake
destination_root: "{}"
objects:
  - table:
      source_table: items
      destination_table: cdc
      table_configuration: {{mode: cdc}}
  - table:
      source_table: items
      destination_table: snap
      table_configuration: {{mode: snapshot}}
  - table:
      source_table: items
      destination_table: hist
      table_configuration: {{mode: cdc, scd_type: SCD_TYPE_2}}
  - table:
      source_table: items
      destination_table: hist_by_engine
      table_configuration: {{mode: cdc, scd_type: SCD_TYPE_2}}
  - table:
      source_table: items
      destination_table: cdc_by_engine
      table_configuration: {{mode: cdc}}
  - table:
      source_table: items
      destination_table: snap_hist
      table_configuration: {{mode: snapshot, scd_type: SCD_TYPE_2}}
  - table:
      source_table: items
      destination_table: snap_hist_by_engine
      table_configuration: {{mode: snapshot, scd_type: SCD_TYPE_2}}
)",
                                            root_.string()),
                                "fake.yaml");
    connection_.name = "fake";
    connection_.connector = "runner_test_fake";
  }
  void TearDown() override { fs::remove_all(root_); }

  TableResult run(const std::string& table, bool merge_by_index = true) {
    RunOptions options;
    options.tables = {table};
    options.merge_by_index = merge_by_index;
    std::vector<TableResult> results =
        run_pipeline(spec_, connection_, test_destination(), options);
    EXPECT_FALSE(results.at(0).error) << *results.at(0).error;
    return results.at(0);
  }
  fs::path path(const std::string& table) const { return root_ / "main" / "default" / table; }
  std::map<std::string, std::string> values(const std::string& table) const {
    std::map<std::string, std::string> out;
    for (const std::string& json : read_table_rows(path(table))) {
      const Row row(json);
      out[std::string(*row.field("id"))] = std::string(*row.field("value"));
    }
    return out;
  }

  fs::path root_;
  PipelineSpec spec_;
  Connection connection_;
};

TEST_F(RunnerMergeTest, CdcUpdatesAndDeletesRewriteOnlyTheFilesOfAffectedKeys) {
  for (int id = 1; id <= 4; ++id) fake().upsert(id, "v1");
  TableResult first = run("cdc");
  EXPECT_EQ(first.inserted, 4U);
  EXPECT_EQ(first.commits, 2U);  // two read calls of two changes
  const auto files_before = delta::DeltaLog(path("cdc").string()).snapshot().files;
  ASSERT_EQ(files_before.size(), 2U);

  fake().upsert(1, "v2");
  TableResult second = run("cdc");
  EXPECT_EQ(second.updated, 1U);
  EXPECT_EQ(second.inserted, 0U);
  EXPECT_EQ(second.files, 1U);
  const auto files_after = delta::DeltaLog(path("cdc").string()).snapshot().files;
  ASSERT_EQ(files_after.size(), 2U);
  std::size_t kept = 0;
  for (const auto& [file, add] : files_before) kept += files_after.count(file);
  EXPECT_EQ(kept, 1U) << "the file of ids 3 and 4 must stay";

  fake().remove(2);
  TableResult third = run("cdc");
  EXPECT_EQ(third.deleted, 1U);
  const std::map<std::string, std::string> expected = {
      {"1", "\"v2\""}, {"3", "\"v1\""}, {"4", "\"v1\""}};
  EXPECT_EQ(values("cdc"), expected);
  const delta::Snapshot snapshot = delta::DeltaLog(path("cdc").string()).snapshot();
  EXPECT_EQ(snapshot.offset()->to_json(), R"({"seq":5})");
  EXPECT_EQ(snapshot.deletes_offset()->to_json(), R"({"seq":6})");
}

TEST_F(RunnerMergeTest, ADeleteStaysDeletedWhenAnOlderUpsertArrivesInALaterRun) {
  fake().upsert(1, "a");  // updated_at 1
  fake().upsert(2, "a");  // updated_at 2
  fake().remove(1);       // updated_at 3
  run("cdc");
  EXPECT_EQ(values("cdc").count("1"), 0U);
  const delta::Snapshot snapshot = delta::DeltaLog(path("cdc").string()).snapshot();
  ASSERT_TRUE(snapshot.domains.contains("lakeflow.tombstones"));  // a metadata domain
  fake().late_upsert(1, "late", 2);                               // older than the delete
  const TableResult second = run("cdc");
  EXPECT_EQ(second.inserted, 0U);
  EXPECT_EQ(values("cdc").count("1"), 0U) << "the late upsert brought a deleted row back";
  fake().upsert(1, "new");  // newer than the delete
  EXPECT_EQ(run("cdc").inserted, 1U);
  EXPECT_EQ(values("cdc").at("1"), "\"new\"");
  EXPECT_FALSE(
      delta::DeltaLog(path("cdc").string()).snapshot().domains.contains("lakeflow.tombstones"));
}

// Updates, deletes, late and replayed changes, merged by index and by the merge engine's JSON
// rows into tables of each SCD type: the same rows and counts after every run.
TEST_F(RunnerMergeTest, MergesByIndexLandWhatTheEngineLands) {
  // A snapshot's versions start and end at the time of its run: compared without them.
  auto sorted_rows = [this](const std::string& table) {
    std::vector<std::string> rows;
    for (const std::string& json : read_table_rows(path(table))) {
      const Row row(json);
      const bool current = row.field(kEndAtColumn).value_or("null") == "null";
      rows.push_back(table.starts_with("snap") ? row.rebuild({kStartAtColumn, kEndAtColumn},
                                                             {{"current", current ? "1" : "0"}})
                                               : json);
    }
    std::sort(rows.begin(), rows.end());
    return rows;
  };
  auto both = [&](const std::string& table, const std::string& by_engine) {
    const TableResult a = run(table);
    const TableResult b = run(by_engine, false);
    EXPECT_EQ(a.inserted, b.inserted) << table;
    EXPECT_EQ(a.updated, b.updated) << table;
    EXPECT_EQ(a.deleted, b.deleted) << table;
    EXPECT_EQ(sorted_rows(table), sorted_rows(by_engine)) << table;
  };
  auto step = [&] {
    both("hist", "hist_by_engine");
    both("cdc", "cdc_by_engine");
    both("snap_hist", "snap_hist_by_engine");
  };
  for (int id = 1; id <= 5; ++id) fake().upsert(id, "v1");
  step();
  fake().upsert(1, "v2");
  fake().upsert(2, "v2");
  fake().remove(3);
  step();
  fake().late_upsert(3, "late", 2);     // older than its delete
  fake().late_upsert(1, "between", 7);  // between v2 (6) and now
  fake().remove(4);
  fake().remove(9);  // a key never seen
  step();
  fake().upsert(3, "back");
  fake().remove(1);
  fake().late_upsert(5, "v1", 5);  // a replay of 5's first version
  step();
  const std::vector<std::string> history = read_table_rows(path("hist"));
  EXPECT_EQ(history.size(), 10U);
  EXPECT_EQ(values("cdc").size(), 3U);
  EXPECT_EQ(read_table_rows(path("snap_hist")).size(), 8U);
}

TEST_F(RunnerMergeTest, SnapshotInsertsUpdatesAndDeletesByKey) {
  for (int id = 1; id <= 3; ++id) fake().upsert(id, "a");
  EXPECT_EQ(run("snap").inserted, 3U);
  fake().remove(2);
  fake().upsert(3, "b");
  fake().upsert(4, "c");
  const TableResult second = run("snap");
  EXPECT_EQ(second.inserted, 1U);
  EXPECT_EQ(second.updated, 1U);
  EXPECT_EQ(second.deleted, 1U);
  const std::map<std::string, std::string> expected = {
      {"1", "\"a\""}, {"3", "\"b\""}, {"4", "\"c\""}};
  EXPECT_EQ(values("snap"), expected);
  const TableResult third = run("snap");
  EXPECT_EQ(third.commits, 0U);
}

// The data files in `table`'s directory that no commit of its log adds (hidden temporaries
// included), by name.
std::set<std::string> unreferenced_files(const fs::path& table) {
  const delta::DeltaLog log(table.string());
  std::set<std::string> added;
  for (std::int64_t version = 0; version <= log.latest_version().value_or(-1); ++version) {
    for (const delta::Action& action : log.read_commit(version)) {
      if (const auto* add = std::get_if<delta::AddFile>(&action)) added.insert(add->path);
    }
  }
  std::set<std::string> out;
  for (const auto& entry : fs::directory_iterator(table)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && added.count(name) == 0) out.insert(name);
  }
  return out;
}

// Another writer commits the version a batch was about to take: the batch's commit fails (a
// conflict), and the data file written for it is removed with it.
TEST_F(RunnerMergeTest, ACommitThatFailsLeavesNoDataFileBehind) {
  for (int id = 1; id <= 4; ++id) fake().upsert(id, "v1");
  run("cdc");
  fake().upsert(5, "v1");
  const delta::DeltaLog log(path("cdc").string());
  const std::int64_t taken = *log.latest_version() + 1;
  fake().before_read = [&] {
    std::ofstream(log.commit_path(taken)) << R"({"commitInfo":{"operation":"WRITE"}})"
                                          << "\n";
    fake().before_read = nullptr;
  };
  RunOptions options;
  options.tables = {"cdc"};
  const TableResult result = run_pipeline(spec_, connection_, test_destination(), options).at(0);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error_code, ErrorCode::kConflict) << *result.error;
  EXPECT_EQ(result.files, 1U) << "the batch wrote no file, so nothing was tested";
  EXPECT_EQ(unreferenced_files(path("cdc")), std::set<std::string>()) << *result.error;
}

// What a run that stopped between writing a file and committing it leaves (a crash, a kill) is
// removed by the next run, and only that: files of versions not committed yet (their writer may
// be at work), young temporaries and other writers' files stay.
TEST_F(RunnerMergeTest, ARunRemovesTheFilesOfCommitsThatNeverNamedThem) {
  for (int id = 1; id <= 4; ++id) fake().upsert(id, "v1");
  run("cdc");
  const fs::path table = path("cdc");
  const std::int64_t latest = *delta::DeltaLog(table.string()).latest_version();
  const std::string uuid = "0b6e3a0c-8d2f-4c1e-9a57-3f0d2b9c4e11";
  auto name = [&](int sequence, std::int64_t version) {
    return fmt::format("part-{:05}-{}-v{}-c000.zstd.parquet", sequence, uuid, version);
  };
  auto plant = [&](const std::string& file, bool old) {
    std::ofstream(table / file) << "PAR1";
    if (old)
      fs::last_write_time(table / file, fs::file_time_type::clock::now() - std::chrono::hours(2));
  };
  const std::string crashed = name(7, latest);                      // its commit exists without it
  const std::string stale_temp = "." + name(8, 1) + ".tmp-4242-0";  // as crashed, and old
  const std::string young_temp = "." + name(9, 1) + ".tmp-4242-1";  // as crashed, but young
  const std::string in_flight = name(10, latest + 1);               // not committed yet
  const std::string foreign = "part-00000-" + uuid + "-c000.snappy.parquet";
  plant(crashed, false);
  plant(stale_temp, true);
  plant(young_temp, false);
  plant(in_flight, true);
  plant(foreign, true);

  run("cdc");
  EXPECT_EQ(unreferenced_files(table), (std::set<std::string>{young_temp, in_flight, foreign}));
}

// The connection's secret values are hidden in every log line, progress report and error of the
// run, by the process's one Redactor (which the connectors' HTTP clients use too).
TEST_F(RunnerMergeTest, TheConnectionsSecretValuesAreHiddenInLogsProgressAndErrors) {
  const std::string secret = "http://fake.example/resolved-from-env";
  connection_.secret_values = {secret};
  fake().upsert(1, "v1");
  fake().before_read = [&] { throw SourceError("GET " + secret + "/items failed"); };
  std::string log;
  std::string progress;
  RunOptions options;
  options.tables = {"cdc"};
  options.log = [&](std::string_view line) { log += std::string(line) + "\n"; };
  options.progress = [&](const TableProgress& report) { progress += report.error + "\n"; };
  const TableResult result = run_pipeline(spec_, connection_, test_destination(), options).at(0);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(*result.error, "GET ***/items failed");
  EXPECT_NE(log.find("GET ***/items failed"), std::string::npos) << log;
  EXPECT_NE(progress.find("GET ***/items failed"), std::string::npos) << progress;
  EXPECT_EQ(http::process_redactor()->redact("see " + secret), "see ***");
}

TEST(ReadTableRows, RejectsADirectoryWithoutATable) {
  const std::string message =
      error_message([] { read_table_rows(unique_temp_path("lakeflow_no_table")); });
  EXPECT_NE(message.find("not a Delta table"), std::string::npos) << message;
}

}  // namespace
}  // namespace lakeflow::pipeline
