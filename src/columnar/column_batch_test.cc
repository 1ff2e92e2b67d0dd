#include "columnar/column_batch.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "columnar/record_converter.h"

namespace lakeflow {
namespace {

ColumnBatch convert(const StructType& schema, const std::vector<std::string>& records) {
  RecordBatch batch;
  for (const auto& r : records) batch.append(r);
  RecordConverter converter(schema, "t");
  ColumnBatch out = converter.make_batch();
  converter.convert(batch, out);
  return out;
}

TEST(ColumnBatch, NullsAreWrittenWhenAValueFollowsOrOnMaterialize) {
  StructType schema{StructField("s", StructType{{"n", DataType::Long()},
                                                {"t", DataType::Array(DataType::String())}}),
                    StructField("b", DataType::Boolean())};
  ColumnBatch batch = convert(schema, {R"({"s":{"n":1,"t":["x"]},"b":true})", R"({})", R"({})",
                                       R"({"s":{"t":[]},"b":null})", R"({"s":null})"});
  const Column& s = batch.column(0);
  EXPECT_EQ(s.length(), 5u);
  EXPECT_EQ(s.null_count(), 3u);
  EXPECT_EQ(s.materialized_length(), 4u);  // the last null is pending
  EXPECT_EQ(s.child(0).length(), 4u);
  EXPECT_EQ(s.child(0).materialized_length(), 1u);  // nulls of rows 1..3 not written yet
  for (std::size_t i : {1u, 2u, 4u}) EXPECT_FALSE(s.is_valid(i));
  EXPECT_TRUE(s.is_valid(3));
  EXPECT_FALSE(s.child(0).is_valid(3));
  EXPECT_EQ(batch.column(1).materialized_length(), 1u);

  batch.materialize();
  EXPECT_EQ(s.materialized_length(), 5u);
  EXPECT_EQ(s.child(0).length(), 5u);
  EXPECT_EQ(s.child(0).materialized_length(), 5u);
  EXPECT_EQ(s.child(1).length(), 5u);
  const std::int32_t* t = s.child(1).offsets();
  EXPECT_EQ(std::vector<std::int32_t>(t, t + 6), (std::vector<std::int32_t>{0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(s.validity_bits()[0] & 0x1f, 0x09);  // rows 0 and 3
  EXPECT_EQ(batch.column(1).validity_bits()[0] & 0x1f, 0x01);
  EXPECT_EQ(batch.row_json(1), R"({"s":null,"b":null})");
  EXPECT_EQ(batch.row_json(3), R"({"s":{"n":null,"t":[]},"b":null})");
}

TEST(ColumnBatch, TruncateDropsPendingAndWrittenNulls) {
  Column c(DataType::String());
  c.append_bytes("a");
  c.append_null();
  c.append_bytes("b");
  c.append_null();
  c.append_null();
  c.truncate(4);  // a pending null goes
  EXPECT_EQ(c.length(), 4u);
  EXPECT_EQ(c.null_count(), 2u);
  c.truncate(2);  // the other pending null and "b"
  EXPECT_EQ(c.length(), 2u);
  EXPECT_EQ(c.null_count(), 1u);
  c.append_bytes("c");
  EXPECT_EQ(c.string_value(2), "c");
  EXPECT_FALSE(c.is_valid(1));
  EXPECT_EQ(c.offsets()[2], 1);
}

TEST(ColumnBatch, NullsAfterATruncateAreNotValid) {
  // Nulls written lazily rely on zero validity bits past the rows; truncate() must clear the bits
  // of the valid rows it drops.
  Column c(DataType::Long());
  for (std::int64_t v = 0; v < 20; ++v) c.append_value(v);
  c.truncate(3);
  c.append_nulls(12);
  c.append_value<std::int64_t>(99);
  EXPECT_EQ(c.length(), 16u);
  EXPECT_EQ(c.null_count(), 12u);
  for (std::size_t i = 3; i < 15; ++i) EXPECT_FALSE(c.is_valid(i)) << i;
  EXPECT_TRUE(c.is_valid(15));
  EXPECT_EQ(c.values<std::int64_t>()[15], 99);
}

TEST(ColumnBatch, LayoutFollowsArrow) {
  StructType schema{StructField("id", DataType::Long()),
                    StructField("tags", DataType::Array(DataType::String()))};
  ColumnBatch batch = convert(schema, {R"({"id":1,"tags":["a","bc"]})",
                                       R"({"id":null,"tags":null})", R"({"id":3,"tags":["d"]})"});
  const Column& id = batch.column(0);
  EXPECT_EQ(id.length(), 3u);
  EXPECT_EQ(id.null_count(), 1u);
  EXPECT_TRUE(id.is_valid(0));
  EXPECT_FALSE(id.is_valid(1));
  EXPECT_EQ(id.values<std::int64_t>()[2], 3);
  const Column& tags = batch.column(1);
  EXPECT_EQ(tags.offsets()[0], 0);
  EXPECT_EQ(tags.offsets()[1], 2);
  EXPECT_EQ(tags.offsets()[2], 2);
  EXPECT_EQ(tags.offsets()[3], 3);
  EXPECT_EQ(tags.child(0).string_value(1), "bc");
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(id.values<std::int64_t>()) % 64, 0u);
}

TEST(ColumnBatch, TruncateRestoresNestedState) {
  StructType schema{
      StructField("m", DataType::Map(DataType::String(), DataType::Array(DataType::Long())))};
  ColumnBatch batch = convert(schema, {R"({"m":{"a":[1,2]}})", R"({"m":{"b":[3],"c":null}})"});
  batch.root().truncate(1);
  EXPECT_EQ(batch.num_rows(), 1u);
  EXPECT_EQ(batch.column(0).child(0).length(), 1u);
  EXPECT_EQ(batch.column(0).child(0).child(1).child(0).length(), 2u);
  EXPECT_EQ(batch.row_json(0), "{\"m\":{\"a\":[1,2]}}");
}

TEST(ColumnBatch, ExportsArrowCDataInterface) {
  StructType schema{StructField("id", DataType::Long(), false),
                    StructField("amount", DataType::Decimal(10, 2)),
                    StructField("at", DataType::Timestamp()),
                    StructField("attrs", DataType::Map(DataType::String(), DataType::Boolean())),
                    StructField("doc", DataType::Variant())};
  ColumnBatch batch = convert(
      schema,
      {R"({"id":1,"amount":"1.50","at":"2024-01-01T00:00:00Z","attrs":{"x":true},"doc":[1]})",
       R"({"id":2})"});
  ArrowSchema s;
  ArrowArray a;
  batch.export_to(&s, &a);
  EXPECT_EQ(batch.num_rows(), 0u);
  EXPECT_STREQ(s.format, "+s");
  ASSERT_EQ(s.n_children, 5);
  EXPECT_STREQ(s.children[0]->format, "l");
  EXPECT_STREQ(s.children[0]->name, "id");
  EXPECT_EQ(s.children[0]->flags & ARROW_FLAG_NULLABLE, 0);
  EXPECT_STREQ(s.children[1]->format, "d:10,2");
  EXPECT_STREQ(s.children[2]->format, "tsu:UTC");
  EXPECT_STREQ(s.children[3]->format, "+m");
  EXPECT_STREQ(s.children[3]->children[0]->format, "+s");
  EXPECT_STREQ(s.children[3]->children[0]->children[0]->name, "key");
  EXPECT_STREQ(s.children[4]->format, "u");
  ASSERT_NE(s.children[4]->metadata, nullptr);
  std::int32_t pairs;
  std::memcpy(&pairs, s.children[4]->metadata, 4);
  EXPECT_EQ(pairs, 2);
  EXPECT_EQ(a.length, 2);
  EXPECT_EQ(a.n_children, 5);
  EXPECT_EQ(a.children[0]->null_count, 0);
  EXPECT_EQ(a.children[0]->buffers[0], nullptr);
  EXPECT_EQ(static_cast<const std::int64_t*>(a.children[0]->buffers[1])[1], 2);
  EXPECT_EQ(a.children[1]->null_count, 1);
  Int128 amount;
  std::memcpy(&amount, static_cast<const std::uint8_t*>(a.children[1]->buffers[1]), sizeof amount);
  EXPECT_TRUE(amount == 150);
  EXPECT_EQ(a.children[4]->n_buffers, 3);
  EXPECT_EQ(std::string(static_cast<const char*>(a.children[4]->buffers[2]), 3), "[1]");
  a.release(&a);
  s.release(&s);
  EXPECT_EQ(a.release, nullptr);
  EXPECT_EQ(s.release, nullptr);
  // The batch is reusable after export.
  RecordBatch more;
  more.append(R"({"id":5})");
  RecordConverter converter(schema, "t");
  converter.convert(more, batch);
  EXPECT_EQ(batch.row_json(0),
            "{\"id\":5,\"amount\":null,\"at\":null,\"attrs\":null,\"doc\":null}");
}

}  // namespace
}  // namespace lakeflow
