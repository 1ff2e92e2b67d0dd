#include "columnar/record_converter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "lakeflow/error.h"

namespace lakeflow {
namespace {

using ::testing::HasSubstr;

RecordBatch batch_of(const std::vector<std::string>& records) {
  RecordBatch batch;
  for (const std::string& r : records) batch.append(r);
  return batch;
}

// Converts `records` and returns each row as JSON, one per line.
std::string convert_rows(const StructType& schema, const std::vector<std::string>& records) {
  RecordConverter converter(schema, "t");
  ColumnBatch out = converter.make_batch();
  converter.convert(batch_of(records), out);
  std::string rows;
  for (std::size_t i = 0; i < out.num_rows(); ++i) rows += out.row_json(i) + "\n";
  return rows;
}

std::string convert_one(const DataType& type, const std::string& value_json, bool nullable = true) {
  StructType schema{StructField("v", type, nullable)};
  return convert_rows(schema, {"{\"v\":" + value_json + "}"});
}

ConversionError conversion_error(const StructType& schema,
                                 const std::vector<std::string>& records) {
  RecordConverter converter(schema, "patients");
  ColumnBatch out = converter.make_batch();
  try {
    converter.convert(batch_of(records), out);
  } catch (const ConversionError& e) {
    EXPECT_EQ(out.num_rows(), 0u) << "a failed convert leaves nothing behind";
    return e;
  }
  ADD_FAILURE() << "expected a ConversionError";
  return ConversionError("", 0, "", "", "", "");
}

std::string error_of(const DataType& type, const std::string& value_json) {
  return conversion_error(StructType{StructField("v", type)}, {"{\"v\":" + value_json + "}"})
      .what();
}

TEST(RecordConverter, ActiveKernelIsNotTheSlowFallback) {
  EXPECT_THAT(RecordConverter::active_kernel(), ::testing::Not(::testing::StartsWith("fallback")));
}

TEST(RecordConverter, ConvertsFlatRecord) {
  StructType schema{StructField("id", DataType::Long(), false),
                    StructField("name", DataType::String()),
                    StructField("active", DataType::Boolean())};
  EXPECT_EQ(
      convert_rows(schema,
                   {R"({"id": 1, "name": "Ann", "active": true})", R"({"name": "Bob", "id": 2})"}),
      "{\"id\":1,\"name\":\"Ann\",\"active\":true}\n{\"id\":2,\"name\":\"Bob\",\"active\":null}\n");
}

TEST(RecordConverter, RawRecordColumnHoldsEachRecordsSourceTextExactly) {
  const StructType schema{StructField("id", DataType::String()),
                          StructField("seen", DataType::Timestamp()),
                          StructField("raw", DataType::String())};
  ConversionOptions options;
  options.raw_record_column = "raw";
  RecordConverter converter(schema, "t", BadRecordMode::kFail, options);
  ColumnBatch out = converter.make_batch();
  RecordBatch records;
  // Whitespace, escapes and number forms stay as the source wrote them.
  const std::string source = "{\"id\": \"a\\\"\\u00e9\\/\" , \"n\" : 1.50E+2 }";
  records.append_with_members(source, R"("seen":"2024-01-01T00:00:00Z")");
  records.append(R"({"id":"b","raw":null})");  // a record naming the column keeps its value
  records.append(R"({"id":"c"})");             // a record is its own source
  converter.convert(records, out);
  ASSERT_EQ(out.num_rows(), 3u);
  const Column& raw = out.column(2);
  EXPECT_EQ(raw.string_value(0), source);
  EXPECT_FALSE(raw.is_valid(1));
  EXPECT_EQ(raw.string_value(2), R"({"id":"c"})");
  EXPECT_EQ(out.column(0).string_value(0), "a\"\u00e9/");  // the other columns convert as usual
  EXPECT_TRUE(out.column(1).is_valid(0));
}

// The raw record column is sized for the batch's record text before the records convert (one
// allocation, no copies as it grows): its buffer holds exactly that text, rounded up to the
// buffer's 64-byte alignment, where growing by doubling from 256 bytes would hold 8 KiB.
TEST(RecordConverter, RawRecordColumnIsSizedForTheBatchTextAtOnce) {
  const StructType schema{StructField("id", DataType::Long()),
                          StructField("raw", DataType::String())};
  ConversionOptions options;
  options.raw_record_column = "raw";
  RecordConverter converter(schema, "t", BadRecordMode::kFail, options);
  ColumnBatch out = converter.make_batch();
  std::vector<std::string> texts;
  std::size_t bytes = 0;
  for (int i = 0; i < 3; ++i) {
    texts.push_back("{\"id\":" + std::to_string(i) + ",\"note\":\"" +
                    std::string(1500 + 100 * i, 'x') + "\"}");
    bytes += texts.back().size();
  }
  converter.convert(batch_of(texts), out);
  ASSERT_EQ(out.num_rows(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(out.column(1).string_value(i), texts[i]);
  EXPECT_EQ(out.root().child(1).string_data().capacity(), (bytes + 63) / 64 * 64);

  // The next read's batch, larger, in the emptied batch: sized again, at once.
  out.clear();
  texts.push_back("{\"id\":9,\"note\":\"" + std::string(3000, 'y') + "\"}");
  bytes += texts.back().size();
  converter.convert(batch_of(texts), out);
  ASSERT_EQ(out.num_rows(), 4u);
  EXPECT_EQ(out.column(1).string_value(3), texts[3]);
  EXPECT_EQ(out.root().child(1).string_data().capacity(), (bytes + 63) / 64 * 64);
}

TEST(RecordConverter, RawRecordColumnMustBeATopLevelStringColumn) {
  const StructType schema{StructField("id", DataType::Long()),
                          StructField("s", StructType{StructField("raw", DataType::String())})};
  for (const char* column : {"id", "raw", "missing", "s"}) {
    ConversionOptions options;
    options.raw_record_column = column;
    EXPECT_THROW(RecordConverter(schema, "t", BadRecordMode::kFail, options), SchemaError)
        << column;
  }
}

TEST(RecordConverter, UnknownFieldsAreIgnored) {
  StructType schema{StructField("id", DataType::Long())};
  EXPECT_EQ(convert_rows(schema, {R"({"x": {"deep": [1,2]}, "id": 7, "y": "z"})"}), "{\"id\":7}\n");
}

// Keys are matched to fields by their raw bytes, the field that followed the previous key last
// time first: names of every length the comparison reads differently (1-3, 4-8, 9-16, longer),
// names one byte apart, a name that is the prefix of another, and keys in a different order in
// each record (and unknown keys one byte away from a field's name, ignored) must each land in
// their own field.
TEST(RecordConverter, KeysMatchTheirOwnFieldWhateverTheLengthAndOrder) {
  std::vector<std::string> names;
  for (std::size_t length : {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 30, 70}) {
    std::string name;
    for (std::size_t i = 0; i < length; ++i) name.push_back(static_cast<char>('a' + i % 26));
    names.push_back(name);
    std::string twin = name;
    twin[length / 2] = 'Z';
    names.push_back(twin);
  }
  names.push_back("code");
  names.push_back("codes");
  std::vector<StructField> fields;
  for (const std::string& name : names) fields.emplace_back(name, DataType::String());
  const StructType schema(std::move(fields));

  std::vector<std::string> records;
  std::uint32_t state = 7;
  for (int r = 0; r < 40; ++r) {
    std::vector<std::size_t> order(names.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (r % 4 == 1) std::reverse(order.begin(), order.end());
    if (r % 4 >= 2) {
      for (std::size_t i = order.size(); i > 1; --i) {
        state = state * 1103515245u + 12345u;
        std::swap(order[i - 1], order[(state >> 8) % i]);
      }
    }
    std::string record = "{";
    for (std::size_t i : order) {
      if (r % 3 == 0 && i % 5 == 0) continue;  // some fields absent
      std::string unknown = names[i];
      unknown.back() = '!';  // a key one byte away from a field's name
      record += "\"" + unknown + "\":\"x\",";
      record += "\"" + names[i] + "\":\"" + names[i] + "#" + std::to_string(r) + "\",";
    }
    record.back() = '}';
    records.push_back(record);
  }
  RecordConverter converter(schema, "t");
  ColumnBatch out = converter.make_batch();
  ASSERT_EQ(converter.convert(batch_of(records), out), records.size());
  for (std::size_t r = 0; r < records.size(); ++r) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      const Column& column = out.column(i);
      if (r % 3 == 0 && i % 5 == 0) {
        EXPECT_FALSE(column.is_valid(r)) << names[i] << " of record " << r;
        continue;
      }
      ASSERT_TRUE(column.is_valid(r)) << names[i] << " of record " << r;
      EXPECT_EQ(column.string_value(r), names[i] + "#" + std::to_string(r))
          << names[i] << " of record " << r;
    }
  }
}

TEST(RecordConverter, RepeatedKeyLastWins) {
  StructType schema{StructField("id", DataType::Long()),
                    StructField("tags", DataType::Array(DataType::String()))};
  EXPECT_EQ(convert_rows(schema, {R"({"tags": ["a"], "id": 1, "id": 2, "tags": ["b","c"]})"}),
            "{\"id\":2,\"tags\":[\"b\",\"c\"]}\n");
}

TEST(RecordConverter, EscapedKeysMatchFields) {
  StructType schema{StructField("name", DataType::String())};
  EXPECT_EQ(convert_rows(schema, {R"({"na\u006de": "x"})"}), "{\"name\":\"x\"}\n");
}

TEST(RecordConverter, NestedStructsListsAndMaps) {
  StructType name{StructField("family", DataType::String()),
                  StructField("given", DataType::Array(DataType::String()))};
  StructType schema{StructField("name", DataType::Array(name)),
                    StructField("attrs", DataType::Map(DataType::String(), DataType::Long())),
                    StructField("meta", StructType{StructField("versionId", DataType::String())})};
  EXPECT_EQ(
      convert_rows(schema,
                   {R"({"name":[{"family":"Chalmers","given":["Peter","James"]},{"given":"Jim"}],
                              "attrs":{"a":1,"b":null},"meta":{"versionId":"1"}})",
                    R"({"name":[],"attrs":{},"meta":{}})"}),
      "{\"name\":[{\"family\":\"Chalmers\",\"given\":[\"Peter\",\"James\"]},{\"family\":null,"
      "\"given\":[\"Jim\"]}],\"attrs\":{\"a\":1,\"b\":null},\"meta\":{\"versionId\":\"1\"}}\n"
      "{\"name\":[],\"attrs\":{},\"meta\":null}\n");
}

TEST(RecordConverter, EmptyObjectIsANullStruct) {
  StructType inner{StructField("a", DataType::Long(), false)};
  EXPECT_EQ(convert_one(inner, "{}"), "{\"v\":null}\n");
  EXPECT_THAT(conversion_error(StructType{StructField("v", inner, false)}, {"{\"v\":{}}"}).what(),
              HasSubstr("empty object stands for null"));
}

TEST(RecordConverter, ScalarWrapsIntoArrayOnlyWhenContainsNull) {
  EXPECT_EQ(convert_one(DataType::Array(DataType::Long()), "5"), "{\"v\":[5]}\n");
  EXPECT_THAT(error_of(DataType::Array(DataType::Long(), false), "5"),
              HasSubstr("expected an array"));
  EXPECT_THAT(error_of(DataType::Array(DataType::Long(), false), "[1,null]"), HasSubstr("v[1]"));
}

TEST(RecordConverter, StringsFromEveryJsonKind) {
  EXPECT_EQ(convert_one(DataType::String(), R"("h\u00e9llo \"q\"")"),
            "{\"v\":\"h\xc3\xa9llo \\\"q\\\"\"}\n");
  EXPECT_EQ(convert_one(DataType::String(), "3.140"), "{\"v\":\"3.140\"}\n");
  EXPECT_EQ(convert_one(DataType::String(), "true"), "{\"v\":\"true\"}\n");
  EXPECT_EQ(convert_one(DataType::String(), "{ \"a\" : [1, 2] ,\"b\":\"x y\"}"),
            "{\"v\":\"{\\\"a\\\":[1,2],\\\"b\\\":\\\"x y\\\"}\"}\n");
  EXPECT_EQ(convert_one(DataType::String(), "[ 1 , {\"k\" : null} ]"),
            "{\"v\":\"[1,{\\\"k\\\":null}]\"}\n");
}

TEST(RecordConverter, IntegersAreWholeNumbersInRangeNeverTruncated) {
  EXPECT_EQ(convert_one(DataType::Long(), "9223372036854775807"), "{\"v\":9223372036854775807}\n");
  EXPECT_EQ(convert_one(DataType::Long(), "\" 42 \""), "{\"v\":42}\n");
  EXPECT_EQ(convert_one(DataType::Long(), "1e3"), "{\"v\":1000}\n");
  EXPECT_EQ(convert_one(DataType::Long(), "4.0"), "{\"v\":4}\n");
  EXPECT_EQ(convert_one(DataType::Long(), "\"1e5\""), "{\"v\":100000}\n");
  EXPECT_EQ(convert_one(DataType::Long(), "-9223372036854775808.000"),
            "{\"v\":-9223372036854775808}\n");
  // Each of these landed truncated or counted before; each is a bad record now.
  for (const char* fractional : {"1.5", "-1.5", "\"1.5\"", "1e-7", "2147483648.7", "-3.9"}) {
    EXPECT_THAT(error_of(DataType::Long(), fractional), HasSubstr("fractional part")) << fractional;
  }
  EXPECT_THAT(error_of(DataType::Integer(), "2147483648.7"), HasSubstr("fractional part"));
  EXPECT_THAT(error_of(DataType::Long(), "true"), HasSubstr("got a boolean"));
  EXPECT_THAT(error_of(DataType::Long(), "18446744073709551616"), HasSubstr("out of range"));
  EXPECT_EQ(convert_one(DataType::Integer(), "-2147483648"), "{\"v\":-2147483648}\n");
  EXPECT_EQ(convert_one(DataType::Short(), "32767"), "{\"v\":32767}\n");
  EXPECT_EQ(convert_one(DataType::Byte(), "-128"), "{\"v\":-128}\n");
  EXPECT_THAT(error_of(DataType::Long(), "9223372036854775808"), HasSubstr("out of range"));
  EXPECT_THAT(error_of(DataType::Integer(), "2147483648"), HasSubstr("out of range for int"));
  EXPECT_THAT(error_of(DataType::Short(), "40000"), HasSubstr("out of range for smallint"));
  EXPECT_THAT(error_of(DataType::Byte(), "300"), HasSubstr("out of range for tinyint"));
  EXPECT_THAT(error_of(DataType::Byte(), "\"300\""), HasSubstr("out of range"));
  EXPECT_THAT(error_of(DataType::Long(), "\"12abc\""), HasSubstr("not an integer"));
  EXPECT_THAT(error_of(DataType::Long(), "\"\""), HasSubstr("empty string"));
  EXPECT_THAT(error_of(DataType::Long(), "1e300"), HasSubstr("out of range"));
  EXPECT_THAT(error_of(DataType::Long(), "[1]"), HasSubstr("got an array"));
}

TEST(RecordConverter, DoublesAndFloats) {
  EXPECT_EQ(convert_one(DataType::Double(), "1.5"), "{\"v\":1.5}\n");
  EXPECT_EQ(convert_one(DataType::Double(), "\"1.5e-3\""), "{\"v\":0.0015}\n");
  EXPECT_EQ(convert_one(DataType::Double(), "7"), "{\"v\":7.0}\n");
  EXPECT_EQ(convert_one(DataType::Float(), "0.5"), "{\"v\":0.5}\n");
  EXPECT_THAT(error_of(DataType::Float(), "1e300"), HasSubstr("overflows float"));
  EXPECT_THAT(error_of(DataType::Double(), "true"), HasSubstr("got a boolean"));
  EXPECT_THAT(error_of(DataType::Double(), "\"abc\""), HasSubstr("not a number"));
}

TEST(RecordConverter, DecimalsKeepExactDigits) {
  DataType d = DataType::Decimal(10, 2);
  EXPECT_EQ(convert_one(d, "12.5"), "{\"v\":\"12.50\"}\n");
  EXPECT_EQ(convert_one(d, "-0.01"), "{\"v\":\"-0.01\"}\n");
  EXPECT_EQ(convert_one(d, "\"99999999.99\""), "{\"v\":\"99999999.99\"}\n");
  EXPECT_EQ(convert_one(d, "1.2300"), "{\"v\":\"1.23\"}\n");
  EXPECT_EQ(convert_one(d, "1E+3"), "{\"v\":\"1000.00\"}\n");
  EXPECT_EQ(convert_one(DataType::Decimal(38, 18), "0.123456789012345678"),
            "{\"v\":\"0.123456789012345678\"}\n");
  EXPECT_EQ(convert_one(DataType::Decimal(38, 0), "99999999999999999999999999999999999999"),
            "{\"v\":\"99999999999999999999999999999999999999\"}\n");
  EXPECT_THAT(error_of(d, "1.234"), HasSubstr("more digits after the decimal point"));
  EXPECT_THAT(error_of(d, "100000000"), HasSubstr("more digits than the precision"));
  EXPECT_THAT(error_of(d, "\"abc\""), HasSubstr("not a decimal"));
  EXPECT_THAT(error_of(d, "true"), HasSubstr("got a boolean"));
}

// Valid JSON that simdjson cannot represent as a number or string lands where the column keeps the
// text, and is an error of that record alone where it would have to be represented.
TEST(RecordConverter, ValuesBeyondSimdjsonKeepTheirTextOrFailTheirRecordAlone) {
  EXPECT_EQ(convert_one(DataType::String(), "18446744073709551616"),
            "{\"v\":\"18446744073709551616\"}\n");
  EXPECT_EQ(convert_one(DataType::String(), "1e309"), "{\"v\":\"1e309\"}\n");
  EXPECT_EQ(convert_one(DataType::Decimal(38, 0), "18446744073709551616"),
            "{\"v\":\"18446744073709551616\"}\n");
  EXPECT_THAT(error_of(DataType::Long(), "18446744073709551616"), HasSubstr("out of range"));
  EXPECT_THAT(error_of(DataType::Double(), "1e309"), HasSubstr("out of range"));
  EXPECT_THAT(error_of(DataType::String(), R"("\ud800")"), HasSubstr("lone UTF-16 surrogate"));
  const std::string deep = std::string(3000, '[') + std::string(3000, ']');
  EXPECT_EQ(convert_one(DataType::Variant(), deep), "{\"v\":" + deep + "}\n");

  const StructType schema{StructField("id", DataType::String()),
                          StructField("n", DataType::Long())};
  RecordConverter converter(schema, "t", BadRecordMode::kQuarantine);
  ColumnBatch out = converter.make_batch();
  converter.convert(batch_of({R"({"id":"a","n":1})", R"({"id":"b","n":18446744073709551616})",
                              R"({"id":"\ud800","n":2})", R"({"id":"c","deep":)" + deep + "}"}),
                    out);
  ASSERT_EQ(out.num_rows(), 2u);
  EXPECT_EQ(out.row_json(1), R"({"id":"c","n":null})");
  ASSERT_EQ(converter.bad_records().size(), 2u);
  EXPECT_EQ(converter.bad_records()[0].field_path, "n");
  EXPECT_EQ(converter.bad_records()[1].field_path, "id");
}

TEST(RecordConverter, BooleansAreTrueAndFalseOnly) {
  EXPECT_EQ(convert_one(DataType::Boolean(), "false"), "{\"v\":false}\n");
  EXPECT_EQ(convert_one(DataType::Boolean(), "true"), "{\"v\":true}\n");
  EXPECT_EQ(convert_one(DataType::Boolean(), "\"True\""), "{\"v\":true}\n");
  EXPECT_EQ(convert_one(DataType::Boolean(), "\"false\""), "{\"v\":false}\n");
  for (const char* guess : {"\"yes\"", "\"1\"", "\"t\"", "\"maybe\"", "\"\""}) {
    EXPECT_THAT(error_of(DataType::Boolean(), guess), HasSubstr("not a boolean")) << guess;
  }
  EXPECT_THAT(error_of(DataType::Boolean(), "1"), HasSubstr("got a number"));
  EXPECT_THAT(error_of(DataType::Boolean(), "0"), HasSubstr("got a number"));
}

TEST(RecordConverter, AnObjectIsNotWrappedIntoAnArray) {
  const DataType names = DataType::Array(StructType{StructField("family", DataType::String())});
  EXPECT_THAT(error_of(names, R"({"family":"Chalmers"})"), HasSubstr("expected an array"));
  EXPECT_EQ(convert_one(names, R"([{"family":"Chalmers"}])"),
            "{\"v\":[{\"family\":\"Chalmers\"}]}\n");
}

TEST(RecordConverter, Dates) {
  EXPECT_EQ(convert_one(DataType::Date(), "\"2024-02-29\""), "{\"v\":\"2024-02-29\"}\n");
  EXPECT_EQ(convert_one(DataType::Date(), "\"03/15/2024\""), "{\"v\":\"2024-03-15\"}\n");
  EXPECT_EQ(convert_one(DataType::Date(), "\"15-03-2024\""), "{\"v\":\"2024-03-15\"}\n");
  EXPECT_EQ(convert_one(DataType::Date(), "\"2024/3/5\""), "{\"v\":\"2024-03-05\"}\n");
  EXPECT_EQ(convert_one(DataType::Date(), "\"1969-12-31T23:00:00-05:00\""),
            "{\"v\":\"1969-12-31\"}\n");
  EXPECT_EQ(convert_one(DataType::Date(), "\"0001-01-01\""), "{\"v\":\"0001-01-01\"}\n");
  EXPECT_THAT(error_of(DataType::Date(), "\"2023-02-29\""), HasSubstr("no such calendar date"));
  EXPECT_THAT(error_of(DataType::Date(), "20240101"), HasSubstr("got a number"));
}

TEST(RecordConverter, TimestampsAreUtcInstants) {
  DataType ts = DataType::Timestamp();
  EXPECT_EQ(convert_one(ts, "\"2024-05-01T10:20:30Z\""),
            "{\"v\":\"2024-05-01T10:20:30.000000Z\"}\n");
  EXPECT_EQ(convert_one(ts, "\"2024-05-01T10:20:30.123456789+02:00\""),
            "{\"v\":\"2024-05-01T08:20:30.123456Z\"}\n");
  EXPECT_EQ(convert_one(ts, "\"2024-05-01 10:20:30.5-0130\""),
            "{\"v\":\"2024-05-01T11:50:30.500000Z\"}\n");
  // A leap second stays in its minute: the last microsecond before the next one.
  EXPECT_EQ(convert_one(ts, "\"2016-12-31T23:59:60Z\""),
            "{\"v\":\"2016-12-31T23:59:59.999999Z\"}\n");
  EXPECT_EQ(convert_one(ts, "\"2017-01-01T00:59:60.5+01:00\""),
            "{\"v\":\"2016-12-31T23:59:59.999999Z\"}\n");
  // Without an offset, an instant is not known.
  for (const char* zone_less :
       {"\"2012-03-04T05:06:07\"", "\"2024-05-01\"", "\"2024/05/01 10:20:30\""}) {
    EXPECT_THAT(error_of(ts, zone_less), HasSubstr("timestamp_zone")) << zone_less;
  }
  EXPECT_EQ(convert_one(ts, "0"), "{\"v\":\"1970-01-01T00:00:00.000000Z\"}\n");
  EXPECT_EQ(convert_one(ts, "1700000000.25"), "{\"v\":\"2023-11-14T22:13:20.250000Z\"}\n");
  EXPECT_EQ(convert_one(ts, "\"1900-01-01T00:00:00Z\""),
            "{\"v\":\"1900-01-01T00:00:00.000000Z\"}\n");
  EXPECT_THAT(error_of(ts, "\"2024-05-01T25:00:00Z\""), HasSubstr("out of range"));
  EXPECT_THAT(error_of(ts, "\"2024-05\""), HasSubstr("ISO-8601"));
  EXPECT_THAT(error_of(ts, "\"2024-05-01T10:20:30.1234567890Z\""), HasSubstr("9 digits"));
}

TEST(RecordConverter, ATableZoneReadsZoneLessDateTimes) {
  const StructType schema{StructField("v", DataType::Timestamp())};
  RecordConverter converter(schema, "t", BadRecordMode::kFail, ConversionOptions{-5 * 3600});
  ColumnBatch out = converter.make_batch();
  converter.convert(batch_of({R"({"v":"2012-03-04T05:06:07"})", R"({"v":"2012-03-04T05:06:07Z"})"}),
                    out);
  EXPECT_EQ(out.row_json(0), R"({"v":"2012-03-04T10:06:07.000000Z"})");
  EXPECT_EQ(out.row_json(1), R"({"v":"2012-03-04T05:06:07.000000Z"})");
}

TEST(RecordConverter, TimestampNtzKeepsWallClockAndRejectsOffsets) {
  EXPECT_EQ(convert_one(DataType::TimestampNtz(), "\"2024-05-01T10:20:30.25\""),
            "{\"v\":\"2024-05-01T10:20:30.250000\"}\n");
  EXPECT_THAT(error_of(DataType::TimestampNtz(), "\"2024-05-01T10:20:30Z\""),
              HasSubstr("UTC offset"));
}

TEST(RecordConverter, BinaryDecodesBase64ThenHexThenText) {
  EXPECT_EQ(convert_one(DataType::Binary(), "\"SGVsbG8gV29ybGQ=\""),
            "{\"v\":\"SGVsbG8gV29ybGQ=\"}\n");
  EXPECT_EQ(convert_one(DataType::Binary(), "\"48656c6c6f2\""), "{\"v\":\"NDg2NTZjNmM2ZjI=\"}\n");
  EXPECT_EQ(convert_one(DataType::Binary(), "\"48656c6c6f\""), "{\"v\":\"SGVsbG8=\"}\n");
  EXPECT_EQ(convert_one(DataType::Binary(), "\"plain text!\""), "{\"v\":\"cGxhaW4gdGV4dCE=\"}\n");
  EXPECT_EQ(convert_one(DataType::Binary(), "[72, 105]"), "{\"v\":\"SGk=\"}\n");
  EXPECT_THAT(error_of(DataType::Binary(), "[72, 300]"), HasSubstr("v[1]"));
}

TEST(RecordConverter, VariantKeepsCompactJson) {
  EXPECT_EQ(convert_one(DataType::Variant(), "{ \"a\" : [ 1, 2 ] }"), "{\"v\":{\"a\":[1,2]}}\n");
  EXPECT_EQ(convert_one(DataType::Variant(), "\"{\\\"b\\\": true}\""), "{\"v\":{\"b\":true}}\n");
  EXPECT_EQ(convert_one(DataType::Variant(), "12.50"), "{\"v\":12.50}\n");
  EXPECT_THAT(error_of(DataType::Variant(), "\"{not json\""), HasSubstr("not valid JSON"));
}

TEST(RecordConverter, MapKeysConvertToKeyType) {
  EXPECT_EQ(convert_one(DataType::Map(DataType::Long(), DataType::String()),
                        "{\"1\":\"a\",\"20\":\"b\"}"),
            "{\"v\":{\"1\":\"a\",\"20\":\"b\"}}\n");
  EXPECT_THAT(error_of(DataType::Map(DataType::Long(), DataType::String()), "{\"x\":\"a\"}"),
              HasSubstr("map key"));
  EXPECT_THAT(error_of(DataType::Map(DataType::String(), DataType::Long(), false), "{\"x\":null}"),
              HasSubstr("v[x]"));
}

TEST(RecordConverter, NullsAndMissingFieldsRespectNullability) {
  StructType schema{StructField("id", DataType::Long(), false),
                    StructField("x", DataType::String())};
  EXPECT_EQ(convert_rows(schema, {R"({"id": 1, "x": null})"}), "{\"id\":1,\"x\":null}\n");
  EXPECT_THAT(conversion_error(schema, {R"({"x": "a"})"}).what(),
              HasSubstr("required field is missing"));
  EXPECT_THAT(conversion_error(schema, {R"({"id": null})"}).what(), HasSubstr("not nullable"));
}

TEST(RecordConverter, ErrorNamesTableRecordPathTypeAndExcerpt) {
  StructType name{StructField("given", DataType::Array(DataType::Long()))};
  StructType schema{StructField("name", DataType::Array(name))};
  ConversionError e = conversion_error(
      schema, {R"({"name":[]})", R"({"name":[{"given":[1]},{},{"given":[2, 3, "three"]}]})"});
  EXPECT_EQ(e.table(), "patients");
  EXPECT_EQ(e.record_index(), 1u);
  EXPECT_EQ(e.field_path(), "name[2].given[2]");
  EXPECT_EQ(e.expected_type(), "bigint");
  EXPECT_EQ(e.excerpt(), "three");
  EXPECT_THAT(e.what(), HasSubstr("patients"));
  EXPECT_THAT(e.what(), HasSubstr("name[2].given[2]"));
}

TEST(RecordConverter, ExcerptIsShortened) {
  std::string long_text(500, 'x');
  ConversionError e = conversion_error(StructType{StructField("v", DataType::Long())},
                                       {"{\"v\":\"" + long_text + "\"}"});
  EXPECT_LE(e.excerpt().size(), 64u);
}

TEST(RecordConverter, RejectsRecordsThatAreNotObjectsOrInvalidJson) {
  StructType schema{StructField("id", DataType::Long())};
  EXPECT_THAT(conversion_error(schema, {"[1,2]"}).what(), HasSubstr("must be a JSON object"));
  const ConversionError broken = conversion_error(schema, {"{\"id\": 1"});
  EXPECT_THAT(broken.what(), HasSubstr("invalid JSON"));
  // No type was expected of text that is not JSON: the message says only what is wrong.
  EXPECT_EQ(broken.expected_type(), "");
  EXPECT_THAT(broken.what(), ::testing::Not(HasSubstr("expected")));
  EXPECT_THAT(conversion_error(schema, {"{\"id\": 1} {\"id\": 2}"}).what(),
              HasSubstr("unexpected text"));
}

TEST(RecordConverter, FailModeRestoresTheBatch) {
  StructType schema{StructField("id", DataType::Long()),
                    StructField("tags", DataType::Array(DataType::String()))};
  RecordConverter converter(schema, "t");
  ColumnBatch out = converter.make_batch();
  converter.convert(batch_of({R"({"id":1,"tags":["a"]})"}), out);
  EXPECT_THROW(converter.convert(batch_of({R"({"id":2,"tags":["b"]})", R"({"id":"x"})"}), out),
               ConversionError);
  ASSERT_EQ(out.num_rows(), 1u);
  EXPECT_EQ(out.column(1).child(0).length(), 1u);
  converter.convert(batch_of({R"({"id":3,"tags":["c","d"]})"}), out);
  EXPECT_EQ(out.row_json(1), "{\"id\":3,\"tags\":[\"c\",\"d\"]}");
}

TEST(RecordConverter, QuarantineSetsBadRecordsAsideAndGoesOn) {
  StructType inner{StructField("a", DataType::Long()), StructField("b", DataType::String())};
  StructType schema{StructField("id", DataType::Long()),
                    StructField("items", DataType::Array(inner))};
  RecordConverter converter(schema, "orders", BadRecordMode::kQuarantine);
  ColumnBatch out = converter.make_batch();
  std::size_t n = converter.convert(batch_of({R"({"id":1,"items":[{"a":1,"b":"x"}]})",
                                              R"({"id":2,"items":[{"a":2,"b":"y"},{"a":"bad"}]})",
                                              R"({"id":3,"items":[{"a":3}]})"}),
                                    out);
  EXPECT_EQ(n, 2u);
  ASSERT_EQ(out.num_rows(), 2u);
  EXPECT_EQ(out.row_json(1), "{\"id\":3,\"items\":[{\"a\":3,\"b\":null}]}");
  ASSERT_EQ(converter.bad_records().size(), 1u);
  EXPECT_EQ(converter.bad_records()[0].record_index, 1u);
  EXPECT_EQ(converter.bad_records()[0].field_path, "items[1].a");
  EXPECT_THAT(converter.bad_records()[0].record, HasSubstr("\"bad\""));
  EXPECT_EQ(converter.records_seen(), 3u);
}

TEST(RecordConverter, ConvertsRecordsAdoptedWithoutCopy) {
  StructType schema{StructField("id", DataType::Long())};
  RecordBatch batch;
  std::string_view body = batch.adopt(R"([{"id":1},{"id":2}])");
  batch.append_view(body.substr(1, 8));
  batch.append_view(body.substr(10, 8));
  RecordConverter converter(schema, "t");
  ColumnBatch out = converter.make_batch();
  converter.convert(batch, out);
  ASSERT_EQ(out.num_rows(), 2u);
  EXPECT_EQ(out.row_json(1), "{\"id\":2}");
}

}  // namespace
}  // namespace lakeflow
