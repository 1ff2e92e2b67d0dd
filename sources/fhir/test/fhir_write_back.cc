#include "fhir_write_back.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "fhir_connector.h"
#include "lakeflow/error.h"

namespace lakeflow::fhir {
namespace {

std::atomic<int> sequence{0};

const std::vector<std::string>& writable() {
  static const std::vector<std::string> tables{"Observation", "Patient"};
  return tables;
}

void require_writable(std::string_view table) {
  if (std::find(writable().begin(), writable().end(), table) != writable().end()) return;
  throw ConfigError(
      fmt::format("fhir write-back: cannot write table '{}'; tables: Observation, Patient", table));
}

// Sets the field a write is recognised by; returns the row the suite looks for.
JsonValue mark(JsonValue& resource, std::string_view table, int seq) {
  if (table == "Patient") {
    resource["birthDate"] = fmt::format("{}", 1900 + seq % 100);
    resource["name"] =
        JsonValue::Array{JsonValue::Object{{"family", fmt::format("WriteBack{}", seq)}}};
    return JsonValue::Object{{"birthDate", resource["birthDate"]}};
  }
  resource["valueString"] = fmt::format("write-back {}", seq);
  return JsonValue::Object{{"valueString", resource["valueString"]}};
}

}  // namespace

FhirWriteBack::FhirWriteBack(const Options& options) {
  const Options mapped = http_options(options);
  base_url_ = std::string(*mapped.find("base_url"));
  client_ = http::HttpClient::from_options(mapped);
  FhirConnector connector(options);
  deletes_ =
      connector.read_table_metadata("Patient", {}).ingestion_type == IngestionType::kCdcWithDeletes;
}

std::vector<std::string> FhirWriteBack::insertable_tables() { return writable(); }
std::vector<std::string> FhirWriteBack::updatable_tables() { return writable(); }
std::vector<std::string> FhirWriteBack::deletable_tables() {
  return deletes_ ? writable() : std::vector<std::string>{};
}

JsonValue FhirWriteBack::send(http::Method method, const std::string& path, const JsonValue* body) {
  http::Request request;
  request.method = method;
  request.url = base_url_ + "/" + path;
  request.headers = {{"Accept", "application/fhir+json"}};
  if (body != nullptr) {
    request.headers.emplace_back("Content-Type", "application/fhir+json");
    request.body = body->dump();
  }
  const http::Response response = client_->send(std::move(request));
  if (response.body.empty()) return JsonValue();
  return JsonValue::parse(response.body, "FHIR response");
}

std::vector<JsonValue> FhirWriteBack::newest(std::string_view table, int n) {
  const JsonValue bundle =
      send(http::Method::kGet, fmt::format("{}?_sort=-_lastUpdated&_count={}", table, n), nullptr);
  std::vector<JsonValue> resources;
  if (const JsonValue* entries = bundle.find("entry"); entries && entries->is_array()) {
    for (const JsonValue& entry : entries->as_array()) {
      if (const JsonValue* resource = entry.find("resource")) resources.push_back(*resource);
    }
  }
  if (static_cast<int>(resources.size()) < n) {
    throw SourceError(fmt::format("fhir write-back: the server holds {} {} resource(s), not {}",
                                  resources.size(), table, n));
  }
  return resources;
}

std::vector<JsonValue> FhirWriteBack::insert_rows(std::string_view table, int n) {
  require_writable(table);
  std::vector<JsonValue> rows;
  for (int i = 0; i < n; ++i) {
    const int seq = ++sequence;
    JsonValue resource = JsonValue::Object{{"resourceType", std::string(table)}};
    if (table == "Observation") {
      resource["status"] = "final";
      resource["code"] = JsonValue::Object{{"text", "write-back observation"}};
    }
    JsonValue row = mark(resource, table, seq);
    const JsonValue created = send(http::Method::kPost, std::string(table), &resource);
    row["id"] = created.find("id")->as_string();
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<JsonValue> FhirWriteBack::update_rows(std::string_view table, int n) {
  require_writable(table);
  std::vector<JsonValue> rows;
  for (JsonValue& resource : newest(table, n)) {
    const int seq = ++sequence;
    // The server stamps meta.lastUpdated itself only when the client sends none.
    resource.as_object().erase("meta");
    JsonValue row = mark(resource, table, seq);
    const std::string id = resource.find("id")->as_string();
    send(http::Method::kPut, fmt::format("{}/{}", table, id), &resource);
    row["id"] = id;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<JsonValue> FhirWriteBack::delete_rows(std::string_view table, int n) {
  require_writable(table);
  if (!deletes_) {
    throw ConfigError(
        "fhir write-back: the server offers no type history, so no table is "
        "cdc_with_deletes");
  }
  std::vector<JsonValue> rows;
  for (const JsonValue& resource : newest(table, n)) {
    const std::string id = resource.find("id")->as_string();
    send(http::Method::kDelete, fmt::format("{}/{}", table, id), nullptr);
    rows.push_back(JsonValue::Object{{"id", id}});
  }
  return rows;
}

}  // namespace lakeflow::fhir
