// The conformance suite every connector passes, against its real source.
//
// A connector's test file instantiates it in one line:
//
//   LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{.connector = "example"});
//
// which defines the GoogleTest suites named as in the connector development workflow:
// TestListTables, TestGetTableSchema, TestReadTableMetadata, TestReadTable, TestIncrementalRead,
// TestReadTableDeletes, TestPartitions (connectors implementing PartitionedReads: partitions cover
// the table without gap or overlap against read_table, the partitioned read converges to an empty
// plan, a partition read again by another instance delivers the same records),
// TestInvalidTableName and (when `write_back` is set) TestWriteBack. Each
// test checks every table and reports all problems together in one failure naming the connector,
// each problem with its table name and, where there is one, the offending record. A test that
// finds nothing to check (no incremental table, no records) skips with the reason.
//
// ctest runs each class in one process, named after the connector (`ctest -R '^orders\.'` for a
// connector "orders", `-R '^orders\.TestReadTable$'` for one class; see
// cmake/LakeflowConnectorTests.cmake), and the tests of a process share the first read of each
// table. One test: `<test binary> --gtest_filter='TestReadTable.NoRecordIsEntirelyNull'`.
//
// Batch limits: TestIncrementalRead reads every incremental table again with a small
// `max_records_per_batch` it chooses from the table's records (batches that end among records
// sharing a cursor value) and checks that no record is skipped or repeated, and that no call
// returns more records than the limit; so every connector honours that table option.
//
// Configuration (connector options), first found wins:
//   0. SuiteOptions::connector_options, when set (a source the tests start themselves);
//   1. LAKEFLOW_TEST_CONFIG_JSON: inline JSON object;
//   2. LAKEFLOW_TEST_CONFIG_PATH: path of a JSON file;
//   3. <source_dir>/configs/dev_config.json (git-ignored: credentials never enter the repository).
// Per-table options: <source_dir>/configs/dev_table_config.json, `{"table": {"option": "value"}}`
// (optional; a small max_records_per_batch there makes the first read take several calls, which
// the resume checks start from). A missing configuration fails every test with a message saying
// where to put it.
// `source_dir` defaults to the LAKEFLOW_SOURCE_DIR environment variable (set by
// lakeflow_connector() in cmake/Connectors.cmake).
//
// Test modes (lakeflow/http/test_mode.h): LAKEFLOW_TEST_MODE (or CONNECTOR_TEST_MODE) =
//   live      the source itself (the default unless SuiteOptions::default_mode says otherwise)
//   record    the source itself, and each test class's HTTP exchanges are written to
//             <cassette_dir>/<TestClass>.json (secrets redacted), with
//             <TestClass>.coverage.json and <TestClass>.drift.json beside it when the connector
//             has a simulator folder (what the live source sends that the spec and corpus lack)
//   replay    answered from those cassettes, with SuiteOptions::stand_in_options as the
//             connector options; no network, no credentials; a request the cassette lacks fails
//             naming the nearest recorded one
//   simulate  answered by the simulated source in <simulator_dir> (endpoints.yaml + corpus/, see
//             lakeflow/http/simulator.h), with stand_in_options; each test class starts from the
//             corpus as written
// In every mode but live, each class's coverage (spec endpoints exercised, requests without
// one) is printed and written to <working directory>/<connector>.<TestClass>.coverage.json.
// TestWriteBack skips in replay mode: writes carry values made at run time, which a recording
// cannot answer; it runs live and in simulate mode.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"
#include "lakeflow/json.h"
#include "lakeflow/options.h"

