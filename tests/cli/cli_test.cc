// End-to-end tests of the `lakeflow` command: each test runs `lakeflow_testcli` (the real CLI with
// the "fixture" connector of fixture_connector.cc linked in) as a subprocess and checks stdout,
// stderr and the exit status.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lakeflow/json.h"
#include "support/subprocess.h"

namespace {

using lakeflow::JsonValue;

constexpr const char* kGreeting = "greeting=hello";

using lakeflow::test_support::run_process;
using lakeflow::test_support::slurp;
using lakeflow::test_support::TempDir;

struct Result {
  int status = -1;  // exit status, or 128 + signal number
  std::string out;
  std::string err;
};

// Runs `argv` with stdin from /dev/null and stdout/stderr captured. A hung command fails its test
// instead of hanging the suite.
Result spawn(const std::vector<std::string>& argv) {
  const lakeflow::test_support::ProcessResult run = run_process(argv);
  if (run.timed_out) ADD_FAILURE() << argv[0] << " did not finish within 60 seconds";
  return {run.status, run.out, run.err};
}

Result lakeflow(std::vector<std::string> args) {
  args.insert(args.begin(), LAKEFLOW_TESTCLI);
  return spawn(args);
}

// `lakeflow <command> -c fixture --option greeting=hello <args...>`
Result fixture(const std::string& command, std::vector<std::string> args = {}) {
  args.insert(args.begin(), {command, "-c", "fixture", "--option", kGreeting});
  return lakeflow(std::move(args));
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) out.push_back(line);
  return out;
}

std::string ids(const std::string& ndjson) {
  std::string out;
  for (const std::string& line : lines(ndjson)) {
    const JsonValue record = JsonValue::parse(line);
    const JsonValue* id = record.find("id");
    out += (out.empty() ? "" : ",") + (id == nullptr ? std::string("?") : id->dump());
  }
  return out;
}

// A failed command: the status, nothing on stdout, one `error: ...` line naming `what`.
void expect_error(const Result& result, int status, const std::string& what) {
  EXPECT_EQ(result.status, status) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err.rfind("error: ", 0), 0u) << result.err;
  EXPECT_EQ(lines(result.err).size(), 1u) << result.err;
  EXPECT_NE(result.err.find(what), std::string::npos) << result.err;
}

constexpr const char* kPeopleSchemaJson =
    R"({"fields":[{"metadata":{},"name":"id","nullable":false,"type":"long"},)"
    R"({"metadata":{},"name":"name","nullable":true,"type":{"fields":[)"
    R"({"metadata":{},"name":"given","nullable":true,)"
    R"("type":{"containsNull":true,"elementType":"string","type":"array"}},)"
    R"({"metadata":{},"name":"family","nullable":true,"type":"string"}],"type":"struct"}},)"
    R"({"metadata":{},"name":"tags","nullable":true,)"
    R"("type":{"containsNull":true,"elementType":"string","type":"array"}},)"
    R"({"metadata":{},"name":"greeting","nullable":true,"type":"string"},)"
    R"({"metadata":{},"name":"updated_at","nullable":true,"type":"timestamp"}],"type":"struct"})";

// ---- global flags ---------------------------------------------------------------------------

TEST(Cli, VersionNamesVersionKernelAndCpuBaseline) {
  const Result result = lakeflow({"--version"});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.err, "");
  const std::regex expected(std::string("lakeflow ") + LAKEFLOW_VERSION +
                            R"( \(simdjson kernel [a-z0-9_][^\n]*, cpu baseline )" +
                            LAKEFLOW_CPU_BASELINE + R"(\)\n)");
  EXPECT_TRUE(std::regex_match(result.out, expected)) << result.out;
}

TEST(Cli, HelpListsEveryCommandAndExitStatuses) {
  const Result result = lakeflow({"--help"});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.err, "");
  for (const char* word : {"connectors", "tables", "schema", "metadata", "read", "Exit status"}) {
    EXPECT_NE(result.out.find(word), std::string::npos) << word;
  }
}

TEST(Cli, EveryCommandHasHelp) {
  const std::vector<std::pair<std::string, std::string>> commands = {{"connectors", "--json"},
                                                                     {"tables", "--connector"},
                                                                     {"schema", "--format"},
                                                                     {"metadata", "--table-option"},
                                                                     {"read", "--on-bad-record"}};
  for (const auto& [command, option] : commands) {
    const Result result = lakeflow({command, "--help"});
    EXPECT_EQ(result.status, 0) << command;
    EXPECT_EQ(result.err, "") << command;
    EXPECT_NE(result.out.find(option), std::string::npos) << command << ":\n" << result.out;
  }
}

