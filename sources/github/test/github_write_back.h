// Test-only writes to a GitHub repository for the conformance suite's TestWriteBack: creates and
// retitles issues (POST /repos/{owner}/{repo}/issues, PATCH .../issues/{number}) through the
// HTTP toolkit, so in simulate mode the simulator answers and live it needs a token that may
// write issues. GitHub offers no way to delete an issue over REST, so nothing is deletable.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/http/client.h"
#include "lakeflow/testing/conformance.h"

namespace lakeflow::github {

class GithubWriteBack : public testing::WriteBackUtils {
 public:
  explicit GithubWriteBack(const Options& options);
  std::vector<std::string> insertable_tables() override { return {"issues"}; }
  std::vector<std::string> updatable_tables() override { return {"issues"}; }
  std::vector<std::string> deletable_tables() override { return {}; }
  std::vector<JsonValue> insert_rows(std::string_view table, int n) override;
  std::vector<JsonValue> update_rows(std::string_view table, int n) override;
  std::vector<JsonValue> delete_rows(std::string_view table, int n) override;

 private:
  std::string issues_url_;
  std::shared_ptr<http::HttpClient> client_;
  std::vector<std::int64_t> numbers_;  // issues this helper created
  std::vector<std::int64_t> ids_;
};

}  // namespace lakeflow::github
