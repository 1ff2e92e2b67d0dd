// `lakeflow run`, `lakeflow show` and `lakeflow ui` as a user runs them, on the example pipeline.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lakeflow/json.h"
#include "support/delta_files.h"
#include "support/node.h"
#include "support/subprocess.h"

namespace {

using lakeflow::JsonValue;
using lakeflow::test_support::duckdb_unavailable;
using lakeflow::test_support::find_node;
using lakeflow::test_support::kReadDelta;
using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_and_kill;
using lakeflow::test_support::run_process;
using lakeflow::test_support::slurp;
using lakeflow::test_support::start_process;
using lakeflow::test_support::TempDir;
using lakeflow::test_support::unreferenced_files;
using lakeflow::test_support::was_killed;

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
    // Where a rerun continues: the offsets committed with the table (none for a snapshot table).
    const bool snapshot = entry.find("flow")->as_string() == "apply_changes_from_snapshot";
    EXPECT_EQ(entry.find("offset")->is_null(), snapshot) << rerun.out;
    EXPECT_EQ(entry.find("deletes_offset")->is_null(),
              entry.find("ingestion_type")->as_string() != "cdc_with_deletes")
        << rerun.out;
  }
}

TEST_F(PipelineE2e, UiServesWhatTheRunLanded) {
  ASSERT_EQ(lakeflow({"run", spec_}).status, 0);
  ProcessOptions options;
  options.merge_stderr = true;
  options.timeout = std::chrono::seconds(300);
  auto ui = start_process({LAKEFLOW_BIN, "ui", dir_.file("data"), "--port", "0"}, options);
  // Waits for the line that says where it serves (or for the process to end, which fails).
  const std::regex serving(R"(serving at http://127\.0\.0\.1:(\d+)/)");
  std::smatch match;
  std::string said;
  while (!std::regex_search(said = ui.err_so_far(), match, serving)) {
    ASSERT_EQ(::kill(ui.pid(), 0), 0) << "lakeflow ui stopped: " << said;
    int status = 0;
    ASSERT_EQ(::waitpid(ui.pid(), &status, WNOHANG), 0) << "lakeflow ui exited: " << said;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  httplib::Client client("127.0.0.1", std::stoi(match[1]));
  httplib::Result tables = client.Get("/api/tables");
  ASSERT_TRUE(tables);
  ASSERT_EQ(tables->status, 200) << tables->body;
  const JsonValue json = JsonValue::parse(tables->body);
  std::map<std::string, std::int64_t> rows;
  for (const JsonValue& t : json.find("tables")->as_array()) {
    rows[t.find("name")->as_string()] = t.find("rows")->as_int();
  }
  for (const char* name : {"users", "orders", "events", "products"}) {
    const ProcessResult show = lakeflow({"show", table(name), "--limit", "100000"});
    ASSERT_EQ(show.status, 0) << show.err;
    EXPECT_EQ(rows[std::string("main/shop/") + name],
              std::count(show.out.begin(), show.out.end(), '\n'))
        << name;
  }
  httplib::Result page = client.Get("/tables/main/shop/orders");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<h1>main.shop.orders</h1>"), std::string::npos) << page->body;
  EXPECT_NE(page->body.find("<svg"), std::string::npos);
  EXPECT_EQ(page->body.find(kSecret), std::string::npos);
}

// `chromium` on PATH, or "".
std::string find_chromium() {
  const char* path = std::getenv("PATH");
  const std::string dirs = path == nullptr ? "/usr/bin:/bin" : path;
  for (std::size_t at = 0; at <= dirs.size();) {
    std::size_t end = dirs.find(':', at);
    if (end == std::string::npos) end = dirs.size();
    const fs::path candidate = fs::path(dirs.substr(at, end - at)) / "chromium";
    if (!candidate.parent_path().empty() && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
    at = end + 1;
  }
  return "";
}

// Lands the example pipeline and an NDJSON table whose values are markup, serves them with
// `lakeflow ui`, and loads the pages in headless Chromium: the rendered DOM shows every table with
// the row count DuckDB reads, and the markup as text (no element made from it, no script run).
// Screenshots are saved beside the test binary (ui-tables.png, ui-table.png, ui-hostile.png).
TEST_F(PipelineE2e, UiRendersInAHeadlessBrowser) {
  const std::string chromium = find_chromium();
  if (chromium.empty())
    GTEST_SKIP() << "chromium is not on PATH (Debian: apt-get install chromium)";
  if (const std::string why = duckdb_unavailable(); !why.empty()) GTEST_SKIP() << why;
  ASSERT_EQ(lakeflow({"run", spec_}).status, 0);
  const std::string hostile =
      R"(<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">)";
  JsonValue record;
  record["id"] = 1;
  record["name"] = hostile;
  dir_.write("files/people.ndjson", record.dump() + "\n");
  dir_.write(
      "files.yaml",
      "files:\n  connector: ndjson\n  options:\n    path: " + dir_.file("files") +
          "\n    schema: '" +
          R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,)"
          R"("metadata":{}},{"name":"name","type":"string","nullable":true,"metadata":{}}]})" +
          "'\n");
  const std::string files_spec = dir_.write(
      "files_pipeline.yaml",
      "connection_name: files\nconnections_file: files.yaml\ndestination_root: data\nobjects:\n"
      "  - table:\n      source_table: people\n      destination_schema: files\n");
  const ProcessResult landed = lakeflow({"run", files_spec});
  ASSERT_EQ(landed.status, 0) << landed.err;

  ProcessOptions options;
  options.merge_stderr = true;
  options.timeout = std::chrono::seconds(600);
  auto ui = start_process({LAKEFLOW_BIN, "ui", dir_.file("data"), "--port", "0"}, options);
  const std::regex serving(R"(serving at (http://127\.0\.0\.1:\d+/))");
  std::smatch match;
  std::string said;
  while (!std::regex_search(said = ui.err_so_far(), match, serving)) {
    int status = 0;
    ASSERT_EQ(::waitpid(ui.pid(), &status, WNOHANG), 0) << "lakeflow ui exited: " << said;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string url = match[1];
  auto browse = [&](const std::string& path, const std::string& screenshot) {
    ProcessOptions browser;
    browser.timeout = std::chrono::seconds(180);
    const std::vector<std::string> common = {chromium,
                                             "--headless",
                                             "--no-sandbox",
                                             "--disable-gpu",
                                             "--no-first-run",
                                             "--user-data-dir=" + dir_.file("chromium"),
                                             "--window-size=1400,1000"};
    std::vector<std::string> shot = common;
    shot.push_back("--screenshot=" + (fs::current_path() / screenshot).string());
    shot.push_back(url + path);
    EXPECT_EQ(run_process(shot, browser).status, 0) << path;
    std::vector<std::string> dump = common;
    dump.push_back("--dump-dom");
    dump.push_back(url + path);
    const ProcessResult dom = run_process(dump, browser);
    EXPECT_EQ(dom.status, 0) << dom.err;
    return dom.out;
  };

  const std::string tables = browse("", "ui-tables.png");
  for (const char* name : {"users", "orders", "events", "products"}) {
    const ProcessResult duck = run_process({find_node(), kReadDelta, table(name)});
    ASSERT_EQ(duck.status, 0) << duck.err;
    const auto rows = std::count(duck.out.begin(), duck.out.end(), '\n');
    const std::string link =
        fmt::format(R"(<a href="/tables/main/shop/{0}">main.shop.{0}</a>)", name);
    const std::size_t at = tables.find(link);
    ASSERT_NE(at, std::string::npos) << link << "\n" << tables;
    EXPECT_TRUE(tables.substr(at + link.size())
                    .starts_with(fmt::format(R"(</td><td class="n">{}</td>)", rows)))
        << name << ": DuckDB reads " << rows << " rows";
  }
  const std::string orders = browse("tables/main/shop/orders", "ui-table.png");
  EXPECT_NE(orders.find("<svg"), std::string::npos);
  EXPECT_NE(orders.find("SCD_TYPE_2"), std::string::npos);

  const std::string rows = browse("tables/main/files/people/rows", "ui-hostile.png");
  EXPECT_NE(rows.find("&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=x"),
            std::string::npos)
      << rows;
  EXPECT_EQ(rows.find("<img"), std::string::npos) << rows;
  EXPECT_EQ(rows.find("<script"), std::string::npos) << rows;
  EXPECT_EQ(rows.find("<title>pwned"), std::string::npos) << rows;
}

TEST_F(PipelineE2e, UiRefusesADirectoryThatIsNotThere) {
  const ProcessResult ui = lakeflow({"ui", dir_.file("nowhere")});
  EXPECT_EQ(ui.status, 2) << ui.err;
  EXPECT_NE(ui.err.find("not a readable directory"), std::string::npos) << ui.err;
}

TEST_F(PipelineE2e, ShowPrintsRowsOfATable) {
  ASSERT_EQ(lakeflow({"run", spec_, "--tables", "events"}).status, 0);
  const ProcessResult show = lakeflow({"show", table("events"), "--limit", "2"});
  ASSERT_EQ(show.status, 0) << show.err;
  ASSERT_EQ(std::count(show.out.begin(), show.out.end(), '\n'), 2) << show.out;
  EXPECT_EQ(show.out.front(), '{');
  // Rows were left out, and the note says so (on stderr, so the NDJSON stays clean).
  EXPECT_NE(show.err.find("note: showing the first 2 rows; the table has more"), std::string::npos)
      << show.err;
  const ProcessResult all = lakeflow({"show", table("events"), "--limit", "1000000"});
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(all.err.find("note:"), std::string::npos) << all.err;
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

// A commit that lost its last lines (a partial copy or restore of the table) must not read as a
// smaller table: `show` and `run` refuse the damaged log, naming the file, with exit 2.
TEST_F(PipelineE2e, ACommitCutAtALineBoundaryStopsShowAndRun) {
  for (int cut = 1; cut <= 2; ++cut) {  // the commitInfo alone, or with the last add before it
    ASSERT_EQ(lakeflow({"run", spec_, "--tables", "events"}).status, 0);
    const fs::path log = fs::path(table("events")) / "_delta_log";
    int latest = 0;
    while (fs::exists(log / fmt_version(latest + 1))) ++latest;
    const fs::path commit = log / fmt_version(latest);
    std::string text = slurp(commit.string());
    ASSERT_NE(text.find("{\"add\":"), std::string::npos) << text;
    for (int i = 0; i < cut; ++i) text.resize(text.rfind('\n', text.size() - 2) + 1);
    dir_.write("data/main/shop/events/_delta_log/" + fmt_version(latest), text);

    const ProcessResult show = lakeflow({"show", table("events")});
    EXPECT_EQ(show.status, 2) << show.err;
    EXPECT_EQ(show.out, "");
    EXPECT_NE(show.err.find(commit.string() + " has no commitInfo action"), std::string::npos)
        << show.err;
    const ProcessResult run = lakeflow({"run", spec_, "--tables", "events"});
    EXPECT_EQ(run.status, 2) << run.err;
    EXPECT_NE(run.err.find("cut short"), std::string::npos) << run.err;
    EXPECT_NE(run.out.find("FAILED"), std::string::npos) << run.out;
    fs::remove_all(table("events"));
  }
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

// The example spec with `table_configuration: {cluster_by: CLUSTER_BY}` on the users table.
std::string with_users_cluster_by(const std::string& spec, const std::string& cluster_by) {
  const std::string users = "      source_table: users\n      destination_schema: shop\n";
  std::string out = spec;
  const std::size_t at = out.find(users);
  if (at == std::string::npos) return "";
  out.insert(at + users.size(), "      table_configuration: {cluster_by: " + cluster_by + "}\n");
  return out;
}

// A cluster_by lakeflow cannot honour stops its table as a configuration error (exit 2) that says
// what is wrong, before anything is written.
TEST_F(PipelineE2e, ABadClusterByIsAConfigError) {
  const std::string spec = slurp(spec_);
  for (const auto& [cluster_by, why] : std::vector<std::pair<std::string, std::string>>{
           {"[nope]", "cluster_by column 'nope' is not a column of the table"},
           {"[address]",
            "cluster_by column 'address' is a struct<street:string,city:string,"
            "postal_code:string,country_code:string> column; clustering columns "
            "must be numbers, strings, dates or timestamps"},
           {"[tags]", "cluster_by column 'tags' is a array<string> column"},
           {"[is_active]", "cluster_by column 'is_active' is a boolean column"},
           {"[id, email, full_name, login_count, created_at]",
            "cluster_by names 5 columns (id, email, full_name, login_count, created_at); Delta "
            "clustering takes at most 4"}}) {
    const std::string file =
        dir_.write("bad_cluster.yaml", with_users_cluster_by(spec, cluster_by));
    const ProcessResult run = lakeflow({"run", file, "--tables", "users"});
    EXPECT_EQ(run.status, 2) << cluster_by << "\n" << run.err;
    EXPECT_NE(run.err.find(why), std::string::npos) << cluster_by << "\n" << run.err;
    EXPECT_NE(run.err.find("bad_cluster.yaml:"), std::string::npos) << run.err;
    EXPECT_FALSE(fs::exists(table("users"))) << cluster_by;
  }
}

// A clustered table lands with the clustering feature and domain in its first commit, and DuckDB
// reads it as `lakeflow show` prints it.
TEST_F(PipelineE2e, AClusteredTableLandsAndDuckDbReadsIt) {
  const std::string file = dir_.write(
      "clustered.yaml", with_users_cluster_by(slurp(spec_), "[address.country_code, id]"));
  const ProcessResult run = lakeflow({"run", file, "--tables", "users"});
  ASSERT_EQ(run.status, 0) << run.err;
  const std::string first = slurp(table("users") + "/_delta_log/" + fmt_version(0));
  EXPECT_NE(first.find(R"("writerFeatures":["appendOnly","invariants","domainMetadata",)"
                       R"("clustering"])"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find(R"(\"clusteringColumns\":[[\"address\",\"country_code\"],[\"id\"]])"),
            std::string::npos)
      << first;
  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  const ProcessResult show = lakeflow({"show", table("users"), "--limit", "1000000"});
  ASSERT_EQ(show.status, 0) << show.err;
  const ProcessResult duck = run_process({find_node(), kReadDelta, table("users")});
  ASSERT_EQ(duck.status, 0) << duck.err;
  EXPECT_FALSE(lines_of(duck.out).empty());
  EXPECT_EQ(lines_of(duck.out), lines_of(show.out));
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

  ProcessOptions credentials;
  credentials.drop_prefixes = {"EXAMPLE_", "LAKEFLOW_"};
  credentials.set = {"EXAMPLE_USERNAME=demo", std::string("EXAMPLE_PASSWORD=") + kSecret};
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
      killed += was_killed(run_and_kill({LAKEFLOW_BIN, "run", spec},
                                        std::chrono::microseconds(micros(random)), credentials))
                    ? 1
                    : 0;
    }
    const ProcessResult finish = lakeflow({"run", spec});
    ASSERT_EQ(finish.status, 0) << "round " << round << ": " << finish.err;
    EXPECT_EQ(contents(root), clean) << "round " << round;
    for (const char* name : {"users", "orders", "events", "products"}) {
      EXPECT_EQ(unreferenced_files(root + "/main/shop/" + name, /*hidden=*/false),
                std::set<std::string>())
          << "round " << round << ": a data file no commit names was left in " << name;
    }
  }
  EXPECT_GT(killed, 0) << "no run was killed before it finished";
}

// ---- Bad records end to end: the ndjson connector over a file with bad lines --------------------

// Records 1..20, with `value` that does not convert in records 5 and 14, and record 9 not JSON.
std::string items_file() {
  std::string text;
  for (int id = 1; id <= 20; ++id) {
    if (id == 9) {
      text += "{\"id\":9,\"value\":\n";
    } else if (id == 5 || id == 14) {
      text += "{\"id\":" + std::to_string(id) + ",\"value\":\"n/a\"}\n";
    } else {
      text += "{\"id\":" + std::to_string(id) + ",\"value\":" + std::to_string(id * 10) + "}\n";
    }
  }
  return text;
}

class BadRecordsE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("in/items.ndjson", items_file());
    dir_.write("schema.json",
               R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,)"
               R"("metadata":{}},{"name":"value","type":"long","nullable":true,"metadata":{}}]})");
    dir_.write("connections.yaml", "files:\n  connector: ndjson\n  options:\n    path: " +
                                       dir_.file("in/items.ndjson") +
                                       "\n    schema: " + dir_.file("schema.json") + "\n");
    spec_ = dir_.write("pipeline.yaml",
                       "connection_name: files\nconnections_file: connections.yaml\n"
                       "destination_root: data\nobjects:\n  - table:\n      source_table: items\n"
                       "      table_configuration:\n        max_records_per_batch: 3\n");
  }

  ProcessResult lakeflow(std::vector<std::string> args) const {
    args.insert(args.begin(), LAKEFLOW_BIN);
    return run_process(args);
  }
  std::string table() const { return dir_.file("data/main/default/items"); }
  std::string side() const { return table() + "__quarantine"; }

  // The end offset of the read call holding line `line` (1-based) with 3 records per call.
  std::string offset_of_line(int line) const {
    const std::string text = items_file();
    const int last = std::min(20, ((line - 1) / 3 + 1) * 3);
    std::size_t at = 0;
    for (int i = 0; i < last; ++i) at = text.find('\n', at) + 1;
    return R"({"file":"items.ndjson","position":)" + std::to_string(at) + "}";
  }
  // What the quarantine table must hold: (record, offset) for lines 5, 9 and 14.
  std::multiset<std::string> expected_quarantine() const {
    std::multiset<std::string> out;
    for (int line : {5, 9, 14}) {
      std::string record = "{\"id\":" + std::to_string(line) + ",\"value\":";
      record += line == 9 ? "" : "\"n/a\"}";
      out.insert(record + " @ " + offset_of_line(line));
    }
    return out;
  }
  // The quarantine rows (DuckDB's JSON lines or `lakeflow show`'s) as "record @ offset"; checks
  // the other columns on the way.
  static std::multiset<std::string> quarantine_rows(const std::string& lines) {
    std::multiset<std::string> out;
    for (const std::string& line : lines_of(lines)) {
      const JsonValue row = JsonValue::parse(line);
      EXPECT_EQ(row.find("source_table")->as_string(), "items") << line;
      const std::string& reason = row.find("reason")->as_string();
      EXPECT_NE(reason.find("table 'main.default.items', record "), std::string::npos) << line;
      EXPECT_FALSE(row.find("quarantined_at")->is_null()) << line;
      out.insert(row.find("record")->as_string() + " @ " + row.find("offset")->as_string());
    }
    return out;
  }
  std::set<std::string> ids(const std::string& lines) const {
    std::set<std::string> out;
    for (const std::string& line : lines_of(lines)) {
      out.insert(std::to_string(JsonValue::parse(line).find("id")->as_int()));
    }
    return out;
  }

  TempDir dir_{"lakeflow_bad_records_e2e"};
  std::string spec_;
};

