// Tests of the conformance suite itself: each test runs the suite built for "broken_fixture"
// (lakeflow_conformance_fixture_suite, see broken_fixture.h) as a subprocess with
// --gtest_output=json and checks what it reported: every planted defect by table name and
// problem text, nothing for a connector without defects, and the configuration rules.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/json.h"
#include "support/subprocess.h"

namespace {

using lakeflow::JsonValue;

using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::run_process;
using lakeflow::test_support::slurp;
using lakeflow::test_support::TempDir;

// One test of a suite run: skipped or not, and its failure messages.
struct TestOutcome {
  bool skipped = false;
  std::vector<std::string> failures;
};

struct SuiteRun {
  int status = -1;  // exit status, or 128 + signal number
  std::string out;
  // "Suite.Test" -> outcome, from the --gtest_output=json report.
  std::map<std::string, TestOutcome> tests;

  // The failure lines of `suite.test` (of every test of `suite` when `test` is empty).
  std::vector<std::string> failure_lines(std::string_view suite, std::string_view test = "") const {
    std::vector<std::string> lines;
    for (const auto& [name, outcome] : tests) {
      const std::string prefix = std::string(suite) + ".";
      if (!name.starts_with(prefix)) continue;
      if (!test.empty() && name != prefix + std::string(test)) continue;
      for (const std::string& failure : outcome.failures) {
        std::istringstream stream(failure);
        for (std::string line; std::getline(stream, line);) lines.push_back(line);
      }
    }
    return lines;
  }

