// cluster_by through the runner: the table records its clustering columns as the Delta protocol
// says, every data file it writes (appends and merge rewrites) is sorted by them, the files of one
// write hold disjoint key ranges, and DuckDB reads the table as lakeflow does.
#include "delta/clustering.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "delta/delta_log.h"
#include "lakeflow/files.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_test_util.h"
#include "pipeline/runner.h"
#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// The records of each read call, set by the tests: call i returns calls()[i] with offset
// {"call": i + 1}. Table option `mode`: "append" (default), "cdc" (key id, cursor seq) or
// "snapshot" (key id; every call's records in one read).
std::vector<std::vector<std::string>>& calls() {
  static std::vector<std::vector<std::string>> records;
  return records;
}

const ConnectorSpec& embedded_connector_spec() {
  static const ConnectorSpec spec("clustering_test_source", {}, {"mode", "max_records_per_batch"});
  return spec;
}

class ClusteringSource : public LakeflowConnect {
 public:
  explicit ClusteringSource(Options options)
      : LakeflowConnect(embedded_connector_spec(), options) {}
  std::vector<std::string> do_list_tables() override { return {"items"}; }
  StructType do_get_table_schema(const TableContext& /*context*/) override {
    return StructType{{"id", DataType::Long()},
                      {"region", DataType::String()},
                      {"score", DataType::Double()},
                      {"place", StructType{{"city", DataType::String()}}},
                      {"tags", DataType::Array(DataType::String())},
                      {"flag", DataType::Boolean()},
                      {"seq", DataType::Long()}};
  }
  TableMetadata do_read_table_metadata(const TableContext& context) override {
    const std::string mode = context.table_options.get_string("mode", "append");
    if (mode == "cdc") return {{"id"}, std::string("seq"), IngestionType::kCdc};
    if (mode == "snapshot") return {{"id"}, std::nullopt, IngestionType::kSnapshot};
    return {{}, std::nullopt, IngestionType::kAppend};
  }
  ReadResult do_read_table(const ReadContext& context) override {
    if (context.table_options.get_string("mode", "append") == "snapshot") {
      std::vector<std::string> all;
      for (const auto& call : calls()) all.insert(all.end(), call.begin(), call.end());
      return {RecordStream::of(std::move(all)), Offset::null()};
    }
    const JsonValue* at = context.start.find("call");
    const auto call = at == nullptr ? std::size_t{0} : static_cast<std::size_t>(at->as_int());
    if (call >= calls().size()) return {RecordStream(), context.start};
    return {RecordStream::of(calls()[call]),
            Offset(JsonValue::Object{{"call", JsonValue(static_cast<std::int64_t>(call + 1))}})};
  }
};

const ConnectorRegistrar kRegistrar("clustering_test_source", "test source",
                                    &embedded_connector_spec, [](const Options& o) {
                                      return std::make_unique<ClusteringSource>(o);
                                    });

// A record of key `id`; every 11th has a null region, so nulls sort first.
std::string record(std::int64_t id, std::int64_t seq = 1) {
  const std::string region = id % 11 == 0 ? "null" : fmt::format("\"r{}\"", id % 5);
  return fmt::format(
      R"({{"id":{},"region":{},"score":{},"place":{{"city":"c{}"}},"tags":["t{}"],"flag":{},)"
      R"("seq":{}}})",
      id, region, static_cast<double>(id) / 2, id % 3, id, id % 2 == 0 ? "true" : "false", seq);
}

// `calls` read calls of `per_call` records each, keys drawn shuffled from 0..keys-1.
void shuffled_calls(std::size_t calls_count, std::size_t per_call, std::int64_t keys,
                    std::int64_t seq = 1, unsigned seed = 7) {
  std::mt19937 random(seed);
  std::vector<std::int64_t> all(static_cast<std::size_t>(keys));
  for (std::int64_t i = 0; i < keys; ++i) all[static_cast<std::size_t>(i)] = i;
  std::shuffle(all.begin(), all.end(), random);
  calls().clear();
  for (std::size_t c = 0; c < calls_count; ++c) {
    std::vector<std::string> records;
    for (std::size_t i = 0; i < per_call; ++i) {
      records.push_back(record(all[(c * per_call + i) % all.size()], seq));
    }
    calls().push_back(std::move(records));
  }
}

