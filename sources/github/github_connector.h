// The `github` connector: reads the Github source. Created by `lakeflow new github`; every
// hook below throws NotImplementedError until it is written.
//
// Connection options: TODO (list each in connector_spec.yaml, `secret: true` for secrets, and
// document it in README.md; the framework rejects options the spec does not list).
// Table options: TODO (list each in connector_spec.yaml's external_options_allowlist;
// max_records_per_batch is the SDK's, read as ReadContext::max_records()).
//
// Tables: `repositories`, `issues`, `pull_requests`, `commits`, `issue_comments`, `releases`, `contributors`
//
// Offsets: TODO (shape of the offset of each incremental table; `{}` reads from the beginning;
// lakeflow/cursor.h for a cursor many records can share).
//
// Records are the source's JSON objects as returned: nothing is converted here.
#pragma once

#include <string>
#include <vector>

#include "lakeflow/connector.h"

namespace lakeflow::github {

class GithubConnector : public LakeflowConnect {
 public:
  // Throws ConfigError naming a missing or invalid option.
  explicit GithubConnector(const Options& options);

 protected:
  // The hooks of lakeflow/connector.h: the framework has checked the table name, the table options
  // and the batch limit before it calls them.
  std::vector<std::string> do_list_tables() override;
  StructType do_get_table_schema(const TableContext& context) override;
  TableMetadata do_read_table_metadata(const TableContext& context) override;
  ReadResult do_read_table(const ReadContext& context) override;
  ReadResult do_read_table_deletes(const ReadContext& context) override;
};

}  // namespace lakeflow::github