TEST_F(BadRecordsE2e, FailExitsWithADataErrorAndCommitsNothingOfTheBadBatch) {
  const ProcessResult run = lakeflow({"run", spec_});
  EXPECT_EQ(run.status, 4) << run.err;
  for (const char* part : {"error: 1 of 1 tables failed; first: main.default.items: table "
                           "'main.default.items', record 1, field 'value': expected bigint",
                           "read call that started at offset "
                           R"({"file":"items.ndjson","position":)"}) {
    EXPECT_NE(run.err.find(part), std::string::npos) << part << "\n" << run.err;
  }
  EXPECT_NE(run.out.find("FAILED"), std::string::npos) << run.out;
  // Only the first call (records 1-3) landed.
  const ProcessResult show = lakeflow({"show", table(), "--limit", "100"});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_EQ(ids(show.out), (std::set<std::string>{"1", "2", "3"}));
  EXPECT_FALSE(fs::exists(side()));
}

TEST_F(BadRecordsE2e, QuarantineLandsGoodRowsAndDuckDbReadsTheSideTable) {
  const ProcessResult run = lakeflow({"run", spec_, "--on-bad-record", "quarantine", "--json"});
  ASSERT_EQ(run.status, 0) << run.err;
  const JsonValue summary = JsonValue::parse(run.out).as_array().at(0);
  EXPECT_EQ(summary.find("records")->as_int(), 20);
  EXPECT_EQ(summary.find("inserted")->as_int(), 17);
  EXPECT_EQ(summary.find("quarantined")->as_int(), 3);
  EXPECT_EQ(summary.find("quarantine_path")->as_string(), side());
  const ProcessResult show = lakeflow({"show", side(), "--limit", "100"});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_EQ(quarantine_rows(show.out), expected_quarantine());

  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  const ProcessResult duck = run_process({find_node(), kReadDelta, side()});
  ASSERT_EQ(duck.status, 0) << duck.err;
  EXPECT_EQ(quarantine_rows(duck.out), expected_quarantine());
  const ProcessResult rows = run_process({find_node(), kReadDelta, table()});
  ASSERT_EQ(rows.status, 0) << rows.err;
  EXPECT_EQ(ids(rows.out).size(), 17U);
  EXPECT_EQ(ids(rows.out).count("9"), 0U);

  // A rerun finds nothing new and quarantines nothing twice.
  const ProcessResult rerun = lakeflow({"run", spec_, "--on-bad-record", "quarantine", "--json"});
  ASSERT_EQ(rerun.status, 0) << rerun.err;
  EXPECT_EQ(JsonValue::parse(rerun.out).as_array().at(0).find("quarantined")->as_int(), 0);
  const ProcessResult again = run_process({find_node(), kReadDelta, side()});
  EXPECT_EQ(quarantine_rows(again.out), expected_quarantine());
}

