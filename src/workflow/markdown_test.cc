#include "workflow/markdown.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lakeflow::workflow {
namespace {

constexpr const char* kDesign = R"(# X

## 8. Quality checklist
- [ ] not a phase item

## Development Progress

### Phase 0: Planning Session ✅
> Guide: `docs/workflow.md`

- [x] Define the data source
- [ ] Implement `read_table_deletes()` — n/a: every table is
      append only
- [ ] TestReadTableDeletes n/a:
- [x] **🚦 GATE: Human approval to proceed**
  Approved-by: Jane Doe, 2026-11-20

### Phase 1: Understand Source 🚧
- [X] **🚦 GATE: API doc reviewed**

```
### Phase 2: not a heading inside code
- [ ] not an item
```
)";

TEST(ParseProgress, ReadsMarksTicksNotApplicableItemsAndGates) {
  const std::vector<ProgressPhase> phases = parse_progress(kDesign, 6);
  ASSERT_EQ(phases.size(), 6u);
  EXPECT_EQ(phases[0].claimed, "✅");
  EXPECT_EQ(phases[1].claimed, "🚧");
  EXPECT_FALSE(phases[2].found);
  EXPECT_EQ(phases[2].claimed, "?");
  ASSERT_EQ(phases[0].items.size(), 3u);
  EXPECT_EQ(phases[0].items[0].tick, Tick::kDone);
  EXPECT_EQ(phases[0].items[1].tick, Tick::kNotApplicable);
  EXPECT_EQ(phases[0].items[1].reason, "every table is append only");
  // "n/a:" without a reason is no n/a.
  EXPECT_EQ(phases[0].items[2].tick, Tick::kOpen);
  EXPECT_TRUE(phases[0].gate.ticked);
  ASSERT_TRUE(phases[0].gate.approval);
  EXPECT_TRUE(approval_complete(*phases[0].gate.approval));
  EXPECT_TRUE(phases[1].gate.ticked);
  EXPECT_FALSE(phases[1].gate.approval);
  EXPECT_TRUE(phases[1].items.empty());
}

TEST(ApprovalComplete, NeedsANameAndADateAndNotPending) {
  EXPECT_TRUE(approval_complete("Jane Doe, 2026-11-20"));
  EXPECT_FALSE(approval_complete("pending (Jane, 2026-11-20)"));
  EXPECT_FALSE(approval_complete("Jane Doe"));
  EXPECT_FALSE(approval_complete("2026-11-20"));
  EXPECT_FALSE(approval_complete("Jane, 20261-11-20"));
}

TEST(MarkdownSections, BodiesRunToTheNextHeadingOfTheSameLevel) {
  const std::vector<Section> sections =
      markdown_sections("# T\n## A b\ntext\n### sub\nmore\n```\n# code\n```\n## C\n");
  ASSERT_EQ(sections.size(), 4u);
  EXPECT_EQ(sections[1].heading, "a b");
  EXPECT_EQ(sections[1].body, "text\n### sub\nmore\n```\n# code\n```\n");
  EXPECT_EQ(sections[3].heading, "c");
}

TEST(UnfilledMarker, FindsPlaceholdersAndTodoWords) {
  EXPECT_EQ(unfilled_marker("a {{name}} b"), "{{name}}");
  EXPECT_EQ(unfilled_marker("TODO: x"), "TODO");
  EXPECT_FALSE(unfilled_marker("TODOS and {{ x }} and {}"));
}

TEST(NormalizeItem, IgnoresCaseBoldSpacingAndTrailingColon) {
  EXPECT_EQ(normalize_item("**Verify  All** patterns:"), "verify all patterns");
}

}  // namespace
}  // namespace lakeflow::workflow
