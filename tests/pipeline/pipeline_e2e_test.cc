// `lakeflow run` and `lakeflow show` as a user runs them, on the example pipeline.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lakeflow/json.h"
#include "support/subprocess.h"

namespace {

using lakeflow::JsonValue;
using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_process;
using lakeflow::test_support::slurp;
using lakeflow::test_support::TempDir;

namespace fs = std::filesystem;

constexpr const char* kSecret = "e2e-Secret-Value-42";

class PipelineE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path examples = fs::path(LAKEFLOW_REPO_DIR) / "examples";
    dir_.write("connections.yaml", slurp((examples / "connections.yaml").string()));
    spec_ = dir_.write("pipeline.yaml", "destination_root: data\n" +
                                            slurp((examples / "example_pipeline.yaml").string()));
  }

  ProcessResult lakeflow(std::vector<std::string> args, bool with_env = true) const {
    args.insert(args.begin(), LAKEFLOW_BIN);
    ProcessOptions options;
    options.drop_prefixes = {"EXAMPLE_", "LAKEFLOW_"};
    if (with_env) {
      options.set = {"EXAMPLE_USERNAME=demo", std::string("EXAMPLE_PASSWORD=") + kSecret};
    }
    return run_process(args, options);
  }

  std::string table(const std::string& name) const { return dir_.file("data/main/shop/" + name); }

  TempDir dir_{"lakeflow_pipeline_e2e"};
  std::string spec_;
};

TEST_F(PipelineE2e, RunLandsEveryTableAndPrintsTheSummary) {
  const ProcessResult run = lakeflow({"run", spec_});
  ASSERT_EQ(run.status, 0) << run.err;
  for (const char* word : {"main.shop.users", "main.shop.orders", "main.shop.events",
                           "main.shop.products", "inserted", "SCD_TYPE_2", "append"}) {
    EXPECT_NE(run.out.find(word), std::string::npos) << word << "\n" << run.out;
  }
  for (const char* name : {"users", "orders", "events", "products"}) {
    EXPECT_TRUE(fs::exists(fs::path(table(name)) / "_delta_log" / "00000000000000000000.json"))
        << name;
  }
}

TEST_F(PipelineE2e, SecretsAppearNowhere) {
  const ProcessResult run = lakeflow({"run", spec_});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out.find(kSecret), std::string::npos);
  EXPECT_EQ(run.err.find(kSecret), std::string::npos);
  for (const auto& entry : fs::recursive_directory_iterator(dir_.file("data"))) {
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(slurp(entry.path().string()).find(kSecret), std::string::npos) << entry.path();
  }
}

TEST_F(PipelineE2e, RerunReadsNothingNewAndJsonSummaryParses) {
  ASSERT_EQ(lakeflow({"run", spec_}).status, 0);
  const ProcessResult rerun = lakeflow({"run", spec_, "--json", "--parallelism", "1"});
  ASSERT_EQ(rerun.status, 0) << rerun.err;
  const JsonValue summary = JsonValue::parse(rerun.out);
  ASSERT_EQ(summary.as_array().size(), 4U);
  for (const JsonValue& entry : summary.as_array()) {
    EXPECT_EQ(entry.find("inserted")->as_int(), 0) << rerun.out;
    EXPECT_EQ(entry.find("files")->as_int(), 0) << rerun.out;
    EXPECT_TRUE(entry.find("error")->is_null()) << rerun.out;
  }
}

TEST_F(PipelineE2e, ShowPrintsRowsOfATable) {
  ASSERT_EQ(lakeflow({"run", spec_, "--tables", "events"}).status, 0);
  const ProcessResult show = lakeflow({"show", table("events"), "--limit", "2"});
  ASSERT_EQ(show.status, 0) << show.err;
  ASSERT_EQ(std::count(show.out.begin(), show.out.end(), '\n'), 2) << show.out;
  EXPECT_EQ(show.out.front(), '{');
  EXPECT_FALSE(fs::exists(table("users")));
}

TEST_F(PipelineE2e, ShowOfAMissingTableIsAConfigError) {
  const ProcessResult show = lakeflow({"show", dir_.file("nothing")});
  EXPECT_EQ(show.status, 2);
  EXPECT_NE(show.err.find("not a Delta table"), std::string::npos) << show.err;
}

TEST_F(PipelineE2e, MissingCredentialVariableIsAConfigError) {
  const ProcessResult run = lakeflow({"run", spec_}, /*with_env=*/false);
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("EXAMPLE_USERNAME"), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "");
}

TEST_F(PipelineE2e, UnknownTableIsAConfigError) {
  const ProcessResult run = lakeflow({"run", spec_, "--tables", "nope"});
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("'nope'"), std::string::npos) << run.err;
}

