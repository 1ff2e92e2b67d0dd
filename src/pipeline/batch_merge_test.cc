#include "pipeline/batch_merge.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "columnar/column_sort.h"
#include "columnar/record_converter.h"
#include "lakeflow/records.h"
#include "pipeline/merge.h"

namespace lakeflow::pipeline {
namespace {

// A table whose rows vary in every way a merge compares them: nested and composite keys, a
// sequence inside a struct, lists, maps, decimals and floating point values.
StructType wide_schema() {
  return StructType{
      {"id", DataType::Long()},
      {"region", DataType::String()},
      {"meta", StructType{{"seq", DataType::Timestamp()}, {"source", DataType::String()}}},
      {"name", DataType::String()},
      {"score", DataType::Double()},
      {"ratio", DataType::Float()},
      {"amount", DataType::Decimal(12, 2)},
      {"active", DataType::Boolean()},
      {"born", DataType::Date()},
      {"tags", DataType::Array(DataType::String())},
      {"attrs", DataType::Map(DataType::String(), DataType::Long())},
      {"payload", DataType::Variant()}};
}

MergeSpec wide_spec(std::vector<std::string> keys) {
  return MergeSpec{"main.default.wide", TargetFlow::kApplyChanges, ScdType::kType1,
                   wide_schema(),       std::move(keys),           "meta.seq"};
}

ColumnBatch convert(const StructType& schema, const std::vector<std::string>& rows) {
  RecordConverter converter(schema, "t");
  ColumnBatch batch = converter.make_batch();
  RecordBatch records;
  for (const std::string& row : rows) records.append(row);
  converter.convert(records, batch);
  return batch;
}

std::vector<std::string> rows_of(const ColumnBatch& batch) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < batch.num_rows(); ++i) out.push_back(batch.row_json(i));
  return out;
}

// Random rows of wide_schema() over few keys and few sequence values, so that keys repeat within
// a batch, sequences tie, and some rows repeat earlier ones exactly (replays).
class RowSource {
 public:
  // `null_sources`: meta.source is null in some rows (not when it is a key column).
  RowSource(std::uint32_t seed, bool null_sources) : random_(seed), null_sources_(null_sources) {}

  std::string row() {
    if (!made_.empty() && pick(5) == 0) return made_[pick(made_.size())];  // a replay
    std::string out =
        fmt::format(R"({{"id":{},"region":"{}","meta":{{"seq":"2024-01-01T{:02}:00:00Z")", pick(12),
                    pick(2) == 0 ? "eu" : "us", pick(6));
    out += fmt::format(R"(,"source":{}}})", source());
    const char* names[] = {R"("ann")", R"("bob")", R"("\"quoted\"")", R"("\u00e9t\u00e9")"};
    out += fmt::format(R"(,"name":{})", nullable(names[pick(4)]));
    const char* scores[] = {"0.0", "-0.0", "1.5", "1e300", "0.1"};
    out += fmt::format(R"(,"score":{})", nullable(scores[pick(5)]));
    out += fmt::format(R"(,"ratio":{})", nullable(pick(2) == 0 ? "0.1" : "2.5"));
    out += fmt::format(R"(,"amount":{})", nullable(pick(2) == 0 ? "\"12.30\"" : "7"));
    out += fmt::format(R"(,"active":{})", nullable(pick(2) == 0 ? "true" : "false"));
    out += fmt::format(R"(,"born":{})", nullable("\"2000-02-29\""));
    out += fmt::format(R"(,"tags":{})", nullable(pick(2) == 0 ? "[]" : R"(["a",null,"b"])"));
    out += fmt::format(R"(,"attrs":{})", nullable(pick(2) == 0 ? "{}" : R"({"x":1,"y":null})"));
    out += fmt::format(R"(,"payload":{})", nullable(pick(2) == 0 ? R"({"k":[1,2]})" : "3"));
    out += '}';
    made_.push_back(out);
    return out;
  }
  std::string remove() {
    return fmt::format(
        R"({{"id":{},"region":"{}","meta":{{"seq":"2024-01-01T{:02}:00:00Z","source":{}}}}})",
        pick(12), pick(2) == 0 ? "eu" : "us", pick(6), source());
  }
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_);
  }

 private:
  std::string nullable(const std::string& json) { return pick(4) == 0 ? "null" : json; }
  std::string source() {
    if (null_sources_ && pick(3) == 0) return "null";
    return pick(2) == 0 ? "\"feed\"" : "\"api\"";
  }
  std::mt19937 random_;
  bool null_sources_;
  std::vector<std::string> made_;
};

