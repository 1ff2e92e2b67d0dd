#include "pipeline/batch_merge.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "columnar/column_sort.h"
#include "columnar/record_converter.h"
#include "lakeflow/error.h"
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
      {"payload", DataType::Variant()},
      {"blob", DataType::Binary()}};
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
    out += fmt::format(R"(,"blob":{})", blob());
    out += '}';
    made_.push_back(out);
    return out;
  }
  // A delete record: its sequence value written one of the ways a source may write it (the
  // engine keeps that text for tombstones and version ends).
  std::string remove() {
    const std::size_t hour = pick(6);
    std::string seq;
    switch (pick(3)) {
      case 0:
        seq = fmt::format(R"("2024-01-01T{:02}:00:00Z")", hour);
        break;
      case 1:
        seq = fmt::format(R"("2024-01-01T{:02}:00:00+01:00")", hour + 1);
        break;
      default:
        seq = std::to_string(1704067200 + 3600 * hour);  // seconds since the epoch
    }
    return fmt::format(R"({{"id":{},"region":"{}","meta":{{"seq":{},"source":{}}},"blob":{}}})",
                       pick(12), pick(2) == 0 ? "eu" : "us", seq, source(), blob());
  }
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_);
  }

 private:
  std::string nullable(const std::string& json) { return pick(4) == 0 ? "null" : json; }
  // A binary value, never null (it may be a key column).
  std::string blob() { return pick(2) == 0 ? R"("AQI=")" : R"("/+8=")"; }
  std::string source() {
    if (null_sources_ && pick(3) == 0) return "null";
    return pick(2) == 0 ? "\"feed\"" : "\"api\"";
  }
  std::mt19937 random_;
  bool null_sources_;
  std::vector<std::string> made_;
};

// A table kept as the runner keeps one: its rows (row_json of the target schema, as read back)
// plus the stored tombstones.
struct State {
  std::vector<std::string> rows;
  std::vector<Tombstone> tombstones;
};

