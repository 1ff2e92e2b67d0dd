// The cost of clustering a data file: sorting a batch by its clustering columns and gathering its
// rows in that order, against writing the same batch unsorted.
//
//   bench_cluster [--rows 1000000] [--repeat 3] [--dir /tmp]
//
// The batch holds `rows` rows of (id bigint shuffled, region string of 20 values, name string,
// score double, at timestamp) built in memory. Reported, best of `--repeat`: the Parquet write of
// the unsorted batch; RowOrder::sorted() by [id] and by [region, id]; append_rows of the sorted
// order; the write of the sorted batch; and both files' sizes. Files are written without fsync.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "columnar/column_sort.h"
#include "parquet/parquet_writer.h"
#include "columnar/column_batch.h"

namespace {

using lakeflow::ColumnBatch;
using lakeflow::DataType;
using lakeflow::StructType;

ColumnBatch make_batch(std::size_t rows) {
  const StructType schema{{"id", DataType::Long()},
                          {"region", DataType::String()},
                          {"name", DataType::String()},
                          {"score", DataType::Double()},
                          {"at", DataType::Timestamp()}};
  ColumnBatch batch(schema);
  std::vector<std::int64_t> ids(rows);
  std::iota(ids.begin(), ids.end(), std::int64_t{0});
  std::mt19937_64 random(42);
  std::shuffle(ids.begin(), ids.end(), random);
  lakeflow::Column& root = batch.root();
  for (std::size_t i = 0; i < rows; ++i) {
    const std::int64_t id = ids[i];
    root.child(0).append_value(id);
    root.child(1).append_bytes("region-" + std::to_string(id % 20));
    root.child(2).append_bytes("customer " + std::to_string(id * 7919 % 1000003));
    root.child(3).append_value(static_cast<double>(id % 1000) / 7);
    root.child(4).append_value(std::int64_t{1700000000000000} + id * 1000);
    root.append_valid();
  }
  return batch;
}

double best_seconds(int repeat, const std::function<void()>& run) {
  double best = 1e300;
  for (int i = 0; i < repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

std::uintmax_t write_file(const std::string& path, const ColumnBatch& batch) {
  lakeflow::parquet::ParquetWriterOptions options;
  options.sync = false;
  lakeflow::parquet::ParquetWriter writer(path, batch.schema(), options);
  writer.write(batch);
  return writer.close().size_bytes;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t rows = 1000000;
  int repeat = 3;
  std::filesystem::path dir = std::filesystem::temp_directory_path();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows") rows = std::stoul(argv[i + 1]);
    if (flag == "--repeat") repeat = std::stoi(argv[i + 1]);
    if (flag == "--dir") dir = argv[i + 1];
  }
  const ColumnBatch batch = make_batch(rows);
  const std::string unsorted_path = (dir / "bench_cluster_unsorted.parquet").string();
  const std::string sorted_path = (dir / "bench_cluster_sorted.parquet").string();

  std::uintmax_t unsorted_size = 0;
  const double write_unsorted =
      best_seconds(repeat, [&] { unsorted_size = write_file(unsorted_path, batch); });
  std::vector<std::uint32_t> order;
  const double sort_id =
      best_seconds(repeat, [&] { order = lakeflow::RowOrder(batch, {{"id"}}).sorted(); });
  const double sort_region_id = best_seconds(repeat, [&] {
    (void)lakeflow::RowOrder(batch, {{"region"}, {"id"}}).sorted();
  });
  ColumnBatch sorted(batch.schema());
  const double gather = best_seconds(repeat, [&] {
    sorted.clear();
    lakeflow::append_rows(batch, order, sorted);
  });
  std::uintmax_t sorted_size = 0;
  const double write_sorted =
      best_seconds(repeat, [&] { sorted_size = write_file(sorted_path, sorted); });
  std::filesystem::remove(unsorted_path);
  std::filesystem::remove(sorted_path);

  std::printf("rows                         %zu (%.1f MB of column data)\n", rows,
              static_cast<double>(batch.byte_size()) / 1e6);
  std::printf("write unsorted               %7.3f s  %9ju bytes\n", write_unsorted, unsorted_size);
  std::printf("sort by [id]                 %7.3f s\n", sort_id);
  std::printf("sort by [region, id]         %7.3f s\n", sort_region_id);
  std::printf("gather rows (append_rows)    %7.3f s\n", gather);
  std::printf("write sorted                 %7.3f s  %9ju bytes\n", write_sorted, sorted_size);
  std::printf("clustered / unsorted write   %7.2fx\n",
              (sort_id + gather + write_sorted) / write_unsorted);
  return 0;
}