// A table kept as the runner keeps one: a batch of target rows plus the stored tombstones.
struct State {
  std::vector<std::string> rows;  // row_json of the target rows
  std::vector<Tombstone> tombstones;
};

// What either merge makes of the state: the rows written, and the result's other parts.
struct Outcome {
  std::vector<std::string> rows;  // kept rows, then the merge's, as row_json text
  MergeCounts counts;
  std::vector<std::string> replaced;
  std::vector<std::string> tombstones_set;
  std::vector<std::string> tombstones_cleared;
};

void describe(const MergeResult& merged, Outcome& out) {
  out.counts = merged.counts;
  out.replaced.assign(merged.replaced_keys.begin(), merged.replaced_keys.end());
  std::sort(out.replaced.begin(), out.replaced.end());
  for (const Tombstone& t : merged.tombstones_set) {
    out.tombstones_set.push_back(t.key_json + "@" + t.sequence_json);
  }
  out.tombstones_cleared = merged.tombstones_cleared;
}

std::vector<std::string> kept_rows(const MergeEngine& engine, const State& state,
                                   const MergeResult& merged) {
  std::vector<std::string> out;
  for (const std::string& row : state.rows) {
    if (!merged.replaced_keys.contains(engine.key_of(Row(row)))) out.push_back(row);
  }
  return out;
}

Outcome by_engine(const MergeEngine& engine, const State& state,
                  const std::vector<std::string>& changes) {
  std::vector<Change> upserts;
  for (const std::string& row : changes) upserts.push_back(Change::upsert(row));
  std::vector<Row> current;
  for (const std::string& row : state.rows) current.emplace_back(row);
  const MergeResult merged = engine.apply_changes(upserts, current, state.tombstones);
  Outcome out;
  out.rows = kept_rows(engine, state, merged);
  out.rows.insert(out.rows.end(), merged.rows.begin(), merged.rows.end());
  describe(merged, out);
  return out;
}

std::optional<Outcome> by_index(const MergeEngine& engine, const State& state,
                                const ColumnBatch& changes) {
  // The target rows as the runner holds them: a batch read back, with keys from its columns.
  const ColumnBatch target = convert(engine.target_schema(), state.rows);
  const BatchKeys target_keys(engine, target);
  std::vector<RowKey> keys;
  for (std::size_t i = 0; i < target.num_rows(); ++i) keys.push_back(*target_keys.key(i));
  const TargetRows rows[] = {{&target, &keys}};
  const std::optional<BatchMergeResult> merged =
      apply_upserts(engine, changes, rows, state.tombstones);
  if (!merged) return std::nullopt;
  EXPECT_TRUE(merged->merge.rows.empty());
  Outcome out;
  out.rows = kept_rows(engine, state, merged->merge);
  ColumnBatch written(engine.target_schema());
  append_rows(changes, merged->rows, written);
  for (std::size_t i = 0; i < written.num_rows(); ++i) out.rows.push_back(written.row_json(i));
  describe(merged->merge, out);
  return out;
}

void advance(const MergeEngine& engine, State& state, const std::vector<Change>& changes) {
  std::vector<Row> current;
  for (const std::string& row : state.rows) current.emplace_back(row);
  const MergeResult merged = engine.apply_changes(changes, current, state.tombstones);
  std::vector<std::string> rows = kept_rows(engine, state, merged);
  rows.insert(rows.end(), merged.rows.begin(), merged.rows.end());
  state.rows = std::move(rows);
  std::vector<RowKey> rewritten = merged.tombstones_cleared;
  for (const Tombstone& t : merged.tombstones_set)
    rewritten.push_back(engine.key_of(Row(t.key_json)));
  std::erase_if(state.tombstones, [&](const Tombstone& t) {
    return std::find(rewritten.begin(), rewritten.end(), engine.key_of(Row(t.key_json))) !=
           rewritten.end();
  });
  state.tombstones.insert(state.tombstones.end(), merged.tombstones_set.begin(),
                          merged.tombstones_set.end());
}

