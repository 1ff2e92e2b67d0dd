#include "workflow/cpp_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lakeflow::workflow {
namespace {

TEST(CppSource, BlanksCommentsAndLiteralsAndFindsDefinitions) {
  const CppSource source(R"cpp(#include "a/b.h"
#include <columnar/x.h>
                               // MOCK_METHOD in a comment
                               const char* s = "not_implemented( inside a string";
                               auto r = R"x(StructType)x";
                               ReadResult Foo::read_table(std::string_view t, const Offset& o) const {
                                 if (x) {
                                   require_table(t);
                                 }
                                 return {};
                               }
                               void Foo::read_table_deletes(int);
                               void other() { Foo::read_table(1, 2); }
                               class Fake final : public lakeflow::LakeflowConnect, Other {};
  )cpp");
  EXPECT_THAT(source.includes(), ::testing::ElementsAre("a/b.h", "columnar/x.h"));
  EXPECT_FALSE(source.uses("MOCK_METHOD"));
  EXPECT_FALSE(source.uses("not_implemented"));
  EXPECT_FALSE(source.uses("StructType"));
  const std::vector<std::string> bodies = source.definitions("read_table");
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_THAT(bodies[0], ::testing::HasSubstr("require_table(t);"));
  EXPECT_TRUE(source.definitions("read_table_deletes").empty());
  const auto bases = source.bases();
  ASSERT_EQ(bases.size(), 1u);
  EXPECT_EQ(bases[0].first, "Fake");
  EXPECT_THAT(bases[0].second, ::testing::ElementsAre("LakeflowConnect", "Other"));
}

TEST(ContainsWord, MatchesWholeIdentifiersOnly) {
  EXPECT_TRUE(contains_word("a base_url b", "base_url"));
  EXPECT_FALSE(contains_word("a base_urls b", "base_url"));
  EXPECT_TRUE(contains_word("DataType::Integer()", "DataType::Integer"));
}

}  // namespace
}  // namespace lakeflow::workflow
