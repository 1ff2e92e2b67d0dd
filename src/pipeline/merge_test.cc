#include "pipeline/merge.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "pipeline/test_support.h"

namespace lakeflow::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

StructType users_schema() {
  return StructType{{"id", DataType::Long(), false},
                    {"name", DataType::String()},
                    {"updated_at", DataType::Timestamp()}};
}

MergeSpec cdc_spec(ScdType scd) {
  return MergeSpec{"main.default.users", TargetFlow::kApplyChanges, scd, users_schema(), {"id"},
                   "updated_at"};
}

MergeSpec snapshot_spec(ScdType scd) {
  return MergeSpec{"main.default.products",
                   TargetFlow::kApplyChangesFromSnapshot,
                   scd,
                   users_schema(),
                   {"id"},
                   std::nullopt};
}

// The JSON text of a timestamp at `hour` o'clock on 2024-01-01 (as ColumnBatch::row_json writes).
std::string at(int hour) { return fmt::format("\"2024-01-01T{:02}:00:00.000000Z\"", hour); }

std::string user(int id, const std::string& name, int hour) {
  return fmt::format(R"({{"id":{},"name":"{}","updated_at":{}}})", id, name, at(hour));
}

// An SCD 2 target row.
std::string version(int id, const std::string& name, int hour, int start, std::optional<int> end) {
  return fmt::format(R"({{"id":{},"name":"{}","updated_at":{},"__START_AT":{},"__END_AT":{}}})", id,
                     name, at(hour), at(start), end ? at(*end) : "null");
}

Change upsert(int id, const std::string& name, int hour) {
  return Change::upsert(user(id, name, hour));
}
Change remove(int id, int hour) {
  return Change::remove(fmt::format(R"({{"id":{},"updated_at":{}}})", id, at(hour)));
}

// A destination table kept the way the runner keeps one: rows plus tombstones beside them.
class Table {
 public:
  explicit Table(MergeSpec spec) : engine_(std::move(spec)) {}

  MergeResult apply(const std::vector<Change>& changes) {
    return absorb(engine_.apply_changes(changes, current(), tombstones_));
  }
  MergeResult snapshot(const std::vector<std::string>& rows, int hour) {
    std::vector<Row> parsed;
    parsed.reserve(rows.size());
    for (const std::string& row : rows) parsed.emplace_back(row);
    return absorb(engine_.apply_snapshot(
        parsed, current(),
        std::int64_t{1704067200} * 1000000 + std::int64_t{hour} * 3600 * 1000000));
  }

  std::vector<Row> current() const {
    std::vector<Row> out;
    out.reserve(rows_.size());
    for (const std::string& row : rows_) out.emplace_back(row);
    return out;
  }
  // Rows in a stable order for comparisons.
  std::vector<std::string> rows() const {
    std::vector<std::string> sorted = rows_;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }
  void set_rows(std::vector<std::string> rows) { rows_ = std::move(rows); }
  std::vector<std::string> tombstones() const {
    std::vector<std::string> out;
    for (const Tombstone& t : tombstones_) out.push_back(t.key_json + "@" + t.sequence_json);
    std::sort(out.begin(), out.end());
    return out;
  }
  const MergeEngine& engine() const { return engine_; }

 private:
  MergeResult absorb(MergeResult result) {
    std::vector<std::string> kept;
    for (const std::string& row : rows_) {
      if (!result.replaced_keys.contains(engine_.key_of(Row(row)))) kept.push_back(row);
    }
    kept.insert(kept.end(), result.rows.begin(), result.rows.end());
    rows_ = std::move(kept);
    std::vector<RowKey> rewritten = result.tombstones_cleared;
    for (const Tombstone& t : result.tombstones_set) {
      rewritten.push_back(engine_.key_of(Row(t.key_json)));
    }
    std::erase_if(tombstones_, [&](const Tombstone& t) {
      return std::find(rewritten.begin(), rewritten.end(), engine_.key_of(Row(t.key_json))) !=
             rewritten.end();
    });
    tombstones_.insert(tombstones_.end(), result.tombstones_set.begin(),
                       result.tombstones_set.end());
    return result;
  }

  MergeEngine engine_;
  std::vector<std::string> rows_;
  std::vector<Tombstone> tombstones_;
};

}  // namespace

void PrintTo(const MergeCounts& c, std::ostream* os) {
  *os << "{inserted " << c.inserted << ", updated " << c.updated << ", deleted " << c.deleted
      << ", ignored " << c.ignored << "}";
}

