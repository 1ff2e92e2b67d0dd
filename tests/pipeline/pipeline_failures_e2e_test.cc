// `lakeflow run` when things go wrong, as a user meets it, against the local FHIR server
// (tools/fhir-server, with its seeded fault mode) and the example connector: every table checked
// before any lands, the exit status of each kind of failure (README.md, "Exit status"), no data
// file left by a refused commit, secrets hidden in every line, and runs that give up under faults,
// say where each table stopped and resume from there to land every resource exactly once.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lakeflow/json.h"
#include "support/delta_files.h"
#include "support/fhir_server.h"
#include "support/node.h"
#include "support/subprocess.h"

namespace {

using lakeflow::JsonValue;
using lakeflow::test_support::committed_offsets;
using lakeflow::test_support::duckdb_unavailable;
using lakeflow::test_support::FhirServer;
using lakeflow::test_support::find_node;
using lakeflow::test_support::kReadDelta;
using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_process;
using lakeflow::test_support::slurp;
using lakeflow::test_support::start_process;
using lakeflow::test_support::TempDir;
using lakeflow::test_support::unreferenced_files;

namespace fs = std::filesystem;

// Patients p000.. with meta.lastUpdated one second apart, as NDJSON for the server's --load.
std::string patients_ndjson(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "p%03d", i);
    char stamp[40];
    std::snprintf(stamp, sizeof stamp, "2024-01-01T%02d:%02d:%02d.000Z", i / 3600, i / 60 % 60,
                  i % 60);
    text += std::string(R"({"resourceType":"Patient","id":")") + id +
            R"(","meta":{"lastUpdated":")" + stamp + R"("},"name":[{"family":"F)" + id + "\"}]}\n";
  }
  return text;
}

// Observations o000.. like patients_ndjson's Patients.
std::string observations_ndjson(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "o%03d", i);
    char stamp[40];
    std::snprintf(stamp, sizeof stamp, "2024-02-01T00:%02d:%02d.000Z", i / 60 % 60, i % 60);
    text += std::string(R"({"resourceType":"Observation","id":")") + id +
            R"(","meta":{"lastUpdated":")" + stamp +
            R"("},"status":"final","code":{"text":"heart rate"}})" + "\n";
  }
  return text;
}

// The commit versions in `table`'s _delta_log, ascending.
std::vector<int> commit_versions(const fs::path& table) {
  std::vector<int> versions;
  for (const auto& entry : fs::directory_iterator(table / "_delta_log")) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 25 && name.ends_with(".json")) versions.push_back(std::stoi(name));
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

std::string version_name(int version) {
  const std::string digits = std::to_string(version);
  return std::string(20 - digits.size(), '0') + digits + ".json";
}

class FailuresE2e : public ::testing::Test {
 protected:
  // A connection of the fhir connector (base_url from $FHIR_BASE_URL) with extra option lines
  // (`key: value`), added to connections.yaml.
  void fhir_connection(const std::string& name, const std::vector<std::string>& options = {}) {
    connections_ += name + ":\n  connector: fhir\n  options:\n    base_url: ${env:FHIR_BASE_URL}\n";
    for (const std::string& option : options) connections_ += "    " + option + "\n";
    dir_.write("connections.yaml", connections_);
  }

  // A spec `<name>.yaml` reading Patient through `connection` into data/, with table options.
  std::string patient_spec(const std::string& name, const std::string& connection,
                           const std::string& table_options = "page_size: 5") {
    return dir_.write(name + ".yaml", "connection_name: " + connection +
                                          "\nconnections_file: connections.yaml\n"
                                          "destination_root: data\nobjects:\n  - table:\n"
                                          "      source_table: Patient\n"
                                          "      table_configuration: {" +
                                          table_options + "}\n");
  }

  fs::path patient_table() const { return fs::path(dir_.path()) / "data/main/default/Patient"; }

