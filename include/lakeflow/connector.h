// The connector interface. A connector reads one data source (a REST API, a database, files) and
// exposes it as tables; the framework converts, lands and checkpoints what it returns.
//
// Two sides
// ---------
// Callers (the pipeline, the CLI, the conformance suite, Spark) use the public methods:
// `list_tables`, `get_table_schema`, `read_table_metadata`, `read_table`, `read_table_deletes`.
// They are not virtual: each checks the protocol once, for every connector, then calls the
// connector's protected hook (`do_list_tables`, `do_get_table_schema`, ...). A connector author
// implements the hooks and never repeats a check the framework makes:
//   * the table name: an unknown table is an UnknownTableError naming the tables served; the hook
//     is not called;
//   * the connection options (when the connector is constructed) and the table options (in every
//     method that takes them) against the connector's connector_spec.yaml
//     (lakeflow/connector_spec.h); options Spark adds are accepted and removed;
//   * the batch limit: the table option `max_records_per_batch` is read once, by the rule below,
//     and handed to the read hooks as `ReadContext::max_records()`;
//   * the read cap: the instant the connector was constructed (or the source's clock, when the
//     connector sets it), handed to the read hooks as `ReadContext::read_cap`.
//
// Protocol
// --------
// * `list_tables()` names every table the connector serves.
// * `get_table_schema()` returns the Spark SQL schema of the table. Prefer LongType over
//   IntegerType and StructType over MapType.
// * Table options: a connector reads the values of its own table options in every hook that takes
//   them (`get_table_schema` and `read_table_metadata` included), so that a pipeline finds a bad
//   value before it reads any table; a bad value is a ConfigError naming the table and the option.
// * `read_table_metadata()` returns primary keys, cursor field and ingestion type. Non-append
//   tables need primary keys; cdc and cdc_with_deletes tables need a cursor field. Both may be
//   dotted paths into structs (`meta.lastUpdated`). See `validate_table_metadata`.
// * `read_table(table, start, options)` returns the records after `start` and the end offset.
//   The framework calls it repeatedly, passing each end offset back as the next start, and stops
//   when the end offset equals the start offset: a connector with nothing new returns `start`
//   unchanged. The first call of the first run gets the empty offset `{}`. Offsets are compared
//   only for equality, never ordered. A snapshot table may return a null end offset to say "the
//   whole table was read in this one call". Reads must terminate: an incremental read returns
//   nothing stamped after `ReadContext::read_cap`, and at most `ReadContext::max_records()`
//   records per call (a connector whose batches are bounded otherwise, e.g. by bytes, may read
//   `max_records_per_batch` itself and have no default limit).
// * Cursors where many records share one value: lakeflow/cursor.h (TieCursor) keeps a position
//   that neither skips nor repeats a record at the boundary of two reads.
// * Records are raw JSON objects exactly as the source gave them (or as the connector built them).
//   A connector never converts values to the schema: the framework does, once.
// * `end` is read by the framework only after `records` is drained.
// * `read_table_deletes()` follows the same protocol for deleted rows of cdc_with_deletes tables;
//   its records carry at least the primary keys and the cursor field.
//
// Batch size (one rule for every connector)
// -----------------------------------------
// `max_records_per_batch` is an integer in [1, kMaxRecordsPerBatchLimit] (1000000); unset, a read
// call returns at most kDefaultMaxRecordsPerBatch (1000) records. A value outside the range is a
// ConfigError naming the table. Every connector lists the option in its spec's
// external_options_allowlist.
//
// Threading: a connector instance is used by one thread at a time. The framework may create
// several instances (one per table read in parallel).
//
// Errors: bad options throw ConfigError from the constructor; source failures throw SourceError;
// all carry a message that says what to do. Secrets never appear in messages.
//
// Optional capabilities (mixins a connector class also derives from)
// ---------------------------------------------------------------------
// * PartitionedReads: the connector splits a read into partitions that are read independently,
//   in parallel, by several connector instances (upstream's SupportsPartition). Callers use
//   plan_partitions() and read_partition(); see PartitionedReads for the protocol.
// * CommitListener: the connector is told, after each commit of a table, the offsets that commit
//   made durable (committed()), e.g. to release what the source keeps for the reader.
// Connectors without them work as before: plan_partitions() returns nullopt and committed() does
// nothing. Both are reached from the public methods below (which check the table and options
// once, as for the other hooks), so adding them changed no virtual table of LakeflowConnect.
//
// Writing a connector (and moving one from the interface with public virtual methods)
// ------------------------------------------------------------------------------------
//   1. Constructor: `: LakeflowConnect(embedded_connector_spec(), options)` after
//      `#include "lakeflow_connector_spec.h"` (generated from connector_spec.yaml by
//      lakeflow_connector() / lakeflow_add_connector()). List every connection option under
//      `connection.parameters` (`secret: true` for secrets) and every table option in
//      `external_options_allowlist`, max_records_per_batch included.
//   2. Rename the overrides and make them protected:
//        list_tables()                           -> do_list_tables()
//        get_table_schema(table, table_options)  -> do_get_table_schema(const TableContext& c)
//        read_table_metadata(table, options)     -> do_read_table_metadata(const TableContext& c)
//        read_table(table, start, options)       -> do_read_table(const ReadContext& c)
//        read_table_deletes(table, start, opts)  -> do_read_table_deletes(const ReadContext& c)
//      and read `c.table`, `c.table_options`, `c.start`.
//   3. Delete every `require_table(table)` call, every loop that rejects unknown table options,
//      and the parsing of max_records_per_batch: use `c.max_records()`. A connector that fixed its
//      own read cap at construction uses `c.read_cap` (or calls set_read_cap() with the source's
//      clock in its constructor). Read connection options from options() (checked, without the
//      options Spark adds) rather than from the constructor's argument.
//   4. LAKEFLOW_REGISTER_CONNECTOR stays as it is (it records embedded_connector_spec()); in a
//      test fixture without a YAML file, define `embedded_connector_spec()` returning a static
//      ConnectorSpec written in code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector_spec.h"
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
  // A top-level string column of the schema that the framework fills with each record's source
  // text (RecordBatch::source) exactly as the connector returned it, e.g. a resource as the server
  // sent it beside its typed columns: the connector neither escapes it into a member nor parses
  // it again. A record that holds a member of that name keeps its value instead (e.g. null for a
  // deletion the connector built). Unset: no such column.
  std::optional<std::string> raw_record_column = std::nullopt;

  friend bool operator==(const TableMetadata&, const TableMetadata&) = default;
};