namespace {

MergeCounts counts(std::size_t inserted, std::size_t updated, std::size_t deleted,
                   std::size_t ignored) {
  return MergeCounts{inserted, updated, deleted, ignored};
}

// ---- Engine set-up ----------------------------------------------------------------------------

TEST(MergeEngine, TargetSchemaAddsVersionColumnsOfTheSequenceTypeForScd2) {
  EXPECT_EQ(MergeEngine(cdc_spec(ScdType::kType1)).target_schema(), users_schema());
  const StructType scd2 = MergeEngine(cdc_spec(ScdType::kType2)).target_schema();
  ASSERT_EQ(scd2.size(), 5u);
  EXPECT_EQ(scd2.fields()[3], StructField("__START_AT", DataType::Timestamp(), true));
  EXPECT_EQ(scd2.fields()[4], StructField("__END_AT", DataType::Timestamp(), true));

  MergeSpec long_sequence = cdc_spec(ScdType::kType2);
  long_sequence.schema = StructType{{"id", DataType::Long()}, {"version", DataType::Long()}};
  long_sequence.sequence_by = "version";
  EXPECT_EQ(MergeEngine(long_sequence).target_schema().fields()[2].type, DataType::Long());

  // Snapshot versions are the time of each snapshot.
  EXPECT_EQ(MergeEngine(snapshot_spec(ScdType::kType2)).target_schema().fields()[3].type,
            DataType::Timestamp());
}

TEST(MergeEngine, RejectsSpecsItCannotApply) {
  auto problem = [](MergeSpec spec) {
    return error_message<ConfigError>([&] { MergeEngine engine(std::move(spec)); });
  };
  MergeSpec spec = cdc_spec(ScdType::kType1);
  spec.primary_keys.clear();
  EXPECT_THAT(problem(spec), HasSubstr("table 'main.default.users': apply_changes needs primary "
                                       "keys; set table_configuration.primary_keys"));
  spec = cdc_spec(ScdType::kType1);
  spec.sequence_by.reset();
  EXPECT_THAT(problem(spec), HasSubstr("apply_changes needs a sequence column"));
  spec = cdc_spec(ScdType::kType1);
  spec.primary_keys = {"nope"};
  EXPECT_THAT(problem(spec), HasSubstr("primary key 'nope' is not a column of the table "
                                       "(columns: id, name, updated_at)"));
  spec.primary_keys = {"id", "id"};
  EXPECT_THAT(problem(spec), HasSubstr("primary key 'id' is listed twice"));
  spec = cdc_spec(ScdType::kType1);
  spec.schema = StructType{{"id", DataType::Map(DataType::String(), DataType::Long())},
                           {"updated_at", DataType::Binary()}};
  EXPECT_THAT(problem(spec), HasSubstr("primary key 'id' is a map<string,bigint> column"));
  spec.schema = StructType{{"id", DataType::Long()}, {"updated_at", DataType::Binary()}};
  EXPECT_THAT(problem(spec), HasSubstr("sequence_by column 'updated_at' is a binary column"));
  spec = cdc_spec(ScdType::kType2);
  spec.schema = StructType{{"id", DataType::Long()},
                           {"updated_at", DataType::Timestamp()},
                           {"__END_AT", DataType::Timestamp()}};
  EXPECT_THAT(problem(spec), HasSubstr("the source already has a column '__END_AT'"));
  spec = snapshot_spec(ScdType::kType1);
  spec.primary_keys.clear();
  EXPECT_THAT(problem(spec), HasSubstr("apply_changes_from_snapshot needs primary keys"));
  // Append needs nothing.
  MergeEngine append(MergeSpec{"t", TargetFlow::kAppend, ScdType::kType1, users_schema(), {}, {}});
  EXPECT_EQ(append.target_schema(), users_schema());
}

TEST(MergeEngine, KeysCompareByTypedValueAndMayBeNested) {
  MergeSpec spec = cdc_spec(ScdType::kType1);
  spec.schema = StructType{{"k", StructType{{"a", DataType::Long()}, {"b", DataType::String()}}},
                           {"ts", DataType::Timestamp()}};
  spec.primary_keys = {"k.a", "k.b"};
  spec.sequence_by = "ts";
  const MergeEngine engine(spec);
  EXPECT_EQ(engine.key_of(Row(R"({"k":{"a":1,"b":"x"}})")),
            engine.key_of(Row(R"({"k":{"b":"x","a":"1"},"ts":null})")));
  EXPECT_NE(engine.key_of(Row(R"({"k":{"a":1,"b":"x"}})")),
            engine.key_of(Row(R"({"k":{"a":1,"b":"y"}})")));
  EXPECT_EQ(engine.key_json(Row(R"({"k":{"a":1,"b":"x"}})")), R"({"k.a":1,"k.b":"x"})");
  // A tombstone's key JSON reads back as the same key.
  EXPECT_EQ(engine.key_of(Row(R"({"k.a":1,"k.b":"x"})")),
            engine.key_of(Row(R"({"k":{"a":1,"b":"x"}})")));
}

TEST(MergeEngine, ChangesWithoutKeyOrSequenceAreDataErrors) {
  const MergeEngine engine(cdc_spec(ScdType::kType1));
  EXPECT_THAT(error_message<Error>(
                  [&] {
                    engine.apply_changes(
                        {Change::upsert(R"({"name":"x","updated_at":"2024-01-01"})")}, {});
                  },
                  ErrorCode::kData),
              HasSubstr("table 'main.default.users': change 0 has no value for primary key 'id'"));
  EXPECT_THAT(error_message<Error>(
                  [&] {
                    engine.apply_changes({upsert(1, "a", 1), Change::upsert(R"({"id":2})")}, {});
                  },
                  ErrorCode::kData),
              HasSubstr("change 1 (key id=2) has no value for sequence_by column 'updated_at'"));
  EXPECT_THAT(
      error_message<Error>(
          [&] { engine.apply_changes({Change::remove(R"({"id":"x","updated_at":null})")}, {}); },
          ErrorCode::kData),
      HasSubstr("table 'main.default.users': delete 0, primary key 'id': value \"x\" is "
                "not a bigint"));
  EXPECT_THAT(
      error_message<Error>(
          [&] { engine.apply_changes({Change::upsert(R"({"id":1,"updated_at":"soon"})")}, {}); },
          ErrorCode::kData),
      HasSubstr("sequence_by column 'updated_at': value \"soon\" is not a timestamp"));
}

TEST(MergeEngine, EachFlowHasItsOwnEntryPoint) {
  const MergeEngine cdc(cdc_spec(ScdType::kType1));
  error_message<Error>([&] { cdc.apply_snapshot({}, {}, 0); }, ErrorCode::kInternal);
  error_message<Error>([&] { cdc.append({}); }, ErrorCode::kInternal);
  const MergeEngine snapshot(snapshot_spec(ScdType::kType1));
  error_message<Error>([&] { snapshot.apply_changes({}, {}); }, ErrorCode::kInternal);
}

// ---- SCD type 1 -------------------------------------------------------------------------------

TEST(ApplyChangesScd1, InsertsNewKeys) {
  Table table(cdc_spec(ScdType::kType1));
  const MergeResult result = table.apply({upsert(1, "ann", 1), upsert(2, "bob", 1)});
  EXPECT_EQ(result.counts, counts(2, 0, 0, 0));
  EXPECT_THAT(result.rows, ElementsAre(user(1, "ann", 1), user(2, "bob", 1)));
  EXPECT_THAT(result.replaced_keys, IsEmpty());
  EXPECT_THAT(table.rows(), ElementsAre(user(1, "ann", 1), user(2, "bob", 1)));
}

TEST(ApplyChangesScd1, NewerChangeReplacesTheRow) {
  Table table(cdc_spec(ScdType::kType1));
  table.apply({upsert(1, "ann", 1), upsert(2, "bob", 1)});
  const MergeResult result = table.apply({upsert(1, "anna", 2)});
  EXPECT_EQ(result.counts, counts(0, 1, 0, 0));
  EXPECT_THAT(result.rows, ElementsAre(user(1, "anna", 2)));
  EXPECT_THAT(result.replaced_keys,
              UnorderedElementsAre(table.engine().key_of(Row(user(1, "", 0)))));
  EXPECT_THAT(table.rows(), ElementsAre(user(1, "anna", 2), user(2, "bob", 1)));
}

TEST(ApplyChangesScd1, HighestSequenceWinsWhateverTheBatchOrder) {
  Table table(cdc_spec(ScdType::kType1));
  const MergeResult result =
      table.apply({upsert(1, "third", 3), upsert(1, "first", 1), upsert(1, "second", 2)});
  EXPECT_EQ(result.counts, counts(1, 0, 0, 0));
  EXPECT_THAT(table.rows(), ElementsAre(user(1, "third", 3)));
}

TEST(ApplyChangesScd1, LateOlderChangeIsIgnored) {
  Table table(cdc_spec(ScdType::kType1));
  table.apply({upsert(1, "new", 5)});
  const MergeResult result = table.apply({upsert(1, "old", 4)});
  EXPECT_EQ(result.counts, counts(0, 0, 0, 1));
  EXPECT_THAT(result.rows, IsEmpty());
  EXPECT_THAT(result.replaced_keys, IsEmpty());
  EXPECT_THAT(table.rows(), ElementsAre(user(1, "new", 5)));
}

TEST(ApplyChangesScd1, SequencesCompareAsInstantsNotText) {
  Table table(cdc_spec(ScdType::kType1));
  table.apply({Change::upsert(R"({"id":1,"name":"utc","updated_at":"2024-01-01T09:00:00Z"})")});
  // 10:00+02:00 is 08:00 UTC: older, though it sorts later as text.
  const MergeResult result = table.apply(
      {Change::upsert(R"({"id":1,"name":"paris","updated_at":"2024-01-01T10:00:00+02:00"})")});
  EXPECT_EQ(result.counts, counts(0, 0, 0, 1));
}

TEST(ApplyChangesScd1, NumericSequencesCompareNumerically) {
  MergeSpec spec = cdc_spec(ScdType::kType1);
  spec.schema = StructType{{"id", DataType::Long()}, {"v", DataType::Long()}};
  spec.sequence_by = "v";
  Table table(spec);
  table.apply({Change::upsert(R"({"id":1,"v":9})")});
  EXPECT_EQ(table.apply({Change::upsert(R"({"id":1,"v":10})")}).counts, counts(0, 1, 0, 0));
  EXPECT_THAT(table.rows(), ElementsAre(R"({"id":1,"v":10})"));
}

TEST(ApplyChangesScd1, EqualSequenceReplacesUnlessIdentical) {
  Table table(cdc_spec(ScdType::kType1));
  table.apply({upsert(1, "a", 1)});
  EXPECT_EQ(table.apply({upsert(1, "a", 1)}).counts, counts(0, 0, 0, 1));  // replayed
  EXPECT_EQ(table.apply({upsert(1, "b", 1)}).counts, counts(0, 1, 0, 0));
  EXPECT_THAT(table.rows(), ElementsAre(user(1, "b", 1)));
  // Within one batch, the later of two changes with one sequence value wins.
  EXPECT_EQ(table.apply({upsert(2, "x", 1), upsert(2, "y", 1)}).counts, counts(1, 0, 0, 0));
  EXPECT_THAT(table.rows(), ElementsAre(user(1, "b", 1), user(2, "y", 1)));
}

TEST(ApplyChangesScd1, DeleteRemovesTheRow) {
  Table table(cdc_spec(ScdType::kType1));
  table.apply({upsert(1, "a", 1), upsert(2, "b", 1)});
  const MergeResult result = table.apply({remove(1, 2)});
  EXPECT_EQ(result.counts, counts(0, 0, 1, 0));
  EXPECT_THAT(result.rows, IsEmpty());
  EXPECT_EQ(result.replaced_keys.size(), 1u);
  EXPECT_THAT(result.tombstones_set, ElementsAre(Tombstone{R"({"id":1})", at(2)}));
  EXPECT_THAT(table.rows(), ElementsAre(user(2, "b", 1)));
}

TEST(ApplyChangesScd1, DeleteOlderThanTheRowIsIgnored) {
  Table table(cdc_spec(ScdType::kType1));
  table.apply({upsert(1, "a", 5)});
  const MergeResult result = table.apply({remove(1, 4)});
  EXPECT_EQ(result.counts, counts(0, 0, 0, 1));
  EXPECT_THAT(result.tombstones_set, IsEmpty());
  EXPECT_THAT(table.rows(), ElementsAre(user(1, "a", 5)));
}

TEST(ApplyChangesScd1, DeleteWinsATieWithAnUpsert) {
  Table table(cdc_spec(ScdType::kType1));
  EXPECT_EQ(table.apply({remove(1, 3), upsert(1, "a", 3)}).counts, counts(0, 0, 0, 0));
  EXPECT_THAT(table.rows(), IsEmpty());
  table.apply({upsert(2, "b", 3)});
  EXPECT_EQ(table.apply({remove(2, 3)}).counts, counts(0, 0, 1, 0));
  EXPECT_THAT(table.rows(), IsEmpty());
}

TEST(ApplyChangesScd1, TombstoneKeepsALateOlderUpsertFromComingBack) {
  Table table(cdc_spec(ScdType::kType1));
  table.apply({upsert(1, "a", 1)});
  table.apply({remove(1, 5)});
  EXPECT_THAT(table.tombstones(), ElementsAre(R"({"id":1}@)" + at(5)));
  EXPECT_EQ(table.apply({upsert(1, "late", 4)}).counts, counts(0, 0, 0, 1));
  EXPECT_THAT(table.rows(), IsEmpty());
  // A newer upsert brings the key back and makes the tombstone moot.
  const MergeResult result = table.apply({upsert(1, "back", 6)});
  EXPECT_EQ(result.counts, counts(1, 0, 0, 0));
  EXPECT_EQ(result.tombstones_cleared.size(), 1u);
  EXPECT_THAT(table.rows(), ElementsAre(user(1, "back", 6)));
  EXPECT_THAT(table.tombstones(), IsEmpty());
}

TEST(ApplyChangesScd1, DeleteOfAnAbsentKeyLeavesOnlyATombstone) {
  Table table(cdc_spec(ScdType::kType1));
  const MergeResult result = table.apply({remove(7, 5)});
  EXPECT_EQ(result.counts, counts(0, 0, 0, 0));
  EXPECT_THAT(result.rows, IsEmpty());
  EXPECT_THAT(result.replaced_keys, IsEmpty());
  EXPECT_THAT(table.tombstones(), ElementsAre(R"({"id":7}@)" + at(5)));
  EXPECT_EQ(table.apply({remove(7, 4)}).counts, counts(0, 0, 0, 1));  // older: nothing new
  EXPECT_THAT(table.tombstones(), ElementsAre(R"({"id":7}@)" + at(5)));
}

TEST(ApplyChangesScd1, RowsOfUnchangedKeysAreLeftAlone) {
  const MergeEngine engine(cdc_spec(ScdType::kType1));
  const std::vector<Row> current = {Row(user(1, "a", 1)), Row(user(2, "b", 1))};
  const MergeResult result = engine.apply_changes({upsert(2, "c", 2)}, current);
  EXPECT_THAT(result.replaced_keys, UnorderedElementsAre(engine.key_of(current[1])));
  EXPECT_THAT(result.rows, ElementsAre(user(2, "c", 2)));
}

TEST(ApplyChangesScd1, TwoTargetRowsForAKeyIsAnInternalError) {
  const MergeEngine engine(cdc_spec(ScdType::kType1));
  EXPECT_THAT(
      error_message<Error>(
          [&] {
            engine.apply_changes({upsert(1, "c", 3)}, {Row(user(1, "a", 1)), Row(user(1, "b", 2))});
          },
          ErrorCode::kInternal),
      HasSubstr("holds 2 rows for key id=1"));
}

// ---- SCD type 2 -------------------------------------------------------------------------------

TEST(ApplyChangesScd2, FirstChangeOpensAVersion) {
  Table table(cdc_spec(ScdType::kType2));
  const MergeResult result = table.apply({upsert(1, "a", 1)});
  EXPECT_EQ(result.counts, counts(1, 0, 0, 0));
  EXPECT_THAT(result.rows, ElementsAre(version(1, "a", 1, 1, std::nullopt)));
}

TEST(ApplyChangesScd2, UpdateClosesTheCurrentVersionAndOpensOne) {
  Table table(cdc_spec(ScdType::kType2));
  table.apply({upsert(1, "a", 1), upsert(2, "b", 1)});
  const MergeResult result = table.apply({upsert(1, "a2", 3)});
  EXPECT_EQ(result.counts, counts(0, 1, 0, 0));
  EXPECT_EQ(result.replaced_keys.size(), 1u);
  EXPECT_THAT(result.rows, ElementsAre(version(1, "a", 1, 1, 3), version(1, "a2", 3, 3, {})));
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "a", 1, 1, 3), version(1, "a2", 3, 3, {}),
                                        version(2, "b", 1, 1, {})));
}

