#include "parquet/parquet_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "lakeflow/error.h"
#include "parquet/parquet_format.h"
#include "parquet/parquet_test_util.h"
#include "parquet/parquet_writer.h"

namespace lakeflow::parquet {
namespace {

using testing::batch_from_json;
using ::testing::HasSubstr;
using testing::read_rows;
using testing::TempDir;
using testing::write_file;

TEST(ParquetReader, ReadsASubsetOfColumnsAndFillsMissingOnesWithNull) {
  TempDir dir;
  StructType schema = testing::nested_schema();
  std::string path = dir.file("n.parquet");
  write_file(path, batch_from_json(schema, testing::nested_rows()));
  StructType projected{
      {"extra", DataType::String()},
      {"meta", StructType{{"inner", StructType{{"missing", DataType::Long()}}},
                          {"version", DataType::Integer()}}},
      {"id", DataType::Long()},
  };
  std::vector<std::string> rows = read_rows(path, projected);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0], R"({"extra":null,"meta":{"inner":{"missing":null},"version":7},"id":1})");
  EXPECT_EQ(rows[1], R"({"extra":null,"meta":null,"id":2})");
  EXPECT_EQ(rows[2], R"({"extra":null,"meta":{"inner":null,"version":null},"id":3})");
}

// A struct that is null in most rows costs the reader a step per row, not a step per leaf under
// it per row (the FHIR schemas have structs of hundreds of leaves, null in most resources).
TEST(ParquetReader, ANullStructDoesNotVisitItsLeavesPerRow) {
  constexpr std::size_t kLeaves = 200;
  constexpr std::size_t kRows = 2000;
  std::vector<StructField> leaves;
  for (std::size_t i = 0; i < kLeaves; ++i) {
    leaves.emplace_back("f" + std::to_string(i), DataType::String());
  }
  leaves.emplace_back(
      "items", DataType::Array(StructType{{"a", DataType::Long()}, {"b", DataType::String()}}));
  const StructType wide(std::move(leaves));
  const StructType schema{{"id", DataType::Long()}, {"wide", wide}, {"absent", wide}};
  std::vector<std::string> rows;
  for (std::size_t r = 0; r < kRows; ++r) {
    const bool present = r == 7 || r == kRows - 1;
    rows.push_back("{\"id\":" + std::to_string(r) +
                   (present ? ",\"wide\":{\"f3\":\"x" + std::to_string(r) +
                                  "\",\"items\":[{\"a\":1},{\"b\":\"y\"}]}"
                            : std::string()) +
                   "}");
  }
  TempDir dir;
  const std::string path = dir.file("wide.parquet");
  write_file(path, batch_from_json(schema, rows));
  ParquetReader reader(path);
  const std::vector<std::string> read = testing::rows_json(reader.read(schema));
  ASSERT_EQ(read.size(), kRows);
  EXPECT_THAT(read[7], HasSubstr(R"("f3":"x7")"));
  EXPECT_THAT(read[7],
              HasSubstr(R"("items":[{"a":1,"b":null},{"a":null,"b":"y"}]},"absent":null})"));
  EXPECT_EQ(read[8], R"({"id":8,"wide":null,"absent":null})");
  EXPECT_THAT(read[kRows - 1], HasSubstr(R"("f3":"x1999")"));
  // id, wide and absent take a step per row each; the leaves of wide a few steps per value row.
  EXPECT_LT(reader.level_steps(), 4 * kRows + 4 * (kLeaves + 3));
}

// A file written before its table's column types were widened reads exactly as
// the wider types.
TEST(ParquetReader, ReadsOlderFilesAsWidenedTypes) {
  TempDir dir;
  std::string path = dir.file("w.parquet");
  write_file(path, batch_from_json(testing::every_type_schema(), testing::all_types_rows()));
  ParquetReader reader(path);
  const StructType widened{{"b", DataType::Short()},
                           {"s", DataType::Long()},
                           {"f", DataType::Double()},
                           {"dec9", DataType::Decimal(12, 5)},
                           {"dec18", DataType::Decimal(19, 4)},
                           {"dec38", DataType::Decimal(38, 10)},
                           {"date", DataType::TimestampNtz()}};
  const ColumnBatch batch = reader.read(widened);
  EXPECT_EQ(batch.row_json(0),
            R"({"b":127,"s":32767,"f":0.10000000149011612,"dec9":"9999999.99000",)"
            R"("dec18":"99999999999999.9999","dec38":"9999999999999999999999999999.9999999999",)"
            R"("date":"2024-02-29T00:00:00.000000"})");
  EXPECT_EQ(batch.row_json(1),
            R"({"b":-128,"s":-32768,"f":-3.249999972151886e+38,"dec9":"-9999999.99000",)"
            R"("dec18":"-99999999999999.9999","dec38":"-9999999999999999999999999999.9999999999",)"
            R"("date":"1900-01-01T00:00:00.000000"})");
  // Fewer digits before the point is not a widening.
  EXPECT_THROW(reader.read(StructType{{"dec9", DataType::Decimal(10, 4)}}), Error);
}

