#include "pipeline/config_file.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<YamlFile::Entry> entries_of(const YamlFile& file) {
  return file.entries(file.root(), "the test file", {"source_table", "destination_table"});
}

TEST(YamlFile, SyntaxErrorNamesFileLineAndColumn) {
  const std::string message =
      error_message<ConfigError>([] { YamlFile("a: [1, 2\nb: 3\n", "bad.yaml"); });
  EXPECT_THAT(message, HasSubstr("bad.yaml:2:"));
  EXPECT_THAT(message, HasSubstr("invalid YAML/JSON"));
}

TEST(YamlFile, UnknownKeyNamesLineColumnAndClosestKey) {
  const YamlFile file("source_table: users\ndestination_tabel: u\n", "spec.yaml");
  const std::string message = error_message<ConfigError>([&] { entries_of(file); });
  EXPECT_THAT(message,
              HasSubstr("spec.yaml:2:1: unknown key 'destination_tabel' in the test file"));
  EXPECT_THAT(message, HasSubstr("did you mean 'destination_table'?"));
  EXPECT_THAT(message, HasSubstr("allowed keys: source_table, destination_table"));
}

TEST(YamlFile, UnknownKeyFarFromEveryAllowedKeyHasNoSuggestion) {
  const YamlFile file("wholly_unrelated: 1\n", "spec.yaml");
  const std::string message = error_message<ConfigError>([&] { entries_of(file); });
  EXPECT_THAT(message, HasSubstr("unknown key 'wholly_unrelated'"));
  EXPECT_THAT(message, Not(HasSubstr("did you mean")));
}

TEST(YamlFile, DuplicateKeyIsAnErrorAtTheSecondOccurrence) {
  const YamlFile file("source_table: a\nsource_table: b\n", "spec.yaml");
  EXPECT_THAT(error_message<ConfigError>([&] { entries_of(file); }),
              HasSubstr("spec.yaml:2:1: duplicate key 'source_table'"));
}

TEST(YamlFile, EntriesOfANonMappingIsAnError) {
  const YamlFile file("- a\n- b\n", "spec.yaml");
  EXPECT_THAT(error_message<ConfigError>([&] { entries_of(file); }),
              HasSubstr("spec.yaml:1:1: the test file must be a mapping (key: value), got a list"));
}

TEST(YamlFile, EntriesKeepFileOrder) {
  const YamlFile file("destination_table: d\nsource_table: s\n", "spec.yaml");
  const auto entries = entries_of(file);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].key, "destination_table");
  EXPECT_EQ(entries[1].key, "source_table");
  EXPECT_EQ(file.where(entries[1]), "spec.yaml:2:15");
}

TEST(YamlFile, JsonIsReadAsWell) {
  const YamlFile file("{\"source_table\":\"users\",\n\t\"destination_table\": \"u\"}", "s.json");
  const auto entries = entries_of(file);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(file.string_value(entries[0], "source_table"), "users");
  EXPECT_EQ(file.where(entries[1].key_node), "s.json:2:2");
}

TEST(YamlFile, StringValueRejectsUnquotedNumbersBooleansAndNull) {
  for (const char* text : {"source_table: 2024\n", "source_table: 1.5\n", "source_table: true\n",
                           "source_table: ~\n", "source_table:\n", "source_table: 0x1F\n"}) {
    const YamlFile file(text, "spec.yaml");
    const auto entries = entries_of(file);
    const std::string message =
        error_message<ConfigError>([&] { file.string_value(entries[0], "source_table"); });
    EXPECT_THAT(message, HasSubstr("spec.yaml:1:")) << text;
    EXPECT_THAT(message, HasSubstr("source_table must be a string, got")) << text;
  }
  const YamlFile quoted("source_table: '2024'\n", "spec.yaml");
  EXPECT_EQ(quoted.string_value(entries_of(quoted)[0], "source_table"), "2024");
  const YamlFile word("source_table: yes\n", "spec.yaml");  // YAML 1.2: a string
  EXPECT_EQ(word.string_value(entries_of(word)[0], "source_table"), "yes");
}

TEST(YamlFile, StringValueHintsToQuoteAScalar) {
  const YamlFile file("source_table: 12\n", "spec.yaml");
  EXPECT_THAT(
      error_message<ConfigError>([&] { file.string_value(entries_of(file)[0], "source_table"); }),
      HasSubstr("got the number 12; quote it"));
}

