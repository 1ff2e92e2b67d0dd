#include "lakeflow/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

using ::testing::HasSubstr;

std::string py_float(double v) {
  std::string out;
  append_python_float(out, v);
  return out;
}

std::string json_string(std::string_view s, bool ascii_only = true) {
  std::string out;
  append_json_string(out, s, ascii_only);
  return out;
}

// Long runs of plain ASCII are copied in blocks; whatever sits inside or after a block (a quote,
// a control character, DEL, UTF-8, an invalid byte) is escaped exactly as on its own.
TEST(JsonString, EscapesEveryCharacterWhereverItFallsInALongText) {
  const std::vector<std::pair<std::string, std::string>> specials = {
      {"\"", "\\\""},      {"\\", "\\\\"},
      {"\n", "\\n"},       {"\x01", "\\u0001"},
      {"\x7f", "\\u007f"}, {"\xc3\xa9", "\\u00e9"},
      {"\xff", "\\ufffd"}, {"\xf0\x9f\x98\x80", "\\ud83d\\ude00"}};
  for (std::size_t prefix = 0; prefix < 20; ++prefix) {
    for (const auto& [special, escaped] : specials) {
      const std::string head(prefix, 'a');
      const std::string tail = "tail-of-seventeen";
      EXPECT_EQ(json_string(head + special + tail), "\"" + head + escaped + tail + "\"")
          << prefix << " " << escaped;
    }
  }
  EXPECT_EQ(json_string("ab\x7f"
                        "cdefghij\xc3\xa9",
                        /*ascii_only=*/false),
            "\"ab\x7f"
            "cdefghij\xc3\xa9\"");
}

// Expected values are what CPython prints for repr(float) / json.dumps.
TEST(JsonFloat, MatchesPythonReprInFixedRange) {
  EXPECT_EQ(py_float(0.1), "0.1");
  EXPECT_EQ(py_float(100.0), "100.0");
  EXPECT_EQ(py_float(1.5), "1.5");
  EXPECT_EQ(py_float(-1.25), "-1.25");
  EXPECT_EQ(py_float(0.0), "0.0");
  EXPECT_EQ(py_float(-0.0), "-0.0");
  EXPECT_EQ(py_float(0.0001), "0.0001");
  EXPECT_EQ(py_float(1e15), "1000000000000000.0");
  EXPECT_EQ(py_float(9999999999999998.0), "9999999999999998.0");
  EXPECT_EQ(py_float(123456789.125), "123456789.125");
  EXPECT_EQ(py_float(0.30000000000000004), "0.30000000000000004");
  EXPECT_EQ(py_float(1.0 / 3.0), "0.3333333333333333");
}

