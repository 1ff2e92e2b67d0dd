// The `example` connector: reads the Example source (example_api.h), the reference every later
// connector copies.
//
// Connection options: `username`, `password` (required, any non-empty values); `base_url`
// (optional): where the Example API is served, by default the server this process starts for it on
// 127.0.0.1 (example_server.h). The connector reaches the source only through the HTTP toolkit
// (lakeflow/http/): an HttpClient with Basic auth, retries and JSON body checks, keyset pagination
// over the (cursor, id) offset, PageReader over the products' page numbers. Nothing in it is
// specific to the source living in this process.
// Table options: `max_records_per_batch` (records per read call of an incremental table: the SDK's
// batch rule, lakeflow/connector.h) and `page_size` (records per API request, 1..500, default 100).
// connector_spec.yaml lists them; the framework rejects any other option.
//
// Tables:
//   users     cdc               key id, cursor updated_at
//   orders    cdc_with_deletes  key id, cursor updated_at; deletes from /v1/orders/deleted
//   events    append            key id, cursor received_at (the store's receive time)
//   products  snapshot          key id; page-number pagination
//
// Offsets. Incremental tables read in (cursor, id) order and their offset is the SDK's cursor with
// ties (lakeflow/cursor.h): the last cursor value returned and the ids returned at that value,
// `{"cursor": "<timestamp>", "ids": ["<id>", ...]}`, so records sharing one timestamp are never
// skipped or read twice when a batch ends between them; the next read asks for records after
// (cursor, greatest of those ids). The offset `{"cursor": "<timestamp>", "id": <id>}` that earlier
// versions wrote is read as the same position. `{}` reads from the beginning. A read with nothing
// new returns its start offset unchanged. Every incremental read is capped at the source's clock
// when the connector was constructed (fetched from /v1/time and made the read cap, so the cap and
// the stamps come from one clock): rows written later are read by the next connector instance.
// The products snapshot is read whole in one call that returns its start offset unchanged
// (`{}` → `{}`), which ends the read.
//
// Records are the API's JSON objects as returned: each page body is adopted by a RecordBatch and
// every element of its `data` array is a view into it (RecordBatch::append_json_array). Nothing is
// converted here.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"
#include "lakeflow/http/client.h"

namespace lakeflow::example {

class ExampleConnector : public LakeflowConnect {
 public:
  // Throws ConfigError naming a missing `username` or `password`; SourceError when the source
  // cannot be reached.
  explicit ExampleConnector(const Options& options);

 protected:
  std::vector<std::string> do_list_tables() override;
  StructType do_get_table_schema(const TableContext& context) override;
  TableMetadata do_read_table_metadata(const TableContext& context) override;
  ReadResult do_read_table(const ReadContext& context) override;
  ReadResult do_read_table_deletes(const ReadContext& context) override;

 private:
  // One read call of a cursor-ordered listing (users, orders, events, deleted orders).
  ReadResult read_after(const ReadContext& context, std::string_view path,
                        std::string_view cursor_field);
  // The whole products table.
  ReadResult read_snapshot(const ReadContext& context);
  // GETs `url` (JSON checked, retried as the toolkit retries). Throws http::HttpError (a
  // SourceError) for a failed request, with a hint naming this connector's options.
  http::Response fetch(std::string url);
  // A batch holding the page: the body adopted, each element of its `data` array a view into it.
  RecordBatch page_of(http::Response response);

  std::string base_url_;  // option base_url, else the embedded server's (example_server.h)
  std::shared_ptr<http::HttpClient> client_;
};

}  // namespace lakeflow::example
