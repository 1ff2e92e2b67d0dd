// `lakeflow run` over a real PostgreSQL 15 server, as a user runs it: tables land in Delta and
// DuckDB reads them back equal to the source, after changes too; runs killed with SIGKILL during
// the snapshot and during the change stream, while a writer keeps changing the table, resume to
// the source's exact contents (0 rows missing, 0 duplicated); the password never appears in what
// lakeflow prints or writes.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lakeflow/json.h"
#include "support/node.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"

namespace {

using lakeflow::JsonValue;
using lakeflow::test_support::duckdb_unavailable;
using lakeflow::test_support::find_node;
using lakeflow::test_support::kReadDelta;
using lakeflow::test_support::PostgresServer;
using lakeflow::test_support::ProcessOptions;
using lakeflow::test_support::ProcessResult;
using lakeflow::test_support::run_process;
using lakeflow::test_support::slurp;
using lakeflow::test_support::TempDir;
using lakeflow::test_support::was_killed;
namespace fs = std::filesystem;

const PostgresServer& server() {
  static const PostgresServer started = PostgresServer::start();
  return started;
}

// Runs SQL; returns the rows of the last statement, columns joined with '|'.
std::vector<std::string> sql(const std::string& text) {
  PGconn* conn = PQconnectdb(server().conninfo().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << PQerrorMessage(conn);
    PQfinish(conn);
    return {};
  }
  PGresult* result = PQexec(conn, text.c_str());
  std::vector<std::string> rows;
  if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK) {
    ADD_FAILURE() << PQresultErrorMessage(result) << "\n" << text;
  } else {
    for (int row = 0; row < PQntuples(result); ++row) {
      std::string line;
      for (int column = 0; column < PQnfields(result); ++column) {
        if (column > 0) line += '|';
        line += PQgetisnull(result, row, column) ? "null" : PQgetvalue(result, row, column);
      }
      rows.push_back(line);
    }
  }
  PQclear(result);
  PQfinish(conn);
  return rows;
}

class PostgresE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = duckdb_unavailable(); !why.empty()) GTEST_SKIP() << why;
    dir_.write("connections.yaml",
               "pg:\n  connector: postgres\n  options:\n    host: 127.0.0.1\n    port: \"" +
                   std::to_string(server().port()) +
                   "\"\n    database: postgres\n    user: lakeflow\n"
                   "    password: ${env:PG_E2E_PASSWORD}\n    sslmode: disable\n"
                   "    schemas: public,extra\n");
  }

  std::string write_spec(const std::string& name, const std::string& objects) const {
    return dir_.write(name,
                      "connection_name: pg\nconnections_file: connections.yaml\n"
                      "destination_root: data\nobjects:\n" +
                          objects);
  }

  // How lakeflow runs here: the password in the environment, nothing else of lakeflow's or libpq's.
  static ProcessOptions lakeflow_options() {
    ProcessOptions options;
    options.drop_prefixes = {"LAKEFLOW_", "PG"};
    options.set = {"PG_E2E_PASSWORD=" + PostgresServer::password()};
    options.timeout = std::chrono::seconds(300);
    return options;
  }

  ProcessResult lakeflow(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {LAKEFLOW_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, lakeflow_options());
  }

  // `lakeflow run SPEC`, SIGKILLed after `delay` unless it finished; whether it was killed.
  bool run_and_kill(const std::string& spec, std::chrono::milliseconds delay) const {
    return was_killed(lakeflow::test_support::run_and_kill({LAKEFLOW_BIN, "run", spec}, delay,
                                                           lakeflow_options()));
  }

  // The rows DuckDB reads from a landed table, each as a JSON object.
  std::vector<JsonValue> duckdb_rows(const std::string& table) const {
    const ProcessResult read =
        run_process({find_node(), kReadDelta, dir_.file("data/main/pg/" + table)});
    EXPECT_EQ(read.status, 0) << read.err;
    std::vector<JsonValue> rows;
    std::size_t at = 0;
    for (std::size_t end = read.out.find('\n'); end != std::string::npos;
         at = end + 1, end = read.out.find('\n', at)) {
      rows.push_back(JsonValue::parse(read.out.substr(at, end - at), "duckdb row"));
    }
    return rows;
  }

  TempDir dir_{"lakeflow_postgres_e2e"};
};

