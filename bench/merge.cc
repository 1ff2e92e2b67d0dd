// The cost of SCD type 1 and type 2 merges into a large table: what a batch of updates reads and
// how long it takes, with the key statistics that let a merge skip files (pipeline/key_filter.h).
//
//   bench_merge [--rows 1000000] [--batch 100000] [--updates 1000] [--dir DIR]
//
// A cdc source (registered here, in process) serves one table `items` (id bigint key, seq bigint
// sequence, name, category, price double, updated_at timestamp). `lakeflow run`'s runner
// (run_pipeline, one thread) lands `rows` rows in read calls of `batch` rows with ascending ids, as
// a source whose keys grow does (one data file per call), then two more runs each apply `updates`
// updates in one read call: to random keys among the newest `batch` (the rows a source changes
// most), and to random keys over the whole table. Each line gives wall clock and CPU seconds
// (this process, user + system) and the data files the merge read and skipped; the table lives in
// DIR (default: a temporary directory, removed at exit).
//
// Measured on the shared 2-core machine (load average 15-17), 1,000,000 rows in 10 files, wall /
// CPU seconds, before key statistics were used (every file read) and after:
//   land 1,000,000 rows                      79.0 / 21.3 (45 files read)  ->  27.1 / 7.3 (0 read)
//   1,000 updates to the newest 100,000 keys 10.9 / 2.7  (10 of 10 read)  ->   2.0 / 0.5 (1 of 10)
//   1,000 updates over the whole table       25.6 / 6.1  (10 of 10 read)  ->  21.4 / 5.8 (10 of 10)
// (Updates spread over every file rewrite every file: copy-on-write, nothing to skip.)
//
// Then the same for SCD type 2 (table `history`, cdc_with_deletes): `rows` rows landed (merged by
// index), the table copied, and both copies receive the same `updates` updates and then as many
// deletes (read_table_deletes) to keys among the newest `batch`: one merged by index
// (batch_merge.h), the other through the merge engine's JSON rows (RunOptions::merge_by_index
// off), side by side with the engine's CPU time as a multiple of the merge by index. Measured
// (load average 8), 1,000,000 rows, wall / CPU seconds, by index vs by the engine:
//   1,000 updates  0.13 / 0.06 vs 0.40 / 0.26 (1 of 10 files read by both)
//   1,000 deletes  0.12 / 0.07 vs 0.30 / 0.23
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "delta/delta_destination.h"
#include "lakeflow/connector.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "pipeline/pipeline_spec.h"
#include "pipeline/runner.h"

namespace {

using namespace lakeflow;  // NOLINT(google-build-using-namespace): a benchmark's main file

// What the source serves: the read calls of the current run, each a list of JSON records.
std::vector<std::vector<std::string>>& calls() {
  static std::vector<std::vector<std::string>> out;
  return out;
}
// The read_table_deletes calls of the current run (table `history`).
std::vector<std::vector<std::string>>& delete_calls() {
  static std::vector<std::vector<std::string>> out;
  return out;
}

const ConnectorSpec& bench_spec() {
  static const ConnectorSpec spec("bench_merge_source", {}, {});
  return spec;
}

class BenchSource : public LakeflowConnect {
 public:
  explicit BenchSource(Options options) : LakeflowConnect(bench_spec(), options) {}
  std::vector<std::string> do_list_tables() override { return {"items", "history"}; }
  StructType do_get_table_schema(const TableContext& /*context*/) override {
    return StructType({{"id", DataType::Long()},
                       {"seq", DataType::Long()},
                       {"name", DataType::String()},
                       {"category", DataType::String()},
                       {"price", DataType::Double()},
                       {"updated_at", DataType::Timestamp()}});
  }
  TableMetadata do_read_table_metadata(const TableContext& context) override {
    return {{"id"},
            std::string("seq"),
            context.table == "history" ? IngestionType::kCdcWithDeletes : IngestionType::kCdc};
  }
  // Offsets count read calls across runs ({"call": N}); each run's calls() continue the count.
  ReadResult do_read_table(const ReadContext& context) override {
    return serve(context, calls(), first_call_);
  }
  ReadResult do_read_table_deletes(const ReadContext& context) override {
    return serve(context, delete_calls(), first_delete_call_);
  }

  static inline std::int64_t first_call_ = 0;
  static inline std::int64_t first_delete_call_ = 0;

