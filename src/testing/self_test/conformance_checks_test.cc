#include "lakeflow/testing/conformance_checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

JsonValue json(std::string_view text) { return JsonValue::parse(text); }

TEST(ProblemList, FormatsTableProblemsWithRecordExcerpts) {
  ProblemList problems;
  EXPECT_TRUE(problems.empty());
  problems.add("orders", "the schema has no fields");
  problems.add_record("orders", "primary key 'id' is null", "{\"id\":null,\n\"x\":1}");
  problems.add_general("list_tables() returned no tables");
  EXPECT_FALSE(problems.empty());
  EXPECT_THAT(
      problems.lines(),
      ElementsAre("table 'orders': the schema has no fields",
                  "table 'orders': primary key 'id' is null (record: {\"id\":null, \"x\":1})",
                  "list_tables() returned no tables"));
  EXPECT_THAT(problems.report(), HasSubstr("3 problem(s):\n  table 'orders'"));
}

TEST(ProblemList, CapsRecordProblemsPerTableAndCountsTheRest) {
  ProblemList problems;
  for (int i = 0; i < 13; ++i) problems.add_record("people", "bad", "{}");
  problems.add_record("orders", "bad", "{}");
  const std::vector<std::string> lines = problems.lines();
  ASSERT_EQ(lines.size(), ProblemList::kMaxRecordProblemsPerTable + 2);
  EXPECT_EQ(lines.back(), "table 'people': 3 more record problem(s) not shown");
}

TEST(Excerpt, CutsAtTheLimitAndFlattensLineBreaks) {
  EXPECT_EQ(excerpt("a\nb\tc", 200), "a b c");
  EXPECT_EQ(excerpt(std::string(250, 'x')).size(), 203u);
  EXPECT_EQ(excerpt("abcdef", 3), "abc...");
}

TEST(DescribeException, NamesTheDynamicTypeAndLakeflowCode) {
  EXPECT_EQ(describe_exception(std::runtime_error("boom")), "std::runtime_error: boom");
  EXPECT_EQ(describe_exception(SourceError("503")), "lakeflow::SourceError [source]: 503");
  try {
    throw 42;
  } catch (...) {
    EXPECT_EQ(describe_current_exception(), "an exception that is not a std::exception");
  }
}

TEST(FindJsonPath, FollowsDottedPathsAndDottedMemberNames) {
  const JsonValue record = json(R"({"id":1,"meta":{"lastUpdated":"x","tag":null},"a.b":2})");
  ASSERT_NE(find_json_path(record, "id"), nullptr);
  EXPECT_EQ(*find_json_path(record, "meta.lastUpdated"), JsonValue("x"));
  EXPECT_TRUE(find_json_path(record, "meta.tag")->is_null());
  EXPECT_EQ(*find_json_path(record, "a.b"), JsonValue(2));
  EXPECT_EQ(find_json_path(record, "meta.missing"), nullptr);
  EXPECT_EQ(find_json_path(record, "id.x"), nullptr);
  EXPECT_EQ(find_json_path(json("[1]"), "id"), nullptr);
}

TEST(IsNullLike, TreatsAllNullObjectsAsNull) {
  EXPECT_TRUE(is_null_like(json("null")));
  EXPECT_TRUE(is_null_like(json("{}")));
  EXPECT_TRUE(is_null_like(json(R"({"a":null,"b":{"c":null}})")));
  EXPECT_FALSE(is_null_like(json(R"({"a":null,"b":{"c":0}})")));
  EXPECT_FALSE(is_null_like(json("[]")));
  EXPECT_FALSE(is_null_like(json(R"("")")));
}