  std::size_t failed_tests() const {
    std::size_t n = 0;
    for (const auto& [name, outcome] : tests) n += outcome.failures.empty() ? 0 : 1;
    return n;
  }
};

// Runs the fixture suite with the LAKEFLOW_* variables of the test environment replaced by `env`.
SuiteRun run_suite(const std::map<std::string, std::string>& env,
                   const std::vector<std::string>& extra_args = {}) {
  TempDir dir("lakeflow_conformance");
  const std::string report = dir.file("report.json");
  ProcessOptions options;
  options.drop_prefixes = {"LAKEFLOW_", "GTEST_"};
  for (const auto& [name, value] : env) options.set.push_back(name + "=" + value);
  options.merge_stderr = true;
  options.timeout = std::chrono::seconds(120);
  std::vector<std::string> argv = {LAKEFLOW_CONFORMANCE_FIXTURE_SUITE,
                                   "--gtest_output=json:" + report};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  const lakeflow::test_support::ProcessResult process = run_process(argv, options);
  SuiteRun run;
  run.status = process.status;
  run.out = process.out;
  if (process.timed_out) run.out += "\n(the suite did not finish within 120 seconds)";
  const std::string json = slurp(report);
  if (json.empty()) return run;
  const JsonValue parsed = JsonValue::parse(json, "gtest JSON report");
  for (const JsonValue& suite : parsed.find("testsuites")->as_array()) {
    for (const JsonValue& test : suite.find("testsuite")->as_array()) {
      TestOutcome outcome;
      const JsonValue* result = test.find("result");
      outcome.skipped = result != nullptr && result->as_string() == "SKIPPED";
      if (const JsonValue* failures = test.find("failures")) {
        for (const JsonValue& failure : failures->as_array()) {
          outcome.failures.push_back(failure.find("failure")->as_string());
        }
      }
      run.tests[suite.find("name")->as_string() + "." + test.find("name")->as_string()] =
          std::move(outcome);
    }
  }
  return run;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += "\n    " + line;
  return out.empty() ? " (none)" : out;
}

// Success when a failure line of suite.test names `table` and contains `problem`.
::testing::AssertionResult Reports(const SuiteRun& run, std::string_view suite,
                                   std::string_view test, std::string_view table,
                                   std::string_view problem) {
  const std::vector<std::string> lines = run.failure_lines(suite, test);
  const std::string table_text = "table '" + std::string(table) + "'";
  for (const std::string& line : lines) {
    if (line.find(table_text) != std::string::npos && line.find(problem) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure()
         << suite << "." << test << " reported no problem of " << table_text << " containing \""
         << problem << "\"; its failure lines:" << joined(lines);
}

::testing::AssertionResult DoesNotMention(const SuiteRun& run, std::string_view suite,
                                          std::string_view text) {
  for (const std::string& line : run.failure_lines(suite)) {
    if (line.find(text) != std::string::npos) {
      return ::testing::AssertionFailure() << suite << " mentions \"" << text << "\": " << line;
    }
  }
  return ::testing::AssertionSuccess();
}

const std::map<std::string, std::string> kDefects = {
    {"LAKEFLOW_TEST_CONFIG_JSON", R"({"defects":"all"})"}};
const std::map<std::string, std::string> kNoDefects = {
    {"LAKEFLOW_TEST_CONFIG_JSON", R"({"defects":"none"})"}};

// The full suite against the fixture with every defect planted, run once for all tests below.
const SuiteRun& broken_run() {
  static const SuiteRun run = run_suite(kDefects);
  return run;
}

TEST(TestConformanceSuite, FailsWithoutCrashingWhenDefectsArePlanted) {
  const SuiteRun& run = broken_run();
  EXPECT_EQ(run.status, 1) << run.out;
  EXPECT_GE(run.tests.size(), 25u) << run.out;
}

TEST(TestConformanceSuite, ReportsDuplicateTableNames) {
  EXPECT_TRUE(Reports(broken_run(), "TestListTables", "ReturnsNonEmptyUniqueNames", "customers",
                      "listed 2 times"));
}

TEST(TestConformanceSuite, ReportsIntegerFieldWithoutReasonButNotAnAllowedOne) {
  const SuiteRun& run = broken_run();
  EXPECT_TRUE(Reports(run, "TestGetTableSchema", "HasNoIntegerOrMapTypeWithoutAReason", "customers",
                      "field `age` is int"));
  EXPECT_TRUE(DoesNotMention(run, "TestGetTableSchema", "`score`"));
}

TEST(TestConformanceSuite, ReportsCdcTableWithoutCursor) {
  EXPECT_TRUE(Reports(broken_run(), "TestReadTableMetadata", "IsValidForTheSchema", "orders",
                      "needs a cursor field"));
}

TEST(TestConformanceSuite, ReportsNonConvergingOffsetWithTheOffsets) {
  const SuiteRun& run = broken_run();
  EXPECT_TRUE(Reports(run, "TestIncrementalRead", "ReadConvergesWithinMaxReadCalls", "events",
                      "did not converge within 20 calls"));
  EXPECT_TRUE(Reports(run, "TestIncrementalRead", "ReadConvergesWithinMaxReadCalls", "events",
                      R"({"page":19} -> {"page":20})"));
}

TEST(TestConformanceSuite, ReportsResumeThatRedeliversRecords) {
  const SuiteRun& run = broken_run();
  const std::string_view test = "ResumingFromAReturnedOffsetDeliversExactlyTheRecordsAfterIt";
  EXPECT_TRUE(Reports(run, "TestIncrementalRead", test, "ledger",
                      "delivered 1 record(s) already delivered before that offset"));
  EXPECT_TRUE(Reports(run, "TestIncrementalRead", test, "ledger", R"((record: {"entry_id":2,)"));
  EXPECT_TRUE(DoesNotMention(run, "TestIncrementalRead", "table 'orders'"));
}

TEST(TestConformanceSuite, ReportsRecordsSkippedWhenSmallBatchesEndAmongRecordsSharingACursor) {
  const SuiteRun& run = broken_run();
  const std::string_view test = "SmallBatchesDeliverTheSameRecordsAsTheDefaultBatchLimit";
  // Read whole, the table is right; only batches that end among tied records show the defect, and
  // the suite chooses such batches itself (no max_records_per_batch is configured).
  EXPECT_TRUE(Reports(run, "TestIncrementalRead", test, "shipments",
                      "reading with max_records_per_batch=1 (batches that cut 2 of the 2 runs of "
                      "records sharing a cursor value) skipped 3 record(s) that a read with the "
                      "default batch limit delivers"));
  EXPECT_TRUE(DoesNotMention(run, "TestIncrementalRead", "table 'ledger': reading with"));
}

TEST(TestConformanceSuite, ReportsAReadThatIgnoresMaxRecordsPerBatch) {
  EXPECT_TRUE(Reports(broken_run(), "TestIncrementalRead",
                      "SmallBatchesDeliverTheSameRecordsAsTheDefaultBatchLimit", "customers",
                      "with max_records_per_batch=1 returned 2 records; a read call returns at "
                      "most max_records_per_batch records"));
}

TEST(TestConformanceSuite, FailuresNameTheConnector) {
  const std::vector<std::string> lines =
      broken_run().failure_lines("TestListTables", "ReturnsNonEmptyUniqueNames");
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
    return line.starts_with("connector 'broken_fixture': ");
  })) << joined(lines);
}

