#include "delta/data_file.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "lakeflow/json.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_test_util.h"

namespace lakeflow::delta {
namespace {

using parquet::testing::batch_from_json;
using parquet::testing::TempDir;

const StructType& schema() {
  static const StructType s{{"k", DataType::Long()}, {"v", DataType::String()}};
  return s;
}

// Rows with keys `keys`, in that order; v numbers them.
ColumnBatch rows_with(const std::vector<std::int64_t>& keys) {
  std::vector<std::string> rows;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    rows.push_back(fmt::format(R"({{"k":{},"v":"row {}"}})", keys[i], i));
  }
  return batch_from_json(schema(), rows);
}

// Each file's keys, in file order.
std::vector<std::vector<std::int64_t>> file_keys(const TempDir& dir,
                                                 const std::vector<AddFile>& adds) {
  std::vector<std::vector<std::int64_t>> out;
  for (const AddFile& add : adds) {
    const ColumnBatch batch =
        parquet::ParquetReader((dir.path() / decode_path(add.path)).string()).read(schema());
    std::vector<std::int64_t>& keys = out.emplace_back();
    for (std::size_t i = 0; i < batch.num_rows(); ++i) {
      keys.push_back(JsonValue::parse(batch.row_json(i)).find("k")->as_int());
    }
  }
  return out;
}

TEST(FileSetWriter, WithoutClusteringStreamsEveryRowIntoOneFileInArrivalOrder) {
  TempDir dir;
  FileSetWriter writer(dir.path(), schema(), FileLayout{}, 3, /*version=*/1);
  writer.write(rows_with({5, 1}));
  writer.write(rows_with({4}));
  const std::vector<AddFile> adds = writer.close();
  ASSERT_EQ(adds.size(), 1U);
  EXPECT_THAT(adds[0].path, ::testing::StartsWith("part-00003-"));
  EXPECT_EQ(file_keys(dir, adds), (std::vector<std::vector<std::int64_t>>{{5, 1, 4}}));
  EXPECT_TRUE(FileSetWriter(dir.path(), schema(), FileLayout{}, 0, /*version=*/1).close().empty());
}

// 600 rows of 60 keys (10 each), arriving shuffled over several batches, cut into files of about
// 100 rows: every file sorted, files in key order, no key in two files.
TEST(FileSetWriter, ClusteredWritesSortedFilesOfDisjointKeyRanges) {
  TempDir dir;
  FileLayout layout;
  layout.clustering = {{"k"}};
  layout.target_file_bytes = 100 * (rows_with({1}).byte_size());
  FileSetWriter writer(dir.path(), schema(), layout, 0, /*version=*/1);
  std::vector<std::int64_t> keys;
  for (std::int64_t i = 0; i < 600; ++i) keys.push_back(i * 37 % 60);
  for (std::size_t at = 0; at < keys.size(); at += 150) {
    writer.write(rows_with({keys.begin() + static_cast<std::ptrdiff_t>(at),
                            keys.begin() + static_cast<std::ptrdiff_t>(at + 150)}));
  }
  const std::vector<AddFile> adds = writer.close();
  const auto files = file_keys(dir, adds);
  ASSERT_GE(files.size(), 4U);
  std::map<std::int64_t, std::size_t> file_of;
  std::size_t rows = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    EXPECT_TRUE(std::is_sorted(files[f].begin(), files[f].end())) << f;
    if (f > 0) {
      EXPECT_LT(files[f - 1].back(), files[f].front());
    }
    for (std::int64_t k : files[f]) {
      EXPECT_EQ(file_of.emplace(k, f).first->second, f) << "key " << k << " split";
    }
    rows += files[f].size();
  }
  EXPECT_EQ(rows, keys.size());
  EXPECT_THAT(*adds[0].stats, ::testing::HasSubstr(R"("minValues":{"k":0,)"));
}

// A write beyond the sort buffer is written in sorted parts.
TEST(FileSetWriter, AWriteBeyondTheSortBufferIsWrittenInSortedParts) {
  TempDir dir;
  FileLayout layout;
  layout.clustering = {{"k"}};
  layout.sort_buffer_bytes = 1;
  FileSetWriter writer(dir.path(), schema(), layout, 0, /*version=*/1);
  writer.write(rows_with({3, 1, 2}));
  writer.write(rows_with({9, 0}));
  EXPECT_EQ(file_keys(dir, writer.close()),
            (std::vector<std::vector<std::int64_t>>{{1, 2, 3}, {0, 9}}));
}

}  // namespace
}  // namespace lakeflow::delta
