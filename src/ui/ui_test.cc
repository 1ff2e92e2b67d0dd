// The dashboard against tables the pipeline wrote: a real server on a free loopback port, fetched
// with an HTTP client, checked against what the Delta log and the pipeline's own reader say.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "columnar/column_batch.h"
#include "columnar/record_converter.h"
#include "delta/delta_actions.h"
#include "delta/data_file.h"
#include "delta/delta_log.h"
#include "lakeflow/json.h"
#include "lakeflow/records.h"
#include "pipeline/pipeline_spec.h"
#include "pipeline/quarantine.h"
#include "pipeline/run_record.h"
#include "pipeline/runner.h"
#include "pipeline/test_support.h"
#include "ui/lakehouse.h"
#include "ui/pages.h"
#include "ui/server.h"

namespace lakeflow::ui {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

pipeline::Connection example_connection() {
  pipeline::Connection connection;
  connection.name = "example_shop";
  connection.connector = "example";
  connection.options = Options{{"username", "demo"}, {"password", "s3cret-pw"}};
  connection.secret_values = {"s3cret-pw"};
  return connection;
}

// Writes `rows` (JSON objects of `schema`) as one data file and commits it to the table at
// `path` (created with `schema` when new), with the pipeline's own writers.
void land(const fs::path& path, const StructType& schema, const std::vector<std::string>& rows) {
  delta::DeltaLog log(path.string());
  const std::int64_t read_version = log.latest_version().value_or(-1);
  std::vector<delta::Action> actions;
  if (read_version < 0) actions = delta::create_table_actions(schema);
  RecordConverter converter(schema, "t");
  ColumnBatch batch = converter.make_batch();
  RecordBatch records;
  for (const std::string& row : rows) records.append(row);
  converter.convert(records, batch);
  delta::FileSetWriter writer(path, schema, {}, 0, read_version + 1);
  writer.write(batch);
  for (delta::AddFile& add : writer.close()) actions.emplace_back(std::move(add));
  log.commit(read_version, actions);
}

class UiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(pipeline::unique_temp_path("lakeflow_ui_test"));
    fs::remove_all(*root_);
    pipeline::PipelineSpec spec = pipeline::load_pipeline_spec(
        fs::path(LAKEFLOW_REPO_DIR) / "examples" / "example_pipeline.yaml");
    spec.destination_root = *root_ / "lake";
    pipeline::RunOptions options;
    options.parallelism = 2;
    results_ = new std::vector<pipeline::TableResult>(
        pipeline::run_pipeline(spec, example_connection(), pipeline::test_destination(), options));
    for (const pipeline::TableResult& result : *results_) {
      ASSERT_FALSE(result.error) << *result.error;
    }
    server_ = new UiServer(*root_ / "lake", {});
    port_ = server_->bind();
    thread_ = new std::thread([] { server_->run(); });
  }

  static void TearDownTestSuite() {
    server_->stop();
    thread_->join();
    delete thread_;
    delete server_;
    delete results_;
    fs::remove_all(*root_);
    delete root_;
  }

  static fs::path lake() { return *root_ / "lake"; }
  static fs::path table(const std::string& name) { return lake() / "main" / "shop" / name; }

  static const pipeline::TableResult& result(const std::string& source_table) {
    for (const pipeline::TableResult& r : *results_) {
      if (r.source_table == source_table) return r;
    }
    throw std::runtime_error("no result for " + source_table);
  }

  static httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client client("127.0.0.1", port_);
    return client.Get(path.c_str(), headers);
  }

  static JsonValue get_json(const std::string& path) {
    httplib::Result res = get(path);
    EXPECT_TRUE(res) << path;
    if (!res) return JsonValue();
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    return JsonValue::parse(res->body);
  }

  static std::string get_page(const std::string& path) {
    httplib::Result res = get(path);
    EXPECT_TRUE(res) << path;
    if (!res) return "";
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
    return res->body;
  }

  static const JsonValue* table_entry(const JsonValue& tables, const std::string& name) {
    for (const JsonValue& t : tables.find("tables")->as_array()) {
      if (t.find("name")->as_string() == name) return &t;
    }
    return nullptr;
  }

  static fs::path* root_;
  static std::vector<pipeline::TableResult>* results_;
  static UiServer* server_;
  static std::thread* thread_;
  static int port_;
};

fs::path* UiTest::root_ = nullptr;
std::vector<pipeline::TableResult>* UiTest::results_ = nullptr;
UiServer* UiTest::server_ = nullptr;
std::thread* UiTest::thread_ = nullptr;
int UiTest::port_ = 0;

