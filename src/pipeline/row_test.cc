#include "pipeline/row.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

using ::testing::HasSubstr;

TEST(Row, LocatesFieldsAndKeepsTheirText) {
  const Row row(R"( {"id": 5, "name":"Ann \"A\"", "tags":["x", {"y":1}], "n":null, "ok":true} )");
  EXPECT_EQ(row.size(), 5u);
  EXPECT_EQ(row.field("id"), "5");
  EXPECT_EQ(row.field("name"), R"("Ann \"A\"")");
  EXPECT_EQ(row.field("tags"), R"(["x", {"y":1}])");
  EXPECT_EQ(row.field("n"), "null");
  EXPECT_EQ(row.field("ok"), "true");
  EXPECT_EQ(row.field("missing"), std::nullopt);
  EXPECT_EQ(Row("{}").size(), 0u);
}

TEST(Row, EscapedNamesAreUnescapedAndTheLastRepeatWins) {
  const Row row(R"({"a\u0062":1,"x":1,"x":2})");
  EXPECT_EQ(row.field("ab"), "1");
  EXPECT_EQ(row.field("x"), "2");
}

TEST(Row, FindPathWalksNestedObjects) {
  const Row row(R"({"meta":{"last":{"at":"2024-01-01"},"n":null},"a.b":7,"list":[1]})");
  EXPECT_EQ(row.find_path("meta.last.at"), R"("2024-01-01")");
  EXPECT_EQ(row.find_path("meta.n"), "null");
  EXPECT_EQ(row.find_path("meta.n.deeper"), std::nullopt);
  EXPECT_EQ(row.find_path("meta.missing"), std::nullopt);
  EXPECT_EQ(row.find_path("list.0"), std::nullopt);
  EXPECT_EQ(row.find_path("a.b"), "7");  // a top-level name with a dot wins
  EXPECT_EQ(row.find_path("meta"), R"({"last":{"at":"2024-01-01"},"n":null})");
}

TEST(Row, RejectsTextThatIsNotOneJsonObject) {
  for (const char* text : {"", "[1]", "5", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x",
                           "{\"a\":tru}", "{a:1}", "{\"a\":\"x}", "{\"a\":[1,2}"}) {
    const std::string message =
        error_message<Error>([&] { Row{std::string(text)}; }, ErrorCode::kData);
    EXPECT_THAT(message, HasSubstr("row is not a JSON object")) << text;
  }
}

TEST(Row, RejectsNestingDeeperThanTheLimit) {
  std::string deep = "{\"a\":" + std::string(600, '[') + std::string(600, ']') + "}";
  EXPECT_THAT(error_message<Error>([&] { Row{deep}; }, ErrorCode::kData),
              HasSubstr("nested too deeply"));
}

TEST(Row, RebuildDropsAndAppendsFieldsKeepingBytes) {
  const Row row(R"({"id": 1, "__END_AT": "x", "v": "é"})");
  EXPECT_EQ(row.rebuild({"__END_AT"}, {{"__START_AT", "3"}, {"__END_AT", "null"}}),
            R"({"id":1,"v":"é","__START_AT":3,"__END_AT":null})");
  EXPECT_EQ(Row("{}").rebuild({}, {{"a", "1"}}), R"({"a":1})");
  EXPECT_EQ(row.rebuild({"id", "__END_AT", "v"}), "{}");
}

TEST(Row, SameFieldsIgnoresOrderExclusionsAndMissingNulls) {
  const Row a(R"({"id":1,"v":"x","n":null})");
  EXPECT_TRUE(a.same_fields(Row(R"({"v":"x","id":1})")));
  EXPECT_TRUE(a.same_fields(Row(R"({"v":"x","id":1,"__START_AT":5})"), {"__START_AT"}));
  EXPECT_FALSE(a.same_fields(Row(R"({"v":"x","id":1,"__START_AT":5})")));
  EXPECT_FALSE(a.same_fields(Row(R"({"v":"y","id":1})")));
  EXPECT_FALSE(a.same_fields(Row(R"({"v":"x","id":1,"extra":0})")));
  EXPECT_TRUE(Row(R"({"x":1,"x":2})").same_fields(Row(R"({"x":2})")));
}

TypedValue read(std::string_view json, const DataType& type) {
  return TypedValue::read(json, type);
}

TEST(TypedValue, TimestampsCompareAsInstants) {
  const DataType ts = DataType::Timestamp();
  // 10:00+02:00 is 08:00 UTC: earlier than 09:00Z, though it sorts later as text.
  EXPECT_LT(read(R"("2024-01-01T10:00:00+02:00")", ts), read(R"("2024-01-01T09:00:00Z")", ts));
  EXPECT_EQ(read(R"("2024-01-01T08:00:00.000000Z")", ts),
            read(R"("2024-01-01T10:00:00+02:00")", ts));
  EXPECT_EQ(read("1704096000", ts), read(R"("2024-01-01T08:00:00Z")", ts));  // epoch seconds
  const DataType ntz = DataType::TimestampNtz();
  EXPECT_LT(read(R"("2024-01-01T09:59:59.999999")", ntz), read(R"("2024-01-01T10:00:00")", ntz));
}

