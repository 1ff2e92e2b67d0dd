#include "core/json_grammar.h"

#include <gtest/gtest.h>

#include <string>

namespace lakeflow {
namespace {

TEST(JsonGrammar, AcceptsValidJsonSimdjsonCannotRepresent) {
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  for (const std::string& text :
       {std::string(R"({"a":18446744073709551616})"), std::string(R"([1e309,-1E-400])"),
        std::string(R"({"name":"\ud800"})"), deep, std::string(R"( {"a":[{},[],"",0,-0.5e+3]} )"),
        std::string("\"caf\xc3\xa9\""), std::string("true"), std::string("null")}) {
    EXPECT_TRUE(is_json_text(text)) << text.substr(0, 60);
  }
}

TEST(JsonGrammar, RefusesWhatIsNotJson) {
  for (const std::string& text :
       {std::string(""), std::string(R"({"a":1)"), std::string(R"({"a":1,})"), std::string("[1,]"),
        std::string("[01]"), std::string("[1.]"), std::string("[.5]"), std::string("{a:1}"),
        std::string(R"(["\x"])"), std::string(R"(["\u12"])"), std::string("[\"tab\there\"]"),
        std::string("[1] [2]"), std::string("tru"), std::string("[NaN]"), std::string("\"\xff\""),
        std::string(R"({"a" 1})"), std::string("[1}"),
        std::string(std::string(100, '[') + std::string(99, ']'))}) {
    EXPECT_FALSE(is_json_text(text)) << text.substr(0, 60);
  }
}

}  // namespace
}  // namespace lakeflow
