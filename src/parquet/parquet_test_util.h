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
#include "lakeflow/files.h"
#include "lakeflow/records.h"
#include "lakeflow/testing/temp_dir.h"
#include "lakeflow/types.h"
#include "parquet/parquet_format.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"

namespace lakeflow::parquet::testing {

// Rows of every_type_schema(): extremes of every type, a row of nulls, and ordinary values.
inline std::vector<std::string> all_types_rows() {
  return {
      R"({"l":9223372036854775807,"i":2147483647,"s":32767,"b":127,"d":1.5,"f":0.1,)"
      R"("dec9":"9999999.99","dec18":"99999999999999.9999","dec20":"99999999999999999999",)"
      R"("dec38":"9999999999999999999999999999.9999999999","str":"h\u00e9llo \"q\" \ud83d\ude00",)"
      R"("bin":"AAEC/w==","bool":true,"date":"2024-02-29","ts":"2024-03-01T12:34:56.789012Z",)"
      R"("ntz":"2024-03-01T12:34:56.789012","v":{"a":[1,2,{"b":null}],"c":"x"}})",
      R"({"l":-9223372036854775808,"i":-2147483648,"s":-32768,"b":-128,"d":-1e300,"f":-3.25e38,)"
      R"("dec9":"-9999999.99","dec18":"-99999999999999.9999","dec20":"-99999999999999999999",)"
      R"("dec38":"-9999999999999999999999999999.9999999999","str":"","bin":"","bool":false,)"
      R"("date":"1900-01-01","ts":"1969-12-31T23:59:59.999999Z","ntz":"1970-01-01T00:00:00",)"
      R"("v":[1,"two",null]})",
      R"({})",
      R"({"l":0,"i":0,"s":0,"b":0,"d":0.0,"f":1e-7,"dec9":"0.01","dec18":"0","dec20":"1",)"
      R"("dec38":"0.0000000001","str":"z","bin":"//79","bool":true,"date":"1970-01-01",)"
      R"("ts":"2000-01-01T00:00:00Z","ntz":"9999-12-31T23:59:59.999999","v":"null"})",
  };
}

// Lists of structs holding maps of lists, nullable at every level, and rows that hold nulls at
// every level.
inline StructType nested_schema() {
  // tags: list of structs holding a map of lists; every level nullable.
  DataType attrs = DataType::Map(DataType::String(), DataType::Array(DataType::Long()));
  DataType tag = StructType{{"name", DataType::String()}, {"attrs", attrs}};
  return StructType{
      {"id", DataType::Long(), false},
      {"tags", DataType::Array(tag)},
      {"meta", StructType{{"version", DataType::Integer()},
                          {"inner", StructType{{"ts", DataType::Timestamp()},
                                               {"codes", DataType::Array(DataType::String())}}}}},
      {"scores", DataType::Map(DataType::Integer(), DataType::Double())},
      {"matrix", DataType::Array(DataType::Array(DataType::Integer()))},
  };
}

inline std::vector<std::string> nested_rows() {
  return {
      R"({"id":1,"tags":[{"name":"a","attrs":{"x":[1,2,3],"y":[],"z":null,"w":[null,4]}},)"
      R"(null,{"name":null,"attrs":null},{"name":"b","attrs":{}}],)"
      R"("meta":{"version":7,"inner":{"ts":"2024-01-02T03:04:05Z","codes":["p",null,"q"]}},)"
      R"("scores":{"1":1.5,"2":null},"matrix":[[1,2],[],null,[null]]})",
      R"({"id":2,"tags":null,"meta":null,"scores":null,"matrix":null})",
      R"({"id":3,"tags":[],"meta":{"version":null,"inner":null},"scores":{},"matrix":[]})",
      R"({"id":4,"tags":[null],"meta":{"version":1,"inner":{"ts":null,"codes":[]}},)"
      R"("scores":{"-5":-0.25},"matrix":[[]]})",
      R"({"id":5,"tags":[{"name":"only","attrs":{"k":[9223372036854775807]}}],)"
      R"("meta":{"version":2,"inner":{"ts":null,"codes":null}},"matrix":[[7]]})",
  };
}

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

// Writes `batch` to a Parquet file at `path` (without syncing: the tests need no durability).
inline ParquetFileStats write_file(const std::string& path, const ColumnBatch& batch,
                                   ParquetWriterOptions options = {}) {
  options.sync = false;
  ParquetWriter writer(path, batch.schema(), options);
  writer.write(batch);
  return writer.close();
}

// The rows of the Parquet file at `path`, read as `schema`, as JSON text.
inline std::vector<std::string> read_rows(const std::string& path, const StructType& schema) {
  return rows_json(ParquetReader(path).read(schema));
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