  ProcessOptions env(const FhirServer* server) const {
    ProcessOptions options;
    options.drop_prefixes = {"FHIR_", "LAKEFLOW_"};
    if (server != nullptr) options.set = {"FHIR_BASE_URL=" + server->base_url()};
    options.timeout = std::chrono::seconds(120);
    return options;
  }

  ProcessResult lakeflow(std::vector<std::string> args, const FhirServer* server) const {
    args.insert(args.begin(), LAKEFLOW_BIN);
    return run_process(args, env(server));
  }

  TempDir dir_{"lakeflow_failures_e2e"};
  std::string connections_;
};

// ---- Checks before any table lands
// -----------------------------------------------------------------

// The example pipeline with a misspelt table added at its end and a bad table option on its second
// table: the run stops before its first table lands, naming both entries.
TEST_F(FailuresE2e, EveryTableIsCheckedBeforeAnyLands) {
  const fs::path examples = fs::path(LAKEFLOW_REPO_DIR) / "examples";
  dir_.write("connections.yaml", slurp((examples / "connections.yaml").string()));
  std::string spec = slurp((examples / "example_pipeline.yaml").string());
  const std::string batch = "max_records_per_batch: 5";
  ASSERT_NE(spec.find(batch), std::string::npos) << "the example pipeline changed";
  spec.replace(spec.find(batch), batch.size(), "max_records_per_batch: many");
  spec += "  - table:\n      source_table: user\n      destination_schema: shop\n";
  const std::string path = dir_.write("pipeline.yaml", "destination_root: data\n" + spec);
  ProcessOptions options = env(nullptr);
  options.set = {"EXAMPLE_USERNAME=demo", "EXAMPLE_PASSWORD=demo"};
  const ProcessResult run = run_process({LAKEFLOW_BIN, "run", path}, options);
  EXPECT_EQ(run.status, 2) << run.err;
  for (const char* part :
       {"2 of 5 tables cannot run, so no table was run", "[table 'orders' (main.shop.orders) at ",
        "'max_records_per_batch'", "[table 'user' (main.shop.user) at ", "has no table 'user'",
        "serves: users, orders, events, products"}) {
    EXPECT_NE(run.err.find(part), std::string::npos) << part << "\n" << run.err;
  }
  EXPECT_EQ(run.out, "");
  EXPECT_FALSE(fs::exists(dir_.file("data"))) << "a table landed before the checks failed";
}

// A connection without a parameter its connector's spec marks required (a hand-written
// connections file): the run exits 2 naming the parameter and the connector, and nothing lands.
TEST_F(FailuresE2e, AMissingRequiredParameterExits2BeforeAnyTableLands) {
  dir_.write("connections.yaml",
             "example_shop:\n  connector: example\n  options:\n    password: ${env:PW}\n");
  const fs::path examples = fs::path(LAKEFLOW_REPO_DIR) / "examples";
  const std::string path =
      dir_.write("pipeline.yaml",
                 "destination_root: data\n" + slurp((examples / "example_pipeline.yaml").string()));
  ProcessOptions options = env(nullptr);
  options.set = {"PW=demo"};
  const ProcessResult run = run_process({LAKEFLOW_BIN, "run", path}, options);
  EXPECT_EQ(run.status, 2) << run.err;
  for (const char* part : {"connection 'example_shop'", "connector 'example'",
                           "example: missing required connection option 'username'"}) {
    EXPECT_NE(run.err.find(part), std::string::npos) << part << "\n" << run.err;
  }
  EXPECT_EQ(run.out, "");
  EXPECT_FALSE(fs::exists(dir_.file("data"))) << "a table landed without a required parameter";
}

// ---- What connectors say about their reads
// -------------------------------------------------------

