// The postgres connector against a real PostgreSQL 15 server (one per test process): options,
// the type mapping, keys, the consistent snapshot, the change stream, restarts, and the errors a
// user can meet (a dropped slot, a truncate, a wrong password).
#include "postgres_connector.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lakeflow/connector.h"
#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "pg_client.h"
#include "pg_values.h"
#include "pgoutput.h"
#include "postgres_test_db.h"

namespace lakeflow::postgres {
namespace {

using testing::run_sql;
using testing::test_options;
using testing::test_server;

std::unique_ptr<LakeflowConnect> make(const Options& options) {
  return ConnectorRegistry::instance().create("postgres", options);
}

Options with(Options options,
             std::initializer_list<std::pair<const std::string, std::string>> more) {
  for (const auto& [key, value] : more) options.set(key, value);
  return options;
}

std::vector<JsonValue> drain(ReadResult& result) {
  std::vector<JsonValue> records;
  RecordBatch batch;
  while (result.records.next(batch)) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      records.push_back(JsonValue::parse(batch[i], "record"));
    }
  }
  return records;
}

// Options for the tables the change tests make in schema `scratch` (the conformance suite, which
// may run in the same process, lists public and extra).
Options scratch_options() {
  static const bool created = [] {
    run_sql(test_server(), "CREATE SCHEMA scratch");
    return true;
  }();
  (void)created;
  return with(test_options(), {{"schemas", "scratch"}});
}

// Single-value SQL query for checks.
std::string sql_value(const std::string& sql) {
  PgConnection conn(ConnectionSettings::from_options(test_options()));
  const PgResult result = conn.query("test", sql);
  return result.rows() == 0 || result.is_null(0, 0) ? "" : result.text(0, 0);
}

// Reads one stream of `table` from `start` until its offset stops moving, with no commit
// notification between the calls; returns the last offset.
enum class Stream { kUpserts, kDeletes };
Offset read_until_still(LakeflowConnect& connector, const std::string& table, Offset start,
                        Stream stream) {
  for (;;) {
    ReadResult read = stream == Stream::kUpserts ? connector.read_table(table, start, {})
                                                 : connector.read_table_deletes(table, start, {});
    drain(read);
    if (read.end == start) return start;
    start = read.end;
  }
}

// The position a change offset stands at.
std::uint64_t lsn_of(const Offset& offset) {
  return parse_lsn(offset.find("lsn")->as_string(), "offset");
}

// How far the server may release WAL for the slot a change offset reads from (the slot's
// confirmed_flush_lsn).
std::uint64_t slot_confirmed_lsn(const Offset& offset) {
  const std::string slot = offset.find("slot")->as_string();
  return parse_lsn(sql_value("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                             "WHERE slot_name = '" +
                             slot + "'"),
                   "slot");
}

// What a destination holds after applying a table's reads: rows by key, with the sequence rules
// of the pipeline's merge (an upsert or delete applies when its sequence is >= the row's; a delete
// leaves a tombstone).
struct Mirror {
  std::map<std::string, std::pair<std::int64_t, JsonValue>> rows;  // key → (lsn, record)
  std::map<std::string, std::int64_t> tombstones;
  std::vector<std::string> key_columns;

  std::string key_of(const JsonValue& record) const {
    std::string key;
    for (const std::string& column : key_columns) key += record.find(column)->dump() + "|";
    return key;
  }
  void upsert(const JsonValue& record) {
    const std::int64_t lsn = record.find("_lakeflow_lsn")->as_int();
    const std::string key = key_of(record);
    if (auto tomb = tombstones.find(key); tomb != tombstones.end() && lsn <= tomb->second) return;
    auto found = rows.find(key);
    if (found != rows.end() && lsn < found->second.first) return;
    rows[key] = {lsn, record};
  }
  void erase(const JsonValue& record) {
    const std::int64_t lsn = record.find("_lakeflow_lsn")->as_int();
    const std::string key = key_of(record);
    auto found = rows.find(key);
    if (found != rows.end() && lsn >= found->second.first) rows.erase(found);
    tombstones[key] = std::max(tombstones[key], lsn);
  }
};

// Reads a table the way the pipeline does: upserts until the offset stops moving, then deletes,
// each batch "committed" (its end becomes the next start) before the next call.
struct TableReader {
  std::string table{};
  Options table_options{};
  Offset upserts{};
  Offset deletes{};
  std::vector<JsonValue> upserted{};  // every upsert record delivered, in order
  std::vector<JsonValue> deleted{};

