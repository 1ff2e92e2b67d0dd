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

const lakeflow::ConnectorSpec& embedded_connector_spec() {
  static const lakeflow::ConnectorSpec spec(FIXTURE_CONNECTOR, {}, {"max_records_per_batch"});
  return spec;
}

class FixedConnector : public lakeflow::LakeflowConnect {
 public:
  explicit FixedConnector(const lakeflow::Options& options)
      : LakeflowConnect(embedded_connector_spec(), options) {}

  std::vector<std::string> do_list_tables() override { return {"items"}; }
  lakeflow::StructType do_get_table_schema(const TableContext& /*context*/) override {
    return lakeflow::StructType{{"id", lakeflow::DataType::Long(), /*nullable_=*/false}};
  }
  lakeflow::TableMetadata do_read_table_metadata(const TableContext& /*context*/) override {
    return {{"id"}, std::nullopt, lakeflow::IngestionType::kSnapshot};
  }
  lakeflow::ReadResult do_read_table(const ReadContext& /*context*/) override {
    lakeflow::RecordBatch batch;
    batch.append(R"({"id":1})");
    batch.append(R"({"id":2})");
    return {lakeflow::RecordStream::of(std::move(batch)), lakeflow::Offset::null()};
  }
};

}  // namespace

LAKEFLOW_REGISTER_CONNECTOR(FIXTURE_CONNECTOR, FixedConnector, "Plugin fixture: two fixed records");

LAKEFLOW_PLUGIN_ENTRY_POINT()
