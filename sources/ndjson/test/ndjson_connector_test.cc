// The ndjson connector on real files: table discovery, schemas, and reads that resume exactly at
// their offsets whatever the batch limits and buffer sizes.
#include "ndjson_connector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/registry.h"
#include "lakeflow/testing/temp_dir.h"

namespace lakeflow::ndjson {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSchema =
    R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]})";

class NdjsonTest : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& text, bool append = false) const {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc)) << text;
    return path;
  }

  static std::unique_ptr<LakeflowConnect> connect(const std::string& path,
                                                  const std::string& schema = kSchema) {
    return ConnectorRegistry::instance().create("ndjson",
                                                Options{{"path", path}, {"schema", schema}});
  }

  struct Read {
    std::vector<std::string> records;
    std::vector<Offset> ends;  // one per call that moved
    Offset final;
  };
  // Reads `table` from `start` until the offset stops changing; checks every record's padding.
  static Read read_all(LakeflowConnect& connector, const std::string& table, Offset start,
                       const Options& options = {}) {
    Read out;
    for (int call = 0; call < 100000; ++call) {
      ReadResult result = connector.read_table(table, start, options);
      RecordBatch batch;
      while (result.records.next(batch)) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
          EXPECT_GE(batch.readable(i), batch[i].size() + RecordBatch::kPadding);
          out.records.emplace_back(batch[i]);
        }
      }
      if (result.end == start) break;
      out.ends.push_back(result.end);
      start = result.end;
    }
    out.final = start;
    return out;
  }

  files::TempDir temp_{"lakeflow_ndjson_test"};
  const fs::path dir_ = temp_.path();
};

TEST_F(NdjsonTest, ReadsEveryNonBlankLineTrimmed) {
  write("a.ndjson", "{\"id\":1}\r\n\n   \n  {\"id\":2}  \n{\"id\":3}");
  auto connector = connect((dir_ / "a.ndjson").string());
  const Read read = read_all(*connector, "a", Offset());
  EXPECT_EQ(read.records, (std::vector<std::string>{"{\"id\":1}", "{\"id\":2}", "{\"id\":3}"}));
  EXPECT_EQ(read.final.to_json(), R"({"file":"a.ndjson","position":36})");
}

TEST_F(NdjsonTest, AnEmptyFileConvergesAtTheStartOffset) {
  write("empty.ndjson", "");
  auto connector = connect((dir_ / "empty.ndjson").string());
  ReadResult result = connector->read_table("empty", Offset(), {});
  RecordBatch batch;
  EXPECT_FALSE(result.records.next(batch));
  EXPECT_EQ(result.end, Offset());
}

TEST_F(NdjsonTest, ResumesExactlyAfterTheFileGrows) {
  write("log.ndjson", "{\"id\":1}\n{\"id\":2}\n");
  auto connector = connect((dir_ / "log.ndjson").string());
  const Read first = read_all(*connector, "log", Offset());
  ASSERT_EQ(first.records.size(), 2U);
  write("log.ndjson", "{\"id\":3}\n", /*append=*/true);
  const Read second = read_all(*connector, "log", first.final);
  EXPECT_EQ(second.records, std::vector<std::string>{"{\"id\":3}"});
  EXPECT_EQ(second.final.to_json(), R"({"file":"log.ndjson","position":27})");
  // Nothing new: the start offset comes back with no records.
  EXPECT_TRUE(read_all(*connector, "log", second.final).records.empty());
}

TEST_F(NdjsonTest, AnOffsetPastTheEndReadsNothing) {
  write("a.ndjson", "{\"id\":1}\n");
  auto connector = connect((dir_ / "a.ndjson").string());
  const Offset future = Offset::parse(R"({"file":"a.ndjson","position":1000000})");
  ReadResult result = connector->read_table("a", future, {});
  RecordBatch batch;
  EXPECT_FALSE(result.records.next(batch));
  EXPECT_EQ(result.end, future);
}

TEST_F(NdjsonTest, RejectsOffsetsOfAnotherFileOrShape) {
  write("a.ndjson", "{\"id\":1}\n");
  auto connector = connect((dir_ / "a.ndjson").string());
  for (const char* offset :
       {R"({"file":"b.ndjson","position":0})", R"({"position":3})",
        R"({"file":"a.ndjson","position":-1})", R"({"file":"a.ndjson","position":"3"})"}) {
    try {
      connector->read_table("a", Offset::parse(offset), {});
      ADD_FAILURE() << offset << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("table 'a'"), std::string::npos) << e.what();
    }
  }
}

