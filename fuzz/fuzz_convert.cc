// Fuzzes the record converter: the input is one JSON record, converted against a fixed schema that
// nests every Spark type. A ConversionError is an expected outcome; anything else that goes wrong
// (a crash, a sanitizer report, another exception, a broken invariant below) is a finding.
//
// Invariants checked per input:
//   * kFail mode: success appends exactly one row; a ConversionError leaves the batch empty.
//   * kQuarantine mode agrees with kFail: the batch [good, input, good] yields 3 rows when the
//     input converts and 2 rows plus one BadRecord (index 1, the input's text) when it does not;
//     the good rows are intact around it.
//   * Every column is self-consistent (child lengths, monotonic offsets within their buffers).
//   * The batch renders as JSON and exports through the Arrow C Data Interface and releases.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "columnar/arrow_c_data.h"
#include "columnar/column_batch.h"
#include "columnar/record_converter.h"
#include "fuzz_support.h"
#include "lakeflow/error.h"
#include "lakeflow/records.h"
#include "lakeflow/types.h"

namespace {

using lakeflow::DataType;
using lakeflow::StructField;
using lakeflow::StructType;
using lakeflow::fuzz::fail;

StructType fuzz_schema() {
  StructType name{
      {"use", DataType::String()},
      {"given", DataType::Array(DataType::String())},
      {"period", StructType{{"start", DataType::Timestamp()}, {"end", DataType::Date()}}},
  };
  StructType point{{"x", DataType::Double()}, {"y", DataType::Double(), false}};
  return StructType{
      {"id", DataType::Long(), false},
      {"i32", DataType::Integer()},
      {"i16", DataType::Short()},
      {"i8", DataType::Byte()},
      {"f64", DataType::Double()},
      {"f32", DataType::Float()},
      {"money", DataType::Decimal(10, 2)},
      {"exact", DataType::Decimal(38, 18)},
      {"whole", DataType::Decimal(38, 0)},
      {"s", DataType::String()},
      {"flag", DataType::Boolean()},
      {"day", DataType::Date()},
      {"at", DataType::Timestamp()},
      {"wall", DataType::TimestampNtz()},
      {"blob", DataType::Binary()},
      {"any", DataType::Variant()},
      {"longs", DataType::Array(DataType::Long())},
      {"strict", DataType::Array(DataType::Integer(), /*contains_null=*/false)},
      {"matrix", DataType::Array(DataType::Array(DataType::Float()))},
      {"tags", DataType::Map(DataType::String(), DataType::String())},
      {"by_day", DataType::Map(DataType::Date(), DataType::Array(DataType::Timestamp()), false)},
      {"codes", DataType::Map(DataType::Integer(), DataType::Decimal(5, 1))},
      {"name", DataType::Array(name)},
      {"points", DataType::Map(DataType::String(), point)},
      {"required", StructType{{"key", DataType::String(), false}, {"n", DataType::Byte()}}},
      {"not_null", DataType::Boolean(), false},
  };
}

// Materializes `batch` (its buffers then cover every row, as a reader that takes whole buffers sees
// them) and checks it.
void check_batch(lakeflow::ColumnBatch& batch, std::size_t rows, std::string_view input) {
  batch.materialize();
  if (batch.num_rows() != rows) fail("unexpected row count", input);
  lakeflow::fuzz::check_column(batch.root(), "record " + std::string(input));
}

void export_and_release(lakeflow::ColumnBatch& batch, std::string_view input) {
  ArrowSchema schema{};
  ArrowArray array{};
  std::size_t rows = batch.num_rows();
  batch.export_to(&schema, &array);
  if (array.length != static_cast<std::int64_t>(rows)) fail("exported length differs", input);
  if (batch.num_rows() != 0) fail("batch not empty after export", input);
  if (schema.release == nullptr || array.release == nullptr) fail("export without release", input);
  array.release(&array);
  schema.release(&schema);
}

constexpr std::string_view kGood = R"({"id":7,"not_null":false,"name":[{"given":["a"]}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const StructType schema = fuzz_schema();
  // Reused across inputs (cleared each time): a batch's arena chunks are large and zeroed when
  // allocated, which would otherwise dominate the run time.
  static lakeflow::RecordBatch records;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  // kFail: one record, alone.
  bool converts = true;
  std::string row;
  {
    lakeflow::RecordConverter converter(schema, "fuzz");
    lakeflow::ColumnBatch out = converter.make_batch();
    records.clear();
    records.append(input);
    try {
      if (converter.convert(records, out) != 1) fail("convert did not report one row", input);
    } catch (const lakeflow::ConversionError& e) {
      converts = false;
      if (e.record_index() != 0) fail("wrong record index in ConversionError", e.what());
      if (e.table() != "fuzz") fail("wrong table in ConversionError", e.what());
    }
    check_batch(out, converts ? 1 : 0, input);
    if (converts) row = out.row_json(0);
    export_and_release(out, input);
  }

  // kQuarantine: the input between two good records.
  lakeflow::RecordConverter converter(schema, "fuzz", lakeflow::BadRecordMode::kQuarantine);
  lakeflow::ColumnBatch out = converter.make_batch();
  records.clear();
  records.append(kGood);
  records.append(input);
  records.append(kGood);
  std::size_t rows = converter.convert(records, out);
  std::size_t expected = converts ? 3 : 2;
  if (rows != expected) fail("quarantine mode disagrees with fail mode on row count", input);
  check_batch(out, expected, input);
  if (converts) {
    if (!converter.bad_records().empty()) fail("quarantined a record fail mode accepted", input);
    if (out.row_json(1) != row) fail("the same record converts differently in a batch", input);
  } else {
    if (converter.bad_records().size() != 1) fail("expected exactly one bad record", input);
    const lakeflow::BadRecord& bad = converter.bad_records().front();
    if (bad.record_index != 1) fail("bad record has the wrong index", bad.reason);
    if (bad.record != input) fail("bad record text differs from the input", bad.reason);
    if (bad.reason.empty()) fail("bad record without a reason", input);
  }
  std::string first = out.row_json(0);
  if (out.row_json(expected - 1) != first) fail("good records around the input differ", input);
  if (converter.records_seen() != 3) fail("records_seen is not 3", input);
  export_and_release(out, input);
  return 0;
}