TEST(ApplyChangesScd2, DeleteClosesTheCurrentVersion) {
  Table table(cdc_spec(ScdType::kType2));
  table.apply({upsert(1, "a", 1)});
  const MergeResult result = table.apply({remove(1, 4)});
  EXPECT_EQ(result.counts, counts(0, 0, 1, 0));
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "a", 1, 1, 4)));
  EXPECT_THAT(table.tombstones(), IsEmpty());  // __END_AT records it
  // Back again: a new version; the closed one stays.
  EXPECT_EQ(table.apply({upsert(1, "again", 6)}).counts, counts(1, 0, 0, 0));
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "a", 1, 1, 4), version(1, "again", 6, 6, {})));
}

TEST(ApplyChangesScd2, ChangesOfOneBatchApplyInSequenceOrder) {
  Table table(cdc_spec(ScdType::kType2));
  const MergeResult result =
      table.apply({upsert(1, "c", 3), remove(1, 4), upsert(1, "a", 1), upsert(1, "b", 2)});
  EXPECT_EQ(result.counts, counts(1, 0, 0, 0));  // a new key, though no longer current
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "a", 1, 1, 2), version(1, "b", 2, 2, 3),
                                        version(1, "c", 3, 3, 4)));
}

TEST(ApplyChangesScd2, LateUpdateLandsInHistoryAtItsPlace) {
  Table table(cdc_spec(ScdType::kType2));
  table.apply({upsert(1, "a", 1)});
  table.apply({upsert(1, "c", 5)});
  const MergeResult result = table.apply({upsert(1, "b", 3)});
  EXPECT_EQ(result.counts, counts(0, 1, 0, 0));
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "a", 1, 1, 3), version(1, "b", 3, 3, 5),
                                        version(1, "c", 5, 5, {})));
}