TEST(JsonFloat, MatchesPythonReprInScientificRange) {
  EXPECT_EQ(py_float(1e16), "1e+16");
  EXPECT_EQ(py_float(1.5e16), "1.5e+16");
  EXPECT_EQ(py_float(1e-5), "1e-05");
  EXPECT_EQ(py_float(1.5e-5), "1.5e-05");
  EXPECT_EQ(py_float(1.5e300), "1.5e+300");
  EXPECT_EQ(py_float(-2.5e-100), "-2.5e-100");
  EXPECT_EQ(py_float(5e-324), "5e-324");
  EXPECT_EQ(py_float(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
}

TEST(JsonFloat, WritesNonFiniteAsPythonDoes) {
  EXPECT_EQ(py_float(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(py_float(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(py_float(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(JsonString, UsesShortEscapesAndLowercaseUnicodeEscapes) {
  EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_string("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(json_string(std::string_view("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(json_string("/"), R"("/")");
  EXPECT_EQ(json_string("\x7f"), R"("\u007f")");
  EXPECT_EQ(json_string("\xc3\xa9"), R"("\u00e9")");                // é
  EXPECT_EQ(json_string("\xe2\x82\xac"), R"("\u20ac")");            // €
  EXPECT_EQ(json_string("\xef\xbf\xbf"), R"("\uffff")");            // U+FFFF
  EXPECT_EQ(json_string("\xf0\x9f\x9a\x80"), R"("\ud83d\ude80")");  // 🚀, a surrogate pair
  EXPECT_EQ(json_string("\xf4\x8f\xbf\xbf"), R"("\udbff\udfff")");  // U+10FFFF
}

TEST(JsonString, KeepsNonAsciiWhenNotAsciiOnly) {
  EXPECT_EQ(json_string("\xc3\xa9\x7f\n", false), "\"\xc3\xa9\x7f\\n\"");
}

TEST(JsonString, ReplacesInvalidUtf8WithReplacementCharacter) {
  EXPECT_EQ(json_string("a\xff"
                        "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(json_string("\xc3"), R"("\ufffd")");                      // truncated
  EXPECT_EQ(json_string("\xc0\xaf"), R"("\ufffd\ufffd")");            // overlong
  EXPECT_EQ(json_string("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // encoded surrogate
}

TEST(JsonValue, DumpsCompactWithSortedKeys) {
  JsonValue v = JsonValue::Object{
      {"b", 1},
      {"a", JsonValue::Array{JsonValue(), true, false, 2.5, "x"}},
      {"B", JsonValue::Object{{"z", 1}, {"y", JsonValue::Object{}}}},
      {"\xc3\xa9", JsonValue::Array{}},
  };
  EXPECT_EQ(v.dump(), R"({"B":{"y":{},"z":1},"a":[null,true,false,2.5,"x"],"b":1,"\u00e9":[]})");
}

TEST(JsonValue, ParseThenDumpMatchesPythonJsonDumps) {
  // Right-hand sides are python3 -c 'json.dumps(json.loads(x), sort_keys=True,
  // separators=(",",":"))'.
  const std::pair<const char*, const char*> cases[] = {
      {R"( { "z" : 1 , "a" : [ 1.0, 2, -3, 1e2, 1E-7 ] } )",
       R"({"a":[1.0,2,-3,100.0,1e-07],"z":1})"},
      {R"({"b":1,"a":2,"a":3})", R"({"a":3,"b":1})"},
      {R"("\u00e9\ud83d\ude80\/")", R"("\u00e9\ud83d\ude80/")"},
      {"\"\xc3\xa9\"", R"("\u00e9")"},
      {"-0", "0"},
      {"-0.0", "-0.0"},
      {"9223372036854775807", "9223372036854775807"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"[[],{},[{}]]", "[[],{},[{}]]"},
      {"null", "null"},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(JsonValue::parse(input).dump(), expected) << input;
  }
}

TEST(JsonValue, IntegersThatFitInt64AreIntsOthersAreDoubles) {
  EXPECT_TRUE(JsonValue::parse("42").is_int());
  EXPECT_EQ(JsonValue::parse("-9223372036854775808").as_int(),
            std::numeric_limits<std::int64_t>::min());
  const JsonValue big = JsonValue::parse("18446744073709551615");
  EXPECT_TRUE(big.is_double());
  EXPECT_EQ(big.dump(), "1.8446744073709552e+19");
  EXPECT_TRUE(JsonValue::parse("1.0").is_double());
  EXPECT_DOUBLE_EQ(JsonValue::parse("7").as_double(), 7.0);
}

TEST(JsonValue, EqualityIsDeep) {
  EXPECT_EQ(JsonValue::parse(R"({"a":[1,{"b":null}]})"),
            JsonValue::parse(R"({ "a" : [1, {"b": null}] })"));
  EXPECT_NE(JsonValue::parse(R"({"a":[1,{"b":null}]})"), JsonValue::parse(R"({"a":[1,{"b":0}]})"));
  EXPECT_NE(JsonValue(1), JsonValue(1.0));
}

TEST(JsonValue, ParseRejectsInvalidJsonNamingWhat) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":}", "nul", "1 2", "\"\\x\""}) {
    try {
      JsonValue::parse(bad, "offset");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr("invalid offset: ")) << bad;
      EXPECT_EQ(e.code(), ErrorCode::kConfig);
    }
  }
}

TEST(JsonValue, TypedAccessRejectsOtherTypes) {
  const JsonValue v = JsonValue::parse(R"({"s":"x","n":1})");
  EXPECT_EQ(v.find("s")->as_string(), "x");
  EXPECT_THROW(v.find("s")->as_int(), ConfigError);
  EXPECT_THROW(v.find("n")->as_string(), ConfigError);
  EXPECT_THROW(v.as_array(), ConfigError);
  EXPECT_THROW(JsonValue("x").as_double(), ConfigError);
  EXPECT_THROW(JsonValue(1).as_bool(), ConfigError);
  try {
    (void)v.find("s")->as_object();
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("expected a JSON object but got string \"x\""));
  }
}

TEST(JsonValue, FindAndSubscript) {
  JsonValue v;
  EXPECT_EQ(v.find("a"), nullptr);
  v["a"]["b"] = 1;
  v["c"] = "x";
  EXPECT_EQ(v.dump(), R"({"a":{"b":1},"c":"x"})");
  ASSERT_NE(v.find("a"), nullptr);
  EXPECT_EQ(v.find("a")->find("b")->as_int(), 1);
  EXPECT_EQ(v.find("missing"), nullptr);
  EXPECT_EQ(JsonValue(3).find("a"), nullptr);
  JsonValue number(3);
  EXPECT_THROW(number["a"], ConfigError);
}

// --- lakeflow::Error helpers (src/core/error.cc) -----------------------------------------------

TEST(Error, CodesHaveStableNamesAndExitStatuses) {
  EXPECT_EQ(to_string(ErrorCode::kUsage), "usage");
  EXPECT_EQ(to_string(ErrorCode::kConfig), "config");
  EXPECT_EQ(to_string(ErrorCode::kUnknownTable), "unknown_table");
  EXPECT_EQ(to_string(ErrorCode::kSchema), "schema");
  EXPECT_EQ(to_string(ErrorCode::kSource), "source");
  EXPECT_EQ(to_string(ErrorCode::kData), "data");
  EXPECT_EQ(to_string(ErrorCode::kNotImplemented), "not_implemented");
  EXPECT_EQ(to_string(ErrorCode::kInternal), "internal");
  EXPECT_EQ(to_string(ErrorCode::kAccess), "access");
  EXPECT_EQ(to_string(ErrorCode::kConflict), "conflict");
  EXPECT_EQ(exit_status(ErrorCode::kUsage), 2);
  EXPECT_EQ(exit_status(ErrorCode::kConfig), 2);
  EXPECT_EQ(exit_status(ErrorCode::kUnknownTable), 2);
  EXPECT_EQ(exit_status(ErrorCode::kSchema), 2);
  EXPECT_EQ(exit_status(ErrorCode::kSource), 3);
  EXPECT_EQ(exit_status(ErrorCode::kData), 4);
  EXPECT_EQ(exit_status(ErrorCode::kNotImplemented), 1);
  EXPECT_EQ(exit_status(ErrorCode::kInternal), 1);
  EXPECT_EQ(exit_status(ErrorCode::kAccess), 2);
  EXPECT_EQ(exit_status(ErrorCode::kConflict), 5);
}

TEST(Error, UnknownTableSaysHowToListTables) {
  const UnknownTableError e("foo", "example");
  EXPECT_STREQ(e.what(),
               "unknown table 'foo' for connector 'example': run `lakeflow tables -c example` to "
               "list its tables");
  EXPECT_EQ(e.table(), "foo");
  EXPECT_EQ(e.code(), ErrorCode::kUnknownTable);
}

TEST(Error, ConversionErrorNamesTableRecordAndField) {
  const ConversionError e("obs", 12, "name[2].given[0]", "string", "42", "not a string");
  EXPECT_STREQ(e.what(),
               "table 'obs', record 12, field 'name[2].given[0]': expected string, got 42: not a "
               "string");
  EXPECT_EQ(e.code(), ErrorCode::kData);
  EXPECT_EQ(e.table(), "obs");
  EXPECT_EQ(e.record_index(), 12u);
  EXPECT_EQ(e.field_path(), "name[2].given[0]");
  EXPECT_EQ(e.expected_type(), "string");
  EXPECT_EQ(e.excerpt(), "42");
  EXPECT_EQ(e.reason(), "not a string");

  const ConversionError whole("obs", 0, "", "struct<id:bigint>", "[1]", "not an object");
  EXPECT_STREQ(whole.what(),
               "table 'obs', record 0: expected struct<id:bigint>, got [1]: not an "
               "object");
}

}  // namespace
}  // namespace lakeflow
