// The conformance suite, run against real files: the test writes the published sample messages
// (test/messages/, sources in hl7v2_api_doc.md) and the generated ones to a temporary directory
// the ways interface engines leave them (CR, CRLF and LF segment ends, an FHS/BHS batch, an
// MLLP-framed log, malformed text), with the suite's configuration (configs/dev_config.json,
// configs/dev_table_config.json) beside them, and removes it at exit. Write-back appends new ADT
// messages to a file that sorts after the others (created by the first write, grown by the next),
// as an interface engine appends to its current log.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/json.h"
#include "lakeflow/testing/conformance.h"
#include "lakeflow/testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string sample(const std::string& name, const std::string& eol) {
  std::ifstream in(fs::path(LAKEFLOW_SOURCE_DIR) / "test" / "messages" / name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::string out;
  for (const char c : text.str()) {
    if (c == '\n') {
      out += eol;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

class ConformanceFiles {
 public:
  ConformanceFiles() {
    const fs::path data = dir_ / "data";
    write_file(data / "2024-01-01_adt.hl7", sample("adt_a01_good_health.hl7", "\r"));
    write_file(data / "2024-01-02_adt.hl7", sample("adt_a01_wikipedia.hl7", "\r\n"));
    write_file(data / "2024-01-03_oru.hl7", sample("oru_r01_glucose.hl7", "\n"));
    write_file(data / "2024-01-04_ack.hl7", sample("ack_protogen.hl7", "\r"));
    write_file(data / "2024-01-05_batch.hl7", "FHS|^~\\&|IFENG|MCM\rBHS|^~\\&|IFENG|MCM\r" +
                                                  sample("generated_segments.hl7", "\r") +
                                                  "BTS|7\rFTS|1\r");
    write_file(data / "2024-01-06_mllp.log", "\x0b" + sample("oru_r01_glucose.hl7", "\r") +
                                                 "\x1c\r\x0b" +
                                                 sample("adt_a01_wikipedia.hl7", "\r") + "\x1c\r");
    write_file(data / "2024-01-07_edge.hl7", sample("generated_edge_cases.hl7", "\r"));
    write_file(dir_ / "configs" / "dev_config.json",
               "{\"path\": \"" + data.string() + "\", \"segments\": \"ZPD,MSA\"}");
    // Small batches for some tables, so their reads take several calls and resume from offsets
    // inside files and inside messages.
    write_file(dir_ / "configs" / "dev_table_config.json",
               R"({"messages": {"max_records_per_batch": "3", "read_buffer_bytes": "64"},)"
               R"( "obx": {"max_records_per_batch": "2"},)"
               R"( "pid": {"max_records_per_batch": "1"},)"
               R"( "malformed_messages": {"max_records_per_batch": "1"}})");
  }
  std::string dir() const { return dir_.string(); }

 private:
  lakeflow::files::TempDir temp_{"lakeflow_hl7v2_conformance"};
  const fs::path dir_ = temp_.path();
};

const ConformanceFiles& conformance_files() {
  static const ConformanceFiles files;
  return files;
}

// Appends messages to `<path>/2024-12-31_live.hl7`: each an ADT^A01 with MSH, EVN, PID and PV1.
class AppendMessages : public lakeflow::testing::WriteBackUtils {
 public:
  explicit AppendMessages(const lakeflow::Options& options)
      : file_(fs::path(options.get_string("path")) / "2024-12-31_live.hl7") {}

  std::vector<std::string> insertable_tables() override { return {"messages", "pid", "pv1"}; }
  std::vector<std::string> updatable_tables() override { return {}; }
  std::vector<std::string> deletable_tables() override { return {}; }

  std::vector<lakeflow::JsonValue> insert_rows(std::string_view table, int n) override {
    std::vector<lakeflow::JsonValue> rows;
    for (int i = 0; i < n; ++i) {
      const std::string id = "LIVE-" + std::to_string(++count_);
      const auto position = static_cast<std::int64_t>(fs::exists(file_) ? fs::file_size(file_) : 0);
      std::ofstream(file_, std::ios::binary | std::ios::app)
          << "MSH|^~\\&|ADT1|MCM|LABADT|MCM|20241231120000+0000||ADT^A01^ADT_A01|" << id
          << "|P|2.5.1\rEVN|A01|20241231120000+0000\rPID|1||" << id << "^^^MCM^MR||LIVE^PATIENT^"
          << count_ << "\rPV1|1|I|W^1^" << count_ << "\r";
      lakeflow::JsonValue::Object row{{"message_control_id", lakeflow::JsonValue(id)}};
      if (table == "messages") {
        row.emplace("source_file", lakeflow::JsonValue(file_.filename().string()));
        row.emplace("message_position", lakeflow::JsonValue(position));
      } else {
        row.emplace("segment_index", lakeflow::JsonValue(table == "pid" ? 3 : 4));
      }
      rows.emplace_back(std::move(row));
    }
    return rows;
  }
  std::vector<lakeflow::JsonValue> update_rows(std::string_view, int) override { return {}; }
  std::vector<lakeflow::JsonValue> delete_rows(std::string_view, int) override { return {}; }

 private:
  fs::path file_;
  int count_ = 0;
};

}  // namespace

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "hl7v2",
    .source_dir = conformance_files().dir(),
    .allowed_null_columns =
        {{"*:*",
          "the segment schemas carry every field of HL7 v2.8; no sample message fills them all"}},
    .write_back =
        [](const lakeflow::Options& options) -> std::unique_ptr<lakeflow::testing::WriteBackUtils> {
      return std::make_unique<AppendMessages>(options);
    },
});
