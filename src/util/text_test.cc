#include "util/text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace lakeflow::text {
namespace {

using ::testing::HasSubstr;

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

TEST(Text, IntegersAreWholeNumbersReadExactly) {
  EXPECT_EQ(parse_integer("+12", -100, 100).value, 12);
  EXPECT_FALSE(parse_integer("-", -100, 100).ok());
  EXPECT_FALSE(parse_integer("12abc", -100, 100).ok());
  EXPECT_THAT(parse_integer("-9.99", -100, 100).error, HasSubstr("fractional part"));
  EXPECT_EQ(parse_integer("-9.000", -100, 100).value, -9);
  EXPECT_EQ(parse_integer("1E2", -100, 100).value, 100);
  EXPECT_THAT(parse_integer("1E3", -100, 100).error, HasSubstr("out of range"));
  EXPECT_EQ(parse_integer("9223372036854775807.0", std::numeric_limits<std::int64_t>::min(),
                          std::numeric_limits<std::int64_t>::max())
                .value,
            std::numeric_limits<std::int64_t>::max());
  EXPECT_THAT(parse_integer("9223372036854775808", std::numeric_limits<std::int64_t>::min(),
                            std::numeric_limits<std::int64_t>::max())
                  .error,
              HasSubstr("out of range"));
}

TEST(Text, UtcOffsetsOfTheTableOption) {
  EXPECT_EQ(parse_utc_offset("UTC").value, 0);
  EXPECT_EQ(parse_utc_offset("+05:30").value, 19800);
  EXPECT_EQ(parse_utc_offset("-01:00").value, -3600);
  EXPECT_FALSE(parse_utc_offset("Europe/Berlin").ok());
  EXPECT_FALSE(parse_utc_offset("+5").ok());
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
