// The building blocks of the conformance suite (conformance.h), usable on their own in a
// connector's own tests: reading a table until its offset converges, record identities, the
// schema walks and the JSON helpers the suite's checks are made of.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/connector.h"
#include "lakeflow/json.h"
#include "lakeflow/offset.h"
#include "lakeflow/types.h"

namespace lakeflow::testing {

// Problems one test found, reported together in one failure. Each reads
//   table 'orders': <problem> (record: <first 200 characters of the raw JSON>)
// Record problems are capped per table (kMaxRecordProblemsPerTable); the rest are counted.
class ProblemList {
 public:
  static constexpr std::size_t kMaxRecordProblemsPerTable = 10;

  void add(std::string_view table, std::string_view problem);
  // A problem with one record; `record` is its raw JSON text.
  void add_record(std::string_view table, std::string_view problem, std::string_view record);
  // A problem not about one table.
  void add_general(std::string problem);

  bool empty() const { return items_.empty() && suppressed_.empty(); }
  // Every problem, one per line (with the count of record problems left out per table).
  std::vector<std::string> lines() const;
  // "<n> problem(s): ..." followed by every line, for ADD_FAILURE().
  std::string report() const;

 private:
  std::vector<std::string> items_;
  std::map<std::string, std::size_t, std::less<>> record_problems_;
  std::map<std::string, std::size_t, std::less<>> suppressed_;
};

// The first `max_chars` characters of `text` (a record's raw JSON), with line breaks and tabs shown
// as spaces and "..." appended when cut.
std::string excerpt(std::string_view text, std::size_t max_chars = 200);

// "lakeflow::SourceError: <message>" for an exception: its dynamic type and what().
std::string describe_exception(const std::exception& error);
// The same for the exception being handled (call inside a catch block).
std::string describe_current_exception();

// The value at a dotted path (`meta.lastUpdated`) inside a JSON object; nullptr when a step is
// missing or is not an object. A member whose name itself contains dots is found as well.
const JsonValue* find_json_path(const JsonValue& value, std::string_view dotted_path);

// True for null and for an object whose members are all null-like (recursively); `{}` too.
// A record for which this holds carries no data; a column whose value it holds is not populated.
bool is_null_like(const JsonValue& value);

// Field names that appear more than once in one struct, anywhere in `schema` (structs inside
// arrays and maps too): "`name` (twice in `line_items`)". Empty when all are unique.
std::vector<std::string> duplicate_field_names(const StructType& schema);

// An IntegerType or MapType found in a schema.
struct DiscouragedType {
  // Dotted path of the field; arrays and maps are transparent (`line_items.qty` for a field of
  // the structs inside the array `line_items`).
  std::string path;
  // Spark's simple string of the type (`int`, `map<string,string>`).
  std::string type;
};
// Every IntegerType and MapType in `schema` (nested structs, array elements, map keys and values).
std::vector<DiscouragedType> integer_or_map_fields(const StructType& schema);

// `offset` moved far into the future: every string holding an ISO-8601 date-time becomes
// "9999-12-31T23:59:59Z" (a date becomes "9999-12-31") and every integer grows by 10^15 (saturating
// at INT64_MAX), in nested objects and arrays too. nullopt when the offset has neither (or is
// null).
std::optional<Offset> future_offset(const Offset& offset);

// Identifies a record across reads: the canonical JSON array of its primary-key values followed by
// its cursor value (dotted paths; a missing value counts as null) when the table has primary keys,
// otherwise the canonical JSON of the whole record.
std::string record_identity(const JsonValue& record, const TableMetadata& metadata);

// True when every leaf of `row` (a written row: field paths to values, as nested objects or dotted
// keys) is found in `record` at the same path with an equal value. Numbers compare by value and a
// string equals a number or boolean whose JSON text it holds ("17" == 17).
bool row_matches(const JsonValue& row, const JsonValue& record);

// Every record of a stream, as JSON text.
std::vector<std::string> drain(RecordStream& stream);

// One call of a read: its start, the end offset it returned and the records it delivered.
struct ReadCall {
  Offset start;
  Offset end;
  std::vector<std::string> records;
};

enum class ReadOutcome : std::uint8_t {
  kConverged,      // an end offset equal to its start (or a snapshot table's null end offset)
  kNullEndOffset,  // a null end offset from a table that is not snapshot
  kTooManyCalls,   // no convergence within the allowed number of calls
  kThrew,          // the connector threw (calling or draining)
};

// A read from one start offset, call after call, until the end offset equals the start offset (or
// a snapshot table returns a null end offset).
struct ConvergedRead {
  // The calls that returned; a call that threw is not among them.
  std::vector<ReadCall> calls;
  ReadOutcome outcome = ReadOutcome::kConverged;
  // Why the read did not converge, with the offsets involved; empty when it did.
  std::string problem;

