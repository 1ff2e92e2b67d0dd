// Test-only writes to a FHIR server, for the conformance suite's write-back tests: creates,
// updates and deletes resources through the server's REST API, as any other client would.
//
//   insert / update: Patient, Observation      delete: the same, when they are cdc_with_deletes
//
// Written values are unique within the process (a sequence number): an inserted or updated Patient
// carries birthDate "<1900 + n>" (a year-only date, kept as written), an Observation valueString
// "write-back <n>".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/http/client.h"
#include "lakeflow/json.h"
#include "lakeflow/testing/conformance.h"

namespace lakeflow::fhir {

class FhirWriteBack : public testing::WriteBackUtils {
 public:
  // The connector's connection options.
  explicit FhirWriteBack(const Options& options);

  std::vector<std::string> insertable_tables() override;
  std::vector<std::string> updatable_tables() override;
  std::vector<std::string> deletable_tables() override;
  std::vector<JsonValue> insert_rows(std::string_view table, int n) override;
  std::vector<JsonValue> update_rows(std::string_view table, int n) override;
  std::vector<JsonValue> delete_rows(std::string_view table, int n) override;

 private:
  JsonValue send(http::Method method, const std::string& path, const JsonValue* body);
  // Up to `n` resources of `table`, most recently updated first.
  std::vector<JsonValue> newest(std::string_view table, int n);

  std::string base_url_;
  std::shared_ptr<http::HttpClient> client_;
  bool deletes_ = false;
};

}  // namespace lakeflow::fhir