TEST(DuplicateFieldNames, FindsDuplicatesAtEveryLevel) {
  const StructType item{{"sku", DataType::String()}, {"sku", DataType::Long()}};
  const StructType schema{{"id", DataType::Long()},
                          {"items", DataType::Array(item)},
                          {"attrs", DataType::Map(DataType::String(), item)},
                          {"id", DataType::String()}};
  EXPECT_THAT(duplicate_field_names(schema),
              ElementsAre("`id` (2 times in the top-level struct)", "`sku` (2 times in `items`)",
                          "`sku` (2 times in `attrs`)"));
  EXPECT_TRUE(duplicate_field_names(StructType{{"a", DataType::Long()}}).empty());
}

TEST(IntegerOrMapFields, WalksStructsArraysAndMapsWithTransparentContainers) {
  const StructType schema{
      {"id", DataType::Long()},
      {"count", DataType::Integer()},
      {"line_items", DataType::Array(StructType{{"qty", DataType::Integer()}})},
      {"attributes", DataType::Map(DataType::String(), DataType::String())},
      {"meta", StructType{{"version", DataType::Integer()}, {"ok", DataType::Boolean()}}}};
  const std::vector<DiscouragedType> found = integer_or_map_fields(schema);
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found[0].path, "count");
  EXPECT_EQ(found[0].type, "int");
  EXPECT_EQ(found[1].path, "line_items.qty");
  EXPECT_EQ(found[2].path, "attributes");
  EXPECT_EQ(found[2].type, "map<string,string>");
  EXPECT_EQ(found[3].path, "meta.version");
}

TEST(FutureOffset, MovesTimestampsAndIntegersFarAhead) {
  const Offset offset =
      Offset::parse(R"({"cursor":"2024-05-01T10:00:00.123+02:00","day":"2024-05-01","page":3,)"
                    R"("token":"abc","nested":{"seq":[1,"2024-01-01 00:00:00"]},"ratio":0.5})");
  const std::optional<Offset> future = future_offset(offset);
  ASSERT_TRUE(future.has_value());
  EXPECT_EQ(future->to_json(), R"({"cursor":"9999-12-31T23:59:59Z","day":"9999-12-31",)"
                               R"("nested":{"seq":[1000000000000001,"9999-12-31T23:59:59Z"]},)"
                               R"("page":1000000000000003,"ratio":0.5,"token":"abc"})");
}

TEST(FutureOffset, SaturatesHugeIntegersAndSkipsOffsetsWithNothingToMove) {
  EXPECT_EQ(future_offset(Offset::parse(R"({"n":9223372036854775000})"))->to_json(),
            R"({"n":9223372036854775807})");
  EXPECT_FALSE(future_offset(Offset::parse(R"({"token":"abc","not_a_date":"2024-13-45"})")));
  EXPECT_FALSE(future_offset(Offset()));
  EXPECT_FALSE(future_offset(Offset::null()));
}

TEST(RecordIdentity, UsesKeysAndCursorOrTheWholeRecord) {
  const JsonValue record = json(R"({"b":2,"id":7,"meta":{"at":"t1"},"x":[1]})");
  const TableMetadata cdc{{"id"}, "meta.at", IngestionType::kCdc};
  EXPECT_EQ(record_identity(record, cdc), R"([7,"t1"])");
  const TableMetadata keys_only{{"id", "missing"}, std::nullopt, IngestionType::kSnapshot};
  EXPECT_EQ(record_identity(record, keys_only), "[7,null]");
  const TableMetadata append{{}, std::nullopt, IngestionType::kAppend};
  EXPECT_EQ(record_identity(json(R"({"x":[1],"b":2})"), append), R"({"b":2,"x":[1]})");
}

TEST(RowMatches, ComparesEveryLeafByPathWithLenientScalars) {
  const JsonValue record = json(R"({"id":17,"email":"x@y","name":{"family":"Hopper"},"n":1.0})");
  EXPECT_TRUE(row_matches(json(R"({"id":17,"email":"x@y"})"), record));
  EXPECT_TRUE(row_matches(json(R"({"id":"17","n":1})"), record));
  EXPECT_TRUE(row_matches(json(R"({"name":{"family":"Hopper"}})"), record));
  EXPECT_TRUE(row_matches(json(R"({"name.family":"Hopper","absent":null})"), record));
  EXPECT_FALSE(row_matches(json(R"({"id":18})"), record));
  EXPECT_FALSE(row_matches(json(R"({"id":17,"email":"other"})"), record));
  EXPECT_FALSE(row_matches(json(R"({"missing":1})"), record));
  EXPECT_FALSE(row_matches(json("[1]"), record));
}