  bool converged() const { return outcome == ReadOutcome::kConverged; }

  // The converged end offset (the last call's end); `{}` when no call was made.
  Offset final_offset() const;
  std::size_t record_count() const;
};

enum class ReadKind : std::uint8_t { kTable, kDeletes };

// Calls read_table (or read_table_deletes) from `start`, feeding each end offset back, at most
// `max_calls` times. A null end offset ends the read; it is a problem unless the table is snapshot.
// Exceptions are caught and described in `problem`.
ConvergedRead read_until_converged(LakeflowConnect& connector, std::string_view table,
                                   const Offset& start, const Options& table_options,
                                   IngestionType ingestion_type, int max_calls,
                                   ReadKind kind = ReadKind::kTable);

// "{} -> {"page":1} -> ..." listing the end offsets of `read` (the first and last few when long).
std::string offset_trail(const ConvergedRead& read);

// One step of a partitioned read (PartitionedReads): the plan from `start` and the records of each
// of its partitions; or, when the connector does not plan the step, its read_table call.
struct PartitionedStep {
  Offset start;
  std::optional<PartitionPlan> plan;
  std::vector<std::vector<std::string>> partitions;  // records of plan->partitions[i]
  std::optional<ReadCall> call;                      // the read_table call, without a plan
  Offset end() const { return plan ? plan->end : call->end; }
};

// A read from one start offset as the pipeline makes it with a connector that implements
// PartitionedReads: at each step a plan (its partitions read with `reader`, which may be another
// instance than `planner`) or, without one, a read_table call of `planner`, until the end offset
// equals the start (or is null), at most `max_steps` steps.
struct PartitionedPass {
  std::vector<PartitionedStep> steps;
  ReadOutcome outcome = ReadOutcome::kConverged;
  std::string problem;  // why it did not converge; empty when it did

  bool converged() const { return outcome == ReadOutcome::kConverged; }
  bool planned() const;                      // some step had a plan with partitions
  Offset final_offset() const;               // the last step's end; `{}` when none
  std::vector<std::string> records() const;  // every record, in step and partition order
};

PartitionedPass read_partitioned_until_converged(LakeflowConnect& planner, LakeflowConnect& reader,
                                                 std::string_view table, const Offset& start,
                                                 const Options& table_options,
                                                 IngestionType ingestion_type, int max_steps);

// A batch limit (the table option max_records_per_batch) for reading a table again in small
// batches, chosen from the records of a read at the default limit.
struct SmallBatchPlan {
  std::size_t limit = 0;
  // Runs of consecutive records sharing one cursor value (two or more records each), and how many
  // of them the batches of `limit` records cut: where a connector whose offset holds only the
  // cursor value skips or repeats records.
  std::size_t tied_runs = 0;
  std::size_t split_runs = 0;
};

// The plan for `record_count` records whose cursor values, in read order, are `cursor_values`
// (each value's canonical JSON; empty when the table has no cursor field): among the limits from
// the smallest that keeps the read within `max_batches` batches upwards, the one that cuts the
// most tied runs (the smallest of equals), always below the record count so that the read takes
// at least two batches. nullopt for fewer than two records.
std::optional<SmallBatchPlan> plan_small_batches(std::size_t record_count,
                                                 const std::vector<std::string>& cursor_values,
                                                 std::size_t max_batches);

}  // namespace lakeflow::testing