  // One run with a fresh connector; applies everything to `mirror`. Stops after `max_calls` read
  // calls of the upserts when set (a run that stops part way).
  void run(Mirror& mirror, int max_calls = -1) {
    const auto connector = make(scratch_options());
    for (int calls = 0;; ++calls) {
      if (max_calls >= 0 && calls == max_calls) return;
      ReadResult read = connector->read_table(table, upserts, table_options);
      for (JsonValue& record : drain(read)) {
        mirror.upsert(record);
        upserted.push_back(std::move(record));
      }
      const bool moved = !(read.end == upserts);
      upserts = read.end;
      if (!moved) break;
    }
    for (;;) {
      ReadResult read = connector->read_table_deletes(table, deletes, table_options);
      for (JsonValue& record : drain(read)) {
        mirror.erase(record);
        deleted.push_back(std::move(record));
      }
      const bool moved = !(read.end == deletes);
      deletes = read.end;
      if (!moved) break;
    }
  }
};

// ---- options ------------------------------------------------------------------------------------

TEST(PostgresOptions, MissingRequiredOptionIsAConfigErrorNamingIt) {
  Options options = test_options();
  options.erase("host");
  try {
    make(options);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("host"), std::string::npos) << e.what();
  }
}

TEST(PostgresOptions, UnknownOptionIsAConfigErrorListingTheOptions) {
  try {
    make(with(test_options(), {{"hots", "x"}}));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'hots'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("publication_name"), std::string::npos) << e.what();
  }
}

TEST(PostgresOptions, BadSlotNameAndSslModeAreConfigErrors) {
  EXPECT_THROW(make(with(test_options(), {{"slot_name", "Bad-Name"}})), ConfigError);
  EXPECT_THROW(make(with(test_options(), {{"sslmode", "sometimes"}})), ConfigError);
}