// The framework checks table names before any of the connector's hooks runs (lakeflow/connector.h),
// so even a connector full of planted defects cannot get this one wrong.
TEST(TestConformanceSuite, UnknownTablesAreRejectedByTheFrameworkEvenForABrokenConnector) {
  const SuiteRun& run = broken_run();
  EXPECT_TRUE(DoesNotMention(run, "TestInvalidTableName", "__nonexistent_table_9z9z9z__"));
}

TEST(TestConformanceSuite, ReportsBadRecordsWithTheRecord) {
  const SuiteRun& run = broken_run();
  EXPECT_TRUE(
      Reports(run, "TestReadTable", "PrimaryKeysAreNeverNullInCdcTables", "people",
              R"(primary key 'id' is null in a cdc table (record: {"id":null,"name":"Nobody")"));
  EXPECT_TRUE(Reports(run, "TestReadTable", "NoRecordIsEntirelyNull", "people",
                      "every field of the record is null"));
  EXPECT_TRUE(Reports(run, "TestReadTable", "RecordsAreJsonObjectsThatConvertToTheSchema", "people",
                      "not a time"));
  EXPECT_TRUE(Reports(run, "TestReadTable", "EveryColumnIsPopulatedBySomeRecord", "people",
                      "column `nickname` is null in all 4 record(s) read"));
}

TEST(TestConformanceSuite, ReportsEmptyFirstReadAndNullOffsetOfAnIncrementalTable) {
  const SuiteRun& run = broken_run();
  EXPECT_TRUE(Reports(run, "TestReadTable", "IncrementalTablesReturnRecordsOnTheFirstRead",
                      "empty_feed", "returned no records"));
  EXPECT_TRUE(Reports(run, "TestReadTable", "EndOffsetIsNullOnlyForSnapshotTables", "empty_feed",
                      "returned a null end offset, which only snapshot tables may return"));
  EXPECT_TRUE(DoesNotMention(run, "TestReadTable", "table 'inventory'"));
}

TEST(TestConformanceSuite, ReportsRecordsReadFromAnOffsetFromTheFuture) {
  EXPECT_TRUE(Reports(broken_run(), "TestIncrementalRead", "OffsetFromTheFutureReturnsNoRecords",
                      "audit",
                      R"(offset far in the future ({"since":"9999-12-31T23:59:59Z"}) returned 2)"));
}

TEST(TestConformanceSuite, ReportsSnapshotThatChangesBetweenReads) {
  EXPECT_TRUE(Reports(broken_run(), "TestIncrementalRead",
                      "SnapshotTablesReturnTheSameRecordsOnEveryFullRead", "inventory",
                      "two full reads of the snapshot table differ"));
}

TEST(TestConformanceSuite, ReportsDeletesProblems) {
  const SuiteRun& run = broken_run();
  EXPECT_TRUE(Reports(run, "TestReadTableDeletes", "RecordsCarryPrimaryKeysAndCursor", "accounts",
                      "cursor field 'updated_at' is missing in a deleted record"));
  EXPECT_TRUE(Reports(run, "TestReadTableMetadata", "CdcWithDeletesTablesImplementReadTableDeletes",
                      "archive", "read_table_deletes throws NotImplementedError"));
}