TEST(ApplyChangesScd2, LateChangeOlderThanAllHistoryOpensItEarlier) {
  Table table(cdc_spec(ScdType::kType2));
  table.apply({upsert(1, "b", 3)});
  table.apply({upsert(1, "a", 1)});
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "a", 1, 1, 3), version(1, "b", 3, 3, {})));
}

TEST(ApplyChangesScd2, LateDeleteCutsTheVersionCoveringIt) {
  Table table(cdc_spec(ScdType::kType2));
  table.apply({upsert(1, "a", 1), upsert(1, "c", 5)});
  const MergeResult result = table.apply({remove(1, 3)});
  EXPECT_EQ(result.counts, counts(0, 1, 0, 0));  // still current: history changed
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "a", 1, 1, 3), version(1, "c", 5, 5, {})));
}

TEST(ApplyChangesScd2, LateUpsertOlderThanADeleteEndsAtIt) {
  Table table(cdc_spec(ScdType::kType2));
  table.apply({remove(1, 5)});  // a key never seen: only a tombstone
  EXPECT_THAT(table.rows(), IsEmpty());
  EXPECT_THAT(table.tombstones(), ElementsAre(R"({"id":1}@)" + at(5)));
  const MergeResult result = table.apply({upsert(1, "a", 3)});
  EXPECT_EQ(result.counts, counts(1, 0, 0, 0));  // the key's first rows
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "a", 3, 3, 5)));
  EXPECT_THAT(table.tombstones(), IsEmpty());
}

