// The `{{name}}` connector: reads the {{Name}} source. Created by `lakeflow new {{name}}`; every
// method below throws NotImplementedError (after checking the table name) until it is written.
//
// Connection options: TODO (document each in connector_spec.yaml and README.md).
// Table options: TODO.
//
// Tables: {{tables_md}}
//
// Offsets: TODO (shape of the offset of each incremental table; `{}` reads from the beginning).
//
// Records are the source's JSON objects as returned: nothing is converted here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"

namespace lakeflow::{{name}} {

class {{Name}}Connector : public LakeflowConnect {
 public:
  // Throws ConfigError naming a missing or invalid option.
  explicit {{Name}}Connector(const Options& options);

  std::vector<std::string> list_tables() override;
  StructType get_table_schema(std::string_view table, const Options& table_options) override;
  TableMetadata read_table_metadata(std::string_view table, const Options& table_options) override;
  ReadResult read_table(std::string_view table, const Offset& start,
                        const Options& table_options) override;
  ReadResult read_table_deletes(std::string_view table, const Offset& start,
                                const Options& table_options) override;
};

}  // namespace lakeflow::{{name}}
