#include "parquet/thrift_compact.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "lakeflow/error.h"
#include "parquet/parquet_format.h"

namespace lakeflow::parquet {
namespace {

using ::testing::HasSubstr;

std::string hex(const std::string& bytes) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

ThriftCompactReader reader_of(const std::string& bytes) {
  return ThriftCompactReader(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(),
                             "test data");
}

TEST(ThriftCompact, WritesFieldHeadersAsDeltasOrFullIds) {
  std::string out;
  ThriftCompactWriter w(out);
  w.begin_struct();
  w.field_i32(1, 3);         // delta 1: 0x15, zigzag(3) = 6
  w.field_i64(3, -1);        // delta 2: 0x26, zigzag(-1) = 1
  w.field_bool(4, true);     // delta 1, type 1
  w.field_bool(5, false);    // delta 1, type 2
  w.field_binary(40, "ab");  // delta 35: type byte 0x08, then zigzag(40) = 80
  w.field_i16(41, 300);      // zigzag(300) = 600 = 0xd8 0x04
  w.end_struct();
  EXPECT_EQ(hex(out), "15 06 26 01 11 12 08 50 02 61 62 14 d8 04 00");
}

TEST(ThriftCompact, WritesListHeadersShortAndLong) {
  std::string out;
  ThriftCompactWriter w(out);
  w.begin_struct();
  w.field_list(1, ThriftType::kI32, 2);
  w.element_i32(1);
  w.element_i32(-1);
  w.field_list(2, ThriftType::kBinary, 15);
  for (int i = 0; i < 15; ++i) w.element_binary("");
  w.end_struct();
  EXPECT_EQ(hex(out), "19 25 02 01 19 f8 0f 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
}

TEST(ThriftCompact, NestedStructsRestartFieldIds) {
  std::string out;
  ThriftCompactWriter w(out);
  w.begin_struct();
  w.field_i32(5, 1);
  w.field_struct(6);
  w.field_i32(1, 2);  // delta from 0 inside the nested struct
  w.end_struct();
  w.field_i32(7, 3);  // delta from 6 outside it
  w.end_struct();
  EXPECT_EQ(hex(out), "55 02 1c 15 04 00 15 06 00");
}

TEST(ThriftCompact, TheStringHoldsExactlyWhatWasWrittenOutsideStructs) {
  std::string out = "head";
  {
    ThriftCompactWriter w(out);
    w.begin_struct();
    w.field_binary(1, std::string(3000, 'x'));  // more than the string's first growth
    w.end_struct();
    EXPECT_EQ(out.size(), 4u + 1 + 2 + 3000 + 1);
    out += "mid";  // bytes appended between two structs stay where they are
    w.begin_struct();
    w.field_i32(1, 1);
    w.end_struct();
    EXPECT_EQ(hex(out.substr(out.size() - 6)), "6d 69 64 15 02 00");
    w.begin_struct();
    w.field_i32(1, 1);  // the writer goes away with this struct open
  }
  EXPECT_EQ(hex(out.substr(out.size() - 5)), "15 02 00 15 02");
  EXPECT_EQ(out.substr(0, 4), "head");
  EXPECT_EQ(out.size(), 4u + 1 + 2 + 3000 + 1 + 3 + 3 + 2);
}

TEST(ThriftCompact, ReadsWhatItWrites) {
  std::string out;
  ThriftCompactWriter w(out);
  w.begin_struct();
  w.field_i32(1, -123456);
  w.field_i64(2, INT64_MIN);
  w.field_binary(3, std::string("\0x", 2));
  w.field_bool(4, true);
  w.field_i8(5, -7);
  w.field_list(100, ThriftType::kStruct, 20);
  for (int i = 0; i < 20; ++i) {
    w.begin_struct();
    w.field_i32(1, i);
    w.end_struct();
  }
  w.end_struct();

  ThriftCompactReader r = reader_of(out);
  r.begin_struct();
  std::int16_t id;
  ThriftType type;
  ASSERT_TRUE(r.next_field(id, type));
  EXPECT_EQ(id, 1);
  EXPECT_EQ(r.read_i32(), -123456);
  ASSERT_TRUE(r.next_field(id, type));
  EXPECT_EQ(r.read_i64(), INT64_MIN);
  ASSERT_TRUE(r.next_field(id, type));
  EXPECT_EQ(r.read_binary(), std::string_view("\0x", 2));
  ASSERT_TRUE(r.next_field(id, type));
  EXPECT_TRUE(r.read_bool(type));
  ASSERT_TRUE(r.next_field(id, type));
  EXPECT_EQ(r.read_i8(), -7);
  ASSERT_TRUE(r.next_field(id, type));
  EXPECT_EQ(id, 100);
  ThriftType element;
  std::size_t size;
  r.read_list_header(element, size);
  EXPECT_EQ(element, ThriftType::kStruct);
  ASSERT_EQ(size, 20u);
  for (std::size_t i = 0; i < size; ++i) {
    r.begin_struct();
    ASSERT_TRUE(r.next_field(id, type));
    EXPECT_EQ(r.read_i32(), static_cast<std::int32_t>(i));
    EXPECT_FALSE(r.next_field(id, type));
    r.end_struct();
  }
  EXPECT_FALSE(r.next_field(id, type));
  r.end_struct();
  EXPECT_EQ(r.position(), out.size());
}

TEST(ThriftCompact, SkipsUnknownFieldsOfEveryType) {
  // A struct with a double, a map, a set of bools and a nested struct, then the field we want.
  std::string out;
  ThriftCompactWriter w(out);
  w.begin_struct();
  w.field_i32(1, 1);
  w.end_struct();
  std::string data;
  data += static_cast<char>(0x17);  // field 1: double
  data += std::string(8, '\x01');
  data += static_cast<char>(0x1b);  // field 2: map
  data += static_cast<char>(0x02);  // 2 entries
  data += static_cast<char>(0x85);  // binary -> i32
  data +=
      "\x01"
      "a"
      "\x02"
      "\x01"
      "b"
      "\x04";
  data += static_cast<char>(0x1a);  // field 3: set
  data += static_cast<char>(0x21);  // 2 bools
  data += "\x01\x02";
  data += static_cast<char>(0x1c);  // field 4: struct
  data += out;                      // {1: 1}
  data += static_cast<char>(0x15);  // field 5: i32
  data += static_cast<char>(0x54);  // 42
  data += '\0';
  ThriftCompactReader r = reader_of(data);
  r.begin_struct();
  std::int16_t id;
  ThriftType type;
  while (r.next_field(id, type)) {
    if (id == 5) {
      EXPECT_EQ(r.read_i32(), 42);
    } else {
      r.skip(type);
    }
  }
  r.end_struct();
  EXPECT_EQ(r.position(), data.size());
}

TEST(ThriftCompact, RejectsTruncatedAndMalformedInput) {
  auto fails = [](const std::string& data) {
    try {
      ThriftCompactReader r = reader_of(data);
      r.skip(ThriftType::kStruct);
      return std::string();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kData);
      return std::string(e.what());
    }
  };
  EXPECT_THAT(fails(""), HasSubstr("test data is corrupt"));
  EXPECT_THAT(fails("\x18\x7f"), HasSubstr("longer than the data"));  // binary of 127 bytes
  EXPECT_THAT(fails("\x15\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), HasSubstr("varint"));
  EXPECT_THAT(fails("\x19\xf5\xff\xff\xff\x0f"), HasSubstr("list longer"));  // huge list
  EXPECT_THAT(fails("\x1d"), HasSubstr("unknown type"));
  std::string deep(200, '\x1c');  // structs nested 200 deep
  EXPECT_THAT(fails(deep), HasSubstr("nested too deeply"));
}

TEST(ParquetFormat, FileMetadataRoundTrips) {
  FileMetaData m;
  m.version = 1;
  SchemaElement root;
  root.name = "spark_schema";
  root.num_children = 2;
  SchemaElement ts;
  ts.name = "ts";
  ts.type = PhysicalType::kInt64;
  ts.repetition = Repetition::kOptional;
  ts.converted_type = ConvertedType::kTimestampMicros;
  ts.logical_type.kind = LogicalType::Kind::kTimestamp;
  ts.logical_type.adjusted_to_utc = true;
  ts.logical_type.unit = TimeUnit::kMicros;
  SchemaElement dec;
  dec.name = "amount";
  dec.type = PhysicalType::kFixedLenByteArray;
  dec.type_length = 16;
  dec.repetition = Repetition::kRequired;
  dec.converted_type = ConvertedType::kDecimal;
  dec.scale = 10;
  dec.precision = 38;
  dec.logical_type.kind = LogicalType::Kind::kDecimal;
  dec.logical_type.scale = 10;
  dec.logical_type.precision = 38;
  m.schema = {root, ts, dec};
  m.num_rows = 5;
  RowGroup g;
  g.num_rows = 5;
  g.total_byte_size = 100;
  g.ordinal = 0;
  ColumnChunk c;
  ColumnMetaData cm;
  cm.type = PhysicalType::kInt64;
  cm.encodings = {Encoding::kPlain, Encoding::kRle};
  cm.path_in_schema = {"ts"};
  cm.codec = CompressionCodec::kZstd;
  cm.num_values = 5;
  cm.total_compressed_size = 50;
  cm.total_uncompressed_size = 60;
  cm.data_page_offset = 4;
  Statistics st;
  st.null_count = 1;
  st.min_value = std::string(8, '\0');
  st.max_value = std::string(8, '\x7f');
  cm.statistics = st;
  cm.encoding_stats = {{PageType::kDataPage, Encoding::kPlain, 1}};
  c.meta_data = cm;
  g.columns = {c, c};
  m.row_groups = {g};
  m.created_by = "lakeflow-cpp test";
  m.key_value_metadata = {{"k", "v"}, {"only-key", std::nullopt}};
  m.column_orders_type_defined = {true, true};

  std::string bytes;
  append_file_metadata(bytes, m);
  FileMetaData back =
      parse_file_metadata(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "x");
  ASSERT_EQ(back.schema.size(), 3u);
  EXPECT_EQ(back.schema[0].num_children, 2);
  EXPECT_FALSE(back.schema[0].repetition.has_value());
  EXPECT_EQ(back.schema[1].logical_type.kind, LogicalType::Kind::kTimestamp);
  EXPECT_TRUE(back.schema[1].logical_type.adjusted_to_utc);
  EXPECT_EQ(back.schema[1].logical_type.unit, TimeUnit::kMicros);
  EXPECT_EQ(back.schema[2].type_length, 16);
  EXPECT_EQ(back.schema[2].logical_type.precision, 38);
  EXPECT_EQ(back.schema[2].logical_type.scale, 10);
  EXPECT_EQ(back.num_rows, 5);
  ASSERT_EQ(back.row_groups.size(), 1u);
  ASSERT_EQ(back.row_groups[0].columns.size(), 2u);
  const ColumnMetaData& bm = *back.row_groups[0].columns[1].meta_data;
  EXPECT_EQ(bm.codec, CompressionCodec::kZstd);
  EXPECT_EQ(bm.path_in_schema, std::vector<std::string>{"ts"});
  EXPECT_EQ(bm.statistics->null_count, 1);
  EXPECT_EQ(bm.statistics->max_value, std::string(8, '\x7f'));
  EXPECT_EQ(bm.encoding_stats.size(), 1u);
  EXPECT_EQ(back.row_groups[0].ordinal, 0);
  EXPECT_EQ(back.created_by, "lakeflow-cpp test");
  ASSERT_EQ(back.key_value_metadata.size(), 2u);
  EXPECT_FALSE(back.key_value_metadata[1].value.has_value());
  EXPECT_EQ(back.column_orders_type_defined, (std::vector<bool>{true, true}));
}

// A column chunk whose path is named by reference (the writer's plan holds it) is written with the
// same bytes as one holding its own copy.
TEST(ParquetFormat, AColumnPathByReferenceIsWrittenAsItsOwn) {
  const std::vector<std::string> path = {"code", "coding", "list", "element", "system"};
  auto metadata = [](ColumnMetaData cm) {
    FileMetaData m;
    SchemaElement root;
    root.name = "spark_schema";
    root.num_children = 0;
    m.schema = {root};
    RowGroup g;
    ColumnChunk c;
    cm.type = PhysicalType::kByteArray;
    cm.codec = CompressionCodec::kZstd;
    cm.num_values = 3;
    c.meta_data = std::move(cm);
    g.columns.push_back(std::move(c));
    m.row_groups.push_back(std::move(g));
    std::string bytes;
    append_file_metadata(bytes, m);
    return bytes;
  };
  ColumnMetaData owned;
  owned.path_in_schema = path;
  ColumnMetaData by_reference;
  by_reference.path_in_schema_ref = &path;
  const std::string bytes = metadata(by_reference);
  EXPECT_EQ(bytes, metadata(owned));
  FileMetaData back =
      parse_file_metadata(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "x");
  EXPECT_EQ(back.row_groups.at(0).columns.at(0).meta_data->path_in_schema, path);
}

TEST(ParquetFormat, PageHeadersRoundTrip) {
  PageHeader h;
  h.type = PageType::kDataPage;
  h.uncompressed_page_size = 1 << 20;
  h.compressed_page_size = 12345;
  h.data_page_header =
      DataPageHeader{1000, Encoding::kRleDictionary, Encoding::kRle, Encoding::kRle};
  std::string bytes;
  append_page_header(bytes, h);
  bytes += "page data follows";
  std::size_t size = 0;
  PageHeader back = parse_page_header(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                      bytes.size(), "x", size);
  EXPECT_EQ(bytes.substr(size), "page data follows");
  EXPECT_EQ(back.uncompressed_page_size, 1 << 20);
  EXPECT_EQ(back.compressed_page_size, 12345);
  ASSERT_TRUE(back.data_page_header.has_value());
  EXPECT_EQ(back.data_page_header->num_values, 1000);
  EXPECT_EQ(back.data_page_header->encoding, Encoding::kRleDictionary);

  PageHeader d;
  d.type = PageType::kDictionaryPage;
  d.dictionary_page_header = DictionaryPageHeader{7, Encoding::kPlain, true};
  bytes.clear();
  append_page_header(bytes, d);
  back = parse_page_header(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "x",
                           size);
  EXPECT_EQ(size, bytes.size());
  ASSERT_TRUE(back.dictionary_page_header.has_value());
  EXPECT_EQ(back.dictionary_page_header->num_values, 7);
  EXPECT_EQ(back.dictionary_page_header->is_sorted, true);
}

}  // namespace
}  // namespace lakeflow::parquet