using files::read_file;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The sort key of a landed row (JSON) for cluster_by [region, id]: nulls first.
std::tuple<bool, std::string, std::int64_t> region_id(const JsonValue& row) {
  const JsonValue* region = row.find("region");
  const bool has_region = region != nullptr && !region->is_null();
  return {has_region, has_region ? region->as_string() : "", row.find("id")->as_int()};
}

// `node SCRIPT ARGS...` (a tests/duckdb script): its exit status and output lines.
std::pair<int, std::vector<std::string>> run_node(const std::string& script,
                                                  const std::vector<std::string>& args) {
  std::string command = fmt::format("node '{}/tests/duckdb/{}'", LAKEFLOW_REPO_DIR, script);
  for (const std::string& arg : args) command += " '" + arg + "'";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, {}};
  char buffer[65536];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, lines_of(output)};
}

class ClusteringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = unique_temp_path("lakeflow_clustering_test");
    fs::remove_all(root_);
    connection_.name = "src";
    connection_.connector = "clustering_test_source";
    calls().clear();
  }
  void TearDown() override { fs::remove_all(root_); }

  void use(const std::string& mode, const std::string& cluster_by,
           const std::string& scd = "SCD_TYPE_1") {
    spec_ =
        parse_pipeline_spec(fmt::format(R"(connection_name: src
destination_root: "{}"
objects:
  - table:
      source_table: items
      table_configuration: {{mode: {}, scd_type: {}{}}}
)",
                                        root_.string(), mode, scd,
                                        cluster_by.empty() ? "" : ", cluster_by: " + cluster_by),
                            "clustering.yaml");
  }

  TableResult run(std::size_t file_bytes = RunOptions{}.clustered_file_bytes) {
    RunOptions options;
    options.clustered_file_bytes = file_bytes;
    TableResult result = run_pipeline(spec_, connection_, test_destination(), options).at(0);
    EXPECT_FALSE(result.error) << *result.error;
    return result;
  }

  fs::path table() const { return root_ / "main" / "default" / "items"; }
  fs::path commit_file(int version) const {
    return table() / "_delta_log" / fmt::format("{:020}.json", version);
  }
  delta::Snapshot snapshot() const { return delta::DeltaLog(table().string()).snapshot(); }

  // The active files' rows, each file's in file order, read with lakeflow's Parquet reader.
  std::vector<std::vector<JsonValue>> file_rows() const {
    const delta::Snapshot s = snapshot();
    const StructType schema = s.metadata.schema();
    std::vector<std::vector<JsonValue>> out;
    for (const auto& [path, add] : s.files) {
      const parquet::ParquetReader reader((table() / delta::decode_path(path)).string());
      const ColumnBatch batch = reader.read(schema);
      std::vector<JsonValue>& rows = out.emplace_back();
      for (std::size_t i = 0; i < batch.num_rows(); ++i) {
        rows.push_back(JsonValue::parse(batch.row_json(i)));
      }
    }
    return out;
  }

  // Each active file's [min, max] of `id` from its add action's statistics.
  std::vector<std::pair<std::int64_t, std::int64_t>> id_ranges() const {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    for (const auto& [path, add] : snapshot().files) {
      const JsonValue stats = JsonValue::parse(*add.stats);
      out.emplace_back(stats.find("minValues")->find("id")->as_int(),
                       stats.find("maxValues")->find("id")->as_int());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Files whose id statistics admit `id`: what a reader must open for `WHERE id = <id>`.
  std::size_t files_for(std::int64_t id) const {
    std::size_t n = 0;
    for (const auto& [min, max] : id_ranges()) n += min <= id && id <= max ? 1 : 0;
    return n;
  }

  fs::path root_;
  PipelineSpec spec_;
  Connection connection_;
};

TEST_F(ClusteringTest, TheFirstCommitCarriesTheFeaturesAndTheClusteringDomain) {
  use("append", "[region, place.city]");
  shuffled_calls(1, 10, 10);
  run();
  const std::vector<std::string> lines = lines_of(read_file(commit_file(0)));
  EXPECT_THAT(lines,
              ::testing::Contains(R"({"protocol":{"minReaderVersion":1,"minWriterVersion":7,)"
                                  R"("writerFeatures":["appendOnly","invariants","domainMetadata",)"
                                  R"("clustering"]}})"));
  EXPECT_THAT(lines, ::testing::Contains(
                         R"({"domainMetadata":{"configuration":"{\"clusteringColumns\":)"
                         R"([[\"region\"],[\"place\",\"city\"]]}","domain":"delta.clustering",)"
                         R"("removed":false}})"));
  // Later commits of the same clustering do not repeat them.
  calls().push_back({record(100)});
  run();
  const std::string second = read_file(commit_file(1));
  EXPECT_EQ(second.find("protocol"), std::string::npos) << second;
  EXPECT_EQ(second.find("domainMetadata"), std::string::npos) << second;
}

TEST_F(ClusteringTest, AnUnclusteredTableStaysAtTheDefaultProtocol) {
  use("append", "");
  shuffled_calls(1, 10, 10);
  run();
  const std::string first = read_file(commit_file(0));
  EXPECT_THAT(first, HasSubstr(R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})"));
  EXPECT_EQ(first.find("domainMetadata"), std::string::npos);
}

TEST_F(ClusteringTest, AChangedClusterByIsRecordedInTheNextRunAndRemovalRecordsAnEmptyList) {
  use("append", "[id]");
  shuffled_calls(1, 20, 20);
  run();
  EXPECT_EQ(delta::clustering_columns(snapshot()), std::vector<FieldPath>{{"id"}});
  // Changed with new data: recorded in the batch's commit, and the new file follows it.
  use("append", "[region, id]");
  calls().push_back({record(5), record(3), record(4)});
  run();
  EXPECT_THAT(read_file(commit_file(1)), HasSubstr(R"(\"clusteringColumns\":[[\"region\"],)"));
  EXPECT_EQ(delta::clustering_columns(snapshot()), (std::vector<FieldPath>{{"region"}, {"id"}}));
  // Removed with nothing to read: a commit of its own records an empty list; the feature stays.
  use("append", "");
  const TableResult result = run();
  EXPECT_EQ(result.commits, 1U);
  EXPECT_THAT(read_file(commit_file(2)), HasSubstr(R"("operation":"CLUSTER BY")"));
  EXPECT_THAT(read_file(commit_file(2)), HasSubstr(R"(\"clusteringColumns\":[])"));
  EXPECT_EQ(delta::clustering_columns(snapshot()), std::vector<FieldPath>{});
  EXPECT_EQ(snapshot().protocol.min_writer_version, 7);
  EXPECT_EQ(run().commits, 0U) << "nothing changed";
}

// Sorted by (region, id), nulls first, in every flow: appends, SCD 1 and SCD 2 merges, snapshots.
TEST_F(ClusteringTest, EveryFileIsSortedByTheClusteringColumns) {
  struct Flow {
    std::string mode;
    std::string scd;
  };
  for (const Flow& flow : {Flow{"append", "SCD_TYPE_1"}, Flow{"cdc", "SCD_TYPE_1"},
                           Flow{"cdc", "SCD_TYPE_2"}, Flow{"snapshot", "SCD_TYPE_1"}}) {
    SCOPED_TRACE(flow.mode + " " + flow.scd);
    fs::remove_all(root_);
    use(flow.mode, "[region, id]", flow.scd);
    shuffled_calls(2, 300, 600);
    run();
    // A second run changes every key again (a merge rewrites the files holding them).
    shuffled_calls(2, 300, 600, /*seq=*/2, /*seed=*/11);
    run();
    std::size_t rows = 0;
    for (const std::vector<JsonValue>& file : file_rows()) {
      rows += file.size();
      for (std::size_t i = 1; i < file.size(); ++i) {
        ASSERT_LE(region_id(file[i - 1]), region_id(file[i]))
            << "row " << i << ": " << file[i - 1].dump() << " then " << file[i].dump();
      }
    }
    EXPECT_GT(rows, 0U);
  }
}

// Four append read calls of 1000 keys each, drawn shuffled from 0..3999 (every call spans the
// whole key range), cut into files of about a quarter of a call: each call's files hold disjoint
// id ranges, so a lookup of one id needs one file per call instead of every file.
TEST_F(ClusteringTest, FilesOfOneWriteHoldDisjointRangesSoLookupsSkipMostFiles) {
  use("append", "[id]");
  shuffled_calls(4, 1000, 4000);
  calls()[1] = calls()[0];  // the same keys again: equal keys stay in one file per write
  const TableResult result = run(/*file_bytes=*/16 << 10);
  EXPECT_EQ(result.commits, 4U);
  EXPECT_GE(result.files, 12U);
  for (int version = 0; version < 4; ++version) {
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    for (const std::string& line : lines_of(read_file(commit_file(version)))) {
      const JsonValue action = JsonValue::parse(line);
      const JsonValue* add = action.find("add");
      if (add == nullptr) continue;
      const JsonValue stats = JsonValue::parse(add->find("stats")->as_string());
      ranges.emplace_back(stats.find("minValues")->find("id")->as_int(),
                          stats.find("maxValues")->find("id")->as_int());
    }
    ASSERT_GE(ranges.size(), 3U) << "version " << version;
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i) {
      EXPECT_LT(ranges[i - 1].second, ranges[i].first) << "version " << version;
    }
  }
  std::size_t most = 0;
  for (std::int64_t id = 0; id < 4000; id += 97) most = std::max(most, files_for(id));
  EXPECT_LE(most, 4U) << "of " << result.files << " files";
}

