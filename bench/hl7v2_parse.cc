// Throughput of the HL7 v2 connector's reading, in MB of message files per second, one thread:
//
//   bench_hl7v2 [--mb 64] [--repeat 3] [--messages DIR]
//
// The input is the sample messages of sources/hl7v2/test/messages (published examples and
// generated ones covering every defined segment), with CR segment ends, repeated to --mb MB in
// memory. Reported, best of --repeat, in CPU seconds of the thread and MB per CPU second:
//   split+parse   cutting the buffer into messages and each message into segments and fields
//   + records     the JSON records of every table: one per segment and one per message, as a
//                 pipeline reading every table builds them (escapes resolved, structs, arrays)
//   + convert     those records converted to the tables' columns by the framework's converter
// File reading, Parquet and Delta are not included (bench/run-ingest measures those).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/record_converter.h"
#include "er7.h"
#include "hl7v2_model.h"
#include "lakeflow/records.h"

namespace {

namespace fs = std::filesystem;
using namespace lakeflow::hl7v2;

std::string sample_messages(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".hl7") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::string out;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    for (const char c : text.str()) out.push_back(c == '\n' ? '\r' : c);
  }
  return out;
}

// CPU seconds of this thread: on a shared, loaded machine the comparable figure (wall time
// depends on what else runs).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double best_seconds(int repeat, const std::function<void()>& run) {
  double best = 1e30;
  for (int i = 0; i < repeat; ++i) {
    const double start = cpu_seconds();
    run();
    best = std::min(best, cpu_seconds() - start);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t megabytes = 64;
  int repeat = 3;
  fs::path dir = fs::path(LAKEFLOW_REPO_DIR) / "sources" / "hl7v2" / "test" / "messages";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--mb") megabytes = std::strtoul(argv[i + 1], nullptr, 10);
    if (flag == "--repeat") repeat = std::atoi(argv[i + 1]);
    if (flag == "--messages") dir = argv[i + 1];
  }
  const std::string unit = sample_messages(dir);
  std::string input;
  input.reserve(megabytes << 20);
  while (input.size() < (megabytes << 20)) input += unit;
  const double mb = static_cast<double>(input.size()) / 1e6;

  std::size_t messages = 0;
  std::size_t segments = 0;
  const double parse = best_seconds(repeat, [&] {
    messages = segments = 0;
    MessageSplitter splitter(input, true);
    FileUnit file_unit;
    Message message;
    while (splitter.next(file_unit) == MessageSplitter::Status::kUnit) {
      if (file_unit.kind != FileUnit::Kind::kMessage) continue;
      if (parse_message(file_unit.text, message)) continue;
      ++messages;
      segments += message.segments.size();
    }
  });

  // Records of every table, batched per table as a read call would.
  std::map<std::string, lakeflow::RecordBatch, std::less<>> batches;
  const auto build_records = [&] {
    for (auto& [table, batch] : batches) batch.clear();
    MessageSplitter splitter(input, true);
    FileUnit file_unit;
    Message message;
    std::string record;
    while (splitter.next(file_unit) == MessageSplitter::Status::kUnit) {
      if (file_unit.kind != FileUnit::Kind::kMessage) continue;
      if (parse_message(file_unit.text, message)) continue;
      const MessageInfo info = message_info(message, "bench.hl7", file_unit.begin);
      record.clear();
      append_message_record(message, info, file_unit.text, record);
      batches["messages"].append(record);
      for (std::size_t i = 0; i < message.segments.size(); ++i) {
        record.clear();
        append_segment_record(message, i, info, record);
        const std::string_view id = message.segments[i].id;
        auto it = batches.find(id);
        if (it == batches.end())
          it = batches.emplace(std::string(id), lakeflow::RecordBatch()).first;
        it->second.append(record);
      }
    }
  };
  const double records = best_seconds(repeat, build_records);

  std::map<std::string, std::unique_ptr<lakeflow::RecordConverter>, std::less<>> converters;
  for (const auto& [table, batch] : batches) {
    converters.emplace(table,
                       std::make_unique<lakeflow::RecordConverter>(
                           table == "messages" ? messages_schema() : segment_schema(table), table));
  }
  const double converted = best_seconds(repeat, [&] {
    build_records();
    for (auto& [table, batch] : batches) {
      lakeflow::ColumnBatch columns = converters.at(table)->make_batch();
      converters.at(table)->convert(batch, columns);
    }
  });

  std::printf("hl7v2: %.1f MB of messages (%zu messages, %zu segments), best of %d\n", mb, messages,
              segments, repeat);
  std::printf("  split+parse  %7.3f CPU s  %8.1f MB/s\n", parse, mb / parse);
  std::printf("  + records    %7.3f CPU s  %8.1f MB/s\n", records, mb / records);
  std::printf("  + convert    %7.3f CPU s  %8.1f MB/s\n", converted, mb / converted);
  return 0;
}
