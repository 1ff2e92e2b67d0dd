#include "delta/delta_destination.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "delta/delta_actions.h"
#include "delta/delta_log.h"
#include "parquet/parquet_test_util.h"

namespace lakeflow::delta {
namespace {

using destination::Commit;
using destination::Table;
using destination::TableTarget;
using parquet::testing::batch_from_json;
using parquet::testing::rows_json;
using parquet::testing::TempDir;
using ::testing::ElementsAre;

const StructType& schema() {
  static const StructType s{{"id", DataType::Long()}, {"name", DataType::String()}};
  return s;
}

TableTarget target(const TempDir& dir) { return {dir.path() / "t", schema(), "app", {}}; }

// Writes `rows` into one new file of `table` (staged) and returns its name.
std::string write(Table& table, const std::vector<std::string>& rows) {
  const std::unique_ptr<destination::FileWriter> writer = table.write_files();
  writer->write(batch_from_json(schema(), rows));
  const std::vector<std::string> names = writer->close();
  EXPECT_EQ(names.size(), 1u);
  return names.empty() ? "" : names.front();
}

Commit batch(std::int64_t number, const std::string& offset_json) {
  Commit commit;
  commit.operation = "WRITE";
  commit.batch = number;
  commit.offset = Offset::parse(offset_json);
  return commit;
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) out.push_back(entry.path().filename().string());
  }
  return out;
}

TEST(DeltaDestination, ACommitRecordsItsFilesBatchAndOffsetTogether) {
  TempDir dir;
  const DeltaDestination destination;
  EXPECT_FALSE(destination.table_exists(target(dir).location));
  {
    const std::unique_ptr<Table> table = destination.open_table(target(dir));
    EXPECT_FALSE(table->exists());
    EXPECT_EQ(table->batch(), 0);
    EXPECT_FALSE(table->offset().has_value());
    const std::string name = write(*table, {R"({"id":1,"name":"a"})", R"({"id":2})"});
    EXPECT_EQ(table->file_count(), 0u);  // staged, not committed
    table->set_property("lakeflow.test", "x");
    table->commit(batch(1, R"({"cursor":2})"));
    ASSERT_EQ(table->file_count(), 1u);
    EXPECT_EQ(table->file_name(0), name);  // the writer named it as the table does
  }
  const std::unique_ptr<Table> table = destination.open_table(target(dir));
  EXPECT_TRUE(table->exists());
  EXPECT_EQ(table->batch(), 1);
  EXPECT_EQ(table->offset()->to_json(), R"({"cursor":2})");
  EXPECT_EQ(table->property("lakeflow.test"), "x");
  ASSERT_EQ(table->file_count(), 1u);
  EXPECT_THAT(rows_json(table->read_file(0, schema())),
              ElementsAre(R"({"id":1,"name":"a"})", R"({"id":2,"name":null})"));
  // The file's add action carries Delta's statistics.
  const Snapshot snapshot = DeltaLog(target(dir).location.string()).snapshot();
  EXPECT_THAT(snapshot.files.begin()->second.stats.value_or(""),
              ::testing::HasSubstr(R"("minValues":{"id":1,"name":"a"})"));
  EXPECT_EQ(destination.read_rows(target(dir).location, 1),
            std::vector<std::string>{R"({"id":1,"name":"a"})"});
}

TEST(DeltaDestination, ALostCommitRemovesOnlyItsOwnFiles) {
  TempDir dir;
  const DeltaDestination destination;
  const std::unique_ptr<Table> first = destination.open_table(target(dir));
  const std::unique_ptr<Table> second = destination.open_table(target(dir));
  write(*first, {R"({"id":1})"});
  write(*second, {R"({"id":2})"});
  first->commit(batch(1, R"({"n":1})"));
  EXPECT_THROW(second->commit(batch(1, R"({"n":1})")), ConcurrentCommitError);
  EXPECT_EQ(second->discard_uncommitted(), 1u);
  std::size_t parquet_files = 0;
  for (const std::string& name : names_in(target(dir).location)) {
    parquet_files += name.ends_with(".parquet") ? 1 : 0;
  }
  EXPECT_EQ(parquet_files, 1u);
  EXPECT_EQ(destination.read_rows(target(dir).location, std::nullopt),
            std::vector<std::string>{R"({"id":1,"name":null})"});
}

TEST(DeltaDestination, UndoingBatchesRestoresTheFilesOfTheLastKeptBatch) {
  TempDir dir;
  const DeltaDestination destination;
  const std::unique_ptr<Table> table = destination.open_table(target(dir));
  write(*table, {R"({"id":1})"});
  table->commit(batch(1, R"({"n":1})"));
  table->remove_all_files();
  write(*table, {R"({"id":2})"});
  table->commit(batch(2, R"({"n":2})"));
  write(*table, {R"({"id":3})"});
  table->commit(batch(3, R"({"n":3})"));
  EXPECT_EQ(table->undo_batches_after(3, "nothing to undo"), 0);
  EXPECT_EQ(table->undo_batches_after(1, "test"), 2);
  EXPECT_EQ(table->batch(), 1);
  EXPECT_EQ(table->offset()->to_json(), R"({"n":1})");
  EXPECT_EQ(destination.read_rows(target(dir).location, std::nullopt),
            std::vector<std::string>{R"({"id":1,"name":null})"});
}