TEST(YamlFile, StringValueRejectsBlankUnlessAllowed) {
  const YamlFile file("source_table: '  '\n", "spec.yaml");
  const auto entries = entries_of(file);
  EXPECT_THAT(error_message<ConfigError>([&] { file.string_value(entries[0], "source_table"); }),
              HasSubstr("source_table must not be blank"));
  EXPECT_EQ(file.string_value(entries[0], "source_table", /*allow_blank=*/true), "  ");
}

TEST(YamlFile, StringValueRejectsListsAndMappings) {
  const YamlFile file("source_table: [a]\ndestination_table: {a: 1}\n", "spec.yaml");
  const auto entries = entries_of(file);
  EXPECT_THAT(error_message<ConfigError>([&] { file.string_value(entries[0], "x"); }),
              HasSubstr("x must be a string, got a list"));
  EXPECT_THAT(error_message<ConfigError>([&] { file.string_value(entries[1], "x"); }),
              HasSubstr("x must be a string, got a mapping"));
}

TEST(YamlFile, OptionValuesAreNormalizedAsUpstreamDoes) {
  const YamlFile file(
      "a: 5\nb: true\nc: text\nd: [x, 1, 2.5, false, null, 'q']\ne: {k: v, n: 3}\nf: ~\ng:\n"
      "h: '007'\n",
      "spec.yaml");
  std::map<std::string, std::string> values;
  std::vector<std::string> unset;
  for (const auto& entry : file.entries(file.root(), "options")) {
    std::string value;
    if (file.option_value(entry, entry.key, value)) {
      values[entry.key] = value;
    } else {
      unset.push_back(entry.key);
    }
  }
  EXPECT_EQ(values["a"], "5");
  EXPECT_EQ(values["b"], "true");
  EXPECT_EQ(values["c"], "text");
  EXPECT_EQ(values["d"], R"(["x",1,2.5,false,null,"q"])");
  EXPECT_EQ(values["e"], R"({"k":"v","n":3})");
  EXPECT_EQ(values["h"], "007");
  EXPECT_EQ(unset, (std::vector<std::string>{"f", "g"}));
}

TEST(YamlFile, ToJsonTypesPlainScalarsByTheCoreSchema) {
  const YamlFile file("[0x1F, 0o17, -3, +4, 1e3, .5, 'quoted 1', True, NULL, word]", "x.yaml");
  EXPECT_EQ(file.to_json(file.root(), "v").dump(),
            R"([31,15,-3,4,1000.0,0.5,"quoted 1",true,null,"word"])");
}

TEST(YamlFile, ToJsonRejectsWhatJsonCannotHoldWithoutShowingIt) {
  const YamlFile big("[99999999999999999999]", "x.yaml");
  std::string message = error_message<ConfigError>([&] { big.to_json(big.root(), "v"); });
  EXPECT_THAT(message, HasSubstr("x.yaml:1:2: v[0]: an integer does not fit in 64 bits"));
  EXPECT_THAT(message, Not(HasSubstr("9999")));
  // Regression (fuzz_pipeline_spec): std::stod's std::out_of_range escaped for these.
  for (const char* huge : {"[1e400]", "[-1.5e309]", "[1e-400]"}) {
    const YamlFile file(huge, "x.yaml");
    message = error_message<ConfigError>([&] { file.to_json(file.root(), "v"); });
    EXPECT_THAT(message, HasSubstr("x.yaml:1:2: v[0]: a number is beyond the range of a 64-bit"));
    EXPECT_THAT(message, Not(HasSubstr("e4")));
  }
  const YamlFile tiny("[1e-310, 0e-400]", "x.yaml");
  EXPECT_EQ(tiny.to_json(tiny.root(), "v").dump(), "[1e-310,0.0]");
  const YamlFile nan("[.nan]", "x.yaml");
  EXPECT_THAT(error_message<ConfigError>([&] { nan.to_json(nan.root(), "v"); }),
              HasSubstr("no JSON form"));
}

