#include "columnar/column_sort.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lakeflow/error.h"
#include "columnar/record_converter.h"

namespace lakeflow {
namespace {

using ::testing::ElementsAre;

ColumnBatch convert(const StructType& schema, const std::vector<std::string>& records) {
  RecordBatch batch;
  for (const auto& r : records) batch.append(r);
  RecordConverter converter(schema, "t");
  ColumnBatch out = converter.make_batch();
  converter.convert(batch, out);
  return out;
}

std::vector<std::uint32_t> order_of(const StructType& schema,
                                    const std::vector<std::string>& records,
                                    const std::vector<FieldPath>& keys) {
  const ColumnBatch batch = convert(schema, records);
  return RowOrder(batch, keys).sorted();
}

TEST(RowOrder, SortsNullsFirstAndKeepsTiesInTheirOrder) {
  const StructType schema{StructField("k", DataType::Long()), StructField("v", DataType::String())};
  EXPECT_THAT(order_of(schema,
                       {R"({"k":3,"v":"a"})", R"({"k":null})", R"({"k":-1})", R"({"k":3,"v":"b"})",
                        R"({"k":9223372036854775807})", R"({"k":-9223372036854775808})"},
                       {{"k"}}),
              ElementsAre(1, 5, 2, 0, 3, 4));
}

TEST(RowOrder, OrdersEachTypeAsDeltaStatisticsDo) {
  const StructType schema{
      StructField("s", DataType::String()),         StructField("d", DataType::Double()),
      StructField("dec", DataType::Decimal(10, 2)), StructField("t", DataType::Timestamp()),
      StructField("day", DataType::Date()),         StructField("f", DataType::Float())};
  // Strings bytewise: "Z" < "a" < "z" < "é" (0xC3 0xA9).
  EXPECT_THAT(
      order_of(schema, {R"({"s":"é"})", R"({"s":"z"})", R"({"s":"a"})", R"({"s":"Z"})"}, {{"s"}}),
      ElementsAre(3, 2, 1, 0));
  // NaN after infinity; -0.0 and 0.0 tie (original order kept).
  EXPECT_THAT(order_of(schema,
                       {R"({"d":"NaN"})", R"({"d":"Infinity"})", R"({"d":0.0})", R"({"d":-0.0})",
                        R"({"d":"-Infinity"})", R"({"d":-2.5})"},
                       {{"d"}}),
              ElementsAre(4, 5, 2, 3, 1, 0));
  EXPECT_THAT(order_of(schema, {R"({"dec":"10.00"})", R"({"dec":"-3.50"})", R"({"dec":"9.99"})"},
                       {{"dec"}}),
              ElementsAre(1, 2, 0));
  EXPECT_THAT(order_of(schema,
                       {R"({"t":"2024-01-01T00:00:00Z"})", R"({"t":"1969-12-31T23:59:59Z"})",
                        R"({"t":"2024-01-01T00:00:00.000001Z"})"},
                       {{"t"}}),
              ElementsAre(1, 0, 2));
  EXPECT_THAT(order_of(schema, {R"({"day":"2024-02-29"})", R"({"day":"1900-01-01"})"}, {{"day"}}),
              ElementsAre(1, 0));
  EXPECT_THAT(order_of(schema, {R"({"f":1.5})", R"({"f":-1.5})"}, {{"f"}}), ElementsAre(1, 0));
}

TEST(RowOrder, BreaksTiesByTheNextKeyAndReadsNestedKeys) {
  const StructType schema{
      StructField("a", StructType{StructField("city", DataType::String())}),
      StructField("n", DataType::Integer()),
  };
  // A null struct makes its field null.
  EXPECT_THAT(
      order_of(schema,
               {R"({"a":{"city":"b"},"n":2})", R"({"a":{"city":"a"},"n":5})", R"({"a":null,"n":1})",
                R"({"a":{"city":"b"},"n":1})", R"({"a":{"city":null},"n":0})"},
               {{"a", "city"}, {"n"}}),
      ElementsAre(4, 2, 1, 3, 0));
}

TEST(RowOrder, SortedAgreesWithCompareBeyondWhatFitsIn64BitsAndBeyondFourKeys) {
  const StructType schema{
      StructField("dec", DataType::Decimal(38, 0)), StructField("s", DataType::String()),
      StructField("bin", DataType::Binary()),       StructField("b", DataType::Boolean()),
      StructField("k5", DataType::Short()),         StructField("k6", DataType::Byte())};
  std::vector<std::string> records;
  const char* decimals[] = {"99999999999999999999",  "99999999999999999998",
                            "-99999999999999999999", "7",
                            "9223372036854775807",   "-9223372036854775808"};
  const char* strings[] = {"a long shared prefix 2", "a long shared prefix 10", "a", "", "b"};
  const char* binaries[] = {"AAE=", "AAA=", "/w==", ""};
  for (int i = 0; i < 240; ++i) {
    records.push_back(fmt::format(R"({{"dec":"{}","s":"{}","bin":"{}","b":{},"k5":{},"k6":{}}})",
                                  decimals[i % 6], strings[i % 5], binaries[i % 4],
                                  i % 7 < 3 ? "true" : "false", i % 11 - 5,
                                  i % 13 == 0 ? "null" : std::to_string(i % 3)));
  }
  const ColumnBatch batch = convert(schema, records);
  for (const std::vector<FieldPath>& keys :
       std::vector<std::vector<FieldPath>>{{{"dec"}},
                                           {{"s"}, {"bin"}},
                                           {{"bin"}, {"dec"}, {"s"}},
                                           {{"b"}, {"s"}, {"bin"}, {"k5"}, {"k6"}, {"dec"}}}) {
    const RowOrder order(batch, keys);
    const std::vector<std::uint32_t> sorted = order.sorted();
    ASSERT_EQ(sorted.size(), records.size());
    for (std::size_t i = 1; i < sorted.size(); ++i) {
      const int c = order.compare(sorted[i - 1], sorted[i]);
      ASSERT_LE(c, 0) << "position " << i;
      if (c == 0) {
        ASSERT_LT(sorted[i - 1], sorted[i]) << "ties keep their order";
      }
    }
  }
  // Bytewise: the shared prefix then '1' < '2'.
  const RowOrder by_string(batch, {{"s"}});
  EXPECT_LT(by_string.compare(1, 0), 0);
}

TEST(RowOrder, RejectsKeysThatAreNotSortableColumns) {
  const StructType schema{StructField("tags", DataType::Array(DataType::String())),
                          StructField("v", DataType::Variant()),
                          StructField("k", DataType::Long())};
  const ColumnBatch batch = convert(schema, {R"({"k":1})"});
  for (const FieldPath& key : std::vector<FieldPath>{{"tags"}, {"v"}, {"nope"}, {"k", "x"}, {}}) {
    EXPECT_THROW(RowOrder(batch, {key}), Error);
  }
}

TEST(AppendRows, CopiesEveryKindOfValueInTheGivenOrder) {
  const StructType schema{
      StructField("id", DataType::Long()),
      StructField("s", StructType{StructField("x", DataType::Integer()),
                                  StructField("tags", DataType::Array(DataType::String()))}),
      StructField("m", DataType::Map(DataType::String(), DataType::Decimal(5, 1))),
      StructField("b", DataType::Boolean()),
      StructField("bin", DataType::Binary()),
      StructField("v", DataType::Variant()),
      StructField("day", DataType::Date()),
      StructField("list", DataType::Array(StructType{StructField("q", DataType::Short())})),
  };
  const std::vector<std::string> rows = {
      R"({"id":1,"s":{"x":1,"tags":["a","b"]},"m":{"k":"1.5"},"b":true,"bin":"AAE=","v":{"z":[1]},)"
      R"("day":"2024-01-02","list":[{"q":1},null,{"q":null}]})",
      R"({"id":null,"s":null,"m":null,"b":null,"bin":null,"v":null,"day":null,"list":null})",
      R"({"id":3,"s":{"x":null,"tags":[]},"m":{},"b":false,"bin":"","v":[true],"day":"1970-01-01",)"
      R"("list":[]})",
  };
  const ColumnBatch source = convert(schema, rows);
  ColumnBatch taken(schema);
  const std::vector<std::uint32_t> order = {2, 0, 1, 0};
  append_rows(source, order, taken);
  append_rows(source, std::vector<std::uint32_t>{1}, taken);
  ASSERT_EQ(taken.num_rows(), 5U);
  for (std::size_t i = 0; i < order.size(); ++i) {
    EXPECT_EQ(taken.row_json(i), source.row_json(order[i])) << i;
  }
  EXPECT_EQ(taken.row_json(4), source.row_json(1));
  EXPECT_EQ(taken.column(0).null_count(), 2U);
}

}  // namespace
}  // namespace lakeflow