TEST(ApplyChangesScd2, DuplicatesAndTieLosersAreIgnored) {
  Table table(cdc_spec(ScdType::kType2));
  table.apply({upsert(1, "a", 1)});
  const MergeResult replay = table.apply({upsert(1, "a", 1)});
  EXPECT_EQ(replay.counts, counts(0, 0, 0, 1));
  EXPECT_THAT(replay.rows, IsEmpty());
  EXPECT_THAT(replay.replaced_keys, IsEmpty());
  // Same sequence, other data: the batch's version replaces the stored one.
  EXPECT_EQ(table.apply({upsert(1, "A", 1)}).counts, counts(0, 1, 0, 0));
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "A", 1, 1, {})));
  // A delete wins a tie; the upsert at its sequence is ignored.
  EXPECT_EQ(table.apply({upsert(1, "b", 2), remove(1, 2)}).counts, counts(0, 0, 1, 1));
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "A", 1, 1, 2)));
}

TEST(ApplyChangesScd2, OverlappingStoredHistoryIsAnInternalError) {
  const MergeEngine engine(cdc_spec(ScdType::kType2));
  EXPECT_THAT(error_message<Error>(
                  [&] {
                    engine.apply_changes({upsert(1, "c", 9)}, {Row(version(1, "a", 1, 1, 5)),
                                                               Row(version(1, "b", 3, 3, {}))});
                  },
                  ErrorCode::kInternal),
              HasSubstr("the history of key id=1 has overlapping versions"));
  EXPECT_THAT(error_message<Error>(
                  [&] { engine.apply_changes({upsert(1, "c", 9)}, {Row(user(1, "a", 1))}); },
                  ErrorCode::kInternal),
              HasSubstr("has no __START_AT"));
}

