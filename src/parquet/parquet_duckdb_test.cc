// Independent verification: DuckDB (npm @duckdb/node-api, through tests/duckdb/read_parquet.mjs)
// reads the files ParquetWriter makes, and its values must equal what was written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "parquet/parquet_reader.h"
#include "parquet/parquet_test_util.h"
#include "parquet/parquet_writer.h"
#include "lakeflow/json.h"

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

}  // namespace
}  // namespace lakeflow::parquet
