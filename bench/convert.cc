// Conversion throughput: NDJSON records -> typed columns, the path every connector's records take.
//
//   bench_convert SCHEMA.json DATA.ndjson [--batch 8192] [--repeat 3] [--quarantine]
//
// Also reports simdjson's DOM parse rate over the same records (simdjson_dom_mb_per_s: each
// record parsed into a reused dom::parser, best of `--repeat`), the yardstick the converter and
// `lakeflow run` are measured against.
//
// The file is read into memory first, in chunks of `--batch` lines that RecordBatch adopts (each
// line is a view into its chunk: zero-copy, as a connector adopting an HTTP body). Only conversion
// is timed: every batch is converted into one reused ColumnBatch (cleared between batches), and
// the best of `--repeat` passes is reported. MB is 10^6 bytes of record text (newlines excluded).
// With --quarantine, bad records are counted (and the first one shown) instead of stopping the
// run. The exit status is 1 when any record fails to convert.
#include <simdjson.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "columnar/column_batch.h"
#include "columnar/record_converter.h"
#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/records.h"
#include "lakeflow/types.h"

namespace {

struct Args {
  std::string schema_path;
  std::string data_path;
  std::size_t batch = 8192;
  int repeat = 3;
  bool quarantine = false;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr
      << "bench_convert: " << problem << "\n"
      << "usage: bench_convert SCHEMA.json DATA.ndjson [--batch N] [--repeat N] [--quarantine]\n";
  std::exit(2);
}

long parse_positive(const std::string& flag, const char* text) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v <= 0) {
    usage(flag + " needs a positive integer, got '" + text + "'");
  }
  return v;
}

Args parse_args(int argc, char** argv) {
  Args args;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--batch" || a == "--repeat") {
      if (i + 1 >= argc) usage(a + " needs a value");
      long v = parse_positive(a, argv[++i]);
      if (a == "--batch") {
        args.batch = static_cast<std::size_t>(v);
      } else {
        args.repeat = static_cast<int>(v);
      }
    } else if (a == "--quarantine") {
      args.quarantine = true;
    } else if (a == "-h" || a == "--help") {
      usage("converts DATA.ndjson to columns with SCHEMA.json and reports throughput");
    } else if (!a.empty() && a[0] == '-') {
      usage("unknown option '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) usage("expected SCHEMA.json and DATA.ndjson");
  args.schema_path = positional[0];
  args.data_path = positional[1];
  return args;
}

std::string read_schema(const std::string& path) {
  const std::optional<std::string> text = lakeflow::files::read_file_if_exists(path);
  if (!text) usage("cannot open '" + path + "'");
  return *text;
}

// Splits the NDJSON file into batches of up to `batch_size` records. Each batch adopts a buffer
// holding exactly its lines and adds every non-blank line as a view into it.
std::vector<lakeflow::RecordBatch> load_batches(const std::string& path, std::size_t batch_size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage("cannot open '" + path + "'");
  std::vector<lakeflow::RecordBatch> batches;
  std::string chunk;
  std::size_t lines_in_chunk = 0;
  std::string line;
  auto flush = [&] {
    if (lines_in_chunk == 0) return;
    lakeflow::RecordBatch batch;
    std::string_view text = batch.adopt(std::move(chunk));
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      batch.append_view(text.substr(start, end - start));
      start = end + 1;
    }
    batches.push_back(std::move(batch));
    chunk = std::string();
    lines_in_chunk = 0;
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    chunk += line;
    chunk += '\n';
    if (++lines_in_chunk == batch_size) flush();
  }
  flush();
  return batches;
}

struct Pass {
  double seconds = 0;
  std::size_t rows = 0;
  std::size_t first_column_nulls = 0;
  std::size_t column_bytes = 0;
  std::size_t bad_records = 0;
  std::string first_bad;
};