TEST(ParquetReader, RejectsTypeMismatchAndMissingRequiredColumn) {
  TempDir dir;
  StructType schema = testing::every_type_schema();
  std::string path = dir.file("a.parquet");
  write_file(path, batch_from_json(schema, testing::all_types_rows()));
  ParquetReader reader(path);
  try {
    reader.read(StructType{{"str", DataType::Long()}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kData);
    EXPECT_THAT(e.what(), HasSubstr("column str"));
    EXPECT_THAT(e.what(), HasSubstr("bigint"));
  }
  EXPECT_THROW(reader.read(StructType{{"nope", DataType::Long(), false}}), Error);
  EXPECT_THROW(reader.read(StructType{{"dec9", DataType::Decimal(9, 3)}}), Error);
  EXPECT_THROW(reader.read(StructType{{"l", DataType::Array(DataType::Long())}}), Error);
  // Widening reads are fine.
  EXPECT_EQ(reader.read(StructType{{"i", DataType::Long()}}).row_json(0), R"({"i":2147483647})");
}

TEST(ParquetReader, RejectsCorruptFiles) {
  TempDir dir;
  StructType schema = testing::every_type_schema();
  std::string path = dir.file("a.parquet");
  write_file(path, batch_from_json(schema, testing::all_types_rows()));
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write_bytes = [&](const std::string& name, const std::string& content) {
    std::ofstream out(dir.file(name), std::ios::binary);
    out << content;
    return dir.file(name);
  };
  EXPECT_THROW(ParquetReader(write_bytes("short", "PAR1")), Error);
  EXPECT_THROW(ParquetReader(write_bytes("text", std::string(100, 'x'))), Error);
  // Cut in the middle: the footer is gone.
  EXPECT_THROW(ParquetReader(write_bytes("cut", bytes.substr(0, bytes.size() / 2))), Error);
  // Garbage in the column data: reading fails cleanly, naming the file.
  std::string damaged = bytes;
  for (std::size_t i = 4; i < damaged.size() / 2; ++i) damaged[i] = static_cast<char>(0xA5 ^ i);
  std::string damaged_path = write_bytes("damaged", damaged);
  try {
    ParquetReader(damaged_path).read(schema);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(damaged_path));
  }
  // A damaged footer.
  std::string footer_damaged = bytes;
  std::uint32_t footer_len;
  std::memcpy(&footer_len, footer_damaged.data() + footer_damaged.size() - 8, 4);
  for (std::size_t i = footer_damaged.size() - 8 - footer_len; i < footer_damaged.size() - 8; ++i) {
    footer_damaged[i] = static_cast<char>(0xFF);
  }
  EXPECT_THROW(ParquetReader(write_bytes("footer", footer_damaged)), Error);
  try {
    ParquetReader reader(dir.file("does-not-exist.parquet"));
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("does-not-exist.parquet"));
  }
}

// Regression (fuzz_parquet): a read whose requested fields are all missing from the file decoded
// no column, so it made as many null rows as the footer claimed: a damaged count ran for hours.
TEST(ParquetReader, AReadOfNoFileColumnCountsTheRowsInTheFile) {
  TempDir dir;
  const StructType schema{{"id", DataType::Long()}, {"tags", DataType::Array(DataType::String())}};
  const std::string path = dir.file("rows.parquet");
  write_file(path, batch_from_json(schema, {R"({"id":1,"tags":["a","b"]})", R"({"id":2})",
                                            R"({"id":3,"tags":[]})"}));
  const StructType missing{{"other", DataType::String()}};
  EXPECT_EQ(
      read_rows(path, missing),
      (std::vector<std::string>{R"({"other":null})", R"({"other":null})", R"({"other":null})"}));
  EXPECT_EQ(ParquetReader(path).read(StructType(std::vector<StructField>{})).num_rows(), 3u);

  testing::rewrite_footer(path, [](FileMetaData& m) {
    m.num_rows = std::int64_t{1} << 40;
    m.row_groups.at(0).num_rows = std::int64_t{1} << 40;
  });
  try {
    (void)ParquetReader(path).read(missing);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kData);
    EXPECT_THAT(e.what(), HasSubstr("holds 3 rows in column id but says it holds 1099511627776"));
  }
}