TEST_F(UiTest, TablesApi_ListsEveryLandedTableWithWhatItsLogHolds) {
  const JsonValue tables = get_json("/api/tables");
  for (const std::string name : {"users", "orders", "events", "products"}) {
    SCOPED_TRACE(name);
    const JsonValue* t = table_entry(tables, "main/shop/" + name);
    ASSERT_NE(t, nullptr);
    const delta::Snapshot snapshot = delta::DeltaLog(table(name).string()).snapshot();
    EXPECT_EQ(t->find("display_name")->as_string(), "main.shop." + name);
    EXPECT_EQ(t->find("version")->as_int(), snapshot.version);
    EXPECT_EQ(t->find("files")->as_int(), static_cast<std::int64_t>(snapshot.files.size()));
    EXPECT_EQ(t->find("rows")->as_int(),
              static_cast<std::int64_t>(pipeline::read_table_rows(table(name)).size()));
    EXPECT_GT(t->find("bytes")->as_int(), 0);
    EXPECT_EQ(t->find("ingestion_type")->as_string(), result(name).ingestion_type);
    EXPECT_EQ(t->find("flow")->as_string(), result(name).flow);
    EXPECT_TRUE(t->find("last_commit")->is_string());
    EXPECT_GE(t->find("age_seconds")->as_int(), 0);
    ASSERT_TRUE(snapshot.offset());
    EXPECT_EQ(t->find("offset")->as_string(), snapshot.offset()->to_json());
    if (result(name).offset) {
      EXPECT_EQ(t->find("offset")->as_string(), *result(name).offset);
    }
    EXPECT_EQ(t->find("last_run")->find("state")->as_string(), "succeeded");
  }
  EXPECT_EQ(table_entry(tables, "main/shop/orders")->find("scd_type")->as_string(), "SCD_TYPE_2");
  EXPECT_EQ(table_entry(tables, "main/shop/users")->find("scd_type")->as_string(), "SCD_TYPE_1");
}

TEST_F(UiTest, HistoryApi_HasOneEntryPerCommitWithTheRunsCounts) {
  for (const std::string name : {"users", "orders", "events", "products"}) {
    SCOPED_TRACE(name);
    const JsonValue history = get_json("/api/tables/main/shop/" + name + "/history?limit=1000");
    const std::int64_t latest = *delta::DeltaLog(table(name).string()).latest_version();
    ASSERT_EQ(history.find("total")->as_int(), latest + 1);
    const JsonValue::Array& commits = history.find("commits")->as_array();
    ASSERT_EQ(commits.size(), static_cast<std::size_t>(latest + 1));
    std::int64_t inserted = 0, updated = 0, deleted = 0, files = 0;
    for (std::size_t i = 0; i < commits.size(); ++i) {
      const JsonValue& c = commits[i];
      EXPECT_EQ(c.find("version")->as_int(),
                latest - static_cast<std::int64_t>(i));  // newest first
      inserted += c.find("inserted")->as_int();
      updated += c.find("updated")->as_int();
      deleted += c.find("deleted")->as_int();
      files += c.find("files_added")->as_int();
      EXPECT_GE(c.find("duration_ms")->as_int(), 0);
      EXPECT_EQ(c.find("quarantined")->as_int(), 0);
    }
    EXPECT_EQ(inserted, static_cast<std::int64_t>(result(name).inserted));
    EXPECT_EQ(updated, static_cast<std::int64_t>(result(name).updated));
    EXPECT_EQ(deleted, static_cast<std::int64_t>(result(name).deleted));
    EXPECT_EQ(files, static_cast<std::int64_t>(result(name).files));
    // The newest entry's running row count is the table's.
    EXPECT_EQ(commits.front().find("rows")->as_int(),
              static_cast<std::int64_t>(pipeline::read_table_rows(table(name)).size()));
    EXPECT_EQ(history.find("chart")->as_array().size(), commits.size());
  }
}

TEST_F(UiTest, TablePage_ShowsTheSummaryHistoryAndAChartOfRowsPerRun) {
  const std::string page = get_page("/tables/main/shop/orders");
  EXPECT_THAT(page, HasSubstr("<h1>main.shop.orders</h1>"));
  EXPECT_THAT(page, HasSubstr("<svg"));
  EXPECT_THAT(page, HasSubstr("SCD_TYPE_2"));
  EXPECT_THAT(page, HasSubstr("cdc_with_deletes"));
  const std::int64_t latest = *delta::DeltaLog(table("orders").string()).latest_version();
  for (std::int64_t v = 0; v <= latest; ++v) {
    EXPECT_THAT(page, HasSubstr(fmt::format("<tr><td class=\"n\">{}</td>", v)));
  }
  EXPECT_THAT(page, HasSubstr("Last run succeeded"));
  const std::string list = get_page("/");
  for (const std::string name : {"users", "orders", "events", "products"}) {
    EXPECT_THAT(list, HasSubstr("href=\"/tables/main/shop/" + name + "\""));
  }
}