void expect_same(const Outcome& a, const Outcome& b, const std::string& where) {
  EXPECT_EQ(a.rows, b.rows) << where;
  EXPECT_EQ(a.counts, b.counts) << where;
  EXPECT_EQ(a.replaced, b.replaced) << where;
  EXPECT_EQ(a.tombstones_set, b.tombstones_set) << where;
  EXPECT_EQ(a.tombstones_cleared, b.tombstones_cleared) << where;
}

// Random upsert batches, with deletes (through the engine) between them so that tombstones are
// stored, applied to one table by the engine and by index: the same rows, counts and tombstones.
void run_differential(std::vector<std::string> keys, std::uint32_t seed) {
  const bool source_is_key = std::find(keys.begin(), keys.end(), "meta.source") != keys.end();
  const MergeEngine engine(wide_spec(std::move(keys)));
  RowSource source(seed, !source_is_key);
  State state;
  std::size_t merged_by_index = 0;
  for (int step = 0; step < 150; ++step) {
    if (source.pick(4) == 0) {
      std::vector<Change> deletes;
      for (std::size_t i = source.pick(4); i > 0; --i)
        deletes.push_back(Change::remove(source.remove()));
      advance(engine, state, deletes);
      continue;
    }
    std::vector<std::string> records;
    for (std::size_t i = source.pick(12); i > 0; --i) records.push_back(source.row());
    // The engine sees the converted rows as the runner gives them: row_json text.
    const ColumnBatch batch = convert(wide_schema(), records);
    const std::vector<std::string> rows = rows_of(batch);
    const std::string where = fmt::format("seed {} step {}", seed, step);
    const Outcome expected = by_engine(engine, state, rows);
    const std::optional<Outcome> actual = by_index(engine, state, batch);
    ASSERT_TRUE(actual) << where;
    expect_same(expected, *actual, where);
    ++merged_by_index;
    std::vector<Change> upserts;
    for (const std::string& row : rows) upserts.push_back(Change::upsert(row));
    advance(engine, state, upserts);
  }
  EXPECT_GT(merged_by_index, 50U);
  EXPECT_FALSE(state.rows.empty());
}

TEST(BatchMerge, UpsertsByIndexMatchTheEngineOnRandomBatches) {
  for (std::uint32_t seed = 1; seed <= 6; ++seed) run_differential({"id"}, seed);
}

TEST(BatchMerge, UpsertsByIndexMatchTheEngineWithCompositeKeys) {
  for (std::uint32_t seed = 11; seed <= 16; ++seed) run_differential({"region", "id"}, seed);
}

TEST(BatchMerge, UpsertsByIndexMatchTheEngineWithNestedKeysAndTheirStatistics) {
  for (std::uint32_t seed = 21; seed <= 23; ++seed) run_differential({"meta.source", "id"}, seed);
}

