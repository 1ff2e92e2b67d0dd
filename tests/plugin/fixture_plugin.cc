// A plugin with one connector, FIXTURE_CONNECTOR, serving one table of two fixed records. Built
// with LAKEFLOW_PLUGIN_BUILD as lakeflow_add_connector() builds plugins, and once without it (a
// plugin whose connector registers itself while loading, which the loader refuses).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"
#include "lakeflow/plugin.h"
#include "lakeflow/registry.h"

namespace {

class FixedConnector : public lakeflow::LakeflowConnect {
 public:
  explicit FixedConnector(const lakeflow::Options& options) : LakeflowConnect(options) {}

  std::vector<std::string> list_tables() override { return {"items"}; }
  lakeflow::StructType get_table_schema(std::string_view table,
                                        const lakeflow::Options& /*table_options*/) override {
    require_table(table);
    return lakeflow::StructType{{"id", lakeflow::DataType::Long(), /*nullable_=*/false}};
  }
  lakeflow::TableMetadata read_table_metadata(std::string_view table,
                                              const lakeflow::Options& /*table_options*/) override {
    require_table(table);
    return {{"id"}, std::nullopt, lakeflow::IngestionType::kSnapshot};
  }
  lakeflow::ReadResult read_table(std::string_view table, const lakeflow::Offset& /*start*/,
                                  const lakeflow::Options& /*table_options*/) override {
    require_table(table);
    lakeflow::RecordBatch batch;
    batch.append(R"({"id":1})");
    batch.append(R"({"id":2})");
    return {lakeflow::RecordStream::of(std::move(batch)), lakeflow::Offset::null()};
  }
};

}  // namespace

LAKEFLOW_REGISTER_CONNECTOR(FIXTURE_CONNECTOR, FixedConnector, "Plugin fixture: two fixed records");

LAKEFLOW_PLUGIN_ENTRY_POINT()