TEST_F(UiTest, RowsApi_PagesThroughEveryRowOfTheTable) {
  const std::vector<std::string> expected = pipeline::read_table_rows(table("orders"));
  ASSERT_GT(expected.size(), 3U);
  std::vector<std::string> seen;
  for (std::size_t offset = 0; offset < expected.size(); offset += 3) {
    const JsonValue page =
        get_json(fmt::format("/api/tables/main/shop/orders/rows?offset={}&limit=3", offset));
    EXPECT_EQ(page.find("total")->as_int(), static_cast<std::int64_t>(expected.size()));
    for (const JsonValue& row : page.find("rows")->as_array()) seen.push_back(row.dump());
  }
  std::vector<std::string> want;
  for (const std::string& row : expected) want.push_back(JsonValue::parse(row).dump());
  EXPECT_EQ(seen, want);
  const std::string html = get_page("/tables/main/shop/orders/rows?limit=2");
  EXPECT_THAT(html, HasSubstr("<th>__START_AT</th>"));
  EXPECT_THAT(html, HasSubstr("next"));
}

TEST_F(UiTest, SchemaPage_ShowsTheTreeAndTheChangesBetweenVersions) {
  const fs::path path = lake() / "main" / "evolving" / "t";
  land(path, StructType{{"id", DataType::Long(), false}}, {R"({"id":1})"});
  // Version 1: the schema grows (as the runner's schema evolution commits it, in a metaData).
  delta::DeltaLog log(path.string());
  delta::Snapshot snapshot = log.snapshot();
  snapshot.metadata.schema_string = StructType{
      {"id", DataType::Long(), false},
      {"name", StructType{{"family", DataType::String()}}},
      {"tags", DataType::Array(
                   DataType::String())}}.json();
  log.commit(snapshot.version, {snapshot.metadata});
  const JsonValue schema = get_json("/api/tables/main/evolving/t/schema");
  ASSERT_EQ(schema.find("changes")->as_array().size(), 1U);
  const JsonValue& change = schema.find("changes")->as_array()[0];
  EXPECT_EQ(change.find("version")->as_int(), 1);
  EXPECT_EQ(change.find("added")->dump(),
            R"(["name: struct","name.family: string","tags: array","tags[]: string"])");
  EXPECT_EQ(change.find("removed")->dump(), "[]");
  const std::string page = get_page("/tables/main/evolving/t/schema");
  EXPECT_THAT(page, HasSubstr("<span class=\"field\">family</span>: string"));
  EXPECT_THAT(page, HasSubstr("<span class=\"field\">id</span>: long <span class=\"notnull\">"));
  EXPECT_THAT(page, HasSubstr("<code>tags[]: string</code>"));
  EXPECT_THAT(get_page("/tables/main/evolving/t"), HasSubstr("schema changed"));
}

