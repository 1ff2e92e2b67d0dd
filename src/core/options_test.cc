#include "lakeflow/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace std::chrono_literals;

// Runs `f`, expects a ConfigError and returns its message.
template <typename F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConfig);
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

TEST(Options, FindContainsSetErase) {
  Options options{{"a", "1"}};
  EXPECT_TRUE(options.contains("a"));
  EXPECT_FALSE(options.contains("b"));
  EXPECT_EQ(options.find("a"), "1");
  EXPECT_EQ(options.find("b"), std::nullopt);
  options.set("b", "2");
  EXPECT_EQ(options.size(), 2u);
  EXPECT_TRUE(options.erase("a"));
  EXPECT_FALSE(options.erase("a"));
  EXPECT_EQ(options.size(), 1u);
  EXPECT_FALSE(options.empty());
  EXPECT_TRUE(Options().empty());
}

TEST(Options, MergedWithReplacesOverriddenKeysOnly) {
  const Options base{{"a", "1"}, {"b", "2"}};
  const Options merged = base.merged_with(Options{{"b", "20"}, {"c", "30"}});
  EXPECT_EQ(merged, (Options{{"a", "1"}, {"b", "20"}, {"c", "30"}}));
  EXPECT_EQ(base, (Options{{"a", "1"}, {"b", "2"}}));  // unchanged
}

TEST(Options, GetStringRequiredAndDefault) {
  const Options options{{"base_url", "https://x"}, {"blank", ""}};
  EXPECT_EQ(options.get_string("base_url"), "https://x");
  EXPECT_EQ(options.get_string("other", "dflt"), "dflt");
  EXPECT_EQ(options.get_string("base_url", "dflt"), "https://x");
  EXPECT_EQ(options.get_string("blank", "dflt"), "dflt");
}

TEST(Options, GetStringMissingNamesTheOption) {
  const Options options;
  EXPECT_EQ(config_error([&] { options.get_string("base_url"); }),
            "missing required option 'base_url'");
}

TEST(Options, EmptyValueCountsAsMissing) {
  const Options options{{"base_url", ""}};
  EXPECT_THAT(config_error([&] { options.get_string("base_url"); }),
              HasSubstr("missing required option 'base_url'"));
  EXPECT_THAT(config_error([&] { options.get_int("base_url"); }),
              HasSubstr("missing required option 'base_url'"));
}

TEST(Options, EveryRequiredGetterReportsMissing) {
  const Options options;
  for (const std::string& message :
       {config_error([&] { options.get_int("k1"); }), config_error([&] { options.get_bool("k1"); }),
        config_error([&] { options.get_duration("k1"); }),
        config_error([&] { options.get_enum("k1", {"a"}); }),
        config_error([&] { options.get_list("k1"); })}) {
    EXPECT_EQ(message, "missing required option 'k1'");
  }
}

