#include "cli/ndjson.h"

#include <gtest/gtest.h>

namespace lakeflow::cli {
namespace {

std::string line(std::string_view record) {
  std::string out = "prefix|";
  append_ndjson_line(out, record);
  return out;
}

TEST(AppendNdjsonLine, CopiesSingleLineRecordsAsTheyAre) {
  EXPECT_EQ(line(R"({"a": 1,  "b":[1, 2]})"), "prefix|{\"a\": 1,  \"b\":[1, 2]}\n");
}

TEST(AppendNdjsonLine, MinifiesRecordsWithLineBreaksBetweenTokens) {
  EXPECT_EQ(line("{\n  \"a\": 1,\r\n  \"b\": [\"x y\",\n 2]\n}\n"),
            "prefix|{\"a\":1,\"b\":[\"x y\",2]}\n");
}

TEST(AppendNdjsonLine, KeepsEscapedLineBreaksInsideStrings) {
  EXPECT_EQ(line("{\n\"a\": \"one\\ntwo\"}"), "prefix|{\"a\":\"one\\ntwo\"}\n");
}

TEST(AppendNdjsonLine, EscapesRawLineBreaksInsideStrings) {
  EXPECT_EQ(line("{\"a\": \"one\ntwo\r\"}"), "prefix|{\"a\":\"one\\ntwo\\r\"}\n");
}

TEST(AppendNdjsonLine, UnterminatedStringStillMakesOneLine) {
  const std::string out = line("{\"a\": \"one\ntwo");
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(AppendNdjsonLine, LongRecordsAreMinifiedWhole) {
  std::string record = "[\n";
  std::string expected = "[";
  for (int i = 0; i < 1000; ++i) {
    record += (i == 0 ? "  " : ",\n  ") + std::to_string(i);
    expected += (i == 0 ? "" : ",") + std::to_string(i);
  }
  record += "\n]";
  expected += "]";
  std::string out;
  append_ndjson_line(out, record);
  EXPECT_EQ(out, expected + "\n");
}

TEST(SingleLine, ReplacesLineBreaksAndDropsTrailingSpace) {
  EXPECT_EQ(single_line("bad\nthing\r\nhere\n"), "bad thing  here");
  EXPECT_EQ(single_line("fine"), "fine");
}

}  // namespace
}  // namespace lakeflow::cli
