// Writes to the test database for the conformance suite's TestWriteBack: inserts, updates and
// deletes rows of public.items and public.orders through SQL, as any application would.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/options.h"
#include "lakeflow/testing/conformance.h"

namespace lakeflow::postgres::testing {

class PostgresWriteBack : public lakeflow::testing::WriteBackUtils {
 public:
  explicit PostgresWriteBack(Options options) : options_(std::move(options)) {}
  std::vector<std::string> insertable_tables() override;
  std::vector<std::string> updatable_tables() override;
  std::vector<std::string> deletable_tables() override;
  std::vector<JsonValue> insert_rows(std::string_view table, int n) override;
  std::vector<JsonValue> update_rows(std::string_view table, int n) override;
  std::vector<JsonValue> delete_rows(std::string_view table, int n) override;

 private:
  // Runs `sql` and returns its rows, each value as text.
  std::vector<std::vector<std::string>> run(const std::string& sql);
  Options options_;
};

}  // namespace lakeflow::postgres::testing
