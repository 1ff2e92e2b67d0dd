#include "pipeline/key_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lakeflow::pipeline {
namespace {

using destination::ColumnRange;

std::vector<std::vector<TypedValue>> keys_of(const std::vector<std::string>& json,
                                             const DataType& type) {
  std::vector<std::vector<TypedValue>> out;
  for (const std::string& value : json) out.push_back({TypedValue::read(value, type)});
  return out;
}

ColumnRange range(std::optional<std::string> min, std::optional<std::string> max,
                  bool max_cut = false) {
  return {std::move(min), std::move(max), max_cut};
}

TEST(KeyFilter, AFileIsReadWhenOneKeyIsInsideItsRange) {
  const KeyFilter filter({{"id", DataType::Long()}}, keys_of({"5", "50", "500"}, DataType::Long()));
  ASSERT_EQ(filter.used_columns(), std::vector<std::size_t>{0});
  EXPECT_TRUE(filter.may_hold({range("1", "5")}));  // bounds are inclusive
  EXPECT_TRUE(filter.may_hold({range("500", "900")}));
  EXPECT_TRUE(filter.may_hold({range("40", "60")}));
  EXPECT_FALSE(filter.may_hold({range("6", "49")}));  // between keys
  EXPECT_FALSE(filter.may_hold({range("501", "900")}));
  EXPECT_FALSE(filter.may_hold({range("-10", "4")}));
  // One bound still excludes; what is not known excludes nothing.
  EXPECT_FALSE(filter.may_hold({range(std::nullopt, "4")}));
  EXPECT_FALSE(filter.may_hold({range("501", std::nullopt)}));
  EXPECT_TRUE(filter.may_hold({range(std::nullopt, "5")}));
  EXPECT_TRUE(filter.may_hold({range(std::nullopt, std::nullopt)}));
  EXPECT_TRUE(filter.may_hold({range("\"not a number\"", "\"x\"")}));
}

TEST(KeyFilter, ACutStringMaximumIsExceededOnlyByExtendingItsPrefix) {
  const std::string prefix(31, 'p');
  // A key longer than the 32 characters statistics keep.
  const std::string key = prefix + "xyz-and-more";
  const KeyFilter filter({{"name", DataType::String()}},
                         keys_of({"\"" + key + "\""}, DataType::String()));
  // An engine that cut the maximum to 32 characters without incrementing it: "ppp...x" < key.
  EXPECT_TRUE(filter.may_hold({range("\"a\"", "\"" + prefix + "x\"", true)}));
  // The same bound read as exact would rule the file out: that is what max_cut prevents.
  EXPECT_FALSE(filter.may_hold({range("\"a\"", "\"" + prefix + "x\"", false)}));
  // A cut maximum still excludes keys that do not extend its prefix.
  EXPECT_FALSE(filter.may_hold({range("\"a\"", "\"" + prefix.substr(1) + "ox\"", true)}));
  // Multi-byte characters: the prefix drops the whole last character.
  const KeyFilter accented({{"name", DataType::String()}},
                           keys_of({"\"caf\xC3\xA9s\""}, DataType::String()));
  EXPECT_TRUE(accented.may_hold({range("\"a\"", "\"caf\xC3\xA9\"", true)}));
  EXPECT_FALSE(accented.may_hold({range("\"a\"", "\"cae\xC3\xA9\"", true)}));
}

TEST(KeyFilter, CompositeKeysNarrowByEveryColumn) {
  std::vector<std::vector<TypedValue>> keys;
  keys.push_back(
      {TypedValue::read("1", DataType::Long()), TypedValue::read("\"b\"", DataType::String())});
  keys.push_back(
      {TypedValue::read("2", DataType::Long()), TypedValue::read("\"y\"", DataType::String())});
  const KeyFilter filter({{"tenant", DataType::Long()}, {"name", DataType::String()}}, keys);
  EXPECT_TRUE(filter.may_hold({range("1", "2"), range("\"a\"", "\"c\"")}));  // (1, b)
  EXPECT_TRUE(filter.may_hold({range("2", "2"), range("\"x\"", "\"z\"")}));  // (2, y)
  // Each column alone admits a key, but no key is inside both ranges.
  EXPECT_FALSE(filter.may_hold({range("1", "1"), range("\"x\"", "\"z\"")}));
  EXPECT_FALSE(filter.may_hold({range("2", "3"), range("\"a\"", "\"c\"")}));
  // A column without statistics narrows nothing.
  EXPECT_TRUE(filter.may_hold({range("1", "1"), range(std::nullopt, std::nullopt)}));
}

TEST(KeyFilter, ColumnsWhoseStatisticsDoNotOrderAsKeysAreNotUsed) {
  std::vector<std::vector<TypedValue>> keys;
  keys.push_back(
      {TypedValue::read("true", DataType::Boolean()), TypedValue::read("7", DataType::Long())});
  const KeyFilter filter({{"flag", DataType::Boolean()}, {"id", DataType::Long()}}, keys);
  EXPECT_EQ(filter.used_columns(), std::vector<std::size_t>{1});
  EXPECT_FALSE(filter.may_hold({range("8", "9")}));
  const KeyFilter doubles({{"x", DataType::Double()}}, keys_of({"1.5"}, DataType::Double()));
  EXPECT_TRUE(doubles.used_columns().empty());
  EXPECT_TRUE(doubles.may_hold({}));
}

TEST(KeyFilter, TimestampsCompareAsInstants) {
  const KeyFilter filter({{"at", DataType::Timestamp()}},
                         keys_of({"\"2024-05-01T02:00:00.000999+02:00\""}, DataType::Timestamp()));
  EXPECT_TRUE(
      filter.may_hold({range("\"2024-05-01T00:00:00Z\"", "\"2024-05-01T00:00:00.000999Z\"")}));
  EXPECT_FALSE(
      filter.may_hold({range("\"2024-05-01T00:00:00Z\"", "\"2024-05-01T00:00:00.000998Z\"")}));
}

}  // namespace
}  // namespace lakeflow::pipeline