// One apply_changes batch: upserts (source records), then deletes (delete records as read).
struct Batch {
  std::vector<std::string> upserts;
  std::vector<std::string> deletes;
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

// The engine's changes for a batch: the converted upserts' row_json text (as the runner gives
// them), then the delete records as they are.
std::vector<Change> engine_changes(const MergeEngine& engine, const Batch& batch) {
  std::vector<Change> changes;
  for (const std::string& row : rows_of(convert(engine.spec().schema, batch.upserts))) {
    changes.push_back(Change::upsert(row));
  }
  for (const std::string& row : batch.deletes) changes.push_back(Change::remove(row));
  return changes;
}

// The engine's merge of `batch` into `state`, its rows written as the runner writes them
// (converted with the target schema).
std::pair<Outcome, MergeResult> by_engine(const MergeEngine& engine, const State& state,
                                          const Batch& batch) {
  std::vector<Row> current;
  for (const std::string& row : state.rows) current.emplace_back(row);
  MergeResult merged =
      engine.apply_changes(engine_changes(engine, batch), current, state.tombstones);
  Outcome out;
  out.rows = kept_rows(engine, state, merged);
  for (const std::string& row : rows_of(convert(engine.target_schema(), merged.rows))) {
    out.rows.push_back(row);
  }
  describe(merged, out);
  return {std::move(out), std::move(merged)};
}

std::optional<Outcome> by_index(const MergeEngine& engine, const State& state, const Batch& batch) {
  // The target rows as the runner holds them: a batch read back, with keys from its columns.
  const ColumnBatch target = convert(engine.target_schema(), state.rows);
  const BatchKeys target_keys(engine, target);
  std::vector<RowKey> keys;
  for (std::size_t i = 0; i < target.num_rows(); ++i) keys.push_back(*target_keys.key(i));
  const TargetRows rows[] = {{&target, &keys}};
  // Deletes only: no upsert batch, as the runner merges a read of deletes.
  const ColumnBatch upserts = convert(engine.spec().schema, batch.upserts);
  std::vector<Row> deletes;
  for (const std::string& row : batch.deletes) deletes.emplace_back(row);
  const BatchChanges changes{batch.upserts.empty() ? nullptr : &upserts, deletes};
  const std::optional<BatchMergeResult> merged =
      apply_changes_by_index(engine, changes, rows, state.tombstones);
  if (!merged) return std::nullopt;
  EXPECT_TRUE(merged->merge.rows.empty());
  EXPECT_EQ(merged->versions.has_value(), engine.spec().scd_type == ScdType::kType2);
  Outcome out;
  out.rows = kept_rows(engine, state, merged->merge);
  ColumnBatch written(engine.target_schema());
  append_rows(merged->versions ? *merged->versions : upserts, merged->rows, written);
  for (std::size_t i = 0; i < written.num_rows(); ++i) out.rows.push_back(written.row_json(i));
  describe(merged->merge, out);
  return out;
}

// Applies the engine's outcome to the state, as the runner stores it.
void advance(const MergeEngine& engine, State& state, std::pair<Outcome, MergeResult> outcome) {
  const MergeResult& merged = outcome.second;
  state.rows = std::move(outcome.first.rows);
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

// How run_differential makes its batches.
enum class Mix {
  kUpserts,  // upserts by index; deletes between them through the engine (tombstones stored)
  kAll,      // upserts, deletes and batches of both, by index
};

// Random batches applied to one table by the engine and by index: the same rows, counts and
// tombstones. Some batches replay an earlier one whole.
void run_differential(ScdType scd_type, std::vector<std::string> keys, std::uint32_t seed,
                      Mix mix) {
  const bool source_is_key = std::find(keys.begin(), keys.end(), "meta.source") != keys.end();
  MergeSpec spec = wide_spec(std::move(keys));
  spec.scd_type = scd_type;
  const MergeEngine engine(spec);
  RowSource source(seed, !source_is_key);
  State state;
  std::vector<Batch> batches;
  std::size_t merged_by_index = 0;
  std::size_t deleted = 0;
  for (int step = 0; step < 150; ++step) {
    Batch batch;
    const std::size_t kind = source.pick(4);  // 0: deletes, 1: both, else upserts
    if (!batches.empty() && source.pick(8) == 0) {
      batch = batches[source.pick(batches.size())];
    } else {
      if (kind != 0) {
        for (std::size_t i = source.pick(12); i > 0; --i) batch.upserts.push_back(source.row());
      }
      if (kind <= 1) {
        for (std::size_t i = source.pick(4); i > 0; --i) batch.deletes.push_back(source.remove());
      }
      batches.push_back(batch);
    }
    const std::string where = fmt::format("seed {} step {}", seed, step);
    std::pair<Outcome, MergeResult> expected = by_engine(engine, state, batch);
    if (mix == Mix::kAll || batch.deletes.empty()) {
      const std::optional<Outcome> actual = by_index(engine, state, batch);
      ASSERT_TRUE(actual) << where;
      expect_same(expected.first, *actual, where);
      ++merged_by_index;
      deleted += expected.first.counts.deleted;
    }
    advance(engine, state, std::move(expected));
  }
  EXPECT_GT(merged_by_index, 50U);
  if (mix == Mix::kAll) {
    EXPECT_GT(deleted, 0U);
  }
  EXPECT_FALSE(state.rows.empty());
}

TEST(BatchMerge, UpsertsByIndexMatchTheEngineOnRandomBatches) {
  for (std::uint32_t seed = 1; seed <= 6; ++seed) {
    run_differential(ScdType::kType1, {"id"}, seed, Mix::kUpserts);
  }
}

TEST(BatchMerge, UpsertsByIndexMatchTheEngineWithCompositeKeys) {
  for (std::uint32_t seed = 11; seed <= 16; ++seed) {
    run_differential(ScdType::kType1, {"region", "id"}, seed, Mix::kUpserts);
  }
}

TEST(BatchMerge, UpsertsByIndexMatchTheEngineWithNestedKeysAndTheirStatistics) {
  for (std::uint32_t seed = 21; seed <= 23; ++seed) {
    run_differential(ScdType::kType1, {"meta.source", "id"}, seed, Mix::kUpserts);
  }
}

TEST(BatchMerge, Scd1DeletesByIndexMatchTheEngineOnRandomBatches) {
  for (std::uint32_t seed = 31; seed <= 36; ++seed) {
    run_differential(ScdType::kType1, {"id"}, seed, Mix::kAll);
  }
  for (std::uint32_t seed = 37; seed <= 39; ++seed) {
    run_differential(ScdType::kType1, {"meta.source", "id"}, seed, Mix::kAll);
  }
}

TEST(BatchMerge, Scd2UpsertsByIndexMatchTheEngineOnRandomBatches) {
  for (std::uint32_t seed = 41; seed <= 46; ++seed) {
    run_differential(ScdType::kType2, {"id"}, seed, Mix::kUpserts);
  }
  for (std::uint32_t seed = 47; seed <= 49; ++seed) {
    run_differential(ScdType::kType2, {"region", "id"}, seed, Mix::kUpserts);
  }
}

TEST(BatchMerge, ChangesByIndexMatchTheEngineWithBinaryKeys) {
  for (std::uint32_t seed = 61; seed <= 63; ++seed) {
    run_differential(ScdType::kType1, {"blob", "id"}, seed, Mix::kAll);
    run_differential(ScdType::kType2, {"blob", "id"}, seed, Mix::kAll);
  }
}

TEST(BatchMerge, Scd2ChangesAndDeletesByIndexMatchTheEngineOnRandomBatches) {
  for (std::uint32_t seed = 51; seed <= 56; ++seed) {
    run_differential(ScdType::kType2, {"id"}, seed, Mix::kAll);
  }
  for (std::uint32_t seed = 57; seed <= 59; ++seed) {
    run_differential(ScdType::kType2, {"meta.source", "id"}, seed, Mix::kAll);
  }
}

// Random snapshots (unique keys, rows repeating the table's or not) replacing one table, by the
// engine and by index: the same rows written, counts and replaced keys.
void run_snapshot_differential(ScdType scd_type, std::uint32_t seed) {
  MergeSpec spec = wide_spec({"region", "id"});
  spec.flow = TargetFlow::kApplyChangesFromSnapshot;
  spec.scd_type = scd_type;
  spec.sequence_by.reset();
  const MergeEngine engine(spec);
  RowSource source(seed, true);
  State state;
  std::size_t changed = 0;
  for (int step = 0; step < 100; ++step) {
    std::vector<std::string> rows;
    std::unordered_set<RowKey> seen;
    for (std::size_t i = source.pick(16); i > 0; --i) {
      std::string row = rows_of(convert(wide_schema(), {source.row()})).front();
      if (seen.insert(engine.key_of(Row(row))).second) rows.push_back(std::move(row));
    }
    if (source.pick(3) == 0) {  // keep some of the table's current rows as they are
      for (const std::string& stored : state.rows) {
        const Row row(stored);
        if (row.field(kEndAtColumn).value_or("null") != "null") continue;
        const std::string data = row.rebuild({kStartAtColumn, kEndAtColumn});
        if (source.pick(2) == 0 && seen.insert(engine.key_of(row)).second) {
          rows.push_back(rows_of(convert(wide_schema(), {data})).front());
        }
      }
    }
    // Snapshot times a microsecond apart, as the runner's clock may give them.
    const std::int64_t time = 1704067200000000 + step;
    const std::string where = fmt::format("seed {} step {}", seed, step);
    std::vector<Row> snapshot;
    for (const std::string& row : rows) snapshot.emplace_back(row);
    std::vector<Row> current;
    for (const std::string& row : state.rows) current.emplace_back(row);
    const MergeResult merged = engine.apply_snapshot(snapshot, current, time);
    Outcome expected;
    expected.rows = kept_rows(engine, state, merged);
    for (const std::string& row : rows_of(convert(engine.target_schema(), merged.rows))) {
      expected.rows.push_back(row);
    }
    describe(merged, expected);

    const ColumnBatch target = convert(engine.target_schema(), state.rows);
    const BatchKeys target_keys(engine, target);
    std::vector<RowKey> keys;
    for (std::size_t i = 0; i < target.num_rows(); ++i) keys.push_back(*target_keys.key(i));
    const TargetRows target_rows[] = {{&target, &keys}};
    const ColumnBatch changes = convert(wide_schema(), rows);
    const std::optional<BatchMergeResult> by_index =
        apply_snapshot_rows(engine, changes, target_rows, time);
    ASSERT_TRUE(by_index) << where;
    Outcome actual;
    actual.rows = kept_rows(engine, state, by_index->merge);
    ColumnBatch written(engine.target_schema());
    append_rows(by_index->versions ? *by_index->versions : changes, by_index->rows, written);
    for (std::size_t i = 0; i < written.num_rows(); ++i) actual.rows.push_back(written.row_json(i));
    describe(by_index->merge, actual);
    expect_same(expected, actual, where);
    changed += merged.counts.updated + merged.counts.deleted;
    state.rows = expected.rows;
  }
  EXPECT_GT(changed, 50U);
  // Two rows with one key are the engine's to report.
  const std::string row = R"({"id":1,"region":"eu","meta":null})";
  EXPECT_FALSE(apply_snapshot_rows(engine, convert(wide_schema(), {row, row}), {}, 0));
}

TEST(BatchMerge, SnapshotsByIndexMatchTheEngineOnRandomSnapshots) {
  run_snapshot_differential(ScdType::kType1, 7);
}

TEST(BatchMerge, Scd2SnapshotsByIndexMatchTheEngineOnRandomSnapshots) {
  run_snapshot_differential(ScdType::kType2, 8);
  run_snapshot_differential(ScdType::kType2, 9);
}

// A snapshot taken no later than a key's latest version is the engine's to report.
TEST(BatchMerge, LeavesToTheEngineASnapshotOlderThanTheHistory) {
  MergeSpec spec = wide_spec({"id"});
  spec.flow = TargetFlow::kApplyChangesFromSnapshot;
  spec.scd_type = ScdType::kType2;
  spec.sequence_by.reset();
  const MergeEngine engine(spec);
  const ColumnBatch target =
      convert(engine.target_schema(),
              {R"({"id":1,"name":"a","__START_AT":"2024-01-01T00:00:00Z","__END_AT":null})"});
  const BatchKeys keys(engine, target);
  const std::vector<RowKey> target_keys{*keys.key(0)};
  const TargetRows rows[] = {{&target, &target_keys}};
  const ColumnBatch changed = convert(wide_schema(), {R"({"id":1,"name":"b"})"});
  const ColumnBatch same = convert(wide_schema(), {R"({"id":1,"name":"a"})"});
  const std::int64_t at_start = 1704067200000000;
  EXPECT_FALSE(apply_snapshot_rows(engine, changed, rows, at_start));
  EXPECT_FALSE(apply_snapshot_rows(engine, convert(wide_schema(), {}), rows, at_start));
  const std::optional<BatchMergeResult> unchanged =
      apply_snapshot_rows(engine, same, rows, at_start);  // nothing to version
  ASSERT_TRUE(unchanged);
  EXPECT_EQ(unchanged->merge.counts, MergeCounts{});
  const std::optional<BatchMergeResult> later =
      apply_snapshot_rows(engine, changed, rows, at_start + 1);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->merge.counts.updated, 1U);
  ASSERT_EQ(later->rows.size(), 2U);
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
  // Binary keys: their base64 text, as the engine reads it from row_json.
  const MergeEngine binary(
      MergeSpec{"t",
                TargetFlow::kApplyChanges,
                ScdType::kType1,
                StructType{{"k", DataType::Binary()}, {"seq", DataType::Long()}},
                {"k"},
                "seq"});
  const ColumnBatch keys_batch =
      convert(binary.spec().schema, {R"({"k":"AQI=","seq":1})", R"({"k":"","seq":1})",
                                     R"({"k":"AQID","seq":1})", R"({"k":"/+8=","seq":1})"});
  const BatchKeys binary_keys(binary, keys_batch);
  ASSERT_TRUE(binary_keys.usable());
  for (std::size_t i = 0; i < keys_batch.num_rows(); ++i) {
    const Row row(keys_batch.row_json(i));
    EXPECT_EQ(binary_keys.key(i), binary.key_of(row)) << row.json();
    EXPECT_EQ(binary_keys.key_values(i), binary.key_values(row)) << row.json();
  }
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

// Upserts alone, as the runner passes a read's converted batch.
std::optional<BatchMergeResult> upserts_by_index(const MergeEngine& engine,
                                                 const ColumnBatch& upserts,
                                                 std::span<const TargetRows> target) {
  return apply_changes_by_index(engine, BatchChanges{&upserts, {}}, target, {});
}

// What the engine must decide is left to it: a change without a key or a sequence value, and a
// key with two target rows (the engine's errors name them).
TEST(BatchMerge, LeavesToTheEngineWhatItReports) {
  const MergeEngine engine(wide_spec({"id"}));
  const ColumnBatch no_key =
      convert(wide_schema(), {R"({"id":null,"meta":{"seq":"2024-01-01T00:00:00Z"}})"});
  EXPECT_FALSE(upserts_by_index(engine, no_key, {}));
  const ColumnBatch no_sequence = convert(wide_schema(), {R"({"id":1,"meta":null})"});
  EXPECT_FALSE(upserts_by_index(engine, no_sequence, {}));
  for (const char* bad : {R"({"id":1})", R"({"id":1,"meta":{"seq":"soon"}})",
                          R"({"id":"one","meta":{"seq":"2024-01-01T00:00:00Z"}})"}) {
    const std::vector<Row> deletes{Row(bad)};
    EXPECT_FALSE(apply_changes_by_index(engine, BatchChanges{nullptr, deletes}, {}, {})) << bad;
  }

  const ColumnBatch target =
      convert(wide_schema(), {R"({"id":1,"meta":{"seq":"2024-01-01T00:00:00Z"}})",
                              R"({"id":1,"meta":{"seq":"2024-01-01T01:00:00Z"}})"});
  const BatchKeys keys(engine, target);
  const std::vector<RowKey> target_keys{*keys.key(0), *keys.key(1)};
  const TargetRows rows[] = {{&target, &target_keys}};
  const ColumnBatch change =
      convert(wide_schema(), {R"({"id":1,"meta":{"seq":"2024-01-01T02:00:00Z"}})"});
  EXPECT_FALSE(upserts_by_index(engine, change, rows));
  const ColumnBatch other =
      convert(wide_schema(), {R"({"id":2,"meta":{"seq":"2024-01-01T02:00:00Z"}})"});
  const std::optional<BatchMergeResult> merged = upserts_by_index(engine, other, rows);
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->merge.counts.inserted, 1U);
  EXPECT_EQ(merged->rows, std::vector<std::uint32_t>{0});
}

// SCD 2 histories the engine refuses (a version without a start, overlapping versions) are left
// to it, as are deletes it cannot read; the engine's errors are the ones its callers see.
TEST(BatchMerge, LeavesToTheEngineTheHistoriesItRefuses) {
  MergeSpec spec = wide_spec({"id"});
  spec.scd_type = ScdType::kType2;
  const MergeEngine engine(spec);
  const ColumnBatch change =
      convert(wide_schema(), {R"({"id":1,"meta":{"seq":"2024-01-01T05:00:00Z"}})"});
  auto merge = [&](const std::vector<std::string>& stored) {
    const ColumnBatch target = convert(engine.target_schema(), stored);
    const BatchKeys keys(engine, target);
    std::vector<RowKey> target_keys;
    for (std::size_t i = 0; i < target.num_rows(); ++i) target_keys.push_back(*keys.key(i));
    const TargetRows rows[] = {{&target, &target_keys}};
    return upserts_by_index(engine, change, rows);
  };
  const std::string seq = R"("meta":{"seq":"2024-01-01T00:00:00Z"})";
  EXPECT_FALSE(merge({R"({"id":1,)" + seq + R"(,"__START_AT":null,"__END_AT":null})"}));
  EXPECT_FALSE(
      merge({R"({"id":1,)" + seq +
                 R"(,"__START_AT":"2024-01-01T00:00:00Z","__END_AT":"2024-01-01T03:00:00Z"})",
             R"({"id":1,)" + seq + R"(,"__START_AT":"2024-01-01T02:00:00Z","__END_AT":null})"}));
  EXPECT_FALSE(
      merge({R"({"id":1,)" + seq + R"(,"__START_AT":"2024-01-01T00:00:00Z","__END_AT":null})",
             R"({"id":1,)" + seq + R"(,"__START_AT":"2024-01-01T02:00:00Z","__END_AT":null})"}));
  // Adjacent versions and a history with a gap merge.
  const std::optional<BatchMergeResult> merged =
      merge({R"({"id":1,)" + seq +
                 R"(,"__START_AT":"2024-01-01T00:00:00Z","__END_AT":"2024-01-01T01:00:00Z"})",
             R"({"id":1,)" + seq + R"(,"__START_AT":"2024-01-01T02:00:00Z","__END_AT":null})"});
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->merge.counts.updated, 1U);
  ASSERT_TRUE(merged->versions);
  EXPECT_EQ(merged->versions->num_rows(), 3U);
}

