#include "delta/file_stats.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parquet/parquet_test_util.h"
#include "parquet/parquet_writer.h"

namespace lakeflow::delta {
namespace {

using parquet::ParquetFileStats;
using parquet::testing::batch_from_json;
using parquet::testing::TempDir;

// The statistics of a Parquet file of `rows` (JSON) written at `path`.
ParquetFileStats stats_of(const std::string& path, const StructType& schema,
                          const std::vector<std::string>& rows) {
  return parquet::testing::write_file(path, batch_from_json(schema, rows));
}

TEST(FileStatsJson, NestsByStructAndCountsNullsOfListsAndMaps) {
  TempDir dir;
  const ParquetFileStats stats = stats_of(dir.file("n.parquet"), parquet::testing::nested_schema(),
                                          parquet::testing::nested_rows());
  EXPECT_EQ(file_stats_json(stats),
            R"({"numRecords":5,"minValues":{"id":1,"meta":{"version":1,"inner":)"
            R"({"ts":"2024-01-02T03:04:05.000Z"}}},"maxValues":{"id":5,"meta":{"version":7,)"
            R"("inner":{"ts":"2024-01-02T03:04:05.000Z"}}},"nullCount":{"id":0,"tags":1,)"
            R"("meta":{"version":2,"inner":{"ts":4,"codes":3}},"scores":2,"matrix":1}})");
  EXPECT_EQ(file_stats_json(stats, {.num_indexed_columns = 2}),
            R"({"numRecords":5,"minValues":{"id":1},"maxValues":{"id":5},)"
            R"("nullCount":{"id":0,"tags":1}})");
}

TEST(FileStatsJson, BoundsOfEveryTypeInDeltasForms) {
  TempDir dir;
  const ParquetFileStats stats =
      stats_of(dir.file("a.parquet"), parquet::testing::every_type_schema(),
               parquet::testing::all_types_rows());
  EXPECT_EQ(file_stats_json(stats),
            R"({"numRecords":4,"minValues":{"l":-9223372036854775808,"i":-2147483648,"s":-32768,)"
            R"("b":-128,"d":-1e+300,"f":-3.249999972151886e+38,"dec9":-9999999.99,)"
            R"("dec18":-99999999999999.9999,"dec20":-99999999999999999999,)"
            R"("dec38":-9999999999999999999999999999.9999999999,"str":"","date":"1900-01-01",)"
            R"("ts":"1969-12-31T23:59:59.999Z","ntz":"1970-01-01T00:00:00.000"},)"
            R"("maxValues":{"l":9223372036854775807,"i":2147483647,"s":32767,"b":127,"d":1.5,)"
            R"("f":0.10000000149011612,"dec9":9999999.99,"dec18":99999999999999.9999,)"
            R"("dec20":99999999999999999999,"dec38":9999999999999999999999999999.9999999999,)"
            R"("str":"z","date":"2024-02-29","ts":"2024-03-01T12:34:56.790Z",)"
            R"("ntz":"10000-01-01T00:00:00.000"},"nullCount":{"l":1,"i":1,"s":1,"b":1,"d":1,"f":1,)"
            R"("dec9":1,"dec18":1,"dec20":1,"dec38":1,"str":1,"bin":1,"bool":1,"date":1,"ts":1,)"
            R"("ntz":1,"v":1}})");  // the last row's variant is JSON null, not null
}

TEST(FileStatsJson, ANaNMaximumHasNoBound) {
  TempDir dir;
  const ParquetFileStats stats = stats_of(dir.file("nan.parquet"), {{"d", DataType::Double()}},
                                          {R"({"d":"NaN"})", R"({"d":0.0})", R"({"d":"NaN"})"});
  EXPECT_EQ(file_stats_json(stats),
            R"({"numRecords":3,"minValues":{"d":0.0},"maxValues":{},"nullCount":{"d":0}})");
}

TEST(FileStatsJson, LongStringsAreTruncatedToBounds) {
  TempDir dir;
  const std::string long_a(40, 'a');
  const std::string long_z = std::string(31, 'z') + "\xc3\xa9" + "tail";  // 31 z, é, tail
  const ParquetFileStats stats =
      stats_of(dir.file("s.parquet"), {{"s", DataType::String()}},
               {R"({"s":")" + long_a + R"("})", R"({"s":")" + long_z + R"("})"});
  // The 32nd character é (U+00E9) becomes U+00EA: above every string with that prefix.
  EXPECT_EQ(file_stats_json(stats), R"({"numRecords":2,"minValues":{"s":")" + std::string(32, 'a') +
                                        R"("},"maxValues":{"s":")" + std::string(31, 'z') +
                                        "\xc3\xaa\"},\"nullCount\":{\"s\":0}}");
  EXPECT_EQ(
      file_stats_json(stats, {.string_prefix = 3}),
      R"({"numRecords":2,"minValues":{"s":"aaa"},"maxValues":{"s":"zz{"},"nullCount":{"s":0}})");
}

TEST(FileStatsJson, AnEmptyFileHasNullCountsOnly) {
  TempDir dir;
  const ParquetFileStats stats =
      stats_of(dir.file("empty.parquet"), parquet::testing::nested_schema(), {});
  EXPECT_EQ(file_stats_json(stats),
            R"({"numRecords":0,"minValues":{},"maxValues":{},"nullCount":{"id":0,"tags":0,)"
            R"("meta":{"version":0,"inner":{"ts":0,"codes":0}},"scores":0,"matrix":0}})");
}

TEST(StatsColumnRange, ReadsBoundsAsTheColumnsTypeAndErrsOutward) {
  const std::string stats =
      R"({"numRecords":3,"minValues":{"id":5,"name":"ab","meta":{"day":"2024-05-01"},)"
      R"("at":"2024-05-01T00:00:00.001Z","price":1.25},"maxValues":{"id":9,"name":"ax",)"
      R"("meta":{"day":"2024-05-03"},"at":"2024-05-01T00:00:00.002Z","price":9.5},)"
      R"("nullCount":{"id":0}})";
  destination::ColumnRange id = stats_column_range(stats, {"id"}, DataType::Long());
  EXPECT_EQ(id.min, "5");
  EXPECT_EQ(id.max, "9");
  EXPECT_FALSE(id.max_cut);
  destination::ColumnRange name = stats_column_range(stats, {"name"}, DataType::String());
  EXPECT_EQ(name.min, R"("ab")");
  EXPECT_EQ(name.max, R"("ax")");
  EXPECT_FALSE(name.max_cut);  // shorter than the 32 characters engines cut strings to
  EXPECT_TRUE(stats_column_range(stats, {"name"}, DataType::String(), 2).max_cut);
  const std::string cut = R"({"maxValues":{"s":")" + std::string(31, 'x') + R"(\u00e9"}})";
  EXPECT_TRUE(stats_column_range(cut, {"s"}, DataType::String()).max_cut);  // 32 characters
  destination::ColumnRange day = stats_column_range(stats, {"meta", "day"}, DataType::Date());
  EXPECT_EQ(day.min, R"("2024-05-01")");
  EXPECT_EQ(day.max, R"("2024-05-03")");
  // Milliseconds in the statistics: the maximum covers the whole millisecond.
  destination::ColumnRange at = stats_column_range(stats, {"at"}, DataType::Timestamp());
  EXPECT_EQ(at.min, R"("2024-05-01T00:00:00.001000Z")");
  EXPECT_EQ(at.max, R"("2024-05-01T00:00:00.002999Z")");
  // Nothing that is not exact: decimals and doubles, absent columns, values of another type.
  EXPECT_FALSE(stats_column_range(stats, {"price"}, DataType::Decimal(10, 2)).min);
  EXPECT_FALSE(stats_column_range(stats, {"price"}, DataType::Double()).max);
  EXPECT_FALSE(stats_column_range(stats, {"nope"}, DataType::Long()).min);
  EXPECT_FALSE(stats_column_range(stats, {"name"}, DataType::Long()).min);
  EXPECT_FALSE(stats_column_range("not json", {"id"}, DataType::Long()).max);
}

}  // namespace
}  // namespace lakeflow::delta