// The bytes of commit `version` of the table at `location`.
std::string commit_text(const std::filesystem::path& location, std::int64_t version) {
  std::ifstream in(DeltaLog(location.string()).commit_path(version), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(DeltaDestination, AnOffsetOnlyCommitIsTheSameSizeWhateverTheSchemasWidth) {
  TempDir dir;
  const DeltaDestination destination;
  std::vector<StructField> wide_fields;
  for (int i = 0; i < 2000; ++i) {
    wide_fields.emplace_back("column_" + std::to_string(i), DataType::String(), true);
  }
  const StructType wide(std::move(wide_fields));
  std::vector<std::size_t> sizes;
  for (const StructType* each : {&schema(), &wide}) {
    const TableTarget where{dir.path() / std::to_string(each->fields().size()), *each, "app", {}};
    const std::unique_ptr<Table> table = destination.open_table(where);
    table->commit(batch(1, R"({"page":1})"));  // creates the table: protocol, metaData
    table->commit(batch(2, R"({"cursor":"2024-05-01T00:00:00Z","page":2})"));
    const std::string text = commit_text(where.location, 1);
    EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("metaData"))) << text;
    EXPECT_THAT(text, ::testing::HasSubstr(R"("domain":"lakeflow.offsets")"));
    sizes.push_back(text.size());
    EXPECT_EQ(destination.open_table(where)->offset()->to_json(),
              R"({"cursor":"2024-05-01T00:00:00Z","page":2})");
  }
  // Timestamps keep their digit count; only their values differ.
  EXPECT_LE(std::max(sizes[0], sizes[1]) - std::min(sizes[0], sizes[1]), 4u)
      << sizes[0] << " and " << sizes[1] << " bytes";
  EXPECT_LT(sizes[1], 1024u);
}

TEST(DeltaDestination, ATableWrittenBeforeTheOffsetsDomainIsMigratedByItsNextCommit) {
  TempDir dir;
  const DeltaDestination destination;
  const TableTarget where = target(dir);
  {
    // Protocol (1, 2); offsets and a property in the configuration, as lakeflow wrote them.
    DeltaLog log(where.location.string());
    log.commit(-1, create_table_actions(schema(), {{std::string(kOffsetKey), R"({"n":7})"},
                                                   {"lakeflow.tombstones", "[[1,2]]"}}));
    log.commit(0, {TxnAction{"app", 4, std::nullopt}, CommitInfo{}});
  }
  {
    const std::unique_ptr<Table> table = destination.open_table(where);
    EXPECT_EQ(table->offset()->to_json(), R"({"n":7})");
    EXPECT_EQ(table->batch(), 4);
    EXPECT_EQ(table->property("lakeflow.tombstones"), "[[1,2]]");
    table->commit(batch(5, R"({"n":8})"));
  }
  const Snapshot migrated = DeltaLog(where.location.string()).snapshot();
  EXPECT_EQ(migrated.protocol,
            (ProtocolAction{1, 7, {}, {"appendOnly", "invariants", "domainMetadata"}}));
  EXPECT_TRUE(migrated.metadata.configuration.empty());
  EXPECT_EQ(migrated.domains.at("lakeflow.tombstones").configuration, "[[1,2]]");
  {
    const std::unique_ptr<Table> table = destination.open_table(where);
    EXPECT_EQ(table->offset()->to_json(), R"({"n":8})");
    EXPECT_EQ(table->property("lakeflow.tombstones"), "[[1,2]]");
    table->set_property("lakeflow.tombstones", std::nullopt);
    EXPECT_EQ(table->property("lakeflow.tombstones"), std::nullopt);
    table->commit(batch(6, R"({"n":9})"));
  }
  // The removal keeps the domain's last configuration (its pre-image); no metaData was written.
  const std::string text = commit_text(where.location, 3);
  EXPECT_THAT(
      text,
      ::testing::HasSubstr(
          R"({"domainMetadata":{"configuration":"[[1,2]]","domain":"lakeflow.tombstones","removed":true}})"));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("metaData")));
  EXPECT_EQ(destination.open_table(where)->property("lakeflow.tombstones"), std::nullopt);
}

TEST(DeltaDestination, ChecksLocationsAndClusteringColumns) {
  TempDir dir;
  const DeltaDestination destination;
  EXPECT_FALSE(destination.check_location(dir.path() / "a" / "b").has_value());
  { std::ofstream(dir.file("file")) << "x"; }
  const auto problem = destination.check_location(dir.path() / "file");
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->code, ErrorCode::kConfig);
  EXPECT_THAT(problem->message, ::testing::HasSubstr("is not a directory"));
  EXPECT_FALSE(destination.clustering_problem(schema(), {"id"}).has_value());
  EXPECT_THAT(destination.clustering_problem(schema(), {"nope"}).value_or(""),
              ::testing::HasSubstr("is not a column"));
  EXPECT_THAT(destination.clustering_problem({{"b", DataType::Boolean()}}, {"b"}).value_or(""),
              ::testing::HasSubstr("is a boolean column"));
}

}  // namespace
}  // namespace lakeflow::delta