TEST_F(BadRecordsE2e, AnUnknownBadRecordModeIsAUsageError) {
  const ProcessResult run = lakeflow({"run", spec_, "--on-bad-record", "skip"});
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("--on-bad-record"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(table()));
}

// With stderr not a terminal, progress is plain lines: start, the first commit (later commits at
// most every few seconds), done; the summary table lists the quarantined count.
TEST_F(BadRecordsE2e, ProgressIsPlainLinesWhenStderrIsNotATerminal) {
  const ProcessResult run = lakeflow({"run", spec_, "--on-bad-record", "quarantine"});
  ASSERT_EQ(run.status, 0) << run.err;
  const std::regex expected(
      R"(\[main\.default\.items\] start: items -> main\.default\.items \(append, append\), )"
      R"(offset \{\}\n)"
      R"(\[main\.default\.items\] committed 1 batch: 3 records, [0-9]+ B \([0-9.]+ MB/s\), )"
      R"(\+3 ~0 -0 rows, 0 quarantined, offset \{"file":"items\.ndjson","position":[0-9]+\}\n)"
      R"((\[main\.default\.items\] committed [0-9]+ batches: .*\n)*)"
      R"(\[main\.default\.items\] done: 20 records, \+17 ~0 -0 rows, 3 quarantined, 7 files, )"
      R"(7 commits, [0-9.]+s\n)");
  EXPECT_TRUE(std::regex_match(run.err, expected)) << run.err;
  EXPECT_EQ(run.err.find("\x1b["), std::string::npos) << "terminal control codes in a log";
  EXPECT_NE(run.out.find("quarantined"), std::string::npos) << run.out;
  const std::regex row(R"(main\.default\.items +append +append +20 +17 +0 +0 +3 +7 +[0-9.]+s +ok)");
  EXPECT_TRUE(std::regex_search(run.out, row)) << run.out;
}