// Checks `metadata` against the table's schema: non-append tables need primary keys, cdc and
// cdc_with_deletes need a cursor field, and every key and the cursor must resolve in `schema`
// (dotted paths through structs allowed); a raw record column must be a top-level string column.
// Throws SchemaError listing every problem.
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

// The limits of `max_records_per_batch` (see "Batch size" above).
inline constexpr std::int64_t kDefaultMaxRecordsPerBatch = 1000;
inline constexpr std::int64_t kMaxRecordsPerBatchLimit = 1000000;

// Where incremental reads stop: nothing stamped later is read by this connector instance (the next
// instance reads it), so a read terminates while the source keeps changing.
struct ReadCap {
  std::int64_t micros = 0;  // microseconds since the Unix epoch
  std::string text;         // the same instant as the source or the framework wrote it
};

// What the table hooks receive: the table (one of list_tables()) and its options, checked against
// the connector's spec, with the options Spark adds removed.
struct TableContext {
  std::string_view table;
  const Options& table_options;
};

// What the read hooks receive, beside the table: where to start, the batch limit and the cap.
struct ReadContext : TableContext {
  const Offset& start;  // the previous end offset; `{}` on the first call of the first run
  // The table option `max_records_per_batch`, when set (checked: 1..kMaxRecordsPerBatchLimit).
  std::optional<std::int64_t> max_records_per_batch;
  const ReadCap& read_cap;

  // Records one read call may return: max_records_per_batch, or kDefaultMaxRecordsPerBatch.
  std::int64_t max_records() const {
    return max_records_per_batch.value_or(kDefaultMaxRecordsPerBatch);
  }
};

// A read split into partitions (see PartitionedReads).
struct PartitionPlan {
  // Each a JSON object (a descriptor of the connector's own shape: a key range, a byte range, a
  // page range...) that read_partition() reads on its own. Empty when there is nothing to read.
  std::vector<Offset> partitions;
  // Where the table stands once every partition is read: the start of the next read, as a
  // read_table end offset is. Equal to the start when there was nothing new; null for a snapshot
  // table read whole by these partitions.
  Offset end;
};

// What read_partition's hook receives: the table, its options and one partition of a plan.
struct PartitionContext : TableContext {
  const Offset& partition;
};

// What the commit hook receives: the offsets one commit of the table made durable.
struct CommitContext : TableContext {
  const Offset& offset;                         // where the table's next read starts
  const std::optional<Offset>& deletes_offset;  // cdc_with_deletes tables: the deletes stream's
};