// A delete's sequence written without an offset ends a version at the table's timestamp zone,
// the instant the engine orders it by.
TEST(BatchMerge, Scd2DeleteWithoutAnOffsetEndsTheVersionInTheTablesZone) {
  MergeSpec spec = wide_spec({"id"});
  spec.scd_type = ScdType::kType2;
  spec.timestamp_zone_offset = 3600;  // UTC+01:00
  const MergeEngine engine(spec);
  const ColumnBatch target =
      convert(engine.target_schema(), {R"({"id":1,"meta":{"seq":"2024-01-01T00:00:00Z"},)"
                                       R"("__START_AT":"2024-01-01T00:00:00Z","__END_AT":null})"});
  const BatchKeys keys(engine, target);
  const std::vector<RowKey> target_keys{*keys.key(0)};
  const TargetRows rows[] = {{&target, &target_keys}};
  const std::vector<Row> deletes{Row(R"({"id":1,"meta":{"seq":"2024-01-01T03:00:00"}})")};
  const std::optional<BatchMergeResult> merged =
      apply_changes_by_index(engine, BatchChanges{nullptr, deletes}, rows, {});
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->merge.counts.deleted, 1U);
  ASSERT_EQ(merged->rows.size(), 1U);
  EXPECT_THAT(merged->versions->row_json(0),
              ::testing::HasSubstr(R"("__END_AT":"2024-01-01T02:00:00.000000Z")"));
}

