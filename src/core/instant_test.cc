#include "lakeflow/instant.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace lakeflow {
namespace {

TEST(Instant, ReadsOffsetsAndFractions) {
  EXPECT_EQ(parse_instant("1970-01-01T00:00:01Z"), 1000000);
  EXPECT_EQ(parse_instant("1970-01-01T01:00:01.5+01:00"), 1500000);
  EXPECT_EQ(parse_instant("2024-05-01T10:00:00.123456789Z"),
            parse_instant("2024-05-01T10:00:00.123456Z"));
  EXPECT_EQ(parse_instant("1970-01-01T00:00:00"), 0);
}

TEST(Instant, RejectsWhatIsNotADateTime) {
  EXPECT_EQ(parse_instant("yesterday"), std::nullopt);
  EXPECT_EQ(parse_instant(""), std::nullopt);
  EXPECT_EQ(parse_instant("2024-13-01T00:00:00Z"), std::nullopt);
}

TEST(Instant, FormatsAsUtcWithMicroseconds) {
  EXPECT_EQ(format_instant(1500000), "1970-01-01T00:00:01.500000Z");
  EXPECT_EQ(parse_instant(format_instant(1717236000123456)), 1717236000123456);
}

TEST(Instant, FormatsWithAChosenFractionalPrecision) {
  const std::int64_t t = *parse_instant("2024-05-01T08:00:00.123456Z");
  EXPECT_EQ(format_instant(t, 0), "2024-05-01T08:00:00Z");
  EXPECT_EQ(format_instant(t, 3), "2024-05-01T08:00:00.123Z");
  EXPECT_EQ(format_instant(t, 6), format_instant(t));
  EXPECT_EQ(format_instant(t, 9), "2024-05-01T08:00:00.123456000Z");
  // Fewer digits truncate toward the past, before the epoch too.
  EXPECT_EQ(format_instant(*parse_instant("2024-05-01T08:00:00.999999Z"), 1),
            "2024-05-01T08:00:00.9Z");
  EXPECT_EQ(format_instant(-1, 3), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_instant(-1, 0), "1969-12-31T23:59:59Z");
  for (int digits = 0; digits <= 9; ++digits) {
    EXPECT_LE(*parse_instant(format_instant(t, digits)), t) << digits;
  }
  EXPECT_THROW(format_instant(t, 10), std::invalid_argument);
  EXPECT_THROW(format_instant(t, -1), std::invalid_argument);
}

}  // namespace
}  // namespace lakeflow
