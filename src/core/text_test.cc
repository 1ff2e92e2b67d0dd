#include "core/text.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lakeflow::text {
namespace {

TEST(Text, DaysFromCivilRoundTripsOverFourCenturies) {
  std::string out;
  for (std::int32_t days = -146097 * 2; days <= 146097 * 2; days += 13) {
    out.clear();
    append_date(out, days);
    Parsed<std::int32_t> back = parse_date(out);
    ASSERT_TRUE(back.ok()) << out;
    ASSERT_EQ(back.value, days) << out;
  }
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_FALSE(days_from_civil(1900, 2, 29));
  EXPECT_TRUE(days_from_civil(2000, 2, 29));
}

TEST(Text, TimestampPrintsMicrosAndHandlesNegativeEpoch) {
  std::string out;
  append_timestamp(out, -1, true);
  EXPECT_EQ(out, "1969-12-31T23:59:59.999999Z");
}

TEST(Text, DecimalPrinting) {
  std::string out;
  append_decimal(out, -5, 3);
  EXPECT_EQ(out, "-0.005");
  out.clear();
  append_decimal(out, 120, 0);
  EXPECT_EQ(out, "120");
}

TEST(Text, IntegerParsingFollowsPythonInt) {
  EXPECT_EQ(parse_integer("+12", -100, 100).value, 12);
  EXPECT_FALSE(parse_integer("-", -100, 100).ok());
  EXPECT_FALSE(parse_integer("12abc", -100, 100).ok());
  EXPECT_EQ(parse_integer("-9.99", -100, 100).value, -9);
}

TEST(Text, DoubleParsingFollowsPythonFloat) {
  EXPECT_TRUE(std::isinf(parse_double("inf").value));
  EXPECT_TRUE(std::isinf(parse_double("-Infinity").value));
  EXPECT_TRUE(std::isnan(parse_double("nan").value));
  EXPECT_EQ(parse_double(" +2.5 ").value, 2.5);
  EXPECT_FALSE(parse_double("2.5x").ok());
}

TEST(Text, DecimalAtFullPrecisionDoesNotOverflow) {
  EXPECT_FALSE(parse_decimal("1e40", 38, 0).ok());
  EXPECT_FALSE(parse_decimal("99999999999999999999999999999999999999e1", 38, 0).ok());
  EXPECT_TRUE(parse_decimal("9999999999999999999999999999999999999e1", 38, 0).ok());
  EXPECT_FALSE(parse_decimal("1", 38, 38).ok());
  EXPECT_TRUE(parse_decimal("0.5", 38, 38).ok());
}

}  // namespace
}  // namespace lakeflow::text