TEST(Cli, NoCommandIsUsageError) { expect_error(lakeflow({}), 2, "subcommand"); }

TEST(Cli, UnknownCommandIsUsageError) {
  expect_error(lakeflow({"frobnicate"}), 2, "unknown command 'frobnicate'");
}

TEST(Cli, MissingRequiredFlagIsUsageError) {
  expect_error(fixture("read"), 2, "--table is required");
  expect_error(lakeflow({"tables"}), 2, "--connector is required");
}

// ---- connectors -----------------------------------------------------------------------------

TEST(CliConnectors, ListsNameDescriptionAndOrigin) {
  const Result result = lakeflow({"connectors"});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, "fixture  built in  Test-only source for the CLI tests\n");
  EXPECT_EQ(result.err, "");
}

TEST(CliConnectors, JsonIsAnArrayOfObjects) {
  const Result result = lakeflow({"connectors", "--json"});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, R"([{"description":"Test-only source for the CLI tests","name":"fixture",)"
                        R"("origin":"builtin"}])"
                        "\n");
}

// ---- tables and connector options -----------------------------------------------------------

TEST(CliTables, OnePerLine) {
  const Result result = fixture("tables");
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "people\nevents\naccounts\nbroken\nmessy\n");
  EXPECT_EQ(result.err, "");
}

