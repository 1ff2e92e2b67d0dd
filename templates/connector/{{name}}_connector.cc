#include "{{name}}_connector.h"

#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/registry.h"

namespace lakeflow::{{name}} {
namespace {

// Test first: the conformance suite runs against these stubs and fails until each is written.
[[noreturn]] void not_implemented(std::string_view method) {
  throw NotImplementedError(std::string("{{name}}: ") + std::string(method) +
                            " is not implemented yet (see sources/{{name}}/DESIGN.md, Phase 2)");
}

}  // namespace

{{Name}}Connector::{{Name}}Connector(const Options& options) : LakeflowConnect(options) {}

std::vector<std::string> {{Name}}Connector::list_tables() {
  std::vector<std::string> tables{ {{tables_cpp}} };
  if (tables.empty()) not_implemented("list_tables");
  return tables;
}

StructType {{Name}}Connector::get_table_schema(std::string_view table,
                                              const Options& /*table_options*/) {
  require_table(table);
  not_implemented("get_table_schema");
}

TableMetadata {{Name}}Connector::read_table_metadata(std::string_view table,
                                                    const Options& /*table_options*/) {
  require_table(table);
  not_implemented("read_table_metadata");
}

ReadResult {{Name}}Connector::read_table(std::string_view table, const Offset& /*start*/,
                                        const Options& /*table_options*/) {
  require_table(table);
  not_implemented("read_table");
}

ReadResult {{Name}}Connector::read_table_deletes(std::string_view table, const Offset& /*start*/,
                                                const Options& /*table_options*/) {
  require_table(table);
  not_implemented("read_table_deletes");
}

LAKEFLOW_REGISTER_CONNECTOR("{{name}}", {{Name}}Connector,
                            "{{Name}} source (scaffolded; not implemented yet)");

}  // namespace lakeflow::{{name}}