TEST(Options, GetIntParsesSignedDecimal) {
  const Options options{{"a", "42"},
                        {"b", "-7"},
                        {"c", "+8"},
                        {"d", " 9 "},
                        {"max", "9223372036854775807"},
                        {"min", "-9223372036854775808"}};
  EXPECT_EQ(options.get_int("a"), 42);
  EXPECT_EQ(options.get_int("b"), -7);
  EXPECT_EQ(options.get_int("c"), 8);
  EXPECT_EQ(options.get_int("d"), 9);
  EXPECT_EQ(options.get_int("max"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(options.get_int("min"), std::numeric_limits<std::int64_t>::min());
}

TEST(Options, GetIntDefaultUsedOnlyWhenAbsent) {
  const Options options{{"page_size", "50"}};
  EXPECT_EQ(options.get_int("page_size", 100, 1, 1000), 50);
  EXPECT_EQ(options.get_int("other", 100, 1, 1000), 100);
}

TEST(Options, GetIntRejectsNonInteger) {
  const Options options{{"max_records_per_batch", "lots"}};
  EXPECT_EQ(config_error([&] { options.get_int("max_records_per_batch", 1, 100000); }),
            "option 'max_records_per_batch': expected an integer in [1, 100000], got 'lots'");
}

TEST(Options, GetIntRejectsMalformedNumbers) {
  for (const char* bad : {"1.5", "12abc", "0x10", "+-1", "+", "-", "1 2", "1e3"}) {
    const Options options{{"n", bad}};
    EXPECT_THAT(config_error([&] { options.get_int("n"); }),
                AllOf(HasSubstr("option 'n': expected an integer"),
                      HasSubstr(std::string("got '") + bad + "'")))
        << bad;
  }
}

TEST(Options, GetIntRejectsOutOfRange) {
  const Options options{{"n", "0"}, {"big", "100001"}};
  EXPECT_THAT(config_error([&] { options.get_int("n", 1, 100000); }),
              HasSubstr("expected an integer in [1, 100000], got '0'"));
  EXPECT_THAT(config_error([&] { options.get_int("big", 5, 1, 100000); }),
              HasSubstr("expected an integer in [1, 100000], got '100001'"));
}

TEST(Options, GetIntDescribesOpenRanges) {
  const Options options{{"n", "-1"}};
  EXPECT_THAT(config_error([&] { options.get_int("n", 0); }),
              HasSubstr("expected an integer >= 0, got '-1'"));
  EXPECT_THAT(
      config_error([&] { options.get_int("n", 1, std::numeric_limits<std::int64_t>::min(), -2); }),
      HasSubstr("expected an integer <= -2, got '-1'"));
}

TEST(Options, GetIntRejectsOverflow) {
  const Options options{{"n", "9223372036854775808"}};
  EXPECT_THAT(config_error([&] { options.get_int("n"); }),
              HasSubstr("expected an integer, got '9223372036854775808'"));
}

TEST(Options, GetBoolAcceptsCommonSpellings) {
  for (const char* yes : {"true", "TRUE", "Yes", "on", "1"}) {
    EXPECT_TRUE(Options({{"b", yes}}).get_bool("b")) << yes;
  }
  for (const char* no : {"false", "False", "NO", "off", "0"}) {
    EXPECT_FALSE(Options({{"b", no}}).get_bool("b")) << no;
  }
  EXPECT_TRUE(Options().get_bool("b", true));
  EXPECT_FALSE(Options({{"b", "off"}}).get_bool("b", true));
}

TEST(Options, GetBoolRejectsOtherValues) {
  const Options options{{"verify_tls", "maybe"}};
  EXPECT_EQ(config_error([&] { options.get_bool("verify_tls", true); }),
            "option 'verify_tls': expected a boolean (true/false, yes/no, on/off, 1/0), got "
            "'maybe'");
}

TEST(Options, GetDurationUnits) {
  const Options options{{"ms", "250ms"}, {"s", "30s"},  {"m", "5m"},   {"h", "2h"},
                        {"d", "1d"},     {"bare", "7"}, {"zero", "0"}, {"spaced", " 10 s "}};
  EXPECT_EQ(options.get_duration("ms"), 250ms);
  EXPECT_EQ(options.get_duration("s"), 30s);
  EXPECT_EQ(options.get_duration("m"), 5min);
  EXPECT_EQ(options.get_duration("h"), 2h);
  EXPECT_EQ(options.get_duration("d"), 24h);
  EXPECT_EQ(options.get_duration("bare"), 7s);
  EXPECT_EQ(options.get_duration("zero"), 0ms);
  EXPECT_EQ(options.get_duration("spaced"), 10s);
  EXPECT_EQ(options.get_duration("absent", 3s), 3s);
  EXPECT_EQ(options.get_duration("m", 3s), 5min);
}

// Upstream writes delays as float seconds ("1.0", "0.5"); a fraction is fine while the result is
// a whole number of milliseconds.
TEST(Options, GetDurationAcceptsFractions) {
  const Options options{{"float", "1.0"},
                        {"half", "0.5"},
                        {"unit", "1.5s"},
                        {"min", "0.25m"},
                        {"zeros", "2.50000000000000000000"}};
  EXPECT_EQ(options.get_duration("float"), 1s);
  EXPECT_EQ(options.get_duration("half"), 500ms);
  EXPECT_EQ(options.get_duration("unit"), 1500ms);
  EXPECT_EQ(options.get_duration("min"), 15s);
  EXPECT_EQ(options.get_duration("zeros"), 2500ms);
  for (const char* fine : {"0.0001", "1.5ms", "0.0000000000000000001s"}) {
    const Options bad{{"delay", fine}};
    EXPECT_THAT(config_error([&] { bad.get_duration("delay"); }),
                HasSubstr("expected a duration in whole milliseconds"))
        << fine;
  }
}

TEST(Options, GetDurationRejectsNegativeAndUnknownUnits) {
  for (const char* bad : {"-5s", "5w", "soon", "1.", ".5s", "s", "5 sec", "1.5.5s"}) {
    const Options options{{"timeout", bad}};
    EXPECT_THAT(config_error([&] { options.get_duration("timeout"); }),
                AllOf(HasSubstr("option 'timeout': expected a non-negative duration such as 250ms, "
                                "1.5s, 30s, 5m, 2h or 1d"),
                      HasSubstr(std::string("got '") + bad + "'")))
        << bad;
  }
}

TEST(Options, GetDurationRejectsOverflow) {
  // Fits in int64 as days, but not as milliseconds.
  const Options options{{"timeout", "106751991167301d"}, {"huge", "99999999999999999999"}};
  EXPECT_THAT(config_error([&] { options.get_duration("timeout"); }),
              HasSubstr("option 'timeout': duration '106751991167301d' is too large"));
  EXPECT_THAT(config_error([&] { options.get_duration("huge"); }), HasSubstr("is too large"));
  // The largest whole number of days that still fits is accepted.
  EXPECT_EQ(Options({{"t", "106751991167d"}}).get_duration("t"), std::chrono::days(106751991167));
}

TEST(Options, GetEnumAcceptsExactNames) {
  const Options options{{"auth_type", "bearer"}};
  EXPECT_EQ(options.get_enum("auth_type", {"none", "bearer", "client_secret"}), "bearer");
  EXPECT_EQ(options.get_enum("other", {"none", "bearer"}, "none"), "none");
}

TEST(Options, GetEnumRejectsOthersListingAccepted) {
  const Options options{{"auth_type", "oauth"}, {"upper", "BEARER"}};
  EXPECT_EQ(config_error([&] {
              options.get_enum("auth_type", {"none", "bearer", "client_secret"});
            }),
            "option 'auth_type': expected one of none, bearer, client_secret, got 'oauth'");
  EXPECT_THAT(config_error([&] {
                options.get_enum("upper", {"none", "bearer"}, "none");
              }),
              HasSubstr("got 'BEARER'"));
}

TEST(Options, GetListSplitsTrimsAndDropsEmptyItems) {
  const Options options{{"tables", " a, b ,,c ,"}, {"single", "x"}, {"commas", " , ,"}};
  EXPECT_THAT(options.get_list("tables"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(options.get_list("single"), ElementsAre("x"));
  EXPECT_THAT(options.get_list("commas"), IsEmpty());
  EXPECT_THAT(options.get_list("absent", {"d"}), ElementsAre("d"));
}

TEST(Options, GetListReadsJsonArrays) {
  const Options options{{"tables", R"(["a,b", " c ", ""])"}, {"spaced", R"(  ["x"])"}};
  EXPECT_THAT(options.get_list("tables"), ElementsAre("a,b", " c "));
  EXPECT_THAT(options.get_list("spaced"), ElementsAre("x"));
}

TEST(Options, GetListRejectsBadJson) {
  const Options options{{"tables", "[\"a\","}, {"numbers", "[1, 2]"}};
  EXPECT_THAT(config_error([&] { options.get_list("tables"); }),
              HasSubstr("option 'tables': expected a JSON array of strings or a comma-separated "
                        "list, got '[\"a\",'"));
  EXPECT_THAT(config_error([&] { options.get_list("numbers"); }),
              HasSubstr("option 'numbers': expected a JSON array of strings"));
}

TEST(Options, LongValuesAreShortenedInMessages) {
  const std::string long_value(500, 'x');
  const Options options{{"n", long_value}};
  const std::string message = config_error([&] { options.get_int("n"); });
  EXPECT_THAT(message, HasSubstr("(500 bytes)"));
  EXPECT_THAT(message, Not(HasSubstr(long_value)));
}

TEST(Options, SecretValuesAreRedacted) {
  for (const char* key : {"client_secret", "password", "access_token", "api_key", "private_key",
                          "apiKey", "privateKeyId", "DB_PASSWORD"}) {
    const Options options{{key, "hunter2-secret-value"}};
    for (const std::string& message :
         {config_error([&] { options.get_int(key); }), config_error([&] { options.get_bool(key); }),
          config_error([&] { options.get_duration(key); }),
          config_error([&] { options.get_enum(key, {"a"}); })}) {
      EXPECT_THAT(message, AllOf(HasSubstr("<redacted>"), Not(HasSubstr("hunter2")))) << key;
      EXPECT_THAT(message, HasSubstr(std::string("option '") + key + "'"));
    }
  }
}

TEST(Options, SecretValuesAreRedactedInListErrors) {
  const Options options{{"api_keys", "[\"hunter2\", 3]"}, {"api_key", "[\"hunter2\""}};
  EXPECT_THAT(config_error([&] { options.get_list("api_key"); }),
              AllOf(HasSubstr("<redacted>"), Not(HasSubstr("hunter2"))));
  EXPECT_THAT(config_error([&] { options.get_list("api_keys"); }),
              AllOf(HasSubstr("<redacted>"), Not(HasSubstr("hunter2"))));
}

TEST(Options, ColumnKeyListsAreNotSecrets) {
  for (const char* key : {"primary_keys", "sort_keys", "primaryKeys"}) {
    const Options options{{key, "[1]"}};
    EXPECT_THAT(config_error([&] { options.get_list(key); }), HasSubstr("got '[1]'")) << key;
  }
}

TEST(Options, FromJsonConvertsScalarsAndNestedValues) {
  const Options options = Options::from_json(
      R"({"base_url": "https://x", "page_size": 100, "ratio": 0.5, "verify": true,
          "skip": null, "nested": {"b": 1, "a": [1, "x"]}, "list": ["a", "b"]})");
  EXPECT_EQ(options, (Options{{"base_url", "https://x"},
                              {"page_size", "100"},
                              {"ratio", "0.5"},
                              {"verify", "true"},
                              {"nested", R"({"a":[1,"x"],"b":1})"},
                              {"list", R"(["a","b"])"}}));
  EXPECT_FALSE(options.contains("skip"));
  EXPECT_THAT(options.get_list("list"), ElementsAre("a", "b"));
  EXPECT_EQ(options.get_int("page_size"), 100);
}

TEST(Options, FromJsonRejectsNonObjects) {
  EXPECT_THAT(config_error([] { Options::from_json("[1, 2]", "dev_config.json"); }),
              HasSubstr("dev_config.json: expected a JSON object of options"));
}

TEST(Options, FromJsonRejectsInvalidJsonNamingTheSource) {
  EXPECT_THAT(config_error([] { Options::from_json("{\"a\": ", "dev_config.json"); }),
              HasSubstr("dev_config.json"));
}

}  // namespace
}  // namespace lakeflow