const ConnectorSpec& embedded_connector_spec() {
  static const ConnectorSpec spec("paged", {}, {});
  return spec;
}

// A table "t" of `total` records read two per call through {"page": n}; `lie` makes the offset
// move on forever; `null_end` returns a null end offset; `throw_on` throws on that page.
class PagedConnector : public LakeflowConnect {
 public:
  PagedConnector(int total, bool lie = false, bool null_end = false, int throw_on = -1)
      : LakeflowConnect(embedded_connector_spec(), Options{}),
        total_(total),
        lie_(lie),
        null_end_(null_end),
        throw_on_(throw_on) {}
  std::vector<std::string> do_list_tables() override { return {"t"}; }
  StructType do_get_table_schema(const TableContext& /*context*/) override {
    return StructType{{"i", DataType::Long()}};
  }
  TableMetadata do_read_table_metadata(const TableContext& /*context*/) override {
    return {{}, std::nullopt, IngestionType::kAppend};
  }
  ReadResult do_read_table(const ReadContext& context) override {
    const JsonValue* page_value = context.start.find("page");
    const int page = page_value != nullptr ? static_cast<int>(page_value->as_int()) : 0;
    if (page == throw_on_) throw SourceError("page failed");
    if (null_end_)
      return {RecordStream::of(std::vector<std::string>{R"({"i":0})"}), Offset::null()};
    std::vector<std::string> records;
    for (int i = page * 2; i < std::min(total_, page * 2 + 2); ++i) {
      records.push_back("{\"i\":" + std::to_string(i) + "}");
    }
    if (records.empty() && !lie_) return {RecordStream(), context.start};
    return {RecordStream::of(std::move(records)), Offset(JsonValue::Object{{"page", page + 1}})};
  }

 private:
  int total_;
  bool lie_;
  bool null_end_;
  int throw_on_;
};

TEST(ReadUntilConverged, FeedsEndOffsetsBackUntilTheyRepeat) {
  PagedConnector connector(5);
  const ConvergedRead read =
      read_until_converged(connector, "t", Offset(), Options{}, IngestionType::kAppend, 10);
  EXPECT_TRUE(read.converged()) << read.problem;
  ASSERT_EQ(read.calls.size(), 4u);
  EXPECT_EQ(read.record_count(), 5u);
  EXPECT_EQ(read.calls[0].start.to_json(), "{}");
  EXPECT_EQ(read.calls[1].start.to_json(), R"({"page":1})");
  EXPECT_EQ(read.final_offset().to_json(), R"({"page":3})");
  EXPECT_EQ(offset_trail(read), R"({} -> {"page":1} -> {"page":2} -> {"page":3} -> {"page":3})");
}

TEST(ReadUntilConverged, ReportsNonConvergenceWithTheOffsets) {
  PagedConnector connector(2, /*lie=*/true);
  const ConvergedRead read =
      read_until_converged(connector, "t", Offset(), Options{}, IngestionType::kAppend, 10);
  EXPECT_EQ(read.outcome, ReadOutcome::kTooManyCalls);
  EXPECT_EQ(read.calls.size(), 10u);
  EXPECT_THAT(read.problem, HasSubstr("read_table did not converge within 10 calls"));
  EXPECT_THAT(read.problem,
              HasSubstr(R"({} -> {"page":1} -> {"page":2} -> {"page":3} -> ... (4 more) -> )"
                        R"({"page":8} -> {"page":9} -> {"page":10})"));
}

