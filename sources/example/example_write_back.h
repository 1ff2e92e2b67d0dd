// Test-only writes to the Example source, for the conformance suite's write-back tests: they write
// through the source's own API (POST, PATCH, DELETE), exactly as another client would, and the
// suite then checks that a fresh connector reads the change.
//
//   insert: users, orders, events, products     update: users, orders, products
//   delete: orders (the cdc_with_deletes table)
//
// Every written value is unique within the process (a sequence number), so each row is found by
// its id and the field the write set.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "example_api.h"
#include "lakeflow/json.h"
#include "lakeflow/testing/conformance.h"

namespace lakeflow::example {

class ExampleWriteBack : public testing::WriteBackUtils {
 public:
  // Same connection options as the connector (username, password).
  explicit ExampleWriteBack(const Options& options);

  std::vector<std::string> insertable_tables() override;
  std::vector<std::string> updatable_tables() override;
  std::vector<std::string> deletable_tables() override;
  // Each throws ConfigError for a table outside the matching list, SourceError if a write fails.
  std::vector<JsonValue> insert_rows(std::string_view table, int n) override;
  std::vector<JsonValue> update_rows(std::string_view table, int n) override;
  std::vector<JsonValue> delete_rows(std::string_view table, int n) override;

 private:
  // Sends one request; returns the parsed body (null for 204). Throws SourceError on non-2xx.
  JsonValue send(std::string_view method, std::string_view path, const Query& query,
                 const JsonValue& body);
  // The ids of the first page (up to 500 rows) of `table`, in the order the API lists them.
  std::vector<std::int64_t> existing_ids(std::string_view table);

  ExampleApi api_;
};

}  // namespace lakeflow::example