TEST(TestConformanceSuite, ReportsWriteBackProblems) {
  const SuiteRun& run = broken_run();
  EXPECT_TRUE(Reports(run, "TestWriteBack", "ListedTablesAreTablesOfTheConnector", "customers",
                      "deletable_tables() lists it, but it is not a cdc_with_deletes table"));
  EXPECT_TRUE(Reports(run, "TestWriteBack", "UpdatedRowsAreReadFromTheOffsetBeforeTheUpdate",
                      "accounts", "the updated row"));
  EXPECT_TRUE(run.failure_lines("TestWriteBack", "InsertedRowsAreReadFromTheOffsetBeforeTheInsert")
                  .empty());
}

TEST(TestConformanceSuite, ReportsOverlappingPartitionsAndAPlanThatNeverEnds) {
  const SuiteRun& run = broken_run();
  EXPECT_TRUE(Reports(run, "TestPartitions", "PartitionsCoverTheTableWithoutGapOrOverlap", "orders",
                      "both hold this record (partitions overlap)"));
  EXPECT_TRUE(Reports(run, "TestPartitions", "PartitionsCoverTheTableWithoutGapOrOverlap", "orders",
                      "more time(s) than read_table (an overlap)"));
  EXPECT_TRUE(Reports(run, "TestPartitions", "PartitionedReadConvergesToAnEmptyPlan", "customers",
                      "ends where it starts but has 2 partition(s)"));
}

TEST(TestConformanceSuite, PassesAConnectorWithoutDefects) {
  const SuiteRun run = run_suite(kNoDefects);
  EXPECT_EQ(run.status, 0) << run.out;
  EXPECT_GE(run.tests.size(), 25u);
  for (const auto& [name, outcome] : run.tests) {
    EXPECT_TRUE(outcome.failures.empty()) << name << ":" << joined(outcome.failures);
    EXPECT_FALSE(outcome.skipped) << name << " was skipped; the fixture covers every test";
  }
}

TEST(TestConformanceSuite, MissingConfigurationFailsEveryTestSayingWhereToPutIt) {
  TempDir dir;
  const SuiteRun run = run_suite({{"LAKEFLOW_SOURCE_DIR", dir.path()}});
  EXPECT_EQ(run.status, 1) << run.out;
  ASSERT_FALSE(run.tests.empty()) << run.out;
  const std::string where = dir.file("configs/dev_config.json");
  for (const auto& [name, outcome] : run.tests) {
    ASSERT_EQ(outcome.failures.size(), 1u) << name << ":" << joined(outcome.failures);
    EXPECT_NE(outcome.failures[0].find("no configuration for connector 'broken_fixture': create " +
                                       where),
              std::string::npos)
        << name << ": " << outcome.failures[0];
    EXPECT_NE(outcome.failures[0].find("LAKEFLOW_TEST_CONFIG_JSON"), std::string::npos);
  }
}

TEST(TestConformanceSuite, MissingConfigurationWithoutSourceDirSaysHowToSetIt) {
  const SuiteRun run = run_suite({}, {"--gtest_filter=TestListTables.*"});
  EXPECT_EQ(run.status, 1) << run.out;
  ASSERT_FALSE(run.tests.empty()) << run.out;
  for (const auto& [name, outcome] : run.tests) {
    ASSERT_EQ(outcome.failures.size(), 1u) << name;
    EXPECT_NE(outcome.failures[0].find("set LAKEFLOW_SOURCE_DIR"), std::string::npos)
        << outcome.failures[0];
  }
}