Pass convert_all(const lakeflow::StructType& schema,
                 const std::vector<lakeflow::RecordBatch>& batches, bool quarantine) {
  lakeflow::RecordConverter converter(
      schema, "observations",
      quarantine ? lakeflow::BadRecordMode::kQuarantine : lakeflow::BadRecordMode::kFail);
  lakeflow::ColumnBatch out = converter.make_batch();
  Pass pass;
  auto start = std::chrono::steady_clock::now();
  for (const lakeflow::RecordBatch& batch : batches) {
    pass.rows += converter.convert(batch, out);
    if (out.num_columns() > 0) pass.first_column_nulls += out.column(0).null_count();
    pass.column_bytes += out.byte_size();
    out.clear();
    if (!converter.bad_records().empty()) {
      if (pass.bad_records == 0) pass.first_bad = converter.bad_records().front().reason;
      pass.bad_records += converter.bad_records().size();
      converter.clear_bad_records();
    }
  }
  pass.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return pass;
}

// Seconds simdjson's DOM API takes to parse every record (no conversion).
double dom_parse_all(const std::vector<lakeflow::RecordBatch>& batches) {
  simdjson::dom::parser parser;
  std::size_t elements = 0;
  auto start = std::chrono::steady_clock::now();
  for (const lakeflow::RecordBatch& batch : batches) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::string_view record = batch[i];
      simdjson::dom::element doc;
      if (parser.parse(record.data(), record.size(), false).get(doc)) {
        throw lakeflow::Error(lakeflow::ErrorCode::kData, "simdjson cannot parse a record");
      }
      elements += doc.is_object() ? 1 : 0;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (elements == 0) std::fprintf(stderr, "bench_convert: no record is an object\n");
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  try {
    lakeflow::StructType schema = lakeflow::parse_struct_type(read_schema(args.schema_path));
    std::vector<lakeflow::RecordBatch> batches = load_batches(args.data_path, args.batch);
    std::size_t records = 0;
    std::size_t bytes = 0;
    for (const lakeflow::RecordBatch& b : batches) {
      records += b.size();
      bytes += b.byte_size();
    }
    if (records == 0) usage("'" + args.data_path + "' holds no records");

    Pass best;
    for (int r = 0; r < args.repeat; ++r) {
      Pass pass = convert_all(schema, batches, args.quarantine);
      std::fprintf(stderr, "bench_convert: pass %d: %.3f s\n", r + 1, pass.seconds);
      if (r == 0 || pass.seconds < best.seconds) best = pass;
    }

    double dom_seconds = 0;
    for (int r = 0; r < args.repeat; ++r) {
      double seconds = dom_parse_all(batches);
      if (r == 0 || seconds < dom_seconds) dom_seconds = seconds;
    }

    double mb = static_cast<double>(bytes) / 1e6;
    std::printf("kernel: %s\n", lakeflow::RecordConverter::active_kernel().c_str());
    std::printf("schema_fields: %zu\n", schema.size());
    std::printf("batches: %zu\n", batches.size());
    std::printf("records: %zu\n", records);
    std::printf("bytes: %zu\n", bytes);
    std::printf("best_seconds: %.4f\n", best.seconds);
    std::printf("mb_per_s: %.1f\n", mb / best.seconds);
    std::printf("records_per_s: %.0f\n", static_cast<double>(records) / best.seconds);
    std::printf("simdjson_dom_mb_per_s: %.1f\n", mb / dom_seconds);
    std::printf("rows: %zu\n", best.rows);
    std::printf("first_column_nulls: %zu\n", best.first_column_nulls);
    std::printf("column_bytes: %zu\n", best.column_bytes);
    std::printf("bad_records: %zu\n", best.bad_records);
    if (best.bad_records > 0) {
      std::fprintf(stderr, "bench_convert: %zu records failed to convert; the first: %s\n",
                   best.bad_records, best.first_bad.c_str());
      return 1;
    }
  } catch (const lakeflow::Error& e) {
    std::fprintf(stderr, "bench_convert: %s\n", e.what());
    return 1;
  }
  return 0;
}