TEST(CliTables, JsonArray) {
  const Result result = fixture("tables", {"--json"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, R"(["people","events","accounts","broken","messy"])"
                        "\n");
}

TEST(CliTables, UnknownConnectorExits2NamingRegisteredOnes) {
  const Result result = lakeflow({"tables", "-c", "nope"});
  expect_error(result, 2, "unknown connector 'nope'");
  EXPECT_NE(result.err.find("fixture"), std::string::npos);
}

TEST(CliTables, MissingRequiredOptionExits2) {
  expect_error(lakeflow({"tables", "-c", "fixture"}), 2, "greeting");
}

TEST(CliTables, BadOptionValueExits2) {
  expect_error(fixture("tables", {"--option", "page_count=lots"}), 2, "page_count");
  expect_error(fixture("tables", {"--option", "page_count=9"}), 2, "page_count");
}

TEST(CliTables, OptionWithoutEqualsSignExits2WithoutEchoingIt) {
  const Result result = fixture("tables", {"--option", "s3cr3t"});
  expect_error(result, 2, "KEY=VALUE");
  EXPECT_EQ(result.err.find("s3cr3t"), std::string::npos);
}

TEST(CliOptions, FileIsReadAndOptionFlagsOverrideIt) {
  TempDir dir;
  const std::string file =
      dir.write("options.json", R"({"greeting": "from file", "page_count": 1, "trace": true})");
  const Result result = lakeflow({"read", "-c", "fixture", "-t", "people", "--options-file", file,
                                  "--option", "greeting=from flag"});
  ASSERT_EQ(result.status, 0) << result.err;
  ASSERT_EQ(lines(result.out).size(), 2u);
  for (const std::string& line : lines(result.out)) {
    EXPECT_EQ(JsonValue::parse(line).find("greeting")->as_string(), "from flag");
  }
  EXPECT_EQ(result.err,
            "fixture: read_table people start={}\n"
            "fixture: read_table people start={\"page\":1}\n"
            "end offset: {\"page\":1}\n"
            "records: 2\n");
}

TEST(CliOptions, MissingFileExits2) {
  expect_error(lakeflow({"tables", "-c", "fixture", "--options-file", "/nonexistent/opts.json"}), 2,
               "/nonexistent/opts.json");
}

TEST(CliOptions, FileThatIsNotAJsonObjectExits2) {
  TempDir dir;
  expect_error(
      lakeflow({"tables", "-c", "fixture", "--options-file", dir.write("bad.json", "{greeting")}),
      2, "bad.json");
  expect_error(
      lakeflow({"tables", "-c", "fixture", "--options-file", dir.write("list.json", "[1,2]")}), 2,
      "list.json");
}

TEST(CliOptions, TableOptionsReachTheConnector) {
  const Result result = fixture("read", {"-t", "events", "--table-option", "count=3"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out,
            "{\"seq\":0,\"kind\":\"click\"}\n{\"seq\":1,\"kind\":\"view\"}\n"
            "{\"seq\":2,\"kind\":\"click\"}\n");
  EXPECT_EQ(result.err, "end offset: {\"seq\":3}\nrecords: 3\n");
}

TEST(CliOptions, TableOptionsFileAndOverride) {
  TempDir dir;
  const std::string file = dir.write("table.json", R"({"count": 7})");
  Result result = fixture("read", {"-t", "events", "--table-options-file", file});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(lines(result.out).size(), 7u);
  result =
      fixture("read", {"-t", "events", "--table-options-file", file, "--table-option", "count=1"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(lines(result.out).size(), 1u);
}

TEST(CliOptions, BadTableOptionValueExits2) {
  expect_error(fixture("read", {"-t", "events", "--table-option", "count=-1"}), 2, "count");
}

// ---- schema ---------------------------------------------------------------------------------

TEST(CliSchema, JsonIsPySparkStructTypeJson) {
  const Result result = fixture("schema", {"-t", "people"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, std::string(kPeopleSchemaJson) + "\n");
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(fixture("schema", {"-t", "people", "--format", "json"}).out, result.out);
}

TEST(CliSchema, DdlIsSparkToDdl) {
  const Result result = fixture("schema", {"-t", "people", "--format", "ddl"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out,
            "`id` BIGINT NOT NULL,`name` STRUCT<`given`: ARRAY<STRING>, `family`: STRING>,"
            "`tags` ARRAY<STRING>,`greeting` STRING,`updated_at` TIMESTAMP\n");
}

TEST(CliSchema, TreeIsPrintSchema) {
  const Result result = fixture("schema", {"-t", "people", "--format", "tree"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out,
            "root\n"
            " |-- id: long (nullable = false)\n"
            " |-- name: struct (nullable = true)\n"
            " |    |-- given: array (nullable = true)\n"
            " |    |    |-- element: string (containsNull = true)\n"
            " |    |-- family: string (nullable = true)\n"
            " |-- tags: array (nullable = true)\n"
            " |    |-- element: string (containsNull = true)\n"
            " |-- greeting: string (nullable = true)\n"
            " |-- updated_at: timestamp (nullable = true)\n");
}

TEST(CliSchema, UnknownFormatIsUsageError) {
  expect_error(fixture("schema", {"-t", "people", "--format", "yaml"}), 2, "yaml");
}

TEST(CliSchema, UnknownTableExits2) {
  expect_error(fixture("schema", {"-t", "nope"}), 2, "unknown table 'nope'");
}

// ---- metadata -------------------------------------------------------------------------------

TEST(CliMetadata, CdcTable) {
  const Result result = fixture("metadata", {"-t", "people"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out,
            R"({"cursor_field":"updated_at","ingestion_type":"cdc","primary_keys":["id"]})"
            "\n");
  EXPECT_EQ(result.err, "");
}

TEST(CliMetadata, AppendTableHasNullCursor) {
  EXPECT_EQ(fixture("metadata", {"-t", "events"}).out,
            R"({"cursor_field":null,"ingestion_type":"append","primary_keys":[]})"
            "\n");
  EXPECT_EQ(
      fixture("metadata", {"-t", "accounts"}).out,
      R"({"cursor_field":"modified","ingestion_type":"cdc_with_deletes","primary_keys":["id"]})"
      "\n");
}

TEST(CliMetadata, CursorThatIsNotInTheSchemaExits2) {
  expect_error(fixture("metadata", {"-t", "people", "--table-option", "cursor_field=missing"}), 2,
               "cursor field 'missing'");
}

TEST(CliMetadata, UnknownTableExits2) {
  expect_error(fixture("metadata", {"-t", "nope"}), 2, "unknown table 'nope'");
}

// ---- read: the offset protocol --------------------------------------------------------------

TEST(CliRead, FollowsOffsetsUntilTheyRepeat) {
  const Result result = fixture("read", {"-t", "people", "--option", "trace=true"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(ids(result.out), "1,2,3,4,5,6");
  EXPECT_EQ(result.err,
            "fixture: read_table people start={}\n"
            "fixture: read_table people start={\"page\":1}\n"
            "fixture: read_table people start={\"page\":2}\n"
            "fixture: read_table people start={\"page\":3}\n"
            "end offset: {\"page\":3}\n"
            "records: 6\n");
}

TEST(CliRead, RecordsAreRawJsonOneLineEach) {
  const Result result = fixture("read", {"-t", "people"});
  ASSERT_EQ(result.status, 0) << result.err;
  const std::vector<std::string> records = lines(result.out);
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0],
            R"({"id":1,"name":{"given":["Ada"],"family":"Lovelace"},"tags":["math","poetry"],)"
            R"("greeting":"hello","updated_at":"2024-01-01T00:00:00Z"})");
  // Record 4 arrives pretty-printed across lines (with a CRLF); it is minified to one line and the
  // escaped line break inside its string stays an escape.
  EXPECT_EQ(records[3],
            R"({"id":4,"name":{"given":["Grace"],"family":"Hopper"},"tags":["navy","line\nbreak"],)"
            R"("greeting":"hello","updated_at":"2024-01-04T00:00:00Z"})");
  EXPECT_EQ(result.out.find('\r'), std::string::npos);
}

TEST(CliRead, OnceMakesOneCall) {
  const Result result = fixture("read", {"-t", "people", "--once", "--option", "trace=true"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(ids(result.out), "1,2");
  EXPECT_EQ(result.err,
            "fixture: read_table people start={}\n"
            "end offset: {\"page\":1}\n"
            "records: 2\n");
}

TEST(CliRead, StartsFromTheGivenOffset) {
  const Result result = fixture("read", {"-t", "people", "--offset", R"({"page": 2})"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(ids(result.out), "5,6");
  EXPECT_EQ(result.err, "end offset: {\"page\":3}\nrecords: 2\n");
}

TEST(CliRead, OffsetAtTheEndReadsNothing) {
  const Result result = fixture("read", {"-t", "people", "--offset", R"({"page":3})"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "end offset: {\"page\":3}\nrecords: 0\n");
}

TEST(CliRead, NullEndOffsetStops) {
  const Result result = fixture("read", {"-t", "messy", "--option", "trace=true"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(lines(result.out).size(), 3u);
  EXPECT_EQ(result.err,
            "fixture: read_table messy start={}\n"
            "end offset: null\n"
            "records: 3\n");
}

TEST(CliRead, LimitAtTheEndOfAReadReportsItsEndOffset) {
  const Result result = fixture("read", {"-t", "people", "--limit", "2", "--option", "trace=true"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(ids(result.out), "1,2");
  EXPECT_EQ(result.err,
            "fixture: read_table people start={}\n"
            "end offset: {\"page\":1}\n"
            "records: 2\n");
}

TEST(CliRead, LimitInsideAReadReportsTheOffsetItStartedFrom) {
  const Result result = fixture("read", {"-t", "people", "--limit", "3"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(ids(result.out), "1,2,3");
  const std::vector<std::string> err = lines(result.err);
  ASSERT_EQ(err.size(), 3u) << result.err;
  EXPECT_EQ(err[0], "end offset: {\"page\":1}");
  EXPECT_EQ(err[1].rfind("note: --limit", 0), 0u);
  EXPECT_EQ(err[2], "records: 3");
}

TEST(CliRead, LimitCountsAcrossBatches) {
  // One record per batch: the limit falls on a batch boundary inside the second read (more
  // batches follow), then exactly at the end of the second read.
  Result result = fixture(
      "read", {"-t", "people", "--limit", "3", "--table-option", "max_records_per_batch=1"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(ids(result.out), "1,2,3");
  EXPECT_EQ(lines(result.err).front(), "end offset: {\"page\":1}");
  result = fixture("read",
                   {"-t", "people", "--limit", "4", "--table-option", "max_records_per_batch=1"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(ids(result.out), "1,2,3,4");
  EXPECT_EQ(result.err, "end offset: {\"page\":2}\nrecords: 4\n");
}

TEST(CliRead, LimitMustBePositive) {
  expect_error(fixture("read", {"-t", "people", "--limit", "0"}), 2, "--limit");
  expect_error(fixture("read", {"-t", "people", "--limit", "many"}), 2, "--limit");
}

TEST(CliRead, BadOffsetJsonExits2) {
  expect_error(fixture("read", {"-t", "people", "--offset", "{page:1"}), 2, "offset");
  expect_error(fixture("read", {"-t", "people", "--offset", "[1]"}), 2, "offset");
}

TEST(CliRead, UnknownTableExits2) {
  expect_error(fixture("read", {"-t", "nope"}), 2, "unknown table 'nope'");
  expect_error(fixture("read", {"-t", "nope", "--typed"}), 2, "unknown table 'nope'");
}

TEST(CliRead, SourceErrorExits3) {
  expect_error(fixture("read", {"-t", "broken"}), 3,
               "error: fixture: GET /broken answered HTTP 503 Service Unavailable; retry later");
}

// ---- read --typed ---------------------------------------------------------------------------

TEST(CliReadTyped, PrintsConvertedRows) {
  const Result result = fixture("read", {"-t", "people", "--typed"});
  ASSERT_EQ(result.status, 0) << result.err;
  const std::vector<std::string> rows = lines(result.out);
  ASSERT_EQ(rows.size(), 6u);
  const JsonValue first = JsonValue::parse(rows[0]);
  EXPECT_EQ(first.find("id")->as_int(), 1);
  EXPECT_EQ(first.find("name")->find("given")->dump(), R"(["Ada"])");
  EXPECT_EQ(first.find("greeting")->as_string(), "hello");
  EXPECT_EQ(first.find("updated_at")->as_string().rfind("2024-01-01", 0), 0u);
  EXPECT_TRUE(JsonValue::parse(rows[2]).find("tags")->is_null());
  EXPECT_EQ(JsonValue::parse(rows[3]).find("tags")->dump(), R"(["navy","line\nbreak"])");
  EXPECT_EQ(result.err, "end offset: {\"page\":3}\nrecords: 6\n");
}

TEST(CliReadTyped, BadRecordExits4NamingTableAndField) {
  const Result result = fixture("read", {"-t", "messy", "--typed"});
  expect_error(result, 4, "messy");
  EXPECT_NE(result.err.find("id"), std::string::npos);
}

TEST(CliReadTyped, QuarantineReportsBadRecordsAndGoesOn) {
  const Result result =
      fixture("read", {"-t", "messy", "--typed", "--on-bad-record", "quarantine"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(ids(result.out), "1,3");
  const std::vector<std::string> err = lines(result.err);
  ASSERT_EQ(err.size(), 4u) << result.err;
  EXPECT_EQ(err[0].rfind("bad record: ", 0), 0u) << err[0];
  EXPECT_NE(err[0].find("messy"), std::string::npos) << err[0];
  EXPECT_EQ(err[1], "end offset: null");
  EXPECT_EQ(err[2], "records: 2");
  EXPECT_EQ(err[3], "bad records: 1");
}

TEST(CliReadTyped, OnBadRecordNeedsTyped) {
  expect_error(fixture("read", {"-t", "messy", "--on-bad-record", "quarantine"}), 2, "--typed");
}

TEST(CliReadTyped, FailModeIsTheDefault) {
  EXPECT_EQ(fixture("read", {"-t", "messy", "--typed", "--on-bad-record", "fail"}).status, 4);
}

// ---- read --deletes -------------------------------------------------------------------------

TEST(CliReadDeletes, ReadsDeletedRows) {
  const Result result = fixture("read", {"-t", "accounts", "--deletes"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, R"({"id":3,"modified":"2024-02-03T00:00:00Z"})"
                        "\n");
  EXPECT_EQ(result.err, "end offset: {\"cursor\":\"2024-02-03T00:00:00Z\"}\nrecords: 1\n");
}

TEST(CliReadDeletes, TableWithoutDeletesExits1) {
  expect_error(fixture("read", {"-t", "people", "--deletes"}), 1, "read_table_deletes");
}

// ---- output to a pipe -----------------------------------------------------------------------

TEST(CliRead, ClosedPipeEndsQuietly) {
  // Two million records are far more than a pipe holds: the CLI is still writing when `head`
  // exits, and must stop without an error message or a signal.
  const Result result =
      spawn({"/bin/bash", "-c",
             "set -o pipefail; \"$0\" read -c fixture --option greeting=hi -t events "
             "--table-option count=2000000 | head -1",
             LAKEFLOW_TESTCLI});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, "{\"seq\":0,\"kind\":\"click\"}\n");
  EXPECT_EQ(result.err, "");
}

}  // namespace
