// "broken_fixture": a test-only connector for proving the conformance suite fails when it should.
//
// Connector option `defects`: "none" (the connector follows the protocol everywhere; the suite
// must pass) or "all" (every defect below is planted; the suite must report each one).
//
// Tables and their planted defects:
//   customers   cdc        listed twice by list_tables(); field `age` is IntegerType with no
//                          reason (`score` is IntegerType too, allowed with a reason in both
//                          modes); reads ignore max_records_per_batch
//   orders      cdc        declares no cursor field
//   events      append     its offset never converges ({"page": n+1} forever)
//   ledger      append     a fresh connector resuming from {"page": n} re-delivers the last record
//                          of page n-1
//   people      cdc        a null primary key, an all-null record, an unconvertible timestamp and
//                          a column (`nickname`) that is null in every record
//   audit       append     an offset from the future returns every record again
//   inventory   snapshot   two full reads differ (a read counter in every record)
//   empty_feed  cdc        first read returns no records and a null end offset
//   accounts    cdc_with_deletes  deleted records carry no cursor; update_rows does not move the
//                          cursor, so updates are not read incrementally
//   archive     cdc_with_deletes  read_table_deletes is not implemented
//   shipments   cdc        records share cursor values, and its offset holds only the cursor value,
//                          so a batch that ends among records sharing one skips the rest of them
//                          (a whole-table read is right: only small batches show it)
// Partitions (PartitionedReads): the first reads of `orders` and `customers` are planned as
// ranges of records; with defects those of `orders` overlap and `customers` plans its whole table
// again from every offset (so its partitioned read never reaches an empty plan).
// Reads honour the table option max_records_per_batch (2 records a call by default; the whole
// table for shipments).
// Unknown tables: every method throws a plain std::runtime_error instead of UnknownTableError.
// Write-back: accounts (insert, update, delete) and inventory (insert); with defects the deletable
// tables also list `customers`, which is not cdc_with_deletes.
#pragma once

#include <memory>

#include "lakeflow/options.h"
#include "lakeflow/testing/conformance.h"

namespace lakeflow::conformance_fixture {

std::unique_ptr<testing::WriteBackUtils> make_write_back(const Options& options);

}  // namespace lakeflow::conformance_fixture