TEST(ReadUntilConverged, AcceptsANullEndOffsetOnlyFromSnapshotTables) {
  PagedConnector connector(2, false, /*null_end=*/true);
  const ConvergedRead snapshot =
      read_until_converged(connector, "t", Offset(), Options{}, IngestionType::kSnapshot, 10);
  EXPECT_TRUE(snapshot.converged());
  EXPECT_EQ(snapshot.calls.size(), 1u);
  const ConvergedRead cdc =
      read_until_converged(connector, "t", Offset(), Options{}, IngestionType::kCdc, 10);
  EXPECT_EQ(cdc.outcome, ReadOutcome::kNullEndOffset);
  EXPECT_THAT(cdc.problem, HasSubstr("returned a null end offset, which only snapshot tables may "
                                     "return (this table is cdc)"));
}

TEST(ReadUntilConverged, CatchesExceptionsAndKeepsTheCallsBefore) {
  PagedConnector connector(6, false, false, /*throw_on=*/2);
  const ConvergedRead read =
      read_until_converged(connector, "t", Offset(), Options{}, IngestionType::kAppend, 10);
  EXPECT_EQ(read.outcome, ReadOutcome::kThrew);
  EXPECT_EQ(read.calls.size(), 2u);
  EXPECT_EQ(read.problem,
            R"(read_table(start={"page":2}) threw lakeflow::SourceError [source]: page failed)");
  const ConvergedRead deletes = read_until_converged(
      connector, "t", Offset(), Options{}, IngestionType::kCdcWithDeletes, 10, ReadKind::kDeletes);
  EXPECT_EQ(deletes.outcome, ReadOutcome::kThrew);
  EXPECT_THAT(deletes.problem, HasSubstr("read_table_deletes(start={}) threw "
                                         "lakeflow::NotImplementedError"));
}

TEST(PlanSmallBatches, NeedsTwoRecords) {
  EXPECT_FALSE(plan_small_batches(0, {}, 40));
  EXPECT_FALSE(plan_small_batches(1, {"1"}, 40));
  const std::optional<SmallBatchPlan> two = plan_small_batches(2, {}, 40);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->limit, 1u);
}

TEST(PlanSmallBatches, WithoutTiesTakesTheSmallestLimitWithinTheBatchBudget) {
  const std::optional<SmallBatchPlan> plan = plan_small_batches(1000, {}, 40);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->limit, 25u);
  EXPECT_EQ(plan->tied_runs, 0u);
  // Never the whole table in one batch, even with a budget of one batch.
  EXPECT_EQ(plan_small_batches(10, {}, 1)->limit, 9u);
}

TEST(PlanSmallBatches, EndsBatchesInsideRunsOfRecordsSharingACursorValue) {
  // Runs: records 0-2 ("a") and 3-4 ("b"). Batches of 2 start at records 2 and 4: inside both.
  const std::vector<std::string> cursors = {"a", "a", "a", "b", "b", "c", "d", "e"};
  const std::optional<SmallBatchPlan> plan = plan_small_batches(cursors.size(), cursors, 4);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->limit, 2u);
  EXPECT_EQ(plan->tied_runs, 2u);
  EXPECT_EQ(plan->split_runs, 2u);
}

TEST(PlanSmallBatches, PrefersALargerLimitThatCutsMoreRuns) {
  // 12 records in runs of two: [0,1] [2,3] ... Batches of 2 (the budget's smallest) end between
  // runs and cut none; batches of 3 start at records 3 and 9, cutting the runs [2,3] and [8,9].
  std::vector<std::string> cursors;
  for (int i = 0; i < 12; ++i) cursors.push_back(std::to_string(i / 2));
  const std::optional<SmallBatchPlan> plan = plan_small_batches(cursors.size(), cursors, 6);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->limit, 3u);
  EXPECT_EQ(plan->tied_runs, 6u);
  EXPECT_EQ(plan->split_runs, 2u);
}

}  // namespace
}  // namespace lakeflow::testing
