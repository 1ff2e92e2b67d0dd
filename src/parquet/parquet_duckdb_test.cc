// Independent verification: DuckDB (npm @duckdb/node-api, through tests/duckdb/read_parquet.mjs)
// reads the files ParquetWriter makes, and its values must equal what was written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "lakeflow/json.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_test_util.h"
#include "parquet/parquet_writer.h"

namespace lakeflow::parquet {
namespace {

using testing::batch_from_json;
using ::testing::ElementsAre;
using testing::rows_json;
using testing::TempDir;

#define SKIP_WITHOUT_DUCKDB()                                          \
  do {                                                                 \
    std::string why = testing::duckdb_unavailable();                   \
    if (!why.empty()) GTEST_SKIP() << "DuckDB check skipped: " << why; \
  } while (false)

void write_file(const std::string& path, const ColumnBatch& batch,
                ParquetWriterOptions options = {}) {
  options.sync = false;
  ParquetWriter writer(path, batch.schema(), options);
  writer.write(batch);
  writer.close();
}

// DuckDB's rows, each equal (as JSON values) to the expected row.
void expect_duckdb_rows(const std::vector<std::string>& files,
                        const std::vector<std::string>& expected) {
  testing::DuckDbResult r = testing::run_duckdb(files);
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_EQ(r.lines.size(), expected.size()) << r.output;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(JsonValue::parse(r.lines[i]), JsonValue::parse(expected[i]))
        << "row " << i << "\n  duckdb:   " << r.lines[i] << "\n  expected: " << expected[i];
  }
}

std::vector<std::string> every_type_rows() {
  return {
      R"({"l":9223372036854775807,"i":2147483647,"s":32767,"b":127,"d":1.5,"f":0.1,)"
      R"("dec9":"9999999.99","dec18":"99999999999999.9999","dec20":"99999999999999999999",)"
      R"("dec38":"9999999999999999999999999999.9999999999","str":"h\u00e9llo \"q\" \ud83d\ude00",)"
      R"("bin":"AAEC/w==","bool":true,"date":"2024-02-29","ts":"2024-03-01T12:34:56.789012Z",)"
      R"("ntz":"2024-03-01T12:34:56.789012","v":{"a":[1,2,{"b":null}],"c":"x"},"req":1})",
      R"({"l":-9223372036854775808,"i":-2147483648,"s":-32768,"b":-128,"d":-1e300,"f":-3.25e38,)"
      R"("dec9":"-9999999.99","dec18":"-99999999999999.9999","dec20":"-99999999999999999999",)"
      R"("dec38":"-9999999999999999999999999999.9999999999","str":"","bin":"","bool":false,)"
      R"("date":"1900-01-01","ts":"1969-12-31T23:59:59.999999Z","ntz":"1970-01-01T00:00:00",)"
      R"("v":[1,"two",null],"req":2})",
      R"({"req":3})",
      R"({"l":0,"i":0,"s":0,"b":0,"d":0.0,"f":1e-7,"dec9":"0.01","dec18":"0","dec20":"1",)"
      R"("dec38":"0.0000000001","str":"z","bin":"//79","bool":true,"date":"1970-01-01",)"
      R"("ts":"2000-01-01T00:00:00Z","ntz":"9999-12-31T23:59:59.999999","v":"\"text\"","req":4})",
  };
}

TEST(ParquetDuckDb, SeesTheLogicalTypeOfEverySparkType) {
  SKIP_WITHOUT_DUCKDB();
  TempDir dir;
  StructType schema = testing::every_type_schema(/*with_required=*/true);
  std::string path = dir.file("types.parquet");
  write_file(path, batch_from_json(schema, every_type_rows()));
  testing::DuckDbResult r = testing::run_duckdb({path}, true);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.lines, ElementsAre("l\tBIGINT", "i\tINTEGER", "s\tSMALLINT", "b\tTINYINT",
                                   "d\tDOUBLE", "f\tFLOAT", "dec9\tDECIMAL(9,2)",
                                   "dec18\tDECIMAL(18,4)", "dec20\tDECIMAL(20,0)",
                                   "dec38\tDECIMAL(38,10)", "str\tVARCHAR", "bin\tBLOB",
                                   "bool\tBOOLEAN", "date\tDATE", "ts\tTIMESTAMP WITH TIME ZONE",
                                   "ntz\tTIMESTAMP", "v\tJSON", "req\tBIGINT"))
      << r.output;
}