// Regression (fuzz_pipeline_spec): nested aliases ("billion laughs") named 10^9 nodes in 590 bytes,
// and converting the value ran out of time and memory.
TEST(YamlFile, ToJsonRefusesValuesThatAliasesExpandBeyondTheLimit) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level <= 8; ++level) {
    text += fmt::format("a{}: &a{} [", level, level);
    for (int i = 0; i < 10; ++i) text += fmt::format("{}*a{}", i == 0 ? "" : ", ", level - 1);
    text += "]\n";
  }
  const YamlFile file(text, "x.yaml");
  // a1 (111 nodes) is fine; a8 (10^8 and more) is not.
  EXPECT_EQ(file.to_json(file.root()["a1"], "a1").as_array().size(), 10u);
  const std::string message =
      error_message<ConfigError>([&] { file.to_json(file.root()["a8"], "a8"); });
  EXPECT_THAT(message, HasSubstr("the file's values expand to more than 100000 items"));
  EXPECT_THAT(message, HasSubstr("x.yaml:"));
  // The limit holds for the file's values together, not for each: otherwise many values just
  // under it (a3: 11111 nodes) would take as long.
  const YamlFile again(text, "x.yaml");
  for (int i = 0; i < 9; ++i) (void)again.to_json(again.root()["a3"], "a3");
  EXPECT_THAT(error_message<ConfigError>([&] { again.to_json(again.root()["a3"], "a3"); }),
              HasSubstr("expand to more than 100000 items"));
}

// Regression (fuzz_pipeline_spec): an alias inside the value it names (`&a [*a]`) made a cycle,
// and converting it recursed until the stack overflowed; so did deep nesting.
TEST(YamlFile, ToJsonRefusesValuesNestedTooDeeplyOrInsideThemselves) {
  const YamlFile cycle("a: &a [x, *a]\n", "x.yaml");
  const std::string message =
      error_message<ConfigError>([&] { cycle.to_json(cycle.root()["a"], "a"); });
  EXPECT_THAT(message, HasSubstr("x.yaml:1:"));
  EXPECT_THAT(message, HasSubstr("a[1][1][1]"));
  EXPECT_THAT(message, HasSubstr("nests lists and mappings deeper than 64 levels"));
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  const YamlFile too_deep(deep, "x.yaml");
  EXPECT_THAT(error_message<ConfigError>([&] { too_deep.to_json(too_deep.root(), "v"); }),
              HasSubstr("deeper than 64 levels"));
  const YamlFile deepest(deep.substr(1, 128), "x.yaml");
  EXPECT_EQ(deepest.to_json(deepest.root(), "v").dump(), deep.substr(1, 128));
}

TEST(YamlFile, DescribeNamesTheKindOfValue) {
  EXPECT_EQ(YamlFile::describe(YAML::Load("5")), "the number 5");
  EXPECT_EQ(YamlFile::describe(YAML::Load("false")), "the boolean false");
  EXPECT_EQ(YamlFile::describe(YAML::Load("~")), "null");
  EXPECT_EQ(YamlFile::describe(YAML::Load("'5'")), "a string");
  EXPECT_EQ(YamlFile::describe(YAML::Load("[1]")), "a list");
  EXPECT_EQ(YamlFile::describe(YAML::Load("{a: 1}")), "a mapping");
}

TEST(ClosestKey, FindsTyposOnly) {
  EXPECT_EQ(closest_key("sourc_table", {"source_table", "objects"}), "source_table");
  EXPECT_EQ(closest_key("objets", {"source_table", "objects"}), "objects");
  EXPECT_EQ(closest_key("zzz", {"source_table", "objects"}), "");
}

TEST(ConfigPath, RelativePathsAreRelativeToTheBaseDirectory) {
  EXPECT_EQ(resolve_config_path("data/x", "/etc/lakeflow"), "/etc/lakeflow/data/x");
  EXPECT_EQ(resolve_config_path("../x", "/etc/lakeflow"), "/etc/x");
  EXPECT_EQ(resolve_config_path("/abs/x", "/etc/lakeflow"), "/abs/x");
  EXPECT_EQ(resolve_config_path("data/x", ""), "data/x");
  EXPECT_EQ(config_base_dir("conf/spec.yaml"), "conf");
  EXPECT_EQ(config_base_dir("spec.yaml"), "");
}

TEST(ConfigPath, TildeIsTheHomeDirectory) {
  const char* old_home = std::getenv("HOME");
  const std::string saved = old_home != nullptr ? old_home : "";
  ::setenv("HOME", "/home/tester", 1);
  EXPECT_EQ(resolve_config_path("~/keys/k.pem", "/etc"), "/home/tester/keys/k.pem");
  ::unsetenv("HOME");
  EXPECT_THAT(error_message<ConfigError>([] { resolve_config_path("~/k", "/etc"); }),
              HasSubstr("HOME is not set"));
  if (old_home != nullptr) ::setenv("HOME", saved.c_str(), 1);
}

}  // namespace
}  // namespace lakeflow::pipeline
