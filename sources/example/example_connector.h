// The `example` connector: reads the Example source (example_api.h), the reference every later
// connector copies.
//
// Connection options: `username`, `password` (required, any non-empty values).
// Table options: `max_records_per_batch` (records per read call of an incremental table, 1..100000,
// default 1000) and `page_size` (records per API request, 1..500, default 100); any other name is
// rejected by every method that takes table options.
//
// Tables:
//   users     cdc               key id, cursor updated_at
//   orders    cdc_with_deletes  key id, cursor updated_at; deletes from /v1/orders/deleted
//   events    append            key id, cursor received_at (the store's receive time)
//   products  snapshot          key id; page-number pagination
//
// Offsets. Incremental tables read in (cursor, id) order and their offset is the position of the
// last record returned, `{"cursor": "<timestamp>", "id": <id>}`, so records sharing one timestamp
// are never skipped or read twice when a batch ends between them. `{}` reads from the beginning.
// A read with nothing new returns its start offset unchanged. Every incremental read is capped at
// the source's clock when the connector was constructed (fetched from /v1/time, so the cap and
// the stamps come from one clock): rows written later are read by the next connector instance.
// The products snapshot is read whole in one call that returns its start offset unchanged
// (`{}` → `{}`), which ends the read.
//
// Records are the API's JSON objects as returned: each page body is adopted by a RecordBatch and
// every element of its `data` array is a view into it. Nothing is converted here.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "example_api.h"
#include "lakeflow/connector.h"

namespace lakeflow::example {

class ExampleConnector : public LakeflowConnect {
 public:
  // Throws ConfigError naming a missing `username` or `password`; SourceError when the source
  // cannot be reached.
  explicit ExampleConnector(const Options& options);

  std::vector<std::string> list_tables() override;
  StructType get_table_schema(std::string_view table, const Options& table_options) override;
  TableMetadata read_table_metadata(std::string_view table, const Options& table_options) override;
  ReadResult read_table(std::string_view table, const Offset& start,
                        const Options& table_options) override;
  ReadResult read_table_deletes(std::string_view table, const Offset& start,
                                const Options& table_options) override;

 private:
  struct Position;
  // One read call of a cursor-ordered listing (users, orders, events, deleted orders).
  ReadResult read_after(std::string_view table, std::string_view path,
                        std::string_view cursor_field, const Offset& start,
                        const Options& table_options);
  // The whole products table.
  ReadResult read_snapshot(const Offset& start, const Options& table_options);
  // GET `path`; throws SourceError for any non-2xx status.
  ApiResponse fetch(std::string_view path, const Query& query);
  // Adds every element of the page's `data` array to `batch` as a view; returns the page field
  // `continuation` (`next_cursor` or `next_page`) as text, empty when it is null.
  std::string add_page(std::string_view path, std::string_view body, RecordBatch& batch,
                       std::string_view continuation);
  // The position of one record this connector read.
  Position position_of(std::string_view path, const RecordBatch& batch, std::size_t index,
                       std::string_view cursor_field);

  ExampleApi api_;
  std::string read_until_;  // the source's clock at construction: the cap of incremental reads
  simdjson::ondemand::parser parser_;
};

}  // namespace lakeflow::example