TEST(TypedValue, NumbersCompareNumerically) {
  EXPECT_LT(read("9", DataType::Long()), read("10", DataType::Long()));
  EXPECT_LT(read("-10", DataType::Integer()), read("\"-9\"", DataType::Integer()));
  EXPECT_EQ(read("7", DataType::Long()), read("\"7\"", DataType::Long()));
  EXPECT_LT(read("9.5", DataType::Double()), read("10", DataType::Double()));
  EXPECT_LT(read("\"99.99\"", DataType::Decimal(12, 2)),
            read("\"100.00\"", DataType::Decimal(12, 2)));
  EXPECT_EQ(read("\"1.50\"", DataType::Decimal(12, 2)), read("1.5", DataType::Decimal(12, 2)));
  EXPECT_LT(read("\"-99999999999999999999999999999999999.99\"", DataType::Decimal(38, 2)),
            read("\"-1\"", DataType::Decimal(38, 2)));
}

TEST(TypedValue, DoublesOrderAsSparkDoes) {
  const DataType d = DataType::Double();
  EXPECT_EQ(read("-0.0", d), read("0.0", d));
  EXPECT_LT(read("1e308", d), read("\"NaN\"", d));
  EXPECT_LT(read("\"inf\"", d), read("\"NaN\"", d));
  EXPECT_EQ(read("\"NaN\"", d), read("\"nan\"", d));
  EXPECT_LT(read("\"-inf\"", d), read("-1e308", d));
}

TEST(TypedValue, StringsDatesAndBooleans) {
  EXPECT_LT(read("\"B\"", DataType::String()), read("\"a\"", DataType::String()));  // bytes
  EXPECT_EQ(read("\"\\u0041\"", DataType::String()), read("\"A\"", DataType::String()));
  EXPECT_EQ(read("12", DataType::String()), read("\"12\"", DataType::String()));
  EXPECT_LT(read("\"2023-12-31\"", DataType::Date()), read("\"2024-01-01\"", DataType::Date()));
  EXPECT_LT(read("false", DataType::Boolean()), read("true", DataType::Boolean()));
  EXPECT_EQ(read("\"AAE=\"", DataType::Binary()), read("\"AAE=\"", DataType::Binary()));
}

TEST(TypedValue, NullSortsFirst) {
  EXPECT_TRUE(read("null", DataType::Long()).is_null());
  EXPECT_LT(read("null", DataType::Long()), read("-9223372036854775808", DataType::Long()));
  EXPECT_EQ(read(" null ", DataType::String()), TypedValue());
}

TEST(TypedValue, ValuesOfTheWrongTypeAreDataErrors) {
  const std::pair<const char*, DataType> cases[] = {{"\"abc\"", DataType::Long()},
                                                    {"{}", DataType::Long()},
                                                    {"\"2024-13-01\"", DataType::Date()},
                                                    {"5", DataType::Date()},
                                                    {"\"yesterday\"", DataType::Timestamp()},
                                                    {"\"1.234\"", DataType::Decimal(5, 2)},
                                                    {"1", DataType::Boolean()},
                                                    {"[1]", DataType::String()},
                                                    {"1", DataType::Binary()},
                                                    {"\"x\"", DataType::Double()},
                                                    {"99999999999999999999", DataType::Long()}};
  for (const auto& test_case : cases) {
    const std::string_view json = test_case.first;
    const DataType& type = test_case.second;
    const std::string message =
        error_message<Error>([&] { TypedValue::read(json, type); }, ErrorCode::kData);
    EXPECT_THAT(message, HasSubstr("is not a " + type.simple_string())) << json;
  }
}

TEST(TypedValue, NestedTypesAreNotSupported) {
  EXPECT_FALSE(TypedValue::supports(DataType::Array(DataType::Long())));
  EXPECT_FALSE(TypedValue::supports(DataType::Variant()));
  EXPECT_FALSE(TypedValue::supports(StructType{{"a", DataType::Long()}}));
  EXPECT_TRUE(TypedValue::supports(DataType::Decimal(10, 2)));
  EXPECT_TRUE(TypedValue::supports(DataType::Binary()));
  error_message<Error>([] { TypedValue::read("[1]", DataType::Array(DataType::Long())); },
                       ErrorCode::kInternal);
}

TEST(TypedValue, KeyEncodingIsEqualExactlyForEqualValues) {
  auto key = [](std::string_view json, const DataType& type) {
    std::string out;
    TypedValue::read(json, type).append_key(out);
    return out;
  };
  EXPECT_EQ(key("\"2024-01-01T10:00:00+02:00\"", DataType::Timestamp()),
            key("\"2024-01-01T08:00:00Z\"", DataType::Timestamp()));
  EXPECT_EQ(key("5", DataType::Long()), key("\"5\"", DataType::Long()));
  EXPECT_NE(key("5", DataType::Long()), key("50", DataType::Long()));
  EXPECT_EQ(key("-0.0", DataType::Double()), key("0", DataType::Double()));
  EXPECT_EQ(key("\"NaN\"", DataType::Double()), key("\"nan\"", DataType::Double()));
  EXPECT_EQ(key("\"1.50\"", DataType::Decimal(10, 2)), key("1.5", DataType::Decimal(10, 2)));
  // Length-prefixed strings: ("ab", "c") and ("a", "bc") cannot collide.
  std::string ab_c;
  std::string a_bc;
  TypedValue::read("\"ab\"", DataType::String()).append_key(ab_c);
  TypedValue::read("\"c\"", DataType::String()).append_key(ab_c);
  TypedValue::read("\"a\"", DataType::String()).append_key(a_bc);
  TypedValue::read("\"bc\"", DataType::String()).append_key(a_bc);
  EXPECT_NE(ab_c, a_bc);
  EXPECT_NE(key("null", DataType::String()), key("\"null\"", DataType::String()));
  EXPECT_EQ(key("\"-99999999999999999999999999999999999999\"", DataType::Decimal(38, 0)),
            "m-99999999999999999999999999999999999999;");
}

}  // namespace
}  // namespace lakeflow::pipeline