// SIGKILL at random points of quarantine runs, then a run to the end: both tables equal a clean
// run's (no good row lost or doubled, no quarantined record lost or doubled). Most of a run's time
// is spent syncing its commits, so kills often land between a batch's quarantine commit and its
// target commit, which the next run must undo.
TEST_F(BadRecordsE2e, KilledQuarantineRunsResumeToTheCleanResult) {
  std::string big;
  for (int copy = 0; copy < 4; ++copy) big += items_file();
  dir_.write("in/items.ndjson", big);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(lakeflow({"run", spec_, "--on-bad-record", "quarantine"}).status, 0);
  const auto clean_run = std::chrono::steady_clock::now() - started;
  auto contents = [&](const std::string& root) {
    const std::string base = root + "/main/default/items";
    const ProcessResult rows = lakeflow({"show", base, "--limit", "100000"});
    const ProcessResult bad = lakeflow({"show", base + "__quarantine", "--limit", "100000"});
    EXPECT_EQ(rows.status, 0) << rows.err;
    EXPECT_EQ(bad.status, 0) << bad.err;
    return std::make_pair(lines_of(rows.out), quarantine_rows(bad.out));
  };
  const auto clean = contents(dir_.file("data"));
  ASSERT_EQ(clean.first.size(), 4U * 17U);
  ASSERT_EQ(clean.second.size(), 4U * 3U);

  std::mt19937 random(777);
  std::uniform_int_distribution<long> micros(
      0, std::chrono::duration_cast<std::chrono::microseconds>(clean_run).count());
  int killed = 0;
  int undone = 0;
  for (int round = 0; round < 6; ++round) {
    const std::string name = "crash" + std::to_string(round);
    std::string spec = slurp(spec_);
    spec.replace(spec.find("destination_root: data"), 22, "destination_root: " + name);
    const std::string spec_path = dir_.write(name + ".yaml", spec);
    for (int kill_round = 0; kill_round < 2; ++kill_round) {
      killed +=
          was_killed(run_and_kill({LAKEFLOW_BIN, "run", spec_path, "--on-bad-record", "quarantine"},
                                  std::chrono::microseconds(micros(random))))
              ? 1
              : 0;
    }
    const ProcessResult finish = lakeflow({"run", spec_path, "--on-bad-record", "quarantine"});
    ASSERT_EQ(finish.status, 0) << "round " << round << ": " << finish.err;
    undone += finish.err.find("note: undid") != std::string::npos ? 1 : 0;
    EXPECT_EQ(contents(dir_.file(name)), clean) << "round " << round;
    const std::string base = dir_.file(name) + "/main/default/items";
    for (const std::string& table : {base, base + "__quarantine"}) {
      if (!fs::exists(table)) continue;
      EXPECT_EQ(unreferenced_files(table, /*hidden=*/false), std::set<std::string>())
          << "round " << round << ": a data file no commit names was left in " << table;
    }
  }
  EXPECT_GT(killed, 0) << "no run was killed before it finished";
  std::cout << "[  NOTE    ] " << killed << " runs killed; " << undone
            << " final runs undid a quarantine commit\n";
}

