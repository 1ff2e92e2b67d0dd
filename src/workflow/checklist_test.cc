#include "workflow/checklist.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "lakeflow/error.h"
#include "workflow/checks.h"
#include "workflow/markdown.h"

namespace lakeflow::workflow {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

void for_each_item(const std::vector<ChecklistItem>& items,
                   const std::function<void(const ChecklistItem&)>& visit) {
  for (const ChecklistItem& item : items) {
    visit(item);
    for_each_item(item.items, visit);
  }
}

TEST(Checklist, StandardChecklistNamesOnlyChecksThatExist) {
  const Checklist& checklist = Checklist::standard();
  ASSERT_EQ(checklist.phases.size(), 6u);
  int checks = 0;
  for (const ChecklistPhase& phase : checklist.phases) {
    EXPECT_FALSE(phase.gate.empty());
    for_each_item(phase.items, [&](const ChecklistItem& item) {
      for (const std::string& id : item.checks) {
        EXPECT_NE(find_check(id), nullptr) << id;
        ++checks;
      }
      if (std::find(item.checks.begin(), item.checks.end(), "test_class") != item.checks.end()) {
        EXPECT_FALSE(item.test_class.empty()) << item.text;
      }
      if (std::find(item.checks.begin(), item.checks.end(), "method_implemented") !=
          item.checks.end()) {
        EXPECT_FALSE(item.method.empty()) << item.text;
      }
    });
  }
  EXPECT_GT(checks, 20);
}

TEST(Checklist, EveryPathTheGeneratedChecklistRefersToExists) {
  const Checklist& checklist = Checklist::standard();
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(LAKEFLOW_REPO_DIR) / checklist.guide))
      << checklist.guide;
  const std::string progress = checklist.render_progress("probe");
  EXPECT_EQ(progress.find("skills/"), std::string::npos);
  EXPECT_EQ(progress.find("__init__"), std::string::npos) << "a Python term in a C++ checklist";
  EXPECT_EQ(progress.find("pytest"), std::string::npos);
}

TEST(Checklist, RenderedProgressParsesBackIntoEveryItemAndGate) {
  const Checklist& checklist = Checklist::standard();
  const std::string progress = checklist.render_progress("probe");
  EXPECT_THAT(progress, HasSubstr("### Phase 0: Planning Session ⏳\n"));
  EXPECT_THAT(progress,
              HasSubstr("- [ ] **🚦 GATE: Human approval to proceed**\n  Approved-by: pending\n"));
  EXPECT_THAT(progress, HasSubstr("- [ ] Create `probe_api_doc.md` with all sections:\n  - [ ] "
                                  "Authorization documented\n"));
  const std::vector<ProgressPhase> phases = parse_progress(progress, checklist.phases.size());
  for (std::size_t p = 0; p < phases.size(); ++p) {
    EXPECT_TRUE(phases[p].found) << p;
    EXPECT_EQ(phases[p].claimed, "⏳");
    EXPECT_TRUE(phases[p].gate.found);
    EXPECT_FALSE(phases[p].gate.ticked);
    std::size_t count = 0;
    for_each_item(checklist.phases[p].items, [&](const ChecklistItem&) { ++count; });
    EXPECT_EQ(phases[p].items.size(), count) << p;
    // Each item's current wording (its first match) finds its own line.
    for_each_item(checklist.phases[p].items, [&](const ChecklistItem& item) {
      ASSERT_FALSE(item.matches.empty()) << item.text;
      const std::string want = normalize_item(with_name(item.matches.front(), "probe"));
      const bool found = std::any_of(
          phases[p].items.begin(), phases[p].items.end(),
          [&](const ProgressItem& line) { return normalize_item(line.text).rfind(want, 0) == 0; });
      EXPECT_TRUE(found) << item.matches.front();
    });
  }
}

// Connectors implement the protected do_* hooks (lakeflow/connector.h), and the checklist says so;
// DESIGN.md files written with the earlier wording (the public method names) still match.
TEST(Checklist, Phase2NamesTheHooksAndAcceptsTheEarlierWording) {
  const std::string progress = Checklist::standard().render_progress("probe");
  for (const char* hook :
       {"- [ ] Implement `do_list_tables()`\n", "- [ ] Implement `do_get_table_schema(context)`\n",
        "- [ ] Implement `do_read_table_metadata(context)`\n",
        "- [ ] Implement `do_read_table(context)`\n",
        "- [ ] Implement `do_read_table_deletes(context)` if cdc_with_deletes\n",
        "- [ ] No schema conversion in `do_read_table()`\n"}) {
    EXPECT_THAT(progress, HasSubstr(hook));
  }
  EXPECT_THAT(progress, Not(HasSubstr("Implement `read_table(")));
  const ChecklistPhase& phase2 = Checklist::standard().phases[2];
  const auto read_table =
      std::find_if(phase2.items.begin(), phase2.items.end(),
                   [](const ChecklistItem& i) { return i.method == "read_table"; });
  ASSERT_NE(read_table, phase2.items.end());
  EXPECT_EQ(read_table->matches,
            (std::vector<std::string>{"Implement `do_read_table(", "Implement `read_table("}));
}

TEST(Checklist, MalformedChecklistNamesWhatIsWrong) {
  try {
    Checklist::parse("guide: g\nphases:\n  - title: A\n    anchor: a\n    items: []\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("phase 0 has no 'gate'"));
  }
  try {
    Checklist::parse(
        "guide: g\nphases:\n  - {title: A, anchor: a, gate: G, items: [{checks: [x]}]}\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no 'text'"));
  }
}

}  // namespace
}  // namespace lakeflow::workflow