// SCD 1: once a batch of updates touches every file, the rewrite sorts all rows again, so the
// whole table's files are disjoint and a lookup of one id opens one file.
TEST_F(ClusteringTest, MergeRewritesKeepTheWholeTableDisjoint) {
  use("cdc", "[id]");
  shuffled_calls(1, 4000, 4000);
  run(/*file_bytes=*/32 << 10);
  shuffled_calls(2, 400, 4000, /*seq=*/2, /*seed=*/3);
  run(/*file_bytes=*/32 << 10);
  const auto ranges = id_ranges();
  ASSERT_GE(ranges.size(), 4U);
  for (std::size_t i = 1; i < ranges.size(); ++i) EXPECT_LT(ranges[i - 1].second, ranges[i].first);
  for (std::int64_t id = 0; id < 4000; id += 13) EXPECT_EQ(files_for(id), 1U) << id;
}

// DuckDB (tests/duckdb, no lakeflow code) resolves the table from its log and reads every row
// lakeflow reads; read file by file, it sees each file's rows in clustering order.
TEST_F(ClusteringTest, DuckDbReadsTheClusteredTableUnchangedAndSorted) {
  const std::string why = parquet::testing::duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  use("cdc", "[region, id]");
  shuffled_calls(3, 200, 500);
  run(/*file_bytes=*/8 << 10);
  const auto [status, duck_rows] = run_node("read_delta.mjs", {table().string()});
  ASSERT_EQ(status, 0);
  const std::vector<std::string> lakeflow_rows = read_table_rows(table());
  EXPECT_EQ(std::multiset<std::string>(duck_rows.begin(), duck_rows.end()),
            std::multiset<std::string>(lakeflow_rows.begin(), lakeflow_rows.end()));
  EXPECT_EQ(duck_rows.size(), 500U);

  const auto [files_status, files] = run_node("read_delta.mjs", {"--files", table().string()});
  ASSERT_EQ(files_status, 0);
  ASSERT_GT(files.size(), 1U);
  for (const std::string& file : files) {
    const auto [file_status, rows] = run_node("read_parquet.mjs", {file});
    ASSERT_EQ(file_status, 0) << file;
    for (std::size_t i = 1; i < rows.size(); ++i) {
      ASSERT_LE(region_id(JsonValue::parse(rows[i - 1])), region_id(JsonValue::parse(rows[i])))
          << file << " row " << i;
    }
  }
}

}  // namespace
}  // namespace lakeflow::pipeline