// ---- Schema evolution end to end: the ndjson connector's schema changes between runs
// -------------

class SchemaEvolutionE2e : public ::testing::Test {
 protected:
  static std::string field(const std::string& name, const std::string& type) {
    return R"({"name":")" + name + R"(","type":)" + type + R"(,"nullable":true,"metadata":{}})";
  }
  static std::string tags(bool with_v) {
    return R"({"type":"array","containsNull":true,"elementType":{"type":"struct","fields":[)" +
           field("k", R"("string")") + (with_v ? "," + field("v", R"("string")") : "") + "]}}";
  }
  void write_schema(const std::string& value_type, bool evolved) {
    std::string fields = field("id", R"("long")") + "," + field("value", value_type) + "," +
                         field("tags", tags(evolved));
    if (evolved) fields += "," + field("note", R"("string")");
    dir_.write("schema.json", R"({"type":"struct","fields":[)" + fields + "]}");
  }
  void write_spec(const std::string& settings) {
    spec_ = dir_.write("pipeline.yaml",
                       "connection_name: files\nconnections_file: connections.yaml\n"
                       "destination_root: data\nobjects:\n  - table:\n      source_table: items\n"
                       "      table_configuration:\n        max_records_per_batch: 2\n" +
                           settings);
  }
  void SetUp() override {
    dir_.write("connections.yaml", "files:\n  connector: ndjson\n  options:\n    path: " +
                                       dir_.file("in/items.ndjson") +
                                       "\n    schema: " + dir_.file("schema.json") + "\n");
    lines_ = R"({"id":1,"value":10,"tags":[{"k":"a"}]})"
             "\n"
             R"({"id":2,"value":20,"tags":[]})"
             "\n"
             R"({"id":3,"value":30})"
             "\n";
    dir_.write("in/items.ndjson", lines_);
    write_schema(R"("integer")", false);
    write_spec("");
  }
  ProcessResult lakeflow(std::vector<std::string> args) const {
    args.insert(args.begin(), LAKEFLOW_BIN);
    return run_process(args);
  }
  std::string table() const { return dir_.file("data/main/default/items"); }
  std::size_t commits() const {
    std::size_t n = 0;
    for (const auto& entry : fs::directory_iterator(table() + "/_delta_log")) {
      n += entry.path().extension() == ".json";
    }
    return n;
  }
  // The table's rows by id, as compact JSON.
  static std::map<std::int64_t, std::string> by_id(const std::string& lines) {
    std::map<std::int64_t, std::string> out;
    for (const std::string& line : lines_of(lines)) {
      const JsonValue row = JsonValue::parse(line);
      out[row.find("id")->as_int()] = row.dump();
    }
    return out;
  }