// Regression (fuzz_parquet): millisecond and INT96 timestamps were scaled to microseconds with
// signed overflow (undefined behaviour) where they lie beyond a Spark timestamp's range.
TEST(ParquetReader, TimestampsBeyondTheMicrosecondRangeAreAnError) {
  TempDir dir;
  const StructType ts_schema{{"ts", DataType::Timestamp()}};
  const std::string millis = dir.file("millis.parquet");
  write_file(millis, batch_from_json(ts_schema, {R"({"ts":"1970-01-01T00:00:01Z"})"}));
  // The same value read as milliseconds since 1970.
  testing::rewrite_footer(
      millis, [](FileMetaData& m) { m.schema.at(1).logical_type.unit = TimeUnit::kMillis; });
  EXPECT_EQ(read_rows(millis, ts_schema),
            std::vector<std::string>{R"({"ts":"1970-01-01T00:16:40.000000Z"})"});
  write_file(millis, batch_from_json(ts_schema, {R"({"ts":"9999-12-31T23:59:59.999999Z"})"}));
  testing::rewrite_footer(
      millis, [](FileMetaData& m) { m.schema.at(1).logical_type.unit = TimeUnit::kMillis; });
  EXPECT_THAT([&] { (void)ParquetReader(millis).read(ts_schema); },
              ::testing::ThrowsMessage<Error>(HasSubstr("beyond the range of a Spark timestamp")));

  // INT96 (nanoseconds in the day, then the Julian day; 12 little-endian bytes) made from the
  // 12-byte big-endian values of a decimal(28,0) column.
  const StructType decimal_schema{{"ts", DataType::Decimal(28, 0)}};
  const std::string int96 = dir.file("int96.parquet");
  auto as_int96 = [](FileMetaData& m) {
    SchemaElement& e = m.schema.at(1);
    e.type = PhysicalType::kInt96;
    e.type_length.reset();
    e.converted_type.reset();
    e.precision.reset();
    e.scale.reset();
    e.logical_type = LogicalType{};
    m.row_groups.at(0).columns.at(0).meta_data->type = PhysicalType::kInt96;
  };
  // Day 2440588 (0x00253D8C, 1970-01-01) with 0 nanoseconds: the decimal 0x8C3D2500.
  write_file(int96, batch_from_json(decimal_schema, {R"({"ts":"2352817408"})"}));
  testing::rewrite_footer(int96, as_int96);
  EXPECT_EQ(read_rows(int96, ts_schema),
            std::vector<std::string>{R"({"ts":"1970-01-01T00:00:00.000000Z"})"});
  // Day 0xFFFFFFFF: far beyond 64-bit microseconds.
  write_file(int96, batch_from_json(decimal_schema, {R"({"ts":"4294967295"})"}));
  testing::rewrite_footer(int96, as_int96);
  EXPECT_THAT([&] { (void)ParquetReader(int96).read(ts_schema); },
              ::testing::ThrowsMessage<Error>(HasSubstr("beyond the range of a Spark timestamp")));
}

// Regression (fuzz_parquet): the inputs in which the fuzzer found reader bugs, read as the fuzz
// target reads them (the file's own schema). Each reads exactly as many rows as its row groups say
// or fails with a data error naming the file; the ones whose footers the fuzzer damaged fail with
// the error their fix introduced.
TEST(ParquetReader, FuzzFindingsReadWholeOrAreDataErrors) {
  const std::filesystem::path corpus =
      std::filesystem::path(LAKEFLOW_REPO_DIR) / "fuzz" / "corpus" / "fuzz_parquet";
  const std::map<std::string, std::string> expected_errors = {
      {"finding-int96-timestamp-overflow", "beyond the range of a Spark timestamp"},
      {"finding-row-count-without-columns", "is corrupt"},
  };
  std::size_t findings = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("finding-")) continue;
    ++findings;
    SCOPED_TRACE(name);
    const auto expected = expected_errors.find(name);
    try {
      const ParquetReader reader(entry.path().string());
      const ColumnBatch batch = reader.read(reader.schema());
      std::int64_t rows = 0;
      for (const RowGroup& group : reader.metadata().row_groups) rows += group.num_rows;
      EXPECT_EQ(static_cast<std::int64_t>(batch.num_rows()), rows);
      EXPECT_EQ(expected, expected_errors.end()) << "read without the expected error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kData) << e.what();
      EXPECT_THAT(e.what(), HasSubstr(entry.path().string()));
      ASSERT_NE(expected, expected_errors.end()) << e.what();
      EXPECT_THAT(e.what(), HasSubstr(expected->second));
    }
  }
  EXPECT_GE(findings, 3u) << corpus;
}

}  // namespace
}  // namespace lakeflow::parquet