// `value` of a DuckDB JSON row as text (numbers by their JSON text, strings as they are).
std::string text_of(const JsonValue& row, const std::string& column) {
  const JsonValue* value = row.find(column);
  if (value == nullptr || value->is_null()) return "null";
  return value->is_string() ? value->as_string() : value->dump();
}

// id → "name|price|version" from DuckDB's rows.
std::map<std::string, std::string> by_id(const std::vector<JsonValue>& rows) {
  std::map<std::string, std::string> out;
  for (const JsonValue& row : rows) {
    const std::string id = text_of(row, "id");
    EXPECT_EQ(out.count(id), 0u) << "id " << id << " landed twice";
    out[id] = text_of(row, "name") + "|" + text_of(row, "price") + "|" + text_of(row, "version");
  }
  return out;
}

std::map<std::string, std::string> source_items() {
  std::map<std::string, std::string> out;
  for (const std::string& row :
       sql("SELECT id, name, coalesce(price::text, 'null'), version FROM public.items")) {
    const std::size_t bar = row.find('|');
    out[row.substr(0, bar)] = row.substr(bar + 1);
  }
  return out;
}

TEST_F(PostgresE2e, RunLandsTablesThatDuckDbReadsEqualToTheSourceAfterChangesToo) {
  sql("DROP TABLE IF EXISTS public.items CASCADE; DROP SCHEMA IF EXISTS extra CASCADE;"
      "CREATE TABLE public.items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2),"
      " seen timestamptz, tags text[], payload bytea, version bigint NOT NULL DEFAULT 0);"
      "INSERT INTO public.items SELECT i, 'item ' || i, i * 1.25, timestamptz '2024-05-01 "
      "12:00:00+00' + i * interval '1 second', ARRAY['a', 'b' || i], '\\x00ff'::bytea, 0 FROM "
      "generate_series(1, 120) AS i;"
      "CREATE SCHEMA extra; CREATE VIEW extra.cheap AS SELECT id, name FROM public.items "
      "WHERE price < 20;");
  const std::string spec = write_spec(
      "pipeline.yaml",
      "  - table:\n      source_table: public.items\n      destination_schema: pg\n"
      "      destination_table: items\n      table_configuration:\n"
      "        max_records_per_batch: 50\n"
      "  - table:\n      source_table: extra.cheap\n      destination_schema: pg\n"
      "      destination_table: cheap\n      table_configuration:\n        primary_keys: [id]\n");
  const ProcessResult first = lakeflow({"run", spec});
  ASSERT_EQ(first.status, 0) << first.out << first.err;
  EXPECT_EQ(by_id(duckdb_rows("items")), source_items());
  EXPECT_EQ(duckdb_rows("cheap").size(), sql("SELECT * FROM extra.cheap").size());
  const std::vector<JsonValue> rows = duckdb_rows("items");
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(text_of(rows[0], "tags").substr(0, 5), "[\"a\",") << rows[0].dump();

  sql("INSERT INTO public.items (id, name, price) VALUES (1000, 'new', 9.99);"
      "UPDATE public.items SET name = 'changed', version = version + 1 WHERE id % 10 = 0;"
      "DELETE FROM public.items WHERE id % 7 = 0;"
      "UPDATE public.items SET id = 2000 WHERE id = 1;");  // a key change
  const ProcessResult second = lakeflow({"run", spec});
  ASSERT_EQ(second.status, 0) << second.out << second.err;
  EXPECT_EQ(by_id(duckdb_rows("items")), source_items());
  EXPECT_EQ(duckdb_rows("cheap").size(), sql("SELECT * FROM extra.cheap").size());

  // The password is in no output and in no file lakeflow wrote.
  const std::string password = PostgresServer::password();
  for (const ProcessResult* run : {&first, &second}) {
    EXPECT_EQ(run->out.find(password), std::string::npos);
    EXPECT_EQ(run->err.find(password), std::string::npos);
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir_.file("data"))) {
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(slurp(entry.path().string()).find(password), std::string::npos) << entry.path();
  }
}

