#include "hl7v2_gcp_corpus.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "lakeflow/http/encoding.h"
#include "lakeflow/instant.h"

namespace lakeflow::hl7v2::test {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The messages of a sample file: each line starting with MSH opens one, lines before the first
// are stray text; line ends become CR.
std::vector<std::string> split_messages(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string line;
  bool open = false;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.starts_with("MSH") || !open) {
      out.emplace_back();
      open = line.starts_with("MSH");
    }
    out.back() += line + "\r";
  }
  return out;
}

std::string field_of(const std::string& text, std::size_t n) {
  if (text.size() < 4) return {};
  const char separator = text[3];
  std::size_t at = 0;
  for (std::size_t i = 0; i < n && at != std::string::npos; ++i) {
    at = text.find(separator, at + 1);
  }
  if (at == std::string::npos) return {};
  const std::size_t end = text.find_first_of(std::string(1, separator) + "\r", at + 1);
  return text.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
}

}  // namespace

Options store_options() {
  return Options{{"source_type", "gcp"},          {"project_id", "sim-project"},
                 {"location", "us-central1"},     {"dataset_id", "sim-dataset"},
                 {"hl7v2_store_id", "sim-store"}, {"access_token", "ya29.stand-in-token-0000"}};
}

std::vector<StoreMessage> sample_store_messages() {
  const fs::path dir = fs::path(LAKEFLOW_SOURCE_DIR) / "test" / "messages";
  std::vector<std::string> texts;
  for (const char* name :
       {"adt_a01_good_health.hl7", "adt_a01_wikipedia.hl7", "oru_r01_glucose.hl7",
        "ack_protogen.hl7", "generated_segments.hl7", "generated_edge_cases.hl7"}) {
    for (std::string& text : split_messages(read_file(dir / name)))
      texts.push_back(std::move(text));
  }
  std::vector<StoreMessage> out;
  const std::int64_t base = *parse_instant("2024-03-01T08:00:00Z");
  std::int64_t minute = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    // Every third message shares the send time of the one before it (ties at the cursor); every
    // fifth carries milliseconds.
    if (i % 3 != 2) ++minute;
    std::int64_t micros = base + minute * 60'000'000;
    if (i % 5 == 4) micros += 250'000;
    out.push_back({fmt::format("msg-{:04}", i + 1), std::move(texts[i]),
                   format_instant(micros, i % 5 == 4 ? 3 : 0), true});
  }
  out.push_back({fmt::format("msg-{:04}", out.size() + 1), "MSH|^~\\&|not base64 at all",
                 format_instant(base + (minute + 1) * 60'000'000, 0), false});
  return out;
}

JsonValue store_record(const StoreMessage& message) {
  JsonValue::Object record{
      {"name", JsonValue(fmt::format("{}/messages/{}", kStoreName, message.id))},
      {"data", JsonValue(message.base64 ? http::base64_encode(message.text) : message.text)},
      {"sendTime", JsonValue(message.send_time)},
      {"createTime", JsonValue(format_instant(*parse_instant(message.send_time) + 2'000'000, 3))},
      {"labels", JsonValue(JsonValue::Object{})}};
  if (const std::string type = field_of(message.text, 8); !type.empty()) {
    record.emplace("messageType", JsonValue(type.substr(0, type.find('^'))));
  }
  if (const std::string facility = field_of(message.text, 3); !facility.empty()) {
    record.emplace("sendFacility", JsonValue(facility));
  }
  return JsonValue(std::move(record));
}

JsonValue token_answer() {
  return JsonValue(JsonValue::Object{{"access_token", JsonValue("ya29.simulated-sa-token-0000")},
                                     {"expires_in", JsonValue(3599)},
                                     {"token_type", JsonValue("Bearer")}});
}

std::shared_ptr<http::SimulatedSource> simulated_store(const std::vector<StoreMessage>& messages) {
  JsonValue::Array records;
  for (const StoreMessage& message : messages) records.push_back(store_record(message));
  return std::make_shared<http::SimulatedSource>(
      http::EndpointSpec::load(
          (fs::path(LAKEFLOW_SOURCE_DIR) / "test" / "simulator" / "endpoints.yaml").string()),
      std::map<std::string, JsonValue, std::less<>>{{"messages", JsonValue(std::move(records))},
                                                    {"token", token_answer()}});
}

void write_simulator_folder(const std::string& dir) {
  fs::create_directories(fs::path(dir) / "corpus");
  fs::copy_file(fs::path(LAKEFLOW_SOURCE_DIR) / "test" / "simulator" / "endpoints.yaml",
                fs::path(dir) / "endpoints.yaml", fs::copy_options::overwrite_existing);
  JsonValue::Array records;
  for (const StoreMessage& message : sample_store_messages()) {
    records.push_back(store_record(message));
  }
  std::ofstream(fs::path(dir) / "corpus" / "messages.json", std::ios::binary)
      << JsonValue(std::move(records)).dump() << "\n";
  std::ofstream(fs::path(dir) / "corpus" / "token.json") << token_answer().dump() << "\n";
}

}  // namespace lakeflow::hl7v2::test
