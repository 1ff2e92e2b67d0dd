#include "github_connector.h"

#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/registry.h"
#include "lakeflow_connector_spec.h"  // generated from connector_spec.yaml by the build

namespace lakeflow::github {
namespace {

// Test first: the conformance suite runs against these stubs and fails until each is written.
[[noreturn]] void not_implemented(std::string_view method) {
  throw NotImplementedError(std::string("github: ") + std::string(method) +
                            " is not implemented yet (see DESIGN.md, Phase 2)");
}

}  // namespace

GithubConnector::GithubConnector(const Options& options)
    : LakeflowConnect(embedded_connector_spec(), options) {}

std::vector<std::string> GithubConnector::do_list_tables() {
  std::vector<std::string> tables{ "repositories", "issues", "pull_requests", "commits", "issue_comments", "releases", "contributors" };
  if (tables.empty()) not_implemented("list_tables");
  return tables;
}

StructType GithubConnector::do_get_table_schema(const TableContext& /*context*/) {
  not_implemented("get_table_schema");
}

TableMetadata GithubConnector::do_read_table_metadata(const TableContext& /*context*/) {
  not_implemented("read_table_metadata");
}

ReadResult GithubConnector::do_read_table(const ReadContext& /*context*/) {
  not_implemented("read_table");
}

ReadResult GithubConnector::do_read_table_deletes(const ReadContext& /*context*/) {
  not_implemented("read_table_deletes");
}

LAKEFLOW_REGISTER_CONNECTOR("github", GithubConnector,
                            "Github source (scaffolded; not implemented yet)");

}  // namespace lakeflow::github