// `node` on PATH, or "" when there is none.
std::string find_node() {
  const char* path = std::getenv("PATH");
  std::string dirs = path == nullptr ? "/usr/local/bin:/usr/bin:/bin" : path;
  std::size_t at = 0;
  while (at <= dirs.size()) {
    std::size_t end = dirs.find(':', at);
    if (end == std::string::npos) end = dirs.size();
    const fs::path candidate = fs::path(dirs.substr(at, end - at)) / "node";
    if (!candidate.parent_path().empty() && access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
    at = end + 1;
  }
  return "";
}

// Why the DuckDB read-back cannot run here, or "" when it can.
std::string duckdb_unavailable() {
  if (find_node().empty()) return "node is not on PATH; install Node.js to run this test";
  const fs::path modules = fs::path(LAKEFLOW_REPO_DIR) / "tests" / "duckdb" / "node_modules";
  if (!fs::exists(modules / "@duckdb" / "node-api")) {
    return modules.string() +
           " lacks @duckdb/node-api; run `npm ci` in tests/duckdb to run this test";
  }
  return "";
}

// Resolves a Delta table's active files from its log and prints their rows with DuckDB.
const std::string kReadDelta = std::string(LAKEFLOW_REPO_DIR) + "/tests/duckdb/read_delta.mjs";

// The commit file name of `version`: 20 digits, zero-padded, then ".json".
std::string fmt_version(int version) {
  std::string digits = std::to_string(version);
  return std::string(20 - digits.size(), '0') + digits + ".json";
}

std::multiset<std::string> lines_of(const std::string& text) {
  std::multiset<std::string> rows;
  std::size_t at = 0;
  for (std::size_t end = text.find('\n'); end != std::string::npos;
       at = end + 1, end = text.find('\n', at)) {
    rows.insert(text.substr(at, end - at));
  }
  return rows;
}

// Every table, read independently: tests/duckdb/read_delta.mjs resolves the active files from
// `_delta_log` itself and DuckDB reads them. Its rows must equal what `lakeflow show` prints.
TEST_F(PipelineE2e, DuckDbReadsEveryTableAsShowPrintsIt) {
  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  const std::string node = find_node();
  const std::string& script = kReadDelta;
  ASSERT_EQ(lakeflow({"run", spec_}).status, 0);
  for (const char* name : {"users", "orders", "events", "products"}) {
    const ProcessResult show = lakeflow({"show", table(name), "--limit", "1000000"});
    ASSERT_EQ(show.status, 0) << name << ": " << show.err;
    const ProcessResult duck = run_process({node, script, table(name)});
    ASSERT_EQ(duck.status, 0) << name << ": " << duck.err;
    const ProcessResult json_only = run_process({node, script, "--json-only", table(name)});
    ASSERT_EQ(json_only.status, 0) << name << ": " << json_only.err;
    const std::multiset<std::string> rows = lines_of(duck.out);
    EXPECT_FALSE(rows.empty()) << name;
    EXPECT_EQ(rows, lines_of(show.out)) << name << "\nDuckDB:\n"
                                        << duck.out << "\nshow:\n"
                                        << show.out;
    EXPECT_EQ(lines_of(json_only.out), rows) << name;
  }
}

// The read-back follows the log, not the directory: a commit added by hand changes what it reads.
TEST_F(PipelineE2e, DuckDbReadBackSeesAFileAddedBehindLakeflowsBack) {
  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  const std::string node = find_node();
  const std::string& script = kReadDelta;
  ASSERT_EQ(lakeflow({"run", spec_, "--tables", "events"}).status, 0);
  const ProcessResult before = run_process({node, script, table("events")});
  ASSERT_EQ(before.status, 0) << before.err;
  const ProcessResult files = run_process({node, script, "--files", table("events")});
  ASSERT_EQ(files.status, 0) << files.err;
  const std::multiset<std::string> listed = lines_of(files.out);
  ASSERT_EQ(listed.size(), 1U) << files.out;
  // A second commit adding a copy of the only data file doubles every row DuckDB reads.
  const fs::path data = *listed.begin();
  fs::copy_file(data, fs::path(table("events")) / "copy.parquet");
  const fs::path log = fs::path(table("events")) / "_delta_log";
  int next = 0;
  while (fs::exists(log / fmt_version(next))) ++next;
  dir_.write("data/main/shop/events/_delta_log/" + fmt_version(next),
             R"({"add":{"path":"copy.parquet","partitionValues":{},"size":)" +
                 std::to_string(fs::file_size(data)) +
                 R"(,"modificationTime":0,"dataChange":true}})" + "\n");
  const ProcessResult after = run_process({node, script, table("events")});
  ASSERT_EQ(after.status, 0) << after.err;
  EXPECT_EQ(lines_of(after.out).size(), 2 * lines_of(before.out).size());
}

// With one record per batch the orders table passes version 10 and gets a checkpoint; DuckDB's
// read-back starts from it (the JSON commits before it are removed to prove that) and still
// equals `lakeflow show`.
TEST_F(PipelineE2e, DuckDbReadsATableFromItsCheckpoint) {
  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  const std::string node = find_node();
  const std::string& script = kReadDelta;
  std::string spec = slurp(spec_);
  const std::string batch = "max_records_per_batch: 5";
  ASSERT_NE(spec.find(batch), std::string::npos) << "the example pipeline changed";
  spec.replace(spec.find(batch), batch.size(), "max_records_per_batch: 1");
  const std::string small = dir_.write("small_batches.yaml", spec);
  ASSERT_EQ(lakeflow({"run", small, "--tables", "orders"}).status, 0);
  const fs::path log = fs::path(table("orders")) / "_delta_log";
  ASSERT_TRUE(fs::exists(log / "00000000000000000010.checkpoint.parquet"));
  const ProcessResult all_json = run_process({node, script, "--json-only", table("orders")});
  ASSERT_EQ(all_json.status, 0) << all_json.err;
  for (int version = 0; version < 10; ++version) fs::remove(log / fmt_version(version));

  const ProcessResult show = lakeflow({"show", table("orders"), "--limit", "1000000"});
  ASSERT_EQ(show.status, 0) << show.err;
  const ProcessResult duck = run_process({node, script, table("orders")});
  ASSERT_EQ(duck.status, 0) << duck.err;
  EXPECT_EQ(duck.err, "");
  EXPECT_FALSE(lines_of(duck.out).empty());
  EXPECT_EQ(lines_of(duck.out), lines_of(show.out));
  EXPECT_EQ(lines_of(duck.out), lines_of(all_json.out));
  EXPECT_NE(run_process({node, script, "--json-only", table("orders")}).status, 0)
      << "commit 0 is gone, so replaying JSON alone must fail";
}

// Starts `lakeflow run` and SIGKILLs it after `delay` (it may finish first); returns its status.
int run_and_kill(const std::vector<std::string>& argv, std::chrono::microseconds delay) {
  std::vector<std::string> storage = argv;
  std::vector<char*> args;
  for (std::string& arg : storage) args.push_back(arg.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  std::this_thread::sleep_for(delay);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// Every table's rows, sorted (file order may differ between runs).
std::map<std::string, std::multiset<std::string>> contents(const std::string& root) {
  std::map<std::string, std::multiset<std::string>> out;
  for (const char* name : {"users", "orders", "events", "products"}) {
    const ProcessResult show =
        run_process({LAKEFLOW_BIN, "show", root + "/main/shop/" + name, "--limit", "100000"});
    EXPECT_EQ(show.status, 0) << show.err;
    std::multiset<std::string>& rows = out[name];
    std::size_t at = 0;
    for (std::size_t end = show.out.find('\n'); end != std::string::npos;
         at = end + 1, end = show.out.find('\n', at)) {
      rows.insert(show.out.substr(at, end - at));
    }
  }
  return out;
}

// Kills `lakeflow run` at random points, reruns it to completion, and compares every table with
// a clean run's: no row lost or duplicated. scripts/crash-test runs more iterations.
TEST_F(PipelineE2e, KilledRunsResumeToTheCleanResult) {
  ASSERT_EQ(lakeflow({"run", spec_}).status, 0);
  const auto clean = contents(dir_.file("data"));
  ASSERT_FALSE(clean.at("events").empty());

  setenv("EXAMPLE_USERNAME", "demo", 1);
  setenv("EXAMPLE_PASSWORD", kSecret, 1);
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> micros(0, 20000);
  int killed = 0;
  for (int round = 0; round < 20; ++round) {
    const std::string root = dir_.file("crash" + std::to_string(round));
    const std::string spec = dir_.write(
        "crash" + std::to_string(round) + ".yaml",
        "destination_root: crash" + std::to_string(round) + "\n" +
            slurp((fs::path(LAKEFLOW_REPO_DIR) / "examples" / "example_pipeline.yaml").string()));
    for (int kill_round = 0; kill_round < 3; ++kill_round) {
      const int status =
          run_and_kill({LAKEFLOW_BIN, "run", spec}, std::chrono::microseconds(micros(random)));
      killed += WIFSIGNALED(status) ? 1 : 0;
    }
    const ProcessResult finish = lakeflow({"run", spec});
    ASSERT_EQ(finish.status, 0) << "round " << round << ": " << finish.err;
    EXPECT_EQ(contents(root), clean) << "round " << round;
  }
  EXPECT_GT(killed, 0) << "no run was killed before it finished";
}

}  // namespace