 private:
  static ReadResult serve(const ReadContext& context,
                          const std::vector<std::vector<std::string>>& served, std::int64_t first) {
    // A table's first read starts at the run's first call.
    const JsonValue* at = context.start.find("call");
    const std::int64_t call = at == nullptr ? first : at->as_int();
    const std::int64_t index = call - first;
    if (index < 0 || index >= static_cast<std::int64_t>(served.size())) {
      return {RecordStream(), context.start};
    }
    return {RecordStream::of(served[static_cast<std::size_t>(index)]),
            Offset(JsonValue::Object{{"call", JsonValue(call + 1)}})};
  }
};

const ConnectorRegistrar kRegistrar("bench_merge_source", "benchmark source", &bench_spec,
                                    [](const Options& o) {
                                      return std::make_unique<BenchSource>(o);
                                    });

std::string record(std::int64_t id, std::int64_t seq) {
  static const char* const kCategories[] = {"books", "garden", "music", "toys", "tools"};
  return fmt::format(R"({{"id":{},"seq":{},"name":"item number {} of the catalog","category":"{}",)"
                     R"("price":{}.{:02},"updated_at":"2024-05-01T00:{:02}:{:02}Z"}})",
                     id, seq, id, kCategories[id % 5], id % 1000, id % 100, seq % 60, id % 60);
}

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Measured {
  double wall = 0;
  double cpu = 0;
  pipeline::TableResult result;
};

// Runs the pipeline once over `next` read calls (and `deletes` read_table_deletes calls). With
// `again`, serves the previous run's calls once more, to a copy of the table as it was before.
Measured run(const pipeline::PipelineSpec& spec, std::vector<std::vector<std::string>> next,
             std::vector<std::vector<std::string>> deletes = {}, bool by_index = true,
             bool again = false) {
  static std::int64_t calls_so_far = 0;
  static std::int64_t delete_calls_so_far = 0;
  if (!again) {
    BenchSource::first_call_ = calls_so_far;
    BenchSource::first_delete_call_ = delete_calls_so_far;
    calls_so_far += static_cast<std::int64_t>(next.size());
    delete_calls_so_far += static_cast<std::int64_t>(deletes.size());
  }
  calls() = std::move(next);
  delete_calls() = std::move(deletes);
  pipeline::Connection connection;
  connection.name = "bench";
  connection.connector = "bench_merge_source";
  const delta::DeltaDestination destination;
  pipeline::RunOptions options;
  options.parallelism = 1;
  options.merge_by_index = by_index;
  Measured out;
  const auto started = std::chrono::steady_clock::now();
  const double cpu = cpu_seconds();
  out.result = pipeline::run_pipeline(spec, connection, destination, options).at(0);
  out.cpu = cpu_seconds() - cpu;
  out.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (out.result.error) {
    std::fprintf(stderr, "bench_merge: the run failed: %s\n", out.result.error->c_str());
    std::exit(1);
  }
  return out;
}

std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "?";
  char buffer[64] = {};
  const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, f);
  std::fclose(f);
  std::string text(buffer, n);
  std::size_t spaces = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ' ' && ++spaces == 3) return text.substr(0, i);
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t rows = 1000000;
  std::int64_t batch = 100000;
  std::int64_t updates = 1000;
  std::filesystem::path dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--rows") {
      rows = std::atoll(argv[i + 1]);
    } else if (flag == "--batch") {
      batch = std::atoll(argv[i + 1]);
    } else if (flag == "--updates") {
      updates = std::atoll(argv[i + 1]);
    } else if (flag == "--dir") {
      dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: bench_merge [--rows N] [--batch N] [--updates N] [--dir DIR]\n");
      return 2;
    }
  }
  if (rows <= 0 || batch <= 0 || updates <= 0 || batch > rows) {
    std::fprintf(stderr,
                 "bench_merge: --rows, --batch and --updates must be positive, batch <= rows\n");
    return 2;
  }
  const bool temporary = dir.empty();
  if (temporary) {
    dir =
        std::filesystem::temp_directory_path() / fmt::format("lakeflow_bench_merge_{}", ::getpid());
  }
  std::filesystem::remove_all(dir);
  const pipeline::PipelineSpec spec = pipeline::parse_pipeline_spec(
      fmt::format(
          "connection_name: bench\ndestination_root: \"{}\"\nobjects:\n  - table:\n"
          "      source_table: items\n      table_configuration: {{scd_type: SCD_TYPE_1}}\n",
          dir.string()),
      "bench_merge.yaml");

  std::vector<std::vector<std::string>> load;
  for (std::int64_t from = 0; from < rows; from += batch) {
    std::vector<std::string> call;
    for (std::int64_t id = from; id < std::min(rows, from + batch); ++id)
      call.push_back(record(id, 1));
    load.push_back(std::move(call));
  }
  const std::size_t load_calls = load.size();
  const Measured landed = run(spec, std::move(load));

  std::mt19937_64 random(42);
  auto updates_in = [&](std::int64_t from, std::int64_t to, std::int64_t seq) {
    std::uniform_int_distribution<std::int64_t> pick(from, to - 1);
    std::vector<std::string> call;
    for (std::int64_t i = 0; i < updates; ++i) call.push_back(record(pick(random), seq));
    return std::vector<std::vector<std::string>>{std::move(call)};
  };
  const Measured newest = run(spec, updates_in(std::max<std::int64_t>(0, rows - batch), rows, 2));
  const Measured spread = run(spec, updates_in(0, rows, 3));

  std::printf(
      "== SCD type 1 merge: %lld rows landed in %zu read calls, then %lld updates per run "
      "(one thread; load average: %s)\n",
      static_cast<long long>(rows), load_calls, static_cast<long long>(updates),
      load_average().c_str());
  std::printf("%-44s %8s %8s %11s %13s %9s\n", "", "wall s", "CPU s", "files read", "files skipped",
              "updated");
  auto line = [](const std::string& name, const Measured& m) {
    std::printf("%-44s %8.2f %8.2f %11zu %13zu %9zu\n", name.c_str(), m.wall, m.cpu,
                m.result.files_read, m.result.files_skipped, m.result.updated);
  };
  line(fmt::format("land {} rows", rows), landed);
  line(fmt::format("{} updates, keys among the newest {}", updates, batch), newest);
  line(fmt::format("{} updates, keys over the whole table", updates), spread);
  std::printf("== Goals (issue 14): merges read only the files that can hold a changed key\n");
  std::printf("%-58s %zu of %zu\n", "files read by the updates to the newest keys",
              newest.result.files_read, newest.result.files_read + newest.result.files_skipped);

  // SCD type 2 (cdc_with_deletes): the table landed once (by index), copied, then each copy
  // receives the same updates and then the same deletes, one merged by index, the other through
  // the merge engine's JSON rows.
  const std::filesystem::path by_index_root = dir / "scd2_by_index";
  const std::filesystem::path by_engine_root = dir / "scd2_by_engine";
  auto scd2_spec = [](const std::filesystem::path& root) {
    return pipeline::parse_pipeline_spec(
        fmt::format("connection_name: bench\ndestination_root: \"{}\"\nobjects:\n  - table:\n"
                    "      source_table: history\n"
                    "      table_configuration: {{scd_type: SCD_TYPE_2}}\n",
                    root.string()),
        "bench_merge.yaml");
  };
  std::vector<std::vector<std::string>> history;
  for (std::int64_t from = 0; from < rows; from += batch) {
    std::vector<std::string> call;
    for (std::int64_t id = from; id < std::min(rows, from + batch); ++id)
      call.push_back(record(id, 1));
    history.push_back(std::move(call));
  }
  const Measured landed2 = run(scd2_spec(by_index_root), std::move(history));
  std::filesystem::copy(by_index_root, by_engine_root, std::filesystem::copy_options::recursive);
  const std::vector<std::vector<std::string>> updates2 =
      updates_in(std::max<std::int64_t>(0, rows - batch), rows, 2);
  const Measured updated_by_index = run(scd2_spec(by_index_root), updates2);
  const Measured updated_by_engine = run(scd2_spec(by_engine_root), updates2, {}, false, true);
  std::vector<std::vector<std::string>> deletes(1);
  {
    std::uniform_int_distribution<std::int64_t> pick(std::max<std::int64_t>(0, rows - batch),
                                                     rows - 1);
    for (std::int64_t i = 0; i < updates; ++i) {
      deletes[0].push_back(fmt::format(R"({{"id":{},"seq":3}})", pick(random)));
    }
  }
  const Measured deleted_by_index = run(scd2_spec(by_index_root), {}, deletes);
  const Measured deleted_by_engine = run(scd2_spec(by_engine_root), {}, deletes, false, true);

  std::printf(
      "== SCD type 2 merge (cdc_with_deletes): %lld rows landed, then %lld updates and %lld "
      "deletes to keys among the newest %lld, merged by index and by the JSON engine "
      "(one thread; load average: %s)\n",
      static_cast<long long>(rows), static_cast<long long>(updates),
      static_cast<long long>(updates), static_cast<long long>(batch), load_average().c_str());
  std::printf("%-16s %8s %8s %6s %8s %8s | %8s %8s %6s %8s | %11s\n", "", "wall s", "CPU s", "read",
              "skipped", "changed", "wall s", "CPU s", "read", "skipped", "engine CPU");
  std::printf("%-16s %41s | %34s |\n", "", "by index", "by the JSON engine");
  auto side_by_side = [](const std::string& name, const Measured& a, const Measured& b) {
    std::printf("%-16s %8.2f %8.2f %6zu %8zu %8zu | %8.2f %8.2f %6zu %8zu | %10.1fx\n",
                name.c_str(), a.wall, a.cpu, a.result.files_read, a.result.files_skipped,
                a.result.updated + a.result.deleted, b.wall, b.cpu, b.result.files_read,
                b.result.files_skipped, a.cpu > 0 ? b.cpu / a.cpu : 0.0);
  };
  std::printf("%-16s %8.2f %8.2f (by index)\n", fmt::format("land {} rows", rows).c_str(),
              landed2.wall, landed2.cpu);
  side_by_side(fmt::format("{} updates", updates), updated_by_index, updated_by_engine);
  side_by_side(fmt::format("{} deletes", updates), deleted_by_index, deleted_by_engine);
  if (updated_by_index.result.updated != updated_by_engine.result.updated ||
      deleted_by_index.result.deleted != deleted_by_engine.result.deleted) {
    std::fprintf(stderr, "bench_merge: the two merges counted different changes\n");
    return 1;
  }
  if (temporary) std::filesystem::remove_all(dir);
  return 0;
}
