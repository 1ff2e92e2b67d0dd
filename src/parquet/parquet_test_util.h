// Helpers shared by the Parquet tests: batches from JSON rows, temporary directories, and DuckDB
// (tests/duckdb/read_parquet.mjs) as an independent reader.
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "columnar/column_batch.h"
#include "columnar/record_converter.h"
#include "lakeflow/records.h"
#include "lakeflow/types.h"
#include "parquet/parquet_format.h"
#include "util/files.h"
#include "util/temp_dir.h"

namespace lakeflow::parquet::testing {

// Converts JSON rows with the record converter (the way the pipeline fills batches).
// One column of every Spark type, all nullable; `with_required` adds a non-nullable long `req`.
inline StructType every_type_schema(bool with_required = false) {
  std::vector<StructField> fields = {
      {"l", DataType::Long()},
      {"i", DataType::Integer()},
      {"s", DataType::Short()},
      {"b", DataType::Byte()},
      {"d", DataType::Double()},
      {"f", DataType::Float()},
      {"dec9", DataType::Decimal(9, 2)},
      {"dec18", DataType::Decimal(18, 4)},
      {"dec20", DataType::Decimal(20, 0)},
      {"dec38", DataType::Decimal(38, 10)},
      {"str", DataType::String()},
      {"bin", DataType::Binary()},
      {"bool", DataType::Boolean()},
      {"date", DataType::Date()},
      {"ts", DataType::Timestamp()},
      {"ntz", DataType::TimestampNtz()},
      {"v", DataType::Variant()},
  };
  if (with_required) fields.emplace_back("req", DataType::Long(), false);
  return StructType(std::move(fields));
}

inline ColumnBatch batch_from_json(const StructType& schema, const std::vector<std::string>& rows) {
  RecordConverter converter(schema, "test");
  ColumnBatch batch = converter.make_batch();
  RecordBatch records;
  for (const std::string& row : rows) records.append(row);
  converter.convert(records, batch);
  return batch;
}

inline std::vector<std::string> rows_json(const ColumnBatch& batch) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < batch.num_rows(); ++i) out.push_back(batch.row_json(i));
  return out;
}

using ::lakeflow::files::TempDir;

// Rewrites the footer of the Parquet file at `path` with `change` applied to its metadata (to make
// the damaged footers a reader must survive).
template <typename Change>
void rewrite_footer(const std::string& path, Change change) {
  const std::string bytes = ::lakeflow::files::read_file(path);
  std::uint32_t footer_size = 0;
  std::memcpy(&footer_size, bytes.data() + bytes.size() - 8, 4);
  const std::size_t footer_at = bytes.size() - 8 - footer_size;
  FileMetaData metadata = parse_file_metadata(
      reinterpret_cast<const std::uint8_t*>(bytes.data()) + footer_at, footer_size, path);
  change(metadata);
  std::string footer;
  append_file_metadata(footer, metadata);
  const auto size = static_cast<std::uint32_t>(footer.size());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes.substr(0, footer_at) << footer;
  out.write(reinterpret_cast<const char*>(&size), 4);
  out << "PAR1";
}

// Why DuckDB cannot run here, or empty when it can.
inline std::string duckdb_unavailable() {
  std::filesystem::path modules =
      std::filesystem::path(LAKEFLOW_REPO_DIR) / "tests/duckdb/node_modules/@duckdb/node-api";
  if (!std::filesystem::exists(modules)) {
    return "tests/duckdb/node_modules is missing; run scripts/install-deps (npm ci in "
           "tests/duckdb)";
  }
  if (std::system("node --version > /dev/null 2>&1") != 0) return "node is not on PATH";
  return "";
}

struct DuckDbResult {
  int status = -1;
  std::string output;  // stdout and stderr
  std::vector<std::string> lines;
};

// Runs `node tests/duckdb/read_parquet.mjs [--describe] FILES...`.
inline DuckDbResult run_duckdb(const std::vector<std::string>& files, bool describe = false) {
  std::string command =
      "node '" + std::string(LAKEFLOW_REPO_DIR) + "/tests/duckdb/read_parquet.mjs'";
  if (describe) command += " --describe";
  for (const std::string& f : files) command += " '" + f + "'";
  command += " 2>&1";
  DuckDbResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[65536];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::size_t start = 0;
  while (start < result.output.size()) {
    std::size_t end = result.output.find('\n', start);
    if (end == std::string::npos) end = result.output.size();
    result.lines.push_back(result.output.substr(start, end - start));
    start = end + 1;
  }
  return result;
}

}  // namespace lakeflow::parquet::testing