TEST(PostgresOptions, WrongPasswordIsAnAccessErrorThatNeverShowsThePassword) {
  const std::string wrong = std::string("not-the-") + "right-one-Zq81";
  try {
    make(with(test_options(), {{"password", wrong}}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kAccess) << e.what();
    EXPECT_EQ(std::string(e.what()).find(wrong), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find(test_server().password()), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("password"), std::string::npos) << e.what();
  }
}

TEST(PostgresOptions, SslModeRequireAgainstAServerWithoutTlsFailsClearly) {
  try {
    make(with(test_options(), {{"sslmode", "require"}}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("SSL"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find(test_server().password()), std::string::npos);
  }
}

// ---- catalog ------------------------------------------------------------------------------------

TEST(PostgresCatalog, ListsTablesAndViewsOfTheConfiguredSchemas) {
  test_server();
  EXPECT_EQ(make(test_options())->list_tables(),
            (std::vector<std::string>{"public.items", "public.orders"}));
  EXPECT_EQ(make(with(test_options(), {{"schemas", "public,extra"}}))->list_tables(),
            (std::vector<std::string>{"extra.events", "extra.expensive", "public.items",
                                      "public.orders"}));
  EXPECT_EQ(make(with(test_options(), {{"schemas", "public,extra"},
                                       {"include_tables", "public.*,extra.e*"},
                                       {"exclude_tables", "*.orders,extra.events"}}))
                ->list_tables(),
            (std::vector<std::string>{"extra.expensive", "public.items"}));
}

TEST(PostgresCatalog, UnknownTableIsRejectedByEveryMethod) {
  test_server();
  const auto connector = make(test_options());
  EXPECT_THROW(connector->get_table_schema("public.nope", {}), UnknownTableError);
  EXPECT_THROW(connector->read_table_metadata("items", {}), UnknownTableError);
  EXPECT_THROW(connector->read_table("extra.events", Offset(), {}), UnknownTableError);
  EXPECT_THROW(connector->read_table_deletes("public.nope", Offset(), {}), UnknownTableError);
}

TEST(PostgresCatalog, UnknownOrBadTableOptionIsAConfigError) {
  test_server();
  const auto connector = make(test_options());
  EXPECT_THROW(connector->get_table_schema("public.items", {{"page_size", "3"}}), ConfigError);
  EXPECT_THROW(connector->read_table_metadata("public.items", {{"max_records_per_batch", "0"}}),
               ConfigError);
  EXPECT_THROW(connector->read_table_metadata("public.items", {{"primary_keys", "nope"}}),
               ConfigError);
}

TEST(PostgresCatalog, TypesMapToTheDocumentedSparkTypes) {
  test_server();
  const StructType schema = make(test_options())->get_table_schema("public.items", {});
  std::map<std::string, std::string> got;
  for (const StructField& field : schema.fields()) got[field.name] = field.type.simple_string();
  const std::map<std::string, std::string> expected = {{"id", "bigint"},
                                                       {"name", "string"},
                                                       {"code", "string"},
                                                       {"letter", "string"},
                                                       {"small", "bigint"},
                                                       {"qty", "bigint"},
                                                       {"price", "decimal(10,2)"},
                                                       {"big", "string"},
                                                       {"free", "string"},
                                                       {"weight", "double"},
                                                       {"ratio", "float"},
                                                       {"active", "boolean"},
                                                       {"payload", "binary"},
                                                       {"born", "date"},
                                                       {"seen", "timestamp_ntz"},
                                                       {"at", "timestamp"},
                                                       {"clock", "string"},
                                                       {"wait", "string"},
                                                       {"uid", "string"},
                                                       {"doc", "string"},
                                                       {"raw", "string"},
                                                       {"tags", "array<string>"},
                                                       {"scores", "array<bigint>"},
                                                       {"feeling", "string"},
                                                       {"rank", "bigint"},
                                                       {"cost", "decimal(12,2)"},
                                                       {"_lakeflow_lsn", "bigint"}};
  EXPECT_EQ(got, expected);
  EXPECT_FALSE(schema.fields()[0].nullable);  // the primary key
  EXPECT_FALSE(schema.fields()[1].nullable);  // NOT NULL
  EXPECT_TRUE(schema.fields()[2].nullable);
}

TEST(PostgresCatalog, NumericPrecisionAndScaleMapToDecimalOnlyWhenEveryValueFits) {
  const auto typmod = [](int precision, int scale) {
    return ((precision << 16) | (scale & 0x7ff)) + 4;
  };
  EXPECT_EQ(*decimal_for_numeric(typmod(10, 2)), DataType::Decimal(10, 2));
  EXPECT_EQ(*decimal_for_numeric(typmod(38, 0)), DataType::Decimal(38, 0));
  EXPECT_EQ(*decimal_for_numeric(typmod(5, -3)), DataType::Decimal(8, 0));  // 12345000
  EXPECT_EQ(*decimal_for_numeric(typmod(2, 5)), DataType::Decimal(5, 5));   // 0.00012
  EXPECT_FALSE(decimal_for_numeric(typmod(39, 0)));
  EXPECT_FALSE(decimal_for_numeric(typmod(38, -1)));
  EXPECT_FALSE(decimal_for_numeric(-1));
}

TEST(PostgresCatalog, KeysComeFromThePrimaryKeyOrTheTableOption) {
  test_server();
  const auto connector = make(with(test_options(), {{"schemas", "public,extra"}}));
  const TableMetadata items = connector->read_table_metadata("public.items", {});
  EXPECT_EQ(items.primary_keys, std::vector<std::string>{"id"});
  EXPECT_EQ(items.cursor_field, "_lakeflow_lsn");
  EXPECT_EQ(items.ingestion_type, IngestionType::kCdcWithDeletes);
  EXPECT_EQ(connector->read_table_metadata("public.orders", {}).primary_keys,
            (std::vector<std::string>{"region", "order_no"}));
  // Without a key the pipeline's table_configuration.primary_keys names it.
  const TableMetadata keyless = connector->read_table_metadata("extra.expensive", {});
  EXPECT_EQ(keyless.ingestion_type, IngestionType::kSnapshot);
  EXPECT_TRUE(keyless.primary_keys.empty());
  const TableMetadata view =
      connector->read_table_metadata("extra.expensive", {{"primary_keys", "id"}});
  EXPECT_EQ(view.ingestion_type, IngestionType::kSnapshot);
  EXPECT_EQ(view.primary_keys, std::vector<std::string>{"id"});
  EXPECT_FALSE(view.cursor_field);
}

TEST(PostgresCatalog, ReplicaIdentityIndexIsTheKeyOfATableWithoutPrimaryKey) {
  test_server();
  run_sql(test_server(),
          "CREATE TABLE public.tagged (code text NOT NULL, v int); "
          "CREATE UNIQUE INDEX tagged_code ON public.tagged (code); "
          "ALTER TABLE public.tagged REPLICA IDENTITY USING INDEX tagged_code;");
  const TableMetadata metadata = make(test_options())->read_table_metadata("public.tagged", {});
  EXPECT_EQ(metadata.primary_keys, std::vector<std::string>{"code"});
  EXPECT_EQ(metadata.ingestion_type, IngestionType::kCdcWithDeletes);
  run_sql(test_server(), "DROP TABLE public.tagged");
}

// ---- values -------------------------------------------------------------------------------------

TEST(PostgresValues, RowsAreExactJsonOfTheServersValues) {
  test_server();
  const auto connector = make(test_options());
  ReadResult read = connector->read_table("public.items", Offset(), {});
  const std::vector<JsonValue> records = drain(read);
  ASSERT_EQ(records.size(), 40u);
  const JsonValue& row = records[2];  // id 3
  const auto text = [&](const char* column) { return row.find(column)->dump(); };
  EXPECT_EQ(text("id"), "3");
  EXPECT_EQ(text("letter"), "\"ab \"");  // char(3) keeps its padding
  EXPECT_EQ(text("price"), "3.75");
  EXPECT_EQ(text("big"), "\"123456789012345678901234567893.12345\"");
  EXPECT_EQ(text("free"), "\"0.42857142857142857143\"");
  EXPECT_EQ(text("weight"), "0.3");  // 3 * 0.1 computed in numeric
  EXPECT_EQ(text("ratio"), "1.5");
  EXPECT_EQ(text("active"), "false");
  EXPECT_EQ(text("payload"), "\"AAM=\"");  // bytes 00 03, base64
  EXPECT_EQ(text("born"), "\"2024-01-04\"");
  EXPECT_EQ(text("seen"), "\"2024-01-01T13:00:00.123456\"");
  EXPECT_EQ(text("at"), "\"2024-01-01T08:03:00Z\"");
  EXPECT_EQ(text("clock"), "\"12:34:56\"");
  EXPECT_EQ(text("wait"), "\"P3D\"");
  EXPECT_EQ(text("uid"), "\"00000000-0000-0000-0000-000000000003\"");
  EXPECT_EQ(text("doc"), "\"{\\\"n\\\": 3, \\\"tags\\\": [\\\"a\\\", 3]}\"");
  EXPECT_EQ(text("tags"), "[\"x3\",\"with \\\"quote\\\"\",\"with,comma\"]");
  EXPECT_EQ(text("scores"), "[3,null,-3]");
  EXPECT_EQ(text("feeling"), "\"sad\"");
  EXPECT_EQ(text("rank"), "3");
  EXPECT_EQ(text("cost"), "3.5");
  EXPECT_EQ(text("_lakeflow_lsn"), "0");
}

TEST(PostgresValues, ValuesAColumnCannotHoldArePassedOnForTheConverterToReject) {
  ValueCodec number;
  number.kind = ValueCodec::Kind::kNumber;
  std::string out;
  number.append_json(out, "NaN");
  EXPECT_EQ(out, "\"NaN\"");
  ValueCodec date;
  date.kind = ValueCodec::Kind::kDate;
  out.clear();
  date.append_json(out, "infinity");
  EXPECT_EQ(out, "\"infinity\"");
  ValueCodec floating;
  floating.kind = ValueCodec::Kind::kFloat;
  out.clear();
  floating.append_json(out, "-Infinity");
  EXPECT_EQ(out, "\"-Infinity\"");
}

TEST(PostgresValues, ArrayTextFormsParse) {
  ValueCodec text;
  std::string out;
  ASSERT_TRUE(append_array_json(out, R"({{"a b",NULL},{"\\x","NULL"}})", text));
  EXPECT_EQ(out, R"([["a b",null],["\\x","NULL"]])");
  out.clear();
  ASSERT_TRUE(append_array_json(out, "[0:1]={1,2}", text));
  EXPECT_EQ(out, R"(["1","2"])");
  out.clear();
  ASSERT_TRUE(append_array_json(out, "{}", text));
  EXPECT_EQ(out, "[]");
  out.clear();
  EXPECT_FALSE(append_array_json(out, "{1,2", text));
}

TEST(PostgresValues, MalformedPgoutputMessageIsASourceError) {
  EXPECT_THROW(decode_pgoutput(std::string("I\0\0", 3)), SourceError);
  EXPECT_EQ(decode_pgoutput("Mxyz").type, PgOutputMessage::MessageType::kOther);
}

TEST(PostgresValues, SnapshotTablesAreReadWholeWithTheirOptionKeys) {
  test_server();
  const auto connector = make(with(test_options(), {{"schemas", "extra"}}));
  ReadResult read = connector->read_table("extra.expensive", Offset(), {{"primary_keys", "id"}});
  EXPECT_TRUE(read.end.is_null());
  EXPECT_EQ(drain(read).size(), std::stoul(sql_value("SELECT count(*) FROM extra.expensive")));
  ReadResult events = connector->read_table("extra.events", Offset(), {});
  EXPECT_EQ(drain(events).size(), 2u);
  EXPECT_THROW(connector->read_table_deletes("extra.events", Offset(), {{"primary_keys", "kind"}}),
               NotImplementedError);
}

// ---- snapshot and change stream -----------------------------------------------------------------

// Writes to scratch.stress in small random transactions until stopped: inserts of new ids with
// version 0, updates that add 1 to a row's version, deletes. Ids are never reused, so every row's
// history is a run of consecutive versions.
class Writer {
 public:
  explicit Writer(unsigned seed) : seed_(seed) {}
  void start() {
    thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  ~Writer() { stop(); }
  int transactions() const { return transactions_; }

 private:
  // An id of the seed or one this writer inserted (it may have been deleted: then a no-op).
  std::int64_t pick(std::mt19937& random, int next_id) const {
    const int first = 100000 + static_cast<int>(seed_) * 100000;
    if (next_id > first && random() % 2 == 0)
      return first + static_cast<int>(random() % (next_id - first));
    return 1 + static_cast<std::int64_t>(random() % 2000);
  }
  void loop() {
    PgConnection conn(ConnectionSettings::from_options(test_options()));
    std::mt19937 random(seed_);
    int next_id = 100000 + static_cast<int>(seed_) * 100000;
    while (!stop_) {
      std::string sql = "BEGIN;";
      const int statements = 1 + static_cast<int>(random() % 4);
      for (int i = 0; i < statements; ++i) {
        const int kind = static_cast<int>(random() % 10);
        if (kind < 4) {
          sql += fmt::format("INSERT INTO scratch.stress VALUES ({}, 0, 'new');", next_id++);
        } else if (kind < 9) {
          sql += fmt::format(
              "UPDATE scratch.stress SET version = version + 1, note = 'upd' WHERE id = {};",
              pick(random, next_id));
        } else {
          sql += fmt::format("DELETE FROM scratch.stress WHERE id = {};", pick(random, next_id));
        }
      }
      sql += "COMMIT;";
      conn.exec("writer", sql);
      ++transactions_;
    }
  }
  unsigned seed_;
  std::atomic<bool> stop_{false};
  std::atomic<int> transactions_{0};
  std::thread thread_;
};

void create_stress_table(int rows) {
  scratch_options();  // makes the schema
  run_sql(
      test_server(),
      fmt::format("DROP TABLE IF EXISTS scratch.stress; CREATE TABLE scratch.stress (id bigint "
                  "PRIMARY KEY, version bigint NOT NULL, note text); INSERT INTO scratch.stress "
                  "SELECT i, 0, 'seed' FROM generate_series(1, {}) AS i;",
                  rows));
}

// The table as the server holds it: id → version.
std::map<std::int64_t, std::int64_t> server_rows() {
  PgConnection conn(ConnectionSettings::from_options(test_options()));
  const PgResult result = conn.query("test", "SELECT id, version FROM scratch.stress");
  std::map<std::int64_t, std::int64_t> rows;
  for (int row = 0; row < result.rows(); ++row) {
    rows[std::stoll(result.text(row, 0))] = std::stoll(result.text(row, 1));
  }
  return rows;
}

std::map<std::int64_t, std::int64_t> mirror_rows(const Mirror& mirror) {
  std::map<std::int64_t, std::int64_t> rows;
  for (const auto& [key, entry] : mirror.rows) {
    rows[entry.second.find("id")->as_int()] = entry.second.find("version")->as_int();
  }
  return rows;
}

// Every id's delivered versions are consecutive, each delivered once: a change read both in the
// snapshot and from the stream (overlap) repeats a version, a change missed (gap) skips one.
void expect_histories_without_gap_or_overlap(const std::vector<JsonValue>& upserts) {
  std::map<std::int64_t, std::int64_t> last;
  int problems = 0;
  for (const JsonValue& record : upserts) {
    const std::int64_t id = record.find("id")->as_int();
    const std::int64_t version = record.find("version")->as_int();
    auto found = last.find(id);
    if (found != last.end() && version != found->second + 1 && problems++ < 5) {
      ADD_FAILURE() << "id " << id << ": version " << version << " delivered after "
                    << found->second;
    }
    last[id] = version;
  }
}

TEST(PostgresChanges, SnapshotAndChangesMeetExactlyWhileAWriterRuns) {
  create_stress_table(3000);
  Writer writer(1);
  writer.start();
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.stress", {{"max_records_per_batch", "250"}}};
  reader.run(mirror);  // the snapshot, read in batches while the writer writes
  reader.run(mirror);  // changes since
  writer.stop();
  reader.run(mirror);  // the rest
  ASSERT_GT(writer.transactions(), 0);
  const auto changed =
      std::count_if(reader.upserted.begin(), reader.upserted.end(),
                    [](const JsonValue& r) { return r.find("_lakeflow_lsn")->as_int() > 0; });
  std::cout << "[  NOTE    ] " << writer.transactions() << " writer transactions; "
            << reader.upserted.size() << " upserts (" << changed << " from the change stream), "
            << reader.deleted.size() << " deletes read\n";
  EXPECT_GT(changed, 0);
  EXPECT_EQ(mirror_rows(mirror), server_rows());
  expect_histories_without_gap_or_overlap(reader.upserted);
}

TEST(PostgresChanges, AReadStoppedPartWayResumesExactlyFromItsCommittedOffsets) {
  create_stress_table(2000);
  Writer writer(2);
  writer.start();
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.stress", {{"max_records_per_batch", "300"}}};
  reader.run(mirror, /*max_calls=*/3);  // stops within the snapshot (a killed run)
  reader.run(mirror, /*max_calls=*/9);  // a new connector resumes the snapshot, stops again
  reader.run(mirror);
  writer.stop();
  reader.run(mirror);
  EXPECT_EQ(mirror_rows(mirror), server_rows());
}

TEST(PostgresChanges, InsertsUpdatesAndDeletesAreReadFromTheirOffsets) {
  create_stress_table(5);
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.stress", {}};
  reader.run(mirror);
  ASSERT_EQ(mirror.rows.size(), 5u);
  run_sql(test_server(),
          "INSERT INTO scratch.stress VALUES (6, 0, 'six'); "
          "UPDATE scratch.stress SET version = 1 WHERE id = 2; "
          "DELETE FROM scratch.stress WHERE id = 3; "
          "UPDATE scratch.stress SET id = 7 WHERE id = 4;");  // a key change: delete 4, upsert 7
  const std::size_t upserts_before = reader.upserted.size();
  reader.run(mirror);
  EXPECT_EQ(reader.upserted.size() - upserts_before, 3u);
  ASSERT_EQ(reader.deleted.size(), 2u);
  EXPECT_EQ(reader.deleted[0].find("id")->as_int(), 3);
  EXPECT_EQ(reader.deleted[1].find("id")->as_int(), 4);
  EXPECT_EQ(mirror_rows(mirror), server_rows());
  // Nothing new: nothing read (the offsets may move past WAL written by the server itself).
  const std::size_t upserts_read = reader.upserted.size();
  const std::size_t deletes_read = reader.deleted.size();
  reader.run(mirror);
  EXPECT_EQ(reader.upserted.size(), upserts_read);
  EXPECT_EQ(reader.deleted.size(), deletes_read);
}

TEST(PostgresChanges, ATransactionLargerThanABatchIsSplitAndResumedWithinIt) {
  create_stress_table(1);
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.stress", {{"max_records_per_batch", "7"}}};
  reader.run(mirror);
  run_sql(test_server(),
          "INSERT INTO scratch.stress SELECT i, 0, 'bulk' FROM generate_series(2, 51) AS i");
  // Read one batch, then resume from its offset with another connector.
  const auto first = make(scratch_options());
  ReadResult read = first->read_table("scratch.stress", reader.upserts, reader.table_options);
  const std::vector<JsonValue> part = drain(read);
  ASSERT_EQ(part.size(), 7u);
  ASSERT_NE(read.end.find("in_txn"), nullptr) << read.end.to_json();
  for (const JsonValue& record : part) mirror.upsert(record);
  reader.upserts = read.end;
  reader.run(mirror);
  EXPECT_EQ(mirror_rows(mirror), server_rows());
  std::map<std::int64_t, int> seen;
  for (const JsonValue& record : part) ++seen[record.find("id")->as_int()];
  for (const JsonValue& record : reader.upserted) ++seen[record.find("id")->as_int()];
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << "id " << id;
}

TEST(PostgresChanges, TheSlotAdvancesOnlyToCommittedPositions) {
  create_stress_table(3);
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.stress", {}};
  reader.run(mirror);
  const auto confirmed = [first = reader.upserts] { return slot_confirmed_lsn(first); };
  const std::uint64_t before = confirmed();
  run_sql(test_server(), "UPDATE scratch.stress SET version = 5 WHERE id = 1");
  // Upserts read and committed, deletes not yet: the slot keeps the WAL the deletes still need.
  const auto connector = make(scratch_options());
  const Offset upserts =
      read_until_still(*connector, "scratch.stress", reader.upserts, Stream::kUpserts);
  EXPECT_LT(before, lsn_of(upserts));
  EXPECT_EQ(confirmed(), before);
  reader.run(mirror);  // both streams read and committed: the slot catches up
  EXPECT_EQ(confirmed(), lsn_of(reader.upserts));
  EXPECT_EQ(mirror_rows(mirror), server_rows());
}

// The records of every partition of `plan`, read at once by two connectors of their own.
std::vector<std::vector<JsonValue>> read_partitions_at_once(const PartitionPlan& plan,
                                                            const std::string& table,
                                                            const Options& table_options) {
  std::vector<std::vector<JsonValue>> parts(plan.partitions.size());
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (std::size_t worker = 0; worker < 2; ++worker) {
    threads.emplace_back([&, worker] {
      try {
        const auto connector = make(scratch_options());
        for (std::size_t i = worker; i < parts.size(); i += 2) {
          RecordStream stream = connector->read_partition(table, plan.partitions[i], table_options);
          RecordBatch batch;
          while (stream.next(batch)) {
            for (std::size_t r = 0; r < batch.size(); ++r) {
              parts[i].push_back(JsonValue::parse(batch[r], "record"));
            }
          }
        }
      } catch (const std::exception& e) {
        errors[worker] = e.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& error : errors) EXPECT_EQ(error, "");
  return parts;
}

TEST(PostgresPartitions, ThePartitionedSnapshotMeetsTheChangesExactlyWhileAWriterRuns) {
  create_stress_table(6000);
  Writer writer(3);
  writer.start();
  Mirror mirror;
  mirror.key_columns = {"id"};
  // Steps of about 2000 rows, four partitions each.
  const Options partitioned =
      with(Options(), {{"snapshot_partitions", "4"}, {"max_records_per_batch", "2000"}});
  const auto planner = make(scratch_options());
  TableReader reader{"scratch.stress", partitioned};
  std::map<std::int64_t, int> seen;
  Offset offset;
  int steps = 0;
  std::size_t partitions = 0;
  while (steps < 20) {
    const std::optional<PartitionPlan> plan =
        planner->plan_partitions("scratch.stress", offset, partitioned);
    ASSERT_TRUE(plan) << "from " << offset.to_json();
    ++steps;
    partitions += plan->partitions.size();
    for (const auto& part : read_partitions_at_once(*plan, "scratch.stress", partitioned)) {
      for (const JsonValue& record : part) {
        ++seen[record.find("id")->as_int()];
        EXPECT_EQ(record.find("_lakeflow_lsn")->as_int(), 0);
        mirror.upsert(record);
        reader.upserted.push_back(record);
      }
    }
    offset = plan->end;
    planner->committed("scratch.stress", partitioned, offset, Offset());  // as the runner does
    if (offset.find("phase") == nullptr) break;  // the change stream's start: the snapshot is read
  }
  EXPECT_GE(steps, 2) << "6000 rows in steps of about 2000 took one step";
  EXPECT_GT(partitions, static_cast<std::size_t>(steps)) << "one partition per step";
  EXPECT_GT(seen.size(), 5000u);  // the seed, less the writer's deletes, plus its inserts
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << "id " << id << " in two partitions";
  reader.upserts = offset;
  reader.run(mirror);  // changes since the snapshot, while the writer writes
  writer.stop();
  reader.run(mirror);
  ASSERT_GT(writer.transactions(), 0);
  EXPECT_EQ(mirror_rows(mirror), server_rows());
  expect_histories_without_gap_or_overlap(reader.upserted);
}

TEST(PostgresPartitions, ASnapshotStepPlannedByAnotherProcessGoesOnAtANewSnapshot) {
  create_stress_table(3000);
  Writer writer(4);
  writer.start();
  Mirror mirror;
  mirror.key_columns = {"id"};
  const Options partitioned =
      with(Options(), {{"snapshot_partitions", "2"}, {"max_records_per_batch", "1000"}});
  TableReader reader{"scratch.stress", partitioned};
  Offset offset;
  for (int step = 0; step < 20; ++step) {
    // A new connector every step: a run that stopped after each commit.
    const auto planner = make(scratch_options());
    const std::optional<PartitionPlan> plan =
        planner->plan_partitions("scratch.stress", offset, partitioned);
    ASSERT_TRUE(plan);
    for (const auto& part : read_partitions_at_once(*plan, "scratch.stress", partitioned)) {
      for (const JsonValue& record : part) {
        mirror.upsert(record);
        reader.upserted.push_back(record);
      }
    }
    offset = plan->end;
    if (offset.find("phase") == nullptr) break;
  }
  reader.upserts = offset;
  reader.run(mirror);
  writer.stop();
  reader.run(mirror);
  EXPECT_EQ(mirror_rows(mirror), server_rows());
}

TEST(PostgresPartitions, APartitionOfAReleasedPlanIsAClearError) {
  create_stress_table(100);
  const auto planner = make(scratch_options());
  const std::optional<PartitionPlan> plan =
      planner->plan_partitions("scratch.stress", Offset(), {});
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->partitions.size(), 1u);                         // a small table: one partition
  planner->committed("scratch.stress", {}, plan->end, Offset());  // releases the snapshot
  const auto reader = make(scratch_options());
  try {
    RecordStream stream = reader->read_partition("scratch.stress", plan->partitions[0], {});
    ADD_FAILURE() << "read a partition of a released snapshot";
  } catch (const SourceError& e) {
    EXPECT_NE(std::string(e.what()).find("is no longer open"), std::string::npos) << e.what();
  }
  // Reads other than a table's first are not partitioned; neither are snapshot_partitions 0.
  EXPECT_FALSE(planner->plan_partitions("scratch.stress", plan->end, {}));
  EXPECT_FALSE(planner->plan_partitions("scratch.stress", Offset(),
                                        with(Options(), {{"snapshot_partitions", "0"}})));
}

TEST(PostgresPartitions, TheCommitNotificationAdvancesTheSlotToTheLesserCommittedPosition) {
  create_stress_table(3);
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.stress", {}};
  reader.run(mirror);
  const auto confirmed = [first = reader.upserts] { return slot_confirmed_lsn(first); };
  run_sql(test_server(), "UPDATE scratch.stress SET version = 5 WHERE id = 1");
  const auto connector = make(scratch_options());
  const Offset upserts =
      read_until_still(*connector, "scratch.stress", reader.upserts, Stream::kUpserts);
  ASSERT_LT(lsn_of(reader.deletes), lsn_of(upserts));
  // The upserts committed, the deletes not yet: the slot stays where the deletes stand.
  connector->committed("scratch.stress", {}, upserts, reader.deletes);
  EXPECT_LE(confirmed(), lsn_of(reader.deletes));
  // A deletes stream never read (`{}`) reads from the slot's position: nothing is released.
  const std::uint64_t held = confirmed();
  connector->committed("scratch.stress", {}, upserts, Offset());
  EXPECT_EQ(confirmed(), held);
  const Offset deletes =
      read_until_still(*connector, "scratch.stress", reader.deletes, Stream::kDeletes);
  connector->committed("scratch.stress", {}, upserts, deletes);
  EXPECT_EQ(confirmed(), std::min(lsn_of(upserts), lsn_of(deletes)));
  // A table read without deletes (a pipeline declaring it cdc): the upserts alone.
  connector->committed("scratch.stress", {}, upserts, std::nullopt);
  EXPECT_EQ(confirmed(), lsn_of(upserts));
}

TEST(PostgresChanges, AQuietTableInABusyDatabaseStillReleasesWal) {
  create_stress_table(3);
  run_sql(test_server(),
          "DROP TABLE IF EXISTS scratch.busy; CREATE TABLE scratch.busy (id int "
          "PRIMARY KEY)");
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.stress", {}};
  reader.run(mirror);
  const std::uint64_t before = lsn_of(reader.upserts);
  run_sql(test_server(), "INSERT INTO scratch.busy SELECT generate_series(1, 1000)");
  reader.run(mirror);  // nothing of this table changed; the position still moves on
  const std::uint64_t after = lsn_of(reader.upserts);
  EXPECT_GT(after, before);
  EXPECT_EQ(slot_confirmed_lsn(reader.upserts), after);
  EXPECT_TRUE(reader.upserted.size() == 3u);
}

TEST(PostgresChanges, ADroppedSlotIsAClearErrorNamingTheWayOut) {
  create_stress_table(3);
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.stress", {}};
  reader.run(mirror);
  run_sql(test_server(),
          "SELECT pg_drop_replication_slot('" + reader.upserts.find("slot")->as_string() + "')");
  try {
    reader.run(mirror);
    FAIL() << "no error";
  } catch (const SourceError& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--full-refresh"), std::string::npos) << e.what();
  }
}

TEST(PostgresChanges, ATableCreatedAgainIsAClearErrorNamingTheWayOut) {
  create_stress_table(3);
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.stress", {}};
  reader.run(mirror);
  const std::string old_slot = reader.upserts.find("slot")->as_string();
  create_stress_table(3);  // dropped and created again: another table id, another slot
  try {
    reader.run(mirror);
    FAIL() << "no error";
  } catch (const SourceError& e) {
    EXPECT_NE(std::string(e.what()).find("created again"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--full-refresh"), std::string::npos) << e.what();
  }
  run_sql(test_server(), "SELECT pg_drop_replication_slot('" + old_slot + "')");
}

TEST(PostgresChanges, ATruncateIsAClearErrorNamingTheWayOut) {
  create_stress_table(3);
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.stress", {}};
  reader.run(mirror);
  run_sql(test_server(), "TRUNCATE scratch.stress");
  try {
    reader.run(mirror);
    FAIL() << "no error";
  } catch (const SourceError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--full-refresh"), std::string::npos) << e.what();
  }
}

TEST(PostgresChanges, UnchangedLargeValuesNeedReplicaIdentityFull) {
  scratch_options();  // makes the schema
  run_sql(test_server(),
          "DROP TABLE IF EXISTS scratch.docs; CREATE TABLE scratch.docs (id int PRIMARY KEY, body "
          "text, n int); ALTER TABLE scratch.docs ALTER COLUMN body SET STORAGE EXTERNAL; "
          "INSERT INTO scratch.docs VALUES (1, repeat('x', 10000), 0);");
  Mirror mirror;
  mirror.key_columns = {"id"};
  TableReader reader{"scratch.docs", {}};
  reader.run(mirror);
  run_sql(test_server(), "UPDATE scratch.docs SET n = 1");
  EXPECT_THROW(reader.run(mirror), SourceError);
  // With REPLICA IDENTITY FULL the old row carries the value: a new snapshot then reads on.
  run_sql(test_server(), "ALTER TABLE scratch.docs REPLICA IDENTITY FULL");
  TableReader again{"scratch.docs", {}};
  Mirror fresh;
  fresh.key_columns = {"id"};
  again.run(fresh);
  run_sql(test_server(), "UPDATE scratch.docs SET n = 2");
  again.run(fresh);
  ASSERT_EQ(fresh.rows.size(), 1u);
  const JsonValue& row = fresh.rows.begin()->second.second;
  EXPECT_EQ(row.find("n")->as_int(), 2);
  EXPECT_EQ(row.find("body")->as_string().size(), 10000u);
}

}  // namespace
}  // namespace lakeflow::postgres