// ---- Batching does not change the outcome -------------------------------------------------------

// Applies random changes of a few keys once as one batch and once split into random batches in
// arrival order (rows and tombstones carried between batches, as the runner does): both tables
// must end the same.
void check_batching_invariance(ScdType scd, unsigned seed) {
  std::mt19937 random(seed);
  std::vector<Change> changes;
  for (int i = 0; i < 40; ++i) {
    const int id = static_cast<int>(random() % 3);
    const int hour = static_cast<int>(random() % 12);
    if (random() % 4 == 0) {
      changes.push_back(remove(id, hour));
    } else {
      changes.push_back(upsert(id, fmt::format("n{}", random() % 3), hour));
    }
  }
  Table all_at_once(cdc_spec(scd));
  all_at_once.apply(changes);
  Table batched(cdc_spec(scd));
  for (std::size_t i = 0; i < changes.size();) {
    const std::size_t n = std::min<std::size_t>(1 + random() % 6, changes.size() - i);
    batched.apply(std::vector<Change>(changes.begin() + static_cast<std::ptrdiff_t>(i),
                                      changes.begin() + static_cast<std::ptrdiff_t>(i + n)));
    i += n;
  }
  EXPECT_EQ(batched.rows(), all_at_once.rows()) << "seed " << seed;
  EXPECT_EQ(batched.tombstones(), all_at_once.tombstones()) << "seed " << seed;
}

