#include "lakeflow/cursor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/instant.h"

namespace lakeflow {
namespace {

using ::testing::HasSubstr;

std::int64_t micros(std::string_view instant) { return *parse_instant(instant); }

TieCursor from(std::string_view json) {
  return TieCursor::from_offset(Offset::parse(json), "demo: the offset of table 't'",
                                parse_instant);
}

TEST(TieCursor, StartsEmptyAndCoversNothing) {
  const TieCursor position = from("{}");
  EXPECT_FALSE(position.started());
  EXPECT_FALSE(position.covers(0, "a"));
  EXPECT_EQ(position.to_offset(), Offset());
}

TEST(TieCursor, KeepsTheKeysDeliveredAtTheLastValueWhateverTheirOrder) {
  TieCursor position;
  position.advance("2024-01-01T00:00:00Z", micros("2024-01-01T00:00:00Z"), "b");
  position.advance("2024-01-01T00:00:00.000Z", micros("2024-01-01T00:00:00Z"), "a");
  EXPECT_TRUE(position.covers(micros("2023-12-31T23:59:59Z"), "z"));
  EXPECT_TRUE(position.covers(micros("2024-01-01T00:00:00Z"), "a"));
  EXPECT_TRUE(position.covers(micros("2024-01-01T00:00:00Z"), "b"));
  EXPECT_FALSE(position.covers(micros("2024-01-01T00:00:00Z"), "c"));
  EXPECT_FALSE(position.covers(micros("2024-01-01T00:00:00.001Z"), "a"));
  EXPECT_EQ(position.to_offset().to_json(), R"({"cursor":"2024-01-01T00:00:00Z","ids":["a","b"]})");
  // A later value starts a new group, kept as the source wrote it; an earlier one is a broken
  // order.
  position.advance("2024-01-01T00:00:01+00:00", micros("2024-01-01T00:00:01Z"), "c");
  EXPECT_EQ(position.ties(), std::vector<std::string>{"c"});
  EXPECT_EQ(position.to_offset().to_json(),
            R"({"cursor":"2024-01-01T00:00:01+00:00","ids":["c"]})");
  EXPECT_THROW(position.advance("2024-01-01T00:00:00Z", micros("2024-01-01T00:00:00Z"), "d"),
               Error);
}

TEST(TieCursor, ACompleteGroupCoversEveryKeyAndRoundTrips) {
  TieCursor position = from(R"({"cursor":"2024-01-01T00:00:00Z","ids":["b","a","b"]})");
  EXPECT_EQ(position.ties(), (std::vector<std::string>{"a", "b"}));
  position.mark_complete();
  EXPECT_TRUE(position.covers(micros("2024-01-01T00:00:00Z"), "zzz"));
  EXPECT_EQ(position.to_offset().to_json(), R"({"complete":true,"cursor":"2024-01-01T00:00:00Z"})");
  EXPECT_EQ(from(position.to_offset().to_json()).to_offset(), position.to_offset());
  EXPECT_THROW(position.advance("2024-01-01T00:00:00Z", micros("2024-01-01T00:00:00Z"), "c"),
               Error);
}

TEST(TieCursor, RejectsOffsetsItDidNotWrite) {
  for (const char* text : {R"({"cursor":17})", R"({"cursor":"yesterday"})",
                           R"({"cursor":"2024-01-01T00:00:00Z","ids":"a"})",
                           R"({"cursor":"2024-01-01T00:00:00Z","ids":[1]})",
                           R"({"cursor":"2024-01-01T00:00:00Z","page":2})", R"({"ids":[]})",
                           R"({"cursor":"2024-01-01T00:00:00Z","complete":"yes"})",
                           R"({"cursor":"2024-01-01T00:00:00Z","complete":true,"ids":["a"]})"}) {
    try {
      from(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const ConfigError& error) {
      EXPECT_THAT(error.what(), HasSubstr("demo: the offset of table 't'")) << text;
      EXPECT_THAT(error.what(), HasSubstr("start from {}")) << text;
    }
  }
}

}  // namespace
}  // namespace lakeflow