// Rows rendered as JSON cannot hold NaN or an infinity (the engine's scanner refuses the text
// row_json writes for them), so the engine fails an SCD 2 merge of such rows; by index they
// merge, every value exact.
TEST(BatchMerge, Scd2KeepsNaNAndInfinitiesTheEngineCannotRead) {
  const StructType schema{
      {"id", DataType::Long()}, {"seq", DataType::Long()}, {"v", DataType::Double()}};
  const MergeEngine engine(
      MergeSpec{"t", TargetFlow::kApplyChanges, ScdType::kType2, schema, {"id"}, "seq"});
  ColumnBatch first(schema);
  Column& root = first.root();
  const double values[] = {std::nan(""), std::numeric_limits<double>::infinity(), -0.0};
  for (std::int64_t i = 0; i < 3; ++i) {
    root.child(0).append_value(i);
    root.child(1).append_value(std::int64_t{1});
    root.child(2).append_value(values[i]);
    root.append_valid();
  }
  EXPECT_THROW(engine.apply_changes({Change::upsert(first.row_json(0))}, {}), Error);
  const std::optional<BatchMergeResult> landed =
      apply_changes_by_index(engine, BatchChanges{&first, {}}, {}, {});
  ASSERT_TRUE(landed);
  ASSERT_TRUE(landed->versions);
  const ColumnBatch& table = *landed->versions;
  ASSERT_EQ(table.num_rows(), 3U);
  EXPECT_TRUE(std::isnan(table.column(2).values<double>()[0]));
  EXPECT_EQ(table.column(2).values<double>()[1], std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::signbit(table.column(2).values<double>()[2]));

  // Replaying the batch changes nothing; a delete closes the NaN row's version and keeps it.
  const BatchKeys keys(engine, table);
  std::vector<RowKey> table_keys;
  for (std::size_t i = 0; i < table.num_rows(); ++i) table_keys.push_back(*keys.key(i));
  const TargetRows rows[] = {{&table, &table_keys}};
  const std::optional<BatchMergeResult> replay =
      apply_changes_by_index(engine, BatchChanges{&first, {}}, rows, {});
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->merge.counts, (MergeCounts{0, 0, 0, 3}));
  EXPECT_TRUE(replay->rows.empty());
  const std::vector<Row> deletes{Row(R"({"id":0,"seq":2})")};
  const std::optional<BatchMergeResult> deleted =
      apply_changes_by_index(engine, BatchChanges{nullptr, deletes}, rows, {});
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->merge.counts.deleted, 1U);
  ASSERT_EQ(deleted->rows.size(), 1U);
  const ColumnBatch& closed = *deleted->versions;
  EXPECT_TRUE(std::isnan(closed.column(2).values<double>()[0]));
  EXPECT_EQ(closed.column(3).values<std::int64_t>()[0], 1);
  EXPECT_EQ(closed.column(4).values<std::int64_t>()[0], 2);
}

}  // namespace
}  // namespace lakeflow::pipeline