TEST(ParquetDuckDb, ReadsEveryTypeAsWrittenWithEachCompression) {
  SKIP_WITHOUT_DUCKDB();
  TempDir dir;
  StructType schema = testing::every_type_schema(/*with_required=*/true);
  ColumnBatch batch = batch_from_json(schema, every_type_rows());
  std::vector<std::string> files;
  std::vector<std::string> expected;
  for (Compression c : {Compression::kNone, Compression::kSnappy, Compression::kZstd}) {
    ParquetWriterOptions options;
    options.compression = c;
    files.push_back(dir.file("types-" + std::to_string(static_cast<int>(c)) + ".parquet"));
    write_file(files.back(), batch, options);
    for (const std::string& row : rows_json(batch)) expected.push_back(row);
  }
  expect_duckdb_rows(files, expected);
  // Spot checks against literals, independent of row_json.
  testing::DuckDbResult r = testing::run_duckdb({files[0]});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(JsonValue::parse(r.lines[1]).find("ts")->as_string(), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(JsonValue::parse(r.lines[0]).find("dec38")->as_string(),
            "9999999999999999999999999999.9999999999");
  EXPECT_EQ(JsonValue::parse(r.lines[0]).find("bin")->as_string(), "AAEC/w==");
  EXPECT_EQ(JsonValue::parse(r.lines[0]).find("v")->find("c")->as_string(), "x");
  EXPECT_EQ(JsonValue::parse(r.lines[3]).find("ntz")->as_string(), "9999-12-31T23:59:59.999999");
}

StructType nested_schema() {
  DataType attrs = DataType::Map(DataType::String(), DataType::Array(DataType::Long()));
  DataType tag = StructType{{"name", DataType::String()}, {"attrs", attrs}};
  return StructType{
      {"id", DataType::Long(), false},
      {"tags", DataType::Array(tag)},
      {"meta", StructType{{"version", DataType::Integer()},
                          {"inner", StructType{{"ts", DataType::Timestamp()},
                                               {"codes", DataType::Array(DataType::String())}}}}},
      {"scores", DataType::Map(DataType::Integer(), DataType::Double())},
      {"matrix", DataType::Array(DataType::Array(DataType::Integer(), false))},
      {"strict", DataType::Map(DataType::String(), DataType::Decimal(5, 2), false), false},
  };
}

TEST(ParquetDuckDb, ReadsNestedListsStructsAndMapsWithNullsAtEveryLevel) {
  SKIP_WITHOUT_DUCKDB();
  TempDir dir;
  StructType schema = nested_schema();
  ColumnBatch batch = batch_from_json(
      schema,
      {R"({"id":1,"tags":[{"name":"a","attrs":{"x":[1,2,3],"y":[],"z":null,"w":[null,4]}},)"
       R"(null,{"name":null,"attrs":null},{"name":"b","attrs":{}}],)"
       R"("meta":{"version":7,"inner":{"ts":"2024-01-02T03:04:05Z","codes":["p",null,"q"]}},)"
       R"("scores":{"1":1.5,"2":null},"matrix":[[1,2],[],null],"strict":{"a":"1.25"}})",
       R"({"id":2,"tags":null,"meta":null,"scores":null,"matrix":null,"strict":{}})",
       R"({"id":3,"tags":[],"meta":{"version":null,"inner":null},"scores":{},"matrix":[],)"
       R"("strict":{"b":"-999.99","c":"0"}})",
       R"({"id":4,"tags":[null],"meta":{"version":1,"inner":{"ts":null,"codes":[]}},)"
       R"("scores":{"-5":-0.25},"matrix":[[]],"strict":{}})"});
  std::string path = dir.file("nested.parquet");
  write_file(path, batch);
  expect_duckdb_rows({path}, rows_json(batch));
}

TEST(ParquetDuckDb, ReadsManyRowGroupsPagesAndDictionaryFallback) {
  SKIP_WITHOUT_DUCKDB();
  TempDir dir;
  StructType schema{
      {"id", DataType::Long(), false},
      {"code", DataType::String()},   // few distinct values: dictionary throughout
      {"label", DataType::String()},  // many: dictionary, then PLAIN past the limit
      {"tags", DataType::Array(DataType::String())},
  };
  ColumnBatch batch(schema);
  Column& root = batch.root();
  for (int i = 0; i < 20000; ++i) {
    root.child(0).append_value<std::int64_t>(i);
    if (i % 9 == 0) {
      root.child(1).append_null();
    } else {
      root.child(1).append_bytes("code-" + std::to_string(i % 5));
    }
    root.child(2).append_bytes("label-" + std::to_string(i / 4 % 3000));
    Column& tags = root.child(3);
    for (int k = 0; k < i % 3; ++k) tags.child(0).append_bytes("t" + std::to_string((i + k) % 4));
    tags.finish_list();
    root.append_valid();
  }
  ParquetWriterOptions options;
  options.row_group_bytes = 16 << 10;
  options.page_bytes = 4 << 10;
  options.dictionary_page_bytes = 4 << 10;
  std::string path = dir.file("many.parquet");
  write_file(path, batch, options);
  // The file has what this test is about: several row groups, and `label` in dictionary pages
  // first, then (once its dictionary outgrew the limit) in PLAIN pages.
  ParquetReader reader(path);
  EXPECT_GT(reader.num_row_groups(), 2u);
  std::set<Encoding> label_encodings;
  for (const RowGroup& group : reader.metadata().row_groups) {
    for (const PageEncodingStats& s : group.columns[2].meta_data->encoding_stats) {
      if (s.page_type == PageType::kDataPage) label_encodings.insert(s.encoding);
    }
  }
  EXPECT_EQ(label_encodings, (std::set<Encoding>{Encoding::kPlain, Encoding::kRleDictionary}));
  expect_duckdb_rows({path}, rows_json(batch));
}

// Rows of a wide, sparse schema: long runs of absent structs, columns absent from every row,
// lists of structs whose members come and go, nulls at every level, a required field inside a
// list's struct. Deterministic.
StructType sparse_schema() {
  DataType item = StructType{{"x", DataType::Long()},
                             {"y", DataType::String()},
                             {"z", StructType{{"w", DataType::Boolean()}}},
                             {"n", DataType::Array(DataType::Long())},
                             {"r", DataType::Integer(), false}};
  return StructType{
      {"id", DataType::Long(), false},
      {"a", StructType{{"b", StructType{{"c", DataType::Long()}, {"d", DataType::String()}}},
                       {"e", DataType::Double()}}},
      {"never", StructType{{"s", DataType::String()}, {"l", DataType::Array(DataType::Long())}}},
      {"never_flat", DataType::String()},
      {"rare", DataType::String()},
      {"items", DataType::Array(item)},
  };
}

std::vector<std::string> sparse_rows(std::size_t count, std::uint32_t seed) {
  std::vector<std::string> rows;
  std::uint32_t state = seed;
  auto next = [&state] { return state = state * 1103515245u + 12345u, (state >> 8) % 1000; };
  for (std::size_t i = 0; i < count; ++i) {
    std::string row = "{\"id\":" + std::to_string(i);
    // `a` is absent for long stretches, then present with members that come and go.
    if ((i / 700) % 2 == 1) {
      row += ",\"a\":{";
      if (next() < 600) row += "\"b\":{\"c\":" + std::to_string(i) + "},";
      if (next() < 100) row += "\"b\":{\"d\":\"d" + std::to_string(i % 7) + "\"},";
      row += "\"e\":" + std::to_string(i) + ".5}";
    }
    if (i % 997 == 3) row += ",\"rare\":\"r" + std::to_string(i) + "\"";
    if (next() < 400) {
      row += ",\"items\":[";
      const std::size_t n = next() % 4;
      for (std::size_t k = 0; k < n; ++k) {
        if (k > 0) row += ',';
        if (next() < 100) {
          row += "null";
          continue;
        }
        row += "{\"r\":" + std::to_string(k);
        if (next() < 300) row += ",\"x\":" + std::to_string(i * 10 + k);
        if (next() < 50) row += ",\"y\":\"y" + std::to_string(k) + "\"";
        if (next() < 200) row += std::string(",\"z\":{\"w\":") + (k % 2 ? "true" : "false") + "}";
        if (next() < 150) row += ",\"n\":[" + std::to_string(k) + ",null]";
        row += '}';
      }
      row += ']';
    }
    row += '}';
    rows.push_back(std::move(row));
  }
  return rows;
}

TEST(ParquetDuckDb, SparseWideRowsRoundTripThroughTheReaderAndDuckDb) {
  TempDir dir;
  StructType schema = sparse_schema();
  // Several batches of different sizes, small pages: null runs cross batch and page boundaries.
  std::vector<ColumnBatch> batches;
  std::vector<std::string> expected;
  std::uint32_t seed = 1;
  for (std::size_t size : {1u, 2500u, 9u, 6000u, 1400u}) {
    batches.push_back(batch_from_json(schema, sparse_rows(size, seed++)));
    for (std::string& row : rows_json(batches.back())) expected.push_back(std::move(row));
  }
  // An all-null batch of every optional column.
  ColumnBatch empty(schema);
  for (int i = 0; i < 3000; ++i) {
    empty.root().child(0).append_value<std::int64_t>(i);
    for (std::size_t c = 1; c < schema.size(); ++c) empty.root().child(c).append_null();
    empty.root().append_valid();
    expected.push_back(empty.row_json(static_cast<std::size_t>(i)));
  }
  ParquetWriterOptions options;
  options.sync = false;
  options.page_bytes = 2 << 10;
  options.row_group_bytes = 64 << 10;
  std::string path = dir.file("sparse.parquet");
  ParquetWriter writer(path, schema, options);
  for (const ColumnBatch& batch : batches) writer.write(batch);
  writer.write(empty);
  ParquetFileStats stats = writer.close();
  EXPECT_EQ(stats.num_records, static_cast<std::int64_t>(expected.size()));

  ParquetReader reader(path);
  EXPECT_GT(reader.num_row_groups(), 1u);
  EXPECT_EQ(rows_json(reader.read()), expected);
  SKIP_WITHOUT_DUCKDB();
  expect_duckdb_rows({path}, expected);
}

}  // namespace
}  // namespace lakeflow::parquet