// Optional: a connector whose reads can be split derives from LakeflowConnect and from this.
//
// Protocol. For a read from `start` (the same offsets as read_table's), the caller asks for a plan;
//   * nullopt: this read is not partitioned; the caller calls read_table from `start` instead
//     (a connector may partition only some reads, e.g. an initial snapshot);
//   * a plan: the records after `start` up to `plan.end` are exactly the records of the plan's
//     partitions together, each record in one partition (no gap, no overlap); the caller reads
//     every partition (in any order, in parallel, each with any instance of the connector made
//     from the same options) and continues from `plan.end` as after a read_table call. When
//     `plan.end` equals `start` the plan has no partitions: the read converged.
// A partition read again returns the same records (so a caller may read one again). A partition is
// read while the connector instance that planned it lives: a plan may hold resources (an open
// snapshot) that the planning instance keeps until the caller moves on (a plan or read from
// another offset, a commit notification of another offset) or it is destroyed. A partition is
// not bounded by max_records_per_batch: the caller streams it. The caller commits a plan's
// records with `plan.end` in one step, so a plan is what one commit holds: the connector sizes
// plans (e.g. about max_records_per_batch records) so that a merge's memory stays bounded.
class PartitionedReads {
 public:
  virtual ~PartitionedReads();

 protected:
  virtual std::optional<PartitionPlan> do_plan_partitions(const ReadContext& context) = 0;
  virtual RecordStream do_read_partition(const PartitionContext& context) = 0;

 private:
  friend class LakeflowConnect;
};

// Optional: a connector that wants to know what the pipeline committed derives from this too.
// The pipeline calls committed() after each successful commit of a table, on the instance that
// read it, with the offsets the commit recorded (and so a rerun resumes from): a connector may then
// release what the source keeps for positions before them (a replication slot's WAL, a server-side
// cursor, an acknowledgement). Never called for uncommitted offsets; an offset a connector never
// sees committed (another caller that does not notify) must not be released.
class CommitListener {
 public:
  virtual ~CommitListener();

 protected:
  virtual void do_committed(const CommitContext& context) = 0;

 private:
  friend class LakeflowConnect;
};

class LakeflowConnect {
 public:
  // So that connectors outside namespace lakeflow name the hook arguments unqualified.
  using TableContext = ::lakeflow::TableContext;
  using ReadContext = ::lakeflow::ReadContext;

  // Checks `options` against `spec` (ConfigError naming the connector, an unknown option and the
  // accepted ones) and fixes the read cap at the current time. `spec` must outlive the connector
  // (embedded_connector_spec() returns a static).
  LakeflowConnect(const ConnectorSpec& spec, const Options& options);
  virtual ~LakeflowConnect() = default;
  LakeflowConnect(const LakeflowConnect&) = delete;
  LakeflowConnect& operator=(const LakeflowConnect&) = delete;

  std::vector<std::string> list_tables();
  StructType get_table_schema(std::string_view table, const Options& table_options);
  TableMetadata read_table_metadata(std::string_view table, const Options& table_options);
  ReadResult read_table(std::string_view table, const Offset& start, const Options& table_options);
  // Throws NotImplementedError unless the connector implements do_read_table_deletes.
  ReadResult read_table_deletes(std::string_view table, const Offset& start,
                                const Options& table_options);

  // Partitioned reads (PartitionedReads). A plan for the read from `start`, or nullopt when the
  // connector does not partition this read (or does not implement PartitionedReads): then use
  // read_table. Checks the table and its options as read_table does, and the plan: partitions are
  // JSON objects, and a plan whose end equals `start` has none (an Error otherwise).
  std::optional<PartitionPlan> plan_partitions(std::string_view table, const Offset& start,
                                               const Options& table_options);
  // The records of one partition of a plan. Throws NotImplementedError when the connector does
  // not implement PartitionedReads.
  RecordStream read_partition(std::string_view table, const Offset& partition,
                              const Options& table_options);
  // Whether the connector implements PartitionedReads.
  bool reads_partitions();

  // Commit notification (CommitListener): `offset` (and for cdc_with_deletes tables
  // `deletes_offset`) of `table` were committed. Does nothing for other connectors.
  void committed(std::string_view table, const Options& table_options, const Offset& offset,
                 const std::optional<Offset>& deletes_offset);

  // The connection options, checked, without the options Spark adds.
  const Options& options() const { return options_; }
  const ConnectorSpec& spec() const { return spec_; }
  const ReadCap& read_cap() const { return read_cap_; }

 protected:
  virtual std::vector<std::string> do_list_tables() = 0;
  virtual StructType do_get_table_schema(const TableContext& context) = 0;
  virtual TableMetadata do_read_table_metadata(const TableContext& context) = 0;
  virtual ReadResult do_read_table(const ReadContext& context) = 0;
  // Default: throws NotImplementedError. Connectors with cdc_with_deletes tables override it.
  virtual ReadResult do_read_table_deletes(const ReadContext& context);

  // Sets the read cap to `instant` (ISO-8601, e.g. the source's clock read in the constructor),
  // kept as written. Throws SourceError when it is not an instant.
  void set_read_cap(std::string_view instant);

 private:
  // Throws UnknownTableError unless `table` is one of list_tables().
  void check_table(std::string_view table);
  ReadResult read(std::string_view table, const Offset& start, const Options& table_options,
                  bool deletes);

  const ConnectorSpec& spec_;
  Options options_;
  ReadCap read_cap_;
};

}  // namespace lakeflow