// Random lines (some blank, some long) read with random limits and buffer sizes: the calls
// together deliver every record exactly once, in order, and each call ends where the next begins.
TEST_F(NdjsonTest, BatchLimitsAndBufferSizesNeverSplitOrRepeatARecord) {
  std::mt19937 random(42);
  std::vector<std::string> expected;
  std::string text;
  for (int i = 0; i < 400; ++i) {
    const int kind = static_cast<int>(random() % 10);
    if (kind == 0) {
      text += random() % 2 == 0 ? "\n" : "  \r\n";
      continue;
    }
    std::string record = "{\"id\":" + std::to_string(i) + ",\"pad\":\"" +
                         std::string(kind == 1 ? 3000 : random() % 40, 'x') + "\"}";
    expected.push_back(record);
    text += record + (random() % 7 == 0 ? "\r\n" : "\n");
  }
  text += expected.emplace_back("{\"id\":\"last, no newline\"}");
  write("r.ndjson", text);
  auto connector = connect((dir_ / "r.ndjson").string());
  for (int round = 0; round < 30; ++round) {
    Options options{{"max_bytes_per_batch", std::to_string(1 + random() % 5000)},
                    {"read_buffer_bytes", std::to_string(1 + random() % 2000)}};
    if (round % 2 == 1) options.set("max_records_per_batch", std::to_string(1 + random() % 20));
    const Read read = read_all(*connector, "r", Offset(), options);
    ASSERT_EQ(read.records, expected) << "round " << round;
    EXPECT_EQ(read.final.find("position")->as_int(), static_cast<std::int64_t>(text.size()));
    if (options.contains("max_records_per_batch")) {
      const auto limit = static_cast<std::size_t>(options.get_int("max_records_per_batch"));
      EXPECT_GE(read.ends.size(), (expected.size() + limit - 1) / limit) << "round " << round;
    }
  }
}

TEST_F(NdjsonTest, ALineLongerThanTheByteLimitIsReadWhole) {
  const std::string big = "{\"id\":1,\"pad\":\"" + std::string(10000, 'y') + "\"}";
  write("big.ndjson", big + "\n{\"id\":2}\n");
  auto connector = connect((dir_ / "big.ndjson").string());
  const Read read = read_all(*connector, "big", Offset(),
                             Options{{"max_bytes_per_batch", "100"}, {"read_buffer_bytes", "64"}});
  EXPECT_EQ(read.records, (std::vector<std::string>{big, "{\"id\":2}"}));
  ASSERT_EQ(read.ends.size(), 2U);
  EXPECT_EQ(read.ends[0].find("position")->as_int(), static_cast<std::int64_t>(big.size() + 1));
}

TEST_F(NdjsonTest, OneTablePerFileOfADirectoryOrGlob) {
  write("d/orders.ndjson", "{\"id\":1}\n");
  write("d/users.jsonl", "{\"id\":2}\n");
  write("d/notes.txt", "not data\n");
  write("d/sub/deep.ndjson", "{\"id\":3}\n");
  EXPECT_EQ(connect((dir_ / "d").string())->list_tables(),
            (std::vector<std::string>{"orders", "users"}));
  EXPECT_EQ(connect((dir_ / "d" / "*.txt").string())->list_tables(),
            std::vector<std::string>{"notes"});
  auto connector = connect((dir_ / "d" / "*s.*").string());
  EXPECT_EQ(connector->list_tables(), (std::vector<std::string>{"notes", "orders", "users"}));
  EXPECT_THROW(connector->read_table("deep", Offset(), {}), UnknownTableError);
}

TEST_F(NdjsonTest, BadPathsAreConfigErrorsNamingThem) {
  write("d/a.ndjson", "");
  write("d/a.jsonl", "");
  auto message = [](const std::string& path) {
    try {
      connect(path);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message((dir_ / "d").string()).find("both be table 'a'"), std::string::npos);
  EXPECT_NE(message((dir_ / "nothing").string()).find("is not a file or a directory"),
            std::string::npos);
  EXPECT_NE(message((dir_ / "d" / "*.csv").string()).find("matches no file"), std::string::npos);
  EXPECT_THROW(ConnectorRegistry::instance().create("ndjson", Options{}), ConfigError);
}

TEST_F(NdjsonTest, SchemaInlineFromAFileOrPerTable) {
  write("t.ndjson", "{\"id\":1}\n");
  const fs::path schema_file = write("schema.json", kSchema);
  const StructType expected = parse_struct_type(kSchema);
  EXPECT_EQ(connect((dir_ / "t.ndjson").string())->get_table_schema("t", {}), expected);
  EXPECT_EQ(connect((dir_ / "t.ndjson").string(), schema_file.string())->get_table_schema("t", {}),
            expected);
  auto without = ConnectorRegistry::instance().create(
      "ndjson", Options{{"path", (dir_ / "t.ndjson").string()}});
  EXPECT_EQ(without->get_table_schema("t", Options{{"schema", schema_file.string()}}), expected);
  try {
    without->get_table_schema("t", {});
    ADD_FAILURE() << "no schema was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("table 't' has no schema"), std::string::npos);
  }
  EXPECT_THROW(without->get_table_schema("t", Options{{"schema", (dir_ / "nope").string()}}),
               ConfigError);
  EXPECT_THROW(without->get_table_schema("t", Options{{"schema", R"({"type":"long"})"}}),
               SchemaError);
}

TEST_F(NdjsonTest, EveryTableIsAppendWithoutKeys) {
  write("t.ndjson", "");
  const TableMetadata metadata =
      connect((dir_ / "t.ndjson").string())->read_table_metadata("t", {});
  EXPECT_EQ(metadata, (TableMetadata{{}, std::nullopt, IngestionType::kAppend}));
}

}  // namespace
}  // namespace lakeflow::ndjson
