#include "lakeflow/offset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

using ::testing::HasSubstr;

TEST(Offset, DefaultIsEmptyObject) {
  const Offset offset;
  EXPECT_FALSE(offset.is_null());
  EXPECT_TRUE(offset.empty());
  EXPECT_EQ(offset.to_json(), "{}");
  EXPECT_EQ(offset, Offset::parse("{}"));
  EXPECT_EQ(offset, Offset::parse(" { } "));
}

TEST(Offset, NullIsEmptyButNotEqualToEmptyObject) {
  const Offset null = Offset::parse("null");
  EXPECT_TRUE(null.is_null());
  EXPECT_TRUE(null.empty());
  EXPECT_EQ(null.to_json(), "null");
  EXPECT_EQ(null, Offset::null());
  EXPECT_NE(null, Offset());
  EXPECT_EQ(null.find("cursor"), nullptr);
}

TEST(Offset, SerializesCanonicallyWhateverTheInputLayout) {
  const Offset a =
      Offset::parse(R"({"page": 3, "cursor": "2024-05-01T00:00:00Z", "x": {"b":1,"a":0.5}})");
  const Offset b =
      Offset::parse(R"({"x":{"a":0.5,"b":1},"cursor":"2024-05-01T00:00:00Z","page":3})");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.to_json(), R"({"cursor":"2024-05-01T00:00:00Z","page":3,"x":{"a":0.5,"b":1}})");
  EXPECT_EQ(a.to_json(), b.to_json());
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(Offset::parse(a.to_json()), a);
}

TEST(Offset, EqualityLooksAtValuesAndTypes) {
  EXPECT_NE(Offset::parse(R"({"page":3})"), Offset::parse(R"({"page":4})"));
  EXPECT_NE(Offset::parse(R"({"page":3})"), Offset::parse(R"({"page":"3"})"));
  EXPECT_NE(Offset::parse(R"({"page":3})"), Offset::parse(R"({"page":3,"more":true})"));
}

TEST(Offset, SetBuildsTheSameOffsetAsParsing) {
  Offset built;
  built.set("page", 3);
  built.set("cursor", "abc");
  EXPECT_EQ(built, Offset::parse(R"({"cursor":"abc","page":3})"));
  ASSERT_NE(built.find("page"), nullptr);
  EXPECT_EQ(built.find("page")->as_int(), 3);
  EXPECT_EQ(built.find("missing"), nullptr);

  Offset from_null = Offset::null();
  from_null.set("page", 1);
  EXPECT_FALSE(from_null.is_null());
  EXPECT_EQ(from_null.to_json(), R"({"page":1})");

  EXPECT_EQ(Offset(JsonValue::Object{{"page", 1}}), from_null);
}

TEST(Offset, ParseRejectsNonObjects) {
  for (const char* bad : {"[]", "[1,2]", "1", "\"cursor\"", "true"}) {
    try {
      Offset::parse(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr("offset must be a JSON object or null, got ")) << bad;
    }
  }
}

TEST(Offset, ParseRejectsInvalidJson) {
  try {
    Offset::parse("{\"page\":");
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("invalid offset"));
  }
}

}  // namespace
}  // namespace lakeflow
