// The conformance suite against a real PostgreSQL 15 server this test process starts (with
// write-back through SQL). Schemas `public` (cdc_with_deletes tables) and `extra` (a view and a
// table without a key: snapshot tables, keyed through the table option primary_keys in
// configs/dev_table_config.json).
#include <memory>

#include "lakeflow/testing/conformance.h"
#include "postgres_test_db.h"
#include "postgres_write_back.h"

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "postgres",
    .source_dir = LAKEFLOW_SOURCE_DIR,
    .connector_options =
        [] {
          lakeflow::Options options = lakeflow::postgres::testing::test_options();
          options.set("schemas", "public,extra");
          return options;
        },
    .write_back =
        [](const lakeflow::Options& options) -> std::unique_ptr<lakeflow::testing::WriteBackUtils> {
      return std::make_unique<lakeflow::postgres::testing::PostgresWriteBack>(options);
    }});