// Random snapshots (unique keys, rows repeating the table's or not) replacing one table, by the
// engine and by index: the same rows written, counts and replaced keys.
TEST(BatchMerge, SnapshotsByIndexMatchTheEngineOnRandomSnapshots) {
  MergeSpec spec = wide_spec({"region", "id"});
  spec.flow = TargetFlow::kApplyChangesFromSnapshot;
  spec.sequence_by.reset();
  const MergeEngine engine(spec);
  RowSource source(7, true);
  State state;
  for (int step = 0; step < 100; ++step) {
    std::vector<std::string> rows;
    std::unordered_set<RowKey> seen;
    for (std::size_t i = source.pick(16); i > 0; --i) {
      std::string row = rows_of(convert(wide_schema(), {source.row()})).front();
      if (seen.insert(engine.key_of(Row(row))).second) rows.push_back(std::move(row));
    }
    if (source.pick(3) == 0) {  // keep some of the table's rows as they are
      for (const std::string& row : state.rows) {
        if (source.pick(2) == 0 && seen.insert(engine.key_of(Row(row))).second) rows.push_back(row);
      }
    }
    const std::string where = fmt::format("step {}", step);
    std::vector<Row> snapshot;
    for (const std::string& row : rows) snapshot.emplace_back(row);
    std::vector<Row> current;
    for (const std::string& row : state.rows) current.emplace_back(row);
    const MergeResult merged = engine.apply_snapshot(snapshot, current, 0);
    Outcome expected;
    expected.rows = kept_rows(engine, state, merged);
    expected.rows.insert(expected.rows.end(), merged.rows.begin(), merged.rows.end());
    describe(merged, expected);

    const ColumnBatch target = convert(engine.target_schema(), state.rows);
    const BatchKeys target_keys(engine, target);
    std::vector<RowKey> keys;
    for (std::size_t i = 0; i < target.num_rows(); ++i) keys.push_back(*target_keys.key(i));
    const TargetRows target_rows[] = {{&target, &keys}};
    const ColumnBatch changes = convert(wide_schema(), rows);
    const std::optional<BatchMergeResult> by_index =
        apply_snapshot_rows(engine, changes, target_rows);
    ASSERT_TRUE(by_index) << where;
    Outcome actual;
    actual.rows = kept_rows(engine, state, by_index->merge);
    ColumnBatch written(engine.target_schema());
    append_rows(changes, by_index->rows, written);
    for (std::size_t i = 0; i < written.num_rows(); ++i) actual.rows.push_back(written.row_json(i));
    describe(by_index->merge, actual);
    expect_same(expected, actual, where);
    state.rows = expected.rows;
  }
  // Two rows with one key are the engine's to report.
  const std::string row = R"({"id":1,"region":"eu","meta":null})";
  EXPECT_FALSE(apply_snapshot_rows(engine, convert(wide_schema(), {row, row}), {}));
}

// Every key type the engine accepts (binary aside) reads from its column as from the row's JSON.
TEST(BatchMerge, KeysReadFromColumnsEqualTheEnginesKeys) {
  const StructType schema{{"l", DataType::Long()},           {"i", DataType::Integer()},
                          {"s", DataType::Short()},          {"b", DataType::Byte()},
                          {"d", DataType::Double()},         {"f", DataType::Float()},
                          {"m", DataType::Decimal(20, 3)},   {"t", DataType::Boolean()},
                          {"dt", DataType::Date()},          {"ts", DataType::Timestamp()},
                          {"ntz", DataType::TimestampNtz()}, {"str", DataType::String()},
                          {"seq", DataType::Long()}};
  std::vector<std::string> rows = {
      R"({"l":-9223372036854775808,"i":-5,"s":7,"b":-128,"d":-0.0,"f":0.1,"m":"-12345678901234567.891","t":true,"dt":"1969-12-31","ts":"1960-01-01T00:00:00.000001Z","ntz":"2024-02-29T23:59:59.999999","str":"\u00e9\"x","seq":1})",
      R"({"l":9223372036854775807,"i":2147483647,"s":-32768,"b":127,"d":1e-320,"f":3.4e38,"m":"0.001","t":false,"dt":"2024-01-01","ts":"2024-05-01T10:00:00+02:00","ntz":"1900-01-01T00:00:00","str":"","seq":2})",
      R"({"l":0,"i":0,"s":0,"b":0,"d":0.0,"f":-0.0,"m":"0","t":true,"dt":"0001-01-01","ts":"9999-12-31T23:59:59.999999Z","ntz":"2000-01-01T12:00:00","str":"a\u0000b","seq":3})"};
  const ColumnBatch batch = convert(schema, rows);
  for (const StructField& field : schema.fields()) {
    if (field.name == "seq") continue;
    const MergeEngine engine(
        MergeSpec{"t", TargetFlow::kApplyChanges, ScdType::kType1, schema, {field.name}, "seq"});
    const BatchKeys keys(engine, batch);
    ASSERT_TRUE(keys.usable()) << field.name;
    for (std::size_t i = 0; i < batch.num_rows(); ++i) {
      const Row row(batch.row_json(i));
      EXPECT_EQ(keys.key(i), engine.key_of(row)) << field.name << " row " << i;
      EXPECT_EQ(keys.key_values(i), engine.key_values(row)) << field.name << " row " << i;
    }
  }
  const MergeEngine binary(
      MergeSpec{"t",
                TargetFlow::kApplyChanges,
                ScdType::kType1,
                StructType{{"k", DataType::Binary()}, {"seq", DataType::Long()}},
                {"k"},
                "seq"});
  EXPECT_FALSE(
      BatchKeys(binary, convert(binary.spec().schema, {R"({"k":"AQI=","seq":1})"})).usable());
}