// LAKEFLOW_TEST_CONFIG_JSON wins over LAKEFLOW_TEST_CONFIG_PATH, which wins over
// configs/dev_config.json. "defects":"all" makes TestListTables fail (a duplicate table name), so
// whether it passes tells which configuration was used.
TEST(TestConformanceSuite, ConfigurationComesFromTheFirstPlaceThatHasOne) {
  TempDir dir;
  const std::string broken = dir.write("broken.json", R"({"defects":"all"})");
  const std::string fine = dir.write("fine.json", R"({"defects":"none"})");
  dir.write("configs/dev_config.json", R"({"defects":"all"})");
  const std::vector<std::string> filter = {"--gtest_filter=TestListTables.*"};

  EXPECT_EQ(run_suite({{"LAKEFLOW_TEST_CONFIG_JSON", R"({"defects":"none"})"},
                       {"LAKEFLOW_TEST_CONFIG_PATH", broken},
                       {"LAKEFLOW_SOURCE_DIR", dir.path()}},
                      filter)
                .status,
            0);
  EXPECT_EQ(
      run_suite({{"LAKEFLOW_TEST_CONFIG_PATH", fine}, {"LAKEFLOW_SOURCE_DIR", dir.path()}}, filter)
          .status,
      0);
  EXPECT_EQ(run_suite({{"LAKEFLOW_SOURCE_DIR", dir.path()}}, filter).status, 1);
  dir.write("configs/dev_config.json", R"({"defects":"none"})");
  EXPECT_EQ(run_suite({{"LAKEFLOW_SOURCE_DIR", dir.path()}}, filter).status, 0);
}

TEST(TestConformanceSuite, ConfigPathThatIsNoFileIsReported) {
  const SuiteRun run = run_suite({{"LAKEFLOW_TEST_CONFIG_PATH", "/nonexistent/dev.json"}},
                                 {"--gtest_filter=TestListTables.ReturnsNonEmptyUniqueNames"});
  ASSERT_EQ(run.tests.size(), 1u) << run.out;
  const std::vector<std::string>& failures = run.tests.begin()->second.failures;
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("LAKEFLOW_TEST_CONFIG_PATH names '/nonexistent/dev.json', which is "
                             "not a file"),
            std::string::npos)
      << failures[0];
}

TEST(TestConformanceSuite, InvalidConfigJsonNamesTheVariable) {
  const SuiteRun run = run_suite({{"LAKEFLOW_TEST_CONFIG_JSON", "{defects: all"}},
                                 {"--gtest_filter=TestListTables.ReturnsNonEmptyUniqueNames"});
  ASSERT_EQ(run.tests.size(), 1u) << run.out;
  const std::vector<std::string>& failures = run.tests.begin()->second.failures;
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("LAKEFLOW_TEST_CONFIG_JSON"), std::string::npos) << failures[0];
}

TEST(TestConformanceSuite, TableConfigParseErrorNamesTheFile) {
  TempDir dir;
  dir.write("configs/dev_config.json", R"({"defects":"none"})");
  const std::string table_config = dir.write("configs/dev_table_config.json", "{\"orders\": {");
  const SuiteRun run = run_suite({{"LAKEFLOW_SOURCE_DIR", dir.path()}},
                                 {"--gtest_filter=TestListTables.ReturnsNonEmptyUniqueNames"});
  ASSERT_EQ(run.tests.size(), 1u) << run.out;
  const std::vector<std::string>& failures = run.tests.begin()->second.failures;
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find(table_config), std::string::npos) << failures[0];

  dir.write("configs/dev_table_config.json", R"({"orders": "page_size=5"})");
  const SuiteRun not_object =
      run_suite({{"LAKEFLOW_SOURCE_DIR", dir.path()}},
                {"--gtest_filter=TestListTables.ReturnsNonEmptyUniqueNames"});
  ASSERT_EQ(not_object.tests.size(), 1u) << not_object.out;
  const std::vector<std::string>& object_failures = not_object.tests.begin()->second.failures;
  ASSERT_EQ(object_failures.size(), 1u);
  EXPECT_NE(object_failures[0].find(table_config + ": the options of table 'orders' must be a JSON "
                                                   "object"),
            std::string::npos)
      << object_failures[0];
}

}  // namespace