TEST(ApplyChangesScd1, BatchingDoesNotChangeTheOutcome) {
  for (unsigned seed = 1; seed <= 200; ++seed) check_batching_invariance(ScdType::kType1, seed);
}

TEST(ApplyChangesScd2, BatchingDoesNotChangeTheOutcome) {
  for (unsigned seed = 1; seed <= 200; ++seed) check_batching_invariance(ScdType::kType2, seed);
}

TEST(ApplyChangesScd1, FinalRowIsTheLatestChangeOfEachKey) {
  // Against a direct model: per key the change with the highest sequence (a delete winning a tie,
  // else the later change) decides.
  std::mt19937 random(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<Change> changes;
    std::map<int, std::tuple<int, int, std::string>> model;  // id → (hour, is upsert, row)
    for (int i = 0; i < 30; ++i) {
      const int id = static_cast<int>(random() % 4);
      const int hour = static_cast<int>(random() % 10);
      const bool is_delete = random() % 3 == 0;
      const std::string row = user(id, fmt::format("v{}", i), hour);
      changes.push_back(is_delete ? remove(id, hour) : Change::upsert(row));
      const auto it = model.find(id);
      const bool wins =
          it == model.end() || hour > std::get<0>(it->second) ||
          (hour == std::get<0>(it->second) && (is_delete || std::get<1>(it->second) == 1));
      if (wins) model[id] = {hour, is_delete ? 0 : 1, row};
    }
    Table table(cdc_spec(ScdType::kType1));
    for (std::size_t i = 0; i < changes.size(); i += 5) {
      table.apply(std::vector<Change>(changes.begin() + static_cast<std::ptrdiff_t>(i),
                                      changes.begin() + static_cast<std::ptrdiff_t>(i + 5)));
    }
    std::vector<std::string> expected;
    for (const auto& [id, state] : model) {
      if (std::get<1>(state) == 1) expected.push_back(std::get<2>(state));
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(table.rows(), expected) << "round " << round;
  }
}

// ---- Snapshots ---------------------------------------------------------------------------------

TEST(ApplySnapshotScd1, InsertsUpdatesAndDeletesByKey) {
  Table table(snapshot_spec(ScdType::kType1));
  EXPECT_EQ(table.snapshot({user(1, "a", 0), user(2, "b", 0), user(3, "c", 0)}, 1).counts,
            counts(3, 0, 0, 0));
  const MergeResult result = table.snapshot({user(1, "a", 0), user(2, "B", 0), user(4, "d", 0)}, 2);
  EXPECT_EQ(result.counts, counts(1, 1, 1, 0));
  EXPECT_EQ(result.replaced_keys.size(), 2u);  // 2 updated, 3 deleted
  EXPECT_THAT(result.rows, ElementsAre(user(2, "B", 0), user(4, "d", 0)));
  EXPECT_THAT(table.rows(), ElementsAre(user(1, "a", 0), user(2, "B", 0), user(4, "d", 0)));
  // The same snapshot again changes nothing.
  const MergeResult again = table.snapshot({user(4, "d", 0), user(1, "a", 0), user(2, "B", 0)}, 3);
  EXPECT_EQ(again.counts, counts(0, 0, 0, 0));
  EXPECT_THAT(again.rows, IsEmpty());
  // An empty snapshot deletes everything.
  EXPECT_EQ(table.snapshot({}, 4).counts, counts(0, 0, 3, 0));
  EXPECT_THAT(table.rows(), IsEmpty());
}

TEST(ApplySnapshotScd1, DuplicateKeysInASnapshotAreAnError) {
  const MergeEngine engine(snapshot_spec(ScdType::kType1));
  EXPECT_THAT(error_message<Error>(
                  [&] {
                    engine.apply_snapshot(
                        {Row(user(1, "a", 0)), Row(user(2, "b", 0)), Row(user(1, "c", 0))}, {}, 0);
                  },
                  ErrorCode::kData),
              HasSubstr("table 'main.default.products': the snapshot has two rows with key id=1 "
                        "(rows 0 and 2)"));
  EXPECT_THAT(error_message<Error>([&] { engine.apply_snapshot({Row(R"({"name":"x"})")}, {}, 0); },
                                   ErrorCode::kData),
              HasSubstr("snapshot row 0 has no value for primary key 'id'"));
}

TEST(ApplySnapshotScd2, VersionsOpenAndCloseAtTheSnapshotTime) {
  Table table(snapshot_spec(ScdType::kType2));
  table.snapshot({user(1, "a", 0), user(2, "b", 0)}, 1);
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "a", 0, 1, {}), version(2, "b", 0, 1, {})));
  const MergeResult result = table.snapshot({user(1, "A", 0), user(3, "c", 0)}, 2);
  EXPECT_EQ(result.counts, counts(1, 1, 1, 0));
  EXPECT_THAT(table.rows(), ElementsAre(version(1, "A", 0, 2, {}), version(1, "a", 0, 1, 2),
                                        version(2, "b", 0, 1, 2), version(3, "c", 0, 2, {})));
  // Unchanged keys are untouched; a key that comes back opens a new version.
  const MergeResult back = table.snapshot({user(1, "A", 0), user(2, "b", 0), user(3, "c", 0)}, 3);
  EXPECT_EQ(back.counts, counts(1, 0, 0, 0));
  EXPECT_THAT(back.rows, ElementsAre(version(2, "b", 0, 1, 2), version(2, "b", 0, 3, {})));
}