namespace lakeflow::testing {

// Writes to the source, for sources the tests may change (test-only; connectors ship it beside
// their tests). Rows are identified by JSON objects holding their primary-key values under the
// schema's field paths (`{"id": 17}`) plus any fields the write set (`{"id": 17, "email": "x@y"}`);
// the suite finds them in what the connector reads by those values.
class WriteBackUtils {
 public:
  virtual ~WriteBackUtils() = default;
  // Tables rows may be inserted into / updated in (a subset of list_tables()).
  virtual std::vector<std::string> insertable_tables() = 0;
  virtual std::vector<std::string> updatable_tables() = 0;
  // cdc_with_deletes tables rows may be deleted from.
  virtual std::vector<std::string> deletable_tables() = 0;
  // Each returns one object per row written (see above).
  virtual std::vector<JsonValue> insert_rows(std::string_view table, int n) = 0;
  virtual std::vector<JsonValue> update_rows(std::string_view table, int n) = 0;
  virtual std::vector<JsonValue> delete_rows(std::string_view table, int n) = 0;
};

// Every member has a default member initializer, so a designated initializer may name only the
// members it sets without tripping -Wmissing-field-initializers.
struct SuiteOptions {
  // The connector's registered name.
  std::string connector{};
  // The connector's folder (holds configs/); empty means $LAKEFLOW_SOURCE_DIR.
  std::string source_dir{};
  // IntegerType/MapType are refused anywhere in a schema unless listed here with the reason:
  // key "table:field.path" (`orders:attributes`), value the written reason.
  std::map<std::string, std::string> allowed_integer_or_map_fields{};
  // Top-level columns that may be null in every record read: key "table:column", value the reason.
  // "table:*" allows every column of a table, "*:*" every column of every table (for schemas
  // generated from a standard, wider than any sample of the source's data).
  std::map<std::string, std::string> allowed_null_columns{};
  // Tables whose first read may legitimately be empty: key table ("*": every table), value the
  // reason.
  std::map<std::string, std::string> allowed_empty_tables{};
  // read_table calls a table's read may take before it must converge (end offset == start).
  int max_read_calls = 100;
  // Makes the connection options, instead of the configuration above: for a source the tests start
  // themselves (a local server on a free port). Called once per test process, on first use.
  std::function<Options()> connector_options{};
  // Makes the write-back helper, given the connector options; unset when the source is read-only.
  std::function<std::unique_ptr<WriteBackUtils>(const Options&)> write_back{};
  // The mode when neither LAKEFLOW_TEST_MODE nor CONNECTOR_TEST_MODE is set: "live" (default),
  // "record", "replay" or "simulate" (a source CI cannot reach runs simulated by default).
  std::string default_mode{"live"};
  // Connector options for replay and simulate: stand-in credentials and the base URL the
  // recording names (a live recording's origin is written as this one's). Never real secrets.
  Options stand_in_options{};
  // Cassettes: empty means <source_dir>/test/cassettes. $LAKEFLOW_CASSETTE_DIR overrides both.
  std::string cassette_dir{};
  // endpoints.yaml and corpus/: empty means <source_dir>/test/simulator.
  std::string simulator_dir{};
  // Query parameters replay does not match on (values computed from the clock, for instance).
  std::vector<std::string> ignore_query_params{};
};

// The suite's state for one test binary: set by LAKEFLOW_CONFORMANCE_SUITE at static-init time.
void register_suite(SuiteOptions options);
// For a connector built as a plugin (lakeflow_add_connector() in the installed SDK): loads the
// plugin file at `path` into the registry before the first test, as `lakeflow` would, so the same
// test file runs in and out of tree. A plugin that cannot be loaded fails every test with the
// loader's message. Called at static-init time by LAKEFLOW_CONFORMANCE_PLUGIN.
void load_plugin_before_tests(std::string path);
const SuiteOptions& suite_options();
// The mode this process runs the suite in (from the environment and SuiteOptions::default_mode).
std::string_view test_mode_name();

// The fixture behind every conformance test: loads the configuration and makes connectors.
class ConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // A fresh connector instance built from the configuration.
  std::unique_ptr<LakeflowConnect> make_connector() const;
  const Options& connector_options() const { return connector_options_; }
  // The options of `table` from dev_table_config.json (empty when absent).
  Options table_options(std::string_view table) const;

 private:
  Options connector_options_;
  std::map<std::string, Options, std::less<>> table_options_;
};

}  // namespace lakeflow::testing

// Loads the connector's plugin before the tests (see load_plugin_before_tests); generated into the
// test binary by lakeflow_add_connector().
#define LAKEFLOW_CONFORMANCE_PLUGIN(path)                         \
  static const bool lakeflow_conformance_plugin_registered = [] { \
    ::lakeflow::testing::load_plugin_before_tests(path);          \
    return true;                                                  \
  }()

// Instantiates the whole suite for one connector (once per test binary).
#define LAKEFLOW_CONFORMANCE_SUITE(...)                    \
  static const bool lakeflow_conformance_registered = [] { \
    ::lakeflow::testing::register_suite(__VA_ARGS__);      \
    return true;                                           \
  }()
