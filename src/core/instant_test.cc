#include "lakeflow/instant.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace lakeflow