TEST(ApplySnapshotScd2, SnapshotTimeMustBeAfterEveryVersion) {
  Table table(snapshot_spec(ScdType::kType2));
  table.snapshot({user(1, "a", 0)}, 5);
  EXPECT_THAT(
      error_message<Error>([&] { table.snapshot({user(1, "b", 0)}, 5); }, ErrorCode::kInternal),
      HasSubstr("the snapshot's time \"2024-01-01T05:00:00.000000Z\" is not after the "
                "latest version"));
  // Nothing changes for a key that did not change, whatever the time.
  EXPECT_EQ(table.snapshot({user(1, "a", 0)}, 4).counts, counts(0, 0, 0, 0));
}

// ---- Append ------------------------------------------------------------------------------------

TEST(Append, RowsAreAppendedAsTheyAre) {
  const MergeEngine engine(
      MergeSpec{"t", TargetFlow::kAppend, ScdType::kType1, users_schema(), {}, {}});
  const MergeResult result = engine.append({user(1, "a", 1), user(1, "a", 1)});
  EXPECT_EQ(result.counts, counts(2, 0, 0, 0));
  EXPECT_THAT(result.rows, ElementsAre(user(1, "a", 1), user(1, "a", 1)));
  EXPECT_THAT(result.replaced_keys, IsEmpty());
}

TEST(TargetFlow, Names) {
  EXPECT_EQ(to_string(TargetFlow::kApplyChanges), "apply_changes");
  EXPECT_EQ(to_string(TargetFlow::kApplyChangesFromSnapshot), "apply_changes_from_snapshot");
  EXPECT_EQ(to_string(TargetFlow::kAppend), "append");
}

}  // namespace
}  // namespace lakeflow::pipeline
