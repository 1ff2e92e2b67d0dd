// The connector interface. A connector reads one data source (a REST API, a database, files) and
// exposes it as tables; the framework converts, lands and checkpoints what it returns.
//
// Protocol
// --------
// * `list_tables()` names every table the connector serves.
// * Every other method first checks the table name and throws UnknownTableError for a table it
//   does not serve. Nothing else is done for an unknown table.
// * `get_table_schema()` returns the Spark SQL schema of the table. Prefer LongType over
//   IntegerType and StructType over MapType.
// * Table options: every method that takes them checks them (an unknown name or a bad value is a
//   ConfigError naming the table and the option), `get_table_schema()` and
//   `read_table_metadata()` included, so that a pipeline finds a bad table option before it
//   reads any table.
// * `read_table_metadata()` returns primary keys, cursor field and ingestion type. Non-append
// tables
//   need primary keys; cdc and cdc_with_deletes tables need a cursor field. Both may be dotted
//   paths into structs (`meta.lastUpdated`). See `validate_table_metadata`.
// * `read_table(table, start, options)` returns the records after `start` and the end offset.
//   The framework calls it repeatedly, passing each end offset back as the next start, and stops
//   when the end offset equals the start offset: a connector with nothing new returns `start`
//   unchanged. The first call of the first run gets the empty offset `{}`. Offsets are compared
//   only for equality, never ordered. A snapshot table may return a null end offset to say "the
//   whole table was read in this one call". Reads must terminate: cap incremental reads at the time
//   the connector was constructed, and honour the table option `max_records_per_batch`.
// * Records are raw JSON objects exactly as the source gave them (or as the connector built them).
//   A connector never converts values to the schema: the framework does, once.
// * `end` is read by the framework only after `records` is drained.
// * `read_table_deletes()` follows the same protocol for deleted rows of cdc_with_deletes tables;
//   its records carry at least the primary keys and the cursor field.
//
// Threading: a connector instance is used by one thread at a time. The framework may create
// several instances (one per table read in parallel).
//
// Errors: bad options throw ConfigError from the constructor; source failures throw SourceError;
// all carry a message that says what to do. Secrets never appear in messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/offset.h"
#include "lakeflow/options.h"
#include "lakeflow/records.h"
#include "lakeflow/types.h"
#include "lakeflow/version.h"  // the SDK version and the CPU baseline check

namespace lakeflow {

enum class IngestionType : std::uint8_t {
  kSnapshot,        // every read returns the whole table; keys missing from it were deleted
  kCdc,             // changes after the cursor; upserted by primary key; no deletes
  kCdcWithDeletes,  // as kCdc, plus read_table_deletes
  kAppend,          // new rows only; never updated
};

// "snapshot", "cdc", "cdc_with_deletes", "append".
std::string_view to_string(IngestionType type);
// Throws SchemaError listing the accepted names.
IngestionType parse_ingestion_type(std::string_view name);

struct TableMetadata {
  std::vector<std::string> primary_keys;
  std::optional<std::string> cursor_field;
  IngestionType ingestion_type = IngestionType::kCdc;

  friend bool operator==(const TableMetadata&, const TableMetadata&) = default;
};

// Checks `metadata` against the table's schema: non-append tables need primary keys, cdc and
// cdc_with_deletes need a cursor field, and every key and the cursor must resolve in `schema`
// (dotted paths through structs allowed). Throws SchemaError listing every problem.
void validate_table_metadata(std::string_view table, const TableMetadata& metadata,
                             const StructType& schema);

struct ReadResult {
  RecordStream records;
  Offset end;
  // What a user should know about this read that is not an error, one sentence each naming the
  // table: e.g. that the source offered only offset paging here and what that can cost. The
  // pipeline prints each distinct note in its run summary. Empty for most reads.
  std::vector<std::string> notes = {};
};

class LakeflowConnect {
 public:
  explicit LakeflowConnect(Options options) : options_(std::move(options)) {}
  virtual ~LakeflowConnect() = default;
  LakeflowConnect(const LakeflowConnect&) = delete;
  LakeflowConnect& operator=(const LakeflowConnect&) = delete;

  virtual std::vector<std::string> list_tables() = 0;
  virtual StructType get_table_schema(std::string_view table, const Options& table_options) = 0;
  virtual TableMetadata read_table_metadata(std::string_view table,
                                            const Options& table_options) = 0;
  virtual ReadResult read_table(std::string_view table, const Offset& start,
                                const Options& table_options) = 0;
  // Default: throws NotImplementedError (after checking the table name). Connectors with
  // cdc_with_deletes tables override it.
  virtual ReadResult read_table_deletes(std::string_view table, const Offset& start,
                                        const Options& table_options);

  const Options& options() const { return options_; }

 protected:
  // Throws UnknownTableError unless `table` is one of `list_tables()`.
  void require_table(std::string_view table);

 private:
  Options options_;
};

}  // namespace lakeflow