// Binary is a snapshot table on the local server (no search by _lastUpdated): the FHIR connector
// can only follow the server's next links there, and the run summary says what that can cost.
// A bad FHIR table option is found before anything lands.
TEST_F(FailuresE2e, TheSummaryStatesWhatOffsetPagingCanCost) {
  auto server = FhirServer::start({"--load-examples"});
  fhir_connection("fhir", {"resource_types: Binary"});
  const std::string spec = dir_.write(
      "binary.yaml",
      "connection_name: fhir\nconnections_file: connections.yaml\ndestination_root: data\n"
      "objects:\n  - table:\n      source_table: Binary\n");
  ProcessResult run = lakeflow({"run", spec}, &server);
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("note: Binary: the server offers no search by _lastUpdated here, so the "
                         "snapshot is paged by the server's next links"),
            std::string::npos)
      << run.out;
  run = lakeflow({"run", spec, "--json"}, &server);
  ASSERT_EQ(run.status, 0) << run.err;
  const JsonValue summary = JsonValue::parse(run.out);
  EXPECT_EQ(summary.as_array()[0].find("notes")->as_array().size(), 1u) << run.out;

  fhir_connection("all");
  const ProcessResult bad =
      lakeflow({"run", patient_spec("bad", "all", "page_size: 5000")}, &server);
  EXPECT_EQ(bad.status, 2) << bad.err;
  EXPECT_NE(bad.err.find("page_size"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(patient_table()));
}

// ---- Exit statuses (README.md, "Exit status") ---------------------------------------------------

// A bearer token the server answers with 401 and a client secret its token endpoint answers with
// invalid_client are the same problem, credentials to fix: both exit 2, as a bad option does.
TEST_F(FailuresE2e, RejectedCredentialsExit2WhetherABearerTokenOrAClientSecret) {
  const std::string patients = dir_.write("patients.ndjson", patients_ndjson(5));
  auto server = FhirServer::start({"--auth", "oauth", "--client-id", "app", "--client-secret",
                                   "right-secret-42", "--load", patients});
  fhir_connection("bearer", {"auth_type: bearer", "token: wrong-token-42"});
  fhir_connection("secret",
                  {"auth_type: client_secret", "client_id: app", "client_secret: wrong-secret-42"});
  fhir_connection("good",
                  {"auth_type: client_secret", "client_id: app", "client_secret: right-secret-42"});

  const ProcessResult bearer = lakeflow({"run", patient_spec("bearer", "bearer")}, &server);
  EXPECT_EQ(bearer.status, 2) << bearer.err;
  EXPECT_NE(bearer.err.find("401"), std::string::npos) << bearer.err;
  const ProcessResult secret = lakeflow({"run", patient_spec("secret", "secret")}, &server);
  EXPECT_EQ(secret.status, 2) << secret.err;
  EXPECT_NE(secret.err.find("invalid_client"), std::string::npos) << secret.err;
  for (const ProcessResult* run : {&bearer, &secret}) {
    EXPECT_EQ(run->err.find("wrong-"), std::string::npos) << run->err;
  }
  const ProcessResult good = lakeflow({"run", patient_spec("good", "good")}, &server);
  EXPECT_EQ(good.status, 0) << good.err;
}