TEST(BatchMerge, SameRowAgreesWithTheJsonTextOfRows) {
  RowSource source(99, true);
  // Rows one detail apart: signed zeros, a float given two ways, decimal scales, empty and null
  // lists and maps, nested nulls.
  std::vector<std::string> rows = {
      R"({"id":1,"score":0.0})",        R"({"id":1,"score":-0.0})",
      R"({"id":1,"ratio":0.1})",        R"({"id":1,"ratio":0.10000000149011612})",
      R"({"id":1,"amount":7})",         R"({"id":1,"amount":"7.00"})",
      R"({"id":1,"tags":[]})",          R"({"id":1,"tags":null})",
      R"({"id":1,"tags":[null]})",      R"({"id":1,"attrs":{}})",
      R"({"id":1,"attrs":{"x":null}})", R"({"id":1,"meta":{"source":null}})",
      R"({"id":1,"meta":null})",        R"({"id":1,"payload":"3"})",
      R"({"id":1,"payload":3})",        R"({"id":1,"score":1e-320})"};
  for (int i = 0; i < 200; ++i) rows.push_back(source.row());
  const ColumnBatch batch = convert(wide_schema(), rows);
  std::size_t same = 0;
  for (std::size_t a = 0; a < batch.num_rows(); ++a) {
    for (std::size_t b = 0; b < batch.num_rows(); b += b < 16 ? 1 : 7) {
      const bool expected = Row(batch.row_json(a)).same_fields(Row(batch.row_json(b)));
      EXPECT_EQ(same_row(batch, a, batch, b), expected)
          << batch.row_json(a) << " vs " << batch.row_json(b);
      same += expected ? 1 : 0;
    }
  }
  EXPECT_GT(same, 20U);  // replays make equal rows
}

// What the engine must decide is left to it: a change without a key or a sequence value, and a
// key with two target rows (the engine's errors name them).
TEST(BatchMerge, LeavesToTheEngineWhatItReports) {
  const MergeEngine engine(wide_spec({"id"}));
  const ColumnBatch no_key =
      convert(wide_schema(), {R"({"id":null,"meta":{"seq":"2024-01-01T00:00:00Z"}})"});
  EXPECT_FALSE(apply_upserts(engine, no_key, {}, {}));
  const ColumnBatch no_sequence = convert(wide_schema(), {R"({"id":1,"meta":null})"});
  EXPECT_FALSE(apply_upserts(engine, no_sequence, {}, {}));

  const ColumnBatch target =
      convert(wide_schema(), {R"({"id":1,"meta":{"seq":"2024-01-01T00:00:00Z"}})",
                              R"({"id":1,"meta":{"seq":"2024-01-01T01:00:00Z"}})"});
  const BatchKeys keys(engine, target);
  const std::vector<RowKey> target_keys{*keys.key(0), *keys.key(1)};
  const TargetRows rows[] = {{&target, &target_keys}};
  const ColumnBatch change =
      convert(wide_schema(), {R"({"id":1,"meta":{"seq":"2024-01-01T02:00:00Z"}})"});
  EXPECT_FALSE(apply_upserts(engine, change, rows, {}));
  const ColumnBatch other =
      convert(wide_schema(), {R"({"id":2,"meta":{"seq":"2024-01-01T02:00:00Z"}})"});
  const std::optional<BatchMergeResult> merged = apply_upserts(engine, other, rows, {});
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->merge.counts.inserted, 1U);
  EXPECT_EQ(merged->rows, std::vector<std::uint32_t>{0});
}

}  // namespace
}  // namespace lakeflow::pipeline
