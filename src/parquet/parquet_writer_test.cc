#include "parquet/parquet_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "parquet/parquet_format.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_test_util.h"

namespace lakeflow::parquet {
namespace {

using testing::batch_from_json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::rows_json;
using testing::TempDir;

using testing::read_rows;
using testing::write_file;

class CompressionTest : public ::testing::TestWithParam<Compression> {};

TEST_P(CompressionTest, EveryPrimitiveTypeRoundTrips) {
  TempDir dir;
  StructType schema = testing::every_type_schema();
  ColumnBatch batch = batch_from_json(schema, testing::all_types_rows());
  ParquetWriterOptions options;
  options.compression = GetParam();
  std::string path = dir.file("all.parquet");
  ParquetFileStats stats = write_file(path, batch, options);
  EXPECT_EQ(stats.num_records, 4);
  EXPECT_EQ(stats.size_bytes, std::filesystem::file_size(path));
  EXPECT_EQ(read_rows(path, schema), rows_json(batch));

  ParquetReader reader(path);
  CompressionCodec expected = GetParam() == Compression::kZstd ? CompressionCodec::kZstd
                              : GetParam() == Compression::kSnappy
                                  ? CompressionCodec::kSnappy
                                  : CompressionCodec::kUncompressed;
  for (const ColumnChunk& c : reader.metadata().row_groups.at(0).columns) {
    EXPECT_EQ(c.meta_data->codec, expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressionTest,
                         ::testing::Values(Compression::kNone, Compression::kSnappy,
                                           Compression::kZstd));

TEST(ParquetWriter, WritesHandExpectedValues) {
  // Independent of row_json's own formatting of the input: the values as literals.
  TempDir dir;
  StructType schema = testing::every_type_schema();
  ColumnBatch batch = batch_from_json(schema, testing::all_types_rows());
  std::string path = dir.file("all.parquet");
  write_file(path, batch);
  ColumnBatch back = ParquetReader(path).read(schema);
  ASSERT_EQ(back.num_rows(), 4u);
  EXPECT_EQ(back.column(0).values<std::int64_t>()[1], INT64_MIN);
  EXPECT_EQ(back.column(3).values<std::int8_t>()[1], -128);
  EXPECT_EQ(back.column(5).values<float>()[0], 0.1f);
  EXPECT_EQ(back.column(9).values<Int128>()[3], 1);  // 0.0000000001 at scale 10
  EXPECT_EQ(back.column(11).string_value(0), std::string_view("\x00\x01\x02\xff", 4));
  EXPECT_EQ(back.column(13).values<std::int32_t>()[0], 19782);  // 2024-02-29
  EXPECT_EQ(back.column(14).values<std::int64_t>()[1], -1);
  EXPECT_EQ(back.column(16).string_value(0), R"({"a":[1,2,{"b":null}],"c":"x"})");
  for (std::size_t c = 0; c < back.num_columns(); ++c) {
    EXPECT_FALSE(back.column(c).is_valid(2)) << "column " << c;
  }
  EXPECT_EQ(back.row_json(3),
            R"({"l":0,"i":0,"s":0,"b":0,"d":0.0,"f":1.0000000116860974e-07,"dec9":"0.01",)"
            R"("dec18":"0.0000","dec20":"1","dec38":"0.0000000001","str":"z","bin":"//79",)"
            R"("bool":true,"date":"1970-01-01","ts":"2000-01-01T00:00:00.000000Z",)"
            R"("ntz":"9999-12-31T23:59:59.999999","v":null})");
}

TEST(ParquetWriter, NestedListsOfStructsOfMapsRoundTripWithNullsAtEveryLevel) {
  TempDir dir;
  StructType schema = testing::nested_schema();
  ColumnBatch batch = batch_from_json(schema, testing::nested_rows());
  std::string path = dir.file("nested.parquet");
  write_file(path, batch);
  EXPECT_EQ(read_rows(path, schema), rows_json(batch));
  EXPECT_EQ(read_rows(path, schema)[3],
            R"({"id":4,"tags":[null],"meta":{"version":1,"inner":{"ts":null,"codes":[]}},)"
            R"("scores":{"-5":-0.25},"matrix":[[]]})");
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writers that share one plan (as the files of a table do) write exactly the files writers of
// their own write, whatever they wrote before and whichever other writer is open at once.
TEST(ParquetWriter, WritersSharingAPlanWriteTheBytesFreshWritersWrite) {
  TempDir dir;
  const StructType schema = testing::nested_schema();
  const std::vector<std::string> all = testing::nested_rows();
  const auto plan = std::make_shared<const ParquetWriterPlan>(schema);
  ParquetWriterOptions options;
  options.sync = false;
  // Batches of every size down to one row, each starting at a different row, so that columns null
  // for a whole file in one are valid in another (and the other way round).
  for (std::size_t rows = all.size(); rows >= 1; --rows) {
    const std::size_t start = (all.size() - rows) % all.size();
    std::vector<std::string> part(all.begin() + static_cast<std::ptrdiff_t>(start),
                                  all.begin() + static_cast<std::ptrdiff_t>(start + rows));
    const ColumnBatch batch = batch_from_json(schema, part);
    const std::string shared = dir.file("shared-" + std::to_string(rows) + ".parquet");
    const std::string other = dir.file("other-" + std::to_string(rows) + ".parquet");
    const std::string fresh = dir.file("fresh-" + std::to_string(rows) + ".parquet");
    ParquetWriter first(shared, plan, options);
    ParquetWriter second(other, plan, options);  // open at the same time, written in between
    first.write(batch);
    second.write(batch_from_json(schema, {all.front()}));
    first.write(batch);
    const ParquetFileStats stats = first.close();
    second.close();
    {
      ParquetWriter own(fresh, schema, options);
      own.write(batch);
      own.write(batch);
      const ParquetFileStats own_stats = own.close();
      ASSERT_EQ(stats.columns.size(), own_stats.columns.size());
      for (std::size_t c = 0; c < stats.columns.size(); ++c) {
        EXPECT_EQ(stats.columns[c].null_count, own_stats.columns[c].null_count) << rows << " " << c;
        EXPECT_EQ(stats.columns[c].min, own_stats.columns[c].min) << rows << " " << c;
        EXPECT_EQ(stats.columns[c].max, own_stats.columns[c].max) << rows << " " << c;
      }
    }
    EXPECT_EQ(file_bytes(shared), file_bytes(fresh)) << rows << " rows";
    EXPECT_EQ(read_rows(other, schema), rows_json(batch_from_json(schema, {all.front()})));
  }
}

TEST(ParquetWriter, NestedSchemaHasThreeLevelListsAndMapsWithLevels) {
  TempDir dir;
  StructType schema = testing::nested_schema();
  std::string path = dir.file("nested.parquet");
  write_file(path, batch_from_json(schema, testing::nested_rows()));
  ParquetReader reader(path);
  const auto& columns = reader.metadata().row_groups.at(0).columns;
  std::vector<std::string> paths;
  for (const ColumnChunk& c : columns) {
    std::string p;
    for (const std::string& part : c.meta_data->path_in_schema) p += (p.empty() ? "" : ".") + part;
    paths.push_back(p);
  }
  EXPECT_THAT(paths,
              ElementsAre("id", "tags.list.element.name", "tags.list.element.attrs.key_value.key",
                          "tags.list.element.attrs.key_value.value.list.element", "meta.version",
                          "meta.inner.ts", "meta.inner.codes.list.element", "scores.key_value.key",
                          "scores.key_value.value", "matrix.list.element.list.element"));
  const auto& schema_elements = reader.metadata().schema;
  EXPECT_EQ(schema_elements[0].name, "spark_schema");
  EXPECT_EQ(schema_elements[1].repetition, Repetition::kRequired);  // id is not nullable
  EXPECT_EQ(schema_elements[2].name, "tags");
  EXPECT_EQ(schema_elements[2].converted_type, ConvertedType::kList);
  EXPECT_EQ(schema_elements[3].name, "list");
  EXPECT_EQ(schema_elements[3].repetition, Repetition::kRepeated);
  EXPECT_EQ(schema_elements[4].name, "element");
  EXPECT_EQ(reader.schema(), schema);
}

TEST(ParquetWriter, NonNullableFieldsAreRequired) {
  TempDir dir;
  StructType schema{
      {"id", DataType::Long(), false},
      {"s", StructType{{"a", DataType::String(), false}, {"b", DataType::Integer()}}, false},
      {"arr", DataType::Array(DataType::Integer(), false), false},
      {"map", DataType::Map(DataType::String(), DataType::Date(), false), false},
  };
  ColumnBatch batch = batch_from_json(
      schema, {R"({"id":1,"s":{"a":"x","b":null},"arr":[1,2],"map":{"k":"2020-01-01"}})",
               R"({"id":2,"s":{"a":"","b":3},"arr":[],"map":{}})"});
  std::string path = dir.file("required.parquet");
  write_file(path, batch);
  EXPECT_EQ(read_rows(path, schema), rows_json(batch));
  ParquetReader reader(path);
  for (const SchemaElement& e : reader.metadata().schema) {
    if (e.name == "b") {
      EXPECT_EQ(e.repetition, Repetition::kOptional);
    } else if (e.name == "list" || e.name == "key_value") {
      EXPECT_EQ(e.repetition, Repetition::kRepeated);
    } else if (e.name != "spark_schema") {
      EXPECT_EQ(e.repetition, Repetition::kRequired) << e.name;
    }
  }
  EXPECT_EQ(reader.schema(), schema);
}

// Rows with enough distinct data to span many pages and row groups.
ColumnBatch generated_batch(std::size_t rows, std::size_t distinct_strings, std::size_t seed = 1) {
  StructType schema{
      {"id", DataType::Long(), false},
      {"name", DataType::String()},
      {"amount", DataType::Decimal(12, 2)},
      {"flag", DataType::Boolean()},
      {"items",
       DataType::Array(StructType{{"sku", DataType::String()}, {"qty", DataType::Integer()}})},
  };
  ColumnBatch batch(schema);
  Column& root = batch.root();
  std::uint64_t x = seed;
  auto next = [&] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x >> 33;
  };
  for (std::size_t r = 0; r < rows; ++r) {
    root.child(0).append_value<std::int64_t>(static_cast<std::int64_t>(r));
    if (r % 7 == 3) {
      root.child(1).append_null();
    } else {
      root.child(1).append_bytes("name-" + std::to_string(next() % distinct_strings));
    }
    root.child(2).append_value<Int128>(static_cast<Int128>(next() % 100000000) - 50000000);
    if (r % 11 == 0) {
      root.child(3).append_null();
    } else {
      root.child(3).append_bool(next() % 2 == 0);
    }
    Column& items = root.child(4);
    if (r % 13 == 5) {
      items.append_null();
    } else {
      std::size_t n = next() % 4;
      Column& item = items.child(0);
      for (std::size_t k = 0; k < n; ++k) {
        item.child(0).append_bytes("sku-" + std::to_string(next() % 50));
        if (k == 1) {
          item.child(1).append_null();
        } else {
          item.child(1).append_value<std::int32_t>(static_cast<std::int32_t>(next() % 1000));
        }
        item.append_valid();
      }
      items.finish_list();
    }
    root.append_valid();
  }
  return batch;
}

// Data pages of a column chunk, counted from their headers.
int data_pages(const std::string& bytes, const ColumnMetaData& m) {
  std::size_t pos = static_cast<std::size_t>(m.dictionary_page_offset.value_or(m.data_page_offset));
  std::size_t end = pos + static_cast<std::size_t>(m.total_compressed_size);
  int pages = 0;
  while (pos < end) {
    std::size_t header_size = 0;
    PageHeader h = parse_page_header(reinterpret_cast<const std::uint8_t*>(bytes.data()) + pos,
                                     end - pos, "test file", header_size);
    pos += header_size + static_cast<std::size_t>(h.compressed_page_size);
    if (h.type == PageType::kDataPage) ++pages;
  }
  EXPECT_EQ(pos, end);
  return pages;
}

TEST(ParquetWriter, ManyRowGroupsAndPagesRoundTrip) {
  TempDir dir;
  ColumnBatch batch = generated_batch(60000, 1000);
  ParquetWriterOptions options;
  options.row_group_bytes = 64 << 10;
  options.page_bytes = 4 << 10;
  std::string path = dir.file("many.parquet");
  ParquetFileStats stats;
  {
    options.sync = false;
    ParquetWriter writer(path, batch.schema(), options);
    writer.write(batch);
    writer.write(batch);  // several writes append
    stats = writer.close();
  }
  EXPECT_EQ(stats.num_records, 120000);
  ParquetReader reader(path);
  EXPECT_GT(reader.num_row_groups(), 3u);
  EXPECT_EQ(stats.num_row_groups, reader.num_row_groups());
  std::int64_t rows = 0;
  for (const RowGroup& g : reader.metadata().row_groups) rows += g.num_rows;
  std::ifstream in(path, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});
  const RowGroup& group0 = reader.metadata().row_groups[0];
  for (std::size_t c : {0, 1, 2, 4}) {  // id, name, amount, items.sku: several pages each
    EXPECT_GE(data_pages(bytes, *group0.columns[c].meta_data), 2) << c;
  }
  EXPECT_EQ(rows, 120000);
  std::vector<std::string> expected = rows_json(batch);
  std::vector<std::string> twice = expected;
  twice.insert(twice.end(), expected.begin(), expected.end());
  EXPECT_EQ(rows_json(reader.read(batch.schema())), twice);
  // Row groups read one at a time too.
  ColumnBatch first = reader.read_row_group(0, batch.schema());
  ASSERT_GT(first.num_rows(), 0u);
  EXPECT_EQ(first.row_json(0), expected[0]);
}

const ColumnMetaData& chunk_of(const ParquetReader& reader, std::size_t column,
                               std::size_t group = 0) {
  return *reader.metadata().row_groups.at(group).columns.at(column).meta_data;
}

bool has_encoding(const ColumnMetaData& m, Encoding e) {
  return std::find(m.encodings.begin(), m.encodings.end(), e) != m.encodings.end();
}

TEST(ParquetWriter, LowCardinalityStringsAreDictionaryEncoded) {
  TempDir dir;
  ColumnBatch batch = generated_batch(20000, 20);
  std::string path = dir.file("dict.parquet");
  write_file(path, batch);
  ParquetReader reader(path);
  const ColumnMetaData& name = chunk_of(reader, 1);
  EXPECT_TRUE(name.dictionary_page_offset.has_value());
  EXPECT_TRUE(has_encoding(name, Encoding::kRleDictionary));
  ASSERT_FALSE(name.encoding_stats.empty());
  EXPECT_EQ(name.encoding_stats[0].page_type, PageType::kDictionaryPage);
  const ColumnMetaData& id = chunk_of(reader, 0);  // numbers stay PLAIN
  EXPECT_FALSE(id.dictionary_page_offset.has_value());
  EXPECT_EQ(rows_json(reader.read(batch.schema())), rows_json(batch));
}

TEST(ParquetWriter, DictionaryFallsBackToPlainWhenItOutgrowsItsLimit) {
  TempDir dir;
  // Repeating values (the dictionary pays off) but more distinct bytes than the limit.
  ColumnBatch batch = generated_batch(30000, 2000);
  ParquetWriterOptions options;
  options.dictionary_page_bytes = 16 << 10;
  options.page_bytes = 8 << 10;
  std::string path = dir.file("fallback.parquet");
  write_file(path, batch, options);
  ParquetReader reader(path);
  const ColumnMetaData& name = chunk_of(reader, 1);
  EXPECT_TRUE(name.dictionary_page_offset.has_value());
  EXPECT_TRUE(has_encoding(name, Encoding::kRleDictionary));
  EXPECT_TRUE(has_encoding(name, Encoding::kPlain));
  std::int32_t dict_pages = 0;
  std::int32_t plain_pages = 0;
  for (const PageEncodingStats& s : name.encoding_stats) {
    if (s.page_type != PageType::kDataPage) continue;
    (s.encoding == Encoding::kRleDictionary ? dict_pages : plain_pages) += s.count;
  }
  EXPECT_GT(dict_pages, 0);
  EXPECT_GT(plain_pages, 0);
  EXPECT_EQ(rows_json(reader.read(batch.schema())), rows_json(batch));
}

TEST(ParquetWriter, DictionaryIsDroppedWhenItDoesNotPayOff) {
  TempDir dir;
  StructType schema{{"uuid", DataType::String()}};
  ColumnBatch batch(schema);
  for (int i = 0; i < 5000; ++i) {
    batch.root().child(0).append_bytes("unique-value-" + std::to_string(i * 7919));
    batch.root().append_valid();
  }
  std::string path = dir.file("unique.parquet");
  write_file(path, batch);
  ParquetReader reader(path);
  const ColumnMetaData& m = chunk_of(reader, 0);
  EXPECT_FALSE(m.dictionary_page_offset.has_value());
  EXPECT_FALSE(has_encoding(m, Encoding::kRleDictionary));
  EXPECT_EQ(rows_json(reader.read(schema)), rows_json(batch));
}

// A first page of mostly distinct values with some repeats, and nulls between them, is rewritten
// PLAIN entry by entry in row order (the dictionary's body is not the page's values then); the rows
// after it append to the same page.
TEST(ParquetWriter, DictionaryDroppedWithRepeatsKeepsEveryValueInOrder) {
  TempDir dir;
  StructType schema{{"note", DataType::String()}};
  ColumnBatch batch(schema);
  for (int i = 0; i < 12000; ++i) {
    if (i % 7 == 3) {
      batch.root().child(0).append_null();
    } else {
      const int v = i % 10 == 0 ? i / 2 : i;  // every tenth value repeats an earlier one
      batch.root().child(0).append_bytes("a note of some length, number " + std::to_string(v));
    }
    batch.root().append_valid();
  }
  std::string path = dir.file("repeats.parquet");
  write_file(path, batch);
  ParquetReader reader(path);
  const ColumnMetaData& m = chunk_of(reader, 0);
  EXPECT_FALSE(m.dictionary_page_offset.has_value());
  EXPECT_EQ(rows_json(reader.read(schema)), rows_json(batch));
}

// The headers of a column chunk's data pages, in file order.
std::vector<DataPageHeader> data_page_headers(const std::string& bytes, const ColumnMetaData& m) {
  std::size_t pos = static_cast<std::size_t>(m.dictionary_page_offset.value_or(m.data_page_offset));
  std::size_t end = pos + static_cast<std::size_t>(m.total_compressed_size);
  std::vector<DataPageHeader> out;
  while (pos < end) {
    std::size_t header_size = 0;
    PageHeader h = parse_page_header(reinterpret_cast<const std::uint8_t*>(bytes.data()) + pos,
                                     end - pos, "test file", header_size);
    pos += header_size + static_cast<std::size_t>(h.compressed_page_size);
    if (h.type == PageType::kDataPage) out.push_back(*h.data_page_header);
  }
  return out;
}

TEST(ParquetWriter, DictionaryIsDecidedByAFirstPageOf8192Values) {
  TempDir dir;
  // Pages large enough that no page would end before the row group otherwise.
  ParquetWriterOptions options;
  options.page_bytes = 64 << 20;
  StructType schema{{"code", DataType::String()}, {"uuid", DataType::String()}};
  ColumnBatch batch(schema);
  for (int i = 0; i < 20000; ++i) {
    batch.root().child(0).append_bytes("code-" + std::to_string(i % 7));
    batch.root().child(1).append_bytes("unique-value-" + std::to_string(i * 7919));
    batch.root().append_valid();
  }
  std::string path = dir.file("trial.parquet");
  write_file(path, batch, options);
  ParquetReader reader(path);
  std::ifstream in(path, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});

  // Few distinct values: the dictionary pays off on the first page and stays.
  const ColumnMetaData& code = chunk_of(reader, 0);
  EXPECT_TRUE(code.dictionary_page_offset.has_value());
  std::vector<DataPageHeader> code_pages = data_page_headers(bytes, code);
  ASSERT_EQ(code_pages.size(), 2u);
  EXPECT_EQ(code_pages[0].num_values, 8192);
  EXPECT_EQ(code_pages[1].num_values, 20000 - 8192);
  for (const DataPageHeader& h : code_pages) EXPECT_EQ(h.encoding, Encoding::kRleDictionary);

  // Every value distinct: PLAIN from the first page on, no dictionary page at all.
  const ColumnMetaData& uuid = chunk_of(reader, 1);
  EXPECT_FALSE(uuid.dictionary_page_offset.has_value());
  std::vector<DataPageHeader> uuid_pages = data_page_headers(bytes, uuid);
  ASSERT_EQ(uuid_pages.size(), 2u);
  EXPECT_EQ(uuid_pages[0].num_values, 8192);
  for (const DataPageHeader& h : uuid_pages) EXPECT_EQ(h.encoding, Encoding::kPlain);
  EXPECT_EQ(rows_json(reader.read(schema)), rows_json(batch));
}

// The dictionary finds equal values by hash and comparison: values that differ in one byte
// (first, middle or last; every length the hash and the comparison read differently: empty,
// 1-3, 4-8, 9-16, 17-32 and longer) must stay distinct entries, and equal ones one entry,
// through the growth of its index past its first table.
TEST(ParquetWriter, DictionaryKeepsValuesThatDifferInOneByteDistinct) {
  TempDir dir;
  std::vector<std::string> values;
  for (std::size_t length :
       {0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 40, 64, 65, 100, 129}) {
    std::string base;
    for (std::size_t i = 0; i < length; ++i) base.push_back(static_cast<char>('a' + i % 26));
    values.push_back(base);
    for (std::size_t at : {std::size_t{0}, length / 2, length - 1}) {
      if (length == 0) break;
      std::string changed = base;
      changed[at] = static_cast<char>(changed[at] ^ 0x20);
      values.push_back(changed);
    }
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  // Also enough short distinct values to grow the index several times over.
  for (int i = 0; i < 700; ++i) values.push_back("v" + std::to_string(i));
  StructType schema{{"s", DataType::String()}};
  ColumnBatch batch(schema);
  std::uint32_t state = 12345;
  for (int i = 0; i < 6000; ++i) {
    state = state * 1103515245u + 12345u;
    batch.root().child(0).append_bytes(values[(state >> 8) % values.size()]);
    batch.root().append_valid();
  }
  std::string path = dir.file("one-byte.parquet");
  write_file(path, batch);
  ParquetReader reader(path);
  const ColumnMetaData& m = chunk_of(reader, 0);
  ASSERT_TRUE(m.dictionary_page_offset.has_value());
  EXPECT_EQ(rows_json(reader.read(schema)), rows_json(batch));
}

// A dictionary page's size is estimated again only every so many values (a bound on how fast
// it can grow); pages must still end where the estimate reaches page_bytes. Random indices of a
// 200-entry dictionary take 8 bits each, so after the 8,192-value trial page every page but the
// last holds just under page_bytes values.
TEST(ParquetWriter, DictionaryPagesEndWhereTheirSizeReachesPageBytes) {
  TempDir dir;
  ParquetWriterOptions options;
  options.page_bytes = 16 << 10;
  StructType schema{{"code", DataType::String()}};
  ColumnBatch batch(schema);
  std::uint32_t state = 99;
  for (int i = 0; i < 100000; ++i) {
    state = state * 1103515245u + 12345u;
    batch.root().child(0).append_bytes("code-" + std::to_string((state >> 8) % 200));
    batch.root().append_valid();
  }
  std::string path = dir.file("pages.parquet");
  write_file(path, batch, options);
  ParquetReader reader(path);
  std::ifstream in(path, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});
  std::vector<DataPageHeader> pages = data_page_headers(bytes, chunk_of(reader, 0));
  ASSERT_GT(pages.size(), 4u);
  EXPECT_EQ(pages[0].num_values, 8192);
  for (std::size_t i = 1; i + 1 < pages.size(); ++i) {
    EXPECT_EQ(pages[i].encoding, Encoding::kRleDictionary);
    EXPECT_GE(pages[i].num_values, (16 << 10) - 16) << "page " << i;
    EXPECT_LE(pages[i].num_values, 16 << 10) << "page " << i;
  }
  EXPECT_EQ(rows_json(reader.read(schema)), rows_json(batch));
}

// The same for a column null below an absent struct for its first slices (its levels ride a
// stream shared with other null columns until then), then present in every row, written batch
// by batch: the leaf takes the stream's page over and its pages still end where their size
// reaches page_bytes.
TEST(ParquetWriter, DictionaryPagesAfterLeadingNullSlicesEndWherePageBytesIsReached) {
  TempDir dir;
  ParquetWriterOptions options;
  options.page_bytes = 16 << 10;
  StructType inner{{"code", DataType::String()}, {"other", DataType::String()}};
  StructType schema{{"s", inner}};
  std::string path = dir.file("late.parquet");
  ParquetWriter writer(path, schema, options);
  std::vector<std::string> expected;
  std::uint32_t state = 5;
  for (int part = 0; part < 12; ++part) {
    ColumnBatch batch(schema);
    Column& s = batch.root().child(0);
    for (int i = 0; i < 5000; ++i) {
      if (part < 2) {
        s.append_null();
      } else {
        state = state * 1103515245u + 12345u;
        s.child(0).append_bytes("code-" + std::to_string((state >> 8) % 200));
        s.child(1).append_null();
        s.append_valid();
      }
      batch.root().append_valid();
    }
    writer.write(batch);
    for (const std::string& row : rows_json(batch)) expected.push_back(row);
  }
  writer.close();
  ParquetReader reader(path);
  std::ifstream in(path, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});
  std::vector<DataPageHeader> pages = data_page_headers(bytes, chunk_of(reader, 0));
  ASSERT_GT(pages.size(), 3u);
  EXPECT_EQ(pages[0].num_values, 10000 + 8192) << "the leading nulls, then the trial values";
  for (std::size_t i = 1; i + 1 < pages.size(); ++i) {
    EXPECT_GE(pages[i].num_values, (16 << 10) - 16) << "page " << i;
    EXPECT_LE(pages[i].num_values, 16 << 10) << "page " << i;
  }
  EXPECT_EQ(rows_json(reader.read(schema)), expected);
}

TEST(ParquetWriter, DictionaryCanBeTurnedOff) {
  TempDir dir;
  ColumnBatch batch = generated_batch(1000, 3);
  ParquetWriterOptions options;
  options.dictionary = false;
  std::string path = dir.file("nodict.parquet");
  write_file(path, batch, options);
  ParquetReader reader(path);
  EXPECT_FALSE(chunk_of(reader, 1).dictionary_page_offset.has_value());
  EXPECT_EQ(rows_json(reader.read(batch.schema())), rows_json(batch));
}

TEST(ParquetWriter, DictionaryStartsAfterLeadingNulls) {
  TempDir dir;
  StructType schema{{"s", DataType::String()}};
  ColumnBatch batch(schema);
  for (int i = 0; i < 3000; ++i) {
    if (i < 1000) {
      batch.root().child(0).append_null();
    } else {
      batch.root().child(0).append_bytes(i % 2 ? "odd" : "even");
    }
    batch.root().append_valid();
  }
  ParquetWriterOptions options;
  options.page_bytes = 64;  // the first pages hold only nulls
  std::string path = dir.file("nulls-first.parquet");
  write_file(path, batch, options);
  ParquetReader reader(path);
  EXPECT_TRUE(chunk_of(reader, 0).dictionary_page_offset.has_value());
  EXPECT_EQ(rows_json(reader.read(schema)), rows_json(batch));
}

TEST(ParquetWriter, LargeValuesSpanPagesOfTheirOwn) {
  TempDir dir;
  StructType schema{{"blob", DataType::Binary()}, {"text", DataType::String()}};
  ColumnBatch batch(schema);
  for (int i = 0; i < 20; ++i) {
    batch.root().child(0).append_bytes(std::string(100000 + i, static_cast<char>(i)));
    batch.root().child(1).append_bytes(std::string(50000, static_cast<char>('a' + i)));
    batch.root().append_valid();
  }
  ParquetWriterOptions options;
  options.page_bytes = 1000;
  std::string path = dir.file("large.parquet");
  write_file(path, batch, options);
  EXPECT_EQ(read_rows(path, schema), rows_json(batch));
}

TEST(ParquetWriter, ChunkStatisticsHoldMinMaxAndNullCount) {
  TempDir dir;
  StructType schema = testing::every_type_schema();
  ColumnBatch batch = batch_from_json(schema, testing::all_types_rows());
  std::string path = dir.file("stats.parquet");
  write_file(path, batch);
  ParquetReader reader(path);
  auto stats = [&](std::size_t column) { return *chunk_of(reader, column).statistics; };
  auto i64 = [](const std::string& bytes) {
    std::int64_t v;
    std::memcpy(&v, bytes.data(), 8);
    return v;
  };
  auto i32 = [](const std::string& bytes) {
    std::int32_t v;
    std::memcpy(&v, bytes.data(), 4);
    return v;
  };
  Statistics l = stats(0);
  EXPECT_EQ(l.null_count, 1);
  EXPECT_EQ(i64(*l.min_value), INT64_MIN);
  EXPECT_EQ(i64(*l.max_value), INT64_MAX);
  EXPECT_EQ(i32(*stats(2).min_value), -32768);  // short as INT32
  Statistics d = stats(4);
  double dmin;
  double dmax;
  std::memcpy(&dmin, d.min_value->data(), 8);
  std::memcpy(&dmax, d.max_value->data(), 8);
  EXPECT_EQ(dmin, -1e300);
  EXPECT_EQ(dmax, 1.5);
  EXPECT_EQ(d.nan_count, 0);
  Statistics dec38 = stats(9);  // FIXED_LEN_BYTE_ARRAY, big-endian
  ASSERT_EQ(dec38.min_value->size(), 16u);
  EXPECT_EQ(static_cast<std::uint8_t>((*dec38.min_value)[0]) & 0x80, 0x80);  // negative
  Statistics str = stats(10);
  EXPECT_EQ(*str.min_value, "");
  EXPECT_EQ(*str.max_value, "z");
  EXPECT_EQ(str.null_count, 1);
  EXPECT_EQ(*stats(12).min_value, std::string(1, '\0'));  // boolean false
  EXPECT_EQ(*stats(12).max_value, std::string(1, '\1'));
  EXPECT_EQ(reader.metadata().column_orders_type_defined.size(), schema.size());
}

TEST(ParquetWriter, FloatStatisticsSkipNaNAndSignZeros) {
  TempDir dir;
  StructType schema{{"d", DataType::Double()}};
  ColumnBatch batch = batch_from_json(schema, {R"({"d":"NaN"})", R"({"d":0.0})", R"({"d":"NaN"})"});
  std::string path = dir.file("nan.parquet");
  ParquetFileStats file = write_file(path, batch);
  Statistics s = *chunk_of(ParquetReader(path), 0).statistics;
  EXPECT_EQ(s.nan_count, 2);
  double lo;
  double hi;
  std::memcpy(&lo, s.min_value->data(), 8);
  std::memcpy(&hi, s.max_value->data(), 8);
  EXPECT_TRUE(std::signbit(lo));
  EXPECT_FALSE(std::signbit(hi));
  // The file's statistics leave NaN out of the bounds and count it.
  ASSERT_TRUE(file.columns[0].min && file.columns[0].max);
  EXPECT_EQ(std::get<double>(*file.columns[0].min), 0.0);
  EXPECT_EQ(std::get<double>(*file.columns[0].max), 0.0);
  EXPECT_EQ(file.columns[0].nan_count, 2);
}

TEST(ParquetWriter, FileStatisticsCoverStructFieldsAndCountNullsOfListsAndMaps) {
  TempDir dir;
  StructType schema = testing::nested_schema();
  ParquetFileStats stats =
      write_file(dir.file("n.parquet"), batch_from_json(schema, testing::nested_rows()));
  std::vector<std::string> paths;
  for (const ColumnStatistics& c : stats.columns) {
    std::string path;
    for (const std::string& name : c.field_path) path += (path.empty() ? "" : ".") + name;
    paths.push_back(path);
  }
  EXPECT_THAT(paths, ElementsAre("id", "tags", "meta.version", "meta.inner.ts", "meta.inner.codes",
                                 "scores", "matrix"));
  const ColumnStatistics& version = stats.columns[2];
  EXPECT_EQ(version.null_count, 2);
  EXPECT_EQ(std::get<std::int64_t>(*version.min), 1);
  EXPECT_EQ(std::get<std::int64_t>(*version.max), 7);
  const ColumnStatistics& tags = stats.columns[1];
  EXPECT_EQ(tags.null_count, 1);
  EXPECT_FALSE(tags.min.has_value());
  EXPECT_EQ(stats.columns[4].null_count, 3);  // codes: null, or inside a null struct
}

TEST(ParquetWriter, FileStatisticsHoldTypedBoundsOfEveryType) {
  TempDir dir;
  StructType schema = testing::every_type_schema();
  ParquetFileStats stats =
      write_file(dir.file("a.parquet"), batch_from_json(schema, testing::all_types_rows()));
  ASSERT_EQ(stats.columns.size(), schema.size());
  auto bounds = [&](std::size_t i) {
    const ColumnStatistics& c = stats.columns[i];
    EXPECT_EQ(c.null_count, 1) << i;
    return std::make_pair(c.min.value_or(StatisticsValue{}), c.max.value_or(StatisticsValue{}));
  };
  EXPECT_EQ(bounds(0), std::make_pair(StatisticsValue{INT64_MIN}, StatisticsValue{INT64_MAX}));
  EXPECT_EQ(bounds(4), std::make_pair(StatisticsValue{-1e300}, StatisticsValue{1.5}));
  EXPECT_EQ(bounds(8), std::make_pair(StatisticsValue{-(Int128{99999999999999999} * 1000 + 999)},
                                      StatisticsValue{Int128{99999999999999999} * 1000 + 999}));
  EXPECT_EQ(bounds(10),
            std::make_pair(StatisticsValue{std::string()}, StatisticsValue{std::string("z")}));
  EXPECT_EQ(bounds(11), std::make_pair(StatisticsValue{std::string()},
                                       StatisticsValue{std::string("\xff\xfe\xfd")}));
  EXPECT_EQ(bounds(12), std::make_pair(StatisticsValue{false}, StatisticsValue{true}));
  EXPECT_EQ(bounds(13), std::make_pair(StatisticsValue{std::int64_t{-25567}},
                                       StatisticsValue{std::int64_t{19782}}));
  EXPECT_EQ(bounds(14), std::make_pair(StatisticsValue{std::int64_t{-1}},
                                       StatisticsValue{std::int64_t{1709296496789012}}));
}

TEST(ParquetWriter, FileStatisticsKeepWholeStrings) {
  TempDir dir;
  StructType schema{{"s", DataType::String()}};
  const std::string long_a(40, 'a');
  const std::string long_z = std::string(31, 'z') + "\xc3\xa9" + "tail";
  ParquetFileStats stats = write_file(
      dir.file("s.parquet"),
      batch_from_json(schema, {R"({"s":")" + long_a + R"("})", R"({"s":")" + long_z + R"("})"}));
  EXPECT_EQ(std::get<std::string>(*stats.columns[0].min), long_a);
  EXPECT_EQ(std::get<std::string>(*stats.columns[0].max), long_z);
}

TEST(ParquetWriter, EmptyFileIsValid) {
  TempDir dir;
  StructType schema = testing::nested_schema();
  std::string path = dir.file("empty.parquet");
  ParquetWriterOptions options;
  options.sync = false;
  ParquetWriter writer(path, schema, options);
  writer.write(ColumnBatch(schema));
  ParquetFileStats stats = writer.close();
  EXPECT_EQ(stats.num_records, 0);
  EXPECT_EQ(stats.columns.size(), 7u);
  for (const ColumnStatistics& c : stats.columns) {
    EXPECT_EQ(c.null_count, 0);
    EXPECT_FALSE(c.min.has_value() || c.max.has_value());
  }
  ParquetReader reader(path);
  EXPECT_EQ(reader.num_rows(), 0);
  EXPECT_EQ(reader.read(schema).num_rows(), 0u);
}

TEST(ParquetWriter, CloseRenamesTheTemporaryFileIntoPlace) {
  TempDir dir;
  StructType schema{{"x", DataType::Long()}};
  std::string path = dir.file("out.parquet");
  ParquetWriter writer(path, schema);
  writer.write(batch_from_json(schema, {R"({"x":1})"}));
  std::vector<std::string> during = dir.entries();
  ASSERT_EQ(during.size(), 1u);
  EXPECT_THAT(during[0], HasSubstr(".out.parquet.tmp-"));
  EXPECT_FALSE(std::filesystem::exists(path));
  writer.close();
  EXPECT_THAT(dir.entries(), ElementsAre("out.parquet"));
}

TEST(ParquetWriter, AbortAndDestructionLeaveNothingBehind) {
  TempDir dir;
  StructType schema{{"x", DataType::Long()}};
  {
    ParquetWriter writer(dir.file("a.parquet"), schema);
    writer.write(batch_from_json(schema, {R"({"x":1})"}));
    writer.abort();
    writer.abort();  // idempotent
    EXPECT_THROW(writer.write(batch_from_json(schema, {R"({"x":1})"})), Error);
    EXPECT_THROW(writer.close(), Error);
  }
  {
    ParquetWriter writer(dir.file("b.parquet"), schema);
    writer.write(batch_from_json(schema, {R"({"x":1})"}));
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ParquetWriter, RejectsNullInNonNullableField) {
  TempDir dir;
  StructType schema{{"s", StructType{{"a", DataType::Integer(), false}}}};
  ColumnBatch batch(schema);
  Column& s = batch.root().child(0);
  s.child(0).append_value<std::int32_t>(1);
  s.append_valid();
  batch.root().append_valid();
  s.child(0).append_null();  // s present, s.a null: not allowed
  s.append_valid();
  batch.root().append_valid();
  ParquetWriter writer(dir.file("bad.parquet"), schema);
  try {
    writer.write(batch);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kData);
    EXPECT_THAT(e.what(), HasSubstr("`s.a`"));
    EXPECT_THAT(e.what(), HasSubstr("row 1"));
  }
  EXPECT_THROW(writer.close(), Error);  // a failed writer cannot close
}

TEST(ParquetWriter, RejectsTopLevelNullInNonNullableColumn) {
  TempDir dir;
  StructType schema{{"id", DataType::Long(), false}};
  ColumnBatch batch(schema);
  batch.root().child(0).append_value<std::int64_t>(1);
  batch.root().append_valid();
  batch.root().child(0).append_null();
  batch.root().append_valid();
  ParquetWriter writer(dir.file("bad.parquet"), schema);
  EXPECT_THROW(writer.write(batch), Error);
}

TEST(ParquetWriter, RejectsBatchOfAnotherSchema) {
  TempDir dir;
  ParquetWriter writer(dir.file("x.parquet"), StructType{{"x", DataType::Long()}});
  StructType other{{"x", DataType::Integer()}};
  EXPECT_THROW(writer.write(batch_from_json(other, {R"({"x":1})"})), Error);
}

TEST(ParquetWriter, RejectsMissingDirectoryAndEmptySchema) {
  TempDir dir;
  StructType schema{{"x", DataType::Long()}};
  try {
    ParquetWriter writer(dir.file("no/such/dir/x.parquet"), schema);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no/such/dir/x.parquet"));
    EXPECT_THAT(e.what(), HasSubstr("writable"));
  }
  EXPECT_THROW(ParquetWriter(dir.file("x.parquet"), StructType()), SchemaError);
  EXPECT_TRUE(dir.entries().empty());
}

TEST(ParquetWriter, RoundTripsWithVariousPageAndRowGroupSizes) {
  TempDir dir;
  StructType schema = testing::nested_schema();
  std::vector<std::string> rows;
  for (int i = 0; i < 200; ++i) {
    const auto& base = testing::nested_rows();
    rows.push_back(base[static_cast<std::size_t>(i) % base.size()]);
  }
  ColumnBatch batch = batch_from_json(schema, rows);
  for (std::size_t page : {1, 100, 4096}) {
    for (std::size_t group : {1, 5000}) {
      ParquetWriterOptions options;
      options.page_bytes = page;
      options.row_group_bytes = group;
      std::string path = dir.file("v" + std::to_string(page) + "-" + std::to_string(group));
      write_file(path, batch, options);
      EXPECT_EQ(read_rows(path, schema), rows_json(batch)) << page << " " << group;
    }
  }
}

// Rough write throughput on a generated batch (run with --gtest_also_run_disabled_tests on a
// Release build).
TEST(ParquetWriter, DISABLED_WriteThroughput) {
  TempDir dir;
  ColumnBatch batch = generated_batch(2000000, 5000);
  double mb = static_cast<double>(batch.byte_size()) / 1e6;
  for (Compression c : {Compression::kNone, Compression::kSnappy, Compression::kZstd}) {
    ParquetWriterOptions options;
    options.compression = c;
    auto start = std::chrono::steady_clock::now();
    ParquetFileStats stats = write_file(dir.file("t.parquet"), batch, options);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("codec %d: %.1f MB of columns in %.3f s = %.0f MB/s, file %.1f MB\n",
                static_cast<int>(c), mb, seconds, mb / seconds,
                static_cast<double>(stats.size_bytes) / 1e6);
  }
}

}  // namespace
}  // namespace lakeflow::parquet