// A destination directory the user may not write to is a permission to fix: exit 2, naming the
// directory. (As root, the run drops to an unprivileged user, for whom permissions apply.)
TEST_F(FailuresE2e, ADestinationWithoutWritePermissionExits2) {
  const fs::path examples = fs::path(LAKEFLOW_REPO_DIR) / "examples";
  dir_.write("connections.yaml", slurp((examples / "connections.yaml").string()));
  const std::string spec =
      dir_.write("pipeline.yaml", "destination_root: locked/data\n" +
                                      slurp((examples / "example_pipeline.yaml").string()));
  fs::create_directories(dir_.file("locked"));
  fs::permissions(dir_.path(), fs::perms(0755));
  fs::permissions(dir_.file("locked"), fs::perms(0555));
  std::vector<std::string> argv = {LAKEFLOW_BIN, "run", spec};
  ProcessOptions options = env(nullptr);
  options.set = {"EXAMPLE_USERNAME=demo", "EXAMPLE_PASSWORD=demo"};
  if (::geteuid() == 0) {
    const std::string setpriv = "/usr/bin/setpriv";
    if (access(setpriv.c_str(), X_OK) != 0) GTEST_SKIP() << "running as root without setpriv";
    // The build directory may sit where the unprivileged user cannot enter (a checkout in a
    // private temporary directory): run a copy of lakeflow and its SDK libraries from dir_.
    const fs::path bin = dir_.file("bin");
    fs::create_directories(bin);
    const fs::path build = fs::path(LAKEFLOW_BIN).parent_path();
    for (const fs::directory_entry& entry : fs::directory_iterator(build)) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with("liblakeflow") && name.find(".so") != std::string::npos) {
        fs::copy_file(entry.path(), bin / name, fs::copy_options::overwrite_existing);
      }
    }
    fs::copy_file(LAKEFLOW_BIN, bin / "lakeflow", fs::copy_options::overwrite_existing);
    fs::permissions(bin, fs::perms(0755));
    argv[0] = (bin / "lakeflow").string();
    options.set.push_back("LD_LIBRARY_PATH=" + bin.string());
    argv.insert(argv.begin(), {setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"});
  }
  const ProcessResult run = run_process(argv, options);
  EXPECT_EQ(run.status, 2) << run.err;
  EXPECT_NE(run.err.find("Permission denied"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(dir_.file("locked")), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(dir_.file("locked/data")));
}

// Another writer commits to the table while a run is reading its first batch: that run's commit
// is refused, nothing is overwritten, it exits 5, and the data file it wrote for the commit is
// removed.
TEST_F(FailuresE2e, AConcurrentWriterExits5AndTheFileOfTheRefusedCommitIsRemoved) {
  const std::string patients = dir_.write("patients.ndjson", patients_ndjson(12));
  auto server = FhirServer::start({"--load", patients});
  fhir_connection("fast");
  // One request every 400 ms: the first batch (3 pages) takes a second after the run starts.
  fhir_connection("slow", {"http.rate_limit_per_second: 2.5", "http.rate_limit_burst: 1"});
  ASSERT_EQ(lakeflow({"run", patient_spec("fast", "fast")}, &server).status, 0);
  const int latest = commit_versions(patient_table()).back();

  auto run = start_process({LAKEFLOW_BIN, "run", "--full-refresh",
                            patient_spec("slow", "slow", "page_size: 2, max_records_per_batch: 6")},
                           env(&server));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (run.err_so_far().find("] start: ") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // The other writer's commit: the version the run is about to write.
  dir_.write("data/main/default/Patient/_delta_log/" + version_name(latest + 1),
             R"({"commitInfo":{"timestamp":0,"operation":"WRITE"}})"
             "\n");
  const ProcessResult slow = run.wait();
  EXPECT_EQ(slow.status, 5) << slow.err;
  EXPECT_NE(slow.err.find("committed by another writer"), std::string::npos) << slow.err;
  EXPECT_EQ(commit_versions(patient_table()).back(), latest + 1) << slow.err;
  EXPECT_NE(slow.err.find("removed the 1 data file(s) written for the failed commit"),
            std::string::npos)
      << slow.err;
  EXPECT_EQ(unreferenced_files(patient_table(), /*hidden=*/true), std::set<std::string>());
}

// ---- Secrets in output
// ---------------------------------------------------------------------------

// A base URL resolved from ${env:} is a secret of the run like any resolved value: the connectors'
// retry warnings, the final error and the summary all show it as ***, never in clear.
TEST_F(FailuresE2e, ResolvedConnectionValuesAreHiddenInRetryWarningsErrorsAndTheSummary) {
  const std::string patients = dir_.write("patients.ndjson", patients_ndjson(5));
  auto server = FhirServer::start({"--fault-rate", "1", "--load", patients});
  fhir_connection("flaky",
                  {"http.max_attempts: 3", "http.backoff_initial: 1ms", "http.backoff_max: 2ms"});
  const ProcessResult run = lakeflow({"run", patient_spec("flaky", "flaky")}, &server);
  EXPECT_EQ(run.status, 3) << run.err;
  const std::string host =
      server.base_url().substr(std::string("http://").size(), server.base_url().rfind('/') - 7);
  ASSERT_NE(host.find("127.0.0.1:"), std::string::npos) << host;
  EXPECT_NE(run.err.find("retrying in"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("GET ***/Patient?"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find(host), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("FAILED"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find(host), std::string::npos) << run.out;
  // The table's run record (what `lakeflow ui` shows) says it failed, as redacted as the summary.
  const std::string record = slurp((patient_table() / "_lakeflow" / "last_run.json").string());
  EXPECT_NE(record.find(R"("state":"failed")"), std::string::npos) << record;
  EXPECT_NE(record.find("GET ***/Patient?"), std::string::npos) << record;
  EXPECT_EQ(record.find(host), std::string::npos) << record;
}

// ---- Giving up under faults, and resuming -----------------------------------------------------

// The ids in `table` as DuckDB reads them, each as often as it is there.
std::multiset<std::string> landed_ids(const fs::path& table) {
  const ProcessResult read = run_process({find_node(), kReadDelta, table.string()});
  EXPECT_EQ(read.status, 0) << read.err;
  std::multiset<std::string> ids;
  std::size_t at = 0;
  for (std::size_t end = read.out.find('\n'); end != std::string::npos;
       at = end + 1, end = read.out.find('\n', at)) {
    ids.insert(JsonValue::parse(read.out.substr(at, end - at)).find("id")->as_string());
  }
  return ids;
}

std::multiset<std::string> ids(char prefix, int count) {
  std::multiset<std::string> out;
  for (int i = 0; i < count; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "%c%03d", prefix, i);
    out.insert(id);
  }
  return out;
}

// What the fault loop saw.
struct FaultLoop {
  int runs = 0;
  int failed_tables = 0;  // over all runs
  double seconds = 0;
};

// Runs `spec` until it succeeds (at most 40 times). Each run must succeed or fail with the
// source's status (3) and a summary that says, for every table that failed, where it stopped: the
// offsets its log holds, which the next run must start from.
FaultLoop run_until_done(const std::string& spec, const std::vector<std::string>& tables,
                         const std::function<ProcessResult(std::vector<std::string>)>& lakeflow,
                         const fs::path& root) {
  FaultLoop loop;
  std::map<std::string, std::string> resume;  // table -> the start line's offsets text
  const auto started = std::chrono::steady_clock::now();
  for (; loop.runs < 40; ++loop.runs) {
    const ProcessResult run = lakeflow({"run", spec, "--parallelism", "1"});
    for (const auto& [table, offsets] : resume) {
      const std::string start = "[" + table + "] start: ";
      const std::size_t line = run.err.find(start);
      EXPECT_NE(line, std::string::npos) << run.err;
      if (line == std::string::npos) continue;
      const std::string text = run.err.substr(line, run.err.find('\n', line) - line);
      EXPECT_TRUE(text.ends_with(offsets)) << table << " did not continue from " << offsets << "\n"
                                           << run.err;
    }
    resume.clear();
    if (run.status == 0) break;
    EXPECT_EQ(run.status, 3) << run.err;
    if (run.status != 3) break;
    for (const std::string& table : tables) {
      const std::string failed = "FAILED main.default." + table + " after ";
      const std::size_t line = run.out.find(failed);
      if (line == std::string::npos) continue;
      ++loop.failed_tables;
      const std::string text = run.out.substr(line, run.out.find('\n', line) - line);
      const auto committed = committed_offsets(root / "main/default" / table);
      std::string where;
      if (committed.offset.empty()) {
        where = "stopped with no offset committed; a rerun starts from the beginning";
        resume["main.default." + table] = "offset {}, deletes offset {}";
      } else {
        where = "stopped at committed offset " + committed.offset + ", deletes offset " +
                committed.deletes_offset + "; a rerun continues from there";
        resume["main.default." + table] =
            "offset " + committed.offset + ", deletes offset " + committed.deletes_offset;
      }
      EXPECT_NE(text.find(where), std::string::npos) << where << "\n" << text;
      // The base URL comes from ${env:FHIR_BASE_URL}, so it shows as *** (README, "Secrets in
      // output").
      EXPECT_NE(text.find(". Error: GET ***/" + table + "?"), std::string::npos) << text;
      EXPECT_NE(text.find("(retry budget spent: http.max_attempts is 5)"), std::string::npos)
          << text;
    }
    EXPECT_FALSE(resume.empty()) << "exit 3 without a failed table in the summary\n" << run.out;
  }
  loop.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return loop;
}

// At a 50% fault rate (429, 503, resets, truncated bodies) a request fails five times in a row, the
// default attempt budget, once in 32 requests: over the ~320 requests of this pipeline some runs
// give up (status 3), and each says in its summary which table stopped, the offset committed with
// it and the error. Every rerun continues from there, and when one succeeds every resource is
// landed exactly once. (Short backoffs keep it fast; the attempt budget is the default.)
TEST_F(FailuresE2e, AtAFiftyPercentFaultRateRunsGiveUpSayWhereAndRerunsLandEverythingOnce) {
  const std::string why = duckdb_unavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  const std::string data =
      dir_.write("data.ndjson", patients_ndjson(150) + observations_ndjson(150));
  auto server = FhirServer::start({"--fault-rate", "0.5", "--fault-seed", "3", "--load", data});
  fhir_connection("flaky", {"http.backoff_initial: 1ms", "http.backoff_max: 5ms"});
  const std::string options = "table_configuration: {page_size: 1, max_records_per_batch: 30}";
  const std::string spec = dir_.write(
      "flaky.yaml",
      "connection_name: flaky\nconnections_file: connections.yaml\ndestination_root: data\n"
      "objects:\n  - table: {source_table: Patient, " +
          options + "}\n  - table: {source_table: Observation, " + options + "}\n");
  const FaultLoop loop = run_until_done(
      spec, {"Patient", "Observation"},
      [&](std::vector<std::string> args) { return lakeflow(std::move(args), &server); },
      fs::path(dir_.path()) / "data");
  std::cout << "[  NOTE    ] " << loop.runs + 1 << " runs, " << loop.failed_tables
            << " tables gave up, " << loop.seconds << " s\n";
  ASSERT_LT(loop.runs, 40) << "the runs never completed";
  EXPECT_GT(loop.failed_tables, 0) << "no run gave up";
  EXPECT_EQ(landed_ids(fs::path(dir_.path()) / "data/main/default/Patient"), ids('p', 150));
  EXPECT_EQ(landed_ids(fs::path(dir_.path()) / "data/main/default/Observation"), ids('o', 150));
}

// With the default retry settings (5 attempts, backoff from 1 s doubling, full jitter) a request
// that keeps failing is given up after at most 1 + 2 + 4 + 8 s of waiting: against a source that
// fails every request, a run stops in seconds, not minutes, and its summary says where the table
// stands.
TEST_F(FailuresE2e, WithTheDefaultRetrySettingsARunGivesUpInSeconds) {
  const std::string data = dir_.write("data.ndjson", patients_ndjson(3));
  auto server = FhirServer::start({"--fault-rate", "1", "--load", data});
  fhir_connection("flaky");
  const auto started = std::chrono::steady_clock::now();
  const ProcessResult run = lakeflow({"run", patient_spec("flaky", "flaky")}, &server);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[  NOTE    ] gave up after " << seconds << " s\n";
  EXPECT_EQ(run.status, 3) << run.err;
  EXPECT_LT(seconds, 15.0 + 10.0) << run.err;
  EXPECT_NE(run.err.find("(attempt 4 of 5 failed)"), std::string::npos) << run.err;
  for (const char* part :
       {"FAILED main.default.Patient after 0 commits: stopped with no offset committed; a rerun "
        "starts from the beginning. Error: GET ",
        "failed after 5 attempts", "(retry budget spent: http.max_attempts is 5)"}) {
    EXPECT_NE(run.out.find(part), std::string::npos) << part << "\n" << run.out;
  }
}

}  // namespace