TEST_F(PostgresE2e, RunsKilledDuringSnapshotAndChangesResumeToTheSourceExactly) {
  sql("DROP TABLE IF EXISTS public.stress; CREATE TABLE public.stress (id bigint PRIMARY KEY, "
      "version bigint NOT NULL, note text); INSERT INTO public.stress SELECT i, 0, repeat('x', "
      "50) FROM generate_series(1, 20000) AS i;");
  const std::string spec =
      write_spec("stress.yaml",
                 "  - table:\n      source_table: public.stress\n      destination_schema: pg\n"
                 "      destination_table: stress\n      table_configuration:\n"
                 "        max_records_per_batch: 1000\n");
  std::atomic<bool> stop{false};
  std::atomic<int> transactions{0};
  std::thread writer([&] {
    PGconn* conn = PQconnectdb(server().conninfo().c_str());
    std::mt19937 random(7);
    int next_id = 100000;
    while (!stop) {
      std::string text = "BEGIN;";
      for (int i = 0; i < 5; ++i) {
        const int kind = static_cast<int>(random() % 10);
        const long id = kind % 2 == 0 ? 1 + static_cast<long>(random() % 20000)
                                      : 100000 + static_cast<long>(random() % (next_id - 99999));
        if (kind < 3) {
          text += "INSERT INTO public.stress VALUES (" + std::to_string(next_id++) + ", 0, 'n');";
        } else if (kind < 9) {
          text +=
              "UPDATE public.stress SET version = version + 1 WHERE id = " + std::to_string(id) +
              ";";
        } else {
          text += "DELETE FROM public.stress WHERE id = " + std::to_string(id) + ";";
        }
      }
      PQclear(PQexec(conn, (text + "COMMIT;").c_str()));
      ++transactions;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    PQfinish(conn);
  });
  std::mt19937 random(99);
  int killed = 0;
  // Kills during the snapshot (20 batches), then a run to the end while the writer writes, then
  // kills during the change stream.
  for (int round = 0; round < 4; ++round) {
    const auto delay = std::chrono::milliseconds(100 + random() % 900);
    killed += run_and_kill(spec, delay) ? 1 : 0;
  }
  const ProcessResult through = lakeflow({"run", spec});
  ASSERT_EQ(through.status, 0) << through.out << through.err;
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // changes to read
    const auto delay = std::chrono::milliseconds(50 + random() % 300);
    killed += run_and_kill(spec, delay) ? 1 : 0;
  }
  stop = true;
  writer.join();
  const ProcessResult finish = lakeflow({"run", spec});
  ASSERT_EQ(finish.status, 0) << finish.out << finish.err;
  EXPECT_GT(killed, 0) << "no run was killed before it finished";
  EXPECT_GT(transactions.load(), 0);

  std::map<std::string, std::string> landed;
  std::size_t rows = 0;
  for (const JsonValue& row : duckdb_rows("stress")) {
    landed[text_of(row, "id")] = text_of(row, "version");
    ++rows;
  }
  std::map<std::string, std::string> source;
  for (const std::string& row : sql("SELECT id, version FROM public.stress")) {
    const std::size_t bar = row.find('|');
    source[row.substr(0, bar)] = row.substr(bar + 1);
  }
  EXPECT_EQ(rows, landed.size()) << "duplicated rows";
  std::size_t missing = 0;
  std::size_t extra = 0;
  std::size_t stale = 0;
  for (const auto& [id, version] : source) {
    auto found = landed.find(id);
    if (found == landed.end()) {
      ++missing;
    } else if (found->second != version) {
      ++stale;
    }
  }
  for (const auto& [id, version] : landed) extra += source.count(id) == 0 ? 1 : 0;
  std::cout << "[  NOTE    ] " << killed << " runs killed, " << transactions.load()
            << " writer transactions, " << source.size() << " rows\n";
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(extra, 0u);
  EXPECT_EQ(stale, 0u);
}

}  // namespace