  TempDir dir_{"lakeflow_schema_evolution_e2e"};
  std::string spec_;
  std::string lines_;
};

// Run 1 lands 3 rows; the source then adds a column and a nested field and widens `value` to
// bigint (schema_evolution: widen); run 2 lands 2 more rows. Old rows read the new fields as null
// in lakeflow show and in DuckDB; the log records the new schema with its type change, in the
// commit of the first rows that carry it, under the typeWidening protocol feature.
TEST_F(SchemaEvolutionE2e, AddedFieldsAndAWidenedTypeLandAndReadBack) {
  ProcessResult run = lakeflow({"run", spec_});
  ASSERT_EQ(run.status, 0) << run.err;
  const std::size_t before = commits();

  write_schema(R"("long")", true);
  write_spec("        schema_evolution: widen\n");
  dir_.write("in/items.ndjson", lines_ + R"({"id":4,"value":4000000000,"tags":[{"k":"b","v":"x"}],)"
                                         R"("note":"new"})"
                                         "\n"
                                         R"({"id":5,"value":-5})"
                                         "\n");
  run = lakeflow({"run", spec_});
  ASSERT_EQ(run.status, 0) << run.err;
  for (const char* line : {"schema: added column tags.v (string)", "added column note (string)",
                           "widened column value from int to bigint"}) {
    EXPECT_NE(run.err.find(line), std::string::npos) << line << "\n" << run.err;
  }
  const std::map<std::int64_t, std::string> expected = {
      {1, R"({"id":1,"note":null,"tags":[{"k":"a","v":null}],"value":10})"},
      {2, R"({"id":2,"note":null,"tags":[],"value":20})"},
      {3, R"({"id":3,"note":null,"tags":null,"value":30})"},
      {4, R"({"id":4,"note":"new","tags":[{"k":"b","v":"x"}],"value":4000000000})"},
      {5, R"({"id":5,"note":null,"tags":null,"value":-5})"}};
  const ProcessResult show = lakeflow({"show", table(), "--limit", "100"});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_EQ(by_id(show.out), expected);

  // The first commit of run 2 carries protocol, metaData (new schema) and the first new rows.
  const std::string first = slurp(table() + "/_delta_log/" + fmt_version(static_cast<int>(before)));
  EXPECT_NE(first.find(R"("minReaderVersion":3,"minWriterVersion":7,"readerFeatures":)"
                       R"(["typeWidening"])"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find(R"(\"delta.typeChanges\":[{\"fromType\":\"integer\",\"toType\":\"long\"}])"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find(R"("delta.enableTypeWidening":"true")"), std::string::npos) << first;
  EXPECT_NE(first.find(R"("add":)"), std::string::npos) << first;

  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  const ProcessResult duck = run_process({find_node(), kReadDelta, table()});
  ASSERT_EQ(duck.status, 0) << duck.err;
  EXPECT_EQ(by_id(duck.out), expected);
}

// A change the table cannot follow stops it before anything is written, exit 2, naming the column,
// both types and the ways forward; keep_columns keeps the table's column.
TEST_F(SchemaEvolutionE2e, AnIncompatibleChangeStopsTheTableUntilKeptOrRefreshed) {
  ASSERT_EQ(lakeflow({"run", spec_}).status, 0);
  const std::size_t before = commits();
  write_schema(R"("string")", false);
  dir_.write("in/items.ndjson", lines_ + R"({"id":4,"value":"7"})"
                                         "\n");
  ProcessResult run = lakeflow({"run", spec_});
  EXPECT_EQ(run.status, 2) << run.err;
  for (const char* part : {"value changed from int to string", "Nothing was written",
                           "--full-refresh --tables items", "keep_columns: [value]"}) {
    EXPECT_NE(run.err.find(part), std::string::npos) << part << "\n" << run.err;
  }
  EXPECT_EQ(commits(), before);

  // Additive is the default: a widening alone is refused too, and says which setting allows it.
  write_schema(R"("long")", false);
  run = lakeflow({"run", spec_});
  EXPECT_EQ(run.status, 2) << run.err;
  EXPECT_NE(run.err.find("schema_evolution is not widen"), std::string::npos) << run.err;

  write_schema(R"("string")", false);
  write_spec("        keep_columns: [value]\n");
  run = lakeflow({"run", spec_});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.err.find("kept column value as int (the source now sends string)"),
            std::string::npos)
      << run.err;
  const ProcessResult show = lakeflow({"show", table(), "--limit", "100"});
  EXPECT_EQ(by_id(show.out).at(4), R"({"id":4,"tags":null,"value":7})");
}

}  // namespace
