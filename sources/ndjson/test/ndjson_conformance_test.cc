// The conformance suite, run against real files: the test writes two NDJSON files, their schema
// and the suite's configuration to a temporary directory, which serves as the suite's source
// directory (configs/dev_config.json, configs/dev_table_config.json), and removes it at exit.

#include <filesystem>
#include <fstream>
#include <string>

#include "lakeflow/testing/conformance.h"
#include "lakeflow/testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class ConformanceFiles {
 public:
  ConformanceFiles() {
    write_file(
        dir_ / "schema.json",
        R"({"type":"struct","fields":[)"
        R"({"name":"id","type":"long","nullable":false,"metadata":{}},)"
        R"({"name":"device","type":"string","nullable":true,"metadata":{}},)"
        R"({"name":"measured_at","type":"timestamp","nullable":true,"metadata":{}},)"
        R"({"name":"value","type":"double","nullable":true,"metadata":{}},)"
        R"({"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},)"
        R"("nullable":true,"metadata":{}},)"
        R"({"name":"site","type":{"type":"struct","fields":[)"
        R"({"name":"name","type":"string","nullable":true,"metadata":{}},)"
        R"({"name":"indoor","type":"boolean","nullable":true,"metadata":{}}]},)"
        R"("nullable":true,"metadata":{}}]})");
    // Blank lines, a CRLF line end and a last line without a newline, as files in the wild have.
    std::string readings;
    for (int i = 1; i <= 11; ++i) {
      readings += "{\"id\":" + std::to_string(i) + ",\"device\":\"sensor-" + std::to_string(i % 3) +
                  "\",\"measured_at\":\"2024-05-01T10:" + std::to_string(10 + i) +
                  ":00Z\",\"value\":" + std::to_string(i) + ".5,\"tags\":[\"t" + std::to_string(i) +
                  "\"],\"site\":{\"name\":\"lab\",\"indoor\":" + (i % 2 == 0 ? "true" : "false") +
                  "}}";
      readings += i == 4 ? "\r\n\n" : i == 11 ? "" : "\n";
    }
    write_file(dir_ / "data" / "readings.ndjson", readings);
    std::string events;
    for (int i = 1; i <= 7; ++i) {
      events += "{\"id\":" + std::to_string(100 + i) +
                ",\"device\":\"door\",\"measured_at\":\"2024-06-0" + std::to_string(i) +
                "T00:00:00Z\",\"value\":" + std::to_string(i) +
                ",\"tags\":[],\"site\":{\"name\":\"hall\",\"indoor\":true}}\n";
    }
    write_file(dir_ / "data" / "events.jsonl", events);
    write_file(dir_ / "configs" / "dev_config.json", "{\"path\": \"" + (dir_ / "data").string() +
                                                         "\", \"schema\": \"" +
                                                         (dir_ / "schema.json").string() + "\"}");
    // Small batches, so reads take several calls and the suite resumes from their offsets: by
    // records for one table, by bytes for the other.
    write_file(dir_ / "configs" / "dev_table_config.json",
               R"({"readings": {"max_records_per_batch": "3", "read_buffer_bytes": "300"},)"
               R"( "events": {"max_bytes_per_batch": "250"}})");
  }
  std::string dir() const { return dir_.string(); }

 private:
  lakeflow::files::TempDir temp_{"lakeflow_ndjson_conformance"};
  const fs::path dir_ = temp_.path();
};

const ConformanceFiles& conformance_files() {
  static const ConformanceFiles files;
  return files;
}

}  // namespace

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "ndjson",
    .source_dir = conformance_files().dir(),
});
