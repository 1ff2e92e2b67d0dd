// Schema-driven conversion of raw JSON records into typed columns.
//
// Each record is parsed once with simdjson's on-demand API, straight into the column builders: no
// DOM, no per-value heap allocation. Conversion rules (docs/DESIGN.md lists where and why they
// depart from upstream's parse_value):
//   * null converts to null for every type; a null or missing non-nullable field is an error.
//   * struct: an object (unknown keys ignored; a repeated key: the last one wins); `{}` is null.
//   * array: an array; a single scalar is wrapped as a one-element array only when the array type
//     has containsNull = true; an object is an error.
//   * map: an object; keys convert to the key type.
//   * string: strings as they are; numbers and booleans as their JSON text; objects and arrays as
//     compact JSON text.
//   * long/integer/short/byte: whole numbers in range, as numbers or strings ("42", 1e3, "4.0");
//     a fractional part, a boolean or out of range for the width is an error (never truncated).
//   * double/float: numbers, numeric strings ("1.5e-3", "NaN", "inf"); a boolean is an error.
//   * decimal(p,s): numbers and numeric strings with their exact digits; more than p digits, or
//     non-zero digits beyond scale s, is an error (nothing is rounded away).
//   * boolean: true/false and the strings "true"/"false" (any case); anything else is an error.
//   * date: YYYY-MM-DD, MM/DD/YYYY, DD-MM-YYYY, YYYY/MM/DD, or an ISO-8601 date-time (its date).
//   * timestamp: ISO-8601 date or date-time with `Z` or a ±HH:MM offset, `T` or space separated,
//     fractional seconds to nanoseconds (truncated to µs), a leap second :60 read as :59.999999;
//     `YYYY/MM/DD HH:MM:SS`; numbers are seconds since the epoch. Always a UTC instant. Without an
//     offset: an error, unless ConversionOptions::timestamp_zone_offset says which zone to assume.
//   * timestamp_ntz: the same forms without an offset, kept as wall-clock time.
//   * binary: base64 (strict, padded), else hex (even length), else the string's UTF-8 bytes;
//     an array of integers 0..255.
//   * variant: any JSON value, kept as compact JSON text; a string is taken as JSON text.
// Every error is a ConversionError naming the table, record index, field path (`name[2].given[0]`),
// the expected type and an excerpt of the value.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "columnar/column_batch.h"
#include "lakeflow/records.h"
#include "lakeflow/types.h"

namespace lakeflow {

enum class BadRecordMode : std::uint8_t {
  kFail,        // the first bad record throws ConversionError
  kQuarantine,  // bad records are set aside with their reason; conversion goes on
};

struct BadRecord {
  std::size_t record_index;  // across every batch this converter has seen
  std::string field_path;
  std::string reason;  // the full ConversionError message
  std::string record;  // the record's raw JSON text
};

// Choices a table makes about how its values read.
struct ConversionOptions {
  // Seconds east of UTC at which a date-time without an offset reads into a timestamp column
  // (the pipeline's table option `timestamp_zone`); unset: such a value is a conversion error.
  std::optional<std::int32_t> timestamp_zone_offset;
  // A top-level string column that holds each record's source text
  // (RecordBatch::source) exactly as the connector returned it, copied without parsing, unless
  // the record holds a member of that name, whose value then converts as any other
  // (TableMetadata::raw_record_column). Throws SchemaError from the constructor when the schema
  // has no such top-level string column.
  std::optional<std::string> raw_record_column = std::nullopt;
};

class RecordConverter {
 public:
  RecordConverter(StructType schema, std::string table, BadRecordMode mode = BadRecordMode::kFail,
                  ConversionOptions options = {});
  ~RecordConverter();
  RecordConverter(RecordConverter&&) noexcept;
  RecordConverter& operator=(RecordConverter&&) noexcept;

  // An empty batch with this converter's schema.
  ColumnBatch make_batch() const;

  // Appends one row per good record of `records` to `out` (made by make_batch()). In kFail mode a
  // bad record throws ConversionError and `out` is restored to what it held before this call. In
  // kQuarantine mode bad records are added to `bad_records()` and skipped; nothing of them is left
  // in `out`. Returns the number of rows appended.
  std::size_t convert(const RecordBatch& records, ColumnBatch& out);
  // The same for records [begin, end) of `records` only: a large batch converts in slices, each
  // written out before the next is converted (bounded memory).
  std::size_t convert(const RecordBatch& records, std::size_t begin, std::size_t end,
                      ColumnBatch& out);

  const std::vector<BadRecord>& bad_records() const { return bad_records_; }
  void clear_bad_records() { bad_records_.clear(); }
  // Records seen so far (good and bad), the base of record indexes in errors.
  std::size_t records_seen() const { return records_seen_; }
  // Counts records from 0 again, for a converter reused for records of another read (building
  // one for a wide schema costs more than converting a few records): later record indexes in
  // errors and bad_records() start over.
  void restart_record_count() { records_seen_ = 0; }

  // The simdjson kernels the converter runs on, e.g. "haswell (stage 1: icelake)": the on-demand
  // kernel compiled in for the CPU baseline, then the structural-indexing kernel chosen at run
  // time.
  static std::string active_kernel();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<BadRecord> bad_records_;
  std::size_t records_seen_ = 0;
};

}  // namespace lakeflow