TEST_F(UiTest, QuarantinePage_ShowsReasonsFilteredAndEscaped) {
  const fs::path target = lake() / "main" / "q" / "patients";
  land(target, StructType{{"id", DataType::Long()}}, {R"({"id":1})"});
  pipeline::QuarantineTable quarantine(pipeline::test_destination(),
                                       pipeline::QuarantineTable::path_for(target),
                                       "lakeflow:main.q.patients");
  quarantine.commit(1, Offset::parse(R"({"page":2})"), "patients",
                    {{0, "id", "field id: expected long, got \"<script>alert(1)</script>\"",
                      R"({"id":"<script>alert(1)</script>"})"},
                     {1, "name", "field name: expected string", R"({"name":5})"}},
                    false);
  const JsonValue all = get_json("/api/tables/main/q/patients/quarantine");
  EXPECT_EQ(all.find("total")->as_int(), 2);
  const JsonValue filtered = get_json("/api/tables/main/q/patients/quarantine?q=EXPECTED%20LONG");
  ASSERT_EQ(filtered.find("matched")->as_int(), 1);
  EXPECT_EQ(filtered.find("rows")->as_array()[0].find("record")->as_string(),
            R"({"id":"<script>alert(1)</script>"})");
  const std::string page = get_page("/tables/main/q/patients/quarantine?q=long");
  EXPECT_THAT(page, Not(HasSubstr("<script>")));
  EXPECT_THAT(page, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(page, Not(HasSubstr("expected string")));
  const JsonValue tables = get_json("/api/tables");
  EXPECT_EQ(table_entry(tables, "main/q/patients")->find("quarantine")->find("rows")->as_int(), 2);
}

TEST_F(UiTest, HostileTableNamesAndValuesAreShownAsText) {
  const std::string name = "<img src=x onerror=alert(1)>\"'&";
  land(lake() / "main" / "hostile" / name, StructType{{"<b>col</b>", DataType::String()}},
       {R"({"<b>col</b>":"<script>alert('x')</script>"})"});
  const std::string list = get_page("/");
  EXPECT_THAT(list, Not(HasSubstr("<img")));
  EXPECT_THAT(list, HasSubstr("main.hostile.&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"));
  const std::string url = table_url("main/hostile/" + name, "rows");
  EXPECT_THAT(list, HasSubstr(html_escape(table_url("main/hostile/" + name))));
  const std::string rows = get_page(url);
  EXPECT_THAT(rows, Not(HasSubstr("<script>")));
  EXPECT_THAT(rows, Not(HasSubstr("<b>")));
  EXPECT_THAT(rows, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  EXPECT_THAT(rows, HasSubstr("<th>&lt;b&gt;col&lt;/b&gt;</th>"));
}

TEST_F(UiTest, RowsPage_CutsLongValuesWhereTheJsonKeepsThemWhole) {
  const std::string long_text(5000, 'x');
  land(lake() / "main" / "long" / "t", StructType{{"text", DataType::String()}},
       {R"({"text":")" + long_text + R"("})"});
  const std::string page = get_page("/tables/main/long/t/rows");
  EXPECT_THAT(page, HasSubstr(std::string(2000, 'x') + "<span class=\"unknown\">&hellip; (5000 "
                                                       "bytes in all)"));
  EXPECT_THAT(page, Not(HasSubstr(std::string(2001, 'x'))));
  const JsonValue rows = get_json("/api/tables/main/long/t/rows");
  EXPECT_EQ(rows.find("rows")->as_array()[0].find("text")->as_string(), long_text);
}

TEST_F(UiTest, RefusesPathsOutsideTheLakehouse) {
  // A table outside the directory, reached through a symbolic link inside it.
  const fs::path outside = *root_ / "outside" / "secret";
  land(outside, StructType{{"secret", DataType::String()}}, {R"({"secret":"do-not-show"})"});
  fs::create_directories(lake() / "main" / "links");
  fs::create_directory_symlink(outside, lake() / "main" / "links" / "secret");
  for (const std::string path :
       {"/tables/main/links/secret", "/api/tables/main/links/secret/rows",
        "/tables/../outside/secret", "/tables/%2e%2e/%2e%2e/outside/secret/rows",
        "/api/tables/..%2Foutside%2Fsecret/rows", "/tables/main/shop/../../../outside/secret",
        "/etc/passwd", "/static/../../etc/passwd"}) {
    SCOPED_TRACE(path);
    httplib::Result res = get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404) << res->body;
    EXPECT_THAT(res->body, Not(HasSubstr("do-not-show")));
  }
  EXPECT_EQ(table_entry(get_json("/api/tables"), "main/links/secret"), nullptr);

  // A table inside whose log names a data file outside (by `..` and by a symbolic link).
  const fs::path sneaky = lake() / "main" / "links" / "sneaky";
  land(sneaky, StructType{{"secret", DataType::String()}}, {R"({"secret":"fine"})"});
  delta::DeltaLog log(sneaky.string());
  delta::Snapshot snapshot = log.snapshot();
  delta::AddFile add = snapshot.files.begin()->second;
  std::vector<delta::Action> actions = {delta::removal_of(add)};
  const delta::AddFile outside_add =
      delta::DeltaLog(outside.string()).snapshot().files.begin()->second;
  add.path = "../../../outside/secret/" + outside_add.path;
  actions.emplace_back(add);
  log.commit(snapshot.version, actions);
  httplib::Result res = get("/api/tables/main/links/sneaky/rows");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_THAT(res->body, HasSubstr("not inside the lakehouse directory"));
  EXPECT_THAT(res->body, Not(HasSubstr("do-not-show")));

  const fs::path linked = lake() / "main" / "links" / "linked";
  land(linked, StructType{{"secret", DataType::String()}}, {R"({"secret":"fine"})"});
  const delta::AddFile own = delta::DeltaLog(linked.string()).snapshot().files.begin()->second;
  fs::remove(linked / own.path);
  fs::create_symlink(outside / outside_add.path, linked / own.path);
  res = get("/api/tables/main/links/linked/rows");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_THAT(res->body, Not(HasSubstr("do-not-show")));
}

TEST_F(UiTest, AnswersOnlyReadsAddressedToLoopbackWithARestrictivePolicy) {
  httplib::Result res = get("/", {{"Host", "attacker.example:80"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 421);
  httplib::Client client("127.0.0.1", port_);
  res = client.Post("/api/tables", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  res = get("/tables/main/shop/users");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Security-Policy"), HasSubstr("default-src 'none'"));
  EXPECT_THAT(res->get_header_value("Content-Security-Policy"), Not(HasSubstr("script-src")));
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_THAT(res->body, Not(HasSubstr("<script")));
  EXPECT_THAT(res->body, Not(HasSubstr("http://")));  // nothing fetched from elsewhere
  EXPECT_THAT(res->body, Not(HasSubstr("https://")));
  EXPECT_THAT(res->body, Not(HasSubstr("s3cret")));
  res = get("/static/style.css");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/css; charset=utf-8");
  res = get("/api/tables/main/shop/nope/history");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_THAT(res->body, HasSubstr("\"error\""));
  res = get("/api/tables/main/shop/users/rows?limit=ten");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(UiTest, ShowsAFailedRunAndOneThatWasKilled) {
  const fs::path failed = lake() / "main" / "runs" / "failed";
  land(failed, StructType{{"id", DataType::Long()}}, {R"({"id":1})"});
  pipeline::TableResult result;
  result.destination = "main.runs.failed";
  result.commits = 1;
  result.offset = R"({"cursor":"2024-01-01"})";
  result.error = "GET ***/Patient failed after 5 attempts: HTTP 503 <Service Unavailable>";
  ASSERT_TRUE(pipeline::record_run_ended(failed, result, delta::now_millis() - 1000));
  const JsonValue run = get_json("/api/tables/main/runs/failed/run");
  EXPECT_EQ(run.find("state")->as_string(), "failed");
  EXPECT_EQ(run.find("error")->as_string(), *result.error);
  std::string page = get_page("/tables/main/runs/failed");
  EXPECT_THAT(page, HasSubstr("Last run failed"));
  EXPECT_THAT(page, HasSubstr("HTTP 503 &lt;Service Unavailable&gt;"));
  EXPECT_THAT(page, HasSubstr("{&quot;cursor&quot;:&quot;2024-01-01&quot;}"));

  // A run killed before it could record its end: its process is gone.
  const fs::path killed = lake() / "main" / "runs" / "killed";
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  fs::create_directories(pipeline::run_record_path(killed).parent_path());
  std::ofstream(pipeline::run_record_path(killed))
      << fmt::format(R"({{"pid":{},"started":1700000000000,"state":"running",)"
                     R"("table":"main.runs.killed"}})",
                     child);
  const JsonValue killed_run = get_json("/api/tables/main/runs/killed/run");
  EXPECT_EQ(killed_run.find("state")->as_string(), "running");
  EXPECT_FALSE(killed_run.find("alive")->as_bool());
  page = get_page("/tables/main/runs/killed");
  EXPECT_THAT(page, HasSubstr("Last run stopped"));
  EXPECT_THAT(get_page("/"), HasSubstr("killed"));
}

TEST(RunRecord, TheRunnerRecordsEachTablesRun) {
  const fs::path root = pipeline::unique_temp_path("lakeflow_ui_run_record");
  fs::remove_all(root);
  pipeline::PipelineSpec spec = pipeline::load_pipeline_spec(fs::path(LAKEFLOW_REPO_DIR) /
                                                             "examples" / "example_pipeline.yaml");
  spec.destination_root = root;
  pipeline::RunOptions options;
  options.tables = {"users"};
  const auto results =
      pipeline::run_pipeline(spec, example_connection(), pipeline::test_destination(), options);
  const auto record = pipeline::read_run_record(root / "main" / "shop" / "users");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->find("state")->as_string(), "succeeded");
  EXPECT_EQ(record->find("inserted")->as_int(), static_cast<std::int64_t>(results[0].inserted));
  EXPECT_EQ(record->find("table")->as_string(), "main.shop.users");
  fs::remove_all(root);
}

}  // namespace
}  // namespace lakeflow::ui
